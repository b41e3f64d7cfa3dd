//! The built-in schemas of RFC 7643 §8.7.1 (User, Group) and §8.7.1 EnterpriseUser
//! (defined in §4.3), plus the common attributes of RFC 7643 §3.1 (`id`, `externalId`, `meta`),
//! and this product's extension for non-human identities (service accounts and agents).

use super::AttrType::{Binary, Boolean, Complex, DateTime, Reference, String as Str};
use super::Mutability::{Immutable, ReadOnly, WriteOnly};
use super::Returned::{Always, Never};
use super::Uniqueness::Server;
use super::{AttrType, AttributeDef, SchemaDef};

/// The core User schema URN.
pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// The core Group schema URN.
pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The EnterpriseUser extension URN.
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// The non-human identity extension URN (service accounts and agents; see [`nonhuman_user`]).
pub const NONHUMAN_USER: &str = "urn:ietf:params:scim:schemas:extension:nonhuman:2.0:User";
/// The Agent schema URN of draft-abbey-scim-agent-extension-00 (see [`agent`]).
pub const AGENT: &str = "urn:ietf:params:scim:schemas:core:2.0:Agent";
/// The AgenticApplication schema URN of the same draft (see [`agentic_application`]).
pub const AGENTIC_APPLICATION: &str = "urn:ietf:params:scim:schemas:core:2.0:AgenticApplication";

fn a(name: &str, ty: AttrType) -> AttributeDef {
    AttributeDef::new(name, ty)
}

fn s(name: &str) -> AttributeDef {
    a(name, Str)
}

/// `value`, `display`, `type`, `primary` of a multi-valued string attribute (RFC 7643 §2.4).
fn multi_string(name: &str, types: &[&str]) -> AttributeDef {
    a(name, Complex).multi().subs(vec![s("value"), s("display"), s("type").canonical(types), a("primary", Boolean)])
}

/// The common attributes of RFC 7643 §3.1, present on every resource.
pub fn common_attributes() -> Vec<AttributeDef> {
    vec![
        s("id").exact().mutability_(ReadOnly).returned_(Always).unique(Server),
        s("externalId").exact(),
        a("meta", Complex).mutability_(ReadOnly).subs(vec![
            s("resourceType").exact().mutability_(ReadOnly),
            a("created", DateTime).mutability_(ReadOnly),
            a("lastModified", DateTime).mutability_(ReadOnly),
            a("location", Reference).exact().mutability_(ReadOnly).refs(&["uri"]),
            s("version").exact().mutability_(ReadOnly),
        ]),
    ]
}

/// The User schema of RFC 7643 §8.7.1.
pub fn user() -> SchemaDef {
    let ro = |d: AttributeDef| d.mutability_(ReadOnly);
    SchemaDef {
        id: USER.to_owned(),
        name: "User".to_owned(),
        description: "User Account".to_owned(),
        attributes: vec![
            s("userName").required_().unique(Server),
            a("name", Complex).subs(vec![
                s("formatted"),
                s("familyName"),
                s("givenName"),
                s("middleName"),
                s("honorificPrefix"),
                s("honorificSuffix"),
            ]),
            s("displayName"),
            s("nickName"),
            a("profileUrl", Reference).refs(&["external"]),
            s("title"),
            s("userType"),
            s("preferredLanguage"),
            s("locale"),
            s("timezone"),
            a("active", Boolean),
            s("password").mutability_(WriteOnly).returned_(Never),
            multi_string("emails", &["work", "home", "other"]),
            multi_string("phoneNumbers", &["work", "home", "mobile", "fax", "pager", "other"]),
            multi_string("ims", &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"]),
            a("photos", Complex).multi().subs(vec![
                a("value", Reference).refs(&["external"]),
                s("display"),
                s("type").canonical(&["photo", "thumbnail"]),
                a("primary", Boolean),
            ]),
            a("addresses", Complex).multi().subs(vec![
                s("formatted"),
                s("streetAddress"),
                s("locality"),
                s("region"),
                s("postalCode"),
                s("country"),
                s("type").canonical(&["work", "home", "other"]),
                a("primary", Boolean),
            ]),
            ro(a("groups", Complex).multi().subs(vec![
                ro(s("value")),
                ro(a("$ref", Reference).refs(&["User", "Group"])),
                ro(s("display")),
                ro(s("type").canonical(&["direct", "indirect"])),
            ])),
            multi_string("entitlements", &[]),
            multi_string("roles", &[]),
            a("x509Certificates", Complex).multi().subs(vec![
                a("value", Binary),
                s("display"),
                s("type"),
                a("primary", Boolean),
            ]),
        ],
    }
}

/// The Group schema of RFC 7643 §8.7.1.
pub fn group() -> SchemaDef {
    SchemaDef {
        id: GROUP.to_owned(),
        name: "Group".to_owned(),
        description: "Group".to_owned(),
        attributes: vec![
            s("displayName").required_(),
            a("members", Complex).multi().subs(vec![
                s("value").mutability_(Immutable),
                a("$ref", Reference).mutability_(Immutable).refs(&["User", "Group"]),
                s("type").mutability_(Immutable).canonical(&["User", "Group"]),
            ]),
        ],
    }
}

/// The EnterpriseUser extension schema (RFC 7643 §4.3, §8.7.1).
pub fn enterprise_user() -> SchemaDef {
    SchemaDef {
        id: ENTERPRISE_USER.to_owned(),
        name: "EnterpriseUser".to_owned(),
        description: "Enterprise User".to_owned(),
        attributes: vec![
            s("employeeNumber"),
            s("costCenter"),
            s("organization"),
            s("division"),
            s("department"),
            a("manager", Complex).subs(vec![
                s("value"),
                a("$ref", Reference).refs(&["User"]),
                s("displayName").mutability_(ReadOnly),
            ]),
        ],
    }
}

/// The non-human identity extension of User: a User that is a service account or an
/// agent, who owns it (another User of the same directory) and when it expires. The
/// canonical values of `kind` are the only ones accepted, compared case-exactly (see
/// [`crate::nonhuman`]): the sweeper and the flags depend on knowing what an identity is.
pub fn nonhuman_user() -> SchemaDef {
    SchemaDef {
        id: NONHUMAN_USER.to_owned(),
        name: "NonHumanUser".to_owned(),
        description: "Non-human identity: a service account or an agent, its owner and its expiry".to_owned(),
        attributes: vec![
            s("kind").required_().exact().canonical(&["serviceAccount", "agent"]),
            a("owner", Complex).subs(vec![
                s("value").exact(),
                a("$ref", Reference).refs(&["User"]),
                // Kept as the client sent it: the owner's name as the identity provider
                // knows it (the dashboard shows the owner's current userName).
                s("display"),
            ]),
            a("expiresAt", DateTime),
        ],
    }
}

/// `value`, `$ref` and `display` of a read-only reference to other resources.
fn read_only_references(name: &str, types: &[&str]) -> AttributeDef {
    let ro = |d: AttributeDef| d.mutability_(ReadOnly);
    ro(a(name, Complex).subs(vec![ro(s("value")), ro(a("$ref", Reference).refs(types)), ro(s("display"))]))
}

/// The Agent schema of draft-abbey-scim-agent-extension-00 §3: an AI agent with its own
/// identifier, independent of where it runs. `name` is required and unique in the
/// directory. What the service provider decides (the OIDC `subject`, `owners`, the
/// `applications` it belongs to, `protocols`, `parent`, `groups`) is read-only: a client's
/// values for them are ignored, as RFC 7643 §2.2 says of read-only attributes.
pub fn agent() -> SchemaDef {
    let ro = |d: AttributeDef| d.mutability_(ReadOnly);
    SchemaDef {
        id: AGENT.to_owned(),
        name: "Agent".to_owned(),
        description: "An AI agent".to_owned(),
        attributes: vec![
            s("name").required_().unique(Server),
            s("displayName"),
            s("agentType"),
            a("active", Boolean),
            s("description"),
            ro(s("subject")),
            ro(a("groups", Complex).multi().subs(vec![
                ro(s("value")),
                ro(a("$ref", Reference).refs(&["Group"])),
                ro(s("display")),
                ro(s("type").canonical(&["direct", "indirect"])),
            ])),
            multi_string("entitlements", &[]),
            multi_string("roles", &[]),
            a("x509Certificates", Complex).multi().subs(vec![
                a("value", Binary),
                s("display"),
                s("type"),
                a("primary", Boolean),
            ]),
            read_only_references("applications", &["AgenticApplication"]).multi(),
            read_only_references("owners", &["User", "Group"]).multi(),
            ro(a("protocols", Complex)
                .multi()
                .subs(vec![ro(s("type")), ro(a("specificationUrl", Reference).refs(&["external"]))])),
            read_only_references("parent", &["Agent"]),
        ],
    }
}

/// The AgenticApplication schema of draft-abbey-scim-agent-extension-00 §4: software that
/// hosts agents. `name` is required and unique in the directory.
pub fn agentic_application() -> SchemaDef {
    SchemaDef {
        id: AGENTIC_APPLICATION.to_owned(),
        name: "AgenticApplication".to_owned(),
        description: "An application that hosts or gives access to agents".to_owned(),
        attributes: vec![
            s("name").required_().unique(Server),
            s("displayName"),
            s("description"),
            a("active", Boolean),
        ],
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::schema::{Mutability, Returned};

    #[test]
    fn user_name_is_required_and_server_unique() {
        let user = user();
        let attr = user.attribute("USERNAME");
        assert_eq!(attr.map(AttributeDef::required), Some(true));
        assert_eq!(attr.map(AttributeDef::uniqueness), Some(Server));
    }

    #[test]
    fn password_is_write_only_and_never_returned() {
        let user = user();
        let pw = user.attribute("password");
        assert_eq!(pw.map(AttributeDef::mutability), Some(Mutability::WriteOnly));
        assert_eq!(pw.map(AttributeDef::returned), Some(Returned::Never));
    }

    #[test]
    fn group_members_sub_attributes_are_immutable() {
        let group = group();
        let members = group.attribute("members");
        let value = members.and_then(|m| m.sub_attribute("value"));
        assert_eq!(value.map(AttributeDef::mutability), Some(Mutability::Immutable));
    }

    #[test]
    fn enterprise_manager_display_name_is_read_only() {
        let ent = enterprise_user();
        let dn = ent.attribute("manager").and_then(|m| m.sub_attribute("displayName"));
        assert_eq!(dn.map(AttributeDef::mutability), Some(Mutability::ReadOnly));
    }

    #[test]
    fn nonhuman_kind_is_required_case_exact_with_two_canonical_values() {
        let ext = nonhuman_user();
        let kind = ext.attribute("kind");
        assert_eq!(kind.map(AttributeDef::required), Some(true));
        assert_eq!(kind.map(AttributeDef::case_exact), Some(true));
        assert_eq!(
            kind.map(AttributeDef::canonical_values),
            Some(&["serviceAccount".to_owned(), "agent".to_owned()][..])
        );
        let expires = ext.attribute("expiresAt").map(AttributeDef::ty);
        assert_eq!(expires, Some(DateTime));
    }

    #[test]
    fn user_schema_serializes_emails_as_the_rfc_shows() {
        let json = user().to_json("/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User");
        let emails = json["attributes"].as_array().and_then(|a| a.iter().find(|x| x["name"] == "emails")).cloned();
        let emails = emails.unwrap_or_default();
        assert_eq!(emails["type"], "complex");
        assert_eq!(emails["multiValued"], true);
        assert_eq!(emails["subAttributes"][2]["canonicalValues"], serde_json::json!(["work", "home", "other"]));
        assert_eq!(emails["subAttributes"][3]["type"], "boolean");
    }

    #[test]
    fn agent_and_application_names_are_required_and_server_unique() {
        for schema in [agent(), agentic_application()] {
            let name = schema.attribute("NAME");
            assert_eq!(name.map(AttributeDef::required), Some(true), "{}", schema.id);
            assert_eq!(name.map(AttributeDef::uniqueness), Some(Server), "{}", schema.id);
            assert_eq!(schema.attribute("active").map(AttributeDef::ty), Some(Boolean));
        }
        let owners = agent().attribute("owners").cloned();
        assert_eq!(owners.as_ref().map(AttributeDef::mutability), Some(Mutability::ReadOnly));
        assert_eq!(owners.as_ref().map(AttributeDef::multi_valued), Some(true));
        assert_eq!(agent().attribute("parent").map(AttributeDef::multi_valued), Some(false));
    }
}
