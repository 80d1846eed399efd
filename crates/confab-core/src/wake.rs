//! Wake-from-sleep detection, sans-IO. On Linux the monotonic clock stops while the machine
//! sleeps and the wall clock does not; when the wall clock has run ahead of the monotonic one
//! by more than a threshold between two ticks, the machine slept and the connection (and
//! everything learned over it) must be re-checked at once rather than after the ping timeout.

use std::time::{Duration, Instant, SystemTime};

/// How often the engine ticks the detector.
pub const TICK: Duration = Duration::from_secs(15);
/// Wall time running ahead by more than this means a sleep.
pub const THRESHOLD: Duration = Duration::from_secs(10);

/// Compares the two clocks between ticks.
#[derive(Debug, Clone, Copy)]
pub struct WakeDetector {
    last: Option<(Instant, SystemTime)>,
}

impl Default for WakeDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl WakeDetector {
    /// A detector with no reading yet.
    pub fn new() -> Self {
        WakeDetector { last: None }
    }

    /// Records a reading; true when the machine slept since the previous one.
    pub fn tick(&mut self, mono: Instant, wall: SystemTime) -> bool {
        let slept = self.last.is_some_and(|(m0, w0)| {
            let mono_elapsed = mono.saturating_duration_since(m0);
            let wall_elapsed = wall.duration_since(w0).unwrap_or_default();
            wall_elapsed > mono_elapsed + THRESHOLD
        });
        self.last = Some((mono, wall));
        slept
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_clocks_mean_no_sleep() {
        let (m, w) = (Instant::now(), SystemTime::now());
        let mut d = WakeDetector::new();
        assert!(!d.tick(m, w));
        assert!(!d.tick(m + TICK, w + TICK));
        assert!(
            !d.tick(m + TICK * 2, w + TICK * 2 + Duration::from_secs(2)),
            "small drift"
        );
    }

    #[test]
    fn a_wall_clock_far_ahead_of_the_monotonic_one_means_the_machine_slept() {
        let (m, w) = (Instant::now(), SystemTime::now());
        let mut d = WakeDetector::new();
        d.tick(m, w);
        assert!(d.tick(m + TICK, w + TICK + Duration::from_secs(3600)));
        assert!(
            !d.tick(m + TICK * 2, w + TICK * 2 + Duration::from_secs(3600)),
            "once"
        );
    }

    #[test]
    fn a_wall_clock_set_backwards_is_not_a_sleep() {
        let (m, w) = (Instant::now(), SystemTime::now());
        let mut d = WakeDetector::new();
        d.tick(m, w);
        assert!(!d.tick(m + TICK, w - Duration::from_secs(600)));
    }
}
