//! Confab's user interface: a Yew app (client-side rendered, wasm32) inside the Tauri window.
//!
//! What it does: renders the sign-in screen, the split sidebar (conversations on top, pending
//! knowledge-share requests below), the chat pane and the dialogs; keeps all state in one
//! reducer ([`state::AppState`]); talks to the shell only through its commands ([`commands`]) and
//! the one event stream of `UiEvent`s ([`ipc`]), which carries every list it shows.
//!
//! What it never does: network, storage or HTML from strings — every piece of user text is a
//! text node. The state and the logic modules ([`state`], [`logic`]) use no web APIs, so
//! `cargo test -p confab-ui` runs them natively.

pub mod commands;
pub mod components;
pub mod effects;
pub mod ipc;
pub mod logic;
pub mod startup;
pub mod state;
pub mod store;
pub mod zone;

/// Mounts the app on `<body>`.
pub fn run() {
    startup::wasm_started();
    startup::expose_wasm_bytes();
    yew::Renderer::<components::app::App>::new().render();
}
