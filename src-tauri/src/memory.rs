//! How the app's memory is tuned (issue 16, Linux): JavaScriptCore options the app sets in its
//! own environment, which the web process WebKitGTK spawns inherits, and glibc's allocator in
//! the app's own process.
//!
//! Why the JavaScriptCore options: JavaScriptCore sizes a web page's heap for throughput. It
//! lets a page allocate 32 MB before its first collection and, on a machine with 16 GB of RAM
//! or more, lets the heap grow to about four times what survived the last one. A detached DOM
//! row lives until the JS wrapper that held it is collected, and the wrapper is tiny, so the
//! collector does not feel the rows: scrolling back through a long conversation (50 rows built
//! and 50 dropped a page) grew the web process by 45–65 MB before anything was collected. With
//! the options below it grows by 4–8 MB over 10,000 messages, flat from the tenth page on, and
//! gives most of it back once the reader stops; keystrokes, start and paint time did not move
//! (`bench_history`, `bench_team`; BENCHMARKS.md, "A long history in the window").
//!
//! Why the allocator: glibc gives each new thread its own arena, up to 8 per core, and keeps
//! what is freed inside each. The app has ~20 threads (tokio's workers and blocking pool,
//! GLib's, D-Bus's, WebKit's UI side) and 14 arenas at idle, which held ~3 MB of free memory
//! (`bench_app`: the app's process 82.5 → 79.7 MB with the tuning below; BENCHMARKS.md, "What
//! the app's own allocator holds").
//!
//! What it never does: change what the page runs, or keep a tier from it (an earlier setting
//! that ran the wasm without its baseline tier was withdrawn: keystrokes four times slower for
//! 2.5 MB); it only sets when the heap is collected, when a function is compiled and how the
//! app's own allocator keeps what is freed.

/// JavaScriptCore options for the web process, as `(variable, value)`.
///
/// - `largeHeapSize`: the first collection after 1 MB allocated instead of 32 MB.
/// - `aggressiveHeapThresholdInMB`: never the growth curve meant for machines with much RAM
///   (about ×4 what survived), whatever RAM this machine has: the same heap on every machine.
/// - `smallHeapGrowthFactor`: the next collection when the heap is 1.25 times what survived
///   the last one (default ×2). A collection of this page's heap (5–7 MB live) takes 0.5–5 ms,
///   concurrently for the most part.
/// - `thresholdForBBQOptimizeAfterWarmUp` and `...Soon`: a wasm function is compiled by the
///   baseline tier after ten times the calls and loop turns it takes by default (1,500 and
///   500, against 150 and 50), so fewer of the functions that only the start runs, a few
///   hundred times each, get baseline code, which the page keeps for its whole life. A
///   keystroke's functions still reach that tier within a few keystrokes: idle −1.2 to −3.5
///   MB in the web process, keystrokes and start unchanged (BENCHMARKS.md, "The baseline wasm
///   tier later").
/// - `thresholdForJITAfterWarmUp` and `...Soon`, `thresholdForOptimizeAfterWarmUp`,
///   `...AfterLongWarmUp` and `...Soon`: the same for the page's JavaScript (wasm-bindgen's
///   glue and Tauri's IPC scripts), ten times the defaults for its baseline tier (5,000 and
///   1,000 against 500 and 100) and its optimising tier (DFG, 10,000 against 1,000). A start
///   compiled ~35 glue functions with the baseline tier and ~20 with DFG, each called a few
///   thousand times while the first screen is built; compiling even one brings that
///   compiler's code into the process, and the page keeps it. Now ~10 reach the baseline tier
///   and none DFG: idle −3.5 MB in the web process; keystrokes over 2,003 conversations,
///   start, opening a long conversation and a search hit within the benches' noise
///   (BENCHMARKS.md, "The page's JavaScript tiers later"). The optimising wasm tier (OMG)
///   keeps its default: delayed, a search hit 50,000 messages back came slower.
pub const WEB_PROCESS_JSC_OPTIONS: &[(&str, &str)] = &[
    ("JSC_largeHeapSize", "1048576"),
    ("JSC_aggressiveHeapThresholdInMB", "1048576"),
    ("JSC_smallHeapGrowthFactor", "1.25"),
    ("JSC_thresholdForBBQOptimizeAfterWarmUp", "1500"),
    ("JSC_thresholdForBBQOptimizeSoon", "500"),
    ("JSC_thresholdForJITAfterWarmUp", "5000"),
    ("JSC_thresholdForJITSoon", "1000"),
    ("JSC_thresholdForOptimizeAfterWarmUp", "10000"),
    ("JSC_thresholdForOptimizeAfterLongWarmUp", "10000"),
    ("JSC_thresholdForOptimizeSoon", "10000"),
];

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

/// glibc's allocator tuned for an app that mostly waits: one arena for every thread (one lock,
/// taken only when a thread's own cache of small blocks cannot serve it), and free memory at
/// the top of the heap handed back at once (128 KB, no padding). Setting the trim threshold
/// also fixes the threshold above which a block gets its own mapping, which glibc otherwise
/// raises to the largest block freed so far, so a large buffer (an asset served to the page,
/// a page of history) is unmapped when freed instead of staying in the heap.
///
/// Called first thing in `run`, before any thread exists: an arena, once made, stays. Returns
/// whether glibc took all three settings.
///
/// The workspace forbids `unsafe`; this crate denies it, and this function is its one
/// exception (scripts/test.sh checks that no other `unsafe` appears). `mallopt` reads two
/// integers and touches no memory of ours; glibc documents it as thread-safe.
/// The same settings given as `MALLOC_*` variables would need the app started again with them.
#[cfg(target_env = "gnu")]
#[allow(unsafe_code)]
pub fn tune_allocator() -> bool {
    const SETTINGS: [(libc::c_int, libc::c_int); 3] = [
        (libc::M_ARENA_MAX, 1),
        (libc::M_TRIM_THRESHOLD, 128 * 1024),
        (libc::M_TOP_PAD, 0),
    ];
    // Every setting is applied, whether or not one before it was refused.
    SETTINGS.iter().fold(true, |all, &(param, value)| {
        // SAFETY: `mallopt` takes two plain integers, returns 1 or 0, and only changes glibc's
        // allocator parameters under the allocator's own lock.
        let taken = unsafe { libc::mallopt(param, value) } == 1;
        all && taken
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_web_process_gets_the_options_unless_the_user_set_them() {
        // The only test that touches these variables, so no other test races it.
        let (var, value) = WEB_PROCESS_JSC_OPTIONS[0];
        std::env::remove_var(var);
        web_process_options();
        assert_eq!(std::env::var(var).as_deref(), Ok(value));
        std::env::set_var(var, "4194304");
        web_process_options();
        assert_eq!(std::env::var(var).as_deref(), Ok("4194304"));
    }

    #[cfg(target_env = "gnu")]
    #[test]
    fn glibc_takes_every_allocator_setting() {
        assert!(tune_allocator());
    }
}
