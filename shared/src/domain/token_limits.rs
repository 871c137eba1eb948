//! Least privilege: what a PAT may reach beyond its scopes. A token may be
//! limited, at creation, to some projects and to some environments; each
//! axis left out (`None`) is unlimited, so a token created without limits
//! reaches what its owner reaches, as before limits existed.
//!
//! The limits are stored in the token's credential item and read with it:
//! checking them costs no read.

use std::collections::HashSet;

use super::{Environment, ProjectId};

/// Projects a limited token may name.
pub const MAX_LIMIT_PROJECTS: usize = 50;
/// Environments a limited token may name.
pub const MAX_LIMIT_ENVIRONMENTS: usize = 20;

/// The projects and environments a PAT is limited to; `None`: all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenLimits {
    projects: Option<Vec<ProjectId>>,
    environments: Option<Vec<Environment>>,
}

impl TokenLimits {
    /// No limits: everything the owner reaches.
    pub fn none() -> Self {
        Self::default()
    }

    /// Limits as stored (already checked when the token was created).
    pub fn new(projects: Option<Vec<ProjectId>>, environments: Option<Vec<Environment>>) -> Self {
        Self {
            projects,
            environments,
        }
    }

    pub fn projects(&self) -> Option<&[ProjectId]> {
        self.projects.as_deref()
    }

    pub fn environments(&self) -> Option<&[Environment]> {
        self.environments.as_deref()
    }

    pub fn is_unlimited(&self) -> bool {
        self.projects.is_none() && self.environments.is_none()
    }

    pub fn reaches_project(&self, project: &ProjectId) -> bool {
        self.projects
            .as_ref()
            .is_none_or(|projects| projects.contains(project))
    }

    /// Environments are stored lower-cased, by versions and by limits alike.
    pub fn reaches_environment(&self, environment: &Environment) -> bool {
        self.environments
            .as_ref()
            .is_none_or(|environments| environments.contains(environment))
    }
}

/// Why a requested limit list was refused; the message is safe to show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitListError {
    #[error("must name at least one {0}, or be left out for all")]
    Empty(&'static str),
    #[error("may name at most {max} {what}")]
    TooMany { max: usize, what: &'static str },
    #[error("names {0} more than once")]
    Duplicate(String),
    #[error("{0}")]
    Invalid(String),
}

/// A requested project list: the well-formed ids, and the inputs that
/// cannot be project ids at all. Whether the well-formed ones are in the
/// owner's teams is the store's to say; the caller reports both kinds with
/// one message, so nobody learns which ids exist elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedProjects {
    pub ids: Vec<ProjectId>,
    pub malformed: Vec<String>,
}

/// Parses a requested `projects` list: 1 to [`MAX_LIMIT_PROJECTS`] entries,
/// no repeats.
pub fn parse_projects<'a>(
    items: impl IntoIterator<Item = &'a str>,
) -> Result<RequestedProjects, LimitListError> {
    let items: Vec<&str> = items.into_iter().map(str::trim).collect();
    check_count(items.len(), MAX_LIMIT_PROJECTS, ("project", "projects"))?;
    check_unique(&items)?;
    let mut requested = RequestedProjects {
        ids: Vec::new(),
        malformed: Vec::new(),
    };
    for item in items {
        match ProjectId::parse(item) {
            Ok(id) => requested.ids.push(id),
            Err(_) => requested.malformed.push(item.to_owned()),
        }
    }
    Ok(requested)
}

/// Parses a requested `environments` list with a version's own rules
/// (trimmed, 1 to 32 characters, lower-cased): 1 to
/// [`MAX_LIMIT_ENVIRONMENTS`] entries, no repeats once lower-cased.
pub fn parse_environments<'a>(
    items: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Environment>, LimitListError> {
    let items: Vec<&str> = items.into_iter().collect();
    check_count(
        items.len(),
        MAX_LIMIT_ENVIRONMENTS,
        ("environment", "environments"),
    )?;
    let environments = items
        .into_iter()
        .map(|item| {
            Environment::parse(item).map_err(|why| {
                LimitListError::Invalid(format!("has an environment that {}", why.0))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let names: Vec<&str> = environments.iter().map(Environment::as_str).collect();
    check_unique(&names)?;
    Ok(environments)
}

/// `what`: the singular and the plural.
fn check_count(
    len: usize,
    max: usize,
    (one, many): (&'static str, &'static str),
) -> Result<(), LimitListError> {
    match len {
        0 => Err(LimitListError::Empty(one)),
        n if n > max => Err(LimitListError::TooMany { max, what: many }),
        _ => Ok(()),
    }
}

fn check_unique(items: &[&str]) -> Result<(), LimitListError> {
    let mut seen = HashSet::new();
    match items.iter().find(|item| !seen.insert(**item)) {
        Some(repeated) => Err(LimitListError::Duplicate((*repeated).to_owned())),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Environment {
        Environment::parse(name).expect("valid")
    }

    #[test]
    fn no_limits_reach_everything() {
        let limits = TokenLimits::none();
        assert!(limits.is_unlimited());
        assert!(limits.reaches_project(&ProjectId::generate()));
        assert!(limits.reaches_environment(&env("production")));
    }

    #[test]
    fn each_axis_limits_on_its_own() {
        let a = ProjectId::generate();
        let only_a = TokenLimits::new(Some(vec![a.clone()]), None);
        assert!(only_a.reaches_project(&a));
        assert!(!only_a.reaches_project(&ProjectId::generate()));
        assert!(only_a.reaches_environment(&env("production")));

        let staging = TokenLimits::new(None, Some(vec![env("staging")]));
        assert!(!staging.is_unlimited());
        assert!(staging.reaches_project(&a));
        assert!(staging.reaches_environment(&env(" STAGING ")));
        assert!(!staging.reaches_environment(&env("production")));
    }

    #[test]
    fn environments_parse_as_a_versions_do() {
        let parsed = parse_environments([" Staging", "QA"]).expect("valid");
        assert_eq!(parsed, vec![env("staging"), env("qa")]);
        assert_eq!(
            parse_environments(["staging", "STAGING "]),
            Err(LimitListError::Duplicate("staging".into()))
        );
        assert!(matches!(
            parse_environments(["  "]),
            Err(LimitListError::Invalid(_))
        ));
        assert!(matches!(
            parse_environments([&*"x".repeat(33)]),
            Err(LimitListError::Invalid(_))
        ));
        assert!(parse_environments([&*"x".repeat(32)]).is_ok());
        assert_eq!(
            parse_environments([]),
            Err(LimitListError::Empty("environment"))
        );
        let names: Vec<String> = (0..21).map(|i| format!("env{i}")).collect();
        assert_eq!(
            parse_environments(names.iter().map(String::as_str)),
            Err(LimitListError::TooMany {
                max: 20,
                what: "environments"
            })
        );
        assert!(parse_environments(names[..20].iter().map(String::as_str)).is_ok());
    }

    #[test]
    fn projects_parse_and_set_aside_what_cannot_be_an_id() {
        let a = ProjectId::generate();
        let parsed = parse_projects([a.as_str(), "prj_nope", "team_x"]).expect("listed");
        assert_eq!(parsed.ids, vec![a.clone()]);
        assert_eq!(parsed.malformed, vec!["prj_nope", "team_x"]);
        assert_eq!(
            parse_projects([a.as_str(), &format!(" {a}")]),
            Err(LimitListError::Duplicate(a.to_string()))
        );
        assert_eq!(parse_projects([]), Err(LimitListError::Empty("project")));
        let many: Vec<String> = (0..51).map(|_| ProjectId::generate().to_string()).collect();
        assert!(matches!(
            parse_projects(many.iter().map(String::as_str)),
            Err(LimitListError::TooMany { max: 50, .. })
        ));
        assert!(parse_projects(many[..50].iter().map(String::as_str)).is_ok());
    }
}
