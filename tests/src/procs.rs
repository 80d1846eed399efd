//! Processes as `/proc` shows them: finding an app's whole tree (tauri-driver →
//! WebKitWebDriver → confab-desktop → WebKit helpers) and stopping all of it, so one test's
//! app never lingers into the next (the app is single-instance: a leftover would swallow the
//! next start).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// One process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proc {
    /// Its id.
    pub pid: u32,
    /// Its parent's id.
    pub ppid: u32,
    /// Its name (`comm`, at most 15 bytes).
    pub name: String,
}

/// Every process.
pub fn all() -> Vec<Proc> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.flatten()
        .filter_map(|e| {
            let pid = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // "pid (name) state ppid …": the name may hold spaces and parentheses.
            let (open, close) = (stat.find('(')?, stat.rfind(')')?);
            let ppid = stat
                .get(close + 2..)?
                .split_whitespace()
                .nth(1)?
                .parse()
                .ok()?;
            Some(Proc {
                pid,
                ppid,
                name: stat[open + 1..close].to_owned(),
            })
        })
        .collect()
}

/// `root` and every process below it, parents first.
pub fn tree(root: u32) -> Vec<u32> {
    let all = all();
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let parent = out[i];
        out.extend(all.iter().filter(|p| p.ppid == parent).map(|p| p.pid));
        i += 1;
    }
    out
}

/// Whether `pid` still runs (a zombie does not count).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(Path::new("/proc").join(pid.to_string()).join("stat"))
        .ok()
        .and_then(|s| {
            s.rfind(')')
                .and_then(|i| s.get(i + 2..i + 3))
                .map(|st| st != "Z")
        })
        .unwrap_or(false)
}

/// Sends SIGTERM to each of `pids` still running and waits up to `grace` for all to exit;
/// SIGKILLs what is left. Returns the ones that needed SIGKILL.
pub fn stop_all(pids: &[u32], grace: Duration) -> Vec<u32> {
    let signal = |sig: &str, pid: u32| {
        let _ = Command::new("kill")
            .args([sig, &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status();
    };
    for &pid in pids.iter().filter(|p| alive(**p)) {
        signal("-TERM", pid);
    }
    let deadline = Instant::now() + grace;
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let stubborn: Vec<u32> = pids.iter().copied().filter(|p| alive(*p)).collect();
    for &pid in &stubborn {
        signal("-KILL", pid);
    }
    stubborn
}

/// A process's memory and CPU time, as the benchmarks read them.
#[derive(Debug, Clone)]
pub struct Footprint {
    /// Its id.
    pub pid: u32,
    /// Its name.
    pub name: String,
    /// Resident set (shared libraries counted in full).
    pub rss_kb: u64,
    /// Proportional set (shared pages divided among their users): the honest share.
    pub pss_kb: u64,
    /// Unique set (private pages only).
    pub uss_kb: u64,
    /// User + system CPU time, in clock ticks.
    pub cpu_ticks: u64,
}

/// The footprint of `root` and every process below it.
///
/// # Errors
/// Never today (a process that exits meanwhile is left out); kept fallible for callers.
pub fn footprint(root: u32) -> anyhow::Result<Vec<Footprint>> {
    Ok(footprint_of(tree(root)))
}

/// The footprint of each of `pids` still running.
pub fn footprint_of(pids: impl IntoIterator<Item = u32>) -> Vec<Footprint> {
    let all = all();
    let mut out = Vec::new();
    for pid in pids {
        let dir = Path::new("/proc").join(pid.to_string());
        let Ok(rollup) = std::fs::read_to_string(dir.join("smaps_rollup")) else {
            continue;
        };
        let field = |k: &str| -> u64 {
            rollup
                .lines()
                .find(|l| l.starts_with(k))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let stat = std::fs::read_to_string(dir.join("stat")).unwrap_or_default();
        let after_name = stat.rfind(')').map_or("", |i| &stat[i + 2..]);
        let f: Vec<&str> = after_name.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of stat, 12 and 13 after the name.
        let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        let name = all
            .iter()
            .find(|p| p.pid == pid)
            .map_or_else(String::new, |p| p.name.clone());
        out.push(Footprint {
            pid,
            name,
            rss_kb: field("Rss:"),
            pss_kb: field("Pss:"),
            uss_kb: field("Private_Clean:") + field("Private_Dirty:"),
            cpu_ticks: ticks(11) + ticks(12),
        });
    }
    out
}
