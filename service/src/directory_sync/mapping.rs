//! From the wizard's attribute mapping to what the vendor's product reads: each mapped row
//! that is not one of a directory user's standard fields becomes a custom attribute, named
//! the way Directory Sync consumers name them (`department`, `employee_number`, ...).

use scim::normalized::{MappedAttribute, SourcePath};

use crate::onboarding::MappingRow;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The custom attributes a mapping produces: rows with a source the admin confirmed (or the
/// identity provider's default), except those that fill a standard field (user name, first
/// and last name, email, state, display name, external id).
pub fn mapped_attributes(rows: &[MappingRow]) -> Vec<MappedAttribute> {
    rows.iter()
        .filter(|row| !row.source.trim().is_empty())
        .filter_map(|row| {
            let (key, path) = custom_attribute(&row.attribute)?;
            Some(MappedAttribute { key, source: SourcePath::parse(&path).ok()? })
        })
        .collect()
}

/// The key and source path of the custom attribute a row's SCIM attribute fills.
fn custom_attribute(attribute: &str) -> Option<(String, String)> {
    let standard = [
        "userName",
        "externalId",
        "name.givenName",
        "name.familyName",
        "displayName",
        "emails[type eq \"work\"].value",
        "active",
    ];
    if standard.contains(&attribute) {
        return None;
    }
    let named = |key: &str| Some((key.to_owned(), attribute.to_owned()));
    match attribute {
        "title" => named("job_title"),
        "phoneNumbers[type eq \"mobile\"].value" => named("mobile_phone"),
        _ => match attribute.strip_prefix(ENTERPRISE).and_then(|rest| rest.strip_prefix(':')) {
            Some("manager") => Some(("manager_id".to_owned(), format!("{attribute}.value"))),
            Some(name) => Some((snake_case(name), attribute.to_owned())),
            None => {
                let name = attribute.rsplit(':').next().unwrap_or(attribute);
                let name = name.split(['.', '[']).next().unwrap_or(name);
                Some((snake_case(name), attribute.to_owned()))
            }
        },
    }
}

/// `employeeNumber` -> `employee_number`, `costCenter` -> `cost_center`.
fn snake_case(name: &str) -> String {
    let mut snake = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                snake.push('_');
            }
            snake.extend(c.to_lowercase());
        } else if c == '-' {
            snake.push('_');
        } else {
            snake.push(c);
        }
    }
    snake
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use store::IdentityProvider;

    use super::*;
    use crate::onboarding::default_mapping;

    fn keys(rows: &[MappingRow]) -> Vec<(String, String)> {
        mapped_attributes(rows).into_iter().map(|m| (m.key, m.source.to_string())).collect()
    }

    #[test]
    fn an_identity_providers_default_mapping_yields_the_usual_custom_attributes() {
        let rows = default_mapping(IdentityProvider::Okta, &[]);
        assert_eq!(
            keys(&rows),
            [
                ("job_title".to_owned(), "title".to_owned()),
                ("mobile_phone".to_owned(), "phoneNumbers[type eq \"mobile\"].value".to_owned()),
                ("department".to_owned(), format!("{ENTERPRISE}:department")),
                ("employee_number".to_owned(), format!("{ENTERPRISE}:employeeNumber")),
                ("manager_id".to_owned(), format!("{ENTERPRISE}:manager.value")),
            ]
        );
    }

    #[test]
    fn rows_without_a_source_are_not_mapped() {
        let mut rows = default_mapping(IdentityProvider::Entra, &[]);
        for row in rows.iter_mut().filter(|row| row.attribute == "title") {
            row.source = " ".to_owned();
        }
        assert!(!keys(&rows).iter().any(|(key, _)| key == "job_title"));
    }

    #[test]
    fn custom_extension_attributes_are_named_in_snake_case() {
        let rows = vec![
            MappingRow {
                attribute: "urn:acme:custom:User:costCenter".into(),
                label: "costCenter".into(),
                required: false,
                source: "cost_center".into(),
            },
            MappingRow {
                attribute: "urn:acme:custom:User:badge-id".into(),
                label: "badge".into(),
                required: true,
                source: "badge".into(),
            },
        ];
        assert_eq!(
            keys(&rows),
            [
                ("cost_center".to_owned(), "urn:acme:custom:User:costCenter".to_owned()),
                ("badge_id".to_owned(), "urn:acme:custom:User:badge-id".to_owned()),
            ]
        );
        let doc = json!({ "urn:acme:custom:User": { "costCenter": "CC-1" } });
        let user = scim::normalized::normalize_user("u", &doc, &mapped_attributes(&rows));
        assert_eq!(user.custom_attributes.get("cost_center"), Some(&json!("CC-1")));
    }
}
