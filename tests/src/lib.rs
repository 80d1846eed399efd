//! End-to-end tests and benchmarks of the Confab desktop app: the real `confab-desktop` window
//! under Xvfb, driven through WebDriver (tauri-driver + WebKitWebDriver), against the real
//! backend and Sockudo on loopback, with a real Secret Service (gnome-keyring) and a real
//! notification daemon (dunst) on a private D-Bus session.
//!
//! What it does: gives each test its own desktop session ([`session`]), a seeded backend it can
//! stop and restart ([`backend`]), the app window with waits and screenshots ([`window`]), and
//! the tray menu as a panel reads it ([`tray`]).
//!
//! What it never does: fake a part that runs here, sleep to synchronise (everything is awaited
//! under a deadline), or use fixed ports or displays.

pub mod backend;
pub mod procs;
pub mod session;
pub mod steps;
pub mod tray;
pub mod window;

pub use backend::{Backend, ADA, GRACE, LINUS};
pub use session::{in_desktop, Desktop, KEYRING_PASSWORD};
pub use window::{AppWindow, ENTER, WAIT};
