//! The README's first command, as a user runs it.

use std::process::Command;

use crate::common::{provider_dir, terraform_bin};

#[test]
fn quickstart_places_an_order_and_prints_its_cert_id() {
    let output = Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/quickstart.sh"
        ))
        // The test binary's build already holds both binaries.
        .env("NICSRS_BIN_DIR", provider_dir())
        .env("NICSRS_TERRAFORM", terraform_bin())
        .env_remove("TF_CLI_CONFIG_FILE")
        .output()
        .expect("run scripts/quickstart.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "quickstart failed:\n{stdout}\n{stderr}"
    );
    let cert_id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("cert_id="))
        .unwrap_or_else(|| panic!("no cert_id line:\n{stdout}"));
    assert_eq!(
        cert_id.len(),
        16,
        "a NicSRS-style certificate id: {cert_id:?}"
    );
    assert!(
        stdout.contains("Apply complete! Resources: 1 added"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("placed renewal order: {cert_id}")),
        "{stdout}"
    );
}
