//! The API client against the simulator: wire names, codes, retries.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use nicsrs::*;
use nicsrs_sandbox::testkit::{self, Admin, SEED_ID};

const FAST: Duration = Duration::from_secs(5);

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn a_full_renew_arrives_with_the_seed_names_and_casing() {
    let sb = testkit::start(testkit::config()).await;
    let admin = Admin::new(&sb);
    let client = testkit::client(&sb.url(), FAST);
    let (pem, _) = testkit::csr(&["www.example.com", "shop.example.com"]);
    let mut req = testkit::renew_request(&pem);
    req.years = 2;
    req.ref_id = Some("tf-ref-1".into());
    req.params.unique_value = Some("Uv123".into());
    req.params.domain_info.push(DomainInfo {
        domain_name: "shop.example.com".into(),
        dcv_method: DcvMethod::Email,
        dcv_email: Some("admin@example.com".into()),
    });
    req.params.organization_info = Some(OrganizationInfo {
        organization_city: Some("Shanghai".into()),
        organization_name: Some("Example Org".into()),
        organization_mobile: Some("18111111111".into()),
        organization_address: Some("1 Road".into()),
        organization_country: Some("CN".into()),
        organization_post_code: Some("401320".into()),
    });
    req.params.finance = Some(testkit::contact("finance"));
    req.params.tech = Some(Contact {
        email: Some("tech@example.com".into()),
        ..Contact::default()
    });
    let resp = client.renew(&req).await.expect("renew");
    assert_eq!(resp.cert_id.len(), 16, "{}", resp.cert_id);
    assert_eq!(resp.data.dcv.dcv_dns_type.as_deref(), Some("CNAME"));

    let order = admin.order(&resp.cert_id).await;
    let form = &order["raw_form"];
    assert_eq!(
        keys(form),
        set(&["api_token", "renewId", "years", "refId", "params"])
    );
    assert_eq!(form["renewId"], SEED_ID);
    assert_eq!(form["years"], "2");
    assert_eq!(form["refId"], "tf-ref-1");
    let params: Value =
        serde_json::from_str(form["params"].as_str().unwrap_or_default()).expect("params JSON");
    assert_eq!(
        keys(&params),
        set(&[
            "csr",
            "server",
            "uniqueValue",
            "domainInfo",
            "organizationInfo",
            "Administrator",
            "finance",
            "tech"
        ])
    );
    assert_eq!(params["csr"], pem.as_str());
    assert_eq!(params["server"], "other");
    assert_eq!(params["uniqueValue"], "Uv123");
    assert_eq!(
        params["domainInfo"],
        json!([
            {"dcvMethod": "CNAME_CSR_HASH", "domainName": "www.example.com"},
            {"dcvMethod": "EMAIL", "dcvEmail": "admin@example.com", "domainName": "shop.example.com"}
        ])
    );
    assert_eq!(
        keys(&params["organizationInfo"]),
        set(&[
            "organizationCity",
            "organizationName",
            "organizationMobile",
            "organizationAddress",
            "organizationCountry",
            "organizationPostCode"
        ])
    );
    let contact_keys = set(&[
        "job",
        "city",
        "email",
        "state",
        "mobile",
        "address",
        "country",
        "lastName",
        "postCode",
        "firstName",
        "organization",
        "organation",
    ]);
    assert_eq!(keys(&params["Administrator"]), contact_keys);
    assert_eq!(params["Administrator"]["organation"], "Example Org");
    assert_eq!(keys(&params["finance"]), contact_keys);
    assert_eq!(params["tech"], json!({"email": "tech@example.com"}));
}

#[tokio::test]
async fn unset_optional_fields_are_absent() {
    let sb = testkit::start(testkit::config()).await;
    let admin = Admin::new(&sb);
    let client = testkit::client(&sb.url(), FAST);
    let (pem, _) = testkit::csr(&["www.example.com"]);
    let resp = client
        .renew(&testkit::renew_request(&pem))
        .await
        .expect("renew");
    let order = admin.order(&resp.cert_id).await;
    assert_eq!(
        keys(&order["raw_form"]),
        set(&["api_token", "renewId", "years", "params"])
    );
    assert_eq!(order["raw_form"]["api_token"], "***");
    let params: Value =
        serde_json::from_str(order["raw_form"]["params"].as_str().unwrap_or_default())
            .expect("JSON");
    assert_eq!(
        keys(&params),
        set(&["csr", "server", "domainInfo", "Administrator"])
    );
    assert_eq!(
        keys(&params["domainInfo"][0]),
        set(&["dcvMethod", "domainName"])
    );
}

#[tokio::test]
async fn documented_codes_become_api_errors() {
    let sb = testkit::start(testkit::config()).await;
    let admin = Admin::new(&sb);
    // Without retries: -2 is retried on reads (see the next test).
    let client = Client::new(ClientConfig {
        base_url: sb.url(),
        token: ApiToken::new(nicsrs_sandbox::DEFAULT_TOKEN),
        timeout: FAST,
        retry: RetryPolicy::none(),
    })
    .expect("client");
    for code in [-1i64, -2, -3, -4, -5, -6, -7, 400] {
        admin
                .faults(json!({"rules": [{"path": "/ssl/collect", "fault": "api_error", "code": code, "count": 1,
                    "errors": {"field": ["msg one", "msg two"]}}]}))
                .await;
        match client.collect("x").await {
            Err(Error::Api {
                code: c,
                message,
                errors,
                ..
            }) => {
                assert_eq!(c, code);
                assert_eq!(message, codes::describe(code).meaning);
                assert_eq!(errors, ["field: msg one", "field: msg two"]);
            }
            other => panic!("code {code}: {other:?}"),
        }
    }
    // A real 400 from a wrong token, and the token is not in the message.
    let wrong = Client::new(ClientConfig {
        token: ApiToken::new("wrong-secret"),
        ..ClientConfig {
            base_url: sb.url(),
            token: ApiToken::new("x"),
            timeout: FAST,
            retry: RetryPolicy::none(),
        }
    })
    .expect("client");
    let err = wrong.collect("x").await.expect_err("denied");
    assert_eq!(err.api_code(), Some(400));
    assert!(!err.to_string().contains("wrong-secret"));
    assert!(err.to_string().contains("permission denied"), "{err}");
    // A real -1 from the sandbox's rules, as "field: message".
    let (pem, _) = testkit::csr(&["www.example.com"]);
    let mut req = testkit::renew_request(&pem);
    req.years = 9;
    let err = client.renew(&req).await.expect_err("invalid");
    match &err {
        Error::Api {
            code: -1, errors, ..
        } => {
            assert_eq!(
                errors,
                &["years: years must be an integer from 1 to 6".to_string()]
            )
        }
        other => panic!("{other:?}"),
    }
    assert!(!err.may_have_placed_order());
}

#[tokio::test]
async fn busy_answers_to_reads_are_retried() {
    let sb = testkit::start(testkit::config()).await;
    let admin = Admin::new(&sb);
    let client = testkit::client(&sb.url(), FAST);
    admin
        .faults(
            json!({"rules": [{"path": "/ssl/collect", "fault": "api_error", "code": -2, "count": 3,
                "errors": ["Order does not exist or system busy, please retry"]}]}),
        )
        .await;
    let collected = client
        .collect(testkit::SEED_ID)
        .await
        .expect("fourth attempt");
    assert_eq!(collected.status.as_deref(), Some("COMPLETE"));
    assert_eq!(admin.count("/ssl/collect").await, 4);
}

#[tokio::test]
async fn transport_failures_map_to_their_kinds() {
    let sb = testkit::start(testkit::config()).await;
    let admin = Admin::new(&sb);
    let client = testkit::client(&sb.url(), Duration::from_millis(400));
    let (pem, _) = testkit::csr(&["www.example.com"]);
    let req = testkit::renew_request(&pem);

    admin
        .faults(json!({"rules": [{"path": "/ssl/renew", "fault": "html", "count": 1}]}))
        .await;
    match client.renew(&req).await {
        Err(e @ Error::NotJson { .. }) => {
            assert!(e.may_have_placed_order());
            assert!(e.to_string().contains("<!DOCTYPE html>"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    admin
        .faults(json!({"rules": [{"path": "/ssl/renew", "fault": "empty", "count": 1}]}))
        .await;
    match client.renew(&req).await {
        Err(e @ Error::NotJson { .. }) => {
            assert!(e.to_string().contains("empty answer"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    admin
        .faults(json!({"rules": [{"path": "/ssl/renew", "fault": "malformed", "count": 1}]}))
        .await;
    assert!(matches!(
        client.renew(&req).await,
        Err(Error::NotJson { .. })
    ));
    admin
        .faults(json!({"rules": [{"path": "/ssl/renew", "fault": "http500", "count": 1}]}))
        .await;
    match client.renew(&req).await {
        Err(e @ Error::HttpStatus { status: 500, .. }) => {
            assert!(e.may_have_placed_order());
            assert!(e.to_string().contains("500 Internal Server Error"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    admin
            .faults(json!({"rules": [{"path": "/ssl/renew", "fault": "delay_after_commit", "delay_ms": 1500, "count": 1}]}))
            .await;
    match client.renew(&req).await {
        Err(e @ Error::Timeout { .. }) => {
            assert!(e.may_have_placed_order());
            assert!(e.to_string().contains("MAY HAVE BEEN PLACED"), "{e}");
        }
        other => panic!("{other:?}"),
    }

    // Connection refused: a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let refused = testkit::client(&format!("http://127.0.0.1:{port}"), FAST);
    match refused.renew(&req).await {
        Err(e @ Error::NotSent { .. }) => {
            assert!(!e.may_have_placed_order());
            assert!(e.to_string().contains("nothing was sent"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    // Wrong shape: JSON without a code.
    assert!(matches!(
        parse_envelope(Operation::Collect, 200, "{\"data\":{}}"),
        Err(Error::BadShape { .. })
    ));
    assert!(matches!(
        parse_envelope(Operation::Collect, 200, "[1,2]"),
        Err(Error::BadShape { .. })
    ));
    assert!(matches!(
        parse_envelope(Operation::Collect, 200, "{\"code\":{\"x\":1}}"),
        Err(Error::BadShape { .. })
    ));
}

#[tokio::test]
async fn a_renew_lost_after_commit_is_found_by_ref_id() {
    let sb = testkit::start(testkit::config()).await;
    let admin = Admin::new(&sb);
    let client = testkit::client(&sb.url(), FAST);
    let (pem, _) = testkit::csr(&["www.example.com"]);
    let mut req = testkit::renew_request(&pem);
    req.ref_id = Some("lost-1".into());
    admin
        .faults(
            json!({"rules": [{"path": "/ssl/renew", "fault": "drop_after_commit", "count": 1}]}),
        )
        .await;
    let err = client.renew(&req).await.expect_err("dropped");
    assert!(matches!(err, Error::ConnectionLost { .. }), "{err:?}");
    assert!(err.may_have_placed_order());
    assert_eq!(
        admin.count("/ssl/renew").await,
        1,
        "renew must not be retried"
    );
    let found = client.cert_id_by_ref_id("lost-1").await.expect("lookup");
    let orders = admin.get("/sandbox/orders").await;
    let placed = orders["orders"]
        .as_array()
        .and_then(|a| a.iter().find(|o| o["ref_id"] == "lost-1"))
        .map(|o| o["cert_id"].as_str().unwrap_or_default().to_string());
    assert!(found.is_some());
    assert_eq!(found, placed);
    assert_eq!(
        client
            .cert_id_by_ref_id("never-used")
            .await
            .expect("lookup"),
        None
    );
    // Lookup impossible: the endpoint keeps failing.
    admin
        .faults(json!({"rules": [{"path": "/ssl/certIdByrefId", "fault": "http500"}]}))
        .await;
    assert!(matches!(
        client.cert_id_by_ref_id("lost-1").await,
        Err(Error::HttpStatus { status: 500, .. })
    ));
}

#[tokio::test]
async fn collect_is_retried_and_renew_is_not() {
    let sb = testkit::start(testkit::config()).await;
    let admin = Admin::new(&sb);
    let client = testkit::client(&sb.url(), FAST);
    let (pem, _) = testkit::csr(&["www.example.com"]);
    let placed = client
        .renew(&testkit::renew_request(&pem))
        .await
        .expect("renew");

    admin
            .faults(json!({"rules": [{"path": "/ssl/collect", "fault": "http503", "count": 2, "retry_after_secs": 0}]}))
            .await;
    let before = admin.count("/ssl/collect").await;
    let got = client
        .collect(&placed.cert_id)
        .await
        .expect("collect after retries");
    assert_eq!(got.status.as_deref(), Some("PENDING"));
    assert_eq!(got.code, codes::PROCESSING);
    assert_eq!(admin.count("/ssl/collect").await - before, 3);

    // More failures than attempts: the last error comes back.
    admin
        .faults(json!({"rules": [{"path": "/ssl/collect", "fault": "http502", "count": 10}]}))
        .await;
    let before = admin.count("/ssl/collect").await;
    assert!(matches!(
        client.collect(&placed.cert_id).await,
        Err(Error::HttpStatus { status: 502, .. })
    ));
    assert_eq!(admin.count("/ssl/collect").await - before, 4);

    // Retry-After is honoured.
    admin
            .faults(json!({"rules": [{"path": "/ssl/collect", "fault": "http429", "count": 1, "retry_after_secs": 1}]}))
            .await;
    let t0 = Instant::now();
    client
        .collect(&placed.cert_id)
        .await
        .expect("collect after 429");
    assert!(t0.elapsed() >= Duration::from_secs(1), "{:?}", t0.elapsed());

    // renew: one attempt, even on a retryable status.
    admin.faults(json!({"rules": [{"path": "/ssl/renew", "fault": "http503", "count": 3, "retry_after_secs": 0}]})).await;
    let before = admin.count("/ssl/renew").await;
    let err = client
        .renew(&testkit::renew_request(&pem))
        .await
        .expect_err("503");
    assert!(matches!(err, Error::HttpStatus { status: 503, .. }));
    assert_eq!(admin.count("/ssl/renew").await - before, 1);
    // cancel: no retries either.
    admin.faults(json!({"rules": [{"path": "/ssl/cancel", "fault": "http503", "count": 3, "retry_after_secs": 0}]})).await;
    assert!(client.cancel(&placed.cert_id, "test").await.is_err());
    assert_eq!(admin.count("/ssl/cancel").await, 1);
}

#[tokio::test]
async fn cancel_update_dcv_and_collect_round_trip() {
    let sb = testkit::start(testkit::config()).await;
    let client = testkit::client(&sb.url(), FAST);
    let (pem, _) = testkit::csr(&["www.example.com"]);
    let placed = client
        .renew(&testkit::renew_request(&pem))
        .await
        .expect("renew");
    let upd = client
        .update_dcv(&UpdateDcvRequest {
            cert_id: placed.cert_id.clone(),
            domain_name: Some("www.example.com".into()),
            dcv_method: DcvMethod::Email,
            dcv_email: Some("hostmaster@example.com".into()),
        })
        .await
        .expect("updateDCV");
    assert_eq!(
        upd.dcv, placed.data.dcv,
        "Sectigo CSR-hash material is stable"
    );
    let got = client.collect(&placed.cert_id).await.expect("collect");
    assert_eq!(got.data.dcv_list.len(), 1);
    assert_eq!(got.data.dcv_list[0].dcv_method.as_deref(), Some("EMAIL"));
    assert_eq!(
        got.data.dcv_list[0].dcv_email.as_deref(),
        Some("hostmaster@example.com")
    );
    assert!(!got.data.dcv_list[0].is_verified());
    assert_eq!(
        client
            .cancel(&placed.cert_id, "test")
            .await
            .expect("cancel"),
        CancelOutcome::Cancelled
    );
    assert_eq!(
        client
            .cancel(&placed.cert_id, "test")
            .await
            .expect("cancel again"),
        CancelOutcome::AlreadyCancelled
    );
    let got = client.collect(&placed.cert_id).await.expect("collect");
    assert_eq!((got.code, got.status.as_deref()), (1, Some("CANCELLED")));
    let err = client
        .collect("260101nosuchorder")
        .await
        .expect_err("unknown");
    assert_eq!(err.api_code(), Some(codes::NOT_FOUND_CODE));
}

#[test]
fn bad_configurations_are_refused() {
    let cfg = |url: &str, token: &str| ClientConfig {
        base_url: url.into(),
        token: ApiToken::new(token),
        timeout: FAST,
        retry: RetryPolicy::default(),
    };
    assert!(Client::new(cfg("ftp://x", "t")).is_err());
    assert!(Client::new(cfg("not a url", "t")).is_err());
    assert!(Client::new(cfg("https://portal.nicsrs.com", " ")).is_err());
    let c = Client::new(cfg("http://127.0.0.1:1/", "t")).expect("ok");
    assert_eq!(c.base_url(), "http://127.0.0.1:1");
    assert!(!format!("{c:?}").contains("\"t\""));
    assert!(USER_AGENT.starts_with("terraform-provider-nicsrs/"));
}
