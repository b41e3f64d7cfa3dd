//! The audit trail of SCIM requests and operator commands.

use serde_json::json;
use store::testing::{FreshId as _, TestDatabase};
use store::{AuditOutcome, TenantSlug};

use crate::TestServer;
use crate::operator_api::Directory;

store::backend_tests!(
    every_authenticated_scim_request_is_recorded_with_failures_explained,
    each_write_is_recorded_with_the_attributes_it_changed_before_and_after,
    a_bulk_request_is_recorded_with_the_changes_of_each_operation_that_succeeded,
    refused_requests_are_recorded_with_their_reason_within_a_per_minute_allowance,
    support_sees_failures_across_tenants_by_cause_and_its_viewing_is_recorded,
    the_command_line_records_operator_commands_and_verifies_the_chain,
    a_history_rewritten_with_recomputed_hashes_is_caught_by_the_signed_checkpoints,
    a_failed_request_keeps_a_bounded_redacted_excerpt_and_a_refused_one_no_body,
);

async fn every_authenticated_scim_request_is_recorded_with_failures_explained(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let globex = Directory::new(&db, &server, "globex").await;
    let client = reqwest::Client::new();

    let id = acme.create_user("bjensen").await;
    let created = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "BJENSEN", "password": "hunter2-secret"
    });
    let duplicate = acme.post_raw("/Users", &created).await;
    assert_eq!(duplicate, 409);
    acme.get_raw(&format!("/Users/{id}")).await;
    acme.get_raw("/Users?filter=userName%20eq%20%22bjensen%22").await;
    // Refused, at a known directory: in its trail, with the reason.
    let anonymous = client.get(format!("{}/Users", acme.scim_base())).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    globex.create_user("other").await;
    server.audit.flush().await;

    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap();
    let scope = db.store.tenant(tenant.id);
    // The requests, after the records of the fixtures' setup (tenant, directory, token).
    let records: Vec<_> =
        scope.audit_records(0, 100).await.unwrap().into_iter().filter(|r| r.action == "scim.request").collect();
    let summary: Vec<(&str, &str, i32)> =
        records.iter().map(|r| (r.method.as_deref().unwrap(), r.path.as_deref().unwrap(), r.status.unwrap())).collect();
    let base = format!("/scim/v2/{}", acme.id);
    assert_eq!(
        summary,
        [
            ("POST", format!("{base}/Users").as_str(), 201),
            ("POST", format!("{base}/Users").as_str(), 409),
            ("GET", format!("{base}/Users/{id}").as_str(), 200),
            ("GET", format!("{base}/Users?filter=userName%20eq%20%22bjensen%22").as_str(), 200),
            ("GET", format!("{base}/Users").as_str(), 401),
        ]
    );
    assert!(records.iter().all(|r| r.action == "scim.request" && r.directory == Some(acme.id)));
    assert!(records[..4].iter().all(|r| r.actor.starts_with("token:") && r.latency_ms.is_some()));
    let refused: serde_json::Value = serde_json::from_str(&records[4].detail).unwrap();
    assert_eq!((records[4].actor.as_str(), &refused["refusal"]), ("unauthenticated", &json!("no_token")));
    assert!(refused["explanation"].as_str().unwrap().contains("no bearer token"), "{refused}");
    assert_eq!(records[0].resource_id.as_deref(), Some(id.as_str()), "the created user");
    assert_eq!(records[2].resource_id.as_deref(), Some(id.as_str()));
    assert_eq!(records[0].outcome, AuditOutcome::Success);

    // The failure keeps its request, with the password redacted, and the SCIM error.
    let failure = &records[1];
    assert_eq!(failure.outcome, AuditOutcome::Failure);
    let detail: serde_json::Value = serde_json::from_str(&failure.detail).unwrap();
    assert_eq!(detail["dialect"], "okta");
    assert_eq!(detail["request"]["userName"], "BJENSEN");
    assert_eq!(detail["request"]["password"], "[redacted]");
    assert!(!failure.detail.contains("hunter2"), "{}", failure.detail);
    assert_eq!(detail["response"]["scimType"], "uniqueness");
    assert_eq!(detail["response"]["status"], "409");

    assert_eq!(scope.verify_audit_chain().await.unwrap().first_break, None);
    // The other tenant's request is in its own trail only.
    let other = db.store.tenant_by_slug(&TenantSlug::parse("globex").unwrap()).await.unwrap().unwrap();
    let others = db.store.tenant(other.id).audit_records(0, 100).await.unwrap();
    assert_eq!(others.iter().filter(|r| r.action == "scim.request").count(), 1, "{others:?}");
}

async fn refused_requests_are_recorded_with_their_reason_within_a_per_minute_allowance(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let client = reqwest::Client::new();
    let get = |token: &str, base: String| {
        let request = client.get(format!("{base}/Users")).bearer_auth(token);
        async move { request.send().await.unwrap() }
    };
    let scim_base = acme.scim_base().to_owned();
    let not_ours = get("Basic-looking", scim_base.clone()).await;
    let unknown = get("scim_0000000000000000000000000000000000000000000", scim_base.clone()).await;
    // Every refusal gets the same answer, and so does an unknown directory.
    let unknown_directory =
        get("scim_x", format!("http://{}/scim/v2/{}", server.address(), store::DirectoryId::fresh())).await;
    let (a, b, c) = (not_ours.status(), unknown.status(), unknown_directory.status());
    assert_eq!((a.as_u16(), b.as_u16(), c.as_u16()), (401, 401, 401));
    let bodies =
        (not_ours.text().await.unwrap(), unknown.text().await.unwrap(), unknown_directory.text().await.unwrap());
    assert!(bodies.0 == bodies.1 && bodies.1 == bodies.2, "{bodies:?}");
    // A client hammering with a dead token fills the trail up to the allowance only.
    for _ in 0..40 {
        assert_eq!(get("scim_dead", scim_base.clone()).await.status(), 401);
    }
    server.audit.flush().await;

    let records = scim_requests(&db, "acme").await;
    let reasons: Vec<String> = records
        .iter()
        .map(|r| serde_json::from_str::<serde_json::Value>(&r.detail).unwrap()["refusal"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reasons.len(), 30, "{reasons:?}");
    assert_eq!(&reasons[..3], ["not_our_token", "unknown_token", "unknown_token"]);
    assert!(records.iter().all(|r| r.outcome == AuditOutcome::Failure && r.status == Some(401)));
}

async fn support_sees_failures_across_tenants_by_cause_and_its_viewing_is_recorded(db: TestDatabase) {
    use service::support::{self, FailureCause};
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let globex = Directory::new(&db, &server, "globex").await;
    let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada"});
    for directory in [&acme, &globex] {
        assert_eq!(directory.post_raw("/Users", &user).await, 201);
        assert_eq!(directory.post_raw("/Users", &user).await, 409);
    }
    assert_eq!(acme.get_raw("/Users?filter=shoeSize%20eq%20%2242%22").await, 400);
    assert_eq!(acme.get_raw("/Users/no-such-user").await, 404);
    let client = reqwest::Client::new();
    let refused = client.get(format!("{}/Users", globex.scim_base())).bearer_auth("scim_dead").send().await.unwrap();
    assert_eq!(refused.status(), 401);
    server.audit.flush().await;

    #[allow(clippy::disallowed_methods)] // the records were made at the real time
    let now = chrono::Utc::now();
    let summaries = support::failures_by_cause(&db.store, now).await.unwrap();
    let counted: Vec<(FailureCause, u64, usize)> = summaries.iter().map(|s| (s.cause, s.failures, s.tenants)).collect();
    assert_eq!(
        counted,
        [
            (FailureCause::UniquenessConflict, 2, 2),
            (FailureCause::AuthenticationFailure, 1, 1),
            (FailureCause::UnknownAttribute, 1, 1),
            (FailureCause::NotFound, 1, 1),
        ]
    );
    assert_eq!(summaries[0].per_hour.len(), 24);
    assert_eq!(summaries[0].per_hour[23], 2, "this hour's failures are in the last bucket");
    // Nothing older than the window counts.
    assert!(support::failures_by_cause(&db.store, now + chrono::Duration::hours(25)).await.unwrap().is_empty());

    let conflicts = support::failures_of(&db.store, FailureCause::UniquenessConflict, now, 10).await.unwrap();
    let tenants: Vec<&str> = conflicts.iter().map(|f| f.tenant_slug.as_str()).collect();
    assert_eq!(tenants.len(), 2);
    assert!(tenants.contains(&"acme") && tenants.contains(&"globex"));
    let acme_conflict = conflicts.iter().find(|f| f.tenant_slug.as_str() == "acme").unwrap();
    assert_eq!((acme_conflict.method.as_str(), acme_conflict.status), ("POST", 409));

    let support_engineer = store::OperatorId::fresh();
    let viewer = service::Actor::Operator {
        id: support_engineer,
        email: "sam@vendor.example".to_owned(),
        role: store::OperatorRole::Support,
    };
    let detail = support::failure_detail(&db.store, acme_conflict.tenant, acme_conflict.seq, &viewer, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(detail.request["userName"], "ada");
    assert_eq!(detail.response["scimType"], "uniqueness");
    assert!(detail.explanation.starts_with("Uniqueness conflict:"), "{}", detail.explanation);
    // The viewing is in acme's trail, and only there.
    let acme_records = db.store.tenant(acme_conflict.tenant).audit_records(0, 100).await.unwrap();
    let viewed = acme_records.last().unwrap();
    assert_eq!(
        (viewed.action.as_str(), viewed.actor.as_str()),
        ("support.viewed_request", format!("operator:{support_engineer}").as_str())
    );
    assert!(viewed.detail.contains(&format!("\"viewed_seq\":{}", acme_conflict.seq)), "{}", viewed.detail);
    assert!(viewed.detail.contains("sam@vendor.example"), "{}", viewed.detail);
    let globex_tenant = conflicts.iter().find(|f| f.tenant_slug.as_str() == "globex").unwrap().tenant;
    let globex_records = db.store.tenant(globex_tenant).audit_records(0, 100).await.unwrap();
    assert!(!globex_records.iter().any(|r| r.action.starts_with("support.")), "{globex_records:?}");
    // A successful request, or a sequence number the tenant does not have, is no failure.
    assert!(support::failure_detail(&db.store, acme_conflict.tenant, 1, &viewer, now).await.unwrap().is_none());
    assert!(support::failure_detail(&db.store, acme_conflict.tenant, 9999, &viewer, now).await.unwrap().is_none());
    assert_eq!(db.store.tenant(acme_conflict.tenant).verify_audit_chain().await.unwrap().first_break, None);
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

async fn each_write_is_recorded_with_the_attributes_it_changed_before_and_after(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let user = acme.create_user("ada@acme.example").await;
    acme.patch(
        &format!("/Users/{user}"),
        json!([{"op": "replace", "path": "title", "value": "Engineer"},
               {"op": "add", "path": format!("{ENTERPRISE}:department"), "value": "R&D"}]),
    )
    .await;
    acme.patch(
        &format!("/Users/{user}"),
        json!([{"op": "replace", "path": "title", "value": "Manager"},
               {"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Sales"}]),
    )
    .await;
    // A retried PATCH that changes nothing writes nothing, and records no change.
    acme.patch(&format!("/Users/{user}"), json!([{"op": "replace", "path": "title", "value": "Manager"}])).await;
    let group = acme
        .send(
            reqwest::Method::POST,
            "/Groups",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Staff"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    acme.patch(&format!("/Groups/{group}"), json!([{"op": "add", "path": "members", "value": [{"value": user}]}]))
        .await;
    acme.send(reqwest::Method::DELETE, &format!("/Users/{user}"), serde_json::Value::Null).await;
    server.audit.flush().await;

    let records = scim_requests(&db, "acme").await;
    let changes: Vec<serde_json::Value> = records
        .iter()
        .map(|r| serde_json::from_str::<serde_json::Value>(&r.detail).unwrap()["changes"].clone())
        .collect();
    assert_eq!(records.len(), 7, "{changes:#?}");
    let created = &changes[0][0];
    assert_eq!(
        (&created["write"], &created["id"], &created["resourceType"]),
        (&json!("created"), &json!(user), &json!("User"))
    );
    assert!(
        created["attributes"]
            .as_array()
            .unwrap()
            .contains(&json!({"attribute": "userName", "before": null, "after": "ada@acme.example"}))
    );
    assert_eq!(
        changes[2],
        json!([{"resourceType": "User", "id": user, "write": "updated", "name": "ada@acme.example", "attributes": [
            {"attribute": "title", "before": "Engineer", "after": "Manager"},
            {"attribute": format!("{ENTERPRISE}:department"), "before": "R&D", "after": "Sales"},
        ]}])
    );
    assert_eq!(changes[3], serde_json::Value::Null, "the retried PATCH changed nothing");
    assert_eq!(changes[4][0]["write"], "created");
    assert_eq!(
        changes[5],
        json!([{"resourceType": "Group", "id": group, "write": "updated", "attributes": [],
                "members": [{"op": "add", "ids": [user]}]}])
    );
    let deleted = &changes[6][0];
    assert_eq!((&deleted["write"], &deleted["id"]), (&json!("deleted"), &json!(user)));
    assert!(
        deleted["attributes"]
            .as_array()
            .unwrap()
            .contains(&json!({"attribute": "title", "before": "Manager", "after": null}))
    );
}

fn server_command(db: &TestDatabase, args: &[&str]) -> std::process::Output {
    crate::server_binary().args(args).env("DATABASE_URL", db.url.as_str()).output().unwrap()
}

async fn the_command_line_records_operator_commands_and_verifies_the_chain(db: TestDatabase) {
    let created = server_command(&db, &["admin", "create-directory", "--tenant", "acme", "--idp", "entra", "--json"]);
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let printed: serde_json::Value = serde_json::from_slice(&created.stdout).unwrap();
    let directory = printed["directory"].as_str().unwrap();
    let configured = server_command(
        &db,
        &[
            "admin",
            "configure-directory",
            "--tenant",
            "acme",
            "--directory",
            directory,
            "--rate-limit-per-second",
            "50",
        ],
    );
    assert!(configured.status.success(), "{}", String::from_utf8_lossy(&configured.stderr));

    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap();
    let records = db.store.tenant(tenant.id).audit_records(0, 10).await.unwrap();
    let actions: Vec<(&str, &str)> = records.iter().map(|r| (r.actor.as_str(), r.action.as_str())).collect();
    assert_eq!(actions, [("cli", "tenant.created"), ("cli", "directory.created"), ("cli", "directory.configured")]);
    assert_eq!(records[2].directory.map(|d| d.to_string()).as_deref(), Some(directory));
    assert!(records[2].detail.contains("\"rate_limit_per_second\":50"), "{}", records[2].detail);

    let intact = server_command(&db, &["admin", "verify-audit", "--tenant", "acme"]);
    assert!(intact.status.success(), "{}", String::from_utf8_lossy(&intact.stderr));
    assert!(String::from_utf8_lossy(&intact.stdout).contains("intact: 3 records"));

    let tamper = format!("UPDATE audit_records SET actor = 'someone' WHERE tenant_id = '{}' AND seq = 1", tenant.id);
    assert_eq!(db.execute_as_tenant(tenant.id, &tamper).await.unwrap(), 1);
    let broken = server_command(&db, &["admin", "verify-audit", "--tenant", "acme"]);
    assert!(!broken.status.success());
    let said = String::from_utf8_lossy(&broken.stderr);
    assert!(said.contains("record 1 was changed after it was written"), "{said}");
}

async fn a_bulk_request_is_recorded_with_the_changes_of_each_operation_that_succeeded(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "ada", "data": {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "ada@acme.example"}},
            {"method": "DELETE", "path": "/Users/no-such-user"},
            {"method": "POST", "path": "/Groups", "bulkId": "staff", "data": {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Staff",
                "members": [{"value": "bulkId:ada"}]}},
        ]
    });

    let response = acme.send(reqwest::Method::POST, "/Bulk", bulk).await;
    server.audit.flush().await;

    let statuses: Vec<&str> =
        response["Operations"].as_array().unwrap().iter().map(|o| o["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["201", "404", "201"]);
    let records = scim_requests(&db, "acme").await;
    assert_eq!(records.len(), 1);
    let detail: serde_json::Value = serde_json::from_str(&records[0].detail).unwrap();
    let written: Vec<(&str, &str)> = detail["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|change| (change["resourceType"].as_str().unwrap(), change["write"].as_str().unwrap()))
        .collect();
    assert_eq!(written, [("User", "created"), ("Group", "created")]);
    let ada = detail["changes"][0]["id"].clone();
    assert_eq!(detail["changes"][1]["members"], json!([{"op": "add", "ids": [ada]}]));
}

/// The SCIM requests in a tenant's trail, oldest first (without the records of the test's
/// own set-up: the tenant, its directory and token).
async fn scim_requests(db: &TestDatabase, slug: &str) -> Vec<store::AuditRecord> {
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse(slug).unwrap()).await.unwrap().unwrap();
    let records = db.store.tenant(tenant.id).audit_records(0, 1000).await.unwrap();
    records.into_iter().filter(|record| record.action == "scim.request").collect()
}

/// Sends the head of a POST with a stranger's token announcing `size` bytes of body, and
/// answers the status the server gives before any of the body is sent.
/// The status of a request refused before its body was sent, and whether the answer closes
/// the connection (it must: the unread body is still in it).
async fn refused_before_the_body(server: &TestServer, scim_base: &str, path: &str, size: usize) -> (u16, bool) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let address = server.address();
    let base = scim_base.strip_prefix(&format!("http://{address}")).unwrap();
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST {base}{path} HTTP/1.1\r\nhost: {address}\r\nauthorization: Bearer scim_not_a_token\r\n\
         content-type: application/scim+json\r\ncontent-length: {size}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0; 4096];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("the server answers without waiting for the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]).to_lowercase();
    let status_line = answer.lines().next().unwrap_or_default().to_owned();
    let status = status_line.split(' ').nth(1).and_then(|code| code.parse().ok()).unwrap_or(0);
    (status, answer.contains("\r\nconnection: close\r\n"))
}

/// What the trail keeps of a failed request is bounded and redacted: 8 KiB of a large body
/// with its size, no verbatim text of a body that is not JSON (a password in almost-JSON),
/// no secret in the query; a refused request's body is never read.
async fn a_failed_request_keeps_a_bounded_redacted_excerpt_and_a_refused_one_no_body(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    let client = reqwest::Client::new();
    let send = |method: reqwest::Method, path: &str, token: &str, body: Vec<u8>| {
        let request = client
            .request(method, format!("{}{path}", acme.scim_base()))
            .bearer_auth(token)
            .header("content-type", "application/scim+json")
            .body(body);
        async move { request.send().await.unwrap().status().as_u16() }
    };
    // A large request that fails: a user without userName and a 300 KiB title.
    let large = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "title": "x".repeat(300 * 1024)});
    let large = large.to_string().into_bytes();
    let large_size = large.len();
    assert_eq!(send(reqwest::Method::POST, "/Users", acme.token(), large).await, 400);
    // Almost JSON, with a password in it.
    let almost = br#"{"userName": "mallory", "password": "hunter2-secret",}"#.to_vec();
    assert_eq!(send(reqwest::Method::POST, "/Users", acme.token(), almost).await, 400);
    // A secret in the query (answered or not, the query is recorded).
    acme.get_raw("/Users?filter=password%20eq%20%22hunter2-secret%22").await;
    // A stranger's 5 MiB body: refused as a stranger (not as too large: it is never read).
    // Sent by hand: the answer comes before a byte of the body is sent, which is the point;
    // an HTTP client still writing the body when the server closes would see a broken pipe
    // instead of the answer.
    // The answer closes the connection, so a client does not send its next request down
    // it while the server drops it with the unread body.
    assert_eq!(refused_before_the_body(&server, acme.scim_base(), "/Bulk", 5 * 1024 * 1024).await, (401, true));
    server.audit.flush().await;

    let records = scim_requests(&db, "acme").await;
    assert_eq!(records.len(), 4, "{records:?}");
    for record in &records {
        assert!(record.detail.len() < 12 * 1024, "{} bytes kept", record.detail.len());
        assert!(!record.detail.contains("hunter2") && !record.path.as_deref().unwrap().contains("hunter2"));
    }
    let detail = |n: usize| serde_json::from_str::<serde_json::Value>(&records[n].detail).unwrap();
    let first = detail(0);
    assert_eq!(first["request"].as_str().unwrap().len(), 8 * 1024, "{first}");
    assert_eq!(
        (first["request_size"].as_u64(), first["request_truncated"].as_bool()),
        (Some(large_size as u64), Some(true))
    );
    assert_eq!(first["response"]["status"], "400", "the SCIM error is kept whole");
    let second = detail(1);
    assert!(second["request"]["not_json"].as_str().unwrap().contains("line 1 column"), "{second}");
    assert_eq!(second["request_size"], 54);
    assert!(records[2].path.as_deref().unwrap().contains("%5Bredacted%5D"), "{:?}", records[2].path);
    let refused = detail(3);
    assert_eq!(refused["refusal"], "unknown_token");
    assert_eq!(refused["request_size"], 5 * 1024 * 1024);
    assert!(refused.get("request").is_none(), "{refused}");
}

/// A byte string as an SQL literal of the backend.
fn bytes_literal(db: &TestDatabase, bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if db.url.as_str().starts_with("postgres") { format!("'\\x{hex}'::bytea") } else { format!("X'{hex}'") }
}

async fn a_history_rewritten_with_recomputed_hashes_is_caught_by_the_signed_checkpoints(db: TestDatabase) {
    use service::audit_checkpoints::{CheckpointReason, checkpoint};
    let server = TestServer::start(&db).await;
    let acme = Directory::new(&db, &server, "acme").await;
    acme.create_user("bjensen").await;
    acme.create_user("jsmith").await;
    server.audit.flush().await;
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap();
    let signer = crate::audit_signer();
    #[allow(clippy::disallowed_methods)] // the records carry the real time
    let now = chrono::Utc::now();
    let signed = checkpoint(&db.store, &signer, tenant.id, CheckpointReason::Periodic, now).await.unwrap().unwrap();
    assert!(
        checkpoint(&db.store, &signer, tenant.id, CheckpointReason::Periodic, now).await.unwrap().is_none(),
        "an unmoved chain is not signed again"
    );

    // The public key is served; the tenant's copy of the checkpoints is exported.
    let keys: serde_json::Value =
        reqwest::get(server.url("/.well-known/audit-signing-keys")).await.unwrap().json().await.unwrap();
    assert_eq!(keys["keys"][0]["public_key"].as_str(), Some(signer.public_key().to_base64().as_str()));
    assert_eq!(keys["keys"][0]["algorithm"], "Ed25519");
    let key = crate::operator_api::api_key(&db).await;
    let export = reqwest::Client::new()
        .get(server.url("/api/v1/tenants/acme/audit/checkpoints"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(export.headers()["content-type"], "application/x-ndjson");
    let export = export.text().await.unwrap();
    assert_eq!(export.lines().count(), 1, "{export}");
    let line: serde_json::Value = serde_json::from_str(export.lines().next().unwrap()).unwrap();
    assert_eq!((line["seq"].as_i64(), line["reason"].as_str()), (Some(signed.seq), Some("periodic")));
    let copy = std::env::temp_dir().join(format!("checkpoints-{}.jsonl", tenant.id));
    std::fs::write(&copy, &export).unwrap();
    assert_eq!(reqwest::get(server.url("/admin/audit/checkpoints")).await.unwrap().status(), 401);
    let intact = server_command(&db, &["admin", "verify-audit", "--tenant", "acme"]);
    let said = String::from_utf8_lossy(&intact.stdout);
    assert!(intact.status.success() && said.contains("1 signed checkpoints match"), "{said}");

    // Someone with write access to the database rewrites the first record and recomputes
    // every hash after it, and the chain's head: the hash chain alone is satisfied.
    let scope = db.store.tenant(tenant.id);
    let mut records = scope.audit_records(0, 1000).await.unwrap();
    assert_eq!(records.len() as i64, signed.seq);
    let mut prev = [0_u8; 32];
    for record in &mut records {
        if record.seq == 1 {
            record.actor = "someone-else".to_owned();
        }
        record.prev_hash = prev;
        record.hash = record.expected_hash();
        prev = record.hash;
        let update = format!(
            "UPDATE audit_records SET actor = '{}', prev_hash = {}, hash = {} WHERE tenant_id = '{}' AND seq = {}",
            record.actor,
            bytes_literal(&db, &record.prev_hash),
            bytes_literal(&db, &record.hash),
            tenant.id,
            record.seq
        );
        assert_eq!(db.execute_as_tenant(tenant.id, &update).await.unwrap(), 1);
    }
    let head =
        format!("UPDATE audit_chain_heads SET hash = {} WHERE tenant_id = '{}'", bytes_literal(&db, &prev), tenant.id);
    assert_eq!(db.execute_as_tenant(tenant.id, &head).await.unwrap(), 1);
    assert_eq!(scope.verify_audit_chain().await.unwrap().first_break, None, "the rewrite is consistent");

    // The signed checkpoint is not: the command line names the record.
    let caught = server_command(&db, &["admin", "verify-audit", "--tenant", "acme"]);
    let said = String::from_utf8_lossy(&caught.stderr);
    assert!(!caught.status.success(), "{said}");
    assert!(said.contains(&format!("record {} is not the record that was signed", signed.seq)), "{said}");

    // Deleting the checkpoints from the database too leaves the exported copy, which still
    // catches it; a checkpoint forged with another key is not trusted.
    let wipe = format!("DELETE FROM audit_checkpoints WHERE tenant_id = '{}'", tenant.id);
    assert_eq!(db.execute_as_tenant(tenant.id, &wipe).await.unwrap(), 1);
    let fooled = server_command(&db, &["admin", "verify-audit", "--tenant", "acme"]);
    assert!(fooled.status.success(), "without any checkpoint only the chain is checked");
    assert!(String::from_utf8_lossy(&fooled.stdout).contains("no signed checkpoint yet"));
    let copy_path = copy.to_str().unwrap();
    let caught = server_command(&db, &["admin", "verify-audit", "--tenant", "acme", "--checkpoints", copy_path]);
    // The copy's last reader has run: it is not left behind in the system's temp folder.
    std::fs::remove_file(&copy).unwrap();
    let said = String::from_utf8_lossy(&caught.stderr);
    assert!(!caught.status.success() && said.contains("is not the record that was signed"), "{said}");
    let forger = service::audit_checkpoints::AuditSigner::from_seed(&[7; 32]);
    checkpoint(&db.store, &forger, tenant.id, CheckpointReason::Periodic, now).await.unwrap().unwrap();
    let refused = server_command(&db, &["admin", "verify-audit", "--tenant", "acme"]);
    let said = String::from_utf8_lossy(&refused.stderr);
    let forged_id = forger.public_key().key_id();
    assert!(
        !refused.status.success() && said.contains(&format!("signed by key {forged_id}, which is not trusted")),
        "{said}"
    );
}
