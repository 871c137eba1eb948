//! When a rotation's stored answer may no longer be given again, and the
//! trace a replay leaves for the token's owner.

use std::future::Future;
use std::net::IpAddr;

use app_upgrade::ApiError;
use app_upgrade::auth::TokenExpiry;
use app_upgrade::domain::{Answer, PlainSecret, SecretKind, Timestamp};
use app_upgrade::store::{Credential, CredentialStore, TokenStore};

/// Who is asking for a replay: when, from where, and where the answer's
/// `Aau-Token-Expires-At` is noted.
#[derive(Clone)]
pub(crate) struct Asker {
    pub now: Timestamp,
    pub source: Option<IpAddr>,
    pub expiry: Option<TokenExpiry>,
}

/// Whether the new token in a rotation's `answer` has been used (or is gone):
/// from its first use the old token is worth nothing, so a retry with the old
/// one must be authenticated, and refused, like any other use of it. One
/// `GetItem`, on the replay path only; `lastUsedAt` is set on first use.
///
/// A replay that may be given is first recorded on the token's account
/// entry (`lastReplayAt`, `lastReplayIp`: one more write, on the replay path
/// only), so the owner sees it whoever asked: their own CI retrying, or
/// someone else holding the old secret and the key. A replay that cannot be
/// recorded is not given (the error is the answer).
pub(crate) fn spent<'s, S: CredentialStore + TokenStore>(
    store: &'s S,
    answer: &Answer,
    asker: Asker,
) -> impl Future<Output = Result<bool, ApiError>> + use<'s, S> {
    // Parsed before the future, which must not borrow `answer`.
    let issued = serde_json::from_str::<serde_json::Value>(&answer.body)
        .ok()
        .and_then(|body| PlainSecret::parse(SecretKind::Pat, body["token"].as_str()?).ok());
    async move {
        let Some(issued) = issued else {
            return Ok(true);
        };
        let record = match store.get_credential(&issued.hash()).await? {
            Some(Credential::Pat(record)) if record.last_used_at.is_none() => record,
            _ => return Ok(true),
        };
        if !store
            .record_replay(&record.owner, &record.token_id, asker.now, asker.source)
            .await?
        {
            return Ok(true);
        }
        tracing::warn!(token_id = %record.token_id, "rotation answer replayed");
        if let Some(expiry) = asker.expiry {
            expiry.note(record.expires_at);
        }
        Ok(false)
    }
}
