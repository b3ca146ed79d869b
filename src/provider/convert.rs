//! Resource state ⇄ NicSRS wire types: the only place where both
//! vocabularies meet.

use crate::nicsrs;
use crate::plugin::Value;

use super::contact::to_contact;

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
