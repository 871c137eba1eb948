//! Shared helpers for the integration tests: a fresh pair of tables in the
//! local DynamoDB emulator per test, seeded fixtures, and a way to drive an
//! axum router without a server.
//!
//! The emulator's address comes from `AWS_ENDPOINT_URL_DYNAMODB` (set by
//! `make test`); tests fail loudly, never skip, when it is missing.

pub mod check;
pub mod faults;
pub mod http;
pub mod repo;
pub mod tokens;
pub mod versions;

use std::sync::atomic::{AtomicUsize, Ordering};

use app_upgrade::Config;
use app_upgrade::auth::{
    ApiKeyRecord, IssuedPat, PlainSecret, Scope, Scopes, SecretHash, SecretKind, issue_pat,
};
use app_upgrade::domain::{Name, ProjectId, TeamId, Timestamp, UserId};
use app_upgrade::store::{
    Credential, CredentialStore, CredentialWriter, DirectoryStore, DynamoStore, Project,
    StoreError, Team,
};

/// A store on two freshly created, uniquely named tables.
pub async fn fresh_store() -> DynamoStore {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_default();
    assert!(
        endpoint.starts_with("http://127.0.0.1") || endpoint.starts_with("http://localhost"),
        "integration tests need the local DynamoDB emulator: run them with `make test` \
         (AWS_ENDPOINT_URL_DYNAMODB={endpoint:?})"
    );
    let run = ulid::Ulid::new().to_string().to_lowercase();
    let config = Config {
        versions_table: format!("test-{run}-versions"),
        tokens_table: format!("test-{run}-tokens"),
    };
    let store = DynamoStore::from_env(&config).await;
    let created = store.create_tables().await.expect("create test tables");
    assert_eq!(created.len(), 2, "tables must be new");
    store
}

/// A team with one member and one project, an API key and PATs for it.
pub struct Fixture {
    pub store: DynamoStore,
    pub team: TeamId,
    pub user: UserId,
    pub project: ProjectId,
    pub api_key: PlainSecret,
    pub rw_token: PlainSecret,
    pub read_token: PlainSecret,
}

impl Fixture {
    pub async fn new() -> Self {
        Self::on(fresh_store().await).await
    }

    /// The same fixture in `store`'s (fresh) tables.
    pub async fn on(store: DynamoStore) -> Self {
        let now = Timestamp::now();
        let team = Team {
            id: TeamId::generate(),
            name: Name::parse("Test Team").expect("valid"),
            created_at: now,
        };
        store.create_team(&team).await.expect("team");
        let user = UserId::parse(&format!("user-{}", ulid::Ulid::new())).expect("valid");
        assert!(store.add_member(&team.id, &user).await.expect("member"));
        let project = Project {
            id: ProjectId::generate(),
            team_id: team.id.clone(),
            name: Name::parse("Test Project").expect("valid"),
            created_at: now,
        };
        assert!(store.create_project(&project).await.expect("project"));
        let api_key = new_api_key(&store, &project).await;
        let rw_token = new_token(
            &store,
            &user,
            "rw",
            &[Scope::VersionsRead, Scope::VersionsWrite],
        )
        .await
        .secret;
        let read_token = new_token(&store, &user, "read", &[Scope::VersionsRead])
            .await
            .secret;
        Self {
            store,
            team: team.id,
            user,
            project: project.id,
            api_key,
            rw_token,
            read_token,
        }
    }

    /// The versions collection of the fixture's project, `teamId` in the
    /// query.
    pub fn collection(&self) -> String {
        format!(
            "/api/v1/projects/{}/versions?teamId={}",
            self.project, self.team
        )
    }

    /// One version of the fixture's project, `teamId` in the query.
    pub fn item(&self, id: &str) -> String {
        format!(
            "/api/v1/projects/{}/versions/{id}?teamId={}",
            self.project, self.team
        )
    }
}

pub async fn new_api_key(store: &DynamoStore, project: &Project) -> PlainSecret {
    let key = PlainSecret::generate(SecretKind::ApiKey).expect("randomness");
    store
        .create_api_key(
            &key.hash(),
            &ApiKeyRecord {
                project_id: project.id.clone(),
                team_id: project.team_id.clone(),
                created_at: Timestamp::now(),
            },
        )
        .await
        .expect("api key");
    key
}

pub async fn new_token(
    store: &DynamoStore,
    user: &UserId,
    name: &str,
    scopes: &[Scope],
) -> IssuedPat {
    let scopes = Scopes::new(scopes.iter().copied()).expect("non-empty");
    let issued =
        issue_pat(user.clone(), name.to_owned(), scopes, 90, Timestamp::now()).expect("random");
    store
        .create_pat(&issued.secret.hash(), &issued.secret.hint(), &issued.record)
        .await
        .expect("token");
    issued
}

/// Wraps a store and counts the calls that reach it, to prove how many
/// DynamoDB round trips a path makes. The hourly `lastUsedAt` touch of the
/// auth path is counted apart, in `touches`, so that round-trip counts of a
/// request path do not depend on whether its token was used this hour.
#[derive(Debug, Clone)]
pub struct Counting<S> {
    pub inner: S,
    pub calls: std::sync::Arc<AtomicUsize>,
    pub touches: std::sync::Arc<AtomicUsize>,
}

impl<S> Counting<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            calls: Default::default(),
            touches: Default::default(),
        }
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    /// `lastUsedAt` writes attempted.
    pub fn touches(&self) -> usize {
        self.touches.load(Ordering::SeqCst)
    }

    pub fn count(&self) {
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
}

impl<S: CredentialStore> CredentialStore for Counting<S> {
    async fn get_credential(&self, hash: &SecretHash) -> Result<Option<Credential>, StoreError> {
        self.count();
        self.inner.get_credential(hash).await
    }

    async fn touch_last_used(
        &self,
        hash: &SecretHash,
        now: Timestamp,
        cutoff: Timestamp,
    ) -> Result<bool, StoreError> {
        self.touches.fetch_add(1, Ordering::SeqCst);
        self.inner.touch_last_used(hash, now, cutoff).await
    }
}
