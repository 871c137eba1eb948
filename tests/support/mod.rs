//! Shared helpers for the integration tests: a fresh pair of tables in the
//! local DynamoDB emulator per test, seeded fixtures, and a way to drive an
//! axum router without a server.
//!
//! The emulator's address comes from `AWS_ENDPOINT_URL_DYNAMODB` (set by
//! `make test`); tests fail loudly, never skip, when it is missing.

pub mod check;
pub mod cognito;
pub mod faults;
pub mod http;
pub mod intercept;
pub mod repo;
pub mod teams;
pub mod tokens;
pub mod versions;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_sdk_dynamodb::config::interceptors::BeforeSerializationInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept};
use aws_sdk_dynamodb::error::BoxError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemInput;

use app_upgrade::Config;
use app_upgrade::domain::{
    ApiKeyRecord, IssuedPat, Name, PlainSecret, ProjectId, Scope, Scopes, SecretKind, TeamId,
    Timestamp, UserId, issue_pat,
};
use app_upgrade::store::{CredentialWriter, DirectoryStore, DynamoStore, Project, Team};

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
        let project = Project::new(
            ProjectId::generate(),
            team.id.clone(),
            Name::parse("Test Project").expect("valid"),
            now,
        );
        assert!(store.create_project(&project, None).await.expect("project"));
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
    store.create_pat(&issued, None).await.expect("token");
    issued
}

/// Wraps a store and counts the calls that reach it, to prove how many
/// DynamoDB calls made through [`Counting::store`], counted by an SDK
/// interceptor on its client: each operation once, however the store
/// traits use it. The hourly `lastUsedAt` touch of the auth path (the one
/// `UpdateItem`) is counted apart, in `touches`, so that round-trip counts
/// of a request path do not depend on whether its token was used this hour.
#[derive(Debug, Clone)]
pub struct Counting {
    /// The counted store: the same tables as the one it was made from.
    pub store: DynamoStore,
    counter: Arc<Counter>,
}

#[derive(Debug, Default)]
struct Counter {
    calls: AtomicUsize,
    touches: AtomicUsize,
}

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_before_execution(
        &self,
        context: &BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let touch = context.input().downcast_ref::<UpdateItemInput>().is_some();
        let counter = if touch {
            &self.0.touches
        } else {
            &self.0.calls
        };
        counter.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

#[derive(Debug)]
struct CountCalls(Arc<Counter>);

impl Counting {
    pub fn new(store: &DynamoStore) -> Self {
        let counter = Arc::new(Counter::default());
        let config = store
            .client()
            .config()
            .to_builder()
            .interceptor(CountCalls(counter.clone()))
            .build();
        let tables = Config {
            versions_table: store.versions_table().to_owned(),
            tokens_table: store.tokens_table().to_owned(),
        };
        Self {
            store: DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), &tables),
            counter,
        }
    }

    pub fn calls(&self) -> usize {
        self.counter.calls.load(Ordering::SeqCst)
    }

    /// `lastUsedAt` writes attempted.
    pub fn touches(&self) -> usize {
        self.counter.touches.load(Ordering::SeqCst)
    }
}
