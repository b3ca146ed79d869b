//! Resource state ⇄ NicSRS wire types: the only place where both
//! vocabularies meet.

use crate::nicsrs;
use crate::plugin::Value;

use super::contact::to_contact;

fn string(value: &Value, name: &str) -> Option<String> {
    value.get(name).as_str().map(str::to_string)
}

/// The `/ssl/renew` request for a planned `nicsrs_certificate_renewal`.
/// Validation has already run, so missing values only come from bugs and
/// fall back to what the API would reject loudly.
pub fn renew_request(planned: &Value, ref_id: &str) -> nicsrs::RenewRequest {
    let domain_info = planned
        .get("domain_info")
        .elements()
        .iter()
        .map(|d| nicsrs::DomainInfo {
            dcv_method: d
                .get("dcv_method")
                .as_str()
                .and_then(nicsrs::DcvMethod::parse)
                .unwrap_or(nicsrs::DcvMethod::CnameCsrHash),
            dcv_email: string(d, "dcv_email"),
            domain_name: string(d, "domain_name").unwrap_or_default(),
        })
        .collect();
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
    nicsrs::RenewRequest {
        renew_id: string(planned, "renew_id").unwrap_or_default(),
        years: planned.get("years").as_f64().map_or(1, |y| y as u8),
        ref_id: Some(ref_id.to_string()),
        params: nicsrs::RenewParams {
            csr: string(planned, "csr").unwrap_or_default(),
            server: string(planned, "server").unwrap_or_default(),
            unique_value: string(planned, "unique_value"),
            domain_info,
            organization_info,
            administrator: to_contact(planned.get("administrator")),
            finance: optional_contact("finance"),
            tech: optional_contact("tech"),
        },
    }
}
