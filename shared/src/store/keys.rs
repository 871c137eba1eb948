//! Every key format of both tables, in one place.
//!
//! User-supplied components (app names, versions, `sub`s, token names) are
//! escaped so a `#` inside them can never forge another key: `%` becomes
//! `%25` and `#` becomes `%23`.

use std::borrow::Cow;

use crate::domain::{
    ApiKeyId, AppName, Email, Environment, IdempotencyKey, InvitationId, Platform, ProjectId,
    ReceiptScope, SecretHash, TeamId, TokenId, UserId, VersionId,
};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
/// Partition key of the sparse `check-index` GSI.
pub const CHECK_KEY: &str = "checkKey";

/// Escapes one key component.
pub fn escape(component: &str) -> Cow<'_, str> {
    if component.contains(['%', '#']) {
        Cow::Owned(component.replace('%', "%25").replace('#', "%23"))
    } else {
        Cow::Borrowed(component)
    }
}

/// A full primary key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    fn new(pk: String, sk: impl Into<String>) -> Self {
        Self { pk, sk: sk.into() }
    }
}

// ---- tokens table ----

pub fn secret(hash: &SecretHash) -> Key {
    Key::new(format!("SECRET#{}", hash.to_hex()), "SECRET")
}

pub fn account_pk(owner: &UserId) -> String {
    format!("ACCOUNT#{}", escape(owner.as_str()))
}

pub const ACCOUNT_TOKEN_PREFIX: &str = "TOKEN#";

pub fn account_token(owner: &UserId, token: &TokenId) -> Key {
    Key::new(account_pk(owner), format!("{ACCOUNT_TOKEN_PREFIX}{token}"))
}

/// Token names are unique per owner regardless of case.
pub fn token_name_lock(owner: &UserId, name: &str) -> Key {
    Key::new(
        account_pk(owner),
        format!("TOKENNAME#{}", escape(&name.to_lowercase())),
    )
}

/// Partition of an account's idempotency receipts: apart from its tokens, so
/// the versions function's IAM policy can be limited to these
/// (`dynamodb:LeadingKeys`).
pub const RECEIPT_PK_PREFIX: &str = "IDEMPOTENCY#";

/// An `Idempotency-Key`'s receipt. A rotation's sits beside the old token's
/// credential, so only the old token finds it.
pub fn receipt(scope: &ReceiptScope, key: &IdempotencyKey) -> Key {
    match scope {
        ReceiptScope::Account(owner) => Key::new(
            format!("{RECEIPT_PK_PREFIX}{}", escape(owner.as_str())),
            format!("KEY#{}", key.to_hex()),
        ),
        ReceiptScope::Rotation(old) => {
            Key::new(secret(old).pk, format!("ROTATION#{}", key.to_hex()))
        }
    }
}

/// A project's API keys, listed by id (the credential itself is keyed by
/// its hash).
pub fn project_keys_pk(project: &ProjectId) -> String {
    format!("PROJECTKEYS#{project}")
}

pub const API_KEY_PREFIX: &str = "APIKEY#";

pub fn project_key(project: &ProjectId, key: &ApiKeyId) -> Key {
    Key::new(project_keys_pk(project), format!("{API_KEY_PREFIX}{key}"))
}

// ---- versions table ----

pub fn team(team: &TeamId) -> Key {
    Key::new(format!("TEAM#{team}"), "TEAM")
}

pub fn member(team: &TeamId, user: &UserId) -> Key {
    Key::new(
        format!("TEAM#{team}"),
        format!("{MEMBER_PREFIX}{}", escape(user.as_str())),
    )
}

/// The same membership seen from the user's side, so "which teams is this
/// account in" is one `Query` instead of a scan of every team.
pub fn user_pk(user: &UserId) -> String {
    format!("USER#{}", escape(user.as_str()))
}

pub const MEMBER_OF_PREFIX: &str = "MEMBEROF#";

pub fn member_of(user: &UserId, team: &TeamId) -> Key {
    Key::new(user_pk(user), format!("{MEMBER_OF_PREFIX}{team}"))
}

/// Sort-key prefix of the team-side membership items.
pub const MEMBER_PREFIX: &str = "MEMBER#";

/// A team's project list: one small entry per project beside the team.
pub const TEAM_PROJECT_PREFIX: &str = "PROJECT#";

pub fn team_project(team: &TeamId, project: &ProjectId) -> Key {
    Key::new(
        format!("TEAM#{team}"),
        format!("{TEAM_PROJECT_PREFIX}{project}"),
    )
}

pub const INVITATION_PREFIX: &str = "INVITE#";

/// An invitation by id: what accepting reads.
pub fn invitation(id: &InvitationId) -> Key {
    Key::new(format!("{INVITATION_PREFIX}{id}"), "INVITE")
}

/// The same invitation in its team's list.
pub fn team_invitation(team: &TeamId, id: &InvitationId) -> Key {
    Key::new(format!("TEAM#{team}"), format!("{INVITATION_PREFIX}{id}"))
}

/// The same invitation in the invited address's list.
pub fn email_pk(email: &Email) -> String {
    format!("EMAIL#{}", escape(email.as_str()))
}

pub fn email_invitation(email: &Email, id: &InvitationId) -> Key {
    Key::new(email_pk(email), format!("{INVITATION_PREFIX}{id}"))
}

/// At most one pending invitation per team and address.
pub fn invitee(team: &TeamId, email: &Email) -> Key {
    Key::new(
        format!("TEAM#{team}"),
        format!("INVITEE#{}", escape(email.as_str())),
    )
}

pub fn project_pk(project: &ProjectId) -> String {
    format!("PROJECT#{project}")
}

pub fn project(project: &ProjectId) -> Key {
    Key::new(project_pk(project), "PROJECT")
}

pub const VERSION_PREFIX: &str = "VERSION#";

pub fn version(project: &ProjectId, version: &VersionId) -> Key {
    Key::new(project_pk(project), format!("{VERSION_PREFIX}{version}"))
}

/// The uniqueness item of (project, appName, appVersion, platform,
/// environment). `app_version` is the rule as stored (trimmed).
pub fn version_identity(
    project: &ProjectId,
    app_name: &AppName,
    app_version: &str,
    platform: &Platform,
    environment: &Environment,
) -> Key {
    Key::new(
        project_pk(project),
        format!(
            "IDENTITY#{}#{}#{}#{}",
            escape(app_name.as_str()),
            escape(app_version),
            escape(platform.as_str()),
            escape(environment.as_str())
        ),
    )
}

/// Partition of the `check-index`: the candidates of one check.
pub fn check_key(
    project: &ProjectId,
    app_name: &str,
    platform: &Platform,
    environment: &Environment,
) -> String {
    format!(
        "{project}#{}#{}#{}",
        escape(app_name),
        escape(platform.as_str()),
        escape(environment.as_str())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_signs_cannot_forge_a_key() {
        let p = ProjectId::generate();
        let (plat, env) = (
            Platform::parse("android").expect("valid"),
            Environment::parse("prod").expect("valid"),
        );
        let a = version_identity(
            &p,
            &AppName::parse("a#1.0").expect("valid"),
            "2",
            &plat,
            &env,
        );
        let b = version_identity(
            &p,
            &AppName::parse("a").expect("valid"),
            "1.0#2",
            &plat,
            &env,
        );
        assert_ne!(a, b);
        assert_eq!(escape("50%#x"), "50%25%23x");
        assert!(matches!(escape("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn token_names_lock_case_insensitively() {
        let u = UserId::parse("user-1").expect("valid");
        assert_eq!(
            token_name_lock(&u, "CI Prod"),
            token_name_lock(&u, "ci prod")
        );
    }
}
