//! Any text as an attribute path and as a PATCH path: parsing never panics, and a parsed
//! attribute path prints to text that parses back to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scim::path::{AttrPath, PatchPath};

fuzz_target!(|text: &str| {
    if let Ok(path) = AttrPath::parse(text) {
        let reparsed = AttrPath::parse(&path.to_string()).expect("a printed path parses");
        assert_eq!(reparsed, path);
    }
    let _ = PatchPath::parse(text);
    let _ = PatchPath::parse_with_schemas(text, |urn| urn.starts_with("urn:"));
});
