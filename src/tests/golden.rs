//! Golden files, checked on every run and rewritten with `UPDATE_GOLDEN=1`
//! (or `UPDATE_DOCS=1`, which refreshes every derived file):
//! - `tests/golden/schema.json`: the provider's schemas as
//!   `terraform providers schema -json` prints them, from `GetProviderSchema`
//!   in-process (an end-to-end test compares it with a real Terraform's);
//! - `tests/golden/diagnostics.md`: the title and detail of the warnings and
//!   errors the provider emits, each produced by a real in-process case,
//!   so a change of wording shows in review.
//!
//! And the stray-spaces bug class: no diagnostic text may hold a run of
//! spaces, or a line starting or ending with whitespace.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::json;

use super::inprocess::{bad_inputs, csr_for, provider_config, s, set, valid_renewal, Rig, RENEWAL};
use crate::provider::NicsrsProvider;
use nicsrs_sandbox::testkit::{self, Admin, SEED_ID};
use nicsrs_sandbox::SeedCertificate;
use tfplugin::testing::{errors, Harness};
use tfplugin::{Diagnostic, Severity, Value};

pub(crate) const SOURCE: &str = "registry.terraform.io/nicsrs/nicsrs";
const VALIDATION: &str = "nicsrs_certificate_validation";

fn golden(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Compares `text` with the golden file, or rewrites it when asked.
fn check_golden(name: &str, text: &str) {
    let path = golden(name);
    let update = ["UPDATE_GOLDEN", "UPDATE_DOCS"]
        .iter()
        .any(|v| std::env::var_os(v).is_some());
    if update {
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("create tests/golden");
        std::fs::write(&path, text).expect("write the golden file");
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current != text {
        let first = current
            .lines()
            .zip(text.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(current.lines().count().min(text.lines().count()));
        panic!(
            "{} differs from what the provider says now (first at line {}):\n  golden: {:?}\n  now:    {:?}\n\
             If the change is intended, run `UPDATE_GOLDEN=1 cargo test --lib golden` and commit the file.",
            path.display(),
            first + 1,
            current.lines().nth(first).unwrap_or("(end of file)"),
            text.lines().nth(first).unwrap_or("(end of file)"),
        );
    }
}

#[tokio::test]
async fn the_schema_matches_its_golden_file() {
    let harness = Harness::start(Arc::new(NicsrsProvider::new())).await;
    let text = serde_json::to_string_pretty(&harness.schema_json(SOURCE)).expect("JSON") + "\n";
    check_golden("schema.json", &text);
}

/// One case of the diagnostics file: what was done, and what it said.
struct Section {
    case: String,
    diagnostics: Vec<Diagnostic>,
}

fn section(case: impl Into<String>, diagnostics: Vec<Diagnostic>) -> Section {
    let case = case.into();
    assert!(
        !diagnostics.is_empty(),
        "{case}: the case produced no diagnostic"
    );
    Section { case, diagnostics }
}

/// Runs every case and collects what the provider said.
async fn collect() -> Vec<Section> {
    let mut out = Vec::new();
    let pem = csr_for(&["www.example.com", "example.com"]);

    // Validation of the renewal: every rule.
    let mut rig = Rig::start().await;
    for case in bad_inputs(&pem) {
        let mut config = valid_renewal(&pem);
        for (at, to) in &case.change {
            set(&mut config, at, to.clone());
        }
        let (diagnostics, _) = rig.check(&config).await;
        out.push(section(
            format!("renewal validation: {}", case.what),
            diagnostics,
        ));
    }
    let rolling: [(&str, Vec<(&str, Value)>); 2] = [
        (
            "renew_before_days = 0.5",
            vec![("renew_before_days", Value::Number(0.5))],
        ),
        (
            "renew_before_days with a chosen ref_id",
            vec![
                ("renew_before_days", Value::Number(30.0)),
                ("ref_id", s("web-1")),
            ],
        ),
    ];
    for (what, change) in rolling {
        let mut config = valid_renewal(&pem);
        for (at, to) in change {
            set(&mut config, at, to);
        }
        let (diagnostics, _) = rig.check(&config).await;
        out.push(section(format!("renewal validation: {what}"), diagnostics));
    }

    // Planning a create.
    let config = valid_renewal(&pem);
    let (diagnostics, _) = rig.check(&config).await;
    out.push(section("plan of a new renewal", diagnostics));
    Admin::new(&rig.sandbox)
        .faults(json!({"rules": [{"path": "/ssl/collect", "fault": "html", "count": 1}]}))
        .await;
    let (diagnostics, _) = rig.check(&config).await;
    out.push(section(
        "plan of a new renewal while /ssl/collect answers an HTML page",
        diagnostics,
    ));

    // Apply, then plans of changes and of a destroy.
    let plan = rig.harness.plan(RENEWAL, &Value::Null, &config, &[]).await;
    let created = rig
        .harness
        .apply(RENEWAL, &Value::Null, &plan, &config)
        .await;
    assert!(
        errors(&created.diagnostics).is_empty(),
        "{:?}",
        created.diagnostics
    );
    let state = created.state;
    let mut two_years = config.clone();
    set(&mut two_years, "years", Value::Number(2.0));
    let replaced = rig
        .harness
        .plan(RENEWAL, &state, &two_years, &created.private)
        .await;
    assert!(replaced.replaces());
    out.push(section(
        "plan of years = 1 → 2 (a replacement)",
        replaced.diagnostics,
    ));
    let destroy = rig.harness.plan(RENEWAL, &state, &Value::Null, &[]).await;
    out.push(section("plan of a destroy", destroy.diagnostics));
    let mut cancelling = config.clone();
    set(&mut cancelling, "cancel_on_destroy", Value::Bool(true));
    let plan = rig
        .harness
        .plan(RENEWAL, &state, &cancelling, &created.private)
        .await;
    let cancelling_state = rig
        .harness
        .apply(RENEWAL, &state, &plan, &cancelling)
        .await
        .state;
    let destroy = rig
        .harness
        .plan(RENEWAL, &cancelling_state, &Value::Null, &[])
        .await;
    out.push(section(
        "plan of a destroy with cancel_on_destroy = true",
        destroy.diagnostics,
    ));

    // A chosen ref_id kept through a replacement.
    let mut chosen = valid_renewal(&pem);
    set(&mut chosen, "ref_id", s("web-golden-1"));
    let plan = rig.harness.plan(RENEWAL, &Value::Null, &chosen, &[]).await;
    let chosen_state = rig
        .harness
        .apply(RENEWAL, &Value::Null, &plan, &chosen)
        .await
        .state;
    let mut chosen_two_years = chosen.clone();
    set(&mut chosen_two_years, "years", Value::Number(2.0));
    let plan = rig
        .harness
        .plan(RENEWAL, &chosen_state, &chosen_two_years, &[])
        .await;
    out.push(section(
        "plan of years = 1 → 2 with the same chosen ref_id",
        plan.diagnostics,
    ));

    // The API refuses the order.
    Admin::new(&rig.sandbox)
        .faults(
            json!({"rules": [{"path": "/ssl/renew", "fault": "api_error", "code": -4,
                        "errors": ["balance too low for this order"], "count": 1}]}),
        )
        .await;
    let mut other = valid_renewal(&pem);
    set(&mut other, "unique_value", s("golden4711"));
    let plan = rig.harness.plan(RENEWAL, &Value::Null, &other, &[]).await;
    let failed = rig
        .harness
        .apply(RENEWAL, &Value::Null, &plan, &other)
        .await;
    out.push(section(
        "apply when /ssl/renew answers code -4",
        failed.diagnostics,
    ));

    // Import of an order NicSRS does not know.
    let imported = rig.harness.import(RENEWAL, "9999999").await;
    out.push(section("import of an unknown order", imported.diagnostics));

    // The renewal window, by the sandbox's clock.
    let mut cfg = testkit::config();
    cfg.seed_certificates
        .push(SeedCertificate::new("1111111", 120));
    let sandbox = testkit::start(cfg).await;
    let mut harness = Harness::start(Arc::new(NicsrsProvider::new())).await;
    harness.configure(&provider_config(&sandbox)).await;
    let mut early = valid_renewal(&pem);
    set(&mut early, "renew_id", s("1111111"));
    let plan = harness.plan(RENEWAL, &Value::Null, &early, &[]).await;
    out.push(section(
        "plan of a renewal 120 days before expiry",
        plan.diagnostics,
    ));

    // The provider block.
    let mut harness = Harness::start(Arc::new(NicsrsProvider::new())).await;
    for (what, at, to) in [
        (
            "base_url = \"http://portal.nicsrs.com\"",
            "base_url",
            s("http://portal.nicsrs.com"),
        ),
        (
            "base_url = \"portal.nicsrs.com\"",
            "base_url",
            s("portal.nicsrs.com"),
        ),
        (
            "request_timeout_seconds = 0",
            "request_timeout_seconds",
            Value::Number(0.0),
        ),
    ] {
        let diagnostics = harness
            .validate_provider_config(&Value::object([(at, to)]))
            .await;
        out.push(section(format!("provider validation: {what}"), diagnostics));
    }
    let without_token = Value::object([("base_url", "http://127.0.0.1:9".into())]);
    harness.configure(&without_token).await;
    let plan = harness.plan(RENEWAL, &Value::Null, &config, &[]).await;
    let applied = harness.apply(RENEWAL, &Value::Null, &plan, &config).await;
    out.push(section("apply with no api_token", applied.diagnostics));
    let mut harness = Harness::start(Arc::new(NicsrsProvider::new())).await;
    harness
        .configure(&Value::object([("base_url", Value::Unknown)]))
        .await;
    let plan = harness.plan(RENEWAL, &Value::Null, &config, &[]).await;
    out.push(section(
        "plan with a base_url known only after apply",
        plan.diagnostics,
    ));

    // The validation resource.
    for (what, at, to) in [
        ("cert_id = \" \"", "cert_id", s(" ")),
        (
            "poll_interval_seconds = 0",
            "poll_interval_seconds",
            Value::Number(0.0),
        ),
        (
            "timeouts { create = \"soon\" }",
            "timeouts",
            Value::object([("create", s("soon"))]),
        ),
    ] {
        let mut config = Value::object([("cert_id", s(SEED_ID))]);
        config.set(at, to);
        let diagnostics = rig
            .harness
            .validate_resource_config(VALIDATION, &config)
            .await;
        out.push(section(format!("validation resource: {what}"), diagnostics));
    }
    more_cases(&mut out, &rig, &config, &cancelling_state, &state).await;
    out
}

/// Apply-time paths: an order adopted after a lost state, a waiter that
/// times out or is imported too early, an in-place DCV change and a cancel
/// that NicSRS refuses.
async fn more_cases(
    out: &mut Vec<Section>,
    rig: &Rig,
    config: &Value,
    cancelling_state: &Value,
    state: &Value,
) {
    // The state was lost: a new provider process plans and applies the
    // same renewal again, and finds its order.
    let mut fresh = Harness::start(Arc::new(NicsrsProvider::new())).await;
    fresh.configure(&provider_config(&rig.sandbox)).await;
    let plan = fresh.plan(RENEWAL, &Value::Null, config, &[]).await;
    out.push(section(
        "plan of a renewal whose order exists (the state was lost)",
        plan.diagnostics.clone(),
    ));
    let adopted = fresh.apply(RENEWAL, &Value::Null, &plan, config).await;
    out.push(section(
        "apply of a renewal whose order exists (the state was lost)",
        adopted.diagnostics,
    ));

    // The waiter: an order that is not issued within the timeout, and an
    // import of its waiter.
    let cert_id = state.get("cert_id").clone();
    let waiter = Value::object([
        ("cert_id", cert_id.clone()),
        ("timeouts", Value::object([("create", s("1s"))])),
    ]);
    let plan = fresh.plan(VALIDATION, &Value::Null, &waiter, &[]).await;
    let timed_out = fresh.apply(VALIDATION, &Value::Null, &plan, &waiter).await;
    out.push(section(
        "apply of a validation whose order is not issued within timeouts.create = \"1s\"",
        timed_out.diagnostics,
    ));
    let imported = fresh
        .import(VALIDATION, cert_id.as_str().unwrap_or_default())
        .await;
    out.push(section(
        "import of the validation of a pending order",
        imported.diagnostics,
    ));

    // An in-place change of a domain's method that NicSRS refuses.
    let admin = Admin::new(&rig.sandbox);
    admin
        .faults(
            json!({"rules": [{"path": "/ssl/updateDCV", "fault": "api_error", "code": -5,
                    "errors": ["order status does not allow this"], "count": 1}]}),
        )
        .await;
    let mut http = config.clone();
    if let Some(Value::List(domains)) = http.get_mut("domain_info") {
        domains[0].set("dcv_method", s("HTTP_CSR_HASH"));
    }
    let plan = fresh.plan(RENEWAL, state, &http, &adopted.private).await;
    let changed = fresh.apply(RENEWAL, state, &plan, &http).await;
    out.push(section(
        "apply of a dcv_method change that /ssl/updateDCV refuses",
        changed.diagnostics,
    ));

    // A destroy with cancel_on_destroy = true that NicSRS refuses (in a
    // process that has not adopted the order, as a later apply would be).
    let mut fresh = Harness::start(Arc::new(NicsrsProvider::new())).await;
    fresh.configure(&provider_config(&rig.sandbox)).await;
    admin
        .faults(
            json!({"rules": [{"path": "/ssl/cancel", "fault": "api_error", "code": -7,
                    "errors": ["certificate status does not allow this"], "count": 1}]}),
        )
        .await;
    let plan = fresh
        .plan(RENEWAL, cancelling_state, &Value::Null, &[])
        .await;
    let kept = fresh
        .apply(RENEWAL, cancelling_state, &plan, &Value::Null)
        .await;
    out.push(section(
        "destroy with cancel_on_destroy = true when /ssl/cancel refuses",
        kept.diagnostics,
    ));
}

fn render(sections: &[Section]) -> String {
    let mut text = String::from(
        "# What the provider says\n\n\
         The title and detail of each warning and error, as produced by the in-process case named in \
         the heading (`src/tests/golden.rs`). Checked by `cargo test --lib golden`; after an \
         intended change of wording, run `UPDATE_GOLDEN=1 cargo test --lib golden` and commit this \
         file. Text from the sandbox (order numbers, dates) is shown as the case produced it.\n",
    );
    for section in sections {
        text.push_str(&format!("\n## {}\n", section.case));
        for d in &section.diagnostics {
            let severity = match d.severity {
                Severity::Error => "Error",
                Severity::Warning => "Warning",
            };
            let at = d
                .path
                .as_ref()
                .map_or(String::new(), |p| format!(" (at `{p}`)"));
            text.push_str(&format!(
                "\n**{severity}: {}**{at}\n\n```text\n{}\n```\n",
                stable(&d.summary),
                stable(&d.detail)
            ));
        }
    }
    text
}

/// Replaces the certificate ids the sandbox makes up for each order
/// (`260501gefghmzrsi`: a date and ten random letters) with `<cert_id>`, so
/// the file changes only with the wording.
fn stable(text: &str) -> String {
    let made_up = |word: &str| {
        word.len() == 16
            && word != SEED_ID
            && word[..6].chars().all(|c| c.is_ascii_digit())
            && word[6..].chars().all(|c| c.is_ascii_lowercase())
    };
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    for c in text.chars().chain(std::iter::once('\0')) {
        if c.is_ascii_alphanumeric() {
            word.push(c);
            continue;
        }
        // A fresh CSR each run: its derived refId and its CSR-hash DNS
        // record differ every time, the wording does not.
        let derived_ref_id = word.len() == 28
            && word.starts_with("tf")
            && word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let csr_hash = word.len() == 32 && word.chars().all(|c| c.is_ascii_hexdigit());
        out.push_str(if made_up(&word) {
            "<cert_id>"
        } else if derived_ref_id {
            "<ref_id>"
        } else if csr_hash {
            "<hash>"
        } else {
            &word
        });
        word.clear();
        if c != '\0' {
            out.push(c);
        }
    }
    out
}

/// Lines of `text` with a run of spaces, or leading or trailing whitespace:
/// what a string continued over lines without a `\\` leaves behind.
fn stray_whitespace(text: &str) -> Vec<&str> {
    let mut bad: Vec<&str> = text
        .lines()
        .filter(|line| line.contains("  ") || line.trim() != *line)
        .collect();
    if text.trim().is_empty() {
        bad.push(text);
    }
    bad
}

#[tokio::test]
async fn every_diagnostic_text_matches_its_golden_file_and_has_no_stray_spaces() {
    let sections = collect().await;
    let mut bad = Vec::new();
    for section in &sections {
        for d in &section.diagnostics {
            for (part, text) in [("title", &d.summary), ("detail", &d.detail)] {
                for line in stray_whitespace(text) {
                    bad.push(format!("{}: {part} line {line:?}", section.case));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "diagnostic text with stray whitespace (a `\\` missing at a line end of a string?):\n{}",
        bad.join("\n")
    );
    check_golden("diagnostics.md", &render(&sections));
}

#[test]
fn stray_whitespace_is_found() {
    let continued_without_backslash = "Changing years replaces the order.
                      Only dcv_method changes in place.";
    assert_eq!(
        stray_whitespace(continued_without_backslash),
        vec!["                      Only dcv_method changes in place."]
    );
    assert_eq!(stray_whitespace("two  spaces"), vec!["two  spaces"]);
    assert_eq!(stray_whitespace("trailing "), vec!["trailing "]);
    assert_eq!(stray_whitespace(""), vec![""]);
    assert!(stray_whitespace("One line.\nAnother line.").is_empty());
}

#[test]
fn made_up_cert_ids_are_replaced_by_a_placeholder() {
    assert_eq!(
        stable("order 260501gefghmzrsi renews 260101seedaaaaaa, not 6.000000000000000000001."),
        "order <cert_id> renews 260101seedaaaaaa, not 6.000000000000000000001."
    );
}
