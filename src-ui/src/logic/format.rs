//! Times as the UI shows them: clock times, day separators, compact ages and list times.
//!
//! Pure: "now" (epoch milliseconds) and the local time rules ([`LocalTime`]: the UTC offset in
//! force at each instant, so a time from before a daylight-saving change keeps its own offset,
//! and the 12- or 24-hour clock) are passed in, so the same functions run in the browser (where
//! the desktop's rules answer, `crate::zone`) and in native tests (fixed or scripted rules).

use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime, UtcOffset};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The user's local time rules.
pub trait LocalTime: Copy {
    /// The UTC offset in force at `utc_ms` (epoch milliseconds), in minutes east of UTC.
    fn offset_min_at(self, utc_ms: i64) -> i32;
    /// Whether the user's locale reads a 12-hour clock ("3:05 PM").
    fn hour12(self) -> bool {
        false
    }
}

/// A fixed offset with a 24-hour clock (tests, and a fallback).
impl LocalTime for i32 {
    fn offset_min_at(self, _utc_ms: i64) -> i32 {
        self
    }
}

fn at_offset(utc: OffsetDateTime, zone: impl LocalTime) -> OffsetDateTime {
    let ms = i64::try_from(utc.unix_timestamp_nanos() / 1_000_000).unwrap_or(0);
    match UtcOffset::from_whole_seconds(zone.offset_min_at(ms).saturating_mul(60)) {
        Ok(offset) => utc.to_offset(offset),
        Err(_) => utc,
    }
}

/// Parses an RFC 3339 timestamp and moves it to the offset local time had at that instant;
/// `None` when it is malformed.
pub fn local(rfc3339: &str, zone: impl LocalTime) -> Option<OffsetDateTime> {
    let parsed = OffsetDateTime::parse(rfc3339, &Rfc3339).ok()?;
    Some(at_offset(parsed, zone))
}

/// "Now" as a local date-time.
pub fn now_local(now_ms: i64, zone: impl LocalTime) -> OffsetDateTime {
    let utc = OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    at_offset(utc, zone)
}

/// A local time of day on the user's clock: "14:05", or "2:05 PM" for a 12-hour locale.
fn clock_of(t: OffsetDateTime, zone: impl LocalTime) -> String {
    if zone.hour12() {
        let (h, m) = (t.hour(), t.minute());
        let half = if h < 12 { "AM" } else { "PM" };
        let h12 = match h % 12 {
            0 => 12,
            h => h,
        };
        format!("{h12}:{m:02}\u{a0}{half}")
    } else {
        format!("{:02}:{:02}", t.hour(), t.minute())
    }
}

/// The clock time of an instant in epoch milliseconds, local then.
pub fn clock_at_ms(ms: i64, zone: impl LocalTime) -> String {
    clock_of(now_local(ms, zone), zone)
}

/// The clock time of a timestamp, local then; empty when the timestamp is malformed.
pub fn clock(rfc3339: &str, zone: impl LocalTime) -> String {
    local(rfc3339, zone)
        .map(|t| clock_of(t, zone))
        .unwrap_or_default()
}

/// The local calendar day of a timestamp.
pub fn day(rfc3339: &str, zone: impl LocalTime) -> Option<Date> {
    local(rfc3339, zone).map(|t| t.date())
}

/// A day separator's label: "Today", "Yesterday", "Monday, 3 Mar" or "3 Mar 2023" for
/// another year.
pub fn day_label(day: Date, today: Date) -> String {
    if day == today {
        return "Today".into();
    }
    if today.previous_day() == Some(day) {
        return "Yesterday".into();
    }
    let month = MONTHS[usize::from(u8::from(day.month())) - 1];
    if day.year() != today.year() {
        return format!("{} {} {}", day.day(), month, day.year());
    }
    format!("{}, {} {}", day.weekday(), day.day(), month)
}

/// How long ago `rfc3339` was, in its largest whole unit: `None` under a minute, else the
/// count and the unit's name ("minute", "hour", "day", "week"). `Err` for a time that does not
/// parse.
fn elapsed_in_units(rfc3339: &str, now_ms: i64) -> Result<Option<(i64, &'static str)>, ()> {
    let then = local(rfc3339, 0).ok_or(())?;
    let elapsed = now_local(now_ms, 0) - then;
    Ok(if elapsed < Duration::minutes(1) {
        None
    } else if elapsed < Duration::hours(1) {
        Some((elapsed.whole_minutes(), "minute"))
    } else if elapsed < Duration::days(1) {
        Some((elapsed.whole_hours(), "hour"))
    } else if elapsed < Duration::weeks(1) {
        Some((elapsed.whole_days(), "day"))
    } else {
        Some((elapsed.whole_weeks(), "week"))
    })
}

/// A compact age for the request list: "now", "5m", "3h", "2d", "4w".
pub fn age(rfc3339: &str, now_ms: i64) -> String {
    match elapsed_in_units(rfc3339, now_ms) {
        Err(()) => String::new(),
        Ok(None) => "now".into(),
        Ok(Some((n, unit))) => format!("{n}{}", &unit[..1]),
    }
}

/// The same age in words, for a sentence ("asked 5 minutes ago"): "just now", "1 minute ago",
/// "3 hours ago", "2 days ago", "4 weeks ago".
pub fn age_words(rfc3339: &str, now_ms: i64) -> String {
    match elapsed_in_units(rfc3339, now_ms) {
        Err(()) => String::new(),
        Ok(None) => "just now".into(),
        Ok(Some((n, unit))) => {
            let plural = if n == 1 { "" } else { "s" };
            format!("{n} {unit}{plural} ago")
        }
    }
}

/// The time shown in the conversation list: the clock today, "Yesterday", the weekday within a
/// week, else "3 Mar".
pub fn list_time(rfc3339: &str, now_ms: i64, zone: impl LocalTime) -> String {
    let Some(then) = local(rfc3339, zone) else {
        return String::new();
    };
    let today = now_local(now_ms, zone).date();
    let day = then.date();
    if day == today {
        clock_of(then, zone)
    } else if today.previous_day() == Some(day) {
        "Yesterday".into()
    } else if today - day < Duration::weeks(1) && day < today {
        let name = day.weekday().to_string();
        name.chars().take(3).collect()
    } else {
        format!(
            "{} {}",
            day.day(),
            MONTHS[usize::from(u8::from(day.month())) - 1]
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2025-03-05T12:00:00Z, a Wednesday.
    const NOON: i64 = 1_741_176_000_000;

    #[test]
    fn clock_shows_hours_and_minutes_in_the_local_offset() {
        assert_eq!(clock("2025-03-05T09:07:00Z", 0), "09:07");
        assert_eq!(clock("2025-03-05T09:07:00Z", 120), "11:07");
        assert_eq!(clock("not a time", 0), "");
    }

    #[test]
    fn day_labels_name_today_yesterday_and_older_days() {
        let today = now_local(NOON, 0).date();
        assert_eq!(day_label(today, today), "Today");
        assert_eq!(day_label(today.previous_day().unwrap(), today), "Yesterday");
        let monday = today - Duration::days(2);
        assert_eq!(day_label(monday, today), "Monday, 3 Mar");
        let old = day("2023-12-24T10:00:00Z", 0).unwrap();
        assert_eq!(day_label(old, today), "24 Dec 2023");
    }

    #[test]
    fn ages_are_compact() {
        assert_eq!(age("2025-03-05T11:59:30Z", NOON), "now");
        assert_eq!(age("2025-03-05T11:55:00Z", NOON), "5m");
        assert_eq!(age("2025-03-05T09:00:00Z", NOON), "3h");
        assert_eq!(age("2025-03-03T12:00:00Z", NOON), "2d");
        assert_eq!(age("2025-02-01T12:00:00Z", NOON), "4w");
    }

    #[test]
    fn ages_in_words_read_as_a_sentence() {
        assert_eq!(age_words("2025-03-05T11:59:30Z", NOON), "just now");
        assert_eq!(age_words("2025-03-05T11:59:00Z", NOON), "1 minute ago");
        assert_eq!(age_words("2025-03-05T11:55:00Z", NOON), "5 minutes ago");
        assert_eq!(age_words("2025-03-05T11:00:00Z", NOON), "1 hour ago");
        assert_eq!(age_words("2025-03-03T12:00:00Z", NOON), "2 days ago");
        assert_eq!(age_words("2025-02-01T12:00:00Z", NOON), "4 weeks ago");
        assert_eq!(age_words("garbage", NOON), "");
    }

    #[test]
    fn list_times_depend_on_how_long_ago() {
        assert_eq!(list_time("2025-03-05T08:30:00Z", NOON, 0), "08:30");
        assert_eq!(list_time("2025-03-04T08:30:00Z", NOON, 0), "Yesterday");
        assert_eq!(list_time("2025-03-02T08:30:00Z", NOON, 0), "Sun");
        assert_eq!(list_time("2025-01-02T08:30:00Z", NOON, 0), "2 Jan");
    }

    #[test]
    fn the_local_offset_can_move_a_message_to_another_day() {
        // 23:30 UTC on the 4th is already the 5th in UTC+2.
        assert_eq!(list_time("2025-03-04T23:30:00Z", NOON, 120), "01:30");
    }

    /// Berlin in autumn 2026: summer time (UTC+2) until 01:00 UTC on Sunday 25 October, then
    /// UTC+1; a 24-hour clock, or a 12-hour one as in the United States.
    #[derive(Clone, Copy)]
    struct Berlin {
        hour12: bool,
    }

    impl LocalTime for Berlin {
        fn offset_min_at(self, utc_ms: i64) -> i32 {
            // 2026-10-25T01:00:00Z
            if utc_ms < 1_792_890_000_000 {
                120
            } else {
                60
            }
        }
        fn hour12(self) -> bool {
            self.hour12
        }
    }

    #[test]
    fn each_time_keeps_the_offset_of_its_own_day_across_a_daylight_saving_change() {
        let berlin = Berlin { hour12: false };
        // Both at 10:05 UTC: noon in summer time on Saturday, eleven in winter time on Monday.
        assert_eq!(clock("2026-10-24T10:05:00Z", berlin), "12:05");
        assert_eq!(clock("2026-10-26T10:05:00Z", berlin), "11:05");
        // Today's offset (winter) applied to the Saturday would have said 11:05.
        assert_eq!(clock("2026-10-24T10:05:00Z", 60), "11:05");
    }

    #[test]
    fn a_twelve_hour_locale_reads_am_and_pm_and_noon_and_midnight_as_twelve() {
        let us = Berlin { hour12: true };
        assert_eq!(clock("2026-10-24T10:05:00Z", us), "12:05\u{a0}PM");
        assert_eq!(clock("2026-10-26T10:05:00Z", us), "11:05\u{a0}AM");
        assert_eq!(clock("2026-10-26T23:30:00Z", us), "12:30\u{a0}AM");
        assert_eq!(clock("2026-10-26T14:00:00Z", us), "3:00\u{a0}PM");
    }
}
