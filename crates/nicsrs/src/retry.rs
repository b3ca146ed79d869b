//! The one retry policy.
//!
//! - Idempotent reads (`collect`, `certIdByrefId`) are retried on connection
//!   failures, timeouts, lost connections, HTTP 429 and 5xx, and code `-2`
//!   ("does not exist or system busy, please retry"), with
//!   exponential backoff and jitter, honouring `Retry-After` (seconds).
//! - `renew` is retried only when the request provably never left this
//!   machine ([`Error::NotSent`]): a renewal that may have reached NicSRS is
//!   never repeated, because it could place a second order.
//! - `cancel` and `updateDCV` are never retried.

use std::time::Duration;

use rand::Rng;

use super::codes;
use super::error::{Error, Operation};

/// When and how often to retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts, including the first (1 = no retries).
    pub max_attempts: u32,
    /// Delay before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// Upper bound on one backoff step.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured: a rate-limited API is waited for
    /// as it asks, up to this; asking for more ends the retries.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        }
    }

    /// How long to wait before attempt number `attempt + 1`, or `None` to
    /// give up. `attempt` counts the attempts made so far (1 after the first).
    pub fn next_delay(&self, op: Operation, attempt: u32, error: &Error) -> Option<Duration> {
        if attempt >= self.max_attempts || !is_retryable(op, error) {
            return None;
        }
        let backoff = self.backoff(attempt);
        match error {
            Error::HttpStatus {
                retry_after: Some(wait),
                ..
            } => {
                if *wait > self.max_retry_after {
                    None
                } else {
                    Some((*wait).max(backoff))
                }
            }
            _ => Some(backoff),
        }
    }

    /// Exponential backoff with "equal jitter": half the step fixed, half
    /// random, capped at `max_delay`.
    fn backoff(&self, attempt: u32) -> Duration {
        let factor = 1u32
            .checked_shl(attempt.saturating_sub(1))
            .unwrap_or(u32::MAX);
        let step = self
            .base_delay
            .checked_mul(factor)
            .unwrap_or(self.max_delay)
            .min(self.max_delay);
        let half = step / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        let jitter = if jitter_ms == 0 {
            Duration::ZERO
        } else {
            Duration::from_millis(rand::rng().random_range(0..=jitter_ms))
        };
        half + jitter
    }
}

/// Whether `error` on `op` may be retried at all.
pub fn is_retryable(op: Operation, error: &Error) -> bool {
    match op {
        Operation::Renew => matches!(error, Error::NotSent { .. }),
        Operation::Cancel | Operation::UpdateDcv => false,
        Operation::Collect | Operation::CertIdByRefId => match error {
            Error::NotSent { .. } | Error::Timeout { .. } | Error::ConnectionLost { .. } => true,
            Error::HttpStatus { status, .. } => *status == 429 || *status >= 500,
            // "-2: order does not exist or system busy, please retry": a
            // read must not conclude "gone" from one such answer.
            Error::Api { code, .. } => *code == codes::UNKNOWN_ERROR,
            Error::Config { .. } | Error::NotJson { .. } | Error::BadShape { .. } => false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(status: u16, retry_after: Option<u64>) -> Error {
        Error::HttpStatus {
            op: Operation::Collect,
            status,
            body: String::new(),
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn what_is_retried_per_operation() {
        let timeout = |op| Error::Timeout {
            op,
            after: Duration::from_secs(1),
        };
        assert!(is_retryable(
            Operation::Collect,
            &timeout(Operation::Collect)
        ));
        assert!(is_retryable(Operation::CertIdByRefId, &status(503, None)));
        assert!(is_retryable(Operation::Collect, &status(429, None)));
        assert!(is_retryable(Operation::Collect, &status(500, None)));
        assert!(!is_retryable(Operation::Collect, &status(404, None)));
        assert!(!is_retryable(Operation::Renew, &timeout(Operation::Renew)));
        assert!(!is_retryable(
            Operation::Cancel,
            &timeout(Operation::Cancel)
        ));
        let busy = Error::api(Operation::Collect, -2, vec![], None);
        assert!(is_retryable(Operation::Collect, &busy));
        let invalid = Error::api(Operation::Collect, -1, vec![], None);
        assert!(!is_retryable(Operation::Collect, &invalid));
        assert!(!is_retryable(Operation::Renew, &busy));
    }

    #[test]
    fn delays_grow_are_capped_and_attempts_bounded() {
        let p = RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
            max_retry_after: Duration::from_secs(60),
        };
        let e = status(503, None);
        for attempt in 1..5 {
            let d = p.next_delay(Operation::Collect, attempt, &e);
            let d = d.unwrap_or(Duration::MAX);
            let step =
                Duration::from_millis(100 * (1 << (attempt - 1))).min(Duration::from_millis(300));
            assert!(d >= step / 2 && d <= step, "attempt {attempt}: {d:?}");
        }
        assert_eq!(p.next_delay(Operation::Collect, 5, &e), None);
    }

    #[test]
    fn retry_after_is_honoured_or_ends_retries() {
        let p = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(60),
        };
        let d = p.next_delay(Operation::Collect, 1, &status(429, Some(1)));
        assert!(d.is_some_and(|d| d >= Duration::from_secs(1)), "{d:?}");
        // Longer than a backoff step, within the cap: waited as asked.
        assert_eq!(
            p.next_delay(Operation::Collect, 1, &status(429, Some(30))),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            p.next_delay(Operation::Collect, 1, &status(429, Some(61))),
            None
        );
    }
}
