//! Test helpers shared by the client's and the sandbox's tests: CSRs, a full
//! renew request, and a small admin-API client.

use std::time::Duration;

use rcgen::{CertificateParams, KeyPair};
use serde_json::Value;

use super::{RunningSandbox, Sandbox, SandboxConfig, SeedCertificate};
use nicsrs::{
    ApiToken, Client, ClientConfig, Contact, DcvMethod, DomainInfo, RenewParams, RenewRequest,
    RetryPolicy,
};

/// The seeded certificate every test sandbox has: expires in 30 days.
pub const SEED_ID: &str = "260101seedaaaaaa";

/// A PEM CSR for `names` and its key.
pub fn csr(names: &[&str]) -> (String, KeyPair) {
    let key = KeyPair::generate().expect("key");
    let mut params =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .expect("params");
    params.distinguished_name = rcgen::DistinguishedName::new();
    if let Some(first) = names.first() {
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, *first);
    }
    let pem = params
        .serialize_request(&key)
        .expect("csr")
        .pem()
        .expect("pem");
    (pem, key)
}

/// A contact with all eleven fields.
pub fn contact(who: &str) -> Contact {
    Contact {
        job: Some(format!("{who} job")),
        city: Some("Shanghai".into()),
        email: Some(format!("{who}@example.com")),
        state: Some("Shanghai".into()),
        mobile: Some("18111111111".into()),
        address: Some("1 Road".into()),
        country: Some("CN".into()),
        last_name: Some("Zhang".into()),
        post_code: Some("401320".into()),
        first_name: Some("Nick".into()),
        organization: Some("Example Org".into()),
    }
}

/// A minimal valid renewal of [`SEED_ID`] for `www.example.com` (CNAME DCV).
pub fn renew_request(csr_pem: &str) -> RenewRequest {
    RenewRequest {
        renew_id: SEED_ID.into(),
        years: 1,
        ref_id: None,
        params: RenewParams {
            csr: csr_pem.into(),
            server: "other".into(),
            unique_value: None,
            domain_info: vec![DomainInfo {
                domain_name: "www.example.com".into(),
                dcv_method: DcvMethod::CnameCsrHash,
                dcv_email: None,
            }],
            organization_info: None,
            administrator: contact("admin"),
            finance: None,
            tech: None,
        },
    }
}

/// A sandbox pinned at 2026-05-01 with [`SEED_ID`] seeded.
pub fn config() -> SandboxConfig {
    SandboxConfig {
        now: time::OffsetDateTime::parse(
            "2026-05-01T00:00:00Z",
            &time::format_description::well_known::Rfc3339,
        )
        .ok(),
        seed_certificates: vec![SeedCertificate::new(SEED_ID, 30)],
        ..SandboxConfig::default()
    }
}

/// Starts a sandbox.
pub async fn start(cfg: SandboxConfig) -> RunningSandbox {
    Sandbox::start(cfg).await.expect("sandbox starts")
}

/// A client for `url` with fast retries and `timeout`.
pub fn client(url: &str, timeout: Duration) -> Client {
    Client::new(ClientConfig {
        base_url: url.to_string(),
        token: ApiToken::new(super::DEFAULT_TOKEN),
        timeout,
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(5),
        },
    })
    .expect("client")
}

/// Raw HTTP for the admin API and hand-made forms.
pub struct Admin {
    http: reqwest::Client,
    url: String,
}

impl Admin {
    /// For a running sandbox.
    pub fn new(sb: &RunningSandbox) -> Self {
        Admin {
            http: reqwest::Client::new(),
            url: sb.url(),
        }
    }

    async fn json(resp: reqwest::Response) -> Value {
        let text = resp.text().await.expect("body");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Value {
        Self::json(
            self.http
                .get(format!("{}{path}", self.url))
                .send()
                .await
                .expect("get"),
        )
        .await
    }

    /// `POST path` with JSON.
    pub async fn post(&self, path: &str, body: Value) -> Value {
        let text = body.to_string();
        let resp = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(text)
            .send()
            .await
            .expect("post");
        Self::json(resp).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, path: &str) -> Value {
        Self::json(
            self.http
                .delete(format!("{}{path}", self.url))
                .send()
                .await
                .expect("delete"),
        )
        .await
    }

    /// `POST path` with a form, answer as JSON.
    pub async fn form(&self, path: &str, fields: &[(String, String)]) -> Value {
        let resp = self
            .http
            .post(format!("{}{path}", self.url))
            .form(fields)
            .send()
            .await
            .expect("form post");
        Self::json(resp).await
    }

    /// Sets a fault plan.
    pub async fn faults(&self, plan: Value) {
        let r = self.post("/sandbox/faults", plan).await;
        assert!(r["rules"].is_u64(), "{r}");
    }

    /// Requests seen for `path`.
    pub async fn count(&self, path: &str) -> u64 {
        self.get("/sandbox/requests").await["counts"][path]
            .as_u64()
            .unwrap_or(0)
    }

    /// Every order placed through `/ssl/renew` (seeded certificates left out).
    pub async fn placed_orders(&self) -> Vec<Value> {
        let all = self.get("/sandbox/orders").await;
        all["orders"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|o| o["seeded"] != Value::Bool(true))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The order `cert_id` as `GET /sandbox/orders` lists it.
    pub async fn order(&self, cert_id: &str) -> Value {
        let all = self.get("/sandbox/orders").await;
        all["orders"]
            .as_array()
            .and_then(|a| a.iter().find(|o| o["cert_id"] == cert_id).cloned())
            .unwrap_or_else(|| panic!("no order {cert_id} in {all}"))
    }
}
