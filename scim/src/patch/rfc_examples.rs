//! Every PATCH example of RFC 7644 §3.5.2.1–§3.5.2.3, with the request body verbatim (the
//! RFC's line breaks and its elided ids such as `2819c223...413861904646` included). Each
//! test applies the body to a resource and checks the outcome the section's text describes;
//! the examples on a Group also check the member operations the service takes out of them.
//!
//! The introductory example of §3.5.2 is not JSON (it ends in `... + additional operations
//! if needed ...`); its first operation is the one of §3.5.2.1.

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
    let repaired = ADD_WITHOUT_PATH.replace("\"nickname\":\"Babs\"\n     }]", "\"nickname\":\"Babs\"\n     }}]");
    let mut user = babs();
    user["emails"] = json!([{"value": "bjensen@example.com", "type": "work", "primary": true}]);
    let out = apply_to(&user, &repaired, "User");
    // "an additional value is added to the multi-valued attribute "emails". The second
    // attribute, "nickname", is added to the User resource. If the resource already had an
    // existing "nickname", the value is replaced".
    assert_eq!(
        out["emails"],
        json!([
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ])
    );
    assert_eq!(out["nickName"], "Babs");
    assert_eq!(out.get("nickname"), None);
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
    assert_eq!(member_ids(&out), ["2819c223-7f76-453a-919d-413861904646", "902c246b-6245-4190-8e05-00816be7344a"]);
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
    assert_eq!(
        out["emails"],
        json!([{"value": "babs@example.com", "type": "home"}, {"value": "bjensen@example.org", "type": "work"}])
    );
}

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
    assert_eq!(member_ids(&out), ["902c246b-6245-4190-8e05-00816be7344a", "08e1d05d...473d93df9210"]);
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
    assert_eq!(
        out["addresses"][0],
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
    );
    assert_eq!(out["addresses"][1], babs()["addresses"][1]);
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
       }
     }]
   }"#;

#[test]
fn rfc7644_3_5_2_3_replace_emails_and_nickname_without_path() {
    let mut user = babs();
    user["emails"] = json!([{"value": "old@example.com", "type": "other"}]);
    let out = apply_to(&user, REPLACE_WITHOUT_PATH, "User");
    assert_eq!(
        out["emails"],
        json!([
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ])
    );
    assert_eq!(out["nickName"], "Babs");
}

#[test]
fn rfc7644_3_5_2_every_example_is_idempotent() {
    let cases: [(&str, &str, Value); 8] = [
        (ADD_MEMBER, "Group", tour_guides(&[])),
        (REMOVE_MEMBER, "Group", tour_guides(&[member("2819c223-7f76-...413861904646", "Babs Jensen")])),
        (REMOVE_ALL_MEMBERS, "Group", tour_guides(&[])),
        (REPLACE_MEMBERS_BY_REMOVE_AND_ADD, "Group", tour_guides(&[])),
        (REPLACE_MEMBERS, "Group", tour_guides(&[])),
        (REPLACE_WORK_ADDRESS, "User", babs()),
        (REPLACE_WORK_STREET_ADDRESS, "User", babs()),
        (REPLACE_WITHOUT_PATH, "User", babs()),
    ];
    for (text, resource_type, resource) in cases {
        let once = apply_to(&resource, text, resource_type);
        assert_eq!(apply_to(&once, text, resource_type), once, "{text}");
    }
}
