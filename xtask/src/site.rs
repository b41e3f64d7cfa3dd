//! Builds the site: the wasm bundle (cargo, then wasm-bindgen, then wasm-opt), the
//! stylesheet (Tailwind), and the server binary that serves them.
//!
//! Output: `target/site/pkg/{portal.js, portal_bg.wasm, portal.css}`, each with its brotli
//! (`.br`) and gzip (`.gz`) form beside it, `target/site/pkg/version.txt` (a hash of the
//! three: the server serves them under `/pkg/{version}/` with `Cache-Control: immutable`),
//! `target/site/favicon.svg` (from `public/`), and `target/{debug,release}/server`. The
//! server's `SITE_ROOT` defaults to `target/site`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::Context;

use crate::process::{self, cargo};
use crate::tools;
use crate::workspace_root;

/// The bundle's file stem; the app crate names the same (`app::BUNDLE_NAME`).
const BUNDLE_NAME: &str = "portal";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    Dev,
    Release,
}

/// Builds the bundle and the server; returns the path of the server binary.
pub(crate) fn build(profile: Profile) -> anyhow::Result<PathBuf> {
    let root = workspace_root();
    tools::ensure_wasm_target()?;
    tools::ensure_npm_packages(&root)?;
    let pkg_dir = root.join("target/site/pkg");
    std::fs::create_dir_all(&pkg_dir).with_context(|| format!("creating {}", pkg_dir.display()))?;

    let started = Instant::now();
    let wasm = build_wasm(&root, profile)?;
    let stamp = bundle_stamp(&wasm, profile)?;
    let stamp_file = pkg_dir.join(".bundle-stamp");
    let bundled = pkg_dir.join(format!("{BUNDLE_NAME}_bg.wasm"));
    // wasm-bindgen and wasm-opt take a minute; a warm run (nothing changed since the last
    // build, e.g. `cargo xtask run` after `cargo xtask test`) skips them.
    let glue = pkg_dir.join(format!("{BUNDLE_NAME}.js"));
    if bundled.is_file()
        && glue.is_file()
        && std::fs::read_to_string(&stamp_file).ok().as_deref() == Some(stamp.as_str())
    {
        println!("xtask: the bundle is up to date with {}", wasm.display());
    } else {
        let _ = std::fs::remove_file(&stamp_file);
        bindgen(&wasm, &pkg_dir, profile)?;
        if profile == Profile::Release {
            optimise_wasm(&root, &bundled)?;
        }
        std::fs::write(&stamp_file, &stamp).with_context(|| format!("writing {}", stamp_file.display()))?;
    }
    build_stylesheet(&root, &pkg_dir)?;
    version_and_compress(&pkg_dir)?;
    copy_public_assets(&root.join("public"), &root.join("target/site"))?;
    let server = build_server(&root, profile)?;
    println!("xtask: site built in {:.0?} -> {}", started.elapsed(), pkg_dir.display());
    Ok(server)
}

fn build_wasm(root: &Path, profile: Profile) -> anyhow::Result<PathBuf> {
    let (profile_arg, profile_dir) = match profile {
        Profile::Dev => ("dev", "debug"),
        Profile::Release => ("wasm-release", "wasm-release"),
    };
    process::run(
        cargo()
            .args(["build", "--package", "frontend", "--lib", "--target", tools::WASM_TARGET, "--profile", profile_arg])
            .current_dir(root),
    )?;
    Ok(root.join("target").join(tools::WASM_TARGET).join(profile_dir).join("frontend.wasm"))
}

/// What the bundle is made from: the profile and the compiled wasm's size and modification
/// time (cargo rewrites the file whenever it relinks it).
fn bundle_stamp(wasm: &Path, profile: Profile) -> anyhow::Result<String> {
    let metadata = std::fs::metadata(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let modified = metadata.modified()?.duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    Ok(format!("{profile:?} {} {}", metadata.len(), modified.as_nanos()))
}

/// Generates the JS glue and the final wasm (`portal.js`, `portal_bg.wasm`).
fn bindgen(wasm: &Path, pkg_dir: &Path, profile: Profile) -> anyhow::Result<()> {
    let started = Instant::now();
    wasm_bindgen_cli_support::Bindgen::new()
        .input_path(wasm)
        .web(true)?
        .out_name(BUNDLE_NAME)
        .typescript(false)
        .debug(profile == Profile::Dev)
        .keep_debug(profile == Profile::Dev)
        .generate(pkg_dir)
        .with_context(|| format!("running wasm-bindgen on {}", wasm.display()))?;
    println!("xtask: wasm-bindgen done in {:.1?}", started.elapsed());
    Ok(())
}

/// Shrinks the wasm with npm's binaryen. Debian's binaryen (v108) must not be used: its
/// output fails at runtime in the browser (see shared/BUILD-NOTES.md).
fn optimise_wasm(root: &Path, wasm: &Path) -> anyhow::Result<()> {
    let started = Instant::now();
    let wasm_opt = root.join("node_modules/.bin/wasm-opt");
    process::run(
        Command::new(&wasm_opt)
            .args(["-Oz", "--enable-bulk-memory", "--enable-nontrapping-float-to-int"])
            .arg(wasm)
            .arg("-o")
            .arg(wasm),
    )?;
    println!("xtask: wasm-opt done in {:.1?}", started.elapsed());
    Ok(())
}

fn build_stylesheet(root: &Path, pkg_dir: &Path) -> anyhow::Result<()> {
    process::run(
        Command::new(root.join("node_modules/.bin/tailwindcss"))
            .args(["--input", "style/tailwind.css", "--minify", "--output"])
            .arg(pkg_dir.join(format!("{BUNDLE_NAME}.css")))
            .current_dir(root),
    )
}

/// The bundle's files, which are versioned and compressed together.
const BUNDLE_FILES: [&str; 3] = ["portal.js", "portal_bg.wasm", "portal.css"];

/// Writes `version.txt` (the first 16 hex digits of a SHA-256 over the bundle's files) and
/// each file's brotli and gzip forms, so the server neither hashes nor compresses them
/// per request. A file whose compressed forms are newer than it is left alone.
fn version_and_compress(pkg_dir: &Path) -> anyhow::Result<()> {
    use sha2::{Digest, Sha256};
    use std::io::Write;
    let started = Instant::now();
    let mut hasher = Sha256::new();
    for name in BUNDLE_FILES {
        let path = pkg_dir.join(name);
        let content = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        hasher.update(name.as_bytes());
        hasher.update((content.len() as u64).to_le_bytes());
        hasher.update(&content);
        let modified = std::fs::metadata(&path)?.modified()?;
        let fresh = |suffix: &str| {
            std::fs::metadata(pkg_dir.join(format!("{name}.{suffix}")))
                .and_then(|metadata| metadata.modified())
                .is_ok_and(|compressed| compressed > modified)
        };
        if !fresh("br") {
            let mut compressed = Vec::new();
            let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
            brotli::BrotliCompress(&mut content.as_slice(), &mut compressed, &params)
                .with_context(|| format!("compressing {name} with brotli"))?;
            std::fs::write(pkg_dir.join(format!("{name}.br")), compressed)?;
        }
        if !fresh("gz") {
            let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            encoder.write_all(&content)?;
            std::fs::write(pkg_dir.join(format!("{name}.gz")), encoder.finish()?)?;
        }
    }
    let digest = hasher.finalize();
    let version: String = digest.iter().take(8).map(|byte| format!("{byte:02x}")).collect();
    std::fs::write(pkg_dir.join("version.txt"), &version)?;
    println!("xtask: bundle version {version}, compressed in {:.1?}", started.elapsed());
    Ok(())
}

/// Static files (`public/favicon.svg`, ...) are served from the site root as they are.
fn copy_public_assets(from: &Path, to: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name()))
                .with_context(|| format!("copying {}", entry.path().display()))?;
        }
    }
    Ok(())
}

pub(crate) fn build_server(root: &Path, profile: Profile) -> anyhow::Result<PathBuf> {
    let mut command = cargo();
    command.args(["build", "--package", "server", "--bin", "server"]).current_dir(root);
    if profile == Profile::Release {
        command.arg("--release");
    }
    process::run(&mut command)?;
    let dir = if profile == Profile::Release { "release" } else { "debug" };
    Ok(root.join("target").join(dir).join("server"))
}
