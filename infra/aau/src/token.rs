//! `aau token rotate`: a new secret for the token in use, written where the
//! caller asked and nowhere else.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};
use ureq::http::Method;

use crate::failure::Failure;
use crate::http::{Client, Secret, random_key};
use crate::say::{clean, say, warn};

/// Which `Idempotency-Key` a rotation is sent with.
#[derive(Debug)]
pub enum RotationKey {
    /// A fresh random key: a lost answer can be got again only by this
    /// invocation's own retries.
    Random,
    /// The caller's own (`--idempotency-key`): unguessable, or a thief
    /// holding the old secret can get the new one with it.
    Given(String),
    /// `--run-id`: derived from the run id and a second CI secret
    /// (`APP_UPGRADE_ROTATION_SECRET`), so a re-run of the same CI run sends
    /// the same key and nobody without that secret can compute it.
    Run { id: String, secret: Secret },
}

/// The variable holding the second CI secret `--run-id` derives keys with.
pub const ROTATION_SECRET: &str = "APP_UPGRADE_ROTATION_SECRET";
/// A key-derivation secret shorter than this is refused: it must not be
/// guessable either.
const MIN_ROTATION_SECRET: usize = 32;

impl RotationKey {
    pub fn from_args(key: Option<String>, run_id: Option<String>) -> Result<Self, Failure> {
        match (key, run_id) {
            (Some(_), Some(_)) => Err(Failure::usage(
                "give --idempotency-key or --run-id, not both",
            )),
            (Some(key), None) => Ok(Self::Given(key)),
            (None, None) => Ok(Self::Random),
            (None, Some(id)) if id.trim().is_empty() => Err(Failure::usage("--run-id is empty")),
            (None, Some(id)) => {
                let secret = Secret::from_env(ROTATION_SECRET)?.ok_or_else(|| {
                    Failure::usage(format!(
                        "--run-id needs {ROTATION_SECRET}: a second CI secret, e.g. from `openssl rand -hex 32`"
                    ))
                })?;
                if secret.expose().len() < MIN_ROTATION_SECRET {
                    return Err(Failure::usage(format!(
                        "{ROTATION_SECRET} is too short: use at least {MIN_ROTATION_SECRET} random characters"
                    )));
                }
                Ok(Self::Run {
                    id: id.trim().to_owned(),
                    secret,
                })
            }
        }
    }

    fn key(self) -> Result<String, Failure> {
        match self {
            Self::Random => random_key(),
            Self::Given(key) => Ok(key),
            Self::Run { id, secret } => Ok(run_key(&secret, &id)),
        }
    }
}

/// `aau-rotate-` and 128 bits of HMAC-SHA256(secret, run id), hex: the same
/// for every re-run of one CI run, unknowable without the secret.
fn run_key(secret: &Secret, run_id: &str) -> String {
    let mac = hmac_sha256(
        secret.expose().as_bytes(),
        format!("aau token rotate\0{run_id}").as_bytes(),
    );
    format!("aau-rotate-{}", hex::encode(&mac[..16]))
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.map(|b| b ^ byte);
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Whether `token` is a Personal Access Token as the server issues them:
/// `aau_`, 32 base62 characters and their CRC32 in 6 base62 characters.
/// Nothing else is written where a pipeline keeps its secret.
pub fn is_pat(token: &str) -> bool {
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let Some(body) = token.strip_prefix("aau_") else {
        return false;
    };
    if body.len() != 38 || !body.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (random, check) = body.as_bytes().split_at(32);
    let mut n = crc32fast::hash(random);
    let mut expected = [b'0'; 6];
    for slot in expected.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    expected == check
}

/// Where the new secret goes: a file created 0600, or (`-`) stdout.
pub fn rotate(client: &Client, out: &Path, key: RotationKey) -> Result<Value, Failure> {
    // The file is made before the rotation: once the server has rotated, the
    // old secret is revoked, so failing to store the new one then would lock
    // the caller out.
    let mut target = if out.as_os_str() == "-" {
        None
    } else {
        Some(Staged::create(out)?)
    };
    let key = key.key()?;
    let answer = client.send(
        Method::POST,
        "/api/v1/account/tokens/self/rotate",
        None,
        Some(&key),
    )?;
    // A replay to a retry is this run's own answer coming back; to the
    // first attempt, it is an earlier rotation's with the same key.
    let replayed_first = answer.replayed && answer.first_attempt;
    let mut issued = answer.expect("rotate token", &[201])?;
    let secret = match issued.as_object_mut().and_then(|o| o.remove("token")) {
        Some(Value::String(secret)) if is_pat(&secret) => secret,
        Some(_) => {
            return Err(Failure::error(
                "rotate token: the answer's token is not a well-formed aau_ token; nothing was written",
            ));
        }
        None => return Err(Failure::error("rotate token: the answer carries no token")),
    };
    let id = clean(issued["id"].as_str().unwrap_or("?"));
    if replayed_first {
        warn(&format!(
            "the first attempt of this rotation was answered as a replay: token {id} was \
             already rotated with this Idempotency-Key. Expected on a re-run of the same CI \
             run; otherwise someone else holding the old secret and this key rotated it: \
             revoke the token"
        ));
    }
    match target.take() {
        Some(staged) => staged.commit(&secret)?,
        None => {
            let mut stdout = std::io::stdout().lock();
            writeln!(stdout, "{secret}")
                .and_then(|()| stdout.flush())
                .map_err(|e| {
                    Failure::error(format!(
                        "the token was rotated but could not be written to stdout: {e}; \
                         the same command with the same key gets it again until it is used"
                    ))
                })?;
        }
    }
    say(&format!(
        "token {id} rotated; the previous secret is revoked"
    ));
    // Its id, name, scopes and dates: what may show in a log.
    Ok(issued)
}

/// A file beside the target, created 0600 and renamed over it once written,
/// so the target never holds half a token nor is readable by others.
struct Staged {
    file: File,
    temp: PathBuf,
    target: PathBuf,
    /// The temporary file holds the secret: never deleted then.
    written: bool,
}

impl Staged {
    fn create(target: &Path) -> Result<Self, Failure> {
        let mut name = target.file_name().unwrap_or_default().to_os_string();
        name.push(format!(".aau-{}.tmp", std::process::id()));
        let temp = target.with_file_name(name);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&temp)
            .map_err(|e| Failure::usage(format!("--out {}: {e}", target.display())))?;
        Ok(Self {
            file,
            temp,
            target: target.to_owned(),
            written: false,
        })
    }

    fn commit(mut self, secret: &str) -> Result<(), Failure> {
        let failed = |e: std::io::Error, holder: &Path| {
            Failure::error(format!(
                "the token was rotated but could not be written to {}: {e}; the new token is in {}",
                self.target.display(),
                holder.display()
            ))
        };
        writeln!(self.file, "{secret}")
            .and_then(|()| self.file.sync_all())
            .map_err(|e| failed(e, Path::new("no file")))?;
        self.written = true;
        std::fs::rename(&self.temp, &self.target).map_err(|e| failed(e, &self.temp))
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.written {
            let _ = std::fs::remove_file(&self.temp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_sha256_matches_rfc_4231() {
        // Test case 2.
        assert_eq!(
            hex::encode(hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Test case 6: a key longer than the block.
        assert_eq!(
            hex::encode(hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn a_run_key_needs_the_secret_and_is_stable_per_run() {
        let secret = |s: &str| Secret::parse("test", s.to_owned()).expect("valid");
        let a = run_key(&secret("0123456789abcdef0123456789abcdef"), "4242");
        assert_eq!(
            a,
            run_key(&secret("0123456789abcdef0123456789abcdef"), "4242")
        );
        assert!(a.starts_with("aau-rotate-") && a.len() == 11 + 32, "{a}");
        assert_ne!(
            a,
            run_key(&secret("0123456789abcdef0123456789abcdeX"), "4242")
        );
        assert_ne!(
            a,
            run_key(&secret("0123456789abcdef0123456789abcdef"), "4243")
        );
        assert!(!a.contains("4242"));
    }

    #[test]
    fn only_well_formed_tokens_pass() {
        // A token the server issued (checksum computed by the shared crate).
        let good = "aau_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let mut n = crc32fast::hash(&[b'a'; 32]);
        let alphabet = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut check = [b'0'; 6];
        for slot in check.iter_mut().rev() {
            *slot = alphabet[(n % 62) as usize];
            n /= 62;
        }
        let good = format!("{good}{}", std::str::from_utf8(&check).expect("ascii"));
        assert!(is_pat(&good));
        let mut bad_check = good.clone();
        bad_check.replace_range(41.., if good.ends_with('0') { "1" } else { "0" });
        for bad in [
            bad_check.as_str(),
            &good[..41],
            &good.replacen("aau_", "aak_", 1),
            &format!("{good}\n::warning::x"),
            "aau_\u{1b}[2J",
            "",
        ] {
            assert!(!is_pat(bad), "{bad:?}");
        }
    }
}
