//! The client's one error type.
//!
//! It is shaped by what the caller must decide next, not by where the
//! failure came from:
//!
//! - [`Error::NotSent`]: nothing reached NicSRS (connection refused, DNS,
//!   TLS handshake). Safe to retry anything.
//! - [`Error::Timeout`] and [`Error::ConnectionLost`]: the request may have
//!   reached NicSRS and been acted on. For a renewal, the order may exist:
//!   look it up by `refId` before trying again.
//! - [`Error::HttpStatus`], [`Error::NotJson`], [`Error::BadShape`]:
//!   something answered, but not with a NicSRS envelope we understand. On a
//!   5xx or a garbled body the outcome of a renewal is unknown.
//! - [`Error::Api`]: NicSRS answered with an error code; nothing happened.
//!
//! [`Error::may_have_placed_order`] condenses this for the renew call. The
//! token never appears in any variant.

use std::fmt;
use std::time::Duration;

use super::codes;

/// The API operation a failure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `/ssl/renew`.
    Renew,
    /// `/ssl/collect`.
    Collect,
    /// `/ssl/certIdByrefId`.
    CertIdByRefId,
    /// `/ssl/cancel`.
    Cancel,
    /// `/ssl/updateDCV`.
    UpdateDcv,
}

impl Operation {
    /// The path under the base URL.
    pub fn path(self) -> &'static str {
        match self {
            Operation::Renew => "/ssl/renew",
            Operation::Collect => "/ssl/collect",
            Operation::CertIdByRefId => "/ssl/certIdByrefId",
            Operation::Cancel => "/ssl/cancel",
            Operation::UpdateDcv => "/ssl/updateDCV",
        }
    }

    /// Whether repeating the call cannot change anything at NicSRS.
    pub fn is_idempotent_read(self) -> bool {
        matches!(self, Operation::Collect | Operation::CertIdByRefId)
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Renew => "renew",
            Operation::Collect => "collect",
            Operation::CertIdByRefId => "certIdByrefId",
            Operation::Cancel => "cancel",
            Operation::UpdateDcv => "updateDCV",
        })
    }
}

/// How many characters of an unexpected body an error keeps.
pub const SNIPPET_CHARS: usize = 300;

/// A NicSRS client failure.
#[derive(Debug)]
pub enum Error {
    /// The client could not be built or the request could not be encoded.
    Config {
        /// What is wrong.
        message: String,
    },
    /// The request never left this machine (connection refused, DNS, TLS).
    NotSent {
        /// The operation.
        op: Operation,
        /// The transport error.
        source: reqwest::Error,
    },
    /// No complete answer within the configured timeout; the request may
    /// have been processed.
    Timeout {
        /// The operation.
        op: Operation,
        /// The configured timeout.
        after: Duration,
    },
    /// The connection broke after the request was sent; it may have been
    /// processed.
    ConnectionLost {
        /// The operation.
        op: Operation,
        /// The transport error.
        source: reqwest::Error,
    },
    /// An HTTP status other than 2xx.
    HttpStatus {
        /// The operation.
        op: Operation,
        /// The status code.
        status: u16,
        /// The start of the body.
        body: String,
        /// `Retry-After`, in seconds, when present.
        retry_after: Option<Duration>,
    },
    /// A 2xx answer whose body is not JSON (an HTML page, an empty body).
    NotJson {
        /// The operation.
        op: Operation,
        /// The HTTP status.
        status: u16,
        /// The start of the body (empty for an empty body).
        snippet: String,
    },
    /// JSON, but not the shape NicSRS documents (no `code`, wrong types,
    /// success without a `certId`, …).
    BadShape {
        /// The operation.
        op: Operation,
        /// What was wrong.
        detail: String,
        /// The start of the body.
        snippet: String,
    },
    /// NicSRS answered with an error code.
    Api {
        /// The operation.
        op: Operation,
        /// The response code.
        code: i64,
        /// The human explanation of the code (from [`codes::describe`]).
        message: String,
        /// Every error string; map entries as `"field: message"`.
        errors: Vec<String>,
        /// `msg`, when the answer had one.
        msg: Option<String>,
    },
}

impl Error {
    /// The operation that failed (none for [`Error::Config`]).
    pub fn operation(&self) -> Option<Operation> {
        match self {
            Error::Config { .. } => None,
            Error::NotSent { op, .. }
            | Error::Timeout { op, .. }
            | Error::ConnectionLost { op, .. }
            | Error::HttpStatus { op, .. }
            | Error::NotJson { op, .. }
            | Error::BadShape { op, .. }
            | Error::Api { op, .. } => Some(*op),
        }
    }

    /// Whether a renewal that failed this way may nevertheless have placed
    /// an order: true for timeouts, connections lost after sending, 5xx
    /// answers and garbled bodies on `renew`; false for everything that
    /// proves nothing was done, and for every other operation.
    pub fn may_have_placed_order(&self) -> bool {
        if self.operation() != Some(Operation::Renew) {
            return false;
        }
        match self {
            Error::Timeout { .. }
            | Error::ConnectionLost { .. }
            | Error::NotJson { .. }
            | Error::BadShape { .. } => true,
            // A redirect may come after the order was committed (303 See Other).
            Error::HttpStatus { status, .. } => *status >= 500 || (300..400).contains(status),
            Error::Config { .. } | Error::NotSent { .. } | Error::Api { .. } => false,
        }
    }

    /// The same error with `secret` masked in everything the server sent
    /// back: an echoing proxy or error page must not put the token into a
    /// diagnostic. Raw, URL-encoded and JSON-escaped forms are masked.
    pub fn scrubbed(self, secret: &str) -> Error {
        if secret.is_empty() {
            return self;
        }
        let forms = secret_forms(secret);
        let mask = |text: String| {
            forms
                .iter()
                .fold(text, |text, form| text.replace(form.as_str(), "***"))
        };
        match self {
            Error::HttpStatus {
                op,
                status,
                body,
                retry_after,
            } => Error::HttpStatus {
                op,
                status,
                body: mask(body),
                retry_after,
            },
            Error::NotJson {
                op,
                status,
                snippet,
            } => Error::NotJson {
                op,
                status,
                snippet: mask(snippet),
            },
            Error::BadShape {
                op,
                detail,
                snippet,
            } => Error::BadShape {
                op,
                detail: mask(detail),
                snippet: mask(snippet),
            },
            Error::Api {
                op,
                code,
                message,
                errors,
                msg,
            } => Error::Api {
                op,
                code,
                message,
                errors: errors.into_iter().map(mask).collect(),
                msg: msg.map(mask),
            },
            other => other,
        }
    }

    /// The response code of an API error.
    pub fn api_code(&self) -> Option<i64> {
        match self {
            Error::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Builds an API error from a code and its error strings.
    pub(crate) fn api(op: Operation, code: i64, errors: Vec<String>, msg: Option<String>) -> Self {
        Error::Api {
            op,
            code,
            message: codes::describe(code).meaning.to_string(),
            errors,
            msg,
        }
    }

    fn outcome_note(&self) -> &'static str {
        if self.operation() == Some(Operation::Renew) {
            if self.may_have_placed_order() {
                "; the renewal order MAY HAVE BEEN PLACED: look it up by refId before trying again"
            } else {
                "; no renewal order was placed"
            }
        } else {
            ""
        }
    }
}

/// The ways a secret can appear in an echoed request: as sent in the form
/// body (URL-encoded), raw, and escaped inside JSON.
fn secret_forms(secret: &str) -> Vec<String> {
    let url_encoded: String = secret
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                char::from(b).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect();
    let json_escaped = serde_json::to_string(secret)
        .map(|quoted| quoted.trim_matches('"').to_string())
        .unwrap_or_default();
    let mut forms = vec![url_encoded, secret.to_string(), json_escaped];
    forms.retain(|f| !f.is_empty());
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    forms
}

/// The first `max` characters of `s`, with an ellipsis when cut.
pub(crate) fn snippet(s: &str, max: usize) -> String {
    let mut out: String = s.chars().take(max).collect();
    if s.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Config { message } => write!(f, "NicSRS client configuration: {message}"),
            Error::NotSent { op, source } => write!(
                f,
                "NicSRS {op}: could not reach the API, nothing was sent ({})",
                describe_transport(source)
            ),
            Error::Timeout { op, after } => write!(
                f,
                "NicSRS {op}: no complete answer within {}s",
                after.as_secs_f64()
            ),
            Error::ConnectionLost { op, source } => write!(
                f,
                "NicSRS {op}: the connection was lost after the request was sent ({})",
                describe_transport(source)
            ),
            Error::HttpStatus {
                op, status, body, ..
            } if (300..400).contains(status) => write!(
                f,
                "NicSRS {op}: HTTP status {status}, a redirect, which is never followed (it would send \
                 the token and the request to another address); check base_url: {body:?}"
            ),
            Error::HttpStatus {
                op,
                status: 429,
                retry_after,
                ..
            } => {
                write!(f, "NicSRS {op}: HTTP status 429: NicSRS's rate limit was hit")?;
                if let Some(wait) = retry_after {
                    write!(f, " (it asked to wait {} s)", wait.as_secs())?;
                }
                f.write_str(". Apply again later, or lower terraform's -parallelism")
            }
            Error::HttpStatus {
                op, status, body, ..
            } => write!(f, "NicSRS {op}: HTTP status {status}: {body:?}"),
            Error::NotJson {
                op,
                status,
                snippet,
            } if snippet.trim().is_empty() => {
                write!(f, "NicSRS {op}: empty answer (HTTP {status})")
            }
            Error::NotJson {
                op,
                status,
                snippet,
            } => write!(
                f,
                "NicSRS {op}: the answer is not JSON (HTTP {status}): {snippet:?}"
            ),
            Error::BadShape {
                op,
                detail,
                snippet,
            } => write!(f, "NicSRS {op}: unexpected answer: {detail}: {snippet:?}"),
            Error::Api {
                op,
                code,
                message,
                errors,
                msg,
            } => {
                write!(f, "NicSRS {op} failed with code {code} ({message})")?;
                if !errors.is_empty() {
                    write!(f, ": {}", errors.join("; "))?;
                } else if let Some(m) = msg.as_deref().filter(|m| !m.is_empty()) {
                    write!(f, ": {m}")?;
                }
                // A new sentence: "…: balance too low. Top up the balance…".
                let mut advice = codes::describe(*code).advice.chars();
                if let Some(first) = advice.next() {
                    write!(f, ". {}{}", first.to_uppercase(), advice.as_str())?;
                }
                Ok(())
            }
        }?;
        f.write_str(self.outcome_note())
    }
}

/// The innermost cause of a transport error, which says more than reqwest's
/// own top line ("error sending request").
fn describe_transport(e: &reqwest::Error) -> String {
    let mut msg = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        msg = s.to_string();
        src = s.source();
    }
    msg
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::NotSent { source, .. } | Error::ConnectionLost { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_display_names_code_errors_and_outcome() {
        let e = Error::api(Operation::Renew, -4, vec!["balance".into()], None);
        let s = e.to_string();
        assert!(s.contains("code -4"), "{s}");
        assert!(s.contains("insufficient account balance"), "{s}");
        assert!(s.contains("no renewal order was placed"), "{s}");
        assert!(!e.may_have_placed_order());
    }

    #[test]
    fn outcome_depends_on_kind_and_operation() {
        let t = Error::Timeout {
            op: Operation::Renew,
            after: Duration::from_secs(5),
        };
        assert!(t.may_have_placed_order());
        assert!(t.to_string().contains("MAY HAVE BEEN PLACED"));
        let t2 = Error::Timeout {
            op: Operation::Collect,
            after: Duration::from_secs(5),
        };
        assert!(!t2.may_have_placed_order());
        let h = |status| Error::HttpStatus {
            op: Operation::Renew,
            status,
            body: String::new(),
            retry_after: None,
        };
        assert!(h(502).may_have_placed_order());
        assert!(!h(429).may_have_placed_order());
    }

    #[test]
    fn snippet_cuts_on_characters() {
        assert_eq!(snippet("héllo", 2), "hé…");
        assert_eq!(snippet("hi", 5), "hi");
    }
}
