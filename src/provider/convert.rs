//! Resource models ⇄ NicSRS wire types: the only place where both
//! vocabularies meet.

use tfplugin::model::IntoValue;
use tfplugin::Field;

use super::contact::{from_contact, to_contact};
use super::models::{Contact, DomainInfo, OrganizationInfo, Renewal};

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

/// The value of an argument of the order: unknown waits for apply, null is
/// an error (never a default).
fn required<'a, T>(field: &'a Field<T>, attribute: &'static str) -> Result<&'a T, NotReady> {
    match field {
        Field::Known(value) => Ok(value),
        Field::Unknown => Err(NotReady::Unknown(attribute)),
        Field::Null => Err(NotReady::Invalid {
            attribute: attribute.into(),
            problem: "missing".into(),
        }),
    }
}

/// An optional argument: known or null, or wait for apply.
fn optional<'a, T>(
    field: &'a Field<T>,
    attribute: &'static str,
) -> Result<Option<&'a T>, NotReady> {
    match field {
        Field::Unknown => Err(NotReady::Unknown(attribute)),
        other => Ok(other.known()),
    }
}

fn optional_text(
    field: &Field<String>,
    attribute: &'static str,
) -> Result<Option<String>, NotReady> {
    optional(field, attribute).map(|text| text.cloned())
}

fn domain(d: &DomainInfo, i: usize) -> Result<nicsrs::DomainInfo, NotReady> {
    const AT: &str = "domain_info";
    let method = required(&d.dcv_method, AT)?;
    Ok(nicsrs::DomainInfo {
        dcv_method: nicsrs::DcvMethod::parse(method).ok_or_else(|| NotReady::Invalid {
            attribute: format!("domain_info[{i}].dcv_method"),
            problem: format!("{method:?} is not a DCV method"),
        })?,
        dcv_email: optional_text(&d.dcv_email, AT)?,
        domain_name: required(&d.domain_name, AT)?.clone(),
    })
}

fn organization(o: &OrganizationInfo) -> Result<nicsrs::OrganizationInfo, NotReady> {
    const AT: &str = "organization_info";
    Ok(nicsrs::OrganizationInfo {
        organization_city: optional_text(&o.city, AT)?,
        organization_name: optional_text(&o.name, AT)?,
        organization_mobile: optional_text(&o.mobile, AT)?,
        organization_address: optional_text(&o.address, AT)?,
        organization_country: optional_text(&o.country, AT)?,
        organization_post_code: optional_text(&o.post_code, AT)?,
    })
}

fn contact(block: &Contact, attribute: &'static str) -> Result<nicsrs::Contact, NotReady> {
    // The model's own encoding says whether any field is still unknown.
    if !block.clone().into_value().is_wholly_known() {
        return Err(NotReady::Unknown(attribute));
    }
    Ok(to_contact(block))
}

fn whole_years(years: f64) -> Result<u8, NotReady> {
    u8::try_from(years as i64)
        .ok()
        .filter(|y| f64::from(*y) == years && *y >= 1)
        .ok_or_else(|| NotReady::Invalid {
            attribute: "years".into(),
            problem: format!("{years} is not a whole number of years"),
        })
}

/// The `/ssl/renew` request for a planned `nicsrs_certificate_renewal`, once
/// every argument is known.
pub fn renew_request(planned: &Renewal) -> Result<nicsrs::RenewRequest, NotReady> {
    let renew_id = required(&planned.renew_id, "renew_id")?.clone();
    let years = whole_years(*required(&planned.years, "years")?)?;
    let csr = required(&planned.csr, "csr")?.clone();
    let server = required(&planned.server, "server")?.clone();
    let unique_value = optional_text(&planned.unique_value, "unique_value")?;
    let domain_info = required(&planned.domain_info, "domain_info")?
        .iter()
        .enumerate()
        .map(|(i, d)| domain(d, i))
        .collect::<Result<Vec<_>, _>>()?;
    let organization_info = optional(&planned.organization_info, "organization_info")?
        .map(organization)
        .transpose()?;
    let administrator = contact(
        required(&planned.administrator, "administrator")?,
        "administrator",
    )?;
    let finance = optional(&planned.finance, "finance")?
        .map(|c| contact(c, "finance"))
        .transpose()?;
    let tech = optional(&planned.tech, "tech")?
        .map(|c| contact(c, "tech"))
        .transpose()?;
    Ok(nicsrs::RenewRequest {
        renew_id,
        years,
        ref_id: planned.ref_id.known().cloned(),
        params: nicsrs::RenewParams {
            csr,
            server,
            unique_value,
            domain_info,
            organization_info,
            administrator,
            finance,
            tech,
        },
    })
}

/// The arguments of an existing order, for import: what it was ordered with
/// (`applyParams`, the submitted parameters) and each domain's current
/// validation method (`dcvList`, which `updateDCV` changes). `renew_id` and
/// `years` are set only when NicSRS reports them. The error names what the
/// order does not report.
pub fn set_order_arguments(
    params: nicsrs::ApplyParams,
    dcv_list: &[nicsrs::DcvEntry],
    state: &mut Renewal,
) -> Result<(), &'static str> {
    state.csr = Field::Known(params.csr.ok_or("csr")?);
    state.server = Field::Known(params.server.ok_or("server")?);
    state.unique_value = params.unique_value.into();
    if let Some(renew_id) = params.renew_id {
        state.renew_id = Field::Known(renew_id);
    }
    if let Some(years) = params.years.and_then(|y| y.parse::<f64>().ok()) {
        state.years = Field::Known(years);
    }
    let domains = params
        .domain_info
        .filter(|d| !d.is_empty())
        .ok_or("domainInfo")?;
    let mut domain_info = Vec::new();
    for applied in domains {
        let name = applied.domain_name.ok_or("domainInfo.domainName")?;
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
            _ => (applied.dcv_method, applied.dcv_email),
        };
        domain_info.push(DomainInfo {
            domain_name: Field::Known(name),
            dcv_method: Field::Known(method.ok_or("domainInfo.dcvMethod")?),
            dcv_email: email.filter(|e| !e.is_empty()).into(),
        });
    }
    state.domain_info = Field::Known(domain_info);
    state.organization_info = params
        .organization_info
        .map(|o| OrganizationInfo {
            name: o.organization_name.into(),
            city: o.organization_city.into(),
            mobile: o.organization_mobile.into(),
            address: o.organization_address.into(),
            country: o.organization_country.into(),
            post_code: o.organization_post_code.into(),
        })
        .into();
    let administrator = params.administrator.ok_or("Administrator")?;
    state.administrator = Field::Known(from_contact(administrator.into_contact()));
    state.finance = params
        .finance
        .map(|c| from_contact(c.into_contact()))
        .into();
    state.tech = params.tech.map(|c| from_contact(c.into_contact())).into();
    Ok(())
}
