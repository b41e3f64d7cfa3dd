//! Storing new resources: one ([`DirectoryData::create`]) or a Bulk request's run of
//! creations at once, the rows and lookup values of many resources in one statement. A
//! batch holds the database's writer (SQLite) for the whole request, and per creation
//! that hold was four statements (a savepoint, the row, its lookup values, the release);
//! for a run it is a fraction of one.

use serde_json::{Value, json};
use sqlx::types::Json;

use super::transaction::{WriteTransaction, on_open};
use super::write::{fold, lookup_values, published_view};
use super::{Change, ChangeKind, DirectoryData, ResourceKind, ResourceState, WriteContext, placeholders};
use crate::StoreError;

/// Resources per statement (10 values each, see `CHANGE_ROWS_PER_STATEMENT` for why not
/// more).
const ROWS_PER_STATEMENT: usize = 50;
/// Lookup values per statement (3 values each).
const VALUES_PER_STATEMENT: usize = 150;

/// A new resource for [`DirectoryData::create_all`].
#[derive(Debug, Clone, Copy)]
pub struct Creation<'c> {
    pub kind: ResourceKind,
    pub id: &'c str,
    pub state: &'c ResourceState,
    /// A group's initial members.
    pub members: &'c [String],
    pub change: &'c Change,
    pub context: &'c WriteContext,
}

impl DirectoryData<'_> {
    /// Stores new resources with version 1 (a group with its initial `members`) and their
    /// change records, all or none, in one transaction (a savepoint, in a batch); a new
    /// user's view is published with its row. `Ok(false)` when a uniqueness rule refuses one
    /// of them (a stored resource, or another of them, has its name): nothing is stored, and
    /// the caller stores them one by one with [`Self::create`], which answers each with its
    /// own outcome. Any other error also leaves nothing stored.
    pub async fn create_all(&self, creations: &[Creation<'_>]) -> Result<bool, StoreError> {
        if creations.is_empty() {
            return Ok(true);
        }
        let folded: Vec<Value> = creations.iter().map(|creation| fold(&creation.state.doc)).collect();
        let mut turn = self.write_turn().await;
        let mut write = turn.begin().await?;
        for (chunk, folded) in creations.chunks(ROWS_PER_STATEMENT).zip(folded.chunks(ROWS_PER_STATEMENT)) {
            if write.insert_new_rows(chunk, folded).await? < chunk.len() {
                // Dropping the write rolls back the rows stored so far.
                return Ok(false);
            }
        }
        let values: Vec<(&str, &'static str, String)> = creations
            .iter()
            .flat_map(|creation| {
                lookup_values(&creation.state.doc).into_iter().map(|(attribute, value)| (creation.id, attribute, value))
            })
            .collect();
        for chunk in values.chunks(VALUES_PER_STATEMENT) {
            write.insert_lookup_values(chunk).await?;
        }
        for creation in creations {
            write.record_creation(creation).await?;
        }
        write.commit().await?;
        Ok(true)
    }
}

impl WriteTransaction<'_> {
    /// Inserts the rows of new resources, skipping any a uniqueness rule refuses: how many
    /// were inserted.
    async fn insert_new_rows(&mut self, creations: &[Creation<'_>], folded: &[Value]) -> Result<usize, StoreError> {
        let rows: Vec<String> = (0..creations.len())
            .map(|n| {
                let first = 3 + 10 * n;
                // Version 1, created and last modified at the same time.
                format!(
                    "($1, $2, {}, 1, ${at}, ${at}, {})",
                    placeholders(first, 7),
                    placeholders(first + 8, 2),
                    at = first + 7
                )
            })
            .collect();
        let statement = format!(
            "INSERT INTO scim_resources (tenant_id, directory_id, resource_type, id, name, name_folded, external_id, \
             doc, doc_folded, version, created_at, last_modified, published_view, idp_touched_at) VALUES {} \
             ON CONFLICT DO NOTHING RETURNING id",
            rows.join(", ")
        );
        let inserted: Vec<String> = on_open!(&mut self.open, tx => {
            let mut query = sqlx::query_scalar(&statement).bind(self.tenant).bind(self.directory);
            for (creation, folded) in creations.iter().zip(folded) {
                let state = creation.state;
                // A new user's view is published with its creation.
                let published =
                    published_view(creation.change.view.as_ref()).filter(|_| creation.kind == ResourceKind::User);
                query = query
                    .bind(creation.kind.as_str())
                    .bind(creation.id)
                    .bind(&state.name)
                    .bind(state.name.to_lowercase())
                    .bind(state.external_id.as_deref())
                    .bind(Json(&state.doc))
                    .bind(Json(folded))
                    .bind(creation.context.at)
                    .bind(published.map(Json))
                    .bind(creation.context.identity_provider_write());
            }
            query.fetch_all(&mut **tx).await
        })?;
        Ok(inserted.len())
    }

    /// Inserts lookup values `(resource id, attribute, folded value)`.
    async fn insert_lookup_values(&mut self, values: &[(&str, &str, String)]) -> Result<(), StoreError> {
        let rows: Vec<String> =
            (0..values.len()).map(|n| format!("($1, $2, {})", placeholders(3 + 3 * n, 3))).collect();
        let statement = format!(
            "INSERT INTO scim_resource_values (tenant_id, directory_id, resource_id, attribute, value_folded) VALUES {}",
            rows.join(", ")
        );
        on_open!(&mut self.open, tx => {
            let mut query = sqlx::query(&statement).bind(self.tenant).bind(self.directory);
            for (id, attribute, value) in values {
                query = query.bind(*id).bind(*attribute).bind(value);
            }
            query.execute(&mut **tx).await.map(drop)
        })?;
        Ok(())
    }

    /// The rest of a creation once its row and lookup values are in: a user's non-human
    /// identity, the change record, a group's members.
    async fn record_creation(&mut self, creation: &Creation<'_>) -> Result<(), StoreError> {
        let Creation { kind, id, state, members, change, context } = *creation;
        if kind == ResourceKind::User {
            self.write_nonhuman(id, &state.doc, false).await?;
        }
        self.record_change(context, change.kind, &change.resource_id, &change.data, change.view.as_ref()).await?;
        if !members.is_empty() {
            if kind != ResourceKind::Group {
                return Err(StoreError::Corrupt("only groups have members".to_owned()));
            }
            let added = self.add_members(id, members).await?;
            let data = json!({ "group": id, "members": added });
            self.record_change(context, ChangeKind::GroupMemberAdded, id, &data, None).await?;
        }
        Ok(())
    }
}
