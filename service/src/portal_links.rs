//! Admin Portal links: how the vendor's product sends a customer's IT admin, whom it has
//! already authenticated, straight into that tenant's setup wizard (WorkOS
//! `adminPortal.generateLink`, `POST /portal/generate_link`).
//!
//! A link is `{public base}/portal-link/plink_<256 random bits, base64url>`: single-use,
//! valid for [`PORTAL_LINK_LIFETIME`], bound to one tenant; only the SHA-256 digest of the
//! secret is stored. Opening it makes no account and asks for no password: the person is
//! whoever the vendor vouched for, so the session and the audit trail name the link
//! ([`Actor::PortalLink`]), which names its API key and the vendor's `external_user_id`
//! and IT contacts. The session keeps the link's `return_url` and `success_url`, where the
//! wizard sends the admin back to the vendor's product.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use store::{NewPortalLink, PortalLinkId, Store, StoreError, TenantId};

use crate::actor::Actor;
use crate::directories::digest;
use crate::onboarding::Step;
use crate::operators::OperatorEmail;
use crate::{Effects, ServiceError};

const PORTAL_LINK_PREFIX: &str = "plink_";

/// How long a link can be opened after it was made: long enough for the vendor's product
/// to redirect the browser, short enough that a link found later in a log opens nothing.
pub const PORTAL_LINK_LIFETIME: Duration = Duration::minutes(5);

/// The only intent this deployment's Admin Portal has: the directory sync setup wizard.
pub const DSYNC_INTENT: &str = "dsync";

/// The most IT contacts a link records, and the longest name or address it keeps.
const MAX_CONTACTS: usize = 20;
const MAX_TEXT: usize = 2_000;

/// What the vendor's product asks for (the body of `POST /portal/generate_link`).
#[derive(Debug, Clone, Default)]
pub struct PortalLinkRequest {
    pub intent: Option<String>,
    pub return_url: Option<String>,
    pub success_url: Option<String>,
    pub it_contact_emails: Vec<String>,
    pub external_user_id: Option<String>,
}

/// A link just made: the secret is here once and never stored.
#[derive(Debug, Clone)]
pub struct IssuedPortalLink {
    pub id: PortalLinkId,
    pub secret: String,
    pub expires_at: DateTime<Utc>,
}

impl IssuedPortalLink {
    /// The address the vendor's product sends the browser to.
    pub fn url(&self, public_base: &str) -> String {
        format!("{}/portal-link/{}", public_base.trim_end_matches('/'), self.secret)
    }
}

/// Why a link was not made, or opens nothing.
#[derive(Debug, thiserror::Error)]
pub enum PortalLinkError {
    /// `organization` names no tenant.
    #[error("organization {0} not found")]
    UnknownOrganization(String),
    /// A field of the request is missing or malformed: `field` names it.
    #[error("{message}")]
    Invalid { field: &'static str, message: String },
    #[error(
        "this sign-in link is not valid: check that it was copied whole, or start again from the product you came from"
    )]
    Unknown,
    #[error("this sign-in link has been used already: links work once, so start again from the product you came from")]
    Used,
    #[error("this sign-in link has expired (links work for five minutes): start again from the product you came from")]
    Expired,
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<StoreError> for PortalLinkError {
    fn from(error: StoreError) -> Self {
        PortalLinkError::Service(error.into())
    }
}

/// Makes a link into `organization`'s setup wizard (an `org_…` id of the compatible API)
/// and records `portal_link.created` by `actor` (the vendor's API key) with it.
pub async fn create_portal_link(
    store: &Store,
    organization: &str,
    request: PortalLinkRequest,
    actor: &Actor,
    effects: &Effects,
) -> Result<IssuedPortalLink, PortalLinkError> {
    let now = effects.now();
    check_intent(request.intent.as_deref())?;
    let return_url = request.return_url.as_deref().map(|url| vendor_url("return_url", url)).transpose()?;
    let success_url = request.success_url.as_deref().map(|url| vendor_url("success_url", url)).transpose()?;
    let it_contact_emails = contacts(&request.it_contact_emails)?;
    let external_user_id = match request.external_user_id.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(id) if id.len() > MAX_TEXT => return Err(invalid("external_user_id", "`external_user_id` is too long")),
        Some(id) => Some(id.to_owned()),
    };
    // The organization is looked up after the body is checked, so a bad request says what
    // is wrong with it whatever organization it names.
    let unknown = || PortalLinkError::UnknownOrganization(organization.to_owned());
    let tenant = crate::directory_sync::ids::parse_organization(organization).ok_or_else(unknown)?;
    store.tenant_by_id(tenant).await?.ok_or_else(unknown)?;
    let secret = format!("{PORTAL_LINK_PREFIX}{}", effects.secret(32));
    let link = NewPortalLink {
        id: effects.id(),
        digest: digest(&secret),
        created_by: actor.audit_name(),
        created_at: now,
        expires_at: now + PORTAL_LINK_LIFETIME,
        return_url,
        success_url,
        external_user_id,
        it_contact_emails,
    };
    let mut action = store.tenant(tenant).begin_action().await?;
    action.insert_portal_link(&link).await?;
    let detail = json!({
        "portal_link": link.id.to_string(),
        "intent": DSYNC_INTENT,
        "expires_at": link.expires_at,
        "return_url": link.return_url,
        "success_url": link.success_url,
        "external_user_id": link.external_user_id,
        "it_contact_emails": link.it_contact_emails,
    });
    action.commit(actor.record("portal_link.created", None, detail, now)).await?;
    Ok(IssuedPortalLink { id: link.id, secret, expires_at: link.expires_at })
}

/// Someone signed in through a link: who the vendor said they are, the tenant, where the
/// wizard sends them back, and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortalLinkVisit {
    pub link: PortalLinkId,
    pub tenant: TenantId,
    /// The vendor's user id, else the first IT contact email, else a description.
    pub name: String,
    pub return_url: Option<String>,
    pub success_url: Option<String>,
    /// The portal page to open first (see [`landing_page`]).
    pub landing: String,
}

impl PortalLinkVisit {
    /// The visitor as the actor of what they do.
    pub fn actor(&self) -> Actor {
        Actor::PortalLink { link: self.link, name: self.name.clone() }
    }
}

/// Uses a link: marks it used and records `portal_link.signed_in`, in one transaction. Two
/// visits racing with one link sign in once; the other gets [`PortalLinkError::Used`].
pub async fn redeem_portal_link(
    store: &Store,
    secret: &str,
    effects: &Effects,
) -> Result<PortalLinkVisit, PortalLinkError> {
    let now = effects.now();
    let secret = secret.trim();
    if !secret.starts_with(PORTAL_LINK_PREFIX) || secret.len() > 100 {
        return Err(PortalLinkError::Unknown);
    }
    let link = store.portal_link_by_digest(&digest(secret)).await?.ok_or(PortalLinkError::Unknown)?;
    if link.used_at.is_some() {
        return Err(PortalLinkError::Used);
    }
    if link.expires_at <= now {
        return Err(PortalLinkError::Expired);
    }
    let name = link
        .external_user_id
        .clone()
        .or_else(|| link.it_contact_emails.first().cloned())
        .unwrap_or_else(|| "IT admin (signed in through the vendor's product)".to_owned());
    let landing = landing_page(store, link.tenant).await?;
    let visit = PortalLinkVisit {
        link: link.id,
        tenant: link.tenant,
        name,
        return_url: link.return_url,
        success_url: link.success_url,
        landing,
    };
    let mut action = store.tenant(link.tenant).begin_action().await?;
    if !action.use_portal_link(link.id, now).await? {
        return Err(PortalLinkError::Used);
    }
    let detail = json!({ "portal_link": link.id.to_string(), "created_by": link.created_by });
    action.commit(visit.actor().record("portal_link.signed_in", None, detail, now)).await?;
    Ok(visit)
}

/// Where a link lands: the wizard of the tenant's first directory whose setup is not
/// complete, at the furthest step reached; the wizard's first step when the tenant has no
/// directory yet; the tenant's directory list when every directory is set up.
async fn landing_page(store: &Store, tenant: TenantId) -> Result<String, ServiceError> {
    let setups = crate::onboarding::directory_setups(store, tenant).await?;
    if setups.is_empty() {
        return Ok("/admin/connect".to_owned());
    }
    let unfinished = setups.iter().find(|setup| setup.state.completed.is_none());
    Ok(match unfinished {
        Some(setup) => {
            let step = Step::ALL.into_iter().find(|step| step.number() == setup.state.step).unwrap_or(Step::Endpoint);
            format!("/admin/directories/{}/setup/{}", setup.directory.id, step.slug())
        }
        None => "/admin".to_owned(),
    })
}

fn invalid(field: &'static str, message: &str) -> PortalLinkError {
    PortalLinkError::Invalid { field, message: message.to_owned() }
}

fn check_intent(intent: Option<&str>) -> Result<(), PortalLinkError> {
    match intent {
        Some(DSYNC_INTENT) => Ok(()),
        Some(other) => Err(PortalLinkError::Invalid {
            field: "intent",
            message: format!(
                "intent {other:?} is not supported: this Admin Portal sets up directory sync only, send `intent: \"dsync\"`"
            ),
        }),
        None => Err(invalid(
            "intent",
            "`intent` is required: this Admin Portal sets up directory sync only, send `intent: \"dsync\"`",
        )),
    }
}

/// A URL of the vendor's product the browser is sent to: absolute, `http` or `https`, with
/// a host and no credentials (a link must not carry a password into the page's address).
fn vendor_url(field: &'static str, raw: &str) -> Result<String, PortalLinkError> {
    let refuse = || PortalLinkError::Invalid {
        field,
        message: format!("`{field}` must be an absolute http(s) URL such as https://app.example.com/settings"),
    };
    if raw.len() > MAX_TEXT {
        return Err(refuse());
    }
    let url = url::Url::parse(raw.trim()).map_err(|_| refuse())?;
    let web = matches!(url.scheme(), "http" | "https");
    if !web || url.host_str().is_none_or(str::is_empty) || !url.username().is_empty() || url.password().is_some() {
        return Err(refuse());
    }
    Ok(url.to_string())
}

fn contacts(emails: &[String]) -> Result<Vec<String>, PortalLinkError> {
    if emails.len() > MAX_CONTACTS {
        return Err(invalid("it_contact_emails", "`it_contact_emails` lists at most 20 addresses"));
    }
    emails
        .iter()
        .map(|email| {
            OperatorEmail::parse(email).map(|email| email.as_str().to_owned()).map_err(|_| PortalLinkError::Invalid {
                field: "it_contact_emails",
                message: format!("`it_contact_emails` holds {email:?}, which is not an email address"),
            })
        })
        .collect()
}

/// The host a vendor URL names, for the "Return to …" buttons.
pub fn vendor_name(url: &str) -> Option<String> {
    url::Url::parse(url).ok().and_then(|url| url.host_str().map(str::to_owned))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_absolute_web_urls_without_credentials_are_vendor_urls() {
        assert_eq!(
            vendor_url("return_url", "https://app.vendor.example/settings?tab=scim").ok().as_deref(),
            Some("https://app.vendor.example/settings?tab=scim")
        );
        assert!(vendor_url("return_url", "http://127.0.0.1:8080/done").is_ok());
        for bad in [
            "/settings",
            "app.vendor.example",
            "javascript:alert(1)",
            "ftp://vendor.example/",
            "https://user:pw@vendor.example/",
            "",
        ] {
            assert!(vendor_url("return_url", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn intents_other_than_dsync_are_refused_by_name() {
        assert!(check_intent(Some("dsync")).is_ok());
        let Err(PortalLinkError::Invalid { field, message }) = check_intent(Some("sso")) else {
            panic!("sso accepted")
        };
        assert_eq!(field, "intent");
        assert!(message.contains("\"sso\"") && message.contains("dsync"), "{message}");
        assert!(check_intent(None).is_err());
    }

    #[test]
    fn a_portal_link_url_ends_with_its_secret() {
        let link = IssuedPortalLink {
            id: PortalLinkId::from(uuid::Uuid::nil()),
            secret: "plink_abc".to_owned(),
            expires_at: DateTime::<Utc>::MIN_UTC,
        };
        assert_eq!(link.url("https://scim.example/"), "https://scim.example/portal-link/plink_abc");
        assert_eq!(vendor_name("https://app.vendor.example/x").as_deref(), Some("app.vendor.example"));
    }
}
