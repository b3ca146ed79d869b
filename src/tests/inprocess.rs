//! Validation and planning of `nicsrs_certificate_renewal` and of the
//! provider block, driven over gRPC in-process ([`tfplugin::testing`])
//! exactly as Terraform drives them: one table row per rule, in
//! milliseconds. What needs a real Terraform (its own checks, the wire
//! from a real binary, lifecycles, crashes) stays in `tests/`, with one
//! representative rejection per Terraform version.

use std::sync::Arc;

use crate::provider::NicsrsProvider;
use nicsrs_sandbox::reliability::{Kind, Row};
use nicsrs_sandbox::testkit::{self, Admin, SEED_ID};
use nicsrs_sandbox::{RunningSandbox, SeedCertificate};
use tfplugin::testing::{errors, Harness, Planned};
use tfplugin::{AttributePath, Diagnostic, Severity, Value};

pub(crate) const RENEWAL: &str = "nicsrs_certificate_renewal";

/// A valid renewal of [`SEED_ID`] for `www.example.com` (CNAME) and
/// `example.com` (EMAIL), with a CSR for both.
pub(crate) fn valid_renewal(csr: &str) -> Value {
    let domain = |name: &str, method: &str, email: Option<&str>| {
        Value::object([
            ("domain_name", name.into()),
            ("dcv_method", method.into()),
            ("dcv_email", Value::opt_string(email)),
        ])
    };
    Value::object([
        ("renew_id", SEED_ID.into()),
        ("years", Value::Number(1.0)),
        ("csr", csr.into()),
        ("server", "nginx".into()),
        (
            "domain_info",
            Value::List(vec![
                domain("www.example.com", "CNAME_CSR_HASH", None),
                domain("example.com", "EMAIL", Some("admin@example.com")),
            ]),
        ),
        (
            "administrator",
            Value::object([
                ("job", "CTO".into()),
                ("city", "Shanghai".into()),
                ("email", "ops@example.com".into()),
                ("state", "Shanghai".into()),
                ("mobile", "18111111111".into()),
                ("address", "1 Example Road".into()),
                ("country", "CN".into()),
                ("last_name", "Zhang".into()),
                ("post_code", "401320".into()),
                ("first_name", "Nick".into()),
                ("organization", "Example Ltd".into()),
            ]),
        ),
    ])
}

pub(crate) fn csr_for(names: &[&str]) -> String {
    testkit::csr(names).0
}

/// Sets the value at a dotted path (`domain_info.1.dcv_email`).
pub(crate) fn set(value: &mut Value, path: &str, to: Value) {
    let mut at = value;
    let steps: Vec<&str> = path.split('.').collect();
    for (i, step) in steps.iter().enumerate() {
        let last = i + 1 == steps.len();
        at = match (step.parse::<usize>(), at) {
            (Ok(index), Value::List(items)) => &mut items[index],
            (Err(_), object @ Value::Object(_)) if last => {
                object.set(step, to);
                return;
            }
            (Err(_), object @ Value::Object(_)) => object
                .get_mut(step)
                .unwrap_or_else(|| panic!("test bug: no {step:?} in {path}")),
            (_, other) => panic!("test bug: cannot step {step:?} into {other:?}"),
        };
    }
    *at = to;
}

pub(crate) fn path(text: &str) -> AttributePath {
    let mut out = AttributePath::default();
    for step in text.split('.') {
        out = match step.parse::<usize>() {
            Ok(index) => out.index(index),
            Err(_) => out.attribute(step),
        };
    }
    out
}

/// A provider served in-process and configured for a fresh sandbox.
pub(crate) struct Rig {
    pub harness: Harness,
    pub sandbox: RunningSandbox,
}

impl Rig {
    pub async fn start() -> Rig {
        let sandbox = testkit::start(testkit::config()).await;
        let mut harness = Harness::start(Arc::new(NicsrsProvider::new())).await;
        let diagnostics = harness.configure(&provider_config(&sandbox)).await;
        assert!(errors(&diagnostics).is_empty(), "{diagnostics:?}");
        Rig { harness, sandbox }
    }

    /// What `terraform apply` does up to the first error: validate the
    /// block, then plan its creation. The diagnostics of the step that
    /// stopped it, and the plan if there was one.
    pub async fn check(&mut self, config: &Value) -> (Vec<Diagnostic>, Option<Planned>) {
        let diagnostics = self.harness.validate_resource_config(RENEWAL, config).await;
        if !errors(&diagnostics).is_empty() {
            return (diagnostics, None);
        }
        let plan = self.harness.plan(RENEWAL, &Value::Null, config, &[]).await;
        let mut all = diagnostics;
        all.extend(plan.diagnostics.clone());
        (all, Some(plan))
    }

    pub async fn requests(&self) -> serde_json::Value {
        Admin::new(&self.sandbox)
            .get("/sandbox/requests")
            .await
            .get("counts")
            .cloned()
            .unwrap_or_default()
    }
}

pub(crate) fn provider_config(sandbox: &RunningSandbox) -> Value {
    Value::object([
        ("api_token", nicsrs_sandbox::DEFAULT_TOKEN.into()),
        ("base_url", sandbox.url().into()),
    ])
}

/// One bad input: the change, and the error it must give where.
pub(crate) struct Case {
    pub what: &'static str,
    pub change: Vec<(&'static str, Value)>,
    pub title: &'static str,
    pub at: &'static str,
    /// Words the detail must contain.
    pub detail: &'static str,
}

fn case(
    what: &'static str,
    change: Vec<(&'static str, Value)>,
    title: &'static str,
    at: &'static str,
    detail: &'static str,
) -> Case {
    Case {
        what,
        change,
        title,
        at,
        detail,
    }
}

pub(crate) fn s(text: &str) -> Value {
    Value::string(text)
}

/// Every rule of the renew call, one row each. The `what` column is the
/// scenario name in docs/reliability.md.
pub(crate) fn bad_inputs(pem: &str) -> Vec<Case> {
    let heredoc_garbage = format!("{pem}garbage\n");
    let nonsense = pem.replace("BEGIN CERTIFICATE REQUEST", "BEGIN NONSENSE");
    let leak = |t: String| -> &'static str { Box::leak(t.into_boxed_str()) };
    vec![
        case(
            "years = 7",
            vec![("years", Value::Number(7.0))],
            "Invalid years",
            "years",
            "1",
        ),
        case(
            "years = 0",
            vec![("years", Value::Number(0.0))],
            "Invalid years",
            "years",
            "1",
        ),
        case(
            "years = 1.5",
            vec![("years", Value::Number(1.5))],
            "Invalid years",
            "years",
            "whole",
        ),
        case(
            "years = 6.000000000000000000001",
            vec![("years", Value::Decimal("6.000000000000000000001".into()))],
            "Number too precise",
            "years",
            "6.000000000000000000001",
        ),
        case(
            "dcv_method = \"DNS\"",
            vec![("domain_info.0.dcv_method", s("DNS"))],
            "Invalid dcv_method",
            "domain_info.0.dcv_method",
            "CNAME_CSR_HASH",
        ),
        case(
            "dcv_email = \"info@example.com\"",
            vec![("domain_info.1.dcv_email", s("info@example.com"))],
            "Invalid dcv_email",
            "domain_info.1.dcv_email",
            "admin@, administrator@",
        ),
        case(
            "dcv_email = \"admin@other.org\"",
            vec![("domain_info.1.dcv_email", s("admin@other.org"))],
            "Invalid dcv_email",
            "domain_info.1.dcv_email",
            "example.com",
        ),
        case(
            "unique_value = \"not-valid!\"",
            vec![("unique_value", s("not-valid!"))],
            "Invalid unique_value",
            "unique_value",
            "not-valid!",
        ),
        case(
            "csr = \"hello\"",
            vec![("csr", s("hello"))],
            "Invalid csr",
            "csr",
            "PEM",
        ),
        case(
            "csr = a certificate",
            vec![(
                "csr",
                s("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
            )],
            "Invalid csr",
            "csr",
            "CERTIFICATE",
        ),
        case(
            "csr = the CSR with text after it",
            vec![("csr", s(leak(heredoc_garbage)))],
            "Invalid csr",
            "csr",
            "text after",
        ),
        case(
            "csr = a PEM block that is not a CSR",
            vec![("csr", s(leak(nonsense)))],
            "Invalid csr",
            "csr",
            "NONSENSE",
        ),
        case(
            "domain_name = \"api.example.com\" (not in the CSR)",
            vec![("domain_info.1.domain_name", s("api.example.com"))],
            "Domain not in the CSR",
            "domain_info.1.domain_name",
            "api.example.com",
        ),
        case(
            "domain_name = \"www.example.com\" twice",
            vec![("domain_info.1.domain_name", s("www.example.com"))],
            "Duplicate domain_name",
            "domain_info.1.domain_name",
            "www.example.com",
        ),
        case(
            "domain_name = \"bücher.example\"",
            vec![("domain_info.0.domain_name", s("bücher.example"))],
            "Invalid domain_name",
            "domain_info.0.domain_name",
            "xn--bcher-kva.example",
        ),
        case(
            "country = \"China\"",
            vec![("administrator.country", s("China"))],
            "Invalid country",
            "administrator.country",
            "CN",
        ),
        case(
            "email = \"ops-at-example\"",
            vec![("administrator.email", s("ops-at-example"))],
            "Invalid email",
            "administrator.email",
            "ops-at-example",
        ),
        case(
            "mobile = \"181-CALL-ME\"",
            vec![("administrator.mobile", s("181-CALL-ME"))],
            "Invalid mobile",
            "administrator.mobile",
            "",
        ),
        case(
            "city = \"Shang\\u0007hai\"",
            vec![("administrator.city", s("Shang\u{7}hai"))],
            "Invalid city",
            "administrator.city",
            "",
        ),
        case(
            "server = \"NGINX\"",
            vec![("server", s("NGINX"))],
            "Invalid server",
            "server",
            "nginx",
        ),
        case(
            "renew_id = \"1234567\\n\"",
            vec![("renew_id", s("1234567\n"))],
            "Invalid renew_id",
            "renew_id",
            "",
        ),
        case(
            "renew_id = \" 1234567 \"",
            vec![("renew_id", s(" 1234567 "))],
            "Invalid renew_id",
            "renew_id",
            "",
        ),
        case(
            "renew_id = \"R 1\"",
            vec![("renew_id", s("R 1"))],
            "Invalid renew_id",
            "renew_id",
            "",
        ),
        case(
            "dcv_method = \"HTTP_CSR_HASH\" for \"*.example.com\"",
            vec![
                ("domain_info.1.domain_name", s("*.example.com")),
                ("domain_info.1.dcv_method", s("HTTP_CSR_HASH")),
                ("domain_info.1.dcv_email", Value::Null),
                (
                    "csr",
                    s(leak(csr_for(&["www.example.com", "*.example.com"]))),
                ),
            ],
            "Method cannot validate this domain",
            "domain_info.1.dcv_method",
            "*.example.com",
        ),
    ]
}

#[tokio::test]
async fn every_bad_input_is_refused_at_its_attribute_before_any_api_call() {
    let mut rig = Rig::start().await;
    let pem = csr_for(&["www.example.com", "example.com"]);
    let cases = bad_inputs(&pem);
    assert!(cases.len() >= 20, "the table shrank");
    for case in cases {
        let mut config = valid_renewal(&pem);
        for (at, to) in &case.change {
            set(&mut config, at, to.clone());
        }
        let (diagnostics, _) = rig.check(&config).await;
        let found = errors(&diagnostics)
            .into_iter()
            .find(|d| d.summary == case.title)
            .unwrap_or_else(|| panic!("{}: no {:?} in {diagnostics:#?}", case.what, case.title));
        assert_eq!(
            found.path,
            Some(path(case.at)),
            "{}: the error must point at {}",
            case.what,
            case.at
        );
        assert!(
            found.detail.contains(case.detail),
            "{}: {:?} not in {:?}",
            case.what,
            case.detail,
            found.detail
        );
        let text: Vec<String> = diagnostics
            .iter()
            .map(|d| format!("{}\n{}", d.summary, d.detail))
            .collect();
        let text: Vec<&str> = text.iter().map(String::as_str).collect();
        Row::measure(
            Kind::BadInput,
            &format!("{}: {}", case.title, case.what),
            "in-process",
            (
                0,
                Admin::new(&rig.sandbox).placed_orders().await.len() as u64,
            ),
            nicsrs_sandbox::DEFAULT_TOKEN,
            &text,
        )
        .record();
    }
    assert_eq!(
        rig.requests().await,
        serde_json::json!({}),
        "bad input must never reach the API"
    );
}

#[tokio::test]
async fn the_valid_configuration_validates_and_plans_one_order() {
    let mut rig = Rig::start().await;
    let config = valid_renewal(&csr_for(&["www.example.com", "example.com"]));
    let (diagnostics, plan) = rig.check(&config).await;
    assert!(errors(&diagnostics).is_empty(), "{diagnostics:#?}");
    let plan = plan.expect("planned");
    assert!(
        diagnostics.iter().any(|d| d.severity == Severity::Warning
            && format!("{} {}", d.summary, d.detail).contains("places a paid renewal order")),
        "{diagnostics:#?}"
    );
    assert!(plan.planned.get("cert_id").is_unknown());
    assert_eq!(plan.planned.get("renew_id"), &Value::from(SEED_ID));
    let placed = Admin::new(&rig.sandbox).count("/ssl/renew").await;
    assert_eq!(placed, 0, "plans order nothing");
}

#[tokio::test]
async fn values_not_known_yet_are_not_judged() {
    let mut rig = Rig::start().await;
    let pem = csr_for(&["www.example.com", "example.com"]);
    for at in [
        "years",
        "csr",
        "renew_id",
        "server",
        "domain_info.1.dcv_email",
        "domain_info.0.domain_name",
        "administrator.country",
    ] {
        let mut config = valid_renewal(&pem);
        set(&mut config, at, Value::Unknown);
        let diagnostics = rig.harness.validate_resource_config(RENEWAL, &config).await;
        assert!(errors(&diagnostics).is_empty(), "{at}: {diagnostics:#?}");
    }
}

#[tokio::test]
async fn provider_block_validation_needs_no_token_and_points_at_the_bad_argument() {
    let mut harness = Harness::start(Arc::new(NicsrsProvider::new())).await;
    let without_token = Value::object([("base_url", "http://127.0.0.1:9".into())]);
    let diagnostics = harness.validate_provider_config(&without_token).await;
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");

    let cases = [
        (
            "base_url",
            s("http://portal.nicsrs.com"),
            "Invalid base_url",
            "unencrypted",
        ),
        (
            "base_url",
            s("portal.nicsrs.com"),
            "Invalid base_url",
            "https://",
        ),
        (
            "request_timeout_seconds",
            Value::Number(0.0),
            "Invalid request_timeout_seconds",
            "3600",
        ),
    ];
    for (at, to, title, words) in cases {
        let config = Value::object([(at, to.clone())]);
        let diagnostics = harness.validate_provider_config(&config).await;
        let found = errors(&diagnostics)
            .into_iter()
            .find(|d| d.summary == title)
            .unwrap_or_else(|| panic!("{at} = {to:?}: no {title:?} in {diagnostics:#?}"));
        assert_eq!(found.path, Some(path(at)));
        assert!(found.detail.contains(words), "{:?}", found.detail);
    }
}

/// The 90-day window at plan time, by NicSRS's clock (the sandbox's, years
/// after this machine's), with the switches on the resource and in the
/// provider block, and a failing lookup that only warns.
#[tokio::test]
async fn plans_check_the_renewal_window_by_nicsrs_clock() {
    let mut cfg = testkit::config();
    cfg.now = time::OffsetDateTime::parse(
        "2030-01-01T00:00:00Z",
        &time::format_description::well_known::Rfc3339,
    )
    .ok();
    cfg.seed_certificates = vec![
        SeedCertificate::new("1111111", 120),
        SeedCertificate::new("2222222", 60),
    ];
    let sandbox = testkit::start(cfg).await;
    let pem = csr_for(&["www.example.com", "example.com"]);
    let not_renewable = |diagnostics: &[Diagnostic]| {
        errors(diagnostics)
            .into_iter()
            .find(|d| d.summary == "Certificate not renewable yet")
            .cloned()
    };
    // (renew_id, switch on the resource, switch in the provider block, refused)
    let cases = [
        ("1111111", None, None, true),
        ("2222222", None, None, false),
        ("1111111", Some(false), None, false),
        ("1111111", None, Some(false), false),
        ("1111111", Some(true), Some(false), true),
    ];
    for (renew_id, on_resource, in_provider, refused) in cases {
        let what = format!("{renew_id}, resource {on_resource:?}, provider {in_provider:?}");
        let mut harness = Harness::start(Arc::new(NicsrsProvider::new())).await;
        let mut provider = provider_config(&sandbox);
        provider.set(
            "check_renewal_window",
            in_provider.map_or(Value::Null, Value::Bool),
        );
        assert!(errors(&harness.configure(&provider).await).is_empty());
        let mut config = valid_renewal(&pem);
        set(&mut config, "renew_id", s(renew_id));
        set(
            &mut config,
            "check_renewal_window",
            on_resource.map_or(Value::Null, Value::Bool),
        );
        let plan = harness.plan(RENEWAL, &Value::Null, &config, &[]).await;
        match (not_renewable(&plan.diagnostics), refused) {
            (Some(error), true) => {
                assert_eq!(error.path, Some(path("renew_id")), "{what}");
                for part in [
                    "Certificate 1111111 expires on 2030-05-01T00:00:00Z",
                    "NicSRS accepts its renewal from 2030-01-31T00:00:00Z on",
                    "by NicSRS's clock",
                ] {
                    assert!(error.detail.contains(part), "{what}: {part:?} in {error:?}");
                }
            }
            (None, false) => assert!(errors(&plan.diagnostics).is_empty(), "{what}: {plan:?}"),
            (found, _) => panic!("{what}: expected refused = {refused}, got {found:?}"),
        }
    }

    // A failing lookup (a maintenance page) warns, and the plan goes on.
    let admin = Admin::new(&sandbox);
    admin
        .faults(
            serde_json::json!({"rules": [{"path": "/ssl/collect", "fault": "html", "count": 1}]}),
        )
        .await;
    let mut harness = Harness::start(Arc::new(NicsrsProvider::new())).await;
    harness.configure(&provider_config(&sandbox)).await;
    let mut config = valid_renewal(&pem);
    set(&mut config, "renew_id", s("2222222"));
    let plan = harness.plan(RENEWAL, &Value::Null, &config, &[]).await;
    assert!(errors(&plan.diagnostics).is_empty(), "{plan:?}");
    assert!(
        plan.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Warning && d.summary == "Renewal window not checked"),
        "{plan:?}"
    );
    assert_eq!(admin.count("/ssl/renew").await, 0, "plans order nothing");
}
