//! The deployment-wide order of the changes the vendor's product receives (migration 0020):
//! a read across tenants that yields only where each change is (tenant, directory, number)
//! and what kind it is; its details are read tenant by tenant, through the tenant scope
//! (`DirectoryData::changes_numbered`).

use chrono::{DateTime, Utc};

use crate::ids::{DirectoryId, TenantId};
use crate::{Backend, Store, StoreError};

/// Where a change is in the deployment-wide order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FeedPosition {
    pub position: i64,
    pub tenant: TenantId,
    pub directory: DirectoryId,
    pub seq: i64,
}

/// One change in the deployment-wide order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedEntry {
    pub at: FeedPosition,
    /// As `directory_changes.kind` (`user.created`, `group.member_added`, ...).
    pub kind: String,
    pub occurred_at: DateTime<Utc>,
}

/// Which changes to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedQuery {
    /// From this position on (included: a membership change may be read again to go on
    /// with its later members); from the start with `None`.
    pub from: Option<FeedPosition>,
    /// Only these kinds (all with none).
    pub kinds: Vec<String>,
    pub tenant: Option<TenantId>,
    /// `occurred_at` at or after.
    pub since: Option<DateTime<Utc>>,
    /// `occurred_at` before.
    pub until: Option<DateTime<Utc>>,
    pub limit: i64,
}

const COLUMNS: &str = "position, tenant_id, directory_id, seq, kind, occurred_at";

impl Store {
    /// Up to `query.limit` changes in deployment order. On PostgreSQL only those whose
    /// writing transaction is older than every transaction still running: a change that
    /// commits later can then never take a place before one already read.
    pub async fn deployment_feed(&self, query: &FeedQuery) -> Result<Vec<FeedEntry>, StoreError> {
        let mut conditions = Vec::new();
        let mut next = 1;
        if query.from.is_some() {
            conditions.push(format!("(position, tenant_id, directory_id, seq) >= (${}, ${}, ${}, ${})", 1, 2, 3, 4));
            next = 5;
        }
        if !query.kinds.is_empty() {
            let placeholders: Vec<String> = (next..next + query.kinds.len()).map(|n| format!("${n}")).collect();
            next += query.kinds.len();
            conditions.push(format!("kind IN ({})", placeholders.join(", ")));
        }
        for (present, condition) in [
            (query.tenant.is_some(), "tenant_id ="),
            (query.since.is_some(), "occurred_at >="),
            (query.until.is_some(), "occurred_at <"),
        ] {
            if present {
                conditions.push(format!("{condition} ${next}"));
                next += 1;
            }
        }
        if self.backend() == Backend::Postgres {
            conditions.push("position < pg_snapshot_xmin(pg_current_snapshot())::text::bigint".to_owned());
        }
        let filter = if conditions.is_empty() { String::new() } else { format!("WHERE {}", conditions.join(" AND ")) };
        let sql = format!(
            "SELECT {COLUMNS} FROM deployment_events {filter} ORDER BY position, tenant_id, directory_id, seq LIMIT ${next}"
        );
        type Row = (i64, TenantId, DirectoryId, i64, String, DateTime<Utc>);
        let rows: Vec<Row> = on_pool!(&self.pool, pool => {
            let mut statement = sqlx::query_as(&sql);
            if let Some(from) = query.from {
                statement = statement.bind(from.position).bind(from.tenant).bind(from.directory).bind(from.seq);
            }
            for kind in &query.kinds {
                statement = statement.bind(kind);
            }
            if let Some(tenant) = query.tenant {
                statement = statement.bind(tenant);
            }
            for at in [query.since, query.until].into_iter().flatten() {
                statement = statement.bind(at);
            }
            statement.bind(query.limit).fetch_all(pool).await?
        });
        Ok(rows
            .into_iter()
            .map(|(position, tenant, directory, seq, kind, occurred_at)| FeedEntry {
                at: FeedPosition { position, tenant, directory, seq },
                kind,
                occurred_at,
            })
            .collect())
    }

    /// The last change in deployment order that a reader can see now.
    pub async fn last_feed_entry(&self) -> Result<Option<FeedEntry>, StoreError> {
        let horizon = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => "WHERE position < pg_snapshot_xmin(pg_current_snapshot())::text::bigint",
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM deployment_events {horizon} \
             ORDER BY position DESC, tenant_id DESC, directory_id DESC, seq DESC LIMIT 1"
        );
        type Row = (i64, TenantId, DirectoryId, i64, String, DateTime<Utc>);
        let row: Option<Row> = on_pool!(&self.pool, pool => sqlx::query_as(&sql).fetch_optional(pool).await?);
        Ok(row.map(|(position, tenant, directory, seq, kind, occurred_at)| FeedEntry {
            at: FeedPosition { position, tenant, directory, seq },
            kind,
            occurred_at,
        }))
    }

    /// Where change `seq` of `directory` is in the deployment-wide order, if it has a place.
    pub async fn feed_position(&self, directory: DirectoryId, seq: i64) -> Result<Option<FeedPosition>, StoreError> {
        const QUERY: &str = "SELECT position, tenant_id FROM deployment_events WHERE directory_id = $1 AND seq = $2";
        let row: Option<(i64, TenantId)> = on_pool!(&self.pool, pool =>
            sqlx::query_as(QUERY).bind(directory).bind(seq).fetch_optional(pool).await?);
        Ok(row.map(|(position, tenant)| FeedPosition { position, tenant, directory, seq }))
    }
}
