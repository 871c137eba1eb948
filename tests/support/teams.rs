//! Test support for the `teams` function: a user pool of the test's own in
//! the emulator's Cognito, people in it, and requests carrying their
//! session as API Gateway's JWT authorizer passes it on.

use app_upgrade::store::DynamoStore;
use app_upgrade::store::accounts::CognitoAccounts;
use aws_sdk_cognitoidentityprovider::Client;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, MessageActionType, UsernameAttributeType,
};
use axum::Router;
use axum::body::Body;
use http::{Method, Request};
use lambda_http::request::RequestContext;
use serde_json::Value;

use crate::http::{Reply, send};

/// A fresh user pool (email as username, as the deployment's) in the
/// emulator that serves the tests' DynamoDB.
pub struct Pool {
    pub client: Client,
    pub id: String,
}

impl Pool {
    pub async fn new() -> Self {
        let sdk = app_upgrade::store::dynamo::load_sdk_config().await;
        // moto serves cognito-idp on the DynamoDB emulator's port.
        let endpoint = std::env::var("AWS_ENDPOINT_URL_DYNAMODB").expect("the emulator's URL");
        let config = aws_sdk_cognitoidentityprovider::config::Builder::from(&sdk)
            .endpoint_url(endpoint)
            .build();
        let client = Client::from_conf(config);
        let id = client
            .create_user_pool()
            .pool_name(format!("test-{}", ulid::Ulid::new()))
            .username_attributes(UsernameAttributeType::Email)
            .send()
            .await
            .expect("create a user pool")
            .user_pool
            .and_then(|pool| pool.id)
            .expect("a pool id");
        Self { client, id }
    }

    pub fn accounts(&self) -> CognitoAccounts {
        CognitoAccounts::new(self.client.clone(), self.id.clone())
    }

    /// A person with a verified (or not) email.
    pub async fn person(&self, name: &str, verified: bool) -> Person {
        let email = format!("{name}-{}@example.com", ulid::Ulid::new()).to_lowercase();
        let attribute = |name: &str, value: &str| {
            AttributeType::builder()
                .name(name)
                .value(value)
                .build()
                .expect("an attribute")
        };
        let user = self
            .client
            .admin_create_user()
            .user_pool_id(&self.id)
            .username(&email)
            .user_attributes(attribute("email", &email))
            .user_attributes(attribute(
                "email_verified",
                if verified { "true" } else { "false" },
            ))
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .expect("create a user")
            .user
            .expect("the user");
        let sub = user
            .attributes()
            .iter()
            .find(|a| a.name() == "sub")
            .and_then(|a| a.value())
            .expect("a sub")
            .to_owned();
        Person {
            sub,
            username: user.username().expect("a username").to_owned(),
            email,
        }
    }
}

/// Someone with an account in the pool.
#[derive(Debug, Clone)]
pub struct Person {
    pub sub: String,
    pub username: String,
    pub email: String,
}

/// The function's router on `store` and `pool`.
pub fn app(store: &DynamoStore, pool: &Pool) -> Router {
    teams::app(store.clone(), pool.accounts())
}

/// A request with `person`'s session (the claims API Gateway's authorizer
/// verified) and a JSON body when given.
pub fn as_person(
    method: Method,
    uri: &str,
    person: Option<&Person>,
    body: Option<&Value>,
) -> Request<Body> {
    let mut request = crate::http::request(method, uri, None, body);
    let mut context = serde_json::json!({
        "http": {"method": "GET", "path": uri, "protocol": "HTTP/1.1",
                 "sourceIp": "192.0.2.10", "userAgent": "tests"}
    });
    if let Some(person) = person {
        context["authorizer"] = serde_json::json!({"jwt": {"claims": {
            "sub": person.sub, "username": person.username, "token_use": "access"
        }}});
    }
    let context = serde_json::from_value(context).expect("a request context");
    request
        .extensions_mut()
        .insert(RequestContext::ApiGatewayV2(context));
    request
}

/// Sends one request as `person`.
pub async fn call(
    app: &Router,
    method: Method,
    uri: &str,
    person: &Person,
    body: Option<Value>,
) -> Reply {
    send(app, as_person(method, uri, Some(person), body.as_ref())).await
}

/// An id field of a reply's JSON.
pub fn id(reply: &Reply, field: &str) -> String {
    reply.json[field]
        .as_str()
        .unwrap_or_else(|| panic!("no {field} in {}: {}", reply.status, reply.json))
        .to_owned()
}

/// A store on the same tables whose `cut`-th DynamoDB call (0-based) is
/// sent and applied, but whose answer is lost: a timeout or a cut
/// connection after the write.
pub struct CutAnswer {
    pub store: DynamoStore,
}

#[derive(Debug)]
struct Cut {
    calls: std::sync::atomic::AtomicUsize,
    at: usize,
}

impl aws_sdk_dynamodb::config::Intercept for Cut {
    fn name(&self) -> &'static str {
        "CutAnswer"
    }

    fn read_before_deserialization(
        &self,
        _context: &aws_sdk_dynamodb::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _components: &aws_sdk_dynamodb::config::RuntimeComponents,
        _cfg: &mut aws_sdk_dynamodb::config::ConfigBag,
    ) -> Result<(), aws_sdk_dynamodb::error::BoxError> {
        let call = self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if call == self.at {
            return Err("the answer was lost".into());
        }
        Ok(())
    }
}

pub fn cut_answer(store: &DynamoStore, at: usize) -> CutAnswer {
    let config = store
        .client()
        .config()
        .to_builder()
        // One attempt: a retry would hide the cut.
        .retry_config(aws_sdk_dynamodb::config::retry::RetryConfig::disabled())
        .interceptor(Cut {
            calls: Default::default(),
            at,
        })
        .build();
    let tables = app_upgrade::Config {
        versions_table: store.versions_table().to_owned(),
        tokens_table: store.tokens_table().to_owned(),
    };
    CutAnswer {
        store: DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), &tables),
    }
}
