//! Any text as a filter: parsing never panics, a parsed filter prints to text that parses
//! back to the same filter, and checking it against the User schema never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim::filter::Filter;
use scim::filter::check::{UnknownAttributes, check};
use scim::schema::SchemaRegistry;

fuzz_target!(|text: &str| {
    let Ok(filter) = Filter::parse(text) else { return };
    let printed = filter.to_string();
    let reparsed = Filter::parse(&printed).expect("a printed filter parses");
    assert_eq!(reparsed, filter, "print/parse round trip of {text:?}");
    let registry = SchemaRegistry::new();
    let _ = check(&filter, &registry.for_resource_type("User"), UnknownAttributes::Reject);
});
