//! Generates the Tauri context and the permissions of Confab's commands. The commands are an
//! inlined plugin named `confab` whose command list is `confab_model::ipc::commands::NAMES`
//! (the one declaration of them); its default permission allows all of them, and the main
//! window's capability grants `confab:default`.
//!
//! It also hands the linker `code-order.txt` for optimised Linux builds: the functions a start
//! and an idle window run, laid out first in the binary's code. It never changes what the
//! program does, only where its functions sit.

use std::path::Path;

use tauri_build::{Attributes, DefaultPermissionRule, InlinedPlugin};

fn main() {
    let confab = InlinedPlugin::new()
        .commands(confab_model::ipc::commands::NAMES)
        .default_permission(DefaultPermissionRule::AllowAllCommands);
    let attributes = Attributes::new().plugin(confab_model::ipc::commands::PLUGIN, confab);
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {e:#}");
    }
    code_order();
}

/// Why: the kernel maps a binary's code in blocks of 64 KB or more around each page the
/// program runs, and the start's functions are spread over the whole of it, so nearly all of
/// the app's 7.7 MB of code ends up resident. Listed first, the 3.0 MB the start and an idle
/// window run fill 47 blocks instead of 109 (resident code 6.8 → 3.5 MB; BENCHMARKS.md, "Code
/// order").
///
/// Only where the linker is LLD, rustc's default for x86_64-unknown-linux-gnu since 1.90
/// (`--symbol-ordering-file` is LLD's), and only for optimised builds, whose symbol names the
/// list was taken from. A name the binary no longer has (the list is older than the code) is
/// skipped in silence: the order decays, it never breaks a build. `scripts/bench.sh order`
/// retakes the list; `scripts/bench.sh app` prints how much of it the binary still has.
/// `CONFAB_CODE_ORDER=off` leaves it out, for a build that links with another linker.
fn code_order() {
    let list = Path::new(env!("CARGO_MANIFEST_DIR")).join("code-order.txt");
    println!("cargo:rerun-if-changed={}", list.display());
    println!("cargo:rerun-if-env-changed=CONFAB_CODE_ORDER");
    let target = std::env::var("TARGET").unwrap_or_default();
    let optimised = std::env::var("PROFILE").is_ok_and(|p| p == "release");
    let wanted = std::env::var("CONFAB_CODE_ORDER").map_or(true, |v| v != "off");
    if target == "x86_64-unknown-linux-gnu" && optimised && wanted && list.is_file() {
        println!(
            "cargo:rustc-link-arg-bin=confab-desktop=-Wl,--symbol-ordering-file={}",
            list.display()
        );
        println!("cargo:rustc-link-arg-bin=confab-desktop=-Wl,--no-warn-symbol-ordering");
    }
}
