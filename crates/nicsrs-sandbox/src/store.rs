//! Orders and certificates, in memory or persisted as one JSON file written
//! atomically (temporary file in the same directory, then rename).
//!
//! Seeded certificates and renewal orders are the same kind of record, so a
//! renewal, once issued, can itself be renewed.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use rand::Rng as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use super::ca::{self, Ca};
use super::clock::Clock;
use nicsrs::dcv::SectigoCsrHash;
use nicsrs::types::{
    format_api_datetime, CollectData, DcvEntry, DcvMaterial, DcvMethod, StageStatus,
};

/// The order status as `collect` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum OrderStatus {
    /// Waiting for DCV.
    Pending,
    /// Issued.
    Complete,
    /// Cancelled.
    Cancelled,
}

impl OrderStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Pending => nicsrs::codes::STATUS_PENDING,
            OrderStatus::Complete => nicsrs::codes::STATUS_COMPLETE,
            OrderStatus::Cancelled => nicsrs::codes::STATUS_CANCELLED,
        }
    }
}

/// The CA brand of a product; decides the DCV material's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Brand {
    /// CSR-hash DCV (CNAME `_<md5>` → `…sectigo.com`).
    Sectigo,
    /// Random tokens (TXT `_dnsauth`, `fileauth.txt`).
    Digicert,
}

impl Brand {
    /// Parses `sectigo` / `digicert` (any case).
    pub fn parse(s: &str) -> Option<Brand> {
        match s.to_ascii_lowercase().as_str() {
            "sectigo" => Some(Brand::Sectigo),
            "digicert" => Some(Brand::Digicert),
            _ => None,
        }
    }
}

/// The validation type of a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Validation {
    /// Domain validated.
    Dv,
    /// Organisation validated: `organizationInfo` required.
    Ov,
    /// Extended validation: `organizationInfo` required.
    Ev,
}

impl Validation {
    /// Parses `dv` / `ov` / `ev` (any case).
    pub fn parse(s: &str) -> Option<Validation> {
        match s.to_ascii_lowercase().as_str() {
            "dv" => Some(Validation::Dv),
            "ov" => Some(Validation::Ov),
            "ev" => Some(Validation::Ev),
            _ => None,
        }
    }
}

/// One domain of an order and its DCV state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DomainState {
    /// `domainName` as received.
    pub domain_name: String,
    /// `dcvMethod` as received.
    pub dcv_method: DcvMethod,
    /// `dcvEmail`, when given.
    pub dcv_email: Option<String>,
    /// Whether DCV passed.
    pub verified: bool,
}

/// An order or a seeded certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// The certId.
    pub cert_id: String,
    /// Creation sequence number (listing order).
    pub seq: u64,
    /// The status.
    pub status: OrderStatus,
    /// The brand (inherited from the renewed certificate).
    pub brand: Brand,
    /// The validation type (inherited from the renewed certificate).
    pub validation: Validation,
    /// True for certificates created by `--seed-certificate` or the admin API.
    pub seeded: bool,
    /// `renewId` of the renewal that created it.
    pub renew_id: Option<String>,
    /// `refId`, when given.
    pub ref_id: Option<String>,
    /// `years`.
    pub years: u8,
    /// `params.server`.
    pub server: Option<String>,
    /// `params.uniqueValue`.
    pub unique_value: Option<String>,
    /// `params.csr`.
    pub csr: Option<String>,
    /// When the order was placed (`applyTime`).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// When the certificate was issued.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub issued_at: Option<OffsetDateTime>,
    /// Certificate `notBefore` (`beginDate`).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub begin_date: Option<OffsetDateTime>,
    /// Certificate `notAfter` (`endDate`).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub end_date: Option<OffsetDateTime>,
    /// Subscription end (`dueDate`).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub due_date: Option<OffsetDateTime>,
    /// When it was cancelled.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub cancelled_at: Option<OffsetDateTime>,
    /// The sequence number taken when it was cancelled, so tests can tell
    /// whether an order was placed before or after a cancel.
    #[serde(default)]
    pub cancel_seq: Option<u64>,
    /// `reason` of the cancel call.
    pub cancel_reason: Option<String>,
    /// The domains and their DCV state.
    pub domains: Vec<DomainState>,
    /// The order-level DCV material.
    pub dcv: DcvMaterial,
    /// The issued leaf, PEM.
    pub certificate: Option<String>,
    /// `collect` calls seen while pending.
    pub collect_count: u32,
    /// `vendorId` (the simulated CA order number).
    pub vendor_id: String,
    /// Every form field as received (`api_token` shown as `***`).
    pub raw_form: BTreeMap<String, String>,
    /// `params` parsed as JSON, exactly as received.
    pub params: Option<Value>,
}

/// Everything the sandbox remembers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// The clock (persisted, so a restart keeps a moved clock).
    pub clock: Clock,
    /// The CA.
    pub ca: Ca,
    /// Orders by certId.
    pub orders: BTreeMap<String, Order>,
    /// The next `seq`.
    pub next_seq: u64,
}

/// The state plus where it is persisted.
#[derive(Debug)]
pub struct Store {
    /// The state.
    pub state: State,
    path: Option<PathBuf>,
}

impl Store {
    /// Loads `path` when it exists, otherwise starts fresh (new CA) and, with
    /// a path, writes the file at once.
    pub fn open(path: Option<&Path>) -> Result<Store, String> {
        if let Some(p) = path {
            if p.exists() {
                let text = std::fs::read_to_string(p)
                    .map_err(|e| format!("cannot read state file {}: {e}", p.display()))?;
                let state: State = serde_json::from_str(&text)
                    .map_err(|e| format!("state file {} is not sandbox state: {e}", p.display()))?;
                return Ok(Store {
                    state,
                    path: Some(p.to_path_buf()),
                });
            }
        }
        let store = Store {
            state: State {
                clock: Clock::default(),
                ca: Ca::generate()?,
                orders: BTreeMap::new(),
                next_seq: 1,
            },
            path: path.map(Path::to_path_buf),
        };
        store.save()?;
        Ok(store)
    }

    /// Writes the state atomically (no-op in memory).
    pub fn save(&self) -> Result<(), String> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let json =
            serde_json::to_vec_pretty(&self.state).map_err(|e| format!("encoding state: {e}"))?;
        let mut tmp = tempfile::NamedTempFile::new_in(&dir)
            .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))?;
        tmp.write_all(&json)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| format!("cannot write state: {e}"))?;
        tmp.persist(path)
            .map_err(|e| format!("cannot replace {}: {e}", path.display()))?;
        Ok(())
    }

    /// The current sandbox time.
    pub fn now(&self) -> OffsetDateTime {
        self.state.clock.now()
    }

    /// A fresh certId: `YYMMDD` of the sandbox date + 10 lower-case letters.
    pub fn new_cert_id(&self) -> String {
        let now = self.now();
        let mut rng = rand::rng();
        loop {
            let letters: String = (0..10)
                .map(|_| char::from(b'a' + rng.random_range(0..26u8)))
                .collect();
            let id = format!(
                "{:02}{:02}{:02}{letters}",
                now.year().rem_euclid(100),
                u8::from(now.month()),
                now.day()
            );
            if !self.state.orders.contains_key(&id) {
                return id;
            }
        }
    }

    /// Takes the next sequence number.
    pub fn next_seq(&mut self) -> u64 {
        let s = self.state.next_seq;
        self.state.next_seq += 1;
        s
    }

    /// The order whose `refId` is `ref_id`.
    pub fn find_by_ref_id(&self, ref_id: &str) -> Option<&Order> {
        self.state
            .orders
            .values()
            .find(|o| o.ref_id.as_deref() == Some(ref_id))
    }

    /// Issues `cert_id` now when it is pending and every domain is verified.
    /// Returns whether it was issued.
    pub fn issue_if_ready(&mut self, cert_id: &str) -> Result<bool, String> {
        let now = self.now();
        let ca = self.state.ca.clone();
        let Some(order) = self.state.orders.get_mut(cert_id) else {
            return Ok(false);
        };
        if order.status != OrderStatus::Pending || !order.domains.iter().all(|d| d.verified) {
            return Ok(false);
        }
        let csr = order.csr.as_deref().unwrap_or_default();
        let parsed = ca::parse_csr(csr)?;
        let names: Vec<String> = order
            .domains
            .iter()
            .map(|d| d.domain_name.to_ascii_lowercase())
            .collect();
        let not_after = now + time::Duration::days(ca::validity_days(order.years, now));
        let pem = ca.issue(&parsed.spki_der, &names, now, not_after)?;
        order.certificate = Some(pem);
        order.issued_at = Some(now);
        order.begin_date = Some(now);
        order.end_date = Some(not_after);
        order.due_date = Some(now + time::Duration::days(i64::from(order.years.max(1)) * 365));
        order.status = OrderStatus::Complete;
        Ok(true)
    }
}

/// Random DigiCert-style token: `_` + 31 lower-case letters and digits.
fn random_token() -> String {
    const CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let body: String = (0..31)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect();
    format!("_{body}")
}

/// The order-level DCV material for a new order (or after `updateDCV`).
pub fn dcv_material(
    brand: Brand,
    csr_der: &[u8],
    unique_value: Option<&str>,
    domains: &[DomainState],
) -> DcvMaterial {
    let first = domains.first();
    let first_domain = first.map(|d| d.domain_name.as_str()).unwrap_or_default();
    let https = first.is_some_and(|d| d.dcv_method == DcvMethod::HttpsCsrHash);
    match brand {
        Brand::Sectigo => {
            SectigoCsrHash::from_der(csr_der, unique_value).material(first_domain, https)
        }
        Brand::Digicert => {
            let token = random_token();
            let scheme = if https { "https" } else { "http" };
            let host = nicsrs::dcv::authorization_domain(first_domain);
            DcvMaterial {
                dcv_file_name: Some("fileauth.txt".into()),
                dcv_file_content: Some(token.clone()),
                dcv_file_path: Some(format!(
                    "{scheme}://{host}{}",
                    nicsrs::dcv::validation_file_path("fileauth.txt")
                )),
                dcv_dns_host: Some("_dnsauth".into()),
                dcv_dns_value: Some(token),
                dcv_dns_type: Some("TXT".into()),
            }
        }
    }
}

fn stage(s: &str) -> Option<StageStatus> {
    Some(StageStatus {
        status: Some(s.to_string()),
    })
}

impl Order {
    /// The `data` of a collect answer for this order.
    pub fn collect_data(&self, ca_pem: &str) -> CollectData {
        let all_verified = self.domains.iter().all(|d| d.verified);
        let issued = self.certificate.is_some() && self.status == OrderStatus::Complete;
        let dcv_stage = if all_verified || issued {
            "done"
        } else if self.status == OrderStatus::Pending {
            "processing"
        } else {
            "notdone"
        };
        let ov_stage = match (self.validation, dcv_stage) {
            (Validation::Dv, _) | (_, "done") => "done",
            (_, "processing") => "processing",
            _ => "notdone",
        };
        let fmt = |t: Option<OffsetDateTime>| t.map(format_api_datetime);
        CollectData {
            begin_date: fmt(self.begin_date),
            end_date: fmt(self.end_date),
            due_date: fmt(self.due_date),
            certificate: self.certificate.clone(),
            ca_certificate: self.certificate.as_ref().map(|_| ca_pem.to_string()),
            vendor_id: Some(self.vendor_id.clone()),
            vendor_cert_id: self
                .certificate
                .as_ref()
                .map(|_| format!("{}-1", self.vendor_id)),
            apply_time: Some(format_api_datetime(self.created_at)),
            dcv: self.dcv.clone(),
            dcv_list: self
                .domains
                .iter()
                .map(|d| DcvEntry {
                    domain_name: Some(d.domain_name.clone()),
                    dcv_method: Some(d.dcv_method.as_str().to_string()),
                    dcv_email: d.dcv_email.clone(),
                    is_verify: Some(if d.verified { "verified" } else { "unverified" }.into()),
                })
                .collect(),
            application: stage("done"),
            dcv_stage: stage(dcv_stage),
            ov: stage(ov_stage),
            issued: stage(if issued { "done" } else { "notdone" }),
            apply_params: self.params.clone(),
            private_key: None,
            rsa_private_key: None,
        }
    }
}
