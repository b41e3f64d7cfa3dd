//! `cargo xtask fuzz [--seconds N]`: runs each cargo-fuzz target of `scim/fuzz` for N
//! seconds (libFuzzer needs the nightly toolchain; cargo-fuzz is installed from crates.io
//! when missing). The corpus grows in `scim/fuzz/corpus/<target>`, seeded from
//! `scim/fuzz/seeds/<target>`; crashes land in `scim/fuzz/artifacts`. Not part of the test run.

use std::process::Command;

use anyhow::bail;

use crate::process;
use crate::workspace_root;

const TARGETS: [&str; 3] = ["filter", "path", "patch"];

pub(crate) fn run(seconds: u64) -> anyhow::Result<()> {
    if !process::on_path("cargo-fuzz") && !home_bin("cargo-fuzz") {
        process::run(Command::new("cargo").args(["install", "cargo-fuzz", "--locked"]))?;
    }
    let scim = workspace_root().join("scim");
    let mut failed = Vec::new();
    for target in TARGETS {
        let corpus = scim.join("fuzz/corpus").join(target);
        std::fs::create_dir_all(&corpus)?;
        println!("==> fuzzing {target} for {seconds} s");
        let status = Command::new("cargo")
            .args(["+nightly", "fuzz", "run", target])
            .arg(&corpus)
            .arg(scim.join("fuzz/seeds").join(target))
            .arg("--")
            .arg(format!("-max_total_time={seconds}"))
            .current_dir(&scim)
            .status()?;
        if !status.success() {
            failed.push(target);
        }
    }
    if !failed.is_empty() {
        bail!("fuzz targets found crashes: {} (inputs in scim/fuzz/artifacts)", failed.join(", "));
    }
    println!("xtask: no crash in {} targets", TARGETS.len());
    Ok(())
}

fn home_bin(name: &str) -> bool {
    std::env::var_os("HOME").is_some_and(|home| std::path::Path::new(&home).join(".cargo/bin").join(name).is_file())
}
