//! Bad input through a real Terraform: one representative rule (a bad value
//! makes `terraform apply` fail with a diagnostic Terraform quotes at the
//! offending line, and the sandbox never sees a request), Terraform's own
//! check of a required argument, and numbers only the wire can carry.
//! Every other rule is a row of the in-process table in
//! `src/tests/inprocess.rs`, which drives the provider over gRPC as
//! Terraform does, in milliseconds.

use crate::common::sandbox::{Sandbox, TOKEN};
use crate::common::{renewal_block, Workspace};

fn valid_config() -> String {
    renewal_block(
        "web",
        "1234567",
        &[
            ("www.example.com", "CNAME_CSR_HASH"),
            ("example.com", "EMAIL"),
        ],
        "",
    )
}

/// Runs `terraform apply` on the valid config with `from` replaced by `to`
/// against a fresh sandbox, and checks the error's title, that Terraform
/// quotes `line`, and that no request reached the API.
#[track_caller]
fn assert_rejected(from: &str, to: &str, title: &str, line: &str) {
    let config = valid_config();
    assert!(
        config.contains(from),
        "test bug: {from:?} not in the config"
    );
    let sandbox = Sandbox::start(&["--seed-certificate", "1234567:30"]);
    let provider = format!(
        "provider \"nicsrs\" {{\n  api_token = \"{TOKEN}\"\n  base_url  = \"{}\"\n}}\n",
        sandbox.url
    );
    let ws = Workspace::new(&format!("{provider}{}", config.replacen(from, to, 1)))
        .with_csr(&["www.example.com", "example.com"]);
    let run = ws.terraform(&["apply", "-auto-approve"]).failure();
    let output = run.output();
    assert!(
        output.contains(&format!("Error: {title}")),
        "expected {title:?}:\n{output}"
    );
    assert!(
        output.contains(line),
        "the diagnostic should point at {line:?}:\n{output}"
    );
    assert_eq!(
        sandbox.get("/sandbox/requests"),
        serde_json::json!({"counts": {}}),
        "bad input must never reach the API"
    );
    // The changed text, on one line; long ones keep their start and end.
    let flat = to.split_whitespace().collect::<Vec<_>>().join(" ");
    let chars: Vec<char> = flat.chars().collect();
    let shown = match chars.len() {
        0 => "(argument removed)".to_string(),
        n if n > 70 => format!(
            "{} … {}",
            chars[..40].iter().collect::<String>(),
            chars[n - 26..].iter().collect::<String>()
        ),
        _ => flat,
    };
    crate::common::record(
        nicsrs_sandbox::reliability::Kind::BadInput,
        &format!("{title}: {shown}"),
        (0, sandbox.orders().len()),
        &[&output],
    );
}

/// The representative rejection: the whole path through a real Terraform.
#[test]
fn unknown_dcv_method() {
    assert_rejected(
        r#""CNAME_CSR_HASH""#,
        r#""DNS""#,
        "Invalid dcv_method",
        r#"dcv_method  = "DNS""#,
    );
}

#[test]
fn missing_administrator_field_is_reported_by_terraform() {
    assert_rejected(
        "    job          = \"CTO\"\n",
        "",
        "Missing required argument",
        "administrator {",
    );
}

#[test]
fn years_more_precise_than_a_float_can_hold() {
    for years in ["6.000000000000000000001", "1e400", "9007199254740993"] {
        assert_rejected(
            "years    = 1",
            &format!("years    = {years}"),
            "Number too precise",
            "years",
        );
    }
}
