//! `template.yaml` against the code and `openapi.yaml`: every table agrees
//! with `app_upgrade::store::tables`; every route of `openapi.yaml` is mapped to
//! the function that serves it locally (`[workspace.metadata.lambda.watch.router]`);
//! the JWT authorizer guards exactly the account-session routes; each
//! function's DynamoDB grants are exactly what its code calls.

use std::collections::{BTreeMap, BTreeSet};

use app_upgrade::store::tables::{self, TableDef};
use integration_tests::repo::{ROOT, openapi_routes, openapi_routes_secured_by, watch_router};
use serde_norway::Value;

fn template() -> Value {
    let text = std::fs::read_to_string(format!("{ROOT}/template.yaml"))
        .expect("template.yaml is readable");
    serde_norway::from_str(&text).expect("template.yaml is YAML")
}

fn key_schema(value: &Value) -> Vec<(String, String)> {
    value
        .as_sequence()
        .expect("KeySchema is a list")
        .iter()
        .map(|k| {
            (
                k["AttributeName"].as_str().expect("name").to_owned(),
                k["KeyType"].as_str().expect("type").to_owned(),
            )
        })
        .collect()
}

fn expected_schema(hash: &str, range: Option<&str>) -> Vec<(String, String)> {
    let mut v = vec![(hash.to_owned(), "HASH".to_owned())];
    v.extend(range.map(|r| (r.to_owned(), "RANGE".to_owned())));
    v
}

fn check_table(resources: &Value, def: &TableDef) {
    let table = &resources[def.logical_id];
    assert_eq!(table["Type"], "AWS::DynamoDB::Table", "{}", def.logical_id);
    let props = &table["Properties"];
    assert_eq!(
        key_schema(&props["KeySchema"]),
        expected_schema(def.hash_key, Some(def.range_key)),
        "{} key schema",
        def.logical_id
    );

    let mut want_attrs: Vec<&str> = vec![def.hash_key, def.range_key];
    for index in def.indexes {
        want_attrs.push(index.hash_key);
        want_attrs.extend(index.range_key);
    }
    want_attrs.sort_unstable();
    want_attrs.dedup();
    let mut got_attrs: Vec<&str> = props["AttributeDefinitions"]
        .as_sequence()
        .expect("AttributeDefinitions")
        .iter()
        .map(|a| {
            assert_eq!(a["AttributeType"], "S", "every key attribute is a string");
            a["AttributeName"].as_str().expect("name")
        })
        .collect();
    got_attrs.sort_unstable();
    assert_eq!(got_attrs, want_attrs, "{} attributes", def.logical_id);

    let got_indexes = props["GlobalSecondaryIndexes"]
        .as_sequence()
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        got_indexes.len(),
        def.indexes.len(),
        "{} GSIs",
        def.logical_id
    );
    for index in def.indexes {
        let got = got_indexes
            .iter()
            .find(|g| g["IndexName"] == index.name)
            .unwrap_or_else(|| panic!("index {} missing from template", index.name));
        assert_eq!(
            key_schema(&got["KeySchema"]),
            expected_schema(index.hash_key, index.range_key)
        );
        assert_eq!(got["Projection"]["ProjectionType"], "ALL");
    }

    match def.ttl_attribute {
        Some(ttl) => {
            assert_eq!(props["TimeToLiveSpecification"]["AttributeName"], ttl);
            assert_eq!(props["TimeToLiveSpecification"]["Enabled"], true);
        }
        None => assert!(props.get("TimeToLiveSpecification").is_none()),
    }
    assert_eq!(props["BillingMode"], "PAY_PER_REQUEST");
    assert_eq!(
        props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"],
        true
    );
    assert_eq!(props["SSESpecification"]["SSEEnabled"], true);
    assert_eq!(table["DeletionPolicy"], "Retain", "{}", def.logical_id);
    assert_eq!(table["UpdateReplacePolicy"], "Retain", "{}", def.logical_id);
}

#[test]
fn template_tables_match_the_code() {
    let t = template();
    let resources = &t["Resources"];
    for def in tables::ALL {
        check_table(resources, &def);
    }
}

/// `check-index` (a GSI projecting every attribute of every active
/// version, which no read used) is gone: no index, no `checkKey` attribute,
/// no grant on an index; a deployed stack drops it in place
/// (docs/deploy.md).
#[test]
fn no_table_pays_for_an_index() {
    let t = template();
    for def in tables::ALL {
        let props = &t["Resources"][def.logical_id]["Properties"];
        assert!(def.indexes.is_empty(), "{}", def.logical_id);
        assert!(
            props.get("GlobalSecondaryIndexes").is_none(),
            "{} has a GSI",
            def.logical_id
        );
        assert!(
            props.get("LocalSecondaryIndexes").is_none(),
            "{} has an LSI",
            def.logical_id
        );
    }
    let text = std::fs::read_to_string(format!("{ROOT}/template.yaml")).expect("template");
    assert!(!text.contains("checkKey") && !text.contains("check-index"));
    for function in functions(&t).values() {
        for (action, resource) in dynamodb_grants(function) {
            assert!(!resource.contains("/index/"), "{action} on {resource}");
        }
    }
    let docs = std::fs::read_to_string(format!("{ROOT}/docs/deploy.md")).expect("deploy.md");
    assert!(
        docs.contains("check-index"),
        "docs/deploy.md says how a stack with check-index is updated"
    );
}

/// The `AWS::Serverless::Function` resources, by logical id.
fn functions(t: &Value) -> BTreeMap<String, &Value> {
    t["Resources"]
        .as_mapping()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(id, r)| (id.as_str().expect("logical id").to_owned(), r))
        .collect()
}

/// The function package a resource deploys: `CodeUri: target/lambda/<name>/`.
fn package(function: &Value) -> &str {
    let uri = function["Properties"]["CodeUri"]
        .as_str()
        .expect("CodeUri is a path");
    uri.strip_prefix("target/lambda/")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("CodeUri {uri} is not target/lambda/<name>/"))
}

struct Route {
    key: String,
    package: String,
    authorizer: Option<String>,
}

fn routes(t: &Value) -> Vec<Route> {
    let mut out = Vec::new();
    for function in functions(t).values() {
        let events = function["Properties"]["Events"]
            .as_mapping()
            .expect("Events");
        for event in events.values() {
            assert_eq!(event["Type"], "HttpApi", "only HTTP API events");
            let p = &event["Properties"];
            assert_eq!(tag(&p["ApiId"]), Some(("Ref", "HttpApi")), "one API");
            out.push(Route {
                key: format!(
                    "{} {}",
                    p["Method"].as_str().expect("Method").to_uppercase(),
                    p["Path"].as_str().expect("Path")
                ),
                package: package(function).to_owned(),
                authorizer: p["Auth"]["Authorizer"].as_str().map(str::to_owned),
            });
        }
    }
    out
}

/// A short-form intrinsic with a scalar argument: `!Ref X` → ("Ref", "X").
fn tag(value: &Value) -> Option<(&str, &str)> {
    match value {
        Value::Tagged(t) => {
            let name = t.tag.to_string();
            let name = match name.trim_start_matches('!') {
                "Ref" => "Ref",
                "GetAtt" => "GetAtt",
                "Sub" => "Sub",
                _ => return None,
            };
            Some((name, t.value.as_str()?))
        }
        _ => None,
    }
}

/// What a policy `Resource` names, as `Table` or `Table/index/name`.
fn resource_name(value: &Value) -> String {
    match tag(value) {
        Some(("GetAtt", target)) => target
            .strip_suffix(".Arn")
            .unwrap_or_else(|| panic!("!GetAtt {target} is not an ARN"))
            .to_owned(),
        Some(("Sub", text)) => {
            let rest = text
                .strip_prefix("${")
                .and_then(|r| r.split_once(".Arn}"))
                .unwrap_or_else(|| panic!("!Sub {text} does not start with a table ARN"));
            format!("{}{}", rest.0, rest.1)
        }
        _ => panic!("DynamoDB resource {value:?} is not a table of this template"),
    }
}

/// A policy statement, or the statement a `!If [Condition, statement,
/// !Ref AWS::NoValue]` grants when its condition holds.
fn conditional_statement(s: &Value) -> &Value {
    match s {
        Value::Tagged(t) if t.tag.to_string().trim_start_matches('!') == "If" => &t.value[1],
        other => other,
    }
}

/// Every (action, resource) a function's policies grant on DynamoDB.
fn dynamodb_grants(function: &Value) -> BTreeSet<(String, String)> {
    let mut grants = BTreeSet::new();
    let policies = function["Properties"]["Policies"]
        .as_sequence()
        .expect("Policies is a list");
    for policy in policies {
        // Inline documents only: a SAM policy template or a managed policy
        // could grant DynamoDB actions this test cannot see.
        let statements = policy["Statement"]
            .as_sequence()
            .unwrap_or_else(|| panic!("policy {policy:?} is not an inline document"));
        for s in statements {
            let s = conditional_statement(s);
            assert_eq!(s["Effect"], "Allow");
            let actions: Vec<&str> = match &s["Action"] {
                Value::String(a) => vec![a.as_str()],
                Value::Sequence(list) => list.iter().filter_map(Value::as_str).collect(),
                other => panic!("Action {other:?}"),
            };
            let resources: Vec<&Value> = match &s["Resource"] {
                Value::Sequence(list) => list.iter().collect(),
                one => vec![one],
            };
            for action in actions {
                assert_ne!(action, "*");
                let Some(name) = action.strip_prefix("dynamodb:") else {
                    continue;
                };
                assert!(!name.contains('*'), "wildcard action {action}");
                for resource in &resources {
                    assert_ne!(**resource, "*", "{action} on Resource \"*\"");
                    grants.insert((name.to_owned(), resource_name(resource)));
                }
            }
        }
    }
    grants
}

#[test]
fn every_openapi_route_is_mapped_to_the_function_that_serves_it() {
    let t = template();
    let spec = openapi_routes();
    assert!(spec.len() >= 10, "openapi.yaml routes found: {spec:?}");
    let router = watch_router();

    let deployed = routes(&t);
    let keys: Vec<&str> = deployed.iter().map(|r| r.key.as_str()).collect();
    let unique: BTreeSet<&str> = keys.iter().copied().collect();
    assert_eq!(
        unique.len(),
        keys.len(),
        "a route is mapped twice: {keys:?}"
    );
    assert_eq!(
        unique,
        spec.iter().map(String::as_str).collect(),
        "template routes = openapi.yaml routes"
    );

    for route in &deployed {
        let path = route.key.split_once(' ').expect("method and path").1;
        assert_eq!(
            router.get(path),
            Some(&route.package),
            "{} is served by the same function locally and deployed",
            route.key
        );
    }
}

/// The dashboard's pages and assets: every URL answers the shell. Part of
/// `openapi.yaml` (tag `page`), public.
const PAGE_ROUTES: [&str; 10] = [
    "GET /",
    "GET /teams",
    "GET /teams/{teamId}",
    "GET /teams/{teamId}/projects",
    "GET /teams/{teamId}/projects/{projectId}",
    "GET /teams/{teamId}/projects/{projectId}/versions/{versionId}",
    "GET /teams/{teamId}/members",
    "GET /teams/{teamId}/activity",
    "GET /account/tokens",
    "GET /app/{file}",
];

#[test]
fn the_access_tokens_page_is_public_and_signs_in_with_the_pools_public_client() {
    let t = template();
    let deployed = routes(&t);
    for key in PAGE_ROUTES {
        let route = deployed
            .iter()
            .find(|r| r.key == key)
            .unwrap_or_else(|| panic!("{key} is mapped"));
        assert_eq!(route.package, "tokens", "{key}");
        // The page holds no data: a person signs in on it.
        assert_eq!(route.authorizer, None, "{key}");
    }

    let tokens = &t["Resources"]["TokensFunction"]["Properties"]["Environment"]["Variables"];
    let endpoint = format!("{:?}", tokens["COGNITO_ENDPOINT"]);
    assert!(
        endpoint.contains("https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/"),
        "{endpoint}"
    );
    let client_id = format!("{:?}", tokens["COGNITO_CLIENT_ID"]);
    assert!(client_id.contains("UserPoolClient"), "{client_id}");

    let client = &t["Resources"]["UserPoolClient"]["Properties"];
    assert_eq!(
        client["GenerateSecret"], false,
        "a page cannot keep a secret"
    );
    let flows: BTreeSet<&str> = client["ExplicitAuthFlows"]
        .as_sequence()
        .expect("ExplicitAuthFlows")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        flows,
        BTreeSet::from([
            // The page's flow.
            "ALLOW_USER_PASSWORD_AUTH",
            // Required by Cognito in every list.
            "ALLOW_REFRESH_TOKEN_AUTH",
            // The operator's smoke test; needs IAM credentials.
            "ALLOW_ADMIN_USER_PASSWORD_AUTH",
        ])
    );
}

#[test]
fn jwt_authorizer_guards_the_account_session_routes_and_nothing_else() {
    // openapi.yaml: the account-session routes (the tokens function's four,
    // the teams function's) need `AccountJwt`; self-rotation is
    // authenticated by the PAT.
    // Routes that take a PAT as well verify the session in the function
    // (API Gateway has no optional authorizer): only the session-only ones
    // sit behind the authorizer.
    let pat = openapi_routes_secured_by("Pat");
    let account: std::collections::BTreeSet<String> = openapi_routes_secured_by("AccountJwt")
        .into_iter()
        .filter(|route| !pat.contains(route))
        .collect();
    for key in [
        "POST /api/v1/account/tokens",
        "GET /api/v1/account/tokens",
        "DELETE /api/v1/account/tokens",
        "DELETE /api/v1/account/tokens/{tokenId}",
        "GET /api/v1/teams",
        "DELETE /api/v1/projects/{projectId}/api-keys/{keyId}",
    ] {
        assert!(
            account.contains(key),
            "{key} needs AccountJwt in openapi.yaml"
        );
    }
    let t = template();
    let deployed = routes(&t);
    for key in &account {
        assert!(deployed.iter().any(|r| r.key == *key), "{key} is mapped");
    }
    // Every route of the team function is a person's, never a PAT's.
    let teams_routes: Vec<&Route> = deployed.iter().filter(|r| r.package == "teams").collect();
    assert_eq!(teams_routes.len(), teams::ROUTES.len());
    for route in teams_routes {
        assert!(account.contains(route.key.as_str()), "{}", route.key);
    }
    for route in &deployed {
        let want = account
            .contains(route.key.as_str())
            .then(|| "AccountJwt".to_owned());
        assert_eq!(route.authorizer, want, "{}", route.key);
    }

    let auth = &t["Resources"]["HttpApi"]["Properties"]["Auth"];
    assert!(
        auth.get("DefaultAuthorizer").is_none(),
        "a default authorizer would guard every route"
    );
    let authorizers = auth["Authorizers"].as_mapping().expect("Authorizers");
    assert_eq!(authorizers.len(), 1);
    let jwt = &auth["Authorizers"]["AccountJwt"];
    assert_eq!(jwt["IdentitySource"], "$request.header.Authorization");
    assert!(jwt["JwtConfiguration"].get("issuer").is_some());
    assert!(jwt["JwtConfiguration"].get("audience").is_some());
}

#[test]
fn the_version_routes_verify_sessions_of_the_authorizers_pool() {
    let t = template();
    let jwt = &t["Resources"]["HttpApi"]["Properties"]["Auth"]["Authorizers"]["AccountJwt"];
    let versions = &t["Resources"]["VersionsFunction"]["Properties"]["Environment"]["Variables"];
    // The authorizer's issuer and audience with the built-in pool; none
    // (PATs only) with an external issuer, whose tokens are not Cognito
    // access tokens.
    for (var, authorizer) in [
        ("ACCOUNT_JWT_ISSUER", &jwt["JwtConfiguration"]["issuer"]),
        ("ACCOUNT_JWT_AUDIENCE", &jwt["JwtConfiguration"]["audience"]),
    ] {
        let [condition, pool, external] = if_branches(&versions[var]);
        assert_eq!(condition, "UseCognito", "{var}");
        let [_, authorizer_pool, _] = if_branches(authorizer);
        let authorizer_pool = match authorizer_pool {
            // The authorizer's audience is a list of one.
            Value::Sequence(one) if one.len() == 1 => &one[0],
            other => other,
        };
        assert_eq!(pool, authorizer_pool, "{var}");
        assert_eq!(external, "", "{var}");
    }
}

/// The condition and the two values of an `!If`.
fn if_branches(value: &Value) -> [&Value; 3] {
    let Value::Tagged(tagged) = value else {
        panic!("{value:?} is not an !If");
    };
    assert_eq!(tagged.tag.to_string().trim_start_matches('!'), "If");
    let branches = tagged.value.as_sequence().expect("!If's list");
    [&branches[0], &branches[1], &branches[2]]
}

#[test]
fn each_function_gets_exactly_the_dynamodb_access_its_code_uses() {
    // Mirrors the DynamoDB calls of each function's store methods; a
    // TransactWriteItems is authorized as the Put/Delete items it holds.
    // A new call in the code needs its grant here and in the template.
    let versions_rw = [
        "BatchGetItem",
        "GetItem",
        "Query",
        "PutItem",
        "DeleteItem",
        "UpdateItem",
    ];
    let tokens_rw = [
        "GetItem",
        "Query",
        "BatchGetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
    ];
    let grants = |list: &[(&[&str], &str)]| -> BTreeSet<(String, String)> {
        list.iter()
            .flat_map(|(actions, on)| actions.iter().map(|a| ((*a).to_owned(), (*on).to_owned())))
            .collect()
    };
    let want: BTreeMap<&str, BTreeSet<(String, String)>> = [
        (
            "check",
            grants(&[
                (&["GetItem"], tables::TOKENS.logical_id),
                (&["Query"], tables::VERSIONS.logical_id),
            ]),
        ),
        (
            "versions",
            grants(&[
                // DeleteItem: a reused (rotated-away) secret revokes its token
                // from any function. PutItem: Idempotency-Key receipts
                // (IDEMPOTENCY#… only).
                (
                    &["GetItem", "UpdateItem", "DeleteItem", "PutItem"],
                    tables::TOKENS.logical_id,
                ),
                (&versions_rw, tables::VERSIONS.logical_id),
            ]),
        ),
        (
            "tokens",
            grants(&[
                (&tokens_rw, tables::TOKENS.logical_id),
                (&["Query"], tables::VERSIONS.logical_id),
            ]),
        ),
        (
            "teams",
            grants(&[
                // API keys: credentials and the projects' key lists only
                // (LeadingKeys, checked below).
                (
                    &["GetItem", "Query", "PutItem", "DeleteItem"],
                    tables::TOKENS.logical_id,
                ),
                // ConditionCheckItem and UpdateItem: the owner count and the
                // "caller is still an owner" conditions of its transactions.
                (
                    &[
                        "GetItem",
                        "BatchGetItem",
                        "Query",
                        "PutItem",
                        "UpdateItem",
                        "DeleteItem",
                        "ConditionCheckItem",
                    ],
                    tables::VERSIONS.logical_id,
                ),
            ]),
        ),
    ]
    .into();

    let t = template();
    let got: BTreeMap<&str, BTreeSet<(String, String)>> = functions(&t)
        .values()
        .map(|f| (package(f), dynamodb_grants(f)))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn the_team_function_reaches_only_api_keys_in_the_tokens_table_and_two_user_pool_calls() {
    let t = template();
    let teams = &t["Resources"]["TeamsFunction"]["Properties"];
    let statements: Vec<&Value> = teams["Policies"][0]["Statement"]
        .as_sequence()
        .expect("statements")
        .iter()
        .map(conditional_statement)
        .collect();
    let api_keys = statements
        .iter()
        .find(|s| s["Sid"] == "ApiKeys")
        .expect("an ApiKeys statement");
    let leading: BTreeSet<&str> =
        api_keys["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"]
            .as_sequence()
            .expect("LeadingKeys")
            .iter()
            .filter_map(Value::as_str)
            .collect();
    assert_eq!(leading, BTreeSet::from(["SECRET#*", "PROJECTKEYS#*"]));
    let cognito = statements
        .iter()
        .find(|s| s["Sid"] == "Invitations")
        .expect("an Invitations statement");
    let actions: BTreeSet<&str> = cognito["Action"]
        .as_sequence()
        .expect("actions")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(
        actions,
        BTreeSet::from(["cognito-idp:AdminGetUser", "cognito-idp:AdminCreateUser"])
    );
    assert_eq!(tag(&cognito["Resource"]), Some(("GetAtt", "UserPool.Arn")));
    // No other function may call the user pool.
    for (id, function) in functions(&t) {
        let text = format!("{:?}", function["Properties"]["Policies"]);
        assert_eq!(text.contains("cognito-idp:"), id == "TeamsFunction", "{id}");
    }
}

#[test]
fn the_check_function_cannot_write() {
    let t = template();
    let check = functions(&t)
        .into_values()
        .find(|f| package(f) == "check")
        .expect("a check function");
    let reads = ["GetItem", "BatchGetItem", "Query"];
    for (action, resource) in dynamodb_grants(check) {
        assert!(
            reads.contains(&action.as_str()),
            "check may not {action} on {resource}"
        );
    }
}

#[test]
fn functions_run_the_release_binaries_with_their_tables() {
    let t = template();
    let globals = &t["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Architectures"][0], "arm64");
    assert_eq!(globals["Handler"], "bootstrap");
    for def in tables::ALL {
        assert_eq!(
            tag(&globals["Environment"]["Variables"][def.env_var]),
            Some(("Ref", def.logical_id)),
            "{} names {}",
            def.env_var,
            def.logical_id
        );
    }
    let packages: BTreeSet<&str> = functions(&t).values().map(|f| package(f)).collect();
    let served: BTreeSet<String> = watch_router().into_values().collect();
    assert_eq!(
        packages,
        served.iter().map(String::as_str).collect(),
        "one resource per function package"
    );
    for f in functions(&t).values() {
        let props = &f["Properties"];
        assert!(
            props.get("Runtime").is_none() && props.get("Architectures").is_none(),
            "runtime settings come from Globals"
        );
        assert!(
            props["LoggingConfig"].get("LogGroup").is_some(),
            "log group with retention"
        );
    }
}

#[test]
fn stage_throttles_and_logs_no_secrets() {
    let t = template();
    let params = &t["Parameters"];
    let default = |v: &Value| -> u64 {
        let (_, name) = tag(v).expect("a !Ref to a parameter");
        params[name]["Default"].as_u64().expect("numeric default")
    };
    let api = &t["Resources"]["HttpApi"]["Properties"];
    let all = &api["DefaultRouteSettings"];
    let check = &api["RouteSettings"]["GET /api/v1/versions/check"];
    for limit in ["ThrottlingRateLimit", "ThrottlingBurstLimit"] {
        assert!(
            default(&check[limit]) > default(&all[limit]),
            "the check route gets a higher {limit}"
        );
    }

    let format = api["AccessLogSettings"]["Format"]
        .as_str()
        .expect("access log format")
        .to_lowercase();
    let fields: serde_json::Value =
        serde_json::from_str(&format).expect("the access log format is JSON");
    assert!(fields.get("requestid").is_some() && fields.get("status").is_some());
    for secret_bearing in ["header", "querystring", "apikey", "authorization"] {
        assert!(!format.contains(secret_bearing), "logs {secret_bearing}");
    }
    let group = tag(&api["AccessLogSettings"]["DestinationArn"])
        .expect("log group ARN")
        .1
        .trim_end_matches(".Arn");
    assert!(t["Resources"][group]["Properties"]["RetentionInDays"] != Value::Null);
}

/// Events and revisions expire: the versions table has TTL (checked with
/// the tables above), and every function gets the retention parameter,
/// whose default is the code's.
#[test]
fn activity_retention_is_a_parameter_every_function_gets() {
    let t = template();
    let param = &t["Parameters"]["ActivityRetentionDays"];
    assert_eq!(
        param["Default"].as_u64(),
        Some(u64::from(
            app_upgrade::domain::activity::DEFAULT_RETENTION_DAYS
        ))
    );
    let env = &t["Globals"]["Function"]["Environment"]["Variables"]
        [app_upgrade::store::activity::RETENTION_ENV];
    assert_eq!(
        tag(env).map(|(_, name)| name),
        Some("ActivityRetentionDays")
    );
    assert_eq!(tables::VERSIONS.ttl_attribute, Some("ttl"));
}
