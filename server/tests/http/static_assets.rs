//! The portal's bundle under `/pkg/{version}/`: linked by every page, served from the
//! brotli and gzip files the build wrote beside it (never compressed per request), and
//! cached for good; without a version the bundle stays at `/pkg/`, uncached.

use store::testing::TestDatabase;

use crate::TestServer;

store::backend_tests!(the_versioned_bundle_is_served_precompressed_and_cached_for_good);

const VERSION: &str = "0123456789abcdef";

async fn the_versioned_bundle_is_served_precompressed_and_cached_for_good(db: TestDatabase) {
    let site = tempfile_dir();
    let pkg = site.join("pkg");
    std::fs::create_dir_all(&pkg).unwrap();
    std::fs::write(pkg.join("version.txt"), format!("{VERSION}\n")).unwrap();
    // Distinct contents per coding: the answer shows which file was sent.
    std::fs::write(pkg.join("portal.js"), "plain javascript").unwrap();
    std::fs::write(pkg.join("portal.js.br"), "brotli bytes").unwrap();
    std::fs::write(pkg.join("portal.js.gz"), "gzip bytes").unwrap();
    let site_root = site.to_str().unwrap().to_owned();
    let server = TestServer::start_with(&db, &["--site-root", &site_root]).await;

    let page = server.get("/sign-in").await.text().await.unwrap();
    for file in ["portal.js", "portal_bg.wasm", "portal.css"] {
        assert!(page.contains(&format!("/pkg/{VERSION}/{file}")), "{file} is not linked under its version: {page}");
    }

    let fetch = |encoding: &'static str| {
        let request = server.client.get(server.url(&format!("/pkg/{VERSION}/portal.js")));
        async move { request.header("accept-encoding", encoding).send().await.unwrap() }
    };
    for (encoding, coding, body) in [
        ("br", Some("br"), "brotli bytes"),
        ("gzip", Some("gzip"), "gzip bytes"),
        ("br, gzip", Some("br"), "brotli bytes"),
        ("identity", None, "plain javascript"),
    ] {
        let answer = fetch(encoding).await;
        assert_eq!(answer.status(), 200, "{encoding}");
        assert_eq!(answer.headers()["cache-control"], "public, max-age=31536000, immutable", "{encoding}");
        assert_eq!(answer.headers().get("content-encoding").map(|v| v.to_str().unwrap()), coding, "{encoding}");
        assert_eq!(answer.text().await.unwrap(), body, "{encoding}");
    }
    // Another version is not this bundle, and is not cached.
    let other = server.get("/pkg/ffffffffffffffff/portal.js").await;
    assert_eq!(other.status(), 404);
    assert!(other.headers().get("cache-control").is_none_or(|value| value != "public, max-age=31536000, immutable"));
    std::fs::remove_dir_all(site).unwrap();
}

/// A site root of its own: both backends' tests run at once in one process.
fn tempfile_dir() -> std::path::PathBuf {
    let id = <store::DirectoryId as store::testing::FreshId>::fresh();
    std::env::temp_dir().join(format!("scim-portal-site-{id}"))
}
