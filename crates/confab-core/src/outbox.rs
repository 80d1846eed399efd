//! The outbox's decisions, pure: what a send attempt's outcome means for the queued message.
//! Messages are delivered in order per conversation, retried with backoff on network trouble
//! and server failures, parked as "failed" with a reason on a refusal, and held (not failed)
//! when the session ended, so nothing written is ever lost.

use std::time::Duration;

use crate::rest::ApiError;

/// First retry delay; doubles per attempt up to [`RETRY_MAX`], with jitter.
pub const RETRY_MIN: Duration = Duration::from_secs(1);
/// Retry ceiling.
pub const RETRY_MAX: Duration = Duration::from_secs(60);

/// What to do with a queued message after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Stored by the server (the message is now `sent`).
    Delivered,
    /// Try again after this delay; later messages of the conversation wait behind it.
    RetryAfter(Duration),
    /// The server asked to wait this long (429): hold the message, saying why, and send it
    /// then; not before, even when the network comes back. Later messages wait behind it.
    Held {
        /// The server's `Retry-After`.
        wait: Duration,
        /// The server's sentence.
        reason: String,
    },
    /// Refused: mark failed with this sentence until the user retries or discards.
    Failed(String),
    /// The token is no longer valid: keep the message queued and stop sending until the user
    /// signs in again.
    SessionEnded,
}

/// The verdict for an attempt's result. `attempts` counts earlier failed attempts; `unit` is a
/// random number in [0, 1) for jitter.
pub fn verdict<T>(result: &Result<T, ApiError>, attempts: u32, unit: f64) -> Verdict {
    match result {
        Ok(_) => Verdict::Delivered,
        // A refused address (a session from before the TLS policy) ends like a revoked token:
        // the queue is kept for a sign-in at an https:// address.
        Err(ApiError::Unauthorized | ApiError::Insecure(_)) => Verdict::SessionEnded,
        Err(e) if e.is_transient() => Verdict::RetryAfter(retry_delay(attempts, unit)),
        Err(ApiError::TooFast {
            retry_after,
            message,
        }) => Verdict::Held {
            wait: *retry_after,
            reason: message.clone(),
        },
        Err(ApiError::Rejected { message, .. }) => Verdict::Failed(message.clone()),
        Err(e) => Verdict::Failed(e.to_string()),
    }
}

/// Exponential backoff with jitter in [ceiling/2, ceiling]: never a hot loop, never a herd.
pub fn retry_delay(attempts: u32, unit: f64) -> Duration {
    let ceiling = RETRY_MIN
        .saturating_mul(1u32 << attempts.min(10))
        .min(RETRY_MAX);
    ceiling.mul_f64(0.5 + 0.5 * unit.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_and_server_errors_retry_with_growing_delays_capped_at_a_minute() {
        let net: Result<(), _> = Err(ApiError::Network("down".into()));
        let mut last = Duration::ZERO;
        for attempts in 0..8 {
            let Verdict::RetryAfter(d) = verdict(&net, attempts, 1.0) else {
                panic!("expected a retry")
            };
            assert!(d >= last);
            assert!(d <= RETRY_MAX);
            last = d;
        }
        assert_eq!(last, RETRY_MAX);
        let five: Result<(), _> = Err(ApiError::Server { status: 503 });
        assert!(
            matches!(verdict(&five, 0, 0.0), Verdict::RetryAfter(d) if d == Duration::from_millis(500))
        );
    }

    #[test]
    fn a_refusal_fails_the_message_with_the_servers_sentence() {
        let r: Result<(), _> = Err(ApiError::Rejected {
            status: 422,
            code: "validation_failed".into(),
            message: "Message is too long".into(),
        });
        assert_eq!(
            verdict(&r, 0, 0.5),
            Verdict::Failed("Message is too long".into())
        );
    }

    #[test]
    fn an_expired_session_keeps_the_message_queued() {
        let r: Result<(), _> = Err(ApiError::Unauthorized);
        assert_eq!(verdict(&r, 3, 0.5), Verdict::SessionEnded);
    }

    #[test]
    fn too_many_messages_hold_the_message_for_the_servers_wait_without_failing_it() {
        let limited: Result<(), ApiError> = Err(ApiError::TooFast {
            retry_after: Duration::from_secs(20),
            message: "You are sending messages faster than the server allows".into(),
        });
        assert_eq!(
            verdict(&limited, 3, 0.9),
            Verdict::Held {
                wait: Duration::from_secs(20),
                reason: "You are sending messages faster than the server allows".into()
            },
            "the server's wait, not the backoff's"
        );
    }

    #[test]
    fn success_is_delivery() {
        assert_eq!(verdict(&Ok::<_, ApiError>(()), 0, 0.0), Verdict::Delivered);
    }
}
