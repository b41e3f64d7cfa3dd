//! Re-deriving users whose view may have changed without a write of their own (migration
//! 0025): the directory's attribute mapping or group roles changed (a pass over every user,
//! resumable by its cursor), or a group that grants roles gained or lost members (the users
//! queued by that membership change). Each batch reads its users, lets the caller compute
//! their views, and writes the views, the `user.updated` records and its progress in one
//! transaction with the directory locked: a user written meanwhile is never overwritten
//! with a view computed from an older document, and two workers never publish one change
//! twice.

use std::collections::HashMap;

use serde_json::Value;
use sqlx::types::Json;

use super::transaction::on_open;
use super::{Change, DirectoryData, ResourceKind, ResourceRecord, WriteContext, placeholders};
use crate::StoreError;

/// A user to re-derive: its stored document, the groups it belongs to directly, and the
/// view the vendor's product last received (`None` for users stored before views were kept).
#[derive(Debug, Clone, Copy)]
pub struct UserToRepublish<'a> {
    pub record: &'a ResourceRecord,
    pub groups: &'a [String],
    pub published: Option<&'a Value>,
}

/// What re-deriving a user came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Republished {
    /// The view is what was published: nothing to write.
    Unchanged,
    /// No view was published yet: keep this one, without an event (there is no previous
    /// value to report).
    Baseline(Value),
    /// The view changed: publish `change` (a `user.updated` whose view is the new one).
    Changed(Change),
}

/// What one batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RepublishOutcome {
    /// Users read and compared.
    pub examined: usize,
    /// Users whose view changed (one `user.updated` each).
    pub changed: usize,
    /// Whether the directory has work left (queued users, or a pass not finished).
    pub more: bool,
}

const SELECT_USER: &str = "SELECT id, doc, version, created_at, last_modified, published_view FROM scim_resources \
     WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = 'User'";
type UserRow =
    (String, Json<Value>, i64, chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>, Option<Json<Value>>);

impl DirectoryData<'_> {
    /// Re-derives up to `limit` users: the queued ones first, else the next ones of the
    /// directory's unfinished pass. `compute` decides each user's outcome.
    pub async fn republish_batch<F>(
        &self,
        limit: usize,
        context: &WriteContext,
        mut compute: F,
    ) -> Result<RepublishOutcome, StoreError>
    where
        F: FnMut(UserToRepublish<'_>) -> Republished,
    {
        const QUEUED: &str =
            "SELECT user_id FROM republish_queue WHERE tenant_id = $1 AND directory_id = $2 ORDER BY user_id LIMIT $3";
        const JOB: &str = "SELECT cursor, total FROM republish_jobs \
             WHERE tenant_id = $1 AND directory_id = $2 AND finished_at IS NULL";
        const COUNT: &str = "SELECT COUNT(*) FROM scim_resources \
             WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = 'User'";
        let take = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut turn = self.write_turn().await;
        let mut write = turn.begin().await?;
        let (tenant, directory) = (self.tenant, self.directory);
        let queued: Vec<String> = on_open!(&mut write.open, tx => sqlx::query_scalar(QUEUED)
            .bind(tenant)
            .bind(directory)
            .bind(take)
            .fetch_all(&mut **tx)
            .await)?;
        let pass = if queued.is_empty() {
            let job: Option<(Option<String>, Option<i64>)> = on_open!(&mut write.open, tx => sqlx::query_as(JOB)
                .bind(tenant)
                .bind(directory)
                .fetch_optional(&mut **tx)
                .await)?;
            let Some((cursor, total)) = job else { return Ok(RepublishOutcome::default()) };
            if total.is_none() {
                let count: i64 = on_open!(&mut write.open, tx => sqlx::query_scalar(COUNT)
                    .bind(tenant)
                    .bind(directory)
                    .fetch_one(&mut **tx)
                    .await)?;
                on_open!(&mut write.open, tx => sqlx::query(
                    "UPDATE republish_jobs SET total = $3 WHERE tenant_id = $1 AND directory_id = $2")
                    .bind(tenant)
                    .bind(directory)
                    .bind(count)
                    .execute(&mut **tx)
                    .await
                    .map(drop))?;
            }
            Some(cursor.unwrap_or_default())
        } else {
            None
        };
        let rows: Vec<UserRow> = match &pass {
            Some(cursor) => {
                let query = format!("{SELECT_USER} AND id > $3 ORDER BY id LIMIT $4");
                on_open!(&mut write.open, tx => sqlx::query_as(&query)
                    .bind(tenant)
                    .bind(directory)
                    .bind(cursor)
                    .bind(take)
                    .fetch_all(&mut **tx)
                    .await)?
            }
            None => {
                let query = format!("{SELECT_USER} AND id IN ({}) ORDER BY id", placeholders(3, queued.len()));
                on_open!(&mut write.open, tx => {
                    let mut q = sqlx::query_as(&query).bind(tenant).bind(directory);
                    for user in &queued {
                        q = q.bind(user);
                    }
                    q.fetch_all(&mut **tx).await
                })?
            }
        };
        let ids: Vec<&str> = rows.iter().map(|row| row.0.as_str()).collect();
        let mut groups: HashMap<String, Vec<String>> = HashMap::new();
        if !ids.is_empty() {
            let query = format!(
                "SELECT member_id, group_id FROM scim_members WHERE tenant_id = $1 AND directory_id = $2 \
                 AND member_id IN ({}) ORDER BY member_id, group_id",
                placeholders(3, ids.len())
            );
            let memberships: Vec<(String, String)> = on_open!(&mut write.open, tx => {
                let mut q = sqlx::query_as(&query).bind(tenant).bind(directory);
                for id in &ids {
                    q = q.bind(*id);
                }
                q.fetch_all(&mut **tx).await
            })?;
            for (user, group) in memberships {
                groups.entry(user).or_default().push(group);
            }
        }
        let mut outcome = RepublishOutcome { examined: rows.len(), ..RepublishOutcome::default() };
        let last = rows.last().map(|row| row.0.clone());
        for (id, Json(doc), version, created_at, last_modified, published) in rows {
            let record = ResourceRecord { kind: ResourceKind::User, id, doc, version, created_at, last_modified };
            let user = UserToRepublish {
                record: &record,
                groups: groups.get(&record.id).map_or(&[], Vec::as_slice),
                published: published.as_ref().map(|Json(view)| view),
            };
            match compute(user) {
                Republished::Unchanged => {}
                Republished::Baseline(view) => write.set_published_view(&record.id, &view).await?,
                Republished::Changed(change) => {
                    write
                        .record_change(context, change.kind, &change.resource_id, &change.data, change.view.as_ref())
                        .await?;
                    outcome.changed += 1;
                }
            }
        }
        match pass {
            None => {
                let query = format!(
                    "DELETE FROM republish_queue WHERE tenant_id = $1 AND directory_id = $2 AND user_id IN ({})",
                    placeholders(3, queued.len())
                );
                on_open!(&mut write.open, tx => {
                    let mut q = sqlx::query(&query).bind(tenant).bind(directory);
                    for user in &queued {
                        q = q.bind(user);
                    }
                    q.execute(&mut **tx).await.map(drop)
                })?;
                outcome.more = true;
            }
            Some(_) => {
                let finished = outcome.examined < limit;
                on_open!(&mut write.open, tx => sqlx::query(
                    "UPDATE republish_jobs SET cursor = COALESCE($3, cursor), done = done + $4, changed = changed + $5, \
                     finished_at = $6 WHERE tenant_id = $1 AND directory_id = $2")
                    .bind(tenant)
                    .bind(directory)
                    .bind(last)
                    .bind(i64::try_from(outcome.examined).unwrap_or(i64::MAX))
                    .bind(i64::try_from(outcome.changed).unwrap_or(i64::MAX))
                    .bind(finished.then_some(context.at))
                    .execute(&mut **tx)
                    .await
                    .map(drop))?;
                outcome.more = !finished;
            }
        }
        write.commit().await?;
        Ok(outcome)
    }
}
