//! Service errors as the portal answers them: the one place where a use case's error
//! becomes a status and a sentence. Failures of the database were logged by the service;
//! here they become a fixed sentence.

use service::ServiceError;
use service::admins::SetupLinkError;
use service::directory_browser::BrowseError;
use service::directory_sync::roles::RoleError;
use service::email_confirmation::ConfirmationError;
use service::onboarding::OnboardingError;
use service::operators::OperatorError;
use service::session::SessionError;
use service::sso::SsoError;
use service::tenants::TenantError;
use service::webhooks::WebhookError;

use crate::error::PortalError;

impl PortalError {
    /// A directory id that is not one of the admin's tenant's directories (or no id).
    pub fn no_such_directory() -> Self {
        PortalError::NotFound("There is no such directory in your organisation.".to_owned())
    }

    /// A token id that is not one of the directory's tokens (or no id).
    pub fn no_such_token() -> Self {
        PortalError::NotFound("This directory has no such token.".to_owned())
    }

    /// A tenant name that names no tenant (or is no name).
    pub fn no_such_tenant() -> Self {
        PortalError::NotFound("This tenant does not exist (any more).".to_owned())
    }

    /// A webhook or delivery id that is not the tenant's (or no id).
    pub fn no_such_webhook() -> Self {
        PortalError::NotFound("This webhook or dead letter does not exist (any more).".to_owned())
    }

    /// A refused sign-in. Whatever was wrong with the email or the password, the answer is
    /// the same, so that it does not tell which accounts exist.
    pub fn sign_in_refused(error: OperatorError) -> Self {
        match error {
            OperatorError::Throttled => {
                PortalError::Throttled("Too many sign-in attempts. Wait a minute, then try again.".to_owned())
            }
            OperatorError::Service(_) => {
                PortalError::Unavailable("Signing in is unavailable right now. Try again shortly.".to_owned())
            }
            OperatorError::InvalidCredentials
            | OperatorError::InvalidEmail
            | OperatorError::PasswordTooShort
            | OperatorError::EmailTaken => {
                // The same words whether or not the email is anyone's sign-in name; the
                // hint helps a new admin who has not confirmed theirs yet.
                PortalError::Unauthorized(
                    "The email or the password is not right. New here? Confirm your email first, with the link \
                     we mailed to it."
                        .to_owned(),
                )
            }
        }
    }

    /// Input the service refused, with its own words as a sentence.
    fn invalid(error: &impl std::fmt::Display) -> Self {
        PortalError::Invalid(service::sentence(&error.to_string()))
    }
}

impl From<ServiceError> for PortalError {
    fn from(_: ServiceError) -> Self {
        PortalError::unavailable()
    }
}

impl From<service::audit::RetentionError> for PortalError {
    fn from(error: service::audit::RetentionError) -> Self {
        match error {
            service::audit::RetentionError::Service(error) => error.into(),
            refused => PortalError::Invalid(refused.to_string()),
        }
    }
}

impl From<service::directories::AddDirectoryError> for PortalError {
    fn from(error: service::directories::AddDirectoryError) -> Self {
        use service::directories::AddDirectoryError;
        match error {
            AddDirectoryError::TooMany { .. } => PortalError::Conflict(service::sentence(&error.to_string())),
            AddDirectoryError::Service(_) => PortalError::unavailable(),
        }
    }
}

impl From<SessionError> for PortalError {
    fn from(error: SessionError) -> Self {
        match error {
            SessionError::Store(_) => PortalError::sessions_unavailable(),
            SessionError::Service(_) => PortalError::unavailable(),
            SessionError::Sealing(_) => PortalError::sessions_unavailable(),
        }
    }
}

impl From<OnboardingError> for PortalError {
    fn from(error: OnboardingError) -> Self {
        match error {
            OnboardingError::NotFound => PortalError::no_such_directory(),
            OnboardingError::InvalidMapping(message) => PortalError::Invalid(service::sentence(&message)),
            OnboardingError::Service(_) => PortalError::unavailable(),
        }
    }
}

impl From<SetupLinkError> for PortalError {
    fn from(error: SetupLinkError) -> Self {
        let sentence = service::sentence(&error.to_string());
        match error {
            SetupLinkError::Service(_) => PortalError::unavailable(),
            SetupLinkError::Unknown | SetupLinkError::NoSuchLink => PortalError::NotFound(sentence),
            SetupLinkError::Used | SetupLinkError::Expired | SetupLinkError::Revoked => PortalError::Gone(sentence),
            SetupLinkError::EmailTaken => PortalError::Conflict(sentence),
            SetupLinkError::InvalidLifetime
            | SetupLinkError::InvalidEmail
            | SetupLinkError::PasswordTooShort
            | SetupLinkError::InvalidRecipient(_) => PortalError::Invalid(sentence),
            SetupLinkError::NoMail | SetupLinkError::NotSent(_) => PortalError::Unavailable(sentence),
        }
    }
}

impl From<ConfirmationError> for PortalError {
    fn from(error: ConfirmationError) -> Self {
        let sentence = service::sentence(&error.to_string());
        match error {
            ConfirmationError::Service(_) => PortalError::unavailable(),
            ConfirmationError::Unknown | ConfirmationError::Stale => PortalError::NotFound(sentence),
            ConfirmationError::Used | ConfirmationError::Expired => PortalError::Gone(sentence),
            ConfirmationError::Taken | ConfirmationError::AlreadyConfirmed => PortalError::Conflict(sentence),
            ConfirmationError::NoMail | ConfirmationError::Mail(_) => PortalError::Unavailable(sentence),
        }
    }
}

impl From<TenantError> for PortalError {
    fn from(error: TenantError) -> Self {
        match error {
            TenantError::Service(_) => PortalError::unavailable(),
            // A taken name is refused like an invalid one: the form asks for another.
            TenantError::InvalidSlug(_) | TenantError::InvalidDisplayName | TenantError::SlugTaken(_) => {
                PortalError::invalid(&error)
            }
        }
    }
}

/// Adding an operator account (sign-in refusals are [`PortalError::sign_in_refused`]).
impl From<OperatorError> for PortalError {
    fn from(error: OperatorError) -> Self {
        match error {
            OperatorError::Service(_) => PortalError::unavailable(),
            OperatorError::EmailTaken => PortalError::Conflict(service::sentence(&error.to_string())),
            OperatorError::Throttled => PortalError::sign_in_refused(error),
            OperatorError::InvalidEmail | OperatorError::PasswordTooShort | OperatorError::InvalidCredentials => {
                PortalError::invalid(&error)
            }
        }
    }
}

/// Configuring a tenant's single sign-on (the sign-in itself runs outside server
/// functions, in the server's `/sso` routes).
impl From<SsoError> for PortalError {
    fn from(error: SsoError) -> Self {
        match error {
            SsoError::InvalidSettings(message) => PortalError::Invalid(service::sentence(&message)),
            _ => PortalError::unavailable(),
        }
    }
}

impl From<BrowseError> for PortalError {
    fn from(error: BrowseError) -> Self {
        match error {
            BrowseError::NotFound => PortalError::no_such_directory(),
            BrowseError::NoSuchResource => PortalError::NotFound(service::sentence(&error.to_string())),
            BrowseError::SearchTooLong => PortalError::invalid(&error),
            // The protocol's own words, as the directory's SCIM clients read them.
            BrowseError::Refused(error) => PortalError::Invalid(error.to_string()),
            BrowseError::Service(_) => PortalError::unavailable(),
        }
    }
}

impl From<WebhookError> for PortalError {
    fn from(error: WebhookError) -> Self {
        match error {
            WebhookError::InvalidTarget(message) => PortalError::Invalid(service::sentence(&message)),
            WebhookError::UnknownWebhook(_) | WebhookError::UnknownDeadLetter(_) => PortalError::no_such_webhook(),
            WebhookError::Service(_) => PortalError::unavailable(),
        }
    }
}

/// Roles (the console's) and their grants (the admin's). An invalid role names its field in
/// its sentence; a grant of a group or role that no longer exists reads the same way.
impl From<RoleError> for PortalError {
    fn from(error: RoleError) -> Self {
        match error {
            RoleError::Invalid { .. } => PortalError::invalid(&error),
            RoleError::NotFound(_) => PortalError::NotFound(service::sentence(&error.to_string())),
            RoleError::Conflict(_) => PortalError::Conflict(service::sentence(&error.to_string())),
            RoleError::Service(_) => PortalError::unavailable(),
        }
    }
}

impl From<service::api_keys::ApiKeyChangeError> for PortalError {
    fn from(error: service::api_keys::ApiKeyChangeError) -> Self {
        use service::api_keys::ApiKeyChangeError;
        match error {
            ApiKeyChangeError::NoSuchKey => PortalError::NotFound(error.to_string()),
            ApiKeyChangeError::BeyondIssuer(_) => PortalError::Forbidden(error.to_string()),
            ApiKeyChangeError::Service(_) => PortalError::unavailable(),
            ApiKeyChangeError::Label | ApiKeyChangeError::NoArea | ApiKeyChangeError::Lifetime => {
                PortalError::Invalid(error.to_string())
            }
        }
    }
}

impl From<service::branding::BrandingError> for PortalError {
    fn from(error: service::branding::BrandingError) -> Self {
        match error {
            service::branding::BrandingError::Service(_) => PortalError::unavailable(),
            refused => PortalError::Invalid(refused.to_string()),
        }
    }
}

impl From<service::nonhuman::OwnerPolicyError> for PortalError {
    fn from(error: service::nonhuman::OwnerPolicyError) -> Self {
        use service::nonhuman::OwnerPolicyError;
        match error {
            OwnerPolicyError::Service(_) => PortalError::unavailable(),
            OwnerPolicyError::NoSuchDirectory => PortalError::NotFound("No such directory.".to_owned()),
            refused => PortalError::invalid(&refused),
        }
    }
}

impl From<service::nonhuman::NonhumanExtensionError> for PortalError {
    fn from(error: service::nonhuman::NonhumanExtensionError) -> Self {
        use service::nonhuman::NonhumanExtensionError;
        match error {
            NonhumanExtensionError::Service(_) => PortalError::unavailable(),
            NonhumanExtensionError::NoSuchDirectory => PortalError::NotFound("No such directory.".to_owned()),
            refused => PortalError::invalid(&refused),
        }
    }
}

impl From<service::stale_users::StaleUsersError> for PortalError {
    fn from(error: service::stale_users::StaleUsersError) -> Self {
        use service::stale_users::StaleUsersError;
        match error {
            StaleUsersError::Service(_) => PortalError::unavailable(),
            StaleUsersError::NoSuchDirectory => PortalError::NotFound("No such directory.".to_owned()),
            refused => PortalError::invalid(&refused),
        }
    }
}

impl From<service::suspensions::SuspensionError> for PortalError {
    fn from(error: service::suspensions::SuspensionError) -> Self {
        use service::suspensions::SuspensionError;
        match error {
            SuspensionError::Service(_) => PortalError::unavailable(),
            SuspensionError::NoSuchUser => PortalError::NotFound("No such user in this directory.".to_owned()),
            refused => PortalError::invalid(&refused),
        }
    }
}

impl From<service::google::connections::ConnectError> for PortalError {
    fn from(error: service::google::connections::ConnectError) -> Self {
        use service::google::connections::ConnectError;
        match error {
            ConnectError::Service(_) => PortalError::unavailable(),
            ConnectError::NoSuchDirectory => PortalError::NotFound("No such directory.".to_owned()),
            refused => PortalError::invalid(&refused),
        }
    }
}
