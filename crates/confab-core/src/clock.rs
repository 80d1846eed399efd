//! The machine's local time rules for the window ([`LocalClock`] in the `start` answer): the
//! UTC offsets of its time zone from 2000 until two years ahead, found by sampling the zone
//! every 12 hours and narrowing each change down to the millisecond; and the hour cycle the
//! window remembered (the UI setting [`HOUR_CYCLE_SETTING`]). The window formats times with
//! these instead of its web engine's `Date` and `Intl`, which would load ICU's time zone and
//! locale data into the web process (~2.7 MB, measured in BENCHMARKS.md).
//!
//! What it never does: read the clock (the caller passes `now_ms`) or guess an hour cycle (only
//! the window's engine knows its language's; it measures once and the core remembers).

use chrono::{Local, Offset, TimeZone};
use confab_model::ipc::{HourCycle, LocalClock, ZoneSpan};

/// 2000-01-01T00:00:00Z: no chat shows an older time.
const FROM_MS: i64 = 946_684_800_000;
/// How far ahead the spans reach (countdowns, scheduled times).
const AHEAD_MS: i64 = 2 * 366 * DAY_MS;
const DAY_MS: i64 = 86_400_000;
/// Zones change at most a few times a year and never twice within this.
const STEP_MS: i64 = DAY_MS / 2;

/// The window's clock: this machine's zone around `now_ms` and the remembered hour cycle (the
/// setting's JSON, ignored when unreadable: the window then measures again).
#[must_use]
pub fn local_clock(now_ms: i64, remembered: Option<&str>) -> LocalClock {
    LocalClock {
        zone: zone_spans(FROM_MS, now_ms.saturating_add(AHEAD_MS), local_offset_min),
        hour_cycle: remembered.and_then(|json| serde_json::from_str::<HourCycle>(json).ok()),
    }
}

/// This machine's offset from UTC at `utc_ms`, in minutes.
fn local_offset_min(utc_ms: i64) -> Option<i32> {
    let at = Local.timestamp_millis_opt(utc_ms).single()?;
    Some(at.offset().fix().local_minus_utc() / 60)
}

/// The spans of the zone `offset_at` between `from_ms` and `to_ms`: one for the offset at
/// `from_ms`, then one at every change. Empty when the zone cannot be read.
fn zone_spans(from_ms: i64, to_ms: i64, offset_at: impl Fn(i64) -> Option<i32>) -> Vec<ZoneSpan> {
    let Some(first) = offset_at(from_ms) else {
        return Vec::new();
    };
    let mut spans = vec![ZoneSpan {
        from_ms,
        offset_min: first,
    }];
    let (mut at, mut current) = (from_ms, first);
    while at < to_ms {
        let next = (at + STEP_MS).min(to_ms);
        let Some(offset) = offset_at(next) else {
            return Vec::new();
        };
        if offset != current {
            // The change lies in (at, next]: halve until the first millisecond of the new
            // offset is found.
            let (mut before, mut after) = (at, next);
            while after - before > 1 {
                let mid = before + (after - before) / 2;
                if offset_at(mid) == Some(current) {
                    before = mid;
                } else {
                    after = mid;
                }
            }
            spans.push(ZoneSpan {
                from_ms: after,
                offset_min: offset,
            });
            current = offset;
        }
        at = next;
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A zone with summer time from 1 April to 1 October of each year (days 90 and 273 of a
    /// 365-day year counted from `FROM_MS`), +60 in winter and +120 in summer: a made-up rule
    /// with the shape of every real one.
    fn summer_time(utc_ms: i64) -> Option<i32> {
        let day = (utc_ms - FROM_MS).rem_euclid(365 * DAY_MS);
        Some(
            if (90 * DAY_MS + 3_600_000..273 * DAY_MS + 3_600_000).contains(&day) {
                120
            } else {
                60
            },
        )
    }

    #[test]
    fn every_change_of_offset_is_found_to_the_millisecond() {
        let to = FROM_MS + 3 * 365 * DAY_MS;
        let spans = zone_spans(FROM_MS, to, summer_time);
        assert_eq!(
            spans.len(),
            1 + 2 * 3,
            "winter, then two changes a year: {spans:?}"
        );
        assert_eq!(
            spans[0],
            ZoneSpan {
                from_ms: FROM_MS,
                offset_min: 60
            }
        );
        for (year, pair) in spans[1..].chunks(2).enumerate() {
            let start = FROM_MS + i64::try_from(year).unwrap() * 365 * DAY_MS;
            assert_eq!(pair[0].from_ms, start + 90 * DAY_MS + 3_600_000);
            assert_eq!(pair[0].offset_min, 120);
            assert_eq!(pair[1].from_ms, start + 273 * DAY_MS + 3_600_000);
            assert_eq!(pair[1].offset_min, 60);
        }
    }

    #[test]
    fn the_spans_give_the_zones_own_offset_at_any_instant() {
        let to = FROM_MS + 5 * 365 * DAY_MS;
        let clock = LocalClock {
            zone: zone_spans(FROM_MS, to, summer_time),
            hour_cycle: None,
        };
        // Every 7 hours and 13 minutes over the five years, edges of the changes included.
        let mut at = FROM_MS;
        while at < to {
            assert_eq!(clock.offset_min_at(at), summer_time(at), "at {at}");
            at += 7 * 3_600_000 + 13 * 60_000;
        }
    }

    #[test]
    fn a_zone_without_changes_is_one_span_and_an_unreadable_one_none() {
        let fixed = zone_spans(FROM_MS, FROM_MS + 365 * DAY_MS, |_| Some(-300));
        assert_eq!(
            fixed,
            vec![ZoneSpan {
                from_ms: FROM_MS,
                offset_min: -300
            }]
        );
        assert!(zone_spans(FROM_MS, FROM_MS + DAY_MS, |_| None).is_empty());
    }

    #[test]
    fn this_machines_zone_agrees_with_the_system_rules_it_was_read_from() {
        let now = 1_780_000_000_000;
        let clock = local_clock(now, None);
        assert!(
            !clock.zone.is_empty(),
            "a time zone (UTC at least) is always readable"
        );
        let mut at = FROM_MS;
        while at < now {
            assert_eq!(clock.offset_min_at(at), local_offset_min(at), "at {at}");
            at += 29 * DAY_MS + 5 * 3_600_000;
        }
    }

    #[test]
    fn a_remembered_hour_cycle_is_handed_back_and_a_damaged_one_forgotten() {
        let json = r#"{"language":"en-US","hour12":true}"#;
        let clock = local_clock(FROM_MS, Some(json));
        assert_eq!(clock.hour12_for("en-US"), Some(true));
        assert_eq!(local_clock(FROM_MS, Some("{not json")).hour_cycle, None);
        assert_eq!(local_clock(FROM_MS, None).hour_cycle, None);
    }
}
