//! A throwaway PostgreSQL cluster for the test run: `initdb` in a temporary folder, started
//! with `pg_ctl` on a free loopback port, stopped and deleted when dropped. Debian's
//! `postgresql` package is installed if no server binaries are found.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};

use crate::process;
use crate::tools;

/// A running cluster; the `postgres` superuser connects without a password over loopback.
#[derive(Debug)]
pub(crate) struct Cluster {
    bin: PathBuf,
    dir: PathBuf,
    run_as: Option<&'static str>,
    pub(crate) url: String,
}

impl Cluster {
    pub(crate) fn start() -> anyhow::Result<Self> {
        let bin = match find_server_binaries() {
            Some(bin) => bin,
            None => {
                tools::ensure_apt_packages("PostgreSQL", &["postgresql"])?;
                find_server_binaries().context("PostgreSQL was installed but initdb is still missing")?
            }
        };
        // initdb refuses to run as root; run the server as an unprivileged account.
        let run_as = process::is_root().then(|| if user_exists("postgres") { "postgres" } else { "nobody" });
        let dir = std::env::temp_dir().join(format!("scim-test-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        if let Some(user) = run_as {
            process::run(Command::new("chown").args([user, &dir.to_string_lossy()]))?;
        }
        let port = free_port()?;
        let mut cluster = Self { bin, dir, run_as, url: format!("postgres://postgres@127.0.0.1:{port}") };
        let data = cluster.dir.join("data");
        process::output(
            cluster.pg_command("initdb").args(["--auth=trust", "--username=postgres", "--no-sync", "-D"]).arg(&data),
        )
        .context("initdb")?;
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200",
            cluster.dir.display()
        );
        let log = cluster.dir.join("server.log");
        let started = process::output(
            cluster
                .pg_command("pg_ctl")
                .args(["-w", "-t", "60", "-D"])
                .arg(&data)
                .args(["-l"])
                .arg(&log)
                .args(["-o", &options, "start"]),
        );
        if let Err(error) = started {
            let server_log = std::fs::read_to_string(&log).unwrap_or_default();
            cluster.url.clear();
            bail!("{error:#}\n{server_log}");
        }
        Ok(cluster)
    }

    fn pg_command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        match self.run_as {
            Some(user) => {
                let mut command = Command::new("runuser");
                command.args(["-u", user, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if !self.url.is_empty() {
            let _ = self
                .pg_command("pg_ctl")
                .args(["-D"])
                .arg(self.dir.join("data"))
                .args(["-m", "immediate", "stop"])
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The folder with `initdb` and `pg_ctl`: the newest under /usr/lib/postgresql, or PATH.
fn find_server_binaries() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").is_file().then_some((version, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Some(bin);
    }
    let paths = std::env::var_os("PATH")?;
    std::env::split_paths(&paths).find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file())
}

fn user_exists(name: &str) -> bool {
    process::output(Command::new("id").arg("-u").arg(name)).is_ok()
}

/// A loopback port nobody listens on right now.
fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}
