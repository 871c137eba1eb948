//! `aau-admin`: the deployment owner's CLI. It writes the same DynamoDB
//! tables the functions read, with the caller's normal AWS credentials.
//! JSON on stdout, errors on stderr, non-zero exit on failure.

use std::process::ExitCode;

use app_upgrade::Config;
use app_upgrade::domain::token_limits::{parse_environments, parse_projects};
use app_upgrade::domain::{
    ApiKeyId, DEFAULT_PAT_LIFETIME_DAYS, Email, Name, PAT_LIFETIME_DAYS, PlainSecret, ProjectId,
    Role, Scopes, SecretKind, TeamId, Timestamp, TokenId, TokenLimits, UserId, issue_pat,
};
use app_upgrade::store::accounts::{AccountDirectory, CognitoAccounts};
use app_upgrade::store::{
    ApiKeyEntry, CredentialWriter, DirectoryStore, DynamoStore, Membership, Project, Team,
    TeamStore, TokenStore,
};
use clap::{Parser, Subcommand};
use serde_json::{Value, json};

#[derive(Parser)]
#[command(
    version,
    about = "Provision App Upgrade teams, projects, API keys and tokens"
)]
struct Cli {
    /// Versions table name.
    #[arg(long, env = "VERSIONS_TABLE", global = true)]
    versions_table: Option<String>,
    /// Tokens table name.
    #[arg(long, env = "TOKENS_TABLE", global = true)]
    tokens_table: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create the tables (local emulator; deployments get them from SAM).
    Tables {
        #[command(subcommand)]
        action: TablesAction,
    },
    /// The first owner of a new deployment: their account in the user pool
    /// (Cognito emails them a temporary password) and their team.
    Owner {
        #[command(subcommand)]
        action: OwnerAction,
    },
    Team {
        #[command(subcommand)]
        action: TeamAction,
    },
    Member {
        #[command(subcommand)]
        action: MemberAction,
    },
    Project {
        #[command(subcommand)]
        action: ProjectAction,
    },
    #[command(name = "api-key")]
    ApiKey {
        #[command(subcommand)]
        action: ApiKeyAction,
    },
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    Versions {
        #[command(subcommand)]
        action: VersionsAction,
    },
}

#[derive(Subcommand)]
enum VersionsAction {
    /// Writes the listing entries and version counts of versions created
    /// before they existed; listing needs them. Idempotent; run once after
    /// upgrading (docs/deploy.md).
    Backfill,
}

#[derive(Subcommand)]
enum TablesAction {
    Create,
}

#[derive(Subcommand)]
enum OwnerAction {
    Create {
        /// Where the account's temporary password is sent.
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "My Team")]
        team_name: String,
        /// The deployment's user pool (`make deploy` prints it as UserPoolId).
        #[arg(long, env = "COGNITO_USER_POOL_ID")]
        user_pool_id: String,
    },
}

#[derive(Subcommand)]
enum TeamAction {
    Create {
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum MemberAction {
    Add {
        #[arg(long)]
        team: String,
        /// The account's `sub` claim.
        #[arg(long)]
        user: String,
    },
    Remove {
        #[arg(long)]
        team: String,
        #[arg(long)]
        user: String,
    },
    /// Writes the by-user membership items (`USER#<sub>` / `MEMBEROF#<team>`)
    /// of memberships added before they existed; token creation needs
    /// them. Idempotent; run once after upgrading.
    Backfill,
}

#[derive(Subcommand)]
enum ProjectAction {
    Create {
        #[arg(long)]
        team: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum ApiKeyAction {
    /// Prints the key once; only its hash is stored.
    Create {
        #[arg(long)]
        project: String,
        /// Shown in the project's key list.
        #[arg(long, default_value = "default")]
        name: String,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Prints the token once; only its hash is stored.
    Create {
        /// The owning account's `sub` claim.
        #[arg(long)]
        user: String,
        #[arg(long)]
        name: String,
        /// Comma-separated: versions:read,versions:write
        #[arg(long)]
        scopes: String,
        #[arg(long, default_value_t = DEFAULT_PAT_LIFETIME_DAYS)]
        expires_in_days: u16,
        /// Comma-separated project ids of the account's teams: the token
        /// reaches only these (default: every project of its teams).
        #[arg(long)]
        projects: Option<String>,
        /// Comma-separated environments: the token reads and writes only
        /// these versions (default: every environment).
        #[arg(long)]
        environments: Option<String>,
    },
    /// Revokes one token of an account, or all of them (e.g. a leaked
    /// token the owner cannot reach).
    #[command(group = clap::ArgGroup::new("which").required(true).args(["all", "token"]))]
    Revoke {
        /// The owning account's `sub` claim.
        #[arg(long)]
        user: String,
        /// Every token of the account.
        #[arg(long)]
        all: bool,
        /// One token, by the id the account's token list shows.
        #[arg(long)]
        token: Option<String>,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(output) => {
            println!("{output}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("aau-admin: {message}");
            ExitCode::FAILURE
        }
    }
}

fn arg<T, E: std::fmt::Display>(name: &str, parsed: Result<T, E>) -> Result<T, String> {
    parsed.map_err(|e| format!("--{name} {e}"))
}

/// `--projects`: ids of projects in `owner`'s teams (the API's rule; the
/// operator may see every id, so the error names the others plainly).
async fn owners_projects(
    store: &DynamoStore,
    owner: &UserId,
    list: &str,
) -> Result<Vec<ProjectId>, String> {
    let requested = arg("projects", parse_projects(list.split(',')))?;
    if !requested.malformed.is_empty() {
        return Err(format!(
            "--projects has ids that are not project ids: {}",
            requested.malformed.join(", ")
        ));
    }
    let teams = store.teams_of(owner).await.map_err(|e| e.to_string())?;
    let found = store
        .teams_of_projects(&requested.ids)
        .await
        .map_err(|e| e.to_string())?;
    let outside: Vec<&str> = requested
        .ids
        .iter()
        .filter(|id| {
            !found
                .iter()
                .any(|(project, team)| project == *id && teams.contains(team))
        })
        .map(ProjectId::as_str)
        .collect();
    if !outside.is_empty() {
        return Err(format!(
            "--projects names projects that are not in the account's teams: {}",
            outside.join(", ")
        ));
    }
    Ok(requested.ids)
}

async fn run(cli: Cli) -> Result<Value, String> {
    let config = Config {
        versions_table: cli
            .versions_table
            .ok_or("set VERSIONS_TABLE or --versions-table")?,
        tokens_table: cli
            .tokens_table
            .ok_or("set TOKENS_TABLE or --tokens-table")?,
    };
    // The operator's own credentials: profiles, SSO and the rest of the
    // SDK's default chain.
    let sdk = app_upgrade::store::dynamo::load_sdk_config().await;
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &config);
    let now = Timestamp::now();
    let err = |e: app_upgrade::store::StoreError| e.to_string();
    match cli.command {
        Command::Tables {
            action: TablesAction::Create,
        } => {
            let created = store.create_tables().await.map_err(err)?;
            Ok(json!({
                "versionsTable": config.versions_table,
                "tokensTable": config.tokens_table,
                "created": created,
            }))
        }
        Command::Owner {
            action:
                OwnerAction::Create {
                    email,
                    team_name,
                    user_pool_id,
                },
        } => {
            let email = arg("email", Email::parse(&email))?;
            let team = Team {
                id: TeamId::generate(),
                name: arg("team-name", Name::parse(&team_name))?,
                created_at: now,
            };
            let accounts = CognitoAccounts::new(
                aws_sdk_cognitoidentityprovider::Client::new(&sdk),
                user_pool_id,
            );
            let account = accounts
                .ensure_account(&email)
                .await
                .map_err(|e| e.to_string())?;
            let owner = Membership {
                team_id: team.id.clone(),
                user_id: account.user.clone(),
                email: Some(email),
                role: Role::Owner,
                joined_at: now,
            };
            store
                .create_team_with_owner(&team, &owner, None)
                .await
                .map_err(err)?;
            Ok(json!({
                "teamId": team.id,
                "userId": account.user,
                "accountCreated": account.created,
            }))
        }
        Command::Team {
            action: TeamAction::Create { name },
        } => {
            let team = Team {
                id: TeamId::generate(),
                name: arg("name", Name::parse(&name))?,
                created_at: now,
            };
            store.create_team(&team).await.map_err(err)?;
            Ok(json!({ "teamId": team.id }))
        }
        Command::Versions {
            action: VersionsAction::Backfill,
        } => {
            let (projects, versions) = store.backfill_version_listings().await.map_err(err)?;
            Ok(json!({ "projects": projects, "versions": versions }))
        }
        Command::Member {
            action: MemberAction::Backfill,
        } => {
            let memberships = store.backfill_member_of().await.map_err(err)?;
            Ok(json!({ "memberships": memberships }))
        }
        Command::Member {
            action: MemberAction::Add { team, user },
        } => {
            let team = arg("team", TeamId::parse(&team))?;
            let user = arg("user", UserId::parse(&user))?;
            if !store.add_member(&team, &user).await.map_err(err)? {
                return Err(format!("team {team} does not exist"));
            }
            Ok(json!({ "teamId": team, "userId": user }))
        }
        Command::Member {
            action: MemberAction::Remove { team, user },
        } => {
            let team = arg("team", TeamId::parse(&team))?;
            let user = arg("user", UserId::parse(&user))?;
            if !store.remove_member(&team, &user).await.map_err(err)? {
                return Err(format!("{user} is not a member of team {team}"));
            }
            Ok(json!({ "teamId": team, "userId": user }))
        }
        Command::Project {
            action: ProjectAction::Create { team, name },
        } => {
            let project = Project::new(
                ProjectId::generate(),
                arg("team", TeamId::parse(&team))?,
                arg("name", Name::parse(&name))?,
                now,
            );
            if !store.create_project(&project, None).await.map_err(err)? {
                return Err(format!("team {} does not exist", project.team_id));
            }
            Ok(json!({ "projectId": project.id, "teamId": project.team_id }))
        }
        Command::ApiKey {
            action: ApiKeyAction::Create { project, name },
        } => {
            let project_id = arg("project", ProjectId::parse(&project))?;
            let project = store
                .get_project(&project_id)
                .await
                .map_err(err)?
                .ok_or_else(|| format!("project {project_id} does not exist"))?;
            let key = PlainSecret::generate(SecretKind::ApiKey).map_err(|e| e.to_string())?;
            let entry = ApiKeyEntry {
                id: ApiKeyId::generate(),
                project_id: project.id,
                team_id: project.team_id,
                name: arg("name", Name::parse(&name))?,
                hint: key.hint(),
                created_at: now,
                hash: key.hash(),
            };
            store
                .create_api_key_entry(&entry, None)
                .await
                .map_err(|refusal| refusal.to_string())?;
            Ok(json!({ "apiKey": key.expose(), "projectId": entry.project_id, "id": entry.id }))
        }
        Command::Token {
            action:
                TokenAction::Create {
                    user,
                    name,
                    scopes,
                    expires_in_days,
                    projects,
                    environments,
                },
        } => {
            let owner = arg("user", UserId::parse(&user))?;
            let name = arg("name", Name::parse(&name))?;
            let scopes = arg("scopes", Scopes::parse_list(&scopes))?;
            if !PAT_LIFETIME_DAYS.contains(&expires_in_days) {
                return Err("--expires-in-days must be between 1 and 366".into());
            }
            let projects = match projects {
                Some(list) => Some(owners_projects(&store, &owner, &list).await?),
                None => None,
            };
            let environments = environments
                .map(|list| arg("environments", parse_environments(list.split(','))))
                .transpose()?;
            let issued = issue_pat(owner, name.to_string(), scopes, expires_in_days, now)
                .map_err(|e| e.to_string())?
                .limited(TokenLimits::new(projects, environments));
            store.create_pat(&issued, None).await.map_err(err)?;
            Ok(json!({
                "id": issued.record.token_id,
                "token": issued.secret.expose(),
                "name": issued.record.name,
                "scopes": issued.record.scopes,
                "expiresAt": issued.record.expires_at,
                "projects": issued.record.limits.projects(),
                "environments": issued.record.limits.environments(),
            }))
        }
        Command::Token {
            action: TokenAction::Revoke { user, all, token },
        } => {
            let owner = arg("user", UserId::parse(&user))?;
            let revoked = match (all, token) {
                (true, _) => store.revoke_all_tokens(&owner, None).await.map_err(err)?,
                (false, Some(id)) => {
                    let id = arg("token", TokenId::parse(&id))?;
                    if !store.revoke_token(&owner, &id, None).await.map_err(err)? {
                        return Err(format!("{owner} has no token {id}"));
                    }
                    1
                }
                (false, None) => return Err("give --all or --token ID".into()),
            };
            Ok(json!({ "userId": owner, "revoked": revoked }))
        }
    }
}
