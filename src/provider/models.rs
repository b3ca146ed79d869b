//! The provider's typed models: one struct per resource, data source and
//! nested block, whose fields are the schema's attributes. Requests are
//! decoded into these once (see [`decode`]); resource code reads fields.
//!
//! Every field is a [`Field`] where Terraform may send null or unknown while
//! planning; apply-time code asks for known values and reports a missing one
//! as an error, never substituting a default (every argument of a renewal is
//! part of a paid order).

use std::collections::BTreeMap;

use tfplugin::model;
use tfplugin::{Diagnostics, Field, Model, Value};

model! {
    /// A contact block: `administrator`, `finance`, `tech` (the seed's
    /// `Administrator`, `finance`, `tech`).
    pub struct Contact {
        pub job: Field<String>,
        pub city: Field<String>,
        pub email: Field<String>,
        pub state: Field<String>,
        pub mobile: Field<String>,
        pub address: Field<String>,
        pub country: Field<String>,
        pub last_name: Field<String>,
        pub post_code: Field<String>,
        pub first_name: Field<String>,
        pub organization: Field<String>,
    }
}

model! {
    /// The `organization_info` block.
    pub struct OrganizationInfo {
        pub name: Field<String>,
        pub city: Field<String>,
        pub mobile: Field<String>,
        pub address: Field<String>,
        pub country: Field<String>,
        pub post_code: Field<String>,
    }
}

model! {
    /// One `domain_info` block.
    pub struct DomainInfo {
        pub domain_name: Field<String>,
        pub dcv_method: Field<String>,
        pub dcv_email: Field<String>,
    }
}

model! {
    /// One element of `dcv_records`.
    pub struct DcvRecord {
        pub domain_name: Field<String>,
        pub method: Field<String>,
        pub r#type: Field<String>,
        pub name: Field<String>,
        pub value: Field<String>,
        pub file_path: Field<String>,
        pub file_content: Field<String>,
        pub url: Field<String>,
        pub email: Field<String>,
        pub verified: Field<bool>,
    }
}

model! {
    /// One value of `dns_records`.
    pub struct DnsRecord {
        pub r#type: Field<String>,
        pub name: Field<String>,
        pub value: Field<String>,
    }
}

model! {
    /// `nicsrs_certificate_renewal`: its arguments (the renew call), then
    /// what the order reports.
    pub struct Renewal {
        pub renew_id: Field<String>,
        pub years: Field<f64>,
        pub csr: Field<String>,
        pub server: Field<String>,
        pub ref_id: Field<String>,
        pub unique_value: Field<String>,
        pub cancel_on_destroy: Field<bool>,
        pub renew_before_days: Field<f64>,
        pub check_renewal_window: Field<bool>,
        pub domain_info: Field<Vec<DomainInfo>>,
        pub organization_info: Field<OrganizationInfo>,
        pub administrator: Field<Contact>,
        pub finance: Field<Contact>,
        pub tech: Field<Contact>,
        pub id: Field<String>,
        pub cert_id: Field<String>,
        pub status: Field<String>,
        pub dcv_records: Field<Vec<DcvRecord>>,
        pub dns_records: Field<BTreeMap<String, DnsRecord>>,
        pub expires_at: Field<String>,
        pub renewal_due_at: Field<String>,
        pub previous_cert_ids: Field<Vec<String>>,
    }
}

impl Renewal {
    /// The `domain_info` blocks that are there (none while unknown).
    pub fn domains(&self) -> &[DomainInfo] {
        self.domain_info.known().map_or(&[], Vec::as_slice)
    }
}

model! {
    /// `timeouts` of the validation waiter.
    pub struct Timeouts {
        pub create: Field<String>,
    }
}

model! {
    /// `nicsrs_certificate_validation`.
    pub struct Validation {
        pub cert_id: Field<String>,
        pub poll_interval_seconds: Field<f64>,
        pub timeouts: Field<Timeouts>,
        pub id: Field<String>,
        pub status: Field<String>,
        pub certificate_pem: Field<String>,
        pub ca_bundle_pem: Field<String>,
        pub not_before: Field<String>,
        pub not_after: Field<String>,
        pub serial_number: Field<String>,
    }
}

model! {
    /// The `nicsrs_certificate` data source.
    pub struct CertificateData {
        pub cert_id: Field<String>,
        pub id: Field<String>,
        pub status: Field<String>,
        pub domains: Field<Vec<String>>,
        pub dcv_records: Field<Vec<DcvRecord>>,
        pub begin_date: Field<String>,
        pub end_date: Field<String>,
        pub due_date: Field<String>,
        pub certificate_pem: Field<String>,
        pub ca_bundle_pem: Field<String>,
        pub not_before: Field<String>,
        pub not_after: Field<String>,
        pub serial_number: Field<String>,
    }
}

model! {
    /// The provider block.
    pub struct ProviderConfig {
        pub api_token: Field<String>,
        pub base_url: Field<String>,
        pub request_timeout_seconds: Field<f64>,
        pub check_renewal_window: Field<bool>,
    }
}

/// Decodes a request's value into its model; a value that does not fit is
/// reported (at its attribute) and gives `None`.
pub fn decode<M: Model>(value: &Value, diags: &mut Diagnostics) -> Option<M> {
    match M::decode(value) {
        Ok(model) => Some(model),
        Err(diagnostic) => {
            diags.0.push(diagnostic);
            None
        }
    }
}

/// Decodes a value that may be null (a prior state on create, a planned
/// state on destroy).
pub fn decode_optional<M: Model>(value: &Value, diags: &mut Diagnostics) -> Option<Option<M>> {
    if value.is_null() {
        return Some(None);
    }
    decode(value, diags).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tfplugin::{Schema, Type};

    fn names(mut names: Vec<&str>) -> Vec<String> {
        names.sort();
        names.into_iter().map(str::to_string).collect()
    }

    fn object_type(ty: Type, at: &str) -> Type {
        match ty {
            Type::Object(mut attributes) => attributes.remove(at).unwrap_or(Type::String),
            _ => Type::String,
        }
    }

    fn element(ty: Type) -> Type {
        match ty {
            Type::List(e) | Type::Map(e) | Type::Set(e) => *e,
            other => other,
        }
    }

    /// A model and its schema name the same attributes, nested blocks and
    /// object attributes included: a field cannot be forgotten by either.
    #[test]
    fn every_model_names_exactly_its_schema_attributes() {
        let check = |schema: Schema, model: Vec<&str>| {
            assert_eq!(schema.value_type().attribute_names(), names(model));
        };
        check(
            super::super::certificate_renewal::schema(),
            Renewal::attributes(),
        );
        check(
            super::super::certificate_validation::schema(),
            Validation::attributes(),
        );
        check(
            super::super::certificate_data::schema(),
            CertificateData::attributes(),
        );
        check(
            super::super::provider_schema(),
            ProviderConfig::attributes(),
        );
        let renewal = super::super::certificate_renewal::schema().value_type();
        let nested = |name: &str| element(object_type(renewal.clone(), name)).attribute_names();
        assert_eq!(nested("administrator"), names(Contact::attributes()));
        assert_eq!(nested("finance"), names(Contact::attributes()));
        assert_eq!(
            nested("organization_info"),
            names(OrganizationInfo::attributes())
        );
        assert_eq!(nested("domain_info"), names(DomainInfo::attributes()));
        assert_eq!(nested("dcv_records"), names(DcvRecord::attributes()));
        assert_eq!(nested("dns_records"), names(DnsRecord::attributes()));
        let validation = super::super::certificate_validation::schema().value_type();
        assert_eq!(
            object_type(validation, "timeouts").attribute_names(),
            names(Timeouts::attributes())
        );
    }
}
