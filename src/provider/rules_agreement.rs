//! The provider's plan-time checks and the API (the sandbox) agree: every
//! case below is a renewal the plan refuses exactly when the API refuses
//! it, so a plan that passes is an order that goes through, and a refusal
//! never waits for a paid call.

use std::time::Duration;

use nicsrs::{Contact, DcvMethod, DomainInfo, OrganizationInfo, RenewRequest};
use nicsrs_sandbox::testkit;
use tfplugin::{Diagnostics, Value};

use super::certificate_renewal::{schema, CertificateRenewal};
use tfplugin::{AttributePath, Resource};

/// What Terraform's ValidateResourceConfig runs: the attributes'
/// validators, then the resource's checks across attributes.
fn validate_renewal(config: &Value, diags: &mut Diagnostics) {
    schema()
        .block
        .run_validators(config, &AttributePath::default(), diags);
    CertificateRenewal::new(Default::default()).validate(config, diags);
}

/// The resource configuration that asks for `request`.
fn config_of(request: &RenewRequest) -> Value {
    let text = |v: &Option<String>| Value::opt_string(v.clone());
    let contact = |c: &Contact| {
        Value::object([
            ("job", text(&c.job)),
            ("city", text(&c.city)),
            ("email", text(&c.email)),
            ("state", text(&c.state)),
            ("mobile", text(&c.mobile)),
            ("address", text(&c.address)),
            ("country", text(&c.country)),
            ("last_name", text(&c.last_name)),
            ("post_code", text(&c.post_code)),
            ("first_name", text(&c.first_name)),
            ("organization", text(&c.organization)),
        ])
    };
    let params = &request.params;
    Value::object([
        ("renew_id", request.renew_id.as_str().into()),
        ("years", Value::Number(f64::from(request.years))),
        ("ref_id", text(&request.ref_id)),
        ("csr", params.csr.as_str().into()),
        ("server", params.server.as_str().into()),
        ("unique_value", text(&params.unique_value)),
        (
            "domain_info",
            Value::List(
                params
                    .domain_info
                    .iter()
                    .map(|d| {
                        Value::object([
                            ("domain_name", d.domain_name.as_str().into()),
                            ("dcv_method", d.dcv_method.as_str().into()),
                            ("dcv_email", text(&d.dcv_email)),
                        ])
                    })
                    .collect(),
            ),
        ),
        (
            "organization_info",
            params.organization_info.as_ref().map_or(Value::Null, |o| {
                Value::object([
                    ("name", text(&o.organization_name)),
                    ("city", text(&o.organization_city)),
                    ("mobile", text(&o.organization_mobile)),
                    ("address", text(&o.organization_address)),
                    ("country", text(&o.organization_country)),
                    ("post_code", text(&o.organization_post_code)),
                ])
            }),
        ),
        ("administrator", contact(&params.administrator)),
        (
            "finance",
            params.finance.as_ref().map_or(Value::Null, contact),
        ),
        ("tech", params.tech.as_ref().map_or(Value::Null, contact)),
    ])
}

type Change = fn(&mut RenewRequest, &Csrs);

/// CSRs the cases swap in.
struct Csrs {
    good: String,
    ed25519: String,
    idn_name: String,
}

fn csrs() -> Csrs {
    let names = ["www.example.com", "*.example.com", "example.com"];
    let ed25519 = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("key");
    let params = rcgen::CertificateParams::new(names.map(String::from).to_vec()).expect("names");
    let mut idn = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
    idn.distinguished_name = rcgen::DistinguishedName::new();
    idn.distinguished_name
        .push(rcgen::DnType::CommonName, "bücher.example");
    let key = rcgen::KeyPair::generate().expect("key");
    Csrs {
        good: testkit::csr(&names).0,
        ed25519: params
            .serialize_request(&ed25519)
            .expect("csr")
            .pem()
            .expect("pem"),
        idn_name: idn
            .serialize_request(&key)
            .expect("csr")
            .pem()
            .expect("pem"),
    }
}

fn domain(name: &str, method: DcvMethod, email: Option<&str>) -> DomainInfo {
    DomainInfo {
        domain_name: name.into(),
        dcv_method: method,
        dcv_email: email.map(String::from),
    }
}

fn cases() -> Vec<(&'static str, Change)> {
    vec![
        ("the valid renewal", |_, _| {}),
        ("renewId with spaces", |r, _| {
            r.renew_id = format!(" {} ", r.renew_id)
        }),
        ("renewId with a line break", |r, _| r.renew_id.push('\n')),
        ("years 0", |r, _| r.years = 0),
        ("years 7", |r, _| r.years = 7),
        ("refId with a space", |r, _| r.ref_id = Some("ci 1".into())),
        ("refId of 65 characters", |r, _| {
            r.ref_id = Some("r".repeat(65))
        }),
        ("a plain refId", |r, _| r.ref_id = Some("ci-agree-1".into())),
        ("server in capitals", |r, _| {
            r.params.server = "NGINX".into()
        }),
        ("an unknown server", |r, _| r.params.server = "caddy".into()),
        ("uniqueValue with a dash", |r, _| {
            r.params.unique_value = Some("a-b".into())
        }),
        ("a good uniqueValue", |r, _| {
            r.params.unique_value = Some("web2027".into())
        }),
        ("csr garbage", |r, _| r.params.csr = "hello".into()),
        ("csr with trailing text", |r, _| {
            r.params.csr.push_str("trailing")
        }),
        ("csr with mismatched labels", |r, _| {
            r.params.csr = r
                .params
                .csr
                .replace("BEGIN CERTIFICATE REQUEST", "BEGIN NONSENSE")
        }),
        ("csr with an Ed25519 key", |r, c| {
            r.params.csr = c.ed25519.clone()
        }),
        ("csr naming an internationalised domain", |r, c| {
            r.params.csr = c.idn_name.clone()
        }),
        ("a domain with a trailing space", |r, _| {
            r.params.domain_info[0].domain_name.push(' ')
        }),
        ("a domain in raw UTF-8", |r, _| {
            r.params.domain_info[0].domain_name = "bücher.example".into()
        }),
        ("a domain not in the CSR", |r, _| {
            r.params.domain_info[0].domain_name = "shop.example.org".into()
        }),
        ("the same domain twice", |r, _| {
            let again = r.params.domain_info[0].clone();
            r.params.domain_info.push(again)
        }),
        ("HTTP validation of a wildcard", |r, _| {
            r.params.domain_info = vec![domain("*.example.com", DcvMethod::HttpCsrHash, None)]
        }),
        ("EMAIL without dcvEmail", |r, _| {
            r.params.domain_info = vec![domain("www.example.com", DcvMethod::Email, None)]
        }),
        ("EMAIL to a mailbox the CA does not use", |r, _| {
            r.params.domain_info = vec![domain(
                "www.example.com",
                DcvMethod::Email,
                Some("info@example.com"),
            )]
        }),
        ("EMAIL at another domain", |r, _| {
            r.params.domain_info = vec![domain(
                "www.example.com",
                DcvMethod::Email,
                Some("admin@example.org"),
            )]
        }),
        ("EMAIL at a parent domain", |r, _| {
            r.params.domain_info = vec![domain(
                "www.example.com",
                DcvMethod::Email,
                Some("admin@example.com"),
            )]
        }),
        ("Administrator e-mail without a domain", |r, _| {
            r.params.administrator.email = Some("ops".into())
        }),
        ("Administrator mobile with letters", |r, _| {
            r.params.administrator.mobile = Some("call me".into())
        }),
        ("Administrator mobile with a plus", |r, _| {
            r.params.administrator.mobile = Some("+8613800000000".into())
        }),
        ("Administrator country in lower case", |r, _| {
            r.params.administrator.country = Some("cn".into())
        }),
        ("Administrator city over two lines", |r, _| {
            r.params.administrator.city = Some("Shang\nhai".into())
        }),
        ("Administrator address of 300 characters", |r, _| {
            r.params.administrator.address = Some("x".repeat(300))
        }),
        ("finance mobile with letters", |r, _| {
            r.params.finance = Some(Contact {
                mobile: Some("12ab".into()),
                ..Contact::default()
            })
        }),
        ("a complete tech contact", |r, _| {
            r.params.tech = Some(testkit::contact("tech"))
        }),
        ("organization country not ISO", |r, _| {
            r.params.organization_info = Some(OrganizationInfo {
                organization_country: Some("China".into()),
                ..OrganizationInfo::default()
            })
        }),
    ]
}

#[tokio::test]
async fn every_case_is_refused_by_the_plan_exactly_when_the_api_refuses_it() {
    let sandbox = testkit::start(testkit::config()).await;
    let client = testkit::client(&sandbox.url(), Duration::from_secs(5));
    let csrs = csrs();
    let mut disagreements = Vec::new();
    let mut refused = 0;
    for (name, change) in cases() {
        let mut request = testkit::renew_request(&csrs.good);
        change(&mut request, &csrs);
        let mut diags = Diagnostics::new();
        validate_renewal(&config_of(&request), &mut diags);
        let plan_refuses = diags.has_errors();
        let api_refuses = match client.renew(&request).await {
            Ok(_) => false,
            Err(error) if error.api_code() == Some(-1) => true,
            Err(error) => panic!("{name}: unexpected {error}"),
        };
        refused += usize::from(api_refuses);
        if plan_refuses != api_refuses {
            disagreements.push(format!(
                "{name}: plan {}, API {}; plan said {:?}",
                if plan_refuses { "refuses" } else { "accepts" },
                if api_refuses { "refuses" } else { "accepts" },
                diags.iter().map(|d| &d.detail).collect::<Vec<_>>()
            ));
        }
    }
    assert!(disagreements.is_empty(), "{disagreements:#?}");
    assert!(refused > 20, "the cases exercise refusals: {refused}");
}
