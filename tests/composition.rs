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
    let key = rcgen::KeyPair::generate().expect("key");
    let params = rcgen::CertificateParams::new(vec![
        "example.com".to_string(),
        "www.example.com".to_string(),
    ])
    .expect("names");
    ws.write(
        "web.csr",
        &params
            .serialize_request(&key)
            .expect("csr")
            .pem()
            .expect("pem"),
    );
    (ws, key)
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
}
