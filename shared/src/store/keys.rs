//! Every key format of both tables, in one place.
//!
//! User-supplied components (app names, versions, `sub`s, token names) are
//! escaped so a `#` inside them can never forge another key: `%` becomes
//! `%25` and `#` becomes `%23`.

use std::borrow::Cow;

use crate::domain::{
    ApiKeyId, AppName, Email, Environment, EventId, IdempotencyKey, InvitationId, Platform,
    ProjectId, ReceiptScope, SecretHash, TeamId, Timestamp, TokenId, UserId, VersionId,
};

pub const PK: &str = "pk";
pub const SK: &str = "sk";

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

/// An account's own activity (its tokens), in the tokens table: a
/// partition of its own, apart from its tokens, so the functions whose
/// auth path may record a token's revocation can be allowed to put events
/// there and nothing else (`dynamodb:LeadingKeys`). Its sort keys are
/// [`event`]'s.
pub fn account_activity_pk(owner: &UserId) -> String {
    format!("{ACCOUNT_EVENTS_PK_PREFIX}{}", escape(owner.as_str()))
}

pub const ACCOUNT_EVENTS_PK_PREFIX: &str = "ACCOUNTEVENTS#";

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

/// Sort key of a project's own item.
pub const PROJECT_SK: &str = "PROJECT";

pub fn project(project: &ProjectId) -> Key {
    Key::new(project_pk(project), PROJECT_SK)
}

pub const VERSION_PREFIX: &str = "VERSION#";

pub fn version(project: &ProjectId, version: &VersionId) -> Key {
    Key::new(project_pk(project), format!("{VERSION_PREFIX}{version}"))
}

/// Sort-key prefix of the versions' identity items.
pub const VERSION_IDENTITY_PREFIX: &str = "IDENTITY#";

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
            "{VERSION_IDENTITY_PREFIX}{}#{}#{}#{}",
            escape(app_name.as_str()),
            escape(app_version),
            escape(platform.as_str()),
            escape(environment.as_str())
        ),
    )
}

/// One revision of a version, beside it in its project's partition (so a
/// project's delete removes its history too). Zero-padded so that string
/// order is revision order.
pub fn revision(project: &ProjectId, version: &VersionId, revision: u64) -> Key {
    Key::new(
        project_pk(project),
        format!("{}{revision:020}", revision_prefix(version)),
    )
}

/// Sort-key prefix of one version's revisions.
pub fn revision_prefix(version: &VersionId) -> String {
    format!("REVISION#{version}#")
}

/// A project's activity: in the project's partition (deleted with it), apart
/// from the prefixes that listing and the check read, newest first by event
/// id (a ULID).
pub fn project_activity_pk(project: &ProjectId) -> String {
    project_pk(project)
}

/// A team's activity (its members, invitations, projects and API keys): in
/// the team's partition, beside its members, so it outlives a project's
/// delete.
pub fn team_activity_pk(team: &TeamId) -> String {
    self::team(team).pk
}

pub const EVENT_PREFIX: &str = "EVENT#";

/// An event in the activity partition `pk`.
pub fn event(pk: &str, id: &EventId) -> Key {
    Key::new(pk.to_owned(), format!("{EVENT_PREFIX}{id}"))
}

/// Sort-key prefix of the versions' listing entries.
pub const VERSION_LISTING_PREFIX: &str = "CREATED#";

/// The partition of a project's versions in creation order and its count,
/// apart from its versions: a list page's `Query` walks only these (on
/// DynamoDB a key condition seeks anyway; the local emulator walks the
/// whole partition). Deleting a project deletes both partitions.
pub fn listing_pk(project: &ProjectId) -> String {
    format!("{}#CREATED", project_pk(project))
}

/// A version's listing entry: sorted by creation, so a backward `Query`
/// reads the newest first. Ties (one millisecond) come out by ascending id,
/// as the listing orders them, since the id is stored complemented.
pub fn version_listing(project: &ProjectId, created_at: Timestamp, version: &VersionId) -> Key {
    let complemented: String = version
        .as_str()
        .bytes()
        .map(|b| char::from(b'0' + b'z' - b.clamp(b'0', b'z')))
        .collect();
    Key::new(
        listing_pk(project),
        format!(
            "{VERSION_LISTING_PREFIX}{:015}#{complemented}",
            created_at.unix_millis().max(0)
        ),
    )
}

/// How many versions the project holds, kept in each create's and delete's
/// transaction. It sorts after every listing entry, so the backward `Query`
/// of a list page reads it first: one call reads the count and the page.
pub fn version_count(project: &ProjectId) -> Key {
    Key::new(
        listing_pk(project),
        format!("{VERSION_LISTING_PREFIX}~COUNT"),
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
    fn listing_entries_sort_newest_first_then_by_ascending_id() {
        let p = ProjectId::generate();
        let (a, b) = (VersionId::generate(), VersionId::generate());
        let (low, high) = if a < b { (a, b) } else { (b, a) };
        let at = |ms| Timestamp::from_unix_millis(ms);
        let mut keys = [
            version_listing(&p, at(5), &high),
            version_listing(&p, at(1_000), &low),
            version_listing(&p, at(5), &low),
            version_listing(&p, at(40), &high),
        ];
        // A backward Query: the greatest sort key first.
        keys.sort_by(|x, y| y.sk.cmp(&x.sk));
        let order: Vec<_> = keys.iter().map(|k| k.sk.as_str()).collect();
        assert_eq!(
            order,
            [
                version_listing(&p, at(1_000), &low).sk,
                version_listing(&p, at(40), &high).sk,
                version_listing(&p, at(5), &low).sk,
                version_listing(&p, at(5), &high).sk,
            ]
        );
        assert!(
            keys.iter()
                .all(|k| k.sk.starts_with(VERSION_LISTING_PREFIX))
        );
        let count = version_count(&p).sk;
        assert!(count.starts_with(VERSION_LISTING_PREFIX) && !count.starts_with(VERSION_PREFIX));
        let latest = version_listing(&p, at(99_999_999_999_999), &high).sk;
        assert!(count > latest, "the count is read first, backwards");
        assert_eq!(version_count(&p).pk, listing_pk(&p));
        assert_ne!(listing_pk(&p), project_pk(&p));
        assert_ne!(listing_pk(&p), project_pk(&ProjectId::generate()));
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
