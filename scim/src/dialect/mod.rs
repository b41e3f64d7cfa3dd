//! IdP dialects: what each identity provider actually sends, rewritten into canonical
//! RFC 7643 / RFC 7644 JSON before validation and PATCH parsing.
//!
//! A directory is configured with one [`Dialect`]. [`normalize_resource`] (POST and PUT
//! bodies) and [`normalize_patch`] (PatchOp bodies) apply that dialect's quirks, each a
//! named function, and report in [`Normalized::applied`] the quirks that changed something,
//! so the service can log which deviations a directory relies on.
//!
//! The rules every quirk keeps:
//!
//! - **Equivalent or untouched.** A rewrite produces the RFC form that means the same thing
//!   (`"False"` where the schema says boolean is `false`; `"manager": "42"` is
//!   `"manager": {"value": "42"}`). Input whose meaning is not certain is left exactly as it
//!   came, so validation or the PATCH engine rejects it with an error that names the problem.
//!   Nothing is dropped except what carries no data: the read-only `id` Okta repeats in a
//!   path-less `replace`, a schema URI with no attributes under it, a `null` sub-attribute
//!   of a member being added. Each of those is reported.
//! - **Schema-driven.** Whether a value is boolean, complex or multi-valued comes from the
//!   directory's [`SchemaRegistry`], so custom extension attributes get the same treatment
//!   as core ones and nothing is guessed from the look of a value.
//! - **Sourced.** Every quirk in [`Dialect::quirks`] cites the vendor document or public issue
//!   that shows the IdP sending it; [`quirks_markdown`] renders the table for the README.
//! - **Generic is strict.** [`Dialect::Generic`] applies no quirk at all.
//!
//! Quirks run in a fixed order whatever order a dialect lists them in: schema URNs first,
//! then the `op` keyword, then the shape of path-less values, then value types, then the
//! member-removal rewrite, so each quirk sees the output of the ones it builds on (a
//! `"urn:…:User:manager": "42"` key is expanded before the manager string is wrapped).
//!
//! Documented IdP behaviour that is deliberately *not* rewritten here:
//!
//! - Entra's `add` to `emails[type eq "work"].value` when no such element exists expects
//!   the element to be created. That is a question of PATCH semantics (RFC 7644 §3.5.2.1),
//!   not of syntax, and belongs to the PATCH engine.
//! - Entra's role mappings send each role as a JSON object serialised into the `value`
//!   string. That is a valid string; decoding it would guess at an application's roles.
//! - Google sends `Content-Type: application/json`: an HTTP concern for the edge.
//! - A `remove` of `members` with an empty `value` list has no RFC spelling ("remove none")
//!   and is passed through; the PATCH engine should reject a `remove` carrying a `value`
//!   rather than ignore it, since ignoring it removes every member.

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod cases;
mod ops;
mod schemas;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
mod values;
mod walk;

use std::fmt;

use serde_json::Value;

use crate::schema::SchemaRegistry;
use walk::{BodyKind, Cx};

/// The identity provider a directory is provisioned from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// Okta (OIN and App Integration Wizard SCIM 2.0 apps).
    Okta,
    /// Microsoft Entra ID (formerly Azure AD) provisioning service.
    Entra,
    /// Google Workspace auto-provisioning.
    Google,
    /// OneLogin SCIM provisioner, driven by the admin-edited SCIM JSON template.
    OneLogin,
    /// JumpCloud identity management (custom SCIM integration).
    JumpCloud,
    /// PingFederate SCIM connector and PingOne provisioning.
    Ping,
    /// Rippling custom SCIM app.
    Rippling,
    /// Any other client: strict RFC 7643 / RFC 7644, no rewrites.
    Generic,
}

impl Dialect {
    /// Every dialect, in the order the documentation lists them.
    pub const ALL: [Dialect; 8] = [
        Self::Okta,
        Self::Entra,
        Self::Google,
        Self::OneLogin,
        Self::JumpCloud,
        Self::Ping,
        Self::Rippling,
        Self::Generic,
    ];

    /// The dialect named `s` (`"okta"`, `"entra"`, `"google"`, `"onelogin"`, `"jumpcloud"`,
    /// `"ping"`, `"rippling"`, `"generic"`), ignoring ASCII case.
    pub fn from_idp(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str().eq_ignore_ascii_case(s))
    }

    /// The configuration name, the inverse of [`Dialect::from_idp`].
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Okta => "okta",
            Self::Entra => "entra",
            Self::Google => "google",
            Self::OneLogin => "onelogin",
            Self::JumpCloud => "jumpcloud",
            Self::Ping => "ping",
            Self::Rippling => "rippling",
            Self::Generic => "generic",
        }
    }

    /// One line on what this IdP sends and why the dialect holds the quirks it holds.
    pub fn description(self) -> &'static str {
        match self {
            Self::Okta => {
                "RFC-form requests (PUT for updates, `active: false` to deactivate, filtered member removal); \
                 only the read-only `id` in group-rename PATCH needs a rewrite."
            }
            Self::Entra => {
                "The provisioning service with or without the `aadOptscim062020` flag: capitalised ops, \
                 string booleans, path-keyed values, bare manager ids, member removal by value list."
            }
            Self::Google => "Near RFC form; creates also list the SCIM 1.1 core URN.",
            Self::OneLogin => {
                "Requests follow the admin-edited SCIM JSON template, whose documented defaults use SCIM 1.1 \
                 URNs and single objects for multi-valued attributes."
            }
            Self::JumpCloud => "Removes group members with the Entra-style value list instead of a filter.",
            Self::Ping => {
                "No Ping-specific deviation is documented; applies the lossless rewrites of deviations \
                 documented for other IdPs (op case, string booleans, member removal by value list)."
            }
            Self::Rippling => {
                "No Rippling-specific deviation is documented; applies the lossless rewrites of deviations \
                 documented for other IdPs (op case, string booleans, member removal by value list)."
            }
            Self::Generic => "Strict RFC 7643 / RFC 7644: no rewrites.",
        }
    }

    /// The quirks this dialect rewrites, each with its source. This is the documentation of
    /// the dialect, and exactly what [`normalize_resource`] and [`normalize_patch`] apply.
    pub fn quirks(self) -> &'static [Quirk] {
        match self {
            Self::Okta => OKTA,
            Self::Entra => ENTRA,
            Self::Google => GOOGLE,
            Self::OneLogin => ONELOGIN,
            Self::JumpCloud => JUMPCLOUD,
            Self::Ping => PING,
            Self::Rippling => RIPPLING,
            Self::Generic => &[],
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One documented deviation of an IdP from RFC 7643 / RFC 7644, and its rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quirk {
    /// The quirk's name, as reported in [`Normalized::applied`]. The same name in several
    /// dialects means the same rewrite.
    pub name: &'static str,
    /// What the IdP sends and what it becomes, in one line.
    pub description: &'static str,
    /// The URL of the vendor document or public issue that shows the IdP sending it.
    pub source: &'static str,
    rewrite: Rewrite,
}

const fn quirk(rewrite: Rewrite, description: &'static str, source: &'static str) -> Quirk {
    Quirk { name: rewrite.name(), description, source, rewrite }
}

/// A request body after normalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalized {
    /// The body in canonical RFC form (or as it came, where nothing applied).
    pub body: Value,
    /// The names of the quirks that changed something, in the order they ran.
    pub applied: Vec<&'static str>,
}

/// Normalises a POST or PUT body of `resource_type` (`"User"` or `"Group"`, or any type the
/// registry knows) sent by an IdP speaking `dialect`.
pub fn normalize_resource(dialect: Dialect, registry: &SchemaRegistry, resource_type: &str, body: Value) -> Normalized {
    run(dialect, &Cx { registry, resource_type }, body, BodyKind::Resource)
}

/// Normalises a PATCH body (a PatchOp message) for a resource of `resource_type`.
pub fn normalize_patch(dialect: Dialect, registry: &SchemaRegistry, resource_type: &str, body: Value) -> Normalized {
    run(dialect, &Cx { registry, resource_type }, body, BodyKind::Patch)
}

fn run(dialect: Dialect, cx: &Cx<'_>, mut body: Value, kind: BodyKind) -> Normalized {
    let mut quirks: Vec<&Quirk> = dialect.quirks().iter().collect();
    quirks.sort_by_key(|q| q.rewrite);
    let mut applied = Vec::new();
    for q in quirks {
        if q.rewrite.apply(cx, &mut body, kind) {
            applied.push(q.name);
        }
    }
    Normalized { body, applied }
}

/// The rewrites, in the order they run (see the module documentation). Each variant is one
/// named function in `ops`, `values` or `schemas`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Rewrite {
    Scim1SchemaUrns,
    AdscimGroupSchema,
    OpNameCase,
    ReadonlyIdInPathlessReplace,
    AttributePathsAsValueKeys,
    ObjectForMultiValued,
    StringForMultiValued,
    StringForComplex,
    SingleValuedAsList,
    StringBooleans,
    NullInAddedMembers,
    RemoveMembersByValueList,
}

impl Rewrite {
    const fn name(self) -> &'static str {
        match self {
            Self::Scim1SchemaUrns => "scim1_schema_urns",
            Self::AdscimGroupSchema => "adscim_group_schema",
            Self::OpNameCase => "op_name_case",
            Self::ReadonlyIdInPathlessReplace => "readonly_id_in_pathless_replace",
            Self::AttributePathsAsValueKeys => "attribute_paths_as_value_keys",
            Self::ObjectForMultiValued => "object_for_multi_valued",
            Self::StringForMultiValued => "string_for_multi_valued",
            Self::StringForComplex => "string_for_complex",
            Self::SingleValuedAsList => "single_valued_as_list",
            Self::StringBooleans => "string_booleans",
            Self::NullInAddedMembers => "null_in_added_members",
            Self::RemoveMembersByValueList => "remove_members_by_value_list",
        }
    }

    /// Applies the rewrite in place; `true` if it changed the body.
    fn apply(self, cx: &Cx<'_>, body: &mut Value, kind: BodyKind) -> bool {
        match self {
            Self::Scim1SchemaUrns => schemas::scim1_schema_urns(cx, body, kind),
            Self::AdscimGroupSchema => schemas::adscim_group_schema(cx, body, kind),
            Self::OpNameCase => ops::op_name_case(cx, body, kind),
            Self::ReadonlyIdInPathlessReplace => ops::readonly_id_in_pathless_replace(cx, body, kind),
            Self::AttributePathsAsValueKeys => ops::attribute_paths_as_value_keys(cx, body, kind),
            Self::ObjectForMultiValued => values::object_for_multi_valued(cx, body, kind),
            Self::StringForMultiValued => values::string_for_multi_valued(cx, body, kind),
            Self::StringForComplex => values::string_for_complex(cx, body, kind),
            Self::SingleValuedAsList => values::single_valued_as_list(cx, body, kind),
            Self::StringBooleans => values::string_booleans(cx, body, kind),
            Self::NullInAddedMembers => ops::null_in_added_members(cx, body, kind),
            Self::RemoveMembersByValueList => ops::remove_members_by_value_list(cx, body, kind),
        }
    }
}

/// Microsoft's list of the Entra service's SCIM compliance issues, with before/after bodies.
const ENTRA_KNOWN_ISSUES: &str = "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/application-provisioning-config-problem-scim-compatibility#flags-to-alter-the-scim-behavior";

const ENTRA: &[Quirk] = &[
    quirk(
        Rewrite::OpNameCase,
        "PATCH `op` values are capitalised (`Add`, `Replace`, `Remove`); they are lower-cased.",
        "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#general",
    ),
    quirk(
        Rewrite::StringBooleans,
        "Booleans arrive as the strings `\"True\"`/`\"False\"` (`active`, `emails[].primary`, filter literals such as \
         `roles[primary eq \"True\"]`); where the schema type is boolean they become JSON booleans.",
        ENTRA_KNOWN_ISSUES,
    ),
    quirk(
        Rewrite::AttributePathsAsValueKeys,
        "`add`/`replace` without `path` key the value by attribute paths (`name.givenName`, \
         `urn:…:enterprise:2.0:User:department`); they are expanded into nested and extension objects.",
        ENTRA_KNOWN_ISSUES,
    ),
    quirk(
        Rewrite::StringForComplex,
        "The enterprise `manager` (any single-valued complex attribute with a `value` sub-attribute) arrives as a \
         bare id string; it becomes `{\"value\": id}`.",
        "https://github.com/apache/directory-scimple/issues/1242",
    ),
    quirk(
        Rewrite::StringForMultiValued,
        "A multi-valued complex attribute (`emails`, `roles`) arrives as a plain string; it becomes \
         `[{\"value\": …}]` (empty or JSON-looking strings are left for validation).",
        "https://github.com/apache/directory-scimple/issues/693",
    ),
    quirk(
        Rewrite::SingleValuedAsList,
        "PATCH `add` of `manager` sends a one-element list `[{\"$ref\": …, \"value\": …}]`; the element is unwrapped.",
        "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#handling-provisioning-and-deprovisioning-of-users",
    ),
    quirk(
        Rewrite::RemoveMembersByValueList,
        "`remove` of `members` lists the members to remove in `value` (RFC reading: remove all); it becomes \
         `members[value eq \"…\" or …]`.",
        ENTRA_KNOWN_ISSUES,
    ),
    quirk(
        Rewrite::NullInAddedMembers,
        "`add` of `members` sends `\"$ref\": null`; the null (unassigned, RFC 7643 §2.5) is dropped.",
        "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#update-group-add-members",
    ),
    quirk(
        Rewrite::AdscimGroupSchema,
        "Group creates list `http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group` in `schemas` \
         with no attributes under it; the URI is dropped.",
        "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#create-group",
    ),
];

const OKTA: &[Quirk] = &[quirk(
    Rewrite::ReadonlyIdInPathlessReplace,
    "Group-name PATCH is a `replace` without `path` whose `value` repeats the read-only `id`; `id` is dropped.",
    "https://developer.okta.com/docs/reference/scim/scim-20/#update-a-specific-group-name",
)];

const GOOGLE: &[Quirk] = &[quirk(
    Rewrite::Scim1SchemaUrns,
    "User creates list the SCIM 1.1 `urn:scim:schemas:core:1.0` beside the RFC core URN in `schemas`; SCIM 1.1 \
     URNs are mapped to RFC 7643 ones.",
    "https://github.com/grokability/snipe-it/issues/12642",
)];

const ONELOGIN_SCHEMA: &str = "https://developers.onelogin.com/scim/define-user-schema";

const ONELOGIN: &[Quirk] = &[
    quirk(
        Rewrite::Scim1SchemaUrns,
        "The template uses SCIM 1.1 URNs (`urn:scim:schemas:core:1.0`, `…:extension:enterprise:1.0`, also spelled \
         `…:2.0`) and `manager.managerId`; mapped to RFC 7643 URNs and `manager.value`.",
        ONELOGIN_SCHEMA,
    ),
    quirk(
        Rewrite::ObjectForMultiValued,
        "The template sends one object where a multi-valued attribute is expected (`\"emails\": {…}`); it is \
         wrapped in a one-element array.",
        ONELOGIN_SCHEMA,
    ),
];

const JUMPCLOUD: &[Quirk] = &[quirk(
    Rewrite::RemoveMembersByValueList,
    "Group-member removal is `remove` of `members` with the members in `value` (no filter); it becomes \
     `members[value eq \"…\" or …]`.",
    "https://app.uni-moni.com/en/kb/sso-setup-jumpcloud",
)];

/// The rewrites applied for IdPs with no documented deviation of their own: each is
/// documented for another IdP, and each only changes input that would otherwise be rejected
/// (capitalised ops, string booleans) or misread as "remove every member".
macro_rules! common_quirks {
    ($idp:literal) => {
        &[
            quirk(
                Rewrite::OpNameCase,
                concat!(
                    "Not documented for ",
                    $idp,
                    "; common deviation (Entra): capitalised PATCH `op` values are lower-cased."
                ),
                "https://learn.microsoft.com/en-us/entra/identity/app-provisioning/use-scim-to-provision-users-and-groups#general",
            ),
            quirk(
                Rewrite::StringBooleans,
                concat!(
                    "Not documented for ",
                    $idp,
                    "; common deviation (Entra): `\"True\"`/`\"False\"` where the schema type is boolean become \
                     JSON booleans."
                ),
                ENTRA_KNOWN_ISSUES,
            ),
            quirk(
                Rewrite::RemoveMembersByValueList,
                concat!(
                    "Not documented for ",
                    $idp,
                    "; common deviation (Entra, JumpCloud): `remove` of `members` with a `value` list becomes \
                     `members[value eq \"…\" or …]`."
                ),
                ENTRA_KNOWN_ISSUES,
            ),
        ]
    };
}

const PING: &[Quirk] = common_quirks!("Ping");
const RIPPLING: &[Quirk] = common_quirks!("Rippling");

/// The quirk tables of every dialect as Markdown, for the README: one table of dialects, one
/// of quirks with their sources.
pub fn quirks_markdown() -> String {
    let mut out = String::from("| Dialect | What it sends |\n|---|---|\n");
    for dialect in Dialect::ALL {
        out.push_str(&format!("| `{dialect}` | {} |\n", cell(dialect.description())));
    }
    out.push_str("\n| Dialect | Quirk | What is sent, and the rewrite | Source |\n|---|---|---|---|\n");
    for dialect in Dialect::ALL {
        for q in dialect.quirks() {
            out.push_str(&format!("| `{dialect}` | `{}` | {} | <{}> |\n", q.name, cell(q.description), q.source));
        }
    }
    out
}

/// Text safe inside a Markdown table cell.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
}
