//! People's accounts: the deployment's user pool, as the team function
//! needs it — whose verified email a session is, and an account for an
//! invited address.

use std::future::Future;

use crate::domain::{Email, UserId};
use crate::store::StoreError;

/// An account an invitation made sure of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitedAccount {
    pub user: UserId,
    /// `true` when the account was created now (and told how to sign in),
    /// `false` when the address already had one.
    pub created: bool,
}

/// Why an account could not be made sure of.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    /// The user pool refuses the address (its rules for an email are its
    /// own, e.g. no `/` or non-ASCII letters in Cognito's): bad input, not
    /// an outage or a bug.
    #[error("the user pool does not accept this email address")]
    EmailRefused,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub trait AccountDirectory: Send + Sync {
    /// The account's email, only if the user pool has verified it.
    /// `username`: the session's `username` claim.
    fn verified_email(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<Email>, StoreError>> + Send;

    /// An account for `email`: the existing one, or a new one whose
    /// temporary password the pool delivers (in AWS, Cognito's invitation
    /// email).
    fn ensure_account(
        &self,
        email: &Email,
    ) -> impl Future<Output = Result<InvitedAccount, AccountError>> + Send;
}

#[cfg(feature = "cognito")]
pub use cognito::CognitoAccounts;

#[cfg(feature = "cognito")]
mod cognito {
    use aws_sdk_cognitoidentityprovider::Client;
    use aws_sdk_cognitoidentityprovider::error::{DisplayErrorContext, ProvideErrorMetadata};
    use aws_sdk_cognitoidentityprovider::types::{AttributeType, DeliveryMediumType};

    use super::{AccountDirectory, AccountError, InvitedAccount};
    use crate::domain::{Email, UserId};
    use crate::store::StoreError;

    /// The user pool's admin API (`AdminGetUser`, `AdminCreateUser`).
    /// Without a pool (a deployment signing in with an external identity
    /// provider) no email is known verified and no account can be made.
    #[derive(Debug, Clone)]
    pub struct CognitoAccounts {
        client: Client,
        pool_id: Option<String>,
        #[cfg(feature = "local-jwt")]
        outbox: Option<std::path::PathBuf>,
    }

    impl CognitoAccounts {
        pub fn new(client: Client, pool_id: impl Into<String>) -> Self {
            Self {
                client,
                pool_id: Some(pool_id.into()).filter(|pool: &String| !pool.trim().is_empty()),
                #[cfg(feature = "local-jwt")]
                outbox: None,
            }
        }

        /// From `COGNITO_USER_POOL_ID` (empty or unset: no pool), with the
        /// functions' SDK settings (the emulator's endpoint comes from
        /// `AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER`, read by the SDK).
        pub fn from_sdk(sdk: &aws_config::SdkConfig) -> Result<Self, String> {
            let pool = std::env::var("COGNITO_USER_POOL_ID").unwrap_or_default();
            #[allow(unused_mut)]
            let mut accounts = Self::new(Client::new(sdk), pool);
            #[cfg(feature = "local-jwt")]
            {
                accounts.outbox = std::env::var_os("LOCAL_OUTBOX").map(Into::into);
            }
            Ok(accounts)
        }

        /// `make run` only: what AWS would email goes to a file in this
        /// directory instead (the emulator sends no email), readable by the
        /// person running the stack and nowhere in a log.
        #[cfg(feature = "local-jwt")]
        pub fn with_outbox(mut self, dir: std::path::PathBuf) -> Self {
            self.outbox = Some(dir);
            self
        }

        fn pool(&self) -> Result<&str, StoreError> {
            self.pool_id.as_deref().ok_or_else(|| {
                StoreError::Conflict(
                    "this deployment signs in with an external identity provider: \
                     invitations need its built-in user pool"
                        .into(),
                )
            })
        }

        async fn get_user(&self, username: &str) -> Result<Option<Vec<AttributeType>>, StoreError> {
            match self
                .client
                .admin_get_user()
                .user_pool_id(self.pool()?)
                .username(username)
                .send()
                .await
            {
                Ok(user) => Ok(Some(user.user_attributes.unwrap_or_default())),
                Err(err) if err.code() == Some("UserNotFoundException") => Ok(None),
                Err(err) => Err(classify(&err)),
            }
        }
    }

    fn attribute<'a>(attributes: &'a [AttributeType], name: &str) -> Option<&'a str> {
        attributes
            .iter()
            .find(|a| a.name() == name)
            .and_then(|a| a.value())
    }

    fn classify<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
        err: &aws_sdk_cognitoidentityprovider::error::SdkError<E, R>,
    ) -> StoreError {
        use aws_sdk_cognitoidentityprovider::error::SdkError;
        match err {
            SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
                StoreError::Unavailable(DisplayErrorContext(err).to_string())
            }
            _ if matches!(
                err.code(),
                Some(
                    "TooManyRequestsException"
                        | "InternalErrorException"
                        | "LimitExceededException"
                )
            ) =>
            {
                StoreError::Unavailable(DisplayErrorContext(err).to_string())
            }
            _ => StoreError::Internal(format!(
                "user pool: {}",
                err.code().unwrap_or("unexpected error")
            )),
        }
    }

    fn user_id(attributes: &[AttributeType]) -> Result<UserId, StoreError> {
        attribute(attributes, "sub")
            .and_then(|sub| UserId::parse(sub).ok())
            .ok_or_else(|| StoreError::Internal("a user pool account without a sub".into()))
    }

    impl AccountDirectory for CognitoAccounts {
        async fn verified_email(&self, username: &str) -> Result<Option<Email>, StoreError> {
            if self.pool_id.is_none() {
                return Ok(None);
            }
            let Some(attributes) = self.get_user(username).await? else {
                return Ok(None);
            };
            if attribute(&attributes, "email_verified") != Some("true") {
                return Ok(None);
            }
            Ok(attribute(&attributes, "email").and_then(|e| Email::parse(e).ok()))
        }

        async fn ensure_account(&self, email: &Email) -> Result<InvitedAccount, AccountError> {
            if let Some(attributes) = self.get_user(email.as_str()).await? {
                return Ok(InvitedAccount {
                    user: user_id(&attributes)?,
                    created: false,
                });
            }
            #[cfg_attr(not(feature = "local-jwt"), allow(unused_mut))]
            let mut create = self
                .client
                .admin_create_user()
                .user_pool_id(self.pool()?)
                .username(email.as_str())
                .user_attributes(
                    AttributeType::builder()
                        .name("email")
                        .value(email.as_str())
                        .build()
                        .map_err(|e| StoreError::Internal(e.to_string()))?,
                )
                // The temporary password reaches only this address, so
                // signing in with it proves the address.
                .user_attributes(
                    AttributeType::builder()
                        .name("email_verified")
                        .value("true")
                        .build()
                        .map_err(|e| StoreError::Internal(e.to_string()))?,
                )
                .desired_delivery_mediums(DeliveryMediumType::Email);
            #[cfg(feature = "local-jwt")]
            let password = match &self.outbox {
                Some(_) => {
                    let password = local_password()?;
                    create = create.temporary_password(&password).message_action(
                        aws_sdk_cognitoidentityprovider::types::MessageActionType::Suppress,
                    );
                    Some(password)
                }
                None => None,
            };
            let created = match create.send().await {
                Ok(created) => created,
                // Created between the read and now: someone else's invite.
                Err(err) if err.code() == Some("UsernameExistsException") => {
                    let attributes = self.get_user(email.as_str()).await?.ok_or_else(|| {
                        StoreError::Conflict("the account is being created".into())
                    })?;
                    return Ok(InvitedAccount {
                        user: user_id(&attributes)?,
                        created: false,
                    });
                }
                Err(err) if err.code() == Some("InvalidParameterException") => {
                    return Err(AccountError::EmailRefused);
                }
                Err(err) => return Err(classify(&err).into()),
            };
            let attributes = created
                .user
                .and_then(|user| user.attributes)
                .unwrap_or_default();
            #[cfg(feature = "local-jwt")]
            if let (Some(dir), Some(password)) = (&self.outbox, password) {
                write_outbox(dir, email, &password)?;
            }
            Ok(InvitedAccount {
                user: user_id(&attributes)?,
                created: true,
            })
        }
    }

    /// A temporary password that meets the pool's policy (12+ characters,
    /// upper, lower, digit, symbol).
    #[cfg(feature = "local-jwt")]
    fn local_password() -> Result<String, StoreError> {
        let secret = crate::domain::PlainSecret::generate(crate::domain::SecretKind::Pat)
            .map_err(|e| StoreError::Internal(e.to_string()))?;
        Ok(format!("Tmp-{}-9a", &secret.expose()[4..20]))
    }

    /// `<millis>-<email>.txt`, with anything but letters, digits and
    /// `@._+-` replaced: an address may hold a `/`.
    #[cfg(feature = "local-jwt")]
    pub(super) fn outbox_file_name(millis: i64, email: &Email) -> String {
        let safe: String = email
            .as_str()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "@._+-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("{millis}-{safe}.txt")
    }

    /// One file per email, as the person would receive it.
    #[cfg(feature = "local-jwt")]
    fn write_outbox(
        dir: &std::path::Path,
        email: &Email,
        password: &str,
    ) -> Result<(), StoreError> {
        use std::io::Write;
        let fail = |e: std::io::Error| StoreError::Internal(format!("local outbox: {e}"));
        std::fs::create_dir_all(dir).map_err(fail)?;
        let millis = crate::domain::Timestamp::now().unix_millis();
        let path = dir.join(outbox_file_name(millis, email));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(fail)?;
        let url = std::env::var("LOCAL_SIGN_IN_URL").unwrap_or_default();
        write!(
            file,
            "To: {email}\nSubject: You are invited to App Upgrade\n\nUsername: {email}\nTemporary password: {password}\nSign in: {url}\n"
        )
        .map_err(fail)?;
        tracing::info!(path = %path.display(), "invitation email written to the local outbox");
        Ok(())
    }
}

#[cfg(all(test, feature = "cognito", feature = "local-jwt"))]
mod tests {
    use crate::domain::Email;

    #[test]
    fn an_outbox_file_name_is_one_file_in_the_outbox() {
        let email = Email::parse("Ana/Bo@Example.com").expect("a valid address");
        assert_eq!(
            super::cognito::outbox_file_name(1, &email),
            "1-ana_bo@example.com.txt"
        );
    }
}
