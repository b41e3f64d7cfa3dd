//! Demo mode: the demo tenant, its Okta directory and its admin are made once; each start
//! issues the simulated identity provider a fresh token and revokes the last; the provider
//! provisions the company over real SCIM requests, then keeps a trickle going with a
//! failing request now and then. The server started with `DEMO=true` does all of it.

use std::time::{Duration, Instant};

use serde_json::Value;
use service::demo::{self, SimulatedProvider};
use store::testing::TestDatabase;

use crate::TestServer;
use crate::onboarding::Visitor;

store::backend_tests!(
    demo_mode_makes_a_tenant_whose_simulated_provider_keeps_provisioning,
    a_server_started_in_demo_mode_provisions_its_demo_tenant,
);

async fn scim_get(base: &str, token: &str, path: &str) -> (u16, Value) {
    let response = reqwest::Client::new().get(format!("{base}{path}")).bearer_auth(token).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn demo_mode_makes_a_tenant_whose_simulated_provider_keeps_provisioning(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let effects = service::Effects::system();
    let first = demo::prepare(&db.store, Some("a demo admin password"), &effects).await.unwrap();
    assert_eq!(first.new_admin_password.as_deref(), Some("a demo admin password"));
    let base = format!("http://{}/scim/v2/{}", server.address(), first.directory);

    // The company: 16 people, then 6 teams with their members.
    let mut provider = SimulatedProvider::new(base.clone(), first.token.clone());
    let steps = provider.start().await.unwrap();
    assert_eq!(steps.len(), 22, "{steps:?}");
    assert!(steps.iter().all(|step| step.status == 201), "{steps:?}");
    let (_, groups) = scim_get(&base, &first.token, "/Groups?filter=displayName%20eq%20%22Engineering%22").await;
    assert_eq!(groups["Resources"][0]["members"].as_array().unwrap().len(), 6, "{groups}");

    // The trickle: every 6th request fails (a create whose userName is taken), the rest
    // succeed: title changes, membership changes, hires, leavers.
    let mut trickle = Vec::new();
    for _ in 0..18 {
        trickle.push(provider.next(6).await.unwrap());
    }
    let (failed, succeeded): (Vec<_>, Vec<_>) = trickle.iter().partition(|step| step.status >= 400);
    assert_eq!(failed.len(), 3, "{trickle:?}");
    assert!(failed.iter().all(|step| step.status == 409), "{trickle:?}");
    assert!(succeeded.iter().all(|step| (200..300).contains(&step.status)), "{trickle:?}");
    for kind in ["title)", "PATCH /Groups", "POST /Users (claude.shannon@demo.example)", "leaves: deactivated"] {
        assert!(trickle.iter().any(|step| step.request.contains(kind)), "no {kind} in {trickle:?}");
    }

    // Its admin signs in with the password (the address confirmed by the deployment).
    let admin = Visitor::new(&server);
    let signed_in =
        admin.post_form("/api/sign_in", &[("email", demo::ADMIN_EMAIL), ("password", "a demo admin password")]).await;
    assert!(signed_in.status().is_redirection(), "{}", signed_in.status());
    assert_eq!(signed_in.headers()["location"], "/admin");

    // A restart: the same tenant and directory, no second admin, a new token (the old one
    // refused), and a provider that finds the company there and sends no creates.
    let again = demo::prepare(&db.store, None, &effects).await.unwrap();
    assert_eq!((again.tenant, again.directory), (first.tenant, first.directory));
    assert!(again.new_admin_password.is_none());
    assert_eq!(scim_get(&base, &first.token, "/Users?count=1").await.0, 401);
    let mut restarted = SimulatedProvider::new(base.clone(), again.token.clone());
    assert!(restarted.start().await.unwrap().is_empty());
    assert!((200..300).contains(&restarted.next(0).await.unwrap().status));
}

async fn a_server_started_in_demo_mode_provisions_its_demo_tenant(db: TestDatabase) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = crate::server_binary()
        .env("DATABASE_URL", db.url.as_str())
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env("PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("DEMO", "true")
        .env("DEMO_ADMIN_PASSWORD", "a demo admin password")
        .env("DEMO_REQUEST_SECONDS", "1")
        .env("DEMO_FAILURE_SECONDS", "2")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let outcome = loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let tenant = db.store.tenant_by_slug(&demo::TENANT.parse().unwrap()).await.unwrap();
        if let Some(tenant) = tenant {
            let records = db.store.tenant(tenant.id).audit_records(0, 5000).await.unwrap();
            let requests: Vec<_> = records.iter().filter(|r| r.action == "scim.request").collect();
            let created = requests.iter().filter(|r| r.status == Some(201)).count();
            let updated =
                requests.iter().filter(|r| r.method.as_deref() == Some("PATCH") && r.status == Some(200)).count();
            let failed = requests.iter().filter(|r| r.status == Some(409)).count();
            if created >= 22 && updated >= 1 && failed >= 1 {
                break Ok(());
            }
            if Instant::now() > deadline {
                break Err(format!("{created} created, {updated} updated, {failed} failed"));
            }
        } else if Instant::now() > deadline {
            break Err("no demo tenant".to_owned());
        }
    };
    let _ = child.kill();
    let _ = child.wait();
    outcome.unwrap();
}
