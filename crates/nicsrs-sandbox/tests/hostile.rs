//! The client against servers that misbehave on purpose: pages that echo
//! the request (and so the token), and redirects.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;

use nicsrs::*;
use nicsrs_sandbox::reliability::{Kind, Row};
use nicsrs_sandbox::testkit;

/// Records a hostile-server row (in-process, no Terraform).
fn record(scenario: &str, orders: (u64, u64), outputs: &[&str]) {
    Row::measure(
        Kind::HostileServer,
        scenario,
        "client",
        orders,
        TOKEN,
        outputs,
    )
    .record();
}

const TOKEN: &str = "tok/en+with spaces&\"quotes\"-4711";

/// Serves `answer` for every request on a free loopback port; counts requests.
async fn serve(
    answer: impl Fn(String) -> Response + Clone + Send + Sync + 'static,
) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new().fallback(move |body: String| {
        let answer = answer.clone();
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            answer(body)
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, hits)
}

fn client(url: &str) -> Client {
    Client::new(ClientConfig {
        base_url: url.to_string(),
        token: ApiToken::new(TOKEN),
        timeout: Duration::from_secs(5),
        retry: RetryPolicy::none(),
    })
    .expect("client")
}

fn renew_request() -> RenewRequest {
    let (pem, _) = testkit::csr(&["www.example.com"]);
    testkit::renew_request(&pem)
}

#[tokio::test]
async fn an_echoed_request_never_shows_the_token() {
    let pages: Vec<(StatusCode, &str)> = vec![
        (StatusCode::BAD_REQUEST, "text/html"),
        (StatusCode::OK, "text/html"),
        (StatusCode::INTERNAL_SERVER_ERROR, "text/plain"),
    ];
    for (status, kind) in pages {
        let (url, _) = serve(move |body| {
            // The body as sent (URL-encoded), decoded, and JSON-escaped.
            let decoded: Vec<(String, String)> =
                serde_urlencoded_pairs(&body).into_iter().collect();
            let page = format!("<pre>{body}</pre><pre>{decoded:?}</pre>");
            (status, [(header::CONTENT_TYPE, kind)], page).into_response()
        })
        .await;
        let error = client(&url)
            .collect("260101aaaa")
            .await
            .expect_err("an error page");
        let shown = format!("{error} {error:?}");
        for form in secret_forms_for_test() {
            assert!(!shown.contains(&form), "{status}: {form:?} leaked: {shown}");
        }
        assert!(shown.contains("***"), "{status}: {shown}");
        record(
            &format!("an error page ({status}, {kind}) that echoes the request body"),
            (0, 0),
            &[&shown],
        );
    }
    // A JSON error envelope quoting the token back.
    let (url, _) = serve(|_| {
        let body = serde_json::json!({"code": -1, "errors": [format!("api_token {TOKEN} is invalid")], "msg": TOKEN});
        (StatusCode::OK, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
    })
    .await;
    let error = client(&url).collect("x").await.expect_err("error envelope");
    assert!(!format!("{error} {error:?}").contains(TOKEN), "{error}");
}

/// Decodes `a=b&c=d` without another dependency: enough for the test page.
fn serde_urlencoded_pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("00");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn secret_forms_for_test() -> Vec<String> {
    vec![
        TOKEN.to_string(),
        // as the form body carries it
        "tok%2Fen%2Bwith+spaces%26%22quotes%22-4711".to_string(),
        // inside a JSON string
        "tok/en+with spaces&\\\"quotes\\\"-4711".to_string(),
    ]
}

#[tokio::test]
async fn redirects_are_never_followed_and_leave_a_renewal_unresolved() {
    let (elsewhere, elsewhere_hits) =
        serve(|_| (StatusCode::OK, "{\"code\":1}").into_response()).await;
    for status in [301u16, 302, 303, 307, 308] {
        let target = format!("{elsewhere}/ssl/renew");
        let (url, _) = serve(move |_| {
            (
                StatusCode::from_u16(status).expect("status"),
                [(header::LOCATION, target.clone())],
                "",
            )
                .into_response()
        })
        .await;
        let client = client(&url);
        let renew = client
            .renew(&renew_request())
            .await
            .expect_err("a redirect");
        assert!(renew.may_have_placed_order(), "{status}: {renew}");
        assert!(renew.to_string().contains("never followed"), "{renew}");
        let collect = client.collect("x").await.expect_err("a redirect");
        assert!(matches!(collect, Error::HttpStatus { status: s, .. } if s == status));
    }
    let reached = elsewhere_hits.load(Ordering::SeqCst) as u64;
    assert_eq!(reached, 0, "nothing reached the redirect target");
    record(
        "redirects (301, 302, 303, 307, 308) to another host; orders = requests that reached it",
        (0, reached),
        &[],
    );
}

#[tokio::test]
async fn a_huge_answer_is_refused_without_reading_it_all() {
    // Announced (Content-Length) and streamed without a length.
    let (announced, _) = serve(|_| {
        let body = format!(
            "{{\"code\":1,\"data\":{{\"pad\":\"{}\"}}}}",
            "x".repeat(MAX_BODY_BYTES)
        );
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    })
    .await;
    let (streamed, _) = serve(|_| {
        let chunks =
            (0..64).map(|_| Ok::<_, std::io::Error>(axum::body::Bytes::from(vec![b' '; 1 << 20])));
        let body = axum::body::Body::from_stream(futures_util::stream::iter(chunks));
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    })
    .await;
    for url in [announced, streamed] {
        let client = client(&url);
        let error = client.collect("x").await.expect_err("too large");
        assert!(error.to_string().contains("larger than 4 MiB"), "{error}");
        let renew = client.renew(&renew_request()).await.expect_err("too large");
        assert!(renew.may_have_placed_order(), "{renew}");
        record(
            "an answer over 4 MiB (announced and streamed)",
            (0, 0),
            &[&error.to_string(), &renew.to_string()],
        );
    }
}

#[tokio::test]
async fn a_rate_limited_read_waits_as_asked_and_says_why_when_it_gives_up() {
    let sb = testkit::start(testkit::config()).await;
    let admin = testkit::Admin::new(&sb);
    let client = testkit::client(&sb.url(), Duration::from_secs(5));
    admin
        .faults(serde_json::json!({"rules": [{"path": "/ssl/collect", "fault": "http429", "count": 1, "retry_after_secs": 2}]}))
        .await;
    let started = std::time::Instant::now();
    client
        .collect(testkit::SEED_ID)
        .await
        .expect("after waiting");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    // Asked for longer than the cap: no retry, and the error says why.
    admin
        .faults(serde_json::json!({"rules": [{"path": "/ssl/collect", "fault": "http429", "count": 1, "retry_after_secs": 600}]}))
        .await;
    let error = client
        .collect(testkit::SEED_ID)
        .await
        .expect_err("rate limited");
    let text = error.to_string();
    assert!(text.contains("rate limit"), "{text}");
    assert!(text.contains("asked to wait 600 s"), "{text}");
    assert!(text.contains("-parallelism"), "{text}");
    record(
        "429 with Retry-After: 2 s (waited), then 600 s (refused)",
        (0, 0),
        &[&text],
    );
}

#[tokio::test]
async fn a_server_that_drips_its_answer_is_cut_off_at_the_timeout() {
    let (url, _) = serve(|_| {
        let drip = futures_util::stream::unfold(0u32, |n| async move {
            if n > 600 {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(1000)).await;
            Some((
                Ok::<_, std::io::Error>(axum::body::Bytes::from_static(b" ")),
                n + 1,
            ))
        });
        (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            axum::body::Body::from_stream(drip),
        )
            .into_response()
    })
    .await;
    let client = Client::new(ClientConfig {
        base_url: url,
        token: ApiToken::new(TOKEN),
        timeout: Duration::from_secs(2),
        retry: RetryPolicy::none(),
    })
    .expect("client");
    let started = std::time::Instant::now();
    let error = client.renew(&renew_request()).await.expect_err("cut off");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(error, Error::Timeout { .. }), "{error}");
    assert!(
        error.may_have_placed_order(),
        "a renewal cut off mid-answer may exist: {error}"
    );
    record(
        "an answer dripped one byte a second",
        (0, 0),
        &[&error.to_string()],
    );
}
