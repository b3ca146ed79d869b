//! Sandbox-only endpoints under `/sandbox/` (Pebble's management port idea):
//! inspect orders and the connections accepted, move the clock, play DCV (a DNS record, an HTTP file, an
//! approved e-mail), seed certificates and set fault plans.
//!
//! DCV endpoints answer HTTP 200 with `{"accepted": true, "verified": [...],
//! "issued": [...]}` or `{"accepted": false, "reason": "..."}`; a body that
//! is not the expected JSON gets the framework's 4xx. An order whose last
//! domain is verified is issued immediately.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};
use time::OffsetDateTime;

use super::faults::{FaultPlan, Faults};
use super::store::{Brand, DomainState, Order, OrderStatus, Store, Validation};
use super::{lock, App, SeedCertificate};
use nicsrs::dcv::authorization_domain;
use nicsrs::types::{format_api_datetime, DcvMaterial, DcvMethod};

pub(crate) fn router() -> Router<Arc<App>> {
    Router::new()
        .route("/sandbox/health", get(health))
        .route("/sandbox/orders", get(orders))
        .route("/sandbox/clock", get(get_clock).post(set_clock))
        .route(
            "/sandbox/faults",
            get(get_faults).post(set_faults).delete(clear_faults),
        )
        .route(
            "/sandbox/requests",
            get(get_requests).delete(clear_requests),
        )
        .route(
            "/sandbox/connections",
            get(get_connections).delete(clear_connections),
        )
        .route("/sandbox/certificates", post(add_certificate))
        .route("/sandbox/dns", post(dns))
        .route("/sandbox/http", post(http_file))
        .route("/sandbox/email/approve", post(email_approve))
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn bad_request(reason: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"accepted": false, "reason": reason.into()})),
    )
        .into_response()
}

async fn health(State(app): State<Arc<App>>) -> Json<Value> {
    let store = app.store();
    Json(json!({"ok": true, "now": rfc3339(store.now()), "orders": store.state.orders.len()}))
}

/// `GET /sandbox/orders`: every order and seeded certificate, oldest first.
async fn orders(State(app): State<Arc<App>>) -> Json<Value> {
    let store = app.store();
    let mut list: Vec<&Order> = store.state.orders.values().collect();
    list.sort_by_key(|o| o.seq);
    Json(json!({ "orders": list }))
}

async fn get_clock(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!({"now": rfc3339(app.store().now())}))
}

#[derive(Deserialize)]
struct ClockBody {
    #[serde(default, with = "time::serde::rfc3339::option")]
    now: Option<OffsetDateTime>,
    #[serde(default)]
    advance_days: Option<i64>,
    #[serde(default)]
    advance_seconds: Option<i64>,
}

/// `POST /sandbox/clock`: `{"now": RFC3339}` and/or `{"advance_days": N}`.
async fn set_clock(State(app): State<Arc<App>>, Json(body): Json<ClockBody>) -> Response {
    let mut store = app.store();
    if let Some(now) = body.now {
        store.state.clock.set(now);
    }
    let secs = body
        .advance_days
        .unwrap_or(0)
        .saturating_mul(86_400)
        .saturating_add(body.advance_seconds.unwrap_or(0));
    store.state.clock.advance_secs(secs);
    if let Err(e) = store.save() {
        return bad_request(e);
    }
    Json(json!({"now": rfc3339(store.now())})).into_response()
}

async fn get_faults(State(app): State<Arc<App>>) -> Json<FaultPlan> {
    Json(lock(&app.faults).plan().clone())
}

/// `POST /sandbox/faults`: replaces the plan.
async fn set_faults(State(app): State<Arc<App>>, Json(plan): Json<FaultPlan>) -> Json<Value> {
    let n = plan.rules.len();
    *lock(&app.faults) = Faults::new(plan);
    Json(json!({"rules": n}))
}

/// `DELETE /sandbox/faults`: no faults.
async fn clear_faults(State(app): State<Arc<App>>) -> Json<Value> {
    *lock(&app.faults) = Faults::new(FaultPlan::default());
    Json(json!({"rules": 0}))
}

/// `GET /sandbox/requests`: `/ssl/*` requests seen per path (faulted ones included).
async fn get_requests(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!({"counts": *lock(&app.requests)}))
}

async fn clear_requests(State(app): State<Arc<App>>) -> Json<Value> {
    lock(&app.requests).clear();
    Json(json!({"counts": {}}))
}

/// `GET /sandbox/connections`: TCP connections accepted since start or the
/// last `DELETE` (this request's own included).
async fn get_connections(State(app): State<Arc<App>>) -> Json<Value> {
    Json(json!({"accepted": app.connections.load(Ordering::Relaxed)}))
}

/// `DELETE /sandbox/connections`: starts counting again from zero.
async fn clear_connections(State(app): State<Arc<App>>) -> Json<Value> {
    app.connections.store(0, Ordering::Relaxed);
    Json(json!({"accepted": 0}))
}

#[derive(Deserialize)]
struct CertificateBody {
    #[serde(default, alias = "certId")]
    cert_id: Option<String>,
    #[serde(alias = "daysLeft")]
    days_left: i64,
    #[serde(default)]
    brand: Option<Brand>,
    #[serde(default)]
    validation: Option<Validation>,
    #[serde(default)]
    domains: Option<Vec<String>>,
}

/// Creates an issued certificate expiring `days_left` days from now
/// (issued 365 days before that, for a one-year subscription).
pub(crate) fn seed_certificate(
    store: &mut Store,
    seed: &SeedCertificate,
) -> Result<String, String> {
    let now = store.now();
    let end = now + time::Duration::days(seed.days_left);
    let begin = end - time::Duration::days(365);
    let domains = if seed.domains.is_empty() {
        vec!["example.com".to_string()]
    } else {
        seed.domains.clone()
    };
    let pem = store.state.ca.issue_new_key(&domains, begin, end)?;
    let seq = store.next_seq();
    let order = Order {
        cert_id: seed.cert_id.clone(),
        seq,
        status: OrderStatus::Complete,
        brand: seed.brand,
        validation: seed.validation,
        seeded: true,
        renew_id: None,
        ref_id: None,
        years: 1,
        server: Some("other".into()),
        unique_value: None,
        csr: None,
        created_at: begin,
        issued_at: Some(begin),
        begin_date: Some(begin),
        end_date: Some(end),
        due_date: Some(end),
        cancelled_at: None,
        cancel_seq: None,
        cancel_reason: None,
        domains: domains
            .iter()
            .map(|d| DomainState {
                domain_name: d.clone(),
                dcv_method: DcvMethod::CnameCsrHash,
                dcv_email: None,
                verified: true,
            })
            .collect(),
        dcv: DcvMaterial::default(),
        certificate: Some(pem),
        collect_count: 0,
        vendor_id: format!("{}", 1_000_000 + seq),
        raw_form: Default::default(),
        params: None,
    };
    store.state.orders.insert(seed.cert_id.clone(), order);
    Ok(seed.cert_id.clone())
}

/// `POST /sandbox/certificates`.
async fn add_certificate(
    State(app): State<Arc<App>>,
    Json(body): Json<CertificateBody>,
) -> Response {
    let mut store = app.store();
    let cert_id = body
        .cert_id
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| store.new_cert_id());
    if store.state.orders.contains_key(&cert_id) {
        return bad_request(format!("certId {cert_id} already exists"));
    }
    let seed = SeedCertificate {
        cert_id,
        days_left: body.days_left,
        brand: body.brand.unwrap_or(Brand::Sectigo),
        validation: body.validation.unwrap_or(Validation::Dv),
        domains: body.domains.unwrap_or_default(),
    };
    let result = seed_certificate(&mut store, &seed).and_then(|id| store.save().map(|()| id));
    match result {
        Ok(id) => {
            let end = store
                .state
                .orders
                .get(&id)
                .and_then(|o| o.end_date)
                .map(format_api_datetime);
            Json(json!({"cert_id": id, "end_date": end})).into_response()
        }
        Err(e) => bad_request(e),
    }
}

/// Marks the domains `matches` selects as verified in every pending order,
/// issues completed orders, saves, and answers.
fn verify_where(
    app: &App,
    mut matches: impl FnMut(&Order, &DomainState) -> Result<bool, String>,
    nothing: &str,
) -> Response {
    let mut store = app.store();
    let mut verified = Vec::new();
    let mut reasons = Vec::new();
    let ids: Vec<String> = store
        .state
        .orders
        .values()
        .filter(|o| o.status == OrderStatus::Pending)
        .map(|o| o.cert_id.clone())
        .collect();
    for id in &ids {
        let Some(order) = store.state.orders.get(id) else {
            continue;
        };
        let mut hits = Vec::new();
        for (i, d) in order.domains.iter().enumerate() {
            if d.verified {
                continue;
            }
            match matches(order, d) {
                Ok(true) => hits.push(i),
                Ok(false) => {}
                Err(reason) => reasons.push(reason),
            }
        }
        if let Some(order) = store.state.orders.get_mut(id) {
            for i in hits {
                if let Some(d) = order.domains.get_mut(i) {
                    d.verified = true;
                    verified.push(json!({"cert_id": id, "domain_name": d.domain_name}));
                }
            }
        }
    }
    if verified.is_empty() {
        let reason = reasons
            .into_iter()
            .next()
            .unwrap_or_else(|| nothing.to_string());
        return Json(json!({"accepted": false, "reason": reason})).into_response();
    }
    let mut issued = Vec::new();
    for id in &ids {
        match store.issue_if_ready(id) {
            Ok(true) => issued.push(id.clone()),
            Ok(false) => {}
            Err(e) => eprintln!("nicsrs-sandbox: issuing {id}: {e}"),
        }
    }
    if let Err(e) = store.save() {
        return bad_request(e);
    }
    Json(json!({"accepted": true, "verified": verified, "issued": issued})).into_response()
}

fn norm_name(s: &str) -> String {
    s.trim().trim_end_matches('.').to_ascii_lowercase()
}

#[derive(Deserialize)]
struct DnsBody {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    value: String,
}

/// `POST /sandbox/dns`: a DNS record now exists. It verifies every pending
/// `CNAME_CSR_HASH` domain whose expected record it is: at
/// `<DCVdnsHost>.<domain>` (Sectigo also accepts a parent domain), of type
/// `DCVdnsType`, with value `DCVdnsValue` (names and CNAME values compared
/// without case or trailing dot; TXT values exactly, quotes stripped).
async fn dns(State(app): State<Arc<App>>, Json(body): Json<DnsBody>) -> Response {
    let name = norm_name(&body.name);
    let kind = body.kind.trim().to_ascii_uppercase();
    let value = body.value.trim().trim_matches('"').to_string();
    verify_where(
        &app,
        |order, d| {
            if d.dcv_method != DcvMethod::CnameCsrHash {
                return Ok(false);
            }
            let (Some(host), Some(want_type), Some(want_value)) = (
                order.dcv.dcv_dns_host.as_deref(),
                order.dcv.dcv_dns_type.as_deref(),
                order.dcv.dcv_dns_value.as_deref(),
            ) else {
                return Ok(false);
            };
            let base = norm_name(authorization_domain(&d.domain_name));
            let host = host.to_ascii_lowercase();
            let mut candidates = vec![format!("{host}.{base}")];
            if order.brand == Brand::Sectigo {
                let labels: Vec<&str> = base.split('.').collect();
                for i in 1..labels.len().saturating_sub(1) {
                    candidates.push(format!("{host}.{}", labels[i..].join(".")));
                }
            }
            if !candidates.contains(&name) {
                return Ok(false);
            }
            if kind != want_type {
                return Err(format!(
                    "order {} expects a {want_type} record at {name}, not {kind}",
                    order.cert_id
                ));
            }
            let same = if want_type == "CNAME" {
                norm_name(&value) == norm_name(want_value)
            } else {
                value == want_value
            };
            if same {
                Ok(true)
            } else {
                Err(format!(
                    "order {} expects {name} {want_type} {want_value}, not {value}",
                    order.cert_id
                ))
            }
        },
        &format!("no pending order asks for a DNS record at {name}"),
    )
}

#[derive(Deserialize)]
struct HttpBody {
    url: String,
    content: String,
}

fn split_url(url: &str) -> Option<(String, String, String)> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    Some((
        scheme.to_ascii_lowercase(),
        norm_name(host),
        format!("/{path}"),
    ))
}

fn norm_content(s: &str) -> String {
    s.replace("\r\n", "\n").trim_end().to_string()
}

/// `POST /sandbox/http`: a file is now served at `url`. It verifies every
/// pending `HTTP_CSR_HASH` (http) or `HTTPS_CSR_HASH` (https) domain whose
/// file this is: `/.well-known/pki-validation/<DCVfileName>` on the domain,
/// holding `DCVfileContent` (line endings and trailing space ignored).
async fn http_file(State(app): State<Arc<App>>, Json(body): Json<HttpBody>) -> Response {
    let Some((scheme, host, path)) = split_url(&body.url) else {
        return bad_request("url must be http(s)://host/path");
    };
    let content = norm_content(&body.content);
    verify_where(
        &app,
        |order, d| {
            let want_scheme = match d.dcv_method {
                DcvMethod::HttpCsrHash => "http",
                DcvMethod::HttpsCsrHash => "https",
                _ => return Ok(false),
            };
            let (Some(file), Some(want)) = (
                order.dcv.dcv_file_name.as_deref(),
                order.dcv.dcv_file_content.as_deref(),
            ) else {
                return Ok(false);
            };
            if host != norm_name(authorization_domain(&d.domain_name))
                || path != nicsrs::dcv::validation_file_path(file)
            {
                return Ok(false);
            }
            if scheme != want_scheme {
                return Err(format!(
                    "order {} validates {} over {want_scheme}, not {scheme}",
                    order.cert_id, d.domain_name
                ));
            }
            if content == norm_content(want) {
                Ok(true)
            } else {
                Err(format!(
                    "order {} expects the file to contain {want:?}",
                    order.cert_id
                ))
            }
        },
        &format!("no pending order asks for a file at {}", body.url.trim()),
    )
}

#[derive(Deserialize)]
struct EmailBody {
    #[serde(alias = "cert_id", rename = "certId")]
    cert_id: String,
    #[serde(alias = "domain_name", rename = "domainName")]
    domain_name: String,
}

/// `POST /sandbox/email/approve`: the approver clicked the link for
/// `domainName` of `certId` (which must use the EMAIL method).
async fn email_approve(State(app): State<Arc<App>>, Json(body): Json<EmailBody>) -> Response {
    let nothing = format!(
        "order {} has no pending EMAIL validation for {}",
        body.cert_id, body.domain_name
    );
    verify_where(
        &app,
        |order, d| {
            Ok(order.cert_id == body.cert_id
                && d.dcv_method == DcvMethod::Email
                && d.domain_name.eq_ignore_ascii_case(body.domain_name.trim()))
        },
        &nothing,
    )
}
