//! The service provider configuration of RFC 7643 §5 (served at `/ServiceProviderConfig`,
//! RFC 7644 §4). `/Schemas` and `/ResourceTypes` come from the registry
//! ([`crate::schema::SchemaDef::to_json`], [`crate::schema::ResourceTypeDef::to_json`]).

use serde_json::{Value, json};

/// One authentication scheme (RFC 7643 §5 `authenticationSchemes`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticationScheme {
    /// `type`, e.g. `oauthbearertoken`.
    pub kind: String,
    /// `name`.
    pub name: String,
    /// `description`.
    pub description: String,
    /// Whether this is the primary scheme.
    pub primary: bool,
}

/// The features and limits a directory advertises (RFC 7643 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceProviderConfig {
    /// PATCH supported.
    pub patch: bool,
    /// Bulk supported.
    pub bulk: bool,
    /// Bulk `maxOperations`.
    pub bulk_max_operations: u32,
    /// Bulk `maxPayloadSize` in bytes.
    pub bulk_max_payload_size: u64,
    /// Filtering supported.
    pub filter: bool,
    /// Filter `maxResults`.
    pub filter_max_results: u32,
    /// Password change supported.
    pub change_password: bool,
    /// Sorting supported.
    pub sort: bool,
    /// ETags supported.
    pub etag: bool,
    /// The authentication schemes.
    pub authentication_schemes: Vec<AuthenticationScheme>,
    /// `documentationUri`, if any.
    pub documentation_uri: Option<String>,
}

impl ServiceProviderConfig {
    /// The RFC 7643 §5 JSON representation, with `meta.location` at `location`.
    pub fn to_json(&self, location: &str) -> Value {
        let mut body = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": self.patch},
            "bulk": {
                "supported": self.bulk,
                "maxOperations": self.bulk_max_operations,
                "maxPayloadSize": self.bulk_max_payload_size,
            },
            "filter": {"supported": self.filter, "maxResults": self.filter_max_results},
            "changePassword": {"supported": self.change_password},
            "sort": {"supported": self.sort},
            "etag": {"supported": self.etag},
            "authenticationSchemes": self.authentication_schemes.iter().map(|a| json!({
                "type": a.kind,
                "name": a.name,
                "description": a.description,
                "primary": a.primary,
            })).collect::<Vec<_>>(),
            "meta": {"resourceType": "ServiceProviderConfig", "location": location},
        });
        if let (Some(uri), Some(obj)) = (&self.documentation_uri, body.as_object_mut()) {
            obj.insert("documentationUri".to_owned(), json!(uri));
        }
        body
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_provider_config_reports_limits_as_given() {
        let spc = ServiceProviderConfig {
            patch: true,
            bulk: true,
            bulk_max_operations: 1000,
            bulk_max_payload_size: 1_048_576,
            filter: true,
            filter_max_results: 200,
            change_password: false,
            sort: true,
            etag: true,
            authentication_schemes: vec![AuthenticationScheme {
                kind: "oauthbearertoken".into(),
                name: "OAuth Bearer Token".into(),
                description: "Authentication scheme using the OAuth Bearer Token Standard".into(),
                primary: true,
            }],
            documentation_uri: None,
        };
        let json = spc.to_json("/v2/ServiceProviderConfig");
        assert_eq!(json["bulk"]["maxOperations"], 1000);
        assert_eq!(json["bulk"]["maxPayloadSize"], 1_048_576);
        assert_eq!(json["filter"]["maxResults"], 200);
        assert_eq!(json["changePassword"]["supported"], false);
        assert_eq!(json["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert_eq!(json.get("documentationUri"), None);
    }
}
