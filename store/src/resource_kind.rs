//! The kinds of SCIM resource the store keeps. Its own module because both the resources
//! and the filter translation (`filter_sql`, which lays out each kind's table) need it.

use crate::StoreError;

/// Which kind of SCIM resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    User,
    Group,
    /// An AI agent (draft-abbey-scim-agent-extension-00 §3), at `/Agents`.
    Agent,
    /// An application hosting agents (same draft, §4), at `/AgenticApplications`.
    AgenticApplication,
}

impl ResourceKind {
    /// Every kind, in the order listings and discovery name them.
    pub const ALL: [ResourceKind; 4] =
        [ResourceKind::User, ResourceKind::Group, ResourceKind::Agent, ResourceKind::AgenticApplication];

    /// The SCIM resource type name, also stored in `resource_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceKind::User => "User",
            ResourceKind::Group => "Group",
            ResourceKind::Agent => "Agent",
            ResourceKind::AgenticApplication => "AgenticApplication",
        }
    }

    /// The last segment of the resource type's endpoint (`Users` for `/Users`).
    pub fn endpoint(self) -> &'static str {
        match self {
            ResourceKind::User => "Users",
            ResourceKind::Group => "Groups",
            ResourceKind::Agent => "Agents",
            ResourceKind::AgenticApplication => "AgenticApplications",
        }
    }

    /// The kind served at endpoint `segment` (`Users`, ignoring case, as Bulk paths and
    /// audit records name them).
    pub fn from_endpoint(segment: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.endpoint().eq_ignore_ascii_case(segment))
    }

    /// The attribute the store keeps as the resource's `name` (unique for every kind but
    /// groups): `userName`, `displayName`, or an agent's or application's `name`.
    pub fn name_attribute(self) -> &'static str {
        match self {
            ResourceKind::User => "userName",
            ResourceKind::Group => "displayName",
            ResourceKind::Agent | ResourceKind::AgenticApplication => "name",
        }
    }

    /// Whether the kind has an `active` attribute whose changes are de- and reactivations.
    pub fn has_active(self) -> bool {
        self != ResourceKind::Group
    }

    /// Whether the kind is one of the draft's agentic types, served only where the
    /// directory offers non-human identities.
    pub fn is_agentic(self) -> bool {
        matches!(self, ResourceKind::Agent | ResourceKind::AgenticApplication)
    }

    pub(crate) fn parse(text: &str) -> Result<Self, StoreError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown resource type {text:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::ResourceKind;

    #[test]
    fn every_kind_reads_back_from_its_stored_name_and_its_endpoint() {
        for kind in ResourceKind::ALL {
            assert_eq!(ResourceKind::parse(kind.as_str()).ok(), Some(kind));
            assert_eq!(ResourceKind::from_endpoint(&kind.endpoint().to_lowercase()), Some(kind));
        }
        assert!(ResourceKind::parse("Directory").is_err());
        assert_eq!(ResourceKind::from_endpoint("Agent"), None);
    }
}
