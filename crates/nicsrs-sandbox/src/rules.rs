//! The seed's validation rules for `/ssl/renew`, one function each.
//!
//! Each rule adds `field → message` entries; the renew handler answers code
//! `-1` with `errors` as that map when any rule fails. Field names are the
//! wire names, nested ones dotted (`params.Administrator.job`,
//! `params.domainInfo[0].dcvEmail`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::ca::{parse_csr, ParsedCsr};
use super::store::{Brand, DomainState, Validation};
use nicsrs::rules;
use nicsrs::types::DcvMethod;

/// Field → messages, the shape of `errors` in a `-1` answer.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// Adds one message for `field`.
pub fn add(errs: &mut FieldErrors, field: impl Into<String>, msg: impl Into<String>) {
    errs.entry(field.into()).or_default().push(msg.into());
}

/// The eleven contact fields, in the seed's order: the client's list.
pub use nicsrs::types::CONTACT_FIELDS;

/// The six `organizationInfo` fields.
pub const ORGANIZATION_FIELDS: [&str; 6] = [
    "organizationCity",
    "organizationName",
    "organizationMobile",
    "organizationAddress",
    "organizationCountry",
    "organizationPostCode",
];

/// A renewal that passed every rule.
#[derive(Debug, Clone)]
pub struct ValidRenew {
    /// `renewId`.
    pub renew_id: String,
    /// `years`.
    pub years: u8,
    /// `refId`.
    pub ref_id: Option<String>,
    /// `params`, parsed.
    pub params: Map<String, Value>,
    /// The CSR.
    pub csr: ParsedCsr,
    /// The CSR PEM as received.
    pub csr_pem: String,
    /// `server`.
    pub server: String,
    /// `uniqueValue`.
    pub unique_value: Option<String>,
    /// The domains, unverified.
    pub domains: Vec<DomainState>,
}

fn text(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Records a failed shared rule as an error on `field`.
fn checked<T>(
    errs: &mut FieldErrors,
    field: &str,
    outcome: Result<T, rules::Problem>,
) -> Option<T> {
    outcome.map_err(|problem| add(errs, field, problem)).ok()
}

/// `renewId` is required, used exactly as sent.
pub fn renew_id(form: &BTreeMap<String, String>, errs: &mut FieldErrors) -> Option<String> {
    let Some(id) = form.get("renewId").filter(|s| !s.is_empty()) else {
        add(errs, "renewId", "renewId is required");
        return None;
    };
    checked(errs, "renewId", rules::identifier("renewId", id)).map(|()| id.clone())
}

/// `years` is required, an integer from 1 to 6.
pub fn years(form: &BTreeMap<String, String>, errs: &mut FieldErrors) -> Option<u8> {
    let Some(raw) = form
        .get("years")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    else {
        add(errs, "years", "years is required");
        return None;
    };
    match raw.parse::<u8>() {
        Ok(y) if (1..=6).contains(&y) => Some(y),
        _ => {
            add(errs, "years", "years must be an integer from 1 to 6");
            None
        }
    }
}

/// `refId` is optional; when sent, an identifier used exactly as sent.
pub fn ref_id(form: &BTreeMap<String, String>, errs: &mut FieldErrors) -> Option<String> {
    let raw = form.get("refId")?;
    checked(errs, "refId", rules::identifier("refId", raw)).map(|()| raw.clone())
}

/// `params` is required and holds a JSON object.
pub fn params(
    form: &BTreeMap<String, String>,
    errs: &mut FieldErrors,
) -> Option<Map<String, Value>> {
    let Some(raw) = form.get("params").filter(|s| !s.trim().is_empty()) else {
        add(errs, "params", "params is required");
        return None;
    };
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(m)) => Some(m),
        _ => {
            add(errs, "params", "params must be a JSON object");
            None
        }
    }
}

/// `params.csr` is required: a PEM PKCS#10 CSR with a valid signature.
pub fn csr(params: &Map<String, Value>, errs: &mut FieldErrors) -> Option<(ParsedCsr, String)> {
    let Some(pem) = text(params.get("csr")) else {
        add(errs, "params.csr", "csr is required");
        return None;
    };
    match parse_csr(pem) {
        Ok(c) => Some((c, pem.to_string())),
        Err(e) => {
            add(errs, "params.csr", e);
            None
        }
    }
}

/// `params.server` is required, one of the platform list (lower case).
pub fn server(params: &Map<String, Value>, errs: &mut FieldErrors) -> Option<String> {
    let Some(s) = text(params.get("server")) else {
        add(errs, "params.server", "server is required");
        return None;
    };
    checked(errs, "params.server", rules::server("server", s)).map(|()| s.to_string())
}

/// `params.uniqueValue` is optional: 1–20 of a–z, A–Z, 0–9.
pub fn unique_value(params: &Map<String, Value>, errs: &mut FieldErrors) -> Option<String> {
    let v = params.get("uniqueValue")?;
    let Some(s) = v.as_str() else {
        add(errs, "params.uniqueValue", "uniqueValue must be a string");
        return None;
    };
    checked(
        errs,
        "params.uniqueValue",
        rules::unique_value("uniqueValue", s),
    )
    .map(|()| s.to_string())
}

/// `dcvEmail` for `domain`: `<prefix>@<the domain or a parent of it>`, one
/// of the five prefixes; required with EMAIL on Sectigo products.
pub fn dcv_email(
    domain: &str,
    method: Option<DcvMethod>,
    email: Option<&str>,
    brand: Brand,
    field: &str,
    errs: &mut FieldErrors,
) {
    let Some(email) = email.map(str::trim).filter(|e| !e.is_empty()) else {
        if let (Some(method), Brand::Sectigo) = (method, brand) {
            checked(
                errs,
                field,
                rules::dcv_email_present("dcvEmail", method, None),
            );
        }
        return;
    };
    checked(
        errs,
        field,
        rules::dcv_email("dcvEmail", email, domain.trim()),
    );
}

/// `params.domainInfo` is required: a non-empty array of `{domainName,
/// dcvMethod, dcvEmail}`, each with a known method (HTTP/HTTPS not for
/// wildcards) and a valid `dcvEmail`.
pub fn domain_info(
    params: &Map<String, Value>,
    brand: Brand,
    errs: &mut FieldErrors,
) -> Vec<DomainState> {
    let items = match params.get("domainInfo") {
        None | Some(Value::Null) => {
            add(errs, "params.domainInfo", "domainInfo is required");
            return Vec::new();
        }
        Some(Value::Array(items)) if !items.is_empty() => items,
        Some(_) => {
            add(
                errs,
                "params.domainInfo",
                "domainInfo must be a non-empty JSON array",
            );
            return Vec::new();
        }
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = format!("params.domainInfo[{i}]");
        let Some(obj) = item.as_object() else {
            add(errs, at, "each domainInfo entry must be a JSON object");
            continue;
        };
        let name = obj
            .get("domainName")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty());
        match name {
            None => add(errs, format!("{at}.domainName"), "domainName is required"),
            Some(n) => {
                checked(
                    errs,
                    &format!("{at}.domainName"),
                    rules::domain_name("domainName", n),
                );
            }
        }
        if let Some(n) = name {
            if out
                .iter()
                .any(|d: &DomainState| d.domain_name.eq_ignore_ascii_case(n))
            {
                add(
                    errs,
                    format!("{at}.domainName"),
                    format!("domainName {n} is listed twice"),
                );
            }
        }
        let method = match text(obj.get("dcvMethod")) {
            None => {
                add(errs, format!("{at}.dcvMethod"), "dcvMethod is required");
                None
            }
            Some(m) => checked(
                errs,
                &format!("{at}.dcvMethod"),
                rules::dcv_method("dcvMethod", m),
            ),
        };
        if let (Some(n), Some(m)) = (name, method) {
            checked(
                errs,
                &format!("{at}.dcvMethod"),
                rules::method_fits_domain(m, n),
            );
        }
        let email = obj.get("dcvEmail").and_then(Value::as_str);
        if let Some(n) = name {
            dcv_email(n, method, email, brand, &format!("{at}.dcvEmail"), errs);
        }
        if let (Some(n), Some(m)) = (name, method) {
            out.push(DomainState {
                domain_name: n.to_string(),
                dcv_method: m,
                dcv_email: email
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(str::to_string),
                verified: false,
            });
        }
    }
    out
}

/// Every `domainName` must be one of the CSR's names (CN or SAN).
pub fn csr_covers_domains(csr: &ParsedCsr, domains: &[DomainState], errs: &mut FieldErrors) {
    for (i, d) in domains.iter().enumerate() {
        checked(
            errs,
            &format!("params.domainInfo[{i}].domainName"),
            rules::csr_covers("domainName", &csr.names, d.domain_name.trim()),
        );
    }
}

/// `params.Administrator` (capital A) is required with all eleven fields.
/// The misspelt `organation` is accepted in place of `organization`.
pub fn administrator(params: &Map<String, Value>, errs: &mut FieldErrors) {
    let Some(admin) = params.get("Administrator") else {
        add(errs, "params.Administrator", "Administrator is required");
        return;
    };
    let Some(obj) = admin.as_object() else {
        add(
            errs,
            "params.Administrator",
            "Administrator must be a JSON object",
        );
        return;
    };
    for f in CONTACT_FIELDS {
        let present = text(obj.get(f)).is_some()
            || (f == "organization" && text(obj.get("organation")).is_some());
        if !present {
            add(
                errs,
                format!("params.Administrator.{f}"),
                format!("{f} is required"),
            );
        }
    }
    contact_fields("Administrator", obj, errs);
}

/// The shared rules on the fields a contact has: text the API stores, the
/// e-mail address, the phone number, the country code.
fn contact_fields(contact: &str, obj: &Map<String, Value>, errs: &mut FieldErrors) {
    for (key, value) in obj {
        let Some(value) = value.as_str() else {
            continue;
        };
        let field = format!("params.{contact}.{key}");
        let outcome = rules::text(key, value).and_then(|()| match key.as_str() {
            "email" => rules::email(key, value),
            "country" | "organizationCountry" => rules::country(key, value),
            "mobile" | "organizationMobile" => rules::mobile(key, value),
            _ => Ok(()),
        });
        checked(errs, &field, outcome);
    }
}

/// `params.finance` and `params.tech` are optional objects of strings.
pub fn optional_contacts(params: &Map<String, Value>, errs: &mut FieldErrors) {
    for name in ["finance", "tech"] {
        match params.get(name) {
            None | Some(Value::Null) => {}
            Some(Value::Object(obj)) => {
                for (k, v) in obj {
                    if !v.is_string() && !v.is_null() {
                        add(
                            errs,
                            format!("params.{name}.{k}"),
                            format!("{k} must be a string"),
                        );
                    }
                }
                contact_fields(name, obj, errs);
            }
            Some(_) => add(
                errs,
                format!("params.{name}"),
                format!("{name} must be a JSON object"),
            ),
        }
    }
}

/// `params.organizationInfo` is required, with its six fields, for OV/EV.
pub fn organization_info(
    params: &Map<String, Value>,
    validation: Validation,
    errs: &mut FieldErrors,
) {
    let info = params.get("organizationInfo").filter(|v| !v.is_null());
    if let Some(obj) = info.and_then(Value::as_object) {
        contact_fields("organizationInfo", obj, errs);
    }
    if validation == Validation::Dv {
        if let Some(v) = info {
            if !v.is_object() {
                add(
                    errs,
                    "params.organizationInfo",
                    "organizationInfo must be a JSON object",
                );
            }
        }
        return;
    }
    let Some(obj) = info.and_then(Value::as_object) else {
        add(
            errs,
            "params.organizationInfo",
            "organizationInfo is required for OV/EV certificates",
        );
        return;
    };
    for f in ORGANIZATION_FIELDS {
        if text(obj.get(f)).is_none() {
            add(
                errs,
                format!("params.organizationInfo.{f}"),
                format!("{f} is required for OV/EV certificates"),
            );
        }
    }
}

/// Runs every rule. `brand`/`validation` come from the certificate being
/// renewed (Sectigo DV when it is unknown).
pub fn validate_renew(
    form: &BTreeMap<String, String>,
    brand: Brand,
    validation: Validation,
    errs: &mut FieldErrors,
) -> Option<ValidRenew> {
    let renew_id = renew_id(form, errs);
    let years = years(form, errs);
    let ref_id = ref_id(form, errs);
    let params = params(form, errs);
    let mut parts = None;
    if let Some(p) = &params {
        let csr = csr(p, errs);
        let server = server(p, errs);
        let unique_value = unique_value(p, errs);
        let domains = domain_info(p, brand, errs);
        if let Some((c, _)) = &csr {
            csr_covers_domains(c, &domains, errs);
        }
        administrator(p, errs);
        optional_contacts(p, errs);
        organization_info(p, validation, errs);
        parts = Some((csr, server, unique_value, domains));
    }
    if !errs.is_empty() {
        return None;
    }
    let (
        Some(renew_id),
        Some(years),
        Some(params),
        Some((Some((csr, csr_pem)), Some(server), unique_value, domains)),
    ) = (renew_id, years, params, parts)
    else {
        return None;
    };
    Some(ValidRenew {
        renew_id,
        years,
        ref_id,
        params,
        csr,
        csr_pem,
        server,
        unique_value,
        domains,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check_email(
        domain: &str,
        email: Option<&str>,
        method: DcvMethod,
        brand: Brand,
    ) -> Vec<String> {
        let mut errs = FieldErrors::new();
        dcv_email(domain, Some(method), email, brand, "f", &mut errs);
        errs.remove("f").unwrap_or_default()
    }

    #[test]
    fn dcv_email_rules() {
        use DcvMethod::*;
        let ok = [
            ("www.example.com", "admin@example.com"),
            ("www.example.com", "hostmaster@www.example.com"),
            ("*.shop.example.com", "webmaster@example.com"),
            ("example.com", "Postmaster@Example.com"),
        ];
        for (d, e) in ok {
            assert!(
                check_email(d, Some(e), Email, Brand::Sectigo).is_empty(),
                "{d} {e}"
            );
        }
        let bad = [
            ("www.example.com", "info@example.com"),
            ("www.example.com", "admin@other.com"),
            ("www.example.com", "admin@com"),
            ("example.com", "admin@www.example.com"),
            ("myexample.com", "admin@example.com"),
        ];
        for (d, e) in bad {
            assert_eq!(
                check_email(d, Some(e), Email, Brand::Sectigo).len(),
                1,
                "{d} {e}"
            );
        }
        assert_eq!(
            check_email("a.com", None, Email, Brand::Sectigo),
            ["dcvEmail is required with the EMAIL method: the mailbox the CA writes to, e.g. admin@ and the domain."]
        );
        assert!(check_email("a.com", None, Email, Brand::Digicert).is_empty());
        assert!(check_email("a.com", None, CnameCsrHash, Brand::Sectigo).is_empty());
    }

    #[test]
    fn scalar_rules() {
        let form = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        let cases: [(&str, &str, Option<u8>); 5] = [
            ("1", "", Some(1)),
            ("6", "", Some(6)),
            ("0", "x", None),
            ("7", "x", None),
            ("two", "x", None),
        ];
        for (raw, _, want) in cases {
            let mut errs = FieldErrors::new();
            assert_eq!(years(&form("years", raw), &mut errs), want, "{raw}");
            assert_eq!(errs.is_empty(), want.is_some());
        }
        let uv = |v: Value| {
            let mut errs = FieldErrors::new();
            let p = Map::from_iter([("uniqueValue".to_string(), v)]);
            unique_value(&p, &mut errs);
            errs.is_empty()
        };
        assert!(uv(json!("abcXYZ019")));
        assert!(uv(json!("a".repeat(20))));
        assert!(!uv(json!("a".repeat(21))));
        assert!(!uv(json!("")));
        assert!(!uv(json!("has-dash")));
        assert!(!uv(json!(12)));
    }

    #[test]
    fn organization_info_only_for_ov_ev() {
        let none = Map::new();
        let mut errs = FieldErrors::new();
        organization_info(&none, Validation::Dv, &mut errs);
        assert!(errs.is_empty());
        organization_info(&none, Validation::Ov, &mut errs);
        assert_eq!(
            errs.get("params.organizationInfo").map(Vec::as_slice),
            Some(&["organizationInfo is required for OV/EV certificates".to_string()][..])
        );
        let mut errs = FieldErrors::new();
        let partial = Map::from_iter([(
            "organizationInfo".to_string(),
            json!({"organizationName": "X"}),
        )]);
        organization_info(&partial, Validation::Ev, &mut errs);
        assert_eq!(errs.len(), 5);
        assert!(errs.contains_key("params.organizationInfo.organizationPostCode"));
    }
}
