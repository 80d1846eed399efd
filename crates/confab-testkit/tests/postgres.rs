//! The PostgreSQL harness against Debian's `postgresql-15` (installed by scripts/bootstrap.sh).
//! As root (CI, and the project's machines), these check that it runs the server as an
//! unprivileged user.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use confab_testkit::Postgres;

/// How long a stopped server may take to release its port and files.
const GONE_TIMEOUT: Duration = Duration::from_secs(15);
/// Set in the child process of the watchdog test.
const CHILD_ENV: &str = "CONFAB_TESTKIT_PG_WATCHDOG_CHILD";

/// Polls `gone` until it holds or [`GONE_TIMEOUT`] passes.
fn eventually(mut gone: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + GONE_TIMEOUT;
    loop {
        if gone() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn refuses_connections(port: u16) -> bool {
    TcpStream::connect(("127.0.0.1", port)).is_err()
}

#[test]
fn a_started_server_accepts_connections_and_creates_fresh_databases() -> Result<()> {
    let server = Postgres::start()?;
    let port = server.port();
    assert_eq!(
        server.url(),
        format!("postgres://confab@127.0.0.1:{port}/postgres")
    );

    let alpha = server.create_database("alpha")?;
    let beta = server.create_database("beta")?;
    assert_eq!(alpha, format!("postgres://confab@127.0.0.1:{port}/alpha"));
    assert_eq!(beta, format!("postgres://confab@127.0.0.1:{port}/beta"));
    for name in ["alpha", "beta"] {
        assert_eq!(server.psql(name, "select 1")?.trim(), "1", "{name}");
    }
    // psql reaches it by URL too, as an application would.
    let by_url = Command::new(server.bin_dir().join("psql"))
        .args(["-X", "-A", "-t", "-c", "select current_database()", &beta])
        .env_clear()
        .output()?;
    assert!(by_url.status.success(), "{by_url:?}");
    assert_eq!(String::from_utf8(by_url.stdout)?.trim(), "beta");

    // Each database starts empty: a table in one is not in the other.
    server.psql("alpha", "create table t (x int); insert into t values (7)")?;
    assert_eq!(server.psql("alpha", "select x from t")?.trim(), "7");
    assert!(server.psql("beta", "select x from t").is_err());
    assert!(server.create_database("alpha").is_err(), "a second alpha");
    assert!(
        server.create_database("no; drop").is_err(),
        "a name that needs quoting"
    );

    assert_eq!(server.psql("alpha", "show server_encoding")?.trim(), "UTF8");
    // The cluster is never the superuser of the machine: PostgreSQL refuses root.
    let owner = std::fs::metadata(server.dir().join("data"))?;
    assert_ne!(std::os::unix::fs::MetadataExt::uid(&owner), 0);
    Ok(())
}

#[test]
fn dropping_the_server_stops_it_and_removes_its_files() -> Result<()> {
    let server = Postgres::start()?;
    let port = server.port();
    let dir = server.dir().to_path_buf();
    assert!(dir.join("data").is_dir());
    assert!(!refuses_connections(port));

    drop(server);
    // Drop waits for the postmaster's exit, so both hold at once.
    assert!(refuses_connections(port), "port {port} still open");
    assert!(!dir.exists(), "{} still exists", dir.display());
    Ok(())
}

#[test]
fn a_restarted_server_keeps_its_port_and_its_databases() -> Result<()> {
    let mut server = Postgres::start()?;
    let port = server.port();
    server.create_database("kept")?;
    server.psql(
        "kept",
        "create table t (x text); insert into t values ('still here')",
    )?;

    server.kill();
    assert!(!server.is_running());
    assert!(refuses_connections(port));
    server.restart()?;

    assert!(server.is_running());
    assert_eq!(server.port(), port);
    assert_eq!(server.psql("kept", "select x from t")?.trim(), "still here");
    Ok(())
}

#[test]
fn the_shared_server_gives_each_caller_its_own_database() -> Result<()> {
    let first = Postgres::shared()?;
    let second = Postgres::shared()?;
    assert_eq!(first.port(), second.port());
    let a = first.fresh_database()?;
    let b = second.fresh_database()?;
    assert_ne!(a, b);
    for url in [&a, &b] {
        let name = url.rsplit('/').next().context("a database name")?;
        assert_eq!(first.psql(name, "select 1")?.trim(), "1");
    }
    Ok(())
}

/// The watchdog: a process that dies without dropping its server (SIGKILL here; a `static`
/// at exit is the everyday case) leaves neither the server nor its files behind.
#[test]
fn a_server_outliving_its_process_is_stopped_and_removed() -> Result<()> {
    let mut child = Command::new(std::env::current_exe()?)
        .args([
            "--exact",
            "watchdog_child_holds_a_server_until_killed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().context("the child's stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let (port, dir) = loop {
        let Some(line) = lines.next() else {
            let status = child.wait()?;
            bail!("the child exited ({status}) without starting postgres");
        };
        // libtest prints the test's name first, on the same line.
        let line = line?;
        if let Some((_, rest)) = line.split_once("POSTGRES ") {
            let (port, dir) = rest.split_once(' ').context("port and dir")?;
            break (port.parse::<u16>()?, PathBuf::from(dir));
        }
    };
    assert!(!refuses_connections(port));

    child.kill()?;
    child.wait()?;

    assert!(
        eventually(|| refuses_connections(port)),
        "port {port} still open"
    );
    assert!(
        eventually(|| !dir.exists()),
        "{} still exists",
        dir.display()
    );
    Ok(())
}

/// Not a test on its own: the process the watchdog test kills. It does nothing unless that
/// test started it.
#[test]
fn watchdog_child_holds_a_server_until_killed() -> Result<()> {
    if std::env::var_os(CHILD_ENV).is_none() {
        return Ok(());
    }
    let server = Postgres::start()?;
    println!("POSTGRES {} {}", server.port(), server.dir().display());
    // Blocks until the parent kills this process (its stdin stays open until then).
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    drop(server);
    bail!("stdin closed: the parent did not kill this process")
}
