//! A small User schema for tests of `check`, `eval` and `plan`: the core attributes the
//! RFC examples use, the enterprise extension, and a custom extension with numbers.

use super::check::{AttrInfo, AttrResolver, AttrType};
use crate::path::AttrPath;

pub(crate) const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub(crate) const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub(crate) const CUSTOM: &str = "urn:example:params:scim:schemas:extension:acme:1.0:User";

/// (schema, name, type, multi, caseExact, sub-attributes)
type Def = (
    &'static str,
    &'static str,
    AttrType,
    bool,
    bool,
    &'static [(&'static str, AttrType, bool)],
);

const DEFS: &[Def] = &[
    (CORE, "id", AttrType::String, false, true, &[]),
    (CORE, "externalId", AttrType::String, false, true, &[]),
    (CORE, "userName", AttrType::String, false, false, &[]),
    (CORE, "displayName", AttrType::String, false, false, &[]),
    (CORE, "title", AttrType::String, false, false, &[]),
    (CORE, "userType", AttrType::String, false, false, &[]),
    (CORE, "active", AttrType::Boolean, false, false, &[]),
    (CORE, "schemas", AttrType::Reference, true, true, &[]),
    (
        CORE,
        "name",
        AttrType::Complex,
        false,
        false,
        &[
            ("givenName", AttrType::String, false),
            ("familyName", AttrType::String, false),
        ],
    ),
    (
        CORE,
        "emails",
        AttrType::Complex,
        true,
        false,
        &[
            ("value", AttrType::String, false),
            ("type", AttrType::String, false),
            ("primary", AttrType::Boolean, false),
        ],
    ),
    (
        CORE,
        "ims",
        AttrType::Complex,
        true,
        false,
        &[
            ("value", AttrType::String, false),
            ("type", AttrType::String, false),
        ],
    ),
    (
        CORE,
        "meta",
        AttrType::Complex,
        false,
        false,
        &[
            ("created", AttrType::DateTime, false),
            ("lastModified", AttrType::DateTime, false),
            ("resourceType", AttrType::String, true),
        ],
    ),
    (
        ENTERPRISE,
        "employeeNumber",
        AttrType::String,
        false,
        false,
        &[],
    ),
    (
        ENTERPRISE,
        "manager",
        AttrType::Complex,
        false,
        false,
        &[
            ("value", AttrType::String, true),
            ("displayName", AttrType::String, false),
        ],
    ),
    (CUSTOM, "loginCount", AttrType::Integer, false, false, &[]),
    (CUSTOM, "score", AttrType::Decimal, false, false, &[]),
    (CUSTOM, "badge", AttrType::Binary, false, true, &[]),
];

/// Resolves paths against [`DEFS`], ignoring case, the way the schema registry does.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct TestSchema;

impl AttrResolver for TestSchema {
    fn resolve(&self, path: &AttrPath) -> Option<AttrInfo> {
        let (schema, name, ty, multi, case_exact, subs) = DEFS.iter().find(|d| {
            d.1.eq_ignore_ascii_case(path.name())
                && path.uri().is_none_or(|u| u.eq_ignore_ascii_case(d.0))
        })?;
        let extension = (*schema != CORE).then(|| (*schema).to_owned());
        match path.sub_attr() {
            None => Some(AttrInfo {
                name: (*name).to_owned(),
                ty: *ty,
                multi_valued: *multi,
                case_exact: *case_exact,
                extension,
            }),
            Some(sub) => subs.iter().find(|s| s.0.eq_ignore_ascii_case(sub)).map(
                |(sub_name, sub_ty, sub_exact)| AttrInfo {
                    name: (*sub_name).to_owned(),
                    ty: *sub_ty,
                    multi_valued: false,
                    case_exact: *sub_exact,
                    extension,
                },
            ),
        }
    }
}
