//! Activity: one event per change made through the API (who, what, when,
//! from where, before and after), and a version's revisions. Pure data; the
//! store writes an event in the same transaction as its change.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Email, EventId, Invalid, PatRecord, Timestamp, TokenId, UserId, VersionRecord};

/// How long events and revisions are kept when the deployment does not say
/// (`ACTIVITY_RETENTION_DAYS`, the template's `ActivityRetentionDays`).
pub const DEFAULT_RETENTION_DAYS: u16 = 400;
/// The longest User-Agent an event keeps; the rest is cut.
pub const MAX_USER_AGENT_CHARS: usize = 512;

/// What happened. The wire names are the contract's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    #[serde(rename = "version.created")]
    VersionCreated,
    #[serde(rename = "version.updated")]
    VersionUpdated,
    #[serde(rename = "version.deleted")]
    VersionDeleted,
    #[serde(rename = "version.restored")]
    VersionRestored,
    #[serde(rename = "team.created")]
    TeamCreated,
    #[serde(rename = "team.updated")]
    TeamUpdated,
    /// An invitation made (target kind `invitation`).
    #[serde(rename = "member.invited")]
    MemberInvited,
    #[serde(rename = "member.joined")]
    MemberJoined,
    /// A member removed or leaving (target kind `member`), or an
    /// invitation withdrawn (target kind `invitation`).
    #[serde(rename = "member.removed")]
    MemberRemoved,
    #[serde(rename = "member.roleChanged")]
    MemberRoleChanged,
    #[serde(rename = "project.created")]
    ProjectCreated,
    #[serde(rename = "project.updated")]
    ProjectUpdated,
    #[serde(rename = "project.deleted")]
    ProjectDeleted,
    #[serde(rename = "apiKey.created")]
    ApiKeyCreated,
    #[serde(rename = "apiKey.revoked")]
    ApiKeyRevoked,
    #[serde(rename = "token.created")]
    TokenCreated,
    #[serde(rename = "token.rotated")]
    TokenRotated,
    /// Revoked by its owner (one event per token, a revoke-all too).
    #[serde(rename = "token.revoked")]
    TokenRevoked,
    /// A rotated-away secret was presented again: the token is revoked.
    #[serde(rename = "token.reuseDetected")]
    TokenReuseDetected,
}

/// Who made a change: a person in a session, or a PAT and its owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActorKind {
    Session,
    Pat,
}

/// The actor as the contract shows it: every key present, `null` where it
/// does not apply (a session has no token, a PAT's owner email is not
/// known to the version routes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Actor {
    pub kind: ActorKind,
    pub user_id: UserId,
    pub email: Option<Email>,
    pub token_id: Option<String>,
    pub token_name: Option<String>,
}

impl Actor {
    /// A PAT acting for its owner. Never the secret or its hash: the
    /// token's public id and name.
    pub fn pat(token: &PatRecord) -> Self {
        Self::token(token.owner.clone(), &token.token_id, token.name.clone())
    }

    /// A PAT known by its id and name only (a rotated-away secret
    /// presented again has no record of its own).
    pub fn token(owner: UserId, id: &TokenId, name: String) -> Self {
        Self {
            kind: ActorKind::Pat,
            user_id: owner,
            email: None,
            token_id: Some(id.to_string()),
            token_name: Some(name),
        }
    }

    /// A person in an account session.
    pub fn session(user: UserId, email: Option<Email>) -> Self {
        Self {
            kind: ActorKind::Session,
            user_id: user,
            email,
            token_id: None,
            token_name: None,
        }
    }
}

/// What a change was made to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    pub kind: String,
    pub id: String,
}

/// One field's value before and after (`null` when it did not exist).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub before: Value,
    pub after: Value,
}

impl Target {
    pub fn new(kind: &'static str, id: impl ToString) -> Self {
        Self {
            kind: kind.to_owned(),
            id: id.to_string(),
        }
    }
}

/// The fields that differ, each `(name, before, after)` (`Value::Null`
/// where there was or is nothing): what an event's `changes` holds.
pub fn changes<const N: usize>(fields: [(&str, Value, Value); N]) -> BTreeMap<String, Change> {
    fields
        .into_iter()
        .filter(|(_, before, after)| before != after)
        .map(|(name, before, after)| (name.to_owned(), Change { before, after }))
        .collect()
}

/// A value of an event's `changes`, as text.
pub fn text(value: impl ToString) -> Value {
    Value::String(value.to_string())
}

/// Where a request came from, as API Gateway saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Origin {
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Origin {
    pub fn new(source_ip: Option<&str>, user_agent: Option<&str>) -> Self {
        let clean = |value: &str, max: usize| {
            let value: String = value
                .trim()
                .chars()
                .filter(|c| !c.is_control())
                .take(max)
                .collect();
            (!value.is_empty()).then_some(value)
        };
        Self {
            source_ip: source_ip.and_then(|ip| clean(ip, 64)),
            user_agent: user_agent.and_then(|ua| clean(ua, MAX_USER_AGENT_CHARS)),
        }
    }
}

/// Who makes a write, when and from where: what a store needs to record
/// the write's event in the write's own transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    pub actor: Actor,
    pub origin: Origin,
    pub at: Timestamp,
    /// The revision a restore writes back: the write is then recorded as
    /// `version.restored`.
    pub restoring: Option<u64>,
}

impl Provenance {
    pub fn new(actor: Actor, origin: Origin, at: Timestamp) -> Self {
        Self {
            actor,
            origin,
            at,
            restoring: None,
        }
    }

    /// The same, for a write that puts `revision` back.
    pub fn restoring(self, revision: u64) -> Self {
        Self {
            restoring: Some(revision),
            ..self
        }
    }

    /// The event of any write but a version's: `action` on `target`.
    pub fn event(
        &self,
        action: Action,
        target: Target,
        changes: BTreeMap<String, Change>,
    ) -> Event {
        Event {
            id: EventId::generate(),
            at: self.at,
            action,
            actor: self.actor.clone(),
            target,
            changes,
            source_ip: self.origin.source_ip.clone(),
            user_agent: self.origin.user_agent.clone(),
            restored_revision: None,
        }
    }

    /// The event of a version write from `before` to `after` (`None`:
    /// created, or deleted).
    pub fn version_event(
        &self,
        before: Option<&VersionRecord>,
        after: Option<&VersionRecord>,
    ) -> Option<Event> {
        let id = after.or(before)?.id.to_string();
        let action = match (self.restoring, before, after) {
            (Some(_), _, _) => Action::VersionRestored,
            (None, None, _) => Action::VersionCreated,
            (None, Some(_), None) => Action::VersionDeleted,
            (None, Some(_), Some(_)) => Action::VersionUpdated,
        };
        Some(Event {
            restored_revision: self.restoring,
            ..self.event(
                action,
                Target::new("version", id),
                version_changes(before, after),
            )
        })
    }
}

/// A recorded change, as stored and as the activity routes show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: EventId,
    pub at: Timestamp,
    pub action: Action,
    pub actor: Actor,
    pub target: Target,
    pub changes: BTreeMap<String, Change>,
    pub source_ip: Option<String>,
    pub user_agent: Option<String>,
    /// For `version.restored`: the revision written back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_revision: Option<u64>,
}

/// Fields of a version that are its identity or the server's bookkeeping,
/// not something a write changes.
const UNCHANGING: [&str; 4] = ["id", "project", "createdAt", "updatedAt"];

fn fields(record: Option<&VersionRecord>) -> Map<String, Value> {
    let mut map = match record.map(serde_json::to_value) {
        Some(Ok(Value::Object(map))) => map,
        _ => Map::new(),
    };
    for field in UNCHANGING {
        map.remove(field);
    }
    map
}

/// The fields that differ between `before` and `after`, each with both
/// values: every field for a create or a delete.
pub fn version_changes(
    before: Option<&VersionRecord>,
    after: Option<&VersionRecord>,
) -> BTreeMap<String, Change> {
    let (mut before, mut after) = (fields(before), fields(after));
    let names: BTreeSet<String> = before.keys().chain(after.keys()).cloned().collect();
    let mut changes = BTreeMap::new();
    for name in names {
        let b = before.remove(&name).unwrap_or(Value::Null);
        let a = after.remove(&name).unwrap_or(Value::Null);
        if b != a {
            changes.insert(
                name,
                Change {
                    before: b,
                    after: a,
                },
            );
        }
    }
    changes
}

/// One revision of a version, as its history shows it: the version as it
/// was after a write, or (`deleted`) as it was when deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub revision: u64,
    pub at: Timestamp,
    pub action: Action,
    pub actor: Actor,
    pub deleted: bool,
    pub version: VersionRecord,
}

impl Revision {
    /// The revision a version write leaves: `after` at its revision, or for
    /// a delete, `before` one revision on, marked deleted.
    pub fn of(
        event: &Event,
        before: Option<&VersionRecord>,
        after: Option<&VersionRecord>,
    ) -> Option<Self> {
        let (version, revision, deleted) = match (before, after) {
            (_, Some(after)) => (after.clone(), after.revision, false),
            (Some(before), None) => (before.clone(), before.revision + 1, true),
            (None, None) => return None,
        };
        Some(Self {
            revision,
            at: event.at,
            action: event.action,
            actor: event.actor.clone(),
            deleted,
            version,
        })
    }
}

/// Where the next page of an activity list starts: opaque to clients (the
/// last event's id, base64url).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub EventId);

impl Cursor {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        let bad = Invalid("is not a cursor this API returned");
        let bytes = URL_SAFE_NO_PAD
            .decode(input.trim())
            .map_err(|_| bad.clone())?;
        let text = String::from_utf8(bytes).map_err(|_| bad.clone())?;
        EventId::parse(&text).map(Self).map_err(|_| bad)
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_str())
    }
}

/// One page of events, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPage {
    pub events: Vec<Event>,
    pub next: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ProjectId;

    fn record() -> VersionRecord {
        crate::test_util::version_record(&ProjectId::generate(), "1.0.0")
    }

    fn by() -> Provenance {
        Provenance::new(
            Actor::session(UserId::parse("u-1").expect("valid"), None),
            Origin::new(Some("192.0.2.1"), Some("curl/8")),
            Timestamp::now(),
        )
    }

    #[test]
    fn an_update_records_only_what_changed_and_both_values() {
        let before = record();
        let after = VersionRecord {
            force_upgrade: !before.force_upgrade,
            updated_at: before.updated_at.plus_millis(5),
            revision: 1,
            ..before.clone()
        };
        let event = by()
            .version_event(Some(&before), Some(&after))
            .expect("event");
        assert_eq!(event.action, Action::VersionUpdated);
        assert_eq!(event.changes.len(), 1, "{:?}", event.changes);
        let change = &event.changes["forceUpgrade"];
        assert_eq!(change.before, Value::Bool(before.force_upgrade));
        assert_eq!(change.after, Value::Bool(after.force_upgrade));
    }

    #[test]
    fn create_delete_and_restore_name_themselves() {
        let r = record();
        let created = by().version_event(None, Some(&r)).expect("event");
        assert_eq!(created.action, Action::VersionCreated);
        assert!(created.changes.contains_key("appName"));
        assert!(created.changes["appName"].before.is_null());
        assert!(!created.changes.contains_key("id"));
        let deleted = by().version_event(Some(&r), None).expect("event");
        assert_eq!(deleted.action, Action::VersionDeleted);
        assert!(deleted.changes["appName"].after.is_null());
        let restored = by()
            .restoring(0)
            .version_event(None, Some(&r))
            .expect("event");
        assert_eq!(restored.action, Action::VersionRestored);
        let json = serde_json::to_value(&restored).expect("json");
        assert_eq!(json["action"], "version.restored");
        assert_eq!(json["actor"]["kind"], "session");
        assert!(json["actor"]["tokenId"].is_null());
        assert_eq!(json["sourceIp"], "192.0.2.1");
    }

    #[test]
    fn other_events_keep_only_fields_that_changed_and_name_their_target() {
        let event = by().event(
            Action::MemberRoleChanged,
            Target::new("member", "u-2"),
            changes([
                ("role", "owner".into(), "member".into()),
                ("email", "a@example.com".into(), "a@example.com".into()),
            ]),
        );
        let json = serde_json::to_value(&event).expect("json");
        assert_eq!(json["action"], "member.roleChanged");
        assert_eq!(
            json["target"],
            serde_json::json!({"kind": "member", "id": "u-2"})
        );
        assert_eq!(
            json["changes"],
            serde_json::json!({"role": {"before": "owner", "after": "member"}})
        );
        assert!(json.get("restoredRevision").is_none());
        for (action, wire) in [
            (Action::TokenReuseDetected, "token.reuseDetected"),
            (Action::ApiKeyRevoked, "apiKey.revoked"),
            (Action::TeamCreated, "team.created"),
        ] {
            assert_eq!(serde_json::to_value(action).expect("json"), wire);
        }
    }

    #[test]
    fn a_delete_leaves_a_deleted_revision_one_on() {
        let r = VersionRecord {
            revision: 3,
            ..record()
        };
        let event = by().version_event(Some(&r), None).expect("event");
        let revision = Revision::of(&event, Some(&r), None).expect("revision");
        assert_eq!((revision.revision, revision.deleted), (4, true));
    }

    #[test]
    fn cursors_round_trip_and_reject_anything_else() {
        let cursor = Cursor(EventId::generate());
        assert_eq!(Cursor::parse(&cursor.encode()), Ok(cursor));
        for bad in ["", "x", "evt_", "ZXZ0Xw", "%%%"] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn origins_are_trimmed_bounded_and_printable() {
        let o = Origin::new(
            Some(" 203.0.113.9 "),
            Some(&format!("a\nb{}", "x".repeat(600))),
        );
        assert_eq!(o.source_ip.as_deref(), Some("203.0.113.9"));
        let ua = o.user_agent.expect("kept");
        assert!(ua.starts_with("ab") && ua.chars().count() == MAX_USER_AGENT_CHARS);
        assert_eq!(Origin::new(Some(" "), None), Origin::default());
    }
}
