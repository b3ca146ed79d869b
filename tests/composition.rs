//! DNS composition: renewal → DNS records → validation → issued
//! certificate, in one real `terraform apply` against the sandbox.

use x509_parser::prelude::FromDer;

use crate::common::sandbox::Sandbox;
use crate::common::Workspace;

fn sandbox() -> Sandbox {
    Sandbox::start(&["--seed-certificate", "1234567:30"])
}

/// The example with a fresh CSR whose key the test keeps.
fn dns_example(sandbox: &Sandbox) -> (Workspace, rcgen::KeyPair) {
    let ws = Workspace::from_example("dns-cname-validation/sandbox", sandbox);
    let (pem, key) = nicsrs_sandbox::testkit::csr(&["example.com", "www.example.com"]);
    ws.write("web.csr", &pem);
    (ws, key)
}

/// examples/quickstart renewing certificate `renew_id`.
fn quickstart(sandbox: &Sandbox, renew_id: &str) -> Workspace {
    let ws = Workspace::from_example("quickstart", sandbox);
    ws.write(
        "terraform.tfvars",
        &format!("nicsrs_base_url = \"{}\"\nnicsrs_api_token = \"sandbox-token\"\nrenew_id = \"{renew_id}\"\n", sandbox.url),
    );
    ws
}

fn output(ws: &Workspace, name: &str) -> String {
    ws.terraform(&["output", "-raw", name]).success().stdout
}

fn public_key_of(pem: &str) -> Vec<u8> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("PEM");
    let (_, cert) =
        x509_parser::certificate::X509Certificate::from_der(&block.contents).expect("X.509");
    cert.public_key().subject_public_key.data.to_vec()
}

#[test]
fn one_apply_goes_from_renewal_to_issued_certificate_through_dns() {
    let sandbox = sandbox();
    let (ws, key) = dns_example(&sandbox);

    let plan = ws.terraform(&["plan"]).success().output();
    let dns_section = plan
        .split("+ dns_records")
        .nth(1)
        .expect("the plan shows dns_records");
    // One record per CNAME domain, keyed by domain name, before anything exists.
    assert!(dns_section.contains(r#"+ "example.com""#), "{plan}");
    assert!(dns_section.contains(r#"+ "www.example.com""#), "{plan}");
    assert!(plan.contains("2 to add"), "{plan}");

    let apply = ws.terraform(&["apply", "-auto-approve"]).success().output();
    assert!(apply.contains("published"), "the DNS step ran: {apply}");

    let cert_id = output(&ws, "cert_id");
    let order = sandbox.order(&cert_id);
    assert_eq!(order["status"], "COMPLETE", "{order:#}");
    assert_eq!(sandbox.orders().len(), 1);

    let pem = output(&ws, "certificate_pem");
    assert_eq!(
        public_key_of(&pem),
        key.public_key_raw(),
        "issued for the CSR's key"
    );
    assert!(!output(&ws, "not_after").is_empty());

    assert_eq!(output(&ws, "data_status"), "COMPLETE");
    let data_pem = output(&ws, "data_certificate_pem");
    assert_eq!(
        public_key_of(&data_pem),
        key.public_key_raw(),
        "the data source's PEM parses with the CSR's key"
    );

    let again = ws.terraform(&["plan", "-detailed-exitcode"]);
    assert_eq!(again.code, Some(0), "{}", again.output());

    // A longer timeout changes the waiter in place and keeps its certificate.
    let longer = ["-var", "validation_timeout=10m"];
    let update = ws
        .terraform(&[&["apply", "-auto-approve"][..], &longer[..]].concat())
        .success();
    assert!(
        update.output().contains("0 added, 1 changed, 0 destroyed"),
        "{}",
        update.output()
    );
    assert_eq!(output(&ws, "certificate_pem"), pem);
    let settled = ws.terraform(&[&["plan", "-detailed-exitcode"][..], &longer[..]].concat());
    assert_eq!(settled.code, Some(0), "{}", settled.output());
}

#[test]
fn a_wrong_dns_value_times_out_naming_the_domain_and_the_expected_record() {
    let sandbox = sandbox();
    let (ws, _) = dns_example(&sandbox);
    let run = ws.terraform(&[
        "apply",
        "-auto-approve",
        "-var",
        "dns_value_override=wrong.example.net",
        "-var",
        "validation_timeout=4s",
    ]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    let output = run.flat();
    assert!(
        output.contains("Timed out waiting for issuance"),
        "{output}"
    );

    let orders = sandbox.orders();
    assert_eq!(orders.len(), 1);
    let expected_value = orders[0]["dcv"]["DCVdnsValue"]
        .as_str()
        .expect("the order's DNS value");
    let host = orders[0]["dcv"]["DCVdnsHost"]
        .as_str()
        .expect("the order's DNS host");
    for domain in ["example.com", "www.example.com"] {
        let line = format!("{domain} (CNAME_CSR_HASH): expects a DNS CNAME record {host}.{domain} with value {expected_value}");
        assert!(output.contains(&line), "missing {line:?} in:\n{output}");
    }
    assert_eq!(orders[0]["status"], "PENDING");
    // The waiter stays in state (tainted), so the next apply waits again.
    let listed = ws.terraform(&["state", "list"]).success().stdout;
    assert!(
        listed.contains("nicsrs_certificate_validation.web"),
        "{listed}"
    );
}

#[test]
fn a_cancelled_order_fails_validation_naming_the_pending_domains() {
    let sandbox = sandbox();
    let ws = quickstart(&sandbox, "1234567");
    ws.terraform(&["apply", "-auto-approve"]).success();
    let cert_id = output(&ws, "cert_id");
    let cancelled = sandbox.api("/ssl/cancel", &[("certId", &cert_id), ("reason", "test")]);
    assert_eq!(cancelled["code"], 1, "{cancelled}");
    // A normal plan says so, not only -refresh-only.
    let plan = ws.terraform(&["plan"]).success().flat();
    assert!(
        plan.contains(&format!("Order {cert_id} is CANCELLED at NicSRS")),
        "{plan}"
    );

    ws.write(
        "validation.tf",
        "resource \"nicsrs_certificate_validation\" \"web\" {\n  cert_id = nicsrs_certificate_renewal.web.cert_id\n}\n",
    );
    let run = ws.terraform(&["apply", "-auto-approve"]);
    assert_eq!(run.code, Some(1), "{}", run.output());
    let output = run.flat();
    assert!(
        output.contains(&format!("Order {cert_id} is CANCELLED")),
        "{output}"
    );
    assert!(
        output.contains("Domains still pending validation"),
        "{output}"
    );
    assert!(
        output.contains("www.example.com (CNAME_CSR_HASH): expects a DNS CNAME record"),
        "{output}"
    );
}

/// Every value the plan shows as known is exactly what apply stores, on
/// every attribute of every resource (Terraform would otherwise reject the
/// result as inconsistent; this checks it independently, leaf by leaf).
#[test]
fn everything_known_at_plan_is_what_apply_stores() {
    let sandbox = sandbox();
    let (ws, _) = dns_example(&sandbox);
    ws.terraform(&["plan", "-out=tfplan"]).success();
    let plan: serde_json::Value =
        serde_json::from_str(&ws.terraform(&["show", "-json", "tfplan"]).success().stdout)
            .expect("plan JSON");
    ws.terraform(&["apply", "tfplan"]).success();
    let state: serde_json::Value =
        serde_json::from_str(&ws.terraform(&["show", "-json"]).success().stdout)
            .expect("state JSON");
    let applied = state["values"]["root_module"]["resources"]
        .as_array()
        .expect("resources");

    let mut checked = Vec::new();
    for change in plan["resource_changes"].as_array().expect("changes") {
        if change["mode"] != "managed" {
            continue;
        }
        let address = change["address"].as_str().expect("address");
        let after_apply = &applied
            .iter()
            .find(|r| r["address"] == address)
            .unwrap_or_else(|| panic!("{address} is not in the state"))["values"];
        compare_known(
            &change["change"]["after"],
            &change["change"]["after_unknown"],
            after_apply,
            address,
            &mut checked,
        );
    }
    for must in [
        "nicsrs_certificate_renewal.web.renew_id",
        "nicsrs_certificate_renewal.web.dcv_records[1].domain_name",
        "nicsrs_certificate_renewal.web.dcv_records[0].method",
        "nicsrs_certificate_renewal.web.domain_info[1].dcv_method",
        "nicsrs_certificate_validation.web.timeouts.create",
    ] {
        assert!(
            checked.iter().any(|c| c == must),
            "{must} was not compared; compared: {checked:#?}"
        );
    }
    let renewal = plan["resource_changes"]
        .as_array()
        .and_then(|changes| {
            changes
                .iter()
                .find(|c| c["address"] == "nicsrs_certificate_renewal.web")
        })
        .expect("the renewal is planned");
    let keys_planned = renewal["change"]["after"]["dns_records"]
        .as_object()
        .map(|m| m.len());
    assert_eq!(
        keys_planned,
        Some(2),
        "the dns_records keys are known at plan"
    );
}

fn compare_known(
    planned: &serde_json::Value,
    unknown: &serde_json::Value,
    applied: &serde_json::Value,
    path: &str,
    checked: &mut Vec<String>,
) {
    use serde_json::Value as J;
    if unknown == &J::Bool(true) {
        return;
    }
    match planned {
        J::Object(fields) => {
            let applied = applied
                .as_object()
                .unwrap_or_else(|| panic!("{path}: planned an object, stored {applied}"));
            // Terraform leaves unknown attributes out of the plan's `after`;
            // anything stored beyond the planned keys must have been unknown.
            for key in applied.keys().filter(|k| !fields.contains_key(*k)) {
                assert_eq!(
                    unknown[key],
                    J::Bool(true),
                    "{path}.{key}: stored but neither planned nor unknown"
                );
            }
            for (key, value) in fields {
                compare_known(
                    value,
                    &unknown[key],
                    &applied[key],
                    &format!("{path}.{key}"),
                    checked,
                );
            }
        }
        J::Array(items) => {
            let applied = applied
                .as_array()
                .unwrap_or_else(|| panic!("{path}: planned a list, stored {applied}"));
            assert_eq!(items.len(), applied.len(), "{path}: length differs");
            for (i, item) in items.iter().enumerate() {
                compare_known(
                    item,
                    &unknown[i],
                    &applied[i],
                    &format!("{path}[{i}]"),
                    checked,
                );
            }
        }
        known => {
            assert_eq!(
                known, applied,
                "{path}: planned {known}, apply stored {applied}"
            );
            checked.push(path.to_string());
        }
    }
}

/// `dcv_records` says, for every method, exactly what the CA checks: each
/// record published as given validates its domain, and a refresh then
/// reports every domain verified.
#[test]
fn dcv_records_of_every_method_validate_the_order() {
    let sandbox = sandbox();
    let ws = Workspace::from_example("certificate_renewal", &sandbox);
    ws.terraform(&["apply", "-auto-approve"]).success();
    let cert_id = output(&ws, "cert_id");
    let records: serde_json::Value = serde_json::from_str(
        &ws.terraform(&["output", "-json", "dcv_records"])
            .success()
            .stdout,
    )
    .expect("JSON");
    let records = records.as_array().expect("a list");
    assert_eq!(records.len(), 4);

    for record in records {
        let answer = match record["method"].as_str().expect("method") {
            "CNAME_CSR_HASH" => {
                assert_eq!(record["type"], "CNAME");
                sandbox.post(
                    "/sandbox/dns",
                    serde_json::json!({"name": record["name"], "type": record["type"], "value": record["value"]}),
                )
            }
            "HTTP_CSR_HASH" | "HTTPS_CSR_HASH" => {
                let url = record["url"].as_str().expect("url");
                let scheme = if record["method"] == "HTTPS_CSR_HASH" {
                    "https://"
                } else {
                    "http://"
                };
                assert!(url.starts_with(scheme), "{record}");
                assert!(url.ends_with(record["file_path"].as_str().expect("file_path")));
                sandbox.post(
                    "/sandbox/http",
                    serde_json::json!({"url": url, "content": record["file_content"]}),
                )
            }
            "EMAIL" => {
                assert_eq!(record["email"], "admin@example.com");
                sandbox.post(
                    "/sandbox/email/approve",
                    serde_json::json!({"certId": cert_id, "domainName": record["domain_name"]}),
                )
            }
            other => panic!("unexpected method {other}"),
        };
        assert_eq!(
            answer["accepted"], true,
            "{record} was not accepted: {answer}"
        );
        assert_eq!(record["verified"], false);
    }
    assert_eq!(sandbox.order(&cert_id)["status"], "COMPLETE");

    ws.terraform(&["apply", "-refresh-only", "-auto-approve"])
        .success();
    let refreshed: serde_json::Value = serde_json::from_str(
        &ws.terraform(&["output", "-json", "dcv_records"])
            .success()
            .stdout,
    )
    .expect("JSON");
    assert!(
        refreshed
            .as_array()
            .expect("a list")
            .iter()
            .all(|r| r["verified"] == true),
        "{refreshed:#}"
    );
    let settled = ws.terraform(&["plan", "-detailed-exitcode"]);
    assert_eq!(settled.code, Some(0), "{}", settled.output());
}

#[test]
fn digicert_orders_ask_for_txt_records() {
    let sandbox = Sandbox::start(&["--seed-certificate", "7654321:20:digicert"]);
    let ws = quickstart(&sandbox, "7654321");
    ws.terraform(&["apply", "-auto-approve"]).success();
    let records: serde_json::Value = serde_json::from_str(
        &ws.terraform(&["output", "-json", "dns_records"])
            .success()
            .stdout,
    )
    .expect("JSON");
    let apex = &records["example.com"];
    assert_eq!(apex["type"], "TXT", "{records:#}");
    assert_eq!(apex["name"], "_dnsauth.example.com");
    let answer = sandbox.post(
        "/sandbox/dns",
        serde_json::json!({"name": apex["name"], "type": "TXT", "value": apex["value"]}),
    );
    assert_eq!(answer["accepted"], true, "{answer}");
}

/// The sandbox DNS example with the DNS step done as a DNS provider's
/// records are: one `terraform_data` per entry of `dns_records`
/// (`for_each`), and the waiter depending on them; no provisioner on the
/// renewal. `terraform_data` exists from Terraform 1.4.
fn with_dns_records_as_resources(ws: &Workspace) {
    let main = std::fs::read_to_string(ws.path().join("main.tf")).expect("main.tf");
    let start = main
        .find("  provisioner \"local-exec\" {")
        .expect("the example publishes its records from a provisioner");
    let end = start
        + main[start..]
            .find("\n  }\n")
            .expect("end of the provisioner")
        + "\n  }\n".len();
    let without = format!("{}{}", &main[..start], &main[end..]);
    let waiter = "resource \"nicsrs_certificate_validation\" \"web\" {\n";
    assert!(without.contains(waiter), "the example has the waiter");
    let records = r#"resource "terraform_data" "dns_record" {
  for_each = nicsrs_certificate_renewal.web.dns_records
  input    = each.value

  provisioner "local-exec" {
    command = "python3 ${path.module}/create_dns_records.py"
    environment = {
      SANDBOX_URL = var.nicsrs_base_url
      DNS_RECORDS = jsonencode({ (each.key) = self.input })
    }
  }
}

"#;
    let config = without.replacen(
        waiter,
        &format!("{records}{waiter}  depends_on = [terraform_data.dns_record]\n"),
        1,
    );
    ws.write("main.tf", &config);
}

#[test]
fn dns_records_drive_for_each_resources_from_plan_to_issued_certificate() {
    if crate::common::terraform_version() < (1, 4, 0) {
        eprintln!("terraform_data needs Terraform 1.4; covered by the run on the newest Terraform");
        return;
    }
    let sandbox = sandbox();
    let (ws, key) = dns_example(&sandbox);
    with_dns_records_as_resources(&ws);
    let plan = ws.terraform(&["plan"]).success().flat();
    // for_each keys are known at plan time: one record resource per domain.
    assert!(
        plan.contains(r#"terraform_data.dns_record["example.com"] will be created"#),
        "{plan}"
    );
    assert!(
        plan.contains(r#"terraform_data.dns_record["www.example.com"] will be created"#),
        "{plan}"
    );
    assert!(plan.contains("4 to add"), "{plan}");

    ws.terraform(&["apply", "-auto-approve"]).success();
    let cert_id = output(&ws, "cert_id");
    assert_eq!(sandbox.order(&cert_id)["status"], "COMPLETE");
    assert_eq!(sandbox.orders().len(), 1);
    assert_eq!(
        public_key_of(&output(&ws, "certificate_pem")),
        key.public_key_raw()
    );
    ws.assert_no_changes();
}
