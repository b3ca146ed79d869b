//! Logs as JSON lines on stderr in go-hclog's shape, which Terraform parses
//! and shows under `TF_LOG` / `TF_LOG_PROVIDER`.
//!
//! Secrets registered with [`redact`] are replaced in every line, as a last
//! line of defence: the code never logs the API token on purpose.

use std::io::Write;
use std::sync::{OnceLock, RwLock};

use log::{Level, LevelFilter, Log, Metadata, Record};

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());
static LOGGER: OnceLock<JsonLogger> = OnceLock::new();

/// Registers a value that must never appear in a log line.
pub fn redact(secret: &str) {
    if secret.is_empty() {
        return;
    }
    if let Ok(mut secrets) = SECRETS.write() {
        if !secrets.iter().any(|s| s == secret) {
            secrets.push(secret.to_string());
        }
    }
}

fn scrub(mut text: String) -> String {
    if let Ok(secrets) = SECRETS.read() {
        for secret in secrets.iter() {
            if text.contains(secret.as_str()) {
                text = text.replace(secret.as_str(), "***");
            }
        }
    }
    text
}

/// The level Terraform asked for: `TF_LOG_PROVIDER` over `TF_LOG`; an
/// unrecognised value means TRACE, as in Terraform itself.
pub fn level_from_env(provider: Option<&str>, global: Option<&str>) -> LevelFilter {
    let Some(value) = provider.or(global).filter(|v| !v.is_empty()) else {
        return LevelFilter::Off;
    };
    match value.to_ascii_uppercase().as_str() {
        "ERROR" => LevelFilter::Error,
        "WARN" => LevelFilter::Warn,
        "INFO" => LevelFilter::Info,
        "DEBUG" => LevelFilter::Debug,
        "OFF" => LevelFilter::Off,
        _ => LevelFilter::Trace,
    }
}

pub fn init(about: &crate::About) {
    let level = level_from_env(
        std::env::var("TF_LOG_PROVIDER").ok().as_deref(),
        std::env::var("TF_LOG").ok().as_deref(),
    );
    let logger = LOGGER.get_or_init(|| JsonLogger {
        module: format!("provider.{}", about.binary_name()),
        targets: about.log_targets,
    });
    if log::set_logger(logger).is_ok() {
        log::set_max_level(level);
    }
}

struct JsonLogger {
    /// The `@module` of our lines; Terraform prefixes it with the provider name.
    module: String,
    /// The provider's own code: shown from DEBUG on.
    targets: &'static [&'static str],
}

impl Log for JsonLogger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        // Libraries below us are chatty; their debug lines only help at TRACE.
        metadata.level() <= log::max_level()
            && (self
                .targets
                .iter()
                .any(|t| metadata.target().starts_with(t))
                // This crate's own lines (the handshake, serving) too.
                || metadata.target().starts_with(env!("CARGO_CRATE_NAME"))
                || metadata.level() <= Level::Info
                || log::max_level() == LevelFilter::Trace)
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            let line = format_line(
                &self.module,
                record.level(),
                record.target(),
                &record.args().to_string(),
            );
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "{line}");
        }
    }

    fn flush(&self) {}
}

/// One hclog JSON line. `@timestamp` needs exactly six fractional digits,
/// or Terraform shows the line as plain text.
pub fn format_line(module: &str, level: Level, target: &str, message: &str) -> String {
    let format = time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
    );
    let timestamp = time::OffsetDateTime::now_utc()
        .format(&format)
        .unwrap_or_default();
    serde_json::json!({
        "@level": level.as_str().to_ascii_lowercase(),
        "@message": scrub(message.to_string()),
        "@module": module,
        "@timestamp": timestamp,
        "target": target,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_the_hclog_keys_and_a_six_digit_timestamp() {
        let line = format_line(
            "provider.terraform-provider-x",
            Level::Debug,
            "x_provider::y",
            "hello",
        );
        let json: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(json["@level"], "debug");
        assert_eq!(json["@message"], "hello");
        assert_eq!(json["@module"], "provider.terraform-provider-x");
        let ts = json["@timestamp"].as_str().unwrap();
        let fraction = ts.split('.').nth(1).unwrap();
        assert_eq!(fraction.len(), "123456Z".len(), "{ts}");
    }

    #[test]
    fn registered_secrets_never_reach_a_line() {
        redact("s3cr3t-token-value");
        let line = format_line("m", Level::Info, "x", "calling with s3cr3t-token-value now");
        assert!(!line.contains("s3cr3t-token-value"));
        assert!(line.contains("***"));
    }

    #[test]
    fn provider_level_wins_and_unknown_means_trace() {
        assert_eq!(
            level_from_env(Some("debug"), Some("ERROR")),
            LevelFilter::Debug
        );
        assert_eq!(level_from_env(None, Some("whatever")), LevelFilter::Trace);
        assert_eq!(level_from_env(None, None), LevelFilter::Off);
    }
}
