//! `aau token rotate`: a new secret for the token in use, written where the
//! caller asked and nowhere else.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::Value;
use ureq::http::Method;

use crate::failure::Failure;
use crate::http::{Client, random_key};

/// Where the new secret goes: a file created 0600, or (`-`) stdout.
pub fn rotate(client: &Client, out: &Path, key: Option<String>) -> Result<Value, Failure> {
    // The file is made before the rotation: once the server has rotated, the
    // old secret is revoked, so failing to store the new one then would lock
    // the caller out.
    let mut target = if out.as_os_str() == "-" {
        None
    } else {
        Some(Staged::create(out)?)
    };
    let key = key.map_or_else(random_key, Ok)?;
    let mut issued = client
        .send(
            Method::POST,
            "/api/v1/account/tokens/self/rotate",
            None,
            Some(&key),
        )?
        .expect("rotate token", &[201])?;
    let secret = match issued.as_object_mut().and_then(|o| o.remove("token")) {
        Some(Value::String(secret)) => secret,
        _ => return Err(Failure::error("rotate token: the answer carries no token")),
    };
    match target.take() {
        Some(staged) => staged.commit(&secret)?,
        None => println!("{secret}"),
    }
    eprintln!(
        "aau: token {} rotated; the previous secret is revoked",
        issued["id"].as_str().unwrap_or("?")
    );
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
