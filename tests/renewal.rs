//! `nicsrs_certificate_renewal` through a real Terraform against the sandbox.

use serde_json::Value;

use crate::common::sandbox::Sandbox;
use crate::common::{Run, Workspace};

/// examples/certificate_renewal (every block, four domains using all four
/// DCV methods, no ref_id) with `years`, the method of api.example.com, and
/// `extra` arguments changed.
fn full_config(years: u32, api_method: &str, extra: &str) -> String {
    let example = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/examples/certificate_renewal/main.tf"
    ))
    .expect("the example");
    let replace = |text: String, from: &str, to: &str| {
        assert!(
            text.contains(from),
            "the example no longer contains {from:?}"
        );
        text.replacen(from, to, 1)
    };
    let config = replace(example, "years    = 1", &format!("years    = {years}"));
    let config = replace(
        config,
        r#"dcv_method  = "HTTPS_CSR_HASH""#,
        &format!(r#"dcv_method  = "{api_method}""#),
    );
    replace(
        config,
        r#"server   = "nginx""#,
        &format!("server   = \"nginx\"\n{extra}"),
    )
}

/// The example folder, with main.tf replaced by `config`.
fn workspace(sandbox: &Sandbox, config: &str) -> Workspace {
    let ws = Workspace::from_example("certificate_renewal", sandbox);
    ws.write("main.tf", config);
    ws
}

fn sandbox() -> Sandbox {
    Sandbox::start(&["--seed-certificate", "1234567:30"])
}

fn apply(ws: &Workspace) -> Run {
    ws.terraform(&["apply", "-auto-approve"]).success()
}

fn output(ws: &Workspace, name: &str) -> String {
    ws.terraform(&["output", "-raw", name])
        .success()
        .stdout
        .trim()
        .to_string()
}

#[test]
fn full_example_places_exactly_one_order_with_every_field_mapped() {
    let sandbox = sandbox();
    let ws = Workspace::from_example("certificate_renewal", &sandbox);
    let plan = ws.terraform(&["plan"]).success();
    assert!(
        plan.output()
            .contains("Applying places a paid renewal order"),
        "{}",
        plan.output()
    );
    assert!(plan.output().contains("1 year(s)"), "{}", plan.output());
    apply(&ws);

    let orders = sandbox.orders();
    assert_eq!(orders.len(), 1, "exactly one order: {orders:#?}");
    let order = &orders[0];
    assert_eq!(output(&ws, "cert_id"), order["cert_id"].as_str().unwrap());

    let form = &order["raw_form"];
    assert_eq!(
        form["api_token"], "***",
        "sent, and redacted by the sandbox's order log"
    );
    assert_eq!(form["renewId"], "1234567");
    assert_eq!(form["years"], "1");
    assert!(
        form["refId"].as_str().unwrap().starts_with("tf"),
        "generated refId: {form}"
    );
    let params: Value = serde_json::from_str(form["params"].as_str().unwrap()).unwrap();
    assert!(params["csr"]
        .as_str()
        .unwrap()
        .contains("BEGIN CERTIFICATE REQUEST"));
    assert_eq!(params["server"], "nginx");
    assert!(
        params.get("uniqueValue").is_none(),
        "unset optional fields are left out"
    );
    let domains = params["domainInfo"].as_array().unwrap();
    let methods: Vec<&str> = domains
        .iter()
        .map(|d| d["dcvMethod"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        ["CNAME_CSR_HASH", "EMAIL", "HTTP_CSR_HASH", "HTTPS_CSR_HASH"]
    );
    assert_eq!(domains[1]["dcvEmail"], "admin@example.com");
    assert!(domains[0].get("dcvEmail").is_none());
    assert_eq!(domains[3]["domainName"], "api.example.com");
    let org = &params["organizationInfo"];
    assert_eq!(org["organizationName"], "Example Ltd");
    assert_eq!(org["organizationPostCode"], "200000");
    let admin = &params["Administrator"];
    for (key, value) in [
        ("job", "CTO"),
        ("lastName", "Zhang"),
        ("firstName", "Nick"),
        ("postCode", "401320"),
        ("organization", "Example Ltd"),
        ("organation", "Example Ltd"),
    ] {
        assert_eq!(admin[key], value, "Administrator.{key}");
    }
    assert_eq!(params["finance"]["firstName"], "Li");
    assert!(params["finance"].get("lastName").is_none());
    assert_eq!(params["tech"]["organation"], "Example Ltd");

    let state = ws
        .terraform(&["state", "show", "nicsrs_certificate_renewal.web"])
        .success()
        .stdout;
    assert!(state.contains("status"), "{state}");
    assert!(
        !state.contains("sandbox-token"),
        "the token must never be in state"
    );
    ws.assert_no_changes();
}

#[test]
fn changing_dcv_method_updates_in_place_without_a_new_order() {
    let sandbox = sandbox();
    let ws = workspace(&sandbox, &full_config(1, "HTTPS_CSR_HASH", ""));
    apply(&ws);
    let cert_id = output(&ws, "cert_id");

    ws.write("main.tf", &full_config(1, "CNAME_CSR_HASH", ""));
    let plan = ws.terraform(&["plan"]).success().output();
    assert!(
        plan.contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
    assert!(!plan.contains("must be replaced"), "{plan}");
    // The new CNAME record is planned; the other domain's stays as it is.
    assert!(plan.contains(r#"+ "api.example.com""#), "{plan}");
    assert!(!plan.contains(r#"~ "example.com""#), "{plan}");
    apply(&ws);

    assert_eq!(sandbox.orders().len(), 1, "no new order");
    assert_eq!(output(&ws, "cert_id"), cert_id);
    let order = sandbox.order(&cert_id);
    let api = order["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain_name"] == "api.example.com")
        .unwrap()
        .clone();
    assert_eq!(api["dcv_method"], "CNAME_CSR_HASH", "{order:#}");
    ws.assert_no_changes();
}

#[test]
fn changing_years_replaces_with_exactly_one_new_order_and_warns() {
    let sandbox = sandbox();
    let ws = workspace(&sandbox, &full_config(1, "HTTPS_CSR_HASH", ""));
    apply(&ws);
    let first = output(&ws, "cert_id");

    ws.write("main.tf", &full_config(2, "HTTPS_CSR_HASH", ""));
    let plan = ws.terraform(&["plan"]).success().output();
    assert!(plan.contains("must be replaced"), "{plan}");
    assert!(
        plan.contains("Replacement places a new paid renewal order"),
        "{plan}"
    );
    apply(&ws);

    let orders = sandbox.orders();
    assert_eq!(orders.len(), 2, "exactly one new order");
    let second = output(&ws, "cert_id");
    assert_ne!(first, second);
    assert_eq!(sandbox.order(&second)["years"], 2);
    ws.assert_no_changes();
}

#[test]
fn destroy_forgets_by_default_and_cancels_on_request() {
    let sandbox = sandbox();
    let ws = workspace(&sandbox, &full_config(1, "HTTPS_CSR_HASH", ""));
    apply(&ws);
    let kept = output(&ws, "cert_id");
    let destroy = ws
        .terraform(&["destroy", "-auto-approve"])
        .success()
        .output();
    assert!(destroy.contains("Order kept at NicSRS"), "{destroy}");
    assert_eq!(sandbox.order(&kept)["status"], "PENDING");

    let ws = workspace(
        &sandbox,
        &full_config(1, "HTTPS_CSR_HASH", "  cancel_on_destroy = true"),
    );
    // The same renewal again: its derived refId finds the forgotten order,
    // which is adopted rather than bought twice.
    let adopted = apply(&ws).flat();
    assert!(
        adopted.contains("Existing order will be adopted"),
        "{adopted}"
    );
    let cancelled = output(&ws, "cert_id");
    assert_eq!(cancelled, kept);
    ws.terraform(&["destroy", "-auto-approve"]).success();
    assert_eq!(sandbox.order(&cancelled)["status"], "CANCELLED");
    assert_eq!(sandbox.orders().len(), 1);
}

#[test]
fn import_reads_every_argument_and_refuses_an_original_certificate() {
    let sandbox = sandbox();
    let first = workspace(&sandbox, &full_config(1, "HTTPS_CSR_HASH", ""));
    apply(&first);
    let cert_id = output(&first, "cert_id");

    // The matching configuration plans no changes: nothing to guess.
    let ws = workspace(&sandbox, &full_config(1, "HTTPS_CSR_HASH", ""));
    ws.terraform(&["import", "nicsrs_certificate_renewal.web", &cert_id])
        .success();
    // (Its outputs are new to this state, so the plan is read as JSON.)
    ws.terraform(&["plan", "-out=imported.plan"]).success();
    let plan: Value = serde_json::from_str(
        &ws.terraform(&["show", "-json", "imported.plan"])
            .success()
            .stdout,
    )
    .expect("plan JSON");
    let changes = plan["resource_changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "{changes:#?}");
    assert_eq!(
        changes[0]["change"]["actions"],
        serde_json::json!(["no-op"])
    );
    apply(&ws);
    assert_eq!(output(&ws, "cert_id"), cert_id);
    ws.assert_no_changes();

    // A configuration that differs shows exactly the difference: a method
    // changes in place; another renew_id is a replacement, with its cost.
    ws.write("main.tf", &full_config(1, "CNAME_CSR_HASH", ""));
    let plan = ws.terraform(&["plan"]).success().output();
    assert!(plan.contains(r#"-> "CNAME_CSR_HASH""#), "{plan}");
    assert!(
        plan.contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
    let other = full_config(1, "HTTPS_CSR_HASH", "").replacen(
        r#"default = "1234567""#,
        r#"default = "7654321""#,
        1,
    );
    ws.write("main.tf", &other);
    let plan = ws.terraform(&["plan"]).success().flat();
    assert!(plan.contains("must be replaced"), "{plan}");
    assert!(
        plan.contains(r#"~ renew_id = "1234567" -> "7654321" # forces replacement"#),
        "{plan}"
    );
    assert!(
        plan.contains("Replacement places a new paid renewal order"),
        "{plan}"
    );
    assert_eq!(sandbox.orders().len(), 1, "plans and imports order nothing");

    // The original certificate is not a renewal order.
    ws.write(
        "other.tf",
        &crate::common::renewal_block(
            "other",
            "1234567",
            &[("www.example.com", "CNAME_CSR_HASH")],
            "",
        ),
    );
    let refused = ws
        .terraform(&["import", "nicsrs_certificate_renewal.other", "1234567"])
        .failure()
        .flat();
    assert!(
        refused.contains("An original certificate cannot be imported"),
        "{refused}"
    );
    assert!(
        refused.contains(r#"renew_id = "1234567" instead"#),
        "{refused}"
    );
    // Naming another renewed certificate than NicSRS reports is refused.
    let mismatch = ws
        .terraform(&[
            "import",
            "nicsrs_certificate_renewal.other",
            &format!("{cert_id}:7654321"),
        ])
        .failure()
        .flat();
    assert!(
        mismatch.contains(&format!(
            "Order {cert_id} renews certificate 1234567, not 7654321"
        )),
        "{mismatch}"
    );
}

/// `import {}` + `-generate-config-out` (Terraform 1.5+) writes a
/// configuration that plans with no changes but the import itself.
#[test]
fn generated_configuration_of_an_import_plans_no_changes() {
    if crate::common::terraform_version() < (1, 5, 0) {
        eprintln!("import blocks need Terraform 1.5; covered by the run on the newest Terraform");
        return;
    }
    let sandbox = sandbox();
    let first = workspace(&sandbox, &full_config(1, "HTTPS_CSR_HASH", ""));
    apply(&first);
    let cert_id = output(&first, "cert_id");

    let ws = Workspace::new(&format!(
        "{}\nimport {{\n  to = nicsrs_certificate_renewal.web\n  id = \"{cert_id}\"\n}}\n",
        crate::common::sandbox::provider_block(&sandbox)
    ));
    let plan = ws
        .terraform(&["plan", "-generate-config-out=generated.tf"])
        .success()
        .flat();
    assert!(
        plan.contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
    let generated = std::fs::read_to_string(ws.path().join("generated.tf")).expect("generated.tf");
    for line in [
        r#"renew_id = "1234567""#,
        "years = 1",
        r#"server = "nginx""#,
        r#"dcv_email = "admin@example.com""#,
        r#"organization = "Example Ltd""#,
        r#"post_code = "200000""#,
    ] {
        let flat = generated.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(line), "{line:?} in:\n{generated}");
    }
    ws.terraform(&["apply", "-auto-approve"]).success();
    ws.assert_no_changes();
    assert_eq!(sandbox.orders().len(), 1, "importing orders nothing");
}

#[test]
fn api_errors_surface_with_the_apis_message() {
    let sandbox = sandbox();
    sandbox.set_faults(serde_json::json!([
        {"path": "/ssl/renew", "fault": "api_error", "code": -4, "errors": ["balance too low for this order"], "count": 1}
    ]));
    let ws = workspace(&sandbox, &full_config(1, "HTTPS_CSR_HASH", ""));
    let run = ws.terraform(&["apply", "-auto-approve"]).failure();
    let output = run.flat();
    assert!(output.contains("Renewal order failed"), "{output}");
    assert!(
        output.contains("code -4 (insufficient account balance)"),
        "{output}"
    );
    assert!(
        output.contains("balance too low for this order"),
        "{output}"
    );
    assert!(sandbox.orders().is_empty());
    let state = ws.terraform(&["state", "list"]);
    assert!(
        !state.stdout.contains("nicsrs_certificate_renewal.web"),
        "{}",
        state.output()
    );
}

#[test]
fn a_dropped_connection_after_the_order_is_adopted_by_ref_id() {
    let sandbox = sandbox();
    sandbox.set_faults(
        serde_json::json!([{"path": "/ssl/renew", "fault": "drop_after_commit", "count": 1}]),
    );
    let ws = workspace(&sandbox, &full_config(1, "HTTPS_CSR_HASH", ""));
    let run = apply(&ws);
    assert!(
        run.output().contains("Renewal order recovered"),
        "{}",
        run.output()
    );
    let orders = sandbox.orders();
    assert_eq!(orders.len(), 1, "no second order");
    assert_eq!(
        output(&ws, "cert_id"),
        orders[0]["cert_id"].as_str().unwrap()
    );
    ws.assert_no_changes();
}

#[test]
fn a_failing_lookup_before_ordering_places_nothing() {
    let sandbox = sandbox();
    sandbox.set_faults(serde_json::json!([
        {"path": "/ssl/certIdByrefId", "fault": "http500"}
    ]));
    let ws = workspace(
        &sandbox,
        &full_config(1, "HTTPS_CSR_HASH", "  ref_id = \"ci-web-2027\""),
    );
    let output = ws.terraform(&["apply", "-auto-approve"]).failure().flat();
    assert!(
        output.contains("Cannot check for an existing order"),
        "{output}"
    );
    assert!(
        output.contains("No order was placed. It is safe to apply again."),
        "{output}"
    );
    assert_eq!(sandbox.orders().len(), 0);
    assert_eq!(sandbox.request_count("/ssl/renew"), 0);
    sandbox.set_faults(serde_json::json!([]));
    apply(&ws);
    assert_eq!(sandbox.orders().len(), 1);
    ws.assert_no_changes();
}

#[test]
fn a_failing_follow_up_collect_still_saves_the_cert_id() {
    let sandbox = sandbox();
    sandbox.set_faults(serde_json::json!([{"path": "/ssl/collect", "fault": "http500"}]));
    let ws = workspace(&sandbox, &full_config(1, "HTTPS_CSR_HASH", ""));
    let run = apply(&ws);
    assert!(
        run.output().contains("Order details not known yet"),
        "{}",
        run.output()
    );
    let orders = sandbox.orders();
    assert_eq!(orders.len(), 1);
    assert_eq!(
        output(&ws, "cert_id"),
        orders[0]["cert_id"].as_str().unwrap()
    );
}

#[test]
fn an_order_the_api_no_longer_knows_is_dropped_from_state_with_a_warning() {
    let first = sandbox();
    let ws = workspace(&first, &full_config(1, "HTTPS_CSR_HASH", ""));
    apply(&ws);
    drop(first);
    // A fresh in-memory sandbox has never heard of the order.
    let second = sandbox();
    ws.write(
        "terraform.tfvars",
        &format!(
            "nicsrs_base_url  = \"{}\"\nnicsrs_api_token = \"sandbox-token\"\n",
            second.url
        ),
    );
    let plan = ws.terraform(&["plan"]).success();
    let output = plan.flat();
    assert!(
        output.contains("Renewal order no longer exists"),
        "{output}"
    );
    assert!(output.contains("1 to add"), "{output}");
}

#[test]
fn an_explicit_ref_id_makes_a_retry_after_lost_state_adopt_the_order() {
    let sandbox = sandbox();
    let config = full_config(1, "HTTPS_CSR_HASH", "  ref_id = \"ci-web-2027\"");
    let first = workspace(&sandbox, &config);
    apply(&first);
    let cert_id = output(&first, "cert_id");

    // A second working directory plays an apply whose state was lost.
    let retry = workspace(&sandbox, &config);
    let run = apply(&retry);
    assert!(
        run.flat().contains("Existing order adopted"),
        "{}",
        run.output()
    );
    assert_eq!(output(&retry, "cert_id"), cert_id);
    assert_eq!(sandbox.orders().len(), 1, "no second paid order");
}
