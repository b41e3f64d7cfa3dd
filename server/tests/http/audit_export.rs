//! The audit trail's downloads (`/admin/audit/export` for the tenant admin,
//! `/api/v1/tenants/{slug}/audit` for the operator API) arrive whole whatever content coding
//! the client accepts. Browsers always send `Accept-Encoding: gzip, deflate, br`, so an
//! export that only works uncompressed does not work for anyone clicking "Export CSV".

use std::io::Read;

use serde_json::json;
use service::audit::{CSV_HEADER, record_csv_row, record_json};
use store::testing::TestDatabase;
use store::{AuditOutcome, NewAuditRecord, TenantSlug};

use crate::TestServer;
use crate::onboarding::admin_of;

store::backend_tests!(every_audit_export_arrives_whole_with_each_content_coding);

/// More than one page of the export (it reads 1,000 records per round trip), so the
/// stream's later chunks go through the encoder too.
const RECORDS: usize = 1_200;

/// The content codings asked for, and the one the answer must carry: gzip and brotli are
/// what the server compresses with; for deflate it may answer uncompressed (RFC 9110
/// §12.5.3 lets it choose), but whatever it answers must decode to the whole export.
const CODINGS: [(&str, Option<&str>); 4] =
    [("identity", Some("identity")), ("gzip", Some("gzip")), ("br", Some("br")), ("deflate", None)];

async fn every_audit_export_arrives_whole_with_each_content_coding(db: TestDatabase) {
    let server = TestServer::start(&db).await;
    let admin = admin_of(&server, "acme", "it@acme.example").await;
    let tenant = db.store.tenant_by_slug(&TenantSlug::parse("acme").unwrap()).await.unwrap().unwrap();
    for n in 0..RECORDS {
        server.audit.record(tenant.id, filler_record(n, note(n))).await;
    }
    server.audit.flush().await;
    let mut stored = db.store.tenant(tenant.id).audit_records(0, 10_000).await.unwrap();
    assert!(stored.len() > RECORDS, "{} records", stored.len());
    stored.reverse();
    let expected_jsonl: String = stored.iter().map(|record| format!("{}\n", record_json(record))).collect();
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(CSV_HEADER).unwrap();
    for record in &stored {
        csv.write_record(record_csv_row(record)).unwrap();
    }
    let expected_csv = String::from_utf8(csv.into_inner().unwrap()).unwrap();
    let key = crate::operator_api::api_key(&db).await;

    for (format, expected) in [("csv", &expected_csv), ("jsonl", &expected_jsonl)] {
        for (asked, answered) in CODINGS {
            let portal = admin.get_request(&format!("/admin/audit/export?format={format}"));
            let api = reqwest::Client::new()
                .get(server.url(&format!("/api/v1/tenants/acme/audit?format={format}")))
                .bearer_auth(&key);
            for (route, request) in [("portal", portal), ("operator API", api)] {
                let what = format!("{route} {format} export with Accept-Encoding: {asked}");
                let response = request.header("accept-encoding", asked).send().await.unwrap();
                assert_eq!(response.status(), 200, "{what}");
                let coding = response
                    .headers()
                    .get("content-encoding")
                    .map_or("identity", |value| value.to_str().unwrap())
                    .to_owned();
                if let Some(answered) = answered {
                    assert_eq!(coding, answered, "{what}");
                }
                let body = response.bytes().await.unwrap_or_else(|error| panic!("{what}: the body broke off: {error}"));
                let text = decode(&coding, &body);
                assert_eq!(text.len(), expected.len(), "{what}: not the whole export");
                assert_eq!(text, *expected, "{what}: the export differs from the trail");
            }
        }
    }
    // A reader of the CSV gets every record back, newest first, the quoted text intact.
    let mut reader = csv::Reader::from_reader(expected_csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), stored.len());
    let newest: serde_json::Value = serde_json::from_str(&rows[0][11]).unwrap();
    assert_eq!(newest, note(RECORDS - 1));
}

fn note(n: usize) -> serde_json::Value {
    // Text a CSV writer has to quote, and a JSON writer to escape.
    json!({"note": format!("record {n}, \"quoted\"\nsecond line — ü")})
}

fn filler_record(n: usize, detail: serde_json::Value) -> NewAuditRecord {
    #[allow(clippy::disallowed_methods)] // only the order of the records matters here
    let occurred_at = chrono::Utc::now();
    NewAuditRecord {
        occurred_at,
        actor: "cli".to_owned(),
        action: "test.filler".to_owned(),
        directory: None,
        method: None,
        path: None,
        status: None,
        latency_ms: Some(i64::try_from(n).unwrap()),
        resource_id: None,
        outcome: AuditOutcome::Success,
        detail,
    }
}

/// The body as sent, undone from its content coding (`deflate` is the zlib format, RFC
/// 9110 §8.4.1.2).
pub(crate) fn decode(coding: &str, body: &[u8]) -> String {
    let mut text = String::new();
    match coding {
        "identity" => text = String::from_utf8(body.to_vec()).unwrap(),
        "gzip" => {
            flate2::read::GzDecoder::new(body).read_to_string(&mut text).unwrap();
        }
        "deflate" => {
            flate2::read::ZlibDecoder::new(body).read_to_string(&mut text).unwrap();
        }
        "br" => {
            brotli_decompressor::Decompressor::new(body, 4096).read_to_string(&mut text).unwrap();
        }
        other => panic!("unexpected content coding {other}"),
    }
    text
}
