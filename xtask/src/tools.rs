//! Installs what the build and the tests need, from the package registries only, and only
//! when it is missing: the wasm target (rustup), npm packages (Tailwind, wasm-opt from
//! npm's `binaryen`, Playwright's driver, axe-core), Chromium and PostgreSQL (apt).

use std::path::Path;
use std::process::Command;
use std::sync::Once;

use anyhow::{Context, bail};

use crate::process::{self, cargo};

pub(crate) const WASM_TARGET: &str = "wasm32-unknown-unknown";

/// Adds the wasm target to the active toolchain if it lacks it.
pub(crate) fn ensure_wasm_target() -> anyhow::Result<()> {
    let sysroot = process::output(Command::new("rustc").args(["--print", "sysroot"]))?;
    if Path::new(sysroot.trim()).join("lib/rustlib").join(WASM_TARGET).is_dir() {
        return Ok(());
    }
    println!("xtask: installing the {WASM_TARGET} target");
    process::run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
        .context("adding the wasm target with rustup")?;
    // Touch cargo so a missing toolchain component shows up here rather than mid-build.
    process::run(cargo().arg("--version"))
}

/// Runs `npm ci` when `node_modules` does not match `package-lock.json`.
pub(crate) fn ensure_npm_packages(root: &Path) -> anyhow::Result<()> {
    let lock = std::fs::read(root.join("package-lock.json")).context("reading package-lock.json")?;
    let stamp = root.join("node_modules/.xtask-package-lock.json");
    if std::fs::read(&stamp).is_ok_and(|installed| installed == lock) {
        return Ok(());
    }
    if !process::on_path("npm") {
        bail!("npm is required (Node.js 20 or newer): install it with `apt-get install -y nodejs npm`");
    }
    println!("xtask: installing npm packages (npm ci)");
    process::run(Command::new("npm").args(["ci", "--no-audit", "--no-fund", "--loglevel=error"]).current_dir(root))?;
    std::fs::write(&stamp, lock).context("recording the installed package-lock.json")?;
    Ok(())
}

/// Installs Debian packages with apt when they are missing; needs root.
pub(crate) fn ensure_apt_packages(what: &str, packages: &[&str]) -> anyhow::Result<()> {
    static APT_UPDATE: Once = Once::new();
    if !process::is_root() {
        bail!("{what} is missing; install it with `sudo apt-get install -y {}`", packages.join(" "));
    }
    println!("xtask: installing {what} ({})", packages.join(", "));
    let mut updated = Ok(());
    APT_UPDATE.call_once(|| updated = process::run(Command::new("apt-get").args(["update", "-qq"])));
    updated?;
    process::run(
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends"])
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// The path of a headless-capable Chromium, installed from Debian if missing.
pub(crate) fn ensure_chromium() -> anyhow::Result<&'static str> {
    const CHROMIUM: &str = "/usr/bin/chromium";
    if !Path::new(CHROMIUM).exists() {
        ensure_apt_packages("Chromium", &["chromium"])?;
    }
    Ok(CHROMIUM)
}

/// Python 3 with the `venv` module, which the conformance checkers' scripts need to set up
/// their pinned packages; Debian ships the module separately.
pub(crate) fn ensure_python_venv() -> anyhow::Result<()> {
    let has_venv = |python: &str| {
        Command::new(python)
            .args(["-c", "import venv, ensurepip"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if has_venv("python3") {
        return Ok(());
    }
    ensure_apt_packages("Python venv", &["python3", "python3-venv"])?;
    if !has_venv("python3") {
        bail!("python3 still cannot create virtual environments after installing python3-venv");
    }
    Ok(())
}

/// The aiosmtpd version the tests' SMTP server runs (from PyPI).
const AIOSMTPD: &str = "aiosmtpd==1.4.6";

/// A Python with aiosmtpd, in a virtual environment under the target directory (made
/// once), for the tests that read back the email the product sends from a real SMTP
/// server. Its path is what the tests take as `TEST_SMTP_PYTHON`.
pub(crate) fn ensure_smtp_python(root: &Path) -> anyhow::Result<std::path::PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), std::path::PathBuf::from);
    let venv = target.join("smtp-venv");
    let python = venv.join("bin/python");
    let ready = |python: &Path| {
        Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if ready(&python) {
        return Ok(python);
    }
    ensure_python_venv()?;
    crate::process::run(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
    crate::process::run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", AIOSMTPD]))?;
    if !ready(&python) {
        bail!("{} cannot import aiosmtpd after installing it", python.display());
    }
    Ok(python)
}
