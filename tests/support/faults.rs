//! Fault injection for `tests/faults.rs`: an emulator process of the test's
//! own that can be frozen, a TCP proxy in front of it that can refuse and
//! reset connections, a store wired through them, and the table scans that
//! prove no transaction was left half-applied.
//!
//! moto keeps its data in memory, so really restarting it would lose
//! everything; both injectors keep the data. Neither ever touches the shared
//! emulator on `AWS_ENDPOINT_URL_DYNAMODB`: other tests run against it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use app_upgrade::Config;
use app_upgrade::domain::{AppName, Environment, Platform, ProjectId, SecretHash, TokenId, UserId};
use app_upgrade::store::DynamoStore;
use app_upgrade::store::dynamo::load_sdk_config;
use app_upgrade::store::keys;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A local DynamoDB of the test's own on a free port (the same launcher as
/// `infra/scripts/emulator.sh`), killed when dropped
/// (also when the test panics, frozen or not).
pub struct Emulator {
    child: Child,
    addr: SocketAddr,
}

impl Emulator {
    /// Starts it and waits until it listens. Needs the project's `.venv`
    /// (`infra/scripts/bootstrap.sh`, which `make test` runs).
    pub async fn start() -> Self {
        let addr = free_addr();
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let child = Command::new(format!("{root}/.venv/bin/python"))
            .arg(format!("{root}/infra/scripts/moto_serialized.py"))
            .args(["-H", "127.0.0.1", "-p", &addr.port().to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start the emulator ({e}): run infra/scripts/bootstrap.sh first")
            });
        let mut emulator = Self { child, addr };
        // Python start-up takes a second or two; once the port accepts, moto
        // serves whatever is queued.
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(addr).await.is_err() {
            if let Ok(Some(status)) = emulator.child.try_wait() {
                panic!("the emulator exited during start-up: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "the emulator did not listen on {addr} within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        emulator
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// SIGSTOP: the kernel still accepts connections and buffers requests,
    /// but nothing answers — DynamoDB hanging.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// SIGCONT: it answers again, and serves what was queued meanwhile.
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill {signal} {}", self.child.id());
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        // SIGKILL works on a stopped process too.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nobody listens on right now.
fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free local port")
}

/// A TCP proxy on a fixed local port in front of `upstream`. [`Proxy::stop`]
/// closes the port and resets every open connection, as a DynamoDB endpoint
/// that went away would; [`Proxy::resume`] listens on the same port again.
pub struct Proxy {
    addr: SocketAddr,
    upstream: SocketAddr,
    running: Mutex<Option<Running>>,
    accepted: Arc<AtomicUsize>,
}

struct Running {
    accept: JoinHandle<()>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let proxy = Self {
            addr,
            upstream,
            running: Mutex::new(None),
            accepted: Arc::default(),
        };
        proxy.serve(listener);
        proxy
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far: proof that traffic goes through here.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Closes the port (new connections are refused) and resets every open
    /// connection. Returns once all of it is done.
    pub async fn stop(&self) {
        let running = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(running) = running else { return };
        running.accept.abort();
        let _ = running.accept.await;
        let connections = std::mem::take(
            &mut *running
                .connections
                .lock()
                .unwrap_or_else(PoisonError::into_inner),
        );
        for connection in &connections {
            connection.abort();
        }
        for connection in connections {
            let _ = connection.await;
        }
    }

    /// Listens on the same port again.
    pub async fn resume(&self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let listener = loop {
            match TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(e) if Instant::now() < deadline => {
                    tracing::debug!(error = %e, "proxy port not free yet");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
    }

    fn serve(&self, listener: TcpListener) {
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let upstream = self.upstream;
        let accepted = self.accepted.clone();
        let tracked = connections.clone();
        let accept = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                accepted.fetch_add(1, Ordering::SeqCst);
                let connection = tokio::spawn(pipe(client, upstream));
                let mut open = tracked.lock().unwrap_or_else(PoisonError::into_inner);
                open.retain(|c| !c.is_finished());
                open.push(connection);
            }
        });
        *self.running.lock().unwrap_or_else(PoisonError::into_inner) = Some(Running {
            accept,
            connections,
        });
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(running) = self
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            running.accept.abort();
            for connection in running
                .connections
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .iter()
            {
                connection.abort();
            }
        }
    }
}

/// One proxied connection. Zero linger: when the proxy stops, dropping the
/// sockets sends RST, so both sides see a reset, not a clean close.
async fn pipe(mut client: TcpStream, upstream: SocketAddr) {
    let _ = client.set_zero_linger();
    let Ok(mut server) = TcpStream::connect(upstream).await else {
        return;
    };
    let _ = server.set_zero_linger();
    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
}

/// A store with the functions' SDK configuration (timeouts, retries), on
/// fresh tables at `endpoint`. The endpoint is set on the DynamoDB client
/// itself, the one place that overrides `AWS_ENDPOINT_URL_DYNAMODB`, so
/// nothing can silently reach the shared emulator instead.
pub async fn store_at(endpoint: &str) -> DynamoStore {
    let sdk = load_sdk_config().await;
    let client = Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&sdk)
            .endpoint_url(endpoint)
            .build(),
    );
    let run = ulid::Ulid::new().to_string().to_lowercase();
    let config = Config {
        versions_table: format!("faults-{run}-versions"),
        tokens_table: format!("faults-{run}-tokens"),
    };
    let store = DynamoStore::new(client, &config);
    let created = store.create_tables().await.expect("create test tables");
    assert_eq!(created.len(), 2, "tables must be new");
    store
}

/// How long one DynamoDB call may take, retries included, as the functions
/// configure it.
pub async fn operation_timeout() -> Duration {
    load_sdk_config()
        .await
        .timeout_config()
        .and_then(|t| t.operation_timeout())
        .expect("load_sdk_config sets an operation timeout")
}

type Item = HashMap<String, AttributeValue>;

/// Every item of `table`, strongly consistent.
pub async fn scan(client: &Client, table: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut start = None;
    loop {
        let page = client
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        items.extend(page.items.unwrap_or_default());
        start = page.last_evaluated_key;
        if start.is_none() {
            return items;
        }
    }
}

fn text<'a>(item: &'a Item, name: &str) -> &'a str {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map_or("", String::as_str)
}

/// What a consistency scan found: item counts, and every broken pairing.
#[derive(Debug, Default)]
pub struct Consistency {
    pub counts: HashMap<&'static str, usize>,
    pub violations: Vec<String>,
}

impl Consistency {
    fn count(&mut self, what: &'static str) {
        *self.counts.entry(what).or_default() += 1;
    }

    fn violation(&mut self, message: String) {
        self.violations.push(message);
    }
}

/// The versions table: every `VERSION#` item has the one `IDENTITY#` item
/// its fields name, pointing back at it, and every identity item points at
/// a version whose fields name it. Every event has its revision (they are
/// written together), and a version written through the API has the
/// revision of its current state.
pub async fn versions_consistency(store: &DynamoStore) -> Consistency {
    let mut found = Consistency::default();
    let items = scan(store.client(), store.versions_table()).await;
    let revisions: std::collections::HashSet<(&str, &str)> = items
        .iter()
        .map(|item| (text(item, keys::PK), text(item, keys::SK)))
        .filter(|(_, sk)| sk.starts_with("REVISION#"))
        .collect();
    let events = items
        .iter()
        .filter(|item| text(item, keys::SK).starts_with(keys::EVENT_PREFIX))
        .count();
    found.counts.insert("events", events);
    found.counts.insert("revisions", revisions.len());
    if events != revisions.len() {
        found.violation(format!(
            "{events} events but {} revisions: a write without its record",
            revisions.len()
        ));
    }
    for item in &items {
        let (pk, sk) = (text(item, keys::PK), text(item, keys::SK));
        let Some(id) = sk.strip_prefix(keys::VERSION_PREFIX) else {
            continue;
        };
        let recorded = revisions
            .iter()
            .any(|(p, s)| *p == pk && s.starts_with(&format!("REVISION#{id}#")));
        let revision: u64 = item
            .get("revision")
            .and_then(|v| v.as_n().ok())
            .and_then(|n| n.parse().ok())
            .unwrap_or(u64::MAX);
        let current = format!("REVISION#{id}#{revision:020}");
        if recorded && !revisions.contains(&(pk, current.as_str())) {
            found.violation(format!(
                "version {id} at revision {revision} has no record of it"
            ));
        }
    }
    // (pk, sk) → versionId of each identity item.
    let mut identities: HashMap<(String, String), String> = HashMap::new();
    // (pk, versionId) → the identity sk the version's fields name.
    let mut versions: HashMap<(String, String), String> = HashMap::new();
    for item in &items {
        let (pk, sk) = (text(item, keys::PK), text(item, keys::SK));
        if sk.starts_with("IDENTITY#") {
            found.count("identities");
            identities.insert(
                (pk.to_owned(), sk.to_owned()),
                text(item, "versionId").to_owned(),
            );
        } else if let Some(id) = sk.strip_prefix(keys::VERSION_PREFIX) {
            found.count("versions");
            match identity_of(item) {
                Ok(identity) if identity.pk == pk => {
                    versions.insert((pk.to_owned(), id.to_owned()), identity.sk);
                }
                Ok(identity) => found.violation(format!(
                    "version {id} is stored under {pk} but belongs to {}",
                    identity.pk
                )),
                Err(e) => found.violation(format!("version {id} has unreadable fields: {e}")),
            }
        }
    }
    for ((pk, id), identity_sk) in &versions {
        match identities.get(&(pk.clone(), identity_sk.clone())) {
            Some(holder) if holder == id => {}
            Some(holder) => found.violation(format!(
                "version {id}: its identity {identity_sk} names version {holder}"
            )),
            None => found.violation(format!("version {id} has no identity item {identity_sk}")),
        }
    }
    for ((pk, sk), id) in &identities {
        match versions.get(&(pk.clone(), id.clone())) {
            Some(identity_sk) if identity_sk == sk => {}
            Some(identity_sk) => found.violation(format!(
                "identity {sk} names version {id}, whose fields name {identity_sk}"
            )),
            None => found.violation(format!("identity {sk} names a missing version {id}")),
        }
    }
    found
}

/// The identity key a stored version's fields name.
fn identity_of(item: &Item) -> Result<keys::Key, String> {
    let project = ProjectId::parse(text(item, "projectId")).map_err(|e| format!("{e:?}"))?;
    let app_name = AppName::parse(text(item, "appName")).map_err(|e| format!("{e:?}"))?;
    let platform = Platform::parse(text(item, "platform")).map_err(|e| format!("{e:?}"))?;
    let environment =
        Environment::parse(text(item, "environment")).map_err(|e| format!("{e:?}"))?;
    Ok(keys::version_identity(
        &project,
        &app_name,
        text(item, "appVersion"),
        &platform,
        &environment,
    ))
}

/// The tokens table: every PAT credential (`SECRET#`) has its account entry
/// (`ACCOUNT#…/TOKEN#…`) naming its hash and its name lock naming its id;
/// every account entry has its credential; every name lock names a token
/// that exists. (No token in these tests expires, so no lock may dangle.)
pub async fn tokens_consistency(store: &DynamoStore) -> Consistency {
    let mut found = Consistency::default();
    let items = scan(store.client(), store.tokens_table()).await;
    let by_key: HashMap<(&str, &str), &Item> = items
        .iter()
        .map(|item| ((text(item, keys::PK), text(item, keys::SK)), item))
        .collect();
    let get = |key: &keys::Key| by_key.get(&(key.pk.as_str(), key.sk.as_str())).copied();
    for item in &items {
        let (pk, sk) = (text(item, keys::PK), text(item, keys::SK));
        if let Some(hex) = pk.strip_prefix("SECRET#") {
            match text(item, "kind") {
                "pat" => {}
                // A rotated-away secret: nothing else refers to it.
                "rotated" => {
                    found.count("rotated secrets");
                    continue;
                }
                _ => {
                    found.count("api keys");
                    continue;
                }
            }
            found.count("pat credentials");
            let token = text(item, "tokenId");
            let (Ok(owner), Ok(token_id)) =
                (UserId::parse(text(item, "owner")), TokenId::parse(token))
            else {
                found.violation(format!("credential of token {token} has unreadable fields"));
                continue;
            };
            match get(&keys::account_token(&owner, &token_id)) {
                Some(entry) if text(entry, "secretHash") == hex => {}
                Some(_) => found.violation(format!(
                    "token {token}: its account entry names another credential"
                )),
                None => found.violation(format!("token {token} has no account entry")),
            }
            match get(&keys::token_name_lock(&owner, text(item, "name"))) {
                Some(lock) if text(lock, "tokenId") == token => {}
                Some(lock) => found.violation(format!(
                    "token {token}: its name lock names token {}",
                    text(lock, "tokenId")
                )),
                None => found.violation(format!("token {token} has no name lock")),
            }
        } else if let Some(token) = sk.strip_prefix(keys::ACCOUNT_TOKEN_PREFIX) {
            found.count("account entries");
            let credential = SecretHash::from_hex(text(item, "secretHash"))
                .and_then(|hash| get(&keys::secret(&hash)));
            match credential {
                Some(secret) if text(secret, "tokenId") == token => {}
                Some(_) => found.violation(format!(
                    "account entry of token {token} names another token's credential"
                )),
                None => {
                    found.violation(format!("account entry of token {token} has no credential"))
                }
            }
        } else if sk.starts_with("TOKENNAME#") {
            found.count("name locks");
            let token = text(item, "tokenId");
            let entry = format!("{}{token}", keys::ACCOUNT_TOKEN_PREFIX);
            if !by_key.contains_key(&(pk, entry.as_str())) {
                found.violation(format!("name lock {sk} names a missing token {token}"));
            }
        }
    }
    found
}
