//! When a rotation's stored answer may no longer be given again.

use std::future::Future;

use app_upgrade::ApiError;
use app_upgrade::domain::{Answer, PlainSecret, SecretKind};
use app_upgrade::store::{Credential, CredentialStore};

/// Whether the new token in a rotation's `answer` has been used (or is gone):
/// from its first use the old token is worth nothing, so a retry with the old
/// one must be authenticated, and refused, like any other use of it. One
/// `GetItem`, on the replay path only; `lastUsedAt` is set on first use.
pub(crate) fn spent<'s, S: CredentialStore>(
    store: &'s S,
    answer: &Answer,
) -> impl Future<Output = Result<bool, ApiError>> + use<'s, S> {
    // Parsed before the future, which must not borrow `answer`.
    let issued = serde_json::from_str::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|body| PlainSecret::parse(SecretKind::Pat, body["token"].as_str()?).ok());
    async move {
        let Some(issued) = issued else {
            return Ok(true);
        };
        let unused = matches!(
            store.get_credential(&issued.hash()).await?,
            Some(Credential::Pat(record)) if record.last_used_at.is_none()
        );
        Ok(!unused)
    }
}
