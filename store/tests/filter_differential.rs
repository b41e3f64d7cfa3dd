//! The filter renderer against the protocol core's reference evaluator: for every filter,
//! the users SQL returns (SQLite and PostgreSQL) are exactly those `scim::filter::eval`
//! matches on the same documents. One test binary for the renderer's semantics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use chrono::{TimeZone, Utc};
use scim::filter::Filter;
use scim::filter::check::{UnknownAttributes, check};
use scim::filter::eval::matches;
use scim::filter::plan::plan;
use scim::schema::SchemaRegistry;
use serde_json::{Value, json};
use store::testing::TestDatabase;
use store::{
    Change, ChangeKind, Directory, DirectoryId, DirectorySettings, IdentityProvider, ListSpec, PageSpec, ResourceKind,
    ResourceState, Tenant, TenantId, WriteContext, backend_tests,
};

const EXT: &str = "urn:acme:params:scim:schemas:extension:2.0:User";
const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn registry() -> SchemaRegistry {
    let mut registry = SchemaRegistry::new();
    registry
        .define_extension(
            "User",
            &json!({"id": EXT, "name": "Acme", "attributes": [
                {"name": "level", "type": "integer"},
                {"name": "score", "type": "decimal"},
                {"name": "hired", "type": "dateTime"},
                {"name": "remote", "type": "boolean"},
                {"name": "badge", "type": "string", "caseExact": true}
            ]}),
            false,
        )
        .unwrap();
    registry
}

/// Users with the awkward cases: missing and null values, empty strings, non-ASCII case,
/// arrays with and without types, numbers, booleans, dateTimes with offsets.
fn documents() -> Vec<(String, Option<String>, Value)> {
    let mut docs = Vec::new();
    let names = ["alice", "Bob", "ÅSA", "straße", "Zoë", "carol", "dave", "EVE", "frank", "gina", "Ünal", "ßeta"];
    for (n, name) in names.iter().enumerate() {
        let mut doc = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name,
        });
        if n % 2 == 0 {
            doc["displayName"] = json!(format!("{name} Display"));
        }
        if n % 3 == 0 {
            doc["title"] = json!("");
        } else if n % 3 == 1 {
            doc["title"] = json!("Engineer");
        }
        match n % 4 {
            0 => doc["active"] = json!(true),
            1 => doc["active"] = json!(false),
            2 => doc["active"] = Value::Null,
            _ => {}
        }
        doc["emails"] = match n % 5 {
            0 => json!([{"value": format!("{name}@Work.example"), "type": "work", "primary": true},
                        {"value": format!("{name}@home.org"), "type": "home"}]),
            1 => json!([{"value": format!("{name}@home.org")}]),
            2 => json!([]),
            3 => {
                json!([{"value": null, "type": "work"}, {"value": format!("{}@WORK.example", name.to_uppercase()), "type": "other"}])
            }
            _ => Value::Null,
        };
        doc["name"] = if n % 2 == 1 {
            json!({"givenName": name, "familyName": format!("Family{}", n % 3)})
        } else {
            json!({"familyName": ""})
        };
        if n % 3 != 2 {
            doc[EXT] = json!({
                "level": n as i64 - 3,
                "score": (n as f64) * 1.5,
                "hired": format!("20{:02}-06-0{}T1{}:00:00{}", 10 + n, 1 + n % 8, n % 10, if n % 2 == 0 { "Z" } else { "+02:00" }),
                "remote": n % 2 == 0,
                "badge": if n % 2 == 0 { "AB" } else { "ab" },
            });
            doc["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User", EXT]);
        }
        if n % 4 == 0 {
            doc[ENT] = json!({"department": if n % 8 == 0 { "Sales" } else { "sales" }, "manager": {"value": "boss"}});
        }
        let external_id = (n % 3 == 0).then(|| format!("EXT-{n}"));
        docs.push((format!("user-{n:02}"), external_id, doc));
    }
    docs
}

const FILTERS: &[&str] = &[
    r#"userName eq "alice""#,
    r#"userName eq "ALICE""#,
    r#"userName eq "åsa""#,
    r#"userName eq "STRASSE""#,
    r#"userName eq "STRAßE""#,
    r#"userName ne "bob""#,
    r#"userName co "a""#,
    r#"userName sw "Ü""#,
    r#"userName ew "E""#,
    r#"userName gt "m""#,
    r#"userName le "dave""#,
    r#"userName co """#,
    r#"externalId eq "EXT-3""#,
    r#"externalId eq "ext-3""#,
    r#"externalId pr"#,
    r#"not (externalId pr)"#,
    r#"not (externalId eq "EXT-0")"#,
    r#"id eq "user-05""#,
    r#"id gt "user-08""#,
    r#"displayName pr"#,
    r#"displayName co "display""#,
    r#"title pr"#,
    r#"title eq """#,
    r#"not (title pr)"#,
    r#"active eq true"#,
    r#"active eq false"#,
    r#"active ne true"#,
    r#"not (active eq true)"#,
    r#"active pr"#,
    r#"emails pr"#,
    r#"not (emails pr)"#,
    r#"emails.value pr"#,
    r#"emails.value ew ".org""#,
    r#"emails.value eq "ALICE@work.EXAMPLE""#,
    r#"emails[type eq "work"]"#,
    r#"emails[type eq "work" and value co "work"]"#,
    r#"emails[type eq "work" and value pr]"#,
    r#"emails[primary eq true]"#,
    r#"emails[not (type eq "home")]"#,
    r#"not (emails[type eq "home"])"#,
    r#"emails[value eq "gina@work.example"]"#,
    r#"emails.type eq "other" or emails.primary eq true"#,
    r#"name.givenName pr"#,
    r#"name.familyName pr"#,
    r#"name.familyName eq "family1""#,
    r#"name[givenName sw "b" or familyName eq "family2"]"#,
    r#"urn:acme:params:scim:schemas:extension:2.0:User:level ge 0"#,
    r#"urn:acme:params:scim:schemas:extension:2.0:User:level lt 0"#,
    r#"urn:acme:params:scim:schemas:extension:2.0:User:level eq 4"#,
    r#"urn:acme:params:scim:schemas:extension:2.0:User:level ne 4"#,
    r#"urn:acme:params:scim:schemas:extension:2.0:User:score gt 7.5"#,
    r#"urn:acme:params:scim:schemas:extension:2.0:User:score le 1.5"#,
    r#"urn:acme:params:scim:schemas:extension:2.0:User:hired gt "2015-01-01T00:00:00Z""#,
    r#"urn:acme:params:scim:schemas:extension:2.0:User:hired lt "2014-06-05T12:00:00+02:00""#,
    r#"urn:acme:params:scim:schemas:extension:2.0:User:hired eq "2011-06-02T09:00:00Z""#,
    r#"urn:acme:params:scim:schemas:extension:2.0:User:remote eq true"#,
    r#"urn:acme:params:scim:schemas:extension:2.0:User:remote eq false"#,
    r#"urn:acme:params:scim:schemas:extension:2.0:User:badge eq "AB""#,
    r#"urn:acme:params:scim:schemas:extension:2.0:User:badge eq "ab""#,
    r#"urn:acme:params:scim:schemas:extension:2.0:User:badge pr"#,
    r#"department eq "sales""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "boss""#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager pr"#,
    r#"meta.created pr"#,
    r#"meta.lastModified gt "2026-11-25T10:00:00Z""#,
    r#"meta.lastModified le "2026-11-25T10:00:00Z""#,
    r#"userName eq null"#,
    r#"displayName ne null"#,
    r#"(userName sw "a" or userName sw "b") and not (active eq false)"#,
    r#"title pr and (emails[type eq "work"] or urn:acme:params:scim:schemas:extension:2.0:User:level gt 2)"#,
];

backend_tests!(sql_and_the_evaluator_agree_on_every_filter);

async fn sql_and_the_evaluator_agree_on_every_filter(db: TestDatabase) {
    let now = Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap();
    let tenant = Tenant {
        id: TenantId::generate(),
        slug: "acme".parse().unwrap(),
        display_name: "Acme".into(),
        created_at: now,
    };
    db.store.create_tenant(&tenant).await.unwrap();
    let directory = Directory {
        id: DirectoryId::generate(),
        idp: IdentityProvider::Generic,
        display_name: "d".into(),
        created_at: now,
        settings: DirectorySettings::default(),
    };
    db.store.tenant(tenant.id).create_directory(&directory).await.unwrap();
    let data = db.store.tenant(tenant.id).directory_data(directory.id);
    let registry = registry();
    let mut resources = Vec::new();
    for (n, (id, external_id, doc)) in documents().into_iter().enumerate() {
        // Half created before 10:00, half after, for the meta.lastModified filters.
        let at = now + chrono::Duration::minutes(11 * n as i64);
        let context = WriteContext { actor: "test".into(), at };
        let name = doc["userName"].as_str().unwrap().to_owned();
        let state = ResourceState { name, external_id: external_id.clone(), doc: doc.clone() };
        let change = Change { kind: ChangeKind::UserCreated, resource_id: id.clone(), data: json!({}) };
        data.create(ResourceKind::User, &id, &state, &[], &change, &context).await.unwrap();
        // What the evaluator sees: the document with id, externalId and meta, as served.
        let mut resource = doc;
        resource["id"] = json!(id);
        if let Some(external_id) = external_id {
            resource["externalId"] = json!(external_id);
        }
        let stamp = at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        resource["meta"] = json!({"created": stamp, "lastModified": stamp, "resourceType": "User"});
        resources.push((id, resource));
    }

    let schema = registry.for_resource_type("User");
    let columns = store::indexed_columns(ResourceKind::User);
    for text in FILTERS {
        let filter = Filter::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let checked = check(&filter, &schema, UnknownAttributes::Reject).unwrap_or_else(|e| panic!("{text}: {e}"));
        let mut expected: Vec<&str> =
            resources.iter().filter(|(_, r)| matches(&checked, r)).map(|(id, _)| id.as_str()).collect();
        expected.sort_unstable();
        let planned = plan(&checked, &columns);
        let spec = ListSpec { filter: Some(&planned), sort: None, page: PageSpec::Offset { skip: 0, take: 1000 } };
        let listed = data.list(ResourceKind::User, &spec).await.unwrap_or_else(|e| panic!("{text}: {e}"));
        let mut got: Vec<&str> = listed.records.iter().map(|r| r.id.as_str()).collect();
        got.sort_unstable();
        assert_eq!(got, expected, "{text} on {:?}", db.url.backend());
        assert_eq!(listed.total, expected.len() as i64, "{text}: totalResults");
    }
}
