//! The NicSRS wire, mapped once: request structs that serialize to the exact
//! field names and casing of the API, and response structs that accept what
//! the API has been seen to send (ids as numbers or strings, `errors` as an
//! array, a string or a map, every field but `code` optional).
//!
//! The sandbox serializes the same response structs, so the simulator cannot
//! drift from what the client parses.

use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

// ---------------------------------------------------------------------------
// Requests
// ---------------------------------------------------------------------------

/// A domain control validation method, as spelled on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DcvMethod {
    /// Approver e-mail.
    #[serde(rename = "EMAIL")]
    Email,
    /// A file under `http://<domain>/.well-known/pki-validation/`.
    #[serde(rename = "HTTP_CSR_HASH")]
    HttpCsrHash,
    /// A DNS record (CNAME for Sectigo, TXT for the DigiCert family).
    #[serde(rename = "CNAME_CSR_HASH")]
    CnameCsrHash,
    /// A file under `https://<domain>/.well-known/pki-validation/`.
    #[serde(rename = "HTTPS_CSR_HASH")]
    HttpsCsrHash,
}

impl DcvMethod {
    /// Every method, in the seed's order.
    pub const ALL: [DcvMethod; 4] = [
        DcvMethod::Email,
        DcvMethod::HttpCsrHash,
        DcvMethod::CnameCsrHash,
        DcvMethod::HttpsCsrHash,
    ];

    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DcvMethod::Email => "EMAIL",
            DcvMethod::HttpCsrHash => "HTTP_CSR_HASH",
            DcvMethod::CnameCsrHash => "CNAME_CSR_HASH",
            DcvMethod::HttpsCsrHash => "HTTPS_CSR_HASH",
        }
    }

    /// Parses the exact wire spelling (case-sensitive, as the API is).
    pub fn parse(s: &str) -> Option<DcvMethod> {
        DcvMethod::ALL.into_iter().find(|m| m.as_str() == s)
    }
}

impl std::fmt::Display for DcvMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The five mailbox prefixes Sectigo sends DCV e-mail to.
pub const DCV_EMAIL_PREFIXES: [&str; 5] = [
    "admin@",
    "administrator@",
    "postmaster@",
    "webmaster@",
    "hostmaster@",
];

/// The `server` platform values known from client code (lower case).
pub const SERVER_PLATFORMS: [&str; 15] = [
    "apachessl",
    "apache2",
    "nginx",
    "iis4",
    "iis6",
    "iis7",
    "tomcat",
    "plesk",
    "cpanel",
    "domino",
    "oracle",
    "cisco",
    "ibmhttp",
    "javawebserv",
    "other",
];

/// `POST /ssl/renew`.
#[derive(Debug, Clone, PartialEq)]
pub struct RenewRequest {
    /// `renewId`: the certificate being renewed.
    pub renew_id: String,
    /// `years`: 1–6.
    pub years: u8,
    /// `refId`: the reseller's own unique order id; sent only when set.
    pub ref_id: Option<String>,
    /// `params`, sent as one form field holding JSON.
    pub params: RenewParams,
}

/// The `params` JSON of a renewal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RenewParams {
    /// PEM CSR.
    pub csr: String,
    /// Server platform, lower case (see [`SERVER_PLATFORMS`]).
    pub server: String,
    /// Sectigo only: 1–20 of a–z, A–Z, 0–9.
    #[serde(rename = "uniqueValue", skip_serializing_if = "Option::is_none")]
    pub unique_value: Option<String>,
    /// One entry per domain.
    #[serde(rename = "domainInfo")]
    pub domain_info: Vec<DomainInfo>,
    /// OV/EV only.
    #[serde(rename = "organizationInfo", skip_serializing_if = "Option::is_none")]
    pub organization_info: Option<OrganizationInfo>,
    /// Required, all eleven fields. Capital A on the wire.
    #[serde(rename = "Administrator")]
    pub administrator: Contact,
    /// OV/EV only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finance: Option<Contact>,
    /// OV/EV only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tech: Option<Contact>,
}

/// One `domainInfo` entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DomainInfo {
    /// `dcvMethod`.
    #[serde(rename = "dcvMethod")]
    pub dcv_method: DcvMethod,
    /// `dcvEmail`, sent only when set.
    #[serde(rename = "dcvEmail", skip_serializing_if = "Option::is_none")]
    pub dcv_email: Option<String>,
    /// `domainName`.
    #[serde(rename = "domainName")]
    pub domain_name: String,
}

/// `organizationInfo` (OV/EV). Unset fields are left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct OrganizationInfo {
    /// `organizationCity`.
    #[serde(rename = "organizationCity", skip_serializing_if = "Option::is_none")]
    pub organization_city: Option<String>,
    /// `organizationName`.
    #[serde(rename = "organizationName", skip_serializing_if = "Option::is_none")]
    pub organization_name: Option<String>,
    /// `organizationMobile`: a phone number.
    #[serde(rename = "organizationMobile", skip_serializing_if = "Option::is_none")]
    pub organization_mobile: Option<String>,
    /// `organizationAddress`.
    #[serde(
        rename = "organizationAddress",
        skip_serializing_if = "Option::is_none"
    )]
    pub organization_address: Option<String>,
    /// `organizationCountry`: ISO 3166-1 alpha-2.
    #[serde(
        rename = "organizationCountry",
        skip_serializing_if = "Option::is_none"
    )]
    pub organization_country: Option<String>,
    /// `organizationPostCode`.
    #[serde(
        rename = "organizationPostCode",
        skip_serializing_if = "Option::is_none"
    )]
    pub organization_post_code: Option<String>,
}

/// A contact (`Administrator`, `finance`, `tech`). For `Administrator` every
/// field must be set; unset fields are left out of the JSON.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Contact {
    /// `job`: title.
    pub job: Option<String>,
    /// `city`.
    pub city: Option<String>,
    /// `email`.
    pub email: Option<String>,
    /// `state`.
    pub state: Option<String>,
    /// `mobile`: phone number.
    pub mobile: Option<String>,
    /// `address`.
    pub address: Option<String>,
    /// `country`: ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// `lastName`.
    pub last_name: Option<String>,
    /// `postCode`.
    pub post_code: Option<String>,
    /// `firstName`.
    pub first_name: Option<String>,
    /// `organization` (also sent as `organation`, see the `Serialize` impl).
    pub organization: Option<String>,
}

/// The eleven wire names of a contact's fields, in the seed's order.
pub const CONTACT_FIELDS: [&str; 11] = [
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
];

impl Contact {
    /// The eleven wire field names with their values, in the seed's order.
    pub fn fields(&self) -> [(&'static str, Option<&str>); 11] {
        let values = [
            &self.job,
            &self.city,
            &self.email,
            &self.state,
            &self.mobile,
            &self.address,
            &self.country,
            &self.last_name,
            &self.post_code,
            &self.first_name,
            &self.organization,
        ];
        std::array::from_fn(|i| (CONTACT_FIELDS[i], values[i].as_deref()))
    }
}

impl Serialize for Contact {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in self.fields() {
            if let Some(v) = value {
                map.serialize_entry(name, v)?;
            }
        }
        // The seed names the company field `organization`. One public client
        // reports that the live API reads the misspelling `organation` (no
        // "iz") and ignores `organization`; the original NicSRS WHMCS module
        // sends `organation` too. We send both, with the same value. This is
        // the only place that knows about the misspelling.
        if let Some(org) = self.organization.as_deref() {
            map.serialize_entry("organation", org)?;
        }
        map.end()
    }
}

impl RenewRequest {
    /// The form fields, in order: `api_token`, `renewId`, `years`, `refId`
    /// (only when set) and `params` (one field holding JSON).
    pub fn form_fields(
        &self,
        token: &str,
    ) -> Result<Vec<(&'static str, String)>, serde_json::Error> {
        let mut form = vec![
            ("api_token", token.to_string()),
            ("renewId", self.renew_id.clone()),
            ("years", self.years.to_string()),
        ];
        if let Some(ref_id) = &self.ref_id {
            form.push(("refId", ref_id.clone()));
        }
        form.push(("params", serde_json::to_string(&self.params)?));
        Ok(form)
    }
}

/// `POST /ssl/updateDCV`.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateDcvRequest {
    /// `certId` of a pending order.
    pub cert_id: String,
    /// `domainName`; required for multi-domain orders.
    pub domain_name: Option<String>,
    /// `dcvMethod`.
    pub dcv_method: DcvMethod,
    /// `dcvEmail`; required for EMAIL.
    pub dcv_email: Option<String>,
}

impl UpdateDcvRequest {
    /// The form fields; unset optional fields are left out.
    pub fn form_fields(&self, token: &str) -> Vec<(&'static str, String)> {
        let mut form = vec![
            ("api_token", token.to_string()),
            ("certId", self.cert_id.clone()),
        ];
        if let Some(d) = &self.domain_name {
            form.push(("domainName", d.clone()));
        }
        form.push(("dcvMethod", self.dcv_method.as_str().to_string()));
        if let Some(e) = &self.dcv_email {
            form.push(("dcvEmail", e.clone()));
        }
        form
    }
}

// ---------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------

/// The response envelope common to every endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    /// The response code (see [`crate::codes`]).
    #[serde(deserialize_with = "lenient::code")]
    pub code: i64,
    /// A message, sent by some endpoints.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub msg: Option<String>,
    /// Error details: an array, a string, or a map field → messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<ApiErrors>,
    /// `collect` only: `PENDING`, `COMPLETE`, `CANCELLED`, `REISSUED`, … (open set).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub status: Option<String>,
    /// Seen in one `collect` sample only.
    #[serde(
        rename = "certStatus",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub cert_status: Option<String>,
    /// Endpoint-specific data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// The three shapes of `errors`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ApiErrors {
    /// `"errors": "text"`.
    Text(String),
    /// `"errors": ["a", "b"]`.
    List(Vec<Value>),
    /// `"errors": {"years": ["years is required"]}`.
    Map(serde_json::Map<String, Value>),
    /// Anything else (a number, a boolean), kept as JSON.
    Other(Value),
}

impl ApiErrors {
    /// Every error string; map entries become `"field: message"`.
    pub fn messages(&self) -> Vec<String> {
        fn flat(v: &Value, out: &mut Vec<String>, prefix: Option<&str>) {
            let push = |out: &mut Vec<String>, s: String| match prefix {
                Some(p) => out.push(format!("{p}: {s}")),
                None => out.push(s),
            };
            match v {
                Value::Null => {}
                Value::String(s) => push(out, s.clone()),
                Value::Array(items) => items.iter().for_each(|i| flat(i, out, prefix)),
                Value::Object(map) => {
                    for (k, v) in map {
                        let key = match prefix {
                            Some(p) => format!("{p}.{k}"),
                            None => k.clone(),
                        };
                        flat(v, out, Some(&key));
                    }
                }
                other => push(out, other.to_string()),
            }
        }
        let mut out = Vec::new();
        match self {
            ApiErrors::Text(s) if s.is_empty() => {}
            ApiErrors::Text(s) => out.push(s.clone()),
            ApiErrors::List(items) => items.iter().for_each(|i| flat(i, &mut out, None)),
            ApiErrors::Map(map) => {
                for (k, v) in map {
                    flat(v, &mut out, Some(k));
                }
            }
            ApiErrors::Other(v) => flat(v, &mut out, None),
        }
        out
    }
}

/// The order-level DCV material (one set for the whole order).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcvMaterial {
    /// `DCVfileName`, e.g. `<MD5>.txt` or `fileauth.txt`.
    #[serde(
        rename = "DCVfileName",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub dcv_file_name: Option<String>,
    /// `DCVfileContent`.
    #[serde(
        rename = "DCVfileContent",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub dcv_file_content: Option<String>,
    /// `DCVfilePath`: a full URL.
    #[serde(
        rename = "DCVfilePath",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub dcv_file_path: Option<String>,
    /// `DCVdnsHost`: a bare label (append `.` + the domain).
    #[serde(
        rename = "DCVdnsHost",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub dcv_dns_host: Option<String>,
    /// `DCVdnsValue`.
    #[serde(
        rename = "DCVdnsValue",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub dcv_dns_value: Option<String>,
    /// `DCVdnsType`: `CNAME` or `TXT`.
    #[serde(
        rename = "DCVdnsType",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub dcv_dns_type: Option<String>,
}

/// `data` of a renew answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RenewData {
    /// `certId`: the new order's id.
    #[serde(
        rename = "certId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub cert_id: Option<String>,
    /// `vendorId`.
    #[serde(
        rename = "vendorId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub vendor_id: Option<String>,
    /// `applyTime`.
    #[serde(
        rename = "applyTime",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub apply_time: Option<String>,
    /// DCV material, when the answer carries it.
    #[serde(flatten)]
    pub dcv: DcvMaterial,
}

/// A successful renewal.
#[derive(Debug, Clone, PartialEq)]
pub struct RenewResponse {
    /// The new certificate id (never empty).
    pub cert_id: String,
    /// The response code (`1`, or `2`).
    pub code: i64,
    /// Everything else the answer carried.
    pub data: RenewData,
}

/// `data.certId` of `certIdByrefId`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CertIdData {
    /// `certId`.
    #[serde(
        rename = "certId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub cert_id: Option<String>,
}

/// A stage progress object: `{"status": "notdone" | "processing" | "done"}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageStatus {
    /// `notdone`, `processing` or `done` (open set).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub status: Option<String>,
}

/// One `dcvList` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DcvEntry {
    /// `domainName`.
    #[serde(
        rename = "domainName",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub domain_name: Option<String>,
    /// `dcvMethod` (kept as text: the API may answer values we do not know).
    #[serde(
        rename = "dcvMethod",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub dcv_method: Option<String>,
    /// `dcvEmail`.
    #[serde(
        rename = "dcvEmail",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub dcv_email: Option<String>,
    /// `is_verify`: `verified` once validated.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub is_verify: Option<String>,
}

impl DcvEntry {
    /// Whether this domain has passed DCV.
    pub fn is_verified(&self) -> bool {
        self.is_verify.as_deref() == Some("verified")
    }
}

/// `data` of a collect answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CollectData {
    /// `beginDate` of the current certificate file, `YYYY-MM-DD HH:MM:SS`.
    #[serde(
        rename = "beginDate",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub begin_date: Option<String>,
    /// `endDate` of the current certificate file.
    #[serde(
        rename = "endDate",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub end_date: Option<String>,
    /// `dueDate`: end of the subscription (may be later than `endDate`).
    #[serde(
        rename = "dueDate",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub due_date: Option<String>,
    /// `certificate`: the leaf, PEM.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub certificate: Option<String>,
    /// `caCertificate`: the chain, PEM.
    #[serde(
        rename = "caCertificate",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub ca_certificate: Option<String>,
    /// `vendorId`: the CA's order number.
    #[serde(
        rename = "vendorId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub vendor_id: Option<String>,
    /// `vendorCertId`.
    #[serde(
        rename = "vendorCertId",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub vendor_cert_id: Option<String>,
    /// `applyTime`.
    #[serde(
        rename = "applyTime",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub apply_time: Option<String>,
    /// The order-level DCV material.
    #[serde(flatten)]
    pub dcv: DcvMaterial,
    /// `dcvList`: per-domain DCV state.
    #[serde(
        rename = "dcvList",
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "lenient::vec"
    )]
    pub dcv_list: Vec<DcvEntry>,
    /// `application.status`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::stage"
    )]
    pub application: Option<StageStatus>,
    /// `dcv.status` (the wire field is `dcv`).
    #[serde(
        rename = "dcv",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::stage"
    )]
    pub dcv_stage: Option<StageStatus>,
    /// `ov.status`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::stage"
    )]
    pub ov: Option<StageStatus>,
    /// `issued.status`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::stage"
    )]
    pub issued: Option<StageStatus>,
    /// `applyParams`: the submitted parameters (an object, or a JSON string).
    #[serde(
        rename = "applyParams",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub apply_params: Option<Value>,
    /// `privateKey`, only when NicSRS generated the key.
    #[serde(
        rename = "privateKey",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub private_key: Option<String>,
    /// `rsaPrivateKey`, another spelling of the same.
    #[serde(
        rename = "rsaPrivateKey",
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient::opt_string"
    )]
    pub rsa_private_key: Option<String>,
}

/// A collect answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CollectResponse {
    /// `1`, or `2` while the certificate is being issued.
    pub code: i64,
    /// Top-level `status`.
    pub status: Option<String>,
    /// Top-level `certStatus` (rare).
    pub cert_status: Option<String>,
    /// `data`.
    pub data: CollectData,
}

/// An updateDCV answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateDcvResponse {
    /// The response code.
    pub code: i64,
    /// Fresh DCV material, when the answer carries it.
    pub dcv: DcvMaterial,
}

/// What a cancel achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelOutcome {
    /// The order is now cancelled.
    Cancelled,
    /// It was cancelled before (code `-8`); nothing changed.
    AlreadyCancelled,
}

/// The API's date-time format, `YYYY-MM-DD HH:MM:SS` (UTC assumed).
pub const API_DATETIME: &[time::format_description::FormatItem<'static>] =
    time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// Formats a time as the API does: `YYYY-MM-DD HH:MM:SS` in UTC.
pub fn format_api_datetime(t: time::OffsetDateTime) -> String {
    t.to_offset(time::UtcOffset::UTC)
        .format(API_DATETIME)
        .unwrap_or_default()
}

/// Parses `YYYY-MM-DD HH:MM:SS` or a bare `YYYY-MM-DD` (midnight), as UTC.
pub fn parse_api_datetime(s: &str) -> Option<time::OffsetDateTime> {
    let s = s.trim();
    if let Ok(t) = time::PrimitiveDateTime::parse(s, API_DATETIME) {
        return Some(t.assume_utc());
    }
    let date_only = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s.get(..10)?, date_only)
        .ok()
        .map(|d| d.midnight().assume_utc())
}

/// Lenient deserializers for fields whose JSON type varies.
pub(crate) mod lenient {
    use super::{DcvEntry, StageStatus};
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    /// A string; numbers and booleans become text, `null` becomes `None`.
    pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            Value::Number(n) => Ok(Some(n.to_string())),
            Value::Bool(b) => Ok(Some(b.to_string())),
            other => Err(D::Error::custom(format!(
                "expected a string, found {}",
                kind(&other)
            ))),
        }
    }

    /// The response code: an integer, or a string holding one.
    pub fn code<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        match Value::deserialize(d)? {
            Value::Number(n) => n
                .as_i64()
                .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64))
                .ok_or_else(|| D::Error::custom(format!("code {n} is not an integer"))),
            Value::String(s) => s
                .trim()
                .parse()
                .map_err(|_| D::Error::custom(format!("code {s:?} is not an integer"))),
            other => Err(D::Error::custom(format!(
                "expected an integer code, found {}",
                kind(&other)
            ))),
        }
    }

    /// A list; `null` (or PHP's `{}`) is empty.
    pub fn vec<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<DcvEntry>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(Vec::new()),
            Value::Object(m) if m.is_empty() => Ok(Vec::new()),
            v @ Value::Array(_) => serde_json::from_value(v).map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "expected a list, found {}",
                kind(&other)
            ))),
        }
    }

    /// A stage object; PHP's empty `[]` and `null` are absent.
    pub fn stage<'de, D: Deserializer<'de>>(d: D) -> Result<Option<StageStatus>, D::Error> {
        match Value::deserialize(d)? {
            Value::Null => Ok(None),
            Value::Array(a) if a.is_empty() => Ok(None),
            // Some answers may carry the bare status string.
            Value::String(s) => Ok(Some(StageStatus { status: Some(s) })),
            v @ Value::Object(_) => serde_json::from_value(v)
                .map(Some)
                .map_err(D::Error::custom),
            other => Err(D::Error::custom(format!(
                "expected a stage object, found {}",
                kind(&other)
            ))),
        }
    }

    pub fn kind(v: &Value) -> &'static str {
        match v {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn admin() -> Contact {
        Contact {
            job: Some("CEO".into()),
            city: Some("Shanghai".into()),
            email: Some("nick@example.com".into()),
            state: Some("Shanghai".into()),
            mobile: Some("18111111111".into()),
            address: Some("1 Road".into()),
            country: Some("CN".into()),
            last_name: Some("zhang".into()),
            post_code: Some("401320".into()),
            first_name: Some("nick".into()),
            organization: Some("NicSRS".into()),
        }
    }

    #[test]
    fn contact_serializes_both_spellings_and_omits_unset() {
        let v = serde_json::to_value(admin()).unwrap_or_default();
        assert_eq!(v["organization"], "NicSRS");
        assert_eq!(v["organation"], "NicSRS");
        assert_eq!(v["lastName"], "zhang");
        assert_eq!(v.as_object().map(|m| m.len()), Some(12));
        let partial = Contact {
            email: Some("a@b.c".into()),
            ..Contact::default()
        };
        assert_eq!(
            serde_json::to_value(partial).unwrap_or_default(),
            json!({"email": "a@b.c"})
        );
    }

    #[test]
    fn renew_form_has_the_seed_names() {
        let req = RenewRequest {
            renew_id: "260101abcdefghij".into(),
            years: 1,
            ref_id: None,
            params: RenewParams {
                csr: "CSR".into(),
                server: "other".into(),
                unique_value: None,
                domain_info: vec![DomainInfo {
                    dcv_method: DcvMethod::CnameCsrHash,
                    dcv_email: None,
                    domain_name: "example.com".into(),
                }],
                organization_info: None,
                administrator: admin(),
                finance: None,
                tech: None,
            },
        };
        let form = req.form_fields("tok").unwrap_or_default();
        let names: Vec<_> = form.iter().map(|(k, _)| *k).collect();
        assert_eq!(names, ["api_token", "renewId", "years", "params"]);
        let params: Value = serde_json::from_str(&form[3].1).unwrap_or_default();
        let keys: Vec<_> = params
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["csr", "server", "domainInfo", "Administrator"]);
        assert_eq!(
            params["domainInfo"][0],
            json!({"dcvMethod": "CNAME_CSR_HASH", "domainName": "example.com"})
        );
    }

    #[test]
    fn errors_flatten_in_every_shape() {
        let cases = [
            (json!("boom"), vec!["boom"]),
            (json!(["a", "b"]), vec!["a", "b"]),
            (
                json!({"years": ["years is required"], "csr": "bad"}),
                vec!["years: years is required", "csr: bad"],
            ),
        ];
        for (raw, want) in cases {
            let e: ApiErrors =
                serde_json::from_value(raw.clone()).unwrap_or(ApiErrors::Text(String::new()));
            assert_eq!(e.messages(), want, "{raw}");
        }
    }

    #[test]
    fn api_datetimes_round_trip() {
        let t = parse_api_datetime("2027-02-20 07:59:59");
        assert_eq!(
            t.map(format_api_datetime).as_deref(),
            Some("2027-02-20 07:59:59")
        );
        let d = parse_api_datetime("2027-02-20");
        assert_eq!(
            d.map(format_api_datetime).as_deref(),
            Some("2027-02-20 00:00:00")
        );
        assert_eq!(parse_api_datetime("soon"), None);
    }

    #[test]
    fn collect_accepts_numbers_for_ids_and_string_codes() {
        let env: Envelope =
            serde_json::from_value(json!({"code": "2", "status": "PENDING", "data": {}}))
                .unwrap_or_default();
        assert_eq!(env.code, 2);
        let data: CollectData = serde_json::from_value(json!({
            "vendorId": 123456,
            "DCVdnsHost": "_abc",
            "dcvList": [{"domainName": "a.com", "dcvMethod": "EMAIL", "is_verify": "verified"}],
            "application": {"status": "done"},
            "applyParams": "{\"csr\":\"x\"}"
        }))
        .unwrap_or_default();
        assert_eq!(data.vendor_id.as_deref(), Some("123456"));
        assert_eq!(data.dcv.dcv_dns_host.as_deref(), Some("_abc"));
        assert!(data.dcv_list[0].is_verified());
        assert_eq!(
            data.application.and_then(|s| s.status).as_deref(),
            Some("done")
        );
    }
}

// ---------------------------------------------------------------------------
// What an order was placed with
// ---------------------------------------------------------------------------

/// A scalar NicSRS may send as a string or a number, read as text; empty
/// text counts as absent.
fn text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(deserializer)? {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// `applyParams` of `/ssl/collect`: the parameters the order was placed with
/// (the renew call's `params`, plus `renewId`/`years` where NicSRS reports
/// them [inferred]). Every field is optional: the reader decides what it needs.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ApplyParams {
    #[serde(default, deserialize_with = "text")]
    pub csr: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub server: Option<String>,
    #[serde(rename = "uniqueValue", default, deserialize_with = "text")]
    pub unique_value: Option<String>,
    #[serde(rename = "renewId", default, deserialize_with = "text")]
    pub renew_id: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub years: Option<String>,
    #[serde(rename = "domainInfo", default)]
    pub domain_info: Option<Vec<AppliedDomain>>,
    #[serde(rename = "organizationInfo", default)]
    pub organization_info: Option<OrganizationInfo>,
    #[serde(rename = "Administrator", default)]
    pub administrator: Option<AppliedContact>,
    #[serde(default)]
    pub finance: Option<AppliedContact>,
    #[serde(default)]
    pub tech: Option<AppliedContact>,
}

impl ApplyParams {
    /// `applyParams` as NicSRS sends it: an object, or an object as JSON text.
    pub fn from_wire(value: &Value) -> Option<ApplyParams> {
        match value {
            Value::Object(_) => serde_json::from_value(value.clone()).ok(),
            Value::String(text) => serde_json::from_str(text).ok(),
            _ => None,
        }
    }
}

/// One `domainInfo` entry of `applyParams`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AppliedDomain {
    #[serde(rename = "domainName", default, deserialize_with = "text")]
    pub domain_name: Option<String>,
    #[serde(rename = "dcvMethod", default, deserialize_with = "text")]
    pub dcv_method: Option<String>,
    #[serde(rename = "dcvEmail", default, deserialize_with = "text")]
    pub dcv_email: Option<String>,
}

/// A contact of `applyParams`, read with the seed's `organation` spelling
/// where `organization` is missing.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct AppliedContact {
    #[serde(default, deserialize_with = "text")]
    pub job: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub city: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub email: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub state: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub mobile: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub address: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub country: Option<String>,
    #[serde(rename = "lastName", default, deserialize_with = "text")]
    pub last_name: Option<String>,
    #[serde(rename = "postCode", default, deserialize_with = "text")]
    pub post_code: Option<String>,
    #[serde(rename = "firstName", default, deserialize_with = "text")]
    pub first_name: Option<String>,
    #[serde(default, deserialize_with = "text")]
    pub organization: Option<String>,
    #[serde(default, deserialize_with = "text")]
    organation: Option<String>,
}

impl AppliedContact {
    pub fn into_contact(self) -> Contact {
        Contact {
            job: self.job,
            city: self.city,
            email: self.email,
            state: self.state,
            mobile: self.mobile,
            address: self.address,
            country: self.country,
            last_name: self.last_name,
            post_code: self.post_code,
            first_name: self.first_name,
            organization: self.organization.or(self.organation),
        }
    }
}
