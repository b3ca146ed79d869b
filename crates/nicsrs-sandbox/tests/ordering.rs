//! The order-once rules against the in-process sandbox.

use std::time::Duration;

use serde_json::json;

use nicsrs::ordering::*;
use nicsrs::*;
use nicsrs::{DcvMethod, DomainInfo};
use nicsrs_sandbox::testkit::{self, Admin};

const FAST: Duration = Duration::from_secs(2);

fn quick_window() -> AmbiguityWindow {
    AmbiguityWindow {
        waits: [100, 200, 400, 800].map(Duration::from_millis).to_vec(),
    }
}

fn intent(request: &RenewRequest, policy: RefIdPolicy) -> Intent<'_> {
    Intent {
        request,
        policy,
        replacing: None,
    }
}

/// A sandbox with a certificate due for renewal, its admin API, a client,
/// and a renewal of that certificate for `www.example.com`.
struct World {
    sandbox: nicsrs_sandbox::RunningSandbox,
    admin: Admin,
    client: Client,
    request: RenewRequest,
}

async fn world() -> World {
    let sandbox = testkit::start(testkit::config()).await;
    let admin = Admin::new(&sandbox);
    let client = testkit::client(&sandbox.url(), FAST);
    let (pem, _) = testkit::csr(&["www.example.com"]);
    let request = testkit::renew_request(&pem);
    World {
        sandbox,
        admin,
        client,
        request,
    }
}

async fn once(client: &Client, intent: &Intent<'_>) -> Result<Ordered, OrderError> {
    order_once(client, intent, None, &Claims::default(), &quick_window()).await
}

#[test]
fn derived_ref_ids_follow_the_order_content_only() {
    let (pem, _) = testkit::csr(&["www.example.com", "api.example.com"]);
    let mut request = testkit::renew_request(&pem);
    request.params.domain_info.push(DomainInfo {
        domain_name: "api.example.com".into(),
        dcv_method: DcvMethod::CnameCsrHash,
        dcv_email: None,
    });
    let base = derived_base(&request).expect("base");
    assert_eq!(base.len() + 2, DERIVED_LEN);
    assert!(base.starts_with(DERIVED_PREFIX));
    assert!(
        base.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        "{base}"
    );
    assert_eq!(derived_ref_id(&base, 0), format!("{base}00"));
    assert_eq!(derived_ref_id(&base, 7), format!("{base}07"));

    // Same order, said differently: same base.
    let mut same = request.clone();
    same.params.domain_info.reverse();
    same.params.domain_info[0].domain_name = "API.Example.com".into();
    same.params.domain_info[0].dcv_method = DcvMethod::HttpCsrHash;
    assert_eq!(derived_base(&same).expect("base"), base);

    // A different order: a different base.
    let (new_key_pem, _) = testkit::csr(&["www.example.com", "api.example.com"]);
    type Change = Box<dyn Fn(&mut RenewRequest)>;
    let changes: Vec<(&str, Change)> = vec![
        ("renew_id", Box::new(|r| r.renew_id = "other".into())),
        ("years", Box::new(|r| r.years = 2)),
        ("key", Box::new(move |r| r.params.csr = new_key_pem.clone())),
        ("server", Box::new(|r| r.params.server = "nginx".into())),
        (
            "domains",
            Box::new(|r| {
                r.params.domain_info.pop();
            }),
        ),
        (
            "unique value",
            Box::new(|r| r.params.unique_value = Some("abc".into())),
        ),
        (
            "a contact",
            Box::new(|r| r.params.administrator = testkit::contact("someone else")),
        ),
        (
            "a finance contact",
            Box::new(|r| r.params.finance = Some(testkit::contact("finance"))),
        ),
    ];
    for (what, change) in changes {
        let mut changed = request.clone();
        change(&mut changed);
        assert_ne!(derived_base(&changed).expect("base"), base, "{what}");
    }
    request.params.csr = "garbage".into();
    assert!(derived_base(&request).is_err());
}

#[tokio::test]
async fn a_derived_order_is_placed_once_and_found_again() {
    let World {
        sandbox: _sandbox,
        admin,
        client,
        request,
    } = world().await;
    let want = intent(&request, RefIdPolicy::Derived);

    let first = once(&client, &want).await.expect("placed");
    assert_eq!(first.outcome, Outcome::Placed);
    assert_eq!(
        first.ref_id,
        derived_ref_id(&derived_base(&request).unwrap(), 0)
    );
    // A retry that lost everything (state, plan, process) finds it.
    let again = once(&client, &want).await.expect("adopted");
    assert_eq!(again.outcome, Outcome::AdoptedExisting);
    assert_eq!(again.cert_id, first.cert_id);
    assert_eq!(
        decide(&client, &want).await.expect("decide"),
        Decision::Adopt {
            ref_id: first.ref_id.clone(),
            cert_id: first.cert_id.clone(),
        }
    );
    assert_eq!(admin.placed_orders().await.len(), 1);
    assert_eq!(admin.count("/ssl/renew").await, 1);
}

#[tokio::test]
async fn cancelled_orders_move_the_sequence_on_and_live_ones_are_adopted() {
    let World {
        sandbox: _sandbox,
        admin,
        client,
        request,
    } = world().await;
    let base = derived_base(&request).unwrap();
    let first = once(&client, &intent(&request, RefIdPolicy::Derived))
        .await
        .expect("first");

    // Destroyed with cancel, then created again: a new order, found again on retry.
    client.cancel(&first.cert_id, "test").await.expect("cancel");
    let second = once(&client, &intent(&request, RefIdPolicy::Derived))
        .await
        .expect("second");
    assert_eq!(
        (second.ref_id.as_str(), &second.outcome),
        (derived_ref_id(&base, 1).as_str(), &Outcome::Placed)
    );
    let retry = once(&client, &intent(&request, RefIdPolicy::Derived))
        .await
        .expect("retry");
    assert_eq!(
        (retry.cert_id.as_str(), &retry.outcome),
        (second.cert_id.as_str(), &Outcome::AdoptedExisting)
    );

    // A forced replacement with the same content (taint, -replace) adopts
    // the live order again: the decision rests on NicSRS's records alone,
    // so the plan and the apply agree, and a duplicate is never bought.
    let replacing = Intent {
        replacing: Some(&second.ref_id),
        ..intent(&request, RefIdPolicy::Derived)
    };
    let again = once(&client, &replacing).await.expect("adopted");
    assert_eq!(
        (again.cert_id.as_str(), &again.outcome),
        (second.cert_id.as_str(), &Outcome::AdoptedExisting)
    );
    assert_eq!(admin.placed_orders().await.len(), 2);
}

#[tokio::test]
async fn a_chosen_ref_id_is_adopted_only_when_it_is_the_same_live_order() {
    let World {
        sandbox: _sandbox,
        admin,
        client,
        request,
    } = world().await;
    let chosen = || RefIdPolicy::Chosen("ci-order-1".into());
    let placed = once(&client, &intent(&request, chosen()))
        .await
        .expect("placed");
    assert_eq!(placed.ref_id, "ci-order-1");
    let adopted = once(&client, &intent(&request, chosen()))
        .await
        .expect("adopted");
    assert_eq!(adopted.cert_id, placed.cert_id);

    // A new key under the same refId: refused, with what differs.
    let (rotated, _) = testkit::csr(&["www.example.com"]);
    let other = testkit::renew_request(&rotated);
    match once(&client, &intent(&other, chosen())).await {
        Err(OrderError::Mismatch {
            cert_id,
            differences,
            ..
        }) => {
            assert_eq!(cert_id, placed.cert_id);
            assert_eq!(
                differences
                    .iter()
                    .map(|d| d.field.as_str())
                    .collect::<Vec<_>>(),
                ["csr"]
            );
        }
        other => panic!("{other:?}"),
    }
    // Another domain and method under the same refId.
    let (pem2, _) = testkit::csr(&["api.example.com"]);
    let mut elsewhere = testkit::renew_request(&pem2);
    elsewhere.params.domain_info[0].domain_name = "api.example.com".into();
    match once(&client, &intent(&elsewhere, chosen())).await {
        Err(OrderError::Mismatch { differences, .. }) => {
            assert!(
                differences.iter().any(|d| d.field == "domainName"
                    && d.order == "www.example.com"
                    && d.wanted == "api.example.com"),
                "{differences:?}"
            );
        }
        other => panic!("{other:?}"),
    }
    let mut method = request.clone();
    method.params.domain_info[0].dcv_method = DcvMethod::HttpCsrHash;
    match once(&client, &intent(&method, chosen())).await {
        Err(OrderError::Mismatch { differences, .. }) => assert_eq!(
            differences,
            [Difference {
                field: "dcvMethod of www.example.com".into(),
                order: "CNAME_CSR_HASH".into(),
                wanted: "HTTP_CSR_HASH".into(),
            }]
        ),
        other => panic!("{other:?}"),
    }

    // The order being replaced: refused before any request.
    let before = admin.count("/ssl/certIdByrefId").await;
    let replacing = Intent {
        replacing: Some("ci-order-1"),
        ..intent(&request, chosen())
    };
    assert!(matches!(
        once(&client, &replacing).await,
        Err(OrderError::NamesReplaced { .. })
    ));
    assert_eq!(admin.count("/ssl/certIdByrefId").await, before);

    // A cancelled order is not adopted.
    client
        .cancel(&placed.cert_id, "test")
        .await
        .expect("cancel");
    assert!(matches!(
        once(&client, &intent(&request, chosen())).await,
        Err(OrderError::Cancelled { cert_id, .. }) if cert_id == placed.cert_id
    ));
    assert_eq!(admin.placed_orders().await.len(), 1);
    assert_eq!(admin.count("/ssl/renew").await, 1);
}

#[tokio::test]
async fn two_intents_in_one_process_cannot_share_a_ref_id() {
    let World {
        sandbox: _sandbox,
        admin,
        client,
        request,
    } = world().await;
    let claims = Claims::default();
    let want = intent(&request, RefIdPolicy::Chosen("shared".into()));
    order_once(&client, &want, None, &claims, &quick_window())
        .await
        .expect("first");
    match order_once(&client, &want, None, &claims, &quick_window()).await {
        Err(OrderError::Claimed {
            ref_id,
            other_renew_id,
        }) => {
            assert_eq!(
                (ref_id.as_str(), other_renew_id.as_str()),
                ("shared", testkit::SEED_ID)
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(admin.placed_orders().await.len(), 1);
}

#[tokio::test]
async fn a_plan_that_no_longer_holds_orders_nothing() {
    let World {
        sandbox: _sandbox,
        admin,
        client,
        request,
    } = world().await;
    let want = intent(&request, RefIdPolicy::Derived);
    let result = order_once(
        &client,
        &want,
        Some("tfplannedearlier"),
        &Claims::default(),
        &quick_window(),
    )
    .await;
    assert!(
        matches!(result, Err(OrderError::Moved { planned, .. }) if planned == "tfplannedearlier")
    );
    assert_eq!(admin.count("/ssl/renew").await, 0);
}

#[tokio::test]
async fn a_lost_renew_answer_is_resolved_by_ref_id() {
    for fault in ["drop_after_commit", "http502", "malformed"] {
        let World {
            sandbox: _sandbox,
            admin,
            client,
            request,
        } = world().await;
        admin
            .faults(json!({"rules": [{"path": "/ssl/renew", "fault": fault, "count": 1}]}))
            .await;
        let result = once(&client, &intent(&request, RefIdPolicy::Derived)).await;
        let placed = admin.placed_orders().await;
        match fault {
            // Committed, answer lost: recovered, not ordered twice.
            "drop_after_commit" => {
                let ordered = result.expect("recovered");
                assert!(
                    matches!(ordered.outcome, Outcome::Recovered { .. }),
                    "{ordered:?}"
                );
                assert_eq!(placed.len(), 1);
                assert_eq!(placed[0]["cert_id"], ordered.cert_id.as_str());
            }
            // Not committed: nothing found, said so; the retry orders once.
            _ => {
                assert!(
                    matches!(
                        result,
                        Err(OrderError::Unconfirmed {
                            lookup_error: None,
                            ..
                        })
                    ),
                    "{fault}: {result:?}"
                );
                assert!(placed.is_empty());
                let retry = once(&client, &intent(&request, RefIdPolicy::Derived))
                    .await
                    .expect("retry");
                assert_eq!(retry.outcome, Outcome::Placed);
                assert_eq!(admin.placed_orders().await.len(), 1);
            }
        }
    }
}

#[tokio::test]
async fn a_backend_committing_late_still_yields_one_order() {
    let World {
        sandbox: _sandbox,
        admin,
        client,
        request,
    } = world().await;
    let want = intent(&request, RefIdPolicy::Derived);

    // Within the window: found and adopted.
    admin.faults(json!({"rules": [{"path": "/ssl/renew", "fault": "late_commit", "delay_ms": 250, "count": 1}]})).await;
    let found = once(&client, &want).await.expect("recovered");
    assert!(
        matches!(found.outcome, Outcome::Recovered { .. }),
        "{found:?}"
    );
    assert_eq!(admin.placed_orders().await.len(), 1);

    // Past the window: unconfirmed; the retry orders with the same refId
    // and the late commit is refused, so there is still one order.
    client.cancel(&found.cert_id, "test").await.expect("cancel");
    admin.faults(json!({"rules": [{"path": "/ssl/renew", "fault": "late_commit", "delay_ms": 1500, "count": 1}]})).await;
    let short = AmbiguityWindow {
        waits: vec![Duration::from_millis(50)],
    };
    let unconfirmed = order_once(&client, &want, None, &Claims::default(), &short).await;
    let Err(OrderError::Unconfirmed { ref_id, .. }) = unconfirmed else {
        panic!("{unconfirmed:?}")
    };
    let retry = once(&client, &want).await.expect("retry");
    assert_eq!(
        (retry.ref_id.as_str(), &retry.outcome),
        (ref_id.as_str(), &Outcome::Placed)
    );
    tokio::time::sleep(Duration::from_millis(1800)).await;
    let live: Vec<_> = admin
        .placed_orders()
        .await
        .into_iter()
        .filter(|o| o["ref_id"] == ref_id.as_str())
        .collect();
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(admin.count("/ssl/renew").await, 3);
}

#[tokio::test]
async fn a_ref_id_taken_between_lookup_and_renew_is_adopted() {
    let World {
        sandbox: _sandbox,
        admin,
        client,
        request,
    } = world().await;
    let mut direct = request.clone();
    direct.ref_id = Some("raced".into());
    let first = client.renew(&direct).await.expect("first");
    // The lookup misses it once (as if it committed just after).
    admin
        .faults(
            json!({"rules": [{"path": "/ssl/certIdByrefId", "fault": "api_error", "code": -1,
        "errors": ["refId not found"], "count": 1}]}),
        )
        .await;
    let ordered = once(
        &client,
        &intent(&request, RefIdPolicy::Chosen("raced".into())),
    )
    .await
    .expect("adopted");
    assert_eq!(
        (ordered.cert_id.as_str(), &ordered.outcome),
        (first.cert_id.as_str(), &Outcome::AdoptedTaken)
    );
    assert_eq!(admin.placed_orders().await.len(), 1);
}

#[test]
fn differences_read_apply_params_as_object_or_string() {
    let (pem, _) = testkit::csr(&["www.example.com"]);
    let request = testkit::renew_request(&pem);
    let order = |params: serde_json::Value| CollectResponse {
        code: 1,
        status: Some("PENDING".into()),
        cert_status: None,
        data: nicsrs::CollectData {
            apply_params: Some(params),
            ..Default::default()
        },
    };
    let same = json!({"csr": pem, "server": "other", "renewId": testkit::SEED_ID, "years": 1});
    assert_eq!(differences(&request, &order(same.clone())), []);
    assert_eq!(differences(&request, &order(json!(same.to_string()))), []);
    let other = json!({"server": "nginx", "renewId": "R6", "years": "2", "uniqueValue": "abc"});
    let fields: Vec<String> = differences(&request, &order(other))
        .into_iter()
        .map(|d| d.field)
        .collect();
    assert_eq!(fields, ["renewId", "years", "server", "uniqueValue"]);
}
