//! `nicsrs_certificate_renewal`: one NicSRS renewal order (`POST /ssl/renew`).
//!
//! Its arguments mirror the renew call's parameters. Creating it places a
//! paid order, once; its `cert_id` is what the other resources build on.

use std::sync::Arc;

use nicsrs::{codes, ordering, rules};
use tfplugin::model::{FromValue, IntoValue};
use tfplugin::{
    Attribute, AttributePath, Block, Diagnostics, Field, Model, NestedBlock, Plan, PlanChange,
    Resource, Schema, Type, Value,
};

use super::contact::{contact_block, text_attribute};
use super::lifecycle::{self, Due};
use super::models::{decode, decode_optional, Renewal};
use super::{convert, dcv, refresh_order, validators, IfMissing, Refresh, Shared};

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
             expires within 90 days: planning a new order checks this by NicSRS's clock and fails on \
             `renew_id` before then, naming the date renewal opens. Changing `dcv_method` or `dcv_email` \
             updates the order in place; changing anything else places a new order. With \
             `renew_before_days` the resource keeps its certificate renewed from scheduled applies (see \
             the rolling-renewal guide).\n\n\
             Import with `terraform import nicsrs_certificate_renewal.NAME <certId>`: every argument is \
             read from the order (`/ssl/collect`'s `applyParams`, the submitted parameters, and each \
             domain's current method), so a plan with the matching configuration shows no changes and a \
             configuration that differs shows exactly the differences (a different `renew_id` is a \
             replacement, which places a new order). When NicSRS does not report which certificate the \
             order renews, import it as `<certId>:<renewId>`; an original certificate (not a renewal \
             order) is refused. Arguments NicSRS does not report (such as `years`) are taken from the \
             configuration at the next apply.",
        )
        // Required
        .attribute(
            Attribute::required("renew_id", Type::String, "The NicSRS certificate ID to renew (`renewId`).")
                .requires_replace()
                .validate_with(validators::identifier()),
        )
        .attribute(
            Attribute::required(
                "years",
                Type::Number,
                "Validity of the order in years (`years`), 1 to 6; what a product allows may be less.",
            )
            .requires_replace()
            .validate_with(validators::years()),
        )
        .attribute(
            Attribute::required(
                "csr",
                Type::String,
                "The certificate signing request, PEM-encoded PKCS#10 (`params.csr`). Its names must \
                 include every `domain_info.domain_name`.",
            )
            .requires_replace()
            .validate_with(validators::csr()),
        )
        .attribute(
            Attribute::required(
                "server",
                Type::String,
                "The server platform (`params.server`), e.g. `nginx`, `apache2`, `iis7`, `tomcat`; \
                 `other` is always accepted.",
            )
            .requires_replace()
            .validate_with(validators::server()),
        )
        // Optional
        .attribute(
            Attribute::optional_computed(
                "ref_id",
                Type::String,
                "Your own unique order ID (`refId`), the order's identity: before ordering, the provider \
                 looks it up (`/ssl/certIdByrefId`) and adopts an existing order that matches instead of \
                 placing a second one, so an interrupted apply, a lost state file or a retry never buys \
                 twice. When left out, it is derived from what the order is (`renew_id`, `years`, the \
                 CSR's public key, `server`, the domain names, `unique_value`) and shown in the plan; \
                 after a cancelled order with the same content, the next one of a fixed sequence is used. \
                 A replacement needs a new one: keeping a chosen `ref_id` through a replacement is an error.",
            )
            .requires_replace()
            .use_state_for_unknown()
            .validate_with(validators::identifier()),
        )
        .attribute(
            Attribute::optional(
                "unique_value",
                Type::String,
                "Sectigo products only (`params.uniqueValue`): 1 to 20 characters of a-z, A-Z, 0-9.",
            )
            .requires_replace()
            .validate_with(validators::unique_value()),
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
        .attribute(
            Attribute::optional(
            "renew_before_days",
            Type::Number,
            "Rolling renewal: when the certificate of the current order expires within this many days \
             (1 to 90), the next plan shows an in-place update that places a paid renewal order with \
             `renewId` = the current `cert_id` and the same arguments; `cert_id` becomes the new order's \
             and the old one is added to `previous_cert_ids`. Apply on a schedule (e.g. daily in CI) and \
             the certificate renews itself. \"Now\" is NicSRS's clock (the `Date` of its answers). Cannot \
             be combined with a chosen `ref_id`: each order of the chain gets its own derived refId, so a \
             re-apply after an interrupted roll adopts the order instead of buying it again. Without it, \
             nothing is renewed when the certificate nears expiry (plans only warn once NicSRS's renewal \
             window is open).",
        )
            .validate_with(validators::renew_before_days()),
        )
        .attribute(Attribute::optional(
            "check_renewal_window",
            Type::Bool,
            "Whether planning a new order checks that the certificate `renew_id` expires within 90 days, \
             when NicSRS accepts its renewal (by NicSRS's clock). When it expires later, the plan fails on \
             `renew_id`, naming the date the window opens; when the check cannot be made, the plan warns \
             and goes on. Defaults to the provider's `check_renewal_window` (true); set false for \
             products whose window differs.",
        ))
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
        .attribute(
            Attribute::computed(
                "expires_at",
                Type::String,
                "When the certificate of the current order expires (RFC 3339, from `/ssl/collect`'s \
                 `endDate`); null until the order is issued.",
            )
            .use_state_for_unknown(),
        )
        .attribute(Attribute::computed(
            "renewal_due_at",
            Type::String,
            "When the next rolling renewal will be planned (RFC 3339): `expires_at` less \
             `renew_before_days`. Null without `renew_before_days` or before the order is issued. Alert \
             on it if scheduled applies might not run.",
        ))
        .attribute(
            Attribute::computed(
                "previous_cert_ids",
                Type::list(Type::String),
                "The orders this resource rolled away from, oldest first; each rolling renewal appends the \
                 `cert_id` it renewed.",
            )
            .use_state_for_unknown(),
        )
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
            .key("domain_name")
            .min_items(1),
        )
        .block(
            NestedBlock::single(
                "organization_info",
                Block::new("The organization (`params.organizationInfo`); needed for OV and EV products.")
                    .attribute(text_attribute("name", "Organization name (`organizationName`).", false, None))
                    .attribute(text_attribute("city", "City (`organizationCity`).", false, None))
                    .attribute(text_attribute(
                        "mobile",
                        "Phone number (`organizationMobile`).",
                        false,
                        Some(validators::mobile),
                    ))
                    .attribute(text_attribute("address", "Address (`organizationAddress`).", false, None))
                    .attribute(text_attribute(
                        "country",
                        "Two-letter ISO 3166-1 country code (`organizationCountry`).",
                        false,
                        Some(validators::country),
                    ))
                    .attribute(text_attribute("post_code", "Postal code (`organizationPostCode`).", false, None)),
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

#[tfplugin::async_trait]
impl Resource for CertificateRenewal {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        schema()
    }

    fn identity(&self) -> &'static [&'static str] {
        &["cert_id"]
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        let Some(config) = decode::<Renewal>(config, diags) else {
            return;
        };
        validate_domains(&config, diags);
        lifecycle::validate(&config, diags);
    }

    async fn modify_plan(&self, change: &PlanChange<'_>, plan: &mut Plan, diags: &mut Diagnostics) {
        let Some(prior) = decode_optional::<Renewal>(change.prior, diags) else {
            return;
        };
        if change.is_destroy() {
            if let Some(prior) = &prior {
                warn_destroy(prior, diags);
            }
            return;
        }
        let (Some(config), Some(mut planned)) = (
            decode::<Renewal>(change.config, diags),
            decode::<Renewal>(&plan.planned, diags),
        ) else {
            return;
        };
        if planned.dcv_records.is_unknown() {
            planned.dcv_records = dcv::planned_dcv_records(&planned.domain_info);
        }
        if planned.dns_records.is_unknown() {
            planned.dns_records = dcv::planned_dns_records(&planned.domain_info);
        }
        match &prior {
            None => {
                planned.previous_cert_ids = Field::Known(Vec::new());
                let replacing = PlanPrivate::decode(change.prior_private).prior_ref_id;
                self.plan_order(&config, &mut planned, replacing.as_deref(), diags)
                    .await;
            }
            Some(prior) => {
                self.plan_update(prior, &config, &mut planned, plan, diags)
                    .await
            }
        }
        planned.renewal_due_at =
            lifecycle::renewal_due_at(&planned.expires_at, &planned.renew_before_days);
        plan.planned = planned.encode();
    }

    async fn create(
        &self,
        planned: &Value,
        private: &[u8],
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let planned: Renewal = decode(planned, diags)?;
        let request = match convert::renew_request(&planned) {
            Ok(request) => request,
            Err(problem) => {
                diags.error(
                    "Renewal order not placed",
                    format!("The planned renewal is incomplete ({problem}). This is a bug in the provider; no order was placed."),
                );
                return None;
            }
        };
        let client = self.shared.client(diags)?;
        let replacing = PlanPrivate::decode(private).prior_ref_id;
        self.order_into_state(&client, &request, replacing.as_deref(), planned, diags)
            .await
            .map(Renewal::encode)
    }

    async fn read(&self, state: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let mut state: Renewal = decode(state, diags)?;
        let client = self.shared.client(diags)?;
        let cert_id = state.cert_id.known().cloned().unwrap_or_default();
        let if_missing = state
            .ref_id
            .as_str()
            .map_or(IfMissing::Keep, IfMissing::ConfirmByRefId);
        match refresh_order(&client, &cert_id, "Renewal order", if_missing, diags).await {
            Refresh::Found(collected) => set_order_fields(&mut state, *collected),
            Refresh::Gone => return None,
            Refresh::Unreadable => {}
        }
        if state.previous_cert_ids.is_null() {
            state.previous_cert_ids = Field::Known(Vec::new());
        }
        Some(state.encode())
    }

    async fn update(
        &self,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let prior: Renewal = decode(prior, diags)?;
        let planned: Renewal = decode(planned, diags)?;
        let client = self.shared.client(diags)?;
        if planned.cert_id.is_unknown() && !prior.renew_id.is_null() {
            return Some(self.roll(&client, prior, planned, diags).await.encode());
        }
        let cert_id = prior.cert_id.known().cloned().unwrap_or_default();
        if !prior.renew_id.is_null() {
            for request in dcv_changes(&cert_id, &prior, &planned) {
                let domain = request.domain_name.clone().unwrap_or_default();
                if let Err(error) = client.update_dcv(&request).await {
                    diags.attribute_error(
                        AttributePath::root("domain_info"),
                        "Cannot change domain validation",
                        format!("Changing the DCV method of {domain} on order {cert_id} failed: {error}."),
                    );
                    // Keep what the order really has for the domains not yet changed.
                    return Some(prior.encode());
                }
            }
        }
        let mut state = planned.clone();
        if state.ref_id.is_unknown() {
            state.ref_id = Field::Null;
        }
        refresh_from_order(&client, &cert_id, &mut state, diags).await;
        // Same order: what the plan knew of its dates stands.
        if planned.expires_at.is_known() {
            state.expires_at = planned.expires_at;
        }
        if planned.renewal_due_at.is_known() {
            state.renewal_due_at = planned.renewal_due_at;
        }
        Some(state.encode())
    }

    async fn delete(&self, prior: &Value, diags: &mut Diagnostics) {
        let Some(prior) = decode::<Renewal>(prior, diags) else {
            return;
        };
        let cert_id = prior.cert_id.known().cloned().unwrap_or_default();
        if prior.cancel_on_destroy.known() != Some(&true) {
            diags.warning(
                "Order kept at NicSRS",
                format!(
                    "Order {cert_id} was removed from the Terraform state only; it stays at NicSRS. Set \
                     cancel_on_destroy = true to cancel orders on destroy."
                ),
            );
            return;
        }
        if let Some(ref_id) = prior.ref_id.as_str() {
            if self.shared.claims.holds(ref_id) {
                // create_before_destroy with an unchanged order: the new
                // object adopted it a moment ago; cancelling would leave the
                // state holding a dead order.
                diags.warning(
                    "Order kept: its replacement holds it",
                    format!(
                        "Order {cert_id} (refId {ref_id:?}) was adopted by the resource that replaces this one, \
                         so it was not cancelled."
                    ),
                );
                return;
            }
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
                    "{error}.\nThe order stays in the state. To forget it without cancelling, set \
                     cancel_on_destroy = false, apply, then destroy."
                ),
            ),
        }
    }

    async fn import(&self, id: &str, diags: &mut Diagnostics) -> Option<Value> {
        let client = self.shared.client(diags)?;
        let (cert_id, named_renew_id) = match id.split_once(':') {
            Some((cert_id, renew_id)) => (cert_id.trim(), Some(renew_id.trim())),
            None => (id.trim(), None),
        };
        let collected = match client.collect(cert_id).await {
            Ok(collected) => collected,
            Err(error) => {
                diags.error(
                    "Cannot import the renewal order",
                    format!("Reading order {cert_id:?} failed: {error}."),
                );
                return None;
            }
        };
        match imported_state(cert_id, named_renew_id, &collected) {
            Ok(state) => Some(state.encode()),
            Err(problem) => {
                diags.error("Cannot import the renewal order", problem);
                None
            }
        }
    }
}

/// The state of an imported order: every argument NicSRS reports, so that
/// a plan with the matching configuration shows no changes. Refused when
/// the order cannot be shown to be a renewal.
fn imported_state(
    cert_id: &str,
    named_renew_id: Option<&str>,
    collected: &nicsrs::CollectResponse,
) -> Result<Renewal, String> {
    let original = format!(
        "An original certificate cannot be imported as a {TYPE_NAME}: to renew certificate {cert_id}, \
         create a {TYPE_NAME} with renew_id = \"{cert_id}\" instead."
    );
    let Some(params) = collected
        .data
        .apply_params
        .as_ref()
        .and_then(nicsrs::ApplyParams::from_wire)
    else {
        return Err(format!(
            "NicSRS reports no submitted parameters (applyParams) for order {cert_id}, so it is not a \
             renewal order placed through the API. {original}"
        ));
    };
    let renew_id = match (params.renew_id.clone(), named_renew_id) {
        (Some(reported), Some(named)) if reported != named => {
            return Err(format!(
                "Order {cert_id} renews certificate {reported}, not {named}. Import it as \"{cert_id}\" \
                 (or \"{cert_id}:{reported}\")."
            ))
        }
        (Some(renew_id), _) => renew_id,
        (None, Some(named)) if !named.is_empty() => named.to_string(),
        (None, _) => {
            return Err(format!(
                "NicSRS does not report which certificate order {cert_id} renews (no renewId in its \
                 applyParams), so it cannot be told apart from an original certificate. {original} If \
                 {cert_id} is a renewal order, import it as \"{cert_id}:RENEW_ID\", naming the \
                 certificate it renewed."
            ))
        }
    };
    if renew_id == cert_id {
        return Err(format!(
            "Order {cert_id} cannot renew itself. {original} Otherwise import it as \"{cert_id}\" or \
             \"{cert_id}:RENEW_ID\", naming the certificate it renewed."
        ));
    }
    let mut state = Renewal {
        cert_id: cert_id.into(),
        id: cert_id.into(),
        status: collected.status.clone().into(),
        cancel_on_destroy: Field::Known(false),
        previous_cert_ids: Field::Known(Vec::new()),
        ..Renewal::default()
    };
    convert::set_order_arguments(params, &collected.data.dcv_list, &mut state).map_err(|missing| {
        format!(
            "NicSRS reports order {cert_id} without {missing} in its submitted parameters \
             (applyParams), so its arguments cannot be read. Check that {cert_id} is a renewal order."
        )
    })?;
    state.renew_id = Field::Known(renew_id);
    Ok(state)
}

/// The checks of `domain_info` that need more than one attribute (each
/// attribute's own rule is its validator, see the schema): duplicates, the
/// CSR's names, the method against the domain, the e-mail against both.
/// Unknown values are skipped: they are checked again once known.
pub(super) fn validate_domains(config: &Renewal, diags: &mut Diagnostics) {
    // An invalid CSR is its validator's error; here it only names no domains.
    let csr_names = config
        .csr
        .as_str()
        .and_then(|pem| rules::csr("csr", pem).ok())
        .map(|parsed| parsed.names);
    let mut seen: Vec<String> = Vec::new();
    for (i, domain) in config.domains().iter().enumerate() {
        let path = |attribute: &str| {
            AttributePath::root("domain_info")
                .index(i)
                .attribute(attribute)
        };
        let name = domain.domain_name.as_str();
        if let Some(name) = name {
            if seen.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                report(diags,
                    path("domain_name"),
                    "Duplicate domain_name",
                    Err(format!("{name:?} appears in more than one domain_info block; list each domain once.")),
                );
            }
            seen.push(name.to_string());
            let named = rules::domain_name("domain_name", name);
            let covered = named.clone().and_then(|()| match &csr_names {
                Some(names) => rules::csr_covers("domain_name", names, name),
                None => Ok(()),
            });
            if named.is_err() {
                report(diags, path("domain_name"), "Invalid domain_name", named);
            } else {
                report(diags, path("domain_name"), "Domain not in the CSR", covered);
            }
        }
        let method = domain
            .dcv_method
            .as_str()
            .map(|m| rules::dcv_method("dcv_method", m));
        let method = match method {
            Some(Ok(method)) => Some(method),
            Some(Err(problem)) => {
                report(
                    diags,
                    path("dcv_method"),
                    "Invalid dcv_method",
                    Err(problem),
                );
                None
            }
            None => None,
        };
        if let (Some(name), Some(method)) = (name, method) {
            report(
                diags,
                path("dcv_method"),
                "Method cannot validate this domain",
                rules::method_fits_domain(method, name),
            );
        }
        let email = &domain.dcv_email;
        if let (Some(method), false) = (method, email.is_unknown()) {
            report(
                diags,
                path("dcv_email"),
                "Missing dcv_email",
                rules::dcv_email_present("dcv_email", method, email.as_str()),
            );
        }
        if let (Some(email), Some(name)) = (email.as_str(), name) {
            let valid = rules::dcv_email("dcv_email", email, name);
            // Not with an invalid address under EMAIL: that is an error, not ignored.
            let ignored = method.is_some_and(|m| m != nicsrs::DcvMethod::Email);
            report(diags, path("dcv_email"), "Invalid dcv_email", valid);
            if ignored {
                diags.attribute_warning(
                    path("dcv_email"),
                    "dcv_email is ignored",
                    format!(
                        "dcv_email is used only with dcv_method = \"EMAIL\"; this domain uses {:?}.",
                        method.map(|m| m.as_str()).unwrap_or_default()
                    ),
                );
            }
        }
    }
}

/// An error on `path` when a rule failed.
fn report(
    diags: &mut Diagnostics,
    path: AttributePath,
    title: &str,
    outcome: Result<(), rules::Problem>,
) {
    if let Err(problem) = outcome {
        diags.attribute_error(path, title, problem);
    }
}

/// The provider's private data of a planned renewal.
#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct PlanPrivate {
    /// The refId of the order the plan started from: for the create half of
    /// a replacement, the order being replaced, which is never adopted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    prior_ref_id: Option<String>,
}

impl PlanPrivate {
    fn decode(bytes: &[u8]) -> PlanPrivate {
        serde_json::from_slice(bytes).unwrap_or_default()
    }

    fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

impl CertificateRenewal {
    /// Plans the order of a create: its `ref_id` (the chosen one, or the
    /// derived one once every argument is known) and, when the API can be
    /// asked, whether an order with it exists already.
    async fn plan_order(
        &self,
        config: &Renewal,
        planned: &mut Renewal,
        replacing: Option<&str>,
        diags: &mut Diagnostics,
    ) {
        let chosen = config.ref_id.known().cloned();
        if let (Some(chosen), Some(replaced)) = (&chosen, replacing) {
            if chosen == replaced {
                let error = ordering::OrderError::NamesReplaced {
                    ref_id: chosen.clone(),
                };
                report_order_error(&error, diags);
                return;
            }
        }
        if chosen.is_none() && !config.ref_id.is_unknown() {
            planned.ref_id = Field::Unknown;
        }
        let renew_id = planned
            .renew_id
            .as_str()
            .unwrap_or("(known after apply)")
            .to_string();
        let years = planned
            .years
            .known()
            .map_or("the configured number of".into(), |y| y.to_string());
        let paid_order = |diags: &mut Diagnostics| {
            diags.warning(
                "Applying places a paid renewal order",
                format!("Creating {TYPE_NAME} renews certificate {renew_id} for {years} year(s) at NicSRS, which charges your reseller balance."),
            )
        };
        if self.checks_window(config) {
            if let (Some(renew_id), Some(client)) =
                (planned.renew_id.as_str(), self.shared.client_if_ready())
            {
                let window = lifecycle::renewal_window(&client, renew_id).await;
                if !lifecycle::report_window(&window, renew_id, diags) {
                    return;
                }
            }
        }
        // A ref_id known only after apply is the user's; apply uses it as it is.
        let chosen_later = config.ref_id.is_unknown();
        let (false, Ok(request), Some(client)) = (
            chosen_later,
            convert::renew_request(planned),
            self.shared.client_if_ready(),
        ) else {
            paid_order(diags);
            return;
        };
        let policy = match chosen {
            Some(ref_id) => ordering::RefIdPolicy::Chosen(ref_id),
            None => ordering::RefIdPolicy::Derived,
        };
        let intent = ordering::Intent {
            request: &request,
            policy,
            replacing,
        };
        match ordering::decide(&client, &intent).await {
            Ok(ordering::Decision::Place { ref_id }) => {
                planned.ref_id = Field::Known(ref_id);
                paid_order(diags);
            }
            // The create half of a replacement (taint, -replace) whose order is
            // unchanged: a destroy that cancels it makes the apply order anew,
            // one that forgets it adopts it again, so the refId is known only
            // at apply. (Terraform shows no warning from this second plan.)
            Ok(ordering::Decision::Adopt { ref_id, .. }) if replacing == Some(ref_id.as_str()) => {}
            Ok(ordering::Decision::Adopt { ref_id, cert_id }) => {
                diags.warning(
                    "Existing order will be adopted",
                    format!(
                        "NicSRS already has order {cert_id} with refId {ref_id:?} for exactly this renewal \
                         (an earlier apply placed it: its state was lost or the apply interrupted, or the \
                         resource is being replaced). Applying stores it in the state; no new order is \
                         placed. To order anew, set a new ref_id."
                    ),
                );
                planned.ref_id = Field::Known(ref_id);
            }
            Err(ordering::OrderError::Lookup(error)) => {
                log::warn!("plan-time refId lookup failed: {error}");
                paid_order(diags);
            }
            Err(error) => report_order_error(&error, diags),
        }
    }
}

impl CertificateRenewal {
    /// Plans a change of an existing order: a replacement (a new order), an
    /// in-place change of DCV, or a roll when the certificate is due.
    async fn plan_update(
        &self,
        prior: &Renewal,
        config: &Renewal,
        planned: &mut Renewal,
        plan: &mut Plan,
        diags: &mut Diagnostics,
    ) {
        // The create half of a replacement is planned next, with a null
        // prior and this private data: it must know which order it replaces.
        plan.private = PlanPrivate {
            prior_ref_id: prior.ref_id.known().cloned(),
        }
        .encode();
        warn_if_cancelled(prior, diags);
        if prior.renew_id.is_null() {
            // Imported by an earlier version, without its arguments: the
            // configuration's are adopted into state, they do not describe
            // a new order.
            plan.requires_replace.clear();
            return;
        }
        if prior.ref_id.is_null() && config.ref_id.is_null() {
            // An imported order's refId is not reported by NicSRS: it stays
            // unknown to us, and null, not a change.
            planned.ref_id = Field::Null;
            plan.requires_replace
                .retain(|path| *path != AttributePath::root("ref_id"));
        }
        let adopted = adopt_unread_arguments(prior, plan);
        if !plan.requires_replace.is_empty() {
            plan_replacement(prior, config, planned, plan, diags);
            return;
        }
        dcv::keep_unaffected_dns_records(prior, planned);
        if !adopted {
            self.plan_lifecycle(prior, planned, diags).await;
        }
    }
}

/// Rolling renewals (see [`lifecycle`]).
impl CertificateRenewal {
    /// Whether a planned create checks NicSRS's window: the resource's
    /// `check_renewal_window`, else the provider's.
    fn checks_window(&self, config: &Renewal) -> bool {
        config
            .check_renewal_window
            .known()
            .copied()
            .unwrap_or_else(|| self.shared.checks_renewal_window())
    }

    /// An update with nothing to replace: by NicSRS's clock, is the issued
    /// certificate of the current order due for a roll?
    async fn plan_lifecycle(
        &self,
        prior: &Renewal,
        planned: &mut Renewal,
        diags: &mut Diagnostics,
    ) {
        let expires = lifecycle::state_expiry(prior);
        let (Some(cert_id), Some(client)) = (prior.cert_id.as_str(), self.shared.client_if_ready())
        else {
            return;
        };
        if expires.is_none() {
            return;
        }
        let now = lifecycle::server_now(&client, cert_id).await;
        match lifecycle::due(expires, &planned.renew_before_days, now) {
            Due::Nothing => {}
            Due::WindowOpen { expires, opens } => {
                lifecycle::warn_window_open(cert_id, expires, opens, diags)
            }
            Due::Roll { expires, due } => {
                if self.plan_roll(&client, prior, planned, diags).await {
                    lifecycle::warn_roll(
                        cert_id,
                        expires,
                        due,
                        &planned.renew_before_days,
                        &planned.years,
                        now,
                        diags,
                    );
                }
            }
        }
    }

    /// Plans a roll: a new order (cert_id unknown) renewing the current
    /// one, its refId looked up as a create's is. False when an existing
    /// order of this roll will be adopted (no paid order) or on error.
    async fn plan_roll(
        &self,
        client: &nicsrs::Client,
        prior: &Renewal,
        planned: &mut Renewal,
        diags: &mut Diagnostics,
    ) -> bool {
        let old = prior.cert_id.known().cloned().unwrap_or_default();
        planned.cert_id = Field::Unknown;
        planned.id = Field::Unknown;
        planned.status = Field::Unknown;
        planned.expires_at = Field::Unknown;
        planned.ref_id = Field::Unknown;
        planned.dcv_records = dcv::planned_dcv_records(&planned.domain_info);
        planned.dns_records = dcv::planned_dns_records(&planned.domain_info);
        let mut previous = prior.previous_cert_ids.known().cloned().unwrap_or_default();
        previous.push(old.clone());
        planned.previous_cert_ids = Field::Known(previous);
        let Ok(request) = roll_request(planned, &old) else {
            return true;
        };
        let intent = ordering::Intent {
            request: &request,
            policy: ordering::RefIdPolicy::Derived,
            replacing: prior.ref_id.as_str(),
        };
        match ordering::decide(client, &intent).await {
            Ok(ordering::Decision::Place { ref_id }) => {
                planned.ref_id = Field::Known(ref_id);
                true
            }
            Ok(ordering::Decision::Adopt { ref_id, cert_id }) => {
                diags.warning(
                    "Renewal due: existing order will be adopted",
                    format!(
                        "Certificate {old} is due for renewal, and NicSRS already has order {cert_id} \
                         with refId {ref_id:?} renewing it (an earlier apply placed it and was \
                         interrupted). Applying stores it in the state; no new order is placed."
                    ),
                );
                planned.ref_id = Field::Known(ref_id);
                false
            }
            Err(ordering::OrderError::Lookup(error)) => {
                log::warn!("plan-time refId lookup of a roll failed: {error}");
                true
            }
            Err(error) => {
                report_order_error(&error, diags);
                false
            }
        }
    }

    /// Applies a roll: orders once, then stores the new order. On failure
    /// the prior state (the current order) stays.
    async fn roll(
        &self,
        client: &nicsrs::Client,
        prior: Renewal,
        planned: Renewal,
        diags: &mut Diagnostics,
    ) -> Renewal {
        let old = prior.cert_id.known().cloned().unwrap_or_default();
        let request = match roll_request(&planned, &old) {
            Ok(request) => request,
            Err(problem) => {
                diags.error(
                    "Renewal order not placed",
                    format!("The planned renewal of {old} is incomplete ({problem}). This is a bug in the provider; no order was placed."),
                );
                return prior;
            }
        };
        // The order being rolled away from is never adopted as the new one.
        self.order_into_state(client, &request, prior.ref_id.as_str(), planned, diags)
            .await
            .unwrap_or(prior)
    }

    /// Orders `request` once, as the plan showed it: a known planned refId
    /// is used exactly (a derived one included), an unknown one is derived
    /// now. Returns the planned state with the order's ids and what
    /// `/ssl/collect` reports, or `None` when no order was obtained.
    async fn order_into_state(
        &self,
        client: &nicsrs::Client,
        request: &nicsrs::RenewRequest,
        replacing: Option<&str>,
        planned: Renewal,
        diags: &mut Diagnostics,
    ) -> Option<Renewal> {
        let policy = match planned.ref_id.as_str() {
            Some(ref_id) => ordering::RefIdPolicy::Chosen(ref_id.to_string()),
            None => ordering::RefIdPolicy::Derived,
        };
        let intent = ordering::Intent {
            request,
            policy,
            replacing,
        };
        let ordered = match ordering::order_once(
            client,
            &intent,
            None,
            &self.shared.claims,
            &self.shared.ambiguity_window,
        )
        .await
        {
            Ok(ordered) => ordered,
            Err(error) => {
                report_order_error(&error, diags);
                return None;
            }
        };
        report_outcome(&ordered, diags);
        log::info!(
            "renewal of {}: order {} {}, refId {}",
            request.renew_id,
            ordered.cert_id,
            match ordered.outcome {
                ordering::Outcome::Placed => "placed",
                _ => "adopted",
            },
            ordered.ref_id
        );
        let mut state = planned;
        state.ref_id = Field::Known(ordered.ref_id);
        state.cert_id = Field::Known(ordered.cert_id.clone());
        state.id = Field::Known(ordered.cert_id.clone());
        refresh_from_order(client, &ordered.cert_id, &mut state, diags).await;
        Some(state)
    }
}

/// Required arguments an import could not read (NicSRS did not report
/// them, e.g. `years`) are null in the state: the configuration's values
/// are taken as they are, not as a change of the order. True when any was.
fn adopt_unread_arguments(prior: &Renewal, plan: &mut Plan) -> bool {
    let unread: Vec<AttributePath> = [
        ("renew_id", prior.renew_id.is_null()),
        ("years", prior.years.is_null()),
        ("csr", prior.csr.is_null()),
        ("server", prior.server.is_null()),
    ]
    .into_iter()
    .filter(|(_, null)| *null)
    .map(|(name, _)| AttributePath::root(name))
    .collect();
    plan.requires_replace.retain(|path| !unread.contains(path));
    !unread.is_empty()
}

/// The renew call of a roll: the planned arguments, renewing `cert_id`.
fn roll_request(
    planned: &Renewal,
    cert_id: &str,
) -> Result<nicsrs::RenewRequest, convert::NotReady> {
    let mut request = convert::renew_request(planned)?;
    request.renew_id = cert_id.to_string();
    Ok(request)
}

/// The first plan of a replacement: a user-chosen `ref_id` must change
/// with it, and the warning says what happens to the old order.
fn plan_replacement(
    prior: &Renewal,
    config: &Renewal,
    planned: &mut Renewal,
    plan: &Plan,
    diags: &mut Diagnostics,
) {
    let prior_ref_id = prior.ref_id.as_str();
    let cert_id = prior.cert_id.as_str().unwrap_or("?");
    if let Some(chosen) = config.ref_id.as_str() {
        if Some(chosen) == prior_ref_id {
            diags.attribute_error(
                AttributePath::root("ref_id"),
                "A replacement needs a new ref_id",
                format!(
                    "A replacement places a new order, which needs a new ref_id; {chosen:?} names order \
                     {cert_id}. Set a new ref_id (or remove it to let the provider derive one), or undo the \
                     change to {}.",
                    paths_text(&plan.requires_replace)
                ),
            );
            return;
        }
    } else {
        planned.ref_id = Field::Unknown;
    }
    let old_order = if prior.cancel_on_destroy.known() == Some(&true) {
        format!(
            "cancels order {cert_id} ({}) and places a new paid renewal order. Without \
             `lifecycle {{ create_before_destroy = true }}` the old order is cancelled before the new one \
             exists; add it so the new order is placed first.",
            status_consequence(prior)
        )
    } else {
        format!("forgets order {cert_id} (it stays at NicSRS) and places a new paid renewal order.")
    };
    diags.warning(
        "Replacement places a new paid renewal order",
        format!(
            "Changing {} cannot be done to an existing order: applying {old_order} Only dcv_method and \
             dcv_email change in place.",
            paths_text(&plan.requires_replace)
        ),
    );
}

/// A refresh found the order cancelled (outside Terraform): say so on every
/// plan, not only in `-refresh-only`, with what to do.
fn warn_if_cancelled(prior: &Renewal, diags: &mut Diagnostics) {
    if !ordering::is_cancelled(prior.status.as_str()) {
        return;
    }
    let cert_id = prior.cert_id.as_str().unwrap_or("?");
    diags.warning(
        format!("Order {cert_id} is CANCELLED at NicSRS"),
        format!(
            "NicSRS reports order {cert_id} as CANCELLED (status {}), so it will not be issued, or its \
             certificate no longer works. This resource keeps it until you act: to order again, apply with \
             -replace=<this resource's address> (a new paid order); to forget it, terraform state rm.",
            prior.status.as_str().unwrap_or_default()
        ),
    );
}

/// A destroy's warning (Terraform 1.3 and later plan destroys through us).
fn warn_destroy(prior: &Renewal, diags: &mut Diagnostics) {
    let cert_id = prior.cert_id.as_str().unwrap_or("?");
    if prior.cancel_on_destroy.known() == Some(&true) {
        diags.warning(
            format!("Destroy cancels order {cert_id}"),
            format!(
                "cancel_on_destroy = true: destroying cancels order {cert_id} at NicSRS ({}).",
                status_consequence(prior)
            ),
        );
    } else {
        diags.warning(
            format!("Destroy forgets order {cert_id}"),
            format!(
                "Destroying removes order {cert_id} from the state only; it stays at NicSRS. Set \
                 cancel_on_destroy = true to cancel it instead."
            ),
        );
    }
}

fn status_consequence(prior: &Renewal) -> String {
    match prior.status.as_str() {
        Some(codes::STATUS_COMPLETE) => "status COMPLETE: its certificate stops working".into(),
        Some(codes::STATUS_PENDING) => "status PENDING: it will never be issued".into(),
        Some(status) => format!("status {status}"),
        None => "status unknown".into(),
    }
}

fn paths_text(paths: &[AttributePath]) -> String {
    let mut names: Vec<String> = paths.iter().map(ToString::to_string).collect();
    names.sort();
    names.dedup();
    names.join(", ")
}

/// The diagnostic for an order that was not obtained. Each says whether an
/// order may exist and what the next apply does.
fn report_order_error(error: &ordering::OrderError, diags: &mut Diagnostics) {
    use ordering::OrderError as E;
    let at_ref_id = AttributePath::root("ref_id");
    match error {
        E::BadRequest(problem) => diags.attribute_error(
            AttributePath::root("csr"),
            "Invalid csr",
            format!("{problem}. No order was placed."),
        ),
        E::Lookup(error) => diags.error(
            "Cannot check for an existing order",
            format!(
                "Before ordering, the provider looks the order's refId up so that a retry never buys \
                 twice; that lookup failed ({error}). No order was placed. It is safe to apply again."
            ),
        ),
        E::Mismatch {
            ref_id,
            cert_id,
            differences,
        } => diags.attribute_error(
            at_ref_id,
            "ref_id names a different order",
            format!(
                "NicSRS order {cert_id} carries refId {ref_id:?} but differs from this renewal: {}. No \
                 order was placed. If that order is the one you want, make the configuration match it; \
                 otherwise set a ref_id that no other order uses.",
                differences
                    .iter()
                    .map(|d| format!("{} is {} there, {} here", d.field, d.order, d.wanted))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        ),
        E::Cancelled { ref_id, cert_id } => diags.attribute_error(
            at_ref_id,
            "ref_id names a cancelled order",
            format!(
                "NicSRS order {cert_id} with refId {ref_id:?} was cancelled, and a cancelled order cannot \
                 be adopted. To order again, set a new ref_id (or remove it to let the provider derive one)."
            ),
        ),
        E::NamesReplaced { ref_id } => diags.attribute_error(
            at_ref_id,
            "ref_id names the order being replaced",
            format!(
                "A replacement places a new order, which needs a new ref_id; {ref_id:?} names the order \
                 being replaced. Set a new ref_id, or remove ref_id to let the provider derive one."
            ),
        ),
        E::Claimed {
            ref_id,
            other_renew_id,
        } => diags.attribute_error(
            at_ref_id,
            "ref_id used by two resources",
            format!(
                "Another {TYPE_NAME} in this apply (renewing certificate {other_renew_id}) uses refId \
                 {ref_id:?}; one refId names one order. Give each resource its own ref_id, or remove \
                 ref_id to let the provider derive one."
            ),
        ),
        E::Moved { planned, now } => diags.attribute_error(
            at_ref_id,
            "Orders changed since the plan",
            format!(
                "The plan was made for refId {planned:?}, but NicSRS's records now call for {now:?} (an \
                 order was placed or cancelled meanwhile). No order was placed; plan and apply again."
            ),
        ),
        E::SequenceExhausted { last } => diags.attribute_error(
            at_ref_id,
            "No derived ref_id left",
            format!(
                "Every derived refId of this renewal, up to {last:?}, names an order already. No order \
                 was placed. Set ref_id explicitly."
            ),
        ),
        E::Refused(error) => diags.error("Renewal order failed", format!("{error}.")),
        E::Unconfirmed {
            ref_id,
            renew_error,
            lookup_error,
        } => {
            let lookups = match lookup_error {
                None => "no order with it was found".to_string(),
                Some(error) => format!("looking it up failed ({error})"),
            };
            diags.error(
                "Renewal order not confirmed",
                format!(
                    "The renew call did not complete ({renew_error}). It carried refId {ref_id:?}, and \
                     over the following {}s {lookups}. The order may still appear if NicSRS records it \
                     late. Applying again is safe: it looks refId {ref_id:?} up before ordering, adopts \
                     the order if it exists, and orders only if it does not.",
                    ordering::AmbiguityWindow::default().total().as_secs()
                ),
            );
        }
    }
}

/// A warning when the order was adopted rather than placed.
fn report_outcome(ordered: &ordering::Ordered, diags: &mut Diagnostics) {
    let (cert_id, ref_id) = (&ordered.cert_id, &ordered.ref_id);
    match &ordered.outcome {
        ordering::Outcome::Placed => {}
        ordering::Outcome::AdoptedExisting | ordering::Outcome::AdoptedTaken => diags.warning(
            "Existing order adopted",
            format!(
                "NicSRS already has order {cert_id} with refId {ref_id:?} for this renewal, so it was \
                 stored in the state instead of placing a second paid order."
            ),
        ),
        ordering::Outcome::Recovered { renew_error } => diags.warning(
            "Renewal order recovered",
            format!(
                "The renew call did not complete ({renew_error}), but NicSRS has order {cert_id} for \
                 refId {ref_id:?}; it was stored in the state. No second order was placed."
            ),
        ),
    }
}

/// Fills the attributes `/ssl/collect` reports: status, expiry and DCV
/// records.
fn set_order_fields(state: &mut Renewal, collected: nicsrs::CollectResponse) {
    state.expires_at = lifecycle::expires_at(&collected)
        .map(lifecycle::rfc3339)
        .into();
    state.renewal_due_at = lifecycle::renewal_due_at(&state.expires_at, &state.renew_before_days);
    state.status = collected.status.into();
    state.dcv_records = Field::Known(dcv::dcv_records(state.domains(), &collected.data));
    state.dns_records = Field::Known(dcv::dns_records(state.domains(), &collected.data));
}

/// Reads the order after create or update. A failed read is a warning,
/// never a failure of an operation whose order exists: what the plan knew
/// is kept, the rest left null until the next refresh.
async fn refresh_from_order(
    client: &nicsrs::Client,
    cert_id: &str,
    state: &mut Renewal,
    diags: &mut Diagnostics,
) {
    match client.collect(cert_id).await {
        Ok(collected) => set_order_fields(state, collected),
        Err(error) => {
            diags.warning(
                "Order details not known yet",
                format!(
                    "Order {cert_id} is saved in the state, but reading its status and validation records \
                     failed: {error}. Run `terraform apply -refresh-only` (or the next plan) to read them again."
                ),
            );
            state.status = known_or_null(&state.status);
            state.expires_at = known_or_null(&state.expires_at);
            state.renewal_due_at = known_or_null(&state.renewal_due_at);
            state.dcv_records = without_unknowns(&state.dcv_records);
            state.dns_records = without_unknowns(&state.dns_records);
        }
    }
}

fn known_or_null<T: Clone>(field: &Field<T>) -> Field<T> {
    match field {
        Field::Unknown => Field::Null,
        other => other.clone(),
    }
}

/// The plan's known parts of a computed attribute, every unknown left null.
fn without_unknowns<F: FromValue + IntoValue + Clone>(field: &F) -> F {
    let known = dcv::without_unknowns(&field.clone().into_value());
    F::from_value(&known, &AttributePath::default()).unwrap_or_else(|_| field.clone())
}

/// `/ssl/updateDCV` calls for the domains whose method or e-mail changed.
fn dcv_changes(cert_id: &str, prior: &Renewal, planned: &Renewal) -> Vec<nicsrs::UpdateDcvRequest> {
    planned
        .domains()
        .iter()
        .zip(prior.domains())
        .filter(|(after, before)| {
            after.dcv_method != before.dcv_method || after.dcv_email != before.dcv_email
        })
        .filter_map(|(after, _)| {
            Some(nicsrs::UpdateDcvRequest {
                cert_id: cert_id.to_string(),
                domain_name: after.domain_name.known().cloned(),
                dcv_method: nicsrs::DcvMethod::parse(after.dcv_method.as_str()?)?,
                dcv_email: after.dcv_email.known().cloned(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn order(
        apply_params: Option<serde_json::Value>,
        dcv_list: Vec<nicsrs::DcvEntry>,
    ) -> nicsrs::CollectResponse {
        nicsrs::CollectResponse {
            status: Some(codes::STATUS_PENDING.into()),
            data: nicsrs::CollectData {
                apply_params,
                dcv_list,
                ..nicsrs::CollectData::default()
            },
            ..nicsrs::CollectResponse::default()
        }
    }

    fn params(renew_id: Option<&str>) -> serde_json::Value {
        let mut params = json!({
            "csr": "-----BEGIN CERTIFICATE REQUEST-----\nMII\n-----END CERTIFICATE REQUEST-----\n",
            "server": "nginx",
            "domainInfo": [
                {"domainName": "example.com", "dcvMethod": "HTTP_CSR_HASH"},
                {"domainName": "www.example.com", "dcvMethod": "EMAIL", "dcvEmail": "admin@example.com"}
            ],
            "Administrator": {"job": "CTO", "lastName": "Zhang", "organation": "Example Ltd"},
            "tech": {"email": "tech@example.com"}
        });
        if let Some(renew_id) = renew_id {
            params["renewId"] = json!(renew_id);
            params["years"] = json!(2);
        }
        params
    }

    #[test]
    fn an_import_reads_what_nicsrs_reports() {
        // applyParams as a JSON string; dcvList says a method was changed since.
        let changed = nicsrs::DcvEntry {
            domain_name: Some("EXAMPLE.com".into()),
            dcv_method: Some("CNAME_CSR_HASH".into()),
            ..nicsrs::DcvEntry::default()
        };
        let collected = order(
            Some(json!(params(Some("1234567")).to_string())),
            vec![changed],
        );
        let state = imported_state("2611abc", None, &collected).expect("imported");
        assert_eq!(state.renew_id, Field::from("1234567"));
        assert_eq!(state.years, Field::Known(2.0));
        assert_eq!(state.server, Field::from("nginx"));
        assert_eq!(state.ref_id, Field::Null, "not reported");
        let domains = state.domains();
        assert_eq!(domains[0].dcv_method, Field::from("CNAME_CSR_HASH"));
        assert_eq!(domains[1].dcv_email, Field::from("admin@example.com"));
        let administrator = state.administrator.known().expect("administrator");
        assert_eq!(administrator.last_name, Field::from("Zhang"));
        assert_eq!(administrator.organization, Field::from("Example Ltd"));
        assert_eq!(administrator.city, Field::Null);
        let tech = state.tech.known().expect("tech");
        assert_eq!(tech.email, Field::from("tech@example.com"));
        assert_eq!(state.finance, Field::Null);
        assert_eq!(state.organization_info, Field::Null);
    }

    #[test]
    fn an_import_never_guesses_which_certificate_an_order_renews() {
        let unreported = order(Some(params(None)), vec![]);
        let refused = imported_state("2611abc", None, &unreported).unwrap_err();
        assert!(
            refused.contains("cannot be told apart from an original"),
            "{refused}"
        );
        assert!(
            refused.contains(r#"import it as "2611abc:RENEW_ID""#),
            "{refused}"
        );
        // Named by the user: taken, and years left to the configuration.
        let named = imported_state("2611abc", Some("1234567"), &unreported).expect("imported");
        assert_eq!(named.renew_id, Field::from("1234567"));
        assert_eq!(named.years, Field::Null);
        // An original certificate: no submitted parameters.
        let original = imported_state("1234567", None, &order(None, vec![])).unwrap_err();
        assert!(
            original.contains(r#"renew_id = "1234567" instead"#),
            "{original}"
        );
        // Contradicting NicSRS, or naming itself.
        let reported = order(Some(params(Some("1234567"))), vec![]);
        let wrong = imported_state("2611abc", Some("7654321"), &reported).unwrap_err();
        assert!(
            wrong.contains("renews certificate 1234567, not 7654321"),
            "{wrong}"
        );
        let itself = imported_state("2611abc", Some("2611abc"), &unreported).unwrap_err();
        assert!(itself.contains("cannot renew itself"), "{itself}");
    }
}
