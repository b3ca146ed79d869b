//! The renew call's rules, checked at validate/plan time so bad input never
//! reaches the API. Each check names what was expected and how to fix it.
//! The same rules are enforced by the NicSRS API (and by our sandbox).

use x509_parser::prelude::FromDer;

use crate::nicsrs::types::{DcvMethod, DCV_EMAIL_PREFIXES};

/// The `dcvMethod` values the seed lists, as written in HCL.
pub fn dcv_method_names() -> Vec<&'static str> {
    DcvMethod::ALL.iter().map(|m| m.as_str()).collect()
}

pub const MAX_YEARS: f64 = 6.0;

pub fn check_years(years: f64) -> Result<u8, String> {
    if years.fract() != 0.0 || !(1.0..=MAX_YEARS).contains(&years) {
        return Err(format!(
            "years is {years}; NicSRS orders last a whole number of years from 1 to 6 (what a product \
             allows may be less). Set e.g. years = 1."
        ));
    }
    Ok(years as u8)
}

pub fn check_dcv_method(method: &str) -> Result<(), String> {
    if DcvMethod::parse(method).is_some() {
        Ok(())
    } else {
        Err(format!(
            "dcv_method is {method:?}; expected one of {}.",
            dcv_method_names().join(", ")
        ))
    }
}

/// File-based validation proves control of one host name, so the CA
/// refuses it for wildcards.
pub fn check_method_fits_domain(method: &str, domain_name: &str) -> Result<(), String> {
    if domain_name.starts_with("*.") && matches!(method, "HTTP_CSR_HASH" | "HTTPS_CSR_HASH") {
        return Err(format!(
            "{domain_name:?} is a wildcard, which {method} cannot validate; use CNAME_CSR_HASH or EMAIL."
        ));
    }
    Ok(())
}

/// `dcv_email` must be one of the five mailboxes at the domain or one of
/// its parent domains.
pub fn check_dcv_email(email: &str, domain_name: &str) -> Result<(), String> {
    let Some((local, email_domain)) = email.split_once('@') else {
        return Err(format!(
            "dcv_email {email:?} is not an e-mail address; use e.g. admin@{}.",
            base_domain(domain_name)
        ));
    };
    let mailbox = format!("{}@", local.to_ascii_lowercase());
    if !DCV_EMAIL_PREFIXES.contains(&mailbox.as_str()) {
        return Err(format!(
            "dcv_email {email:?} uses the mailbox {local:?}; the CA only sends validation mail to {} \
             followed by the domain or one of its parent domains.",
            DCV_EMAIL_PREFIXES.join(", ")
        ));
    }
    let domain = base_domain(domain_name).to_ascii_lowercase();
    let email_domain = email_domain.to_ascii_lowercase();
    let is_parent = domain.ends_with(&format!(".{email_domain}")) && email_domain.contains('.');
    if email_domain != domain && !is_parent {
        return Err(format!(
            "dcv_email {email:?} is not at {domain:?} or one of its parent domains; use e.g. admin@{domain}."
        ));
    }
    Ok(())
}

/// A wildcard's validation happens at its base domain.
fn base_domain(domain_name: &str) -> &str {
    domain_name.strip_prefix("*.").unwrap_or(domain_name)
}

pub fn check_unique_value(value: &str) -> Result<(), String> {
    if (1..=20).contains(&value.len()) && value.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(format!(
            "unique_value {value:?} must be 1 to 20 characters, each a-z, A-Z or 0-9."
        ))
    }
}

/// A plausible e-mail address: one `@`, a local part, a dotted domain, no spaces.
pub fn check_email(email: &str) -> Result<(), String> {
    let valid = match email.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !email.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{email:?} is not an e-mail address; expected e.g. admin@example.com."
        ))
    }
}

pub fn check_country(code: &str) -> Result<(), String> {
    if code.len() == 2 && ISO_3166_ALPHA2.split(' ').any(|c| c == code) {
        Ok(())
    } else {
        let hint = if code.len() == 2
            && ISO_3166_ALPHA2
                .split(' ')
                .any(|c| c.eq_ignore_ascii_case(code))
        {
            format!(" Write it in capitals: {:?}.", code.to_ascii_uppercase())
        } else {
            String::new()
        };
        Err(format!(
            "{code:?} is not a two-letter ISO 3166-1 country code (e.g. \"US\", \"DE\", \"CN\").{hint}"
        ))
    }
}

/// The names a CSR asks for: its subject common name and its DNS
/// subject alternative names, lower-cased.
pub fn csr_names(pem: &str) -> Result<Vec<String>, String> {
    let (_, block) = x509_parser::pem::parse_x509_pem(pem.trim_start().as_bytes())
        .map_err(|_| "csr is not PEM text; expected -----BEGIN CERTIFICATE REQUEST----- ... (e.g. csr = file(\"web.csr\")).".to_string())?;
    if !block.label.ends_with("CERTIFICATE REQUEST") {
        return Err(format!(
            "csr holds a PEM {:?} block, not a certificate signing request; expected -----BEGIN CERTIFICATE REQUEST-----.",
            block.label
        ));
    }
    let (_, csr) = x509_parser::certification_request::X509CertificationRequest::from_der(&block.contents)
        .map_err(|e| format!("csr is not a valid PKCS#10 request ({e}); generate it again, e.g. with openssl req -new."))?;
    let names = crate::nicsrs::dcv::csr_names(&csr);
    Ok(names)
}

/// Every `domain_name` must be one of the CSR's names.
pub fn check_csr_covers(names: &[String], domain_name: &str) -> Result<(), String> {
    if names.iter().any(|n| n.eq_ignore_ascii_case(domain_name)) {
        Ok(())
    } else {
        Err(format!(
            "domain_name {domain_name:?} is not in the CSR, which names {}. Add it to the CSR's \
             subject alternative names, or remove this domain_info block.",
            if names.is_empty() {
                "nothing".to_string()
            } else {
                names.join(", ")
            }
        ))
    }
}

/// ISO 3166-1 alpha-2, officially assigned codes.
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT \
MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG \
UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn years_are_whole_and_one_to_six() {
        assert_eq!(check_years(1.0), Ok(1));
        assert_eq!(check_years(6.0), Ok(6));
        for bad in [0.0, 7.0, 1.5, -1.0] {
            assert!(check_years(bad).unwrap_err().contains("1 to 6"), "{bad}");
        }
    }

    #[test]
    fn dcv_methods_are_the_four_of_the_seed() {
        assert!(check_dcv_method("CNAME_CSR_HASH").is_ok());
        let err = check_dcv_method("DNS").unwrap_err();
        assert!(
            err.contains("EMAIL, HTTP_CSR_HASH, CNAME_CSR_HASH, HTTPS_CSR_HASH"),
            "{err}"
        );
        assert!(
            check_dcv_method("email").is_err(),
            "values are case-sensitive"
        );
    }

    #[test]
    fn dcv_email_needs_a_known_mailbox_at_the_domain_or_a_parent() {
        assert!(check_dcv_email("admin@example.com", "www.example.com").is_ok());
        assert!(check_dcv_email("hostmaster@www.example.com", "www.example.com").is_ok());
        assert!(check_dcv_email("webmaster@example.com", "*.example.com").is_ok());
        assert!(check_dcv_email("info@example.com", "example.com")
            .unwrap_err()
            .contains("mailbox"));
        assert!(check_dcv_email("admin@other.com", "example.com")
            .unwrap_err()
            .contains("parent"));
        assert!(
            check_dcv_email("admin@ample.com", "example.com").is_err(),
            "suffix is not a parent"
        );
        assert!(
            check_dcv_email("admin@com", "example.com").is_err(),
            "a TLD alone is not enough"
        );
        assert!(check_dcv_email("example.com", "example.com").is_err());
    }

    #[test]
    fn wildcards_cannot_use_file_validation() {
        assert!(check_method_fits_domain("HTTP_CSR_HASH", "*.example.com").is_err());
        assert!(check_method_fits_domain("HTTPS_CSR_HASH", "*.example.com").is_err());
        assert!(check_method_fits_domain("CNAME_CSR_HASH", "*.example.com").is_ok());
        assert!(check_method_fits_domain("HTTP_CSR_HASH", "www.example.com").is_ok());
    }

    #[test]
    fn unique_value_is_one_to_twenty_alphanumerics() {
        assert!(check_unique_value("web2027").is_ok());
        assert!(check_unique_value("").is_err());
        assert!(check_unique_value("a-b").is_err());
        assert!(check_unique_value(&"a".repeat(21)).is_err());
    }

    #[test]
    fn emails_and_countries() {
        assert!(check_email("ops@example.com").is_ok());
        for bad in [
            "ops",
            "ops@",
            "@example.com",
            "ops@example",
            "o ps@example.com",
            "a@b@c.com",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert!(check_country("CN").is_ok());
        assert!(check_country("DE").is_ok());
        assert!(check_country("cn").unwrap_err().contains("\"CN\""));
        assert!(check_country("China").is_err());
        assert!(check_country("XX").is_err());
    }

    fn csr_for(names: &[&str]) -> String {
        let key = rcgen::KeyPair::generate().unwrap();
        let params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.serialize_request(&key).unwrap().pem().unwrap()
    }

    #[test]
    fn csr_names_come_from_the_request() {
        let names = csr_names(&csr_for(&["www.example.com", "Example.com"])).unwrap();
        assert!(names.contains(&"www.example.com".to_string()));
        assert!(check_csr_covers(&names, "example.com").is_ok());
        let err = check_csr_covers(&names, "api.example.com").unwrap_err();
        assert!(
            err.contains("api.example.com") && err.contains("www.example.com"),
            "{err}"
        );
    }

    #[test]
    fn csr_errors_say_what_is_wrong() {
        assert!(csr_names("hello").unwrap_err().contains("not PEM"));
        let cert_pem = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        assert!(csr_names(cert_pem)
            .unwrap_err()
            .contains("not a certificate signing request"));
        let junk = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
        assert!(csr_names(junk).unwrap_err().contains("PKCS#10"));
    }
}
