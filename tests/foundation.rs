//! The foundation against the real local DynamoDB: secrets round-trip
//! through generation → hash → lookup, damaged tokens cost no read, and the
//! directory answers access questions in one round trip.

use app_upgrade::auth::authenticate_request;
use app_upgrade::domain::{
    Name, PlainSecret, ProjectId, Scope, Scopes, SecretKind, TeamId, Timestamp, UserId, issue_pat,
};
use app_upgrade::store::{
    Credential, CredentialStore, CredentialWriter, DirectoryStore, Project, StoreError, Team,
};
use http::StatusCode;
use integration_tests::http::bearer;
use integration_tests::{Counting, Fixture, fresh_store, new_token};

#[tokio::test]
async fn tokens_round_trip_through_hash_and_lookup() {
    let fx = Fixture::new().await;
    let issued = new_token(&fx.store, &fx.user, "round trip", &[Scope::VersionsRead]).await;
    let found = fx
        .store
        .get_credential(&issued.secret.hash())
        .await
        .expect("lookup");
    assert_eq!(found, Some(Credential::Pat(issued.record.clone())));

    let principal =
        authenticate_request(&fx.store, &bearer(issued.secret.expose()), Timestamp::now())
            .await
            .expect("authenticates");
    assert_eq!(principal.token, issued.record);
    assert!(principal.require(Scope::VersionsRead).is_ok());
    assert_eq!(
        principal
            .require(Scope::VersionsWrite)
            .map_err(|e| e.status()),
        Err(StatusCode::FORBIDDEN)
    );
}

#[tokio::test]
async fn a_token_with_one_character_changed_costs_no_read() {
    let fx = Fixture::new().await;
    let counting = Counting::new(&fx.store);
    let good = fx.rw_token.expose().to_owned();

    authenticate_request(&counting.store, &bearer(&good), Timestamp::now())
        .await
        .expect("the unchanged token is valid");
    assert_eq!(counting.calls(), 1);

    for i in 4..good.len() {
        let mut bytes = good.clone().into_bytes();
        bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
        let damaged = String::from_utf8(bytes).expect("ascii");
        let err = authenticate_request(&counting.store, &bearer(&damaged), Timestamp::now())
            .await
            .expect_err("damaged token");
        assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
        assert!(!err.message().contains(&good[4..]), "no secret in errors");
    }
    assert_eq!(counting.calls(), 1, "no damaged token reached DynamoDB");

    // A well-formed token nobody issued does reach the store, and is 401.
    let stranger = PlainSecret::generate(SecretKind::Pat).expect("random");
    let err = authenticate_request(
        &counting.store,
        &bearer(stranger.expose()),
        Timestamp::now(),
    )
    .await
    .expect_err("unknown token");
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(counting.calls(), 2);
}

#[tokio::test]
async fn expired_tokens_are_rejected() {
    let fx = Fixture::new().await;
    let long_ago = Timestamp::now().plus_days(-10);
    let issued = issue_pat(
        fx.user.clone(),
        "old".into(),
        Scopes::new([Scope::VersionsRead]).expect("non-empty"),
        1,
        long_ago,
    )
    .expect("random");
    fx.store.create_pat(&issued, None).await.expect("stored");
    let err = authenticate_request(&fx.store, &bearer(issued.secret.expose()), Timestamp::now())
        .await
        .expect_err("expired");
    assert_eq!(err.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(err.message(), "token has expired");

    // The expired token's name is free again.
    new_token(&fx.store, &fx.user, "old", &[Scope::VersionsRead]).await;
}

#[tokio::test]
async fn token_names_are_unique_per_owner_among_live_tokens() {
    let fx = Fixture::new().await;
    let again = issue_pat(
        fx.user.clone(),
        "RW".into(), // "rw" exists; names compare case-insensitively
        Scopes::new([Scope::VersionsRead]).expect("non-empty"),
        90,
        Timestamp::now(),
    )
    .expect("random");
    let result = fx.store.create_pat(&again, None).await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    assert_eq!(
        fx.store
            .get_credential(&again.secret.hash())
            .await
            .expect("lookup"),
        None,
        "the failed transaction wrote nothing"
    );

    let other = UserId::parse("someone-else").expect("valid");
    new_token(&fx.store, &other, "rw", &[Scope::VersionsRead]).await;
}

#[tokio::test]
async fn api_keys_resolve_to_their_project() {
    let fx = Fixture::new().await;
    match fx
        .store
        .get_credential(&fx.api_key.hash())
        .await
        .expect("lookup")
    {
        Some(Credential::ApiKey(record)) => {
            assert_eq!(record.project_id, fx.project);
            assert_eq!(record.team_id, fx.team);
        }
        other => panic!("expected an API key, got {other:?}"),
    }
}

#[tokio::test]
async fn access_needs_membership_and_the_project_in_that_team() {
    let fx = Fixture::new().await;
    let store = &fx.store;
    assert!(
        store
            .access(&fx.team, &fx.user, &fx.project)
            .await
            .expect("access")
            .allowed()
    );

    let outsider = UserId::parse("outsider").expect("valid");
    let access = store
        .access(&fx.team, &outsider, &fx.project)
        .await
        .expect("access");
    assert!(!access.is_member && access.project_in_team);

    let other_team = Team {
        id: TeamId::generate(),
        name: Name::parse("Other").expect("valid"),
        created_at: Timestamp::now(),
    };
    store.create_team(&other_team).await.expect("team");
    assert!(
        store
            .add_member(&other_team.id, &fx.user)
            .await
            .expect("member")
    );
    let access = store
        .access(&other_team.id, &fx.user, &fx.project)
        .await
        .expect("access");
    assert!(
        access.is_member && !access.project_in_team,
        "project is in another team"
    );

    let unknown = ProjectId::generate();
    assert!(
        !store
            .access(&fx.team, &fx.user, &unknown)
            .await
            .expect("access")
            .allowed()
    );

    assert!(
        store
            .remove_member(&fx.team, &fx.user)
            .await
            .expect("remove")
    );
    assert!(
        !store
            .remove_member(&fx.team, &fx.user)
            .await
            .expect("remove twice")
    );
    assert!(
        !store
            .access(&fx.team, &fx.user, &fx.project)
            .await
            .expect("access")
            .allowed()
    );
}

#[tokio::test]
async fn projects_and_members_need_an_existing_team() {
    let store = fresh_store().await;
    let ghost = TeamId::generate();
    assert!(
        !store
            .add_member(&ghost, &UserId::parse("u").expect("valid"))
            .await
            .expect("call")
    );
    let project = Project::new(
        ProjectId::generate(),
        ghost,
        Name::parse("p").expect("valid"),
        Timestamp::now(),
    );
    assert!(!store.create_project(&project, None).await.expect("call"));
    assert_eq!(store.get_project(&project.id).await.expect("call"), None);
}

#[tokio::test]
async fn creating_tables_twice_is_harmless() {
    let store = fresh_store().await;
    assert_eq!(
        store.create_tables().await.expect("second create"),
        Vec::<String>::new()
    );
}
