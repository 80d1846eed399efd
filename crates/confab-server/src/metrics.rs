//! Prometheus metrics (counted by `routes::observe`): requests and their latencies by route, Pusher trigger outcomes and
//! retries, the database writer's queue and commit sizes; served in the text exposition format
//! on a separate listener (`CONFAB_METRICS_BIND`) that only the operator's scraper reaches.
//!
//! What it does: counts every answered request (the `routes::observe::track` middleware) under its route
//! *template* (`/api/conversations/{id}/messages`), never its concrete path, so the number of
//! series stays bounded whatever clients send; reads the writer's and the realtime task's own
//! counters at scrape time.
//! What it never does: label anything with a user, a token, an address or a raw path; serve on
//! the public API's address.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use crate::db::{WriterStats, COMMIT_SIZE_BOUNDS};
use crate::realtime::RealtimeStats;

/// Latency histogram bounds, seconds.
const LATENCY_BOUNDS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// One route's latency histogram.
#[derive(Debug, Default, Clone)]
struct Latency {
    /// Non-cumulative counts per bound, plus one for above the last.
    buckets: [u64; LATENCY_BOUNDS.len() + 1],
    sum: f64,
    count: u64,
}

/// Request counters and latencies, by (method, route) and status. Shared by the app state.
#[derive(Debug, Default)]
pub struct HttpMetrics {
    inner: Mutex<HttpInner>,
}

#[derive(Debug, Default)]
struct HttpInner {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Latency>,
}

impl HttpMetrics {
    /// Records one answered request.
    pub fn record(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let Ok(mut m) = self.inner.lock() else {
            return;
        };
        *m.requests
            .entry((method.to_owned(), route.to_owned(), status))
            .or_default() += 1;
        let l = m
            .latency
            .entry((method.to_owned(), route.to_owned()))
            .or_default();
        let i = LATENCY_BOUNDS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(LATENCY_BOUNDS.len());
        l.buckets[i] += 1;
        l.sum += seconds;
        l.count += 1;
    }
}

/// Everything, in the Prometheus text format.
pub fn render(http: &HttpMetrics, rt: &RealtimeStats, w: &WriterStats) -> String {
    let mut out = String::new();
    if let Ok(m) = http.inner.lock() {
        header(
            &mut out,
            "confab_http_requests_total",
            "counter",
            "Requests answered, by method, route template and status.",
        );
        for ((method, route, status), n) in &m.requests {
            let _ = writeln!(
                out,
                "confab_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                escape(route)
            );
        }
        header(
            &mut out,
            "confab_http_request_duration_seconds",
            "histogram",
            "Time to answer, by method and route template.",
        );
        for ((method, route), l) in &m.latency {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            let mut cumulative = 0;
            for (bound, n) in LATENCY_BOUNDS.iter().zip(l.buckets.iter()) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "confab_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "confab_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}\n\
                 confab_http_request_duration_seconds_sum{{{labels}}} {}\n\
                 confab_http_request_duration_seconds_count{{{labels}}} {}",
                l.count, l.sum, l.count
            );
        }
    }

    header(
        &mut out,
        "confab_pusher_events_total",
        "counter",
        "Realtime events by outcome: queued, delivered (accepted by the Pusher HTTP API), \
         dropped (failed after every retry; clients catch up by sync).",
    );
    for (outcome, n) in [
        ("queued", rt.queued()),
        ("delivered", rt.delivered()),
        ("dropped", rt.dropped()),
    ] {
        let _ = writeln!(
            out,
            "confab_pusher_events_total{{outcome=\"{outcome}\"}} {n}"
        );
    }
    header(
        &mut out,
        "confab_pusher_retries_total",
        "counter",
        "Pusher HTTP API requests that failed and were tried again.",
    );
    let _ = writeln!(out, "confab_pusher_retries_total {}", rt.retried());

    header(
        &mut out,
        "confab_db_writer_queue_depth",
        "gauge",
        "Write jobs waiting for the database writer thread.",
    );
    let _ = writeln!(out, "confab_db_writer_queue_depth {}", w.waiting());
    let (commits, failed) = w.commits();
    header(
        &mut out,
        "confab_db_commits_total",
        "counter",
        "Group commits by outcome.",
    );
    let _ = writeln!(
        out,
        "confab_db_commits_total{{outcome=\"ok\"}} {}\nconfab_db_commits_total{{outcome=\"failed\"}} {failed}",
        commits - failed
    );
    header(
        &mut out,
        "confab_db_commit_jobs",
        "histogram",
        "Write jobs per group commit.",
    );
    let (sizes, jobs) = w.sizes();
    for (bound, n) in COMMIT_SIZE_BOUNDS.iter().zip(sizes.iter()) {
        let _ = writeln!(out, "confab_db_commit_jobs_bucket{{le=\"{bound}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "confab_db_commit_jobs_bucket{{le=\"+Inf\"}} {commits}\nconfab_db_commit_jobs_sum {jobs}\nconfab_db_commit_jobs_count {commits}"
    );
    out
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as the format wants it (route templates hold no quotes, but be exact).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_land_in_their_bucket_and_counts_add_up() {
        let m = HttpMetrics::default();
        m.record("GET", "/api/sync", 200, 0.003);
        m.record("GET", "/api/sync", 200, 0.2);
        m.record("GET", "/api/sync", 500, 9.0);
        let inner = m.inner.lock().expect("not poisoned");
        assert_eq!(inner.requests[&("GET".into(), "/api/sync".into(), 200)], 2);
        let l = &inner.latency[&("GET".into(), "/api/sync".into())];
        assert_eq!(l.count, 3);
        assert_eq!(l.buckets[2], 1, "3 ms is in the 5 ms bucket");
        assert_eq!(l.buckets[7], 1, "200 ms is in the 250 ms bucket");
        assert_eq!(l.buckets[LATENCY_BOUNDS.len()], 1, "9 s is above them all");
    }
}
