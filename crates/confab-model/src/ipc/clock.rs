//! The local time rules the desktop hands the window with `start`: the UTC offsets of the
//! machine's time zone over the years a chat shows, and the 12- or 24-hour clock the window
//! found for its language last time. With them the window formats every time without asking
//! its web engine, whose time zone and locale data (ICU) would otherwise be ~2.7 MB of the web
//! process's memory for as long as the window lives.
//!
//! What it never does: read a clock or a time zone itself (the core fills it in; this crate is
//! serde-only and builds for wasm32).

use serde::{Deserialize, Serialize};

/// The local time rules (`Startup::clock`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalClock {
    /// The UTC offsets in force, oldest first: each from its instant until the next one's; the
    /// first also applies before its instant and the last after. Empty when the desktop could
    /// not tell, and the window then asks its engine.
    pub zone: Vec<ZoneSpan>,
    /// The hour cycle the window measured for a language, remembered by the core (the setting
    /// [`HOUR_CYCLE_SETTING`]); `None` before the first measurement.
    pub hour_cycle: Option<HourCycle>,
}

/// One stretch of a time zone's history: from `from_ms` (Unix ms, UTC) on, local time is UTC
/// plus `offset_min` minutes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZoneSpan {
    /// Where the stretch starts (Unix ms, UTC).
    pub from_ms: i64,
    /// Minutes ahead of UTC (negative west of Greenwich).
    pub offset_min: i32,
}

impl ZoneSpan {
    /// The offset from UTC in minutes at the instant `utc_ms` in the spans `zone` (oldest
    /// first); `None` when there are none.
    #[must_use]
    pub fn offset_min_at(zone: &[ZoneSpan], utc_ms: i64) -> Option<i32> {
        // The last span that starts at or before the instant; before all of them, the first.
        let after = zone.partition_point(|span| span.from_ms <= utc_ms);
        zone.get(after.saturating_sub(1))
            .map(|span| span.offset_min)
    }
}

/// Whether a language reads the clock in 12 hours ("3:05 PM") or 24 ("15:05").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HourCycle {
    /// The window's language it was measured for (`navigator.language`, e.g. `en-US`).
    pub language: String,
    /// `true` for a 12-hour clock.
    pub hour12: bool,
}

/// The UI setting (`set_setting`) under which the window remembers its [`HourCycle`], as JSON.
pub const HOUR_CYCLE_SETTING: &str = "hourCycle";

impl LocalClock {
    /// The offset from UTC in minutes at the instant `utc_ms`; `None` without zone data.
    #[must_use]
    pub fn offset_min_at(&self, utc_ms: i64) -> Option<i32> {
        ZoneSpan::offset_min_at(&self.zone, utc_ms)
    }

    /// The remembered hour cycle, if it was measured for `language`.
    #[must_use]
    pub fn hour12_for(&self, language: &str) -> Option<bool> {
        self.hour_cycle
            .as_ref()
            .filter(|cycle| cycle.language == language)
            .map(|cycle| cycle.hour12)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central Europe in 2026: CET, CEST from 29 March 01:00 UTC, CET from 25 October 01:00.
    fn berlin() -> LocalClock {
        LocalClock {
            zone: vec![
                ZoneSpan {
                    from_ms: 1_767_225_600_000,
                    offset_min: 60,
                },
                ZoneSpan {
                    from_ms: 1_774_746_000_000,
                    offset_min: 120,
                },
                ZoneSpan {
                    from_ms: 1_792_890_000_000,
                    offset_min: 60,
                },
            ],
            hour_cycle: Some(HourCycle {
                language: "de-DE".into(),
                hour12: false,
            }),
        }
    }

    #[test]
    fn an_instant_takes_the_offset_of_the_span_it_falls_in() {
        let clock = berlin();
        assert_eq!(clock.offset_min_at(1_774_746_000_000 - 1), Some(60));
        assert_eq!(clock.offset_min_at(1_774_746_000_000), Some(120));
        assert_eq!(clock.offset_min_at(1_780_000_000_000), Some(120));
        assert_eq!(clock.offset_min_at(1_792_890_000_000), Some(60));
    }

    #[test]
    fn instants_outside_the_spans_take_the_nearest_end() {
        let clock = berlin();
        assert_eq!(clock.offset_min_at(0), Some(60), "before the first span");
        assert_eq!(clock.offset_min_at(i64::MAX), Some(60), "after the last");
    }

    #[test]
    fn without_zone_data_there_is_no_offset() {
        assert_eq!(LocalClock::default().offset_min_at(1_780_000_000_000), None);
    }

    #[test]
    fn the_hour_cycle_is_only_trusted_for_the_language_it_was_measured_for() {
        let clock = berlin();
        assert_eq!(clock.hour12_for("de-DE"), Some(false));
        assert_eq!(clock.hour12_for("en-US"), None);
        assert_eq!(LocalClock::default().hour12_for("de-DE"), None);
    }
}
