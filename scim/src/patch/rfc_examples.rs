//! Every PATCH example of RFC 7644 §3.5.2 (Figure 6) and §3.5.2.1–§3.5.2.3, with the request
//! body copied from the RFC text (rfc7644.txt) and equal to it up to JSON whitespace, the
//! elided ids such as `2819c223...413861904646` included. Each test applies the body to a
//! resource and checks the document the section's text describes; the examples on a Group
//! also check the member operations the service takes out of them.
//!
//! Two bodies are not JSON as printed: the path-less "add" (§3.5.2.1) and "replace"
//! (§3.5.2.3) both lack the `}` that closes the operation. Their tests keep the printed text,
//! check that it does not parse, and apply it with that brace added.

use serde_json::{Value, json};

use super::MemberOperation::{Add, Remove, RemoveAll, Replace};
use super::*;
use crate::schema::SchemaRegistry;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn request(text: &str, resource_type: &str) -> PatchRequest {
    let body: Value = serde_json::from_str(text).unwrap();
    PatchRequest::parse(&body, &SchemaRegistry::new(), resource_type).unwrap()
}

fn apply_to(resource: &Value, text: &str, resource_type: &str) -> Value {
    let registry = SchemaRegistry::new();
    let out = apply(resource.as_object().unwrap(), &request(text, resource_type), &registry, resource_type).unwrap();
    Value::Object(out)
}

fn member_operations(text: &str) -> (Vec<MemberOperation>, usize) {
    let mut req = request(text, "Group");
    let taken = req.take_member_operations().unwrap();
    (taken, req.operations().len())
}

fn strings(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|s| (*s).to_owned()).collect()
}

fn member(id: &str, display: &str) -> Value {
    json!({"value": id, "$ref": format!("https://example.com/v2/Users/{id}"), "display": display})
}

/// A group with the members of RFC 7643 §8.4, and any `more`.
fn tour_guides(more: &[Value]) -> Value {
    let mut members = vec![
        member("2819c223-7f76-453a-919d-413861904646", "Babs Jensen"),
        member("902c246b-6245-4190-8e05-00816be7344a", "Mandy Pepperidge"),
    ];
    members.extend_from_slice(more);
    json!({"schemas": [GROUP], "displayName": "Tour Guides", "members": members})
}

/// `text` with the `}` added that the RFC omits after a path-less operation's `value`.
fn with_operation_closed(text: &str) -> String {
    let fixed = text.replacen("\"nickname\":\"Babs\"\n     }]", "\"nickname\":\"Babs\"\n     }}]", 1);
    assert_ne!(fixed, text, "the RFC's unclosed operation was not found");
    fixed
}

fn member_ids(group: &Value) -> Vec<&str> {
    group["members"].as_array().map(|m| m.iter().filter_map(|m| m["value"].as_str()).collect()).unwrap_or_default()
}

/// Barbara Jensen's addresses and emails, as in RFC 7643 §8.2.
fn babs() -> Value {
    json!({
        "schemas": [USER],
        "userName": "bjensen@example.com",
        "nickName": "Babs J",
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "addresses": [
            {
                "type": "work",
                "streetAddress": "100 Universal City Plaza",
                "locality": "Hollywood",
                "region": "CA",
                "postalCode": "91608",
                "country": "USA",
                "formatted": "100 Universal City Plaza\nHollywood, CA 91608 USA",
                "primary": true
            },
            {
                "type": "home",
                "streetAddress": "456 Hollywood Blvd",
                "locality": "Hollywood",
                "region": "CA",
                "postalCode": "91608",
                "country": "USA",
                "formatted": "456 Hollywood Blvd\nHollywood, CA 91608 USA"
            }
        ]
    })
}

// §3.5.2 Figure 6 (non-normative)

const FIGURE_6: &str = r#"
   { "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations":[
       {
        "op":"add",
        "path":"members",
        "value":[
         {
           "display": "Babs Jensen",
           "$ref":
   "https://example.com/v2/Users/2819c223...413861904646",
           "value": "2819c223-7f76-453a-919d-413861904646"
         }
        ]
       },
       ... + additional operations if needed ...
     ]
   }"#;

#[test]
fn rfc7644_3_5_2_figure_6_is_a_sketch_whose_operation_is_the_add_member_example() {
    assert!(serde_json::from_str::<Value>(FIGURE_6).is_err());
    let without_ellipsis = FIGURE_6.replace(",\n       ... + additional operations if needed ...", "");
    let sketch: Value = serde_json::from_str(&without_ellipsis).unwrap();
    assert_eq!(sketch, serde_json::from_str::<Value>(ADD_MEMBER).unwrap());
}

// §3.5.2.1 Add Operation

const ADD_MEMBER: &str = r#"
   {
     "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations":[
       {
        "op":"add",
        "path":"members",
        "value":[
         {
           "display": "Babs Jensen",
           "$ref":
   "https://example.com/v2/Users/2819c223...413861904646",
           "value": "2819c223-7f76-453a-919d-413861904646"
         }
        ]
       }
     ]
   }"#;

#[test]
fn rfc7644_3_5_2_1_add_a_member_to_a_group() {
    assert_eq!(member_operations(ADD_MEMBER), (vec![Add(strings(&["2819c223-7f76-453a-919d-413861904646"]))], 0));
    let group = json!({"schemas": [GROUP], "displayName": "Tour Guides",
        "members": [member("902c246b-6245-4190-8e05-00816be7344a", "Mandy Pepperidge")]});
    let out = apply_to(&group, ADD_MEMBER, "Group");
    assert_eq!(member_ids(&out), ["902c246b-6245-4190-8e05-00816be7344a", "2819c223-7f76-453a-919d-413861904646"]);
    assert_eq!(
        out["members"][1],
        json!({"display": "Babs Jensen", "$ref": "https://example.com/v2/Users/2819c223...413861904646",
            "value": "2819c223-7f76-453a-919d-413861904646"})
    );
}

#[test]
fn rfc7644_3_5_2_1_adding_a_member_already_contained_changes_nothing() {
    // "If the target location already contains the value specified, no changes SHOULD be
    // made to the resource".
    let babs = json!({"display": "Babs Jensen", "$ref": "https://example.com/v2/Users/2819c223...413861904646",
        "value": "2819c223-7f76-453a-919d-413861904646"});
    let group = json!({"schemas": [GROUP], "displayName": "Tour Guides", "members": [babs]});
    assert_eq!(apply_to(&group, ADD_MEMBER, "Group"), group);
}

/// As printed in the RFC, this body lacks the `}` that closes the operation.
const ADD_WITHOUT_PATH: &str = r#"
   {
     "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations":[{
       "op":"add",
       "value":{
         "emails":[
           {
             "value":"babs@jensen.org",
             "type":"home"
           }
         ],
         "nickname":"Babs"
     }]
   }"#;

#[test]
fn rfc7644_3_5_2_1_add_without_path_as_printed_is_not_json() {
    assert!(serde_json::from_str::<Value>(ADD_WITHOUT_PATH).is_err());
}

#[test]
fn rfc7644_3_5_2_1_add_without_path_adds_an_email_and_replaces_the_nickname() {
    let mut user = babs();
    user["emails"] = json!([{"value": "bjensen@example.com", "type": "work", "primary": true}]);
    let out = apply_to(&user, &with_operation_closed(ADD_WITHOUT_PATH), "User");
    // "an additional value is added to the multi-valued attribute "emails". The second
    // attribute, "nickname", is added to the User resource. If the resource already had an
    // existing "nickname", the value is replaced". The name is stored as the schema spells it.
    let mut expected = user.clone();
    expected["emails"] = json!([
        {"value": "bjensen@example.com", "type": "work", "primary": true},
        {"value": "babs@jensen.org", "type": "home"}
    ]);
    expected["nickName"] = json!("Babs");
    assert_eq!(out, expected);
}

// §3.5.2.2 Remove Operation

const REMOVE_MEMBER: &str = r#"
   {
     "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations":[{
       "op":"remove",
       "path":"members[value eq \"2819c223-7f76-...413861904646\"]"
     }]
   }"#;

#[test]
fn rfc7644_3_5_2_2_remove_a_single_member() {
    assert_eq!(member_operations(REMOVE_MEMBER), (vec![Remove(strings(&["2819c223-7f76-...413861904646"]))], 0));
    // The RFC elides the id; a group holding a member with exactly that value loses it.
    let group = tour_guides(&[member("2819c223-7f76-...413861904646", "Babs Jensen")]);
    let out = apply_to(&group, REMOVE_MEMBER, "Group");
    assert_eq!(out, tour_guides(&[]));
    // "If the user was not a member of this group, no changes should be made to the resource".
    assert_eq!(apply_to(&tour_guides(&[]), REMOVE_MEMBER, "Group"), tour_guides(&[]));
}

const REMOVE_ALL_MEMBERS: &str = r#"
   { "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations":[{
       "op":"remove","path":"members"
     }]
   }"#;

#[test]
fn rfc7644_3_5_2_2_remove_all_members() {
    assert_eq!(member_operations(REMOVE_ALL_MEMBERS), (vec![RemoveAll], 0));
    // "the attribute and all values are removed, and the attribute SHALL be considered
    // unassigned".
    let out = apply_to(&tour_guides(&[]), REMOVE_ALL_MEMBERS, "Group");
    assert_eq!(out, json!({"schemas": [GROUP], "displayName": "Tour Guides"}));
}

const REMOVE_WORK_EMAILS: &str = r#"
   { "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [{
       "op":"remove",
       "path":"emails[type eq \"work\" and value ew \"example.com\"]"
     }]
   }"#;

#[test]
fn rfc7644_3_5_2_2_remove_the_work_emails_ending_in_example_com() {
    let mut user = babs();
    user["emails"] = json!([
        {"value": "bjensen@example.com", "type": "work", "primary": true},
        {"value": "babs@example.com", "type": "home"},
        {"value": "bjensen@example.org", "type": "work"}
    ]);
    let out = apply_to(&user, REMOVE_WORK_EMAILS, "User");
    let mut expected = user.clone();
    expected["emails"] =
        json!([{"value": "babs@example.com", "type": "home"}, {"value": "bjensen@example.org", "type": "work"}]);
    assert_eq!(out, expected);
}

/// The path has no space between `eq` and the value, which the filter ABNF requires (SP);
/// the parser accepts it, as the RFC's own example needs.
const REMOVE_AND_ADD_MEMBER: &str = r#"
   { "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [
       {
         "op":"remove",
         "path":
           "members[value eq\"2819c223...919d-413861904646\"]"
       },
       {
         "op":"add",
         "path":"members",
         "value": [
           {
             "display": "James Smith",
             "$ref":
   "https://example.com/v2/Users/08e1d05d...473d93df9210",
             "value": "08e1d05d...473d93df9210"
           }
         ]
       }
     ]
   }"#;

#[test]
fn rfc7644_3_5_2_2_remove_one_member_and_add_another() {
    assert_eq!(
        member_operations(REMOVE_AND_ADD_MEMBER),
        (vec![Remove(strings(&["2819c223...919d-413861904646"])), Add(strings(&["08e1d05d...473d93df9210"]))], 0)
    );
    let group = json!({"schemas": [GROUP], "displayName": "Tour Guides", "members": [
        member("902c246b-6245-4190-8e05-00816be7344a", "Mandy Pepperidge"),
        member("2819c223...919d-413861904646", "Babs Jensen")
    ]});
    let out = apply_to(&group, REMOVE_AND_ADD_MEMBER, "Group");
    assert_eq!(
        out["members"],
        json!([
            member("902c246b-6245-4190-8e05-00816be7344a", "Mandy Pepperidge"),
            {"display": "James Smith", "$ref": "https://example.com/v2/Users/08e1d05d...473d93df9210",
                "value": "08e1d05d...473d93df9210"}
        ])
    );
}

const REPLACE_MEMBERS_BY_REMOVE_AND_ADD: &str = r#"
   { "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [
       {
         "op":"remove","path":"members"
       },
       {
         "op":"add",
         "path":"members",
         "value":[
         {
           "display": "Babs Jensen",
           "$ref":
   "https://example.com/v2/Users/2819c223...413861904646",
           "value": "2819c223-7f76-453a-919d-413861904646"
         },
         {
           "display": "James Smith",
           "$ref":
   "https://example.com/v2/Users/08e1d05d...473d93df9210",
           "value": "08e1d05d-121c-4561-8b96-473d93df9210"
         }]
       }
     ]
   }"#;

#[test]
fn rfc7644_3_5_2_2_replace_all_members_by_removing_them_and_adding_the_new_list() {
    assert_eq!(
        member_operations(REPLACE_MEMBERS_BY_REMOVE_AND_ADD),
        (
            vec![
                RemoveAll,
                Add(strings(&["2819c223-7f76-453a-919d-413861904646", "08e1d05d-121c-4561-8b96-473d93df9210"]))
            ],
            0
        )
    );
    let out = apply_to(&tour_guides(&[]), REPLACE_MEMBERS_BY_REMOVE_AND_ADD, "Group");
    let body: Value = serde_json::from_str(REPLACE_MEMBERS_BY_REMOVE_AND_ADD).unwrap();
    let mut expected = tour_guides(&[]);
    expected["members"] = body["Operations"][1]["value"].clone();
    assert_eq!(out, expected);
    assert_eq!(member_ids(&out), ["2819c223-7f76-453a-919d-413861904646", "08e1d05d-121c-4561-8b96-473d93df9210"]);
}

// §3.5.2.3 Replace Operation

const REPLACE_MEMBERS: &str = r#"
   {
     "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [{
       "op":"replace",
       "path":"members",
       "value":[
         {
           "display": "Babs Jensen",
           "$ref":
   "https://example.com/v2/Users/2819c223...413861904646",
           "value": "2819c223...413861904646"
         },
         {
           "display": "James Smith",
           "$ref":
   "https://example.com/v2/Users/08e1d05d...473d93df9210",
           "value": "08e1d05d...473d93df9210"
         }
       ]
     }]
   }"#;

#[test]
fn rfc7644_3_5_2_3_replace_all_members_in_one_operation() {
    assert_eq!(
        member_operations(REPLACE_MEMBERS),
        (vec![Replace(strings(&["2819c223...413861904646", "08e1d05d...473d93df9210"]))], 0)
    );
    // "If the target location is a multi-valued attribute and no filter is specified, the
    // attribute and all values are replaced."
    let out = apply_to(&tour_guides(&[]), REPLACE_MEMBERS, "Group");
    let body: Value = serde_json::from_str(REPLACE_MEMBERS).unwrap();
    let mut expected = tour_guides(&[]);
    expected["members"] = body["Operations"][0]["value"].clone();
    assert_eq!(out, expected);
    assert_eq!(member_ids(&out), ["2819c223...413861904646", "08e1d05d...473d93df9210"]);
}

const REPLACE_WORK_ADDRESS: &str = r#"
   {
     "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [{
       "op":"replace",
       "path":"addresses[type eq \"work\"]",
       "value":
       {
         "type": "work",
         "streetAddress": "911 Universal City Plaza",
         "locality": "Hollywood",
         "region": "CA",
         "postalCode": "91608",
         "country": "US",
         "formatted":
   "911 Universal City Plaza\nHollywood, CA 91608 US",
         "primary": true
       }
     }]
   }"#;

#[test]
fn rfc7644_3_5_2_3_replace_the_work_address() {
    let out = apply_to(&babs(), REPLACE_WORK_ADDRESS, "User");
    // "all matching record values SHALL be replaced".
    let mut expected = babs();
    expected["addresses"][0] = work_address_911();
    assert_eq!(out, expected);
}

#[test]
fn rfc7644_3_5_2_3_replacing_the_work_address_as_primary_resets_the_other_primary() {
    // "by setting "primary" to "true", the service provider will reset "primary" to "false"
    // for any other existing values of "addresses"".
    let mut user = babs();
    user["addresses"][0].as_object_mut().unwrap().remove("primary");
    user["addresses"][1]["primary"] = json!(true);
    let out = apply_to(&user, REPLACE_WORK_ADDRESS, "User");
    let mut expected = user.clone();
    expected["addresses"][0] = work_address_911();
    expected["addresses"][1]["primary"] = json!(false);
    assert_eq!(out, expected);
}

/// The `value` of the §3.5.2.3 work-address example.
fn work_address_911() -> Value {
    json!({
            "type": "work",
            "streetAddress": "911 Universal City Plaza",
            "locality": "Hollywood",
            "region": "CA",
            "postalCode": "91608",
            "country": "US",
            "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
            "primary": true
    })
}

const REPLACE_WORK_STREET_ADDRESS: &str = r#"
   {
     "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [{
       "op":"replace",
       "path":"addresses[type eq \"work\"].streetAddress",
       "value":"1010 Broadway Ave"
     }]
   }"#;

#[test]
fn rfc7644_3_5_2_3_replace_the_street_address_of_the_work_address() {
    let out = apply_to(&babs(), REPLACE_WORK_STREET_ADDRESS, "User");
    // "the matching sub-attribute of all matching records is replaced".
    let mut expected = babs();
    expected["addresses"][0]["streetAddress"] = json!("1010 Broadway Ave");
    assert_eq!(out, expected);
}

/// As printed in the RFC, this body lacks the `}` that closes the operation, like
/// [`ADD_WITHOUT_PATH`].
const REPLACE_WITHOUT_PATH: &str = r#"
   {
     "schemas":
       ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
     "Operations": [{
       "op":"replace",
       "value":{
         "emails":[
           {
             "value":"bjensen@example.com",
             "type":"work",
             "primary":true
           },
           {
             "value":"babs@jensen.org",
             "type":"home"
           }
         ],
         "nickname":"Babs"
     }]
   }"#;

#[test]
fn rfc7644_3_5_2_3_replace_without_path_as_printed_is_not_json() {
    assert!(serde_json::from_str::<Value>(REPLACE_WITHOUT_PATH).is_err());
}

#[test]
fn rfc7644_3_5_2_3_replace_emails_and_nickname_without_path() {
    let mut user = babs();
    user["emails"] = json!([{"value": "old@example.com", "type": "other"}]);
    let out = apply_to(&user, &with_operation_closed(REPLACE_WITHOUT_PATH), "User");
    // "replace all values of one or more specific attributes ... other attributes are
    // unaffected".
    let mut expected = user.clone();
    expected["emails"] = json!([
        {"value": "bjensen@example.com", "type": "work", "primary": true},
        {"value": "babs@jensen.org", "type": "home"}
    ]);
    expected["nickName"] = json!("Babs");
    assert_eq!(out, expected);
}

#[test]
fn rfc7644_3_5_2_every_example_is_idempotent() {
    let cases: [(String, &str, Value); 10] = [
        (ADD_MEMBER.to_owned(), "Group", tour_guides(&[])),
        (with_operation_closed(ADD_WITHOUT_PATH), "User", babs()),
        (REMOVE_MEMBER.to_owned(), "Group", tour_guides(&[member("2819c223-7f76-...413861904646", "Babs Jensen")])),
        (REMOVE_ALL_MEMBERS.to_owned(), "Group", tour_guides(&[])),
        (REMOVE_WORK_EMAILS.to_owned(), "User", babs()),
        (REPLACE_MEMBERS_BY_REMOVE_AND_ADD.to_owned(), "Group", tour_guides(&[])),
        (REPLACE_MEMBERS.to_owned(), "Group", tour_guides(&[])),
        (REPLACE_WORK_ADDRESS.to_owned(), "User", babs()),
        (REPLACE_WORK_STREET_ADDRESS.to_owned(), "User", babs()),
        (with_operation_closed(REPLACE_WITHOUT_PATH), "User", babs()),
    ];
    for (text, resource_type, resource) in cases {
        let once = apply_to(&resource, &text, resource_type);
        assert_eq!(apply_to(&once, &text, resource_type), once, "{text}");
    }
}
