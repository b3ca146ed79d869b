//! `nicsrs-sandbox`: a local NicSRS API simulator. Flags → `sandbox::Sandbox::start`;
//! prints one line, `listening on http://ADDR`, once it accepts connections.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use nicsrs_sandbox::{FaultRule, Sandbox, SandboxConfig, SeedCertificate};

const HELP: &str = "\
nicsrs-sandbox: a local simulator of the NicSRS SSL reseller API

USAGE:
    nicsrs-sandbox [OPTIONS]

Serves POST /ssl/renew, /ssl/collect, /ssl/certIdByrefId, /ssl/cancel and
/ssl/updateDCV with the real API's form encoding and JSON envelope, plus
sandbox-only endpoints under /sandbox/ (orders, clock, dns, http,
email/approve, certificates, faults, requests, health).
Prints `listening on http://ADDR` on stdout once it accepts connections.

OPTIONS:
    --listen ADDR              address to listen on [default: 127.0.0.1:0, a free port]
    --state FILE               persist orders, CA and clock in FILE (JSON, written
                               atomically); without it everything is in memory
    --now RFC3339              pin the clock (e.g. 2026-05-01T00:00:00Z); move it
                               later with POST /sandbox/clock
    --token TOKEN              accepted api_token; repeatable [default: sandbox-token]
    --seed-certificate ID:DAYS_LEFT[:BRAND[:VALIDATION]]
                               create an issued certificate expiring in DAYS_LEFT
                               days that renewals can name as renewId; BRAND is
                               sectigo (default) or digicert, VALIDATION dv
                               (default), ov or ev; repeatable
    --auto-validate-after N    validate every domain of a pending order after N
                               collect calls on it (0 = as soon as it is placed)
    --fault PATH=KIND[,count=N][,share=F][,delay_ms=M][,retry_after=S][,code=C]
                               inject a fault on PATH (/ssl/renew, or * for all
                               /ssl/ paths); KIND is http500, http502, http503,
                               http504, http429, html, malformed, empty, api_error,
                               delay, delay_after_commit or drop_after_commit;
                               repeatable
    --fault-seed N             seed of the RNG for share= faults [default: 0]
    -h, --help                 print this help
    -V, --version              print the version
";

fn parse_args(args: impl Iterator<Item = String>) -> Result<Option<SandboxConfig>, String> {
    let mut cfg = SandboxConfig {
        tokens: Vec::new(),
        ..SandboxConfig::default()
    };
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args.next().ok_or_else(|| format!("{name} needs a value")),
            }
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "-V" | "--version" => {
                return Err(format!("nicsrs-sandbox {}", env!("CARGO_PKG_VERSION")))
            }
            "--listen" => {
                let v = value("--listen")?;
                cfg.listen = v
                    .parse::<SocketAddr>()
                    .map_err(|e| format!("--listen {v:?}: {e} (expected IP:PORT)"))?;
            }
            "--state" => cfg.state_file = Some(PathBuf::from(value("--state")?)),
            "--now" => {
                let v = value("--now")?;
                let t =
                    time::OffsetDateTime::parse(&v, &time::format_description::well_known::Rfc3339)
                        .map_err(|e| {
                            format!(
                                "--now {v:?}: {e} (expected RFC 3339, e.g. 2026-05-01T00:00:00Z)"
                            )
                        })?;
                cfg.now = Some(t);
            }
            "--token" => cfg.tokens.push(value("--token")?),
            "--seed-certificate" => cfg
                .seed_certificates
                .push(SeedCertificate::parse(&value("--seed-certificate")?)?),
            "--auto-validate-after" => {
                let v = value("--auto-validate-after")?;
                cfg.auto_validate_after = Some(v.parse().map_err(|_| {
                    format!("--auto-validate-after {v:?}: expected a whole number")
                })?);
            }
            "--fault" => cfg
                .faults
                .rules
                .push(FaultRule::parse_flag(&value("--fault")?)?),
            "--fault-seed" => {
                let v = value("--fault-seed")?;
                cfg.faults.seed = v
                    .parse()
                    .map_err(|_| format!("--fault-seed {v:?}: expected a whole number"))?;
            }
            other => return Err(format!("unknown argument {other:?}; see --help")),
        }
    }
    Ok(Some(cfg))
}

#[tokio::main]
async fn main() -> ExitCode {
    let cfg = match parse_args(std::env::args().skip(1)) {
        Ok(Some(cfg)) => cfg,
        Ok(None) => {
            let _ = std::io::stderr().write_all(HELP.as_bytes());
            return ExitCode::SUCCESS;
        }
        Err(msg) if msg.starts_with("nicsrs-sandbox ") => {
            eprintln!("{msg}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("nicsrs-sandbox: {msg}");
            return ExitCode::from(2);
        }
    };
    let running = match Sandbox::start(cfg).await {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    {
        #[allow(
            clippy::print_stdout,
            reason = "the one stdout line that tells scripts and tests where the sandbox listens"
        )]
        {
            println!("listening on {}", running.url());
        }
        let _ = std::io::stdout().flush();
    }
    wait_for_signal().await;
    running.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<SandboxConfig>, String> {
        parse_args(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_fill_the_config() {
        let cfg = parse(&[
            "--listen",
            "127.0.0.1:0",
            "--state=/tmp/s.json",
            "--now",
            "2026-05-01T00:00:00Z",
            "--token",
            "a",
            "--token",
            "b",
            "--seed-certificate",
            "260101abcdefghij:30:digicert",
            "--auto-validate-after",
            "2",
            "--fault",
            "/ssl/renew=drop_after_commit,count=1",
            "--fault-seed",
            "7",
        ])
        .expect("valid")
        .expect("config");
        assert_eq!(cfg.listen.port(), 0);
        assert_eq!(cfg.state_file, Some(PathBuf::from("/tmp/s.json")));
        assert_eq!(cfg.now.map(|t| t.unix_timestamp()), Some(1_777_593_600));
        assert_eq!(cfg.tokens, ["a", "b"]);
        assert_eq!(cfg.seed_certificates[0].cert_id, "260101abcdefghij");
        assert_eq!(cfg.auto_validate_after, Some(2));
        assert_eq!((cfg.faults.seed, cfg.faults.rules.len()), (7, 1));
    }

    #[test]
    fn help_and_errors() {
        assert!(matches!(parse(&["--help"]), Ok(None)));
        for bad in [
            &["--listen"][..],
            &["--listen", "localhost"],
            &["--now", "yesterday"],
            &["--auto-validate-after", "-1"],
            &["--fault", "/ssl/renew=boom"],
            &["--bogus"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let default = parse(&[]).expect("ok").expect("config");
        assert!(
            default.tokens.is_empty(),
            "Sandbox::start falls back to sandbox-token"
        );
        assert!(HELP.contains("--seed-certificate"));
    }
}
