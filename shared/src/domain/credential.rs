//! Credentials as data: what is stored about a PAT or a project API key, and
//! how a PAT is issued. Checking one against a request is `auth`'s job.

use super::{
    PlainSecret, ProjectId, Scopes, SecretHash, SecretKind, TeamId, Timestamp, TokenId,
    TokenLimits, UserId,
};

/// The stored facts about a PAT, as the auth path reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatRecord {
    pub token_id: TokenId,
    pub owner: UserId,
    pub name: String,
    pub scopes: Scopes,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
    /// The projects and environments it is limited to, fixed at creation.
    pub limits: TokenLimits,
}

/// The stored facts about a project API key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub project_id: ProjectId,
    pub team_id: TeamId,
    pub created_at: Timestamp,
}

/// Lifetimes a PAT may be created with, in days.
pub const PAT_LIFETIME_DAYS: std::ops::RangeInclusive<u16> = 1..=366;
/// Lifetime of a PAT created without `expiresInDays`.
pub const DEFAULT_PAT_LIFETIME_DAYS: u16 = 90;

/// A freshly issued PAT: the plaintext (shown once) and everything stored
/// about it — its hash (the lookup key), its hint and its record.
#[derive(Debug, Clone)]
pub struct IssuedPat {
    pub secret: PlainSecret,
    pub hash: SecretHash,
    pub hint: String,
    pub record: PatRecord,
}

impl IssuedPat {
    fn new(record: PatRecord) -> Result<Self, getrandom::Error> {
        let secret = PlainSecret::generate(SecretKind::Pat)?;
        Ok(Self {
            hash: secret.hash(),
            hint: secret.hint(),
            secret,
            record,
        })
    }

    /// The same new token, limited to `limits`.
    pub fn limited(mut self, limits: TokenLimits) -> Self {
        self.record.limits = limits;
        self
    }
}

/// Generates a PAT for `owner`, live from `now` for `lifetime_days`, without
/// limits (see [`IssuedPat::limited`]).
pub fn issue_pat(
    owner: UserId,
    name: String,
    scopes: Scopes,
    lifetime_days: u16,
    now: Timestamp,
) -> Result<IssuedPat, getrandom::Error> {
    IssuedPat::new(PatRecord {
        token_id: TokenId::generate(),
        owner,
        name,
        scopes,
        created_at: now,
        expires_at: now.plus_days(i64::from(lifetime_days)),
        last_used_at: None,
        limits: TokenLimits::none(),
    })
}

/// The same token with a new secret, for self-rotation: its id, name,
/// scopes, limits, creation and expiry stay (nothing a rotation is asked
/// for can widen them), so the owner revokes it by the id they
/// listed, and rotating never extends it past the lifetime fixed at
/// creation. The rotation itself is a use of the token.
pub fn reissue_pat(old: &PatRecord, now: Timestamp) -> Result<IssuedPat, getrandom::Error> {
    IssuedPat::new(PatRecord {
        last_used_at: Some(now),
        ..old.clone()
    })
}
