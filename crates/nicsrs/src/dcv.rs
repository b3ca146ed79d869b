//! Sectigo CSR-hash DCV material, computed locally from the CSR.
//!
//! Hash the DER CSR (the base64-decoded PEM body) with MD5 and SHA-256:
//! - DNS: a CNAME at `_<md5 lower>.<domain>` pointing to
//!   `<sha[0..32]>.<sha[32..64]>.[<uniqueValue>.]sectigo.com`;
//! - HTTP(S): `http(s)://<domain>/.well-known/pki-validation/<MD5 UPPER>.txt`
//!   holding `<sha>\nsectigo.com[\n<uniqueValue>]`.
//!
//! DigiCert-family values are random tokens from the CA and cannot be
//! derived. Values the API returns always win over these.

use base64::Engine as _;
use md5::{Digest as _, Md5};
use sha2::Sha256;

use super::types::DcvMaterial;

/// A CSR that is not PEM (or not base64 inside).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CsrPemError(pub String);

impl std::fmt::Display for CsrPemError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "not a PEM certificate signing request: {}", self.0)
    }
}

impl std::error::Error for CsrPemError {}

/// Where a validation file lives on the domain: the one statement of the
/// path, used by the client, the provider and the sandbox.
pub fn validation_file_path(file_name: &str) -> String {
    format!("/.well-known/pki-validation/{file_name}")
}

/// Lower-case hexadecimal of `bytes`.
pub fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

/// The names a CSR asks for: its subject common names and DNS subject
/// alternative names, lower-cased, without a trailing dot, each once. The
/// provider checks them at plan time and the sandbox at renew, by the same
/// rule.
pub fn csr_names(
    csr: &x509_parser::certification_request::X509CertificationRequest,
) -> Vec<String> {
    use x509_parser::extensions::{GeneralName, ParsedExtension};
    let mut names: Vec<String> = Vec::new();
    let mut push = |name: &str| {
        let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    };
    for cn in csr.certification_request_info.subject.iter_common_name() {
        if let Ok(name) = cn.as_str() {
            push(name);
        }
    }
    for extension in csr.requested_extensions().into_iter().flatten() {
        if let ParsedExtension::SubjectAlternativeName(san) = extension {
            for name in &san.general_names {
                if let GeneralName::DNSName(dns) = name {
                    push(dns);
                }
            }
        }
    }
    names
}

/// The DER SubjectPublicKeyInfo of a PEM CSR: what decides which private
/// key the issued certificate works with.
pub fn csr_public_key(pem: &str) -> Result<Vec<u8>, CsrPemError> {
    use x509_parser::prelude::FromDer as _;
    let der = pem_to_der(pem)?;
    let (_, csr) = x509_parser::certification_request::X509CertificationRequest::from_der(&der)
        .map_err(|_| CsrPemError("not a PKCS#10 certificate signing request".into()))?;
    Ok(csr.certification_request_info.subject_pki.raw.to_vec())
}

/// The DER bytes of the first PEM block in `pem` (any label); a bare base64
/// body without the BEGIN/END lines is accepted too.
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>, CsrPemError> {
    let mut body = String::new();
    let mut inside = false;
    let mut saw_begin = false;
    for line in pem.lines().map(str::trim) {
        if line.starts_with("-----BEGIN") {
            if saw_begin {
                break;
            }
            inside = true;
            saw_begin = true;
            continue;
        }
        if line.starts_with("-----END") {
            if inside {
                break;
            }
            continue;
        }
        if inside || !saw_begin {
            body.push_str(line);
        }
    }
    if body.is_empty() {
        return Err(CsrPemError("no base64 body".into()));
    }
    base64::engine::general_purpose::STANDARD
        .decode(body.as_bytes())
        .map_err(|e| CsrPemError(format!("bad base64: {e}")))
}

/// The domain a DCV record or file is placed for: without a leading `*.`.
pub fn authorization_domain(domain: &str) -> &str {
    domain.strip_prefix("*.").unwrap_or(domain)
}

/// Sectigo's CSR-hash DCV material for one CSR (and `uniqueValue`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SectigoCsrHash {
    /// MD5 of the DER CSR, lower-case hex.
    pub md5: String,
    /// SHA-256 of the DER CSR, lower-case hex (64 characters).
    pub sha256: String,
    /// The order's `uniqueValue`, if any.
    pub unique_value: Option<String>,
}

impl SectigoCsrHash {
    /// From a PEM CSR.
    pub fn from_pem(csr_pem: &str, unique_value: Option<&str>) -> Result<Self, CsrPemError> {
        Ok(Self::from_der(&pem_to_der(csr_pem)?, unique_value))
    }

    /// From DER bytes.
    pub fn from_der(der: &[u8], unique_value: Option<&str>) -> Self {
        SectigoCsrHash {
            md5: hex_lower(&Md5::digest(der)),
            sha256: hex_lower(&Sha256::digest(der)),
            unique_value: unique_value.filter(|u| !u.is_empty()).map(str::to_string),
        }
    }

    /// `DCVdnsHost`: the bare label `_<md5 lower>`.
    pub fn dns_host_label(&self) -> String {
        format!("_{}", self.md5)
    }

    /// The full record name for `domain`: `_<md5>.<domain without *.>`.
    pub fn dns_name(&self, domain: &str) -> String {
        format!("{}.{}", self.dns_host_label(), authorization_domain(domain))
    }

    /// `DCVdnsValue`: `<sha[0..32]>.<sha[32..64]>.[<uniqueValue>.]sectigo.com`.
    pub fn dns_value(&self) -> String {
        let (a, b) = self.sha256.split_at(self.sha256.len().min(32));
        match &self.unique_value {
            Some(u) => format!("{a}.{b}.{u}.sectigo.com"),
            None => format!("{a}.{b}.sectigo.com"),
        }
    }

    /// `DCVfileName`: `<MD5 UPPER>.txt`.
    pub fn file_name(&self) -> String {
        format!("{}.txt", self.md5.to_ascii_uppercase())
    }

    /// `DCVfileContent`: `<sha>\nsectigo.com[\n<uniqueValue>]`.
    pub fn file_content(&self) -> String {
        match &self.unique_value {
            Some(u) => format!("{}\nsectigo.com\n{u}", self.sha256),
            None => format!("{}\nsectigo.com", self.sha256),
        }
    }

    /// `DCVfilePath`: the full URL of the file for `domain`.
    pub fn file_url(&self, domain: &str, https: bool) -> String {
        let scheme = if https { "https" } else { "http" };
        format!(
            "{scheme}://{}{}",
            authorization_domain(domain),
            validation_file_path(&self.file_name())
        )
    }

    /// The order-level material as NicSRS answers it, for the first domain.
    pub fn material(&self, first_domain: &str, https: bool) -> DcvMaterial {
        DcvMaterial {
            dcv_file_name: Some(self.file_name()),
            dcv_file_content: Some(self.file_content()),
            dcv_file_path: Some(self.file_url(first_domain, https)),
            dcv_dns_host: Some(self.dns_host_label()),
            dcv_dns_value: Some(self.dns_value()),
            dcv_dns_type: Some("CNAME".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digests_of_a_tiny_input() {
        // MD5("abc") and SHA-256("abc") are standard test vectors.
        let h = SectigoCsrHash::from_der(b"abc", None);
        assert_eq!(h.md5, "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            h.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(h.dns_host_label(), "_900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            h.dns_value(),
            "ba7816bf8f01cfea414140de5dae2223.b00361a396177a9cb410ff61f20015ad.sectigo.com"
        );
        assert_eq!(h.file_name(), "900150983CD24FB0D6963F7D28E17F72.txt");
        assert_eq!(
            h.file_url("*.example.com", true),
            "https://example.com/.well-known/pki-validation/900150983CD24FB0D6963F7D28E17F72.txt"
        );
        assert_eq!(
            h.dns_name("*.a.example.com"),
            "_900150983cd24fb0d6963f7d28e17f72.a.example.com"
        );
    }

    #[test]
    fn unique_value_goes_into_value_and_file() {
        let h = SectigoCsrHash::from_der(b"abc", Some("Uv1"));
        assert!(h.dns_value().ends_with(".Uv1.sectigo.com"));
        assert!(h.file_content().ends_with("\nsectigo.com\nUv1"));
        assert_eq!(
            SectigoCsrHash::from_der(b"abc", Some("")).unique_value,
            None
        );
    }

    #[test]
    fn pem_decoding_uses_the_body_only() {
        let pem =
            "-----BEGIN CERTIFICATE REQUEST-----\r\nYWJj\r\n-----END CERTIFICATE REQUEST-----\n";
        assert_eq!(pem_to_der(pem), Ok(b"abc".to_vec()));
        assert_eq!(pem_to_der("YWJj"), Ok(b"abc".to_vec()));
        assert!(pem_to_der("-----BEGIN X-----\n!!!\n-----END X-----").is_err());
        assert!(pem_to_der("").is_err());
        assert_eq!(hex_lower(&[0x00, 0xff, 0x1a]), "00ff1a");
    }
}
