//! Domain-control-validation records as Terraform attributes, shaped so DNS
//! resources can `for_each` over them.
//!
//! NicSRS gives one set of DCV material per order (with CSR-hash methods
//! every domain shares one hash); each domain's record is that material
//! placed at the domain. At plan time only what follows from the
//! configuration is known (how many records, their domains, methods and
//! map keys); the values come from the API at apply.

use std::collections::BTreeMap;

use nicsrs::{self, CollectData};
use tfplugin::{Field, Type, Value};

use super::models::{DcvRecord, DnsRecord, DomainInfo, Renewal};

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

/// The blocks whose domain and method are known, with both.
fn domains(domain_info: &[DomainInfo]) -> impl Iterator<Item = (&str, &str, &DomainInfo)> {
    domain_info
        .iter()
        .filter_map(|d| Some((d.domain_name.as_str()?, d.dcv_method.as_str()?, d)))
}

/// The blocks, when nothing in them is left to apply.
fn wholly_known(domain_info: &Field<Vec<DomainInfo>>) -> Option<&[DomainInfo]> {
    let blocks = domain_info.known()?;
    blocks
        .iter()
        .all(|d| {
            !(d.domain_name.is_unknown() || d.dcv_method.is_unknown() || d.dcv_email.is_unknown())
        })
        .then_some(blocks.as_slice())
}

/// The plan-time `dcv_records`: domain and method known, the rest unknown.
/// Unknown as a whole while the domains themselves are not known.
pub fn planned_dcv_records(domain_info: &Field<Vec<DomainInfo>>) -> Field<Vec<DcvRecord>> {
    let Some(blocks) = wholly_known(domain_info) else {
        return Field::Unknown;
    };
    Field::Known(
        domains(blocks)
            .map(|(domain, method, _)| DcvRecord {
                domain_name: domain.into(),
                method: method.into(),
                r#type: Field::Unknown,
                name: Field::Unknown,
                value: Field::Unknown,
                file_path: Field::Unknown,
                file_content: Field::Unknown,
                url: Field::Unknown,
                email: Field::Unknown,
                verified: Field::Unknown,
            })
            .collect(),
    )
}

/// The plan-time `dns_records`: keys known, values unknown.
pub fn planned_dns_records(
    domain_info: &Field<Vec<DomainInfo>>,
) -> Field<BTreeMap<String, DnsRecord>> {
    let Some(blocks) = wholly_known(domain_info) else {
        return Field::Unknown;
    };
    Field::Known(
        dns_keys(blocks)
            .into_iter()
            .map(|key| {
                let unknown = DnsRecord {
                    r#type: Field::Unknown,
                    name: Field::Unknown,
                    value: Field::Unknown,
                };
                (key, unknown)
            })
            .collect(),
    )
}

fn dns_keys(domain_info: &[DomainInfo]) -> Vec<String> {
    let mut keys: Vec<String> = domains(domain_info)
        .filter(|(_, method, _)| *method == DNS_METHOD)
        .map(|(domain, _, _)| base_domain(domain).to_ascii_lowercase())
        .collect();
    keys.dedup();
    keys
}

/// The order's domains as `domain_info` blocks, from its `dcvList`: for
/// reading orders this configuration did not describe.
pub fn domain_info_of(collected: &CollectData) -> Vec<DomainInfo> {
    collected
        .dcv_list
        .iter()
        .map(|entry| DomainInfo {
            domain_name: entry.domain_name.clone().into(),
            dcv_method: entry.dcv_method.clone().into(),
            dcv_email: entry.dcv_email.clone().into(),
        })
        .collect()
}

/// `dcv_records` from what `/ssl/collect` says about the order.
pub fn dcv_records(domain_info: &[DomainInfo], collected: &CollectData) -> Vec<DcvRecord> {
    let dcv = &collected.dcv;
    domains(domain_info)
        .map(|(domain, method, config)| {
            let base = base_domain(domain);
            let entry = collected.dcv_list.iter().find(|e| {
                e.domain_name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(domain))
            });
            let mut record = DcvRecord {
                domain_name: domain.into(),
                method: method.into(),
                verified: Field::Known(entry.is_some_and(|e| e.is_verified())),
                ..DcvRecord::default()
            };
            match method {
                DNS_METHOD => {
                    record.r#type = dcv.dcv_dns_type.clone().into();
                    record.name = dcv
                        .dcv_dns_host
                        .as_ref()
                        .map(|host| format!("{host}.{base}"))
                        .into();
                    record.value = dcv.dcv_dns_value.clone().into();
                }
                "HTTP_CSR_HASH" | "HTTPS_CSR_HASH" => {
                    let scheme = if method == "HTTPS_CSR_HASH" {
                        "https"
                    } else {
                        "http"
                    };
                    let path = dcv
                        .dcv_file_name
                        .as_deref()
                        .map(nicsrs::dcv::validation_file_path);
                    record.r#type = Field::Known(scheme.to_ascii_uppercase());
                    record.url = path
                        .as_ref()
                        .map(|p| format!("{scheme}://{base}{p}"))
                        .into();
                    record.file_path = path.into();
                    record.file_content = dcv.dcv_file_content.clone().into();
                }
                _ => {
                    record.r#type = "EMAIL".into();
                    record.email = entry
                        .and_then(|e| e.dcv_email.clone())
                        .filter(|e| !e.is_empty())
                        .or_else(|| config.dcv_email.known().cloned())
                        .into();
                }
            }
            record
        })
        .collect()
}

/// `dns_records` from the same material: one entry per distinct record.
pub fn dns_records(
    domain_info: &[DomainInfo],
    collected: &CollectData,
) -> BTreeMap<String, DnsRecord> {
    let mut map = BTreeMap::new();
    for record in dcv_records(domain_info, collected) {
        if record.method.as_str() != Some(DNS_METHOD) {
            continue;
        }
        let key = base_domain(record.domain_name.as_str().unwrap_or_default()).to_ascii_lowercase();
        map.entry(key).or_insert_with(|| DnsRecord {
            r#type: record.r#type,
            name: record.name,
            value: record.value,
        });
    }
    map
}

/// The domains behind each `dns_records` key, with their methods and
/// e-mails.
fn domains_by_key(domain_info: &[DomainInfo]) -> BTreeMap<String, Vec<(String, &DomainInfo)>> {
    let mut by_key: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for (domain, _, block) in domains(domain_info) {
        by_key
            .entry(base_domain(domain).to_ascii_lowercase())
            .or_default()
            .push((domain.to_ascii_lowercase(), block));
    }
    by_key
}

/// An in-place change of some domains' validation keeps the planned DNS
/// records of the other domains known: a CSR-hash CNAME record (Sectigo)
/// follows from the CSR, which an in-place change keeps, so the order's
/// new material carries the same record. TXT tokens (DigiCert) may be
/// issued anew and stay unknown.
pub fn keep_unaffected_dns_records(prior: &Renewal, planned: &mut Renewal) {
    let before = domains_by_key(prior.domains());
    let after = domains_by_key(planned.domains());
    let (Some(prior_records), Field::Known(records)) =
        (prior.dns_records.known(), &planned.dns_records)
    else {
        return;
    };
    let mut records = records.clone();
    for (key, record) in records.iter_mut() {
        let Some(old) = prior_records.get(key) else {
            continue;
        };
        let stable =
            old.r#type.as_str() == Some("CNAME") && old.value.is_known() && old.name.is_known();
        let same = |a: &Vec<(String, &DomainInfo)>, b: &Vec<(String, &DomainInfo)>| {
            a.len() == b.len()
                && a.iter().zip(b).all(|((n1, d1), (n2, d2))| {
                    n1 == n2 && d1.dcv_method == d2.dcv_method && d1.dcv_email == d2.dcv_email
                })
        };
        let unchanged = match (before.get(key), after.get(key)) {
            (Some(a), Some(b)) => same(a, b),
            (None, None) => true,
            _ => false,
        };
        if stable && unchanged {
            *record = old.clone();
        }
    }
    planned.dns_records = Field::Known(records);
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
    use nicsrs::{DcvEntry, DcvMaterial};

    fn domain_info(items: &[(&str, &str)]) -> Vec<DomainInfo> {
        items
            .iter()
            .map(|(d, m)| DomainInfo {
                domain_name: (*d).into(),
                dcv_method: (*m).into(),
                dcv_email: Field::Null,
            })
            .collect()
    }

    fn renewal(items: &[(&str, &str)], dns_records: Field<BTreeMap<String, DnsRecord>>) -> Renewal {
        Renewal {
            domain_info: Field::Known(domain_info(items)),
            dns_records,
            ..Renewal::default()
        }
    }

    #[test]
    fn a_method_change_keeps_the_other_domains_cname_records_known() {
        let before = [
            ("example.com", DNS_METHOD),
            ("www.example.com", "HTTP_CSR_HASH"),
        ];
        let after = [("example.com", DNS_METHOD), ("www.example.com", DNS_METHOD)];
        let state = |record_type: &str| {
            let mut data = collected();
            data.dcv.dcv_dns_type = Some(record_type.into());
            let records = dns_records(&domain_info(&before), &data);
            renewal(&before, Field::Known(records))
        };
        let planned_state = || {
            let records = planned_dns_records(&Field::Known(domain_info(&after)));
            renewal(&after, records)
        };
        let prior = state("CNAME");
        let mut planned = planned_state();
        keep_unaffected_dns_records(&prior, &mut planned);
        let records = planned.dns_records.known().expect("records");
        let prior_records = prior.dns_records.known().expect("records");
        assert_eq!(records["example.com"], prior_records["example.com"]);
        assert!(records["example.com"].value.is_known());
        assert_eq!(records["www.example.com"].value, Field::Unknown);
        // A TXT token (DigiCert) may be issued anew: it stays unknown.
        let txt = state("TXT");
        let mut planned = planned_state();
        keep_unaffected_dns_records(&txt, &mut planned);
        assert_eq!(
            planned.dns_records.known().expect("records")["example.com"].value,
            Field::Unknown
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
        let planned = planned_dns_records(&Field::Known(info.clone()));
        let planned = planned.known().expect("map");
        assert_eq!(planned.keys().collect::<Vec<_>>(), vec!["example.com"]);
        let applied = dns_records(&info, &collected());
        assert_eq!(applied.keys().collect::<Vec<_>>(), vec!["example.com"]);
        assert_eq!(applied["example.com"].name, Field::from("_abc.example.com"));
        assert_eq!(applied["example.com"].r#type, Field::from("CNAME"));
    }

    #[test]
    fn plan_knows_domains_and_methods_and_apply_keeps_them() {
        let info = domain_info(&[
            ("www.example.com", "HTTPS_CSR_HASH"),
            ("example.com", DNS_METHOD),
        ]);
        let planned = planned_dcv_records(&Field::Known(info.clone()));
        let applied = dcv_records(&info, &collected());
        for (p, a) in planned.known().expect("records").iter().zip(&applied) {
            assert_eq!(p.domain_name, a.domain_name);
            assert_eq!(p.method, a.method);
            assert!(p.value.is_unknown());
        }
        let https = &applied[0];
        assert_eq!(
            https.url,
            Field::from("https://www.example.com/.well-known/pki-validation/ABC.txt")
        );
        assert_eq!(https.verified, Field::Known(true));
        assert_eq!(https.name, Field::Null);
        assert_eq!(applied[1].verified, Field::Known(false));
    }

    #[test]
    fn unknown_domains_leave_the_whole_attribute_unknown() {
        let info = Field::Known(vec![DomainInfo {
            domain_name: Field::Unknown,
            dcv_method: DNS_METHOD.into(),
            dcv_email: Field::Null,
        }]);
        assert!(planned_dns_records(&info).is_unknown());
        assert!(planned_dcv_records(&info).is_unknown());
        assert!(planned_dcv_records(&Field::Unknown).is_unknown());
    }
}
