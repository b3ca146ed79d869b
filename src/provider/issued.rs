//! The issued certificate as attributes: PEMs plus the facts users
//! usually want without parsing PEM in HCL.

use x509_parser::prelude::FromDer;

use nicsrs::CollectData;
use tfplugin::{Attribute, Field, Type};

use super::models::{CertificateData, Validation};

pub const CERTIFICATE_ATTRIBUTES: [(&str, &str); 5] = [
    (
        "certificate_pem",
        "The issued certificate, PEM (`data.certificate`).",
    ),
    ("ca_bundle_pem", "The CA chain, PEM (`data.caCertificate`)."),
    (
        "not_before",
        "Start of the certificate's validity, RFC 3339.",
    ),
    ("not_after", "End of the certificate's validity, RFC 3339."),
    (
        "serial_number",
        "The certificate's serial number, lower-case hex.",
    ),
];

/// Set once, when issuance is seen; an in-place update (e.g. of
/// `timeouts`) keeps them.
pub fn certificate_attributes() -> impl Iterator<Item = Attribute> {
    CERTIFICATE_ATTRIBUTES
        .into_iter()
        .map(|(name, description)| {
            Attribute::computed(name, Type::String, description).use_state_for_unknown()
        })
}

/// The issued certificate's attributes; null everywhere until it is issued.
pub struct Issued {
    certificate_pem: Field<String>,
    ca_bundle_pem: Field<String>,
    not_before: Field<String>,
    not_after: Field<String>,
    serial_number: Field<String>,
}

pub fn issued(data: &CollectData) -> Issued {
    let pem = data.certificate.as_deref().filter(|c| !c.trim().is_empty());
    let facts = pem.and_then(|pem| certificate_facts(pem).ok());
    let (not_before, not_after, serial) = match facts {
        Some(f) => (Some(f.not_before), Some(f.not_after), Some(f.serial_number)),
        None => (None, None, None),
    };
    Issued {
        certificate_pem: pem.map(str::to_string).into(),
        ca_bundle_pem: data
            .ca_certificate
            .as_deref()
            .filter(|c| !c.trim().is_empty())
            .map(str::to_string)
            .into(),
        not_before: not_before.into(),
        not_after: not_after.into(),
        serial_number: serial.into(),
    }
}

impl Validation {
    pub fn set_issued(&mut self, issued: Issued) {
        self.certificate_pem = issued.certificate_pem;
        self.ca_bundle_pem = issued.ca_bundle_pem;
        self.not_before = issued.not_before;
        self.not_after = issued.not_after;
        self.serial_number = issued.serial_number;
    }
}

impl CertificateData {
    pub fn set_issued(&mut self, issued: Issued) {
        self.certificate_pem = issued.certificate_pem;
        self.ca_bundle_pem = issued.ca_bundle_pem;
        self.not_before = issued.not_before;
        self.not_after = issued.not_after;
        self.serial_number = issued.serial_number;
    }
}

pub struct CertificateFacts {
    pub not_before: String,
    pub not_after: String,
    pub serial_number: String,
}

pub fn certificate_facts(pem: &str) -> Result<CertificateFacts, String> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.trim_start().as_bytes())
        .map_err(|e| format!("not PEM: {e}"))?;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(&block.contents)
        .map_err(|e| format!("not X.509: {e}"))?;
    let rfc3339 = |t: x509_parser::time::ASN1Time| {
        t.to_datetime()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    Ok(CertificateFacts {
        not_before: rfc3339(cert.validity().not_before),
        not_after: rfc3339(cert.validity().not_after),
        serial_number: cert
            .tbs_certificate
            .raw_serial()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    })
}
