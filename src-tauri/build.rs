//! Generates the Tauri context and the permissions of Confab's commands. The commands are an
//! inlined plugin named `confab` whose command list is `confab_model::ipc::commands::NAMES`
//! (the one declaration of them); its default permission allows all of them, and the main
//! window's capability grants `confab:default`.

use tauri_build::{Attributes, DefaultPermissionRule, InlinedPlugin};

fn main() {
    let confab = InlinedPlugin::new()
        .commands(confab_model::ipc::commands::NAMES)
        .default_permission(DefaultPermissionRule::AllowAllCommands);
    let attributes = Attributes::new().plugin(confab_model::ipc::commands::PLUGIN, confab);
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {e:#}");
    }
}
