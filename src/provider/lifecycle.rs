//! Renewal as a lifecycle: NicSRS's 90-day window checked at plan time, and
//! rolling renewals (`renew_before_days`).
//!
//! "Now", for every decision here, is NicSRS's clock: the `Date` of its
//! last answer (see [`nicsrs::server_time`]), this machine's clock
//! only when the answer had none. The CA applies the window by its own
//! clock, so a CI runner with a skewed clock decides as the CA does.
//!
//! A roll is an in-place update of the renewal: a new order with `renewId`
//! = the current `cert_id`, placed by the order-once rules
//! ([`nicsrs::ordering`]) like any other. Its derived refId hashes
//! that `renewId`, so it differs from every earlier order of the chain, and
//! a re-apply after a crash in the middle of a roll finds the order
//! instead of buying it again.

use std::ops::RangeInclusive;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use nicsrs::server_time::{Now, TimeSource};
use nicsrs::{self, codes};
use tfplugin::{AttributePath, Diagnostics, Field};

use super::models::Renewal;

/// What `renew_before_days` accepts: a renewal is only possible within
/// NicSRS's window.
pub const RENEW_BEFORE_DAYS: RangeInclusive<i64> = 1..=codes::RENEWAL_WINDOW_DAYS;

/// RFC 3339 in UTC, to the second: the format of every date attribute.
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.replace_nanosecond(0).unwrap_or(t);
    t.to_offset(time::UtcOffset::UTC)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// A date of the API (`YYYY-MM-DD HH:MM:SS`, UTC) as RFC 3339; text the
/// provider cannot read is passed on as it is rather than lost.
pub fn api_date(text: Option<&str>) -> Field<String> {
    match text {
        None => Field::Null,
        Some(text) => match nicsrs::types::parse_api_datetime(text) {
            Some(t) => Field::Known(rfc3339(t)),
            None => text.into(),
        },
    }
}

fn parse_rfc3339(text: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(text, &Rfc3339).ok()
}

/// When the certificate of an order expires: collect's `endDate`, once the
/// order is issued.
pub fn expires_at(collected: &nicsrs::CollectResponse) -> Option<OffsetDateTime> {
    if !is_issued(collected.status.as_deref()) {
        return None;
    }
    collected
        .data
        .end_date
        .as_deref()
        .and_then(nicsrs::types::parse_api_datetime)
}

fn is_issued(status: Option<&str>) -> bool {
    status.is_some_and(|s| s.eq_ignore_ascii_case(codes::STATUS_COMPLETE))
}

/// `renewal_due_at`: `expires_at` less `renew_before_days`; null without
/// `renew_before_days` or before the certificate is issued.
pub fn renewal_due_at(expires_at: &Field<String>, renew_before_days: &Field<f64>) -> Field<String> {
    if renew_before_days.is_null() {
        return Field::Null;
    }
    if expires_at.is_unknown() || renew_before_days.is_unknown() {
        return Field::Unknown;
    }
    match (
        expires_at.as_str().and_then(parse_rfc3339),
        whole_days(renew_before_days),
    ) {
        (Some(expires), Some(days)) => Field::Known(rfc3339(expires - time::Duration::days(days))),
        _ => Field::Null,
    }
}

fn whole_days(value: &Field<f64>) -> Option<i64> {
    value
        .known()
        .filter(|d| d.fract() == 0.0 && RENEW_BEFORE_DAYS.contains(&(**d as i64)))
        .map(|d| *d as i64)
}

/// A chosen `ref_id` cannot come with `renew_before_days`: every order of a
/// rolling chain needs its own refId, which the provider derives. (The range
/// of `renew_before_days` is its attribute's validator.)
pub fn validate(config: &Renewal, diags: &mut Diagnostics) {
    if config.renew_before_days.is_null() {
        return;
    }
    if !config.ref_id.is_null() {
        diags.attribute_error(
            AttributePath::root("ref_id"),
            "ref_id cannot be chosen for rolling renewals",
            "With renew_before_days, this resource places a new order each time its certificate is due, \
             and each order needs its own refId; a chosen ref_id names one order only. Remove ref_id: \
             the provider derives one per order from its content (renewId included), which keeps every \
             renewal of the chain ordered once.",
        );
    }
}

/// Now by NicSRS's clock. When this process has had no answer from NicSRS
/// yet, it asks for one (`collect` of `probe_cert_id`, whose answer carries
/// the `Date`); this machine's clock only when no `Date` comes back.
pub async fn server_now(client: &nicsrs::Client, probe_cert_id: &str) -> Now {
    if let Some(now) = client.server_now() {
        return now;
    }
    if let Err(error) = client.collect(probe_cert_id).await {
        log::debug!("asking NicSRS for the time: {error}");
    }
    client.server_now().unwrap_or_else(|| Now {
        at: OffsetDateTime::now_utc(),
        source: TimeSource::Local,
    })
}

/// Whether NicSRS accepts the renewal of a certificate now.
#[derive(Debug, Clone, PartialEq)]
pub enum Window {
    Open,
    /// It expires more than 90 days from now.
    NotYet {
        expires: OffsetDateTime,
        opens: OffsetDateTime,
        now: Now,
    },
    /// Could not be found out; why.
    Unchecked(String),
}

/// Looks `renew_id` up (`/ssl/collect`) and compares its expiry with
/// NicSRS's window.
pub async fn renewal_window(client: &nicsrs::Client, renew_id: &str) -> Window {
    let collected = match client.collect(renew_id).await {
        Ok(collected) => collected,
        Err(error) => return Window::Unchecked(format!("reading it failed ({error})")),
    };
    let Some(expires) = collected
        .data
        .end_date
        .as_deref()
        .and_then(nicsrs::types::parse_api_datetime)
    else {
        return Window::Unchecked("NicSRS reported no expiry date (endDate) for it".into());
    };
    let now = server_now(client, renew_id).await;
    window_at(expires, now)
}

fn window_at(expires: OffsetDateTime, now: Now) -> Window {
    let opens = codes::renewal_opens(expires);
    if now.at < opens {
        Window::NotYet {
            expires,
            opens,
            now,
        }
    } else {
        Window::Open
    }
}

/// The plan-time diagnostic of a window check; false when the plan must fail.
pub fn report_window(window: &Window, renew_id: &str, diags: &mut Diagnostics) -> bool {
    let at = AttributePath::root("renew_id");
    match window {
        Window::Open => true,
        Window::NotYet {
            expires,
            opens,
            now,
        } => {
            diags.attribute_error(
                at,
                "Certificate not renewable yet",
                format!(
                    "Certificate {renew_id} expires on {}, more than {} days from now ({}, {}). NicSRS \
                     accepts its renewal from {} on. Apply on or after that date; if this product's \
                     renewal window differs, set check_renewal_window = false on this resource (or in \
                     the provider block).",
                    rfc3339(*expires),
                    codes::RENEWAL_WINDOW_DAYS,
                    rfc3339(now.at),
                    now.whose(),
                    rfc3339(*opens)
                ),
            );
            false
        }
        Window::Unchecked(why) => {
            diags.attribute_warning(
                at,
                "Renewal window not checked",
                format!(
                    "Before a new renewal the provider checks that certificate {renew_id} expires within \
                     {} days, when NicSRS accepts its renewal; {why}, so the plan goes on without that \
                     check. If the certificate is not renewable yet, the order will be refused at apply \
                     and nothing is charged.",
                    codes::RENEWAL_WINDOW_DAYS
                ),
            );
            true
        }
    }
}

/// What the clock says about the current order of a renewal.
#[derive(Debug, Clone, PartialEq)]
pub enum Due {
    /// Not issued yet (or no expiry known), or not due: nothing to do.
    Nothing,
    /// Within `renew_before_days` of expiry: roll to a new order.
    Roll {
        expires: OffsetDateTime,
        due: OffsetDateTime,
    },
    /// No `renew_before_days`, and NicSRS's window is open.
    WindowOpen {
        expires: OffsetDateTime,
        opens: OffsetDateTime,
    },
}

/// The issued certificate's expiry in a renewal's state, when known.
pub fn state_expiry(state: &Renewal) -> Option<OffsetDateTime> {
    if !is_issued(state.status.as_str()) {
        return None;
    }
    state.expires_at.as_str().and_then(parse_rfc3339)
}

/// Decides from the state's expiry, `renew_before_days` and now.
pub fn due(expires: Option<OffsetDateTime>, renew_before_days: &Field<f64>, now: Now) -> Due {
    let Some(expires) = expires else {
        return Due::Nothing;
    };
    match whole_days(renew_before_days) {
        Some(days) => {
            let due = expires - time::Duration::days(days);
            if now.at >= due {
                Due::Roll { expires, due }
            } else {
                Due::Nothing
            }
        }
        None if renew_before_days.is_null() => match window_at(expires, now) {
            Window::Open => Due::WindowOpen {
                expires,
                opens: codes::renewal_opens(expires),
            },
            _ => Due::Nothing,
        },
        None => Due::Nothing,
    }
}

/// The warning of a planned roll: why this apply places a paid order.
pub fn warn_roll(
    cert_id: &str,
    expires: OffsetDateTime,
    due: OffsetDateTime,
    days: &Field<f64>,
    years: &Field<f64>,
    now: Now,
    diags: &mut Diagnostics,
) {
    let days = days.known().copied().unwrap_or_default();
    let years = years.known().copied().unwrap_or_default();
    diags.warning(
        "Renewal due: this apply places a paid renewal order",
        format!(
            "Certificate {cert_id} expires on {}, within renew_before_days = {days} (due since {}; now is \
             {}, {}): this apply places a paid {years}-year renewal order with renewId {cert_id}. cert_id \
             changes to the new order's; {cert_id} is added to previous_cert_ids.",
            rfc3339(expires),
            rfc3339(due),
            rfc3339(now.at),
            now.whose()
        ),
    );
}

/// The warning of an open window on a resource that does not roll.
pub fn warn_window_open(
    cert_id: &str,
    expires: OffsetDateTime,
    opens: OffsetDateTime,
    diags: &mut Diagnostics,
) {
    diags.warning(
        format!("Certificate {cert_id} can be renewed"),
        format!(
            "Certificate {cert_id} expires on {}; NicSRS accepts its renewal since {}. This resource does \
             not renew it by itself: set renew_before_days (1 to {}) to renew it on a scheduled apply, \
             or renew it with a new nicsrs_certificate_renewal.",
            rfc3339(expires),
            rfc3339(opens),
            codes::RENEWAL_WINDOW_DAYS
        ),
    );
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn server(at: OffsetDateTime) -> Now {
        Now {
            at,
            source: TimeSource::Server,
        }
    }

    const EXPIRES: OffsetDateTime = datetime!(2027-11-20 09:00:00 UTC);

    #[test]
    fn the_window_opens_ninety_days_before_expiry() {
        let opens = datetime!(2027-08-22 09:00:00 UTC);
        assert_eq!(codes::renewal_opens(EXPIRES), opens);
        let early = server(opens - time::Duration::seconds(1));
        assert_eq!(
            window_at(EXPIRES, early),
            Window::NotYet {
                expires: EXPIRES,
                opens,
                now: early
            }
        );
        assert_eq!(window_at(EXPIRES, server(opens)), Window::Open);
        let expired = server(EXPIRES + time::Duration::days(3));
        assert_eq!(window_at(EXPIRES, expired), Window::Open);
    }

    #[test]
    fn a_closed_window_is_an_error_naming_both_dates() {
        let mut diags = Diagnostics::new();
        let window = window_at(EXPIRES, server(datetime!(2027-07-23 09:00:00 UTC)));
        assert!(!report_window(&window, "2611abc", &mut diags));
        let error = &diags.0[0];
        assert_eq!(error.path, Some(AttributePath::root("renew_id")));
        for part in [
            "2027-11-20T09:00:00Z",
            "from 2027-08-22T09:00:00Z on",
            "by NicSRS's clock",
            "check_renewal_window = false",
        ] {
            assert!(error.detail.contains(part), "{part}: {}", error.detail);
        }
        let mut diags = Diagnostics::new();
        assert!(report_window(
            &Window::Unchecked("reading it failed (HTTP 503)".into()),
            "2611abc",
            &mut diags
        ));
        assert!(!diags.has_errors());
        assert!(diags.0[0].detail.contains("HTTP 503"), "{diags:?}");
    }

    #[test]
    fn a_roll_is_due_renew_before_days_before_expiry() {
        let thirty = Field::Known(30.0);
        let due_at = datetime!(2027-10-21 09:00:00 UTC);
        assert_eq!(
            due(
                Some(EXPIRES),
                &thirty,
                server(due_at - time::Duration::minutes(1))
            ),
            Due::Nothing
        );
        assert_eq!(
            due(Some(EXPIRES), &thirty, server(due_at)),
            Due::Roll {
                expires: EXPIRES,
                due: due_at
            }
        );
        assert_eq!(
            due(None, &thirty, server(due_at)),
            Due::Nothing,
            "not issued"
        );
        assert_eq!(
            due(Some(EXPIRES), &Field::Unknown, server(due_at)),
            Due::Nothing,
            "not known yet"
        );
        // Without renew_before_days: only a notice once the window opens.
        assert_eq!(
            due(Some(EXPIRES), &Field::Null, server(due_at)),
            Due::WindowOpen {
                expires: EXPIRES,
                opens: datetime!(2027-08-22 09:00:00 UTC)
            }
        );
        assert_eq!(
            due(
                Some(EXPIRES),
                &Field::Null,
                server(datetime!(2027-01-01 0:00 UTC))
            ),
            Due::Nothing
        );
    }

    #[test]
    fn api_dates_become_rfc3339() {
        assert_eq!(
            api_date(Some("2026-12-29 09:23:28")),
            Field::from("2026-12-29T09:23:28Z")
        );
        assert_eq!(
            api_date(Some("2026-12-29")),
            Field::from("2026-12-29T00:00:00Z")
        );
        assert_eq!(api_date(Some("soon")), Field::from("soon"));
        assert_eq!(api_date(None), Field::Null);
    }

    #[test]
    fn renewal_due_at_follows_expiry_and_days() {
        let expires = Field::from("2027-11-20T09:00:00Z");
        let thirty = Field::Known(30.0);
        assert_eq!(
            renewal_due_at(&expires, &thirty),
            Field::from("2027-10-21T09:00:00Z")
        );
        assert_eq!(renewal_due_at(&expires, &Field::Null), Field::Null);
        assert_eq!(renewal_due_at(&Field::Null, &thirty), Field::Null);
        assert_eq!(renewal_due_at(&Field::Unknown, &thirty), Field::Unknown);
        assert_eq!(renewal_due_at(&expires, &Field::Unknown), Field::Unknown);
    }

    #[test]
    fn a_rolling_renewal_cannot_choose_its_ref_id() {
        let errors = |days: Field<f64>, ref_id: Field<String>| {
            let config = Renewal {
                renew_before_days: days,
                ref_id,
                ..Renewal::default()
            };
            let mut diags = Diagnostics::new();
            validate(&config, &mut diags);
            diags
                .0
                .into_iter()
                .map(|d| (d.path.map(|p| p.to_string()), d.detail))
                .collect::<Vec<_>>()
        };
        assert!(errors(Field::Known(30.0), Field::Null).is_empty());
        assert!(errors(Field::Unknown, Field::Null).is_empty());
        assert!(errors(Field::Null, "mine".into()).is_empty());
        let found = errors(Field::Known(30.0), "mine".into());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0.as_deref(), Some("ref_id"));
        assert!(found[0].1.contains("Remove ref_id"), "{found:?}");
    }
}
