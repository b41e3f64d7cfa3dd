//! Non-human identities: Users that carry the extension
//! `urn:ietf:params:scim:schemas:extension:nonhuman:2.0:User` (see
//! [`crate::schema::builtin::nonhuman_user`]). What the schema characteristics cannot say
//! is checked here: `kind` is one of its canonical values, spelled exactly (the sweeper and
//! the owner flags act on it, so a near miss such as `Agent` or `bot` must not pass as a
//! plain User), and `owner.value`, when present, is a non-empty id. Whether the owner
//! exists, and is not the identity itself, needs the directory: the store checks it in the
//! transaction that writes the identity.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::error::ScimError;
use crate::schema::builtin::NONHUMAN_USER;

/// What a non-human identity is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NonHumanKind {
    /// `serviceAccount`: credentials used by software on someone's behalf.
    ServiceAccount,
    /// `agent`: an autonomous or AI agent acting on its own.
    Agent,
}

impl NonHumanKind {
    /// Both kinds, in the order the schema lists them.
    pub const ALL: [NonHumanKind; 2] = [NonHumanKind::ServiceAccount, NonHumanKind::Agent];

    /// The canonical value (RFC 7643 §7 `canonicalValues`).
    pub fn as_str(self) -> &'static str {
        match self {
            NonHumanKind::ServiceAccount => "serviceAccount",
            NonHumanKind::Agent => "agent",
        }
    }

    /// The kind spelled exactly as its canonical value (`kind` is `caseExact`).
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// The extension's values of one User.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonHuman {
    pub kind: NonHumanKind,
    /// The id of the owning User of the same directory.
    pub owner: Option<String>,
    /// When the sweeper deactivates the identity.
    pub expires_at: Option<DateTime<Utc>>,
}

impl NonHuman {
    /// The extension's values in a User document (validated, or as stored): `None` when
    /// the document does not carry the extension. The container is looked up by its
    /// canonical URN, as validation writes it.
    pub fn of(doc: &Map<String, Value>) -> Result<Option<Self>, ScimError> {
        let Some(container) = doc.get(NONHUMAN_USER) else { return Ok(None) };
        let invalid = |detail: String| ScimError::InvalidValue(format!("{NONHUMAN_USER}:{detail}"));
        let container = container.as_object().ok_or_else(|| invalid(" must be an object".to_owned()))?;
        let kind = match container.get("kind") {
            Some(Value::String(text)) => NonHumanKind::parse(text).ok_or_else(|| {
                invalid(format!("kind {text:?} is not one of \"serviceAccount\", \"agent\" (spelled exactly)"))
            })?,
            Some(_) => return Err(invalid("kind must be a string".to_owned())),
            None => return Err(invalid("kind is required".to_owned())),
        };
        let owner = match container.get("owner").map(|owner| owner.get("value")) {
            None | Some(None | Some(Value::Null)) => None,
            Some(Some(Value::String(id))) if !id.trim().is_empty() => Some(id.clone()),
            Some(Some(_)) => return Err(invalid("owner.value must be the id of a User".to_owned())),
        };
        let expires_at = match container.get("expiresAt") {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) => Some(
                DateTime::parse_from_rfc3339(text)
                    .map_err(|_| invalid(format!("expiresAt {text:?} is not an RFC 3339 dateTime")))?
                    .with_timezone(&Utc),
            ),
            Some(_) => return Err(invalid("expiresAt must be a dateTime string".to_owned())),
        };
        Ok(Some(NonHuman { kind, owner, expires_at }))
    }

    /// Whether the identity has expired at `now` (an expiry equal to `now` has).
    pub fn expired_at(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|expires_at| expires_at <= now)
    }
}

/// Whether a User document is active (`active` absent: it is, as RFC 7643 leaves it to the
/// service and this one treats it).
fn is_active(doc: &Map<String, Value>) -> bool {
    doc.get("active").and_then(Value::as_bool).unwrap_or(true)
}

/// Refuses a write that would make an inactive non-human identity active again while its
/// `expiresAt` has passed: `after` is the document the write would store, `before` the
/// stored one (`None` for a create).
///
/// Expiry is enforced on writes, not only by the sweeper: an identity whose `expiresAt`
/// has passed may be deactivated, changed while it stays active, or given a later expiry
/// or none; it may not be turned active again while the expiry stays in the past, or an
/// identity provider that re-sends `active: true` on its next cycle would undo every
/// expiry. A create is not a reactivation: an identity provisioned already expired is
/// deactivated by the sweeper within a minute, like one that expires while active.
/// Documents without the extension are not concerned.
pub fn check_activation(
    before: Option<&Map<String, Value>>,
    after: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<(), ScimError> {
    let Some(identity) = NonHuman::of(after)? else { return Ok(()) };
    let Some(expires_at) = identity.expires_at.filter(|expires_at| *expires_at <= now) else { return Ok(()) };
    let Some(before) = before else { return Ok(()) };
    if !is_active(after) || is_active(before) {
        return Ok(());
    }
    Err(ScimError::InvalidValue(format!(
        "{NONHUMAN_USER}:expiresAt {} has passed: an expired identity is not made active unless expiresAt \
         moves to a later time or is removed",
        expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(extension: Value) -> Map<String, Value> {
        json!({"userName": "ci-bot", NONHUMAN_USER: extension}).as_object().cloned().unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn identity(active: Option<bool>, expires_at: Option<&str>) -> Map<String, Value> {
        let mut extension = json!({"kind": "serviceAccount"});
        if let Some(expires_at) = expires_at {
            extension["expiresAt"] = json!(expires_at);
        }
        let mut identity = doc(extension);
        if let Some(active) = active {
            identity.insert("active".to_owned(), json!(active));
        }
        identity
    }

    #[test]
    fn an_expired_identity_is_not_turned_active_again_until_its_expiry_moves() {
        let now = at("2026-12-05T12:00:00Z");
        let past = Some("2026-12-01T00:00:00Z");
        let future = Some("2027-01-01T00:00:00Z");
        let refused = |before: Option<Map<String, Value>>, after: Map<String, Value>| {
            check_activation(before.as_ref(), &after, now).err().and_then(|e| e.scim_type().map(str::to_owned))
        };
        let invalid = Some("invalidValue".to_owned());
        // Turned active again (explicitly, or by a PUT that leaves `active` out) while the
        // expiry stays past: refused.
        assert_eq!(refused(Some(identity(Some(false), past)), identity(Some(true), past)), invalid);
        assert_eq!(refused(Some(identity(Some(false), past)), identity(None, past)), invalid);
        // An expiry that is exactly now has passed.
        let exactly = Some("2026-12-05T12:00:00Z");
        assert_eq!(refused(Some(identity(Some(false), exactly)), identity(Some(true), exactly)), invalid);

        // Reactivated with a later expiry, or none: accepted.
        assert_eq!(refused(Some(identity(Some(false), past)), identity(Some(true), future)), None);
        assert_eq!(refused(Some(identity(Some(false), past)), identity(Some(true), None)), None);
        // Created already expired (the sweeper comes), created or kept inactive, or changed
        // while still active: accepted.
        assert_eq!(refused(None, identity(Some(true), past)), None);
        assert_eq!(refused(None, identity(Some(false), past)), None);
        assert_eq!(refused(Some(identity(Some(false), past)), identity(Some(false), past)), None);
        assert_eq!(refused(Some(identity(Some(true), past)), identity(Some(true), past)), None);
        // An expiry moved into the past on an active identity: it expires; accepted.
        assert_eq!(refused(Some(identity(Some(true), future)), identity(Some(true), past)), None);
        // A plain User is not concerned.
        let plain = json!({"userName": "bjensen", "active": true}).as_object().cloned().unwrap();
        assert_eq!(refused(Some(json!({"active": false}).as_object().cloned().unwrap()), plain), None);

        let message = check_activation(Some(&identity(Some(false), past)), &identity(Some(true), past), now)
            .unwrap_err()
            .to_string();
        assert!(message.contains("expiresAt 2026-12-01T00:00:00Z has passed"), "{message}");
    }

    #[test]
    fn a_user_without_the_extension_is_not_a_nonhuman_identity() {
        let plain = json!({"userName": "bjensen"});
        assert_eq!(NonHuman::of(plain.as_object().unwrap()), Ok(None));
    }

    #[test]
    fn a_service_account_with_owner_and_expiry_is_read() {
        let read = NonHuman::of(&doc(json!({
            "kind": "serviceAccount",
            "owner": {"value": "2819c223", "display": "Babs"},
            "expiresAt": "2027-01-01T00:00:00Z"
        })));
        let expected = NonHuman {
            kind: NonHumanKind::ServiceAccount,
            owner: Some("2819c223".to_owned()),
            expires_at: "2027-01-01T00:00:00Z".parse().ok(),
        };
        assert_eq!(read, Ok(Some(expected)));
    }

    #[test]
    fn kind_outside_the_canonical_values_or_in_another_case_is_invalid_value() {
        for kind in ["bot", "Agent", "SERVICEACCOUNT", ""] {
            let err = NonHuman::of(&doc(json!({"kind": kind}))).err();
            assert_eq!(err.as_ref().and_then(ScimError::scim_type), Some("invalidValue"), "{kind}");
        }
    }

    #[test]
    fn kind_is_required_within_the_extension() {
        let err = NonHuman::of(&doc(json!({"expiresAt": "2027-01-01T00:00:00Z"}))).err();
        assert_eq!(err.map(|e| e.detail().ends_with("kind is required")), Some(true));
    }

    #[test]
    fn an_empty_owner_id_is_invalid_value() {
        let err = NonHuman::of(&doc(json!({"kind": "agent", "owner": {"value": " "}}))).err();
        assert_eq!(err.and_then(|e| e.scim_type()), Some("invalidValue"));
    }

    #[test]
    fn an_identity_has_expired_at_its_expiry_time_and_after() {
        let agent =
            NonHuman { kind: NonHumanKind::Agent, owner: None, expires_at: "2027-01-01T00:00:00Z".parse().ok() };
        let at = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        assert!(!agent.expired_at(at("2026-12-31T23:59:59Z")));
        assert!(agent.expired_at(at("2027-01-01T00:00:00Z")));
        assert!(agent.expired_at(at("2027-06-01T00:00:00Z")));
        let forever = NonHuman { expires_at: None, ..agent };
        assert!(!forever.expired_at(at("2999-01-01T00:00:00Z")));
    }
}
