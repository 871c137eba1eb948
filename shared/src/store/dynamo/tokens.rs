//! DynamoDB implementation of the tokens store: an account's token list,
//! fenced revocation and secret rotation, on the items
//! [`super::credentials`] writes.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use serde::Deserialize;
use serde_json::Value;

use super::receipts::{IN_FLIGHT, receipt_in_flight, with_receipt};
use super::token_item::{AccountTokenItem, SecretItem};
use super::transact::{Condition, delete, put, transact, update};
use super::{
    DynamoStore, batch_get, classify, from_item, is_code, key_item, query_all, to_item, ttl,
};
use crate::domain::activity::{Action, Actor, Change, Origin, Provenance, Target, changes, text};
use crate::domain::{IssuedPat, PatRecord, Receipt, SecretHash, Timestamp, TokenId, UserId};
use crate::store::{Feed, keys};
use crate::store::{StoreError, TokenStore, TokenSummary};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, TransactWriteItem};

/// The slice of a credential item the token list needs.
#[derive(Deserialize)]
struct LastUsed {
    pk: String,
    #[serde(rename = "lastUsedAt", default)]
    last_used_at: Option<Timestamp>,
    #[serde(rename = "lastUsedIp", default)]
    last_used_ip: Option<IpAddr>,
}

/// A use of a token: when, and from where if known.
type Use = (Timestamp, Option<IpAddr>);

/// The last recorded use of each credential, by credential `pk`. Strongly
/// consistent, like the auth path that writes it.
async fn last_used(
    store: &DynamoStore,
    hashes: &[SecretHash],
) -> Result<HashMap<String, Use>, StoreError> {
    let keys: Vec<_> = hashes.iter().map(|h| key_item(&keys::secret(h))).collect();
    let mut found = HashMap::new();
    let projection = "pk, lastUsedAt, lastUsedIp";
    for item in batch_get(&store.client, &store.tokens_table, &keys, projection).await? {
        let row: LastUsed = from_item(item)?;
        if let Some(at) = row.last_used_at {
            found.insert(row.pk, (at, row.last_used_ip));
        }
    }
    Ok(found)
}

fn entry_hash(entry: &AccountTokenItem) -> Result<SecretHash, StoreError> {
    SecretHash::from_hex(&entry.secret_hash)
        .ok_or_else(|| StoreError::Internal(format!("token {} has a bad hash", entry.token_id)))
}

impl TokenStore for DynamoStore {
    async fn list_tokens(&self, owner: &UserId) -> Result<Vec<TokenSummary>, StoreError> {
        let entries = account_entries(self, owner).await?;
        let hashes = entries
            .iter()
            .map(entry_hash)
            .collect::<Result<Vec<_>, _>>()?;
        let last_used = last_used(self, &hashes).await?;
        Ok(entries
            .into_iter()
            .zip(&hashes)
            .map(|(entry, hash)| {
                // The rotation is a use the current secret's credential
                // does not record: the later of the two is the last use.
                let rotated = entry.rotated_at.map(|at| (at, entry.rotated_ip));
                let used = last_used.get(&keys::secret(hash).pk).copied();
                let last = used.into_iter().chain(rotated).max_by_key(|(at, _)| *at);
                TokenSummary {
                    last_used_at: last.map(|(at, _)| at),
                    last_used_ip: last.and_then(|(_, ip)| ip),
                    last_replay_at: entry.last_replay_at,
                    last_replay_ip: entry.last_replay_ip,
                    token_id: entry.token_id,
                    name: entry.name,
                    scopes: entry.scopes,
                    created_at: entry.created_at,
                    expires_at: entry.expires_at,
                    hint: entry.hint,
                    limits: entry.limits.into_limits(),
                }
            })
            .collect())
    }

    async fn revoke_token(
        &self,
        owner: &UserId,
        token: &TokenId,
        by: Option<&Provenance>,
    ) -> Result<bool, StoreError> {
        revoke(self, owner, token, RevokedBy::owner(by)).await
    }

    async fn revoke_all_tokens(
        &self,
        owner: &UserId,
        by: Option<&Provenance>,
    ) -> Result<usize, StoreError> {
        let mut revoked = 0;
        // One pass over the list: a token created after it is read is the
        // owner's own new token, not one to chase.
        for entry in account_entries(self, owner).await? {
            if revoke(self, owner, &entry.token_id, RevokedBy::owner(by)).await? {
                revoked += 1;
            }
        }
        Ok(revoked)
    }

    async fn count_live_tokens(&self, owner: &UserId, now: Timestamp) -> Result<usize, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.tokens_table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .filter_expression("expiresAt > :now")
            .expression_attribute_values(":pk", AttributeValue::S(keys::account_pk(owner)))
            .expression_attribute_values(
                ":prefix",
                AttributeValue::S(keys::ACCOUNT_TOKEN_PREFIX.to_owned()),
            )
            .expression_attribute_values(":now", AttributeValue::S(now.to_string()))
            .projection_expression("sk")
            .consistent_read(true);
        Ok(query_all(query, |_| Ok(())).await?.len())
    }

    async fn rotate_token(
        &self,
        old_hash: &SecretHash,
        old: &PatRecord,
        new: &IssuedPat,
        receipt: Option<&Receipt>,
        source: Option<IpAddr>,
        by: Option<&Provenance>,
    ) -> Result<(), StoreError> {
        let table = &self.tokens_table;
        let mut items = rotation_items(table, old_hash, old, new, receipt, source)?;
        // After the rotation's items, before the receipt (whose index
        // `with_receipt` reports).
        self.with_recorded(
            &mut items,
            &Feed::Account(old.owner.clone()),
            by,
            Action::TokenRotated,
            Target::new("token", &old.token_id),
            // The token keeps its id, name, scopes and expiry: only its
            // secret changes, which no event holds.
            BTreeMap::new(),
        )?;
        let at = with_receipt(table, &mut items, receipt)?;
        transact(&self.client, items).await.map_err(|failed| {
            if receipt_in_flight(&failed, at) {
                return failed.conflict_as(IN_FLIGHT);
            }
            failed.conflict_as("the token was revoked or rotated concurrently")
        })
    }

    async fn record_replay(
        &self,
        owner: &UserId,
        token: &TokenId,
        at: Timestamp,
        source: Option<IpAddr>,
    ) -> Result<bool, StoreError> {
        let key = keys::account_token(owner, token);
        let mut request = self.client.update_item();
        request = match source {
            Some(ip) => request
                .update_expression("SET lastReplayAt = :at, lastReplayIp = :ip")
                .expression_attribute_values(":ip", AttributeValue::S(ip.to_string())),
            None => request.update_expression("SET lastReplayAt = :at REMOVE lastReplayIp"),
        };
        let updated = request
            .table_name(&self.tokens_table)
            .set_key(Some(key_item(&key)))
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":at", AttributeValue::S(at.to_string()))
            .send()
            .await;
        match updated {
            Ok(_) => Ok(true),
            Err(err) if is_code(&err, "ConditionalCheckFailedException") => Ok(false),
            Err(err) => Err(classify(err)),
        }
    }
}

/// The account's token entries, newest first, strongly consistent.
async fn account_entries(
    store: &DynamoStore,
    owner: &UserId,
) -> Result<Vec<AccountTokenItem>, StoreError> {
    let query = store
        .client
        .query()
        .table_name(&store.tokens_table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
        .expression_attribute_values(":pk", AttributeValue::S(keys::account_pk(owner)))
        .expression_attribute_values(
            ":prefix",
            AttributeValue::S(keys::ACCOUNT_TOKEN_PREFIX.to_owned()),
        )
        .consistent_read(true)
        // Token ids are ULIDs: descending sort keys are newest first.
        .scan_index_forward(false);
    query_all(query, from_item::<AccountTokenItem>).await
}

/// The one transaction of a self-rotation, in this order:
///
/// 0. the old secret's credential becomes a `rotated` tombstone, only if it
///    is still a live PAT (of two concurrent rotations one wins);
/// 1. the new secret's credential, a new key;
/// 2. the account entry now names the new secret's hash (and keeps the
///    rotation's time and address), only if it still names the old one and
///    no revocation has marked it (the fence that keeps a racing revocation
///    from missing the new secret). An update, not a put: what else the
///    entry records (a replay) survives the rotation.
///
/// The name lock is untouched: the token keeps its id. With an
/// Idempotency-Key, the new credential names the receipt (appended after
/// these by the caller) that its first use deletes.
pub(crate) fn rotation_items(
    table: &str,
    old_hash: &SecretHash,
    old: &PatRecord,
    new: &IssuedPat,
    receipt: Option<&Receipt>,
    source: Option<IpAddr>,
) -> Result<Vec<TransactWriteItem>, StoreError> {
    let record = &new.record;
    let tombstone = to_item(
        &keys::secret(old_hash),
        &SecretItem::Rotated {
            token_id: old.token_id.clone(),
            owner: old.owner.clone(),
            ttl: ttl(old.expires_at),
        },
    )?;
    let still_live = Condition::new("kind = :pat").with_s(":pat", "pat");
    // The new secret's credential starts with no `lastUsedAt`, so that its
    // first use is always written (later ones are throttled to one an hour):
    // that is how a rotation's stored Idempotency-Key answer learns the new
    // secret is in use and stops being replayable. The rotation, itself a
    // use of the token, is kept on the account entry for the token list.
    let unused = PatRecord {
        last_used_at: None,
        ..record.clone()
    };
    let mut credential = SecretItem::pat(&unused);
    if let SecretItem::Pat { replay_receipt, .. } = &mut credential {
        *replay_receipt = receipt.map(|r| keys::receipt(&r.scope, &r.key).into());
    }
    let credential = to_item(&keys::secret(&new.hash), &credential)?;
    let rotated_at = record.last_used_at.unwrap_or(record.created_at);
    let unfenced = Condition::new("secretHash = :old AND attribute_not_exists(revoking)")
        .with_s(":old", old_hash.to_hex())
        .with_s(":new", new.hash.to_hex())
        .with_s(":hint", new.hint.clone())
        .with_s(":at", rotated_at.to_string());
    let (expression, unfenced) = match source {
        Some(ip) => (
            "SET secretHash = :new, hint = :hint, rotatedAt = :at, rotatedIp = :ip",
            unfenced.with_s(":ip", ip.to_string()),
        ),
        None => (
            "SET secretHash = :new, hint = :hint, rotatedAt = :at REMOVE rotatedIp",
            unfenced,
        ),
    };
    let entry_key = keys::account_token(&record.owner, &record.token_id);
    Ok(vec![
        put(table, tombstone, still_live)?,
        put(table, credential, Condition::absent())?,
        update(table, &entry_key, expression, unfenced)?,
    ])
}

/// What a new token's event holds of it: its name, scopes, expiry and
/// limits (left out when it has none), never its secret or hash.
pub(crate) fn token_fields(record: &PatRecord) -> BTreeMap<String, Change> {
    let value = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
    changes([
        ("name", Value::Null, text(&record.name)),
        (
            "scopes",
            Value::Null,
            value(serde_json::to_value(record.scopes)),
        ),
        ("expiresAt", Value::Null, text(record.expires_at)),
        (
            "projects",
            Value::Null,
            value(serde_json::to_value(record.limits.projects())),
        ),
        (
            "environments",
            Value::Null,
            value(serde_json::to_value(record.limits.environments())),
        ),
    ])
}

/// Who a revocation's event names.
#[derive(Clone, Copy)]
pub(crate) enum RevokedBy<'a> {
    /// The operator CLI: nothing is recorded.
    Nobody,
    /// The owner: `token.revoked`.
    Owner(&'a Provenance),
    /// A rotated-away secret presented again from `origin`:
    /// `token.reuseDetected`, by the token itself.
    Reuse(&'a Origin),
}

impl<'a> RevokedBy<'a> {
    pub(crate) fn owner(by: Option<&'a Provenance>) -> Self {
        by.map_or(Self::Nobody, Self::Owner)
    }

    /// The event of revoking `owner`'s token `token`, as its account entry
    /// `entry` holds it.
    fn event(
        self,
        owner: &UserId,
        token: &TokenId,
        entry: &AccountTokenItem,
    ) -> Option<crate::domain::activity::Event> {
        let target = Target::new("token", token);
        let was = changes([
            ("name", text(&entry.name), Value::Null),
            (
                "scopes",
                serde_json::to_value(entry.scopes).unwrap_or(Value::Null),
                Value::Null,
            ),
        ]);
        match self {
            Self::Nobody => None,
            Self::Owner(by) => Some(by.event(Action::TokenRevoked, target, was)),
            Self::Reuse(origin) => Some(
                Provenance::new(
                    Actor::token(owner.clone(), token, entry.name.clone()),
                    origin.clone(),
                    Timestamp::now(),
                )
                .event(Action::TokenReuseDetected, target, was),
            ),
        }
    }
}

/// Attempts of a revocation that keeps colliding with in-flight
/// transactions on the token's items (DynamoDB cancels a write that touches
/// an item another transaction is writing). Each attempt is two calls.
const REVOKE_ATTEMPTS: usize = 3;

/// Revokes `owner`'s token `token`, fenced against concurrent rotation.
///
/// Marking the entry `revoking` comes first and returns the entry as it is
/// after the mark: every rotation is conditioned on the mark's absence, so
/// the hash read here is the token's last secret, and deleting it cannot
/// leave a newer one live. A revocation that fails half-way leaves the mark
/// (rotation stays blocked) and is safe to repeat; one that collides with a
/// rotation in flight is repeated, at most [`REVOKE_ATTEMPTS`] times.
pub(crate) async fn revoke(
    store: &DynamoStore,
    owner: &UserId,
    token: &TokenId,
    by: RevokedBy<'_>,
) -> Result<bool, StoreError> {
    let mut attempt = 1;
    loop {
        match revoke_once(store, owner, token, by).await {
            Ok(revoked) => return Ok(revoked),
            Err(Attempt::Raced(err)) if attempt < REVOKE_ATTEMPTS => {
                tracing::debug!(token_id = %token, attempt, error = %err, "revocation raced a write");
                attempt += 1;
            }
            Err(Attempt::Raced(err) | Attempt::Failed(err)) => return Err(err),
        }
    }
}

/// Why one revocation attempt failed.
enum Attempt {
    /// Another transaction was writing the same items: worth repeating.
    Raced(StoreError),
    Failed(StoreError),
}

impl From<StoreError> for Attempt {
    fn from(err: StoreError) -> Self {
        Self::Failed(err)
    }
}

async fn revoke_once(
    store: &DynamoStore,
    owner: &UserId,
    token: &TokenId,
    by: RevokedBy<'_>,
) -> Result<bool, Attempt> {
    let table = &store.tokens_table;
    let entry_key = keys::account_token(owner, token);
    let marked = store
        .client
        .update_item()
        .table_name(table)
        .set_key(Some(key_item(&entry_key)))
        .update_expression("SET revoking = :now")
        .condition_expression("attribute_exists(pk)")
        .expression_attribute_values(":now", AttributeValue::S(Timestamp::now().to_string()))
        .return_values(ReturnValue::AllNew)
        .send()
        .await;
    let item = match marked {
        Ok(output) => output.attributes.unwrap_or_default(),
        Err(err) if is_code(&err, "ConditionalCheckFailedException") => return Ok(false),
        Err(err) if is_code(&err, "TransactionConflictException") => {
            return Err(Attempt::Raced(classify(err)));
        }
        Err(err) => return Err(classify(err).into()),
    };
    let entry: AccountTokenItem = from_item(item)?;
    let hash = entry_hash(&entry)?;

    // The credential may be gone already (TTL); deleting it is
    // unconditional. The entry's condition makes a concurrent revocation
    // lose cleanly. The name lock goes only if it is still this token's:
    // once a token expires its name may belong to a newer token.
    let credential = delete(table, &keys::secret(&hash), None)?;
    let entry_delete = delete(table, &entry_key, Some(Condition::present()))?;
    let lock = delete(
        table,
        &keys::token_name_lock(owner, &entry.name),
        Some(Condition::new("tokenId = :id").with_s(":id", token.to_string())),
    )?;
    // The event rides in whichever of the two transactions commits.
    let mut recorded = Vec::new();
    if let Some(event) = by.event(owner, token, &entry) {
        store.with_event(&mut recorded, &Feed::Account(owner.clone()), &event)?;
    }
    let mut items = vec![credential.clone(), entry_delete.clone(), lock];
    items.extend(recorded.iter().cloned());
    let outcome = match transact(&store.client, items).await {
        // Only the lock belongs to someone else now: revoke without it.
        Err(failed) if failed.only_condition_failed(2) => {
            let mut items = vec![credential, entry_delete];
            items.extend(recorded);
            transact(&store.client, items).await
        }
        other => other,
    };
    match outcome {
        Ok(()) => Ok(true),
        Err(failed) if failed.condition_failed(1) => Ok(false),
        Err(failed) if failed.raced() => Err(Attempt::Raced(failed.into())),
        Err(failed) => Err(Attempt::Failed(failed.into())),
    }
}
