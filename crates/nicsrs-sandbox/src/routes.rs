//! The `/ssl/*` endpoints, answering as NicSRS does: HTTP 200 with the JSON
//! envelope, business failures as codes (see [`nicsrs::codes`]).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::rejection::FormRejection;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Form, Json, Router};
use serde_json::{json, Value};

use super::faults::Fault;
use super::rules::{self, FieldErrors};
use super::store::{dcv_material, Brand, Order, OrderStatus, Validation};
use super::{admin, lock, App};
use nicsrs::types::{format_api_datetime, ApiErrors, DcvMethod, Envelope};
use nicsrs::{codes, server_time};

/// The whole router: `/ssl/*` behind the fault layer, then `/sandbox/*`.
pub(crate) fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/ssl/renew", post(renew))
        .route("/ssl/collect", post(collect))
        .route("/ssl/certIdByrefId", post(cert_id_by_ref_id))
        .route("/ssl/cancel", post(cancel))
        .route("/ssl/updateDCV", post(update_dcv))
        .layer(middleware::from_fn_with_state(app.clone(), inject_faults))
        .merge(admin::router())
        .layer(middleware::from_fn_with_state(app.clone(), server_date))
        .with_state(app)
}

/// Every answer's `Date` is the sandbox's clock, as a real server's is its
/// own: clients that take "now" from NicSRS follow a moved sandbox clock.
async fn server_date(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let date = server_time::format_http_date(app.store().now());
    if let Ok(value) = header::HeaderValue::from_str(&date) {
        response.headers_mut().insert(header::DATE, value);
    }
    response
}

/// An envelope answer (always HTTP 200, as NicSRS).
fn answer(
    code: i64,
    errors: Option<ApiErrors>,
    data: Option<Value>,
    status: Option<&str>,
) -> Response {
    Json(Envelope {
        code,
        msg: None,
        errors,
        status: status.map(str::to_string),
        cert_status: None,
        data,
    })
    .into_response()
}

fn ok(data: Value) -> Response {
    answer(codes::OK, None, Some(data), None)
}

/// A `-1`-style answer with `errors` as a field map.
fn field_error(code: i64, field: &str, msg: impl Into<String>) -> Response {
    let mut errs = FieldErrors::new();
    rules::add(&mut errs, field, msg);
    fields_answer(code, errs)
}

fn fields_answer(code: i64, errs: FieldErrors) -> Response {
    let map = errs
        .into_iter()
        .map(|(k, v)| (k, Value::from(v)))
        .collect::<serde_json::Map<_, _>>();
    answer(code, Some(ApiErrors::Map(map)), None, None)
}

/// An answer with `errors` as a list of one message.
fn message(code: i64, msg: impl Into<String>) -> Response {
    answer(
        code,
        Some(ApiErrors::List(vec![Value::String(msg.into())])),
        None,
        None,
    )
}

fn not_found(field: &str) -> Response {
    field_error(codes::NOT_FOUND_CODE, field, format!("{field} not found"))
}

fn persist_failed(e: &str) -> Response {
    eprintln!("nicsrs-sandbox: {e}");
    message(
        codes::UNKNOWN_ERROR,
        format!("sandbox could not save its state: {e}"),
    )
}

/// Parses the form and checks `api_token`.
fn accept(
    app: &App,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<BTreeMap<String, String>, Box<Response>> {
    let Ok(Form(pairs)) = form else {
        return Err(Box::new(message(
            codes::VALIDATION_FAILED,
            "expected an application/x-www-form-urlencoded body",
        )));
    };
    let map: BTreeMap<String, String> = pairs.into_iter().collect();
    let token_ok = map
        .get("api_token")
        .is_some_and(|t| app.tokens.iter().any(|ok| ok == t));
    if !token_ok {
        return Err(Box::new(message(
            codes::PERMISSION_DENIED,
            "permission denied: api_token is missing or wrong, or this IP address is not allowed",
        )));
    }
    Ok(map)
}

fn required<'a>(form: &'a BTreeMap<String, String>, field: &str) -> Result<&'a str, Box<Response>> {
    form.get(field)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .ok_or_else(|| {
            Box::new(field_error(
                codes::VALIDATION_FAILED,
                field,
                format!("{field} is required"),
            ))
        })
}

type FormResult = Result<Form<Vec<(String, String)>>, FormRejection>;

/// `POST /ssl/renew`.
async fn renew(State(app): State<Arc<App>>, form: FormResult) -> Response {
    let form = match accept(&app, form) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let mut store = app.store();
    let now = store.now();
    let mut errs = FieldErrors::new();
    // The product (brand, validation) is the renewed certificate's.
    let target = form
        .get("renewId")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(|id| (id.to_string(), store.state.orders.get(id).cloned()));
    if let Some((_, None)) = &target {
        rules::add(&mut errs, "renewId", "renewId not found");
    }
    let (brand, validation) = match &target {
        Some((_, Some(o))) => (o.brand, o.validation),
        _ => (Brand::Sectigo, Validation::Dv),
    };
    let valid = rules::validate_renew(&form, brand, validation, &mut errs);
    let (Some(valid), Some((_, Some(target)))) = (valid, target) else {
        return fields_answer(codes::VALIDATION_FAILED, errs);
    };
    if target.status != OrderStatus::Complete {
        return message(
            codes::RENEW_NOT_ALLOWED_CODE,
            format!(
                "certificate {} is {}; only an issued certificate can be renewed",
                target.cert_id,
                target.status.as_str()
            ),
        );
    }
    let end = target.end_date.unwrap_or(now);
    let days_left = (end - now).whole_days();
    if now < codes::renewal_opens(end) {
        return message(
            codes::RENEW_NOT_ALLOWED_CODE,
            format!(
                "certificate {} expires in {days_left} days ({}); renewal is available only when it expires within {} days",
                target.cert_id,
                format_api_datetime(end),
                codes::RENEWAL_WINDOW_DAYS
            ),
        );
    }
    if let Some(r) = &valid.ref_id {
        if store.find_by_ref_id(r).is_some() {
            return field_error(
                codes::VALIDATION_FAILED,
                "refId",
                codes::REF_ID_TAKEN_MESSAGE,
            );
        }
    }
    let cert_id = store.new_cert_id();
    let seq = store.next_seq();
    let mut raw_form = form.clone();
    if let Some(t) = raw_form.get_mut("api_token") {
        *t = "***".into();
    }
    let dcv = dcv_material(
        brand,
        &valid.csr.der,
        valid.unique_value.as_deref(),
        &valid.domains,
    );
    let order = Order {
        cert_id: cert_id.clone(),
        seq,
        status: OrderStatus::Pending,
        brand,
        validation,
        seeded: false,
        renew_id: Some(valid.renew_id.clone()),
        ref_id: valid.ref_id.clone(),
        years: valid.years,
        server: Some(valid.server.clone()),
        unique_value: valid.unique_value.clone(),
        csr: Some(valid.csr_pem.clone()),
        created_at: now,
        issued_at: None,
        begin_date: None,
        end_date: None,
        due_date: None,
        cancelled_at: None,
        cancel_seq: None,
        cancel_reason: None,
        domains: valid.domains.clone(),
        dcv: dcv.clone(),
        certificate: None,
        collect_count: 0,
        vendor_id: format!("{}", 1_000_000 + seq),
        raw_form,
        params: Some(Value::Object(apply_params(&valid))),
    };
    store.state.orders.insert(cert_id.clone(), order);
    if app.auto_validate_after == Some(0) {
        if let Some(o) = store.state.orders.get_mut(&cert_id) {
            o.domains.iter_mut().for_each(|d| d.verified = true);
        }
        if let Err(e) = store.issue_if_ready(&cert_id) {
            eprintln!("nicsrs-sandbox: issuing {cert_id}: {e}");
        }
    }
    if let Err(e) = store.save() {
        return persist_failed(&e);
    }
    let mut data = serde_json::to_value(&dcv).unwrap_or_else(|_| json!({}));
    if let Some(m) = data.as_object_mut() {
        m.insert("certId".into(), Value::String(cert_id));
        m.insert(
            "vendorId".into(),
            Value::String(format!("{}", 1_000_000 + seq)),
        );
        m.insert("applyTime".into(), Value::String(format_api_datetime(now)));
    }
    ok(data)
}

/// What `collect` reports as `applyParams`: the submitted parameters,
/// `params` with the call's `renewId` and `years`. *Inferred*: the real API
/// is not known to report `renewId` and `years` (clients must cope without
/// them); the sandbox does, so the code that reads them is exercised.
fn apply_params(valid: &rules::ValidRenew) -> serde_json::Map<String, Value> {
    let mut params = valid.params.clone();
    params.insert("renewId".into(), Value::String(valid.renew_id.clone()));
    params.insert("years".into(), json!(valid.years));
    params
}

/// `POST /ssl/collect`.
async fn collect(State(app): State<Arc<App>>, form: FormResult) -> Response {
    let form = match accept(&app, form) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let cert_id = match required(&form, "certId") {
        Ok(id) => id.to_string(),
        Err(r) => return *r,
    };
    let mut store = app.store();
    let Some(order) = store.state.orders.get_mut(&cert_id) else {
        return not_found("certId");
    };
    if order.status == OrderStatus::Pending {
        order.collect_count = order.collect_count.saturating_add(1);
        if app
            .auto_validate_after
            .is_some_and(|n| order.collect_count >= n)
        {
            order.domains.iter_mut().for_each(|d| d.verified = true);
        }
    }
    if let Err(e) = store.issue_if_ready(&cert_id) {
        return message(codes::CA_REQUEST_FAILED, format!("CA request failed: {e}"));
    }
    if let Err(e) = store.save() {
        return persist_failed(&e);
    }
    let Some(order) = store.state.orders.get(&cert_id) else {
        return not_found("certId");
    };
    let data = order.collect_data(&store.state.ca.cert_pem);
    let code = if order.status == OrderStatus::Pending {
        codes::COLLECT_PENDING_CODE
    } else {
        codes::OK
    };
    answer(
        code,
        None,
        Some(serde_json::to_value(&data).unwrap_or_else(|_| json!({}))),
        Some(order.status.as_str()),
    )
}

/// `POST /ssl/certIdByrefId`.
async fn cert_id_by_ref_id(State(app): State<Arc<App>>, form: FormResult) -> Response {
    let form = match accept(&app, form) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let ref_id = match required(&form, "refId") {
        Ok(id) => id,
        Err(r) => return *r,
    };
    let store = app.store();
    match store.find_by_ref_id(ref_id) {
        Some(o) => ok(json!({ "certId": o.cert_id })),
        None => not_found("refId"),
    }
}

/// `POST /ssl/cancel`: pending orders, or issued within 30 days.
async fn cancel(State(app): State<Arc<App>>, form: FormResult) -> Response {
    let form = match accept(&app, form) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let cert_id = match required(&form, "certId") {
        Ok(id) => id.to_string(),
        Err(r) => return *r,
    };
    let reason = match required(&form, "reason") {
        Ok(r) => r.to_string(),
        Err(r) => return *r,
    };
    let mut store = app.store();
    let now = store.now();
    let Some(order) = store.state.orders.get_mut(&cert_id) else {
        return not_found("certId");
    };
    match order.status {
        OrderStatus::Cancelled => {
            return message(codes::ALREADY_CANCELLED, "order already cancelled")
        }
        OrderStatus::Complete => {
            let issued = order.issued_at.unwrap_or(now);
            let days = (now - issued).whole_days();
            if days > codes::CANCEL_WINDOW_DAYS {
                return message(
                    codes::CANCEL_TOO_LATE_CODE,
                    format!(
                        "certificate was issued {days} days ago; an issued certificate can be cancelled only within {} days of issue",
                        codes::CANCEL_WINDOW_DAYS
                    ),
                );
            }
        }
        OrderStatus::Pending => {}
    }
    order.status = OrderStatus::Cancelled;
    order.cancelled_at = Some(now);
    order.cancel_reason = Some(reason);
    let cert_id = order.cert_id.clone();
    let seq = store.next_seq();
    if let Some(order) = store.state.orders.get_mut(&cert_id) {
        order.cancel_seq = Some(seq);
    }
    if let Err(e) = store.save() {
        return persist_failed(&e);
    }
    answer(codes::OK, None, None, None)
}

/// `POST /ssl/updateDCV`: pending orders only.
async fn update_dcv(State(app): State<Arc<App>>, form: FormResult) -> Response {
    let form = match accept(&app, form) {
        Ok(f) => f,
        Err(r) => return *r,
    };
    let cert_id = match required(&form, "certId") {
        Ok(id) => id.to_string(),
        Err(r) => return *r,
    };
    let mut store = app.store();
    let Some(order) = store.state.orders.get_mut(&cert_id) else {
        return not_found("certId");
    };
    if order.status != OrderStatus::Pending {
        return message(
            codes::NOT_PENDING_CODE,
            format!(
                "order status {} does not allow DCV changes",
                order.status.as_str()
            ),
        );
    }
    let method =
        match form
            .get("dcvMethod")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
        {
            None => {
                return field_error(
                    codes::VALIDATION_FAILED,
                    "dcvMethod",
                    "dcvMethod is required",
                )
            }
            Some(m) => match DcvMethod::parse(m) {
                Some(m) => m,
                None => return field_error(
                    codes::VALIDATION_FAILED,
                    "dcvMethod",
                    "dcvMethod must be one of EMAIL, HTTP_CSR_HASH, CNAME_CSR_HASH, HTTPS_CSR_HASH",
                ),
            },
        };
    let domain = match form
        .get("domainName")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        Some(d) => d.to_string(),
        None if order.domains.len() == 1 => order.domains[0].domain_name.clone(),
        None => {
            return field_error(
                codes::VALIDATION_FAILED,
                "domainName",
                "domainName is required for multi-domain orders",
            )
        }
    };
    let Some(index) = order
        .domains
        .iter()
        .position(|d| d.domain_name.eq_ignore_ascii_case(&domain))
    else {
        return field_error(
            codes::VALIDATION_FAILED,
            "domainName",
            format!("domainName {domain} is not in this order"),
        );
    };
    let email = form
        .get("dcvEmail")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty());
    let mut errs = FieldErrors::new();
    rules::dcv_email(
        &domain,
        Some(method),
        email,
        order.brand,
        "dcvEmail",
        &mut errs,
    );
    if matches!(method, DcvMethod::HttpCsrHash | DcvMethod::HttpsCsrHash)
        && domain.starts_with("*.")
    {
        rules::add(
            &mut errs,
            "dcvMethod",
            format!("{method} cannot validate the wildcard {domain}; use CNAME_CSR_HASH or EMAIL"),
        );
    }
    if !errs.is_empty() {
        return fields_answer(codes::VALIDATION_FAILED, errs);
    }
    let d = &mut order.domains[index];
    d.dcv_method = method;
    d.dcv_email = if method == DcvMethod::Email {
        email.map(str::to_string)
    } else {
        None
    };
    d.verified = false;
    let der = order
        .csr
        .as_deref()
        .and_then(|pem| nicsrs::dcv::pem_to_der(pem).ok())
        .unwrap_or_default();
    order.dcv = dcv_material(
        order.brand,
        &der,
        order.unique_value.as_deref(),
        &order.domains,
    );
    let data = serde_json::to_value(&order.dcv).unwrap_or_else(|_| json!({}));
    if let Err(e) = store.save() {
        return persist_failed(&e);
    }
    ok(data)
}

/// Counts `/ssl/*` requests and applies the fault plan.
async fn inject_faults(State(app): State<Arc<App>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    *lock(&app.requests).entry(path.clone()).or_insert(0) += 1;
    let rule = lock(&app.faults).pick(&path);
    let Some(rule) = rule else {
        return next.run(req).await;
    };
    let html = |status: StatusCode, title: &str| {
        (
            status,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            format!("<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1><p>nicsrs-sandbox injected fault</p></body></html>"),
        )
            .into_response()
    };
    let with_retry_after = |mut r: Response| {
        let secs = rule.retry_after_secs.unwrap_or(1).to_string();
        if let Ok(v) = secs.parse() {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    };
    let delay = Duration::from_millis(rule.delay_ms.unwrap_or(5000));
    match rule.fault {
        Fault::Http500 => html(
            StatusCode::INTERNAL_SERVER_ERROR,
            "500 Internal Server Error",
        ),
        Fault::Http502 => html(StatusCode::BAD_GATEWAY, "502 Bad Gateway"),
        Fault::Http503 => with_retry_after(html(
            StatusCode::SERVICE_UNAVAILABLE,
            "503 Service Unavailable",
        )),
        Fault::Http504 => html(StatusCode::GATEWAY_TIMEOUT, "504 Gateway Timeout"),
        Fault::Http429 => {
            with_retry_after(html(StatusCode::TOO_MANY_REQUESTS, "429 Too Many Requests"))
        }
        Fault::Html => html(StatusCode::OK, "Maintenance"),
        Fault::Malformed => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"code\":1,\"data\":{\"certId\":\"26",
        )
            .into_response(),
        Fault::Empty => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            "",
        )
            .into_response(),
        Fault::ApiError => {
            let errors = rule
                .errors
                .clone()
                .unwrap_or_else(|| json!(["injected fault"]));
            let errors = serde_json::from_value(errors).ok();
            answer(
                rule.code.unwrap_or(codes::UNKNOWN_ERROR),
                errors,
                None,
                None,
            )
        }
        Fault::Delay => {
            tokio::time::sleep(delay).await;
            next.run(req).await
        }
        Fault::DelayAfterCommit => {
            let resp = next.run(req).await;
            tokio::time::sleep(delay).await;
            resp
        }
        Fault::LateCommit => {
            // The front end gives up at once; the backend records the order
            // `delay_ms` later, after the client has stopped waiting.
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                drop(next.run(req).await);
            });
            html(StatusCode::GATEWAY_TIMEOUT, "504 Gateway Timeout")
        }
        Fault::DropAfterCommit => {
            // Run the handler (the order is recorded), throw its answer away
            // and send a body that fails: hyper then closes the connection
            // without completing the response.
            drop(next.run(req).await);
            let failing = futures_util::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::other(
                    "nicsrs-sandbox: drop_after_commit",
                ))
            });
            Response::new(Body::from_stream(failing))
        }
    }
}
