//! Bounded property tests of what reads untrusted input: the API answer
//! parser, the rules, the token scrubbing, and the refId derivation.

use proptest::prelude::*;

use nicsrs::error::{Error, Operation};
use nicsrs::types::{CertIdData, CollectData, RenewData};
use nicsrs::{decode_data, ordering, parse_envelope, rules};
use nicsrs_sandbox::testkit;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn any_answer_body_parses_or_is_an_error(body in ".{0,400}") {
        if let Ok(envelope) = parse_envelope(Operation::Collect, 200, &body) {
            let _ = decode_data::<CollectData>(Operation::Collect, &envelope, &body);
            let _ = decode_data::<RenewData>(Operation::Renew, &envelope, &body);
            let _ = decode_data::<CertIdData>(Operation::CertIdByRefId, &envelope, &body);
        }
    }

    #[test]
    fn json_shaped_answers_parse_or_are_an_error(
        code in prop_oneof![Just("1".to_string()), Just("-1".to_string()), "-?[0-9]{1,3}", Just("\"x\"".to_string())],
        data in prop_oneof![Just("null".to_string()), Just("[]".to_string()), Just("{}".to_string()), "\\{\"certId\":[0-9]{1,5}\\}", "\\{\"dcvList\":\\[\\{\"domainName\":\"[a-z.]{0,10}\"\\}\\]\\}"],
    ) {
        let body = format!("{{\"code\":{code},\"data\":{data},\"errors\":[]}}");
        if let Ok(envelope) = parse_envelope(Operation::Collect, 200, &body) {
            let _ = decode_data::<CollectData>(Operation::Collect, &envelope, &body);
        }
    }

    #[test]
    fn any_text_is_a_verdict_of_the_rules(text in "(?s).{0,300}") {
        let _ = rules::csr("csr", &text);
        let _ = rules::domain_name("domain_name", &text);
        let _ = rules::identifier("renew_id", &text);
        let _ = rules::dcv_email("dcv_email", &text, &text);
        let _ = rules::text("city", &text);
        let _ = rules::mobile("mobile", &text);
    }

    #[test]
    fn pem_shaped_text_is_a_verdict_of_the_csr_rule(
        label in "(NEW )?CERTIFICATE REQUEST|NONSENSE",
        body in "[A-Za-z0-9+/=\n]{0,200}",
        tail in "(?s).{0,20}",
    ) {
        let pem = format!("-----BEGIN {label}-----\n{body}\n-----END {label}-----\n{tail}");
        prop_assert!(rules::csr("csr", &pem).is_err(), "random bytes are never a signed request");
    }

    #[test]
    fn the_token_never_survives_in_a_quoted_answer(
        token in "[ -~]{6,30}",
        before in "[ -~]{0,40}",
        after in "[ -~]{0,40}",
    ) {
        let encoded: String = token
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => char::from(b).to_string(),
                b' ' => "+".to_string(),
                _ => format!("%{b:02X}"),
            })
            .collect();
        let json = serde_json::to_string(&token).unwrap();
        let json = json.trim_matches('"').to_string();
        let body = format!("{before}{token}|{encoded}|{json}{after}");
        let error = Error::NotJson { op: Operation::Collect, status: 200, snippet: body }.scrubbed(&token);
        let Error::NotJson { snippet, .. } = error else { unreachable!() };
        prop_assert!(!snippet.contains(token.as_str()), "{snippet:?}");
        prop_assert!(!snippet.contains(encoded.as_str()), "{snippet:?}");
        prop_assert!(!snippet.contains(json.as_str()), "{snippet:?}");
    }

    #[test]
    fn derived_ref_ids_are_short_alphanumerics(renew_id in "[0-9a-z]{1,20}", years in 1u8..=6, server in "[a-z]{1,10}", n in 0u32..100) {
        let mut request = testkit::renew_request(&PEM.with(Clone::clone));
        request.renew_id = renew_id;
        request.years = years;
        request.params.server = server;
        let ref_id = ordering::derived_ref_id(&ordering::derived_base(&request).unwrap(), n);
        prop_assert_eq!(ref_id.len(), ordering::DERIVED_LEN);
        prop_assert!(ref_id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
        prop_assert!(rules::identifier("ref_id", &ref_id).is_ok());
    }
}

thread_local! {
    static PEM: String = testkit::csr(&["www.example.com"]).0;
}
