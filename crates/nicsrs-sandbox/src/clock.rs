//! The sandbox's settable clock. Time is an input: tests pin it with
//! `--now` or `POST /sandbox/clock` to exercise the 90-day renewal window
//! and the 30-day cancellation window.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Either the system time or a pinned instant, plus an offset.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clock {
    /// A pinned "now"; `None` follows the system clock.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub fixed: Option<OffsetDateTime>,
    /// Seconds added to the base time (by `advance`).
    #[serde(default)]
    pub offset_secs: i64,
}

impl Clock {
    /// The sandbox's current time.
    pub fn now(&self) -> OffsetDateTime {
        let base = self.fixed.unwrap_or_else(OffsetDateTime::now_utc);
        base.checked_add(time::Duration::seconds(self.offset_secs))
            .unwrap_or(base)
    }

    /// Pins the clock at `t`.
    pub fn set(&mut self, t: OffsetDateTime) {
        self.fixed = Some(t);
        self.offset_secs = 0;
    }

    /// Moves the clock by `secs` seconds (negative goes back).
    pub fn advance_secs(&mut self, secs: i64) {
        self.offset_secs = self.offset_secs.saturating_add(secs);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn pinned_clock_moves_only_when_told() {
        let mut c = Clock::default();
        c.set(datetime!(2026-05-01 12:00 UTC));
        assert_eq!(c.now(), datetime!(2026-05-01 12:00 UTC));
        c.advance_secs(86_400 * 3);
        assert_eq!(c.now(), datetime!(2026-05-04 12:00 UTC));
        c.set(datetime!(2027-01-01 0:00 UTC));
        assert_eq!(c.now(), datetime!(2027-01-01 0:00 UTC));
    }
}
