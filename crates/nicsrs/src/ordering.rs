//! Order once: the rules that make one intended renewal place exactly one
//! paid order, whatever happens between the request and the state file.
//!
//! The state file, the plan and the process can all be lost while an order
//! is in flight; the one thing that survives is NicSRS's own record. So every
//! order carries a `refId` that is known *before* it is placed and is the
//! same on every retry of the same intended order, and nothing is ordered
//! until `/ssl/certIdByrefId` has said that no order carries it:
//!
//! - a refId the user chose is used as it is ([`RefIdPolicy::Chosen`]);
//! - otherwise it is derived from what the order is ([`derived_ref_id`]):
//!   the certificate renewed, the years, the CSR's public key, the server,
//!   the domain names and the unique value. Retries, lost state and lost
//!   plans derive the same refId, so they find the order instead of buying
//!   it again. An intended *new* order with the same content (after the
//!   previous one was cancelled, or a forced replacement) takes the next
//!   refId of a deterministic sequence, and a retry of that finds it again:
//!   the last existing order of the sequence is the current one.
//!
//! An order found by refId is adopted only when it is what the caller
//! wants ([`differences`]) and not cancelled. A renew whose answer was lost
//! is resolved by looking its refId up over a bounded window
//! ([`AmbiguityWindow`]) before anything is concluded.
//!
//! The API is assumed to refuse a second order with a refId it has already
//! used (the sandbox does); this is inferred, not documented, and is only a
//! second line of defence: the lookup before ordering is the first.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::codes;
use super::dcv;
use super::error::Error;
use super::types::{CollectResponse, RenewRequest};
use super::Client;

/// Derived refIds start with this, so they are recognisably ours.
pub const DERIVED_PREFIX: &str = "tf";
/// Characters of the content hash in a derived refId (base32: 120 bits).
const DERIVED_HASH_CHARS: usize = 24;
/// Derived refIds end with a two-digit sequence number, `00` to `99`.
pub const SEQUENCE_LEN: u32 = 100;
/// The length of every derived refId.
pub const DERIVED_LEN: usize = DERIVED_PREFIX.len() + DERIVED_HASH_CHARS + 2;

/// Where an order's refId comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefIdPolicy {
    /// The user chose it: exactly this one.
    Chosen(String),
    /// Derived from the order's content (see [`derived_ref_id`]).
    Derived,
}

/// One intended order.
#[derive(Debug, Clone)]
pub struct Intent<'a> {
    /// The renew call; its `ref_id` is ignored (the policy decides).
    pub request: &'a RenewRequest,
    /// Where the refId comes from.
    pub policy: RefIdPolicy,
    /// The refId of the order this one replaces: a chosen refId may not
    /// name it. (A derived one may: a replacement with the same content
    /// adopts the live order again rather than buying its duplicate.)
    pub replacing: Option<&'a str>,
}

/// What to do for an intent, decided from NicSRS's records.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// No order carries `ref_id` yet: place one with it.
    Place {
        /// The refId to order with.
        ref_id: String,
    },
    /// The order `cert_id` carries `ref_id` and is what the intent wants.
    Adopt {
        /// Its refId.
        ref_id: String,
        /// Its certId.
        cert_id: String,
    },
}

impl Decision {
    /// The refId the intent ends up with.
    pub fn ref_id(&self) -> &str {
        match self {
            Decision::Place { ref_id } | Decision::Adopt { ref_id, .. } => ref_id,
        }
    }
}

/// How an order came to be in the caller's hands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new order was placed.
    Placed,
    /// An order with the refId existed before this call (an earlier,
    /// interrupted attempt placed it).
    AdoptedExisting,
    /// NicSRS refused the renew because the refId was taken meanwhile, and
    /// the order carrying it was adopted.
    AdoptedTaken,
    /// The renew's answer was lost, and the order was then found by refId.
    Recovered {
        /// Why the answer was lost.
        renew_error: String,
    },
}

/// The order an intent resolved to.
#[derive(Debug, Clone, PartialEq)]
pub struct Ordered {
    /// The order's refId.
    pub ref_id: String,
    /// The order's certId.
    pub cert_id: String,
    /// How it was obtained.
    pub outcome: Outcome,
}

/// One way a found order differs from the intended one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// The field, in the API's terms (`renewId`, `csr public key`, `domainName` …).
    pub field: String,
    /// What the order has.
    pub order: String,
    /// What the intent asks for.
    pub wanted: String,
}

/// Why no order was obtained. Every variant but
/// [`OrderError::Unconfirmed`] guarantees that this call placed nothing.
#[derive(Debug)]
pub enum OrderError {
    /// The request cannot be turned into a refId (an unreadable CSR).
    BadRequest(String),
    /// NicSRS's records could not be read; nothing was ordered.
    Lookup(Box<Error>),
    /// The order carrying the refId is not the intended one.
    Mismatch {
        /// The refId.
        ref_id: String,
        /// The order found.
        cert_id: String,
        /// What differs.
        differences: Vec<Difference>,
    },
    /// A chosen refId names a cancelled order.
    Cancelled {
        /// The refId.
        ref_id: String,
        /// The cancelled order.
        cert_id: String,
    },
    /// A chosen refId names the very order being replaced.
    NamesReplaced {
        /// The refId.
        ref_id: String,
    },
    /// Another intent in this process already claimed the refId.
    Claimed {
        /// The refId.
        ref_id: String,
        /// The certificate the other intent renews.
        other_renew_id: String,
    },
    /// The plan promised one refId, NicSRS's records now give another
    /// (an order was cancelled or placed since the plan).
    Moved {
        /// What the plan said.
        planned: String,
        /// What the records say now.
        now: String,
    },
    /// Every refId of the derived sequence is used.
    SequenceExhausted {
        /// The last one tried.
        last: String,
    },
    /// NicSRS answered the renew with an error: nothing was ordered.
    Refused(Box<Error>),
    /// The renew's answer was lost and no order with the refId was found
    /// within the window. It may still appear (a backend committing late);
    /// the next attempt looks the refId up before ordering.
    Unconfirmed {
        /// The refId the order was sent with.
        ref_id: String,
        /// Why the answer was lost.
        renew_error: Box<Error>,
        /// The last lookup failure, when the lookups failed rather than
        /// answering "none".
        lookup_error: Option<Box<Error>>,
    },
}

/// How long to keep looking for an order whose renew answer was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AmbiguityWindow {
    /// The waits before each lookup.
    pub waits: Vec<Duration>,
}

impl Default for AmbiguityWindow {
    /// Five lookups over about 30 seconds: long enough for a backend that
    /// commits a little after its front end gave up.
    fn default() -> Self {
        AmbiguityWindow {
            waits: [1, 2, 4, 8, 15].map(Duration::from_secs).to_vec(),
        }
    }
}

impl AmbiguityWindow {
    /// The whole window.
    pub fn total(&self) -> Duration {
        self.waits.iter().sum()
    }
}

/// refIds claimed by the intents of one process. Terraform runs one
/// provider process per apply, so two resources that name one refId are
/// caught here even when their orders are identical.
#[derive(Debug, Default)]
pub struct Claims {
    by_ref_id: Mutex<BTreeMap<String, String>>,
}

impl Claims {
    /// Whether an intent of this process has claimed `ref_id`.
    pub fn holds(&self, ref_id: &str) -> bool {
        self.by_ref_id
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains_key(ref_id)
    }

    /// Claims `ref_id` for an order renewing `renew_id`.
    pub fn claim(&self, ref_id: &str, renew_id: &str) -> Result<(), OrderError> {
        let mut claims = self
            .by_ref_id
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match claims.get(ref_id) {
            Some(other) => Err(OrderError::Claimed {
                ref_id: ref_id.to_string(),
                other_renew_id: other.clone(),
            }),
            None => {
                claims.insert(ref_id.to_string(), renew_id.to_string());
                Ok(())
            }
        }
    }
}

/// The base of the derived refIds of `request`: `tf` and 24 base32
/// characters of a SHA-256 over what the order is: everything a change of
/// which needs a new order (the CSR, the contacts …), so a replacement never
/// lands on the order it replaces. DCV methods and mailboxes are left out on
/// purpose: they change in place, on the same order.
pub fn derived_base(request: &RenewRequest) -> Result<String, dcv::CsrPemError> {
    let csr_der = dcv::pem_to_der(&request.params.csr)?;
    dcv::csr_public_key(&request.params.csr)?;
    let mut domains: Vec<String> = request
        .params
        .domain_info
        .iter()
        .map(|d| d.domain_name.trim().to_ascii_lowercase())
        .collect();
    domains.sort();
    domains.dedup();
    let mut hash = Sha256::new();
    let mut field = |name: &str, value: &[u8]| {
        hash.update(name.as_bytes());
        hash.update((value.len() as u64).to_be_bytes());
        hash.update(value);
    };
    field("renewId", request.renew_id.as_bytes());
    field("years", request.years.to_string().as_bytes());
    field("csr", &csr_der);
    field("server", request.params.server.as_bytes());
    field("domains", domains.join(",").as_bytes());
    field(
        "uniqueValue",
        request
            .params
            .unique_value
            .as_deref()
            .unwrap_or_default()
            .as_bytes(),
    );
    // Serialised in the wire structs' field order: stable for equal values.
    let params = &request.params;
    let organization = serde_json::to_vec(&params.organization_info).unwrap_or_default();
    let contacts = serde_json::to_vec(&(&params.administrator, &params.finance, &params.tech))
        .unwrap_or_default();
    field("organizationInfo", &organization);
    field("contacts", &contacts);
    let digest = hash.finalize();
    let mut base = String::from(DERIVED_PREFIX);
    base.push_str(&base32_lower(&digest)[..DERIVED_HASH_CHARS]);
    Ok(base)
}

/// The `n`th derived refId of `base`.
pub fn derived_ref_id(base: &str, n: u32) -> String {
    format!("{base}{n:02}")
}

fn base32_lower(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(ALPHABET[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Whether `status` (collect's top-level status) means the order is dead.
pub fn is_cancelled(status: Option<&str>) -> bool {
    status.is_some_and(|s| s.eq_ignore_ascii_case(codes::STATUS_CANCELLED))
}

/// Decides, from NicSRS's records only, which refId the intent has and
/// whether its order already exists. Read-only: safe at plan time.
pub async fn decide(client: &Client, intent: &Intent<'_>) -> Result<Decision, OrderError> {
    match &intent.policy {
        RefIdPolicy::Chosen(ref_id) => decide_chosen(client, intent, ref_id).await,
        RefIdPolicy::Derived => decide_derived(client, intent).await,
    }
}

async fn decide_chosen(
    client: &Client,
    intent: &Intent<'_>,
    ref_id: &str,
) -> Result<Decision, OrderError> {
    if intent.replacing == Some(ref_id) {
        return Err(OrderError::NamesReplaced {
            ref_id: ref_id.to_string(),
        });
    }
    match lookup(client, ref_id).await? {
        None => Ok(Decision::Place {
            ref_id: ref_id.to_string(),
        }),
        Some(cert_id) => {
            let order = read(client, &cert_id).await?;
            if is_cancelled(order.status.as_deref()) {
                return Err(OrderError::Cancelled {
                    ref_id: ref_id.to_string(),
                    cert_id,
                });
            }
            adoptable(intent.request, ref_id, cert_id, &order)
        }
    }
}

/// Walks the derived sequence to its first free refId. The last order
/// before it is the current one of this content: adopted when it is alive;
/// otherwise the free refId is ordered. The decision depends on NicSRS's
/// records only, so the plan and the apply (which Terraform plans again
/// without telling the provider what is being replaced) agree.
async fn decide_derived(client: &Client, intent: &Intent<'_>) -> Result<Decision, OrderError> {
    let base = derived_base(intent.request).map_err(|e| OrderError::BadRequest(e.to_string()))?;
    let mut last: Option<(String, String)> = None;
    for n in 0..SEQUENCE_LEN {
        let ref_id = derived_ref_id(&base, n);
        match lookup(client, &ref_id).await? {
            Some(cert_id) => last = Some((ref_id, cert_id)),
            None => {
                let Some((last_ref_id, cert_id)) = last else {
                    return Ok(Decision::Place { ref_id });
                };
                let order = read(client, &cert_id).await?;
                if is_cancelled(order.status.as_deref()) {
                    return Ok(Decision::Place { ref_id });
                }
                return adoptable(intent.request, &last_ref_id, cert_id, &order);
            }
        }
    }
    Err(OrderError::SequenceExhausted {
        last: derived_ref_id(&base, SEQUENCE_LEN - 1),
    })
}

fn adoptable(
    request: &RenewRequest,
    ref_id: &str,
    cert_id: String,
    order: &CollectResponse,
) -> Result<Decision, OrderError> {
    let differences = differences(request, order);
    if differences.is_empty() {
        Ok(Decision::Adopt {
            ref_id: ref_id.to_string(),
            cert_id,
        })
    } else {
        Err(OrderError::Mismatch {
            ref_id: ref_id.to_string(),
            cert_id,
            differences,
        })
    }
}

/// Places the intended order unless it exists, exactly once. `planned` is
/// the refId the plan showed, when it showed one: if NicSRS's records now
/// give another, nothing is done.
pub async fn order_once(
    client: &Client,
    intent: &Intent<'_>,
    planned: Option<&str>,
    claims: &Claims,
    window: &AmbiguityWindow,
) -> Result<Ordered, OrderError> {
    let decision = decide(client, intent).await?;
    if let Some(planned) = planned.filter(|p| *p != decision.ref_id()) {
        return Err(OrderError::Moved {
            planned: planned.to_string(),
            now: decision.ref_id().to_string(),
        });
    }
    claims.claim(decision.ref_id(), &intent.request.renew_id)?;
    let ref_id = match decision {
        Decision::Adopt { ref_id, cert_id } => {
            return Ok(Ordered {
                ref_id,
                cert_id,
                outcome: Outcome::AdoptedExisting,
            })
        }
        Decision::Place { ref_id } => ref_id,
    };
    let mut request = intent.request.clone();
    request.ref_id = Some(ref_id.clone());
    match client.renew(&request).await {
        Ok(response) => Ok(Ordered {
            ref_id,
            cert_id: response.cert_id,
            outcome: Outcome::Placed,
        }),
        Err(error) if is_ref_id_taken(&error) => {
            let cert_id = lookup(client, &ref_id)
                .await?
                .ok_or_else(|| OrderError::Refused(Box::new(error)))?;
            verified(client, &request, ref_id, cert_id, Outcome::AdoptedTaken).await
        }
        Err(error) if error.may_have_placed_order() => {
            resolve_lost_answer(client, &request, ref_id, error, window).await
        }
        Err(error) => Err(OrderError::Refused(Box::new(error))),
    }
}

/// The renew was sent and its answer lost: the order may exist, now or in
/// a moment. Look it up over the window before concluding anything.
async fn resolve_lost_answer(
    client: &Client,
    request: &RenewRequest,
    ref_id: String,
    renew_error: Error,
    window: &AmbiguityWindow,
) -> Result<Ordered, OrderError> {
    let mut lookup_error = None;
    for wait in &window.waits {
        tokio::time::sleep(*wait).await;
        match client.cert_id_by_ref_id(&ref_id).await {
            Ok(Some(cert_id)) => {
                let outcome = Outcome::Recovered {
                    renew_error: renew_error.to_string(),
                };
                return verified(client, request, ref_id, cert_id, outcome).await;
            }
            Ok(None) => lookup_error = None,
            Err(error) => lookup_error = Some(Box::new(error)),
        }
    }
    Err(OrderError::Unconfirmed {
        ref_id,
        renew_error: Box::new(renew_error),
        lookup_error,
    })
}

async fn verified(
    client: &Client,
    request: &RenewRequest,
    ref_id: String,
    cert_id: String,
    outcome: Outcome,
) -> Result<Ordered, OrderError> {
    let order = read(client, &cert_id).await?;
    let differences = differences(request, &order);
    if !differences.is_empty() {
        return Err(OrderError::Mismatch {
            ref_id,
            cert_id,
            differences,
        });
    }
    Ok(Ordered {
        ref_id,
        cert_id,
        outcome,
    })
}

/// Whether NicSRS refused a renew because its refId is already used.
fn is_ref_id_taken(error: &Error) -> bool {
    match error {
        Error::Api { code, errors, .. } => codes::is_ref_id_taken(*code, errors),
        _ => false,
    }
}

async fn lookup(client: &Client, ref_id: &str) -> Result<Option<String>, OrderError> {
    client
        .cert_id_by_ref_id(ref_id)
        .await
        .map_err(|e| OrderError::Lookup(Box::new(e)))
}

async fn read(client: &Client, cert_id: &str) -> Result<CollectResponse, OrderError> {
    client
        .collect(cert_id)
        .await
        .map_err(|e| OrderError::Lookup(Box::new(e)))
}

/// How `order` (as `/ssl/collect` reports it) differs from `request`.
/// Only what collect reports is compared: the submitted parameters
/// (`applyParams`: CSR, server, unique value, and `renewId`/`years` when
/// present) and the domains with their methods (`dcvList`).
pub fn differences(request: &RenewRequest, order: &CollectResponse) -> Vec<Difference> {
    let mut found = Vec::new();
    let mut differ = |field: &str, order: String, wanted: String| {
        found.push(Difference {
            field: field.to_string(),
            order,
            wanted,
        })
    };
    let params = apply_params(order);
    let param = |name: &str| -> Option<String> {
        match params.as_ref()?.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    };
    if let Some(renew_id) = param("renewId").filter(|r| *r != request.renew_id) {
        differ("renewId", renew_id, request.renew_id.clone());
    }
    if let Some(years) = param("years").filter(|y| *y != request.years.to_string()) {
        differ("years", years, request.years.to_string());
    }
    if let Some(csr) = param("csr") {
        let theirs = dcv::csr_public_key(&csr).ok();
        let ours = dcv::csr_public_key(&request.params.csr).ok();
        if theirs.is_some() && ours.is_some() && theirs != ours {
            differ(
                "csr",
                "a CSR for another key".into(),
                "a CSR for this key".into(),
            );
        }
    }
    if let Some(server) = param("server").filter(|s| *s != request.params.server) {
        differ("server", server, request.params.server.clone());
    }
    let reported_unique = params
        .as_ref()
        .filter(|p| p.contains_key("uniqueValue"))
        .map(|_| param("uniqueValue").filter(|u| !u.is_empty()));
    if let Some(unique) = reported_unique.filter(|u| *u != request.params.unique_value) {
        differ(
            "uniqueValue",
            unique.unwrap_or_else(|| "none".into()),
            request
                .params
                .unique_value
                .clone()
                .unwrap_or_else(|| "none".into()),
        );
    }
    let reported: BTreeMap<String, String> = order
        .data
        .dcv_list
        .iter()
        .filter_map(|entry| {
            Some((
                entry.domain_name.as_deref()?.trim().to_ascii_lowercase(),
                entry.dcv_method.clone().unwrap_or_default(),
            ))
        })
        .collect();
    if !reported.is_empty() {
        let wanted: BTreeMap<String, String> = request
            .params
            .domain_info
            .iter()
            .map(|d| {
                (
                    d.domain_name.trim().to_ascii_lowercase(),
                    d.dcv_method.as_str().to_string(),
                )
            })
            .collect();
        let names = |m: &BTreeMap<String, String>| m.keys().cloned().collect::<Vec<_>>().join(", ");
        if reported.keys().ne(wanted.keys()) {
            differ("domainName", names(&reported), names(&wanted));
        } else {
            for (domain, method) in &wanted {
                let theirs = &reported[domain];
                if !theirs.eq_ignore_ascii_case(method) && !theirs.is_empty() {
                    differ(
                        &format!("dcvMethod of {domain}"),
                        theirs.clone(),
                        method.clone(),
                    );
                }
            }
        }
    }
    found
}

/// `applyParams` as an object, whether NicSRS sent an object or a JSON string.
pub fn apply_params(order: &CollectResponse) -> Option<serde_json::Map<String, Value>> {
    match order.data.apply_params.as_ref()? {
        Value::Object(map) => Some(map.clone()),
        Value::String(text) => match serde_json::from_str(text).ok()? {
            Value::Object(map) => Some(map),
            _ => None,
        },
        _ => None,
    }
}
