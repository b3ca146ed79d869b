//! "Now" as NicSRS sees it.
//!
//! NicSRS decides whether a certificate may be renewed by its own clock, so
//! every renewal decision the provider makes (the 90-day window, rolling
//! renewals) uses that clock too: the HTTP `Date` header of the API's most
//! recent answer, plus the time elapsed since it arrived. A CI runner whose
//! clock is off by a day then decides as NicSRS does, and a sandbox with a
//! moved clock steers the provider without any test-only switch. The local
//! clock is used only when the last answer had no readable `Date`.

use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

use super::Client;

/// IMF-fixdate (RFC 9110 §5.6.7), the `Date` header's format:
/// `Sun, 06 Nov 1994 08:49:37 GMT`.
const IMF_FIXDATE: &[FormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// Formats `t` as an HTTP `Date` header value.
pub fn format_http_date(t: OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(IMF_FIXDATE)
        .unwrap_or_default()
}

/// Parses an HTTP `Date` header value (IMF-fixdate, always GMT).
pub fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    PrimitiveDateTime::parse(text.trim(), IMF_FIXDATE)
        .ok()
        .map(PrimitiveDateTime::assume_utc)
}

/// Whose clock a [`Now`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSource {
    /// The `Date` header of NicSRS's last answer.
    Server,
    /// This machine's clock: the last answer carried no readable `Date`.
    Local,
}

/// The current time and where it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Now {
    /// The instant.
    pub at: OffsetDateTime,
    /// Whose clock.
    pub source: TimeSource,
}

impl Now {
    /// "by NicSRS's clock" or "by this machine's clock", for messages.
    pub fn whose(&self) -> &'static str {
        match self.source {
            TimeSource::Server => "by NicSRS's clock",
            TimeSource::Local => "by this machine's clock (NicSRS sent no Date header)",
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
enum Seen {
    /// No answer yet.
    #[default]
    Nothing,
    /// The last answer said it was `at` when it arrived at `arrived`.
    Date {
        at: OffsetDateTime,
        arrived: Instant,
    },
    /// The last answer had no readable `Date`.
    NoDate,
}

/// The server's clock as learnt from its answers; shared by a client's clones.
#[derive(Debug, Default)]
pub struct ServerClock {
    seen: Mutex<Seen>,
}

impl ServerClock {
    /// Records an answer's `Date` header (or its absence).
    pub fn observe(&self, date_header: Option<&str>) {
        let seen = match date_header.and_then(parse_http_date) {
            Some(at) => Seen::Date {
                at,
                arrived: Instant::now(),
            },
            None => Seen::NoDate,
        };
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = seen;
    }

    /// Now, by the last answer's clock; `None` before any answer.
    pub fn now(&self) -> Option<Now> {
        match *self.seen.lock().unwrap_or_else(PoisonError::into_inner) {
            Seen::Nothing => None,
            Seen::Date { at, arrived } => Some(Now {
                at: at + arrived.elapsed(),
                source: TimeSource::Server,
            }),
            Seen::NoDate => Some(Now {
                at: OffsetDateTime::now_utc(),
                source: TimeSource::Local,
            }),
        }
    }
}

impl Client {
    /// Now by NicSRS's clock, as its last answer to this client told it;
    /// `None` when this client has had no answer yet (make a call first).
    pub fn server_now(&self) -> Option<Now> {
        self.clock.now()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use time::macros::datetime;

    use super::*;

    #[test]
    fn http_dates_round_trip() {
        let t = datetime!(1994-11-06 08:49:37 UTC);
        assert_eq!(format_http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(t));
        for bad in [
            "",
            "yesterday",
            "Sunday, 06-Nov-94 08:49:37 GMT",
            "Sun, 06 Nov 1994 08:49:37 +0100",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_clock_follows_the_last_answer() {
        let clock = ServerClock::default();
        assert_eq!(clock.now(), None, "nothing seen yet");
        clock.observe(Some("Mon, 01 Mar 2027 10:00:00 GMT"));
        let now = clock.now().expect("seen");
        assert_eq!(now.source, TimeSource::Server);
        let since = now.at - datetime!(2027-03-01 10:00:00 UTC);
        assert!(since >= time::Duration::ZERO && since < Duration::from_secs(5));
        clock.observe(Some("garbage"));
        let local = clock.now().expect("seen");
        assert_eq!(local.source, TimeSource::Local);
        assert!((local.at - OffsetDateTime::now_utc()).abs() < Duration::from_secs(5));
        clock.observe(None);
        assert_eq!(clock.now().map(|n| n.source), Some(TimeSource::Local));
    }
}
