//! Server processes as they run in a deployment: two on one database (optimistic
//! concurrency must pick exactly one winner, and a directory's changes must stay numbered
//! in commit order, whichever process commits them; the deployment's event feed read
//! through either lists each change once, in one order), and one killed in the middle of a
//! burst of writes (what it acknowledged must survive, whole).

use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use service::directories::TokenRequest;
use store::testing::TestDatabase;
use store::{IdentityProvider, backend_tests};

/// A `server` process on its own port, killed when dropped.
struct Process {
    child: Child,
    base: String,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn spawn(db: &TestDatabase) -> Process {
    spawn_with(db, &[]).await
}

async fn spawn_with(db: &TestDatabase, env: &[(&str, &str)]) -> Process {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = crate::server_binary()
        .envs(env.iter().copied())
        .env("DATABASE_URL", db.url.as_str())
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let process = Process { child, base: format!("http://127.0.0.1:{port}") };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client.get(format!("{}/readyz", process.base)).send().await.is_ok_and(|r| r.status() == 200) {
            return process;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server process did not become ready");
}

/// Tenant `acme` with an Okta directory and a token for it. The first operator exists
/// already, so no server process bootstraps one.
async fn okta_directory_with_token(db: &TestDatabase) -> (store::Tenant, store::Directory, String) {
    let email = service::operators::OperatorEmail::parse("ops@vendor.example").unwrap();
    let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 25, 9, 0, 0).unwrap();
    service::operators::bootstrap_first_operator(
        &db.store,
        &email,
        "a long enough password".into(),
        &service::Effects::stopped_at(now),
    )
    .await
    .unwrap();
    let request = TokenRequest { label: "t".into(), read_only: false, expires_at: None };
    let (tenant, directory, token) = crate::provisioned(db, "acme", IdentityProvider::Okta, request, now).await;
    (tenant, directory, token.secret)
}

backend_tests!(
    two_processes_agree_on_one_winner_and_one_order,
    two_processes_share_the_writes_and_both_feeds_list_each_change_once,
    two_processes_never_deliver_one_event_at_once,
    metrics_on_a_listener_of_their_own_count_the_background_jobs,
    requests_are_exported_as_traces_to_an_otlp_collector,
    trace_settings_the_server_cannot_honour_stop_it_at_start,
    a_killed_server_keeps_every_acknowledged_write_and_no_partial_bulk_request
);

/// `METRICS_LISTEN=<address>`: `/metrics` is served there and not on the public listener,
/// and counts the runs of the process's background jobs (the republisher runs every second,
/// the operator's webhook deliveries too).
async fn metrics_on_a_listener_of_their_own_count_the_background_jobs(db: TestDatabase) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let metrics_url = format!("http://127.0.0.1:{port}/metrics");
    let process = spawn_with(&db, &[("METRICS_LISTEN", &format!("127.0.0.1:{port}"))]).await;
    let client = reqwest::Client::new();
    let public = client.get(format!("{}/metrics", process.base)).send().await.unwrap();
    assert_eq!(public.status(), 404);

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let text = client.get(&metrics_url).send().await.unwrap().text().await.unwrap();
        let counted = |job: &str| text.contains(&format!(r#"background_job_runs_total{{job="{job}",outcome="ok"}}"#));
        if counted("republisher") && counted("operator_webhooks") {
            assert!(text.contains(r#"background_job_last_success_timestamp_seconds{job="republisher"}"#), "{text}");
            assert!(!text.contains(r#"outcome="failed""#), "{text}");
            break;
        }
        assert!(Instant::now() < deadline, "the jobs' runs were not counted:\n{text}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What a stand-in OTLP/HTTP collector received on `/v1/traces`: each request's content
/// type and body.
type Exports = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

async fn start_collector() -> (String, Exports) {
    use axum::routing::post;
    let exports: Exports = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route(
            "/v1/traces",
            post(
                |axum::extract::State(exports): axum::extract::State<Exports>,
                 headers: axum::http::HeaderMap,
                 body: axum::body::Bytes| async move {
                    let kind = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                    exports.lock().unwrap().push((kind, body.to_vec()));
                    axum::http::StatusCode::OK
                },
            ),
        )
        .with_state(Arc::clone(&exports));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, exports)
}

/// With `OTEL_EXPORTER_OTLP_ENDPOINT` set, each request's span reaches the collector as an
/// OTLP trace (HTTP, protobuf): named `request`, carrying the method and the address (a
/// secret in a filter redacted), under the service name `scim-portal`, and continuing the
/// trace a caller named in `traceparent`.
async fn requests_are_exported_as_traces_to_an_otlp_collector(db: TestDatabase) {
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::any_value::Value as Any;
    use prost::Message as _;

    let (_tenant, directory, token) = okta_directory_with_token(&db).await;
    let (collector, exports) = start_collector().await;
    let process =
        spawn_with(&db, &[("OTEL_EXPORTER_OTLP_ENDPOINT", collector.as_str()), ("OTEL_BSP_SCHEDULE_DELAY", "100")])
            .await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let url = format!("{}/scim/v2/{}/Users?filter=password%20eq%20%22hunter2%22", process.base, directory.id);
    let answer = reqwest::Client::new()
        .get(&url)
        .bearer_auth(&token)
        .header("traceparent", format!("00-{trace_id}-{caller_span}-01"))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_client_error() || answer.status().is_success(), "{}", answer.status());

    let deadline = Instant::now() + Duration::from_secs(15);
    let span = loop {
        let received = exports.lock().unwrap().clone();
        let found = received.iter().find_map(|(kind, body)| {
            assert_eq!(kind, "application/x-protobuf");
            assert!(!String::from_utf8_lossy(body).contains("hunter2"), "a filter's secret was exported");
            let request = ExportTraceServiceRequest::decode(body.as_slice()).unwrap();
            request.resource_spans.into_iter().find_map(|resource| {
                let service = resource
                    .resource
                    .as_ref()
                    .and_then(|r| r.attributes.iter().find(|a| a.key == "service.name").and_then(|a| a.value.clone()));
                assert_eq!(service.and_then(|v| v.value), Some(Any::StringValue("scim-portal".into())));
                resource.scope_spans.into_iter().flat_map(|scope| scope.spans).find(|span| {
                    span.name == "request"
                        && span.attributes.iter().any(|a| {
                            a.key == "uri"
                                && matches!(&a.value.as_ref().and_then(|v| v.value.clone()),
                                    Some(Any::StringValue(uri)) if uri.contains("/Users?filter="))
                        })
                })
            })
        });
        if let Some(span) = found {
            break span;
        }
        assert!(Instant::now() < deadline, "no request span was exported ({} exports)", received.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    assert_eq!(hex(&span.trace_id), trace_id);
    assert_eq!(hex(&span.parent_span_id), caller_span);
    let uri = span.attributes.iter().find(|a| a.key == "uri").and_then(|a| a.value.clone()).and_then(|v| v.value);
    let Some(Any::StringValue(uri)) = uri else { panic!("no uri") };
    assert!(uri.contains("%5Bredacted%5D") || uri.contains("[redacted]"), "{uri}");
}

/// Asked for a protocol it does not speak, the server refuses to start (and says why)
/// rather than run without the traces the operator expects.
async fn trace_settings_the_server_cannot_honour_stop_it_at_start(db: TestDatabase) {
    let output = crate::server_binary()
        .env("DATABASE_URL", db.url.as_str())
        .env("BIND_ADDR", "127.0.0.1:0")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("http/protobuf only"), "{said}");
}

/// A deployment grown to two processes behind a load balancer: the identity provider's
/// creates are spread over both, and the vendor's product reads the deployment's feed
/// (`GET /events`) through either. Both feeds list every creation exactly once, in the same
/// order, and nothing else.
async fn two_processes_share_the_writes_and_both_feeds_list_each_change_once(db: TestDatabase) {
    const USERS: usize = 60;
    let (_tenant, directory, token) = okta_directory_with_token(&db).await;
    let key = crate::operator_api::api_key(&db).await;
    let (first, second) = (spawn(&db).await, spawn(&db).await);
    let bases = [first.base.clone(), second.base.clone()];
    let client = reqwest::Client::new();

    let creates: Vec<_> = (0..USERS)
        .map(|n| {
            let (client, token) = (client.clone(), token.clone());
            let url = format!("{}/scim/v2/{}/Users", bases[n % 2], directory.id);
            tokio::spawn(async move {
                let external = format!("ext-{n}");
                let body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": format!("user{n}"), "externalId": external});
                let (status, created) = scim_post(&client, &url, &token, &body).await.unwrap();
                assert_eq!(status, 201, "{created}");
                external
            })
        })
        .collect();
    let mut created = HashSet::new();
    for create in creates {
        created.insert(create.await.unwrap());
    }
    assert_eq!(created.len(), USERS);

    // On PostgreSQL an event is listed once every older transaction has ended: read the
    // whole feed until all are there (or the deadline); a duplicate or a stranger makes it
    // longer, which the assertions below catch.
    let feed = |base: String| {
        let (client, key) = (client.clone(), key.clone());
        async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            let first = format!("{base}/events?events=dsync.user.created&limit=100");
            loop {
                let mut ids = Vec::new();
                let mut url = first.clone();
                loop {
                    let page: Value = client.get(&url).bearer_auth(&key).send().await.unwrap().json().await.unwrap();
                    let data = page["data"].as_array().unwrap();
                    ids.extend(data.iter().map(|event| event["data"]["idp_id"].as_str().unwrap().to_owned()));
                    match page["list_metadata"]["after"].as_str() {
                        Some(after) if !data.is_empty() => {
                            url = format!("{first}&after={after}");
                        }
                        _ => break,
                    }
                }
                if ids.len() >= USERS || Instant::now() > deadline {
                    return ids;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let through_first = feed(first.base.clone()).await;
    let through_second = feed(second.base.clone()).await;
    assert_eq!(through_first.len(), USERS, "each creation once: {through_first:?}");
    assert_eq!(through_first.iter().collect::<HashSet<_>>(), created.iter().collect::<HashSet<_>>());
    assert_eq!(through_first, through_second, "one order, whichever process is asked");
}

async fn two_processes_agree_on_one_winner_and_one_order(db: TestDatabase) {
    let (tenant, directory, token) = okta_directory_with_token(&db).await;
    let (first, second) = (spawn(&db).await, spawn(&db).await);
    let bases =
        [format!("{}/scim/v2/{}", first.base, directory.id), format!("{}/scim/v2/{}", second.base, directory.id)];
    let client = reqwest::Client::new();

    let created: Value = client
        .post(format!("{}/Users", bases[0]))
        .bearer_auth(&token)
        .header("content-type", "application/scim+json")
        .body(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bjensen"}).to_string())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let etag = created["meta"]["version"].as_str().unwrap().to_owned();

    // Twenty writers with the same If-Match, half on each process: exactly one wins.
    let patch = |n: usize, if_match: Option<String>, label: &'static str| {
        let (client, url, token) = (client.clone(), format!("{}/Users/{id}", bases[n % 2]), token.clone());
        async move {
            let mut request =
                client.patch(url).bearer_auth(token).header("content-type", "application/scim+json").body(
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "path": "title", "value": format!("{label} {n}")}]})
                    .to_string(),
                );
            if let Some(tag) = if_match {
                request = request.header("if-match", tag);
            }
            request.send().await.unwrap().status().as_u16()
        }
    };
    let racers: Vec<_> = (0..20).map(|n| tokio::spawn(patch(n, Some(etag.clone()), "racer"))).collect();
    let mut statuses = Vec::new();
    for racer in racers {
        statuses.push(racer.await.unwrap());
    }
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 200 || *s == 412), "{statuses:?}");

    // Forty unconditional writers on both processes: all succeed, and the changes are
    // numbered 1, 2, 3… with versions rising in that order.
    let writers: Vec<_> = (0..40).map(|n| tokio::spawn(patch(n, None, "writer"))).collect();
    for writer in writers {
        assert_eq!(writer.await.unwrap(), 200);
    }
    let changes = db.store.tenant(tenant.id).directory_data(directory.id).changes_after(0, 1000).await.unwrap();
    assert_eq!(changes.len(), 1 + 1 + 40, "one create, one conditional winner, forty updates");
    assert!(changes.iter().zip(1..).all(|(change, seq)| change.seq == seq), "gapless and in order");
    let versions: Vec<i64> = changes
        .iter()
        .map(|c| c.data["meta"]["version"].as_str().unwrap().trim_matches('"').parse().unwrap())
        .collect();
    assert!(versions.windows(2).all(|pair| pair[0] < pair[1]), "{versions:?}");
}

/// Two server processes with one webhook endpoint: each event reaches it exactly once, and
/// never while another delivery of the same event is in flight (the endpoint's lease).
async fn two_processes_never_deliver_one_event_at_once(db: TestDatabase) {
    let (tenant, directory, token) = okta_directory_with_token(&db).await;
    #[derive(Default)]
    struct Seen {
        in_flight: Mutex<HashSet<String>>,
        overlaps: AtomicUsize,
        deliveries: Mutex<Vec<String>>,
    }
    let seen = Arc::new(Seen::default());
    let url = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let seen = Arc::clone(&seen);
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap| async move {
                let id = headers["scim-event-id"].to_str().unwrap().to_owned();
                if !seen.in_flight.lock().unwrap().insert(id.clone()) {
                    seen.overlaps.fetch_add(1, Ordering::SeqCst);
                }
                // Slow enough that two deliverers would overlap.
                tokio::time::sleep(Duration::from_millis(30)).await;
                seen.in_flight.lock().unwrap().remove(&id);
                seen.deliveries.lock().unwrap().push(id);
                axum::http::StatusCode::NO_CONTENT
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        url
    };
    let options = service::webhooks::WebhookOptions { allow_private_targets: true, ..Default::default() };
    service::webhooks::register_webhook(
        &db.store,
        tenant.id,
        &url,
        &options,
        &service::Actor::Cli,
        &service::Effects::system(),
    )
    .await
    .unwrap();
    let env = [("WEBHOOKS_ALLOW_INTERNAL_TARGETS", "true")];
    let (first, second) = (spawn_with(&db, &env).await, spawn_with(&db, &env).await);
    let client = reqwest::Client::new();
    for n in 0..40 {
        let base = if n % 2 == 0 { &first.base } else { &second.base };
        let body = json!({"schemas": [USER_SCHEMA], "userName": format!("user{n}")});
        let (status, _) =
            scim_post(&client, &format!("{base}/scim/v2/{}/Users", directory.id), &token, &body).await.unwrap();
        assert_eq!(status, 201);
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.deliveries.lock().unwrap().len() < 40 {
        assert!(Instant::now() < deadline, "{} of 40 events delivered", seen.deliveries.lock().unwrap().len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Long enough for a second process's duplicate to show.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(seen.overlaps.load(Ordering::SeqCst), 0, "an event was delivered by two processes at once");
    let deliveries = seen.deliveries.lock().unwrap().clone();
    let distinct: HashSet<&String> = deliveries.iter().collect();
    assert_eq!((deliveries.len(), distinct.len()), (40, 40), "each event exactly once");
}

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// Operations per Bulk request of the fault test: enough that a request takes a while.
const BULK_SIZE: usize = 250;

/// What the clients of the killed server were told: the users whose creation was answered
/// 201, and the Bulk requests answered 200.
#[derive(Default)]
struct Acknowledged {
    users: Mutex<Vec<(String, String)>>,
    bulks: Mutex<Vec<usize>>,
    /// When the Bulk request in flight was sent, and how long an answered one took.
    bulk_sent: Mutex<Option<Instant>>,
    bulk_took: Mutex<Option<Duration>>,
    writes: AtomicUsize,
}

async fn a_killed_server_keeps_every_acknowledged_write_and_no_partial_bulk_request(db: TestDatabase) {
    let (tenant, directory, token) = okta_directory_with_token(&db).await;
    let mut server = spawn(&db).await;
    let base = format!("{}/scim/v2/{}", server.base, directory.id);
    let client = reqwest::Client::new();
    let acknowledged = Arc::new(Acknowledged::default());
    let stopped = Arc::new(AtomicBool::new(false));

    // Three clients create users one after the other (each created user is then patched),
    // a fourth sends Bulk requests that create BULK_SIZE users each; none stops until the
    // server is gone.
    let mut clients = Vec::new();
    for writer in 0..3 {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        let (acknowledged, stopped) = (Arc::clone(&acknowledged), Arc::clone(&stopped));
        clients.push(tokio::spawn(async move {
            for n in 0.. {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                let name = format!("burst-{writer}-{n}");
                let body = json!({"schemas": [USER_SCHEMA], "userName": name, "title": "created"});
                let Ok(response) = scim_post(&client, &format!("{base}/Users"), &token, &body).await else { break };
                assert_eq!(response.0, 201, "{}", response.1);
                let id = response.1["id"].as_str().unwrap().to_owned();
                acknowledged.users.lock().unwrap().push((id.clone(), name));
                acknowledged.writes.fetch_add(1, Ordering::Relaxed);
                let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "title", "value": "patched"}]});
                let sent = client
                    .patch(format!("{base}/Users/{id}"))
                    .bearer_auth(&token)
                    .header("content-type", "application/scim+json")
                    .body(patch.to_string())
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status() == 200 => {
                        acknowledged.writes.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(response) => panic!("PATCH answered {}", response.status()),
                    Err(_) => break,
                }
            }
        }));
    }
    {
        let (client, base, token) = (client.clone(), base.clone(), token.clone());
        let (acknowledged, stopped) = (Arc::clone(&acknowledged), Arc::clone(&stopped));
        clients.push(tokio::spawn(async move {
            for bulk in 0.. {
                if stopped.load(Ordering::Relaxed) {
                    break;
                }
                let operations: Vec<Value> = (0..BULK_SIZE)
                    .map(|n| {
                        json!({"method": "POST", "path": "/Users", "bulkId": format!("u{n}"),
                            "data": {"schemas": [USER_SCHEMA], "userName": format!("bulk-{bulk}-{n}")}})
                    })
                    .collect();
                let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                    "Operations": operations});
                let sent = Instant::now();
                *acknowledged.bulk_sent.lock().unwrap() = Some(sent);
                let Ok(response) = scim_post(&client, &format!("{base}/Bulk"), &token, &body).await else { break };
                assert_eq!(response.0, 200, "{}", response.1);
                let statuses: HashSet<&str> = response.1["Operations"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o["status"].as_str().unwrap())
                    .collect();
                assert_eq!(statuses, HashSet::from(["201"]));
                *acknowledged.bulk_took.lock().unwrap() = Some(sent.elapsed());
                acknowledged.bulks.lock().unwrap().push(bulk);
            }
        }));
    }

    // Kill once the burst is well under way, half-way through a Bulk request (by how long
    // an answered one took), so that the kill lands while its operations are being written.
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        assert!(Instant::now() < deadline, "the burst did not get under way");
        if let Some(ended) = clients.iter().position(|client| client.is_finished()) {
            // A client stopped while the server was up: its panic says why.
            clients.swap_remove(ended).await.unwrap();
            panic!("client {ended} stopped before the kill");
        }
        let took = *acknowledged.bulk_took.lock().unwrap();
        let in_flight = acknowledged.bulk_sent.lock().unwrap().map(|sent| sent.elapsed());
        if let (Some(took), Some(in_flight)) = (took, in_flight)
            && acknowledged.writes.load(Ordering::Relaxed) >= 40
            && in_flight >= took / 2
            && in_flight < took
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    server.child.kill().unwrap(); // SIGKILL: no shutdown, no flushing
    server.child.wait().unwrap();
    stopped.store(true, Ordering::Relaxed);
    for client in clients {
        client.await.unwrap();
    }
    drop(server);

    let server = spawn(&db).await;
    let base = format!("{}/scim/v2/{}", server.base, directory.id);
    let users = acknowledged.users.lock().unwrap().clone();
    let bulks = acknowledged.bulks.lock().unwrap().clone();
    assert!(
        users.len() >= 10 && !bulks.is_empty(),
        "{} users, {} bulk requests acknowledged",
        users.len(),
        bulks.len()
    );

    // Storage: every acknowledged user is there (through the restarted server).
    for (id, name) in &users {
        let (status, body) = scim_get(&client, &format!("{base}/Users/{id}"), &token).await;
        assert_eq!((status, body["userName"].as_str()), (200, Some(name.as_str())), "{body}");
    }
    // Each Bulk request is there whole or not at all, and whole when it was acknowledged.
    let data = db.store.tenant(tenant.id).directory_data(directory.id);
    let changes = data.changes_after(0, 1_000_000).await.unwrap();
    let mut created_per_bulk: BTreeMap<usize, usize> = BTreeMap::new();
    let mut created_users: HashSet<&str> = HashSet::new();
    for change in changes.iter().filter(|c| c.kind == "user.created") {
        created_users.insert(change.resource_id.as_str());
        let name = change.data["userName"].as_str().unwrap();
        if let Some(rest) = name.strip_prefix("bulk-") {
            *created_per_bulk.entry(rest.split('-').next().unwrap().parse().unwrap()).or_default() += 1;
        }
    }
    let highest_sent = created_per_bulk.keys().max().copied().unwrap_or(0).max(bulks.iter().max().copied().unwrap());
    for bulk in 0..=highest_sent {
        let (status, body) =
            scim_get(&client, &format!("{base}/Users?filter=userName%20sw%20%22bulk-{bulk}-%22&count=0"), &token).await;
        assert_eq!(status, 200, "{body}");
        let stored = body["totalResults"].as_u64().unwrap() as usize;
        let expected = if bulks.contains(&bulk) { vec![BULK_SIZE] } else { vec![0, BULK_SIZE] };
        assert!(expected.contains(&stored), "Bulk request {bulk}: {stored} of {BULK_SIZE} users stored");
        assert_eq!(created_per_bulk.get(&bulk).copied().unwrap_or(0), stored, "events of Bulk request {bulk}");
    }
    // The event feed has every acknowledged creation, and numbers the changes without a gap.
    for (id, _) in &users {
        assert!(created_users.contains(id.as_str()), "no user.created event for {id}");
    }
    assert!(changes.iter().zip(1..).all(|(change, seq)| change.seq == seq), "the change feed has a gap");
    // The audit trail has a record of every acknowledged write, and its chain is intact.
    let scope = db.store.tenant(tenant.id);
    let records = scope.audit_records(0, 1_000_000).await.unwrap();
    let recorded: HashSet<(&str, &str, i32)> = records
        .iter()
        .filter(|r| r.action == "scim.request")
        .filter_map(|r| Some((r.method.as_deref()?, r.resource_id.as_deref()?, r.status?)))
        .collect();
    for (id, _) in &users {
        assert!(recorded.contains(&("POST", id.as_str(), 201)), "no audit record of the creation of {id}");
    }
    let bulk_records: Vec<usize> = records
        .iter()
        .filter(|r| r.path.as_deref().is_some_and(|p| p.ends_with("/Bulk")) && r.status == Some(200))
        .map(|r| serde_json::from_str::<Value>(&r.detail).unwrap()["changes"].as_array().map_or(0, Vec::len))
        .collect();
    assert!(bulk_records.len() >= bulks.len(), "{} Bulk records for {} acknowledged", bulk_records.len(), bulks.len());
    assert!(bulk_records.iter().all(|changes| *changes == BULK_SIZE), "{bulk_records:?}");
    let report = scope.verify_audit_chain().await.unwrap();
    assert_eq!(report.first_break, None);
}

/// POSTs a SCIM body: the status and the JSON answer, or `Err` when the server is gone.
async fn scim_post(client: &reqwest::Client, url: &str, token: &str, body: &Value) -> Result<(u16, Value), ()> {
    let response = client
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/scim+json")
        .body(body.to_string())
        .send()
        .await
        .map_err(drop)?;
    let status = response.status().as_u16();
    let body = response.json().await.map_err(drop)?;
    Ok((status, body))
}

async fn scim_get(client: &reqwest::Client, url: &str, token: &str) -> (u16, Value) {
    let response = client.get(url).bearer_auth(token).send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}
