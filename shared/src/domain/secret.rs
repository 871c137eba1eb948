//! Secrets: Personal Access Tokens (`aau_…`) and project API keys (`aak_…`).
//!
//! Both share one format: a prefix, 32 base62 characters from the OS CSPRNG
//! and 6 base62 characters of the CRC32 of the random part. The checksum lets
//! us (and secret scanners) reject a mistyped or invented secret without any
//! I/O. Only the SHA-256 of the whole secret is ever stored; it is the lookup
//! key. The plaintext lives in [`PlainSecret`], whose `Debug` is redacted.

use std::fmt;

use sha2::{Digest, Sha256};

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LEN: usize = 32;
const CHECKSUM_LEN: usize = 6;
const PREFIX_LEN: usize = 4;
/// Length of every secret: prefix + random part + checksum.
pub const SECRET_LEN: usize = PREFIX_LEN + RANDOM_LEN + CHECKSUM_LEN;

/// Which kind of secret; the prefix says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// Personal Access Token, `Authorization: Bearer aau_…`.
    Pat,
    /// Project API key, `x-api-key: aak_…`.
    ApiKey,
}

impl SecretKind {
    pub const fn prefix(self) -> &'static str {
        match self {
            Self::Pat => "aau_",
            Self::ApiKey => "aak_",
        }
    }
}

/// Why a string is not a well-formed secret. Deliberately carries no part of
/// the input, so it can be logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MalformedSecret {
    #[error("wrong prefix")]
    Prefix,
    #[error("wrong length")]
    Length,
    #[error("characters outside base62")]
    Alphabet,
    #[error("checksum mismatch")]
    Checksum,
}

/// A secret in plaintext: shown once at creation, otherwise only parsed from
/// a request and hashed straight away.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainSecret {
    kind: SecretKind,
    value: String,
}

impl fmt::Debug for PlainSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PlainSecret({}[redacted])", self.kind.prefix())
    }
}

impl PlainSecret {
    /// A fresh secret from the OS CSPRNG.
    pub fn generate(kind: SecretKind) -> Result<Self, getrandom::Error> {
        let mut value = String::with_capacity(SECRET_LEN);
        value.push_str(kind.prefix());
        let mut filled = 0;
        let mut buf = [0u8; 64];
        while filled < RANDOM_LEN {
            getrandom::fill(&mut buf)?;
            // Rejection sampling keeps every character equally likely:
            // 248 = 4 * 62 is the largest multiple of 62 below 256.
            for &b in buf.iter().filter(|&&b| b < 248) {
                if filled == RANDOM_LEN {
                    break;
                }
                value.push(char::from(ALPHABET[usize::from(b % 62)]));
                filled += 1;
            }
        }
        let checksum = checksum(&value.as_bytes()[PREFIX_LEN..]);
        value.push_str(std::str::from_utf8(&checksum).unwrap_or_default());
        Ok(Self { kind, value })
    }

    /// Checks prefix, length, alphabet and checksum; no I/O.
    pub fn parse(kind: SecretKind, input: &str) -> Result<Self, MalformedSecret> {
        let bytes = input.as_bytes();
        if !input.starts_with(kind.prefix()) {
            return Err(MalformedSecret::Prefix);
        }
        if bytes.len() != SECRET_LEN {
            return Err(MalformedSecret::Length);
        }
        let body = &bytes[PREFIX_LEN..];
        if !body.iter().all(u8::is_ascii_alphanumeric) {
            return Err(MalformedSecret::Alphabet);
        }
        let (random, check) = body.split_at(RANDOM_LEN);
        if checksum(random) != check {
            return Err(MalformedSecret::Checksum);
        }
        Ok(Self {
            kind,
            value: input.to_owned(),
        })
    }

    /// The plaintext, for the one response that shows it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    pub fn hash(&self) -> SecretHash {
        SecretHash(Sha256::digest(self.value.as_bytes()).into())
    }

    /// `aau_…Xy12`: enough for a person to tell tokens apart, useless to an
    /// attacker (4 of 38 random characters).
    pub fn hint(&self) -> String {
        format!(
            "{}…{}",
            self.kind.prefix(),
            &self.value[SECRET_LEN - HINT_SUFFIX_LEN..]
        )
    }
}

/// Characters of the secret's tail that a hint shows.
pub const HINT_SUFFIX_LEN: usize = 4;

/// SHA-256 of a secret: the lookup key of its credential item.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn from_hex(hex_str: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex_str, &mut out).ok()?;
        Some(Self(out))
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A hash is not the secret, but it is a lookup key: keep it out of logs.
        f.write_str("SecretHash([redacted])")
    }
}

fn checksum(random: &[u8]) -> [u8; CHECKSUM_LEN] {
    let mut n = crc32fast::hash(random);
    let mut out = [b'0'; CHECKSUM_LEN];
    // 62^6 > 2^32, so six digits always hold the whole CRC.
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> PlainSecret {
        PlainSecret::generate(SecretKind::Pat).expect("OS randomness")
    }

    #[test]
    fn generated_tokens_have_the_spec_format() {
        let t = token();
        let s = t.expose();
        assert_eq!(s.len(), 42);
        assert!(s.starts_with("aau_"));
        assert!(s[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(PlainSecret::parse(SecretKind::Pat, s), Ok(t.clone()));
    }

    #[test]
    fn generated_tokens_differ() {
        assert_ne!(token().expose(), token().expose());
    }

    #[test]
    fn checksum_is_crc32_in_base62() {
        // CRC32("aaaa…a" x32) computed independently, then base62-encoded.
        let random = [b'a'; RANDOM_LEN];
        let crc = crc32fast::hash(&random);
        let mut n = u64::from(crc);
        let mut digits = Vec::new();
        for _ in 0..CHECKSUM_LEN {
            digits.push(ALPHABET[(n % 62) as usize]);
            n /= 62;
        }
        digits.reverse();
        assert_eq!(checksum(&random).to_vec(), digits);
    }

    #[test]
    fn parse_rejects_each_kind_of_damage() {
        let good = token().expose().to_owned();
        let cases: Vec<(String, MalformedSecret)> = vec![
            (good.replacen("aau_", "aak_", 1), MalformedSecret::Prefix),
            (good.replacen("aau_", "AAU_", 1), MalformedSecret::Prefix),
            (format!("{good}x"), MalformedSecret::Length),
            (good[..41].to_owned(), MalformedSecret::Length),
            (String::new(), MalformedSecret::Prefix),
            (
                format!("{}-{}", &good[..10], &good[11..]),
                MalformedSecret::Alphabet,
            ),
            (
                format!("{}é{}", &good[..10], &good[12..]),
                MalformedSecret::Alphabet,
            ),
        ];
        for (input, want) in cases {
            assert_eq!(
                PlainSecret::parse(SecretKind::Pat, &input),
                Err(want),
                "{input:?}"
            );
        }
    }

    #[test]
    fn any_single_changed_character_fails_the_checksum() {
        let good = token().expose().to_owned();
        for i in PREFIX_LEN..SECRET_LEN {
            let mut bytes = good.clone().into_bytes();
            bytes[i] = if bytes[i] == b'Z' { b'Y' } else { b'Z' };
            let damaged = String::from_utf8(bytes).expect("ascii");
            assert_eq!(
                PlainSecret::parse(SecretKind::Pat, &damaged),
                Err(MalformedSecret::Checksum),
                "position {i}"
            );
        }
    }

    #[test]
    fn api_keys_are_not_tokens() {
        let key = PlainSecret::generate(SecretKind::ApiKey).expect("OS randomness");
        assert!(key.expose().starts_with("aak_"));
        assert_eq!(
            PlainSecret::parse(SecretKind::Pat, key.expose()),
            Err(MalformedSecret::Prefix)
        );
        assert!(PlainSecret::parse(SecretKind::ApiKey, key.expose()).is_ok());
    }

    #[test]
    fn hash_is_sha256_hex_of_the_whole_secret() {
        let t = token();
        let want = hex::encode(Sha256::digest(t.expose().as_bytes()));
        assert_eq!(t.hash().to_hex(), want);
        assert_eq!(SecretHash::from_hex(&want), Some(t.hash()));
    }

    #[test]
    fn debug_and_hint_never_show_the_secret() {
        let t = token();
        let s = t.expose();
        assert!(!format!("{t:?}").contains(&s[4..]));
        assert!(!format!("{:?}", t.hash()).contains(&t.hash().to_hex()));
        let hint = t.hint();
        assert_eq!(hint, format!("aau_…{}", &s[38..]));
    }

    proptest::proptest! {
        #[test]
        fn parse_accepts_only_well_formed_input(input in "\\PC{0,64}") {
            if let Ok(parsed) = PlainSecret::parse(SecretKind::Pat, &input) {
                proptest::prop_assert_eq!(parsed.expose(), input.as_str());
                proptest::prop_assert_eq!(input.len(), SECRET_LEN);
            }
        }
    }
}
