//! Tokens persistence: what the `tokens` function needs beyond
//! [`CredentialWriter::create_pat`](super::CredentialWriter::create_pat) and
//! the auth path's [`CredentialStore`](super::CredentialStore).
//!
//! A write made `by` someone (the tokens function passes its caller; the
//! operator CLI `None`) puts its event into the account's activity in the
//! write's own transaction: `token.created`, `token.rotated`,
//! `token.revoked`, and, from the auth path, `token.reuseDetected`.

use std::future::Future;
use std::net::IpAddr;

use crate::domain::activity::Provenance;
use crate::domain::{
    IssuedPat, PatRecord, Receipt, Scopes, SecretHash, Timestamp, TokenId, TokenLimits, UserId,
};

use super::StoreError;

/// One of an account's tokens as its owner may see it: never the secret or
/// its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSummary {
    pub token_id: TokenId,
    pub name: String,
    pub scopes: Scopes,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    /// The address `last_used_at`'s use came from, when known.
    pub last_used_ip: Option<IpAddr>,
    /// When a rotation's stored answer (its new secret) was last given
    /// again to a retry made with the old secret, and from where: a retry
    /// of the owner's CI, or someone else holding the old secret and the
    /// rotation's `Idempotency-Key`.
    pub last_replay_at: Option<Timestamp>,
    pub last_replay_ip: Option<IpAddr>,
    /// `aau_…Xy12`.
    pub hint: String,
    /// The projects and environments it is limited to.
    pub limits: TokenLimits,
}

/// An account's Personal Access Tokens.
pub trait TokenStore: Send + Sync {
    /// Every token of `owner`, expired ones included, newest first. Strongly
    /// consistent: a token created or revoked a moment ago shows as such.
    fn list_tokens(
        &self,
        owner: &UserId,
    ) -> impl Future<Output = Result<Vec<TokenSummary>, StoreError>> + Send;

    /// Deletes the token's credential, account entry and (if still its own)
    /// name lock. Fenced against a concurrent rotation: whatever secret the
    /// token has when this returns `Ok(true)`, it no longer authenticates.
    /// `Ok(false)` when `owner` has no such token, including when a
    /// concurrent revocation got there first.
    fn revoke_token(
        &self,
        owner: &UserId,
        token: &TokenId,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Revokes every token `owner` has when the call starts; the number
    /// revoked. Each is its own revocation, recorded as its own
    /// `token.revoked`.
    fn revoke_all_tokens(
        &self,
        owner: &UserId,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// How many of `owner`'s tokens are live (unexpired) at `now`. Strongly
    /// consistent.
    fn count_live_tokens(
        &self,
        owner: &UserId,
        now: Timestamp,
    ) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Gives the live token `old` (found by `old_hash`) the secret of `new`
    /// (the same token: id, name, scopes and expiry) in one transaction:
    /// there is never a moment with neither or both secrets valid, and the
    /// old secret is kept as a tombstone whose reuse revokes the token.
    /// `Conflict` when `old` is gone, was rotated concurrently, or is being
    /// revoked.
    /// `receipt` (the sealed idempotency receipt) is stored in the same
    /// transaction.
    /// `source`, the caller's address, is kept with the rotation's time.
    fn rotate_token(
        &self,
        old_hash: &SecretHash,
        old: &PatRecord,
        new: &IssuedPat,
        receipt: Option<&Receipt>,
        source: Option<IpAddr>,
        by: Option<&Provenance>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records on `owner`'s token `token` that a rotation's answer was
    /// replayed at `at` to `source`: one write, on the replay path only.
    /// `Ok(false)` when the token is gone.
    fn record_replay(
        &self,
        owner: &UserId,
        token: &TokenId,
        at: Timestamp,
        source: Option<IpAddr>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}
