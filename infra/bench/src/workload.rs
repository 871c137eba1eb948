//! What each function is fed under load: seeded data in fresh emulator
//! tables, one API Gateway HTTP API (v2) event per function, and what a
//! correct answer to it looks like.

use std::sync::Arc;

use app_upgrade::Config;
use app_upgrade::domain::{
    ApiKeyRecord, IssuedPat, Name, PlainSecret, ProjectId, Scope, Scopes, SecretKind, TeamId,
    Timestamp, TokenId, UserId, VersionId, issue_pat,
};
use app_upgrade::store::{
    CredentialWriter, DirectoryStore, DynamoStore, Project, Team, VersionStore,
};
use serde_json::{Value, json};
use versions::body::{Intent, VersionFields};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// A team, its member, a project with an API key and one active version,
/// and a read PAT of the member: enough for a found check, a version read
/// and a token list.
pub struct Seeded {
    pub store: DynamoStore,
    pub team: TeamId,
    pub user: UserId,
    pub project: ProjectId,
    pub version: VersionId,
    pub api_key: PlainSecret,
    pub pat: PlainSecret,
    pub token: TokenId,
}

/// Refuses anything but a local emulator: the benches create and drop
/// tables.
pub fn require_local_emulator() -> Result<(), Error> {
    let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").unwrap_or_default();
    if !endpoint.starts_with("http://127.0.0.1") && !endpoint.starts_with("http://localhost") {
        return Err("run against the local emulator: . infra/scripts/local-env.sh".into());
    }
    Ok(())
}

/// Table names unique to this run, so a run never meets another's data.
pub fn fresh_tables() -> Config {
    let run = ulid::Ulid::new().to_string().to_lowercase();
    Config {
        versions_table: format!("bench-{run}-versions"),
        tokens_table: format!("bench-{run}-tokens"),
    }
}

/// What every bench seeds first: a team, its member, a project of the team
/// and a read PAT of the member.
pub struct Tenant {
    pub team: TeamId,
    pub user: UserId,
    pub project: ProjectId,
    pub pat: IssuedPat,
}

impl Tenant {
    /// Creates `store`'s tables and seeds the tenant in them.
    pub async fn seed(store: &DynamoStore, now: Timestamp) -> Result<Self, Error> {
        store.create_tables().await?;
        let team = TeamId::generate();
        store
            .create_team(&Team {
                id: team.clone(),
                name: Name::parse("Bench")?,
                created_at: now,
            })
            .await?;
        let user = UserId::parse("bench-user")?;
        store.add_member(&team, &user).await?;
        let project = ProjectId::generate();
        store
            .create_project(
                &Project::new(
                    project.clone(),
                    team.clone(),
                    Name::parse("Bench project")?,
                    now,
                ),
                None,
            )
            .await?;
        let scopes = Scopes::new([Scope::VersionsRead]).ok_or("no scopes")?;
        let pat = issue_pat(user.clone(), "bench".into(), scopes, 1, now)?;
        store.create_pat(&pat, None).await?;
        Ok(Self {
            team,
            user,
            project,
            pat,
        })
    }
}

/// The emulator keeps tables in memory: give the space back.
pub async fn drop_tables(store: &DynamoStore) -> Result<(), Error> {
    for table in [store.versions_table(), store.tokens_table()] {
        store
            .client()
            .delete_table()
            .table_name(table)
            .send()
            .await?;
    }
    Ok(())
}

impl Seeded {
    /// Creates fresh tables through the process environment's emulator
    /// endpoint and seeds them.
    pub async fn new() -> Result<Self, Error> {
        require_local_emulator()?;
        let store = DynamoStore::from_env(&fresh_tables()).await;
        let now = Timestamp::now();
        let tenant = Tenant::seed(&store, now).await?;
        let api_key = PlainSecret::generate(SecretKind::ApiKey)?;
        store
            .create_api_key(
                &api_key.hash(),
                &ApiKeyRecord {
                    project_id: tenant.project.clone(),
                    team_id: tenant.team.clone(),
                    created_at: now,
                },
            )
            .await?;
        let body = json!({
            "project": tenant.project.as_str(),
            "appName": "Wallpaper App",
            "appVersion": "1.0.0",
            "platform": "android",
            "environment": "production",
            "forceUpgrade": true,
            "message": "Please upgrade.",
            "messageLocale": {"fr": "Veuillez mettre à jour."},
        });
        let record = VersionFields::parse(&body, Intent::Create, &tenant.project)?
            .into_new_record(tenant.project.clone(), now);
        store.create_version(&record, None, None).await?;
        Ok(Self {
            store,
            team: tenant.team,
            user: tenant.user,
            project: tenant.project,
            version: record.id,
            api_key,
            pat: tenant.pat.secret,
            token: tenant.pat.record.token_id,
        })
    }

    /// The emulator keeps tables in memory: give the space back.
    pub async fn drop_tables(&self) -> Result<(), Error> {
        drop_tables(&self.store).await
    }

    pub fn config(&self) -> Config {
        Config {
            versions_table: self.store.versions_table().to_owned(),
            tokens_table: self.store.tokens_table().to_owned(),
        }
    }

    /// The load for `function`: its event and the check of each answer.
    pub fn workload(&self, function: &str) -> Option<Workload> {
        let check_event = || {
            apigw_event(
                "/api/v1/versions/check",
                &[
                    ("app_name", "Wallpaper App"),
                    ("app_version", "1.0.0"),
                    ("platform", "android"),
                    ("environment", "production"),
                    ("app_language", "fr"),
                ],
                &[("x-api-key", self.api_key.expose())],
                None,
            )
        };
        let (event, expect) = match function {
            "check" => (check_event(), Expect::CheckFound),
            "versions" => (
                apigw_event(
                    &format!(
                        "/api/v1/projects/{}/versions/{}",
                        self.project, self.version
                    ),
                    &[("teamId", self.team.as_str())],
                    &[("authorization", &format!("Bearer {}", self.pat.expose()))],
                    None,
                ),
                Expect::Version(self.version.to_string()),
            ),
            "tokens" => (
                apigw_event("/api/v1/account/tokens", &[], &[], Some(self.user.as_str())),
                Expect::TokenListed(self.token.to_string()),
            ),
            "hello-runtime" => (check_event(), Expect::Echo),
            "hello-http" => (check_event(), Expect::Hello),
            _ => return None,
        };
        Some(Workload {
            event: Arc::from(event.to_string().into_bytes()),
            expect,
        })
    }
}

pub struct Workload {
    pub event: Arc<[u8]>,
    pub expect: Expect,
}

/// What a correct answer is, per function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// 200 with `found: true` (the seeded version matched).
    CheckFound,
    /// 200 with the seeded version's id.
    Version(String),
    /// 200 with a `results` entry of the seeded token's id.
    TokenListed(String),
    /// The event itself (`hello-runtime`).
    Echo,
    /// 200 with body `hello` (`hello-http`).
    Hello,
}

impl Expect {
    /// `Err` with a short description when `response` (what the function
    /// posted to `…/response`) is not the expected answer to `event`.
    pub fn verify(&self, event: &[u8], response: &[u8]) -> Result<(), String> {
        let answer: Value = serde_json::from_slice(response)
            .map_err(|e| format!("response is not JSON ({e}): {}", snippet(response)))?;
        if *self == Expect::Echo {
            let event: Value = serde_json::from_slice(event).map_err(|e| e.to_string())?;
            return if answer == event {
                Ok(())
            } else {
                Err(format!("echo differs: {}", snippet(response)))
            };
        }
        if answer["statusCode"] != 200 {
            return Err(format!(
                "status {}: {}",
                answer["statusCode"],
                snippet(response)
            ));
        }
        let body = answer["body"].as_str().unwrap_or_default();
        if *self == Expect::Hello {
            return if body == "hello" {
                Ok(())
            } else {
                Err(format!("body is not hello: {}", snippet(response)))
            };
        }
        let body: Value = serde_json::from_str(body)
            .map_err(|e| format!("body is not JSON ({e}): {}", snippet(response)))?;
        let ok = match self {
            Expect::CheckFound => body["found"] == true,
            Expect::Version(id) => body["id"] == id.as_str(),
            Expect::TokenListed(id) => body["results"]
                .as_array()
                .is_some_and(|r| r.iter().any(|t| t["id"] == id.as_str())),
            Expect::Echo | Expect::Hello => true,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("unexpected body: {}", snippet(response)))
        }
    }
}

fn snippet(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    text.chars().take(300).collect()
}

/// An API Gateway HTTP API (payload 2.0) `GET` event; `sub` adds the JWT
/// authorizer's claims.
fn apigw_event(
    path: &str,
    query: &[(&str, &str)],
    headers: &[(&str, &str)],
    sub: Option<&str>,
) -> Value {
    let raw_query = query
        .iter()
        .map(|(k, v)| format!("{k}={}", v.replace(' ', "+")))
        .collect::<Vec<_>>()
        .join("&");
    let mut all_headers = json!({
        "accept": "application/json",
        "host": "bench.execute-api.us-east-1.amazonaws.com",
        "user-agent": "aau-bench",
        "x-forwarded-for": "203.0.113.7",
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    });
    for (name, value) in headers {
        all_headers[*name] = json!(value);
    }
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "bench",
            "domainName": "bench.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "bench",
            "http": {
                "method": "GET",
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "203.0.113.7",
                "userAgent": "aau-bench"
            },
            "requestId": "bench",
            "routeKey": "$default",
            "stage": "$default",
            "time": "30/Nov/2026:10:00:00 +0000",
            "timeEpoch": 1796032800000_u64
        },
        "isBase64Encoded": false
    });
    if !query.is_empty() {
        event["queryStringParameters"] = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), json!(v)))
            .collect::<serde_json::Map<_, _>>()
            .into();
    }
    if let Some(sub) = sub {
        event["requestContext"]["authorizer"] = json!({
            "jwt": {"claims": {"sub": sub, "token_use": "id"}, "scopes": null}
        });
    }
    event
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a panic is the test failing
mod tests {
    use super::*;

    fn lambda_response(status: u16, body: &str) -> Vec<u8> {
        json!({"statusCode": status, "headers": {}, "body": body, "isBase64Encoded": false})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn verifies_each_kind_of_answer() {
        let event = br#"{"a":1}"#;
        let found = lambda_response(200, r#"{"found":true}"#);
        assert_eq!(Expect::CheckFound.verify(event, &found), Ok(()));
        let not_found = lambda_response(200, r#"{"found":false}"#);
        assert!(Expect::CheckFound.verify(event, &not_found).is_err());
        let unauthorized = lambda_response(401, r#"{"code":401}"#);
        assert!(Expect::CheckFound.verify(event, &unauthorized).is_err());

        let version = lambda_response(200, r#"{"id":"v1"}"#);
        assert_eq!(Expect::Version("v1".into()).verify(event, &version), Ok(()));
        assert!(
            Expect::Version("v2".into())
                .verify(event, &version)
                .is_err()
        );

        let listed = lambda_response(200, r#"{"results":[{"id":"x"},{"id":"t"}]}"#);
        assert_eq!(
            Expect::TokenListed("t".into()).verify(event, &listed),
            Ok(())
        );
        assert!(
            Expect::TokenListed("u".into())
                .verify(event, &listed)
                .is_err()
        );

        assert_eq!(Expect::Echo.verify(event, br#"{ "a": 1 }"#), Ok(()));
        assert!(Expect::Echo.verify(event, br#"{"a":2}"#).is_err());
        assert_eq!(
            Expect::Hello.verify(event, &lambda_response(200, "hello")),
            Ok(())
        );
        assert!(Expect::Hello.verify(event, b"not json").is_err());
    }

    #[test]
    fn events_carry_query_headers_and_claims() {
        let event = apigw_event("/p", &[("a", "b c")], &[("x-api-key", "k")], Some("u"));
        assert_eq!(event["rawQueryString"], "a=b+c");
        assert_eq!(event["queryStringParameters"]["a"], "b c");
        assert_eq!(event["headers"]["x-api-key"], "k");
        assert_eq!(
            event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"],
            "u"
        );
        // What lambda_http accepts is the contract.
        let parsed = lambda_http::request::from_str(&event.to_string());
        assert!(parsed.is_ok(), "{parsed:?}");
    }
}
