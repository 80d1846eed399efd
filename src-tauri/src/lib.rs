//! The Confab desktop app: a thin Tauri 2 shell over `confab-core`.
//!
//! What it does: starts the core (data in the platform data directory, or `CONFAB_DATA_DIR`;
//! the token in the OS keyring under the service "confab"), registers the commands declared
//! in `confab_model::ipc::commands` as the `confab` plugin ([`commands`] holds one handler
//! each), forwards the core's `UiEvent` stream to the window as one event ([`events`]), shows
//! the core's notification decisions natively ([`notifications`]), keeps a tray icon with the
//! pending and unread counts ([`tray`]), hides to the tray on close ([`window`]), keeps a
//! single instance, remembers the window's size and position, and reports the window's focus
//! to the core's notification policy ([`focus`]).
//!
//! What it never does: business logic, storage or network — that is the core's job; HTML from
//! strings — the UI renders text as text.

mod commands;
pub mod events;
pub mod focus;
pub mod launch;
#[cfg(target_os = "linux")]
pub mod memory;
pub mod notifications;
pub mod startup;
#[cfg(target_os = "linux")]
pub mod theme;
pub mod tray;
pub mod window;

use std::path::{Path, PathBuf};

use confab_core::{Core, CoreConfig};
use tauri::Manager;
use tauri_plugin_window_state::StateFlags;

use crate::focus::FocusTracker;
use crate::launch::Launch;
use crate::startup::since_start;

/// The keyring service the token is stored under.
pub const KEYRING_SERVICE: &str = "confab";

/// Registers `commands::<name>` for every command in the list `for_each_command!` passes.
macro_rules! handlers {
    ($( $(#[$doc:meta])* $name:ident => $args:ident { $($fields:tt)* } -> $out:ty; )*) => {
        tauri::generate_handler![$(commands::$name),*]
    };
}

/// The `confab` plugin: the window's commands (`plugin:confab|<name>` on the UI side).
fn confab_plugin() -> tauri::plugin::TauriPlugin<tauri::Wry> {
    tauri::plugin::Builder::new(confab_model::ipc::commands::PLUGIN)
        .invoke_handler(confab_model::for_each_command!(handlers))
        .on_navigation(|_, url| {
            let stays = window::stays_in_app(url);
            if !stays {
                tracing::info!(
                    scheme = url.scheme(),
                    "refused a navigation away from the app"
                );
            }
            stays
        })
        .build()
}

/// Runs the app until Quit.
pub fn run() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    let allocator_tuned = memory::tune_allocator();
    startup::mark_start();
    #[cfg(target_os = "linux")]
    software_rendering_without_gpu(std::path::Path::new("/dev/dri"));
    #[cfg(target_os = "linux")]
    memory::web_process_options();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .try_init();
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if !allocator_tuned {
        tracing::warn!("glibc refused a malloc setting; the app runs with its defaults");
    }
    let launch = Launch::from_env(|k| std::env::var(k).ok()).with_args(std::env::args().skip(1));
    let result = tauri::Builder::default()
        // First, so a second launch hands over before anything else starts.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            window::reveal(app)
        }))
        // Size, position, maximized — not visibility: `show_main_window` shows it.
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(StateFlags::all() - StateFlags::VISIBLE)
                .build(),
        )
        // Links in messages open in the system browser. The UI handles their clicks itself, so
        // no click script is injected; the capability grants `open_url` for http(s)/mailto only.
        .plugin(
            tauri_plugin_opener::Builder::new()
                .open_js_links_on_click(false)
                .build(),
        )
        // Start at login: the entry starts Confab with `--autostart` (hidden, in the tray).
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec![launch::AUTOSTART_ARG]),
        ))
        .manage(FocusTracker::new())
        .manage(window::Shown::default())
        .manage(tray::Shown::default())
        .manage(launch.clone())
        .plugin(confab_plugin())
        .setup(move |app| setup(app, &launch))
        .on_window_event(window::on_window_event)
        .run(tauri::generate_context!("tauri.conf.json"));
    if let Err(e) = result {
        tracing::error!(error = %e, "Confab stopped with an error");
        std::process::exit(1);
    }
}

fn setup(app: &mut tauri::App, launch: &Launch) -> Result<(), Box<dyn std::error::Error>> {
    tracing::info!(target: "confab::startup", since_start_ms = since_start().as_millis(), "setup");
    let data_dir = match &launch.data_dir {
        Some(dir) => dir.clone(),
        None => app.path().app_data_dir()?,
    };
    let config = CoreConfig {
        data_dir: data_dir.clone(),
        keyring_service: KEYRING_SERVICE.into(),
        // Shown at once, the window paints before the network starts; started hidden (at
        // login), the network is what matters.
        connect_after_paint: !launch.hidden,
    };
    let core = tauri::async_runtime::block_on(Core::start(config))?;
    tracing::info!(target: "confab::startup", since_start_ms = since_start().as_millis(), "core ready");
    app.manage(core.clone());
    let handle = app.handle().clone();
    #[cfg(target_os = "linux")]
    theme::apply_cached(&handle, &data_dir);
    startup::defer(&handle, data_dir.clone(), launch.hidden);
    events::forward(handle.clone(), core.clone());
    notifications::spawn(handle, &core, notification_icon(&data_dir));
    // Started at login the window stays hidden: what arrives is notified.
    core.set_focus(app.state::<FocusTracker>().window(!launch.hidden, false));
    Ok(())
}

/// WebKitGTK composites the page through OpenGL. Without a GPU (no DRM render node: VMs,
/// remote X, Xvfb) that GL is Mesa's llvmpipe on the CPU, where a blinking caret alone kept a
/// core 30% busy and the GL buffers cost ~80 MB; WebKit's non-composited path is far cheaper
/// there. A value the user set wins. Called first thing, before any thread exists.
#[cfg(target_os = "linux")]
fn software_rendering_without_gpu(dri: &Path) {
    const VAR: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";
    if std::env::var_os(VAR).is_none() && !has_render_node(dri) {
        std::env::set_var(VAR, "1");
    }
}

/// Whether `dri` (normally `/dev/dri`) has a GPU render node.
pub fn has_render_node(dri: &Path) -> bool {
    std::fs::read_dir(dri).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("renderD"))
    })
}

/// The app icon as a file, for notification daemons that want a path.
fn notification_icon(data_dir: &Path) -> Option<PathBuf> {
    let path = data_dir.join("confab-icon.png");
    if !path.exists() {
        std::fs::create_dir_all(data_dir).ok()?;
        std::fs::write(&path, include_bytes!("../../icons/128x128.png")).ok()?;
    }
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_render_node_means_a_gpu_and_no_directory_means_none() {
        let dir = std::env::temp_dir().join(format!("confab-dri-{}", std::process::id()));
        assert!(!has_render_node(&dir));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("card0"), b"").expect("file");
        assert!(!has_render_node(&dir));
        std::fs::write(dir.join("renderD128"), b"").expect("file");
        assert!(has_render_node(&dir));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
