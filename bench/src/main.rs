//! The load generator behind `cargo xtask bench`: drives one directory of a running server
//! over HTTP and reports requests per second and latency percentiles per operation, next to
//! a bare axum handler doing the same primary-key lookup on the same database.
// A command-line tool: it prints its report.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod bulk_limit;
mod offboarding;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

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
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Writes in flight at once (creates, PATCH, member adds).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Reads in flight at once (get by id, filters, list pages), as connections of a load
    /// generator such as wrk.
    #[arg(long, default_value_t = 64)]
    read_concurrency: usize,
    /// Paired rounds of a read (get by id, userName eq) and the bare handler's, one after
    /// the other, whose median ratio is the figure reported: a single pair moves by ten points between runs on a
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
    /// The server's process id: its resident memory is reported per phase.
    #[arg(long)]
    server_pid: Option<u32>,
}

/// How many slices each side of a paired round is run in, alternating.
const SLICES: usize = 10;

/// Latencies of one operation, and why the requests that failed did.
struct Stats {
    name: String,
    latencies: Vec<Duration>,
    elapsed: Duration,
    errors: BTreeMap<String, usize>,
    /// The requests that took [`STALLED`] or longer: when each was sent, and how long it
    /// took (to find in the server's log what held them).
    stalled: Vec<(SystemTime, Duration)>,
}

/// A request this slow is listed with the time it was sent.
const STALLED: Duration = Duration::from_millis(150);

impl Stats {
    fn new(name: &str) -> Self {
        Stats {
            name: name.to_owned(),
            latencies: Vec::new(),
            elapsed: Duration::ZERO,
            errors: BTreeMap::new(),
            stalled: Vec::new(),
        }
    }

    /// Adds one request: when it was sent, how long it took and what it came to.
    fn record(&mut self, sent: SystemTime, latency: Duration, outcome: Outcome) {
        self.latencies.push(latency);
        if latency >= STALLED {
            self.stalled.push((sent, latency));
        }
        if let Err(why) = outcome {
            *self.errors.entry(why).or_default() += 1;
        }
    }

    /// The requests of [`STALLED`] or longer, in episodes (a second or more apart): how
    /// many, from when (UTC, as the server logs) and the slowest; empty when none.
    fn stalls(&self) -> String {
        let mut stalled = self.stalled.clone();
        stalled.sort();
        let mut episodes: Vec<(SystemTime, usize, Duration)> = Vec::new();
        let mut last_sent = None;
        for (sent, took) in stalled {
            let apart = last_sent
                .and_then(|last| sent.duration_since(last).ok())
                .is_none_or(|gap| gap >= Duration::from_secs(1));
            match episodes.last_mut() {
                Some((_, count, slowest)) if !apart => {
                    *count += 1;
                    *slowest = (*slowest).max(took);
                }
                _ => episodes.push((sent, 1, took)),
            }
            last_sent = Some(sent);
        }
        let each: Vec<String> = episodes
            .iter()
            .map(|(from, count, slowest)| {
                format!("{count} from {} (slowest {:.0} ms)", utc_time_of_day(*from), slowest.as_secs_f64() * 1000.0)
            })
            .collect();
        each.join("; ")
    }

    /// Adds another run of the same operation: its requests and the time it took.
    fn add_run(&mut self, run: Stats) {
        self.elapsed += run.elapsed;
        self.absorb(run);
    }

    /// Adds the requests another worker measured.
    fn absorb(&mut self, other: Stats) {
        self.latencies.extend(other.latencies);
        self.stalled.extend(other.stalled);
        for (why, n) in other.errors {
            *self.errors.entry(why).or_default() += n;
        }
    }

    fn percentile(&self, p: f64) -> Duration {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
        sorted.get(index).copied().unwrap_or_default()
    }

    fn p99_ms(&self) -> f64 {
        self.percentile(0.99).as_secs_f64() * 1000.0
    }

    fn per_second(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    fn error_count(&self) -> usize {
        self.errors.values().sum()
    }

    fn row(&self) -> String {
        let errors = if self.errors.is_empty() {
            "0".to_owned()
        } else {
            let each: Vec<String> = self.errors.iter().map(|(why, n)| format!("{n} {why}")).collect();
            each.join(", ")
        };
        format!(
            "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2} | {} |",
            self.name,
            self.latencies.len(),
            self.per_second(),
            self.percentile(0.50).as_secs_f64() * 1000.0,
            self.p99_ms(),
            self.percentile(1.0).as_secs_f64() * 1000.0,
            errors
        )
    }
}

/// Lists each operation's requests of [`STALLED`] or longer, if any.
fn print_stalls(report: &[Stats]) {
    for stats in report.iter().filter(|stats| !stats.stalled.is_empty()) {
        println!("{}: requests of {} ms or more: {}", stats.name, STALLED.as_millis(), stats.stalls());
    }
}

/// `HH:MM:SS.mmm UTC` of a wall-clock time, as the server's log shows it.
fn utc_time_of_day(at: SystemTime) -> String {
    let since_epoch = at.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let seconds = since_epoch.as_secs() % 86_400;
    format!("{:02}:{:02}:{:02}.{:03} UTC", seconds / 3600, seconds / 60 % 60, seconds % 60, since_epoch.subsec_millis())
}

/// What one request came to: `Err` says why it is not the expected answer.
type Outcome = Result<(), String>;

/// Runs `count` requests, `concurrency` at a time (each worker one connection's worth of
/// requests in a row, as a load generator such as wrk does).
async fn measure<F, Fut>(name: &str, count: usize, concurrency: usize, request: F) -> Stats
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Outcome> + Send,
{
    let request = Arc::new(request);
    let started = Instant::now();
    #[allow(clippy::disallowed_methods)] // the load generator reads the clock it reports
    let started_at = SystemTime::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let request = Arc::clone(&request);
            tokio::spawn(async move {
                let mut stats = Stats::new("");
                let mut i = worker;
                while i < count {
                    let began = Instant::now();
                    let outcome = request(i).await;
                    stats.record(started_at + began.duration_since(started), began.elapsed(), outcome);
                    i += concurrency;
                }
                stats
            })
        })
        .collect();
    let mut stats = Stats::new(name);
    for worker in workers {
        if let Ok(measured) = worker.await {
            stats.absorb(measured);
        }
    }
    stats.elapsed = started.elapsed();
    stats
}

/// Whether an answer is the expected status with a body that passes `check`.
fn expect(answer: Option<(u16, Value)>, status: u16, check: impl Fn(&Value) -> bool) -> Outcome {
    match answer {
        None => Err("without an answer".to_owned()),
        Some((got, body)) if got != status => {
            let detail = body["detail"].as_str().unwrap_or_default();
            Err(format!("answered {got} {}", detail.chars().take(80).collect::<String>()).trim_end().to_owned())
        }
        Some((_, body)) if !check(&body) => Err("with an unexpected body".to_owned()),
        Some(_) => Ok(()),
    }
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

/// A user the benchmark made: its id and userName.
#[derive(Clone)]
struct Made {
    id: String,
    name: String,
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

/// One of the targets of the performance issue: the figure measured and whether it met it.
struct Target {
    what: String,
    figure: String,
    goal: &'static str,
    met: bool,
}

impl Target {
    fn new(what: impl Into<String>, figure: impl Into<String>, goal: &'static str, met: bool) -> Self {
        Target { what: what.into(), figure: figure.into(), goal, met }
    }

    /// p99 of an operation (without errors) against a bound in milliseconds.
    fn p99(stats: &Stats, concurrency: usize, bound_ms: f64, goal: &'static str) -> Self {
        let met = stats.p99_ms() < bound_ms && stats.error_count() == 0;
        let errors = if stats.error_count() == 0 { String::new() } else { format!(", {} errors", stats.error_count()) };
        Target::new(
            format!("{}, p99 at {concurrency} in flight", stats.name),
            format!("{:.2} ms{errors}", stats.p99_ms()),
            goal,
            met,
        )
    }
}

/// The median of paired rounds of an operation and its bare counterpart, as a share.
fn median_share(mut shares: Vec<f64>) -> (f64, String) {
    let each: Vec<String> = shares.iter().map(|share| format!("{:.0}%", share * 100.0)).collect();
    shares.sort_by(f64::total_cmp);
    (shares.get(shares.len() / 2).copied().unwrap_or(0.0), each.join(", "))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let sqlite = args.database_url.starts_with("sqlite");
    let client =
        reqwest::Client::builder().pool_max_idle_per_host(args.concurrency.max(args.read_concurrency) * 2).build()?;
    let scim = Scim { client: client.clone(), base: args.base_url.clone().into(), token: args.token.clone().into() };
    let run = format!("{:x}", Instant::now().elapsed().as_nanos() ^ u128::from(std::process::id()));
    let mut report = Vec::new();
    let mut targets = Vec::new();
    let writers = args.concurrency;
    let readers = args.read_concurrency;
    let memory = args.server_pid.map(Memory::watch);

    // Create users one by one, as an identity provider's first sync does.
    let made: Arc<std::sync::Mutex<Vec<Made>>> = Arc::default();
    let created = {
        let (scim, made, run) = (scim.clone(), Arc::clone(&made), run.clone());
        measure("create user (POST)", args.users, writers, move |i| {
            let (scim, made, name) = (scim.clone(), Arc::clone(&made), format!("user{i}-{run}"));
            async move {
                let answer = scim.send(reqwest::Method::POST, "/Users", Some(&user(&name))).await;
                if let (Some((201, body)), Ok(mut made)) = (&answer, made.lock())
                    && let Some(id) = body["id"].as_str()
                {
                    made.push(Made { id: id.to_owned(), name: name.clone() });
                }
                expect(answer, 201, |_| true)
            }
        })
        .await
    };
    targets.push(Target::p99(&created, writers, 20.0, "< 20 ms"));
    report.push(created);
    let mut users: Vec<Made> = made.lock().map(|made| made.clone()).unwrap_or_default();
    if users.is_empty() {
        bail!("no user could be created; is the server running at {}?", args.base_url);
    }
    let first_users = Arc::new(users.clone());
    let after_creates = memory.as_ref().map(Memory::now_mib);

    let patch = {
        let (scim, made) = (scim.clone(), Arc::clone(&first_users));
        measure("PATCH user (replace title)", args.requests.min(args.users * 4), writers, move |i| {
            let (scim, id) = (scim.clone(), made[spread(i, made.len())].id.clone());
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "title", "value": format!("title {i}")}]});
            async move {
                expect(scim.send(reqwest::Method::PATCH, &format!("/Users/{id}"), Some(&body)).await, 200, |_| true)
            }
        })
        .await
    };
    targets.push(Target::p99(&patch, writers, 20.0, "< 20 ms"));
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
        let (scim, made, group) = (scim.clone(), Arc::clone(&first_users), group.clone());
        measure("group member add (PATCH)", made.len(), writers, move |i| {
            let (scim, id, group) = (scim.clone(), made[i % made.len()].id.clone(), group.clone());
            let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]});
            async move {
                expect(scim.send(reqwest::Method::PATCH, &format!("/Groups/{group}"), Some(&body)).await, 204, |_| true)
            }
        })
        .await
    };
    report.push(members);

    if args.bulk_users > 0 {
        let bystander = match (&args.api_key, &args.api_base) {
            (Some(key), Some(base)) => Some(Bystander::start(&client, key, base, &run).await?),
            _ => None,
        };
        let (loaded, elapsed) = bulk_load(&scim, args.bulk_users, &run, &mut users).await?;
        let rate = loaded as f64 / elapsed.as_secs_f64();
        println!("Bulk: loaded {loaded} users in {:.1} s ({rate:.0} users/s)", elapsed.as_secs_f64());
        let (bound, goal) = if sqlite { (30.0, "< 30 s") } else { (60.0, "< 60 s") };
        let per_100k = elapsed.as_secs_f64() * 100_000.0 / loaded.max(1) as f64;
        targets.push(Target::new(
            format!("{loaded} users through Bulk (time per 100,000)"),
            format!("{per_100k:.1} s"),
            goal,
            per_100k < bound,
        ));
        if let Some(bystander) = bystander {
            let stats = bystander.stop().await;
            println!("Another tenant's creates during the Bulk load:");
            println!("{}", stats.row());
            print_stalls(std::slice::from_ref(&stats));
            targets.push(Target::new(
                "another tenant's create during Bulk, slowest",
                format!(
                    "{:.0} ms ({} creates, {} errors)",
                    stats.percentile(1.0).as_secs_f64() * 1000.0,
                    stats.latencies.len(),
                    stats.error_count()
                ),
                "< 150 ms (the writer held ~100 ms at most)",
                stats.percentile(1.0) < Duration::from_millis(150) && stats.error_count() == 0,
            ));
        }
    }
    let users = Arc::new(users);
    let after_load = memory.as_ref().map(|memory| {
        memory.reset_peak();
        memory.now_mib()
    });
    println!("Reads spread over {} users, {readers} in flight:", users.len());

    // The server's RSS after each read phase, to tell a growth that follows the reads (a
    // leak, a cache without a bound) from one a phase reaches once and keeps.
    let mut after_phases: Vec<(&'static str, u64)> = Vec::new();
    let mut note_phase = |name: &'static str| {
        if let Some(memory) = &memory {
            after_phases.push((name, memory.now_mib()));
        }
    };

    // Reads as an identity provider's probes, over the whole directory.
    let get = get_by_id(&scim, &users, 0, args.requests, readers).await;
    targets.push(Target::p99(&get, readers, 10.0, "< 10 ms"));
    report.push(get);
    note_phase("get by id");
    for probe in [Probe::USER_NAME, Probe::EXTERNAL_ID, Probe::EMAIL] {
        let stats = probe.measure(&scim, &users, 0, args.requests, readers).await;
        targets.push(Target::p99(&stats, readers, 10.0, "< 10 ms"));
        report.push(stats);
        note_phase(probe.name);
    }
    let list = {
        let (scim, total) = (scim.clone(), users.len());
        measure("list page (count=100)", args.requests / 8, readers, move |i| {
            let scim = scim.clone();
            let path = format!("/Users?startIndex={}&count=100", spread(i, total) + 1);
            async move { expect(scim.send(reqwest::Method::GET, &path, None).await, 200, |_| true) }
        })
        .await
    };
    report.push(list);
    note_phase("startIndex pages");
    targets.push(cursor_pages(&scim, &users, args.requests / 8, readers, &mut report).await);
    note_phase("cursor pages");
    let first_pass_peak = memory.as_ref().map(|memory| {
        let peak = memory.peak_mib();
        memory.reset_peak();
        peak
    });
    if let (Some(after_creates), Some(after_load), Some(peak)) = (after_creates, after_load, first_pass_peak) {
        println!(
            "Server memory (RSS): {after_creates} MiB after {} creates, {after_load} MiB with {} users, \
             peak {peak} MiB during the reads; after each read phase: {}",
            first_users.len(),
            users.len(),
            after_phases.iter().map(|(phase, mib)| format!("{phase} {mib} MiB")).collect::<Vec<_>>().join(", ")
        );
    }

    // The shares of the bare handler. This machine's speed moves by a third within seconds
    // (a shared host), and one run of each side back to back moved the share by twenty
    // points: each round alternates the two sides in slices of a tenth of its requests,
    // so that both see the same spells, and the median of the rounds is the figure.
    let bare = bare_handler(&args).await?;
    let mut by_id_shares = Vec::new();
    let mut by_name_shares = Vec::new();
    let mut last_pair = None;
    let slice = (args.requests / SLICES).max(readers);
    for _ in 0..args.rounds.max(1) {
        let (mut get, mut bare_get) = (Stats::new("get user by id, paired"), Stats::new("bare axum lookup by id"));
        let (mut by_name, mut bare_name) =
            (Stats::new("filter userName eq, paired"), Stats::new("bare axum lookup by userName"));
        for from in (0..SLICES).map(|n| n * slice) {
            get.add_run(get_by_id(&scim, &users, from, slice, readers).await);
            bare_get.add_run(bare_read(&client, bare, "users", &users, from, slice, readers).await);
        }
        for from in (0..SLICES).map(|n| n * slice) {
            by_name.add_run(Probe::USER_NAME.measure(&scim, &users, from, slice, readers).await);
            bare_name.add_run(bare_read(&client, bare, "user-names", &users, from, slice, readers).await);
        }
        by_id_shares.push(get.per_second() / bare_get.per_second().max(f64::EPSILON));
        by_name_shares.push(by_name.per_second() / bare_name.per_second().max(f64::EPSILON));
        last_pair = Some([get, bare_get, by_name, bare_name]);
    }
    report.extend(last_pair.into_iter().flatten());
    if let (Some(memory), Some(after_creates), Some(after_load), Some(first_peak)) =
        (&memory, after_creates, after_load, first_pass_peak)
    {
        // The first pass over a directory fills what is bounded (SQLite's page cache of each
        // pooled connection, the allocators' free lists at 64 in flight); what reading it
        // again adds is what grows with the reads.
        let again_peak = memory.peak_mib();
        let split = memory.split().map_or_else(String::new, |split| format!("; now {split}"));
        targets.push(Target::new(
            format!("server memory (RSS) with {} users, reads over all of them", users.len()),
            format!(
                "{after_load} MiB before the reads ({after_creates} MiB at {} users), peak {first_peak} MiB in \
                 the first pass, {again_peak} MiB reading again{split}",
                first_users.len()
            ),
            "flat: reading again adds < 5%",
            again_peak as f64 <= first_peak as f64 * 1.05,
        ));
    }
    for (what, shares) in [("GET /Users/{id}", by_id_shares), ("userName eq", by_name_shares)] {
        let (median, each) = median_share(shares);
        targets.push(Target::new(
            format!("{what}: share of the bare handler's throughput, {readers} in flight"),
            format!("{:.0}% (median of {each})", median * 100.0),
            ">= 60%",
            median >= 0.60,
        ));
    }

    println!();
    println!("| operation | requests | req/s | p50 ms | p99 ms | max ms | errors |");
    println!("|---|---|---|---|---|---|---|");
    for stats in &report {
        println!("{}", stats.row());
    }
    print_stalls(&report);
    println!();

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
        let rate = read as f64 / elapsed.as_secs_f64();
        println!(
            "WorkOS-compatible API: {read} events in pages of 100 in {:.2} s ({rate:.0} events/s)",
            elapsed.as_secs_f64()
        );
        targets.push(Target::new(
            format!("event feed read in order ({read} events, pages of 100)"),
            format!("{rate:.0} events/s"),
            ">= 50,000 events/s",
            rate >= 50_000.0,
        ));
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

    println!();
    println!("Targets ({}):", if sqlite { "SQLite" } else { "PostgreSQL" });
    println!("| target | measured | goal | met |");
    println!("|---|---|---|---|");
    for target in &targets {
        println!(
            "| {} | {} | {} | {} |",
            target.what,
            target.figure,
            target.goal,
            if target.met { "yes" } else { "NO" }
        );
    }
    Ok(())
}

/// Loads `count` users through Bulk, as many per request as the service advertises
/// (`bulk.maxOperations`), adding them to `users`; how many were created and how long it
/// took.
async fn bulk_load(scim: &Scim, count: usize, run: &str, users: &mut Vec<Made>) -> anyhow::Result<(usize, Duration)> {
    let per_request = bulk_limit::bulk_max_operations(&scim.client, &scim.base, &scim.token).await?;
    println!("Bulk: {per_request} operations per request (the service's bulk.maxOperations)");
    let started = Instant::now();
    let mut failed = 0;
    let before = users.len();
    for chunk in 0..count.div_ceil(per_request) {
        let names: Vec<String> =
            (chunk * per_request..((chunk + 1) * per_request).min(count)).map(|i| format!("bulk{i}-{run}")).collect();
        let operations: Vec<Value> = names
            .iter()
            .enumerate()
            .map(|(i, name)| json!({"method": "POST", "path": "/Users", "bulkId": format!("b{i}"), "data": user(name)}))
            .collect();
        let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": operations});
        let Some((200, response)) = scim.send(reqwest::Method::POST, "/Bulk", Some(&body)).await else {
            bail!("a Bulk request failed");
        };
        for (result, name) in response["Operations"].as_array().into_iter().flatten().zip(&names) {
            let id = result["location"].as_str().and_then(|location| location.rsplit('/').next());
            match (result["status"].as_str(), id) {
                (Some("201"), Some(id)) => users.push(Made { id: id.to_owned(), name: name.clone() }),
                _ => failed += 1,
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of the Bulk operations failed");
    }
    Ok((users.len() - before, started.elapsed()))
}

/// Another tenant's identity provider creating users one at a time while the benchmark's
/// Bulk load runs: its latency shows how long the load holds the database's writer.
struct Bystander {
    stop: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<Stats>,
}

impl Bystander {
    async fn start(client: &reqwest::Client, key: &str, base: &str, run: &str) -> anyhow::Result<Self> {
        let slug = format!("bystander-{}", &run[..run.len().min(8)]);
        let tenants = format!("{base}/api/v1/tenants");
        offboarding::post(client, key, &tenants, &json!({ "slug": slug, "display_name": slug })).await?;
        let directories = format!("{tenants}/{slug}/directories");
        let created = offboarding::post(client, key, &directories, &json!({ "idp": "okta" })).await?;
        let scim = Scim {
            client: client.clone(),
            base: created["directory"]["scim_base_url"].as_str().context("no SCIM base URL")?.into(),
            token: created["token"].as_str().context("no token")?.into(),
        };
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let task = {
            let (stop, run) = (Arc::clone(&stop), run.to_owned());
            tokio::spawn(async move {
                let started = Instant::now();
                let mut stats = Stats::new("another tenant's create (1 in flight)");
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let began = Instant::now();
                    #[allow(clippy::disallowed_methods)] // the load generator reads the clock it reports
                    let began_at = SystemTime::now();
                    let name = format!("bystander{i}-{run}");
                    let outcome =
                        expect(scim.send(reqwest::Method::POST, "/Users", Some(&user(&name))).await, 201, |_| true);
                    stats.record(began_at, began.elapsed(), outcome);
                    i += 1;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                stats.elapsed = started.elapsed();
                stats
            })
        };
        Ok(Bystander { stop, task })
    }

    async fn stop(self) -> Stats {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.task.await.unwrap_or_else(|_| {
            let mut stats = Stats::new("another tenant's create");
            stats.errors.insert("the task panicked".to_owned(), 1);
            stats
        })
    }
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
        let page: ListPage = response.json().await?;
        let data = page.data.len();
        read += data;
        match page.list_metadata.after {
            Some(after) if data > 0 => url = format!("{first}&after={after}"),
            _ => break,
        }
    }
    Ok((read, started.elapsed()))
}

/// What the reader takes from a list page: how many items and where the next page starts.
/// Each item is read through as JSON but not built into a tree: the figure is the
/// server's rate. Building a `serde_json::Value` of every event took two fifths of the
/// time per page here (pages of 100 events of 1.4 KB: 47,000 events/s read that way,
/// 76,000-82,000 this way, against the same server).
#[derive(serde::Deserialize)]
struct ListPage {
    data: Vec<serde::de::IgnoredAny>,
    list_metadata: ListMetadata,
}

#[derive(serde::Deserialize)]
struct ListMetadata {
    after: Option<String>,
}

/// RFC 9865 cursor pages of 100 users from the first page, the middle and the last
/// hundredth of the directory (a cursor is the id a page ends after): keyset pages cost
/// the same at any depth, where `startIndex` pages would read past every skipped user.
async fn cursor_pages(
    scim: &Scim,
    users: &Arc<Vec<Made>>,
    requests: usize,
    concurrency: usize,
    report: &mut Vec<Stats>,
) -> Target {
    let mut ids: Vec<&str> = users.iter().map(|made| made.id.as_str()).collect();
    ids.sort_unstable();
    let mut medians = Vec::new();
    for (label, depth) in [("first page", None), ("50% deep", Some(0.5)), ("99% deep", Some(0.99))] {
        let cursor = depth.map_or(String::new(), |depth: f64| {
            ids[((ids.len() as f64 * depth) as usize).min(ids.len() - 1)].to_owned()
        });
        let scim = scim.clone();
        let stats = measure(&format!("cursor page of 100, {label}"), requests, concurrency, move |_| {
            let (scim, path) = (scim.clone(), format!("/Users?count=100&cursor={cursor}"));
            async move {
                expect(scim.send(reqwest::Method::GET, &path, None).await, 200, |body| {
                    body["Resources"].as_array().is_some_and(|page| !page.is_empty())
                })
            }
        })
        .await;
        medians.push(stats.percentile(0.5));
        report.push(stats);
    }
    let (first, deep) = (medians[0].as_secs_f64() * 1000.0, medians[2].as_secs_f64() * 1000.0);
    Target::new(
        format!("cursor page of 100 at 99% depth vs the first page, p50 ({} users)", users.len()),
        format!("{deep:.2} vs {first:.2} ms"),
        "constant: within 1.5x",
        deep <= first * 1.5,
    )
}

/// The server's resident memory, sampled every 100 ms with its peak since the last reset.
struct Memory {
    pid: u32,
    peak_kib: Arc<std::sync::atomic::AtomicU64>,
}

impl Memory {
    fn watch(pid: u32) -> Self {
        let peak_kib = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let peak = Arc::clone(&peak_kib);
        tokio::spawn(async move {
            loop {
                if let Some(kib) = resident_kib(pid) {
                    peak.fetch_max(kib, std::sync::atomic::Ordering::Relaxed);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        });
        Memory { pid, peak_kib }
    }

    fn now_mib(&self) -> u64 {
        resident_kib(self.pid).unwrap_or(0) / 1024
    }

    fn peak_mib(&self) -> u64 {
        self.peak_kib.load(std::sync::atomic::Ordering::Relaxed).max(resident_kib(self.pid).unwrap_or(0)) / 1024
    }

    fn reset_peak(&self) {
        self.peak_kib.store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// Where the resident memory is, from `/proc/{pid}/smaps`: Rust's heap (mimalloc's
    /// arenas, the large anonymous reservations), the C allocator's heaps (glibc's main
    /// heap and its per-thread arenas, 64 MiB-aligned and followed by their unused
    /// reservation: SQLite's page caches and the rows it hands to sqlx), the program and
    /// its libraries (files), the rest (thread stacks and small mappings).
    fn split(&self) -> Option<String> {
        let smaps = std::fs::read_to_string(format!("/proc/{}/smaps", self.pid)).ok()?;
        // (start, end, permissions, file or tag, resident KiB)
        let mut maps: Vec<(u64, u64, String, String, u64)> = Vec::new();
        for line in smaps.lines() {
            let mut words = line.split_whitespace();
            let first = words.next().unwrap_or_default();
            if let Some((start, end)) = first.split_once('-')
                && let (Ok(start), Ok(end)) = (u64::from_str_radix(start, 16), u64::from_str_radix(end, 16))
            {
                let permissions = words.next().unwrap_or_default().to_owned();
                let name = words.nth(3).unwrap_or_default().to_owned();
                maps.push((start, end, permissions, name, 0));
            } else if first == "Rss:"
                && let (Some(last), Some(kib)) = (maps.last_mut(), words.next().and_then(|kib| kib.parse().ok()))
            {
                last.4 = kib;
            }
        }
        const ARENA_ALIGN: u64 = 64 << 20;
        let (mut rust, mut c, mut files, mut rest) = (0, 0, 0, 0);
        for (i, (start, end, permissions, name, kib)) in maps.iter().enumerate() {
            let reserved_after = maps.get(i + 1).is_some_and(|next| next.0 == *end && next.2 == "---p");
            if name.starts_with('/') {
                files += kib;
            } else if name == "[heap]" || (name.is_empty() && start % ARENA_ALIGN == 0 && reserved_after) {
                c += kib;
            } else if name.is_empty() && permissions == "rw-p" && end - start >= ARENA_ALIGN {
                rust += kib;
            } else {
                rest += kib;
            }
        }
        Some(format!(
            "Rust heap {} MiB, C heaps (SQLite) {} MiB, program {} MiB, other {} MiB",
            rust / 1024,
            c / 1024,
            files / 1024,
            rest / 1024
        ))
    }
}

fn resident_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// `GET /Users/{id}` of users spread over the directory.
/// `from` numbers the first request, so that runs in slices read different users.
async fn get_by_id(scim: &Scim, users: &Arc<Vec<Made>>, from: usize, requests: usize, concurrency: usize) -> Stats {
    let (scim, users) = (scim.clone(), Arc::clone(users));
    measure("get user by id", requests, concurrency, move |i| {
        let (scim, id) = (scim.clone(), users[spread(from + i, users.len())].id.clone());
        async move { expect(scim.send(reqwest::Method::GET, &format!("/Users/{id}"), None).await, 200, |_| true) }
    })
    .await
}

/// An identity provider's lookup before it writes: a filter that finds exactly one user.
struct Probe {
    name: &'static str,
    /// The URL-encoded filter, with `{name}` for the user's userName.
    filter: &'static str,
}

impl Probe {
    const USER_NAME: Probe = Probe { name: "filter userName eq", filter: "userName%20eq%20%22{name}%22" };
    const EXTERNAL_ID: Probe = Probe { name: "filter externalId eq", filter: "externalId%20eq%20%22ext-{name}%22" };
    const EMAIL: Probe =
        Probe { name: "filter emails[value eq]", filter: "emails%5Bvalue%20eq%20%22{name}%40bench.example%22%5D" };

    /// `GET /Users?filter=…` of users spread over the directory.
    async fn measure(
        &self,
        scim: &Scim,
        users: &Arc<Vec<Made>>,
        from: usize,
        requests: usize,
        concurrency: usize,
    ) -> Stats {
        let (scim, users, filter) = (scim.clone(), Arc::clone(users), self.filter);
        measure(self.name, requests, concurrency, move |i| {
            let scim = scim.clone();
            let user = &users[spread(from + i, users.len())];
            let path = format!("/Users?filter={}", filter.replace("{name}", &user.name));
            async move {
                expect(scim.send(reqwest::Method::GET, &path, None).await, 200, |body| body["totalResults"] == 1)
            }
        })
        .await
    }
}

/// The bare handler's read of the same users with the same client: by id (`users`) or by
/// userName (`user-names`).
async fn bare_read(
    client: &reqwest::Client,
    address: std::net::SocketAddr,
    route: &'static str,
    users: &Arc<Vec<Made>>,
    from: usize,
    requests: usize,
    concurrency: usize,
) -> Stats {
    let (client, users) = (client.clone(), Arc::clone(users));
    let name = if route == "users" { "bare axum lookup by id" } else { "bare axum lookup by userName" };
    measure(name, requests, concurrency, move |i| {
        let made = &users[spread(from + i, users.len())];
        let key = if route == "users" { made.id.clone() } else { made.name.to_lowercase() };
        let client = client.clone();
        async move {
            match client.get(format!("http://{address}/{route}/{key}")).send().await {
                Ok(response) if response.status() == reqwest::StatusCode::OK => Ok(()),
                Ok(response) => Err(format!("answered {}", response.status().as_u16())),
                Err(_) => Err("without an answer".to_owned()),
            }
        }
    })
    .await
}

/// Starts a bare axum handler on the same database, in this process: one indexed lookup of
/// the stored document by primary key or by folded userName, no authentication, no audit,
/// no rendering. The yardstick for the SCIM reads.
async fn bare_handler(args: &Args) -> anyhow::Result<std::net::SocketAddr> {
    use axum::extract::{Path, State};
    use axum::routing::get;

    const BY_ID: &str = "SELECT doc FROM scim_resources WHERE tenant_id = $1 AND directory_id = $2 AND id = $3";
    const BY_NAME: &str = "SELECT doc FROM scim_resources \
        WHERE tenant_id = $1 AND directory_id = $2 AND resource_type = 'User' AND name_folded = $3";
    #[derive(Clone)]
    enum Db {
        Sqlite(sqlx::SqlitePool, Arc<(String, String)>),
        Postgres(sqlx::PgPool, uuid::Uuid, uuid::Uuid),
    }
    impl Db {
        async fn doc(&self, query: &'static str, key: &str) -> Option<Value> {
            let doc: Option<sqlx::types::Json<Value>> = match self {
                Db::Sqlite(pool, scope) => {
                    sqlx::query_scalar(query).bind(&scope.0).bind(&scope.1).bind(key).fetch_optional(pool).await
                }
                Db::Postgres(pool, tenant, directory) => {
                    sqlx::query_scalar(query).bind(tenant).bind(directory).bind(key).fetch_optional(pool).await
                }
            }
            .ok()
            .flatten();
            doc.map(|doc| doc.0)
        }
    }
    let db = if args.database_url.starts_with("sqlite") {
        let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(16).connect(&args.database_url).await?;
        Db::Sqlite(pool, Arc::new((args.tenant_id.clone(), args.directory_id.clone())))
    } else {
        let tenant = uuid::Uuid::parse_str(&args.tenant_id)?;
        let directory = uuid::Uuid::parse_str(&args.directory_id)?;
        let pool = sqlx::postgres::PgPoolOptions::new().max_connections(16).connect(&args.database_url).await?;
        Db::Postgres(pool, tenant, directory)
    };
    let answer = |doc: Option<Value>| match doc {
        Some(doc) => (axum::http::StatusCode::OK, doc.to_string()),
        None => (axum::http::StatusCode::NOT_FOUND, String::new()),
    };
    let app =
        axum::Router::new()
            .route(
                "/users/{id}",
                get(
                    move |State(db): State<Db>, Path(id): Path<String>| async move { answer(db.doc(BY_ID, &id).await) },
                ),
            )
            .route(
                "/user-names/{name}",
                get(move |State(db): State<Db>, Path(name): Path<String>| async move {
                    answer(db.doc(BY_NAME, &name).await)
                }),
            )
            .with_state(db);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(address)
}
