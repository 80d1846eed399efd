//! The idle footprint (issue 16, Linux): settings that make the web process hold less once the
//! first screen is up, each measured with `scripts/bench.sh app` (BENCHMARKS.md, "Idle memory").
//!
//! What the web process holds beyond an empty WebKitGTK window is mostly code (JavaScriptCore's
//! and WebKit's pages the UI touches) and live data (the DOM, the UI's wasm module and its JS
//! objects), not garbage: a far more eager JavaScriptCore GC changed nothing and a release of
//! WebKit's allocator freed 1.7 MB, so what is set here changes what gets compiled, not when.

/// JavaScriptCore options for the web process, as `(variable, value)`: read by WebKit's web
/// process when it starts, which inherits the app's environment.
///
/// `useBBQJIT=false`: the UI's wasm runs in JavaScriptCore's in-place interpreter until a
/// function is hot, then in the optimising tier (OMG), with no baseline-compiled copy of every
/// function that ran once in between. 2.5–3 MB less idle PSS (the baseline JIT's code and the
/// compiler's pages: 53 → 50–52 MB above the empty window, 2026-12-06); the first screen
/// rendered no slower within the bench's noise. JavaScript keeps all its tiers.
pub const WEB_PROCESS_JSC_OPTIONS: &[(&str, &str)] = &[("JSC_useBBQJIT", "false")];

/// Sets [`WEB_PROCESS_JSC_OPTIONS`] in this process's environment, so the web process WebKit
/// spawns later inherits them. A value the user set wins. Called first thing in `run`, before
/// any thread exists and before WebKit starts.
pub fn web_process_options() {
    for (var, value) in WEB_PROCESS_JSC_OPTIONS {
        if std::env::var_os(var).is_none() {
            std::env::set_var(var, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_web_process_gets_the_options_unless_the_user_set_them() {
        // One test touches these variables, so no other test races it.
        let (var, value) = WEB_PROCESS_JSC_OPTIONS[0];
        std::env::remove_var(var);
        web_process_options();
        assert_eq!(std::env::var(var).as_deref(), Ok(value));
        std::env::set_var(var, "true");
        web_process_options();
        assert_eq!(std::env::var(var).as_deref(), Ok("true"));
    }
}
