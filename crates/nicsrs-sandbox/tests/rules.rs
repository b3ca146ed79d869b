//! Each rule, table-tested: what passes, what fails, and what the message says.

use nicsrs::rules::*;
use nicsrs::*;
use nicsrs_sandbox::testkit;

/// `(value, None)` passes; `(value, Some(words))` fails with a message containing `words`.
fn table(rule: impl Fn(&str) -> Result<(), Problem>, cases: &[(&str, Option<&str>)]) {
    for (value, expected) in cases {
        match (rule(value), expected) {
            (Ok(()), None) => {}
            (Err(problem), Some(words)) => {
                assert!(
                    problem.contains(words),
                    "{value:?}: {problem:?} lacks {words:?}"
                )
            }
            (outcome, _) => panic!("{value:?}: unexpected {outcome:?}"),
        }
    }
}

#[test]
fn identifiers_are_used_exactly_as_written() {
    table(
        |v| identifier("renew_id", v),
        &[
            ("260101seedaaaaaa", None),
            ("R1", None),
            ("", Some("is empty")),
            ("R 1", Some("a space")),
            (" R1 ", Some("a space")),
            ("R1\n", Some("a line break")),
            ("R1\u{7}", Some("U+0007")),
            (&"r".repeat(65), Some("65 characters")),
        ],
    );
}

#[test]
fn years_are_whole_and_one_to_six() {
    assert_eq!(years("years", 1.0), Ok(1));
    assert_eq!(years("years", 6.0), Ok(6));
    for bad in [0.0, 7.0, 1.5, -1.0, f64::INFINITY] {
        assert!(
            years("years", bad).unwrap_err().contains("from 1 to 6"),
            "{bad}"
        );
    }
}

#[test]
fn servers_are_the_known_lower_case_platforms() {
    table(
        |v| server("server", v),
        &[
            ("nginx", None),
            ("other", None),
            ("NGINX", Some("lower case: \"nginx\"")),
            ("caddy", Some("\"other\" fits any")),
        ],
    );
}

#[test]
fn unique_values_are_one_to_twenty_alphanumerics() {
    table(
        |v| unique_value("unique_value", v),
        &[
            ("web2027", None),
            ("", Some("1 to 20")),
            ("a-b", Some("a-z")),
            (&"a".repeat(21), Some("1 to 20")),
        ],
    );
}

#[test]
fn dcv_methods_are_the_four_of_the_seed() {
    assert_eq!(
        dcv_method("m", "CNAME_CSR_HASH"),
        Ok(DcvMethod::CnameCsrHash)
    );
    let err = dcv_method("m", "DNS").unwrap_err();
    assert!(
        err.contains("EMAIL, HTTP_CSR_HASH, CNAME_CSR_HASH, HTTPS_CSR_HASH"),
        "{err}"
    );
    assert!(dcv_method("m", "email").is_err(), "case-sensitive");
    assert!(method_fits_domain(DcvMethod::HttpCsrHash, "*.example.com").is_err());
    assert!(method_fits_domain(DcvMethod::HttpsCsrHash, "*.example.com").is_err());
    assert!(method_fits_domain(DcvMethod::CnameCsrHash, "*.example.com").is_ok());
    assert!(method_fits_domain(DcvMethod::HttpCsrHash, "www.example.com").is_ok());
}

#[test]
fn domain_names_are_ascii_host_names() {
    table(
        |v| domain_name("domain_name", v),
        &[
            ("www.example.com", None),
            ("*.example.com", None),
            ("", Some("is empty")),
            ("www.example.com ", Some("a space")),
            ("münchen.de", Some("\"xn--mnchen-3ya.de\"")),
            (
                "*.bücher.example",
                Some("\"*.\" + \"xn--bcher-kva.example\""),
            ),
        ],
    );
}

#[test]
fn dcv_email_needs_a_known_mailbox_at_the_domain_or_a_parent() {
    table(
        |v| dcv_email("dcv_email", v, "www.example.com"),
        &[
            ("admin@example.com", None),
            ("hostmaster@www.example.com", None),
            ("info@example.com", Some("mailbox")),
            ("admin@other.com", Some("parent")),
            ("admin@ample.com", Some("parent")),
            ("admin@com", Some("parent")),
            ("example.com", Some("not an e-mail")),
        ],
    );
    assert!(dcv_email("dcv_email", "webmaster@example.com", "*.example.com").is_ok());
    assert!(dcv_email_present("dcv_email", DcvMethod::Email, None).is_err());
    assert!(dcv_email_present("dcv_email", DcvMethod::Email, Some(" ")).is_err());
    assert!(dcv_email_present("dcv_email", DcvMethod::CnameCsrHash, None).is_ok());
}

#[test]
fn contact_fields() {
    table(
        |v| text("city", v),
        &[
            ("Shanghai", None),
            ("São Paulo", None),
            ("", Some("is empty")),
            ("Shang\nhai", Some("line break")),
            (&"x".repeat(256), Some("256 characters")),
        ],
    );
    table(
        |v| email("email", v),
        &[
            ("ops@example.com", None),
            ("ops", Some("not an e-mail")),
            ("ops@", Some("not an e-mail")),
            ("@example.com", Some("not an e-mail")),
            ("ops@example", Some("not an e-mail")),
            ("o ps@example.com", Some("not an e-mail")),
            ("a@b@c.com", Some("not an e-mail")),
        ],
    );
    table(
        |v| mobile("mobile", v),
        &[
            ("18111111111", None),
            ("8613800000000", None),
            ("+86 138", Some("digits")),
            ("call me", Some("digits")),
            ("1234", Some("5 to 20")),
        ],
    );
    table(
        |v| country("country", v),
        &[
            ("CN", None),
            ("DE", None),
            ("cn", Some("capitals: \"CN\"")),
            ("China", Some("ISO 3166-1")),
            ("XX", Some("ISO 3166-1")),
        ],
    );
}

#[test]
fn a_csr_is_one_verified_pem_request_with_a_strong_key() {
    let good = testkit::csr(&["www.example.com", "example.com"]).0;
    let parsed = csr("csr", &good).expect("a good CSR");
    assert_eq!(parsed.names, ["www.example.com", "example.com"]);
    assert!(
        csr("csr", &format!("\n\n{good}\n")).is_ok(),
        "surrounding blank lines"
    );
    assert!(csr_covers("domain_name", &parsed.names, "Example.com").is_ok());
    let err = csr_covers("domain_name", &parsed.names, "api.example.com").unwrap_err();
    assert!(err.contains("www.example.com, example.com"), "{err}");

    let body: String = good.lines().filter(|l| !l.starts_with("-----")).collect();
    let mut tampered: Vec<u8> =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &body).unwrap();
    let last = tampered.len() - 5;
    tampered[last] ^= 0x55;
    let tampered = format!(
        "-----BEGIN CERTIFICATE REQUEST-----\n{}\n-----END CERTIFICATE REQUEST-----\n",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &tampered)
    );
    // rcgen refuses a non-ASCII SAN; a UTF-8 common name gets the name in.
    let idn = {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "bücher.example");
        let key = rcgen::KeyPair::generate().unwrap();
        params.serialize_request(&key).unwrap().pem().unwrap()
    };
    let cases: Vec<(String, &str)> = vec![
        ("hello".into(), "not PEM"),
        (
            good.replace("BEGIN CERTIFICATE REQUEST", "BEGIN NONSENSE"),
            "\"NONSENSE\" block",
        ),
        (
            good.replace("END CERTIFICATE REQUEST", "END NONSENSE"),
            "the lines must match",
        ),
        (format!("{good}garbage"), "text after"),
        (format!("{good}{good}"), "text after"),
        (
            good.replace("-----END CERTIFICATE REQUEST-----", ""),
            "no -----END",
        ),
        (
            "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n".into(),
            "PKCS#10",
        ),
        (tampered, "signature does not verify"),
        (idn, "punycode"),
    ];
    for (pem, words) in cases {
        let problem = csr("csr", &pem).expect_err(words);
        assert!(problem.contains(words), "{words:?} not in {problem:?}");
    }
}

#[test]
fn weak_keys_are_refused() {
    let p384 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let ed25519 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let request = |key: &rcgen::KeyPair| {
        rcgen::CertificateParams::new(vec!["www.example.com".to_string()])
            .unwrap()
            .serialize_request(key)
            .unwrap()
            .pem()
            .unwrap()
    };
    if let Err(problem) = csr("csr", &request(&p384)) {
        panic!("P-384 refused: {problem}");
    }
    let problem = csr("csr", &request(&ed25519)).unwrap_err();
    assert!(
        problem.contains("at least 2048 bits or EC keys on P-256 or P-384"),
        "{problem}"
    );
}
