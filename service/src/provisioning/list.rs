//! Listing and searching users and groups (RFC 7644 §3.4.2, §3.4.3): the filter is checked
//! against the directory's schemas and pushed down to SQL through the protocol core's
//! query plan; sorting and paging (`startIndex`/`count`, and RFC 9865 cursors) happen in the
//! database too.

use scim::error::ScimError;
use scim::filter::check::{UnknownAttributes, check};
use scim::filter::plan::{Plan, plan};
use scim::filter::{Filter, ParseLimits};
use scim::path::AttrPath;
use scim::schema::AttrType;
use scim::sort::SortOrder;
use serde_json::{Value, json};
use store::{ListSpec, PageSpec, ResourceKind, SortField, SortKey};

use super::representation::Related;
use super::{DEFAULT_PAGE_SIZE, Endpoint, LIST_RESPONSE, ListQuery, MAX_PAGE_SIZE, ProvisioningError};

/// Filters longer or deeper than this are refused (`invalidFilter`): far beyond what any
/// identity provider sends, small enough that no filter makes an expensive query.
// Each comparison is a condition of the query, each value filter a subquery: bounded so
// that no filter costs the database more than a small query.
const FILTER_LIMITS: ParseLimits =
    ParseLimits { max_len: 4 * 1024, max_depth: 16, max_clauses: 50, max_value_paths: 5 };

impl Endpoint {
    /// `GET /Users`, `GET /Groups` and their `POST …/.search`.
    pub async fn list(&self, kind: ResourceKind, query: &ListQuery) -> Result<Value, ProvisioningError> {
        let plan = self.filter_plan(kind, query.filter.as_deref())?;
        let sort = self.sort_key(kind, query)?;
        let take = query.count.map_or(DEFAULT_PAGE_SIZE as i64, |count| count.clamp(0, MAX_PAGE_SIZE as i64));
        let start_index = query.start_index.unwrap_or(1).max(1);
        let page = match &query.cursor {
            None => PageSpec::Offset { skip: start_index - 1, take },
            Some(cursor) => {
                if query.start_index.is_some() || sort.is_some() {
                    return Err(ScimError::InvalidValue(
                        "cursor paging cannot be combined with startIndex or sortBy".to_owned(),
                    )
                    .into());
                }
                PageSpec::Keyset { from: decode_cursor(cursor)?, descending: false, take }
            }
        };
        let spec = ListSpec { filter: plan.as_ref(), sort, page: page.clone(), hide_self_test: self.hide_self_test };
        let (listed, related) = if kind == ResourceKind::User && self.keeps(kind, "groups", &query.projection) {
            // The page's users and their groups in one statement (the probes IdPs send).
            let (listed, groups) = self.data().list_users_with_groups(&spec).await?;
            (listed, Related { groups, ..Related::default() })
        } else {
            let listed = self.data().list(kind, &spec).await?;
            let related = self.related(kind, &listed.records, &query.projection).await?;
            (listed, related)
        };
        let last_id = listed.records.last().map(|last| last.id.clone());
        let resources: Vec<Value> =
            listed.records.into_iter().map(|record| self.render(record, &related, &query.projection)).collect();
        let mut response = json!({
            "schemas": [LIST_RESPONSE],
            "totalResults": listed.total,
            "itemsPerPage": resources.len(),
        });
        match page {
            PageSpec::Offset { .. } => {
                response["startIndex"] = json!(start_index);
            }
            PageSpec::Keyset { .. } => {
                // RFC 9865 §2.1: a next cursor only while more results may follow.
                if resources.len() as i64 == take
                    && take > 0
                    && let Some(last) = last_id
                {
                    response["nextCursor"] = json!(last);
                }
            }
        }
        response["Resources"] = Value::Array(resources);
        Ok(response)
    }

    /// `POST /.search` (RFC 7644 §3.4.3): users, then groups, that match the filter, paged
    /// as one list. A filter naming an attribute only one resource type has selects from
    /// that type only.
    pub async fn search_all(&self, query: &ListQuery) -> Result<Value, ProvisioningError> {
        if query.sort_by.is_some() || query.cursor.is_some() {
            return Err(ScimError::InvalidValue(
                "a search of all resource types pages by startIndex and count only; \
                 use /Users/.search or /Groups/.search to sort or to page by cursor"
                    .to_owned(),
            )
            .into());
        }
        let take = query.count.map_or(DEFAULT_PAGE_SIZE as i64, |count| count.clamp(0, MAX_PAGE_SIZE as i64));
        let start_index = query.start_index.unwrap_or(1).max(1);
        let mut skip = start_index - 1;
        let (mut total, mut resources, mut refused) = (0, Vec::new(), None);
        let kinds: Vec<ResourceKind> = self.offered_kinds().collect();
        for &kind in &kinds {
            let plan = match self.filter_plan(kind, query.filter.as_deref()) {
                Ok(plan) => plan,
                Err(error) => {
                    refused = Some(error);
                    continue;
                }
            };
            let page = PageSpec::Offset { skip, take: take - resources.len() as i64 };
            let spec = ListSpec { filter: plan.as_ref(), sort: None, page, hide_self_test: self.hide_self_test };
            let listed = self.data().list(kind, &spec).await?;
            total += listed.total;
            skip = (skip - listed.total).max(0);
            let related = self.related(kind, &listed.records, &query.projection).await?;
            resources.extend(listed.records.into_iter().map(|record| self.render(record, &related, &query.projection)));
        }
        if let Some(error) = refused.filter(|_| total == 0 && resources.is_empty()) {
            // No resource type could take the filter at all.
            let all_refused = kinds.iter().all(|kind| self.filter_plan(*kind, query.filter.as_deref()).is_err());
            if all_refused {
                return Err(error.into());
            }
        }
        Ok(json!({
            "schemas": [LIST_RESPONSE],
            "totalResults": total,
            "itemsPerPage": resources.len(),
            "startIndex": start_index,
            "Resources": resources,
        }))
    }

    /// A filter parsed, checked against `kind`'s schemas and planned for the store.
    pub(super) fn filter_plan(&self, kind: ResourceKind, filter: Option<&str>) -> Result<Option<Plan>, ScimError> {
        let Some(text) = filter.filter(|text| !text.trim().is_empty()) else {
            return Ok(None);
        };
        let filter = Filter::parse_with_limits(text, FILTER_LIMITS)?;
        let schema = self.registry().for_resource_type(kind.as_str());
        let checked = check(&filter, &schema, UnknownAttributes::Reject)?;
        Ok(Some(plan(&checked, store::indexed_columns(kind))))
    }

    /// The `sortBy`/`sortOrder` parameters as a store sort key.
    fn sort_key(&self, kind: ResourceKind, query: &ListQuery) -> Result<Option<SortKey>, ProvisioningError> {
        let descending = query.sort_order()? == SortOrder::Descending;
        let Some(sort_by) = query.sort_by.as_deref().filter(|s| !s.trim().is_empty()) else {
            return Ok(None);
        };
        let path = AttrPath::parse(sort_by.trim())
            .map_err(|e| ScimError::InvalidValue(format!("sortBy is not an attribute path: {e}")))?;
        let canonical = path.to_string().to_ascii_lowercase();
        let name_attribute = kind.name_attribute().to_ascii_lowercase();
        let column = match canonical.as_str() {
            "id" => Some(SortField::Id),
            "externalid" => Some(SortField::ExternalId),
            "meta.created" => Some(SortField::Created),
            "meta.lastmodified" => Some(SortField::LastModified),
            other if other == name_attribute.as_str() => Some(SortField::Name),
            _ => None,
        };
        if let Some(field) = column {
            return Ok(Some(SortKey { field, descending }));
        }
        let registry = self.registry();
        let unknown = || ScimError::InvalidValue(format!("sortBy names an unknown attribute: {sort_by}"));
        let top = AttrPath::new(path.uri(), path.name(), None).map_err(|_| unknown())?;
        let top_def = registry.resolve(kind.as_str(), &top).ok_or_else(unknown)?;
        let def = registry.resolve(kind.as_str(), &path).ok_or_else(unknown)?;
        if def.ty() == AttrType::Complex && path.sub_attr().is_none() && !top_def.multi_valued() {
            return Err(ScimError::InvalidValue(format!("sortBy must name a simple attribute: {sort_by}")).into());
        }
        let mut keys = Vec::new();
        if let Some(extension) = registry.extension_of(kind.as_str(), &top) {
            keys.push(extension.to_owned());
        }
        keys.push(top_def.name().to_owned());
        let case_exact = def.case_exact();
        let field = if top_def.multi_valued() {
            let element = match path.sub_attr() {
                Some(_) => vec![def.name().to_owned()],
                None if top_def.ty() == AttrType::Complex => vec!["value".to_owned()],
                None => Vec::new(),
            };
            SortField::MultiValued { array: keys, element, case_exact }
        } else {
            if path.sub_attr().is_some() {
                keys.push(def.name().to_owned());
            }
            SortField::Document { keys, case_exact }
        };
        Ok(Some(SortKey { field, descending }))
    }
}

/// A cursor is the id of the last resource of the previous page; `""` starts from the
/// beginning (RFC 9865 §2.1).
fn decode_cursor(cursor: &str) -> Result<Option<String>, ScimError> {
    if cursor.is_empty() {
        return Ok(None);
    }
    uuid::Uuid::parse_str(cursor)
        .map(|id| Some(id.to_string()))
        .map_err(|_| ScimError::InvalidCursor(format!("{cursor:?} is not a cursor this server issued")))
}
