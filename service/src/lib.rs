//! Use cases shared by the SCIM handlers, the operator API and the portal's server
//! functions. Each public function is one use case; callers pass the [`store::Store`] and
//! receive typed results, never database errors.

pub mod activity;
pub mod actor;
pub mod admins;
pub mod alerts;
pub mod api_keys;
pub mod audit;
pub mod audit_checkpoints;
pub mod brake;
pub mod branding;
pub mod clock;
pub(crate) mod delivery;
pub mod demo;
pub mod deployment;
pub mod directories;
pub mod directory_browser;
pub mod directory_lifecycle;
pub mod directory_sync;
pub mod effects;
pub mod email_confirmation;
pub mod events;
pub mod google;
pub mod idempotency;
pub mod mail;
pub mod nonhuman;
pub mod oauth_clients;
pub mod onboarding;
pub mod operators;
pub mod people;
pub mod portal_links;
pub mod provisioning;
pub mod receipts;
pub mod republish;
pub(crate) mod scim_client;
pub mod self_test;
pub mod session;
pub mod sso;
pub mod stale_users;
pub mod support;
pub mod suspensions;
pub mod tenants;
pub mod webhooks;

/// An error message as a sentence for people: `the display name …` -> `The display name ….`
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let first = chars.next().map(|c| c.to_uppercase().collect::<String>()).unwrap_or_default();
    let mut sentence = format!("{first}{}", chars.as_str());
    if !sentence.ends_with('.') {
        sentence.push('.');
    }
    sentence
}

pub use actor::Actor;
pub use clock::{Clock, SharedClock, SystemClock};
pub use effects::Effects;
pub use store::{DirectoryId, IdentityProvider, OperatorRole, ResourceKind, Store, TenantId, TenantSlug, TokenId};

/// Why a use case failed, in terms a caller can act on.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The database is unreachable or failed; the detail is logged, not shown.
    #[error("the database is unavailable")]
    Unavailable(#[source] store::StoreError),
    /// A bug or an unexpected condition; the detail is logged, not shown.
    #[error("an internal error occurred")]
    Internal(String),
}

impl From<store::StoreError> for ServiceError {
    fn from(error: store::StoreError) -> Self {
        tracing::error!(%error, "storage failure");
        ServiceError::Unavailable(error)
    }
}

/// A CSV cell that a spreadsheet shows as text: one that would start a formula (`=`, `+`,
/// `-`, `@`, or a tab or carriage return, which some spreadsheets skip before one) gets a
/// leading `'`, as OWASP advises against CSV injection. Exports put every cell through it:
/// identity providers choose user names.
pub fn spreadsheet_safe(cell: String) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cell_that_would_start_a_formula_is_shown_as_text() {
        for formula in ["=HYPERLINK(\"http://evil.example\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"] {
            assert_eq!(super::spreadsheet_safe(formula.to_owned()), format!("'{formula}"));
        }
        for plain in ["ada@acme.example", "", "2026-12-04T10:00:00Z", "{\"a\":1}", "'quoted"] {
            assert_eq!(super::spreadsheet_safe(plain.to_owned()), plain);
        }
    }

    #[test]
    fn a_message_becomes_a_sentence() {
        assert_eq!(super::sentence("the display name is taken"), "The display name is taken.");
        assert_eq!(super::sentence("Done."), "Done.");
    }
}
