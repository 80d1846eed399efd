//! Launch options from the environment, for tests and for pointing the app at a backend:
//! `CONFAB_DATA_DIR` (where the cache lives instead of the platform data directory) and
//! `CONFAB_SERVER_URL` (pre-filled on the sign-in screen); and from the command line,
//! [`AUTOSTART_ARG`]: started at login, the app stays in the tray with its window hidden.

use std::path::PathBuf;

/// Options read once at start.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Launch {
    /// Overrides the platform data directory.
    pub data_dir: Option<PathBuf>,
    /// Pre-fills the sign-in form.
    pub server_url: Option<String>,
    /// Started at login: the window stays hidden until the user opens it.
    pub hidden: bool,
}

/// The argument the login entry starts Confab with.
pub const AUTOSTART_ARG: &str = "--autostart";

impl Launch {
    /// Reads the options through `var` (the process environment in production).
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Self {
        let nonempty = |k: &str| var(k).filter(|v| !v.trim().is_empty());
        Launch {
            data_dir: nonempty("CONFAB_DATA_DIR").map(PathBuf::from),
            server_url: nonempty("CONFAB_SERVER_URL"),
            hidden: false,
        }
    }

    /// The same, started with these command-line arguments (the program name excluded).
    #[must_use]
    pub fn with_args(self, mut args: impl Iterator<Item = String>) -> Self {
        Launch {
            hidden: args.any(|a| a == AUTOSTART_ARG),
            ..self
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_variables_count_as_unset() {
        let l = Launch::from_env(|k| match k {
            "CONFAB_DATA_DIR" => Some("/tmp/confab-a".into()),
            "CONFAB_SERVER_URL" => Some(" ".into()),
            _ => None,
        });
        assert_eq!(l.data_dir, Some(PathBuf::from("/tmp/confab-a")));
        assert_eq!(l.server_url, None);
        assert!(!l.hidden);
    }

    #[test]
    fn started_at_login_the_window_stays_hidden() {
        let l = Launch::default().with_args(["--autostart".to_owned()].into_iter());
        assert!(l.hidden);
        let l = Launch::default().with_args(["--verbose".to_owned()].into_iter());
        assert!(!l.hidden);
    }
}
