//! The README's first command, as a user runs it: from nothing to an issued
//! certificate, whose printed facts are checked against the certificate.

use std::path::Path;
use std::process::Command;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;

use crate::common::{provider_dir, terraform_bin, terraform_version};

/// The value of the line `    LABEL:  value` of the quick start's summary.
fn fact<'a>(stdout: &'a str, label: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|l| l.trim_start().strip_prefix(&format!("{label}:")))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {label}: line:\n{stdout}"))
}

/// `terraform ARGS` in the working directory the quick start left behind.
fn terraform_in(work: &Path, args: &[&str]) -> String {
    let output = Command::new(terraform_bin())
        .arg(format!("-chdir={}", work.join("certificate").display()))
        .args(args)
        .env("TF_CLI_CONFIG_FILE", work.join("dev.tfrc"))
        .env("CHECKPOINT_DISABLE", "1")
        .output()
        .expect("run terraform");
    assert!(
        output.status.success(),
        "terraform {args:?} in the quick start's directory:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn quickstart_ends_with_an_issued_certificate_and_prints_its_subject_names_and_expiry() {
    let dir = tempfile::tempdir().expect("temp dir");
    let work = dir.path().join("quickstart");
    let output = Command::new("bash")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/scripts/quickstart.sh"
        ))
        .arg("--dir")
        .arg(&work)
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

    // The DNS step: for_each resources where Terraform has terraform_data,
    // the provisioner before 1.4.
    if terraform_version() >= (1, 4, 0) {
        assert!(
            stdout.contains("a copy of examples/first-certificate"),
            "{stdout}"
        );
        for domain in ["example.com", "www.example.com"] {
            assert!(
                stdout.contains(&format!(
                    "terraform_data.dns_record[\"{domain}\"]: Creation complete"
                )),
                "{stdout}"
            );
        }
        assert!(
            stdout.contains("Apply complete! Resources: 4 added"),
            "renewal, two records, validation: {stdout}"
        );
    } else {
        assert!(
            stdout.contains("a copy of examples/dns-cname-validation/sandbox"),
            "{stdout}"
        );
        assert!(stdout.contains("has no terraform_data"), "{stdout}");
        assert!(
            stdout.contains("Apply complete! Resources: 2 added"),
            "renewal with its provisioner, validation: {stdout}"
        );
    }
    // It says what it does as it goes.
    for step in ["Starting nicsrs-sandbox", "terraform apply in", "Issued."] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("==> [") && l.contains(step)),
            "no progress line for {step:?}:\n{stdout}"
        );
    }
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
        stdout.contains(&format!("Renewal order {cert_id}")),
        "{stdout}"
    );
    let seconds: u64 = stdout
        .split("Done in ")
        .nth(1)
        .and_then(|rest| rest.split('s').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no 'Done in Ns' line:\n{stdout}"));
    assert!(seconds < 60, "within a minute after the build: {seconds}s");

    // The facts printed are the certificate's, read from the working
    // directory left behind, as its `terraform output` gives it.
    let pem = terraform_in(&work, &["output", "-raw", "certificate_pem"]);
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).expect("PEM");
    let (_, cert) =
        x509_parser::certificate::X509Certificate::from_der(&block.contents).expect("X.509");
    assert_eq!(fact(&stdout, "subject"), cert.subject().to_string());
    assert_eq!(fact(&stdout, "subject"), "CN=example.com");
    let mut sans = Vec::new();
    for extension in cert.extensions() {
        if let ParsedExtension::SubjectAlternativeName(san) = extension.parsed_extension() {
            for name in &san.general_names {
                if let GeneralName::DNSName(dns) = name {
                    sans.push(dns.to_string());
                }
            }
        }
    }
    assert_eq!(sans, ["example.com", "www.example.com"]);
    assert_eq!(fact(&stdout, "names"), sans.join(", "));
    let expires = OffsetDateTime::parse(fact(&stdout, "expires"), &Rfc3339)
        .unwrap_or_else(|e| panic!("expires is not RFC 3339 ({e}):\n{stdout}"));
    assert_eq!(
        expires.unix_timestamp(),
        cert.validity().not_after.timestamp()
    );
    // Freshly issued (the sandbox issues for 200 days, as CAs do from 2026).
    assert!(expires > OffsetDateTime::now_utc() + time::Duration::days(100));
    assert_eq!(
        fact(&stdout, "serial"),
        cert.tbs_certificate.raw_serial_as_string().replace(':', "")
    );
    let saved = std::fs::read_to_string(work.join("certificate.pem")).expect("certificate.pem");
    assert_eq!(saved.trim(), pem.trim());

    // The commands it suggests work on what it leaves.
    assert!(
        stdout.contains("state show nicsrs_certificate_validation.web"),
        "{stdout}"
    );
    let shown = terraform_in(
        &work,
        &[
            "state",
            "show",
            "-no-color",
            "nicsrs_certificate_validation.web",
        ],
    );
    assert!(
        shown.contains(&format!("cert_id               = \"{cert_id}\"")),
        "{shown}"
    );
    assert!(
        shown.contains("status                = \"COMPLETE\""),
        "{shown}"
    );
}
