//! `nicsrs_certificate_renewal`: one NicSRS renewal order (`POST /ssl/renew`).
//!
//! Its arguments mirror the renew call's parameters. Creating it places a
//! paid order, once; its `cert_id` is what the other resources build on.

use std::sync::Arc;

use crate::nicsrs;
use crate::plugin::{
    Attribute, AttributePath, Block, Diagnostics, NestedBlock, Plan, PlanChange, Resource, Schema,
    Type, Value,
};

use super::contact::{contact_block, validate_contact};
use super::{convert, dcv, refresh_order, rules, Refresh, Shared};

pub const TYPE_NAME: &str = "nicsrs_certificate_renewal";

pub struct CertificateRenewal {
    shared: Arc<Shared>,
}

impl CertificateRenewal {
    pub fn new(shared: Arc<Shared>) -> CertificateRenewal {
        CertificateRenewal { shared }
    }
}

pub fn schema() -> Schema {
    Schema::new(
        0,
        Block::new(
            "Renews an existing NicSRS certificate by placing a renewal order (`POST /ssl/renew`). \
             **Creating this resource places a paid order.** Renewal is possible when the certificate \
             expires within 90 days. Changing `dcv_method` or `dcv_email` updates the order in place; \
             changing anything else places a new order.\n\n\
             Import with `terraform import nicsrs_certificate_renewal.NAME <certId>`; then write the \
             order's arguments (`renew_id`, `years`, `csr`, `server`, `domain_info`, `administrator`, …) \
             in the configuration: the next apply adopts them into state without placing an order.",
        )
        // Required
        .attribute(
            Attribute::required("renew_id", Type::String, "The NicSRS certificate ID to renew (`renewId`).")
                .requires_replace(),
        )
        .attribute(
            Attribute::required(
                "years",
                Type::Number,
                "Validity of the order in years (`years`), 1 to 6; what a product allows may be less.",
            )
            .requires_replace(),
        )
        .attribute(
            Attribute::required(
                "csr",
                Type::String,
                "The certificate signing request, PEM-encoded PKCS#10 (`params.csr`). Its names must \
                 include every `domain_info.domain_name`.",
            )
            .requires_replace(),
        )
        .attribute(
            Attribute::required(
                "server",
                Type::String,
                "The server platform (`params.server`), e.g. `nginx`, `apache2`, `iis7`, `tomcat`; \
                 `other` is always accepted.",
            )
            .requires_replace(),
        )
        // Optional
        .attribute(
            Attribute::optional_computed(
                "ref_id",
                Type::String,
                "Your own unique order ID (`refId`). When left out, the provider generates one at \
                 create, so every order can be found again with `/ssl/certIdByrefId`. When set, it also \
                 makes retries safe: if an order with this refId already exists (say an earlier apply was \
                 interrupted after ordering), create adopts it instead of placing a second order.",
            )
            .requires_replace()
            .use_state_for_unknown(),
        )
        .attribute(
            Attribute::optional(
                "unique_value",
                Type::String,
                "Sectigo products only (`params.uniqueValue`): 1 to 20 characters of a-z, A-Z, 0-9.",
            )
            .requires_replace(),
        )
        .attribute(
            Attribute::optional_computed(
                "cancel_on_destroy",
                Type::Bool,
                "When true, destroying this resource cancels the order at NicSRS (`/ssl/cancel`, possible \
                 while pending or within 30 days of issue). Default false: destroy only forgets the order.",
            )
            .default(Value::Bool(false)),
        )
        // Computed
        .attribute(
            Attribute::computed("id", Type::String, "The order's certificate ID (same as `cert_id`).")
                .use_state_for_unknown(),
        )
        .attribute(
            Attribute::computed(
                "cert_id",
                Type::String,
                "The new certificate ID returned by `/ssl/renew` (`data.certId`); other resources use it.",
            )
            .use_state_for_unknown(),
        )
        .attribute(Attribute::computed(
            "status",
            Type::String,
            "The order status from `/ssl/collect`: `PENDING`, `COMPLETE`, `CANCELLED`, …",
        ))
        .attribute(Attribute::computed(
            "dcv_records",
            Type::list(dcv::dcv_record_type()),
            dcv::DCV_RECORDS_DESCRIPTION,
        ))
        .attribute(Attribute::computed(
            "dns_records",
            Type::map(dcv::dns_record_type()),
            dcv::DNS_RECORDS_DESCRIPTION,
        ))
        // Blocks
        .block(
            NestedBlock::list(
                "domain_info",
                Block::new("One block per domain (`params.domainInfo`); at least one.")
                    .attribute(
                        Attribute::required("domain_name", Type::String, "The domain to renew (`domainName`).")
                            .requires_replace(),
                    )
                    .attribute(Attribute::required(
                        "dcv_method",
                        Type::String,
                        &format!(
                            "Domain control validation method (`dcvMethod`): one of {}. Changes update \
                             the order in place.",
                            rules::dcv_method_names().iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
                        ),
                    ))
                    .attribute(Attribute::optional(
                        "dcv_email",
                        Type::String,
                        &format!(
                            "For the `EMAIL` method (`dcvEmail`): {} followed by the domain or one of its \
                             parent domains.",
                            nicsrs::types::DCV_EMAIL_PREFIXES.map(|p| format!("`{p}`")).join(", ")
                        ),
                    )),
            )
            .min_items(1),
        )
        .block(
            NestedBlock::single(
                "organization_info",
                Block::new("The organization (`params.organizationInfo`); needed for OV and EV products.")
                    .attribute(Attribute::optional("name", Type::String, "Organization name (`organizationName`)."))
                    .attribute(Attribute::optional("city", Type::String, "City (`organizationCity`)."))
                    .attribute(Attribute::optional("mobile", Type::String, "Phone number (`organizationMobile`)."))
                    .attribute(Attribute::optional("address", Type::String, "Address (`organizationAddress`)."))
                    .attribute(Attribute::optional(
                        "country",
                        Type::String,
                        "Two-letter ISO 3166-1 country code (`organizationCountry`).",
                    ))
                    .attribute(Attribute::optional("post_code", Type::String, "Postal code (`organizationPostCode`).")),
            )
            .requires_replace(),
        )
        .block(
            NestedBlock::single(
                "administrator",
                contact_block("The administrator contact (`params.Administrator`); every field is required.", true),
            )
            .required()
            .requires_replace(),
        )
        .block(
            NestedBlock::single(
                "finance",
                contact_block("The finance contact (`params.finance`); for OV and EV products.", false),
            )
            .requires_replace(),
        )
        .block(
            NestedBlock::single(
                "tech",
                contact_block("The technical contact (`params.tech`); for OV and EV products.", false),
            )
            .requires_replace(),
        ),
    )
}

#[tonic::async_trait]
impl Resource for CertificateRenewal {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        validate_renewal(config, diags);
    }

    fn modify_plan(&self, change: &PlanChange, plan: &mut Plan, diags: &mut Diagnostics) {
        if plan.planned.is_null() {
            return;
        }
        let domain_info = plan.planned.get("domain_info").clone();
        if plan.planned.get("dcv_records").is_unknown() {
            plan.planned
                .set("dcv_records", dcv::planned_dcv_records(&domain_info));
        }
        if plan.planned.get("dns_records").is_unknown() {
            plan.planned
                .set("dns_records", dcv::planned_dns_records(&domain_info));
        }
        if change.is_create() {
            let years = plan
                .planned
                .get("years")
                .as_f64()
                .map_or("the configured number of".into(), |y| y.to_string());
            let renew_id = plan
                .planned
                .get("renew_id")
                .as_str()
                .unwrap_or("(known after apply)");
            diags.warning(
                "Applying places a paid renewal order",
                format!("Creating {TYPE_NAME} renews certificate {renew_id} for {years} year(s) at NicSRS, which charges your reseller balance."),
            );
            return;
        }
        if change.prior.get("renew_id").is_null() {
            // Imported: the configuration's arguments are adopted into state,
            // they do not describe a new order.
            plan.requires_replace.clear();
            return;
        }
        if !plan.requires_replace.is_empty() {
            let changed: Vec<String> = plan
                .requires_replace
                .iter()
                .map(ToString::to_string)
                .collect();
            diags.warning(
                "Replacement places a new paid renewal order",
                format!(
                    "Changing {} cannot be done to an existing order: Terraform will forget order {} and \
                     place a new paid renewal order. Only dcv_method and dcv_email change in place.",
                    changed.join(", "),
                    change.prior.get("cert_id").as_str().unwrap_or("?"),
                ),
            );
        }
    }

    async fn create(&self, planned: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let client = self.shared.client(diags)?;
        let (ref_id, chosen_by_user) = match planned.get("ref_id").as_str() {
            Some(ref_id) => (ref_id.to_string(), true),
            None => (generate_ref_id(), false),
        };
        let existing = if chosen_by_user {
            existing_order(&client, &ref_id, diags).await
        } else {
            None
        };
        let cert_id = match existing {
            Some(cert_id) => cert_id,
            None => match client
                .renew(&convert::renew_request(planned, &ref_id))
                .await
            {
                Ok(response) => response.cert_id,
                Err(error) if error.may_have_placed_order() => {
                    adopt_ambiguous_order(&client, &ref_id, &error, diags).await?
                }
                Err(error) => {
                    diags.error("Renewal order failed", format!("{error}"));
                    return None;
                }
            },
        };
        log::info!("renewal order placed: certId {cert_id}, refId {ref_id}");
        let mut state = planned.clone();
        state.set("ref_id", ref_id.into());
        state.set("cert_id", cert_id.clone().into());
        state.set("id", cert_id.clone().into());
        refresh_from_order(&client, &cert_id, &mut state, diags).await;
        Some(state)
    }

    async fn read(&self, state: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let client = self.shared.client(diags)?;
        let cert_id = state
            .get("cert_id")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut state = state.clone();
        match refresh_order(&client, &cert_id, "Renewal order", diags).await {
            Refresh::Found(collected) => set_order_fields(&mut state, *collected),
            Refresh::Gone => return None,
            Refresh::Unreadable => {}
        }
        Some(state)
    }

    async fn update(
        &self,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let client = self.shared.client(diags)?;
        let cert_id = prior
            .get("cert_id")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut state = planned.clone();
        if !prior.get("renew_id").is_null() {
            for request in dcv_changes(&cert_id, prior, planned) {
                let domain = request.domain_name.clone().unwrap_or_default();
                if let Err(error) = client.update_dcv(&request).await {
                    diags.attribute_error(
                        AttributePath::root("domain_info"),
                        "Cannot change domain validation",
                        format!("Changing the DCV method of {domain} on order {cert_id} failed: {error}"),
                    );
                    // Keep what the order really has for the domains not yet changed.
                    return Some(prior.clone());
                }
            }
        }
        if state.get("ref_id").is_unknown() {
            state.set("ref_id", Value::Null);
        }
        refresh_from_order(&client, &cert_id, &mut state, diags).await;
        Some(state)
    }

    async fn delete(&self, prior: &Value, diags: &mut Diagnostics) {
        let cert_id = prior
            .get("cert_id")
            .as_str()
            .unwrap_or_default()
            .to_string();
        if prior.get("cancel_on_destroy").as_bool() != Some(true) {
            diags.warning(
                "Order kept at NicSRS",
                format!(
                    "Order {cert_id} was removed from the Terraform state only; it stays at NicSRS. Set \
                     cancel_on_destroy = true to cancel orders on destroy."
                ),
            );
            return;
        }
        let Some(client) = self.shared.client(diags) else {
            return;
        };
        match client
            .cancel(
                &cert_id,
                "Cancelled by Terraform (cancel_on_destroy = true)",
            )
            .await
        {
            Ok(outcome) => log::info!("order {cert_id} cancelled: {outcome:?}"),
            Err(error) => diags.error(
                "Cannot cancel the renewal order",
                format!(
                    "{error}\nThe order stays in the state. To forget it without cancelling, set \
                     cancel_on_destroy = false, apply, then destroy."
                ),
            ),
        }
    }

    async fn import(&self, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let client = self.shared.client(diags)?;
        let collected = match client.collect(id).await {
            Ok(collected) => collected,
            Err(error) => {
                diags.error(
                    "Cannot import the renewal order",
                    format!("Reading order {id:?} failed: {error}"),
                );
                return None;
            }
        };
        let mut state = Value::object([
            ("cert_id", id.into()),
            ("id", id.into()),
            ("status", Value::opt_string(collected.status)),
            ("cancel_on_destroy", Value::Bool(false)),
            ("domain_info", Value::List(Vec::new())),
        ]);
        for name in [
            "renew_id",
            "years",
            "csr",
            "server",
            "ref_id",
            "unique_value",
        ] {
            state.set(name, Value::Null);
        }
        Some(state)
    }
}

/// Every check of the renew call that can run before any API call.
/// Unknown values are skipped: they are checked again once known.
fn validate_renewal(config: &Value, diags: &mut Diagnostics) {
    let at = AttributePath::root;
    for name in ["renew_id", "server", "ref_id"] {
        if config
            .get(name)
            .as_str()
            .is_some_and(|v| v.trim().is_empty())
        {
            diags.attribute_error(
                at(name),
                format!("Empty {name}"),
                format!("{name} is an empty string; set a value."),
            );
        }
    }
    if let Some(server) = config
        .get("server")
        .as_str()
        .filter(|s| !s.trim().is_empty())
    {
        if !nicsrs::types::SERVER_PLATFORMS.contains(&server) {
            diags.attribute_warning(
                at("server"),
                "Unfamiliar server platform",
                format!(
                    "server is {server:?}; NicSRS is known to accept the lower-case names {}. \
                     \"other\" is always accepted.",
                    nicsrs::types::SERVER_PLATFORMS.join(", ")
                ),
            );
        }
    }
    if let Some(years) = config.get("years").as_f64() {
        if let Err(problem) = rules::check_years(years) {
            diags.attribute_error(at("years"), "Invalid years", problem);
        }
    }
    if let Some(unique_value) = config.get("unique_value").as_str() {
        if let Err(problem) = rules::check_unique_value(unique_value) {
            diags.attribute_error(at("unique_value"), "Invalid unique_value", problem);
        }
    }
    let csr_names = match config.get("csr").as_str().map(rules::csr_names) {
        Some(Ok(names)) => Some(names),
        Some(Err(problem)) => {
            diags.attribute_error(at("csr"), "Invalid csr", problem);
            None
        }
        None => None,
    };
    let mut seen = Vec::new();
    for (i, domain) in config.get("domain_info").elements().iter().enumerate() {
        let path = at("domain_info").index(i);
        let name = domain.get("domain_name").as_str();
        if let Some(name) = name {
            if seen.iter().any(|s: &String| s.eq_ignore_ascii_case(name)) {
                diags.attribute_error(
                    path.clone().attribute("domain_name"),
                    "Duplicate domain_name",
                    format!("{name:?} appears in more than one domain_info block; list each domain once."),
                );
            }
            seen.push(name.to_string());
            if let Some(Err(problem)) = csr_names
                .as_ref()
                .map(|names| rules::check_csr_covers(names, name))
            {
                diags.attribute_error(
                    path.clone().attribute("domain_name"),
                    "Domain not in the CSR",
                    problem,
                );
            }
        }
        let method = domain.get("dcv_method").as_str();
        if let (Some(name), Some(method)) = (name, method) {
            if let Err(problem) = rules::check_method_fits_domain(method, name) {
                diags.attribute_error(
                    path.clone().attribute("dcv_method"),
                    "Method cannot validate this domain",
                    problem,
                );
            }
        }
        if let Some(Err(problem)) = method.map(rules::check_dcv_method) {
            diags.attribute_error(
                path.clone().attribute("dcv_method"),
                "Invalid dcv_method",
                problem,
            );
        }
        if let (Some(email), Some(name)) = (domain.get("dcv_email").as_str(), name) {
            if let Err(problem) = rules::check_dcv_email(email, name) {
                diags.attribute_error(
                    path.clone().attribute("dcv_email"),
                    "Invalid dcv_email",
                    problem,
                );
            } else if method.is_some_and(|m| m != "EMAIL") {
                diags.attribute_warning(
                    path.clone().attribute("dcv_email"),
                    "dcv_email is ignored",
                    format!("dcv_email is used only with dcv_method = \"EMAIL\"; this domain uses {:?}.", method.unwrap_or_default()),
                );
            }
        }
    }
    let organization = config.get("organization_info");
    if let Some(country) = organization.get("country").as_str() {
        if let Err(problem) = rules::check_country(country) {
            diags.attribute_error(
                at("organization_info").attribute("country"),
                "Invalid country",
                problem,
            );
        }
    }
    for contact in ["administrator", "finance", "tech"] {
        validate_contact(config.get(contact), &at(contact), diags);
    }
}

/// Unique enough to never collide, short, and recognisably ours.
fn generate_ref_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    let suffix: String = (0..16)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect();
    format!("tf{suffix}")
}

/// A `ref_id` the user chose is an idempotency key: when an order with it
/// already exists (an earlier apply placed it, then lost its state), that
/// order is adopted instead of paying for a second one.
async fn existing_order(
    client: &nicsrs::Client,
    ref_id: &str,
    diags: &mut Diagnostics,
) -> Option<String> {
    match client.cert_id_by_ref_id(ref_id).await {
        Ok(Some(cert_id)) => {
            diags.warning(
                "Existing order adopted",
                format!(
                    "NicSRS already has order {cert_id} with refId {ref_id:?}, so it was stored in the state \
                     instead of placing a second paid order. To place a new order, set a different ref_id."
                ),
            );
            Some(cert_id)
        }
        Ok(None) => None,
        Err(error) => {
            // The API refuses a duplicate refId itself, so ordering is still safe.
            log::warn!("looking up refId {ref_id} before ordering failed: {error}");
            None
        }
    }
}

/// The renew call's outcome is unknown (timeout, connection lost after
/// sending): never send it again; look the order up by its `refId`.
async fn adopt_ambiguous_order(
    client: &nicsrs::Client,
    ref_id: &str,
    renew_error: &nicsrs::Error,
    diags: &mut Diagnostics,
) -> Option<String> {
    match client.cert_id_by_ref_id(ref_id).await {
        Ok(Some(cert_id)) => {
            diags.warning(
                "Renewal order recovered",
                format!(
                    "The renew call did not complete ({renew_error}), but NicSRS has order {cert_id} for \
                     refId {ref_id:?}; it was stored in the state. No second order was placed."
                ),
            );
            Some(cert_id)
        }
        Ok(None) => {
            diags.error(
                "Renewal order not placed",
                format!(
                    "The renew call did not complete ({renew_error}), and NicSRS has no order with refId \
                     {ref_id:?}, so no order was placed. It is safe to apply again."
                ),
            );
            None
        }
        Err(lookup_error) => {
            diags.error(
                "Renewal order may have been placed",
                format!(
                    "The renew call did not complete ({renew_error}), and looking the order up by refId \
                     failed too ({lookup_error}). The order MAY HAVE BEEN PLACED. Before applying again, \
                     check the NicSRS portal for an order with refId {ref_id:?}; if it exists, adopt it with\n  \
                     terraform import {TYPE_NAME}.<name> <certId>\ninstead of applying, which would order again."
                ),
            );
            None
        }
    }
}

/// Fills the attributes `/ssl/collect` reports: status and DCV records.
fn set_order_fields(state: &mut Value, collected: nicsrs::CollectResponse) {
    let domain_info = state.get("domain_info").clone();
    state.set("status", Value::opt_string(collected.status));
    state.set(
        "dcv_records",
        dcv::dcv_records(&domain_info, &collected.data),
    );
    state.set(
        "dns_records",
        dcv::dns_records(&domain_info, &collected.data),
    );
}

/// Reads the order after create or update. A failed read is a warning,
/// never a failure of an operation whose order exists: what the plan knew
/// is kept, the rest left null until the next refresh.
async fn refresh_from_order(
    client: &nicsrs::Client,
    cert_id: &str,
    state: &mut Value,
    diags: &mut Diagnostics,
) {
    match client.collect(cert_id).await {
        Ok(collected) => set_order_fields(state, collected),
        Err(error) => {
            diags.warning(
                "Order details not known yet",
                format!(
                    "Order {cert_id} is saved in the state, but reading its status and validation records                      failed: {error}. Run `terraform apply -refresh-only` (or the next plan) to read them again."
                ),
            );
            for name in ["status", "dcv_records", "dns_records"] {
                let known = dcv::without_unknowns(state.get(name));
                state.set(name, known);
            }
        }
    }
}

/// `/ssl/updateDCV` calls for the domains whose method or e-mail changed.
fn dcv_changes(cert_id: &str, prior: &Value, planned: &Value) -> Vec<nicsrs::UpdateDcvRequest> {
    let before = prior.get("domain_info").elements();
    planned
        .get("domain_info")
        .elements()
        .iter()
        .zip(before)
        .filter(|(after, before)| {
            after.get("dcv_method") != before.get("dcv_method")
                || after.get("dcv_email") != before.get("dcv_email")
        })
        .filter_map(|(after, _)| {
            Some(nicsrs::UpdateDcvRequest {
                cert_id: cert_id.to_string(),
                domain_name: after.get("domain_name").as_str().map(str::to_string),
                dcv_method: nicsrs::DcvMethod::parse(after.get("dcv_method").as_str()?)?,
                dcv_email: after.get("dcv_email").as_str().map(str::to_string),
            })
        })
        .collect()
}
