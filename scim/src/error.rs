//! The protocol error of the SCIM surface (RFC 7644 §3.12).
//!
//! One enum, [`ScimError`], whose variants are the `scimType` values of RFC 7644 §3.12
//! table 9 plus the status-only errors; [`ScimError::status`], [`ScimError::scim_type`] and
//! [`ScimError::to_body`] map each variant to the HTTP status, the `scimType` and the JSON
//! error body in this one place.

use serde_json::{Value, json};

/// The URN of the SCIM error message schema (RFC 7644 §3.12).
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// A SCIM protocol error: what a client is told, never internal detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScimError {
    /// 400 `invalidFilter`: the filter syntax was invalid or the filter is not supported.
    #[error("invalid filter: {0}")]
    InvalidFilter(String),
    /// 400 `tooMany`: the filter yields more results than the server will process.
    #[error("too many results: {0}")]
    TooMany(String),
    /// 409 `uniqueness`: a value conflicts with an existing resource.
    #[error("uniqueness conflict: {0}")]
    Uniqueness(String),
    /// 400 `mutability`: the request tried to change an immutable or read-only attribute.
    #[error("mutability violation: {0}")]
    Mutability(String),
    /// 400 `invalidSyntax`: the request body structure was invalid or did not conform to the schema.
    #[error("invalid syntax: {0}")]
    InvalidSyntax(String),
    /// 400 `invalidPath`: the PATCH `path` was invalid or not supported.
    #[error("invalid path: {0}")]
    InvalidPath(String),
    /// 400 `noTarget`: the PATCH `path` did not yield a target.
    #[error("no target: {0}")]
    NoTarget(String),
    /// 400 `invalidValue`: a required value was missing or a value was not compatible.
    #[error("invalid value: {0}")]
    InvalidValue(String),
    /// 400 `invalidVers`: the SCIM protocol version is not supported.
    #[error("invalid version: {0}")]
    InvalidVers(String),
    /// 403 `sensitive`: the request cannot be completed because of sensitive information in the URI.
    #[error("sensitive information in request: {0}")]
    Sensitive(String),
    /// 400 `invalidCursor` (RFC 9865 §2.2): the pagination cursor is malformed or unknown.
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
    /// 400 without `scimType`.
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 401: authentication required.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403: the operation is not permitted.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// 404: the resource or endpoint does not exist.
    #[error("not found: {0}")]
    NotFound(String),
    /// 409 without `scimType` (e.g. a version conflict that is not a uniqueness conflict).
    #[error("conflict: {0}")]
    Conflict(String),
    /// 412: the `If-Match` version did not match.
    #[error("precondition failed: {0}")]
    PreconditionFailed(String),
    /// 413: the request (e.g. a bulk request) exceeds the server's limits.
    #[error("payload too large: {0}")]
    PayloadTooLarge(String),
    /// 429: too many requests.
    #[error("too many requests: {0}")]
    TooManyRequests(String),
    /// 500: an internal error; the detail must not leak internals.
    #[error("internal error: {0}")]
    Internal(String),
    /// 501: the operation is not supported.
    #[error("not implemented: {0}")]
    NotImplemented(String),
}

impl ScimError {
    /// An `invalidFilter` error at byte `offset` of `filter`, with the parser's `message`.
    pub fn invalid_filter_at(message: &str, offset: usize, filter: &str) -> Self {
        Self::InvalidFilter(format!("{message} at column {}: {filter}", offset + 1))
    }

    /// The HTTP status code (RFC 7644 §3.12).
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidFilter(_)
            | Self::TooMany(_)
            | Self::Mutability(_)
            | Self::InvalidSyntax(_)
            | Self::InvalidPath(_)
            | Self::NoTarget(_)
            | Self::InvalidValue(_)
            | Self::InvalidVers(_)
            | Self::InvalidCursor(_)
            | Self::BadRequest(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::Sensitive(_) | Self::Forbidden(_) => 403,
            Self::NotFound(_) => 404,
            Self::Uniqueness(_) | Self::Conflict(_) => 409,
            Self::PreconditionFailed(_) => 412,
            Self::PayloadTooLarge(_) => 413,
            Self::TooManyRequests(_) => 429,
            Self::Internal(_) => 500,
            Self::NotImplemented(_) => 501,
        }
    }

    /// The `scimType` keyword of RFC 7644 §3.12 table 9, if the error has one.
    pub fn scim_type(&self) -> Option<&'static str> {
        match self {
            Self::InvalidFilter(_) => Some("invalidFilter"),
            Self::TooMany(_) => Some("tooMany"),
            Self::Uniqueness(_) => Some("uniqueness"),
            Self::Mutability(_) => Some("mutability"),
            Self::InvalidSyntax(_) => Some("invalidSyntax"),
            Self::InvalidPath(_) => Some("invalidPath"),
            Self::NoTarget(_) => Some("noTarget"),
            Self::InvalidValue(_) => Some("invalidValue"),
            Self::InvalidVers(_) => Some("invalidVers"),
            Self::Sensitive(_) => Some("sensitive"),
            Self::InvalidCursor(_) => Some("invalidCursor"),
            _ => None,
        }
    }

    /// The human-readable detail.
    pub fn detail(&self) -> &str {
        match self {
            Self::InvalidFilter(d)
            | Self::TooMany(d)
            | Self::Uniqueness(d)
            | Self::Mutability(d)
            | Self::InvalidSyntax(d)
            | Self::InvalidPath(d)
            | Self::NoTarget(d)
            | Self::InvalidValue(d)
            | Self::InvalidVers(d)
            | Self::Sensitive(d)
            | Self::InvalidCursor(d)
            | Self::BadRequest(d)
            | Self::Unauthorized(d)
            | Self::Forbidden(d)
            | Self::NotFound(d)
            | Self::Conflict(d)
            | Self::PreconditionFailed(d)
            | Self::PayloadTooLarge(d)
            | Self::TooManyRequests(d)
            | Self::Internal(d)
            | Self::NotImplemented(d) => d,
        }
    }

    /// The same error (status and `scimType` unchanged) with its detail rewritten by `f`:
    /// for adding context, such as which PATCH operation failed.
    pub fn map_detail(self, f: impl FnOnce(&str) -> String) -> Self {
        match self {
            Self::InvalidFilter(d) => Self::InvalidFilter(f(&d)),
            Self::TooMany(d) => Self::TooMany(f(&d)),
            Self::Uniqueness(d) => Self::Uniqueness(f(&d)),
            Self::Mutability(d) => Self::Mutability(f(&d)),
            Self::InvalidSyntax(d) => Self::InvalidSyntax(f(&d)),
            Self::InvalidPath(d) => Self::InvalidPath(f(&d)),
            Self::NoTarget(d) => Self::NoTarget(f(&d)),
            Self::InvalidValue(d) => Self::InvalidValue(f(&d)),
            Self::InvalidVers(d) => Self::InvalidVers(f(&d)),
            Self::Sensitive(d) => Self::Sensitive(f(&d)),
            Self::InvalidCursor(d) => Self::InvalidCursor(f(&d)),
            Self::BadRequest(d) => Self::BadRequest(f(&d)),
            Self::Unauthorized(d) => Self::Unauthorized(f(&d)),
            Self::Forbidden(d) => Self::Forbidden(f(&d)),
            Self::NotFound(d) => Self::NotFound(f(&d)),
            Self::Conflict(d) => Self::Conflict(f(&d)),
            Self::PreconditionFailed(d) => Self::PreconditionFailed(f(&d)),
            Self::PayloadTooLarge(d) => Self::PayloadTooLarge(f(&d)),
            Self::TooManyRequests(d) => Self::TooManyRequests(f(&d)),
            Self::Internal(d) => Self::Internal(f(&d)),
            Self::NotImplemented(d) => Self::NotImplemented(f(&d)),
        }
    }

    /// The SCIM error response body (RFC 7644 §3.12): `status` is a string.
    pub fn to_body(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status().to_string(),
            "detail": self.detail(),
        });
        if let (Some(t), Some(obj)) = (self.scim_type(), body.as_object_mut()) {
            obj.insert("scimType".to_owned(), Value::String(t.to_owned()));
        }
        body
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn table_9_maps_each_scim_type_to_its_status() {
        let d = || String::from("d");
        let cases = [
            (ScimError::InvalidFilter(d()), 400, "invalidFilter"),
            (ScimError::TooMany(d()), 400, "tooMany"),
            (ScimError::Uniqueness(d()), 409, "uniqueness"),
            (ScimError::Mutability(d()), 400, "mutability"),
            (ScimError::InvalidSyntax(d()), 400, "invalidSyntax"),
            (ScimError::InvalidPath(d()), 400, "invalidPath"),
            (ScimError::NoTarget(d()), 400, "noTarget"),
            (ScimError::InvalidValue(d()), 400, "invalidValue"),
            (ScimError::InvalidVers(d()), 400, "invalidVers"),
            (ScimError::Sensitive(d()), 403, "sensitive"),
        ];
        for (err, status, scim_type) in cases {
            assert_eq!(err.status(), status);
            assert_eq!(err.scim_type(), Some(scim_type));
        }
    }

    #[test]
    fn status_only_errors_have_no_scim_type() {
        let cases = [
            (ScimError::NotFound("x".into()), 404),
            (ScimError::PreconditionFailed("x".into()), 412),
            (ScimError::Conflict("x".into()), 409),
            (ScimError::PayloadTooLarge("x".into()), 413),
            (ScimError::NotImplemented("x".into()), 501),
            (ScimError::Unauthorized("x".into()), 401),
            (ScimError::Forbidden("x".into()), 403),
            (ScimError::TooManyRequests("x".into()), 429),
        ];
        for (err, status) in cases {
            assert_eq!(err.status(), status);
            assert_eq!(err.scim_type(), None);
            assert_eq!(err.to_body().get("scimType"), None);
        }
    }

    #[test]
    fn error_body_has_schema_string_status_scim_type_and_detail() {
        let body = ScimError::Uniqueness("userName taken".into()).to_body();
        assert_eq!(
            body,
            json!({
                "schemas": [ERROR_SCHEMA],
                "status": "409",
                "scimType": "uniqueness",
                "detail": "userName taken",
            })
        );
    }

    #[test]
    fn map_detail_keeps_the_scim_type_and_rewrites_the_detail() {
        let err = ScimError::NoTarget("no match".into()).map_detail(|d| format!("operation 2: {d}"));
        assert_eq!(err, ScimError::NoTarget("operation 2: no match".into()));
        assert_eq!(err.status(), 400);
    }

    #[test]
    fn invalid_filter_at_names_the_column() {
        let err = ScimError::invalid_filter_at("expected a comparison operator", 9, "userName eqq \"b\"");
        assert_eq!(err.detail(), "expected a comparison operator at column 10: userName eqq \"b\"");
        assert_eq!(err.scim_type(), Some("invalidFilter"));
    }
}
