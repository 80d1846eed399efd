//! Times as the UI shows them: clock times, day separators, compact ages and list times.
//!
//! Pure: "now" (epoch milliseconds) and the local UTC offset (minutes east of UTC) are passed in,
//! so the same functions run in the browser and in native tests.

use time::format_description::well_known::Rfc3339;
use time::{Date, Duration, OffsetDateTime, UtcOffset};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Parses an RFC 3339 timestamp and moves it to the local offset; `None` when it is malformed.
pub fn local(rfc3339: &str, offset_min: i32) -> Option<OffsetDateTime> {
    let parsed = OffsetDateTime::parse(rfc3339, &Rfc3339).ok()?;
    let offset = UtcOffset::from_whole_seconds(offset_min.saturating_mul(60)).ok()?;
    Some(parsed.to_offset(offset))
}

/// "Now" as a local date-time.
pub fn now_local(now_ms: i64, offset_min: i32) -> OffsetDateTime {
    let utc = OffsetDateTime::from_unix_timestamp_nanos(i128::from(now_ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    match UtcOffset::from_whole_seconds(offset_min.saturating_mul(60)) {
        Ok(offset) => utc.to_offset(offset),
        Err(_) => utc,
    }
}

/// "14:05" (24-hour clock, local time); empty when the timestamp is malformed.
pub fn clock(rfc3339: &str, offset_min: i32) -> String {
    local(rfc3339, offset_min)
        .map(|t| format!("{:02}:{:02}", t.hour(), t.minute()))
        .unwrap_or_default()
}

/// The local calendar day of a timestamp.
pub fn day(rfc3339: &str, offset_min: i32) -> Option<Date> {
    local(rfc3339, offset_min).map(|t| t.date())
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
pub fn list_time(rfc3339: &str, now_ms: i64, offset_min: i32) -> String {
    let Some(then) = local(rfc3339, offset_min) else {
        return String::new();
    };
    let today = now_local(now_ms, offset_min).date();
    let day = then.date();
    if day == today {
        format!("{:02}:{:02}", then.hour(), then.minute())
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
}
