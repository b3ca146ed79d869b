//! The provider binary under a real Terraform: handshake, schema, provider
//! configuration, diagnostics and logs.

use crate::common::{renewal_block, Workspace};

/// Terraform only validates and configures a provider that some resource
/// uses, so these configurations carry one renewal (never applied).
fn with_renewal(provider_block: &str) -> Workspace {
    let renewal = renewal_block(
        "web",
        "1234567",
        &[("www.example.com", "CNAME_CSR_HASH")],
        "",
    );
    Workspace::new(&format!("{provider_block}\n{renewal}")).with_csr(&["www.example.com"])
}

#[test]
fn schema_lists_the_provider_arguments_with_the_token_sensitive() {
    let ws = Workspace::new("");
    let run = ws.terraform(&["providers", "schema", "-json"]).success();
    let json: serde_json::Value = serde_json::from_str(run.stdout.trim()).expect("schema JSON");
    let attributes = &json["provider_schemas"]["registry.terraform.io/nicsrs/nicsrs"]["provider"]
        ["block"]["attributes"];
    assert_eq!(attributes["api_token"]["sensitive"], true);
    assert_eq!(attributes["api_token"]["optional"], true);
    assert_eq!(attributes["base_url"]["type"], "string");
    assert_eq!(attributes["request_timeout_seconds"]["type"], "number");
    assert!(attributes["base_url"]["description"]
        .as_str()
        .unwrap()
        .contains("portal.nicsrs.com"));

    // The golden file, rendered in-process from GetProviderSchema, is what
    // this Terraform prints: the in-process rendering is faithful.
    let golden_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/schema.json");
    let golden: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&golden_path).expect("golden schema"))
            .expect("golden JSON");
    let source = "registry.terraform.io/nicsrs/nicsrs";
    let printed = &json["provider_schemas"][source];
    let expected = &golden["provider_schemas"][source];
    for part in ["provider", "resource_schemas", "data_source_schemas"] {
        assert!(
            expected[part].is_object(),
            "{part} missing from the golden file"
        );
        assert_eq!(
            printed[part],
            expected[part],
            "{part}: `terraform providers schema -json` differs from {}",
            golden_path.display()
        );
    }
}

#[test]
fn a_wrong_type_is_reported_by_terraform_at_the_attribute() {
    let ws = with_renewal(r#"provider "nicsrs" { request_timeout_seconds = "abc" }"#);
    let run = ws.terraform(&["validate"]).failure();
    assert!(
        run.stderr.contains("request_timeout_seconds"),
        "{}",
        run.output()
    );
    assert!(
        run.stderr.contains("Incorrect attribute value type"),
        "{}",
        run.output()
    );
}

#[test]
fn plan_runs_with_and_without_automtls_and_logs_reach_terraform() {
    let config = r#"provider "nicsrs" {
  api_token = "very-secret-token-4711"
  base_url  = "http://127.0.0.1:9"
}"#;
    for tls_disabled in [false, true] {
        let mut ws = with_renewal(config).env("TF_LOG_PROVIDER", "DEBUG");
        if tls_disabled {
            ws = ws.env("TF_DISABLE_PLUGIN_TLS", "1");
        }
        let run = ws.terraform(&["plan"]).success();
        let output = run.output();
        assert!(output.contains("1 to add"), "{output}");
        assert!(
            output.contains("Applying places a paid renewal order"),
            "{output}"
        );
        let provider_lines: Vec<&str> = output
            .lines()
            .filter(|l| l.contains("provider.terraform-provider-nicsrs"))
            .collect();
        assert!(
            provider_lines
                .iter()
                .any(|l| l.contains("serving plugin protocol 6")),
            "provider logs should be visible under TF_LOG_PROVIDER:\n{output}"
        );
        assert!(
            provider_lines
                .iter()
                .any(|l| l.contains("provider configured")),
            "{output}"
        );
        assert!(
            !provider_lines
                .iter()
                .any(|l| l.contains("very-secret-token-4711")),
            "the token leaked into a provider log line:\n{output}"
        );
        assert!(
            !output.contains("failed to exit gracefully"),
            "the provider must exit on Shutdown, before Terraform kills it:\n{output}"
        );
        if !tls_disabled {
            assert!(
                output.contains("configuring client automatic mTLS"),
                "{output}"
            );
        }
    }
}

#[test]
fn run_by_hand_the_binary_explains_itself() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_terraform-provider-nicsrs"))
        .env_remove("TF_PLUGIN_MAGIC_COOKIE")
        .output()
        .expect("run the provider binary");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("This binary is a Terraform plugin"),
        "{stderr}"
    );
    assert!(stderr.contains("dev_overrides"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing may go to stdout");
}

#[test]
fn protocol_version_five_only_is_refused_clearly() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_terraform-provider-nicsrs"))
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            tfplugin::handshake::MAGIC_COOKIE_VALUE,
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .output()
        .expect("run the provider binary");
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("speaks only version 6"), "{stderr}");
    assert!(output.stdout.is_empty());
}
