//! `nicsrs_certificate_validation`: waits until an order is issued, the way
//! `aws_acm_certificate_validation` does. It creates nothing at NicSRS.

use std::sync::Arc;
use std::time::{Duration, Instant};

use nicsrs::codes;
use tfplugin::{
    Attribute, Block, Diagnostics, Field, Model, NestedBlock, Resource, Schema, Type, Value,
};

use super::models::{decode, Validation};
use super::{dcv, is_not_found, issued, refresh_order, validators, IfMissing, Refresh, Shared};

pub const TYPE_NAME: &str = "nicsrs_certificate_validation";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const DEFAULT_POLL_SECONDS: f64 = 30.0;
const FIRST_POLL_DELAY: Duration = Duration::from_secs(1);

pub struct CertificateValidation {
    shared: Arc<Shared>,
}

impl CertificateValidation {
    pub fn new(shared: Arc<Shared>) -> CertificateValidation {
        CertificateValidation { shared }
    }
}

pub fn schema() -> Schema {
    Schema::new(
        0,
        Block::new(
            "Waits until a NicSRS order is validated and issued, then exposes the certificate. Make it \
             depend on the DNS records (or files, or e-mail approvals) that validate the order. It \
             places nothing at NicSRS; destroying it only forgets the certificate.",
        )
        .attribute(
            Attribute::required("cert_id", Type::String, "The order to wait for, e.g. `nicsrs_certificate_renewal.web.cert_id`.")
                .requires_replace()
                .validate_with(validators::cert_id()),
        )
        .attribute(
            Attribute::optional(
                "poll_interval_seconds",
                Type::Number,
                "Longest pause between two status checks, in seconds (1 to 3600). Checks start after one \
                 second and back off up to this. Default 30.",
            )
            .validate_with(validators::seconds(1.0..=3600.0)),
        )
        .attribute(Attribute::computed("id", Type::String, "Same as `cert_id`.").use_state_for_unknown())
.attribute(
            Attribute::computed("status", Type::String, "The order status when issuance was seen (`COMPLETE`).")
                .use_state_for_unknown(),
        )
        .attributes(issued::certificate_attributes())
        .block(NestedBlock::single(
            "timeouts",
            Block::new("How long to wait.").attribute(Attribute::optional(
                "create",
                Type::String,
                "How long create waits for issuance, in Go's duration syntax: e.g. `45m`, `1h30m`, `1.5h`, \
                 `90s` (units `h`, `m`, `s`, `ms`, `us`, `ns`). Default `30m`.",
            )
            .validate_with(validators::duration())),
        )),
    )
}

#[tfplugin::async_trait]
impl Resource for CertificateValidation {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn identity(&self) -> &'static [&'static str] {
        &["cert_id"]
    }

    async fn create(
        &self,
        planned: &Value,
        _private: &[u8],
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let mut state: Validation = decode(planned, diags)?;
        let client = self.shared.client(diags)?;
        let cert_id = state.cert_id.known().cloned().unwrap_or_default();
        let timeout = state
            .timeouts
            .known()
            .and_then(|t| t.create.as_str())
            .and_then(|t| parse_duration(t).ok())
            .unwrap_or(DEFAULT_TIMEOUT);
        let longest_pause = Duration::from_secs_f64(
            state
                .poll_interval_seconds
                .known()
                .copied()
                .unwrap_or(DEFAULT_POLL_SECONDS),
        );
        state.id = Field::Known(cert_id.clone());
        match self
            .wait_for_issuance(&client, &cert_id, timeout, longest_pause, diags)
            .await
        {
            Ok(collected) => {
                state.status = collected.status.into();
                state.set_issued(issued::issued(&collected.data));
            }
            // The order exists but was not issued: keep the waiter in state
            // (Terraform marks it tainted) so the next apply waits again.
            Err(NotIssued::Yet { last_status }) => {
                state.status = last_status.into();
                state.set_issued(issued::issued(&nicsrs::CollectData::default()));
            }
            Err(NotIssued::NoSuchOrder) => return None,
        }
        Some(state.encode())
    }

    async fn read(&self, state: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let mut state: Validation = decode(state, diags)?;
        let client = self.shared.client(diags)?;
        let cert_id = state.cert_id.known().cloned().unwrap_or_default();
        match refresh_order(&client, &cert_id, "Order", IfMissing::Drop, diags).await {
            Refresh::Found(collected) => {
                state.status = collected.status.into();
                state.set_issued(issued::issued(&collected.data));
            }
            Refresh::Gone => return None,
            Refresh::Unreadable => {}
        }
        Some(state.encode())
    }

    /// Imports the waiter of an issued order (e.g. after a state was lost):
    /// it only exposes the certificate. An order not issued yet is refused,
    /// since an imported waiter would never wait.
    async fn import(&self, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let client = self.shared.client(diags)?;
        let cert_id = id.trim();
        let collected = match client.collect(cert_id).await {
            Ok(collected) => collected,
            Err(error) => {
                diags.error(
                    "Cannot import the validation",
                    format!("Reading order {cert_id:?} failed: {error}"),
                );
                return None;
            }
        };
        if collected.status.as_deref() != Some(codes::STATUS_COMPLETE) {
            diags.error(
                "Cannot import the validation of an order not issued",
                format!(
                    "Order {cert_id} has status {}: an imported {TYPE_NAME} would not wait for it. \
                     Leave it to Terraform to create (it waits for issuance), or import it once the \
                     order is COMPLETE.",
                    collected.status.as_deref().unwrap_or("unknown")
                ),
            );
            return None;
        }
        let mut state = Validation {
            cert_id: cert_id.into(),
            id: cert_id.into(),
            status: collected.status.clone().into(),
            ..Validation::default()
        };
        state.set_issued(issued::issued(&collected.data));
        Some(state.encode())
    }

    async fn update(
        &self,
        _prior: &Value,
        planned: &Value,
        _diags: &mut Diagnostics,
    ) -> Option<Value> {
        // Only `timeouts` and `poll_interval_seconds` change in place; they
        // matter to the next create alone.
        Some(planned.clone())
    }

    async fn delete(&self, _prior: &Value, _diags: &mut Diagnostics) {
        // NO-OP: validation created nothing at NicSRS; the order belongs to
        // its renewal resource.
    }
}

impl CertificateValidation {
    /// Polls `/ssl/collect` with backoff until the order is issued, fails,
    /// times out, or Terraform asks us to stop.
    async fn wait_for_issuance(
        &self,
        client: &nicsrs::Client,
        cert_id: &str,
        timeout: Duration,
        longest_pause: Duration,
        diags: &mut Diagnostics,
    ) -> Result<nicsrs::CollectResponse, NotIssued> {
        let deadline = Instant::now() + timeout;
        let mut pause = FIRST_POLL_DELAY.min(longest_pause);
        let mut stop = self.shared.stop_signal();
        let mut last: Option<nicsrs::CollectResponse> = None;
        loop {
            if *stop.borrow() {
                diags.error("Stopped", format!("Terraform asked to stop before order {cert_id} was issued; apply again to resume waiting."));
                return Err(NotIssued::Yet {
                    last_status: last.and_then(|c| c.status),
                });
            }
            match client.collect(cert_id).await {
                Ok(collected) => {
                    let status = collected.status.clone().unwrap_or_default();
                    if status == codes::STATUS_COMPLETE
                        && collected
                            .data
                            .certificate
                            .as_deref()
                            .is_some_and(|c| !c.trim().is_empty())
                    {
                        return Ok(collected);
                    }
                    if codes::FAILED_STATUSES.contains(&status.as_str()) {
                        diags.error(
                            "Order will not be issued",
                            format!("Order {cert_id} is {status}.{}", pending_report(&collected)),
                        );
                        return Err(NotIssued::Yet {
                            last_status: collected.status,
                        });
                    }
                    last = Some(collected);
                }
                Err(error) if is_not_found(&error) => {
                    diags.error(
                        "Order not found",
                        format!("NicSRS has no order {cert_id}: {error}"),
                    );
                    return Err(NotIssued::NoSuchOrder);
                }
                Err(error) => log::warn!("checking order {cert_id} failed, will retry: {error}"),
            }
            let now = Instant::now();
            if now >= deadline {
                let report = last.as_ref().map(pending_report).unwrap_or_default();
                diags.error(
                    "Timed out waiting for issuance",
                    format!(
                        "Order {cert_id} was not issued within {}.{report}\nCheck the records, then apply \
                         again (or raise timeouts {{ create = ... }}).",
                        format_duration(timeout)
                    ),
                );
                return Err(NotIssued::Yet {
                    last_status: last.and_then(|c| c.status),
                });
            }
            tokio::select! {
                _ = tokio::time::sleep(pause.min(deadline - now)) => {}
                _ = stop.changed() => {
                    diags.error("Stopped", format!("Waiting for order {cert_id} was interrupted; apply again to resume waiting."));
                    return Err(NotIssued::Yet { last_status: last.and_then(|c| c.status) });
                }
            }
            pause = (pause * 2).min(longest_pause);
        }
    }
}

/// Why waiting ended without a certificate.
enum NotIssued {
    /// The order exists; it failed, or was not issued in time.
    Yet {
        last_status: Option<String>,
    },
    NoSuchOrder,
}

/// Which domains still wait for validation, and what each one expects.
fn pending_report(collected: &nicsrs::CollectResponse) -> String {
    let domain_info = dcv::domain_info_of(&collected.data);
    let lines: Vec<String> = dcv::dcv_records(&domain_info, &collected.data)
        .iter()
        .filter(|r| r.verified.known() != Some(&true))
        .map(|r| {
            let text = |field: &Field<String>| field.as_str().unwrap_or("?").to_string();
            let expects = match r.method.as_str() {
                Some(dcv::DNS_METHOD) => format!(
                    "expects a DNS {} record {} with value {}",
                    text(&r.r#type),
                    text(&r.name),
                    text(&r.value)
                ),
                Some("EMAIL") => {
                    format!("expects approval of the e-mail sent to {}", text(&r.email))
                }
                _ => format!(
                    "expects the file {} containing {:?}",
                    text(&r.url),
                    text(&r.file_content)
                ),
            };
            format!(
                "\n- {} ({}): {expects}",
                text(&r.domain_name),
                text(&r.method)
            )
        })
        .collect();
    if lines.is_empty() {
        String::new()
    } else {
        format!("\nDomains still pending validation:{}", lines.concat())
    }
}

/// Durations in Go's syntax, as Terraform users write `timeouts`: a
/// sequence of decimal numbers, each with a unit (`h`, `m`, `s`, `ms`, `us`
/// or `µs`, `ns`): `45m`, `1h30m`, `1.5h`, `500ms`. A timeout must be
/// longer than zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    const EXAMPLES: &str =
        "write e.g. \"45m\", \"1h30m\", \"1.5h\" or \"500ms\" (units h, m, s, ms, us, ns)";
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(format!("the duration is empty; {EXAMPLES}."));
    }
    let not_positive =
        || format!("{text:?} is not longer than zero; a timeout must be, e.g. \"30m\".");
    let (negative, mut rest) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    if rest == "0" {
        return Err(not_positive());
    }
    let mut nanos = 0f64;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let (number, after) = rest.split_at(number_end);
        let value: f64 = match number.parse() {
            Ok(value) if !number.starts_with('.') || number.len() > 1 => value,
            _ => return Err(format!("{text:?} is not a duration; {EXAMPLES}.")),
        };
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        let per_unit = match unit {
            "h" => 3600e9,
            "m" => 60e9,
            "s" => 1e9,
            "ms" => 1e6,
            "us" | "µs" | "μs" => 1e3,
            "ns" => 1.0,
            "" => {
                return Err(format!(
                    "{text:?} has a number without a unit; write e.g. \"{number}m\" or \"{number}s\"."
                ))
            }
            _ => {
                return Err(format!(
                    "{text:?} uses the unit {unit:?}, which is not one of h, m, s, ms, us, ns; {EXAMPLES}."
                ))
            }
        };
        nanos += value * per_unit;
        rest = after;
    }
    if negative || nanos < 1.0 {
        return Err(not_positive());
    }
    Duration::try_from_secs_f64(nanos / 1e9)
        .map_err(|_| format!("{text:?} is too long for a timeout; {EXAMPLES}."))
}

fn format_duration(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        return format!("{}ms", d.as_millis());
    }
    let s = d.as_secs();
    match (s / 3600, (s % 3600) / 60, s % 60) {
        (0, 0, s) => format!("{s}s"),
        (0, m, 0) => format!("{m}m"),
        (h, 0, 0) => format!("{h}h"),
        (h, m, s) => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_terraform_timeouts() {
        for (text, expected) in [
            ("45m", Duration::from_secs(2700)),
            ("1h30m", Duration::from_secs(5400)),
            ("90s", Duration::from_secs(90)),
            ("1.5h", Duration::from_secs(5400)),
            ("500ms", Duration::from_millis(500)),
            ("2m0.5s", Duration::from_millis(120_500)),
            ("+10s", Duration::from_secs(10)),
            ("1500us", Duration::from_micros(1500)),
            ("1µs", Duration::from_micros(1)),
            (" 3h ", Duration::from_secs(10_800)),
        ] {
            assert_eq!(parse_duration(text), Ok(expected), "{text:?}");
        }
        for (bad, says) in [
            ("", "the duration is empty"),
            ("10", "number without a unit; write e.g. \"10m\""),
            ("m", "is not a duration"),
            (".m", "is not a duration"),
            ("1..5h", "is not a duration"),
            (
                "1d",
                "the unit \"d\", which is not one of h, m, s, ms, us, ns",
            ),
            ("-5m", "not longer than zero"),
            ("0s", "not longer than zero"),
            ("0", "not longer than zero"),
        ] {
            let problem = parse_duration(bad).expect_err(bad);
            assert!(problem.contains(says), "{bad:?}: {problem}");
        }
        assert_eq!(format_duration(Duration::from_secs(2700)), "45m");
        assert_eq!(format_duration(Duration::from_millis(500)), "500ms");
    }
}
