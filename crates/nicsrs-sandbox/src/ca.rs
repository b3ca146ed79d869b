//! The sandbox CA: a self-signed root created at first start (and persisted
//! with the state) that issues real X.509 certificates for the CSR's key.
//!
//! Issued validity: `notAfter = notBefore + min(years × 365, cap)` days,
//! where the cap follows the CA/Browser Forum schedule (ballot SC-081) for
//! the issue date: 398 days before 2026-03-15, 200 days until 2027-03-15,
//! 100 days until 2029-03-15, 47 days after. The subscription (`dueDate`)
//! still runs `years × 365` days, as on NicSRS, where `endDate` can come
//! before `dueDate`.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SerialNumber, SubjectPublicKeyInfo,
};
use serde::{Deserialize, Serialize};
use time::macros::datetime;
use time::OffsetDateTime;

/// The CA's key and certificate, both PEM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ca {
    /// PKCS#8 private key, PEM.
    pub key_pem: String,
    /// Self-signed CA certificate, PEM.
    pub cert_pem: String,
}

/// A CSR the sandbox accepted: its DER, its names and its public key.
pub type ParsedCsr = nicsrs::rules::Csr;

/// Parses and checks a PEM PKCS#10 CSR with the API's rules (the ones the
/// provider applies at plan time); the error says what is wrong.
pub fn parse_csr(pem: &str) -> Result<ParsedCsr, String> {
    nicsrs::rules::csr("csr", pem)
}

/// The longest certificate validity, in days, for a certificate issued at `at`
/// (CA/Browser Forum ballot SC-081).
pub fn max_validity_days(at: OffsetDateTime) -> i64 {
    if at < datetime!(2026-03-15 0:00 UTC) {
        398
    } else if at < datetime!(2027-03-15 0:00 UTC) {
        200
    } else if at < datetime!(2029-03-15 0:00 UTC) {
        100
    } else {
        47
    }
}

/// Certificate validity in days for an order of `years` issued at `at`.
pub fn validity_days(years: u8, at: OffsetDateTime) -> i64 {
    (i64::from(years.max(1)) * 365).min(max_validity_days(at))
}

fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    SerialNumber::from_slice(&bytes)
}

impl Ca {
    /// Creates a new root (ECDSA P-256, valid 2000–2099 so a moved clock never
    /// leaves its validity).
    pub fn generate() -> Result<Ca, String> {
        let key = KeyPair::generate().map_err(|e| format!("CA key: {e}"))?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "NicSRS Sandbox Root CA");
        dn.push(DnType::OrganizationName, "nicsrs-sandbox (not trusted)");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = datetime!(2000-01-01 0:00 UTC);
        params.not_after = datetime!(2099-12-31 23:59:59 UTC);
        params.serial_number = Some(random_serial());
        let cert = params
            .self_signed(&key)
            .map_err(|e| format!("CA certificate: {e}"))?;
        Ok(Ca {
            key_pem: key.serialize_pem(),
            cert_pem: cert.pem(),
        })
    }

    /// Issues a leaf for `spki_der` naming `names` (the first is the CN).
    pub fn issue(
        &self,
        spki_der: &[u8],
        names: &[String],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<String, String> {
        let spki =
            SubjectPublicKeyInfo::from_der(spki_der).map_err(|e| format!("public key: {e}"))?;
        self.issue_for(&spki, names, not_before, not_after)
    }

    /// Issues a leaf for a fresh key (seeded certificates).
    pub fn issue_new_key(
        &self,
        names: &[String],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<String, String> {
        let key = KeyPair::generate().map_err(|e| format!("key: {e}"))?;
        self.issue_for(&key, names, not_before, not_after)
    }

    fn issue_for(
        &self,
        public_key: &impl rcgen::PublicKeyData,
        names: &[String],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<String, String> {
        let key = KeyPair::from_pem(&self.key_pem).map_err(|e| format!("CA key: {e}"))?;
        let issuer = Issuer::from_ca_cert_pem(&self.cert_pem, key)
            .map_err(|e| format!("CA certificate: {e}"))?;
        let mut params =
            CertificateParams::new(names.to_vec()).map_err(|e| format!("names: {e}"))?;
        let mut dn = DistinguishedName::new();
        if let Some(first) = names.first() {
            dn.push(DnType::CommonName, first.as_str());
        }
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.not_before = not_before;
        params.not_after = not_after;
        params.serial_number = Some(random_serial());
        let cert = params
            .signed_by(public_key, &issuer)
            .map_err(|e| format!("signing: {e}"))?;
        Ok(cert.pem())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::PublicKeyData;
    use x509_parser::pem::parse_x509_pem;

    #[test]
    fn issued_certificate_carries_the_csr_key_and_names() {
        let ca = Ca::generate().expect("ca");
        let (pem, key) = crate::testkit::csr(&["www.example.com", "example.com"]);
        let parsed = parse_csr(&pem).expect("parse");
        assert_eq!(parsed.names, ["www.example.com", "example.com"]);
        let nb = datetime!(2026-05-01 0:00 UTC);
        let leaf = ca
            .issue(
                &parsed.spki_der,
                &parsed.names,
                nb,
                nb + time::Duration::days(200),
            )
            .expect("issue");
        let (_, p) = parse_x509_pem(leaf.as_bytes()).expect("pem");
        let cert = p.parse_x509().expect("x509");
        assert_eq!(
            cert.public_key().raw,
            key.subject_public_key_info().as_slice()
        );
        assert_eq!(cert.validity().not_before.timestamp(), nb.unix_timestamp());
        let (_, cap) = parse_x509_pem(ca.cert_pem.as_bytes()).expect("ca pem");
        let cac = cap.parse_x509().expect("ca x509");
        assert_eq!(cert.issuer(), cac.subject());
        assert!(cert.verify_signature(Some(cac.public_key())).is_ok());
    }

    #[test]
    fn garbage_csrs_are_refused_with_a_reason() {
        assert!(parse_csr("hello").is_err_and(|e| e.contains("PEM")));
        let bad = "-----BEGIN CERTIFICATE REQUEST-----\nYWJj\n-----END CERTIFICATE REQUEST-----";
        assert!(parse_csr(bad).is_err_and(|e| e.contains("PKCS#10")));
    }

    #[test]
    fn validity_follows_the_cab_schedule() {
        assert_eq!(validity_days(1, datetime!(2026-01-01 0:00 UTC)), 365);
        assert_eq!(validity_days(2, datetime!(2026-01-01 0:00 UTC)), 398);
        assert_eq!(validity_days(1, datetime!(2026-06-01 0:00 UTC)), 200);
        assert_eq!(validity_days(3, datetime!(2028-01-01 0:00 UTC)), 100);
        assert_eq!(validity_days(1, datetime!(2030-01-01 0:00 UTC)), 47);
    }
}
