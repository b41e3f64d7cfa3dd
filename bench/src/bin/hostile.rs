//! The hostile-client test (`cargo xtask test` runs it against a release server): an
//! attacker holding one tenant's directory token and one admin session of that tenant
//! spends a minute on bad tokens, 4 MiB junk bodies, expensive filters, sign-in floods,
//! cross-site posts and reads of the other tenant's data, while the other tenant's identity
//! provider provisions as usual. It passes when that tenant saw no error and a p99 under
//! the limit, the server's memory stayed under its bound, and the attacker read nothing of
//! the other tenant. Exits 1 otherwise, after printing what it saw.

#![allow(clippy::print_stdout)]

#[path = "../bulk_limit.rs"]
mod bulk_limit;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use serde_json::{Value, json};

#[derive(Debug, Parser)]
struct Args {
    /// The portal, e.g. `http://127.0.0.1:3000`.
    #[arg(long)]
    base: String,
    /// The attacker's directory: SCIM base URL and token.
    #[arg(long)]
    attacker_scim: String,
    #[arg(long)]
    attacker_token: String,
    /// A setup link of the attacker's tenant (the attacker becomes its admin).
    #[arg(long)]
    attacker_setup_link: String,
    /// The other tenant's directory, provisioned by its identity provider meanwhile.
    #[arg(long)]
    victim_scim: String,
    #[arg(long)]
    victim_token: String,
    /// The server process, whose resident memory is watched.
    #[arg(long)]
    server_pid: u32,
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// The victim's p99 must stay under this.
    #[arg(long, default_value_t = 200)]
    p99_limit_ms: u64,
    /// The server's resident memory must stay under this.
    #[arg(long, default_value_t = 512)]
    memory_limit_mib: u64,
}

/// What the attacker's requests got, per kind of attack: status -> count.
#[derive(Default)]
struct Tally(Mutex<BTreeMap<&'static str, BTreeMap<u16, u64>>>);

impl Tally {
    fn add(&self, kind: &'static str, status: u16) {
        let mut kinds = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *kinds.entry(kind).or_default().entry(status).or_default() += 1;
    }
}

/// Shared by the attack loops.
struct Attack {
    args: Args,
    client: reqwest::Client,
    /// Carries the attacker admin's session cookie.
    admin: reqwest::Client,
    deadline: Instant,
    tally: Tally,
    /// Answers that gave the attacker something of the other tenant.
    leaks: Mutex<Vec<String>>,
    /// Ids of the victim's users, as the attacker might learn or guess them.
    victim_ids: Mutex<Vec<String>>,
    counter: AtomicU64,
    /// The first cut connection of each kind, as the client saw it.
    cut: Mutex<BTreeMap<&'static str, String>>,
}

impl Attack {
    fn running(&self) -> bool {
        Instant::now() < self.deadline
    }

    fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }

    async fn send(&self, kind: &'static str, request: reqwest::RequestBuilder) -> Option<(u16, String)> {
        match request.send().await {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                self.tally.add(kind, status);
                Some((status, body))
            }
            // A connection the server cut (a refused body) is an answer too.
            Err(error) => {
                self.tally.add(kind, 0);
                let mut cut = self.cut.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                cut.entry(kind).or_insert_with(|| format!("{error:?}"));
                None
            }
        }
    }
}

fn junk(bytes: usize, seed: u64) -> Vec<u8> {
    let mut state = seed | 1;
    (0..bytes)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            b"{[\"a:, }]0"[(state % 10) as usize]
        })
        .collect()
}

async fn bad_tokens(attack: Arc<Attack>) {
    while attack.running() {
        let n = attack.next();
        let target = if n.is_multiple_of(2) { &attack.args.victim_scim } else { &attack.args.attacker_scim };
        let request = attack.client.get(format!("{target}/Users")).bearer_auth(format!("scim_guess{n:016x}"));
        attack.send("bad token", request).await;
    }
}

async fn junk_bodies(attack: Arc<Attack>) {
    while attack.running() {
        let n = attack.next();
        let body = junk(4 * 1024 * 1024, n);
        let request = if n.is_multiple_of(2) {
            // Authenticated: read (up to the limit) and refused as malformed.
            attack.client.post(format!("{}/Users", attack.args.attacker_scim)).bearer_auth(&attack.args.attacker_token)
        } else {
            // Unauthenticated, at the other tenant: refused before the body is read.
            attack.client.post(format!("{}/Users", attack.args.victim_scim))
        };
        attack.send("4 MiB junk body", request.header("content-type", "application/scim+json").body(body)).await;
    }
}

async fn expensive_filters(attack: Arc<Attack>) {
    let wide = (0..50).map(|i| format!("emails.value co \"{i}x\"")).collect::<Vec<_>>().join(" or ");
    let deep = format!("{}userName eq \"x\"{}", "(".repeat(40), ")".repeat(40));
    let value_paths =
        (0..8).map(|i| format!("emails[value co \"{i}\" and type eq \"work\"]")).collect::<Vec<_>>().join(" or ");
    let filters = [wide, deep, value_paths];
    while attack.running() {
        let n = attack.next();
        let filter = &filters[(n % 3) as usize];
        let request = attack
            .client
            .get(format!("{}/Users", attack.args.attacker_scim))
            .query(&[("filter", filter.as_str()), ("sortBy", "emails.value"), ("count", "1000")])
            .bearer_auth(&attack.args.attacker_token);
        attack.send("expensive filter", request).await;
    }
}

async fn sign_in_flood(attack: Arc<Attack>) {
    while attack.running() {
        let n = attack.next();
        let email =
            if n.is_multiple_of(2) { "it@victim.example".to_owned() } else { format!("guess{n}@victim.example") };
        let request = attack
            .client
            .post(format!("{}/api/sign_in", attack.args.base))
            .header("origin", &attack.args.base)
            .form(&[("email", email.as_str()), ("password", "hunter2-hunter2")]);
        attack.send("sign-in flood", request).await;
    }
}

async fn cross_site_posts(attack: Arc<Attack>) {
    while attack.running() {
        let n = attack.next();
        // A page of another site posting with the admin's cookie: refused by Origin, or
        // by Sec-Fetch-Site where a browser sends no Origin.
        let request = attack.admin.post(format!("{}/api/start_setup", attack.args.base)).form(&[("idp", "okta")]);
        let request = if n.is_multiple_of(2) {
            request.header("origin", "https://evil.example")
        } else {
            request.header("sec-fetch-site", "cross-site")
        };
        attack.send("cross-site post", request).await;
    }
}

/// Reads of the other tenant's users: by id through the attacker's own directory, and at
/// the other directory's URL with the attacker's token; and the admin session asking for
/// the other tenant's pages' data. Any success is a leak.
async fn cross_tenant_reads(attack: Arc<Attack>) {
    while attack.running() {
        let n = attack.next();
        let ids = attack.victim_ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let Some(id) = ids.get((n as usize) % ids.len().max(1)).cloned() else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let attempts = [
            attack
                .client
                .get(format!("{}/Users/{id}", attack.args.attacker_scim))
                .bearer_auth(&attack.args.attacker_token),
            attack
                .client
                .get(format!("{}/Users/{id}", attack.args.victim_scim))
                .bearer_auth(&attack.args.attacker_token),
            attack
                .client
                .get(format!("{}/Users", attack.args.attacker_scim))
                .query(&[("filter", format!("id eq \"{id}\""))])
                .bearer_auth(&attack.args.attacker_token),
        ];
        for request in attempts {
            if let Some((status, body)) = attack.send("cross-tenant read", request).await
                && status < 300
                && (body.contains(&id) || body.contains("victim-user"))
            {
                attack
                    .leaks
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(format!("{status}: {body}"));
            }
        }
    }
}

/// The other tenant's identity provider: creates, updates, reads and lists at a steady
/// pace, as a sync cycle does. Every answer must be a success.
async fn provision(attack: Arc<Attack>, latencies: Arc<Mutex<Vec<Duration>>>, errors: Arc<Mutex<Vec<String>>>) {
    let scim = &attack.args.victim_scim;
    let token = &attack.args.victim_token;
    let mut n = 0u64;
    while attack.running() {
        n += 1;
        let name = format!("victim-user-{n}@victim.example");
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name,
            "name": {"givenName": "Victim", "familyName": format!("User {n}")},
            "emails": [{"value": name, "type": "work", "primary": true}],
            "active": true
        });
        let timed = |request: reqwest::RequestBuilder| {
            let latencies = Arc::clone(&latencies);
            let errors = Arc::clone(&errors);
            async move {
                let began = Instant::now();
                let outcome = request.send().await;
                let elapsed = began.elapsed();
                latencies.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(elapsed);
                match outcome {
                    Ok(response) if response.status().is_success() => response.json::<Value>().await.ok(),
                    Ok(response) => {
                        let status = response.status();
                        let body = response.text().await.unwrap_or_default();
                        errors
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner)
                            .push(format!("{status}: {body}"));
                        None
                    }
                    Err(error) => {
                        errors.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(error.to_string());
                        None
                    }
                }
            }
        };
        let client = &attack.client;
        let created = timed(
            client
                .post(format!("{scim}/Users"))
                .bearer_auth(token)
                .header("content-type", "application/scim+json")
                .body(user.to_string()),
        )
        .await;
        let Some(id) = created.and_then(|user| user["id"].as_str().map(str::to_owned)) else { continue };
        attack.victim_ids.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(id.clone());
        let patch = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "name.givenName", "value": format!("Renamed {n}")}]
        });
        timed(
            client
                .patch(format!("{scim}/Users/{id}"))
                .bearer_auth(token)
                .header("content-type", "application/scim+json")
                .body(patch.to_string()),
        )
        .await;
        timed(client.get(format!("{scim}/Users/{id}")).bearer_auth(token)).await;
        timed(
            client
                .get(format!("{scim}/Users"))
                .query(&[("filter", format!("userName eq \"{name}\""))])
                .bearer_auth(token),
        )
        .await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn resident_mib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(index).copied().unwrap_or_default()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?;
    let admin = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .timeout(Duration::from_secs(30))
        .build()?;
    // The attacker becomes an admin of their own tenant.
    let secret = args.attacker_setup_link.rsplit('/').next().unwrap_or_default().to_owned();
    let accepted = admin
        .post(format!("{}/api/accept_setup_link", args.base))
        .header("origin", &args.base)
        .form(&[
            ("secret", secret.as_str()),
            ("email", "mallory@attacker.example"),
            ("password", "a long attacker password"),
            ("password_again", "a long attacker password"),
        ])
        .send()
        .await?;
    let signed_in = accepted.headers().contains_key(reqwest::header::SET_COOKIE);
    anyhow::ensure!(
        accepted.status().as_u16() < 400 && signed_in,
        "the attacker's setup link was refused: {}",
        accepted.status()
    );

    // The attacker's directory holds users, so that filters and sorts have rows to cost,
    // sent in Bulk requests as large as the service allows (its `bulk.maxOperations`).
    let per_request = bulk_limit::bulk_max_operations(&client, &args.attacker_scim, &args.attacker_token).await?;
    let fillers: Vec<usize> = (0..1000).collect();
    for chunk in fillers.chunks(per_request) {
        let operations: Vec<Value> = chunk
            .iter()
            .map(|n| {
                json!({
                    "method": "POST", "path": "/Users", "bulkId": format!("u{n}"),
                    "data": {
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "userName": format!("filler-{n}@attacker.example"),
                        "emails": [{"value": format!("filler-{n}@attacker.example"), "type": "work"},
                                   {"value": format!("other-{n}@attacker.example"), "type": "home"}]
                    }
                })
            })
            .collect();
        let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations});
        let filled = client
            .post(format!("{}/Bulk", args.attacker_scim))
            .bearer_auth(&args.attacker_token)
            .header("content-type", "application/scim+json")
            .body(bulk.to_string())
            .send()
            .await?;
        anyhow::ensure!(filled.status().is_success(), "filling the attacker's directory failed: {}", filled.status());
    }

    let seconds = args.seconds;
    let (p99_limit, memory_limit, pid) =
        (Duration::from_millis(args.p99_limit_ms), args.memory_limit_mib, args.server_pid);
    let attack = Arc::new(Attack {
        args,
        client,
        admin,
        deadline: Instant::now() + Duration::from_secs(seconds),
        tally: Tally::default(),
        leaks: Mutex::default(),
        victim_ids: Mutex::default(),
        counter: AtomicU64::new(0),
        cut: Mutex::default(),
    });
    let latencies: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let watching = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(AtomicU64::new(resident_mib(pid).unwrap_or(0)));
    let watcher = {
        let (watching, peak) = (Arc::clone(&watching), Arc::clone(&peak));
        tokio::spawn(async move {
            while watching.load(Ordering::Relaxed) {
                if let Some(mib) = resident_mib(pid) {
                    peak.fetch_max(mib, Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let mut tasks = vec![tokio::spawn(provision(Arc::clone(&attack), Arc::clone(&latencies), Arc::clone(&errors)))];
    for _ in 0..2 {
        tasks.push(tokio::spawn(bad_tokens(Arc::clone(&attack))));
        tasks.push(tokio::spawn(junk_bodies(Arc::clone(&attack))));
        tasks.push(tokio::spawn(expensive_filters(Arc::clone(&attack))));
        tasks.push(tokio::spawn(sign_in_flood(Arc::clone(&attack))));
        tasks.push(tokio::spawn(cross_site_posts(Arc::clone(&attack))));
    }
    tasks.push(tokio::spawn(cross_tenant_reads(Arc::clone(&attack))));
    for task in tasks {
        task.await?;
    }
    watching.store(false, Ordering::Relaxed);
    watcher.await?;

    let mut sorted = latencies.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    sorted.sort_unstable();
    let errors = errors.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let leaks = attack.leaks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let peak = peak.load(Ordering::Relaxed);
    let p99 = percentile(&sorted, 0.99);

    println!("hostile client for {seconds} s; the attacker's requests by answer (0: connection cut):");
    let tally = attack.tally.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    for (kind, statuses) in tally.iter() {
        let total: u64 = statuses.values().sum();
        let spread: Vec<String> = statuses.iter().map(|(status, count)| format!("{status}: {count}")).collect();
        println!("  {kind:<18} {total:>6}  {}", spread.join(", "));
    }
    println!(
        "the other tenant's identity provider: {} requests, p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {} errors",
        sorted.len(),
        percentile(&sorted, 0.5).as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0,
        sorted.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        errors.len()
    );
    println!("server resident memory: peak {peak} MiB (bound {memory_limit} MiB)");
    for (kind, error) in attack.cut.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter() {
        println!("  {kind}: first cut connection: {error}");
    }
    for error in errors.iter().take(5) {
        println!("  victim error: {error}");
    }
    for leak in leaks.iter().take(5) {
        println!("  LEAK: {leak}");
    }
    // What each attack may get: a refusal (or, for reads in the attacker's own directory,
    // an answer about it alone); a server error, or a success where refusal is due, fails.
    let allowed = |kind: &str, status: u16| -> bool {
        let shed = status == 429 || status == 503;
        shed || match kind {
            "bad token" => status == 401,
            "4 MiB junk body" => matches!(status, 0 | 400 | 401 | 413),
            "expensive filter" => matches!(status, 200 | 400),
            "sign-in flood" => status == 401,
            "cross-site post" => status == 403,
            "cross-tenant read" => matches!(status, 200 | 401 | 404),
            _ => false,
        }
    };
    let misbehaved: Vec<String> = tally
        .iter()
        .flat_map(|(kind, statuses)| statuses.iter().map(move |(status, count)| (*kind, *status, *count)))
        .filter(|(kind, status, _)| !allowed(kind, *status))
        .map(|(kind, status, count)| format!("{kind} got {status} ({count} times)"))
        .collect();
    for line in &misbehaved {
        println!("  UNEXPECTED: {line}");
    }
    let passed = errors.is_empty()
        && leaks.is_empty()
        && misbehaved.is_empty()
        && p99 < p99_limit
        && peak < memory_limit
        && sorted.len() > 100;
    println!("hostile client: {}", if passed { "passed" } else { "FAILED" });
    if !passed {
        std::process::exit(1);
    }
    Ok(())
}
