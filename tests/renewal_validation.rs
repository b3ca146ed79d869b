//! One real-Terraform check per rule of the renew call: a bad value makes
//! `terraform apply` fail with a diagnostic on the offending attribute, and
//! the sandbox it points at never sees a request.

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

#[test]
fn the_valid_configuration_passes() {
    let ws = Workspace::new(&valid_config()).with_csr(&["www.example.com", "example.com"]);
    ws.terraform(&["validate"]).success();
}

#[test]
fn years_out_of_range() {
    assert_rejected(
        "years    = 1",
        "years    = 7",
        "Invalid years",
        "years    = 7",
    );
}

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
fn dcv_email_with_a_wrong_prefix() {
    assert_rejected(
        r#"dcv_email   = "admin@example.com""#,
        r#"dcv_email   = "info@example.com""#,
        "Invalid dcv_email",
        r#"dcv_email   = "info@example.com""#,
    );
}

#[test]
fn dcv_email_for_another_domain() {
    assert_rejected(
        r#"dcv_email   = "admin@example.com""#,
        r#"dcv_email   = "admin@other.org""#,
        "Invalid dcv_email",
        r#"dcv_email   = "admin@other.org""#,
    );
}

#[test]
fn unique_value_format() {
    assert_rejected(
        r#"server   = "nginx""#,
        "server   = \"nginx\"\n  unique_value = \"not-valid!\"",
        "Invalid unique_value",
        r#"unique_value = "not-valid!""#,
    );
}

#[test]
fn csr_that_is_not_pem() {
    assert_rejected(
        r#"file("${path.module}/web.csr")"#,
        r#""hello""#,
        "Invalid csr",
        r#"csr      = "hello""#,
    );
}

#[test]
fn csr_that_is_a_certificate() {
    assert_rejected(
        r#"file("${path.module}/web.csr")"#,
        r#""-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n""#,
        "Invalid csr",
        "csr      = \"-----BEGIN CERTIFICATE-----",
    );
}

#[test]
fn domain_not_covered_by_the_csr() {
    assert_rejected(
        r#"domain_name = "example.com""#,
        r#"domain_name = "api.example.com""#,
        "Domain not in the CSR",
        r#"domain_name = "api.example.com""#,
    );
}

#[test]
fn duplicate_domain_name() {
    assert_rejected(
        r#"domain_name = "example.com""#,
        r#"domain_name = "www.example.com""#,
        "Duplicate domain_name",
        r#"domain_name = "www.example.com""#,
    );
}

#[test]
fn country_that_is_not_iso_3166() {
    assert_rejected(
        r#""CN""#,
        r#""China""#,
        "Invalid country",
        r#"country      = "China""#,
    );
}

#[test]
fn malformed_email() {
    assert_rejected(
        r#""ops@example.com""#,
        r#""ops-at-example""#,
        "Invalid email",
        r#"email        = "ops-at-example""#,
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
fn values_from_other_resources_are_not_rejected_before_they_are_known() {
    let config =
        valid_config().replacen(r#"years    = 1"#, "years    = length(random_thing.x.id)", 1);
    // An unknown value cannot be produced without another provider here, so
    // use a variable without default: validate treats it as unknown.
    let config = config.replace("length(random_thing.x.id)", "var.years");
    let ws = Workspace::new(&format!("variable \"years\" {{ type = number }}\n{config}"))
        .with_csr(&["www.example.com", "example.com"]);
    ws.terraform(&["validate"]).success();
}

#[test]
fn file_validation_of_a_wildcard() {
    let config = valid_config()
        .replacen(
            r#"domain_name = "example.com""#,
            r#"domain_name = "*.example.com""#,
            1,
        )
        .replacen(
            r#"dcv_method  = "EMAIL""#,
            r#"dcv_method  = "HTTP_CSR_HASH""#,
            1,
        );
    let ws = Workspace::new(&config).with_csr(&["www.example.com", "*.example.com"]);
    let run = ws.terraform(&["validate"]).failure();
    let output = run.flat();
    assert!(
        output.contains("Error: Method cannot validate this domain"),
        "{output}"
    );
    assert!(
        output.contains(r#"dcv_method = "HTTP_CSR_HASH""#),
        "{output}"
    );
}

#[test]
fn a_server_platform_nicsrs_does_not_know_is_refused() {
    assert_rejected(
        r#"server   = "nginx""#,
        r#"server   = "NGINX""#,
        "Invalid server",
        r#"server   = "NGINX""#,
    );
}

/// Inputs that used to pass the plan and then fail at the API, or worse,
/// place an order that differs from the state: each is refused at plan.
#[test]
fn inputs_the_api_would_refuse_or_store_differently_are_refused_at_plan() {
    let pem = crate::common::csr_pem(&["www.example.com", "example.com"]);
    let heredoc = |text: &str| format!("csr      = <<-EOT\n{text}EOT\n");
    let csr_line = r#"csr      = file("${path.module}/web.csr")"#;
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            r#"renew_id = "1234567""#,
            r#"renew_id = "1234567\n""#.into(),
            "Invalid renew_id",
            "renew_id",
        ),
        (
            r#"renew_id = "1234567""#,
            r#"renew_id = " 1234567 ""#.into(),
            "Invalid renew_id",
            "renew_id",
        ),
        (
            r#"renew_id = "1234567""#,
            r#"renew_id = "R 1""#.into(),
            "Invalid renew_id",
            "renew_id",
        ),
        (
            r#"mobile       = "18111111111""#,
            r#"mobile       = "181-CALL-ME""#.into(),
            "Invalid mobile",
            "mobile",
        ),
        (
            r#"city         = "Shanghai""#,
            r#"city         = "Shang\u0007hai""#.into(),
            "Invalid city",
            "city",
        ),
        (
            r#"domain_name = "www.example.com""#,
            r#"domain_name = "bücher.example""#.into(),
            "Invalid domain_name",
            "xn--bcher-kva.example",
        ),
        (
            csr_line,
            heredoc(&format!("{pem}garbage\n")),
            "Invalid csr",
            "text after",
        ),
        (
            csr_line,
            heredoc(&pem.replace("BEGIN CERTIFICATE REQUEST", "BEGIN NONSENSE")),
            "Invalid csr",
            "NONSENSE",
        ),
    ];
    for (from, to, title, words) in cases {
        assert_rejected(from, &to, title, words);
    }
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
