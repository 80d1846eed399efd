//! The machine's local time rules for the window ([`LocalClock`] in the `start` answer): the
//! UTC offsets of its time zone from 2000 until two years ahead, found by sampling the zone
//! every 12 hours and narrowing each change down to the millisecond; and the hour cycle the
//! window remembered (the UI setting [`HOUR_CYCLE_SETTING`]). The window formats times with
//! these instead of its web engine's `Date` and `Intl`, which would load ICU's time zone and
//! locale data into the web process (~2.7 MB, measured in BENCHMARKS.md).
//!
//! While the app runs, [`ZoneWatch`] notices the zone changing (the user changed it, or
//! travelled and the system followed) and the engine hands the window the new spans.
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

/// This machine's offset from UTC at `utc_ms`, in minutes. chrono re-reads the zone when TZ
/// or /etc/localtime changes (it looks at most once a second, per thread).
pub(crate) fn local_offset_min(utc_ms: i64) -> Option<i32> {
    let at = Local.timestamp_millis_opt(utc_ms).single()?;
    Some(at.offset().fix().local_minus_utc() / 60)
}

/// How often the whole zone is compared even though its offset now has not changed: a zone
/// swapped for one with the same offset today but other rules (another summer time, another
/// history) shows within this.
const FULL_CHECK_MS: i64 = 60 * 60 * 1000;

/// Notices the machine's zone changing while the app runs, sans-IO: the engine polls it on its
/// periodic tick with the time, whether the machine just woke (a trip is a sleep), and the
/// zone's offset source. A poll costs one offset lookup, and the whole zone (~2 ms) only when
/// something may have changed.
#[derive(Debug, Default)]
pub(crate) struct ZoneWatch {
    /// When the next full comparison is due; `None` before the first poll, which compares only
    /// today's offset: `start` has just given the window the whole zone (and when it has not,
    /// the window holds none, which differs).
    next_full_ms: Option<i64>,
}

impl ZoneWatch {
    /// The zone's new spans when they differ from `held` (what the window was last given), or
    /// `None`. An unreadable zone changes nothing: the window keeps the rules it has.
    pub(crate) fn poll(
        &mut self,
        held: &[ZoneSpan],
        now_ms: i64,
        woke: bool,
        offset_at: impl Fn(i64) -> Option<i32>,
    ) -> Option<Vec<ZoneSpan>> {
        let drifted = offset_at(now_ms) != ZoneSpan::offset_min_at(held, now_ms);
        let next_full = *self
            .next_full_ms
            .get_or_insert(now_ms.saturating_add(FULL_CHECK_MS));
        if !(drifted || woke || now_ms >= next_full) {
            return None;
        }
        self.next_full_ms = Some(now_ms.saturating_add(FULL_CHECK_MS));
        let zone = zone_spans(FROM_MS, now_ms.saturating_add(AHEAD_MS), offset_at);
        (!zone.is_empty() && zone != held).then_some(zone)
    }
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

    /// Now: 2002-05-01, inside the made-up summer time.
    const NOW: i64 = FROM_MS + (2 * 365 + 120) * DAY_MS;

    fn held() -> Vec<ZoneSpan> {
        zone_spans(FROM_MS, NOW + AHEAD_MS, summer_time)
    }

    #[test]
    fn a_zone_that_stays_the_same_is_never_handed_over_again() {
        let mut watch = ZoneWatch::default();
        let held = held();
        assert_eq!(
            watch.poll(&held, NOW, false, summer_time),
            None,
            "first look"
        );
        assert_eq!(
            watch.poll(&held, NOW + 15_000, true, summer_time),
            None,
            "woke"
        );
        assert_eq!(
            watch.poll(&held, NOW + FULL_CHECK_MS, false, summer_time),
            None,
            "the hourly full look"
        );
    }

    #[test]
    fn a_new_offset_now_is_seen_at_the_next_tick_with_the_new_zones_spans() {
        let mut watch = ZoneWatch::default();
        let held = held();
        assert_eq!(watch.poll(&held, NOW, false, summer_time), None);
        // The user moved five hours west (same rules, shifted): seen at once, not in an hour.
        let west = |at| summer_time(at).map(|o| o - 300);
        let zone = watch
            .poll(&held, NOW + 15_000, false, west)
            .expect("changed");
        assert_eq!(ZoneSpan::offset_min_at(&zone, NOW), Some(-180));
        assert_eq!(zone, zone_spans(FROM_MS, NOW + 15_000 + AHEAD_MS, west));
        // Handed over once: the window holds the new zone now.
        assert_eq!(watch.poll(&zone, NOW + 30_000, false, west), None);
    }

    #[test]
    fn a_zone_with_todays_offset_but_other_rules_is_seen_at_the_hourly_look_or_a_wake() {
        // Summer time's +120 now, but a zone that keeps it all year.
        let fixed = |_| Some(120);
        let held = held();

        let mut watch = ZoneWatch::default();
        assert_eq!(watch.poll(&held, NOW, false, summer_time), None);
        assert_eq!(
            watch.poll(&held, NOW + 15_000, false, fixed),
            None,
            "same offset now"
        );
        let zone = watch
            .poll(&held, NOW + FULL_CHECK_MS, false, fixed)
            .expect("the hourly look sees it");
        assert_eq!(
            zone,
            vec![ZoneSpan {
                from_ms: FROM_MS,
                offset_min: 120
            }]
        );

        let mut watch = ZoneWatch::default();
        assert_eq!(watch.poll(&held, NOW, false, summer_time), None);
        assert!(
            watch.poll(&held, NOW + 15_000, true, fixed).is_some(),
            "after a sleep at once"
        );
    }

    #[test]
    fn the_first_look_after_start_compares_only_todays_offset() {
        // `start` has just built the whole zone for the window: the engine's first tick does
        // not build it again (a rule-only change waits for the hourly look).
        let fixed = |_| Some(120);
        let mut watch = ZoneWatch::default();
        assert_eq!(watch.poll(&held(), NOW, false, fixed), None);
        assert!(watch
            .poll(&held(), NOW + FULL_CHECK_MS, false, fixed)
            .is_some());
        // A window given no zone yet (a hidden start) gets one at the first look.
        let mut watch = ZoneWatch::default();
        assert_eq!(watch.poll(&[], NOW, false, summer_time), Some(held()));
    }

    #[test]
    fn an_unreadable_zone_leaves_the_window_its_rules() {
        let mut watch = ZoneWatch::default();
        assert_eq!(watch.poll(&held(), NOW, true, |_| None), None);
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
