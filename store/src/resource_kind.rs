//! The kinds of SCIM resource the store keeps. Its own module because both the resources
//! and the filter translation (`filter_sql`, which lays out each kind's table) need it.

use crate::StoreError;

/// Which kind of SCIM resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    User,
    Group,
}

impl ResourceKind {
    /// The SCIM resource type name, also stored in `resource_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
        }
    }

    pub(crate) fn parse(text: &str) -> Result<Self, StoreError> {
        match text {
            "User" => Ok(ResourceKind::User),
            "Group" => Ok(ResourceKind::Group),
            other => Err(StoreError::Corrupt(format!("unknown resource type {other:?}"))),
        }
    }
}
