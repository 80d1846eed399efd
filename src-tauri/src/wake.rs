//! Notices a wake from sleep (the wall clock jumped ahead of the monotonic clock, which stops
//! while suspended) and asks the core to reconnect and catch up at once.

use std::time::{Duration, Instant, SystemTime};

use confab_core::Core;

/// How often the clocks are compared.
const EVERY: Duration = Duration::from_secs(5);

/// Whether the wall clock advanced so much more than the monotonic one that the machine slept.
pub fn slept(monotonic: Duration, wall: Duration) -> bool {
    wall.saturating_sub(monotonic) > Duration::from_secs(15)
}

/// Watches for wakes for the life of the app.
pub fn watch(core: Core) {
    tauri::async_runtime::spawn(async move {
        loop {
            let (mono, wall) = (Instant::now(), SystemTime::now());
            tokio::time::sleep(EVERY).await;
            let wall_elapsed = wall.elapsed().unwrap_or_default();
            if slept(mono.elapsed(), wall_elapsed) {
                tracing::info!("woke from sleep: catching up");
                core.check_now();
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wall_clock_jump_means_the_machine_slept() {
        let s = Duration::from_secs;
        assert!(!slept(s(5), s(5)));
        assert!(!slept(s(5), s(6)));
        assert!(slept(s(5), s(600)));
    }
}
