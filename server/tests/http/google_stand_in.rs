//! A stand-in for Google's token endpoint and the Admin SDK Directory API, following
//! Google's documented shapes: the JWT-bearer grant (the assertion's RS256 signature
//! checked with the service account's public key, and its claims), `users.list`,
//! `groups.list` and `members.list` with `maxResults` / `pageToken` / `nextPageToken`,
//! an omitted list when empty, and Google's error bodies. A test scripts failures ahead
//! of a list (429 rate limits, 403 with a reason, 503) and changes the directory between
//! runs.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::signature::{RSA_PKCS1_2048_8192_SHA256, UnparsedPublicKey};
use serde_json::{Value, json};

/// The key file the tests connect with (the service crate's test key).
pub(crate) const KEY_FILE: &str = include_str!("../../../service/src/google/test_service_account.json");
const ACCESS_TOKEN: &str = "ya29.stand-in-access-token";

/// What the stand-in serves and what it was asked.
#[derive(Default)]
pub(crate) struct Directory {
    pub(crate) users: Vec<Value>,
    /// Each group with its members.
    pub(crate) groups: Vec<(Value, Vec<Value>)>,
    /// The admin the service account may act as.
    pub(crate) admin: String,
    /// Answers to send instead of the next requests to a list (`users`, `groups`,
    /// `members`), in order.
    pub(crate) failures: HashMap<&'static str, VecDeque<(u16, Value)>>,
    /// Every request: `POST /token`, `GET users pageToken=…`, …
    pub(crate) requests: Vec<String>,
}

pub(crate) struct StandIn {
    pub(crate) base: String,
    pub(crate) directory: Arc<Mutex<Directory>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Clone)]
struct Shared {
    directory: Arc<Mutex<Directory>>,
    public_key: Arc<Vec<u8>>,
    client_email: String,
    token_url: Arc<Mutex<String>>,
}

impl StandIn {
    pub(crate) async fn start(admin: &str) -> Self {
        let key = service::google::ServiceAccountKey::parse(KEY_FILE).unwrap();
        let directory = Arc::new(Mutex::new(Directory { admin: admin.to_owned(), ..Default::default() }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let shared = Shared {
            directory: Arc::clone(&directory),
            public_key: Arc::new(key.public_key_der()),
            client_email: key.client_email.clone(),
            token_url: Arc::new(Mutex::new(format!("{base}/token"))),
        };
        let app = Router::new()
            .route("/token", post(token))
            .route("/admin/directory/v1/users", get(users))
            .route("/admin/directory/v1/groups", get(groups))
            .route("/admin/directory/v1/groups/{key}/members", get(members))
            .with_state(shared);
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { base, directory, task }
    }

    /// The connector's options for this stand-in, with short retry waits.
    pub(crate) fn options(&self) -> service::google::GoogleOptions {
        service::google::GoogleOptions {
            endpoints: service::google::GoogleEndpoints {
                token_url: format!("{}/token", self.base),
                api_base: self.base.clone(),
            },
            retry: service::google::RetryPolicy {
                attempts: 4,
                first_wait: std::time::Duration::from_millis(10),
                longest_wait: std::time::Duration::from_millis(50),
            },
        }
    }

    pub(crate) fn with<T>(&self, change: impl FnOnce(&mut Directory) -> T) -> T {
        change(&mut self.directory.lock().unwrap())
    }
}

/// A Google user as `users.list` returns it.
pub(crate) fn user(id: &str, email: &str, given: &str, family: &str) -> Value {
    json!({
        "kind": "admin#directory#user", "id": id, "primaryEmail": email,
        "name": {"givenName": given, "familyName": family, "fullName": format!("{given} {family}")},
        "isAdmin": false, "suspended": false, "archived": false, "orgUnitPath": "/",
        "emails": [{"address": email, "primary": true}],
        "organizations": [{"title": "Engineer", "department": "R&D", "primary": true}]
    })
}

pub(crate) fn group(id: &str, email: &str, name: &str) -> Value {
    json!({"kind": "admin#directory#group", "id": id, "email": email, "name": name, "description": "", "adminCreated": true})
}

pub(crate) fn member(id: &str, email: &str, kind: &str) -> Value {
    json!({"kind": "admin#directory#member", "id": id, "email": email, "role": "MEMBER", "type": kind, "status": "ACTIVE"})
}

fn google_error(status: u16, reason: &str, message: &str) -> Response {
    let body = json!({"error": {"code": status, "message": message,
        "errors": [{"message": message, "domain": "global", "reason": reason}]}});
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

async fn token(State(shared): State<Shared>, body: String) -> Response {
    let form: HashMap<String, String> = serde_urlencoded::from_str(&body).unwrap_or_default();
    shared.directory.lock().unwrap().requests.push("POST /token".to_owned());
    let refuse = |status: u16, error: &str, description: &str| {
        (StatusCode::from_u16(status).unwrap(), axum::Json(json!({"error": error, "error_description": description})))
            .into_response()
    };
    if form.get("grant_type").map(String::as_str) != Some("urn:ietf:params:oauth:grant-type:jwt-bearer") {
        return refuse(400, "unsupported_grant_type", "Invalid grant_type");
    }
    let assertion = form.get("assertion").cloned().unwrap_or_default();
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else { return refuse(400, "invalid_grant", "Invalid JWT") };
    let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, shared.public_key.as_slice());
    let signed = format!("{header}.{claims}");
    let signature = URL_SAFE_NO_PAD.decode(signature).unwrap_or_default();
    if public.verify(signed.as_bytes(), &signature).is_err() {
        return refuse(400, "invalid_grant", "Invalid JWT Signature.");
    }
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).unwrap_or_default()).unwrap_or_default();
    let token_url = shared.token_url.lock().unwrap().clone();
    let scopes: Vec<&str> = claims["scope"].as_str().unwrap_or_default().split(' ').collect();
    let wanted = service::google::SCOPES;
    if claims["iss"] != shared.client_email.as_str() || claims["aud"] != token_url.as_str() {
        return refuse(400, "invalid_grant", "Invalid JWT: iss or aud");
    }
    if claims["exp"].as_i64().unwrap_or(0) - claims["iat"].as_i64().unwrap_or(0) > 3600 {
        return refuse(400, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes)");
    }
    let admin = shared.directory.lock().unwrap().admin.clone();
    if claims["sub"] != admin.as_str() || !wanted.iter().all(|scope| scopes.contains(scope)) {
        return refuse(
            401,
            "unauthorized_client",
            "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
        );
    }
    axum::Json(json!({"access_token": ACCESS_TOKEN, "expires_in": 3599, "token_type": "Bearer"})).into_response()
}

/// One page of `items` under `key`, as Google pages them.
fn page(kind: &str, key: &str, items: &[Value], query: &HashMap<String, String>, most: usize) -> Response {
    let size = query.get("maxResults").and_then(|n| n.parse::<usize>().ok()).unwrap_or(most).clamp(1, most);
    let start = query.get("pageToken").and_then(|t| t.strip_prefix("page-")).and_then(|n| n.parse().ok()).unwrap_or(0);
    let slice: Vec<Value> = items.iter().skip(start).take(size).cloned().collect();
    let mut body = json!({"kind": kind, "etag": "\"stand-in\""});
    if !slice.is_empty() {
        body[key] = Value::Array(slice);
    }
    if start + size < items.len() {
        body["nextPageToken"] = json!(format!("page-{}", start + size));
    }
    axum::Json(body).into_response()
}

/// The bearer check and a scripted failure, if one is queued for `list`.
fn gate(shared: &Shared, headers: &HeaderMap, list: &'static str, query: &HashMap<String, String>) -> Option<Response> {
    let mut directory = shared.directory.lock().unwrap();
    let token = query.get("pageToken").cloned().unwrap_or_default();
    directory.requests.push(format!("GET {list} {token}"));
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if bearer != format!("Bearer {ACCESS_TOKEN}") {
        return Some(google_error(401, "authError", "Invalid Credentials"));
    }
    let (status, body) = directory.failures.get_mut(list).and_then(VecDeque::pop_front)?;
    Some((StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response())
}

async fn users(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = gate(&shared, &headers, "users", &query) {
        return refused;
    }
    if query.get("customer").map(String::as_str) != Some("my_customer") {
        return google_error(400, "invalid", "Invalid Input");
    }
    let users = shared.directory.lock().unwrap().users.clone();
    page("admin#directory#users", "users", &users, &query, 500)
}

async fn groups(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = gate(&shared, &headers, "groups", &query) {
        return refused;
    }
    let groups: Vec<Value> = shared.directory.lock().unwrap().groups.iter().map(|(group, _)| group.clone()).collect();
    page("admin#directory#groups", "groups", &groups, &query, 200)
}

async fn members(
    State(shared): State<Shared>,
    Path(key): Path<String>,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if let Some(refused) = gate(&shared, &headers, "members", &query) {
        return refused;
    }
    let found = shared.directory.lock().unwrap().groups.iter().find(|(group, _)| group["id"] == key.as_str()).cloned();
    match found {
        Some((_, members)) => page("admin#directory#members", "members", &members, &query, 200),
        None => google_error(404, "notFound", "Resource Not Found: groupKey"),
    }
}

/// Google's answer to too many requests.
pub(crate) fn rate_limited() -> (u16, Value) {
    (
        429,
        json!({"error": {"code": 429, "message": "Rate Limit Exceeded", "errors": [{"message": "Rate Limit Exceeded", "domain": "usageLimits", "reason": "rateLimitExceeded"}]}}),
    )
}

pub(crate) fn backend_error() -> (u16, Value) {
    (
        503,
        json!({"error": {"code": 503, "message": "The service is currently unavailable.", "errors": [{"message": "The service is currently unavailable.", "domain": "global", "reason": "backendError"}]}}),
    )
}

pub(crate) fn not_authorized() -> (u16, Value) {
    (
        403,
        json!({"error": {"code": 403, "message": "Not Authorized to access this resource/api", "errors": [{"message": "Not Authorized to access this resource/api", "domain": "global", "reason": "forbidden"}]}}),
    )
}
