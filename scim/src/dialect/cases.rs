//! The table of cases: a body shaped like what an IdP sends (taken from the quirk's source
//! wherever the source shows one), the canonical body it must become, and the quirks that
//! must report having changed it. `tests` runs its properties over the whole table.

use serde_json::{Value, json};

use super::{Dialect, Normalized, normalize_patch, normalize_resource};
use crate::schema::SchemaRegistry;

pub(super) const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(super) const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub(super) const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ADSCIM: &str = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Kind {
    /// A POST or PUT body of the resource type.
    Resource(&'static str),
    /// A PATCH body for the resource type.
    Patch(&'static str),
}

pub(super) struct Case {
    pub(super) name: &'static str,
    pub(super) dialect: Dialect,
    pub(super) kind: Kind,
    pub(super) input: Value,
    pub(super) expected: Value,
    pub(super) applied: &'static [&'static str],
    /// Whether the expected body is valid RFC input (validation passes, or every PATCH
    /// operation has an RFC `op` and a parseable path). False for inputs deliberately left
    /// for validation to reject.
    pub(super) rfc_valid: bool,
}

pub(super) fn patch(ops: Value) -> Value {
    json!({ "schemas": [PATCH_OP], "Operations": ops })
}

pub(super) fn normalize(dialect: Dialect, kind: Kind, body: Value) -> Normalized {
    let registry = SchemaRegistry::new();
    match kind {
        Kind::Resource(rt) => normalize_resource(dialect, &registry, rt, body),
        Kind::Patch(rt) => normalize_patch(dialect, &registry, rt, body),
    }
}

/// A case whose input must come out unchanged, with no quirk reported.
fn unchanged(name: &'static str, dialect: Dialect, kind: Kind, body: Value, rfc_valid: bool) -> Case {
    Case { name, dialect, kind, input: body.clone(), expected: body, applied: &[], rfc_valid }
}

#[allow(clippy::too_many_lines)]
fn entra_cases() -> Vec<Case> {
    vec![
        Case {
            name: "entra: disable user without the flag (known-issues doc)",
            dialect: Dialect::Entra,
            kind: Kind::Patch("User"),
            input: patch(json!([{ "op": "Replace", "path": "active", "value": "False" }])),
            expected: patch(json!([{ "op": "replace", "path": "active", "value": false }])),
            applied: &["op_name_case", "string_booleans"],
            rfc_valid: true,
        },
        Case {
            name: "entra: string boolean for a filtered sub-attribute path",
            dialect: Dialect::Entra,
            kind: Kind::Patch("User"),
            input: patch(json!([{ "op": "Replace", "path": "emails[type eq \"work\"].primary", "value": "True" }])),
            expected: patch(json!([{ "op": "replace", "path": "emails[type eq \"work\"].primary", "value": true }])),
            applied: &["op_name_case", "string_booleans"],
            rfc_valid: true,
        },
        Case {
            name: "entra: add a single-value string attribute without the flag (known-issues doc)",
            dialect: Dialect::Entra,
            kind: Kind::Patch("User"),
            input: patch(json!([{ "op": "Add", "path": "nickName", "value": "Babs" }])),
            expected: patch(json!([{ "op": "add", "path": "nickName", "value": "Babs" }])),
            applied: &["op_name_case"],
            rfc_valid: true,
        },
        Case {
            name: "entra: replace several attributes without the flag keeps every path (known-issues doc)",
            dialect: Dialect::Entra,
            kind: Kind::Patch("User"),
            input: patch(json!([
                { "op": "Replace", "path": "displayName", "value": "Pvlo" },
                { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "TestBcwqnm@test.microsoft.com" },
                { "op": "Replace", "path": "name.givenName", "value": "Gtfd" },
                { "op": "Replace", "path": "name.familyName", "value": "Pkqf" },
                { "op": "Replace", "path": "externalId", "value": "Eqpj" },
                { "op": "Replace", "path": format!("{ENT}:employeeNumber"), "value": "Eqpj" }
            ])),
            expected: patch(json!([
                { "op": "replace", "path": "displayName", "value": "Pvlo" },
                { "op": "replace", "path": "emails[type eq \"work\"].value", "value": "TestBcwqnm@test.microsoft.com" },
                { "op": "replace", "path": "name.givenName", "value": "Gtfd" },
                { "op": "replace", "path": "name.familyName", "value": "Pkqf" },
                { "op": "replace", "path": "externalId", "value": "Eqpj" },
                { "op": "replace", "path": format!("{ENT}:employeeNumber"), "value": "Eqpj" }
            ])),
            applied: &["op_name_case"],
            rfc_valid: true,
        },
        Case {
            name: "entra: path-less replace with dotted and URN-qualified keys (known-issues doc, flag on)",
            dialect: Dialect::Entra,
            kind: Kind::Patch("User"),
            input: patch(json!([
                { "op": "replace", "path": "emails[type eq \"work\"].value", "value": "TestMhvaes@test.microsoft.com" },
                { "op": "replace", "value": {
                    "displayName": "Bjfe",
                    "name.givenName": "Kkom",
                    "name.familyName": "Unua",
                    format!("{ENT}:employeeNumber"): "Aklq"
                } }
            ])),
            expected: patch(json!([
                { "op": "replace", "path": "emails[type eq \"work\"].value", "value": "TestMhvaes@test.microsoft.com" },
                { "op": "replace", "value": {
                    "displayName": "Bjfe",
                    "name": { "givenName": "Kkom", "familyName": "Unua" },
                    ENT: { "employeeNumber": "Aklq" }
                } }
            ])),
            applied: &["attribute_paths_as_value_keys"],
            rfc_valid: true,
        },
        Case {
            name: "entra: path-less replace of the manager id and department",
            dialect: Dialect::Entra,
            kind: Kind::Patch("User"),
            input: patch(json!([{ "op": "Replace", "value": {
                format!("{ENT}:manager"): "26118915-6090-4610-87e4-49d8ca9f808d",
                format!("{ENT}:department"): "Tour Operations"
            } }])),
            expected: patch(json!([{ "op": "replace", "value": {
                ENT: { "manager": { "value": "26118915-6090-4610-87e4-49d8ca9f808d" }, "department": "Tour Operations" }
            } }])),
            applied: &["op_name_case", "attribute_paths_as_value_keys", "string_for_complex"],
            rfc_valid: true,
        },
        Case {
            name: "entra: path-less add of a core-URN-qualified key and a string boolean",
            dialect: Dialect::Entra,
            kind: Kind::Patch("User"),
            input: patch(
                json!([{ "op": "Add", "value": { format!("{USER}:userName"): "b@x.org", "active": "True" } }]),
            ),
            expected: patch(json!([{ "op": "add", "value": { "userName": "b@x.org", "active": true } }])),
            applied: &["op_name_case", "attribute_paths_as_value_keys", "string_booleans"],
            rfc_valid: true,
        },
        Case {
            name: "entra: path-less value keeps a dotted key the schema does not know, for validation to report",
            dialect: Dialect::Entra,
            kind: Kind::Patch("User"),
            input: patch(json!([{ "op": "replace", "value": { "name.givenName": "A", "name.nickname": "x" } }])),
            expected: patch(
                json!([{ "op": "replace", "value": { "name": { "givenName": "A" }, "name.nickname": "x" } }]),
            ),
            applied: &["attribute_paths_as_value_keys"],
            rfc_valid: true,
        },
        Case {
            name: "entra: path-less value whose keys disagree is left untouched",
            dialect: Dialect::Entra,
            kind: Kind::Patch("User"),
            input: patch(
                json!([{ "op": "replace", "value": { "name.givenName": "A", "name": { "givenName": "B" } } }]),
            ),
            expected: patch(
                json!([{ "op": "replace", "value": { "name.givenName": "A", "name": { "givenName": "B" } } }]),
            ),
            applied: &[],
            rfc_valid: true,
        },
        Case {
            name: "entra: remove a member by value list without the flag (known-issues doc)",
            dialect: Dialect::Entra,
            kind: Kind::Patch("Group"),
            input: patch(json!([{ "op": "Remove", "path": "members", "value": [{ "value": "u1091" }] }])),
            expected: patch(json!([{ "op": "remove", "path": "members[value eq \"u1091\"]" }])),
            applied: &["op_name_case", "remove_members_by_value_list"],
            rfc_valid: true,
        },
        Case {
            name: "entra: remove two members by value list (tutorial shape, $ref null)",
            dialect: Dialect::Entra,
            kind: Kind::Patch("Group"),
            input: patch(json!([{ "op": "Remove", "path": "members", "value": [
                { "$ref": null, "value": "f648f8d5ea4e4cd38e9c" },
                { "$ref": null, "value": "a99962b9f99d4c4fac67" }
            ] }])),
            expected: patch(json!([{
                "op": "remove",
                "path": "members[value eq \"f648f8d5ea4e4cd38e9c\" or value eq \"a99962b9f99d4c4fac67\"]"
            }])),
            applied: &["op_name_case", "remove_members_by_value_list"],
            rfc_valid: true,
        },
        Case {
            name: "entra: member ids are escaped as JSON string literals in the filter",
            dialect: Dialect::Entra,
            kind: Kind::Patch("Group"),
            input: patch(json!([{ "op": "remove", "path": "members", "value": [{ "value": r#"a"b\c"# }] }])),
            expected: patch(json!([{ "op": "remove", "path": r#"members[value eq "a\"b\\c"]"# }])),
            applied: &["remove_members_by_value_list"],
            rfc_valid: true,
        },
        Case {
            name: "entra: removal with an empty value list is left for the PATCH engine",
            dialect: Dialect::Entra,
            kind: Kind::Patch("Group"),
            input: patch(json!([{ "op": "remove", "path": "members", "value": [] }])),
            expected: patch(json!([{ "op": "remove", "path": "members", "value": [] }])),
            applied: &[],
            rfc_valid: true,
        },
        Case {
            name: "entra: removal listing a member with unknown data is left untouched",
            dialect: Dialect::Entra,
            kind: Kind::Patch("Group"),
            input: patch(json!([{ "op": "remove", "path": "members", "value": [{ "value": "a", "weight": 3 }] }])),
            expected: patch(json!([{ "op": "remove", "path": "members", "value": [{ "value": "a", "weight": 3 }] }])),
            applied: &[],
            rfc_valid: true,
        },
        Case {
            name: "entra: add members with $ref null (tutorial, Update Group [Add Members])",
            dialect: Dialect::Entra,
            kind: Kind::Patch("Group"),
            input: patch(
                json!([{ "op": "Add", "path": "members", "value": [{ "$ref": null, "value": "f648f8d5ea4e4cd38e9c" }] }]),
            ),
            expected: patch(
                json!([{ "op": "add", "path": "members", "value": [{ "value": "f648f8d5ea4e4cd38e9c" }] }]),
            ),
            applied: &["op_name_case", "null_in_added_members"],
            rfc_valid: true,
        },
        Case {
            name: "entra: rename a group (tutorial, Update Group [Non-member attributes])",
            dialect: Dialect::Entra,
            kind: Kind::Patch("Group"),
            input: patch(json!([{ "op": "Replace", "path": "displayName", "value": "1879db59updatedDisplayName" }])),
            expected: patch(json!([{ "op": "replace", "path": "displayName", "value": "1879db59updatedDisplayName" }])),
            applied: &["op_name_case"],
            rfc_valid: true,
        },
        Case {
            name: "entra: add the manager as a one-element list (tutorial, example 5)",
            dialect: Dialect::Entra,
            kind: Kind::Patch("User"),
            input: patch(json!([{ "op": "Add", "path": "manager", "value": [{
                "$ref": "http://example.com/scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
                "value": "00aa00aa-bb11-cc22-dd33-44ee44ee44ee"
            }] }])),
            expected: patch(json!([{ "op": "add", "path": "manager", "value": {
                "$ref": "http://example.com/scim/Users/00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
                "value": "00aa00aa-bb11-cc22-dd33-44ee44ee44ee"
            } }])),
            applied: &["op_name_case", "single_valued_as_list"],
            rfc_valid: true,
        },
        Case {
            name: "entra: add the manager as a bare id at its URN path",
            dialect: Dialect::Entra,
            kind: Kind::Patch("User"),
            input: patch(
                json!([{ "op": "add", "path": format!("{ENT}:manager"), "value": "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2" }]),
            ),
            expected: patch(json!([{
                "op": "add",
                "path": format!("{ENT}:manager"),
                "value": { "value": "2c2f6fb8-254f-492e-b7fe-c09c5a61c8a2" }
            }])),
            applied: &["string_for_complex"],
            rfc_valid: true,
        },
        Case {
            name: "entra: the manager's value sub-attribute is already RFC form",
            dialect: Dialect::Entra,
            kind: Kind::Patch("User"),
            input: patch(json!([{ "op": "replace", "path": format!("{ENT}:manager.value"), "value": "42" }])),
            expected: patch(json!([{ "op": "replace", "path": format!("{ENT}:manager.value"), "value": "42" }])),
            applied: &[],
            rfc_valid: true,
        },
        Case {
            name: "entra: create a user whose manager is a bare id (tutorial schema example)",
            dialect: Dialect::Entra,
            kind: Kind::Resource("User"),
            input: json!({
                "schemas": [USER, ENT],
                "userName": "bjensen@testuser.com",
                "externalId": "bjensen",
                "name": { "familyName": "Jensen", "givenName": "Barbara" },
                ENT: { "manager": "123456" }
            }),
            expected: json!({
                "schemas": [USER, ENT],
                "userName": "bjensen@testuser.com",
                "externalId": "bjensen",
                "name": { "familyName": "Jensen", "givenName": "Barbara" },
                ENT: { "manager": { "value": "123456" } }
            }),
            applied: &["string_for_complex"],
            rfc_valid: true,
        },
        Case {
            name: "entra: create a user with string booleans in active and emails[].primary",
            dialect: Dialect::Entra,
            kind: Kind::Resource("User"),
            input: json!({
                "schemas": [USER],
                "userName": "True",
                "active": "True",
                "emails": [{ "primary": "True", "type": "work", "value": "a@x.org" }, { "primary": "false", "value": "b@x.org" }]
            }),
            expected: json!({
                "schemas": [USER],
                "userName": "True",
                "active": true,
                "emails": [{ "primary": true, "type": "work", "value": "a@x.org" }, { "primary": false, "value": "b@x.org" }]
            }),
            applied: &["string_booleans"],
            rfc_valid: true,
        },
        Case {
            name: "entra: a string that is not a boolean is left for validation",
            dialect: Dialect::Entra,
            kind: Kind::Resource("User"),
            input: json!({ "schemas": [USER], "userName": "b", "active": "yes" }),
            expected: json!({ "schemas": [USER], "userName": "b", "active": "yes" }),
            applied: &[],
            rfc_valid: false,
        },
        Case {
            name: "entra: create a user with emails as a plain string",
            dialect: Dialect::Entra,
            kind: Kind::Resource("User"),
            input: json!({ "schemas": [USER], "userName": "b", "emails": "a@b.c" }),
            expected: json!({ "schemas": [USER], "userName": "b", "emails": [{ "value": "a@b.c" }] }),
            applied: &["string_for_multi_valued"],
            rfc_valid: true,
        },
        Case {
            name: "entra: add emails as a plain string",
            dialect: Dialect::Entra,
            kind: Kind::Patch("User"),
            input: patch(json!([{ "op": "Add", "path": "emails", "value": "a@b.c" }])),
            expected: patch(json!([{ "op": "add", "path": "emails", "value": [{ "value": "a@b.c" }] }])),
            applied: &["op_name_case", "string_for_multi_valued"],
            rfc_valid: true,
        },
        Case {
            name: "entra: roles serialised as a JSON string are left for validation",
            dialect: Dialect::Entra,
            kind: Kind::Resource("User"),
            input: json!({ "schemas": [USER], "userName": "b", "roles": "[{\"value\":\"Admin\"}]" }),
            expected: json!({ "schemas": [USER], "userName": "b", "roles": "[{\"value\":\"Admin\"}]" }),
            applied: &[],
            rfc_valid: false,
        },
        Case {
            name: "entra: boolean literal in a PATCH path filter (SingleAppRoleAssignment mapping)",
            dialect: Dialect::Entra,
            kind: Kind::Patch("User"),
            input: patch(json!([{ "op": "Replace", "path": "roles[primary eq \"True\"].value", "value": "Admin" }])),
            expected: patch(json!([{ "op": "replace", "path": "roles[primary eq true].value", "value": "Admin" }])),
            applied: &["op_name_case", "string_booleans"],
            rfc_valid: true,
        },
        unchanged(
            "entra: filtered sub-attribute paths of the default mappings pass through",
            Dialect::Entra,
            Kind::Patch("User"),
            patch(json!([
                { "op": "replace", "path": "addresses[type eq \"work\"].locality", "value": "Redmond" },
                { "op": "replace", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "555-555-5555" },
                { "op": "add", "path": "emails[type eq \"work\"].value", "value": "j@contoso.com" },
                { "op": "replace", "path": "addresses[type eq \"work\"].postalCode", "value": "98052" }
            ])),
            true,
        ),
        unchanged(
            "entra: a string compared with a string sub-attribute keeps its quotes",
            Dialect::Entra,
            Kind::Patch("User"),
            patch(json!([{ "op": "replace", "path": "emails[type eq \"True\"].value", "value": "x@y.z" }])),
            true,
        ),
        unchanged(
            "entra: create user request of the tutorial passes through",
            Dialect::Entra,
            Kind::Resource("User"),
            json!({
                "schemas": [USER, ENT],
                "externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
                "userName": "Test_User_00aa00aa-bb11-cc22-dd33-44ee44ee44ee",
                "active": true,
                "emails": [{ "primary": true, "type": "work", "value": "Test_User@testuser.com" }],
                "meta": { "resourceType": "User" },
                "name": { "formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName" },
                "roles": []
            }),
            true,
        ),
        Case {
            name: "entra: create group listing the ADSCIM schema URI (tutorial, Create Group)",
            dialect: Dialect::Entra,
            kind: Kind::Resource("Group"),
            input: json!({
                "schemas": [GROUP, ADSCIM],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "displayName",
                "meta": { "resourceType": "Group" }
            }),
            expected: json!({
                "schemas": [GROUP],
                "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
                "displayName": "displayName",
                "meta": { "resourceType": "Group" }
            }),
            applied: &["adscim_group_schema"],
            rfc_valid: true,
        },
    ]
}

fn okta_cases() -> Vec<Case> {
    vec![
        Case {
            name: "okta: group rename repeats the read-only id (SCIM 2.0 reference)",
            dialect: Dialect::Okta,
            kind: Kind::Patch("Group"),
            input: patch(json!([{ "op": "replace", "value": {
                "id": "abf4dd94-a4c0-4f67-89c9-76b03340cb9b",
                "displayName": "Test SCIMv2"
            } }])),
            expected: patch(json!([{ "op": "replace", "value": { "displayName": "Test SCIMv2" } }])),
            applied: &["readonly_id_in_pathless_replace"],
            rfc_valid: true,
        },
        unchanged(
            "okta: create user with password and empty groups passes through",
            Dialect::Okta,
            Kind::Resource("User"),
            json!({
                "schemas": [USER],
                "userName": "test.user@okta.local",
                "name": { "givenName": "Test", "familyName": "User" },
                "emails": [{ "primary": true, "value": "test.user@okta.local", "type": "work" }],
                "displayName": "Test User",
                "locale": "en-US",
                "externalId": "00ujl29u0le5T6Aj10h7",
                "groups": [],
                "password": "1mz050nq",
                "active": true
            }),
            true,
        ),
        unchanged(
            "okta: PUT of the full user to deactivate passes through",
            Dialect::Okta,
            Kind::Resource("User"),
            json!({
                "schemas": [USER],
                "id": "23a35c27-23d3-4c03-b4c5-6443c09e7173",
                "userName": "test.user@okta.local",
                "name": { "givenName": "Another", "middleName": "Excited", "familyName": "User" },
                "emails": [{ "primary": true, "value": "test.user@okta.local", "type": "work", "display": "test.user@okta.local" }],
                "active": false,
                "groups": [],
                "meta": { "resourceType": "User" }
            }),
            true,
        ),
        unchanged(
            "okta: emails without type pass through",
            Dialect::Okta,
            Kind::Resource("User"),
            json!({ "schemas": [USER], "userName": "u@okta.local", "emails": [{ "value": "u@okta.local" }] }),
            true,
        ),
        unchanged(
            "okta: deactivation PATCH passes through",
            Dialect::Okta,
            Kind::Patch("User"),
            patch(json!([{ "op": "replace", "value": { "active": false } }])),
            true,
        ),
        unchanged(
            "okta: group push membership PATCH passes through",
            Dialect::Okta,
            Kind::Patch("Group"),
            patch(json!([
                { "op": "remove", "path": "members[value eq \"89bb1940-b905-4575-9e7f-6f887cfb368e\"]" },
                { "op": "add", "path": "members", "value": [
                    { "value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local" }
                ] }
            ])),
            true,
        ),
        unchanged(
            "okta: full membership push, including an empty group, passes through",
            Dialect::Okta,
            Kind::Patch("Group"),
            patch(json!([
                { "op": "replace", "path": "members", "value": [
                    { "value": "23a35c27-23d3-4c03-b4c5-6443c09e7173", "display": "test.user@okta.local" }
                ] },
                { "op": "replace", "path": "members", "value": [] }
            ])),
            true,
        ),
        unchanged(
            "okta: group create passes through",
            Dialect::Okta,
            Kind::Resource("Group"),
            json!({ "schemas": [GROUP], "displayName": "Test SCIMv2", "members": [] }),
            true,
        ),
        unchanged(
            "okta: a path-less add keeps its id for the PATCH engine to judge",
            Dialect::Okta,
            Kind::Patch("Group"),
            patch(json!([{ "op": "add", "value": { "id": "x", "externalId": "e" } }])),
            true,
        ),
    ]
}

fn other_idp_cases() -> Vec<Case> {
    vec![
        Case {
            name: "google: create user listing the SCIM 1.1 core URN (snipe-it #12642)",
            dialect: Dialect::Google,
            kind: Kind::Resource("User"),
            input: json!({
                "schemas": ["urn:scim:schemas:core:1.0", USER],
                "userName": "username@domain.com",
                "emails": [{ "primary": true, "value": "username@domain.com", "type": "work" }],
                "displayName": "User Name",
                "name": { "givenName": "User", "familyName": "Name" },
                "active": true
            }),
            expected: json!({
                "schemas": [USER],
                "userName": "username@domain.com",
                "emails": [{ "primary": true, "value": "username@domain.com", "type": "work" }],
                "displayName": "User Name",
                "name": { "givenName": "User", "familyName": "Name" },
                "active": true
            }),
            applied: &["scim1_schema_urns"],
            rfc_valid: true,
        },
        Case {
            name: "onelogin: enterprise user schema template (OneLogin developer docs)",
            dialect: Dialect::OneLogin,
            kind: Kind::Resource("User"),
            input: json!({
                "schemas": ["urn:scim:schemas:core:1.0", "urn:scim:schemas:extension:enterprise:1.0"],
                "userName": "jdoe@example.com",
                "name": { "familyName": "Doe", "givenName": "Jane", "formatted": "Jane Doe" },
                "emails": { "value": "jdoe@example.com", "type": "work", "primary": true },
                "title": "Engineer",
                "urn:scim:schemas:extension:enterprise:1.0": {
                    "department": "R&D",
                    "manager": { "managerId": "m-17", "displayName": "Max Boss" }
                }
            }),
            expected: json!({
                "schemas": [USER, ENT],
                "userName": "jdoe@example.com",
                "name": { "familyName": "Doe", "givenName": "Jane", "formatted": "Jane Doe" },
                "emails": [{ "value": "jdoe@example.com", "type": "work", "primary": true }],
                "title": "Engineer",
                ENT: { "department": "R&D", "manager": { "value": "m-17", "displayName": "Max Boss" } }
            }),
            applied: &["scim1_schema_urns", "object_for_multi_valued"],
            rfc_valid: true,
        },
        Case {
            name: "onelogin: the 2.0 spelling of the legacy URNs (authentik #11249)",
            dialect: Dialect::OneLogin,
            kind: Kind::Resource("User"),
            input: json!({
                "schemas": ["urn:scim:schemas:core:2.0", "urn:scim:schemas:extension:enterprise:2.0"],
                "userName": "onelogin-test-user01",
                "name": { "familyName": " User 01", "givenName": "AAA Test" }
            }),
            expected: json!({
                "schemas": [USER, ENT],
                "userName": "onelogin-test-user01",
                "name": { "familyName": " User 01", "givenName": "AAA Test" }
            }),
            applied: &["scim1_schema_urns"],
            rfc_valid: true,
        },
        Case {
            name: "jumpcloud: member removal by value list",
            dialect: Dialect::JumpCloud,
            kind: Kind::Patch("Group"),
            input: patch(json!([{ "op": "remove", "path": "members", "value": [{ "value": "5f1b0c2e9d1a" }] }])),
            expected: patch(json!([{ "op": "remove", "path": "members[value eq \"5f1b0c2e9d1a\"]" }])),
            applied: &["remove_members_by_value_list"],
            rfc_valid: true,
        },
        unchanged(
            "jumpcloud: RFC member add passes through",
            Dialect::JumpCloud,
            Kind::Patch("Group"),
            patch(json!([{ "op": "add", "path": "members", "value": [{ "value": "5f1b0c2e9d1a" }] }])),
            true,
        ),
        unchanged(
            "generic: Entra's capitalised op and string boolean are left for the PATCH engine",
            Dialect::Generic,
            Kind::Patch("User"),
            patch(json!([{ "op": "Replace", "path": "active", "value": "False" }])),
            false,
        ),
    ]
}

/// Ping and Rippling document no deviation of their own and share the common rewrites.
fn common_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (dialect, name_ops, name_members) in [
        (Dialect::Ping, "ping: capitalised op and string boolean", "ping: member removal by value list"),
        (Dialect::Rippling, "rippling: capitalised op and string boolean", "rippling: member removal by value list"),
    ] {
        cases.push(Case {
            name: name_ops,
            dialect,
            kind: Kind::Patch("User"),
            input: patch(json!([{ "op": "Replace", "path": "active", "value": "false" }])),
            expected: patch(json!([{ "op": "replace", "path": "active", "value": false }])),
            applied: &["op_name_case", "string_booleans"],
            rfc_valid: true,
        });
        cases.push(Case {
            name: name_members,
            dialect,
            kind: Kind::Patch("Group"),
            input: patch(json!([{ "op": "remove", "path": "members", "value": [{ "value": "1" }, { "value": "2" }] }])),
            expected: patch(json!([{ "op": "remove", "path": "members[value eq \"1\" or value eq \"2\"]" }])),
            applied: &["remove_members_by_value_list"],
            rfc_valid: true,
        });
    }
    cases
}

pub(super) fn cases() -> Vec<Case> {
    let mut all = entra_cases();
    all.extend(okta_cases());
    all.extend(other_idp_cases());
    all.extend(common_cases());
    all
}
