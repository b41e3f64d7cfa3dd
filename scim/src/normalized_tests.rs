use serde_json::json;

use super::*;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn mapped(key: &str, source: &str) -> MappedAttribute {
    MappedAttribute { key: key.to_owned(), source: SourcePath::parse(source).unwrap() }
}

fn read(source: &str, doc: &Value) -> Option<Value> {
    SourcePath::parse(source).unwrap().read(doc)
}

/// A user as Entra ID provisions one, after validation.
fn entra_user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE, "urn:acme:custom:User"],
        "userName": "ada@globex.example",
        "externalId": "ada",
        "active": true,
        "name": { "givenName": "Ada", "familyName": "Lovelace", "formatted": "Ada Lovelace" },
        "title": "Engineer",
        "emails": [
            { "value": "ada@home.example", "type": "home" },
            { "value": "ada@globex.example", "type": "work" }
        ],
        "phoneNumbers": [
            { "value": "+44 1", "type": "mobile" },
            { "value": "+44 2", "type": "mobile" },
            { "value": "+44 3", "type": "work" }
        ],
        ENTERPRISE: { "department": "R&D", "employeeNumber": "701", "manager": { "value": "boss-id", "displayName": "Boss" } },
        "urn:acme:custom:User": { "costCenter": "CC-9", "badge": 42 },
        "urn:okta:unknown:extension": { "shoeSize": "44" },
        "favouriteColour": "teal"
    })
}

#[test]
fn standard_fields_come_from_their_scim_attributes() {
    let user = normalize_user("scim-id", &entra_user(), &[]);
    assert_eq!(user.idp_id, "ada");
    assert_eq!(user.username.as_deref(), Some("ada@globex.example"));
    assert_eq!(user.first_name.as_deref(), Some("Ada"));
    assert_eq!(user.last_name.as_deref(), Some("Lovelace"));
    assert_eq!(user.job_title.as_deref(), Some("Engineer"));
    assert_eq!(user.state, UserState::Active);
    assert_eq!(user.emails.len(), 2);
    assert!(user.custom_attributes.is_empty(), "no mapping, no custom attributes");
}

#[test]
fn the_idp_id_is_the_external_id_else_the_resource_id() {
    assert_eq!(normalize_user("scim-id", &json!({ "userName": "a" }), &[]).idp_id, "scim-id");
    assert_eq!(normalize_user("scim-id", &json!({ "userName": "a", "externalId": "" }), &[]).idp_id, "scim-id");
    assert_eq!(normalize_group("g-id", &json!({ "displayName": "Eng", "externalId": "okta-g" })).idp_id, "okta-g");
    assert_eq!(normalize_group("g-id", &json!({ "displayName": "Eng" })).idp_id, "g-id");
}

#[test]
fn the_email_is_the_primary_else_the_work_else_the_first() {
    let email = |emails: Value| normalize_user("id", &json!({ "emails": emails }), &[]).email;
    let home = json!({ "value": "h@x.example", "type": "home" });
    let work = json!({ "value": "w@x.example", "type": "Work" });
    let other = json!({ "value": "o@x.example", "type": "other", "primary": true });
    assert_eq!(email(json!([home, work, other])).as_deref(), Some("o@x.example"));
    assert_eq!(email(json!([home, work])).as_deref(), Some("w@x.example"));
    assert_eq!(email(json!([home])).as_deref(), Some("h@x.example"));
    assert_eq!(email(json!([])), None);
    assert_eq!(normalize_user("id", &json!({}), &[]).email, None);
}

#[test]
fn a_user_is_active_unless_active_is_false() {
    let state = |doc: Value| normalize_user("id", &doc, &[]).state;
    assert_eq!(state(json!({})), UserState::Active);
    assert_eq!(state(json!({ "active": true })), UserState::Active);
    assert_eq!(state(json!({ "active": false })), UserState::Inactive);
    assert_eq!(state(json!({ "active": "False" })), UserState::Inactive);
    assert_eq!(serde_json::to_value(UserState::Inactive).unwrap(), json!("inactive"));
}

#[test]
fn the_mapping_reads_core_enterprise_custom_and_kept_unknown_attributes() {
    let mapping = [
        mapped("department", &format!("{ENTERPRISE}:department")),
        mapped("manager_id", &format!("{ENTERPRISE}:manager.value")),
        mapped("cost_center", "urn:acme:custom:User:costCenter"),
        mapped("badge", "urn:acme:custom:User:badge"),
        mapped("shoe_size", "urn:okta:unknown:extension:shoeSize"),
        mapped("colour", "favouriteColour"),
        mapped("work_email", "emails[type eq \"work\"].value"),
        mapped("given_name", "urn:ietf:params:scim:schemas:core:2.0:User:name.givenName"),
        mapped("nickname", "nickName"),
    ];
    let user = normalize_user("id", &entra_user(), &mapping);
    assert_eq!(
        Value::Object(user.custom_attributes),
        json!({
            "department": "R&D",
            "manager_id": "boss-id",
            "cost_center": "CC-9",
            "badge": 42,
            "shoe_size": "44",
            "colour": "teal",
            "work_email": "ada@globex.example",
            "given_name": "Ada",
        }),
        "a mapped attribute the user lacks (nickName) is absent"
    );
}

#[test]
fn names_in_source_paths_ignore_case() {
    let doc = entra_user();
    assert_eq!(read("USERNAME", &doc), Some(json!("ada@globex.example")));
    assert_eq!(read("Name.GivenName", &doc), Some(json!("Ada")));
    assert_eq!(read(&format!("{}:Department", ENTERPRISE.to_uppercase()), &doc), Some(json!("R&D")));
    assert_eq!(read("emails[TYPE eq \"WORK\"].VALUE", &doc), Some(json!("ada@globex.example")));
}

#[test]
fn a_path_selecting_several_values_reads_them_all_in_order() {
    let doc = entra_user();
    assert_eq!(read("phoneNumbers[type eq \"mobile\"].value", &doc), Some(json!(["+44 1", "+44 2"])));
    assert_eq!(read("emails.value", &doc), Some(json!(["ada@home.example", "ada@globex.example"])));
    assert_eq!(read("phoneNumbers[type eq \"fax\"].value", &doc), None);
}

#[test]
fn value_filters_support_the_logical_and_comparison_operators() {
    let doc = entra_user();
    let cases = [
        ("phoneNumbers[type eq \"work\" or value sw \"+44 1\"].value", Some(json!(["+44 1", "+44 3"]))),
        ("phoneNumbers[type eq \"mobile\" and value ew \"2\"].value", Some(json!("+44 2"))),
        ("phoneNumbers[not (type eq \"mobile\")].value", Some(json!("+44 3"))),
        ("phoneNumbers[value co \"3\"].value", Some(json!("+44 3"))),
        ("phoneNumbers[type ne \"mobile\"].value", Some(json!("+44 3"))),
        ("emails[primary pr].value", None),
        ("emails[type pr].value", Some(json!(["ada@home.example", "ada@globex.example"]))),
        ("phoneNumbers[value gt \"+44 2\"].value", Some(json!("+44 3"))),
    ];
    for (source, expected) in cases {
        assert_eq!(read(source, &doc), expected, "{source}");
    }
}

#[test]
fn a_value_path_without_a_sub_attribute_reads_whole_elements() {
    let doc = entra_user();
    assert_eq!(read("emails[type eq \"home\"]", &doc), Some(json!({ "value": "ada@home.example", "type": "home" })));
}

#[test]
fn a_whole_object_can_be_mapped() {
    let doc = entra_user();
    assert_eq!(read("name", &doc), Some(doc["name"].clone()));
    assert_eq!(read(&format!("{ENTERPRISE}:manager"), &doc), Some(doc[ENTERPRISE]["manager"].clone()));
}

#[test]
fn missing_and_null_values_read_nothing() {
    let doc = json!({ "title": null, "name": {}, "emails": [{ "type": "work" }] });
    for source in ["title", "name.givenName", "emails[type eq \"work\"].value", "urn:x:y:missing", "nope.sub"] {
        assert_eq!(read(source, &doc), None, "{source}");
    }
}

#[test]
fn malformed_source_paths_are_invalid_path_errors() {
    for source in ["", "emails[type eq", "a.b.c", "emails[type eq \"w\"]extra"] {
        let error = SourcePath::parse(source).unwrap_err();
        assert_eq!(error.scim_type(), Some("invalidPath"), "{source}: {error}");
    }
}

#[test]
fn mappings_round_trip_through_json_as_text_paths() {
    let mapping = vec![mapped("department", &format!("{ENTERPRISE}:department"))];
    let stored = serde_json::to_value(&mapping).unwrap();
    assert_eq!(stored, json!([{ "key": "department", "source": format!("{ENTERPRISE}:department") }]));
    assert_eq!(serde_json::from_value::<Vec<MappedAttribute>>(stored).unwrap(), mapping);
    let broken = json!([{ "key": "x", "source": "emails[" }]);
    assert!(serde_json::from_value::<Vec<MappedAttribute>>(broken).is_err());
}

#[test]
fn a_group_is_named_by_its_display_name() {
    let group = normalize_group("g", &json!({ "displayName": "Globex Engineering" }));
    assert_eq!(group, NormalizedGroup { idp_id: "g".into(), name: "Globex Engineering".into() });
    assert_eq!(normalize_group("g", &json!({})).name, "");
}

#[test]
fn previous_attributes_hold_the_old_values_of_what_changed() {
    let before = json!({
        "first_name": "Ada", "last_name": "Lovelace", "state": "active", "email": null,
        "custom_attributes": { "department": "R&D", "badge": 42 }
    });
    let after = json!({
        "first_name": "Ada", "last_name": "King", "state": "inactive", "email": "ada@x.example",
        "job_title": "Countess",
        "custom_attributes": { "department": "Maths", "badge": 42, "cost_center": "CC-1" }
    });
    assert_eq!(
        Value::Object(previous_attributes(&before, &after)),
        json!({
            "last_name": "Lovelace",
            "state": "active",
            "email": null,
            "job_title": null,
            "custom_attributes": { "department": "R&D", "cost_center": null },
        })
    );
    assert!(previous_attributes(&after, &after).is_empty());
}

#[test]
fn previous_attributes_of_a_removed_field_hold_its_value() {
    let before = json!({ "job_title": "Engineer", "custom_attributes": { "department": "R&D" } });
    let after = json!({ "custom_attributes": {} });
    assert_eq!(
        Value::Object(previous_attributes(&before, &after)),
        json!({ "job_title": "Engineer", "custom_attributes": { "department": "R&D" } })
    );
}

#[test]
fn a_normalized_user_serializes_with_the_directory_sync_field_names() {
    let user = normalize_user("id", &entra_user(), &[mapped("department", &format!("{ENTERPRISE}:department"))]);
    let json = serde_json::to_value(&user).unwrap();
    for field in ["idp_id", "username", "first_name", "last_name", "email", "emails", "job_title", "state"] {
        assert!(json.get(field).is_some(), "{field} missing from {json}");
    }
    assert_eq!(json["emails"][1], json!({ "primary": false, "type": "work", "value": "ada@globex.example" }));
    assert_eq!(json["custom_attributes"], json!({ "department": "R&D" }));
    assert_eq!(serde_json::from_value::<NormalizedUser>(json).unwrap(), user);
}

fn suspension() -> Suspension {
    Suspension { suspended_at: "2026-12-06T01:00:00.000Z".into(), reason: "Okta is down".into() }
}

#[test]
fn a_suspended_user_reads_suspended_whatever_its_document_says() {
    for active in [true, false] {
        let mut user = normalize_user("u", &json!({ "userName": "ada", "active": active }), &[]);
        user.suspend(suspension());
        let read = serde_json::to_value(&user).unwrap();
        assert_eq!(read["state"], "suspended");
        assert_eq!(read["suspension"], json!({ "suspended_at": "2026-12-06T01:00:00.000Z", "reason": "Okta is down" }));
        assert_eq!(serde_json::from_value::<NormalizedUser>(read).unwrap(), user, "it reads back as it was");
    }
    let plain = serde_json::to_value(normalize_user("u", &json!({ "userName": "ada" }), &[])).unwrap();
    assert!(plain.get("suspension").is_none(), "absent, not null, for a user who is not suspended");
}

#[test]
fn a_suspended_view_hides_the_state_changes_underneath_and_keeps_the_others() {
    let mut view = json!({
        "normalized": { "username": "ada", "state": "inactive", "job_title": "Analyst" },
        "previous_attributes": { "state": "active", "job_title": "Intern" },
    });
    suspended_view(&mut view, &suspension());
    assert_eq!(view["normalized"]["state"], "suspended");
    assert_eq!(view["normalized"]["suspension"]["reason"], "Okta is down");
    assert_eq!(view["previous_attributes"], json!({ "job_title": "Intern" }));
    // A view without previous attributes (a creation's) gets none.
    let mut created = json!({ "normalized": { "state": "active" }, "previous_attributes": null });
    suspended_view(&mut created, &suspension());
    assert_eq!(created["previous_attributes"], Value::Null);
}
