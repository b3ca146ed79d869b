//! Domain-control-validation records as Terraform attributes, shaped so DNS
//! resources can `for_each` over them.
//!
//! NicSRS gives one set of DCV material per order (with CSR-hash methods
//! every domain shares one hash); each domain's record is that material
//! placed at the domain. At plan time only what follows from the
//! configuration is known (how many records, their domains, methods and
//! map keys); the values come from the API at apply.

use std::collections::BTreeMap;

use crate::nicsrs::CollectData;
use crate::plugin::{Type, Value};

pub const DNS_METHOD: &str = "CNAME_CSR_HASH";

pub fn dcv_record_type() -> Type {
    Type::object([
        ("domain_name", Type::String),
        ("method", Type::String),
        ("type", Type::String),
        ("name", Type::String),
        ("value", Type::String),
        ("file_path", Type::String),
        ("file_content", Type::String),
        ("url", Type::String),
        ("email", Type::String),
        ("verified", Type::Bool),
    ])
}

pub fn dns_record_type() -> Type {
    Type::object([
        ("type", Type::String),
        ("name", Type::String),
        ("value", Type::String),
    ])
}

pub const DCV_RECORDS_DESCRIPTION: &str = "One object per `domain_info`, in configuration order: `domain_name`, \
`method`, and once the order exists `type` (`CNAME` or `TXT` for DNS validation, as the CA decides; `HTTP`/`HTTPS` \
for file validation; `EMAIL`), `name` (the full DNS record name), `value`, `file_path`, `file_content`, `url`, \
`email`, `verified`. Fields that do not apply are null.";

pub const DNS_RECORDS_DESCRIPTION: &str = "The DNS records to create for `CNAME_CSR_HASH` validation, keyed by \
domain name without any leading `*.` (a wildcard and its apex share one record), each `{ type, name, value }`. \
The keys are known at plan time, so DNS resources can `for_each` over this map.";

/// Where a wildcard is validated.
fn base_domain(domain: &str) -> &str {
    domain.strip_prefix("*.").unwrap_or(domain)
}

fn domains(domain_info: &Value) -> impl Iterator<Item = (&str, &str, &Value)> {
    domain_info.elements().iter().filter_map(|d| {
        Some((
            d.get("domain_name").as_str()?,
            d.get("dcv_method").as_str()?,
            d,
        ))
    })
}

/// The plan-time `dcv_records`: domain and method known, the rest unknown.
/// Unknown as a whole while the domains themselves are not known.
pub fn planned_dcv_records(domain_info: &Value) -> Value {
    if !domain_info.is_wholly_known() {
        return Value::Unknown;
    }
    Value::List(
        domains(domain_info)
            .map(|(domain, method, _)| {
                let mut record = Value::object(
                    [
                        "type",
                        "name",
                        "value",
                        "file_path",
                        "file_content",
                        "url",
                        "email",
                        "verified",
                    ]
                    .map(|name| (name, Value::Unknown)),
                );
                record.set("domain_name", domain.into());
                record.set("method", method.into());
                record
            })
            .collect(),
    )
}

/// The plan-time `dns_records`: keys known, values unknown.
pub fn planned_dns_records(domain_info: &Value) -> Value {
    if !domain_info.is_wholly_known() {
        return Value::Unknown;
    }
    Value::Map(
        dns_keys(domain_info)
            .into_iter()
            .map(|key| {
                (
                    key,
                    Value::object([
                        ("type", Value::Unknown),
                        ("name", Value::Unknown),
                        ("value", Value::Unknown),
                    ]),
                )
            })
            .collect(),
    )
}

fn dns_keys(domain_info: &Value) -> Vec<String> {
    let mut keys: Vec<String> = domains(domain_info)
        .filter(|(_, method, _)| *method == DNS_METHOD)
        .map(|(domain, _, _)| base_domain(domain).to_ascii_lowercase())
        .collect();
    keys.dedup();
    keys
}

/// The order's domains as `domain_info` blocks, from its `dcvList`: for
/// reading orders this configuration did not describe.
pub fn domain_info_of(collected: &CollectData) -> Value {
    Value::List(
        collected
            .dcv_list
            .iter()
            .map(|entry| {
                Value::object([
                    ("domain_name", Value::opt_string(entry.domain_name.clone())),
                    ("dcv_method", Value::opt_string(entry.dcv_method.clone())),
                    ("dcv_email", Value::opt_string(entry.dcv_email.clone())),
                ])
            })
            .collect(),
    )
}

/// `dcv_records` from what `/ssl/collect` says about the order.
pub fn dcv_records(domain_info: &Value, collected: &CollectData) -> Value {
    let dcv = &collected.dcv;
    Value::List(
        domains(domain_info)
            .map(|(domain, method, config)| {
                let base = base_domain(domain);
                let entry = collected.dcv_list.iter().find(|e| {
                    e.domain_name
                        .as_deref()
                        .is_some_and(|n| n.eq_ignore_ascii_case(domain))
                });
                let (kind, name, value, file_path, file_content, url, email) = match method {
                    DNS_METHOD => (
                        dcv.dcv_dns_type.clone(),
                        dcv.dcv_dns_host
                            .as_ref()
                            .map(|host| format!("{host}.{base}")),
                        dcv.dcv_dns_value.clone(),
                        None,
                        None,
                        None,
                        None,
                    ),
                    "HTTP_CSR_HASH" | "HTTPS_CSR_HASH" => {
                        let scheme = if method == "HTTPS_CSR_HASH" {
                            "https"
                        } else {
                            "http"
                        };
                        let path = dcv
                            .dcv_file_name
                            .as_ref()
                            .map(|file| format!("/.well-known/pki-validation/{file}"));
                        (
                            Some(scheme.to_ascii_uppercase()),
                            None,
                            None,
                            path.clone(),
                            dcv.dcv_file_content.clone(),
                            path.map(|p| format!("{scheme}://{base}{p}")),
                            None,
                        )
                    }
                    _ => (
                        Some("EMAIL".to_string()),
                        None,
                        None,
                        None,
                        None,
                        None,
                        entry
                            .and_then(|e| e.dcv_email.clone())
                            .filter(|e| !e.is_empty())
                            .or_else(|| config.get("dcv_email").as_str().map(str::to_string)),
                    ),
                };
                Value::object([
                    ("domain_name", domain.into()),
                    ("method", method.into()),
                    ("type", Value::opt_string(kind)),
                    ("name", Value::opt_string(name)),
                    ("value", Value::opt_string(value)),
                    ("file_path", Value::opt_string(file_path)),
                    ("file_content", Value::opt_string(file_content)),
                    ("url", Value::opt_string(url)),
                    ("email", Value::opt_string(email)),
                    (
                        "verified",
                        Value::Bool(entry.is_some_and(|e| e.is_verified())),
                    ),
                ])
            })
            .collect(),
    )
}

/// `dns_records` from the same material: one entry per distinct record.
pub fn dns_records(domain_info: &Value, collected: &CollectData) -> Value {
    let records = dcv_records(domain_info, collected);
    let mut map = BTreeMap::new();
    for record in records.elements() {
        if record.get("method").as_str() != Some(DNS_METHOD) {
            continue;
        }
        let key = base_domain(record.get("domain_name").as_str().unwrap_or_default())
            .to_ascii_lowercase();
        map.entry(key).or_insert_with(|| {
            Value::object([
                ("type", record.get("type").clone()),
                ("name", record.get("name").clone()),
                ("value", record.get("value").clone()),
            ])
        });
    }
    Value::Map(map)
}

/// The domains behind each `dns_records` key, with their methods and
/// e-mails.
fn domains_by_key(domain_info: &Value) -> BTreeMap<String, Vec<(String, Value, Value)>> {
    let mut by_key: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for (domain, _, block) in domains(domain_info) {
        by_key
            .entry(base_domain(domain).to_ascii_lowercase())
            .or_default()
            .push((
                domain.to_ascii_lowercase(),
                block.get("dcv_method").clone(),
                block.get("dcv_email").clone(),
            ));
    }
    by_key
}

/// An in-place change of some domains' validation keeps the planned DNS
/// records of the other domains known: a CSR-hash CNAME record (Sectigo)
/// follows from the CSR, which an in-place change keeps, so the order's
/// new material carries the same record. TXT tokens (DigiCert) may be
/// issued anew and stay unknown.
pub fn keep_unaffected_dns_records(prior: &Value, planned: &mut Value) {
    let before = domains_by_key(prior.get("domain_info"));
    let after = domains_by_key(planned.get("domain_info"));
    let prior_records = prior.get("dns_records");
    let Some(Value::Map(records)) = planned.get_mut("dns_records") else {
        return;
    };
    for (key, record) in records.iter_mut() {
        let old = prior_records.get(key);
        let stable = old.get("type").as_str() == Some("CNAME")
            && !old.get("value").is_null()
            && old.is_wholly_known();
        if stable && before.get(key) == after.get(key) {
            *record = old.clone();
        }
    }
}

/// What apply stores when the order exists but its material could not be
/// read: the plan's known parts, with every unknown left null.
pub fn without_unknowns(value: &Value) -> Value {
    match value {
        Value::Unknown => Value::Null,
        Value::List(items) => Value::List(items.iter().map(without_unknowns).collect()),
        Value::Set(items) => Value::Set(items.iter().map(without_unknowns).collect()),
        Value::Map(items) => Value::Map(
            items
                .iter()
                .map(|(k, v)| (k.clone(), without_unknowns(v)))
                .collect(),
        ),
        Value::Object(items) => Value::Object(
            items
                .iter()
                .map(|(k, v)| (k.clone(), without_unknowns(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nicsrs::{DcvEntry, DcvMaterial};

    fn domain_info(items: &[(&str, &str)]) -> Value {
        Value::List(
            items
                .iter()
                .map(|(d, m)| {
                    Value::object([
                        ("domain_name", (*d).into()),
                        ("dcv_method", (*m).into()),
                        ("dcv_email", Value::Null),
                    ])
                })
                .collect(),
        )
    }

    #[test]
    fn a_method_change_keeps_the_other_domains_cname_records_known() {
        let state = |items: &[(&str, &str)], record_type: &str| {
            let info = domain_info(items);
            let mut data = collected();
            data.dcv.dcv_dns_type = Some(record_type.into());
            Value::object([
                ("dns_records", dns_records(&info, &data)),
                ("domain_info", info),
            ])
        };
        let before = [
            ("example.com", DNS_METHOD),
            ("www.example.com", "HTTP_CSR_HASH"),
        ];
        let after = [("example.com", DNS_METHOD), ("www.example.com", DNS_METHOD)];
        let prior = state(&before, "CNAME");
        let mut planned = Value::object([
            ("domain_info", domain_info(&after)),
            ("dns_records", planned_dns_records(&domain_info(&after))),
        ]);
        keep_unaffected_dns_records(&prior, &mut planned);
        let records = planned.get("dns_records");
        assert_eq!(
            records.get("example.com"),
            prior.get("dns_records").get("example.com")
        );
        assert!(records.get("example.com").is_wholly_known());
        assert_eq!(records.get("www.example.com").get("value"), &Value::Unknown);
        // A TXT token (DigiCert) may be issued anew: it stays unknown.
        let txt = state(&before, "TXT");
        let mut planned = Value::object([
            ("domain_info", domain_info(&after)),
            ("dns_records", planned_dns_records(&domain_info(&after))),
        ]);
        keep_unaffected_dns_records(&txt, &mut planned);
        assert_eq!(
            planned.get("dns_records").get("example.com").get("value"),
            &Value::Unknown
        );
    }

    fn collected() -> CollectData {
        CollectData {
            dcv: DcvMaterial {
                dcv_dns_host: Some("_abc".into()),
                dcv_dns_value: Some("x.y.sectigo.com".into()),
                dcv_dns_type: Some("CNAME".into()),
                dcv_file_name: Some("ABC.txt".into()),
                dcv_file_content: Some("hash\nsectigo.com".into()),
                ..DcvMaterial::default()
            },
            dcv_list: vec![DcvEntry {
                domain_name: Some("www.example.com".into()),
                is_verify: Some("verified".into()),
                ..DcvEntry::default()
            }],
            ..CollectData::default()
        }
    }

    #[test]
    fn wildcard_and_apex_share_one_dns_record_keyed_without_the_star() {
        let info = domain_info(&[
            ("*.example.com", DNS_METHOD),
            ("example.com", DNS_METHOD),
            ("www.example.com", "HTTP_CSR_HASH"),
        ]);
        let Value::Map(planned) = planned_dns_records(&info) else {
            panic!("map expected")
        };
        assert_eq!(planned.keys().collect::<Vec<_>>(), vec!["example.com"]);
        let Value::Map(applied) = dns_records(&info, &collected()) else {
            panic!("map expected")
        };
        assert_eq!(applied.keys().collect::<Vec<_>>(), vec!["example.com"]);
        assert_eq!(
            applied["example.com"].get("name"),
            &Value::from("_abc.example.com")
        );
        assert_eq!(applied["example.com"].get("type"), &Value::from("CNAME"));
    }

    #[test]
    fn plan_knows_domains_and_methods_and_apply_keeps_them() {
        let info = domain_info(&[
            ("www.example.com", "HTTPS_CSR_HASH"),
            ("example.com", DNS_METHOD),
        ]);
        let planned = planned_dcv_records(&info);
        let applied = dcv_records(&info, &collected());
        for (p, a) in planned.elements().iter().zip(applied.elements()) {
            assert_eq!(p.get("domain_name"), a.get("domain_name"));
            assert_eq!(p.get("method"), a.get("method"));
            assert!(p.get("value").is_unknown());
        }
        let https = &applied.elements()[0];
        assert_eq!(
            https.get("url"),
            &Value::from("https://www.example.com/.well-known/pki-validation/ABC.txt")
        );
        assert_eq!(https.get("verified"), &Value::Bool(true));
        assert_eq!(https.get("name"), &Value::Null);
        assert_eq!(applied.elements()[1].get("verified"), &Value::Bool(false));
    }

    #[test]
    fn unknown_domains_leave_the_whole_attribute_unknown() {
        let info = Value::List(vec![Value::object([
            ("domain_name", Value::Unknown),
            ("dcv_method", DNS_METHOD.into()),
        ])]);
        assert!(planned_dns_records(&info).is_unknown());
        assert!(planned_dcv_records(&info).is_unknown());
    }
}
