//! Generates the Tauri context and the permissions of the app's own commands; only the commands
//! listed here can be granted (capabilities/main-window.json grants them to the main window).

fn main() {
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {e:#}");
    }
}

/// Every `#[tauri::command]` in src/commands.rs (keep in sync with `generate_handler!`).
const COMMANDS: &[&str] = &[
    "session",
    "last_server_url",
    "sign_in",
    "sign_out",
    "conversations",
    "messages",
    "send_message",
    "retry_message",
    "discard_message",
    "requests",
    "respond",
    "ask",
    "teammates",
    "mark_seen",
    "typing",
    "draft",
    "set_draft",
    "search",
    "setting",
    "set_setting",
    "set_open_conversation",
    "set_muted",
    "muted",
    "check_now",
    "connection_status",
    "session_notice",
    "screen_ready",
    "first_paint",
];
