//! Issue 14, finding 3: a PAT's checksum catches typos, not forgeries
//! (anyone can compute a CRC32). What bounds forged tokens is the auth
//! path's short memory of unknown hashes: against the real local DynamoDB,
//! N forged tokens, however often repeated, cost N reads per
//! `UNKNOWN_PAT_TTL_MS`; a token created after a negative answer works
//! within that delay; a revocation is seen at once.

use app_upgrade::auth::{UNKNOWN_PAT_TTL_MS, authenticate_request};
use app_upgrade::domain::{PlainSecret, Scope, Scopes, SecretKind, Timestamp, issue_pat};
use app_upgrade::store::{CredentialWriter, TokenStore};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use integration_tests::{Counting, Fixture};

fn bearer(token: &PlainSecret) -> HeaderMap {
    let mut headers = HeaderMap::new();
    let value = HeaderValue::from_str(&format!("Bearer {}", token.expose())).expect("header");
    headers.insert(header::AUTHORIZATION, value);
    headers
}

#[tokio::test]
async fn forged_tokens_with_valid_checksums_cost_one_read_each_per_period() {
    const FORGED: usize = 10;
    let fx = Fixture::new().await;
    let counting = Counting::new(&fx.store);
    // Well-formed, checksums right: only a read can tell they are nobody's.
    let forged: Vec<PlainSecret> = (0..FORGED)
        .map(|_| PlainSecret::generate(SecretKind::Pat).expect("randomness"))
        .collect();
    let now = Timestamp::now();
    for round in 0..5 {
        for token in &forged {
            let err = authenticate_request(&counting.store, &bearer(token), now.plus_millis(round))
                .await
                .expect_err("forged");
            assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
            assert!(
                !err.message().contains(&token.expose()[4..]),
                "no secret echoed"
            );
        }
    }
    assert_eq!(counting.calls(), FORGED, "one read each, then remembered");

    let later = now.plus_millis(UNKNOWN_PAT_TTL_MS);
    for _ in 0..3 {
        for token in &forged {
            assert!(
                authenticate_request(&counting.store, &bearer(token), later)
                    .await
                    .is_err()
            );
        }
    }
    assert_eq!(counting.calls(), 2 * FORGED, "one read each per period");

    // The fixture's real token is never remembered: each use is a read.
    for _ in 0..3 {
        let principal = authenticate_request(&counting.store, &bearer(&fx.rw_token), later)
            .await
            .expect("a live token");
        assert_eq!(principal.owner(), &fx.user);
    }
    assert_eq!(counting.calls(), 2 * FORGED + 3);
}

#[tokio::test]
async fn a_token_created_after_a_negative_answer_works_within_the_period() {
    let fx = Fixture::new().await;
    let now = Timestamp::now();
    let issued = issue_pat(
        fx.user.clone(),
        "late".to_owned(),
        Scopes::new([Scope::VersionsRead]).expect("non-empty"),
        90,
        now,
    )
    .expect("randomness");
    // Looked up before it exists (a guess, or a race with its creation).
    assert!(
        authenticate_request(&fx.store, &bearer(&issued.secret), now)
            .await
            .is_err()
    );
    fx.store.create_pat(&issued, None).await.expect("create");
    let soon = now.plus_millis(1);
    assert!(
        authenticate_request(&fx.store, &bearer(&issued.secret), soon)
            .await
            .is_err(),
        "still remembered as unknown"
    );
    let after = now.plus_millis(UNKNOWN_PAT_TTL_MS);
    let principal = authenticate_request(&fx.store, &bearer(&issued.secret), after)
        .await
        .expect("works once the negative answer expires");
    assert_eq!(principal.token.token_id, issued.record.token_id);
}

#[tokio::test]
async fn a_revocation_is_seen_at_once() {
    let fx = Fixture::new().await;
    let now = Timestamp::now();
    let principal = authenticate_request(&fx.store, &bearer(&fx.read_token), now)
        .await
        .expect("live");
    assert!(
        fx.store
            .revoke_token(&fx.user, &principal.token.token_id, None)
            .await
            .expect("revoke")
    );
    let err = authenticate_request(&fx.store, &bearer(&fx.read_token), now)
        .await
        .expect_err("revoked");
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
}
