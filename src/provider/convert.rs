//! Resource state ⇄ NicSRS wire types: the only place where both
//! vocabularies meet.

use crate::nicsrs;
use crate::plugin::Value;

use super::contact::{to_contact, CONTACT_FIELDS};

fn string(value: &Value, name: &str) -> Option<String> {
    value.get(name).as_str().map(str::to_string)
}

/// The arguments of a renewal that make up its renew call.
const ORDER_ARGUMENTS: [&str; 10] = [
    "renew_id",
    "years",
    "csr",
    "server",
    "unique_value",
    "domain_info",
    "organization_info",
    "administrator",
    "finance",
    "tech",
];

/// Why a planned renewal does not give a renew call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotReady {
    /// An argument is known only after apply (fine at plan time).
    Unknown(&'static str),
    /// A required argument is missing or malformed: never substituted by a
    /// default, since every value here is part of a paid order.
    Invalid { attribute: String, problem: String },
}

impl std::fmt::Display for NotReady {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotReady::Unknown(name) => write!(f, "{name} is not known yet"),
            NotReady::Invalid { attribute, problem } => write!(f, "{attribute}: {problem}"),
        }
    }
}

fn required(value: &Value, name: &str) -> Result<String, NotReady> {
    string(value, name).ok_or_else(|| NotReady::Invalid {
        attribute: name.to_string(),
        problem: "missing".into(),
    })
}

/// The `/ssl/renew` request for a planned `nicsrs_certificate_renewal`, once
/// every argument is known.
pub fn renew_request(planned: &Value) -> Result<nicsrs::RenewRequest, NotReady> {
    if let Some(name) = ORDER_ARGUMENTS
        .into_iter()
        .find(|name| !planned.get(name).is_wholly_known())
    {
        return Err(NotReady::Unknown(name));
    }
    let mut domain_info = Vec::new();
    for (i, d) in planned.get("domain_info").elements().iter().enumerate() {
        let method = required(d, "dcv_method")?;
        domain_info.push(nicsrs::DomainInfo {
            dcv_method: nicsrs::DcvMethod::parse(&method).ok_or_else(|| NotReady::Invalid {
                attribute: format!("domain_info[{i}].dcv_method"),
                problem: format!("{method:?} is not a DCV method"),
            })?,
            dcv_email: string(d, "dcv_email"),
            domain_name: required(d, "domain_name")?,
        });
    }
    let not_years = |problem: String| NotReady::Invalid {
        attribute: "years".into(),
        problem,
    };
    let years = planned
        .get("years")
        .as_f64()
        .ok_or_else(|| not_years("not a plain number".into()))?;
    let years = u8::try_from(years as i64)
        .ok()
        .filter(|y| f64::from(*y) == years && *y >= 1)
        .ok_or_else(|| not_years(format!("{years} is not a whole number of years")))?;
    let organization = planned.get("organization_info");
    let organization_info = (!organization.is_null()).then(|| nicsrs::OrganizationInfo {
        organization_city: string(organization, "city"),
        organization_name: string(organization, "name"),
        organization_mobile: string(organization, "mobile"),
        organization_address: string(organization, "address"),
        organization_country: string(organization, "country"),
        organization_post_code: string(organization, "post_code"),
    });
    let optional_contact = |name: &str| {
        let block = planned.get(name);
        (!block.is_null()).then(|| to_contact(block))
    };
    Ok(nicsrs::RenewRequest {
        renew_id: required(planned, "renew_id")?,
        years,
        ref_id: string(planned, "ref_id"),
        params: nicsrs::RenewParams {
            csr: required(planned, "csr")?,
            server: required(planned, "server")?,
            unique_value: string(planned, "unique_value"),
            domain_info,
            organization_info,
            administrator: to_contact(planned.get("administrator")),
            finance: optional_contact("finance"),
            tech: optional_contact("tech"),
        },
    })
}

/// A JSON scalar as text (NicSRS sends numbers as numbers or strings).
fn json_text(value: Option<&serde_json::Value>) -> Option<String> {
    match value? {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A contact block from a contact object of the renew call (`Administrator`,
/// `finance`, `tech`), reading `organation` where `organization` is missing.
fn contact_value(wire: &serde_json::Map<String, serde_json::Value>) -> Value {
    let wire_names = nicsrs::Contact::default().fields().map(|(name, _)| name);
    Value::object(
        CONTACT_FIELDS
            .iter()
            .zip(wire_names)
            .map(|((name, _), wire_name)| {
                let mut text = json_text(wire.get(wire_name));
                if wire_name == "organization" && text.is_none() {
                    text = json_text(wire.get("organation"));
                }
                (*name, Value::opt_string(text))
            }),
    )
}

/// The arguments of an existing order, for import: what it was ordered with
/// (`applyParams`, the submitted parameters) and each domain's current
/// validation method (`dcvList`, which `updateDCV` changes). `renew_id` and
/// `years` are set only when NicSRS reports them. The error names what the
/// order does not report.
pub fn set_order_arguments(
    params: &serde_json::Map<String, serde_json::Value>,
    dcv_list: &[nicsrs::DcvEntry],
    state: &mut Value,
) -> Result<(), &'static str> {
    let text = |name: &str| json_text(params.get(name)).filter(|t| !t.trim().is_empty());
    let object = |name: &str| params.get(name).and_then(serde_json::Value::as_object);
    state.set("csr", text("csr").ok_or("csr")?.into());
    state.set("server", text("server").ok_or("server")?.into());
    state.set("unique_value", Value::opt_string(text("uniqueValue")));
    if let Some(renew_id) = text("renewId") {
        state.set("renew_id", renew_id.into());
    }
    if let Some(years) = text("years").and_then(|y| y.parse::<f64>().ok()) {
        state.set("years", Value::Number(years));
    }
    let domains = params
        .get("domainInfo")
        .and_then(serde_json::Value::as_array)
        .filter(|d| !d.is_empty())
        .ok_or("domainInfo")?;
    let mut domain_info = Vec::new();
    for domain in domains {
        let domain = domain.as_object().ok_or("domainInfo")?;
        let name = json_text(domain.get("domainName")).ok_or("domainInfo.domainName")?;
        let current = dcv_list.iter().find(|entry| {
            entry
                .domain_name
                .as_deref()
                .is_some_and(|d| d.eq_ignore_ascii_case(&name))
        });
        let (method, email) = match current {
            Some(entry) if entry.dcv_method.is_some() => {
                (entry.dcv_method.clone(), entry.dcv_email.clone())
            }
            _ => (
                json_text(domain.get("dcvMethod")),
                json_text(domain.get("dcvEmail")),
            ),
        };
        domain_info.push(Value::object([
            ("domain_name", name.into()),
            ("dcv_method", method.ok_or("domainInfo.dcvMethod")?.into()),
            (
                "dcv_email",
                Value::opt_string(email.filter(|e| !e.is_empty())),
            ),
        ]));
    }
    state.set("domain_info", Value::List(domain_info));
    let organization = object("organizationInfo").map_or(Value::Null, |o| {
        Value::object(
            [
                ("name", "organizationName"),
                ("city", "organizationCity"),
                ("mobile", "organizationMobile"),
                ("address", "organizationAddress"),
                ("country", "organizationCountry"),
                ("post_code", "organizationPostCode"),
            ]
            .map(|(name, wire)| (name, Value::opt_string(json_text(o.get(wire))))),
        )
    });
    state.set("organization_info", organization);
    let administrator = object("Administrator").ok_or("Administrator")?;
    state.set("administrator", contact_value(administrator));
    for (name, wire) in [("finance", "finance"), ("tech", "tech")] {
        state.set(name, object(wire).map_or(Value::Null, contact_value));
    }
    Ok(())
}
