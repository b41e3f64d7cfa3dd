//! The load generator behind `cargo xtask bench`: drives one directory of a running server
//! over HTTP and reports requests per second and latency percentiles per operation, next to
//! a bare axum handler doing the same primary-key lookup on the same database.
// A command-line tool: it prints its report.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod offboarding;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use serde_json::{Value, json};

#[derive(Debug, Parser)]
struct Args {
    /// The directory's SCIM base URL.
    #[arg(long)]
    base_url: String,
    #[arg(long)]
    token: String,
    /// The server's database, for the bare-handler baseline.
    #[arg(long)]
    database_url: String,
    #[arg(long)]
    tenant_id: String,
    #[arg(long)]
    directory_id: String,
    /// Users created one by one (then read, filtered, listed and patched).
    #[arg(long, default_value_t = 2000)]
    users: usize,
    /// Requests per measured read or update operation.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Paired rounds of get by id and the bare handler, one after the other, whose median
    /// ratio is the figure reported: a single pair moves by ten points between runs on a
    /// shared two-core machine.
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// Users loaded through Bulk afterwards (0 to skip).
    #[arg(long, default_value_t = 100_000)]
    bulk_users: usize,
    /// An operator API key: then the WorkOS-compatible API is read too (users page by
    /// page, the deployment's events).
    #[arg(long)]
    api_key: Option<String>,
    /// The server's base URL (for the WorkOS-compatible API).
    #[arg(long)]
    api_base: Option<String>,
    /// Users read page by page through the WorkOS-compatible API.
    #[arg(long, default_value_t = 10_000)]
    sync_users: usize,
    /// Events read through the WorkOS-compatible API.
    #[arg(long, default_value_t = 100_000)]
    sync_events: usize,
    /// Directories (each in a tenant of its own, with a webhook endpoint) of the offboarding
    /// benchmark; 0 skips it.
    #[arg(long, default_value_t = 100)]
    offboarding_directories: usize,
    /// Users deactivated across them.
    #[arg(long, default_value_t = 10_000)]
    offboarding_users: usize,
    /// The offboarding directories' safety brake: `watching` (on, with a threshold of 100%
    /// of the users that the benchmark never crosses, so every revocation pays for the
    /// check and none is held) or `off`. Left at its default the brake holds all but the
    /// first 10% of each directory's deactivations, which is what it is for.
    #[arg(long, value_enum, default_value_t = offboarding::Brake::Watching)]
    offboarding_brake: offboarding::Brake,
}

/// Latencies of one operation.
struct Stats {
    name: String,
    latencies: Vec<Duration>,
    elapsed: Duration,
    errors: usize,
}

impl Stats {
    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(index).copied().unwrap_or_default()
    }

    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    fn row(&self) -> String {
        format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {} |",
            self.name,
            self.latencies.len(),
            self.per_second(),
            self.percentile(0.50).as_secs_f64() * 1000.0,
            self.percentile(0.99).as_secs_f64() * 1000.0,
            self.errors
        )
    }
}

/// Runs `count` requests, `concurrency` at a time; `request(i)` answers whether it succeeded.
async fn measure<F, Fut>(name: &str, count: usize, concurrency: usize, request: F) -> Stats
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let request = Arc::clone(&request);
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0;
                let mut i = worker;
                while i < count {
                    let began = Instant::now();
                    let ok = request(i).await;
                    latencies.push(began.elapsed());
                    errors += usize::from(!ok);
                    i += concurrency;
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut stats = Stats { name: name.to_owned(), latencies: Vec::new(), elapsed: Duration::ZERO, errors: 0 };
    for worker in workers {
        if let Ok((latencies, errors)) = worker.await {
            stats.latencies.extend(latencies);
            stats.errors += errors;
        }
    }
    stats.elapsed = started.elapsed();
    stats
}

/// A pseudo-random index below `n` (xorshift on `seed`): spreads reads over the users.
fn spread(seed: usize, n: usize) -> usize {
    let mut x = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    (x % n.max(1) as u64) as usize
}

fn user(name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "externalId": format!("ext-{name}"),
        "name": {"givenName": "Bench", "familyName": name},
        "emails": [{"value": format!("{name}@bench.example"), "type": "work", "primary": true}],
        "active": true
    })
}

#[derive(Clone)]
struct Scim {
    client: reqwest::Client,
    base: Arc<str>,
    token: Arc<str>,
}

impl Scim {
    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base)).bearer_auth(&*self.token)
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Option<(u16, Value)> {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request.header("content-type", "application/scim+json").body(body.to_string());
        }
        let response = request.send().await.ok()?;
        let status = response.status().as_u16();
        let text = response.text().await.ok()?;
        Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = reqwest::Client::builder().pool_max_idle_per_host(args.concurrency * 2).build()?;
    let scim = Scim { client: client.clone(), base: args.base_url.clone().into(), token: args.token.clone().into() };
    let run = format!("{:x}", Instant::now().elapsed().as_nanos() ^ u128::from(std::process::id()));
    let mut report = Vec::new();

    // Create users one by one, as an identity provider's first sync does.
    let ids: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let created = {
        let (scim, ids, run) = (scim.clone(), Arc::clone(&ids), run.clone());
        measure("create user (POST)", args.users, args.concurrency, move |i| {
            let (scim, ids, name) = (scim.clone(), Arc::clone(&ids), format!("user{i}-{run}"));
            async move {
                match scim.send(reqwest::Method::POST, "/Users", Some(&user(&name))).await {
                    Some((201, body)) => {
                        if let (Some(id), Ok(mut ids)) = (body["id"].as_str(), ids.lock()) {
                            ids.push(id.to_owned());
                        }
                        true
                    }
                    _ => false,
                }
            }
        })
        .await
    };
    report.push(created);
    let ids: Arc<Vec<String>> = Arc::new(ids.lock().map(|ids| ids.clone()).unwrap_or_default());
    if ids.is_empty() {
        bail!("no user could be created; is the server running at {}?", args.base_url);
    }

    report.push(get_by_id(&scim, &ids, args.requests, args.concurrency).await);
    // The target compares get by id with the bare handler; a single pair of runs moves by
    // ten points on a shared two-core machine, so pairs are run back to back and the
    // median ratio reported (the users are in no group yet, as in the row above).
    let bare = bare_handler(&args).await?;
    let mut ratios = Vec::new();
    for _ in 0..args.rounds {
        let get = get_by_id(&scim, &ids, args.requests, args.concurrency).await;
        let bare = bare_lookup(&client, bare, &ids, args.requests, args.concurrency).await;
        ratios.push(get.per_second() / bare.per_second().max(f64::EPSILON));
    }

    let filter = {
        let (scim, run, users) = (scim.clone(), run.clone(), ids.len());
        measure("filter userName eq", args.requests, args.concurrency, move |i| {
            let scim = scim.clone();
            let path = format!("/Users?filter=userName%20eq%20%22user{}-{run}%22", spread(i, users));
            async move {
                matches!(scim.send(reqwest::Method::GET, &path, None).await, Some((200, body)) if body["totalResults"] == 1)
            }
        })
        .await
    };
    report.push(filter);

    let by_email = {
        let (scim, run, users) = (scim.clone(), run.clone(), ids.len());
        measure("filter emails[value eq]", args.requests, args.concurrency, move |i| {
            let scim = scim.clone();
            let path = format!(
                "/Users?filter=emails%5Bvalue%20eq%20%22user{}-{run}%40bench.example%22%5D",
                spread(i, users)
            );
            async move {
                matches!(scim.send(reqwest::Method::GET, &path, None).await, Some((200, body)) if body["totalResults"] == 1)
            }
        })
        .await
    };
    report.push(by_email);

    let list = {
        let (scim, users) = (scim.clone(), ids.len());
        measure("list page (count=100)", args.requests / 4, args.concurrency, move |i| {
            let scim = scim.clone();
            let path = format!("/Users?startIndex={}&count=100", spread(i, users) + 1);
            async move { matches!(scim.send(reqwest::Method::GET, &path, None).await, Some((200, _))) }
        })
        .await
    };
    report.push(list);

    let patch = {
        let (scim, ids) = (scim.clone(), Arc::clone(&ids));
        measure("PATCH user (replace title)", args.requests, args.concurrency, move |i| {
            let (scim, id) = (scim.clone(), ids[spread(i, ids.len())].clone());
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "title", "value": format!("title {i}")}]});
            async move {
                matches!(scim.send(reqwest::Method::PATCH, &format!("/Users/{id}"), Some(&body)).await, Some((200, _)))
            }
        })
        .await
    };
    report.push(patch);

    let group = scim
        .send(
            reqwest::Method::POST,
            "/Groups",
            Some(&json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": format!("bench-{run}")})),
        )
        .await
        .and_then(|(_, body)| body["id"].as_str().map(str::to_owned))
        .context("creating the benchmark group")?;
    let members = {
        let (scim, ids, group) = (scim.clone(), Arc::clone(&ids), group.clone());
        measure("group member add (PATCH)", args.requests.min(ids.len()), args.concurrency, move |i| {
            let (scim, id, group) = (scim.clone(), ids[i % ids.len()].clone(), group.clone());
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]});
            async move {
                matches!(
                    scim.send(reqwest::Method::PATCH, &format!("/Groups/{group}"), Some(&body)).await,
                    Some((204, _))
                )
            }
        })
        .await
    };
    report.push(members);

    // Every user is now in the benchmark group: a GET also reads and renders its groups.
    let mut in_group = get_by_id(&scim, &ids, args.requests, args.concurrency).await;
    in_group.name = "get user by id (in a group)".to_owned();
    report.push(in_group);
    report.push(bare_lookup(&client, bare, &ids, args.requests, args.concurrency).await);

    println!();
    println!("| operation | requests | req/s | p50 ms | p99 ms | errors |");
    println!("|---|---|---|---|---|---|");
    for stats in &report {
        println!("{}", stats.row());
    }
    println!();
    if !ratios.is_empty() {
        let each: Vec<String> = ratios.iter().map(|ratio| format!("{:.0}%", ratio * 100.0)).collect();
        ratios.sort_by(f64::total_cmp);
        println!(
            "get by id reaches {:.0}% of the bare handler's throughput, median of {} paired rounds ({}) (target: 50% or more)",
            ratios[ratios.len() / 2] * 100.0,
            ratios.len(),
            each.join(", ")
        );
    }

    if args.bulk_users > 0 {
        let started = Instant::now();
        let mut loaded = 0;
        let mut failed = 0;
        for chunk in 0..args.bulk_users.div_ceil(1000) {
            let operations: Vec<Value> = (chunk * 1000..((chunk + 1) * 1000).min(args.bulk_users))
                .map(|i| json!({"method": "POST", "path": "/Users", "bulkId": format!("b{i}"), "data": user(&format!("bulk{i}-{run}"))}))
                .collect();
            let body =
                json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations});
            let Some((200, response)) = scim.send(reqwest::Method::POST, "/Bulk", Some(&body)).await else {
                bail!("a Bulk request failed");
            };
            for result in response["Operations"].as_array().into_iter().flatten() {
                if result["status"] == "201" { loaded += 1 } else { failed += 1 }
            }
        }
        let elapsed = started.elapsed();
        println!(
            "Bulk: loaded {loaded} users in {:.1} s ({:.0} users/s), {failed} failed",
            elapsed.as_secs_f64(),
            f64::from(loaded) / elapsed.as_secs_f64()
        );
        // The userName probe again, now that the directory is large.
        let (scim, run, users) = (scim.clone(), run.clone(), args.bulk_users);
        let large = measure("filter userName eq (after Bulk)", args.requests, args.concurrency, move |i| {
            let scim = scim.clone();
            let path = format!("/Users?filter=userName%20eq%20%22bulk{}-{run}%22", spread(i, users));
            async move {
                matches!(scim.send(reqwest::Method::GET, &path, None).await, Some((200, body)) if body["totalResults"] == 1)
            }
        })
        .await;
        println!("{}", large.row());
    }
    if let (Some(key), Some(base)) = (&args.api_key, &args.api_base) {
        let directory = format!("directory_{}", args.directory_id.replace('-', ""));
        let users = format!("{base}/directories/{directory}/users?limit=100&order=asc");
        let (read, elapsed) = read_pages(&client, key, &users, args.sync_users).await?;
        println!(
            "WorkOS-compatible API: {read} users in pages of 100 in {:.2} s ({:.0} users/s)",
            elapsed.as_secs_f64(),
            read as f64 / elapsed.as_secs_f64()
        );
        let events = format!("{base}/events?events=dsync.user.created,dsync.user.updated&limit=100");
        let (read, elapsed) = read_pages(&client, key, &events, args.sync_events).await?;
        println!(
            "WorkOS-compatible API: {read} events in pages of 100 in {:.2} s ({:.0} events/s)",
            elapsed.as_secs_f64(),
            read as f64 / elapsed.as_secs_f64()
        );
        remap(&client, key, base, &args.directory_id, &run).await?;
        if args.offboarding_directories > 0 {
            let scale = offboarding::Scale {
                directories: args.offboarding_directories,
                users: args.offboarding_users,
                brake: args.offboarding_brake,
            };
            offboarding::run(&client, key, base, scale, &run).await?;
        }
    }
    Ok(())
}

/// Re-derives every user of the directory: a new default role changes each user's roles,
/// so the background pass publishes one `dsync.user.updated` per user (the worst case of a
/// mapping change). Times the pass from the request to its end, by its progress.
async fn remap(client: &reqwest::Client, key: &str, base: &str, directory: &str, run: &str) -> anyhow::Result<()> {
    let role = json!({ "slug": format!("bench-{run}"), "name": "Benchmark", "precedence": 1, "is_default": true });
    let started = Instant::now();
    let created = client.post(format!("{base}/api/v1/roles")).bearer_auth(key).json(&role).send().await?;
    if !created.status().is_success() {
        bail!("creating a role failed: {}", created.status());
    }
    let progress_url = format!("{base}/api/v1/directories/{directory}/group-roles");
    // Once a second: the progress page also counts the users per role, a read of every
    // membership, which should not slow the pass it measures.
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let page: Value = client.get(&progress_url).bearer_auth(key).send().await?.json().await?;
        let progress = &page["republish"];
        if progress["finished"] == true {
            let elapsed = started.elapsed();
            let done = progress["done"].as_i64().unwrap_or(0);
            println!(
                "Re-deriving every user after a role change: {done} users ({} changed) in {:.1} s ({:.0} users/s)",
                progress["changed"],
                elapsed.as_secs_f64(),
                done as f64 / elapsed.as_secs_f64()
            );
            return Ok(());
        }
        if started.elapsed() > Duration::from_secs(600) {
            bail!("the re-derivation did not finish in 10 minutes: {progress}");
        }
    }
}

/// Reads a Directory Sync list from `first` on, following `list_metadata.after` (the last
/// item's id, for events), until `limit` items or the end; how many, and how long it took.
async fn read_pages(
    client: &reqwest::Client,
    key: &str,
    first: &str,
    limit: usize,
) -> anyhow::Result<(usize, Duration)> {
    let started = Instant::now();
    let mut read = 0;
    let mut url = first.to_owned();
    while read < limit {
        let response = client.get(&url).bearer_auth(key).send().await?;
        if !response.status().is_success() {
            bail!("{url}: {}", response.status());
        }
        let page: Value = response.json().await?;
        let data = page["data"].as_array().map_or(0, Vec::len);
        read += data;
        match page["list_metadata"]["after"].as_str() {
            Some(after) if data > 0 => url = format!("{first}&after={after}"),
            _ => break,
        }
    }
    Ok((read, started.elapsed()))
}

/// `GET /Users/{id}` of users spread over the directory.
async fn get_by_id(scim: &Scim, ids: &Arc<Vec<String>>, requests: usize, concurrency: usize) -> Stats {
    let (scim, ids) = (scim.clone(), Arc::clone(ids));
    measure("get user by id", requests, concurrency, move |i| {
        let (scim, id) = (scim.clone(), ids[spread(i, ids.len())].clone());
        async move { matches!(scim.send(reqwest::Method::GET, &format!("/Users/{id}"), None).await, Some((200, _))) }
    })
    .await
}

/// The bare handler read for the same users, with the same client.
async fn bare_lookup(
    client: &reqwest::Client,
    address: std::net::SocketAddr,
    ids: &Arc<Vec<String>>,
    requests: usize,
    concurrency: usize,
) -> Stats {
    let (client, ids) = (client.clone(), Arc::clone(ids));
    measure("bare axum PK lookup (baseline)", requests, concurrency, move |i| {
        let (client, id) = (client.clone(), ids[spread(i, ids.len())].clone());
        async move {
            client
                .get(format!("http://{address}/users/{id}"))
                .send()
                .await
                .is_ok_and(|response| response.status() == reqwest::StatusCode::OK)
        }
    })
    .await
}

/// Starts a bare axum handler doing the same primary-key lookup on the same database, in
/// this process: the yardstick for the SCIM GET.
async fn bare_handler(args: &Args) -> anyhow::Result<std::net::SocketAddr> {
    use axum::extract::{Path, State};
    use axum::routing::get;

    const QUERY: &str = "SELECT doc FROM scim_resources WHERE tenant_id = $1 AND directory_id = $2 AND id = $3";
    #[derive(Clone)]
    enum Db {
        Sqlite(sqlx::SqlitePool),
        Postgres(sqlx::PgPool, uuid::Uuid, uuid::Uuid),
    }
    let db = if args.database_url.starts_with("sqlite") {
        Db::Sqlite(sqlx::sqlite::SqlitePoolOptions::new().max_connections(16).connect(&args.database_url).await?)
    } else {
        let tenant = uuid::Uuid::parse_str(&args.tenant_id)?;
        let directory = uuid::Uuid::parse_str(&args.directory_id)?;
        Db::Postgres(
            sqlx::postgres::PgPoolOptions::new().max_connections(16).connect(&args.database_url).await?,
            tenant,
            directory,
        )
    };
    let scope: Arc<(String, String)> = Arc::new((args.tenant_id.clone(), args.directory_id.clone()));
    let handler = move |State(db): State<Db>, Path(id): Path<String>| {
        let scope = Arc::clone(&scope);
        async move {
            let doc: Option<sqlx::types::Json<Value>> = match &db {
                Db::Sqlite(pool) => sqlx::query_scalar(QUERY)
                    .bind(&scope.0)
                    .bind(&scope.1)
                    .bind(&id)
                    .fetch_optional(pool)
                    .await
                    .ok()
                    .flatten(),
                Db::Postgres(pool, tenant, directory) => sqlx::query_scalar(QUERY)
                    .bind(tenant)
                    .bind(directory)
                    .bind(&id)
                    .fetch_optional(pool)
                    .await
                    .ok()
                    .flatten(),
            };
            match doc {
                Some(doc) => (axum::http::StatusCode::OK, doc.0.to_string()),
                None => (axum::http::StatusCode::NOT_FOUND, String::new()),
            }
        }
    };
    let app = axum::Router::new().route("/users/{id}", get(handler)).with_state(db);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(address)
}
