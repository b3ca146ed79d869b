//! Resource identity (Terraform 1.12 and later): `cert_id` identifies the
//! renewal and validation resources in the state, and
//! `import { identity = { cert_id = … } }` imports a renewal. Older
//! Terraform (1.0.3) never asks for identity and must see none.

use serde_json::{json, Value};

use crate::common::sandbox::{provider_block, Sandbox};
use crate::common::{renewal_block, terraform_version, Workspace};

/// The sandbox's "now"; certificates it issues are valid 47 days.
const NOW: &str = "2030-01-01T00:00:00Z";

fn identity_supported() -> bool {
    terraform_version() >= (1, 12, 0)
}

fn sandbox() -> Sandbox {
    Sandbox::start(&[
        "--now",
        NOW,
        "--seed-certificate",
        "1234567:30",
        "--seed-certificate",
        "7654321:30",
        "--auto-validate-after",
        "0",
    ])
}

fn renewal(sandbox: &Sandbox, renew_id: &str, method: &str, extra: &str) -> String {
    format!(
        "{}\n{}",
        provider_block(sandbox),
        renewal_block("web", renew_id, &[("www.example.com", method)], extra)
    )
}

const VALIDATION: &str = r#"
resource "nicsrs_certificate_validation" "web" {
  cert_id = nicsrs_certificate_renewal.web.cert_id
}
"#;

/// The identity Terraform stored for `address` (its one instance), with
/// the identity schema version; `None` when the state holds no identity.
fn stored_identity(ws: &Workspace, address: &str) -> Option<(Value, Value)> {
    let text = std::fs::read_to_string(ws.path().join("terraform.tfstate")).expect("state file");
    let state: Value = serde_json::from_str(&text).expect("state JSON");
    let (kind, name) = address.split_once('.').expect("TYPE.NAME");
    let resource = state["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .find(|r| r["type"] == kind && r["name"] == name)
        .unwrap_or_else(|| panic!("{address} is not in the state:\n{text}"));
    let instance = &resource["instances"][0];
    instance.get("identity").map(|identity| {
        (
            identity.clone(),
            instance["identity_schema_version"].clone(),
        )
    })
}

fn cert_id_in_state(ws: &Workspace) -> String {
    ws.terraform(&["output", "-raw", "cert_id"])
        .success()
        .stdout
        .trim()
        .to_string()
}

/// On Terraform 1.12+, both resources are identified by the current order;
/// before, the state carries no identity at all.
#[track_caller]
fn assert_identities(ws: &Workspace, cert_id: &str, step: &str) {
    for address in [
        "nicsrs_certificate_renewal.web",
        "nicsrs_certificate_validation.web",
    ] {
        let stored = stored_identity(ws, address);
        if identity_supported() {
            assert_eq!(
                stored,
                Some((json!({"cert_id": cert_id}), json!(0))),
                "{step}: {address}"
            );
        } else {
            assert_eq!(stored, None, "{step}: {address} on an older Terraform");
        }
    }
}

/// Every path that writes state: create, refresh, in-place update, a roll
/// (an in-place update that moves to a new order), a replacement, destroy.
/// With Terraform 1.15.5 none may report an identity error; with 1.0.3 the
/// same steps work as they always did.
#[test]
fn identity_follows_the_order_through_every_change() {
    let sandbox = sandbox();
    let config = |renew_id: &str, renew_before_days: u32| {
        format!(
            "{}{VALIDATION}\noutput \"cert_id\" {{\n  value = nicsrs_certificate_renewal.web.cert_id\n}}\n",
            renewal(
                &sandbox,
                renew_id,
                "CNAME_CSR_HASH",
                &format!("  renew_before_days = {renew_before_days}\n")
            )
        )
    };
    let ws = Workspace::new(&config("1234567", 30)).with_csr(&["www.example.com"]);

    ws.terraform(&["apply", "-auto-approve"]).success();
    let first = cert_id_in_state(&ws);
    assert_identities(&ws, &first, "create");
    ws.assert_no_changes();
    ws.terraform(&["apply", "-refresh-only", "-auto-approve"])
        .success();
    assert_identities(&ws, &first, "refresh");

    // In place, same order.
    ws.write("main.tf", &with_requirement(&config("1234567", 31)));
    let plan = ws.terraform(&["plan"]).success().flat();
    assert!(
        plan.contains("0 to add, 1 to change, 0 to destroy"),
        "{plan}"
    );
    ws.terraform(&["apply", "-auto-approve"]).success();
    assert_eq!(cert_id_in_state(&ws), first);
    assert_identities(&ws, &first, "in-place update");
    ws.assert_no_changes();

    // A roll: 20 days on, the certificate is due; one apply moves the
    // renewal (in place) and the waiter (replaced) to the new order.
    sandbox.post("/sandbox/clock", json!({"advance_days": 20}));
    let plan = ws.terraform(&["plan"]).success().flat();
    assert!(
        plan.contains("nicsrs_certificate_renewal.web will be updated in-place"),
        "{plan}"
    );
    ws.terraform(&["apply", "-auto-approve"]).success();
    let rolled = cert_id_in_state(&ws);
    assert_ne!(rolled, first, "the roll placed a new order");
    assert_identities(&ws, &rolled, "roll");
    ws.assert_no_changes();

    // Another renewed certificate: a replacement, a new order.
    ws.write("main.tf", &with_requirement(&config("7654321", 31)));
    let plan = ws.terraform(&["plan"]).success().flat();
    assert!(
        plan.contains("nicsrs_certificate_renewal.web must be replaced"),
        "{plan}"
    );
    ws.terraform(&["apply", "-auto-approve"]).success();
    let replaced = cert_id_in_state(&ws);
    assert!(replaced != first && replaced != rolled, "{replaced}");
    assert_identities(&ws, &replaced, "replacement");
    ws.assert_no_changes();

    ws.terraform(&["destroy", "-auto-approve"]).success();
    assert!(ws.state_list().is_empty());
    assert_eq!(sandbox.request_count("/ssl/renew"), 3);
}

fn with_requirement(config: &str) -> String {
    format!("{}\n{config}", crate::common::PROVIDER_REQUIREMENT)
}

/// `import { identity = { cert_id = … } }`, then the matching configuration
/// plans no changes; `terraform import` by ID stores the identity too.
#[test]
fn import_by_identity_then_the_matching_configuration_plans_no_changes() {
    if !identity_supported() {
        eprintln!(
            "skipped: import by identity needs Terraform 1.12 or later, this is {:?}; \
             covered by the run on Terraform 1.15.5",
            terraform_version()
        );
        return;
    }
    let sandbox = sandbox();
    let config = renewal(&sandbox, "1234567", "CNAME_CSR_HASH", "");
    let first = Workspace::new(&format!(
        "{config}\noutput \"cert_id\" {{\n  value = nicsrs_certificate_renewal.web.cert_id\n}}\n"
    ))
    .with_csr(&["www.example.com"]);
    first.terraform(&["apply", "-auto-approve"]).success();
    let cert_id = cert_id_in_state(&first);
    let csr = std::fs::read_to_string(first.path().join("web.csr")).expect("csr");

    let import = |cert_id: &str| {
        let ws = Workspace::new(&format!(
            "{config}\nimport {{\n  to       = nicsrs_certificate_renewal.web\n  identity = {{ cert_id = \"{cert_id}\" }}\n}}\n"
        ));
        ws.write("web.csr", &csr);
        ws
    };
    let ws = import(&cert_id);
    let plan = ws.terraform(&["plan"]).success().flat();
    assert!(
        plan.contains("1 to import, 0 to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
    ws.terraform(&["apply", "-auto-approve"]).success();
    assert_eq!(
        stored_identity(&ws, "nicsrs_certificate_renewal.web"),
        Some((json!({"cert_id": cert_id}), json!(0)))
    );
    ws.assert_no_changes();

    // An order that does not exist: the import fails and says which.
    let missing = import("9999999").terraform(&["plan"]).failure().flat();
    assert!(
        missing.contains("Cannot import the renewal order"),
        "{missing}"
    );
    assert!(missing.contains("9999999"), "{missing}");

    // By ID, as before: the state gets the identity as well.
    let by_id = Workspace::new(&config);
    by_id.write("web.csr", &csr);
    by_id
        .terraform(&["import", "nicsrs_certificate_renewal.web", &cert_id])
        .success();
    assert_eq!(
        stored_identity(&by_id, "nicsrs_certificate_renewal.web"),
        Some((json!({"cert_id": cert_id}), json!(0)))
    );
    by_id.assert_no_changes();
    assert_eq!(
        sandbox.request_count("/ssl/renew"),
        1,
        "imports order nothing"
    );
}

/// The waiter of an issued order imports by identity next to its renewal
/// (after a lost state, say); one of an order not yet issued is refused,
/// since an imported waiter would never wait.
#[test]
fn an_issued_orders_validation_imports_by_identity_and_a_pending_one_is_refused() {
    if !identity_supported() {
        eprintln!(
            "skipped: import by identity needs Terraform 1.12 or later, this is {:?}",
            terraform_version()
        );
        return;
    }
    const OUTPUT: &str =
        "output \"cert_id\" {\n  value = nicsrs_certificate_renewal.web.cert_id\n}\n";
    let sandbox = sandbox();
    let config = format!(
        "{}{VALIDATION}{OUTPUT}",
        renewal(&sandbox, "1234567", "CNAME_CSR_HASH", "")
    );
    let first = Workspace::new(&config).with_csr(&["www.example.com"]);
    first.terraform(&["apply", "-auto-approve"]).success();
    let cert_id = cert_id_in_state(&first);
    let csr = std::fs::read_to_string(first.path().join("web.csr")).expect("csr");

    let imports = |cert_id: &str| {
        format!(
            "{config}\nimport {{\n  to       = nicsrs_certificate_renewal.web\n  identity = {{ cert_id = \"{cert_id}\" }}\n}}\n\
             import {{\n  to       = nicsrs_certificate_validation.web\n  identity = {{ cert_id = \"{cert_id}\" }}\n}}\n"
        )
    };
    let ws = Workspace::new(&imports(&cert_id));
    ws.write("web.csr", &csr);
    let plan = ws.terraform(&["plan"]).success().flat();
    assert!(
        plan.contains("2 to import, 0 to add, 0 to change, 0 to destroy"),
        "{plan}"
    );
    ws.terraform(&["apply", "-auto-approve"]).success();
    assert_eq!(
        stored_identity(&ws, "nicsrs_certificate_validation.web"),
        Some((json!({"cert_id": cert_id}), json!(0)))
    );
    ws.assert_no_changes();

    // An order still pending validation: no waiter can be imported for it.
    let pending = Sandbox::start(&["--now", NOW, "--seed-certificate", "1234567:30"]);
    let config = format!(
        "{}{VALIDATION}{OUTPUT}",
        renewal(&pending, "1234567", "CNAME_CSR_HASH", "")
    );
    let placed = Workspace::new(&config).with_csr(&["www.example.com"]);
    placed
        .terraform(&[
            "apply",
            "-auto-approve",
            "-target=nicsrs_certificate_renewal.web",
        ])
        .success();
    let pending_id = cert_id_in_state(&placed);
    let refused = placed
        .terraform(&["import", "nicsrs_certificate_validation.web", &pending_id])
        .failure()
        .flat();
    assert!(
        refused.contains("Cannot import the validation of an order not issued"),
        "{refused}"
    );
    assert!(refused.contains("PENDING"), "{refused}");
    assert_eq!(
        sandbox.request_count("/ssl/renew"),
        1,
        "imports order nothing"
    );
}
