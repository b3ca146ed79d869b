//! `nicsrs-sandbox`: a local simulator of the NicSRS reseller API.
//!
//! Same paths, form encoding, envelope, codes and `collect` shape as the
//! real API (it serializes [`nicsrs::types`]), plus sandbox-only
//! endpoints under `/sandbox/` to steer it: list orders, move the clock,
//! "create" DNS records / HTTP files / approve e-mails for DCV, seed
//! certificates and inject faults. Tests start it in-process with
//! [`Sandbox::start`] on `127.0.0.1:0`; the `nicsrs-sandbox` binary wraps
//! the same call.
//!
//! Every behaviour the real API does not document (error codes for unknown
//! ids, the renewal-window code, code 2 on pending collects) comes from
//! [`nicsrs::codes`], so the client and the simulator agree.

mod admin;
pub mod ca;
pub mod clock;
pub mod faults;
pub mod reliability;
mod routes;
pub mod rules;
pub mod store;
/// Helpers for tests of the client and the provider against a sandbox.
pub mod testkit;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::{Fault, FaultPlan, FaultRule};
pub use store::{Brand, Order, OrderStatus, Validation};

/// The token accepted when none is configured.
pub const DEFAULT_TOKEN: &str = "sandbox-token";

/// A certificate to create at start: issued, expiring in `days_left` days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedCertificate {
    /// Its certId (what a renewal's `renewId` names).
    pub cert_id: String,
    /// Days until it expires (negative: already expired).
    pub days_left: i64,
    /// The product's brand.
    pub brand: Brand,
    /// The product's validation type.
    pub validation: Validation,
    /// Its domains (default `example.com`).
    pub domains: Vec<String>,
}

impl SeedCertificate {
    /// A Sectigo DV certificate for `example.com`.
    pub fn new(cert_id: &str, days_left: i64) -> Self {
        SeedCertificate {
            cert_id: cert_id.to_string(),
            days_left,
            brand: Brand::Sectigo,
            validation: Validation::Dv,
            domains: vec!["example.com".into()],
        }
    }

    /// Parses `ID:DAYS_LEFT[:BRAND[:VALIDATION]]` (`sectigo`/`digicert`, `dv`/`ov`/`ev`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let bad =
            || format!("--seed-certificate {s:?}: expected ID:DAYS_LEFT[:BRAND[:VALIDATION]]");
        if !(2..=4).contains(&parts.len()) || parts[0].trim().is_empty() {
            return Err(bad());
        }
        let days_left = parts[1].trim().parse().map_err(|_| bad())?;
        let mut seed = SeedCertificate::new(parts[0].trim(), days_left);
        if let Some(b) = parts.get(2) {
            seed.brand = Brand::parse(b)
                .ok_or_else(|| format!("{}: brand must be sectigo or digicert", bad()))?;
        }
        if let Some(v) = parts.get(3) {
            seed.validation = Validation::parse(v)
                .ok_or_else(|| format!("{}: validation must be dv, ov or ev", bad()))?;
        }
        Ok(seed)
    }
}

/// How to run a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Persist the state here (JSON, written atomically); `None` = in memory.
    pub state_file: Option<PathBuf>,
    /// Pin the clock at this instant (overrides a persisted clock).
    pub now: Option<OffsetDateTime>,
    /// Accepted API tokens (empty = [`DEFAULT_TOKEN`]).
    pub tokens: Vec<String>,
    /// Issued certificates to create (kept when the id already exists).
    pub seed_certificates: Vec<SeedCertificate>,
    /// Validate every domain of a pending order after this many `collect`
    /// calls on it (0 = at once, when the order is placed).
    pub auto_validate_after: Option<u32>,
    /// The initial fault plan.
    pub faults: FaultPlan,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_file: None,
            now: None,
            tokens: vec![DEFAULT_TOKEN.to_string()],
            seed_certificates: Vec::new(),
            auto_validate_after: None,
            faults: FaultPlan::default(),
        }
    }
}

/// A sandbox failed to start.
#[derive(Debug)]
pub struct SandboxError(pub String);

impl std::fmt::Display for SandboxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "nicsrs-sandbox: {}", self.0)
    }
}

impl std::error::Error for SandboxError {}

/// Shared state of a running sandbox.
#[derive(Debug)]
pub(crate) struct App {
    store: Mutex<store::Store>,
    tokens: Vec<String>,
    faults: Mutex<faults::Faults>,
    auto_validate_after: Option<u32>,
    requests: Mutex<BTreeMap<String, u64>>,
    /// TCP connections accepted since start (or the last reset), for the
    /// benchmark's connections-per-run figure (`/sandbox/connections`).
    connections: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl App {
    fn store(&self) -> MutexGuard<'_, store::Store> {
        lock(&self.store)
    }
}

/// The entry point.
pub struct Sandbox;

impl Sandbox {
    /// Opens (or creates) the state, binds the listener and serves in a
    /// background task. Connections are accepted once this returns.
    pub async fn start(config: SandboxConfig) -> Result<RunningSandbox, SandboxError> {
        let mut store = store::Store::open(config.state_file.as_deref()).map_err(SandboxError)?;
        if let Some(now) = config.now {
            store.state.clock.set(now);
        }
        for seed in &config.seed_certificates {
            if !store.state.orders.contains_key(&seed.cert_id) {
                admin::seed_certificate(&mut store, seed).map_err(SandboxError)?;
            }
        }
        store.save().map_err(SandboxError)?;
        let tokens = if config.tokens.is_empty() {
            vec![DEFAULT_TOKEN.to_string()]
        } else {
            config.tokens.clone()
        };
        let app = Arc::new(App {
            store: Mutex::new(store),
            tokens,
            faults: Mutex::new(faults::Faults::new(config.faults.clone())),
            auto_validate_after: config.auto_validate_after,
            requests: Mutex::new(BTreeMap::new()),
            connections: AtomicU64::new(0),
        });
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| SandboxError(format!("cannot listen on {}: {e}", config.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| SandboxError(format!("no local address: {e}")))?;
        let counted = app.clone();
        let listener = axum::serve::ListenerExt::tap_io(listener, move |_| {
            counted.connections.fetch_add(1, Ordering::Relaxed);
        });
        let router = routes::router(app);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                eprintln!("nicsrs-sandbox: server error: {e}");
            }
        });
        Ok(RunningSandbox {
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A sandbox serving in the background; dropping it stops it.
#[derive(Debug)]
pub struct RunningSandbox {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningSandbox {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the base URL for a client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish (at most 2 s), then stops.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }

    /// Serves until the server stops (for the binary: until `shutdown` from elsewhere).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};
    use x509_parser::pem::parse_x509_pem;

    use super::testkit::{self, Admin, SEED_ID};
    use super::*;
    use nicsrs::{codes, SectigoCsrHash};

    const OV_ID: &str = "260101seedovaaaa";
    const FAR_ID: &str = "260101seedfaraaa";
    const DIGI_ID: &str = "260101seeddigiaa";

    fn config() -> SandboxConfig {
        let mut cfg = testkit::config();
        cfg.seed_certificates.extend([
            SeedCertificate::parse(&format!("{OV_ID}:20:sectigo:ov")).expect("seed"),
            SeedCertificate::parse(&format!("{FAR_ID}:120")).expect("seed"),
            SeedCertificate::parse(&format!("{DIGI_ID}:10:digicert")).expect("seed"),
        ]);
        cfg
    }

    /// A valid renew form as (name, value) pairs plus its params JSON.
    fn valid_form(pem: &str) -> (Vec<(String, String)>, Value) {
        let req = testkit::renew_request(pem);
        let form: Vec<(String, String)> = req
            .form_fields(DEFAULT_TOKEN)
            .expect("form")
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let params = serde_json::to_value(&req.params).expect("params");
        (form, params)
    }

    fn with_params(form: &[(String, String)], params: &Value) -> Vec<(String, String)> {
        form.iter()
            .map(|(k, v)| {
                if k == "params" {
                    (k.clone(), params.to_string())
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect()
    }

    fn set_field(form: &mut Vec<(String, String)>, name: &str, value: Option<&str>) {
        form.retain(|(k, _)| k != name);
        if let Some(v) = value {
            form.push((name.to_string(), v.to_string()));
        }
    }

    type FormEdit = Box<dyn Fn(&mut Vec<(String, String)>)>;
    type ParamsEdit = Box<dyn Fn(&mut Value)>;

    fn form_edit(name: &'static str, value: Option<&'static str>) -> FormEdit {
        Box::new(move |f| set_field(f, name, value))
    }

    #[tokio::test]
    async fn every_renew_rule_refuses_with_its_code_and_message() {
        let sb = testkit::start(config()).await;
        let admin = Admin::new(&sb);
        let (pem, _) = testkit::csr(&["www.example.com", "*.example.com"]);
        let (base, base_params) = valid_form(&pem);
        let p = |f: fn(&mut Value)| -> ParamsEdit { Box::new(f) };
        let cases: Vec<(&str, FormEdit, ParamsEdit, i64, &str, &str)> = vec![
            ("no token", form_edit("api_token", None), p(|_| {}), 400, "", "permission denied"),
            ("wrong token", form_edit("api_token", Some("nope")), p(|_| {}), 400, "", "permission denied"),
            ("no renewId", form_edit("renewId", None), p(|_| {}), -1, "renewId", "renewId is required"),
            ("unknown renewId", form_edit("renewId", Some("260101unknownxx")), p(|_| {}), -1, "renewId", "renewId not found"),
            ("no years", form_edit("years", None), p(|_| {}), -1, "years", "years is required"),
            ("years 0", form_edit("years", Some("0")), p(|_| {}), -1, "years", "years must be an integer from 1 to 6"),
            ("years 7", form_edit("years", Some("7")), p(|_| {}), -1, "years", "years must be an integer from 1 to 6"),
            ("empty refId", form_edit("refId", Some(" ")), p(|_| {}), -1, "refId", "contains a space"),
            ("no params", form_edit("params", None), p(|_| {}), -1, "params", "params is required"),
            ("params not JSON", form_edit("params", Some("{csr")), p(|_| {}), -1, "params", "params must be a JSON object"),
            ("no csr", none_edit(), p(|v| remove(v, "csr")), -1, "params.csr", "csr is required"),
            ("csr not PEM", none_edit(), p(|v| v["csr"] = json!("hello")), -1, "params.csr", "not PEM text"),
            ("csr garbage", none_edit(), p(|v| v["csr"] = json!("-----BEGIN CERTIFICATE REQUEST-----\nYWJj\n-----END CERTIFICATE REQUEST-----")), -1, "params.csr", "PKCS#10"),
            ("no server", none_edit(), p(|v| remove(v, "server")), -1, "params.server", "server is required"),
            ("server upper case", none_edit(), p(|v| v["server"] = json!("NGINX")), -1, "params.server", "Write it in lower case: \"nginx\""),
            ("uniqueValue too long", none_edit(), p(|v| v["uniqueValue"] = json!("a".repeat(21))), -1, "params.uniqueValue", "must be 1 to 20 characters"),
            ("uniqueValue symbols", none_edit(), p(|v| v["uniqueValue"] = json!("ab-cd")), -1, "params.uniqueValue", "each a-z, A-Z or 0-9"),
            ("no domainInfo", none_edit(), p(|v| remove(v, "domainInfo")), -1, "params.domainInfo", "domainInfo is required"),
            ("empty domainInfo", none_edit(), p(|v| v["domainInfo"] = json!([])), -1, "params.domainInfo", "non-empty JSON array"),
            ("no domainName", none_edit(), p(|v| remove(&mut v["domainInfo"][0], "domainName")), -1, "params.domainInfo[0].domainName", "domainName is required"),
            ("no dcvMethod", none_edit(), p(|v| remove(&mut v["domainInfo"][0], "dcvMethod")), -1, "params.domainInfo[0].dcvMethod", "dcvMethod is required"),
            ("bad dcvMethod", none_edit(), p(|v| v["domainInfo"][0]["dcvMethod"] = json!("DNS")), -1, "params.domainInfo[0].dcvMethod", "expected one of EMAIL, HTTP_CSR_HASH, CNAME_CSR_HASH, HTTPS_CSR_HASH"),
            ("lower-case dcvMethod", none_edit(), p(|v| v["domainInfo"][0]["dcvMethod"] = json!("email")), -1, "params.domainInfo[0].dcvMethod", "expected one of"),
            ("EMAIL without dcvEmail", none_edit(), p(|v| v["domainInfo"][0]["dcvMethod"] = json!("EMAIL")), -1, "params.domainInfo[0].dcvEmail", "dcvEmail is required with the EMAIL method"),
            ("dcvEmail bad prefix", none_edit(), p(|v| { v["domainInfo"][0]["dcvMethod"] = json!("EMAIL"); v["domainInfo"][0]["dcvEmail"] = json!("info@example.com"); }), -1, "params.domainInfo[0].dcvEmail", "the CA only sends validation mail to admin@, administrator@, postmaster@, webmaster@, hostmaster@"),
            ("dcvEmail other domain", none_edit(), p(|v| { v["domainInfo"][0]["dcvMethod"] = json!("EMAIL"); v["domainInfo"][0]["dcvEmail"] = json!("admin@example.org"); }), -1, "params.domainInfo[0].dcvEmail", "is not at \"www.example.com\" or one of its parent domains"),
            ("HTTP for a wildcard", none_edit(), p(|v| v["domainInfo"] = json!([{"domainName": "*.example.com", "dcvMethod": "HTTP_CSR_HASH"}])), -1, "params.domainInfo[0].dcvMethod", "\"*.example.com\" is a wildcard, which HTTP_CSR_HASH cannot validate"),
            ("domain not in CSR", none_edit(), p(|v| v["domainInfo"][0]["domainName"] = json!("shop.example.org")), -1, "params.domainInfo[0].domainName", "domainName \"shop.example.org\" is not in the CSR"),
            ("no Administrator", none_edit(), p(|v| remove(v, "Administrator")), -1, "params.Administrator", "Administrator is required"),
            ("administrator in lower case", none_edit(), p(|v| { let a = v["Administrator"].take(); remove(v, "Administrator"); v["administrator"] = a; }), -1, "params.Administrator", "Administrator is required"),
            ("Administrator without job", none_edit(), p(|v| remove(&mut v["Administrator"], "job")), -1, "params.Administrator.job", "job is required"),
            ("Administrator without postCode", none_edit(), p(|v| v["Administrator"]["postCode"] = json!("")), -1, "params.Administrator.postCode", "postCode is required"),
            ("finance not an object", none_edit(), p(|v| v["finance"] = json!("x")), -1, "params.finance", "finance must be a JSON object"),
            ("OV without organizationInfo", form_edit("renewId", Some(OV_ID)), p(|_| {}), -1, "params.organizationInfo", "organizationInfo is required for OV/EV certificates"),
            ("expires in 120 days", form_edit("renewId", Some(FAR_ID)), p(|_| {}), codes::RENEW_NOT_ALLOWED_CODE, "", "renewal is available only when it expires within 90 days"),
        ];
        for (name, edit_form, edit_params, code, field, msg) in cases {
            let mut params = base_params.clone();
            edit_params(&mut params);
            let mut form = with_params(&base, &params);
            edit_form(&mut form);
            let r = admin.form("/ssl/renew", &form).await;
            assert_eq!(r["code"], code, "{name}: {r}");
            let texts: Vec<String> = if field.is_empty() {
                r["errors"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            } else {
                r["errors"][field]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| s.as_str().map(str::to_string))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            assert!(
                texts.iter().any(|t| t.contains(msg)),
                "{name}: expected {field:?} ~ {msg:?} in {r}"
            );
        }
        // None of them placed an order; the valid form does, once per refId.
        assert_eq!(admin.count("/ssl/renew").await as usize, 35);
        let orders = admin.get("/sandbox/orders").await;
        assert_eq!(
            orders["orders"].as_array().map(Vec::len),
            Some(4),
            "only the seeds"
        );
        let mut form = base.clone();
        set_field(&mut form, "refId", Some("dup-1"));
        let r = admin.form("/ssl/renew", &form).await;
        assert_eq!(r["code"], 1, "{r}");
        let r = admin.form("/ssl/renew", &form).await;
        assert_eq!(r["code"], -1);
        assert_eq!(r["errors"]["refId"][0], "refId already used");
        // A pending order cannot be renewed.
        let pending = admin.get("/sandbox/orders").await["orders"][4]["cert_id"].clone();
        set_field(&mut form, "refId", None);
        set_field(&mut form, "renewId", pending.as_str());
        let r = admin.form("/ssl/renew", &form).await;
        assert_eq!(r["code"], codes::RENEW_NOT_ALLOWED_CODE);
        assert!(
            r["errors"][0]
                .as_str()
                .unwrap_or_default()
                .contains("only an issued certificate"),
            "{r}"
        );
    }

    fn none_edit() -> FormEdit {
        Box::new(|_| {})
    }

    fn remove(v: &mut Value, key: &str) {
        if let Some(m) = v.as_object_mut() {
            m.remove(key);
        }
    }

    fn spki_of_cert(pem: &str) -> Vec<u8> {
        let (_, p) = parse_x509_pem(pem.as_bytes()).expect("pem");
        let cert = p.parse_x509().expect("x509");
        cert.public_key().raw.to_vec()
    }

    #[tokio::test]
    async fn a_sectigo_order_completes_through_a_dns_record() {
        let sb = testkit::start(config()).await;
        let admin = Admin::new(&sb);
        let client = testkit::client(&sb.url(), std::time::Duration::from_secs(5));
        let (pem, key) = testkit::csr(&["www.example.com"]);
        let mut req = testkit::renew_request(&pem);
        req.params.unique_value = Some("Uv7".into());
        let placed = client.renew(&req).await.expect("renew");
        let want = SectigoCsrHash::from_pem(&pem, Some("Uv7")).expect("hash");
        assert_eq!(placed.data.dcv, want.material("www.example.com", false));
        assert!(placed.cert_id.starts_with("260501"), "{}", placed.cert_id);

        let pending = client.collect(&placed.cert_id).await.expect("collect");
        assert_eq!(
            (pending.code, pending.status.as_deref()),
            (2, Some("PENDING"))
        );
        assert_eq!(
            pending.data.dcv_stage.and_then(|s| s.status).as_deref(),
            Some("processing")
        );
        assert_eq!(
            pending.data.issued.and_then(|s| s.status).as_deref(),
            Some("notdone")
        );
        assert_eq!(
            pending.data.dcv_list[0].is_verify.as_deref(),
            Some("unverified")
        );
        assert!(pending.data.certificate.is_none());

        let wrong = admin
            .post("/sandbox/dns", json!({"name": want.dns_name("www.example.com"), "type": "CNAME", "value": "nope.sectigo.com"}))
            .await;
        assert_eq!(wrong["accepted"], false);
        assert!(
            wrong["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("expects"),
            "{wrong}"
        );
        let wrong_type = admin
            .post("/sandbox/dns", json!({"name": want.dns_name("www.example.com"), "type": "TXT", "value": want.dns_value()}))
            .await;
        assert_eq!(wrong_type["accepted"], false, "{wrong_type}");
        let nowhere = admin
            .post(
                "/sandbox/dns",
                json!({"name": "_x.example.net", "type": "CNAME", "value": "v"}),
            )
            .await;
        assert_eq!(nowhere["accepted"], false);

        let ok = admin
            .post(
                "/sandbox/dns",
                json!({"name": format!("{}.", want.dns_name("WWW.example.com").to_uppercase()), "type": "cname",
                       "value": format!("{}.", want.dns_value())}),
            )
            .await;
        assert_eq!(ok["accepted"], true, "{ok}");
        assert_eq!(ok["issued"], json!([placed.cert_id]));

        let done = client.collect(&placed.cert_id).await.expect("collect");
        assert_eq!((done.code, done.status.as_deref()), (1, Some("COMPLETE")));
        let d = &done.data;
        assert_eq!(d.begin_date.as_deref(), Some("2026-05-01 00:00:00"));
        assert_eq!(
            d.end_date.as_deref(),
            Some("2026-11-17 00:00:00"),
            "200-day cap after 2026-03-15"
        );
        assert_eq!(d.due_date.as_deref(), Some("2027-05-01 00:00:00"));
        assert!(d.dcv_list.iter().all(|e| e.is_verified()));
        for stage in [&d.application, &d.dcv_stage, &d.ov, &d.issued] {
            assert_eq!(
                stage.as_ref().and_then(|s| s.status.as_deref()),
                Some("done")
            );
        }
        let leaf = d.certificate.as_deref().expect("certificate");
        use rcgen::PublicKeyData as _;
        assert_eq!(spki_of_cert(leaf), key.subject_public_key_info());
        assert!(d
            .ca_certificate
            .as_deref()
            .is_some_and(|c| c.contains("BEGIN CERTIFICATE")));
    }

    #[tokio::test]
    async fn a_parent_domain_cname_validates_a_subdomain() {
        let sb = testkit::start(config()).await;
        let admin = Admin::new(&sb);
        let client = testkit::client(&sb.url(), std::time::Duration::from_secs(5));
        let (pem, _) = testkit::csr(&["www.shop.example.com"]);
        let mut req = testkit::renew_request(&pem);
        req.params.domain_info[0].domain_name = "www.shop.example.com".into();
        let placed = client.renew(&req).await.expect("renew");
        let h = SectigoCsrHash::from_pem(&pem, None).expect("hash");
        let r = admin
            .post(
                "/sandbox/dns",
                json!({"name": h.dns_name("example.com"), "type": "CNAME", "value": h.dns_value()}),
            )
            .await;
        assert_eq!(r["issued"], json!([placed.cert_id]), "{r}");
    }

    #[tokio::test]
    async fn auto_validation_after_n_collects() {
        let mut cfg = config();
        cfg.auto_validate_after = Some(2);
        let sb = testkit::start(cfg).await;
        let client = testkit::client(&sb.url(), std::time::Duration::from_secs(5));
        let (pem, _) = testkit::csr(&["www.example.com"]);
        let placed = client
            .renew(&testkit::renew_request(&pem))
            .await
            .expect("renew");
        let first = client.collect(&placed.cert_id).await.expect("collect 1");
        assert_eq!(first.status.as_deref(), Some("PENDING"));
        let second = client.collect(&placed.cert_id).await.expect("collect 2");
        assert_eq!(second.status.as_deref(), Some("COMPLETE"));
        assert!(second.data.certificate.is_some());
    }

    #[tokio::test]
    async fn digicert_http_and_email_validation() {
        let sb = testkit::start(config()).await;
        let admin = Admin::new(&sb);
        let client = testkit::client(&sb.url(), std::time::Duration::from_secs(5));
        // DigiCert brand: TXT at _dnsauth with a random token.
        let (pem, _) = testkit::csr(&["www.example.com"]);
        let mut req = testkit::renew_request(&pem);
        req.renew_id = DIGI_ID.into();
        let placed = client.renew(&req).await.expect("renew");
        let dcv = &placed.data.dcv;
        assert_eq!(dcv.dcv_dns_host.as_deref(), Some("_dnsauth"));
        assert_eq!(dcv.dcv_dns_type.as_deref(), Some("TXT"));
        assert_eq!(dcv.dcv_file_name.as_deref(), Some("fileauth.txt"));
        let token = dcv.dcv_dns_value.clone().unwrap_or_default();
        assert_eq!(token.len(), 32);
        let r = admin
            .post("/sandbox/dns", json!({"name": "_dnsauth.www.example.com", "type": "TXT", "value": format!("\"{token}\"")}))
            .await;
        assert_eq!(r["issued"], json!([placed.cert_id]), "{r}");

        // Sectigo, two domains: one by HTTP file, one by e-mail.
        let (pem, _) = testkit::csr(&["www.example.com", "shop.example.com"]);
        let mut req = testkit::renew_request(&pem);
        req.params.domain_info[0].dcv_method = nicsrs::DcvMethod::HttpCsrHash;
        req.params.domain_info.push(nicsrs::DomainInfo {
            domain_name: "shop.example.com".into(),
            dcv_method: nicsrs::DcvMethod::Email,
            dcv_email: Some("webmaster@shop.example.com".into()),
        });
        let placed = client.renew(&req).await.expect("renew");
        let h = SectigoCsrHash::from_pem(&pem, None).expect("hash");
        let bad = admin
            .post(
                "/sandbox/http",
                json!({"url": h.file_url("www.example.com", false), "content": "wrong"}),
            )
            .await;
        assert_eq!(bad["accepted"], false, "{bad}");
        let https = admin
            .post(
                "/sandbox/http",
                json!({"url": h.file_url("www.example.com", true), "content": h.file_content()}),
            )
            .await;
        assert_eq!(https["accepted"], false, "{https}");
        let good = admin
            .post(
                "/sandbox/http",
                json!({"url": h.file_url("www.example.com", false), "content": format!("{}\r\n", h.file_content().replace('\n', "\r\n"))}),
            )
            .await;
        assert_eq!(good["accepted"], true, "{good}");
        assert_eq!(good["issued"], json!([]));
        let wrong_domain = admin
            .post(
                "/sandbox/email/approve",
                json!({"certId": placed.cert_id, "domainName": "www.example.com"}),
            )
            .await;
        assert_eq!(wrong_domain["accepted"], false);
        let mail = admin
            .post(
                "/sandbox/email/approve",
                json!({"certId": placed.cert_id, "domainName": "shop.example.com"}),
            )
            .await;
        assert_eq!(mail["issued"], json!([placed.cert_id]), "{mail}");
        let got = client.collect(&placed.cert_id).await.expect("collect");
        assert_eq!(got.status.as_deref(), Some("COMPLETE"));
    }

    #[tokio::test]
    async fn cancel_rules_follow_the_clock() {
        let mut cfg = config();
        cfg.auto_validate_after = Some(0);
        let sb = testkit::start(cfg).await;
        let admin = Admin::new(&sb);
        let client = testkit::client(&sb.url(), std::time::Duration::from_secs(5));
        let cancel = |id: String| {
            let admin = &admin;
            async move {
                let form = [
                    ("api_token".to_string(), DEFAULT_TOKEN.to_string()),
                    ("certId".to_string(), id),
                    ("reason".to_string(), "test".to_string()),
                ];
                admin.form("/ssl/cancel", &form).await
            }
        };
        let (pem, _) = testkit::csr(&["www.example.com"]);
        let issued = client
            .renew(&testkit::renew_request(&pem))
            .await
            .expect("renew");
        let other = client
            .renew(&testkit::renew_request(&pem))
            .await
            .expect("renew");
        assert_eq!(
            client
                .collect(&issued.cert_id)
                .await
                .expect("collect")
                .status
                .as_deref(),
            Some("COMPLETE")
        );
        // Issued 10 days ago: allowed.
        admin
            .post("/sandbox/clock", json!({"advance_days": 10}))
            .await;
        assert_eq!(cancel(issued.cert_id.clone()).await["code"], 1);
        assert_eq!(
            cancel(issued.cert_id.clone()).await["code"],
            codes::ALREADY_CANCELLED
        );
        // Issued 31 days ago: refused.
        let clock = admin
            .post("/sandbox/clock", json!({"advance_days": 21}))
            .await;
        assert_eq!(clock["now"], "2026-06-01T00:00:00Z");
        let late = cancel(other.cert_id.clone()).await;
        assert_eq!(late["code"], codes::CANCEL_TOO_LATE_CODE, "{late}");
        assert!(late["errors"][0]
            .as_str()
            .unwrap_or_default()
            .contains("within 30 days"));
        // The seeded certificate was issued ~335 days ago.
        assert_eq!(
            cancel(SEED_ID.to_string()).await["code"],
            codes::CANCEL_TOO_LATE_CODE
        );
        // Unknown ids and missing reasons.
        let unknown = cancel("260101nosuchidxx".into()).await;
        assert_eq!(unknown["code"], codes::NOT_FOUND_CODE);
        assert_eq!(unknown["errors"]["certId"][0], "certId not found");
        // updateDCV needs a pending order.
        let upd = admin
            .form(
                "/ssl/updateDCV",
                &[
                    ("api_token".into(), DEFAULT_TOKEN.into()),
                    ("certId".into(), other.cert_id.clone()),
                    ("dcvMethod".into(), "EMAIL".into()),
                    ("dcvEmail".into(), "admin@example.com".into()),
                ],
            )
            .await;
        assert_eq!(upd["code"], codes::NOT_PENDING_CODE, "{upd}");
        // A pending order can be cancelled (clock pinned to a fresh date).
        admin
            .post("/sandbox/clock", json!({"now": "2026-06-02T00:00:00Z"}))
            .await;
        admin
            .post(
                "/sandbox/certificates",
                json!({"cert_id": "260602seedbbbbbb", "days_left": 5}),
            )
            .await;
        let mut req = testkit::renew_request(&pem);
        req.renew_id = "260602seedbbbbbb".into();
        let fresh = client.renew(&req).await.expect("renew");
        assert!(fresh.cert_id.starts_with("260602"));
        assert_eq!(cancel(fresh.cert_id.clone()).await["code"], 1);
        let orders = admin.delete("/sandbox/faults").await;
        assert_eq!(orders["rules"], 0);
    }

    #[tokio::test]
    async fn state_survives_a_restart() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.json");
        let mut cfg = config();
        cfg.state_file = Some(path.clone());
        let sb = testkit::start(cfg.clone()).await;
        let client = testkit::client(&sb.url(), std::time::Duration::from_secs(5));
        let (pem, _) = testkit::csr(&["www.example.com"]);
        let mut req = testkit::renew_request(&pem);
        req.ref_id = Some("persist-1".into());
        let placed = client.renew(&req).await.expect("renew");
        Admin::new(&sb)
            .post("/sandbox/clock", json!({"advance_days": 3}))
            .await;
        sb.shutdown().await;

        let saved: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).expect("state file"))
                .expect("JSON");
        let ca_pem = saved["ca"]["cert_pem"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(ca_pem.contains("BEGIN CERTIFICATE"));
        assert!(saved["orders"][&placed.cert_id].is_object());

        cfg.now = None;
        cfg.auto_validate_after = Some(1);
        let sb = testkit::start(cfg).await;
        let admin = Admin::new(&sb);
        let client = testkit::client(&sb.url(), std::time::Duration::from_secs(5));
        assert_eq!(
            admin.get("/sandbox/clock").await["now"],
            "2026-05-04T00:00:00Z"
        );
        assert_eq!(
            client.cert_id_by_ref_id("persist-1").await.expect("lookup"),
            Some(placed.cert_id.clone())
        );
        let done = client.collect(&placed.cert_id).await.expect("collect");
        assert_eq!(done.status.as_deref(), Some("COMPLETE"));
        assert_eq!(done.data.ca_certificate.as_deref(), Some(ca_pem.as_str()));
        assert_eq!(
            admin.get("/sandbox/orders").await["orders"]
                .as_array()
                .map(Vec::len),
            Some(5)
        );
        sb.shutdown().await;
    }

    #[tokio::test]
    async fn accepted_connections_are_counted_and_reset() {
        let sb = testkit::start(testkit::config()).await;
        let admin = Admin::new(&sb);
        let accepted = |v: Value| v["accepted"].as_u64().expect("accepted is a number");
        assert_eq!(
            accepted(admin.get("/sandbox/connections").await),
            1,
            "the admin's own"
        );
        // Three connections that send nothing, then one client that sends
        // three requests over one kept-alive connection.
        let mut idle = Vec::new();
        for _ in 0..3 {
            idle.push(
                tokio::net::TcpStream::connect(sb.addr())
                    .await
                    .expect("connect"),
            );
        }
        let other = reqwest::Client::new();
        for _ in 0..3 {
            let status = other
                .get(format!("{}/sandbox/health", sb.url()))
                .send()
                .await
                .expect("health")
                .status();
            assert!(status.is_success());
        }
        assert_eq!(accepted(admin.get("/sandbox/connections").await), 5);
        assert_eq!(accepted(admin.delete("/sandbox/connections").await), 0);
        idle.push(
            tokio::net::TcpStream::connect(sb.addr())
                .await
                .expect("connect"),
        );
        assert_eq!(
            accepted(admin.get("/sandbox/connections").await),
            1,
            "counted again from zero"
        );
        drop(idle);
        sb.shutdown().await;
    }

    #[test]
    fn seed_certificate_flag_syntax() {
        let s = SeedCertificate::parse("abc:30").expect("parse");
        assert_eq!(
            (s.brand, s.validation, s.days_left),
            (Brand::Sectigo, Validation::Dv, 30)
        );
        let s = SeedCertificate::parse("abc:-5:DigiCert:ev").expect("parse");
        assert_eq!(
            (s.brand, s.validation, s.days_left),
            (Brand::Digicert, Validation::Ev, -5)
        );
        for bad in [
            "abc",
            ":30",
            "abc:x",
            "abc:30:comodo",
            "abc:30:sectigo:xv",
            "a:1:sectigo:dv:extra",
        ] {
            assert!(SeedCertificate::parse(bad).is_err(), "{bad}");
        }
    }
}
