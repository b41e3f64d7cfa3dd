//! The mapping step's preview on the directory's real users: what the vendor's product
//! would read for the most recently changed stored users under the mapping being edited,
//! and which stored users lack an attribute the mapping marks required.

use scim::normalized::{SourcePath, normalize_user};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use store::{DirectoryId, ResourceKind, ResourceRecord, Store, TenantId};

use super::{MappingRow, OnboardingError, directory_setup};
use crate::directory_sync::mapping::mapped_attributes;

/// How many of the most recently changed users the preview shows.
pub const PREVIEWED_USERS: usize = 10;
/// How many users lacking a required attribute are named (all are counted).
pub const LACKING_LISTED: usize = 20;
/// Users read per page while going through the directory.
const PAGE: i64 = 500;

/// The preview of a mapping on the directory's stored users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredUsersPreview {
    /// Every stored user of the directory.
    pub total_users: usize,
    /// The most recently changed users first, at most [`PREVIEWED_USERS`].
    pub users: Vec<PreviewedUser>,
    /// Users that lack at least one required attribute.
    pub lacking_count: usize,
    /// The first [`LACKING_LISTED`] of them, by id.
    pub lacking: Vec<LackingUser>,
}

/// A stored user as the product would read it under the edited mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreviewedUser {
    pub id: String,
    pub user_name: String,
    /// The normalized user (`custom_attributes` from the mapping); roles are derived from
    /// groups and left out here.
    pub normalized: Value,
}

/// A stored user that lacks required attributes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LackingUser {
    pub id: String,
    pub user_name: String,
    /// The labels of the required rows that read nothing for this user.
    pub missing: Vec<String>,
}

/// The preview of `rows` (the mapping as edited, not yet saved: attributes and sources;
/// which rows are required is the app's to say, not the form's) on the directory's stored
/// users. A directory without users has an empty preview: the page shows the sample then.
pub async fn stored_users_preview(
    store: &Store,
    tenant: TenantId,
    directory: DirectoryId,
    rows: &[MappingRow],
) -> Result<StoredUsersPreview, OnboardingError> {
    let setup = directory_setup(store, tenant, directory).await?;
    let extensions = store.tenant(tenant).schema_extensions(directory).await?;
    let known = super::default_mapping(setup.directory.idp, &extensions);
    let rows: Vec<MappingRow> = rows
        .iter()
        .filter_map(|row| {
            let app = known.iter().find(|known| known.attribute == row.attribute)?;
            Some(MappingRow { source: row.source.clone(), ..app.clone() })
        })
        .collect();
    let rows = rows.as_slice();
    let endpoint = crate::provisioning::portal_endpoint(store, tenant, directory, String::new())
        .await
        .map_err(internal)?
        .ok_or(OnboardingError::NotFound)?;
    let mapping = mapped_attributes(rows);
    // A required row reads the SCIM attribute it fills; one whose path does not parse
    // cannot read anything and is reported as missing for everyone.
    let required: Vec<(&str, Option<SourcePath>)> = rows
        .iter()
        .filter(|row| row.required)
        .map(|row| (row.label.as_str(), SourcePath::parse(&row.attribute).ok()))
        .collect();
    let mut newest: Vec<ResourceRecord> = Vec::new();
    let mut preview = StoredUsersPreview { total_users: 0, users: Vec::new(), lacking_count: 0, lacking: Vec::new() };
    let mut from = None;
    loop {
        let page = endpoint.records(ResourceKind::User, None, from.clone(), false, PAGE).await.map_err(internal)?;
        let full = page.records.len() == usize::try_from(PAGE).unwrap_or(usize::MAX);
        from = page.records.last().map(|record| record.id.clone());
        for record in page.records {
            preview.total_users += 1;
            let missing = missing_required(&required, &record.doc);
            if !missing.is_empty() {
                preview.lacking_count += 1;
                if preview.lacking.len() < LACKING_LISTED {
                    preview.lacking.push(LackingUser { id: record.id.clone(), user_name: user_name(&record), missing });
                }
            }
            keep_newest(&mut newest, record);
        }
        if !full {
            break;
        }
    }
    preview.users = newest
        .into_iter()
        .map(|record| {
            let mut normalized = normalize_user(&record.id, &record.doc, &mapping);
            normalized.role = None;
            normalized.roles.clear();
            PreviewedUser {
                user_name: user_name(&record),
                normalized: serde_json::to_value(&normalized).unwrap_or(Value::Null),
                id: record.id,
            }
        })
        .collect();
    Ok(preview)
}

/// The labels of the required attributes `doc` has no value for (an empty string is none).
fn missing_required(required: &[(&str, Option<SourcePath>)], doc: &Value) -> Vec<String> {
    required
        .iter()
        .filter(|(_, path)| {
            let value = path.as_ref().and_then(|path| path.read(doc));
            matches!(value, None | Some(Value::Null))
                || value.as_ref().and_then(Value::as_str).is_some_and(|text| text.trim().is_empty())
        })
        .map(|(label, _)| (*label).to_owned())
        .collect()
}

/// Keeps the [`PREVIEWED_USERS`] most recently changed records, newest first.
fn keep_newest(newest: &mut Vec<ResourceRecord>, record: ResourceRecord) {
    let at = newest.partition_point(|kept| kept.last_modified >= record.last_modified);
    if at < PREVIEWED_USERS {
        newest.insert(at, record);
        newest.truncate(PREVIEWED_USERS);
    }
}

fn user_name(record: &ResourceRecord) -> String {
    record.doc.get("userName").and_then(Value::as_str).unwrap_or(&record.id).to_owned()
}

/// The read is fixed (no filter): a protocol error here is a bug, not the admin's doing.
fn internal(error: crate::provisioning::ProvisioningError) -> OnboardingError {
    OnboardingError::Service(error.into_service_error("reading users for the mapping preview"))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};
    use serde_json::json;

    use super::*;

    fn record(id: &str, minutes: i64, doc: Value) -> ResourceRecord {
        let at = DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minutes);
        ResourceRecord { kind: ResourceKind::User, id: id.into(), doc, version: 1, created_at: at, last_modified: at }
    }

    #[test]
    fn a_required_attribute_with_no_value_or_an_empty_one_is_missing() {
        let required = vec![
            ("User name", SourcePath::parse("userName").ok()),
            ("Work email", SourcePath::parse("emails[type eq \"work\"].value").ok()),
        ];
        let complete = json!({ "userName": "ada", "emails": [{ "type": "work", "value": "ada@example.com" }] });
        assert_eq!(missing_required(&required, &complete), Vec::<String>::new());
        let home_only = json!({ "userName": " ", "emails": [{ "type": "home", "value": "ada@home.example" }] });
        assert_eq!(missing_required(&required, &home_only), ["User name", "Work email"]);
        let unreadable = vec![("Broken", None)];
        assert_eq!(missing_required(&unreadable, &complete), ["Broken"]);
    }

    #[test]
    fn only_the_most_recently_changed_users_are_kept_newest_first() {
        let mut newest = Vec::new();
        for minutes in 0..25 {
            // Out of order, as pages by id come.
            let minutes = (minutes * 7) % 25;
            keep_newest(&mut newest, record(&format!("u{minutes}"), minutes, json!({})));
        }
        let ids: Vec<&str> = newest.iter().map(|record| record.id.as_str()).collect();
        assert_eq!(ids, ["u24", "u23", "u22", "u21", "u20", "u19", "u18", "u17", "u16", "u15"]);
    }
}
