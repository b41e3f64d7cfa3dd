//! The offboarding benchmark: users deactivated across many directories, each directory in
//! a tenant of its own with a webhook endpoint that confirms what it applied
//! (`{"applied": true}`), except one endpoint that refuses everything and one that answers
//! after 9.9 seconds. Reports, from the revocation records the server keeps, the time from
//! the SCIM request to the delivery and to the confirmation (the receipt), p50 and p99, for
//! the healthy tenants and for the two others.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

/// What the receivers do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Confirming,
    Refusing,
    Slow,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Confirming => "/ok",
            Endpoint::Refusing => "/refuse",
            Endpoint::Slow => "/slow",
        }
    }
}

/// The directories' safety brake during the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Brake {
    /// On, with a threshold the benchmark never crosses: every revocation is checked.
    Watching,
    Off,
}

impl Brake {
    fn settings(self) -> Value {
        match self {
            Brake::Watching => json!({ "enabled": true, "percent": 100, "minimum": 1_000_000 }),
            Brake::Off => json!({ "enabled": false, "percent": 10, "minimum": 25 }),
        }
    }
}

/// How much the benchmark does.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    pub(crate) directories: usize,
    pub(crate) users: usize,
    pub(crate) brake: Brake,
}

/// Receivers on a local port: `/ok` confirms, `/refuse` answers 500, `/slow` confirms after
/// 9.9 seconds. Their base URL.
async fn start_receivers() -> anyhow::Result<String> {
    use axum::http::StatusCode;
    use axum::routing::post;
    let confirm = || async { (StatusCode::OK, axum::Json(json!({ "applied": true }))) };
    let app = axum::Router::new()
        .route("/ok", post(confirm))
        .route("/refuse", post(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route(
            "/slow",
            post(move || async move {
                tokio::time::sleep(Duration::from_millis(9900)).await;
                (StatusCode::OK, axum::Json(json!({ "applied": true })))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(base)
}

struct Tenant {
    slug: String,
    scim: String,
    token: String,
    endpoint: Endpoint,
}

/// POSTs JSON to the operator API; the answer, or an error naming the URL and status.
pub(crate) async fn post(client: &reqwest::Client, key: &str, url: &str, body: &Value) -> anyhow::Result<Value> {
    send(client.post(url), key, url, body).await
}

async fn put(client: &reqwest::Client, key: &str, url: &str, body: &Value) -> anyhow::Result<Value> {
    send(client.put(url), key, url, body).await
}

async fn send(request: reqwest::RequestBuilder, key: &str, url: &str, body: &Value) -> anyhow::Result<Value> {
    let response = request.bearer_auth(key).json(body).send().await?;
    let status = response.status();
    let text = response.text().await?;
    if !status.is_success() {
        bail!("{url}: {status} {text}");
    }
    Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// Makes the tenants, directories, endpoints and users; deactivates every user; waits for
/// the confirmations; prints the figures.
pub(crate) async fn run(
    client: &reqwest::Client,
    key: &str,
    base: &str,
    scale: Scale,
    run: &str,
) -> anyhow::Result<()> {
    let Scale { directories, users, brake } = scale;
    let receivers = start_receivers().await?;
    let per_directory = users.div_ceil(directories.max(1));
    let run = &run[..run.len().min(8)];
    let mut tenants = Vec::new();
    for n in 0..directories {
        let slug = format!("off{n}-{run}");
        post(client, key, &format!("{base}/api/v1/tenants"), &json!({ "slug": slug, "display_name": slug })).await?;
        let created =
            post(client, key, &format!("{base}/api/v1/tenants/{slug}/directories"), &json!({ "idp": "okta" })).await?;
        let endpoint = match n {
            0 => Endpoint::Refusing,
            1 => Endpoint::Slow,
            _ => Endpoint::Confirming,
        };
        let id = created["directory"]["id"].as_str().context("no directory id")?;
        put(client, key, &format!("{base}/api/v1/tenants/{slug}/directories/{id}/safety-brake"), &brake.settings())
            .await?;
        let url = format!("{receivers}{}", endpoint.path());
        post(client, key, &format!("{base}/api/v1/tenants/{slug}/webhooks"), &json!({ "url": url })).await?;
        let scim = created["directory"]["scim_base_url"].as_str().context("no SCIM base URL")?.to_owned();
        let token = created["token"].as_str().context("no token")?.to_owned();
        tenants.push(Tenant { slug, scim, token, endpoint });
    }
    // Each directory's users, through as few Bulk requests as the service allows.
    let mut ids: Vec<(usize, String)> = Vec::new();
    let users: Vec<usize> = (0..per_directory).collect();
    for (n, tenant) in tenants.iter().enumerate() {
        let per_request = crate::bulk_limit::bulk_max_operations(client, &tenant.scim, &tenant.token).await?;
        for chunk in users.chunks(per_request) {
            let operations: Vec<Value> = chunk
                .iter()
                .map(|i| {
                    json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                        "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                            "userName": format!("leaver{i}@{}.example", tenant.slug), "active": true}})
                })
                .collect();
            let body =
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations});
            // As an identity provider does: a 503 or 429 (the server shedding load) is retried
            // after a pause; anything else that is not a success ends the run.
            let mut tries = 0;
            let response: Value = loop {
                let answer = client
                    .post(format!("{}/Bulk", tenant.scim))
                    .bearer_auth(&tenant.token)
                    .header("content-type", "application/scim+json")
                    .body(body.to_string())
                    .send()
                    .await?;
                let status = answer.status();
                let text = answer.text().await?;
                if status.is_success() {
                    break serde_json::from_str(&text)?;
                }
                tries += 1;
                let retryable = status == reqwest::StatusCode::SERVICE_UNAVAILABLE
                    || status == reqwest::StatusCode::TOO_MANY_REQUESTS;
                if !retryable || tries == 5 {
                    bail!("creating the users of {} failed: {status} {text}", tenant.slug);
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            };
            for result in response["Operations"].as_array().into_iter().flatten() {
                let id =
                    result["location"].as_str().and_then(|l| l.rsplit('/').next()).context("a Bulk create failed")?;
                ids.push((n, id.to_owned()));
            }
        }
    }
    // Deactivate them all, 8 requests in flight, interleaving the directories.
    ids.sort_by_key(|(n, id)| (id.clone(), *n));
    let tenants = Arc::new(tenants);
    let started = Instant::now();
    let queue = Arc::new(std::sync::Mutex::new(ids));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (client, tenants, queue) = (client.clone(), Arc::clone(&tenants), Arc::clone(&queue));
            tokio::spawn(async move {
                let mut failed = 0;
                while let Some((n, id)) = queue.lock().ok().and_then(|mut q| q.pop()) {
                    let tenant = &tenants[n];
                    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "path": "active", "value": false}]});
                    let sent = client
                        .patch(format!("{}/Users/{id}", tenant.scim))
                        .bearer_auth(&tenant.token)
                        .header("content-type", "application/scim+json")
                        .body(body.to_string())
                        .send()
                        .await;
                    if !sent.is_ok_and(|r| r.status().is_success()) {
                        failed += 1;
                    }
                }
                failed
            })
        })
        .collect();
    let mut failed = 0;
    for worker in workers {
        failed += worker.await.unwrap_or(0);
    }
    let deactivated = started.elapsed();
    println!(
        "Offboarding: {} deactivations across {} directories sent in {:.1} s ({failed} failed)",
        per_directory * tenants.len(),
        tenants.len(),
        deactivated.as_secs_f64()
    );

    // Wait until every healthy tenant's revocations are confirmed (at most 5 minutes).
    let read = |tenant: &Tenant| {
        let url = format!("{base}/api/v1/tenants/{}/revocations", tenant.slug);
        let (client, key) = (client.clone(), key.to_owned());
        async move {
            let rows: Vec<Value> = client.get(url).bearer_auth(key).send().await?.json().await?;
            anyhow::Ok(rows)
        }
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let mut pending = 0;
        let mut behind = Vec::new();
        for tenant in tenants.iter().filter(|t| t.endpoint == Endpoint::Confirming) {
            // A revocation not recorded yet (or held by a brake) is pending as well.
            let rows = read(tenant).await?;
            let applied = rows.iter().filter(|row| row["status"] == "applied").count();
            if applied < per_directory {
                pending += per_directory - applied;
                let mut statuses = std::collections::BTreeMap::<String, usize>::new();
                for row in &rows {
                    *statuses.entry(row["status"].as_str().unwrap_or("?").to_owned()).or_default() += 1;
                }
                behind.push(format!("{}: {} recorded {statuses:?}", tenant.slug, rows.len()));
            }
        }
        if pending == 0 {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "{pending} revocations of the healthy tenants were not recorded and confirmed within 5 minutes \
                 (held by the safety brake, or not delivered): {}",
                behind.join("; ")
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let confirmed_all = started.elapsed();
    println!(
        "Offboarding: every healthy tenant's revocation confirmed {:.1} s after the first request",
        confirmed_all.as_secs_f64()
    );
    println!();
    println!("| endpoints | revocations | delivered | confirmed | to delivery p50 / p99 s | to receipt p50 / p99 s |");
    println!("|---|---|---|---|---|---|");
    for (label, kind) in [
        ("healthy (confirming)", Endpoint::Confirming),
        ("slow (9.9 s answers)", Endpoint::Slow),
        ("refusing (500)", Endpoint::Refusing),
    ] {
        let mut rows = Vec::new();
        for tenant in tenants.iter().filter(|t| t.endpoint == kind) {
            rows.extend(read(tenant).await?);
        }
        let seconds = |field: &str| -> Vec<f64> {
            let mut values: Vec<f64> = rows.iter().filter_map(|row| row[field].as_f64()).collect();
            values.sort_by(f64::total_cmp);
            values
        };
        let (delivery, receipt) = (seconds("time_to_deliver_seconds"), seconds("time_to_revoke_seconds"));
        let percentile = |values: &[f64], p: f64| -> String {
            if values.is_empty() {
                return "-".to_owned();
            }
            format!("{:.2}", values[((values.len() as f64 - 1.0) * p).round() as usize])
        };
        println!(
            "| {label} | {} | {} | {} | {} / {} | {} / {} |",
            rows.len(),
            delivery.len(),
            receipt.len(),
            percentile(&delivery, 0.5),
            percentile(&delivery, 0.99),
            percentile(&receipt, 0.5),
            percentile(&receipt, 0.99),
        );
    }
    Ok(())
}
