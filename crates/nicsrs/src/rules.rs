//! The renew call's rules, stated once.
//!
//! The provider checks them at plan time (an error on the attribute, before
//! any request) and the sandbox answers with them, so a plan that passes is
//! an order the API accepts. A test runs every case through both and checks
//! that they agree. Each rule takes the field's name as the caller spells it
//! (`renew_id` in HCL, `renewId` on the wire) and says what is wrong and
//! what to write instead. Limits marked [inferred] are our reading, not
//! NicSRS's documentation.

use x509_parser::certification_request::X509CertificationRequest;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;

use super::dcv;
use super::types::{DcvMethod, DCV_EMAIL_PREFIXES, SERVER_PLATFORMS};

/// What is wrong with a value, and the fix.
pub type Problem = String;

/// The longest `renewId`/`refId` accepted [inferred].
pub const MAX_IDENTIFIER_LEN: usize = 64;
/// The longest contact or organization field accepted [inferred].
pub const MAX_TEXT_LEN: usize = 255;
/// The most years an order can last.
pub const MAX_YEARS: u8 = 6;
/// The smallest RSA key a CA accepts.
pub const MIN_RSA_BITS: usize = 2048;

/// `renewId`, `refId`: an identifier is used as it is, so surrounding
/// spaces, line breaks or control characters would order something other
/// than what the state says.
pub fn identifier(field: &str, value: &str) -> Result<(), Problem> {
    if value.is_empty() {
        return Err(format!("{field} is empty; set a value."));
    }
    if let Some(c) = value.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{field} {value:?} contains {}; an identifier has no spaces, line breaks or control characters.",
            describe_char(c)
        ));
    }
    if value.chars().count() > MAX_IDENTIFIER_LEN {
        return Err(format!(
            "{field} is {} characters long; at most {MAX_IDENTIFIER_LEN} are accepted.",
            value.chars().count()
        ));
    }
    Ok(())
}

fn describe_char(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        '\n' => "a line break".into(),
        '\t' => "a tab".into(),
        c => format!("the character U+{:04X}", u32::from(c)),
    }
}

/// `years`: a whole number from 1 to 6.
pub fn years(field: &str, value: f64) -> Result<u8, Problem> {
    if value.fract() != 0.0 || !(1.0..=f64::from(MAX_YEARS)).contains(&value) {
        return Err(format!(
            "{field} is {value}; NicSRS orders last a whole number of years from 1 to {MAX_YEARS} (what a \
             product allows may be less). Set e.g. {field} = 1."
        ));
    }
    Ok(value as u8)
}

/// `server`: one of the platform names NicSRS knows, in lower case.
pub fn server(field: &str, value: &str) -> Result<(), Problem> {
    if SERVER_PLATFORMS.contains(&value) {
        return Ok(());
    }
    let hint = SERVER_PLATFORMS
        .iter()
        .find(|p| p.eq_ignore_ascii_case(value))
        .map(|p| format!(" Write it in lower case: {p:?}."))
        .unwrap_or_default();
    Err(format!(
        "{field} {value:?} is not a platform NicSRS knows; use one of {} (\"other\" fits any).{hint}",
        SERVER_PLATFORMS.join(", ")
    ))
}

/// `uniqueValue` (Sectigo): 1 to 20 of a-z, A-Z, 0-9.
pub fn unique_value(field: &str, value: &str) -> Result<(), Problem> {
    if (1..=20).contains(&value.len()) && value.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(format!(
            "{field} {value:?} must be 1 to 20 characters, each a-z, A-Z or 0-9."
        ))
    }
}

/// The `dcvMethod` names, as written.
pub fn dcv_method_names() -> Vec<&'static str> {
    DcvMethod::ALL.iter().map(|m| m.as_str()).collect()
}

/// `dcvMethod`: one of the four of the seed (case-sensitive).
pub fn dcv_method(field: &str, value: &str) -> Result<DcvMethod, Problem> {
    DcvMethod::parse(value).ok_or_else(|| {
        format!(
            "{field} is {value:?}; expected one of {}.",
            dcv_method_names().join(", ")
        )
    })
}

/// File-based validation proves control of one host name, so the CA
/// refuses it for wildcards.
pub fn method_fits_domain(method: DcvMethod, domain_name: &str) -> Result<(), Problem> {
    if domain_name.starts_with("*.")
        && matches!(method, DcvMethod::HttpCsrHash | DcvMethod::HttpsCsrHash)
    {
        return Err(format!(
            "{domain_name:?} is a wildcard, which {} cannot validate; use CNAME_CSR_HASH or EMAIL.",
            method.as_str()
        ));
    }
    Ok(())
}

/// `domainName`: a host name in ASCII, as the CA writes it into the
/// certificate; an internationalised name must be given in its punycode form.
pub fn domain_name(field: &str, value: &str) -> Result<(), Problem> {
    if value.is_empty() {
        return Err(format!("{field} is empty; set the domain to renew."));
    }
    if let Some(c) = value.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "{field} {value:?} contains {}; a domain name has none.",
            describe_char(c)
        ));
    }
    if !value.is_ascii() {
        let wildcard = value.starts_with("*.");
        let host = value.strip_prefix("*.").unwrap_or(value);
        let suggestion = idna::domain_to_ascii(host)
            .map(|ascii| {
                format!(
                    " Write it as {}{ascii:?}.",
                    if wildcard { "\"*.\" + " } else { "" }
                )
            })
            .unwrap_or_default();
        return Err(format!(
            "{field} {value:?} is an internationalised domain name; certificates carry its ASCII \
             (punycode) form.{suggestion}"
        ));
    }
    Ok(())
}

/// `dcvEmail`: one of the five mailboxes at the domain or a parent of it.
pub fn dcv_email(field: &str, email: &str, domain_name: &str) -> Result<(), Problem> {
    let domain = dcv::authorization_domain(domain_name).to_ascii_lowercase();
    let Some((local, email_domain)) = email.split_once('@') else {
        return Err(format!(
            "{field} {email:?} is not an e-mail address; use e.g. admin@{domain}."
        ));
    };
    let mailbox = format!("{}@", local.to_ascii_lowercase());
    if !DCV_EMAIL_PREFIXES.contains(&mailbox.as_str()) {
        return Err(format!(
            "{field} {email:?} uses the mailbox {local:?}; the CA only sends validation mail to {} \
             followed by the domain or one of its parent domains.",
            DCV_EMAIL_PREFIXES.join(", ")
        ));
    }
    let email_domain = email_domain.to_ascii_lowercase();
    let is_parent = domain.ends_with(&format!(".{email_domain}")) && email_domain.contains('.');
    if email_domain != domain && !is_parent {
        return Err(format!(
            "{field} {email:?} is not at {domain:?} or one of its parent domains; use e.g. admin@{domain}."
        ));
    }
    Ok(())
}

/// The EMAIL method needs the mailbox to write to.
pub fn dcv_email_present(
    field: &str,
    method: DcvMethod,
    email: Option<&str>,
) -> Result<(), Problem> {
    if method == DcvMethod::Email && email.is_none_or(|e| e.trim().is_empty()) {
        return Err(format!(
            "{field} is required with the EMAIL method: the mailbox the CA writes to, e.g. admin@ and the domain."
        ));
    }
    Ok(())
}

/// Free text of a contact or the organization: stored as it is, so no
/// control characters, and a length the API stores [inferred].
pub fn text(field: &str, value: &str) -> Result<(), Problem> {
    if value.trim().is_empty() {
        return Err(format!(
            "{field} is empty; set a value or leave it out if it is optional."
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        return Err(format!(
            "{field} contains {}; write it on one line without control characters.",
            describe_char(c)
        ));
    }
    if value.chars().count() > MAX_TEXT_LEN {
        return Err(format!(
            "{field} is {} characters long; at most {MAX_TEXT_LEN} are accepted.",
            value.chars().count()
        ));
    }
    Ok(())
}

/// A plausible e-mail address: one `@`, a local part, a dotted domain, no spaces.
pub fn email(field: &str, value: &str) -> Result<(), Problem> {
    let valid = match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(char::is_whitespace)
        }
        None => false,
    };
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{field} {value:?} is not an e-mail address; expected e.g. admin@example.com."
        ))
    }
}

/// A phone number: digits only, as the seed's examples write them.
pub fn mobile(field: &str, value: &str) -> Result<(), Problem> {
    if (5..=20).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "{field} {value:?} must be 5 to 20 digits, without spaces, dashes or a plus sign, with the \
             country code first (e.g. \"8613800000000\")."
        ))
    }
}

/// A two-letter ISO 3166-1 country code, in capitals.
pub fn country(field: &str, code: &str) -> Result<(), Problem> {
    if code.len() == 2 && ISO_3166_ALPHA2.split(' ').any(|c| c == code) {
        return Ok(());
    }
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
        "{field} {code:?} is not a two-letter ISO 3166-1 country code (e.g. \"US\", \"DE\", \"CN\").{hint}"
    ))
}

/// A CSR that passed [`csr`].
#[derive(Debug, Clone)]
pub struct Csr {
    /// The DER bytes (what the Sectigo CSR hash is computed over).
    pub der: Vec<u8>,
    /// Subject CN and SAN DNS names, lower case, each once.
    pub names: Vec<String>,
    /// The DER SubjectPublicKeyInfo.
    pub spki_der: Vec<u8>,
}

const PEM_LABELS: [&str; 2] = ["CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"];

/// `csr`: exactly one PEM `CERTIFICATE REQUEST` block (matching BEGIN and
/// END lines, nothing after it), a PKCS#10 request whose signature
/// verifies, an RSA key of at least 2048 bits or an EC P-256/P-384 key, and
/// ASCII names.
pub fn csr(field: &str, pem: &str) -> Result<Csr, Problem> {
    let body = pem_body(field, pem)?;
    let der = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, body.as_bytes())
        .map_err(|_| {
        format!("{field}: the PEM body is not valid base64; generate the CSR again.")
    })?;
    let (rest, request) = X509CertificationRequest::from_der(&der).map_err(|e| {
        format!("{field} is not a valid PKCS#10 certificate signing request ({e}); generate it again, e.g. with openssl req -new.")
    })?;
    if !rest.is_empty() {
        return Err(format!(
            "{field} has {} bytes after the certificate request inside its PEM block; generate it again.",
            rest.len()
        ));
    }
    request.verify_signature().map_err(|_| {
        format!("{field}: the request's signature does not verify (it was altered after signing); generate it again.")
    })?;
    key_strength(field, &request)?;
    let names = dcv::csr_names(&request);
    if let Some(name) = names.iter().find(|n| !n.is_ascii()) {
        domain_name(&format!("{field} name"), name)?;
    }
    Ok(Csr {
        spki_der: request.certification_request_info.subject_pki.raw.to_vec(),
        names,
        der,
    })
}

/// The base64 body of the one PEM block of `pem`.
fn pem_body(field: &str, pem: &str) -> Result<String, Problem> {
    let mut lines = pem.trim().lines().map(str::trim);
    let first = lines.next().unwrap_or_default();
    let Some(label) = first
        .strip_prefix("-----BEGIN ")
        .and_then(|l| l.strip_suffix("-----"))
    else {
        return Err(format!(
            "{field} is not PEM text; expected -----BEGIN CERTIFICATE REQUEST----- ... (e.g. {field} = file(\"web.csr\"))."
        ));
    };
    if !PEM_LABELS.contains(&label) {
        return Err(format!(
            "{field} holds a PEM {label:?} block, not a certificate signing request; expected -----BEGIN CERTIFICATE REQUEST-----."
        ));
    }
    let mut body = String::new();
    for line in lines.by_ref() {
        if let Some(end) = line
            .strip_prefix("-----END ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            if end != label {
                return Err(format!(
                    "{field} begins with -----BEGIN {label}----- but ends with -----END {end}-----; the lines must match."
                ));
            }
            if lines.any(|rest| !rest.is_empty()) {
                return Err(format!(
                    "{field} has text after its -----END {label}----- line; give exactly one certificate request."
                ));
            }
            return Ok(body);
        }
        body.push_str(line);
    }
    Err(format!(
        "{field} has no -----END {label}----- line; the PEM text is cut short."
    ))
}

fn key_strength(field: &str, request: &X509CertificationRequest) -> Result<(), Problem> {
    use x509_parser::oid_registry::{OID_EC_P256, OID_NIST_EC_P384};
    let spki = &request.certification_request_info.subject_pki;
    let weak = |what: String| {
        Err(format!(
            "{field} has {what}; CAs accept RSA keys of at least {MIN_RSA_BITS} bits or EC keys on \
             P-256 or P-384. Generate a new key and CSR."
        ))
    };
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) if rsa.key_size() >= MIN_RSA_BITS => Ok(()),
        Ok(PublicKey::RSA(rsa)) => weak(format!("a {}-bit RSA key", rsa.key_size())),
        Ok(PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok());
            match curve {
                Some(oid) if oid == OID_EC_P256 || oid == OID_NIST_EC_P384 => Ok(()),
                Some(oid) => weak(format!("an EC key on the curve {oid}")),
                None => weak("an EC key without a named curve".into()),
            }
        }
        Ok(_) | Err(_) => weak(format!("a key of type {}", spki.algorithm.algorithm)),
    }
}

/// Every `domainName` must be one of the CSR's names.
pub fn csr_covers(field: &str, names: &[String], domain_name: &str) -> Result<(), Problem> {
    let wanted = domain_name.trim_end_matches('.').to_ascii_lowercase();
    if names.contains(&wanted) {
        return Ok(());
    }
    Err(format!(
        "{field} {domain_name:?} is not in the CSR, which names {}. Add it to the CSR's subject \
         alternative names, or remove this domain.",
        if names.is_empty() {
            "nothing".to_string()
        } else {
            names.join(", ")
        }
    ))
}

/// ISO 3166-1 alpha-2, officially assigned codes.
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP \
KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT \
MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW \
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG \
UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";
