//! Per-user write limits: how many messages, knowledge requests and conversations one account
//! may create, as token buckets kept in the database (so a restart or a second replica does not
//! hand out a fresh allowance).
//!
//! What it does: decides, from a bucket's stored level and an explicit `now`, whether one more
//! write is allowed and otherwise how long until it is ([`Rate::take`], pure); stores the level
//! inside the caller's write transaction ([`spend`]), so a refused write and its charge roll
//! back together; parses `CONFAB_WRITE_LIMITS`.
//! What it never does: limit reads, sign-in (see `login_throttle`) or anything across users: one
//! account's flood never slows another's writes.

use std::fmt;
use std::time::Duration;

use crate::args;
use crate::sql::{OptionalExt, Sql};

use crate::store::StoreError;

/// A token bucket: `burst` writes at once, refilled at `burst` per `period`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// Writes allowed back to back from a full bucket.
    pub burst: u32,
    /// How long a drained bucket takes to fill again.
    pub period: Duration,
}

/// A bucket's stored state: its level (in writes) at `at_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    /// Writes left at `at_ms` (fractional while refilling).
    pub level: f64,
    /// When `level` was measured, epoch milliseconds.
    pub at_ms: i64,
}

impl Rate {
    /// A rate of `burst` writes per `period`.
    pub const fn new(burst: u32, period: Duration) -> Self {
        Self { burst, period }
    }

    fn per_ms(self) -> f64 {
        f64::from(self.burst) / (self.period.as_millis().max(1) as f64)
    }

    /// One more write at `now_ms` against `stored` (a missing bucket is full): the bucket after
    /// it, or how long until one write's worth has refilled.
    ///
    /// # Errors
    /// The bucket is empty: the wait, rounded up to whole seconds (what `Retry-After` says).
    pub fn take(self, stored: Option<Bucket>, now_ms: i64) -> Result<Bucket, Duration> {
        let full = f64::from(self.burst);
        let level = stored.map_or(full, |b| {
            // A clock that went back refills nothing rather than draining.
            let elapsed = (now_ms - b.at_ms).max(0) as f64;
            (b.level + elapsed * self.per_ms()).min(full)
        });
        if level >= 1.0 {
            return Ok(Bucket {
                level: level - 1.0,
                at_ms: now_ms,
            });
        }
        let wait_ms = ((1.0 - level) / self.per_ms()).ceil();
        let secs = (wait_ms / 1000.0).ceil().max(1.0);
        Err(Duration::from_secs(secs as u64))
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}s", self.burst, self.period.as_secs())
    }
}

/// What is being written; each kind has its own bucket per user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    /// A chat message.
    Message,
    /// A knowledge-share request (each one notifies its owner).
    KnowledgeRequest,
    /// A new conversation (each one notifies its members).
    Conversation,
}

impl WriteKind {
    fn key(self) -> &'static str {
        match self {
            Self::Message => "messages",
            Self::KnowledgeRequest => "requests",
            Self::Conversation => "conversations",
        }
    }

    /// How the refusal names what was refused ("sending messages").
    pub fn doing(self) -> &'static str {
        match self {
            Self::Message => "sending messages",
            Self::KnowledgeRequest => "asking for knowledge",
            Self::Conversation => "starting conversations",
        }
    }
}

/// The rates for every kind; `None` leaves a kind unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteLimits {
    /// Chat messages: a person types far below this; a script does not.
    pub messages: Option<Rate>,
    /// Knowledge requests.
    pub requests: Option<Rate>,
    /// Conversations created.
    pub conversations: Option<Rate>,
}

impl Default for WriteLimits {
    /// 30 messages at once, refilled at 30 a minute; 20 requests and 30 conversations an hour.
    fn default() -> Self {
        Self {
            messages: Some(Rate::new(30, Duration::from_secs(60))),
            requests: Some(Rate::new(20, Duration::from_secs(3600))),
            conversations: Some(Rate::new(30, Duration::from_secs(3600))),
        }
    }
}

impl WriteLimits {
    /// No limit at all (test fixtures that seed long histories through the API).
    pub const UNLIMITED: Self = Self {
        messages: None,
        requests: None,
        conversations: None,
    };

    fn rate(&self, kind: WriteKind) -> Option<Rate> {
        match kind {
            WriteKind::Message => self.messages,
            WriteKind::KnowledgeRequest => self.requests,
            WriteKind::Conversation => self.conversations,
        }
    }

    /// Parses `CONFAB_WRITE_LIMITS`: comma-separated `kind=N/period` (`messages`, `requests`,
    /// `conversations`; period `Ns`, `Nm`, `Nh`, or a bare `s`/`min`/`hour`) or `kind=off`.
    /// Kinds not named keep their defaults.
    ///
    /// # Errors
    /// A sentence naming the part that is not understood.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut limits = Self::default();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (kind, value) = part
                .split_once('=')
                .ok_or_else(|| format!("`{part}` is not kind=N/period"))?;
            let rate = if value.trim() == "off" {
                None
            } else {
                Some(parse_rate(value.trim()).ok_or_else(|| {
                    format!("`{value}` is not a rate like 30/60s, 20/hour or off")
                })?)
            };
            match kind.trim() {
                "messages" => limits.messages = rate,
                "requests" => limits.requests = rate,
                "conversations" => limits.conversations = rate,
                other => {
                    return Err(format!(
                        "unknown kind `{other}` (messages, requests or conversations)"
                    ))
                }
            }
        }
        Ok(limits)
    }
}

fn parse_rate(text: &str) -> Option<Rate> {
    let (burst, period) = text.split_once('/')?;
    let burst: u32 = burst.trim().parse().ok().filter(|n| *n > 0)?;
    let period = period.trim();
    let split = period
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(period.len());
    let (count, unit) = period.split_at(split);
    let count: u64 = if count.is_empty() {
        1
    } else {
        count.parse().ok()?
    };
    let unit_secs = match unit {
        "s" | "sec" => 1,
        "m" | "min" => 60,
        "h" | "hour" => 3600,
        "d" | "day" => 86_400,
        _ => return None,
    };
    let secs = count.checked_mul(unit_secs).filter(|s| *s > 0)?;
    Some(Rate::new(burst, Duration::from_secs(secs)))
}

/// Charges one `kind` write to `user` at `now_ms` inside the caller's transaction.
///
/// # Errors
/// [`StoreError::TooFast`] with the wait when the bucket is empty (the caller's savepoint then
/// rolls back the write), or a SQLite error.
pub fn spend(
    conn: &dyn Sql,
    limits: &WriteLimits,
    user: i64,
    kind: WriteKind,
    now_ms: i64,
) -> Result<(), StoreError> {
    let Some(rate) = limits.rate(kind) else {
        return Ok(());
    };
    let stored = conn
        .query_row(
            "SELECT level, at_ms FROM write_buckets WHERE user_id = ?1 AND kind = ?2",
            args![user, kind.key()],
            |r| {
                Ok(Bucket {
                    level: r.get(0)?,
                    at_ms: r.get(1)?,
                })
            },
        )
        .optional()?;
    match rate.take(stored, now_ms) {
        Ok(bucket) => {
            conn.execute(
                "INSERT INTO write_buckets (user_id, kind, level, at_ms) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id, kind) DO UPDATE SET level = ?3, at_ms = ?4",
                args![user, kind.key(), bucket.level, bucket.at_ms],
            )?;
            Ok(())
        }
        Err(wait) => Err(StoreError::TooFast {
            doing: kind.doing(),
            retry_after: wait,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;

    #[test]
    fn a_full_bucket_allows_the_burst_then_says_when_the_next_write_fits() {
        let rate = Rate::new(3, Duration::from_secs(60));
        let mut bucket = None;
        for _ in 0..3 {
            bucket = Some(rate.take(bucket, 0).expect("within the burst"));
        }
        // Refilled at 3 a minute: one write's worth takes 20 s.
        assert_eq!(rate.take(bucket, 0), Err(Duration::from_secs(20)));
        assert_eq!(rate.take(bucket, 15_000), Err(Duration::from_secs(5)));
        assert!(rate.take(bucket, 20_000).is_ok());
    }

    #[test]
    fn a_bucket_refills_to_its_burst_and_never_beyond() {
        let rate = Rate::new(2, Duration::from_secs(60));
        let drained = Bucket {
            level: 0.0,
            at_ms: 0,
        };
        let later = rate.take(Some(drained), 10 * MINUTE).expect("refilled");
        assert!((later.level - 1.0).abs() < 1e-9, "{later:?}");
    }

    #[test]
    fn a_clock_that_goes_back_refills_nothing() {
        let rate = Rate::new(1, Duration::from_secs(60));
        let drained = Bucket {
            level: 0.0,
            at_ms: MINUTE,
        };
        assert_eq!(rate.take(Some(drained), 0), Err(Duration::from_secs(60)));
    }

    #[test]
    fn the_setting_names_rates_per_kind_and_can_switch_one_off() {
        let limits = WriteLimits::parse("messages=10/30s, requests=off,conversations=5/hour")
            .expect("valid");
        assert_eq!(
            limits.messages,
            Some(Rate::new(10, Duration::from_secs(30)))
        );
        assert_eq!(limits.requests, None);
        assert_eq!(
            limits.conversations,
            Some(Rate::new(5, Duration::from_secs(3600)))
        );
        assert_eq!(
            WriteLimits::parse("").expect("empty"),
            WriteLimits::default()
        );
        for bad in [
            "messages",
            "messages=ten/s",
            "messages=0/s",
            "files=1/s",
            "messages=1/0s",
        ] {
            assert!(WriteLimits::parse(bad).is_err(), "{bad}");
        }
    }
}
