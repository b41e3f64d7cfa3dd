//! Two server processes on one database, as a scaled-out deployment runs: optimistic
//! concurrency must pick exactly one winner, and a directory's changes must stay numbered
//! in commit order, whichever process commits them.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};
use service::directories::{self, TokenRequest};
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
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_server"))
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

backend_tests!(two_processes_agree_on_one_winner_and_one_order);

async fn two_processes_agree_on_one_winner_and_one_order(db: TestDatabase) {
    // The first operator exists already, so neither process bootstraps one.
    let email = service::operators::OperatorEmail::parse("ops@vendor.example").unwrap();
    let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 11, 25, 9, 0, 0).unwrap();
    service::operators::bootstrap_first_operator(&db.store, &email, "a long enough password".into(), now)
        .await
        .unwrap();
    let tenant = directories::ensure_tenant(&db.store, &"acme".parse().unwrap(), now).await.unwrap();
    let directory = directories::create_directory(&db.store, tenant.id, IdentityProvider::Okta, now).await.unwrap();
    let request = TokenRequest { label: "t".into(), read_only: false, expires_at: None };
    let token = directories::issue_token(&db.store, tenant.id, directory.id, request, now).await.unwrap().secret;
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
