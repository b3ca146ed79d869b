//! One intended renewal places exactly one order: interrupted applies,
//! lost state, flaky refreshes, late backends, replacements and shared
//! refIds, each through a real Terraform against the sandbox.

use std::time::Duration;

use serde_json::Value;

use crate::common::crash::{interrupt, wait_until, Kill};
use crate::common::sandbox::{provider_block, Sandbox};
use crate::common::{record, renewal_block, terraform_version, Workspace};
use nicsrs_sandbox::reliability::Kind::Fault;

/// How many renewals the crash matrix applies at once.
const FLEET: usize = 10;

fn renew_ids() -> Vec<String> {
    (1..=FLEET).map(|i| format!("{}", 3_000_000 + i)).collect()
}

/// A sandbox with every certificate of the fleet due for renewal, and `args`.
fn fleet_sandbox(args: &[&str]) -> Sandbox {
    let seeds: Vec<String> = renew_ids().iter().map(|id| format!("{id}:30")).collect();
    let mut all: Vec<&str> = Vec::new();
    for seed in &seeds {
        all.extend(["--seed-certificate", seed]);
    }
    all.extend_from_slice(args);
    Sandbox::start(&all)
}

/// `FLEET` renewals (one per certificate of [`fleet_sandbox`]), each with
/// `ref_id = "ci-<renew_id>"` when `chosen_ref_ids`.
fn fleet(sandbox: &Sandbox, chosen_ref_ids: bool) -> Workspace {
    let ids: Vec<String> = renew_ids().iter().map(|id| format!("\"{id}\"")).collect();
    let extra = format!(
        "  for_each = toset([{}])\n{}",
        ids.join(", "),
        if chosen_ref_ids {
            "  ref_id   = \"ci-${each.key}\"\n"
        } else {
            ""
        }
    );
    let config = format!(
        "{}\n{}",
        provider_block(sandbox),
        renewal_block(
            "fleet",
            "${each.key}",
            &[("www.example.com", "CNAME_CSR_HASH")],
            &extra
        )
    );
    Workspace::new(&config).with_csr(&["www.example.com"])
}

/// Every order placed, checked to be one per certificate of the fleet.
#[track_caller]
fn assert_one_order_per_renewal(sandbox: &Sandbox) -> Vec<Value> {
    let orders = sandbox.orders();
    let mut renewed: Vec<String> = orders
        .iter()
        .map(|o| o["renew_id"].as_str().unwrap_or_default().to_string())
        .collect();
    renewed.sort();
    assert_eq!(renewed, renew_ids(), "one order per renewal: {orders:#?}");
    orders
}

/// Applies the fleet against a sandbox that records each order and then
/// holds its answer, kills the run once every order is recorded, and
/// applies again, as a CI retry would.
fn crash_and_retry(kill: Kill, chosen_ref_ids: bool) {
    let sandbox = fleet_sandbox(&[
        "--fault",
        "/ssl/renew=delay_after_commit,delay_ms=8000,count=10",
    ]);
    let ws = fleet(&sandbox, chosen_ref_ids);
    let mut run = ws.spawn_terraform("killed", &["apply", "-auto-approve", "-parallelism=10"]);
    wait_until(
        "every order to be recorded",
        Duration::from_secs(120),
        || sandbox.orders().len() >= FLEET,
    );
    interrupt(&mut run, kill);
    let killed = ws.spawned_output("killed");
    assert!(
        ws.state_list().len() < FLEET,
        "{kill:?}: the interrupted apply should not have saved every renewal:\n{killed}"
    );

    let retry = ws.terraform(&["apply", "-auto-approve", "-parallelism=10"]);
    assert_eq!(
        retry.code,
        Some(0),
        "{kill:?}: the retry failed:\n{killed}\n{}",
        retry.output()
    );
    let orders = assert_one_order_per_renewal(&sandbox);
    let state = ws.state_list();
    assert_eq!(state.len(), FLEET, "{state:?}");
    assert_eq!(
        sandbox.request_count("/ssl/renew"),
        FLEET as u64,
        "the retry ordered nothing"
    );
    for order in &orders {
        let ref_id = order["ref_id"]
            .as_str()
            .expect("every order carries a refId");
        if chosen_ref_ids {
            assert_eq!(
                ref_id,
                format!("ci-{}", order["renew_id"].as_str().unwrap())
            );
        } else {
            assert!(ref_id.starts_with("tf") && ref_id.len() == 28, "{ref_id}");
        }
    }
    ws.assert_no_changes();
    let how = match kill {
        Kill::DoubleSigint => "double Ctrl-C to Terraform",
        Kill::SigkillTerraform => "SIGKILL to Terraform",
        Kill::SigkillProvider => "SIGKILL to the provider",
    };
    let mode = if chosen_ref_ids { "chosen" } else { "derived" };
    record(
        Fault,
        &format!("{how} once 10 orders are recorded, then apply again (ref_id {mode})"),
        (FLEET, orders.len()),
        &[&retry.output()],
    );
}

#[test]
fn crash_double_sigint_derived_ref_ids() {
    crash_and_retry(Kill::DoubleSigint, false);
}

#[test]
fn crash_double_sigint_chosen_ref_ids() {
    crash_and_retry(Kill::DoubleSigint, true);
}

#[test]
fn crash_sigkill_terraform_derived_ref_ids() {
    crash_and_retry(Kill::SigkillTerraform, false);
}

#[test]
fn crash_sigkill_terraform_chosen_ref_ids() {
    crash_and_retry(Kill::SigkillTerraform, true);
}

#[test]
fn crash_sigkill_provider_derived_ref_ids() {
    crash_and_retry(Kill::SigkillProvider, false);
}

#[test]
fn crash_sigkill_provider_chosen_ref_ids() {
    crash_and_retry(Kill::SigkillProvider, true);
}

#[test]
fn a_lost_state_file_adopts_every_order() {
    let sandbox = fleet_sandbox(&[]);
    let ws = fleet(&sandbox, false);
    ws.terraform(&["apply", "-auto-approve", "-parallelism=10"])
        .success();
    let before = assert_one_order_per_renewal(&sandbox);
    std::fs::remove_file(ws.path().join("terraform.tfstate")).expect("delete the state");

    let plan = ws.terraform(&["plan"]).success().flat();
    assert!(plan.contains("Existing order will be adopted"), "{plan}");
    assert!(
        !plan.contains("Applying places a paid renewal order"),
        "{plan}"
    );
    ws.terraform(&["apply", "-auto-approve", "-parallelism=10"])
        .success();
    let after = assert_one_order_per_renewal(&sandbox);
    assert_eq!(before.len(), after.len(), "0 new orders");
    assert_eq!(ws.state_list().len(), FLEET);
    ws.assert_no_changes();
    record(
        Fault,
        "state file deleted after an apply of 10, then apply again",
        (FLEET, after.len()),
        &[&plan],
    );
}

#[test]
fn collect_saying_not_found_during_a_refresh_orders_nothing() {
    for (code, message) in [
        (-1, "Order does not exist"),
        (-2, "Order does not exist or system busy, please retry"),
    ] {
        let sandbox = Sandbox::start(&["--seed-certificate", "1234567:30"]);
        let config = format!(
            "{}\n{}",
            provider_block(&sandbox),
            renewal_block(
                "web",
                "1234567",
                &[("www.example.com", "CNAME_CSR_HASH")],
                ""
            )
        );
        let ws = Workspace::new(&config).with_csr(&["www.example.com"]);
        ws.terraform(&["apply", "-auto-approve"]).success();
        let cert_id = sandbox.orders()[0]["cert_id"].as_str().unwrap().to_string();
        sandbox.set_faults(serde_json::json!([
            {"path": "/ssl/collect", "fault": "api_error", "code": code, "errors": [message], "count": 3}
        ]));
        let run = ws.terraform(&["apply", "-auto-approve"]).success().flat();
        assert!(
            run.contains("No changes") || run.contains("0 added"),
            "code {code}: {run}"
        );
        assert!(!run.contains("no longer exists"), "code {code}: {run}");
        if code == -1 {
            assert!(run.contains("kept in the state"), "{run}");
            assert!(run.contains(&cert_id), "{run}");
        }
        assert_eq!(sandbox.orders().len(), 1, "code {code}: 0 new orders");
        assert_eq!(sandbox.request_count("/ssl/renew"), 1);
        ws.assert_no_changes();
        record(
            Fault,
            &format!("collect answers code {code} (\"{message}\") 3 times during a refresh"),
            (1, sandbox.orders().len()),
            &[&run],
        );
    }
}

#[test]
fn a_backend_that_commits_late_yields_one_order() {
    let sandbox = Sandbox::start(&["--seed-certificate", "1234567:30"]);
    let config = format!(
        "{}\n{}",
        provider_block(&sandbox),
        renewal_block(
            "web",
            "1234567",
            &[("www.example.com", "CNAME_CSR_HASH")],
            ""
        )
    );
    let ws = Workspace::new(&config).with_csr(&["www.example.com"]);

    // Committed 3 s after the 504: found while the provider keeps looking.
    sandbox.set_faults(serde_json::json!([
        {"path": "/ssl/renew", "fault": "late_commit", "delay_ms": 3000, "count": 1}
    ]));
    let run = ws.terraform(&["apply", "-auto-approve"]).success().flat();
    assert!(run.contains("Renewal order recovered"), "{run}");
    assert_eq!(sandbox.orders().len(), 1);
    ws.assert_no_changes();
    record(
        Fault,
        "the backend records the order 3 s after answering 504",
        (1, sandbox.orders().len()),
        &[&run],
    );

    // Committed 40 s after the 504, past the provider's 30 s window: the
    // apply says so; the retry orders with the same refId, and the late
    // commit is then refused. One order.
    let second = Workspace::new(&config.replace("\"1234567\"", "\"7654321\""))
        .with_csr(&["www.example.com"]);
    sandbox.post(
        "/sandbox/certificates",
        serde_json::json!({"cert_id": "7654321", "days_left": 30}),
    );
    sandbox.set_faults(serde_json::json!([
        {"path": "/ssl/renew", "fault": "late_commit", "delay_ms": 40000, "count": 1}
    ]));
    let failed = second
        .terraform(&["apply", "-auto-approve"])
        .failure()
        .flat();
    assert!(failed.contains("Renewal order not confirmed"), "{failed}");
    assert!(failed.contains("Applying again is safe"), "{failed}");
    second.terraform(&["apply", "-auto-approve"]).success();
    std::thread::sleep(Duration::from_secs(12));
    let for_second: Vec<Value> = sandbox
        .orders()
        .into_iter()
        .filter(|o| o["renew_id"] == "7654321")
        .collect();
    assert_eq!(for_second.len(), 1, "{for_second:#?}");
    assert_eq!(sandbox.request_count("/ssl/renew"), 3);
    second.assert_no_changes();
    record(
        Fault,
        "the backend records the order 40 s after answering 504 (past the 30 s window), apply again",
        (1, for_second.len()),
        &[&failed],
    );
}

#[test]
fn rotating_the_csr_under_an_unchanged_chosen_ref_id_is_refused_at_plan() {
    let sandbox = Sandbox::start(&["--seed-certificate", "1234567:30"]);
    let config = format!(
        "{}\n{}",
        provider_block(&sandbox),
        renewal_block(
            "web",
            "1234567",
            &[("www.example.com", "CNAME_CSR_HASH")],
            "  ref_id = \"ci-web-1\"\n"
        )
    );
    let ws = Workspace::new(&config).with_csr(&["www.example.com"]);
    ws.terraform(&["apply", "-auto-approve"]).success();
    let lookups = sandbox.request_count("/ssl/certIdByrefId");
    ws.write("web.csr", &crate::common::csr_pem(&["www.example.com"]));
    let plan = ws.terraform(&["plan", "-refresh=false"]).failure().flat();
    assert!(plan.contains("A replacement needs a new ref_id"), "{plan}");
    assert!(plan.contains("\"ci-web-1\" names order"), "{plan}");
    assert_eq!(
        sandbox.request_count("/ssl/certIdByrefId"),
        lookups,
        "no lookup"
    );
    assert_eq!(sandbox.request_count("/ssl/renew"), 1, "no order");
    record(
        nicsrs_sandbox::reliability::Kind::BadInput,
        "CSR rotated under an unchanged chosen ref_id",
        (1, sandbox.orders().len()),
        &[&plan],
    );
}

#[test]
fn rotating_the_csr_with_a_derived_ref_id_orders_once_for_the_new_key() {
    let sandbox = Sandbox::start(&[
        "--seed-certificate",
        "1234567:30",
        "--auto-validate-after",
        "0",
    ]);
    let config = format!(
        "{}\n{}",
        provider_block(&sandbox),
        renewal_block(
            "web",
            "1234567",
            &[("www.example.com", "CNAME_CSR_HASH")],
            ""
        )
    );
    let ws = Workspace::new(&config).with_csr(&["www.example.com"]);
    ws.terraform(&["apply", "-auto-approve"]).success();
    let new_csr = crate::common::csr_pem(&["www.example.com"]);
    ws.write("web.csr", &new_csr);
    let plan = ws.terraform(&["plan"]).success().flat();
    assert!(plan.contains("must be replaced"), "{plan}");
    ws.terraform(&["apply", "-auto-approve"]).success();
    let orders = sandbox.orders();
    assert_eq!(orders.len(), 2, "exactly one new order");
    assert_ne!(orders[0]["ref_id"], orders[1]["ref_id"]);
    let newest = orders.iter().max_by_key(|o| o["seq"].as_u64()).unwrap();
    let certificate = newest["certificate"].as_str().expect("issued");
    assert_eq!(
        certificate_key(certificate),
        nicsrs::dcv::csr_public_key(&new_csr).unwrap(),
        "the issued certificate carries the new key"
    );
    ws.assert_no_changes();
}

fn certificate_key(pem: &str) -> Vec<u8> {
    use x509_parser::prelude::FromDer;
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("PEM");
    let (_, cert) =
        x509_parser::certificate::X509Certificate::from_der(&block.contents).expect("X.509");
    cert.tbs_certificate.subject_pki.raw.to_vec()
}

#[test]
fn two_resources_cannot_share_one_ref_id() {
    let sandbox = Sandbox::start(&[
        "--seed-certificate",
        "5555555:30",
        "--seed-certificate",
        "6666666:30",
    ]);
    let shared = "  ref_id = \"ci-shared\"\n";
    let config = format!(
        "{}\n{}\n{}",
        provider_block(&sandbox),
        renewal_block(
            "r5",
            "5555555",
            &[("www.example.com", "CNAME_CSR_HASH")],
            shared
        ),
        renewal_block(
            "r6",
            "6666666",
            &[("api.example.com", "CNAME_CSR_HASH")],
            shared
        )
    );
    let ws = Workspace::new(&config).with_csr(&["www.example.com", "api.example.com"]);
    let run = ws.terraform(&["apply", "-auto-approve"]).failure().flat();
    assert!(
        run.contains("ref_id used by two resources")
            || run.contains("ref_id names a different order"),
        "{run}"
    );
    assert_eq!(sandbox.orders().len(), 1, "one order, for one of them");
    assert_eq!(ws.state_list().len(), 1, "never two resources on one order");
    // A later apply does not share it either.
    let again = ws.terraform(&["apply", "-auto-approve"]).failure().flat();
    assert!(again.contains("ref_id names a different order"), "{again}");
    assert!(again.contains("domainName is"), "{again}");
    assert_eq!(sandbox.orders().len(), 1);
    assert_eq!(ws.state_list().len(), 1);
    record(
        nicsrs_sandbox::reliability::Kind::BadInput,
        "two resources with one ref_id",
        (1, sandbox.orders().len()),
        &[&run, &again],
    );
}

#[test]
fn cancel_on_destroy_warns_at_plan_and_create_before_destroy_orders_first() {
    let sandbox = Sandbox::start(&["--seed-certificate", "1234567:30"]);
    let config = |years: u32, lifecycle: &str| {
        format!(
            "{}\n{}",
            provider_block(&sandbox),
            renewal_block(
                "web",
                "1234567",
                &[("www.example.com", "CNAME_CSR_HASH")],
                &format!("  cancel_on_destroy = true\n{lifecycle}")
            )
            .replace("years    = 1", &format!("years    = {years}"))
        )
    };
    let ws = Workspace::new(&config(1, "")).with_csr(&["www.example.com"]);
    ws.terraform(&["apply", "-auto-approve"]).success();
    let old = sandbox.orders()[0]["cert_id"].as_str().unwrap().to_string();

    // A destroy plan says what destroy does (Terraform 1.3+ asks us).
    let destroy = ws.terraform(&["plan", "-destroy"]).success().flat();
    if terraform_version() >= (1, 3, 0) {
        assert!(
            destroy.contains(&format!("Destroy cancels order {old}")),
            "{destroy}"
        );
        assert!(destroy.contains("status PENDING"), "{destroy}");
    }

    // A replacement says it cancels, and recommends create_before_destroy.
    ws.write(
        "main.tf",
        &format!("{}\n{}", crate::common::PROVIDER_REQUIREMENT, config(2, "")),
    );
    let plan = ws.terraform(&["plan"]).success().flat();
    assert!(plan.contains(&format!("cancels order {old}")), "{plan}");
    assert!(plan.contains("create_before_destroy = true"), "{plan}");

    // With it, the new order exists before the old one is cancelled.
    let lifecycle = "  lifecycle {\n    create_before_destroy = true\n  }\n";
    ws.write(
        "main.tf",
        &format!(
            "{}\n{}",
            crate::common::PROVIDER_REQUIREMENT,
            config(2, lifecycle)
        ),
    );
    ws.terraform(&["apply", "-auto-approve"]).success();
    let orders = sandbox.orders();
    assert_eq!(orders.len(), 2);
    let old_order = orders
        .iter()
        .find(|o| o["cert_id"] == old.as_str())
        .unwrap();
    let new_order = orders
        .iter()
        .find(|o| o["cert_id"] != old.as_str())
        .unwrap();
    assert_eq!(old_order["status"], "CANCELLED");
    assert!(
        new_order["seq"].as_u64() < old_order["cancel_seq"].as_u64(),
        "placed {} before the cancel at {}",
        new_order["seq"],
        old_order["cancel_seq"]
    );
    ws.assert_no_changes();
}

#[test]
fn a_chosen_ref_id_known_only_after_apply_is_used_as_it_is() {
    let sandbox = Sandbox::start(&[
        "--seed-certificate",
        "5555555:30",
        "--seed-certificate",
        "6666666:30",
    ]);
    let config = format!(
        "{}\n{}\n{}",
        provider_block(&sandbox),
        renewal_block(
            "first",
            "5555555",
            &[("www.example.com", "CNAME_CSR_HASH")],
            ""
        ),
        renewal_block(
            "second",
            "6666666",
            &[("www.example.com", "CNAME_CSR_HASH")],
            "  ref_id = \"after-${nicsrs_certificate_renewal.first.cert_id}\"\n"
        )
    );
    let ws = Workspace::new(&config).with_csr(&["www.example.com"]);
    ws.terraform(&["apply", "-auto-approve"]).success();
    let orders = sandbox.orders();
    assert_eq!(orders.len(), 2);
    let first = orders.iter().find(|o| o["renew_id"] == "5555555").unwrap();
    let second = orders.iter().find(|o| o["renew_id"] == "6666666").unwrap();
    assert_eq!(
        second["ref_id"],
        format!("after-{}", first["cert_id"].as_str().unwrap())
    );
    ws.assert_no_changes();
}

/// `terraform apply -replace` (and taint) of a renewal whose order is
/// unchanged, and a replacement forced by a contact change: each plan holds
/// at apply, and orders are bought only where the user asked for a new one.
#[test]
fn replacements_buy_exactly_what_they_say() {
    let sandbox = Sandbox::start(&["--seed-certificate", "1234567:30"]);
    let config = |extra: &str, job: &str| {
        format!(
            "{}\n{}",
            provider_block(&sandbox),
            renewal_block(
                "web",
                "1234567",
                &[("www.example.com", "CNAME_CSR_HASH")],
                extra
            )
            .replace(
                r#"job          = "CTO""#,
                &format!(r#"job          = "{job}""#)
            )
        )
    };
    let ws = Workspace::new(&config("", "CTO")).with_csr(&["www.example.com"]);
    ws.terraform(&["apply", "-auto-approve"]).success();
    let first = sandbox.orders()[0]["cert_id"].as_str().unwrap().to_string();

    // Same content, destroy forgets: the order is adopted again, none bought.
    let replaced = ws
        .terraform(&[
            "apply",
            "-auto-approve",
            "-replace=nicsrs_certificate_renewal.web",
        ])
        .success()
        .flat();
    assert!(replaced.contains("Existing order adopted"), "{replaced}");
    assert!(
        replaced.contains("1 added, 0 changed, 1 destroyed"),
        "{replaced}"
    );
    assert_eq!(sandbox.orders().len(), 1, "no duplicate bought");
    assert_eq!(sandbox.order(&first)["status"], "PENDING");
    ws.assert_no_changes();

    // A contact change needs a new order: exactly one, and the plan holds.
    ws.write(
        "main.tf",
        &format!(
            "{}\n{}",
            crate::common::PROVIDER_REQUIREMENT,
            config("", "CEO")
        ),
    );
    ws.terraform(&["apply", "-auto-approve"]).success();
    assert_eq!(
        sandbox.orders().len(),
        2,
        "one new order for the new contact"
    );
    ws.assert_no_changes();

    // Same content, destroy cancels: the cancelled order cannot be adopted,
    // so exactly one new order is placed.
    let cancelling = config("  cancel_on_destroy = true\n", "CEO");
    ws.write(
        "main.tf",
        &format!("{}\n{}", crate::common::PROVIDER_REQUIREMENT, cancelling),
    );
    ws.terraform(&["apply", "-auto-approve"]).success();
    assert_eq!(
        sandbox.orders().len(),
        2,
        "switching cancel_on_destroy on orders nothing"
    );
    ws.terraform(&[
        "apply",
        "-auto-approve",
        "-replace=nicsrs_certificate_renewal.web",
    ])
    .success();
    let orders = sandbox.orders();
    assert_eq!(orders.len(), 3, "{orders:#?}");
    let cancelled = |orders: &[Value]| orders.iter().filter(|o| o["status"] == "CANCELLED").count();
    assert_eq!(cancelled(&orders), 1);
    ws.assert_no_changes();

    // create_before_destroy, same content, destroy cancels: the new object
    // adopts the live order first, so the destroy must not cancel it.
    let lifecycle =
        "  cancel_on_destroy = true\n  lifecycle {\n    create_before_destroy = true\n  }\n";
    ws.write(
        "main.tf",
        &format!(
            "{}\n{}",
            crate::common::PROVIDER_REQUIREMENT,
            config(lifecycle, "CEO")
        ),
    );
    let kept = ws
        .terraform(&[
            "apply",
            "-auto-approve",
            "-replace=nicsrs_certificate_renewal.web",
        ])
        .success()
        .flat();
    assert!(
        kept.contains("Order kept: its replacement holds it"),
        "{kept}"
    );
    let orders = sandbox.orders();
    assert_eq!(orders.len(), 3, "{orders:#?}");
    assert_eq!(cancelled(&orders), 1, "the live order was not cancelled");
    ws.assert_no_changes();
}
