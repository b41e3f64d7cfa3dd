//! Criterion benchmarks of the protocol core's hot paths: parsing and checking a filter,
//! evaluating it on a resource, planning it for SQL, validating a create body, and parsing
//! and applying a PATCH. `cargo bench -p scim`.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use scim::filter::Filter;
use scim::filter::check::{UnknownAttributes, check};
use scim::filter::eval::matches;
use scim::filter::plan::{IndexedColumns, plan};
use scim::patch::{PatchRequest, apply};
use scim::schema::SchemaRegistry;
use scim::validate::{UnknownPolicy, validate};
use serde_json::json;

const PROBE: &str = r#"userName eq "bjensen@example.com""#;
const COMPLEX: &str = r#"emails[type eq "work" and value co "@example.com"] and (title pr or urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales") and not (active eq false)"#;

fn user() -> serde_json::Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "title": "Tour Guide",
        "active": true,
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}, {"value": "babs@jensen.org", "type": "home"}],
        "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales", "employeeNumber": "701984"}
    })
}

fn filters(c: &mut Criterion) {
    let registry = SchemaRegistry::new();
    let schema = registry.for_resource_type("User");
    let resource = user();
    let columns = IndexedColumns::new().with("userName", "name").unwrap();
    for (name, text) in [("probe", PROBE), ("complex", COMPLEX)] {
        c.bench_function(&format!("filter parse ({name})"), |b| b.iter(|| Filter::parse(black_box(text)).unwrap()));
        let filter = Filter::parse(text).unwrap();
        c.bench_function(&format!("filter check ({name})"), |b| {
            b.iter(|| check(black_box(&filter), &schema, UnknownAttributes::Reject).unwrap());
        });
        let checked = check(&filter, &schema, UnknownAttributes::Reject).unwrap();
        c.bench_function(&format!("filter evaluate ({name})"), |b| b.iter(|| matches(black_box(&checked), &resource)));
        c.bench_function(&format!("filter plan ({name})"), |b| b.iter(|| plan(black_box(&checked), &columns)));
    }
}

fn writes(c: &mut Criterion) {
    let registry = SchemaRegistry::new();
    let body = user();
    c.bench_function("validate create body", |b| {
        b.iter(|| validate(&registry, "User", black_box(&body), None, UnknownPolicy::Strict).unwrap());
    });
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "replace", "path": "name.givenName", "value": "Babs"},
        {"op": "add", "path": "emails[type eq \"work\"].primary", "value": true},
        {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Ops"},
        {"op": "remove", "path": "addresses[type eq \"work\"]"}
    ]});
    c.bench_function("PATCH parse (4 operations)", |b| {
        b.iter(|| PatchRequest::parse(black_box(&patch), &registry, "User").unwrap());
    });
    let request = PatchRequest::parse(&patch, &registry, "User").unwrap();
    let doc = body.as_object().unwrap().clone();
    c.bench_function("PATCH apply (4 operations)", |b| {
        b.iter(|| apply(black_box(&doc), &request, &registry, "User").unwrap());
    });
}

criterion_group!(benches, filters, writes);
criterion_main!(benches);
