//! The wasm entry point: mounts the UI.

fn main() {
    confab_ui::run();
}
