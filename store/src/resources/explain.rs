//! Test support: the query plans of the reads, for tests that the queries IdPs send are
//! answered from an index.

use super::read::{
    BY_ID_SQLITE, GROUPS_OF_ROW_POSTGRES, ListStatements, groups_of_sql, members_of_sql, probe_sql_sqlite,
};
use super::{DirectoryData, ListSpec, ResourceKind};
use crate::StoreError;
use crate::filter_sql::{self, SqlBind};

/// One line of a query plan: the last column of `EXPLAIN` (PostgreSQL's only one) or of
/// `EXPLAIN QUERY PLAN` (SQLite's `detail`).
struct PlanLine(String);

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for PlanLine
where
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        row.try_get(row.len().saturating_sub(1)).map(PlanLine)
    }
}

impl DirectoryData<'_> {
    /// The query plans of a listing's count and page statements, as the database reports
    /// them (`EXPLAIN QUERY PLAN` on SQLite; `EXPLAIN` on PostgreSQL, first with the values
    /// bound and then the plan it settles on for a statement prepared and run five times),
    /// for tests that the probes IdPs send are answered from an index.
    pub async fn explain_list(&self, kind: ResourceKind, spec: &ListSpec<'_>) -> Result<Vec<String>, StoreError> {
        // Without the users' groups column: it is the subquery `explain_memberships` checks
        // (the one `GET /Users/{id}` runs), and it does not change how the page is found.
        let ListStatements { count_sql, filter_binds, page_sql, binds } = self.list_statements(kind, spec, false);
        let explain = match self.store.backend() {
            crate::Backend::Sqlite => "EXPLAIN QUERY PLAN",
            crate::Backend::Postgres => "EXPLAIN",
        };
        let mut plans = Vec::new();
        for generic in [false, true] {
            if generic && self.store.backend() == crate::Backend::Sqlite {
                continue;
            }
            for (sql, binds) in [(&count_sql, &filter_binds), (&page_sql, &binds)] {
                // The plan PostgreSQL settles on for a prepared statement: after five
                // executions it switches to a generic plan if that looks no costlier than
                // the plans made for the values. EXPLAIN EXECUTE takes no bound parameters,
                // so the values are spelled as literals (test support only).
                let mut arguments =
                    vec![format!("'{}'", self.tenant), format!("'{}'", self.directory), format!("'{}'", kind.as_str())];
                arguments.extend(binds.iter().map(|bind| match bind {
                    SqlBind::Text(text) => format!("'{}'", text.replace('\'', "''")),
                    SqlBind::Integer(number) => number.to_string(),
                    SqlBind::Real(number) => format!("{number:?}"),
                    SqlBind::DateTime(at) => format!("'{}'", at.to_rfc3339()),
                }));
                let execute = format!("EXECUTE explained_probe({})", arguments.join(", "));
                let explained = if generic { format!("EXPLAIN {execute}") } else { format!("{explain} {sql}") };
                let plan: Vec<String> = as_tenant!(self, conn => {
                    if generic {
                        sqlx::raw_sql(&format!("PREPARE explained_probe AS {sql}")).execute(&mut *conn).await?;
                        for _ in 0..5 {
                            sqlx::raw_sql(&execute).execute(&mut *conn).await?;
                        }
                    }
                    let lines: Vec<PlanLine> = if generic {
                        sqlx::query_as(&explained).fetch_all(&mut *conn).await?
                    } else {
                        let mut query =
                            sqlx::query_as(&explained).bind(self.tenant).bind(self.directory).bind(kind.as_str());
                        for bind in binds {
                            query = filter_sql::bind_query_as(query, bind);
                        }
                        query.fetch_all(&mut *conn).await?
                    };
                    if generic {
                        sqlx::query("DEALLOCATE explained_probe").execute(&mut *conn).await?;
                    }
                    lines.into_iter().map(|PlanLine(line)| line).collect()
                });
                plans.push(plan.join("\n"));
            }
        }
        // SQLite answers an equality probe on a dedicated column or the email lookup with a
        // statement of its own (`probe_by_column`), with the groups column the SCIM listing
        // asks for.
        let probe = spec.filter.and_then(|plan| filter_sql::probe_equality(plan, filter_sql::target(kind)));
        if let (crate::Backend::Sqlite, Some((column, value))) = (self.store.backend(), probe) {
            let sql = probe_sql_sqlite(column);
            let lines: Vec<PlanLine> = as_tenant!(self, conn => {
                sqlx::query_as(&format!("EXPLAIN QUERY PLAN {sql}"))
                    .bind(self.tenant)
                    .bind(self.directory)
                    .bind(kind.as_str())
                    .bind(value)
                    .bind(100_i64)
                    .bind(true)
                    .fetch_all(&mut *conn)
                    .await?
            });
            plans.push(lines.into_iter().map(|PlanLine(line)| line).collect::<Vec<_>>().join("\n"));
        }
        Ok(plans)
    }

    /// The query plans of the membership reads: a user by id with its groups (SQLite only:
    /// on PostgreSQL that query runs inside a function whose plan `EXPLAIN` does not show),
    /// the groups of a user, the members of a group and the groups column of a listing's
    /// users; for tests that none of them reads
    /// every membership of the directory.
    pub async fn explain_memberships(&self, user: &str, group: &str) -> Result<Vec<String>, StoreError> {
        let explain = match self.store.backend() {
            crate::Backend::Sqlite => "EXPLAIN QUERY PLAN",
            crate::Backend::Postgres => "EXPLAIN",
        };
        let mut statements = vec![(groups_of_sql(1), user), (members_of_sql(1), group)];
        if self.store.backend() == crate::Backend::Sqlite {
            statements.push((BY_ID_SQLITE.replace("$5", "1"), user));
        }
        // A listing's users with their groups (`list_users_with_groups`), narrowed to one.
        // On SQLite that column is the subquery of `BY_ID_SQLITE`, explained above.
        if self.store.backend() == crate::Backend::Postgres {
            statements.push((
                format!(
                    "SELECT r.id, {GROUPS_OF_ROW_POSTGRES} FROM scim_resources r \
                     WHERE r.tenant_id = $1 AND r.directory_id = $2 AND r.resource_type = $3 AND r.id = $4"
                ),
                user,
            ));
        }
        let mut plans = Vec::new();
        for (sql, id) in statements {
            let explained = format!("{explain} {sql}");
            let lines: Vec<PlanLine> = as_tenant!(self, conn => {
                let query = sqlx::query_as(&explained).bind(self.tenant).bind(self.directory);
                let query = if sql.contains("$4") { query.bind(ResourceKind::User.as_str()).bind(id) } else { query.bind(id) };
                query.fetch_all(&mut *conn).await?
            });
            plans.push(lines.into_iter().map(|PlanLine(line)| line).collect::<Vec<_>>().join("\n"));
        }
        Ok(plans)
    }
}
