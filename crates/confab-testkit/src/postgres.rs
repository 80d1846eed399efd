//! PostgreSQL (Debian's `postgresql-15`) as a throwaway cluster on a free loopback port, for
//! tests that need a real server: one server per test binary (see [`Postgres::shared`]), a
//! fresh database per test.
//!
//! What it does: `initdb` into a temp dir (superuser `confab`, `trust` authentication, which
//! initdb grants to local sockets and 127.0.0.1/::1 only, UTF-8, no fsync), then runs `postgres`
//! as a child process on 127.0.0.1 without fsync (fast; nothing here must survive a machine
//! crash, and committed data still survives the server's), and waits until it accepts connections: the postmaster's own `ready` status
//! in `postmaster.pid`, the signal `pg_ctl -w` waits for, polled under a deadline. A port taken
//! between [`free_port`](crate::free_port) and the bind ("could not bind" in the log) is retried
//! on another port. Dropping it stops the server (immediate shutdown, so no backend outlives
//! it) and removes the temp dir.
//!
//! PostgreSQL refuses to run as root, and CI runs as root: then the temp dir is given to an
//! unprivileged system user (`postgres` if Debian's package created it, else `nobody`) and
//! `initdb`, `postgres` and the watchdog run as that user. The clients (`createdb`, `psql`) run
//! as the caller: the server trusts loopback, so who runs them does not matter.
//!
//! A watchdog (`sh`, reading a pipe only this process holds) stops the server and removes its
//! files when this process exits without dropping it: a `static` (as [`Postgres::shared`]),
//! a panic that aborts, a SIGKILL. Without it each test run would leave a server behind.
//!
//! What it never does: listen on anything but 127.0.0.1 (and a Unix socket in its temp dir),
//! touch a system cluster or `/var/lib/postgresql`, or skip when PostgreSQL is missing (the
//! error says to run `scripts/bootstrap.sh test`).
//!
//! The API is synchronous so a test binary can keep one server in a `static` and any test,
//! async or not, can use it; it only waits on its own child processes.

use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sockudo_process::read_tail;

use anyhow::{anyhow, bail, Context, Result};

/// How long the postmaster may take to accept connections (initdb comes before, untimed).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an immediate shutdown may take before the postmaster is killed outright.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the postmaster's status is read while it starts or stops.
const POLL_INTERVAL: Duration = Duration::from_millis(20);
/// How many ports are tried when the chosen one turns out to be taken.
const BIND_ATTEMPTS: usize = 8;
/// How many lines of the server log an error message carries.
const LOG_TAIL_LINES: usize = 40;
/// What the postmaster logs (then exits) when its port is taken. Always in English: the child's
/// environment is cleared and initdb sets the cluster's `lc_messages` to C.UTF-8.
const BIND_FAILED: &str = "could not bind";
/// The cluster's superuser; every URL connects as it.
const SUPERUSER: &str = "confab";
/// Overrides where the server binaries are (a directory holding `initdb`, `postgres`, ...).
const BIN_DIR_ENV: &str = "CONFAB_PG_BIN_DIR";
/// Where Debian's `postgresql-15` installs them.
const DEBIAN_BIN_DIR: &str = "/usr/lib/postgresql/15/bin";
/// Every binary used here, checked up front so a partial install fails with a clear message.
const BINARIES: [&str; 5] = ["initdb", "postgres", "pg_ctl", "createdb", "psql"];
/// Who runs the server when we are root, in order of preference. `postgres` is the package's
/// own user; `nobody` exists on every Debian.
const UNPRIVILEGED_USERS: [&str; 2] = ["postgres", "nobody"];

/// An unprivileged user to run the server as (when we are root).
#[derive(Debug, Clone)]
struct RunAs {
    name: String,
    uid: u32,
    gid: u32,
}

/// A running PostgreSQL server; see the module doc.
#[derive(Debug)]
pub struct Postgres {
    bin_dir: PathBuf,
    run_as: Option<RunAs>,
    data_dir: PathBuf,
    log_path: PathBuf,
    port: u16,
    child: Option<Child>,
    watchdog: Option<Child>,
    /// With TLS: the PEM of the throwaway CA that signed the server's certificate.
    tls_ca: Option<String>,
    // Last, so it is removed after Drop::drop has stopped the server.
    dir: tempfile::TempDir,
}

impl Postgres {
    /// Creates a cluster in a fresh temp dir and starts a server on a free loopback port.
    ///
    /// # Errors
    /// PostgreSQL is not installed (run `scripts/bootstrap.sh test`), we are root and no
    /// unprivileged user exists, `initdb` fails (the error carries its output), or the server
    /// exits or does not accept connections within the startup timeout (the error carries the
    /// tail of its log).
    pub fn start() -> Result<Self> {
        Self::start_inner(false)
    }

    /// Like [`start`](Self::start), also accepting TLS (`ssl=on`) with a `localhost`/`127.0.0.1`
    /// certificate signed by a throwaway CA ([`tls_ca_pem`](Self::tls_ca_pem)); connections
    /// in clear are still accepted, as a default PostgreSQL does.
    ///
    /// # Errors
    /// As [`start`](Self::start), or the certificate could not be made or written.
    pub fn start_with_tls() -> Result<Self> {
        Self::start_inner(true)
    }

    /// The PEM of the CA that signed the server's certificate, when started with TLS.
    pub fn tls_ca_pem(&self) -> Option<&str> {
        self.tls_ca.as_deref()
    }

    fn start_inner(tls: bool) -> Result<Self> {
        let bin_dir = find_bin_dir(std::env::var_os(BIN_DIR_ENV))?;
        let run_as = if rustix::process::geteuid().is_root() {
            Some(unprivileged_user()?)
        } else {
            None
        };
        let dir = tempfile::Builder::new()
            .prefix("confab-postgres-")
            .tempdir()
            .context("creating a temp dir for postgres")?;
        if let Some(user) = &run_as {
            // The temp dir is already 0700; the server's user must own it to create the data
            // directory and its socket there.
            std::os::unix::fs::chown(dir.path(), Some(user.uid), Some(user.gid)).with_context(
                || format!("giving {} to user {}", dir.path().display(), user.name),
            )?;
        }
        let mut server = Self {
            data_dir: dir.path().join("data"),
            log_path: dir.path().join("postgres.log"),
            bin_dir,
            run_as,
            port: 0,
            child: None,
            watchdog: None,
            tls_ca: None,
            dir,
        };
        server.spawn_watchdog()?;
        server.initdb()?;
        if tls {
            server.tls_ca = Some(server.write_certificate()?);
        }
        let mut last_error = None;
        for _ in 0..BIND_ATTEMPTS {
            server.port = crate::free_port();
            match server.launch() {
                Ok(()) => return Ok(server),
                Err(LaunchError::PortTaken(e)) => last_error = Some(e),
                Err(LaunchError::Other(e)) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow!("postgres never started")))
    }

    /// One server for the whole test binary, started by the first caller. It is never dropped
    /// (statics are not); the watchdog stops it and removes its files when the process exits.
    ///
    /// # Errors
    /// As [`start`](Self::start), for the first caller and every later one (the server is not
    /// started again).
    pub fn shared() -> Result<&'static Self> {
        static SHARED: OnceLock<std::result::Result<Postgres, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| Self::start().map_err(|e| format!("{e:#}")))
            .as_ref()
            .map_err(|e| anyhow!("the shared postgres did not start: {e}"))
    }

    /// The TCP port on 127.0.0.1; it stays the same across [`restart`](Self::restart).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of the `postgres` database: `postgres://confab@127.0.0.1:{port}/postgres`.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// The URL of database `name` on this server (which need not exist).
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{name}", self.port)
    }

    /// Creates an empty database `name` and returns its URL.
    ///
    /// `name` is limited to ASCII letters, digits and `_` (at most 63 bytes, PostgreSQL's limit)
    /// so that it needs no quoting in SQL or escaping in the URL.
    ///
    /// # Errors
    /// The name is not allowed, or `createdb` fails (for example, the database exists); the
    /// error carries its output.
    pub fn create_database(&self, name: &str) -> Result<String> {
        let valid = !name.is_empty()
            && name.len() <= 63
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !valid {
            bail!("database name {name:?}: use 1 to 63 ASCII letters, digits or _, not starting with a digit");
        }
        let output = self
            .client("createdb")
            .arg(name)
            .output()
            .context("running createdb")?;
        if !output.status.success() {
            bail!(
                "createdb {name} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(self.database_url(name))
    }

    /// Creates a database with a name no other call in this process gets, and returns its URL:
    /// a test's own database on a [`shared`](Self::shared) server.
    ///
    /// # Errors
    /// As [`create_database`](Self::create_database).
    pub fn fresh_database(&self) -> Result<String> {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        self.create_database(&format!("test_{n}"))
    }

    /// Runs `sql` with `psql` in database `name` (unaligned, tuples only, stopping at the first
    /// error) and returns its standard output.
    ///
    /// # Errors
    /// `psql` fails; the error carries its output.
    pub fn psql(&self, name: &str, sql: &str) -> Result<String> {
        let output = self
            .client("psql")
            .args([
                "-X",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                name,
                "-c",
                sql,
            ])
            .output()
            .context("running psql")?;
        if !output.status.success() {
            bail!(
                "psql in {name} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        String::from_utf8(output.stdout).context("psql's output is not UTF-8")
    }

    /// The directory holding the server and client binaries in use.
    pub fn bin_dir(&self) -> &Path {
        &self.bin_dir
    }

    /// The temp dir holding the cluster (`data`), its socket and its log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The last `lines` lines of the server log, to put in a failing test's message.
    pub fn log_tail(&self, lines: usize) -> String {
        read_tail(&self.log_path, 0, lines)
    }

    /// Whether the server process is still running (it has not exited and was not stopped).
    pub fn is_running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// Stops the server at once (PostgreSQL's immediate shutdown: every session ends with a
    /// FATAL error and a closed socket, nothing is checkpointed, and the next start recovers
    /// from the WAL, as after a crash) and waits for it to exit. The files
    /// stay until drop, so [`restart`](Self::restart) finds the same databases. Does nothing if
    /// it is not running.
    pub fn kill(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        // SIGQUIT is an immediate shutdown: the postmaster takes its backends down with it.
        // SIGKILL would leave them to notice its death on their own.
        let quit = rustix::process::kill_process(
            rustix::process::Pid::from_child(&child),
            rustix::process::Signal::QUIT,
        );
        let deadline = Instant::now() + STOP_TIMEOUT;
        while quit.is_ok() && Instant::now() < deadline {
            match child.try_wait() {
                Ok(None) => std::thread::sleep(POLL_INTERVAL),
                // Exited, or already reaped: nothing more to do.
                _ => return,
            }
        }
        // Both fail only if the child has exited meanwhile: nothing to do then.
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Stops the server if it runs, then starts it again on the same port with the same
    /// databases, and waits until it accepts connections.
    ///
    /// # Errors
    /// The port stays taken by another process through several attempts, or the server exits or
    /// does not accept connections within the startup timeout (the error carries its log tail).
    pub fn restart(&mut self) -> Result<()> {
        self.kill();
        let mut last_error = None;
        for attempt in 0..BIND_ATTEMPTS {
            match self.launch() {
                Ok(()) => return Ok(()),
                Err(LaunchError::PortTaken(e)) => {
                    last_error = Some(e);
                    // Backoff before retrying the same port (not synchronization: the port is
                    // held by some other process we cannot wait on).
                    std::thread::sleep(Duration::from_millis(50 << attempt));
                }
                Err(LaunchError::Other(e)) => return Err(e),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow!("postgres never restarted")))
    }

    /// A command for one of the server's binaries, run as the unprivileged user when we are
    /// root, from the temp dir (the caller's working directory may be closed to that user, and
    /// initdb fails where it cannot read its working directory).
    fn server_command(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin_dir.join(program));
        command
            .current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .stdin(Stdio::null());
        // Its own process group: Ctrl-C on the test run (SIGINT to the terminal's group) is
        // for the test process; the server stops when the test process is gone, as on drop or
        // by the watchdog, never half-way through a test.
        command.process_group(0);
        if let Some(user) = &self.run_as {
            // std also drops root's supplementary groups when it switches the uid.
            command.uid(user.uid).gid(user.gid);
        }
        command
    }

    /// A client binary (`createdb`, `psql`) aimed at this server as the superuser, with no
    /// `PG*` variable or `~/.psqlrc` of the caller's in the way.
    fn client(&self, program: &str) -> Command {
        let mut command = Command::new(self.bin_dir.join(program));
        command
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("PGCONNECT_TIMEOUT", "10")
            .args(["-h", "127.0.0.1", "-U", SUPERUSER])
            .arg("-p")
            .arg(self.port.to_string())
            .stdin(Stdio::null());
        command
    }

    /// Starts the watchdog: `sh` blocked reading a pipe whose other end only this process
    /// holds (std opens pipes close-on-exec, so no other child inherits it). When this process
    /// exits, however it exits, the read returns and the watchdog stops the server and removes
    /// the temp dir. Drop kills the watchdog first, having done both itself.
    fn spawn_watchdog(&mut self) -> Result<()> {
        // It ignores the signals a terminal or `timeout` sends to a whole process group, so
        // that they cannot end it before it has cleaned up.
        let script = r#"trap '' HUP INT QUIT TERM; read -r _; "$0" stop -D "$1" -m immediate -w -t 10 >/dev/null 2>&1; rm -rf "$2""#;
        let mut sh = Command::new("sh");
        sh.current_dir(self.dir.path())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .args(["-c", script])
            .arg(self.bin_dir.join("pg_ctl"))
            .arg(&self.data_dir)
            .arg(self.dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0);
        if let Some(user) = &self.run_as {
            // pg_ctl refuses to run as root too.
            sh.uid(user.uid).gid(user.gid);
        }
        self.watchdog = Some(sh.spawn().context("spawning the postgres watchdog (sh)")?);
        Ok(())
    }

    fn initdb(&self) -> Result<()> {
        let output = self
            .server_command("initdb")
            .arg("-D")
            .arg(&self.data_dir)
            .args([
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                // Codepoint order, and character classes that know UTF-8 (lower/upper,
                // ILIKE); glibc has this locale built in, so it needs no locale package.
                "--locale=C.UTF-8",
                "--no-sync",
                "--no-instructions",
            ])
            .output()
            .context("running initdb")?;
        if !output.status.success() {
            bail!(
                "initdb failed ({}{}):\n{}{}",
                output.status,
                // As root, the usual cause: the temp dir's parents are closed to that user.
                self.run_as
                    .as_ref()
                    .map(|u| format!(", as user {}", u.name))
                    .unwrap_or_default(),
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }

    /// Spawns the postmaster on `self.port` and waits until it accepts connections.
    fn launch(&mut self) -> std::result::Result<(), LaunchError> {
        let log_offset = std::fs::metadata(&self.log_path)
            .map(|m| m.len())
            .unwrap_or(0);
        self.spawn().map_err(LaunchError::Other)?;
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            let Some(child) = self.child.as_mut() else {
                return Err(LaunchError::Other(anyhow!("postgres is not running")));
            };
            match child.try_wait() {
                Ok(None) => {}
                Ok(Some(status)) => {
                    self.child = None;
                    let tail = read_tail(&self.log_path, log_offset, LOG_TAIL_LINES);
                    let error = anyhow!(
                        "postgres exited before accepting connections on port {} ({status}); \
                         log tail:\n{tail}",
                        self.port
                    );
                    return Err(if tail.contains(BIND_FAILED) {
                        LaunchError::PortTaken(error)
                    } else {
                        LaunchError::Other(error)
                    });
                }
                Err(e) => {
                    return Err(LaunchError::Other(
                        anyhow::Error::new(e).context("checking the postgres child process"),
                    ))
                }
            }
            let pid = child.id();
            if postmaster_ready(&self.data_dir, pid) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                self.kill();
                let tail = read_tail(&self.log_path, log_offset, LOG_TAIL_LINES);
                return Err(LaunchError::Other(anyhow!(
                    "postgres did not accept connections on port {} within {STARTUP_TIMEOUT:?}; \
                     log tail:\n{tail}",
                    self.port
                )));
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Writes a certificate chain and key for `localhost`/`127.0.0.1` beside the data directory,
    /// owned by the server's user with the key 0600 (PostgreSQL refuses a key others can read);
    /// returns the CA's PEM.
    fn write_certificate(&self) -> Result<String> {
        use std::os::unix::fs::PermissionsExt;
        let (ca, chain, key) = crate::caddy::test_pki()?;
        let (crt_path, key_path) = (
            self.dir.path().join("server.crt"),
            self.dir.path().join("server.key"),
        );
        std::fs::write(&crt_path, chain)?;
        std::fs::write(&key_path, key)?;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600))?;
        if let Some(user) = &self.run_as {
            for path in [&crt_path, &key_path] {
                std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
                    .with_context(|| format!("giving {} to {}", path.display(), user.name))?;
            }
        }
        Ok(ca.pem())
    }

    fn spawn(&mut self) -> Result<()> {
        // Opened by us, so the log is writable whoever the server runs as.
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .with_context(|| format!("opening {}", self.log_path.display()))?;
        let log_err = log.try_clone().context("duplicating the log file handle")?;
        let child = self
            .server_command("postgres")
            .arg("-D")
            .arg(&self.data_dir)
            // The Unix socket goes into the private temp dir, not /var/run/postgresql.
            .arg("-k")
            .arg(self.dir.path())
            .args(["-h", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .args([
                // Nothing waits for the disk: the cluster need not survive a machine crash.
                // synchronous_commit stays on: with fsync off it costs one write() per commit,
                // and off it would make kill() lose committed transactions (still in shared
                // memory), which a real server never does.
                "-c",
                "fsync=off",
                "-c",
                "full_page_writes=off",
                // Parallel queries' shared memory in the data dir, not /dev/shm, which
                // containers often make tiny.
                "-c",
                "dynamic_shared_memory_type=mmap",
                // One shared server serves a whole test binary, each of whose backends keeps
                // a pool of connections open until the binary exits.
                "-c",
                "max_connections=400",
            ])
            .args(if self.tls_ca.is_some() {
                vec![
                    "-c".to_owned(),
                    "ssl=on".to_owned(),
                    "-c".to_owned(),
                    format!(
                        "ssl_cert_file={}",
                        self.dir.path().join("server.crt").display()
                    ),
                    "-c".to_owned(),
                    format!(
                        "ssl_key_file={}",
                        self.dir.path().join("server.key").display()
                    ),
                ]
            } else {
                Vec::new()
            })
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .spawn()
            .with_context(|| format!("spawning {}", self.bin_dir.join("postgres").display()))?;
        self.child = Some(child);
        Ok(())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.kill();
        if let Some(mut watchdog) = self.watchdog.take() {
            // Its work is done; killed, it never reads the pipe's end.
            let _ = watchdog.kill();
            let _ = watchdog.wait();
        }
    }
}

enum LaunchError {
    PortTaken(anyhow::Error),
    Other(anyhow::Error),
}

/// Whether the postmaster `pid` says, in its `postmaster.pid`, that it accepts connections.
/// Line 1 is its pid (so a stale file from a previous run does not count) and line 8 its status
/// (`ready`, padded with spaces), written once it accepts connections.
fn postmaster_ready(data_dir: &Path, pid: u32) -> bool {
    let Ok(text) = std::fs::read_to_string(data_dir.join("postmaster.pid")) else {
        return false;
    };
    let lines: Vec<&str> = text.lines().collect();
    lines.first().and_then(|l| l.trim().parse::<u32>().ok()) == Some(pid)
        && lines.get(7).map(|l| l.trim()) == Some("ready")
}

/// `overridden` (`$CONFAB_PG_BIN_DIR`), else Debian's PostgreSQL 15, else the newest other
/// Debian version.
fn find_bin_dir(overridden: Option<std::ffi::OsString>) -> Result<PathBuf> {
    let missing = |dir: &Path| {
        BINARIES
            .iter()
            .filter(|b| !dir.join(b).is_file())
            .copied()
            .collect::<Vec<_>>()
    };
    if let Some(dir) = overridden {
        let dir = PathBuf::from(dir);
        let absent = missing(&dir);
        if !absent.is_empty() {
            bail!(
                "{BIN_DIR_ENV}={} lacks {} (unset it to use Debian's postgresql-15, which \
                 scripts/bootstrap.sh test installs)",
                dir.display(),
                absent.join(", ")
            );
        }
        return Ok(dir);
    }
    let mut candidates = vec![PathBuf::from(DEBIAN_BIN_DIR)];
    let mut others: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse::<u32>().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    // Newest first.
    others.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    candidates.extend(others.into_iter().map(|(_, dir)| dir));
    candidates
        .into_iter()
        .find(|dir| missing(dir).is_empty())
        .ok_or_else(|| {
            anyhow!(
                "PostgreSQL is not installed: run scripts/bootstrap.sh test (Debian package \
                 postgresql-15), or point {BIN_DIR_ENV} at a directory with {}",
                BINARIES.join(", ")
            )
        })
}

/// The first of [`UNPRIVILEGED_USERS`] that exists (looked up with `getent`, so NSS counts).
fn unprivileged_user() -> Result<RunAs> {
    for name in UNPRIVILEGED_USERS {
        let Ok(output) = Command::new("getent").args(["passwd", name]).output() else {
            continue;
        };
        if !output.status.success() {
            continue;
        }
        let line = String::from_utf8_lossy(&output.stdout);
        let fields: Vec<&str> = line.trim().split(':').collect();
        if let (Some(Ok(uid)), Some(Ok(gid))) = (
            fields.get(2).map(|f| f.parse::<u32>()),
            fields.get(3).map(|f| f.parse::<u32>()),
        ) {
            if uid != 0 {
                return Ok(RunAs {
                    name: name.to_owned(),
                    uid,
                    gid,
                });
            }
        }
    }
    bail!(
        "running as root, and PostgreSQL refuses to: none of the users {} exists to run it as",
        UNPRIVILEGED_USERS.join(", ")
    )
}

/// The last `lines` lines of the file from byte `offset` on (a restart's own log).
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_overridden_bin_dir_without_the_binaries_is_an_error_naming_them() {
        let error = find_bin_dir(Some("/nonexistent/pg/bin".into()))
            .expect_err("a directory with no binaries");
        let message = format!("{error:#}");
        assert!(
            message.contains("CONFAB_PG_BIN_DIR=/nonexistent/pg/bin lacks initdb, postgres"),
            "{message}"
        );
        assert!(message.contains("scripts/bootstrap.sh test"), "{message}");
    }

    #[test]
    fn only_the_postmasters_own_ready_status_counts() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let pid_file = dir.path().join("postmaster.pid");
        assert!(!postmaster_ready(dir.path(), 42), "no file");
        let file = |pid: u32, status: &str| {
            format!("{pid}\n/data\n1700000000\n5432\n/tmp\n127.0.0.1\n0 0\n{status}\n")
        };
        std::fs::write(&pid_file, file(42, "starting"))?;
        assert!(!postmaster_ready(dir.path(), 42), "starting");
        std::fs::write(&pid_file, file(41, "ready   "))?;
        assert!(!postmaster_ready(dir.path(), 42), "another postmaster");
        std::fs::write(&pid_file, file(42, "ready   "))?;
        assert!(postmaster_ready(dir.path(), 42));
        Ok(())
    }
}
