//! The portal's bundle (`portal.js`, `portal_bg.wasm`, `portal.css`) under
//! `/pkg/{version}/`, where `version` is the hash of the bundle the xtask wrote beside it
//! (`pkg/version.txt`): a new build has new addresses, so browsers and proxies may keep
//! these files for good (`Cache-Control: immutable`). The xtask also compressed each file
//! once (`.br`, `.gz` beside it); they are served as they are, so no request spends the
//! server's CPU on compressing a 2 MB wasm file.
//!
//! Without `version.txt` (a site built some other way, the HTTP tests) the bundle is
//! linked at `/pkg/` and served by the portal's fallback, uncached and compressed per
//! request as before.

use std::path::Path;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use leptos::prelude::LeptosOptions;
use tower_http::services::ServeDir;

use super::AppState;

/// How long a versioned file may be kept: a year, and it never changes.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The bundle's version from `{site_root}/pkg/version.txt`, if the xtask wrote one.
pub(crate) fn bundle_version(site_root: &Path) -> Option<String> {
    let text = std::fs::read_to_string(site_root.join("pkg/version.txt")).ok()?;
    let version = text.trim();
    // It becomes part of a path: only letters and digits.
    (!version.is_empty() && version.len() <= 64 && version.bytes().all(|b| b.is_ascii_alphanumeric()))
        .then(|| version.to_owned())
}

/// The site's package directory as pages link it: `pkg/{version}`, or `pkg`.
pub(crate) fn pkg_dir(version: Option<&str>) -> String {
    version.map_or_else(|| "pkg".to_owned(), |version| format!("pkg/{version}"))
}

/// Serves `/pkg/{version}/…` from the package directory, precompressed, cached for good.
pub(crate) fn router(leptos: &LeptosOptions) -> Router<AppState> {
    let pkg = leptos.site_pkg_dir.as_ref();
    if pkg == "pkg" {
        return Router::new();
    }
    let files = Path::new(leptos.site_root.as_ref()).join("pkg");
    let served = ServeDir::new(files).precompressed_br().precompressed_gzip();
    Router::new().nest_service(&format!("/{pkg}"), served).layer(axum::middleware::map_response(cache_for_good))
}

async fn cache_for_good(mut response: Response) -> Response {
    if response.status().is_success() {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_is_letters_and_digits_or_nothing() {
        let site = std::env::temp_dir().join(format!("static-assets-{}", std::process::id()));
        std::fs::create_dir_all(site.join("pkg")).unwrap();
        assert_eq!(bundle_version(&site), None);
        std::fs::write(site.join("pkg/version.txt"), "0123abcd\n").unwrap();
        assert_eq!(bundle_version(&site).as_deref(), Some("0123abcd"));
        std::fs::write(site.join("pkg/version.txt"), "../etc").unwrap();
        assert_eq!(bundle_version(&site), None);
        assert_eq!(pkg_dir(Some("0123abcd")), "pkg/0123abcd");
        assert_eq!(pkg_dir(None), "pkg");
        std::fs::remove_dir_all(site).unwrap();
    }
}
