//! A client of the Admin SDK Directory API (read-only): an access token from the service
//! account's assertion, then `users.list`, `groups.list` and `members.list`, page by page
//! (`pageToken` / `nextPageToken`), as Google documents them. Rate limits (429, and 403
//! with a rate-limit reason) and server errors (500, 502, 503, 504) are retried with
//! exponential backoff, honouring `Retry-After`; anything else ends the run with what
//! Google said, in words an admin can act on.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::credentials::{KeyError, ServiceAccountKey};

/// Where the connector sends its requests. Google's own addresses in a deployment; a test
/// points both at a stand-in. Deliberately not taken from the key file (`token_uri`): a key
/// file is pasted by a customer, and the server must not post to an address a customer
/// chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleEndpoints {
    /// `https://oauth2.googleapis.com/token`
    pub token_url: String,
    /// `https://admin.googleapis.com`
    pub api_base: String,
}

impl Default for GoogleEndpoints {
    fn default() -> Self {
        Self {
            token_url: "https://oauth2.googleapis.com/token".to_owned(),
            api_base: "https://admin.googleapis.com".to_owned(),
        }
    }
}

/// How hard the client tries before a request counts as failed.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// The first wait; each retry waits twice the one before (or `Retry-After`).
    pub first_wait: Duration,
    /// No single wait is longer.
    pub longest_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self { attempts: 6, first_wait: Duration::from_secs(1), longest_wait: Duration::from_secs(32) }
    }
}

/// Why talking to Google failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GoogleError {
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The token endpoint refused the assertion (wrong admin, delegation not granted, key
    /// revoked): `error` and `error_description` as Google sent them.
    #[error("Google refused the service account's sign-in ({status}): {error}{}", description_suffix(.description))]
    SignInRefused { status: u16, error: String, description: String },
    /// The Directory API refused a request (403 not authorised, 404 unknown customer, …).
    #[error("Google's Directory API answered {status} to {what}: {message}{}", reason_suffix(.reason))]
    Refused { what: String, status: u16, reason: String, message: String },
    /// Still rate-limited or failing after every retry.
    #[error("Google's Directory API kept answering {status} to {what} after {attempts} attempts: {message}")]
    GaveUp { what: String, status: u16, attempts: u32, message: String },
    /// No answer at all (connection refused, TLS, timeout).
    #[error("Google could not be reached for {what}: {message}")]
    Unreachable { what: String, message: String },
    /// An answer that is not what Google documents.
    #[error("Google's answer to {what} was not understood: {message}")]
    Malformed { what: String, message: String },
}

fn description_suffix(description: &str) -> String {
    if description.is_empty() { String::new() } else { format!(" ({description})") }
}

fn reason_suffix(reason: &str) -> String {
    if reason.is_empty() { String::new() } else { format!(" [{reason}]") }
}

/// A user as `users.list` with `projection=full` returns it (the fields the connector
/// maps; Google sends more).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleUser {
    pub id: String,
    pub primary_email: String,
    #[serde(default)]
    pub name: GoogleName,
    #[serde(default)]
    pub suspended: bool,
    #[serde(default)]
    pub archived: bool,
    #[serde(default)]
    pub emails: Vec<GoogleEmail>,
    #[serde(default)]
    pub organizations: Vec<GoogleOrganization>,
    #[serde(default)]
    pub phones: Vec<GoogleTyped>,
    #[serde(default)]
    pub external_ids: Vec<GoogleTyped>,
    #[serde(default)]
    pub org_unit_path: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleName {
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub full_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GoogleEmail {
    pub address: String,
    #[serde(default)]
    pub primary: bool,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GoogleOrganization {
    pub name: Option<String>,
    pub title: Option<String>,
    pub department: Option<String>,
    pub cost_center: Option<String>,
    #[serde(default)]
    pub primary: bool,
}

/// A phone number or external id: a value and its type.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GoogleTyped {
    pub value: String,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

/// A group as `groups.list` returns it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GoogleGroup {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub description: Option<String>,
}

/// A member as `members.list` returns it: a user, a group (nested), or a whole customer
/// or an external address (neither of which is a member the directory can hold).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GoogleMember {
    pub id: Option<String>,
    pub email: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
}

/// Everything the Directory API lists for one customer, read to the last page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GoogleDirectory {
    pub users: Vec<GoogleUser>,
    pub groups: Vec<(GoogleGroup, Vec<GoogleMember>)>,
    /// Requests sent (every page and retry).
    pub requests: u32,
}

/// A signed-in client of one customer's directory.
pub struct DirectoryApi {
    http: reqwest::Client,
    endpoints: GoogleEndpoints,
    retry: RetryPolicy,
    access_token: String,
    customer: String,
    requests: u32,
}

impl std::fmt::Debug for DirectoryApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the access token.
        f.debug_struct("DirectoryApi")
            .field("endpoints", &self.endpoints)
            .field("customer", &self.customer)
            .finish_non_exhaustive()
    }
}

/// `users.list` pages at most 500; `groups.list` and `members.list` at most 200.
const USERS_PAGE: u32 = 500;
const GROUPS_PAGE: u32 = 200;

impl DirectoryApi {
    /// Exchanges the key's assertion (acting as `admin_email`) for an access token.
    pub async fn sign_in(
        http: reqwest::Client,
        endpoints: GoogleEndpoints,
        retry: RetryPolicy,
        key: &ServiceAccountKey,
        admin_email: &str,
        customer: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, GoogleError> {
        let assertion = key.assertion(admin_email, &endpoints.token_url, now)?;
        let what = "the access token request".to_owned();
        let form = [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion.as_str())];
        let response = http
            .post(&endpoints.token_url)
            .form(&form)
            .send()
            .await
            .map_err(|error| GoogleError::Unreachable { what: what.clone(), message: error.to_string() })?;
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if status != 200 {
            let text = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default().to_owned();
            let error = if text("error").is_empty() { format!("HTTP {status}") } else { text("error") };
            return Err(GoogleError::SignInRefused { status, error, description: text("error_description") });
        }
        let access_token = body
            .get("access_token")
            .and_then(Value::as_str)
            .ok_or_else(|| GoogleError::Malformed { what, message: "no access_token".to_owned() })?
            .to_owned();
        let customer = if customer.trim().is_empty() { "my_customer".to_owned() } else { customer.trim().to_owned() };
        Ok(Self { http, endpoints, retry, access_token, customer, requests: 1 })
    }

    /// Every user, group and group membership, read to the last page of each.
    pub async fn read_directory(mut self) -> Result<GoogleDirectory, GoogleError> {
        let users: Vec<GoogleUser> = self
            .list_all(
                "users.list",
                "/admin/directory/v1/users",
                &[
                    ("customer", self.customer.clone()),
                    ("projection", "full".into()),
                    ("maxResults", USERS_PAGE.to_string()),
                ],
                "users",
            )
            .await?;
        let group_list: Vec<GoogleGroup> = self
            .list_all(
                "groups.list",
                "/admin/directory/v1/groups",
                &[("customer", self.customer.clone()), ("maxResults", GROUPS_PAGE.to_string())],
                "groups",
            )
            .await?;
        let mut groups = Vec::with_capacity(group_list.len());
        for group in group_list {
            let path = format!("/admin/directory/v1/groups/{}/members", urlencoding(&group.id));
            let what = format!("members.list of {}", group.email);
            let members = self.list_all(&what, &path, &[("maxResults", GROUPS_PAGE.to_string())], "members").await?;
            groups.push((group, members));
        }
        Ok(GoogleDirectory { users, groups, requests: self.requests })
    }

    /// Reads one page of users: what the wizard's connection test asks for.
    pub async fn first_users(&mut self, count: u32) -> Result<Vec<GoogleUser>, GoogleError> {
        let query = [("customer", self.customer.clone()), ("maxResults", count.clamp(1, USERS_PAGE).to_string())];
        let page = self.get_page("users.list", "/admin/directory/v1/users", &query, None).await?;
        items(&page, "users", "users.list")
    }

    /// All pages of a list, concatenated.
    async fn list_all<T: serde::de::DeserializeOwned>(
        &mut self,
        what: &str,
        path: &str,
        query: &[(&str, String)],
        key: &str,
    ) -> Result<Vec<T>, GoogleError> {
        let mut all = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let page = self.get_page(what, path, query, page_token.as_deref()).await?;
            all.extend(items::<T>(&page, key, what)?);
            match page.get("nextPageToken").and_then(Value::as_str).filter(|token| !token.is_empty()) {
                Some(token) => page_token = Some(token.to_owned()),
                None => return Ok(all),
            }
        }
    }

    /// One GET, retried while Google says to slow down or is failing.
    async fn get_page(
        &mut self,
        what: &str,
        path: &str,
        query: &[(&str, String)],
        page_token: Option<&str>,
    ) -> Result<Value, GoogleError> {
        let url = format!("{}{path}", self.endpoints.api_base.trim_end_matches('/'));
        let mut wait = self.retry.first_wait;
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.requests += 1;
            let mut request = self.http.get(&url).bearer_auth(&self.access_token).query(query);
            if let Some(token) = page_token {
                request = request.query(&[("pageToken", token)]);
            }
            let response = request
                .send()
                .await
                .map_err(|error| GoogleError::Unreachable { what: what.to_owned(), message: error.to_string() })?;
            let status = response.status().as_u16();
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let body: Value = response.json().await.unwrap_or(Value::Null);
            if status == 200 {
                return Ok(body);
            }
            let (reason, message) = error_of(&body);
            let retryable = matches!(status, 429 | 500 | 502 | 503 | 504)
                || (status == 403 && RATE_LIMIT_REASONS.contains(&reason.as_str()));
            if !retryable {
                return Err(GoogleError::Refused { what: what.to_owned(), status, reason, message });
            }
            if attempt >= self.retry.attempts {
                return Err(GoogleError::GaveUp { what: what.to_owned(), status, attempts: attempt, message });
            }
            tokio::time::sleep(retry_after.unwrap_or(wait).min(self.retry.longest_wait)).await;
            wait = (wait * 2).min(self.retry.longest_wait);
        }
    }
}

/// The `reason`s of a 403 that mean "slow down", not "not allowed".
const RATE_LIMIT_REASONS: [&str; 3] = ["userRateLimitExceeded", "rateLimitExceeded", "quotaExceeded"];

/// `error.errors[0].reason` and `error.message` of Google's error body.
fn error_of(body: &Value) -> (String, String) {
    let error = &body["error"];
    let reason = error["errors"][0]["reason"].as_str().or_else(|| error["status"].as_str()).unwrap_or_default();
    let message = error["message"].as_str().unwrap_or("no message");
    (reason.to_owned(), message.to_owned())
}

/// The page's list under `key` (absent when empty, as Google omits it).
fn items<T: serde::de::DeserializeOwned>(page: &Value, key: &str, what: &str) -> Result<Vec<T>, GoogleError> {
    match page.get(key) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(list) => serde_json::from_value(list.clone())
            .map_err(|error| GoogleError::Malformed { what: what.to_owned(), message: error.to_string() }),
    }
}

/// A group id or email as a path segment.
fn urlencoding(segment: &str) -> String {
    segment
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'@' => (byte as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn google_error_bodies_name_the_reason_and_message() {
        let body = json!({"error": {"code": 403, "message": "Not Authorized to access this resource/api",
            "errors": [{"message": "Not Authorized to access this resource/api", "domain": "global", "reason": "forbidden"}]}});
        assert_eq!(error_of(&body), ("forbidden".to_owned(), "Not Authorized to access this resource/api".to_owned()));
        let bare = json!({"error": {"code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE"}});
        assert_eq!(error_of(&bare).0, "UNAVAILABLE");
        assert_eq!(error_of(&Value::Null), (String::new(), "no message".to_owned()));
    }

    #[test]
    fn an_empty_list_has_no_key_and_a_malformed_one_is_an_error() {
        let empty: Vec<GoogleMember> = items(&json!({"kind": "admin#directory#members"}), "members", "m").unwrap();
        assert!(empty.is_empty());
        let bad = items::<GoogleUser>(&json!({"users": [{"id": 1}]}), "users", "users.list");
        assert!(matches!(bad, Err(GoogleError::Malformed { .. })));
        assert_eq!(urlencoding("01abc/é"), "01abc%2F%C3%A9");
    }
}
