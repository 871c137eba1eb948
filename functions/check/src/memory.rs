//! An in-memory store for router tests and the warm-path benchmark, with a
//! switch that makes every call fail as if DynamoDB were unreachable.

use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use app_upgrade::domain::{
    ApiKeyRecord, PlainSecret, ProjectId, SecretHash, TeamId, Timestamp, TokenId, UserId,
    VersionRecord,
};
use app_upgrade::store::{CheckStore, Credential, CredentialStore, StoreError};

#[derive(Debug, Default)]
struct Inner {
    credentials: Mutex<Vec<(SecretHash, Credential)>>,
    versions: Mutex<Vec<VersionRecord>>,
    down: AtomicBool,
    calls: AtomicUsize,
}

/// Cheap to clone; clones share their data.
#[derive(Debug, Clone, Default)]
pub struct MemoryStore(Arc<Inner>);

impl MemoryStore {
    pub fn add_credential(&self, hash: SecretHash, credential: Credential) {
        lock(&self.0.credentials).push((hash, credential));
    }

    /// Adds `key` as the API key of a new project of a new team; returns
    /// the project.
    pub fn add_api_key(&self, key: &PlainSecret) -> ProjectId {
        let project = ProjectId::generate();
        self.add_credential(
            key.hash(),
            Credential::ApiKey(ApiKeyRecord {
                project_id: project.clone(),
                team_id: TeamId::generate(),
                created_at: Timestamp::now(),
            }),
        );
        project
    }

    /// Adds or replaces (by id) a version.
    pub fn put_version(&self, record: VersionRecord) {
        let mut versions = lock(&self.0.versions);
        versions.retain(|v| v.id != record.id);
        versions.push(record);
    }

    /// While `down`, every call fails with `StoreError::Unavailable`.
    pub fn set_down(&self, down: bool) {
        self.0.down.store(down, Ordering::SeqCst);
    }

    /// Calls made so far, failed ones included.
    pub fn calls(&self) -> usize {
        self.0.calls.load(Ordering::SeqCst)
    }

    fn call(&self) -> Result<(), StoreError> {
        self.0.calls.fetch_add(1, Ordering::SeqCst);
        if self.0.down.load(Ordering::SeqCst) {
            Err(StoreError::Unavailable("the memory store is down".into()))
        } else {
            Ok(())
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl CredentialStore for MemoryStore {
    async fn get_credential(&self, hash: &SecretHash) -> Result<Option<Credential>, StoreError> {
        self.call()?;
        Ok(lock(&self.0.credentials)
            .iter()
            .find(|(h, _)| h == hash)
            .map(|(_, c)| c.clone()))
    }

    async fn touch_last_used(
        &self,
        hash: &SecretHash,
        now: Timestamp,
        cutoff: Timestamp,
        // Not kept: nothing here lists tokens.
        _source: Option<IpAddr>,
    ) -> Result<bool, StoreError> {
        self.call()?;
        let mut credentials = lock(&self.0.credentials);
        let pat = credentials.iter_mut().find_map(|(h, c)| match c {
            Credential::Pat(pat) if h == hash => Some(pat),
            _ => None,
        });
        Ok(match pat {
            Some(pat) if pat.last_used_at.is_none_or(|t| t < cutoff) => {
                pat.last_used_at = Some(now);
                true
            }
            _ => false,
        })
    }

    /// Drops every secret of the token, current or rotated away.
    async fn revoke_reused(
        &self,
        owner: &UserId,
        token: &TokenId,
        _origin: &app_upgrade::domain::activity::Origin,
    ) -> Result<bool, StoreError> {
        self.call()?;
        let mut credentials = lock(&self.0.credentials);
        let before = credentials.len();
        credentials.retain(|(_, c)| match c {
            Credential::Pat(pat) => pat.owner != *owner || pat.token_id != *token,
            Credential::Rotated { token_id, owner: o } => o != owner || token_id != token,
            Credential::ApiKey(_) => true,
        });
        Ok(credentials.len() < before)
    }
}

impl CheckStore for MemoryStore {
    async fn active_versions(&self, project: &ProjectId) -> Result<Vec<VersionRecord>, StoreError> {
        self.call()?;
        Ok(lock(&self.0.versions)
            .iter()
            .filter(|v| v.active && v.project == *project)
            .cloned()
            .collect())
    }
}
