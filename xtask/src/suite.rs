//! `cargo xtask test`: every check, in order from fast to real, with one summary line.
//!
//! 1. formatting;
//! 2. clippy, for the host crates and for the browser bundle (wasm32);
//! 3. all cargo tests, with a throwaway PostgreSQL cluster, so that storage and HTTP tests
//!    run on SQLite and on PostgreSQL;
//! 4. a release build of the site, served from a fresh SQLite database and driven by the
//!    browser tests in headless Chromium, then stopped with SIGTERM to check that it shuts
//!    down cleanly.
//!
//! A failed step does not stop the steps that do not depend on it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::postgres::Cluster;
use crate::process::{self, cargo};
use crate::{site, tools, workspace_root};

#[derive(Debug)]
pub(crate) struct Options {
    pub(crate) browser: bool,
}

/// Counts across every step; a step that fails without running tests counts as one failure.
#[derive(Debug, Default)]
struct Tally {
    passed: u64,
    failed: u64,
    skipped: u64,
    failed_steps: Vec<String>,
}

impl Tally {
    fn check(&mut self, name: &str, ok: bool) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            self.failed_steps.push(name.to_owned());
        }
    }

    /// Records a step that ran tests: their counts, plus one failure if the step failed
    /// without any test failing (a build error, a crash).
    fn tests(&mut self, name: &str, ok: bool, counts: Counts) {
        self.passed += counts.passed;
        self.failed += counts.failed;
        self.skipped += counts.skipped;
        if !ok {
            if counts.failed == 0 {
                self.failed += 1;
            }
            self.failed_steps.push(name.to_owned());
        }
    }
}

#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    passed: u64,
    failed: u64,
    skipped: u64,
}

pub(crate) fn run(options: &Options) -> anyhow::Result<()> {
    let root = workspace_root();
    let started = Instant::now();
    let mut tally = Tally::default();
    tools::ensure_wasm_target()?;

    step("formatting");
    let ok = process::run(cargo().args(["fmt", "--all", "--", "--check"]).current_dir(&root)).is_ok();
    tally.check("formatting", ok);

    step("clippy");
    let ok = process::run(
        cargo()
            .args([
                "clippy",
                "--locked",
                "--workspace",
                "--exclude",
                "frontend",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(&root),
    )
    .is_ok();
    tally.check("clippy", ok);
    let ok = process::run(
        cargo()
            .args([
                "clippy",
                "--locked",
                "--package",
                "frontend",
                "--target",
                tools::WASM_TARGET,
                "--",
                "-D",
                "warnings",
            ])
            .current_dir(&root),
    )
    .is_ok();
    tally.check("clippy (browser bundle)", ok);

    step("unit and integration tests (SQLite and PostgreSQL)");
    let smtp_python = tools::ensure_smtp_python(&root)?;
    match Cluster::start() {
        Ok(cluster) => {
            println!("xtask: PostgreSQL test cluster at {}", cluster.url);
            let mut counts = Counts::default();
            let ok = process::run_watching(
                cargo()
                    .args(["test", "--locked", "--no-fail-fast", "--workspace", "--exclude", "frontend"])
                    .env("TEST_POSTGRES_URL", &cluster.url)
                    .env("TEST_SMTP_PYTHON", &smtp_python)
                    .current_dir(&root),
                |line| count_cargo_test_line(line, &mut counts),
            )?;
            tally.tests("cargo test", ok, counts);
            drop(cluster);
        }
        Err(error) => {
            eprintln!("xtask: cannot start PostgreSQL: {error:#}");
            tally.check("PostgreSQL test cluster", false);
        }
    }

    if options.browser {
        step("browser tests (release build, headless Chromium)");
        if let Err(error) = browser_tests(&root, &mut tally) {
            eprintln!("xtask: browser tests could not run: {error:#}");
            tally.check("browser tests", false);
        }
        step("hostile client (a minute of attacks beside a tenant's provisioning)");
        if let Err(error) = hostile_client(&root, &mut tally) {
            eprintln!("xtask: the hostile-client test could not run: {error:#}");
            tally.check("hostile client", false);
        }
    }

    println!();
    println!("xtask: finished in {:.0?}", started.elapsed());
    if !tally.failed_steps.is_empty() {
        println!("xtask: failed: {}", tally.failed_steps.join(", "));
    }
    println!("total: {} passed, {} failed, {} skipped", tally.passed, tally.failed, tally.skipped);
    if tally.failed > 0 {
        bail!("{} failed", tally.failed);
    }
    Ok(())
}

fn step(name: &str) {
    println!();
    println!("==> {name}");
}

/// `test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; ...`
fn count_cargo_test_line(line: &str, counts: &mut Counts) {
    let Some(rest) = line.strip_prefix("test result: ") else {
        return;
    };
    for part in rest.split(';') {
        let mut words = part.split_whitespace().rev();
        let (Some(label), Some(number)) = (words.next(), words.next()) else {
            continue;
        };
        let Ok(number) = number.parse::<u64>() else {
            continue;
        };
        match label {
            "passed" => counts.passed += number,
            "failed" => counts.failed += number,
            "ignored" => counts.skipped += number,
            _ => {}
        }
    }
}

/// Node's test runner summary: `ℹ pass 3` (spec reporter) or `# pass 3` (TAP).
fn count_node_test_line(line: &str, counts: &mut Counts) {
    let line = line.trim_start_matches(['ℹ', '#', ' ']);
    let mut words = line.split_whitespace();
    let (Some(label), Some(number), None) = (words.next(), words.next(), words.next()) else {
        return;
    };
    let Ok(number) = number.parse::<u64>() else {
        return;
    };
    match label {
        "pass" => counts.passed += number,
        "fail" => counts.failed += number,
        "skipped" | "todo" => counts.skipped += number,
        _ => {}
    }
}

fn browser_tests(root: &Path, tally: &mut Tally) -> anyhow::Result<()> {
    let server_binary = site::build(site::Profile::Release)?;
    let chromium = tools::ensure_chromium()?;
    let artifacts = root.join("artifacts");
    std::fs::create_dir_all(&artifacts)?;

    let data = std::env::temp_dir().join(format!("scim-e2e-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data)?;
    let address = SocketAddr::from(([127, 0, 0, 1], TcpListener::bind("127.0.0.1:0")?.local_addr()?.port()));
    let database_url = format!("sqlite://{}", data.join("portal.db").display());
    // A real SMTP server: the browser tests follow the links the product emails.
    let mailbox = artifacts.join("mailbox.jsonl");
    let smtp = SmtpSink::start(root, &mailbox)?;
    let smtp_url = format!("smtp://127.0.0.1:{}", smtp.port);
    // The Google Workspace connector reads a stand-in of Google's APIs.
    let google = GoogleStandIn::start(root)?;
    let google_base = format!("http://127.0.0.1:{}", google.port);
    let google_token_url = format!("{google_base}/token");
    let mut server = Server::start(
        &server_binary,
        root,
        address,
        &database_url,
        &artifacts.join("server.log"),
        BROWSER_TEST_LOG_FILTER,
        &[
            ("SMTP_URL", &smtp_url),
            ("MAIL_FROM", "Vendor <noreply@e2e.example>"),
            ("GOOGLE_TOKEN_URL", &google_token_url),
            ("GOOGLE_API_BASE", &google_base),
        ],
    )?;

    // Demo mode on a server of its own: its simulated identity provider writes all the time.
    let demo_address = SocketAddr::from(([127, 0, 0, 1], TcpListener::bind("127.0.0.1:0")?.local_addr()?.port()));
    let demo_database = format!("sqlite://{}", data.join("demo.db").display());
    let _demo = Server::start(
        &server_binary,
        root,
        demo_address,
        &demo_database,
        &artifacts.join("demo-server.log"),
        BROWSER_TEST_LOG_FILTER,
        &[
            ("DEMO", "true"),
            ("DEMO_ADMIN_PASSWORD", E2E_DEMO_ADMIN_PASSWORD),
            ("DEMO_REQUEST_SECONDS", "1"),
            ("DEMO_FAILURE_SECONDS", "10"),
            ("AUDIT_SIGNING_KEY_FILE", &data.join("demo-audit.key").display().to_string()),
            ("SECRETS_KEY_FILE", &data.join("demo-secrets.key").display().to_string()),
        ],
    )?;

    let api_key = operator_api_key(&server_binary, &database_url)?;
    let mut counts = Counts::default();
    let ok = process::run_watching(
        Command::new("node")
            .args(["--test", "--test-reporter=spec", "--test-concurrency=1", "end2end/tests/"])
            .env("BASE_URL", format!("http://{address}"))
            .env("E2E_API_KEY", api_key)
            .env("CHROMIUM_PATH", chromium)
            .env("ARTIFACTS_DIR", &artifacts)
            .env("E2E_OPERATOR_EMAIL", E2E_OPERATOR_EMAIL)
            .env("E2E_OPERATOR_PASSWORD", E2E_OPERATOR_PASSWORD)
            .env("E2E_MAILBOX", &mailbox)
            .env("E2E_DEMO_URL", format!("http://{demo_address}"))
            .env("E2E_DEMO_ADMIN_PASSWORD", E2E_DEMO_ADMIN_PASSWORD)
            .env("E2E_GOOGLE_STAND_IN", &google_base)
            .current_dir(root),
        |line| count_node_test_line(line, &mut counts),
    )?;
    tally.tests("browser tests", ok, counts);

    step("SCIM conformance checkers (../shared/conformance)");
    if let Err(error) = conformance(&server_binary, root, address, &database_url, tally) {
        eprintln!("xtask: the conformance checkers could not run: {error:#}");
        tally.check("SCIM conformance", false);
    }

    let stopped_cleanly = server.stop_gracefully(Duration::from_secs(15));
    println!("xtask: server stopped on SIGTERM: {}", if stopped_cleanly { "cleanly" } else { "NOT cleanly" });
    tally.check("graceful shutdown on SIGTERM", stopped_cleanly);
    // A panic in a task the server spawned shows nowhere but in its log: none is allowed.
    let log = std::fs::read_to_string(artifacts.join("server.log")).unwrap_or_default();
    let panics: Vec<&str> = panic_lines(&log);
    for line in &panics {
        eprintln!("xtask: the server logged a panic: {line}");
    }
    tally.check("no panic in the server's log", panics.is_empty());
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}

/// The hostile-client test (`bench/src/bin/hostile.rs`) against a release server of its
/// own, on a fresh SQLite database, with nothing else running: the attacker's tenant has
/// one directory and one admin, the other tenant's identity provider provisions.
fn hostile_client(root: &Path, tally: &mut Tally) -> anyhow::Result<()> {
    process::run(
        cargo().args(["build", "--release", "--locked", "--package", "bench", "--bin", "hostile"]).current_dir(root),
    )?;
    let server_binary = root.join("target/release/server");
    let data = std::env::temp_dir().join(format!("scim-hostile-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data)?;
    let address = SocketAddr::from(([127, 0, 0, 1], TcpListener::bind("127.0.0.1:0")?.local_addr()?.port()));
    let database_url = format!("sqlite://{}", data.join("portal.db").display());
    let log = root.join("artifacts/hostile-server.log");
    let mut server = Server::start(&server_binary, root, address, &database_url, &log, "info,sqlx=warn", &[])?;
    let attacker = CreatedDirectory::new(&server_binary, &database_url, address, "attacker", &[])?;
    let victim = CreatedDirectory::new(&server_binary, &database_url, address, "victim", &[])?;
    let link = process::output(
        Command::new(&server_binary)
            .args(["admin", "create-setup-link", "--tenant", "attacker", "--json"])
            .env("DATABASE_URL", &database_url)
            .env("PUBLIC_URL", format!("http://{address}"))
            .env("RUST_LOG", "warn"),
    )?;
    let link = json_string_field(&link, "url").with_context(|| format!("url in {link}"))?;
    // A plain run: `run_watching` prints the report's lines itself.
    let ok = process::run_watching(
        Command::new(root.join("target/release/hostile"))
            .args(["--base", &format!("http://{address}")])
            .args(["--attacker-scim", &attacker.field("scim_base_url")?, "--attacker-token", &attacker.field("token")?])
            .args(["--attacker-setup-link", &link])
            .args(["--victim-scim", &victim.field("scim_base_url")?, "--victim-token", &victim.field("token")?])
            .args(["--server-pid", &server.pid().to_string()]),
        |_| {},
    )?;
    tally.check("hostile client", ok);
    server.stop_gracefully(Duration::from_secs(15));
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}

/// A key of the operator API for the browser tests' deployment (the WorkOS SDK test uses
/// it), made with the server's own command, as an operator would.
pub(crate) fn operator_api_key(server_binary: &Path, database_url: &str) -> anyhow::Result<String> {
    let output = Command::new(server_binary)
        .args(["admin", "create-api-key", "--label", "browser tests", "--json"])
        .env("DATABASE_URL", database_url)
        .output()
        .context("running `server admin create-api-key`")?;
    if !output.status.success() {
        bail!("`server admin create-api-key` failed: {}", String::from_utf8_lossy(&output.stderr));
    }
    // One JSON object: {"id": …, "key": "scimk_…", "api_base_url": …}.
    let printed: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("reading the output of `server admin create-api-key`")?;
    let key = printed["key"].as_str().context("no key in the output of `server admin create-api-key`")?;
    Ok(key.to_owned())
}

/// The lines of a server log that report a panic (the server logs each as an error line
/// that says it panicked).
fn panic_lines(log: &str) -> Vec<&str> {
    log.lines().filter(|line| line.contains("panicked")).collect()
}

/// Runs each independent conformance checker against a fresh directory of the running
/// server (scim2-tester's listing checks assume an empty one). Each script ends with
/// `N passed, M failed, K skipped`.
fn conformance(
    binary: &Path,
    root: &Path,
    address: SocketAddr,
    database_url: &str,
    tally: &mut Tally,
) -> anyhow::Result<()> {
    let scripts = root.join("../shared/conformance");
    if !scripts.join("run-scim2-tester.sh").is_file() {
        bail!("{} is missing: the checkers live in ../shared beside the repository", scripts.display());
    }
    tools::ensure_python_venv()?;
    // RFC 7644 §3.5.2 lets PATCH answer 204; this server does for membership changes of a
    // group, whose full representation could list 100,000 members.
    // scim2-tester fills every writable attribute of every schema a resource type lists,
    // and has no case for dateTime: it checks a directory without the non-human identity
    // extension (whose expiresAt is one), so that it covers every core and enterprise User
    // attribute; scim-sanity checks one with it, where the Agent and AgenticApplication
    // resource types are served: it skips its agent checks unless /ResourceTypes names
    // them, so a skip there fails the step (the last field below).
    let checkers = [
        Checker {
            name: "scim2-tester",
            script: "run-scim2-tester.sh",
            options: &[],
            directory_options: &["--nonhuman-extension", "off"],
            skips_fail: false,
        },
        Checker {
            name: "scim-sanity",
            script: "run-scim-sanity.sh",
            options: &["--allow-patch-204"],
            directory_options: &[],
            skips_fail: true,
        },
    ];
    for Checker { name, script, options, directory_options, skips_fail } in checkers {
        let created = CreatedDirectory::new(binary, database_url, address, "conformance", directory_options)?;
        let (base_url, token) = (created.field("scim_base_url")?, created.field("token")?);
        println!("xtask: {name} against {base_url}");
        let mut counts = Counts::default();
        let mut waived = 0;
        let ok = process::run_watching(
            Command::new("bash").arg(scripts.join(script)).args([&base_url, &token]).args(options),
            |line| {
                if let Some(reason) = not_applicable(line.trim()) {
                    println!("xtask: not applicable here: {reason}");
                    waived += 1;
                }
                count_checker_line(line, &mut counts);
            },
        )?;
        if skips_fail && counts.skipped > 0 {
            println!("xtask: {name} skipped {} checks; every one of them must run here", counts.skipped);
        }
        let ran_everything = !skips_fail || counts.skipped == 0;
        // Only exactly the waived failures may be discounted; anything else still fails.
        let ok = (ok || counts.failed == waived) && ran_everything;
        counts.failed -= waived.min(counts.failed);
        counts.skipped += waived;
        tally.tests(&format!("conformance: {name}"), ok && counts.failed == 0, counts);
    }
    Ok(())
}

/// One conformance checker and how it is run.
struct Checker {
    name: &'static str,
    /// Its script in `../shared/conformance`.
    script: &'static str,
    options: &'static [&'static str],
    /// Options of `admin create-directory` for the directory it checks.
    directory_options: &'static [&'static str],
    /// Whether a check it skips fails the step.
    skips_fail: bool,
}

/// Why a checker's failure line does not apply here, if it is one of those listed.
fn not_applicable(line: &str) -> Option<&'static str> {
    NOT_APPLICABLE.iter().find(|(failure, _)| line == *failure).map(|(_, reason)| *reason)
}

/// Checker failures that contradict a requirement of this product, each with the reason.
/// A failure line must match exactly (check and message) to be counted as skipped.
const NOT_APPLICABLE: &[(&str, &str)] = &[(
    "FAIL PATCH /Groups/{id} add member -- Expected 200, got 400",
    "scim-sanity adds the member id \"fake-member-id\", which exists nowhere; group members must be \
     users or groups of the same directory, so the server answers 400 invalidValue",
)];

/// A directory with its first token, made by the server's own `admin create-directory`
/// against the database of a running server.
pub(crate) struct CreatedDirectory {
    output: String,
}

impl CreatedDirectory {
    /// Creates a directory of `tenant` (a `generic` one); `options` go to the command.
    pub(crate) fn new(
        binary: &Path,
        database_url: &str,
        address: SocketAddr,
        tenant: &str,
        options: &[&str],
    ) -> anyhow::Result<Self> {
        let output = process::output(
            Command::new(binary)
                .args(["admin", "create-directory", "--tenant", tenant, "--idp", "generic", "--json"])
                .args(options)
                .env("DATABASE_URL", database_url)
                .env("PUBLIC_URL", format!("http://{address}"))
                .env("RUST_LOG", "warn"),
        )?;
        Ok(Self { output })
    }

    /// A string field of the printed JSON (`scim_base_url`, `token`, `directory`, …).
    pub(crate) fn field(&self, name: &str) -> anyhow::Result<String> {
        json_string_field(&self.output, name).with_context(|| format!("{name} in {}", self.output))
    }
}

/// `"field": "value"` from a one-line JSON object whose string values need no unescaping
/// (URLs and base64url tokens).
fn json_string_field(json: &str, field: &str) -> Option<String> {
    let start = json.find(&format!("\"{field}\":\""))? + field.len() + 4;
    let end = start + json[start..].find('"')?;
    Some(json[start..end].to_owned())
}

/// The checkers' summary line: `N passed, M failed, K skipped`.
fn count_checker_line(line: &str, counts: &mut Counts) {
    let words: Vec<&str> = line.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    if let [passed, "passed", failed, "failed", skipped, "skipped"] = words.as_slice()
        && let (Ok(passed), Ok(failed), Ok(skipped)) = (passed.parse(), failed.parse(), skipped.parse())
    {
        *counts = Counts { passed, failed, skipped };
    }
}

/// The browser tests log every request, so a failure can be read against the server's log.
const BROWSER_TEST_LOG_FILTER: &str = "info,tower_http=debug,sqlx=warn";

/// The first operator of the browser tests' deployment.
const E2E_OPERATOR_EMAIL: &str = "operator@e2e.example";
const E2E_OPERATOR_PASSWORD: &str = "end-to-end test password";
/// The demo tenant's admin on the browser tests' demo-mode server.
const E2E_DEMO_ADMIN_PASSWORD: &str = "demo admin test password";

/// The tests' SMTP server (aiosmtpd, `server/tests/support/smtp_sink.py`): it accepts every
/// message and appends it as a JSON line to a file; it stops when dropped.
pub(crate) struct SmtpSink {
    child: Child,
    pub(crate) port: u16,
}

impl SmtpSink {
    pub(crate) fn start(root: &Path, mailbox: &Path) -> anyhow::Result<Self> {
        let python = tools::ensure_smtp_python(root)?;
        let _ = std::fs::remove_file(mailbox);
        let mut child = Command::new(&python)
            .arg(root.join("server/tests/support/smtp_sink.py"))
            .arg(mailbox)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .with_context(|| format!("starting the SMTP server with {}", python.display()))?;
        let mut line = String::new();
        let stdout = child.stdout.take().context("the SMTP server's output")?;
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
        let port = line.trim().parse().with_context(|| format!("the SMTP server did not start: {line:?}"))?;
        Ok(Self { child, port })
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The browser tests' stand-in of Google's token endpoint and Directory API
/// (`end2end/google-stand-in.mjs`); it stops when dropped.
struct GoogleStandIn {
    child: Child,
    port: u16,
}

impl GoogleStandIn {
    fn start(root: &Path) -> anyhow::Result<Self> {
        let mut child = Command::new("node")
            .arg(root.join("end2end/google-stand-in.mjs"))
            .stdout(std::process::Stdio::piped())
            .spawn()
            .context("starting the Google stand-in with node")?;
        let mut line = String::new();
        let stdout = child.stdout.take().context("the Google stand-in's output")?;
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
        let port = line.trim().parse().with_context(|| format!("the Google stand-in did not start: {line:?}"))?;
        Ok(Self { child, port })
    }
}

impl Drop for GoogleStandIn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The release server, started for the browser tests (or a benchmark) on its own database.
#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
}

impl Server {
    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn start(
        binary: &Path,
        root: &Path,
        address: SocketAddr,
        database_url: &str,
        log: &Path,
        log_filter: &str,
        // More environment variables (the benchmark's settings), over the tests' own.
        settings: &[(&str, &str)],
    ) -> anyhow::Result<Self> {
        let log_file = std::fs::File::create(log)?;
        let child = Command::new(binary)
            .env("DATABASE_URL", database_url)
            .env("BIND_ADDR", address.to_string())
            .env("PUBLIC_URL", format!("http://{address}"))
            .env("SITE_ROOT", root.join("target/site"))
            .env("RUST_LOG", log_filter)
            .env("OPERATOR_EMAIL", E2E_OPERATOR_EMAIL)
            .env("OPERATOR_PASSWORD", E2E_OPERATOR_PASSWORD)
            // The browser tests' webhook receiver runs on this machine.
            .env("WEBHOOKS_ALLOW_INTERNAL_TARGETS", "true")
            // The alert test waits for the next check.
            .env("ALERT_CHECK_SECONDS", "1")
            .envs(settings.iter().copied())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let mut server = Self { child };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Some(status) = server.child.try_wait()? {
                bail!("the server exited with {status} before it was ready; see {}", log.display());
            }
            if http_status(address, "/readyz").is_ok_and(|status| status == 200) {
                return Ok(server);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        bail!("the server was not ready within 30 s; see {}", log.display())
    }

    /// Sends SIGTERM and waits for a zero exit status.
    pub(crate) fn stop_gracefully(&mut self, within: Duration) -> bool {
        let pid = self.child.id().to_string();
        if Command::new("kill").args(["-TERM", &pid]).status().map_or(true, |s| !s.success()) {
            return false;
        }
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            match self.child.try_wait() {
                Ok(Some(status)) => return status.success(),
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                Err(_) => return false,
            }
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A minimal HTTP/1.0 GET, enough to poll a readiness probe without an HTTP client crate.
fn http_status(address: SocketAddr, path: &str) -> anyhow::Result<u16> {
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {address}\r\n\r\n")?;
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head)?;
    let status = std::str::from_utf8(&head[9..12])?.parse()?;
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_checker_failures_are_waived() {
        let listed = "FAIL PATCH /Groups/{id} add member -- Expected 200, got 400";
        assert!(not_applicable(listed).is_some());
        assert!(not_applicable(&format!("{listed} | and more")).is_none());
        assert!(not_applicable("FAIL PATCH /Groups/{id} add member -- Expected 200, got 500").is_none());
        // scim2-tester's dateTime defect is no longer waived: it checks a directory without
        // the extension whose expiresAt it cannot fill.
        let defect = "FAIL [User] object_replacement  (ERROR) -- 1 validation error for NonHumanUser | expires_at |   \
            Input should be a valid datetime or date, invalid character in year [type=datetime_from_date_parsing] |     \
            For further information visit https://errors.pydantic.dev/2.14/v/datetime_from_date_parsing";
        assert!(not_applicable(defect).is_none());
    }

    #[test]
    fn panics_in_the_server_log_are_found() {
        let log = "INFO request{request_id=1}: started\n\
                   ERROR request{request_id=2}: a thread panicked panic=boom location=app/src/x.rs:1\n\
                   thread 'tokio-rt-worker' panicked at src/y.rs:2:3:\n";
        assert_eq!(panic_lines(log).len(), 2);
        assert!(panic_lines("INFO all well\n").is_empty());
    }

    #[test]
    fn cargo_test_result_lines_are_counted() {
        let mut counts = Counts::default();
        count_cargo_test_line(
            "test result: ok. 12 passed; 1 failed; 3 ignored; 0 measured; 0 filtered out; finished in 0.01s",
            &mut counts,
        );
        count_cargo_test_line("test parse::works ... ok", &mut counts);
        assert_eq!((counts.passed, counts.failed, counts.skipped), (12, 1, 3));
    }

    #[test]
    fn checker_summary_lines_are_counted() {
        let mut counts = Counts::default();
        count_checker_line("check x passed", &mut counts);
        count_checker_line("131 passed, 2 failed, 4 skipped", &mut counts);
        assert_eq!((counts.passed, counts.failed, counts.skipped), (131, 2, 4));
    }

    #[test]
    fn create_directory_output_fields_are_read() {
        let line = r#"{"directory":"d","scim_base_url":"http://127.0.0.1:1/scim/v2/d","token":"scim_AbC-_1"}"#;
        assert_eq!(json_string_field(line, "token").as_deref(), Some("scim_AbC-_1"));
        assert_eq!(json_string_field(line, "scim_base_url").as_deref(), Some("http://127.0.0.1:1/scim/v2/d"));
    }

    #[test]
    fn node_summary_lines_are_counted_in_both_reporters() {
        let mut counts = Counts::default();
        for line in ["ℹ tests 5", "ℹ pass 4", "ℹ fail 1", "# skipped 2", "ℹ duration_ms 1234.5", "ok 1 - pass 3 things"]
        {
            count_node_test_line(line, &mut counts);
        }
        assert_eq!((counts.passed, counts.failed, counts.skipped), (4, 1, 2));
    }
}
