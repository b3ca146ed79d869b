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
pub mod ordering;
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
    AppliedContact, AppliedDomain, ApplyParams, CancelOutcome, CollectData, CollectResponse,
    Contact, DcvEntry, DcvMaterial, DcvMethod, DomainInfo, OrganizationInfo, RenewData,
    RenewParams, RenewRequest, RenewResponse, StageStatus, UpdateDcvRequest, UpdateDcvResponse,
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
