//! Any bytes as a PATCH body: parsing, the Entra dialect, member extraction and applying
//! to a user never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim::dialect::{Dialect, normalize_patch};
use scim::patch::{PatchRequest, apply};
use scim::schema::SchemaRegistry;
use serde_json::{Value, json};

fuzz_target!(|bytes: &[u8]| {
    let Ok(body) = serde_json::from_slice::<Value>(bytes) else { return };
    let registry = SchemaRegistry::new();
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "bjensen",
        "emails": [{"value": "b@example.com", "type": "work", "primary": true}],
        "name": {"givenName": "Barbara"}
    });
    for resource_type in ["User", "Group"] {
        let normalized = normalize_patch(Dialect::Entra, &registry, resource_type, body.clone());
        for candidate in [&body, &normalized.body] {
            if let Ok(mut request) = PatchRequest::parse(candidate, &registry, resource_type) {
                let _ = request.take_member_operations();
                if let Some(doc) = user.as_object() {
                    let _ = apply(doc, &request, &registry, resource_type);
                }
            }
        }
    }
});
