//! Renders the protocol core's filter [`Plan`] as SQL for SQLite and for PostgreSQL, with
//! every value (and every JSON path) passed as a bind parameter, never spliced into the SQL.
//!
//! The rules are those of `scim::filter::plan`'s module documentation, whose evaluator
//! (`scim::filter::eval`) is the oracle the differential tests compare with:
//!
//! - every predicate is wrapped in `COALESCE(…, FALSE)`, so a missing or `null` value makes
//!   it false, never NULL, and `NOT` negates it as the evaluator does;
//! - a value is compared only when its JSON type fits (a number never equals text);
//! - case-insensitive comparisons read `doc_folded` (the document with every string
//!   lower-cased in Rust) and a lower-cased bind value, because neither SQLite's nor
//!   PostgreSQL's `lower()` folds like Rust's `str::to_lowercase`;
//! - text orders by code point (`COLLATE "C"` on PostgreSQL; SQLite compares UTF-8 bytes);
//! - `co`/`sw`/`ew` use `instr`/`substr` (SQLite) and `strpos`/`left`/`right`
//!   (PostgreSQL) rather than `LIKE`, which would need escaping and folds ASCII case;
//! - dateTime values compare as instants (`unixepoch(…, 'subsec')`, `timestamptz`), and
//!   only stored strings shaped like RFC 3339 date-times compare at all;
//! - `meta` is not in the document: its attributes are columns, also inside `meta[…]`; a
//!   user's `groups` and a group's `members` are rows of `scim_members`.

use std::sync::OnceLock;

use chrono::{DateTime, SecondsFormat, Utc};
use scim::filter::CompareOp;
use scim::filter::plan::{BindValue, IndexedColumns, Operand, Plan, Predicate, Test};

use crate::resource_kind::ResourceKind;

/// Which SQL to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl From<crate::Backend> for Dialect {
    fn from(backend: crate::Backend) -> Self {
        match backend {
            crate::Backend::Sqlite => Dialect::Sqlite,
            crate::Backend::Postgres => Dialect::Postgres,
        }
    }
}

/// A bind parameter of a rendered filter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SqlBind {
    Text(String),
    Integer(i64),
    Real(f64),
    DateTime(DateTime<Utc>),
}

/// SQL text (a boolean expression over the table aliased `r`) and its parameters, which
/// are numbered from the `first_placeholder` given to [`render`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RenderedFilter {
    pub(crate) sql: String,
    pub(crate) binds: Vec<SqlBind>,
}

/// How the table of one resource type is laid out.
#[derive(Debug)]
pub(crate) struct FilterTarget {
    columns: &'static [ColumnSpec],
    arrays: &'static [ArraySpec],
    /// Multi-valued attributes whose lower-cased `value`s are kept in
    /// `scim_resource_values` (migration 0007), to find candidates by index.
    looked_up: &'static [&'static str],
    /// The columns as declared to the planner, built at the first filtered read (every
    /// filtered read plans with them; declaring parses each column's path).
    declared: OnceLock<IndexedColumns>,
}

/// A single-valued attribute kept in a column of `scim_resources`.
#[derive(Debug, Clone, Copy)]
struct ColumnSpec {
    /// The name declared in [`IndexedColumns`] (and used by the planner).
    name: &'static str,
    /// The attribute path it holds.
    path: &'static str,
    expr: &'static str,
    /// The lower-cased copy, for case-insensitive comparisons.
    folded: Option<&'static str>,
    kind: ColumnKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ColumnKind {
    Text,
    DateTime,
}

/// A multi-valued attribute kept in a side table instead of the document.
#[derive(Debug)]
struct ArraySpec {
    /// The attribute's key in the document.
    key: &'static str,
    /// `FROM` item and its correlation with the resource row `r`.
    from: &'static str,
    correlate: &'static str,
    /// Sub-attributes with an SQL expression over the side row (and its lower-cased copy,
    /// if `lower()` would not fold it as Rust does); other sub-attributes are absent.
    sub_attributes: &'static [(&'static str, &'static str, Option<&'static str>)],
}

const COMMON_COLUMNS: [ColumnSpec; 5] = [
    ColumnSpec { name: "id", path: "id", expr: "r.id", folded: None, kind: ColumnKind::Text },
    ColumnSpec { name: "external_id", path: "externalId", expr: "r.external_id", folded: None, kind: ColumnKind::Text },
    ColumnSpec {
        name: "created_at",
        path: "meta.created",
        expr: "r.created_at",
        folded: None,
        kind: ColumnKind::DateTime,
    },
    ColumnSpec {
        name: "last_modified",
        path: "meta.lastModified",
        expr: "r.last_modified",
        folded: None,
        kind: ColumnKind::DateTime,
    },
    ColumnSpec {
        name: "resource_type",
        path: "meta.resourceType",
        expr: "r.resource_type",
        folded: None,
        kind: ColumnKind::Text,
    },
];

/// Users: `userName` is the `name` column.
pub(crate) static USER_TARGET: FilterTarget = FilterTarget {
    columns: &[
        COMMON_COLUMNS[0],
        COMMON_COLUMNS[1],
        COMMON_COLUMNS[2],
        COMMON_COLUMNS[3],
        COMMON_COLUMNS[4],
        ColumnSpec {
            name: "name",
            path: "userName",
            expr: "r.name",
            folded: Some("r.name_folded"),
            kind: ColumnKind::Text,
        },
    ],
    arrays: &[ArraySpec {
        key: "groups",
        from: "scim_members m",
        correlate: "m.tenant_id = r.tenant_id AND m.directory_id = r.directory_id AND m.member_id = r.id",
        // As the service shows a user's groups: `type` is always "direct", `display` the
        // group's displayName. (`$ref` holds the service's base URL, unknown here.)
        sub_attributes: &[
            ("value", "m.group_id", None),
            ("type", "'direct'", None),
            (
                "display",
                "(SELECT g.name FROM scim_resources g WHERE g.tenant_id = m.tenant_id \
                 AND g.directory_id = m.directory_id AND g.id = m.group_id)",
                Some(
                    "(SELECT g.name_folded FROM scim_resources g WHERE g.tenant_id = m.tenant_id \
                     AND g.directory_id = m.directory_id AND g.id = m.group_id)",
                ),
            ),
        ],
    }],
    looked_up: &["emails"],
    declared: OnceLock::new(),
};

/// Groups: `displayName` is the `name` column; `members` live in `scim_members`.
pub(crate) static GROUP_TARGET: FilterTarget = FilterTarget {
    columns: &[
        COMMON_COLUMNS[0],
        COMMON_COLUMNS[1],
        COMMON_COLUMNS[2],
        COMMON_COLUMNS[3],
        COMMON_COLUMNS[4],
        ColumnSpec {
            name: "name",
            path: "displayName",
            expr: "r.name",
            folded: Some("r.name_folded"),
            kind: ColumnKind::Text,
        },
    ],
    arrays: &[ArraySpec {
        key: "members",
        from: "scim_members m",
        correlate: "m.tenant_id = r.tenant_id AND m.directory_id = r.directory_id AND m.group_id = r.id",
        sub_attributes: &[("value", "m.member_id", None), ("type", "m.member_type", None)],
    }],
    looked_up: &[],
    declared: OnceLock::new(),
};

/// Agents and agentic applications: their `name` is the `name` column; nothing lives in
/// a side table.
pub(crate) static AGENTIC_TARGET: FilterTarget = FilterTarget {
    columns: &[
        COMMON_COLUMNS[0],
        COMMON_COLUMNS[1],
        COMMON_COLUMNS[2],
        COMMON_COLUMNS[3],
        COMMON_COLUMNS[4],
        ColumnSpec {
            name: "name",
            path: "name",
            expr: "r.name",
            folded: Some("r.name_folded"),
            kind: ColumnKind::Text,
        },
    ],
    arrays: &[],
    looked_up: &[],
    declared: OnceLock::new(),
};

impl FilterTarget {
    /// The columns, as the protocol core's planner needs them declared.
    pub(crate) fn indexed_columns(&self) -> &IndexedColumns {
        self.declared.get_or_init(|| {
            self.columns.iter().fold(IndexedColumns::new(), |columns, column| {
                // The paths are constants above; a parse failure would be a typo caught by
                // the tests, and leaves that attribute to the document.
                columns.clone().with(column.path, column.name).unwrap_or(columns)
            })
        })
    }

    fn column(&self, name: &str) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// The column holding the attribute at `keys` (`meta`, `created` inside `meta[…]`).
    fn column_at(&self, keys: &[String]) -> Option<&ColumnSpec> {
        self.columns.iter().find(|c| c.path.split('.').eq(keys.iter().map(String::as_str)))
    }

    fn array(&self, keys: &[String]) -> Option<&ArraySpec> {
        match keys {
            [key] => self.arrays.iter().find(|a| a.key == key),
            _ => None,
        }
    }
}

/// Where an equality probe is answered from directly (see [`probe_equality`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProbeColumn {
    /// `name_folded`: a case-insensitive `userName`, `displayName` or agent `name`.
    NameFolded,
    /// `external_id`: the case-exact `externalId`.
    ExternalId,
    /// `value_folded` of the lookup table (migration 0007): a case-insensitive
    /// `emails[value eq …]`.
    EmailValue,
}

impl ProbeColumn {
    /// The column's name, as `scim_resources_where_column_is` (migration 0049) takes it;
    /// `None` for the lookup table, which that function does not read.
    pub(crate) fn postgres_column(self) -> Option<&'static str> {
        match self {
            ProbeColumn::NameFolded => Some("name_folded"),
            ProbeColumn::ExternalId => Some("external_id"),
            ProbeColumn::EmailValue => None,
        }
    }
}

/// The column and bound value of a filter that is one text equality on a dedicated column
/// or on the lookup table, as [`render`] would compare them (`r.name_folded =
/// lower(value)`, `r.external_id = value`, the lookup's `value_folded = lower(value)`): the
/// probes identity providers send before every create. `None` for any other filter.
pub(crate) fn probe_equality(plan: &Plan, target: &FilterTarget) -> Option<(ProbeColumn, String)> {
    if let Plan::Any { array, element } = plan
        && let [key] = array.as_slice()
        && key == "emails"
        && target.looked_up.contains(&"emails")
        && let Some(text) = folded_value_equality(element)
    {
        return Some((ProbeColumn::EmailValue, text.to_lowercase()));
    }
    let Plan::Predicate(Predicate {
        operand: Operand::Column(name),
        test: Test::Compare { op: CompareOp::Eq, value: BindValue::Text(text), case_exact },
    }) = plan
    else {
        return None;
    };
    let column = target.column(name)?;
    match (column.kind, column.folded, *case_exact) {
        (ColumnKind::Text, Some("r.name_folded"), false) => Some((ProbeColumn::NameFolded, text.to_lowercase())),
        (ColumnKind::Text, _, true) if column.expr == "r.external_id" => Some((ProbeColumn::ExternalId, text.clone())),
        _ => None,
    }
}

/// The layout of `kind`'s rows.
pub(crate) fn target(kind: ResourceKind) -> &'static FilterTarget {
    match kind {
        ResourceKind::User => &USER_TARGET,
        ResourceKind::Group => &GROUP_TARGET,
        ResourceKind::Agent | ResourceKind::AgenticApplication => &AGENTIC_TARGET,
    }
}

/// The columns of `kind` for the protocol core's planner, declared once per kind.
pub fn indexed_columns(kind: ResourceKind) -> &'static IndexedColumns {
    target(kind).indexed_columns()
}

/// Renders `plan` over `target` as a boolean SQL expression whose parameters are numbered
/// from `$first_placeholder`. The enclosing query binds the tenant as `$1` and the
/// directory as `$2` (lookup-table candidates refer to them).
pub(crate) fn render(
    plan: &Plan,
    target: &'static FilterTarget,
    dialect: Dialect,
    first_placeholder: usize,
) -> RenderedFilter {
    let mut renderer = Renderer { target, dialect, first: first_placeholder, binds: Vec::new(), aliases: 0 };
    let sql = renderer.plan(plan, &Scope::Root);
    RenderedFilter { sql, binds: renderer.binds }
}

/// Where operands are read.
enum Scope {
    Root,
    /// An element of a document array: `exact` and `folded` are the SQL expressions of the
    /// element (a JSON value) in the document and in the folded document.
    Element {
        exact: String,
        exact_type: String,
        folded: String,
    },
    /// A row of a side table.
    Side(&'static ArraySpec),
}

struct Renderer {
    target: &'static FilterTarget,
    dialect: Dialect,
    first: usize,
    binds: Vec<SqlBind>,
    aliases: usize,
}

/// A JSON value as SQL: its expression, and the expression of its JSON type name.
struct Json {
    value: String,
    ty: String,
}

impl Renderer {
    fn bind(&mut self, value: SqlBind) -> String {
        self.binds.push(value);
        format!("${}", self.first + self.binds.len() - 1)
    }

    fn plan(&mut self, plan: &Plan, scope: &Scope) -> String {
        match plan {
            Plan::And(children) => self.join(children, " AND ", scope),
            Plan::Or(children) => self.join(children, " OR ", scope),
            Plan::Not(inner) => format!("NOT ({})", self.plan(inner, scope)),
            // Column tests are null-safe by construction and must stay bare so that the
            // indexes behind them are used (an index cannot see through COALESCE).
            Plan::Predicate(predicate) if matches!(predicate.operand, Operand::Column(_)) => {
                format!("({})", self.predicate(predicate, scope))
            }
            Plan::Predicate(predicate) => format!("COALESCE(({}), FALSE)", self.predicate(predicate, scope)),
            Plan::Any { array, element } => self.any(array, element, scope),
        }
    }

    fn join(&mut self, children: &[Plan], separator: &str, scope: &Scope) -> String {
        let parts: Vec<String> = children.iter().map(|child| self.plan(child, scope)).collect();
        format!("({})", parts.join(separator))
    }

    /// `EXISTS` over the elements of an array (in the document or in a side table).
    fn any(&mut self, array: &[String], element: &Plan, scope: &Scope) -> String {
        // `meta[…]`: not in the document, but every resource has one (its columns).
        if matches!(scope, Scope::Root) && array.len() == 1 && array[0] == "meta" {
            return self.plan(&within_meta(element), scope);
        }
        if matches!(scope, Scope::Root)
            && let Some(side) = self.target.array(array)
        {
            let inner = self.plan(element, &Scope::Side(side));
            return format!("EXISTS (SELECT 1 FROM {} WHERE {} AND {inner})", side.from, side.correlate);
        }
        // `emails[value eq "x"]`: candidates come from the lookup table's index, then the
        // exact test below decides (every match has its folded value there).
        let candidates = match (scope, array) {
            (Scope::Root, [key]) => self.target.looked_up.iter().find(|k| *k == key).and_then(|key| {
                let value = equality_on_value(element)?;
                let bound = self.bind(SqlBind::Text(value));
                let candidates = format!(
                    "SELECT v.resource_id FROM scim_resource_values v WHERE v.tenant_id = $1 \
                     AND v.directory_id = $2 AND v.attribute = '{key}' AND v.value_folded = {bound}"
                );
                // PostgreSQL computes `= ANY (ARRAY(…))` once and probes the resource index
                // with it; as `IN (…)` it may scan the directory and semi-join instead.
                Some(match self.dialect {
                    Dialect::Sqlite => format!("r.id IN ({candidates})"),
                    Dialect::Postgres => format!("r.id = ANY (ARRAY({candidates}))"),
                })
            }),
            _ => None,
        };
        match candidates {
            // The value equality alone (`emails[value eq "x"]`, the probe before a create):
            // the lookup table holds every element's string `value` folded as the filter
            // folds it, so the candidates are the answer, and the test in the document would
            // walk two JSON documents per candidate to say the same.
            Some(candidates) if folded_value_equality(element).is_some() => candidates,
            Some(candidates) => format!("({candidates} AND {})", self.any_in_document(array, element, scope)),
            None => self.any_in_document(array, element, scope),
        }
    }

    /// `EXISTS` over the elements of an array in the document.
    fn any_in_document(&mut self, array: &[String], element: &Plan, scope: &Scope) -> String {
        self.aliases += 1;
        let (e, f) = (format!("e{}", self.aliases), format!("f{}", self.aliases));
        match self.dialect {
            Dialect::Sqlite => {
                // json_each walks the array at the path; any other value there (an object
                // or a scalar) is one element, and a missing path none (json_each would
                // walk an object's members). The exact and folded walks pair up by index.
                let path = self.path(array);
                let (exact_doc, folded_doc) = match scope {
                    Scope::Element { exact, folded, .. } => (exact.clone(), folded.clone()),
                    _ => ("r.doc".to_owned(), "r.doc_folded".to_owned()),
                };
                let element_scope = Scope::Element {
                    exact: format!("{e}.value"),
                    exact_type: format!("{e}.type"),
                    folded: format!("{f}.value"),
                };
                let inner = self.plan(element, &element_scope);
                let elements = |doc: &str| {
                    format!(
                        "json_each(CASE json_type({doc}, {path}) WHEN 'array' THEN {doc} -> {path} \
                         ELSE json_array({doc} -> {path}) END)"
                    )
                };
                format!(
                    "EXISTS (SELECT 1 FROM {} AS {e}, {} AS {f} \
                     WHERE {f}.key IS {e}.key AND {e}.type <> 'null' AND {inner})",
                    elements(&exact_doc),
                    elements(&folded_doc)
                )
            }
            Dialect::Postgres => {
                let path = self.path(array);
                let (exact_array, folded_array) = match scope {
                    Scope::Element { exact, folded, .. } => (self.json_at(exact, &path), self.json_at(folded, &path)),
                    _ => (self.json_at("r.doc", &path), self.json_at("r.doc_folded", &path)),
                };
                let element_scope = Scope::Element {
                    exact: format!("{e}.v"),
                    exact_type: format!("jsonb_typeof({e}.v)"),
                    folded: format!("{e}.fv"),
                };
                let inner = self.plan(element, &element_scope);
                // A scalar at the path is one element; a missing path none.
                let elements = |json: &str| {
                    format!(
                        "jsonb_array_elements(CASE jsonb_typeof({json}) WHEN 'array' THEN {json} \
                         ELSE jsonb_build_array({json}) END)"
                    )
                };
                format!(
                    "EXISTS (SELECT 1 FROM ROWS FROM ({}, {}) AS {e}(v, fv) \
                     WHERE jsonb_typeof({e}.v) <> 'null' AND {inner})",
                    elements(&exact_array),
                    elements(&folded_array)
                )
            }
        }
    }

    /// A bound JSON path for `keys` (SQLite: `$."a"."b"`; PostgreSQL: a text[] literal).
    fn path(&mut self, keys: &[String]) -> String {
        let path = json_path(self.dialect, keys);
        self.bind(SqlBind::Text(path))
    }

    /// The JSON value at a bound path of a JSON expression (SQL NULL when missing).
    fn json_at(&self, json: &str, path: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("({json} -> {path})"),
            Dialect::Postgres => format!("({json} #> CAST({path} AS text[]))"),
        }
    }

    /// The JSON operand of a predicate, from the document or the folded document.
    fn json_operand(&mut self, keys: &[String], scope: &Scope, folded: bool) -> Json {
        let base = match scope {
            Scope::Element { exact, exact_type, folded: folded_element } => {
                if keys.is_empty() {
                    let value = if folded { folded_element.clone() } else { exact.clone() };
                    return match self.dialect {
                        // In json_each, `value` is the SQL value of a scalar and `type` its
                        // JSON type; the folded row has the same type.
                        Dialect::Sqlite => Json { value, ty: exact_type.clone() },
                        Dialect::Postgres => Json { ty: format!("jsonb_typeof({value})"), value },
                    };
                }
                if folded { folded_element.clone() } else { exact.clone() }
            }
            _ => (if folded { "r.doc_folded" } else { "r.doc" }).to_owned(),
        };
        let path = self.path(keys);
        match (self.dialect, scope) {
            (Dialect::Sqlite, Scope::Element { exact_type, .. }) => {
                // Only an object element has sub-attributes (and only its `value` parses
                // as JSON text).
                Json {
                    value: format!("CASE {exact_type} WHEN 'object' THEN json_extract({base}, {path}) END"),
                    ty: format!("CASE {exact_type} WHEN 'object' THEN json_type({base}, {path}) END"),
                }
            }
            (Dialect::Sqlite, _) => {
                Json { value: format!("json_extract({base}, {path})"), ty: format!("json_type({base}, {path})") }
            }
            (Dialect::Postgres, _) => {
                let json = format!("({base} #> CAST({path} AS text[]))");
                Json { ty: format!("jsonb_typeof({json})"), value: json }
            }
        }
    }

    fn predicate(&mut self, predicate: &Predicate, scope: &Scope) -> String {
        let folded = matches!(&predicate.test, Test::Compare { value: BindValue::Text(_), case_exact: false, .. });
        match (&predicate.operand, scope) {
            (Operand::Column(name), _) => {
                let Some(column) = self.target.column(name) else {
                    return "FALSE".to_owned();
                };
                self.column_test(column.expr, column.folded, column.kind, &predicate.test)
            }
            (Operand::Element(keys), Scope::Side(side)) => {
                let column = match keys.as_slice() {
                    // A row is an element with a non-empty `value`: present.
                    [] if predicate.test == Test::Present => return "TRUE".to_owned(),
                    [sub] => side.sub_attributes.iter().find(|(name, ..)| name == sub),
                    _ => None,
                };
                match column {
                    Some((_, column, folded)) => self.column_test(column, *folded, ColumnKind::Text, &predicate.test),
                    None => "FALSE".to_owned(),
                }
            }
            (Operand::Json(keys), Scope::Root) if keys.len() <= 2 && keys.first().is_some_and(|k| k == "meta") => {
                // `meta` is not in the document: every resource has one, and the planner
                // reads its columns only at the root, not inside `meta[…]`.
                match (self.target.column_at(keys), &predicate.test) {
                    (Some(column), test) => self.column_test(column.expr, column.folded, column.kind, test),
                    (None, Test::Present) if keys.len() == 1 => "TRUE".to_owned(),
                    (None, _) => "FALSE".to_owned(),
                }
            }
            (Operand::Json(keys) | Operand::Element(keys), _) => {
                let operand = self.json_operand(keys, scope, folded);
                self.json_test(&operand, &predicate.test)
            }
        }
    }

    fn column_test(&mut self, expr: &str, folded: Option<&str>, kind: ColumnKind, test: &Test) -> String {
        match test {
            Test::Present if kind == ColumnKind::DateTime => format!("{expr} IS NOT NULL"),
            Test::Present => format!("{expr} IS NOT NULL AND {expr} <> ''"),
            Test::Compare { op, value, case_exact } => match (kind, value) {
                (ColumnKind::Text, BindValue::Text(text)) => {
                    let (expr, text) = match (case_exact, folded) {
                        (false, Some(folded)) => (folded.to_owned(), text.to_lowercase()),
                        (false, None) => (format!("lower({expr})"), text.to_lowercase()),
                        (true, _) => (expr.to_owned(), text.clone()),
                    };
                    let bound = self.bind(SqlBind::Text(text));
                    // `x IS NOT NULL AND …` is FALSE, never NULL, for a missing value.
                    format!("{expr} IS NOT NULL AND {}", self.text_compare(&expr, *op, &bound))
                }
                (ColumnKind::DateTime, BindValue::DateTime(at)) => {
                    let bound = self.bind(SqlBind::DateTime(*at));
                    let compare = ordering(expr, *op, &bound);
                    match (self.dialect, op) {
                        // "Changed since" (an IdP's delta read) asks for a recent window. The
                        // bundled SQLite plans a statement once, without the bound value
                        // (QPSG, `.cargo/config.toml`), and would otherwise bet that walking
                        // the directory in id order finds a page soon enough; the hint tells
                        // it the window is narrow, so it reads the window from its index.
                        (Dialect::Sqlite, CompareOp::Gt | CompareOp::Ge) => {
                            format!("{expr} IS NOT NULL AND likelihood({compare}, 0.001)")
                        }
                        _ => format!("{expr} IS NOT NULL AND {compare}"),
                    }
                }
                // A column compared with a value of another type matches nothing.
                _ => "FALSE".to_owned(),
            },
        }
    }

    fn text_compare(&self, value: &str, op: CompareOp, bound: &str) -> String {
        match (self.dialect, op) {
            (Dialect::Sqlite, CompareOp::Co) => format!("instr({value}, {bound}) > 0"),
            (Dialect::Sqlite, CompareOp::Sw) => format!("substr({value}, 1, length({bound})) = {bound}"),
            (Dialect::Sqlite, CompareOp::Ew) => format!(
                "length({value}) >= length({bound}) AND substr({value}, length({value}) - length({bound}) + 1) = {bound}"
            ),
            (Dialect::Postgres, CompareOp::Co) => format!("strpos({value}, {bound}) > 0"),
            (Dialect::Postgres, CompareOp::Sw) => format!("left({value}, length({bound})) = {bound}"),
            (Dialect::Postgres, CompareOp::Ew) => format!("right({value}, length({bound})) = {bound}"),
            (Dialect::Sqlite, _) | (Dialect::Postgres, CompareOp::Eq | CompareOp::Ne) => ordering(value, op, bound),
            // Code-point order, whatever the database's default collation.
            (Dialect::Postgres, _) => ordering(&format!("({value}) COLLATE \"C\""), op, bound),
        }
    }

    fn json_test(&mut self, json: &Json, test: &Test) -> String {
        let Json { value, ty } = json;
        match (self.dialect, test) {
            (Dialect::Sqlite, Test::Present) => format!(
                "CASE {ty} WHEN 'null' THEN FALSE WHEN 'text' THEN {value} <> '' \
                 WHEN 'array' THEN EXISTS (SELECT 1 FROM json_tree({value}) t WHERE t.type NOT IN ('null', 'array', 'object') AND (t.type <> 'text' OR t.atom <> '')) \
                 WHEN 'object' THEN EXISTS (SELECT 1 FROM json_tree({value}) t WHERE t.type NOT IN ('null', 'array', 'object') AND (t.type <> 'text' OR t.atom <> '')) \
                 ELSE {ty} IS NOT NULL END"
            ),
            (Dialect::Postgres, Test::Present) => format!(
                "CASE {ty} WHEN 'null' THEN FALSE WHEN 'string' THEN ({value} #>> '{{}}') <> '' \
                 WHEN 'array' THEN jsonb_path_exists({value}, 'strict $.** ? (@.type() != \"null\" && @.type() != \"array\" && @.type() != \"object\" && (@.type() != \"string\" || @ != \"\"))') \
                 WHEN 'object' THEN jsonb_path_exists({value}, 'strict $.** ? (@.type() != \"null\" && @.type() != \"array\" && @.type() != \"object\" && (@.type() != \"string\" || @ != \"\"))') \
                 ELSE {ty} IS NOT NULL END"
            ),
            (dialect, Test::Compare { op, value: bind, case_exact }) => match bind {
                BindValue::Text(text) => {
                    let text = if *case_exact { text.clone() } else { text.to_lowercase() };
                    let bound = self.bind(SqlBind::Text(text));
                    let (string, as_text) = match dialect {
                        Dialect::Sqlite => ("'text'", value.clone()),
                        Dialect::Postgres => ("'string'", format!("({value} #>> '{{}}')")),
                    };
                    format!("{ty} = {string} AND {}", self.text_compare(&as_text, *op, &bound))
                }
                BindValue::Integer(number) => {
                    let bound = self.bind(SqlBind::Integer(*number));
                    match dialect {
                        Dialect::Sqlite => format!("{ty} IN ('integer', 'real') AND {}", ordering(value, *op, &bound)),
                        Dialect::Postgres => format!(
                            "{ty} = 'number' AND {}",
                            ordering(
                                &format!("CASE WHEN {ty} = 'number' THEN CAST({value} #>> '{{}}' AS numeric) END"),
                                *op,
                                &bound
                            )
                        ),
                    }
                }
                BindValue::Decimal(number) => {
                    let bound = self.bind(SqlBind::Real(*number));
                    match dialect {
                        // As doubles, as `eval` compares decimals: SQLite compares an
                        // integer with a real exactly (2^53 + 1 > 2^53 as a real).
                        Dialect::Sqlite => format!(
                            "{ty} IN ('integer', 'real') AND {}",
                            ordering(&format!("CAST({value} AS REAL)"), *op, &bound)
                        ),
                        Dialect::Postgres => format!(
                            "{ty} = 'number' AND {}",
                            ordering(
                                &format!(
                                    "CASE WHEN {ty} = 'number' THEN CAST({value} #>> '{{}}' AS double precision) END"
                                ),
                                *op,
                                &bound
                            )
                        ),
                    }
                }
                BindValue::Boolean(flag) => {
                    let number = i64::from(*flag);
                    let bound = self.bind(SqlBind::Integer(number));
                    let as_number = match dialect {
                        Dialect::Sqlite => format!("CASE {ty} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END"),
                        Dialect::Postgres => {
                            format!(
                                "CASE WHEN {ty} = 'boolean' THEN CAST(({value} #>> '{{}}') = 'true' AS integer) END"
                            )
                        }
                    };
                    ordering(&format!("({as_number})"), *op, &bound)
                }
                BindValue::DateTime(at) => {
                    let text = at.to_rfc3339_opts(SecondsFormat::AutoSi, true);
                    let bound = self.bind(SqlBind::Text(text));
                    // Only a stored string shaped like an RFC 3339 date-time compares (as
                    // `eval` parses it): a value stored before its attribute became a
                    // dateTime must not make PostgreSQL's cast fail the whole query, nor
                    // SQLite read `2021-03-04` as a date-time.
                    match dialect {
                        Dialect::Sqlite => format!(
                            "{ty} = 'text' AND {value} GLOB '{RFC3339_GLOB}' \
                             AND ({value} GLOB '*[Zz]' OR {value} GLOB '*[+-][0-9][0-9]:[0-9][0-9]') AND {}",
                            ordering(
                                // SQLite reads `T` and `Z` in upper case only.
                                &format!("unixepoch(upper({value}), 'subsec')"),
                                *op,
                                &format!("unixepoch({bound}, 'subsec')")
                            )
                        ),
                        Dialect::Postgres => format!(
                            "{ty} = 'string' AND {}",
                            ordering(
                                &format!(
                                    "CASE WHEN {ty} = 'string' AND ({value} #>> '{{}}') ~ '{RFC3339_REGEX}' \
                                     THEN CAST({value} #>> '{{}}' AS timestamptz) END"
                                ),
                                *op,
                                &format!("CAST({bound} AS timestamptz)")
                            )
                        ),
                    }
                }
            },
        }
    }
}

/// The shape of an RFC 3339 date-time as `chrono` parses it, with every field in a range
/// PostgreSQL's cast accepts (it fails the query on anything else). Not caught: an
/// impossible day such as 30 February, which still fails the cast.
const RFC3339_REGEX: &str = "^([1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])\
     [Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?([Zz]|[+-](0[0-9]|1[0-5]):[0-5][0-9])$";
/// The start of an RFC 3339 date-time (SQLite has no regular expressions; `unixepoch`
/// checks the fields).
const RFC3339_GLOB: &str = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9][Tt ][0-9][0-9]:[0-9][0-9]:[0-9][0-9]*";

/// The text of a JSON path for `keys`, to bind as a parameter: `$."name"."familyName"` on
/// SQLite, a text[] literal `{"name","familyName"}` on PostgreSQL. A numeric key indexes an
/// array (`$."emails"[0]`; PostgreSQL reads numeric text[] elements as indexes); attribute
/// names never are numbers, since they start with a letter.
pub(crate) fn json_path(dialect: Dialect, keys: &[String]) -> String {
    let quoted = |key: &String| format!("\"{}\"", key.replace('\\', "\\\\").replace('"', "\\\""));
    match dialect {
        Dialect::Sqlite => keys.iter().fold(String::from("$"), |mut path, key| {
            match key.parse::<usize>() {
                Ok(index) => path.push_str(&format!("[{index}]")),
                Err(_) => path.push_str(&format!(".{}", quoted(key))),
            }
            path
        }),
        Dialect::Postgres => format!("{{{}}}", keys.iter().map(quoted).collect::<Vec<_>>().join(",")),
    }
}

/// The lower-cased value of an equality test on an element's `value`, alone or in an `and`.
fn equality_on_value(element: &Plan) -> Option<String> {
    match element {
        Plan::Predicate(Predicate {
            operand: Operand::Element(keys),
            test: Test::Compare { op: CompareOp::Eq, value: BindValue::Text(value), .. },
        }) if keys.len() == 1 && keys[0] == "value" => Some(value.to_lowercase()),
        Plan::And(children) => children.iter().find_map(equality_on_value),
        _ => None,
    }
}

/// The compared text when `element` is one case-insensitive equality on the element's
/// `value` and nothing else: what the lookup table (migration 0007) answers by itself.
fn folded_value_equality(element: &Plan) -> Option<&str> {
    match element {
        Plan::Predicate(Predicate {
            operand: Operand::Element(keys),
            test: Test::Compare { op: CompareOp::Eq, value: BindValue::Text(text), case_exact: false },
        }) if keys.len() == 1 && keys[0] == "value" => Some(text),
        _ => None,
    }
}

/// The plan of a `meta[…]` element with its operands read at the root (`meta.created`…).
fn within_meta(plan: &Plan) -> Plan {
    match plan {
        Plan::And(children) => Plan::And(children.iter().map(within_meta).collect()),
        Plan::Or(children) => Plan::Or(children.iter().map(within_meta).collect()),
        Plan::Not(inner) => Plan::Not(Box::new(within_meta(inner))),
        Plan::Predicate(Predicate { operand: Operand::Element(keys), test }) => Plan::Predicate(Predicate {
            operand: Operand::Json(std::iter::once("meta".to_owned()).chain(keys.iter().cloned()).collect()),
            test: test.clone(),
        }),
        other => other.clone(),
    }
}

/// `value <op> bound` for the ordering operators.
fn ordering(value: &str, op: CompareOp, bound: &str) -> String {
    let operator = match op {
        CompareOp::Eq => "=",
        CompareOp::Ne => "<>",
        CompareOp::Gt => ">",
        CompareOp::Ge => ">=",
        CompareOp::Lt => "<",
        CompareOp::Le => "<=",
        // Substring operators on non-text values match nothing (as in the evaluator).
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => return "FALSE".to_owned(),
    };
    format!("{value} {operator} {bound}")
}

/// Binds one parameter onto a query, on either backend.
pub(crate) fn bind_query_as<'q, DB, O>(
    query: sqlx::query::QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments<'q>>,
    bind: &SqlBind,
) -> sqlx::query::QueryAs<'q, DB, O, <DB as sqlx::Database>::Arguments<'q>>
where
    DB: sqlx::Database,
    String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    f64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DateTime<Utc>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    match bind.clone() {
        SqlBind::Text(text) => query.bind(text),
        SqlBind::Integer(number) => query.bind(number),
        SqlBind::Real(number) => query.bind(number),
        SqlBind::DateTime(at) => query.bind(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emails(element: Plan) -> Plan {
        Plan::Any { array: vec!["emails".to_owned()], element: Box::new(element) }
    }

    fn on_element(key: &str, text: &str, case_exact: bool) -> Plan {
        Plan::Predicate(Predicate {
            operand: Operand::Element(vec![key.to_owned()]),
            test: Test::Compare { op: CompareOp::Eq, value: BindValue::Text(text.to_owned()), case_exact },
        })
    }

    /// `emails[value eq "x"]` is answered by the lookup table alone; anything more about the
    /// element (its type, a case-exact test) still reads the document.
    #[test]
    fn an_email_equality_alone_reads_the_lookup_table_only() {
        for dialect in [Dialect::Sqlite, Dialect::Postgres] {
            let alone = render(&emails(on_element("value", "Ada@Example.com", false)), &USER_TARGET, dialect, 4);
            assert!(alone.sql.contains("scim_resource_values"), "{}", alone.sql);
            assert!(!alone.sql.contains("json") && !alone.sql.contains("EXISTS"), "{}", alone.sql);
            assert_eq!(alone.binds, [SqlBind::Text("ada@example.com".to_owned())]);

            let with_type =
                Plan::And(vec![on_element("value", "ada@example.com", false), on_element("type", "work", false)]);
            let with_type = render(&emails(with_type), &USER_TARGET, dialect, 4);
            assert!(
                with_type.sql.contains("scim_resource_values") && with_type.sql.contains("EXISTS"),
                "{}",
                with_type.sql
            );

            let case_exact = render(&emails(on_element("value", "Ada@Example.com", true)), &USER_TARGET, dialect, 4);
            assert!(case_exact.sql.contains("EXISTS"), "{}", case_exact.sql);
        }
    }
}
