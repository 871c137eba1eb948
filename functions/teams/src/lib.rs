//! The `teams` function: what a signed-in person does for their team —
//! teams, members and invitations, projects, API keys — and the team's
//! activity, which each of those writes records in its own transaction.
//!
//! Every route takes the account session (API Gateway's JWT authorizer puts
//! its claims in the request context; under `make run`,
//! `app_upgrade::auth::local_jwt` does), never a PAT. Ids of a team the
//! caller is not in are 404, as for ids that do not exist.

mod admit;
mod body;
mod projects;
mod teams;
mod views;

use app_upgrade::http::{Route, log_request, no_store, with_fallbacks};
use app_upgrade::store::accounts::AccountDirectory;
use app_upgrade::store::{ActivityStore, DirectoryStore, TeamStore};
use axum::Router;
use axum::middleware;

pub use body::BODY_LIMIT;

/// Everything the function reads and writes.
pub trait Store: TeamStore + DirectoryStore + ActivityStore + Clone + 'static {}
impl<S: TeamStore + DirectoryStore + ActivityStore + Clone + 'static> Store for S {}

/// The user pool, as far as invitations need it.
pub trait Accounts: AccountDirectory + Clone + 'static {}
impl<A: AccountDirectory + Clone + 'static> Accounts for A {}

/// The store and the user pool, lent to every handler.
#[derive(Clone)]
pub struct AppState<S, A> {
    pub store: S,
    pub accounts: A,
}

/// Every route, in the order `app` destructures them: a route added here
/// and not routed there does not compile.
pub const ROUTES: [Route; 20] = [
    Route::get("/api/v1/teams"),
    Route::post("/api/v1/teams"),
    Route::patch("/api/v1/teams/{teamId}"),
    Route::get("/api/v1/teams/{teamId}/members"),
    Route::patch("/api/v1/teams/{teamId}/members/{userId}"),
    Route::delete("/api/v1/teams/{teamId}/members/{userId}"),
    Route::post("/api/v1/teams/{teamId}/invitations"),
    Route::delete("/api/v1/teams/{teamId}/invitations/{invitationId}"),
    Route::get("/api/v1/account/invitations"),
    Route::post("/api/v1/account/invitations/{invitationId}/accept"),
    Route::get("/api/v1/projects"),
    Route::post("/api/v1/projects"),
    Route::get("/api/v1/projects/{projectId}"),
    Route::patch("/api/v1/projects/{projectId}"),
    Route::delete("/api/v1/projects/{projectId}"),
    Route::get("/api/v1/projects/{projectId}/api-keys"),
    Route::post("/api/v1/projects/{projectId}/api-keys"),
    Route::delete("/api/v1/projects/{projectId}/api-keys/{keyId}"),
    Route::get("/api/v1/teams/{teamId}"),
    Route::get("/api/v1/teams/{teamId}/activity"),
];

/// The function's whole HTTP surface.
pub fn app<S: Store + Sync, A: Accounts + Sync>(store: S, accounts: A) -> Router {
    let [
        list_teams,
        create_team,
        rename_team,
        list_members,
        set_role,
        remove_member,
        invite,
        withdraw,
        my_invitations,
        accept,
        list_projects,
        create_project,
        get_project,
        update_project,
        delete_project,
        list_keys,
        create_key,
        revoke_key,
        get_team,
        team_activity,
    ] = ROUTES;
    let routes = Router::new()
        .route(list_teams.path, list_teams.to(teams::list_teams::<S, A>))
        .route(create_team.path, create_team.to(teams::create_team::<S, A>))
        .route(rename_team.path, rename_team.to(teams::rename_team::<S, A>))
        .route(get_team.path, get_team.to(teams::get_team::<S, A>))
        .route(
            team_activity.path,
            team_activity.to(teams::team_activity::<S, A>),
        )
        .route(
            list_members.path,
            list_members.to(teams::list_members::<S, A>),
        )
        .route(set_role.path, set_role.to(teams::set_role::<S, A>))
        .route(
            remove_member.path,
            remove_member.to(teams::remove_member::<S, A>),
        )
        .route(invite.path, invite.to(teams::invite::<S, A>))
        .route(withdraw.path, withdraw.to(teams::withdraw::<S, A>))
        .route(
            my_invitations.path,
            my_invitations.to(teams::my_invitations::<S, A>),
        )
        .route(accept.path, accept.to(teams::accept::<S, A>))
        .route(
            list_projects.path,
            list_projects.to(projects::list_projects::<S, A>),
        )
        .route(
            create_project.path,
            create_project.to(projects::create_project::<S, A>),
        )
        .route(get_project.path, get_project.to(projects::get_project))
        .route(
            update_project.path,
            update_project.to(projects::update_project::<S, A>),
        )
        .route(
            delete_project.path,
            delete_project.to(projects::delete_project::<S, A>),
        )
        .route(list_keys.path, list_keys.to(projects::list_keys::<S, A>))
        .route(create_key.path, create_key.to(projects::create_key::<S, A>))
        .route(revoke_key.path, revoke_key.to(projects::revoke_key::<S, A>))
        .route_layer(middleware::from_fn(log_request));
    // An API key is in a response body exactly once: no cache may keep it.
    no_store(with_fallbacks(routes)).with_state(AppState { store, accounts })
}
