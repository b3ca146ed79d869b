//! The provider's validators, as named values attached to attributes in the
//! schemas: each says what it accepts (rendered into the docs) and checks
//! with the rule of `nicsrs::rules` that the sandbox applies too.
//!
//! Checks that need two attributes (a domain against the CSR, a method
//! against its domain) stay in the resources' `validate`.

use nicsrs::{codes, rules};
use tfplugin::schema::attribute_name;
use tfplugin::{AttributePath, Invalid, Validator, Value};

/// A validator of string values: `rule` gets the attribute path as the
/// field's name in its message; `title` is the diagnostic's summary.
fn string_rule(
    description: impl Into<String>,
    title: fn(&AttributePath, &str) -> String,
    rule: impl Fn(&str, &str) -> Result<(), rules::Problem> + Send + Sync + 'static,
) -> Validator {
    Validator::new(description, move |at, value| match value.as_str() {
        Some(text) => rule(&at.to_string(), text).map_err(|detail| Invalid {
            summary: title(at, text),
            detail,
        }),
        None => Ok(()),
    })
}

/// A validator of number values.
fn number_rule(
    description: impl Into<String>,
    rule: impl Fn(&str, f64) -> Result<(), rules::Problem> + Send + Sync + 'static,
) -> Validator {
    Validator::new(description, move |at, value| match value {
        Value::Number(n) => rule(&at.to_string(), *n).map_err(|detail| Invalid {
            summary: format!("Invalid {}", attribute_name(at)),
            detail,
        }),
        _ => Ok(()),
    })
}

fn invalid_name(at: &AttributePath, _: &str) -> String {
    format!("Invalid {}", attribute_name(at))
}

/// Contact and organization fields: "Empty field" says more than "Invalid".
fn empty_or_invalid(at: &AttributePath, text: &str) -> String {
    if text.trim().is_empty() {
        "Empty field".to_string()
    } else {
        invalid_name(at, text)
    }
}

/// `renew_id`, `ref_id`: used as written, so nothing around or inside it
/// that would order something other than what the state says.
pub fn identifier() -> Validator {
    string_rule(
        format!(
            "At most {} characters, without surrounding spaces, line breaks or control characters.",
            rules::MAX_IDENTIFIER_LEN
        ),
        invalid_name,
        rules::identifier,
    )
}

pub fn years() -> Validator {
    number_rule(
        format!("A whole number from 1 to {}.", rules::MAX_YEARS),
        |field, n| rules::years(field, n).map(drop),
    )
}

pub fn server() -> Validator {
    string_rule(
        "One of the platform names NicSRS knows, in lower case (`other` fits any).",
        invalid_name,
        rules::server,
    )
}

pub fn unique_value() -> Validator {
    string_rule(
        "1 to 20 characters, each a-z, A-Z or 0-9.",
        invalid_name,
        rules::unique_value,
    )
}

pub fn csr() -> Validator {
    string_rule(
        format!(
            "One PEM certificate request with a valid signature, an RSA key of at least {} bits or an \
             EC P-256/P-384 key.",
            rules::MIN_RSA_BITS
        ),
        invalid_name,
        |field, pem| rules::csr(field, pem).map(drop),
    )
}

/// Free text of a contact or the organization.
pub fn text() -> Validator {
    string_rule(
        format!(
            "Not empty, on one line, at most {} characters.",
            rules::MAX_TEXT_LEN
        ),
        empty_or_invalid,
        rules::text,
    )
}

pub fn email() -> Validator {
    string_rule(
        "An e-mail address, e.g. `admin@example.com`.",
        empty_or_invalid,
        rules::email,
    )
}

pub fn mobile() -> Validator {
    string_rule(
        "5 to 20 digits, country code first, no spaces, dashes or plus sign.",
        empty_or_invalid,
        rules::mobile,
    )
}

pub fn country() -> Validator {
    string_rule(
        "A two-letter ISO 3166-1 country code in capitals, e.g. `US`.",
        empty_or_invalid,
        rules::country,
    )
}

/// `renew_before_days`: a renewal is only possible within NicSRS's window.
pub fn renew_before_days() -> Validator {
    let days = super::lifecycle::RENEW_BEFORE_DAYS;
    number_rule(
        format!(
            "A whole number of days from {} to {}.",
            days.start(),
            days.end()
        ),
        move |field, n| {
            if n.fract() == 0.0 && days.contains(&(n as i64)) {
                return Ok(());
            }
            Err(format!(
                "{field} is {n}; use a whole number of days from {} to {}: NicSRS accepts a renewal only \
                 within {} days of expiry.",
                days.start(),
                days.end(),
                codes::RENEWAL_WINDOW_DAYS
            ))
        },
    )
}

/// `cert_id` of the waiter and the data source.
pub fn cert_id() -> Validator {
    Validator::new("A certId, not empty.", |at, value| match value.as_str() {
        Some(id) if id.trim().is_empty() => Err(Invalid {
            summary: "Empty cert_id".into(),
            detail: format!(
                "{at} is an empty string; use the certId of an order, e.g. \
                 nicsrs_certificate_renewal.web.cert_id."
            ),
        }),
        _ => Ok(()),
    })
}

/// A number of seconds within `range`.
pub fn seconds(range: std::ops::RangeInclusive<f64>) -> Validator {
    let (low, high) = (*range.start(), *range.end());
    number_rule(format!("From {low} to {high} seconds."), move |field, n| {
        if range.contains(&n) {
            Ok(())
        } else {
            Err(format!("{field} is {n}; use {low} to {high} seconds."))
        }
    })
}

/// A whole number of seconds within `range` (the provider's request timeout).
pub fn whole_seconds(range: std::ops::RangeInclusive<f64>) -> Validator {
    let (low, high) = (*range.start(), *range.end());
    number_rule(
        format!("A whole number of seconds from {low} to {high}."),
        move |field, n| {
            if n.fract() == 0.0 && range.contains(&n) {
                Ok(())
            } else {
                Err(format!(
                    "{field} is {n}; it must be a whole number of seconds from {low} to {high}."
                ))
            }
        },
    )
}

/// A timeout in Go's duration syntax, as `timeouts` blocks take it.
pub fn duration() -> Validator {
    string_rule(
        "A duration in Go's syntax, e.g. `45m`, `1h30m`, `1.5h`, `500ms`.",
        |_, _| "Invalid timeout".to_string(),
        |_, text| super::certificate_validation::parse_duration(text).map(drop),
    )
}

/// `base_url`: https anywhere, plain http only to this machine.
pub fn base_url() -> Validator {
    string_rule(
        "`https://`, or `http://` to a loopback address (a local sandbox).",
        invalid_name,
        |_, url| super::check_base_url(url),
    )
}

/// `api_token`: an empty string is a mistake, not a way to leave it out.
pub fn not_empty_token() -> Validator {
    string_rule(
        "Not empty.",
        |_, _| "Empty api_token".to_string(),
        |_, token| {
            if token.is_empty() {
                Err(format!(
                    "api_token is set to an empty string. Set the reseller token, or leave the argument \
                     out to use {}.",
                    super::TOKEN_ENV
                ))
            } else {
                Ok(())
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(validator: &Validator, at: &str, value: Value) -> Result<(), Invalid> {
        let path = at
            .split('.')
            .fold(AttributePath::default(), |p, name| p.attribute(name));
        validator.check(&path, &value)
    }

    /// (validator, attribute, value, expected title or None when accepted,
    /// a piece of the detail)
    #[test]
    fn each_validator_accepts_and_refuses_as_it_says() {
        let cases: Vec<(Validator, &str, Value, Option<&str>, &str)> = vec![
            (identifier(), "renew_id", "123".into(), None, ""),
            (
                identifier(),
                "renew_id",
                " 123".into(),
                Some("Invalid renew_id"),
                "renew_id",
            ),
            (years(), "years", Value::Number(2.0), None, ""),
            (
                years(),
                "years",
                Value::Number(1.5),
                Some("Invalid years"),
                "whole number",
            ),
            (server(), "server", "nginx".into(), None, ""),
            (
                server(),
                "server",
                "Nginx".into(),
                Some("Invalid server"),
                "lower case",
            ),
            (unique_value(), "unique_value", "abc1".into(), None, ""),
            (
                unique_value(),
                "unique_value",
                "a-b".into(),
                Some("Invalid unique_value"),
                "a-z",
            ),
            (csr(), "csr", "not a csr".into(), Some("Invalid csr"), "csr"),
            (text(), "administrator.city", "Berlin".into(), None, ""),
            (
                text(),
                "administrator.city",
                " ".into(),
                Some("Empty field"),
                "administrator.city is empty",
            ),
            (email(), "tech.email", "a@b.example".into(), None, ""),
            (
                email(),
                "tech.email",
                "nobody".into(),
                Some("Invalid email"),
                "tech.email \"nobody\"",
            ),
            (mobile(), "tech.mobile", "8613800000000".into(), None, ""),
            (
                mobile(),
                "tech.mobile",
                "+86 138".into(),
                Some("Invalid mobile"),
                "digits",
            ),
            (country(), "tech.country", "DE".into(), None, ""),
            (
                country(),
                "tech.country",
                "de".into(),
                Some("Invalid country"),
                "capitals",
            ),
            (
                renew_before_days(),
                "renew_before_days",
                Value::Number(30.0),
                None,
                "",
            ),
            (
                renew_before_days(),
                "renew_before_days",
                Value::Number(91.0),
                Some("Invalid renew_before_days"),
                "1 to 90",
            ),
            (cert_id(), "cert_id", "123".into(), None, ""),
            (
                cert_id(),
                "cert_id",
                "".into(),
                Some("Empty cert_id"),
                "certId",
            ),
            (
                seconds(1.0..=3600.0),
                "poll_interval_seconds",
                Value::Number(0.5),
                Some("Invalid poll_interval_seconds"),
                "1 to 3600",
            ),
            (
                whole_seconds(1.0..=3600.0),
                "request_timeout_seconds",
                Value::Number(1.5),
                Some("Invalid request_timeout_seconds"),
                "whole number",
            ),
            (duration(), "timeouts.create", "1.5h".into(), None, ""),
            (
                duration(),
                "timeouts.create",
                "0s".into(),
                Some("Invalid timeout"),
                "longer than zero",
            ),
            (
                base_url(),
                "base_url",
                "http://portal.nicsrs.com".into(),
                Some("Invalid base_url"),
                "unencrypted",
            ),
            (
                not_empty_token(),
                "api_token",
                "".into(),
                Some("Empty api_token"),
                "NICSRS_API_TOKEN",
            ),
        ];
        for (validator, at, value, title, detail) in cases {
            let outcome = check(&validator, at, value.clone());
            match (title, outcome) {
                (None, Ok(())) => {}
                (Some(title), Err(invalid)) => {
                    assert_eq!(invalid.summary, title, "{at} = {value:?}");
                    assert!(
                        invalid.detail.contains(detail),
                        "{at} = {value:?}: {}",
                        invalid.detail
                    );
                }
                (expected, outcome) => {
                    panic!("{at} = {value:?}: expected {expected:?}, got {outcome:?}")
                }
            }
            assert!(
                validator.description.ends_with('.'),
                "{}",
                validator.description
            );
        }
    }
}
