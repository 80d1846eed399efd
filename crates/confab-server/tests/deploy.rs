//! The deployment kit in `deploy/`: the systemd units pass systemd's own checks
//! (`systemd-analyze verify` and its offline security review) and carry the promised hardening;
//! the compose file runs Caddy, confab-server and Sockudo with volumes and no inline secret; the
//! example environment file is one the server accepts. The same for the multi-node kit in
//! `deploy/multi-node/` (template units, compose with PostgreSQL and Redis, the cluster's Sockudo
//! config, which needs a `sockudo` built with its redis feature: `SOCKUDO_BIN` or
//! `scripts/bootstrap.sh`). No compose tool exists on the test machines, so the compose files
//! are read as YAML.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};
use confab_server::config::Storage;
use confab_server::ServeConfig;
use serde_yaml::Value;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn read(name: &str) -> Result<String> {
    let path = deploy_dir().join(name);
    std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))
}

/// Every `Key=value` line of a unit's sections (comments and section headers skipped).
fn settings(unit: &str) -> Vec<(String, String)> {
    unit.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// As sockudo-process finds it: `SOCKUDO_BIN`, else `PATH`, else `~/.cargo/bin`.
fn sockudo_bin() -> Option<PathBuf> {
    if let Some(bin) = std::env::var_os("SOCKUDO_BIN").map(PathBuf::from) {
        return bin.is_file().then_some(bin);
    }
    let on_path = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|d| d.join("sockudo"))
        .find(|p| p.is_file());
    on_path.or_else(|| {
        let p = PathBuf::from(std::env::var_os("HOME")?).join(".cargo/bin/sockudo");
        p.is_file().then_some(p)
    })
}

fn systemd_analyze(args: &[&str], dir: &Path) -> Result<(bool, String)> {
    let out = Command::new("systemd-analyze")
        .args(args)
        .current_dir(dir)
        .output()
        .context("running systemd-analyze (scripts/bootstrap.sh test installs systemd)")?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok((out.status.success(), text))
}

#[test]
fn the_units_pass_systemd_analyze_verify_without_a_warning_and_its_security_review() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let Some(sockudo) = sockudo_bin() else {
        bail!("sockudo not found: run scripts/bootstrap.sh");
    };
    // The real binaries at the places the units name (verify checks they are executable).
    let units = [
        (
            "confab-server.service",
            "/usr/local/bin/confab-server",
            PathBuf::from(env!("CARGO_BIN_EXE_confab-server")),
        ),
        ("confab-sockudo.service", "/usr/local/bin/sockudo", sockudo),
        (
            "confab-backup.service",
            "/usr/local/bin/confab-server",
            PathBuf::from(env!("CARGO_BIN_EXE_confab-server")),
        ),
    ];
    for (name, installed, built) in &units {
        let text = read(name)?;
        assert!(text.contains(installed), "{name} runs {installed}");
        let local = text.replace(installed, &built.to_string_lossy());
        std::fs::write(dir.path().join(name), local)?;
    }
    std::fs::write(
        dir.path().join("confab-backup.timer"),
        read("confab-backup.timer")?,
    )?;
    let (ok, out) = systemd_analyze(&["verify", "confab-backup.timer"], dir.path())?;
    assert!(
        ok && out.trim().is_empty(),
        "systemd-analyze verify the timer:\n{out}"
    );
    for (name, _, _) in &units {
        verify_and_review(name, dir.path())?;
    }
    Ok(())
}

/// `systemd-analyze verify` says nothing about unit `name` in `dir`, and its offline security
/// review scores it 2.0 at most (0 locked down, 10 unprotected).
fn verify_and_review(name: &str, dir: &Path) -> Result<()> {
    let (ok, out) = systemd_analyze(&["verify", name], dir)?;
    assert!(
        ok && out.trim().is_empty(),
        "systemd-analyze verify {name}:\n{out}"
    );
    let (ok, out) = systemd_analyze(
        &[
            "security",
            "--offline=true",
            "--threshold=20",
            "--no-pager",
            name,
        ],
        dir,
    )?;
    assert!(ok, "systemd-analyze security {name} is above 2.0:\n{out}");
    Ok(())
}

#[test]
fn the_multi_node_template_units_pass_systemd_analyze_verify_and_its_security_review_per_instance(
) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let Some(sockudo) = sockudo_bin() else {
        bail!("sockudo not found: run scripts/bootstrap.sh");
    };
    let server = PathBuf::from(env!("CARGO_BIN_EXE_confab-server"));
    for (name, installed, built) in [
        (
            "confab-server@.service",
            "/usr/local/bin/confab-server",
            &server,
        ),
        (
            "confab-sockudo@.service",
            "/usr/local/bin/sockudo",
            &sockudo,
        ),
    ] {
        let text = read(&format!("multi-node/{name}"))?;
        assert!(text.contains(installed), "{name} runs {installed}");
        let local = text.replace(installed, &built.to_string_lossy());
        std::fs::write(dir.path().join(name), local)?;
    }
    // A template is checked through its instances, as systemd loads them: `@1` and `@2`, as
    // the examples name them.
    for instance in ["1", "2"] {
        for unit in ["confab-server", "confab-sockudo"] {
            verify_and_review(&format!("{unit}@{instance}.service"), dir.path())?;
        }
    }
    Ok(())
}

#[test]
fn the_units_carry_the_promised_hardening_and_keep_secrets_in_root_only_files() -> Result<()> {
    let common = [
        ("DynamicUser", "yes"),
        ("ProtectSystem", "strict"),
        ("ProtectHome", "yes"),
        ("PrivateTmp", "yes"),
        ("NoNewPrivileges", "yes"),
        ("SystemCallFilter", "@system-service"),
        ("CapabilityBoundingSet", ""),
        ("MemoryDenyWriteExecute", "yes"),
    ];
    for (name, own) in [
        (
            "confab-server.service",
            vec![
                ("StateDirectory", "confab"),
                ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
                ("EnvironmentFile", "/etc/confab/server.env"),
                ("ExecStart", "/usr/local/bin/confab-server serve"),
            ],
        ),
        (
            "confab-sockudo.service",
            vec![
                ("LoadCredential", "sockudo.toml:/etc/confab/sockudo.toml"),
                ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
                (
                    "ExecStart",
                    "/usr/local/bin/sockudo --config %d/sockudo.toml",
                ),
            ],
        ),
        (
            "multi-node/confab-server@.service",
            vec![
                ("User", "confab-%i"),
                ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
                ("EnvironmentFile", "/etc/confab/server.env"),
                ("EnvironmentFile", "/etc/confab/server-%i.env"),
                ("ExecStart", "/usr/local/bin/confab-server serve"),
            ],
        ),
        (
            "multi-node/confab-sockudo@.service",
            vec![
                (
                    "LoadCredential",
                    "sockudo.toml:/etc/confab/sockudo-cluster.toml",
                ),
                ("EnvironmentFile", "/etc/confab/sockudo-%i.env"),
                ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
                (
                    "ExecStart",
                    "/usr/local/bin/sockudo --config %d/sockudo.toml",
                ),
            ],
        ),
        (
            // The same dynamic user as the server, so it can read the database; no network.
            "confab-backup.service",
            vec![
                ("User", "confab"),
                ("StateDirectory", "confab confab-backups"),
                ("RestrictAddressFamilies", "AF_UNIX"),
                ("PrivateNetwork", "yes"),
            ],
        ),
    ] {
        let set = settings(&read(name)?);
        for (key, value) in common.iter().chain(&own) {
            assert!(
                set.iter().any(|(k, v)| k == key && v == value),
                "{name} lacks {key}={value}"
            );
        }
        for (key, value) in &set {
            let upper = key.to_ascii_uppercase();
            assert!(
                !(key == "Environment" && (upper.contains("SECRET") || value.contains("SECRET"))),
                "{name} must not carry a secret inline: {key}={value}"
            );
        }
    }
    Ok(())
}

/// Every string in the document, with the mapping key it sits under.
fn strings<'a>(v: &'a Value, key: &str, out: &mut Vec<(String, &'a str)>) {
    match v {
        Value::String(s) => out.push((key.to_owned(), s)),
        Value::Sequence(items) => items.iter().for_each(|i| strings(i, key, out)),
        Value::Mapping(m) => {
            for (k, v) in m {
                strings(v, k.as_str().unwrap_or(key), out);
            }
        }
        _ => {}
    }
}

#[test]
fn the_compose_file_runs_caddy_server_and_sockudo_with_volumes_and_no_inline_secret() -> Result<()>
{
    let doc: Value = serde_yaml::from_str(&read("compose.yaml")?)?;
    let services = &doc["services"];
    for name in ["caddy", "confab-server", "sockudo"] {
        assert!(services[name].is_mapping(), "service {name}");
        assert_eq!(
            services[name]["security_opt"][0].as_str(),
            Some("no-new-privileges:true"),
            "{name} runs without new privileges"
        );
        assert_eq!(
            services[name]["cap_drop"][0].as_str(),
            Some("ALL"),
            "{name}"
        );
        assert_eq!(services[name]["read_only"].as_bool(), Some(true), "{name}");
    }
    let volumes = doc["volumes"].as_mapping().context("top-level volumes")?;
    for v in ["confab-data", "caddy-data"] {
        assert!(volumes.contains_key(v), "volume {v}");
    }
    let server = &services["confab-server"];
    assert_eq!(server["env_file"][0].as_str(), Some("server.env"));
    assert!(server["volumes"]
        .as_sequence()
        .into_iter()
        .flatten()
        .any(|v| v.as_str() == Some("confab-data:/var/lib/confab")));
    assert_eq!(
        server["environment"]["CONFAB_DB"].as_str(),
        Some("/var/lib/confab/confab.db"),
        "the database is on the volume"
    );
    assert!(services["caddy"]["volumes"]
        .as_sequence()
        .into_iter()
        .flatten()
        .any(|v| v.as_str() == Some("./Caddyfile:/etc/caddy/Caddyfile:ro")));
    assert!(
        services["caddy"]["ports"].is_sequence()
            && services["confab-server"]["ports"].is_null()
            && services["sockudo"]["ports"].is_null(),
        "only Caddy publishes ports"
    );
    assert_eq!(
        doc["secrets"]["sockudo.toml"]["file"].as_str(),
        Some("./sockudo.toml")
    );

    assert_no_inline_secret(&doc)?;
    // What it builds and mounts exists, or has an example to copy.
    for file in [
        "Dockerfile",
        "sockudo.Dockerfile",
        "server.env.example",
        "sockudo.toml.example",
    ] {
        assert!(deploy_dir().join(file).is_file(), "deploy/{file}");
    }
    assert_secrets_stay_out_of_builds_and_git()
}

/// No secret value in any service's environment (a variable that names one may only refer to
/// the env file's value), and no example value pasted anywhere.
fn assert_no_inline_secret(doc: &Value) -> Result<()> {
    let services = &doc["services"];
    for (name, service) in services.as_mapping().context("services")? {
        let env: Vec<(String, String)> = match &service["environment"] {
            Value::Mapping(m) => m
                .iter()
                .map(|(k, v)| {
                    let v = v.as_str().map(str::to_owned).unwrap_or_default();
                    (k.as_str().unwrap_or_default().to_owned(), v)
                })
                .collect(),
            Value::Sequence(items) => items
                .iter()
                .filter_map(|i| i.as_str()?.split_once('='))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
            _ => Vec::new(),
        };
        for (key, value) in env {
            let k = key.to_ascii_uppercase();
            if ["SECRET", "PASSWORD", "TOKEN", "PUSHER_KEY"]
                .iter()
                .any(|s| k.contains(s))
            {
                assert!(value.starts_with("${"), "{name:?}: {key} carries a value");
            }
        }
    }
    let mut all = Vec::new();
    strings(doc, "", &mut all);
    for (key, value) in &all {
        assert!(
            !value.contains("CHANGE-ME"),
            "an example value was pasted: {key}"
        );
    }
    Ok(())
}

/// The operator's secret files (made from the examples, single- and multi-node) never reach
/// an image builder's context or git.
fn assert_secrets_stay_out_of_builds_and_git() -> Result<()> {
    // Neither build context carries the operator's secret files to the image builder.
    let root_ignore = std::fs::read_to_string(deploy_dir().join("../.dockerignore"))?;
    for secret in [
        "deploy/server.env",
        "deploy/sockudo.toml",
        "deploy/multi-node/*.env",
        "deploy/multi-node/sockudo.toml",
    ] {
        assert!(
            root_ignore.lines().any(|l| l == secret),
            ".dockerignore: {secret}"
        );
    }
    assert!(read(".dockerignore")?.lines().any(|l| l == "*"));
    let ignored = read(".gitignore")?;
    for pattern in [
        "server.env",
        "sockudo.toml",
        "*.env",
        "sockudo-cluster.toml",
    ] {
        assert!(
            ignored.lines().any(|l| l == pattern),
            "deploy/.gitignore: {pattern}"
        );
    }
    Ok(())
}

/// A compose file's service `name`'s environment, as `KEY -> value`.
fn environment(service: &Value) -> HashMap<String, String> {
    service["environment"]
        .as_mapping()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str()?.to_owned(), v.as_str()?.to_owned())))
        .collect()
}

#[test]
fn the_multi_node_compose_file_runs_two_replicas_on_postgres_and_two_sockudo_nodes_on_redis(
) -> Result<()> {
    let mut doc: Value = serde_yaml::from_str(&read("multi-node/compose.yaml")?)?;
    // The services share their settings through YAML anchors and merge keys (`<<`), which
    // compose resolves; so does this. serde_yaml resolves one level per pass, and the
    // replicas' and nodes' settings merge the common hardening in turn: two passes.
    doc.apply_merge()?;
    doc.apply_merge()?;
    let services = doc["services"].as_mapping().context("services")?;
    let mut names: Vec<&str> = services.keys().filter_map(Value::as_str).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "caddy",
            "confab-server-1",
            "confab-server-2",
            "postgres",
            "redis",
            "sockudo-1",
            "sockudo-2"
        ]
    );
    let services = &doc["services"];
    for name in &names {
        let service = &services[*name];
        assert_eq!(
            service["security_opt"][0].as_str(),
            Some("no-new-privileges:true"),
            "{name}"
        );
        assert_eq!(service["cap_drop"][0].as_str(), Some("ALL"), "{name}");
        assert_eq!(service["read_only"].as_bool(), Some(true), "{name}");
        assert_eq!(
            service["ports"].is_sequence(),
            *name == "caddy",
            "only Caddy publishes ports: {name}"
        );
    }
    assert_eq!(services["postgres"]["image"].as_str(), Some("postgres:15"));
    assert_eq!(services["redis"]["image"].as_str(), Some("redis:7"));

    for (replica, node) in [
        ("confab-server-1", "sockudo-1"),
        ("confab-server-2", "sockudo-2"),
    ] {
        let service = &services[replica];
        assert_eq!(service["image"].as_str(), Some("confab-server:local"));
        assert_eq!(
            service["build"]["dockerfile"].as_str(),
            Some("deploy/Dockerfile"),
            "{replica}: the single-node image"
        );
        assert_eq!(service["env_file"][0].as_str(), Some("server.env"));
        let env = environment(service);
        let url = env.get("CONFAB_DATABASE_URL").map(String::as_str);
        assert!(
            url.is_some_and(|u| u.starts_with("postgres://confab:${POSTGRES_PASSWORD")
                && u.ends_with("@postgres:5432/confab")),
            "{replica} uses the postgres service, its password from server.env: {url:?}"
        );
        assert!(
            !env.contains_key("CONFAB_DB"),
            "{replica} has one database, the shared one"
        );
        assert_eq!(env.get("PUSHER_API_HOST").map(String::as_str), Some(node));
        assert!(env.contains_key("CONFAB_TRUSTED_PROXIES"), "{replica}");
        assert!(
            service["volumes"].is_null(),
            "{replica} keeps nothing of its own"
        );
    }
    for node in ["sockudo-1", "sockudo-2"] {
        let service = &services[node];
        assert_eq!(
            service["build"]["dockerfile"].as_str(),
            Some("sockudo.Dockerfile")
        );
        assert_eq!(service["secrets"][0].as_str(), Some("sockudo.toml"));
        let env = environment(service);
        assert_eq!(
            env.get("REDIS_URL").map(String::as_str),
            Some("redis://redis:6379"),
            "{node} is a node of the cluster on the redis service"
        );
        assert_eq!(env.get("HOST").map(String::as_str), Some("0.0.0.0"));
    }
    let caddy = &services["caddy"];
    assert!(
        caddy["env_file"].is_null(),
        "the edge never gets server.env's secrets"
    );
    let env = environment(caddy);
    assert_eq!(
        env.get("CONFAB_UPSTREAMS").map(String::as_str),
        Some("confab-server-1:8080 confab-server-2:8080")
    );
    assert_eq!(
        env.get("SOCKUDO_UPSTREAMS").map(String::as_str),
        Some("sockudo-1:6001 sockudo-2:6001")
    );
    assert!(caddy["volumes"]
        .as_sequence()
        .into_iter()
        .flatten()
        .any(|v| v.as_str() == Some("./Caddyfile:/etc/caddy/Caddyfile:ro")));
    assert_eq!(
        doc["secrets"]["sockudo.toml"]["file"].as_str(),
        Some("./sockudo.toml")
    );
    assert_no_inline_secret(&doc)?;

    // The nodes' image has the Redis adapter, and the nodes' example config uses it, with one
    // cache for the cluster and no silent fallback to running alone.
    assert!(read("sockudo.Dockerfile")?.contains("--features local,redis"));
    let cluster = read("multi-node/sockudo.toml.example")?;
    for line in [
        "[cache]\ndriver = \"redis\"",
        "[adapter]\ndriver = \"redis\"\nfallback_to_local = false",
    ] {
        assert!(cluster.contains(line), "sockudo.toml.example: {line}");
    }
    for file in ["Caddyfile", "server.env.example", "sockudo.toml.example"] {
        assert!(
            deploy_dir().join("multi-node").join(file).is_file(),
            "deploy/multi-node/{file}"
        );
    }
    assert_secrets_stay_out_of_builds_and_git()
}

/// `KEY=value` lines of an example environment file.
fn env_file(name: &str) -> Result<HashMap<String, String>> {
    Ok(read(name)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect())
}

#[test]
fn the_multi_node_examples_give_each_replica_postgres_its_own_port_and_its_own_node() -> Result<()>
{
    let shared = env_file("multi-node/server.env.example")?;
    let caddyfile = read("multi-node/Caddyfile")?;
    let mut api_upstreams = Vec::new();
    let mut node_upstreams = Vec::new();
    for n in ["1", "2"] {
        // As the template unit reads them: the shared file, then the replica's own.
        let mut vars = shared.clone();
        vars.extend(env_file(&format!("multi-node/server-{n}.env.example"))?);
        let config = ServeConfig::from_vars(&vars)?;
        assert!(
            matches!(config.storage, Storage::Postgres(_)),
            "replica {n} is on PostgreSQL"
        );
        assert!(config.pusher.use_tls && !config.trusted_proxies.is_empty());
        let node = env_file(&format!("multi-node/sockudo-{n}.env.example"))?;
        let port = node.get("PORT").context("the node's PORT")?;
        assert_eq!(
            config.pusher_api.api_base(),
            format!("http://127.0.0.1:{port}"),
            "replica {n} triggers on node {n}"
        );
        assert!(node
            .get("REDIS_URL")
            .is_some_and(|u| u.starts_with("redis://")));
        api_upstreams.push(config.bind.to_string());
        node_upstreams.push(format!("127.0.0.1:{port}"));
    }
    assert_ne!(api_upstreams[0], api_upstreams[1]);
    // The Caddyfile's defaults are exactly these replicas and nodes.
    for (var, upstreams) in [
        ("CONFAB_UPSTREAMS", &api_upstreams),
        ("SOCKUDO_UPSTREAMS", &node_upstreams),
    ] {
        let placeholder = format!("{{${var}:{}}}", upstreams.join(" "));
        assert!(caddyfile.contains(&placeholder), "Caddyfile: {placeholder}");
    }
    Ok(())
}

#[test]
fn the_example_environment_file_is_accepted_by_the_server_with_tls_and_ninety_days() -> Result<()> {
    let mut vars: HashMap<String, String> = read("server.env.example")?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    // The unit sets the database path.
    vars.insert("CONFAB_DB".into(), "/var/lib/confab/confab.db".into());
    let config = ServeConfig::from_vars(&vars)?;
    assert!(
        config.pusher.use_tls,
        "the apps reach Sockudo through Caddy's TLS"
    );
    assert_eq!(config.pusher.api_base(), "https://chat.example.com:443");
    assert_eq!(
        config.pusher_api.api_base(),
        "http://127.0.0.1:6001",
        "the server triggers on Sockudo's own port, not through the edge that refuses /apps/"
    );
    assert!(!config.trusted_proxies.is_empty(), "the edge is trusted");
    assert_eq!(config.retention.changes_days, 90);
    Ok(())
}

/// Kills the Sockudo child when the test ends, however it ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn the_example_sockudo_config_starts_sockudo_and_accepts_the_servers_signed_triggers(
) -> Result<()> {
    use confab_server::config::PusherSettings;
    use confab_server::realtime::{HttpPublisher, OutEvent, Publisher};
    use std::io::BufRead;

    let Some(bin) = sockudo_bin() else {
        bail!("sockudo not found: run scripts/bootstrap.sh");
    };
    let dir = tempfile::tempdir()?;
    let port = sockudo_process::free_port();
    let (app_id, key, secret) = ("4242", "deploy-key", "deploy-secret-not-real");
    let example = read("sockudo.toml.example")?;
    assert!(example.contains("port = 6001") && example.matches("CHANGE-ME").count() == 3);
    let config = example
        .replace("port = 6001", &format!("port = {port}"))
        .replacen("CHANGE-ME", app_id, 1)
        .replacen("CHANGE-ME", key, 1)
        .replacen("CHANGE-ME", secret, 1);
    let path = dir.path().join("sockudo.toml");
    std::fs::write(&path, config)?;
    // As the unit runs it: the config file only (Sockudo lets variables override it).
    let mut child = Child(
        Command::new(bin)
            .arg("--config")
            .arg(&path)
            .current_dir(dir.path())
            .env_clear()
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()?,
    );
    let stdout = child.0.stdout.take().context("sockudo's stdout")?;
    // Its log says when the app is registered and the port listens: await those lines. The
    // reader keeps draining the log afterwards (a closed pipe would stop Sockudo's logging).
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut ready = Some(ready_tx);
        let (mut registered, mut listening) = (false, false);
        for line in std::io::BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            registered |= line.contains("app registration") && line.contains(app_id);
            listening |= line.contains("http server listening");
            if registered && listening {
                if let Some(tx) = ready.take() {
                    let _ = tx.send(());
                }
            }
        }
    });
    tokio::time::timeout(std::time::Duration::from_secs(30), ready_rx)
        .await
        .context("sockudo did not start within 30 s")?
        .context("sockudo exited before listening with the example config")?;
    // The log line can come a moment before the HTTP API answers: await its health check, the
    // condition Sockudo itself reports, under the same kind of timeout.
    let http = reqwest::Client::builder().no_proxy().build()?;
    let health = format!("http://127.0.0.1:{port}/up/{app_id}");
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(20));
        loop {
            tick.tick().await;
            if http
                .get(&health)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
        }
    })
    .await
    .context("sockudo's app did not report healthy within 30 s")?;

    let settings = PusherSettings {
        app_id: app_id.into(),
        key: key.into(),
        secret: secret.into(),
        cluster: None,
        host: Some("127.0.0.1".into()),
        port: Some(port),
        use_tls: false,
    };
    let publisher = HttpPublisher::new(&settings)?;
    let event = OutEvent {
        channels: vec!["private-user-1".into()],
        name: "conversation-created",
        data: "{}".into(),
        exclude_socket_id: None,
    };
    publisher
        .publish(&event)
        .await
        .context("the example's app accepts a trigger signed with its secret")?;
    let wrong = HttpPublisher::new(&PusherSettings {
        secret: "another-secret".into(),
        ..settings
    })?;
    assert!(
        wrong.publish(&event).await.is_err(),
        "and refuses another secret"
    );
    Ok(())
}

/// Polls `url` until it answers 200, under a deadline.
async fn await_healthy(http: &reqwest::Client, url: &str) -> Result<()> {
    tokio::time::timeout(std::time::Duration::from_secs(30), async {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(20));
        loop {
            tick.tick().await;
            if http
                .get(url)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
        }
    })
    .await
    .with_context(|| format!("{url} did not answer 200 within 30 s"))
}

#[tokio::test]
async fn the_cluster_example_config_makes_nodes_that_relay_a_trigger_on_one_to_a_socket_on_another(
) -> Result<()> {
    use confab_server::config::PusherSettings;
    use confab_server::realtime::{HttpPublisher, OutEvent, Publisher};
    use futures_util::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;

    let Some(bin) = sockudo_bin() else {
        bail!("sockudo not found: run scripts/bootstrap.sh");
    };
    let redis = confab_testkit::Redis::start().await?;
    let dir = tempfile::tempdir()?;
    let (app_id, key, secret) = ("4243", "cluster-key", "cluster-secret-not-real");
    let example = read("multi-node/sockudo.toml.example")?;
    assert_eq!(example.matches("CHANGE-ME").count(), 3);
    let config = example
        .replacen("CHANGE-ME", app_id, 1)
        .replacen("CHANGE-ME", key, 1)
        .replacen("CHANGE-ME", secret, 1);
    let path = dir.path().join("sockudo.toml");
    std::fs::write(&path, config)?;
    // Two nodes as the template unit runs them: the one config, each node's own PORT and the
    // shared REDIS_URL from its environment file.
    let http = reqwest::Client::builder().no_proxy().build()?;
    let mut nodes = Vec::new();
    for n in 0..2 {
        let port = sockudo_process::free_port();
        let log = std::fs::File::create(dir.path().join(format!("node-{n}.log")))?;
        let child = Child(
            Command::new(&bin)
                .arg("--config")
                .arg(&path)
                .current_dir(dir.path())
                .env_clear()
                .env("RUST_LOG", "info")
                .env("PORT", port.to_string())
                .env("REDIS_URL", redis.url())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()?,
        );
        // /up is 200 only while the node reaches Redis (adapter and cache). A binary without
        // the redis feature exits at once, saying so in its log.
        let log = dir.path().join(format!("node-{n}.log"));
        await_healthy(&http, &format!("http://127.0.0.1:{port}/up"))
            .await
            .with_context(|| {
                format!(
                    "node {n} ({}; a cluster needs Sockudo's redis feature: SOCKUDO_BIN or \
                     scripts/bootstrap.sh) log:\n{}",
                    bin.display(),
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            })?;
        nodes.push((port, child));
    }

    // A socket on the second node, on a public channel (no auth needed for this check).
    let url = format!("ws://127.0.0.1:{}/app/{key}?protocol=7", nodes[1].0);
    let (mut ws, _) = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio_tungstenite::connect_async(url),
    )
    .await??;
    let subscribe =
        serde_json::json!({"event": "pusher:subscribe", "data": {"channel": "cluster-check"}});
    ws.send(Message::text(subscribe.to_string())).await?;
    let mut next = async |event: &str| -> Result<serde_json::Value> {
        loop {
            let frame = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
                .await
                .with_context(|| format!("no {event} within 10 s"))?
                .context("the socket closed")??;
            if let Message::Text(text) = frame {
                let frame: serde_json::Value = serde_json::from_str(text.as_str())?;
                if frame["event"] == event {
                    return Ok(frame);
                }
            }
        }
    };
    next("pusher_internal:subscription_succeeded").await?;

    // Triggered through the first node's HTTP API, signed with the example's secret.
    let publisher = HttpPublisher::new(&PusherSettings {
        app_id: app_id.into(),
        key: key.into(),
        secret: secret.into(),
        cluster: None,
        host: Some("127.0.0.1".into()),
        port: Some(nodes[0].0),
        use_tls: false,
    })?;
    publisher
        .publish(&OutEvent {
            channels: vec!["cluster-check".into()],
            name: "cluster-check",
            data: "{\"from\":\"node one\"}".into(),
            exclude_socket_id: None,
        })
        .await?;
    let frame = next("cluster-check").await?;
    assert_eq!(frame["channel"], "cluster-check");
    assert_eq!(frame["data"], "{\"from\":\"node one\"}");
    Ok(())
}
