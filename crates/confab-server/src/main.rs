//! The `confab-server` command: `serve`, `demo`, `backup`, `migrate-to-postgres`, and
//! `users add|list|disable|enable|reset-password|revoke-sessions`.

use std::collections::HashMap;
use std::io::{BufRead, IsTerminal};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use confab_server::config::{retention_from_vars, PusherSettings, ServeConfig, Storage};
use confab_server::realtime::HttpPublisher;
use confab_server::retention::{spawn_maintenance, MAINTENANCE_EVERY};
use confab_server::{app, auth, backup, demo, migrate, store, AppState, Db};
use sockudo_process::Sockudo;

/// Confab's companion backend.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the API. Configuration from the environment: PUSHER_APP_ID, PUSHER_KEY,
    /// PUSHER_SECRET, and PUSHER_CLUSTER (hosted) or PUSHER_HOST [PUSHER_PORT, PUSHER_USE_TLS]
    /// (Sockudo/Soketi); CONFAB_DB (SQLite file); CONFAB_BIND (default 127.0.0.1:8080);
    /// CONFAB_METRICS_BIND (Prometheus /metrics, off by default); CONFAB_WRITE_LIMITS;
    /// CONFAB_TRUSTED_PROXIES (CIDRs of reverse proxies whose X-Forwarded-For is believed);
    /// CONFAB_CHANGES_RETENTION_DAYS (default 90). Maintenance runs at start and hourly.
    /// CONFAB_DATABASE_URL=postgres://… instead of CONFAB_DB runs it as one of several replicas
    /// on one PostgreSQL database.
    Serve,
    /// One-command demo: a fresh database with users (passwords printed), history and pending
    /// requests, and a Sockudo child process with generated credentials (none when PUSHER_*
    /// name a Pusher server already running).
    Demo {
        /// Listen address. Port 0 picks a free port; the first line printed names the real one.
        #[arg(long, default_value = "127.0.0.1:8080")]
        bind: SocketAddr,
        /// Where to create the database (must not exist; kept on exit). Default: a file in a new
        /// temporary directory, removed on exit.
        #[arg(long)]
        db: Option<PathBuf>,
        /// Let a teammate (Linus) post messages and share requests now and then.
        #[arg(long)]
        teammate: bool,
    },
    /// Copy the database to a new file while the server may be serving (VACUUM INTO). Restore:
    /// stop the server, copy the file over the database (removing its -wal and -shm), start.
    Backup {
        /// The SQLite file (or CONFAB_DB).
        #[arg(long, env = "CONFAB_DB")]
        db: Option<PathBuf>,
        /// The new file (must not exist; created 0600).
        path: PathBuf,
    },
    /// Move a SQLite database into a new, empty PostgreSQL database, ids and sequence numbers
    /// and all, verified by row counts and every user's sync before it commits. The server may
    /// keep serving: what it writes after the snapshot is not moved (stop writes first to move
    /// everything).
    MigrateToPostgres {
        /// The SQLite file the server serves from.
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL database (postgres://…, or CONFAB_DATABASE_URL); it must be empty.
        #[arg(long, env = "CONFAB_DATABASE_URL", hide_env_values = true)]
        to: String,
    },
    /// Manage accounts (there is no open sign-up).
    Users {
        /// The SQLite file (or CONFAB_DB).
        #[arg(long, env = "CONFAB_DB", global = true)]
        db: Option<PathBuf>,
        /// A PostgreSQL database instead (postgres://…, or CONFAB_DATABASE_URL).
        #[arg(
            long,
            env = "CONFAB_DATABASE_URL",
            global = true,
            hide_env_values = true
        )]
        database_url: Option<String>,
        #[command(subcommand)]
        action: UsersCmd,
    },
}

#[derive(Subcommand)]
enum UsersCmd {
    /// Add a user. The password is read from stdin when piped; otherwise one is generated and
    /// printed.
    Add {
        /// Login email.
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
    },
    /// List every account.
    List,
    /// Disable an account, revoke its tokens and close its live connections.
    Disable {
        /// Login email.
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account again (the user signs in anew).
    Enable {
        /// Login email.
        #[arg(long)]
        email: String,
    },
    /// Set a new password (read from stdin when piped; otherwise generated and printed),
    /// revoke every token of the account and close its live connections.
    ResetPassword {
        /// Login email.
        #[arg(long)]
        email: String,
    },
    /// Sign an account out everywhere: revoke every token and close its live connections.
    RevokeSessions {
        /// Login email.
        #[arg(long)]
        email: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,tower_http=warn".into()),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Users {
            db,
            database_url,
            action,
        } => users(db, database_url, action),
        Cmd::Backup { db, path } => run_backup(db, &path),
        Cmd::MigrateToPostgres { from, to } => run_migrate(&from, &to),
        Cmd::Serve => runtime().and_then(|rt| rt.block_on(serve())),
        Cmd::Demo { bind, db, teammate } => {
            runtime().and_then(|rt| rt.block_on(run_demo(bind, db, teammate)))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("confab-server: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

async fn serve() -> Result<()> {
    let vars: HashMap<String, String> = std::env::vars().collect();
    let config = ServeConfig::from_vars(&vars).context("refusing to start")?;
    let storage = config.storage.clone();
    let db = tokio::task::spawn_blocking(move || storage.open())
        .await?
        .with_context(|| format!("opening {}", config.storage.describe()))?;
    let publisher = std::sync::Arc::new(HttpPublisher::new(&config.pusher_api)?);
    let state = AppState::with_publisher(db, &config.pusher, publisher)
        .with_write_limits(config.write_limits)
        .trusting(config.trusted_proxies.clone());
    let maintenance = spawn_maintenance(state.clone(), config.retention, MAINTENANCE_EVERY);
    let listener = bind(config.bind).await?;
    if let Some(addr) = config.metrics_bind {
        let metrics = bind(addr).await?;
        tracing::info!(bind = %metrics.local_addr()?, "serving metrics at /metrics");
        let router = confab_server::routes::observe::metrics_router(state.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(metrics, router).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    tracing::info!(bind = %listener.local_addr()?, pusher = %config.pusher_api.api_base(),
        trusted_proxies = ?config.trusted_proxies,
        retention_days = config.retention.changes_days, "serving");
    let result = listen(listener, state).await;
    maintenance.abort();
    result
}

/// Binds `addr`; port 0 picks a free port (read it back with `local_addr`).
async fn bind(addr: SocketAddr) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))
}

async fn listen(listener: tokio::net::TcpListener, state: AppState) -> Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

async fn run_demo(bind_addr: SocketAddr, db_path: Option<PathBuf>, teammate: bool) -> Result<()> {
    let vars: HashMap<String, String> = std::env::vars().collect();
    let retention = retention_from_vars(&vars).context("refusing to start")?;
    // Without --db the database lives in a temporary directory that is removed on exit, so
    // repeated demo runs (tests, scripts) leave nothing behind.
    let (db_path, scratch) = match db_path {
        Some(path) => (path, None),
        None => {
            let dir = tempfile::Builder::new()
                .prefix("confab-demo-")
                .tempdir()
                .context("creating a temporary directory for the demo database")?;
            (dir.path().join("confab.db"), Some(dir))
        }
    };
    if db_path.exists() {
        bail!(
            "{} exists; demo mode creates a fresh database",
            db_path.display()
        );
    }
    // Bind first: a busy port fails before anything is created, and port 0 is resolved to the
    // real one before it is printed.
    let listener = bind(bind_addr).await?;
    let local = listener.local_addr()?;
    let db = Db::open(&db_path)?;
    let data = demo::seed(&db)?;
    // A Pusher server of the operator's (PUSHER_* set: a Sockudo cluster, hosted Pusher) makes
    // the child optional, so demo replicas can share one; otherwise the demo runs its own.
    let (mut sockudo, settings) = if vars.contains_key("PUSHER_APP_ID") {
        let settings = PusherSettings::from_vars(&vars).context("refusing to start")?;
        (None, settings)
    } else {
        // As hosted Pusher: at most 10 client events per connection per second.
        let sockudo = Sockudo::builder()
            .max_client_events_per_second(10)
            .start()
            .await?;
        let settings = PusherSettings::of_local(&sockudo);
        (Some(sockudo), settings)
    };
    let state = AppState::new(db, &settings)?;
    println!("Confab demo server on http://{local}");
    println!("  database: {}", db_path.display());
    println!(
        "  {}:  {}:{} (key {})",
        if sockudo.is_some() {
            "sockudo"
        } else {
            "pusher "
        },
        settings.host.as_deref().unwrap_or("hosted Pusher"),
        settings.port.unwrap_or_default(),
        settings.key
    );
    // What `users disable` and the other account commands need to close live sockets, for
    // trying them against the demo (the file is private and removed on exit).
    let admin_env = admin_env_file(&db_path, &settings)?;
    println!(
        "  admin:    set -a; . {}; set +a; confab-server users --db {} …",
        admin_env.display(),
        db_path.display()
    );
    println!("  users:");
    for u in &data.users {
        println!(
            "    {:<22} password {}   ({})",
            u.user.email, u.password, u.user.name
        );
    }
    if teammate {
        println!("  teammate: Linus posts now and then and asks Ada to share things");
        let ada = data.users[0].user.clone();
        let linus = data.users[2].user.clone();
        tokio::spawn(demo::run_teammate(
            state.clone(),
            linus,
            ada,
            data.teammate_rooms.clone(),
        ));
    }
    println!("Press Ctrl-C to stop (a Sockudo it started stops too).");
    let maintenance = spawn_maintenance(state.clone(), retention, MAINTENANCE_EVERY);
    let result = listen(listener, state.clone()).await;
    maintenance.abort();
    if let Some(sockudo) = sockudo.as_mut() {
        sockudo.kill();
    }
    let _ = std::fs::remove_file(&admin_env);
    state.db().close();
    drop(state);
    drop(scratch);
    result
}

/// Writes the demo Sockudo's `PUSHER_*` settings next to the database as `<db>.pusher.env`
/// (0600, created new), for the account commands run against the demo.
fn admin_env_file(db_path: &std::path::Path, p: &PusherSettings) -> Result<PathBuf> {
    use std::io::Write as _;
    let mut path = db_path.as_os_str().to_owned();
    path.push(".pusher.env");
    let path = PathBuf::from(path);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(
        file,
        "PUSHER_APP_ID={}\nPUSHER_KEY={}\nPUSHER_SECRET={}\nPUSHER_HOST={}\nPUSHER_PORT={}\nPUSHER_USE_TLS=false",
        p.app_id,
        p.key,
        p.secret,
        p.host.as_deref().unwrap_or("127.0.0.1"),
        p.port.unwrap_or_default()
    )?;
    Ok(path)
}

fn run_backup(db_path: Option<PathBuf>, target: &std::path::Path) -> Result<()> {
    let Some(db_path) = db_path else {
        bail!("set --db PATH or CONFAB_DB to the server's SQLite file");
    };
    backup::backup(&db_path, target)?;
    println!("backed up {} to {}", db_path.display(), target.display());
    Ok(())
}

fn run_migrate(from: &std::path::Path, to: &str) -> Result<()> {
    // Named without the URL's password, in messages and in the report alike.
    let target = Storage::Postgres(to.to_owned()).describe();
    let report = migrate::migrate_to_postgres(from, to)
        .with_context(|| format!("moving {} to {target}", from.display()))?;
    println!("moved {} to {target}", from.display());
    print!("{report}");
    println!("next: point every replica at it with CONFAB_DATABASE_URL (and unset CONFAB_DB)");
    Ok(())
}

fn users(db_path: Option<PathBuf>, database_url: Option<String>, action: UsersCmd) -> Result<()> {
    let storage = match (db_path, database_url) {
        (Some(_), Some(_)) => {
            bail!("set either --db (SQLite) or --database-url (PostgreSQL), not both")
        }
        (Some(path), None) => Storage::Sqlite(path),
        (None, Some(url)) => Storage::Postgres(url),
        (None, None) => bail!(
            "set --db PATH (CONFAB_DB) to the server's SQLite file, or --database-url \
             (CONFAB_DATABASE_URL) to its PostgreSQL database"
        ),
    };
    let db = storage
        .open()
        .with_context(|| format!("opening {}", storage.describe()))?;
    match action {
        UsersCmd::Add { email, name } => {
            let (password, generated) = read_or_generate_password()?;
            let hash = auth::hash_password(&password)?;
            let user = db.write_blocking(|c| store::users::create_user(c, &email, &name, &hash))?;
            println!("added user {} <{}> (id {})", user.name, user.email, user.id);
            if generated {
                println!("password: {password}");
            }
        }
        UsersCmd::List => {
            let accounts = db.write_blocking(store::users::accounts)?;
            for a in accounts {
                let state = if a.disabled { "disabled" } else { "active" };
                println!(
                    "{:>5}  {:<30} {:<30} {state}",
                    a.user.id, a.user.email, a.user.name
                );
            }
        }
        UsersCmd::Disable { email } => {
            let Some(id) = db.write_blocking(|c| store::users::disable(c, &email))? else {
                bail!("no user with email {email}");
            };
            println!("disabled {email}; their tokens are revoked");
            cut_sockets(id)?;
        }
        UsersCmd::Enable { email } => {
            if db
                .write_blocking(|c| store::users::enable(c, &email))?
                .is_none()
            {
                bail!("no user with email {email}");
            }
            println!("enabled {email}; they sign in with their password");
        }
        UsersCmd::ResetPassword { email } => {
            let Some(id) = db.write_blocking(|c| store::users::id_by_email(c, &email))? else {
                bail!("no user with email {email}");
            };
            let (password, generated) = read_or_generate_password()?;
            let hash = auth::hash_password(&password)?;
            let revoked = db
                .write_blocking(|c| store::users::set_password(c, id, &hash, None))?
                .unwrap_or_default();
            println!("new password set for {email}; {revoked} session(s) revoked");
            if generated {
                println!("password: {password}");
            }
            cut_sockets(id)?;
        }
        UsersCmd::RevokeSessions { email } => {
            let Some(id) = db.write_blocking(|c| store::users::id_by_email(c, &email))? else {
                bail!("no user with email {email}");
            };
            let revoked = db.write_blocking(|c| store::users::revoke_tokens(c, id, None))?;
            println!("{revoked} session(s) of {email} revoked");
            cut_sockets(id)?;
        }
    }
    db.close();
    Ok(())
}

/// Closes the user's live realtime connections through the Pusher HTTP API when `PUSHER_*` is
/// configured (as for `serve`), and says whether it did. The tokens are already revoked: a
/// connection left open is refused at its next auth, so a failure here is reported, not fatal.
fn cut_sockets(user: confab_model::UserId) -> Result<()> {
    let vars: HashMap<String, String> = std::env::vars().collect();
    // Where `serve` triggers: Sockudo's own address when PUSHER_API_HOST names one.
    let settings = match PusherSettings::from_vars(&vars).and_then(|p| p.for_api(&vars)) {
        Ok(s) => s,
        Err(e) => {
            println!("live connections not closed: Pusher is not configured ({e})");
            return Ok(());
        }
    };
    let publisher = confab_server::realtime::HttpPublisher::new(&settings)?;
    let closed = runtime()?.block_on(confab_server::realtime::terminate_with_retry(
        &publisher, user,
    ));
    if closed {
        println!("live connections closed");
    } else {
        println!("live connections NOT closed: the Pusher server did not accept the request (see the log); they are refused at their next auth");
    }
    Ok(())
}

fn read_or_generate_password() -> Result<(String, bool)> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.lock().read_line(&mut line)?;
        let line = line.trim_end_matches(['\r', '\n']).to_owned();
        if !line.is_empty() {
            auth::check_new_password(&line)?;
            return Ok((line, false));
        }
    }
    Ok((auth::generate_password(), true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
