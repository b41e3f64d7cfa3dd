//! Reads of a directory's resources: by id, listings (filtered, sorted, paged), the
//! memberships, and the change log. Reads run on a pooled connection that carries the
//! tenant (see `as_tenant!`), except reads by id inside a batch, which see its uncommitted
//! writes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;
use serde_json::value::RawValue;
use sqlx::types::Json;

use super::transaction::on_open;
use super::{
    CHUNK, CURRENT, ChangeRecord, DirectoryData, GroupRef, ListPage, ListSpec, Member, PageSpec, ResourceKind,
    ResourceRecord, ResourceRow, SortField, StoredChange, placeholders, record_from_row,
};
use crate::filter_sql::{self, SqlBind};
use crate::ids::EventId;
use crate::{Pool, StoreError};

/// A listing's statements; `binds` are the page statement's (the filter's, then the sort
/// key's and the paging values), `filter_binds` the count statement's.
pub(super) struct ListStatements {
    pub(super) count_sql: String,
    pub(super) filter_binds: Vec<SqlBind>,
    pub(super) page_sql: String,
    pub(super) binds: Vec<SqlBind>,
}

/// A resource row and, when asked for, its groups as a JSON array of `[id, name]`.
type ByIdRow = (String, Json<Value>, i64, DateTime<Utc>, DateTime<Utc>, Option<Json<Value>>);
/// The feed's read: the self-test's changes never reach the vendor's product.
const CHANGES_AFTER: &str = "SELECT seq, id, kind, resource_type, resource_id, actor, occurred_at, data, view \
     FROM directory_changes WHERE tenant_id = $1 AND directory_id = $2 AND seq > $3 \
     AND resource_id NOT LIKE 'selftest-%' ORDER BY seq LIMIT $4";

const REVOCATIONS_AFTER: &str = "SELECT seq, id, kind, resource_type, resource_id, actor, occurred_at, data, view \
     FROM directory_changes WHERE tenant_id = $1 AND directory_id = $2 AND seq > $3 \
     AND kind IN ('user.deactivated', 'user.deleted') AND resource_id NOT LIKE 'selftest-%' ORDER BY seq LIMIT $4";

fn change_from_row(row: ChangeRow) -> Result<ChangeRecord, StoreError> {
    let (seq, id, kind, resource_type, resource_id, actor, occurred_at, Json(data), view) = row;
    Ok(ChangeRecord {
        seq,
        id,
        kind,
        resource_type: super::ChangeSubject::parse(&resource_type)?,
        resource_id,
        actor,
        occurred_at,
        data,
        view: view.map(|Json(view)| view),
    })
}

type ChangeRow = (i64, EventId, String, String, String, String, DateTime<Utc>, Json<Value>, Option<Json<Value>>);

const CHANGE_COLUMNS: &str = "seq, id, kind, resource_type, resource_id, actor, occurred_at, data, view";

/// The statement reading `columns` of `count` changes of a directory by number (`$3`...).
fn numbered(columns: &str, count: usize) -> String {
    format!(
        "SELECT {columns} FROM directory_changes WHERE tenant_id = $1 AND directory_id = $2 AND seq IN ({}) ORDER BY seq",
        placeholders(3, count)
    )
}

impl DirectoryData<'_> {
    /// The id of the user whose userName is `name` (any case): userNames are unique per
    /// directory ignoring case, so there is at most one.
    pub async fn user_id_named(&self, name: &str) -> Result<Option<String>, StoreError> {
        const QUERY: &str = "SELECT id FROM scim_resources \
             WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = 'User' AND name_folded = $3";
        let folded = name.to_lowercase();
        Ok(as_tenant!(self, conn => sqlx::query_scalar(QUERY)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(&folded)
            .fetch_optional(&mut *conn)
            .await?))
    }

    /// The resource of this kind with this id, if the directory has it.
    pub async fn resource(&self, kind: ResourceKind, id: &str) -> Result<Option<ResourceRecord>, StoreError> {
        if let Some(batch) = self.batch {
            // Inside a batch the resource may be one of its own uncommitted writes.
            let mut state = batch.state().await;
            let row: Option<ResourceRow> = on_open!(&mut state.open, tx => sqlx::query_as(CURRENT)
                .bind(self.tenant)
                .bind(self.directory)
                .bind(kind.as_str())
                .bind(id)
                .fetch_optional(&mut **tx)
                .await)?;
            return Ok(row.map(|row| record_from_row(kind, row)));
        }
        let row = self.by_id(kind, id, false).await?;
        Ok(row.map(|(id, doc, version, created_at, last_modified, _)| {
            record_from_row(kind, (id, doc, version, created_at, last_modified))
        }))
    }

    /// A user and the groups it belongs to, in one round trip: the hot path of
    /// `GET /Users/{id}`.
    pub async fn user_with_groups(&self, id: &str) -> Result<Option<(ResourceRecord, Vec<GroupRef>)>, StoreError> {
        let Some((id, doc, version, created_at, last_modified, groups)) =
            self.by_id(ResourceKind::User, id, true).await?
        else {
            return Ok(None);
        };
        let groups = group_pairs(groups.as_ref());
        let record = record_from_row(ResourceKind::User, (id, doc, version, created_at, last_modified));
        Ok(Some((record, groups)))
    }

    /// One resource by id, and with `with_groups` the `[id, displayName]` pairs of the
    /// groups it is a member of, in one statement. On PostgreSQL through the function of
    /// migration 0009, which sets the tenant for row-level security in the same round trip.
    async fn by_id(&self, kind: ResourceKind, id: &str, with_groups: bool) -> Result<Option<ByIdRow>, StoreError> {
        const POSTGRES: &str = "SELECT * FROM scim_resource_by_id($1, $2, $3, $4, $5)";
        let query = match self.store.backend() {
            crate::Backend::Sqlite => BY_ID_SQLITE,
            crate::Backend::Postgres => POSTGRES,
        };
        Ok(on_pool!(&self.store.pool, pool => sqlx::query_as(query)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(kind.as_str())
            .bind(id)
            .bind(with_groups)
            .fetch_optional(pool)
            .await?))
    }

    /// The resources of `kind` that match the filter, ordered and paged.
    ///
    /// The page is read first: a page that is not full from the first match on (an
    /// identity provider's `userName eq` probe, nearly always) tells the total by itself,
    /// and the count statement runs only when it cannot (on the same connection, after
    /// the page, as it ran before it until now: neither order made the two one snapshot).
    pub async fn list(&self, kind: ResourceKind, spec: &ListSpec<'_>) -> Result<ListPage, StoreError> {
        Ok(self.list_rows(kind, spec, false).await?.0)
    }

    /// [`list`](Self::list) of users, with the groups each user of the page belongs to
    /// (ordered by group id) read by the page's own statement: a probe such as
    /// `userName eq` is one round trip, as `GET /Users/{id}` is, instead of two.
    pub async fn list_users_with_groups(
        &self,
        spec: &ListSpec<'_>,
    ) -> Result<(ListPage, HashMap<String, Vec<GroupRef>>), StoreError> {
        self.list_rows(ResourceKind::User, spec, true).await
    }

    async fn list_rows(
        &self,
        kind: ResourceKind,
        spec: &ListSpec<'_>,
        with_groups: bool,
    ) -> Result<(ListPage, HashMap<String, Vec<GroupRef>>), StoreError> {
        if let Some(listed) = self.probe_by_column(kind, spec, with_groups).await? {
            return Ok(listed);
        }
        let ListStatements { count_sql, filter_binds, page_sql, binds } = self.list_statements(kind, spec, with_groups);
        let (total, rows): (i64, Vec<ByIdRow>) = as_tenant!(self, conn => {
            let mut query = sqlx::query_as(&page_sql).bind(self.tenant).bind(self.directory).bind(kind.as_str());
            for bind in &binds {
                query = filter_sql::bind_query_as(query, bind);
            }
            let rows: Vec<ByIdRow> = query.fetch_all(&mut *conn).await?;
            let total = match total_from_page(&spec.page, rows.len()) {
                Some(total) => total,
                // Every resource of the kind: the count the triggers of migration 0048 keep,
                // less the self-test's few when they are hidden (counting what is left
                // read the whole directory: 200 ms a page of the Directory Sync API at a
                // million users).
                None if spec.filter.is_none() => {
                    let count = if spec.hide_self_test { COUNT_OF_KIND_BUT_SELF_TEST } else { COUNT_OF_KIND };
                    sqlx::query_scalar::<_, i64>(count)
                        .bind(self.tenant)
                        .bind(self.directory)
                        .bind(kind.as_str())
                        .fetch_one(&mut *conn)
                        .await?
                }
                None => {
                    let mut count =
                        sqlx::query_as(&count_sql).bind(self.tenant).bind(self.directory).bind(kind.as_str());
                    for bind in &filter_binds {
                        count = filter_sql::bind_query_as(count, bind);
                    }
                    let (total,): (i64,) = count.fetch_one(&mut *conn).await?;
                    total
                }
            };
            (total, rows)
        });
        Ok(page_from_rows(kind, total, rows, with_groups))
    }

    /// The first page of an equality probe on a dedicated column (`userName eq`,
    /// `externalId eq`, `displayName eq`) or, on SQLite, on the email lookup table
    /// (`emails[value eq …]`): the filter IdPs send before every write. On
    /// PostgreSQL in one round trip, through the function of migration 0049, which sets the
    /// tenant for row-level security itself (the generic path pays two more: set the tenant
    /// on the connection, reset it). On SQLite a fixed statement per column: the generic
    /// path composes its SQL text for every request and the statement cache hashes that text
    /// to find the prepared statement, a tenth of such a probe's CPU in a profile. `None`
    /// when the listing is not such a probe, or when the page is full and the total needs a
    /// count.
    async fn probe_by_column(
        &self,
        kind: ResourceKind,
        spec: &ListSpec<'_>,
        with_groups: bool,
    ) -> Result<Option<(ListPage, HashMap<String, Vec<GroupRef>>)>, StoreError> {
        const PROBE: &str = "SELECT * FROM scim_resources_where_column_is($1, $2, $3, $4, $5, $6, $7)";
        let (PageSpec::Offset { skip: 0, take } | PageSpec::Keyset { from: None, descending: false, take }) = spec.page
        else {
            return Ok(None);
        };
        let probe = spec.filter.and_then(|plan| filter_sql::probe_equality(plan, filter_sql::target(kind)));
        let (Some((column, value)), None, false) = (probe, &spec.sort, spec.hide_self_test) else {
            return Ok(None);
        };
        let rows: Vec<ByIdRow> = match &self.store.pool {
            Pool::Postgres(pool) => {
                let Some(column) = column.postgres_column() else {
                    return Ok(None);
                };
                sqlx::query_as(PROBE)
                    .bind(self.tenant)
                    .bind(self.directory)
                    .bind(kind.as_str())
                    .bind(column)
                    .bind(value)
                    .bind(take)
                    .bind(with_groups)
                    .fetch_all(pool)
                    .await?
            }
            Pool::Sqlite(pool) => {
                sqlx::query_as(probe_sql_sqlite(column))
                    .bind(self.tenant)
                    .bind(self.directory)
                    .bind(kind.as_str())
                    .bind(value)
                    .bind(take)
                    .bind(with_groups)
                    .fetch_all(pool)
                    .await?
            }
        };
        let Some(total) = total_from_page(&spec.page, rows.len()) else {
            return Ok(None);
        };
        Ok(Some(page_from_rows(kind, total, rows, with_groups)))
    }

    /// The count and page statements of a listing, with their parameters after the first
    /// three ($1 tenant, $2 directory, $3 resource type).
    pub(super) fn list_statements(&self, kind: ResourceKind, spec: &ListSpec<'_>, with_groups: bool) -> ListStatements {
        let backend = self.store.backend();
        let dialect = filter_sql::Dialect::from(backend);
        let target = filter_sql::target(kind);
        // $1 tenant, $2 directory, $3 resource type; the filter's parameters follow.
        let filter = spec.filter.map(|plan| filter_sql::render(plan, target, dialect, 4));
        let mut binds: Vec<SqlBind> = filter.as_ref().map(|f| f.binds.clone()).unwrap_or_default();
        let mut conditions = String::from("r.tenant_id = $1 AND r.directory_id = $2 AND r.resource_type = $3");
        if let Some(filter) = &filter {
            conditions.push_str(&format!(" AND ({})", filter.sql));
        }
        if spec.hide_self_test {
            // A constant of this crate, not input: it can be part of the statement.
            conditions.push_str(&format!(" AND NOT ({SELF_TEST_IDS})"));
        }
        let count_sql = format!("SELECT COUNT(*) FROM scim_resources r WHERE {conditions}");
        let mut next = 4 + binds.len();
        let (order, page) = match (&spec.page, &spec.sort) {
            (PageSpec::Keyset { from, descending, take }, _) => {
                let (beyond, direction) = if *descending { ("<", "DESC") } else { (">", "ASC") };
                if let Some(from) = from {
                    conditions.push_str(&format!(" AND r.id {beyond} ${next}"));
                    binds.push(SqlBind::Text(from.clone()));
                    next += 1;
                }
                binds.push(SqlBind::Integer(*take));
                (format!("r.id {direction}"), format!("LIMIT ${next}"))
            }
            (PageSpec::Offset { skip, take }, sort) => {
                let order = match sort {
                    None => "r.id".to_owned(),
                    Some(key) => {
                        let (expr, sort_binds) = sort_expression(&key.field, backend, next);
                        next += sort_binds.len();
                        binds.extend(sort_binds);
                        let direction = if key.descending { "DESC" } else { "ASC" };
                        format!("({expr}) IS NULL, {expr} {direction}, r.id")
                    }
                };
                binds.push(SqlBind::Integer(*take));
                // A first page (every probe an identity provider sends) has no OFFSET: with
                // an OFFSET parameter PostgreSQL's generic plan guesses it skips a tenth of
                // the rows, looks costlier than the plan made for the values, and so the
                // statement was planned again at every execution (half a millisecond of a
                // `userName eq`, more than running it).
                let page = if *skip == 0 {
                    format!("LIMIT ${next}")
                } else {
                    binds.push(SqlBind::Integer(*skip));
                    format!("LIMIT ${next} OFFSET ${}", next + 1)
                };
                (order, page)
            }
        };
        let groups = match (with_groups, backend) {
            (false, crate::Backend::Sqlite) => "NULL",
            (false, crate::Backend::Postgres) => "NULL::jsonb",
            (true, crate::Backend::Sqlite) => GROUPS_OF_ROW_SQLITE,
            (true, crate::Backend::Postgres) => GROUPS_OF_ROW_POSTGRES,
        };
        let page_sql = format!(
            "SELECT r.id, r.doc, r.version, r.created_at, r.last_modified, {groups} FROM scim_resources r \
             WHERE {conditions} ORDER BY {order} {page}"
        );
        let filter_binds = filter.map(|f| f.binds).unwrap_or_default();
        ListStatements { count_sql, filter_binds, page_sql, binds }
    }

    /// The members of each of `groups`, ordered by id.
    pub async fn members_of(&self, groups: &[String]) -> Result<HashMap<String, Vec<Member>>, StoreError> {
        let mut result: HashMap<String, Vec<Member>> = HashMap::new();
        for chunk in groups.chunks(CHUNK) {
            let query = members_of_sql(chunk.len());
            let rows: Vec<(String, String, String, String)> = as_tenant!(self, conn => {
                let mut q = sqlx::query_as(&query).bind(self.tenant).bind(self.directory);
                for group in chunk {
                    q = q.bind(group);
                }
                q.fetch_all(&mut *conn).await?
            });
            for (group, id, kind, display) in rows {
                result.entry(group).or_default().push(Member { id, kind: ResourceKind::parse(&kind)?, display });
            }
        }
        Ok(result)
    }

    /// The groups each of `users` belongs to directly, ordered by group id.
    pub async fn groups_of(&self, users: &[String]) -> Result<HashMap<String, Vec<GroupRef>>, StoreError> {
        let mut result: HashMap<String, Vec<GroupRef>> = HashMap::new();
        for chunk in users.chunks(CHUNK) {
            let query = groups_of_sql(chunk.len());
            let rows: Vec<(String, String, String)> = as_tenant!(self, conn => {
                let mut q = sqlx::query_as(&query).bind(self.tenant).bind(self.directory);
                for user in chunk {
                    q = q.bind(user);
                }
                q.fetch_all(&mut *conn).await?
            });
            for (user, id, display) in rows {
                result.entry(user).or_default().push(GroupRef { id, display });
            }
        }
        Ok(result)
    }

    /// Change records with a sequence number above `after`, oldest first: the changes the
    /// vendor's product receives, so the wizard self-test's are left out (their resources'
    /// ids start with [`SELF_TEST_ID_PREFIX`](crate::SELF_TEST_ID_PREFIX), which the statement spells out).
    pub async fn changes_after(&self, after: i64, limit: i64) -> Result<Vec<ChangeRecord>, StoreError> {
        let rows: Vec<ChangeRow> = as_tenant!(self, conn => sqlx::query_as(CHANGES_AFTER)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?);
        rows.into_iter().map(change_from_row).collect()
    }

    /// Deactivations and deletions of users numbered above `after`, oldest first, at most
    /// `limit`: what a webhook delivers ahead of a backlog of other changes.
    pub async fn revocations_after(&self, after: i64, limit: i64) -> Result<Vec<ChangeRecord>, StoreError> {
        let rows: Vec<ChangeRow> = as_tenant!(self, conn => sqlx::query_as(REVOCATIONS_AFTER)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?);
        rows.into_iter().map(change_from_row).collect()
    }

    /// The change records of one resource numbered above `after` and up to `upto`, oldest
    /// first (membership changes are their group's).
    pub async fn resource_changes_between(
        &self,
        subject: super::ChangeSubject,
        resource_id: &str,
        after: i64,
        upto: i64,
    ) -> Result<Vec<ChangeRecord>, StoreError> {
        const QUERY: &str = "SELECT seq, id, kind, resource_type, resource_id, actor, occurred_at, data, view \
             FROM directory_changes WHERE tenant_id = $1 AND directory_id = $2 AND seq > $3 AND seq <= $4 \
             AND resource_type = $5 AND resource_id = $6 ORDER BY seq";
        let rows: Vec<ChangeRow> = as_tenant!(self, conn => sqlx::query_as(QUERY)
            .bind(self.tenant)
            .bind(self.directory)
            .bind(after)
            .bind(upto)
            .bind(subject.as_str())
            .bind(resource_id)
            .fetch_all(&mut *conn)
            .await?);
        rows.into_iter().map(change_from_row).collect()
    }

    /// The change records numbered `seqs` (those that exist), in number order.
    pub async fn changes_numbered(&self, seqs: &[i64]) -> Result<Vec<ChangeRecord>, StoreError> {
        let mut records = Vec::with_capacity(seqs.len());
        for chunk in seqs.chunks(CHUNK) {
            let query = numbered(CHANGE_COLUMNS, chunk.len());
            let rows: Vec<ChangeRow> = as_tenant!(self, conn => {
                let mut q = sqlx::query_as(&query).bind(self.tenant).bind(self.directory);
                for seq in chunk {
                    q = q.bind(seq);
                }
                q.fetch_all(&mut *conn).await?
            });
            for row in rows {
                records.push(change_from_row(row)?);
            }
        }
        Ok(records)
    }

    /// [`Self::changes_numbered`] with the documents as the JSON text stored.
    pub async fn stored_changes_numbered(&self, seqs: &[i64]) -> Result<Vec<StoredChange>, StoreError> {
        type Row = (i64, String, String, String, DateTime<Utc>, Json<Box<RawValue>>, Option<String>);
        let mut records = Vec::with_capacity(seqs.len());
        for chunk in seqs.chunks(CHUNK) {
            // The view as text: its reader parses it once into what the kind of change needs,
            // where a `RawValue` would have been checked (and copied) first.
            let query =
                numbered("seq, kind, resource_type, resource_id, occurred_at, data, CAST(view AS TEXT)", chunk.len());
            let rows: Vec<Row> = as_tenant!(self, conn => {
                let mut q = sqlx::query_as(&query).bind(self.tenant).bind(self.directory);
                for seq in chunk {
                    q = q.bind(seq);
                }
                q.fetch_all(&mut *conn).await?
            });
            for (seq, kind, resource_type, resource_id, occurred_at, Json(data), view) in rows {
                let resource_type = super::ChangeSubject::parse(&resource_type)?;
                records.push(StoredChange { seq, kind, resource_type, resource_id, occurred_at, data, view });
            }
        }
        Ok(records)
    }
}

/// The `[id, name]` pairs of the groups the user of row `r` belongs to, as a JSON array
/// (SQLite): one subquery for `GET /Users/{id}` and a listing's page alike.
macro_rules! groups_of_row_sqlite {
    () => {
        "(SELECT json_group_array(json_array(g.id, g.name)) FROM scim_members m \
         JOIN scim_resources g ON g.tenant_id = m.tenant_id AND g.directory_id = m.directory_id \
         AND g.id = m.group_id \
         WHERE m.tenant_id = r.tenant_id AND m.directory_id = r.directory_id AND m.member_id = r.id)"
    };
}

/// One resource by id with the `[id, name]` pairs of the groups it is a member of
/// (SQLite; PostgreSQL runs the same query inside `scim_resource_by_id`, migration 0009).
pub(super) const BY_ID_SQLITE: &str = concat!(
    "SELECT r.id, r.doc, r.version, r.created_at, r.last_modified, CASE WHEN $5 THEN ",
    groups_of_row_sqlite!(),
    " END FROM scim_resources r \
     WHERE r.tenant_id = $1 AND r.directory_id = $2 AND r.resource_type = $3 AND r.id = $4"
);

/// The first page of `name_folded = $4` (SQLite), ordered by id, at most `$5`, with the
/// groups column when `$6`: what the generic listing runs for `userName eq` and
/// `displayName eq`, in a statement of its own (see `probe_by_column`).
const PROBE_NAME_SQLITE: &str = concat!(
    "SELECT r.id, r.doc, r.version, r.created_at, r.last_modified, CASE WHEN $6 THEN ",
    groups_of_row_sqlite!(),
    " END FROM scim_resources r \
     WHERE r.tenant_id = $1 AND r.directory_id = $2 AND r.resource_type = $3 AND r.name_folded = $4 \
     ORDER BY r.id LIMIT $5"
);

/// The SQLite statement that answers an equality probe on `column`.
pub(super) fn probe_sql_sqlite(column: filter_sql::ProbeColumn) -> &'static str {
    match column {
        filter_sql::ProbeColumn::NameFolded => PROBE_NAME_SQLITE,
        filter_sql::ProbeColumn::ExternalId => PROBE_EXTERNAL_ID_SQLITE,
        filter_sql::ProbeColumn::EmailValue => PROBE_EMAIL_SQLITE,
    }
}

/// [`PROBE_NAME_SQLITE`] for the users with an email whose folded value is `$4`
/// (`emails[value eq …]`), from the lookup table, as `filter_sql` renders it.
const PROBE_EMAIL_SQLITE: &str = concat!(
    "SELECT r.id, r.doc, r.version, r.created_at, r.last_modified, CASE WHEN $6 THEN ",
    groups_of_row_sqlite!(),
    " END FROM scim_resources r \
     WHERE r.tenant_id = $1 AND r.directory_id = $2 AND r.resource_type = $3 \
     AND r.id IN (SELECT v.resource_id FROM scim_resource_values v WHERE v.tenant_id = $1 \
     AND v.directory_id = $2 AND v.attribute = 'emails' AND v.value_folded = $4) \
     ORDER BY r.id LIMIT $5"
);

/// [`PROBE_NAME_SQLITE`] for `external_id = $4` (`externalId eq`).
const PROBE_EXTERNAL_ID_SQLITE: &str = concat!(
    "SELECT r.id, r.doc, r.version, r.created_at, r.last_modified, CASE WHEN $6 THEN ",
    groups_of_row_sqlite!(),
    " END FROM scim_resources r \
     WHERE r.tenant_id = $1 AND r.directory_id = $2 AND r.resource_type = $3 AND r.external_id = $4 \
     ORDER BY r.id LIMIT $5"
);

/// How many resources of a kind the directory holds (kept by triggers, migration 0048).
const COUNT_OF_KIND: &str = "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM scim_resource_counts \
     WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = $3";

/// The ids of the wizard's self-test (those starting with [`SELF_TEST_ID_PREFIX`](crate::SELF_TEST_ID_PREFIX)) as a
/// range of the id index: '.' follows '-' in byte order, which both backends compare ids
/// by (`COLLATE "C"` on PostgreSQL). Unlike `LIKE`, case-sensitive on both.
const SELF_TEST_IDS: &str = "r.id >= 'selftest-' AND r.id < 'selftest.'";

/// [`COUNT_OF_KIND`] less the self-test's resources, read from the id index.
const COUNT_OF_KIND_BUT_SELF_TEST: &str = "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) \
     - (SELECT COUNT(*) FROM scim_resources r \
        WHERE r.tenant_id = $1 AND r.directory_id = $2 AND r.resource_type = $3 \
        AND r.id >= 'selftest-' AND r.id < 'selftest.') \
     FROM scim_resource_counts WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = $3";

/// The groups column of a listing's page of users (see `list_users_with_groups`): the
/// subquery `BY_ID_SQLITE` runs, and on PostgreSQL the one of `scim_resource_by_id`.
const GROUPS_OF_ROW_SQLITE: &str = groups_of_row_sqlite!();
pub(super) const GROUPS_OF_ROW_POSTGRES: &str = "(SELECT COALESCE(jsonb_agg(jsonb_build_array(g.id, g.name)), '[]'::jsonb) \
     FROM scim_members m \
     JOIN scim_resources g ON g.tenant_id = m.tenant_id AND g.directory_id = m.directory_id AND g.id = m.group_id \
     WHERE m.tenant_id = r.tenant_id AND m.directory_id = r.directory_id AND m.member_id = r.id)";

/// A listing's page from its rows, with each user's groups when they were read.
fn page_from_rows(
    kind: ResourceKind,
    total: i64,
    rows: Vec<ByIdRow>,
    with_groups: bool,
) -> (ListPage, HashMap<String, Vec<GroupRef>>) {
    let mut groups = HashMap::new();
    let mut records = Vec::with_capacity(rows.len());
    for (id, doc, version, created_at, last_modified, of_user) in rows {
        if with_groups {
            groups.insert(id.clone(), group_pairs(of_user.as_ref()));
        }
        records.push(record_from_row(kind, (id, doc, version, created_at, last_modified)));
    }
    (ListPage { total, records }, groups)
}

/// Groups read as a JSON array of `[id, name]` pairs, ordered by id.
fn group_pairs(pairs: Option<&Json<Value>>) -> Vec<GroupRef> {
    let mut groups: Vec<GroupRef> = pairs
        .and_then(|Json(pairs)| pairs.as_array())
        .into_iter()
        .flatten()
        .filter_map(|pair| {
            Some(GroupRef { id: pair.get(0)?.as_str()?.to_owned(), display: pair.get(1)?.as_str()?.to_owned() })
        })
        .collect();
    groups.sort_by(|a, b| a.id.cmp(&b.id));
    groups
}

/// The members of `groups` groups (bound from `$3`), with their names.
pub(super) fn members_of_sql(groups: usize) -> String {
    format!(
        "SELECT m.group_id, m.member_id, m.member_type, r.name FROM scim_members m \
         JOIN scim_resources r ON r.tenant_id = m.tenant_id AND r.directory_id = m.directory_id \
         AND r.id = m.member_id \
         WHERE m.tenant_id = $1 AND m.directory_id = $2 AND m.group_id IN ({}) \
         ORDER BY m.group_id, m.member_id",
        placeholders(3, groups)
    )
}

/// The groups of `users` users (bound from `$3`), with their names.
pub(super) fn groups_of_sql(users: usize) -> String {
    format!(
        "SELECT m.member_id, m.group_id, g.name FROM scim_members m \
         JOIN scim_resources g ON g.tenant_id = m.tenant_id AND g.directory_id = m.directory_id \
         AND g.id = m.group_id \
         WHERE m.tenant_id = $1 AND m.directory_id = $2 AND m.member_id IN ({}) \
         ORDER BY m.member_id, m.group_id",
        placeholders(3, users)
    )
}

/// The SQL value `field` orders by, and its parameters (numbered from `placeholder`).
fn sort_expression(field: &SortField, backend: crate::Backend, placeholder: usize) -> (String, Vec<SqlBind>) {
    let dialect = filter_sql::Dialect::from(backend);
    let path = |keys: &[String]| SqlBind::Text(filter_sql::json_path(dialect, keys));
    let document = |case_exact: bool| if case_exact { "r.doc" } else { "r.doc_folded" };
    let (p, q) = (placeholder, placeholder + 1);
    match field {
        SortField::Id => ("r.id".to_owned(), Vec::new()),
        SortField::Name => ("r.name_folded".to_owned(), Vec::new()),
        SortField::ExternalId => ("r.external_id".to_owned(), Vec::new()),
        SortField::Created => ("r.created_at".to_owned(), Vec::new()),
        SortField::LastModified => ("r.last_modified".to_owned(), Vec::new()),
        SortField::Document { keys, case_exact } => {
            let doc = document(*case_exact);
            let expr = match backend {
                crate::Backend::Sqlite => format!("json_extract({doc}, ${p})"),
                crate::Backend::Postgres => format!("({doc} #> CAST(${p} AS text[]))"),
            };
            (expr, vec![path(keys)])
        }
        // The primary element, else the first (RFC 7644 §3.4.2.3), as the evaluator's sort.
        SortField::MultiValued { array, element, case_exact } => {
            let doc = document(*case_exact);
            let mut binds = vec![path(array)];
            let expr = match backend {
                crate::Backend::Sqlite => {
                    let value = if element.is_empty() {
                        "CASE WHEN e.type IN ('object', 'array') THEN NULL ELSE e.value END".to_owned()
                    } else {
                        binds.push(path(element));
                        format!("CASE WHEN e.type = 'object' THEN json_extract(e.value, ${q}) END")
                    };
                    format!(
                        "(SELECT {value} FROM json_each({doc}, ${p}) e WHERE json_type({doc}, ${p}) = 'array' \
                         ORDER BY CASE WHEN e.type = 'object' AND json_extract(e.value, '$.primary') = 1 \
                         THEN 0 ELSE 1 END, e.key LIMIT 1)"
                    )
                }
                crate::Backend::Postgres => {
                    let value = if element.is_empty() {
                        "v".to_owned()
                    } else {
                        binds.push(path(element));
                        format!("(v #> CAST(${q} AS text[]))")
                    };
                    format!(
                        "(SELECT {value} FROM jsonb_array_elements(CASE WHEN jsonb_typeof({doc} #> CAST(${p} AS text[])) \
                         = 'array' THEN {doc} #> CAST(${p} AS text[]) END) WITH ORDINALITY AS e(v, n) \
                         ORDER BY CASE WHEN v -> 'primary' = 'true'::jsonb THEN 0 ELSE 1 END, n LIMIT 1)"
                    )
                }
            };
            (expr, binds)
        }
    }
}

/// The number of matches, when a page of `read` rows tells it: the page started at the
/// first match (no offset, no cursor) or somewhere inside the matches, and it is not full,
/// so there is nothing after it. `None` when only a count can tell.
fn total_from_page(page: &PageSpec, read: usize) -> Option<i64> {
    let read = i64::try_from(read).ok()?;
    match page {
        PageSpec::Offset { skip, take } if read < *take && (read > 0 || *skip == 0) => Some(skip + read),
        PageSpec::Keyset { from: None, take, .. } if read < *take => Some(read),
        PageSpec::Offset { .. } | PageSpec::Keyset { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SELF_TEST_ID_PREFIX;

    #[test]
    fn the_feed_leaves_out_the_ids_the_self_test_makes() {
        assert!(CHANGES_AFTER.contains(&format!("resource_id NOT LIKE '{SELF_TEST_ID_PREFIX}%'")));
        // The range spells the prefix, and its end is the prefix with its last byte the next.
        let (first, last) = SELF_TEST_ID_PREFIX.split_at(SELF_TEST_ID_PREFIX.len() - 1);
        let next = char::from(last.as_bytes()[0] + 1);
        assert_eq!(SELF_TEST_IDS, format!("r.id >= '{SELF_TEST_ID_PREFIX}' AND r.id < '{first}{next}'"));
        assert!(COUNT_OF_KIND_BUT_SELF_TEST.contains(SELF_TEST_IDS));
    }

    #[test]
    fn a_page_that_is_not_full_tells_the_total() {
        let offset = |skip, take| PageSpec::Offset { skip, take };
        // A probe: nothing skipped, fewer than asked for.
        assert_eq!(total_from_page(&offset(0, 100), 1), Some(1));
        assert_eq!(total_from_page(&offset(0, 100), 0), Some(0));
        // The last page of a listing.
        assert_eq!(total_from_page(&offset(200, 100), 42), Some(242));
        // A full page, a page past the end, and `count=0` cannot tell.
        assert_eq!(total_from_page(&offset(0, 100), 100), None);
        assert_eq!(total_from_page(&offset(500, 100), 0), None);
        assert_eq!(total_from_page(&offset(0, 0), 0), None);
        let keyset =
            |from: Option<&str>, take| PageSpec::Keyset { from: from.map(str::to_owned), descending: false, take };
        assert_eq!(total_from_page(&keyset(None, 100), 7), Some(7));
        assert_eq!(total_from_page(&keyset(None, 100), 100), None);
        // After a cursor the page says nothing of the matches before it.
        assert_eq!(total_from_page(&keyset(Some("x"), 100), 7), None);
    }
}
