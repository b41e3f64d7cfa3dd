//! Who does something: every use case that changes a tenant's data is given an [`Actor`]
//! and writes the audit record naming it in the transaction of its change.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use store::{
    ApiKeyId, AuditOutcome, DirectoryId, NewAuditRecord, OperatorId, OperatorRole, PortalLinkId, TenantAdminId, TokenId,
};

/// Who does something, as the audit trail names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A tenant admin signed in to the portal.
    Admin { id: TenantAdminId, email: String },
    /// Vendor staff in the operator console: an operator, or support (who only reads).
    Operator { id: OperatorId, email: String, role: OperatorRole },
    /// The vendor's product, through the operator API with this key.
    ApiKey(ApiKeyId),
    /// A person the vendor's product authenticated and sent in with an Admin Portal link:
    /// they have no account here, so the link names them (`name` is who the vendor said
    /// they are: its user id, else the first IT contact email).
    PortalLink { link: PortalLinkId, name: String },
    /// Someone at the server's command line.
    Cli,
    /// An identity provider, with this bearer token of a directory.
    Token(TokenId),
    /// The server itself: scheduled jobs and steps nobody asked for.
    System,
}

impl Actor {
    /// The trail's `actor` column: `admin:<id>`, `operator:<id>`, `api-key:<id>`,
    /// `portal-link:<id>`, `cli`, `token:<id>`, `system`.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::Admin { id, .. } => format!("admin:{id}"),
            Actor::Operator { id, .. } => format!("operator:{id}"),
            Actor::ApiKey(id) => format!("api-key:{id}"),
            Actor::PortalLink { link, .. } => format!("portal-link:{link}"),
            Actor::Cli => "cli".to_owned(),
            Actor::Token(id) => format!("token:{id}"),
            Actor::System => "system".to_owned(),
        }
    }

    /// The record of `action` by this actor: vendor staff are named by email and role as
    /// well (the tenant's admins do not know the vendor's operator ids), and a person signed
    /// in through an Admin Portal link by who the vendor said they are.
    pub fn record(
        &self,
        action: &str,
        directory: Option<DirectoryId>,
        detail: Value,
        now: DateTime<Utc>,
    ) -> NewAuditRecord {
        let mut detail = detail;
        if let (Actor::Operator { email, role, .. }, Some(fields)) = (self, detail.as_object_mut()) {
            fields.insert("viewer_email".to_owned(), json!(email));
            fields.insert("viewer_role".to_owned(), json!(role.as_str()));
        }
        if let (Actor::PortalLink { name, .. }, Some(fields)) = (self, detail.as_object_mut()) {
            fields.insert("portal_link_user".to_owned(), json!(name));
        }
        NewAuditRecord {
            occurred_at: now,
            actor: self.audit_name(),
            action: action.to_owned(),
            directory,
            method: None,
            path: None,
            status: None,
            latency_ms: None,
            resource_id: None,
            outcome: AuditOutcome::Success,
            detail,
        }
    }
}

impl From<&crate::operators::SignedInOperator> for Actor {
    fn from(operator: &crate::operators::SignedInOperator) -> Self {
        Actor::Operator { id: operator.id, email: operator.email.clone(), role: operator.role }
    }
}

impl From<&crate::admins::SignedInAdmin> for Actor {
    fn from(admin: &crate::admins::SignedInAdmin) -> Self {
        Actor::Admin { id: admin.id, email: admin.email.clone() }
    }
}

#[cfg(test)]
mod tests {
    use store::testing::FreshId as _;

    use super::*;

    #[test]
    fn staff_are_named_by_email_and_role_in_the_record() {
        let id = OperatorId::fresh();
        let support = Actor::Operator { id, email: "s@vendor.example".into(), role: OperatorRole::Support };
        let record = support.record("support.viewed_tenant", None, json!({"viewed": "acme"}), DateTime::<Utc>::MIN_UTC);
        assert_eq!(record.actor, format!("operator:{id}"));
        assert_eq!(
            record.detail,
            json!({"viewed": "acme", "viewer_email": "s@vendor.example", "viewer_role": "support"})
        );
    }

    #[test]
    fn machines_and_jobs_have_fixed_names() {
        assert_eq!(Actor::Cli.audit_name(), "cli");
        assert_eq!(Actor::System.audit_name(), "system");
        let key = ApiKeyId::fresh();
        assert_eq!(Actor::ApiKey(key).audit_name(), format!("api-key:{key}"));
    }
}
