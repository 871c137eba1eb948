//! `Idempotency-Key` (IETF httpapi draft, Stripe's semantics): the first
//! answer to a write is kept for [`RETENTION_DAYS`] and given again to a
//! retry with the same key and the same request, so a retried write is never
//! done twice.
//!
//! Only hashes of keys are kept. A rotation's answer holds the new token, so
//! it is kept sealed (AES-256-GCM) under a key derived (HKDF-SHA256) from the
//! old token: only whoever holds the old token can read it back.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::hkdf::{HKDF_SHA256, Salt};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Invalid, PlainSecret, SecretHash, Timestamp, UserId};

/// How long a first answer is replayed (the draft's and Stripe's 24 hours).
pub const RETENTION_DAYS: i64 = 1;

/// Longest key accepted; the aau CLI sends 32 hex characters.
pub const MAX_KEY_LEN: usize = 255;

const INVALID_KEY: Invalid =
    Invalid("must be 1 to 255 printable ASCII characters, without spaces at either end");

/// An `Idempotency-Key` as kept: its SHA-256 only.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct IdempotencyKey([u8; 32]);

impl fmt::Debug for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdempotencyKey([redacted])")
    }
}

impl IdempotencyKey {
    /// A header value: 1 to [`MAX_KEY_LEN`] printable ASCII characters, not
    /// starting or ending with a space (`openapi.yaml`'s pattern). A value
    /// in quotes (a structured-field string, as the draft writes it) is the
    /// same key as its content.
    pub fn parse(value: &[u8]) -> Result<Self, Invalid> {
        let printable = |b: &u8| (0x20..0x7f).contains(b);
        let (Some(first), Some(last)) = (value.first(), value.last()) else {
            return Err(INVALID_KEY);
        };
        if value.len() > MAX_KEY_LEN
            || *first == b' '
            || *last == b' '
            || !value.iter().all(printable)
        {
            return Err(INVALID_KEY);
        }
        let key = match value {
            [b'"', inner @ .., b'"'] if !inner.is_empty() => inner,
            _ => value,
        };
        Ok(Self(Sha256::digest(key).into()))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// What makes two requests "the same": method, path with query, and body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of(method: &str, target: &str, body: &[u8]) -> Self {
        let mut hash = Sha256::new();
        for part in [method.as_bytes(), target.as_bytes(), body] {
            // Length-prefixed, so no part can run into the next.
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part);
        }
        Self(hash.finalize().into())
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(hex_str: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_str, &mut out).ok()?;
        Some(Self(out))
    }
}

/// A first answer, as replayed: status, `Location`, JSON body (empty for a
/// 204).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Answer {
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default)]
    pub body: String,
}

/// Whose keys a receipt belongs to: keys never cross owners.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReceiptScope {
    /// A version write, by the token owner's account.
    Account(UserId),
    /// A self-rotation, by the hash of the token being rotated.
    Rotation(SecretHash),
}

impl ReceiptScope {
    /// What an answer sealed under this scope and `key` is bound to (the
    /// cipher's associated data), from the scope and the key alone: how
    /// receipts are stored can change without locking sealed ones. The
    /// words are those the first sealed receipts were bound to, so they
    /// stay openable.
    pub fn sealing_context(&self, key: &IdempotencyKey) -> String {
        match self {
            Self::Account(owner) => format!("ACCOUNT {owner}/KEY#{}", key.to_hex()),
            Self::Rotation(old) => format!("SECRET#{}/ROTATION#{}", old.to_hex(), key.to_hex()),
        }
    }
}

/// An answer as stored: readable, or sealed for the old token's holder.
#[derive(Clone, PartialEq, Eq)]
pub enum Recorded {
    Plain(Answer),
    /// Nonce, then AES-256-GCM ciphertext and tag, of the answer as JSON.
    Sealed(Vec<u8>),
}

impl fmt::Debug for Recorded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Plain(answer) => f.debug_tuple("Plain").field(answer).finish(),
            Self::Sealed(_) => f.write_str("Sealed([..])"),
        }
    }
}

/// What a completed write leaves for its retries, written in the same
/// transaction as the write itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    pub scope: ReceiptScope,
    pub key: IdempotencyKey,
    pub fingerprint: Fingerprint,
    pub answer: Recorded,
    pub expires_at: Timestamp,
}

/// Why a sealed answer could not be made or read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("sealed receipt: {0}")]
pub struct SealError(&'static str);

/// The AEAD key for a rotation receipt: HKDF-SHA256 of the old token,
/// salted with the idempotency key's hash, so each (token, key) pair has its
/// own key and nothing stored derives it.
fn sealing_key(old: &PlainSecret, key: &IdempotencyKey) -> Result<LessSafeKey, SealError> {
    let prk = Salt::new(HKDF_SHA256, &key.0).extract(old.expose().as_bytes());
    let okm = prk
        .expand(&[b"app-upgrade rotation receipt v1"], &AES_256_GCM)
        .map_err(|_| SealError("key derivation failed"))?;
    Ok(LessSafeKey::new(UnboundKey::from(okm)))
}

/// Seals `answer` for the holder of `old`. `context` (the record's key) is
/// bound as associated data, so a sealed answer cannot be moved to another
/// record.
pub fn seal(
    answer: &Answer,
    old: &PlainSecret,
    key: &IdempotencyKey,
    context: &[u8],
) -> Result<Vec<u8>, SealError> {
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|_| SealError("no randomness"))?;
    let mut sealed = serde_json::to_vec(answer).map_err(|_| SealError("unserializable"))?;
    sealing_key(old, key)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(context),
            &mut sealed,
        )
        .map_err(|_| SealError("encryption failed"))?;
    let mut out = nonce.to_vec();
    out.append(&mut sealed);
    Ok(out)
}

/// Opens what [`seal`] made; an error for any other token, key or context.
pub fn open(
    sealed: &[u8],
    old: &PlainSecret,
    key: &IdempotencyKey,
    context: &[u8],
) -> Result<Answer, SealError> {
    let (nonce, ciphertext) = sealed
        .split_at_checked(NONCE_LEN)
        .ok_or(SealError("too short"))?;
    let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError("bad nonce"))?;
    let mut buffer = ciphertext.to_vec();
    let plain = sealing_key(old, key)?
        .open_in_place(nonce, Aad::from(context), &mut buffer)
        .map_err(|_| SealError("does not open with this token"))?;
    serde_json::from_slice(plain).map_err(|_| SealError("unreadable"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SecretKind;

    #[test]
    fn the_sealing_context_is_the_scope_and_key_in_fixed_words() {
        let key = IdempotencyKey::parse(b"rotate-1").expect("valid");
        let hash = |_| {
            crate::domain::PlainSecret::generate(SecretKind::Pat)
                .expect("randomness")
                .hash()
        };
        let (old, other) = (hash(1), hash(2));
        let context = ReceiptScope::Rotation(old).sealing_context(&key);
        // What rotation receipts sealed before were bound to.
        assert_eq!(
            context,
            format!("SECRET#{}/ROTATION#{}", old.to_hex(), key.to_hex())
        );
        assert_ne!(context, ReceiptScope::Rotation(other).sealing_context(&key));
        let owner = UserId::parse("user-1").expect("valid");
        assert_ne!(context, ReceiptScope::Account(owner).sealing_context(&key));
    }

    #[test]
    fn keys_parse_bare_or_quoted_and_hash() {
        let bare = IdempotencyKey::parse(b"abc 123").expect("valid");
        assert_eq!(bare, IdempotencyKey::parse(b"\"abc 123\"").expect("valid"));
        assert_ne!(bare, IdempotencyKey::parse(b"abc-124").expect("valid"));
        assert!(IdempotencyKey::parse(b"\"\"").is_ok(), "two quotes, a key");
        for bad in [
            &b""[..],
            b" a",
            b"a ",
            b"caf\xc3\xa9",
            b"a\tb",
            &[b'k'; 256],
        ] {
            assert!(IdempotencyKey::parse(bad).is_err(), "{bad:?}");
        }
        assert!(IdempotencyKey::parse(&[b'k'; 255]).is_ok());
    }

    #[test]
    fn fingerprints_separate_their_parts() {
        assert_ne!(
            Fingerprint::of("POST", "/a", b"b"),
            Fingerprint::of("POST", "/ab", b"")
        );
        assert_eq!(
            Fingerprint::of("PATCH", "/a", b"{}"),
            Fingerprint::of("PATCH", "/a", b"{}")
        );
        let f = Fingerprint::of("DELETE", "/x", b"");
        assert_eq!(Fingerprint::from_hex(&f.to_hex()), Some(f));
    }

    #[test]
    fn a_sealed_answer_opens_only_with_its_token_key_and_context() {
        let old = PlainSecret::generate(SecretKind::Pat).expect("randomness");
        let other = PlainSecret::generate(SecretKind::Pat).expect("randomness");
        let key = IdempotencyKey::parse(b"k1").expect("valid");
        let answer = Answer {
            status: 201,
            location: None,
            body: format!("{{\"token\":\"{}\"}}", other.expose()),
        };
        let sealed = seal(&answer, &old, &key, b"ctx").expect("sealed");
        let text = String::from_utf8_lossy(&sealed);
        assert!(!text.contains(other.expose()));
        assert_eq!(open(&sealed, &old, &key, b"ctx"), Ok(answer));
        assert!(open(&sealed, &other, &key, b"ctx").is_err());
        let key2 = IdempotencyKey::parse(b"k2").expect("valid");
        assert!(open(&sealed, &old, &key2, b"ctx").is_err());
        assert!(open(&sealed, &old, &key, b"elsewhere").is_err());
        assert!(open(&sealed[..5], &old, &key, b"ctx").is_err());
    }
}
