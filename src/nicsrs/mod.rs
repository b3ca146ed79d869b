//! The NicSRS reseller API client, usable without Terraform.
//!
//! Every call is a `POST <base_url>/ssl/<endpoint>` with an
//! `application/x-www-form-urlencoded` body carrying `api_token`; nested
//! structures travel as one form field holding JSON (`params`). Answers are
//! a JSON envelope (`code`, `msg`, `errors`, `data`, and `status` on
//! collect); codes `1` and `2` are success, anything else becomes
//! [`Error::Api`]. See [`error`] for how failures are classified and
//! [`retry`] for what is retried.

pub mod codes;
pub mod dcv;
pub mod error;
#[cfg(test)]
mod hostile_tests;
pub mod ordering;
#[cfg(test)]
mod property_tests;
pub mod retry;
pub mod rules;
pub mod secret;
pub mod server_time;
pub mod types;

use std::sync::Arc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;

pub use dcv::SectigoCsrHash;
pub use error::{Error, Operation};
pub use retry::RetryPolicy;
pub use secret::ApiToken;
pub use types::{
    AppliedContact, AppliedDomain, AppliedOrganization, ApplyParams, CancelOutcome, CollectData,
    CollectResponse, Contact, DcvEntry, DcvMaterial, DcvMethod, DomainInfo, OrganizationInfo,
    RenewData, RenewParams, RenewRequest, RenewResponse, StageStatus, UpdateDcvRequest,
    UpdateDcvResponse,
};

use error::{snippet, SNIPPET_CHARS};
use types::{CertIdData, Envelope};

/// The production API base URL.
pub const DEFAULT_BASE_URL: &str = "https://portal.nicsrs.com";

/// The largest answer read. An issued certificate with its chain and key
/// stores is tens of kilobytes; this leaves a wide margin.
pub const MAX_BODY_BYTES: usize = 4 << 20;

/// The `User-Agent` header every request carries.
pub const USER_AGENT: &str = concat!("terraform-provider-nicsrs/", env!("CARGO_PKG_VERSION"));

/// How to reach NicSRS.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://portal.nicsrs.com`, or `http://127.0.0.1:PORT` for the sandbox.
    pub base_url: String,
    /// The API token.
    pub token: ApiToken,
    /// The timeout of one attempt, connection to last byte.
    pub timeout: Duration,
    /// The retry policy for idempotent reads.
    pub retry: RetryPolicy,
}

impl ClientConfig {
    /// Production URL, a 60 s timeout and the default retry policy.
    pub fn new(token: ApiToken) -> Self {
        ClientConfig {
            base_url: DEFAULT_BASE_URL.to_string(),
            token,
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
        }
    }
}

/// A NicSRS API client with its own connection pool. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    token: ApiToken,
    timeout: Duration,
    retry: RetryPolicy,
    /// NicSRS's clock, from the `Date` of its answers (see [`server_time`]).
    clock: Arc<server_time::ServerClock>,
}

impl Client {
    /// Builds a client. The base URL must be `http://` or `https://`; TLS
    /// certificates are always verified.
    pub fn new(cfg: ClientConfig) -> Result<Client, Error> {
        let base_url = cfg.base_url.trim().trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base_url).map_err(|e| Error::Config {
            message: format!("base_url {base_url:?} is not a URL: {e}"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(Error::Config {
                message: format!(
                    "base_url {base_url:?} must be an http:// or https:// URL with a host"
                ),
            });
        }
        if cfg.token.is_blank() {
            return Err(Error::Config {
                message: "the API token is empty".into(),
            });
        }
        if cfg.timeout.is_zero() {
            return Err(Error::Config {
                message: "the timeout must be longer than zero".into(),
            });
        }
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            // A redirect would re-send the token and the order to another
            // address (maybe over plain http, maybe after the order was
            // committed): never followed, reported as the status it is.
            .redirect(reqwest::redirect::Policy::none())
            .timeout(cfg.timeout)
            .connect_timeout(cfg.timeout.min(Duration::from_secs(15)))
            .build()
            .map_err(|e| Error::Config {
                message: format!("cannot build the HTTP client: {e}"),
            })?;
        Ok(Client {
            http,
            base_url,
            token: cfg.token,
            timeout: cfg.timeout,
            retry: cfg.retry,
            clock: Arc::default(),
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// `POST /ssl/renew`: places a renewal order. Never retried once the
    /// request may have reached NicSRS; on failure check
    /// [`Error::may_have_placed_order`].
    pub async fn renew(&self, req: &RenewRequest) -> Result<RenewResponse, Error> {
        let op = Operation::Renew;
        let form = req
            .form_fields(self.token.expose())
            .map_err(|e| Error::Config {
                message: format!("cannot encode the renew params: {e}"),
            })?;
        let (env, body) = self.call(op, &form).await?;
        let data: types::RenewData = decode_data(op, &env, &body)?;
        match data.cert_id.clone().filter(|id| !id.trim().is_empty()) {
            Some(cert_id) => Ok(RenewResponse {
                cert_id,
                code: env.code,
                data,
            }),
            None => Err(Error::BadShape {
                op,
                detail: "success answer without data.certId".into(),
                snippet: snippet(&body, SNIPPET_CHARS),
            }),
        }
    }

    /// `POST /ssl/collect`: status and material of an order. Code `2`
    /// (still being issued) is a success with `code == 2`.
    pub async fn collect(&self, cert_id: &str) -> Result<CollectResponse, Error> {
        let op = Operation::Collect;
        let form = [
            ("api_token", self.token.expose().to_string()),
            ("certId", cert_id.to_string()),
        ];
        let (env, body) = self.call(op, &form).await?;
        let data: CollectData = decode_data(op, &env, &body)?;
        Ok(CollectResponse {
            code: env.code,
            status: env.status,
            cert_status: env.cert_status,
            data,
        })
    }

    /// `POST /ssl/certIdByrefId`: the certId of the order placed with
    /// `ref_id`. `Ok(None)` means NicSRS said there is none (see
    /// [`codes::is_not_found`] for how that is recognised); any failure to
    /// find out is an `Err`.
    pub async fn cert_id_by_ref_id(&self, ref_id: &str) -> Result<Option<String>, Error> {
        let op = Operation::CertIdByRefId;
        let form = [
            ("api_token", self.token.expose().to_string()),
            ("refId", ref_id.to_string()),
        ];
        match self.call(op, &form).await {
            Ok((env, body)) => {
                let data: CertIdData = decode_data(op, &env, &body)?;
                Ok(data.cert_id.filter(|id| !id.trim().is_empty()))
            }
            Err(Error::Api { code, errors, .. }) if codes::is_not_found(code, &errors) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /ssl/cancel`. Code `-8` (already cancelled) counts as done.
    pub async fn cancel(&self, cert_id: &str, reason: &str) -> Result<CancelOutcome, Error> {
        let op = Operation::Cancel;
        let form = [
            ("api_token", self.token.expose().to_string()),
            ("certId", cert_id.to_string()),
            ("reason", reason.to_string()),
        ];
        match self.call(op, &form).await {
            Ok(_) => Ok(CancelOutcome::Cancelled),
            Err(Error::Api { code, .. }) if code == codes::ALREADY_CANCELLED => {
                Ok(CancelOutcome::AlreadyCancelled)
            }
            Err(e) => Err(e),
        }
    }

    /// `POST /ssl/updateDCV`: changes a pending order's DCV method.
    pub async fn update_dcv(&self, req: &UpdateDcvRequest) -> Result<UpdateDcvResponse, Error> {
        let op = Operation::UpdateDcv;
        let form = req.form_fields(self.token.expose());
        let (env, body) = self.call(op, &form).await?;
        let dcv: DcvMaterial = decode_data(op, &env, &body)?;
        Ok(UpdateDcvResponse {
            code: env.code,
            dcv,
        })
    }

    /// Sends with the retry policy; returns the success envelope and the body.
    async fn call(
        &self,
        op: Operation,
        form: &[(&str, String)],
    ) -> Result<(Envelope, String), Error> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match self.send_once(op, form).await {
                Ok(ok) => return Ok(ok),
                Err(e) => match self.retry.next_delay(op, attempt, &e) {
                    None => return Err(e.scrubbed(self.token.expose())),
                    Some(delay) => tokio::time::sleep(delay).await,
                },
            }
        }
    }

    async fn send_once(
        &self,
        op: Operation,
        form: &[(&str, String)],
    ) -> Result<(Envelope, String), Error> {
        let url = format!("{}{}", self.base_url, op.path());
        let resp = self
            .http
            .post(&url)
            .form(form)
            .send()
            .await
            .map_err(|e| self.transport_error(op, e, false))?;
        let status = resp.status().as_u16();
        self.clock.observe(
            resp.headers()
                .get(reqwest::header::DATE)
                .and_then(|v| v.to_str().ok()),
        );
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = self.read_body(op, status, resp).await?;
        if !(200..300).contains(&status) {
            return Err(Error::HttpStatus {
                op,
                status,
                body: snippet(&body, SNIPPET_CHARS),
                retry_after,
            });
        }
        let env = parse_envelope(op, status, &body)?;
        Ok((env, body))
    }

    /// The answer's body, read up to [`MAX_BODY_BYTES`]: a misbehaving
    /// server cannot make the provider's memory grow without bound.
    async fn read_body(
        &self,
        op: Operation,
        status: u16,
        mut resp: reqwest::Response,
    ) -> Result<String, Error> {
        let too_large = || {
            Error::BadShape {
            op,
            detail: format!(
                "the answer (HTTP {status}) is larger than {} MiB, more than any NicSRS answer; it was not read",
                MAX_BODY_BYTES >> 20
            ),
            snippet: String::new(),
        }
        };
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_BODY_BYTES as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| self.transport_error(op, e, true))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(String::from_utf8_lossy(&body).into_owned())
    }

    /// Classifies a reqwest failure by whether the request left this machine.
    fn transport_error(&self, op: Operation, e: reqwest::Error, answered: bool) -> Error {
        // Connect-phase failures (refused, DNS, TLS handshake, connect
        // timeout) happen before a byte of the request is written.
        if e.is_connect() && !answered {
            Error::NotSent { op, source: e }
        } else if e.is_timeout() {
            Error::Timeout {
                op,
                after: self.timeout,
            }
        } else if e.is_builder() {
            Error::Config {
                message: format!("cannot build the {op} request: {e}"),
            }
        } else {
            Error::ConnectionLost { op, source: e }
        }
    }
}

/// Parses a 2xx body into the envelope; error codes become [`Error::Api`].
pub fn parse_envelope(op: Operation, status: u16, body: &str) -> Result<Envelope, Error> {
    let text = body.trim_start_matches('\u{feff}').trim();
    let value: Value = serde_json::from_str(text).map_err(|_| Error::NotJson {
        op,
        status,
        snippet: snippet(body, SNIPPET_CHARS),
    })?;
    if !value.is_object() {
        return Err(Error::BadShape {
            op,
            detail: format!(
                "expected a JSON object, found {}",
                types::lenient::kind(&value)
            ),
            snippet: snippet(body, SNIPPET_CHARS),
        });
    }
    if value.get("code").is_none() {
        return Err(Error::BadShape {
            op,
            detail: "no \"code\" field".into(),
            snippet: snippet(body, SNIPPET_CHARS),
        });
    }
    let env: Envelope = serde_json::from_value(value).map_err(|e| Error::BadShape {
        op,
        detail: e.to_string(),
        snippet: snippet(body, SNIPPET_CHARS),
    })?;
    if codes::is_success(env.code) {
        Ok(env)
    } else {
        let errors = env
            .errors
            .as_ref()
            .map(|e| e.messages())
            .unwrap_or_default();
        Err(Error::api(op, env.code, errors, env.msg))
    }
}

/// Decodes `data`; absent, `null` and PHP's empty `[]` are an empty object.
///
/// Public, with [`parse_envelope`], so the fuzz targets reach the parser the
/// client really uses.
pub fn decode_data<T: DeserializeOwned + Default>(
    op: Operation,
    env: &Envelope,
    body: &str,
) -> Result<T, Error> {
    match &env.data {
        None | Some(Value::Null) => Ok(T::default()),
        Some(Value::Array(a)) if a.is_empty() => Ok(T::default()),
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| Error::BadShape {
            op,
            detail: format!("data: {e}"),
            snippet: snippet(body, SNIPPET_CHARS),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::time::{Duration, Instant};

    use serde_json::{json, Value};

    use super::*;
    use crate::sandbox::testkit::{self, Admin, SEED_ID};

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
            token: ApiToken::new(crate::sandbox::DEFAULT_TOKEN),
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
            .faults(json!({"rules": [{"path": "/ssl/collect", "fault": "api_error", "code": -2, "count": 3,
                "errors": ["Order does not exist or system busy, please retry"]}]}))
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
            .faults(json!({"rules": [{"path": "/ssl/renew", "fault": "drop_after_commit", "count": 1}]}))
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
}
