//! Stored users and groups as records, for readers that shape them themselves (the
//! Directory Sync API) instead of serving SCIM representations.

use std::collections::HashMap;

use store::{GroupRef, ListSpec, PageSpec, ResourceKind, ResourceRecord};

use super::{Endpoint, ProvisioningError};

/// One keyset page of records.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPage {
    pub records: Vec<ResourceRecord>,
    /// All records matching the filter, on every page.
    pub total: i64,
}

impl Endpoint {
    /// At most `take` of `kind`'s records that match `filter` (SCIM filter syntax, checked
    /// against the directory's schemas) and lie beyond the id `from` in id order
    /// (descending with `descending`).
    pub async fn records(
        &self,
        kind: ResourceKind,
        filter: Option<&str>,
        from: Option<String>,
        descending: bool,
        take: i64,
    ) -> Result<RecordPage, ProvisioningError> {
        let plan = self.filter_plan(kind, filter)?;
        let page = PageSpec::Keyset { from, descending, take };
        let spec = ListSpec { filter: plan.as_ref(), sort: None, page, hide_self_test: self.hide_self_test };
        let listed = self.data().list(kind, &spec).await?;
        Ok(RecordPage { records: listed.records, total: listed.total })
    }

    /// One record by id.
    pub async fn record(&self, kind: ResourceKind, id: &str) -> Result<Option<ResourceRecord>, ProvisioningError> {
        if self.hidden(id) {
            return Ok(None);
        }
        Ok(self.data().resource(kind, id).await?)
    }

    /// The members of each of `groups`.
    pub async fn members_of_groups(
        &self,
        groups: &[String],
    ) -> Result<HashMap<String, Vec<store::Member>>, ProvisioningError> {
        Ok(self.data().members_of(groups).await?)
    }

    /// The groups each of `users` is a member of, ordered by id.
    pub async fn groups_of_users(&self, users: &[String]) -> Result<HashMap<String, Vec<GroupRef>>, ProvisioningError> {
        Ok(self.data().groups_of(users).await?)
    }
}
