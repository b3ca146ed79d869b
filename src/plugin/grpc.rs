//! The tfplugin6 `Provider` service: one short adapter per RPC that decodes,
//! calls the provider, and encodes. Failures go back as diagnostics, never as
//! gRPC errors, so Terraform shows them to the user.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::codec;
use super::diagnostics::{AttributePath, Diagnostic, Diagnostics, Severity, Step};
use super::plan::plan_resource_change;
use super::proto::tfplugin6 as pb;
use super::schema::{Attribute, Block, Mode, NestedBlock, Nesting, Schema};
use super::value::{Type, Value};
use super::{DataSource, Provider, Resource};

/// Serves one [`Provider`] over tfplugin6.
pub struct ProviderService {
    provider: Arc<dyn Provider>,
    resources: BTreeMap<&'static str, Arc<dyn Resource>>,
    data_sources: BTreeMap<&'static str, Arc<dyn DataSource>>,
}

impl ProviderService {
    pub fn new(provider: Arc<dyn Provider>) -> ProviderService {
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| (r.type_name(), r))
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| (d.type_name(), d))
            .collect();
        ProviderService {
            provider,
            resources,
            data_sources,
        }
    }

    fn resource(&self, type_name: &str, diags: &mut Diagnostics) -> Option<Arc<dyn Resource>> {
        let found = self.resources.get(type_name).cloned();
        if found.is_none() {
            diags.error(
                "Unknown resource type",
                format!(
                    "This provider has no resource type {type_name:?}. It offers: {}.",
                    names(self.resources.keys())
                ),
            );
        }
        found
    }

    fn data_source(&self, type_name: &str, diags: &mut Diagnostics) -> Option<Arc<dyn DataSource>> {
        let found = self.data_sources.get(type_name).cloned();
        if found.is_none() {
            diags.error(
                "Unknown data source",
                format!(
                    "This provider has no data source {type_name:?}. It offers: {}.",
                    names(self.data_sources.keys())
                ),
            );
        }
        found
    }
}

fn names<'a>(names: impl Iterator<Item = &'a &'static str>) -> String {
    let list: Vec<&str> = names.copied().collect();
    if list.is_empty() {
        "none".to_string()
    } else {
        list.join(", ")
    }
}

// ---- conversions ---------------------------------------------------------

fn decode(
    value: Option<&pb::DynamicValue>,
    ty: &Type,
    what: &str,
    diags: &mut Diagnostics,
) -> Option<Value> {
    let Some(value) = value else {
        return Some(Value::Null);
    };
    let result = if !value.msgpack.is_empty() {
        codec::decode_msgpack(&value.msgpack, ty)
    } else {
        codec::decode_json(&value.json, ty)
    };
    match result {
        Ok(v) => Some(v),
        Err(e) => {
            diags.error(
                "Invalid value from Terraform",
                format!("The {what} could not be decoded: {e}. This is a bug in the provider or in Terraform; please report it."),
            );
            None
        }
    }
}

fn encode(value: &Value, ty: &Type, diags: &mut Diagnostics) -> Option<pb::DynamicValue> {
    match codec::encode_msgpack(value, ty) {
        Ok(msgpack) => Some(pb::DynamicValue {
            msgpack,
            json: Vec::new(),
        }),
        Err(e) => {
            diags.error(
                "Provider produced an invalid value",
                format!("The value could not be encoded: {e}. This is a bug in the provider; please report it."),
            );
            None
        }
    }
}

fn diagnostics_to_proto(diags: &Diagnostics) -> Vec<pb::Diagnostic> {
    diags.iter().map(diagnostic_to_proto).collect()
}

fn diagnostic_to_proto(d: &Diagnostic) -> pb::Diagnostic {
    pb::Diagnostic {
        severity: match d.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        } as i32,
        summary: d.summary.clone(),
        detail: d.detail.clone(),
        attribute: d.path.as_ref().map(path_to_proto),
    }
}

pub(crate) fn path_to_proto(path: &AttributePath) -> pb::AttributePath {
    use pb::attribute_path::step::Selector;
    pb::AttributePath {
        steps: path
            .0
            .iter()
            .map(|step| pb::attribute_path::Step {
                selector: Some(match step {
                    Step::Attribute(name) => Selector::AttributeName(name.clone()),
                    Step::Key(key) => Selector::ElementKeyString(key.clone()),
                    Step::Index(i) => Selector::ElementKeyInt(*i),
                }),
            })
            .collect(),
    }
}

pub(crate) fn schema_to_proto(schema: &Schema) -> pb::Schema {
    pb::Schema {
        version: schema.version,
        block: Some(block_to_proto(&schema.block, schema.version)),
    }
}

fn block_to_proto(block: &Block, version: i64) -> pb::schema::Block {
    pb::schema::Block {
        version,
        attributes: block.attributes.iter().map(attribute_to_proto).collect(),
        block_types: block.blocks.iter().map(nested_block_to_proto).collect(),
        description: block.description.clone(),
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: false,
    }
}

fn attribute_to_proto(a: &Attribute) -> pb::schema::Attribute {
    pb::schema::Attribute {
        name: a.name.clone(),
        r#type: a.ty.to_json().to_string().into_bytes(),
        nested_type: None,
        description: a.description.clone(),
        required: a.mode == Mode::Required,
        optional: matches!(a.mode, Mode::Optional | Mode::OptionalComputed),
        computed: a.mode.is_computed(),
        sensitive: a.sensitive,
        description_kind: pb::StringKind::Markdown as i32,
        deprecated: false,
    }
}

fn nested_block_to_proto(b: &NestedBlock) -> pb::schema::NestedBlock {
    use pb::schema::nested_block::NestingMode;
    pb::schema::NestedBlock {
        type_name: b.name.clone(),
        block: Some(block_to_proto(&b.block, 0)),
        nesting: match b.nesting {
            Nesting::Single => NestingMode::Single,
            Nesting::List => NestingMode::List,
        } as i32,
        min_items: b.min_items,
        max_items: b.max_items,
    }
}

type Rpc<T> = Result<Response<T>, Status>;

#[tonic::async_trait]
impl pb::provider_server::Provider for ProviderService {
    async fn get_metadata(
        &self,
        _: Request<pb::get_metadata::Request>,
    ) -> Rpc<pb::get_metadata::Response> {
        Ok(Response::new(pb::get_metadata::Response {
            server_capabilities: Some(server_capabilities()),
            diagnostics: Vec::new(),
            data_sources: self
                .data_sources
                .keys()
                .map(|name| pb::get_metadata::DataSourceMetadata {
                    type_name: name.to_string(),
                })
                .collect(),
            resources: self
                .resources
                .keys()
                .map(|name| pb::get_metadata::ResourceMetadata {
                    type_name: name.to_string(),
                })
                .collect(),
        }))
    }

    async fn get_provider_schema(
        &self,
        _: Request<pb::get_provider_schema::Request>,
    ) -> Rpc<pb::get_provider_schema::Response> {
        let schemas = |entries: Vec<(&str, Schema)>| -> HashMap<String, pb::Schema> {
            entries
                .into_iter()
                .map(|(name, schema)| (name.to_string(), schema_to_proto(&schema)))
                .collect()
        };
        Ok(Response::new(pb::get_provider_schema::Response {
            provider: Some(schema_to_proto(&self.provider.schema())),
            resource_schemas: schemas(
                self.resources
                    .iter()
                    .map(|(n, r)| (*n, r.schema()))
                    .collect(),
            ),
            data_source_schemas: schemas(
                self.data_sources
                    .iter()
                    .map(|(n, d)| (*n, d.schema()))
                    .collect(),
            ),
            diagnostics: Vec::new(),
            provider_meta: Some(schema_to_proto(&Schema::new(0, Block::new("")))),
            server_capabilities: Some(server_capabilities()),
        }))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Rpc<pb::validate_provider_config::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::new();
        let ty = self.provider.schema().value_type();
        if let Some(config) = decode(
            request.config.as_ref(),
            &ty,
            "provider configuration",
            &mut diags,
        ) {
            reject_inexact_numbers(&config, &mut diags);
            self.provider
                .schema()
                .block
                .run_validators(&config, &AttributePath::default(), &mut diags);
            let checked = guard(async { self.provider.validate(&config, &mut diags) }).await;
            report_panic("ValidateProviderConfig", checked, &mut diags);
        }
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Rpc<pb::validate_resource_config::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::new();
        if let Some(resource) = self.resource(&request.type_name, &mut diags) {
            let ty = resource.schema().value_type();
            if let Some(config) = decode(
                request.config.as_ref(),
                &ty,
                "resource configuration",
                &mut diags,
            ) {
                reject_inexact_numbers(&config, &mut diags);
                resource
                    .schema()
                    .block
                    .run_validators(&config, &AttributePath::default(), &mut diags);
                let checked = guard(async { resource.validate(&config, &mut diags) }).await;
                report_panic("ValidateResourceConfig", checked, &mut diags);
            }
        }
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Rpc<pb::validate_data_resource_config::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::new();
        if let Some(data_source) = self.data_source(&request.type_name, &mut diags) {
            let ty = data_source.schema().value_type();
            if let Some(config) = decode(
                request.config.as_ref(),
                &ty,
                "data source configuration",
                &mut diags,
            ) {
                reject_inexact_numbers(&config, &mut diags);
                data_source
                    .schema()
                    .block
                    .run_validators(&config, &AttributePath::default(), &mut diags);
                let checked = guard(async { data_source.validate(&config, &mut diags) }).await;
                report_panic("ValidateDataResourceConfig", checked, &mut diags);
            }
        }
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Rpc<pb::upgrade_resource_state::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::new();
        let mut upgraded_state = None;
        if let Some(resource) = self.resource(&request.type_name, &mut diags) {
            let raw = request.raw_state.map(|r| r.json).unwrap_or_default();
            match serde_json::from_slice::<serde_json::Value>(&raw) {
                Ok(json) => {
                    let upgraded =
                        guard(async { resource.upgrade_state(request.version, &json, &mut diags) })
                            .await;
                    if let Some(Some(value)) = report_panic("UpgradeResourceState", upgraded, &mut diags) {
                        upgraded_state = encode(&value, &resource.schema().value_type(), &mut diags);
                    }
                }
                Err(e) => diags.error(
                    "Unreadable state",
                    format!("The stored state of {} is not JSON ({e}); legacy flatmap state is not supported.", request.type_name),
                ),
            }
        }
        Ok(Response::new(pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Rpc<pb::configure_provider::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::new();
        let ty = self.provider.schema().value_type();
        if let Some(config) = decode(
            request.config.as_ref(),
            &ty,
            "provider configuration",
            &mut diags,
        ) {
            let configured = guard(self.provider.configure(
                &request.terraform_version,
                &config,
                &mut diags,
            ))
            .await;
            report_panic("ConfigureProvider", configured, &mut diags);
        }
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Rpc<pb::read_resource::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::new();
        let mut new_state = request.current_state.clone();
        if let Some(resource) = self.resource(&request.type_name, &mut diags) {
            let ty = resource.schema().value_type();
            if let Some(current) = decode(
                request.current_state.as_ref(),
                &ty,
                "current state",
                &mut diags,
            ) {
                let read = guard(resource.read(&current, &mut diags)).await;
                // After a panic the state stays as it was: never dropped.
                if let Some(read) = report_panic("ReadResource", read, &mut diags) {
                    new_state = encode(&read.unwrap_or(Value::Null), &ty, &mut diags);
                }
            }
        }
        Ok(Response::new(pb::read_resource::Response {
            new_state,
            diagnostics: diagnostics_to_proto(&diags),
            private: request.private,
        }))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Rpc<pb::plan_resource_change::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::new();
        let mut response = pb::plan_resource_change::Response {
            planned_state: request.proposed_new_state.clone(),
            planned_private: request.prior_private.clone(),
            ..Default::default()
        };
        if let Some(resource) = self.resource(&request.type_name, &mut diags) {
            let schema = resource.schema();
            let ty = schema.value_type();
            let prior = decode(request.prior_state.as_ref(), &ty, "prior state", &mut diags);
            let proposed = decode(
                request.proposed_new_state.as_ref(),
                &ty,
                "proposed state",
                &mut diags,
            );
            let config = decode(request.config.as_ref(), &ty, "configuration", &mut diags);
            if let (Some(prior), Some(proposed), Some(config)) = (prior, proposed, config) {
                let plan = guard(plan_resource_change(
                    resource.as_ref(),
                    &schema,
                    &prior,
                    &proposed,
                    &config,
                    &request.prior_private,
                    &mut diags,
                ))
                .await;
                if let Some(plan) = report_panic("PlanResourceChange", plan, &mut diags) {
                    response.planned_state = encode(&plan.planned, &ty, &mut diags);
                    response.planned_private = plan.private;
                    response.requires_replace =
                        plan.requires_replace.iter().map(path_to_proto).collect();
                }
            }
        }
        response.diagnostics = diagnostics_to_proto(&diags);
        Ok(Response::new(response))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Rpc<pb::apply_resource_change::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::new();
        let mut new_state = None;
        if let Some(resource) = self.resource(&request.type_name, &mut diags) {
            let ty = resource.schema().value_type();
            let prior = decode(request.prior_state.as_ref(), &ty, "prior state", &mut diags);
            let planned = decode(
                request.planned_state.as_ref(),
                &ty,
                "planned state",
                &mut diags,
            );
            if let (Some(prior), Some(planned)) = (prior, planned) {
                let applied = guard(async {
                    if planned.is_null() {
                        resource.delete(&prior, &mut diags).await;
                        Some(Value::Null)
                    } else if prior.is_null() {
                        resource
                            .create(&planned, &request.planned_private, &mut diags)
                            .await
                    } else {
                        resource.update(&prior, &planned, &mut diags).await
                    }
                })
                .await;
                // After a panic the prior object is kept as it was.
                let Some(result) = report_panic("ApplyResourceChange", applied, &mut diags) else {
                    return Ok(Response::new(pb::apply_resource_change::Response {
                        new_state: encode(&prior, &ty, &mut diags),
                        private: request.planned_private,
                        diagnostics: diagnostics_to_proto(&diags),
                        legacy_type_system: false,
                    }));
                };
                match result {
                    Some(value) => new_state = encode(&value, &ty, &mut diags),
                    None if !diags.has_errors() => diags.error(
                        "Provider produced no result",
                        format!(
                            "{} returned no state and no error. This is a bug in the provider.",
                            request.type_name
                        ),
                    ),
                    // With errors and no object, Terraform keeps the prior state.
                    None => {}
                }
            }
        }
        Ok(Response::new(pb::apply_resource_change::Response {
            new_state,
            private: request.planned_private,
            diagnostics: diagnostics_to_proto(&diags),
            legacy_type_system: false,
        }))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Rpc<pb::import_resource_state::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::new();
        let mut imported_resources = Vec::new();
        if let Some(resource) = self.resource(&request.type_name, &mut diags) {
            let imported = guard(resource.import(&request.id, &mut diags)).await;
            if let Some(Some(value)) = report_panic("ImportResourceState", imported, &mut diags) {
                if let Some(state) = encode(&value, &resource.schema().value_type(), &mut diags) {
                    imported_resources.push(pb::import_resource_state::ImportedResource {
                        type_name: request.type_name.clone(),
                        state: Some(state),
                        private: Vec::new(),
                    });
                }
            }
        }
        Ok(Response::new(pb::import_resource_state::Response {
            imported_resources,
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Rpc<pb::read_data_source::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::new();
        let mut state = None;
        if let Some(data_source) = self.data_source(&request.type_name, &mut diags) {
            let ty = data_source.schema().value_type();
            if let Some(config) = decode(
                request.config.as_ref(),
                &ty,
                "data source configuration",
                &mut diags,
            ) {
                let read = guard(data_source.read(&config, &mut diags)).await;
                if let Some(Some(value)) = report_panic("ReadDataSource", read, &mut diags) {
                    state = encode(&value, &ty, &mut diags);
                }
            }
        }
        Ok(Response::new(pb::read_data_source::Response {
            state,
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn get_functions(
        &self,
        _: Request<pb::get_functions::Request>,
    ) -> Rpc<pb::get_functions::Response> {
        Ok(Response::new(pb::get_functions::Response::default()))
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Rpc<pb::move_resource_state::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::new();
        diags.error(
            "Moving state between resource types is not supported",
            format!(
                "{} cannot take over the state of {} ({}). Remove the `moved` block and use \
                 `terraform state rm` plus `terraform import` instead.",
                request.target_type_name, request.source_type_name, request.source_provider_address
            ),
        );
        Ok(Response::new(pb::move_resource_state::Response {
            diagnostics: diagnostics_to_proto(&diags),
            ..Default::default()
        }))
    }

    async fn stop_provider(
        &self,
        _: Request<pb::stop_provider::Request>,
    ) -> Rpc<pb::stop_provider::Response> {
        self.provider.stop();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

/// Runs provider code; a panic comes back as `Err(message)` instead of
/// unwinding into tonic, so the call answers with a diagnostic and the
/// provider keeps serving the rest of the run.
async fn guard<T>(work: impl std::future::Future<Output = T>) -> Result<T, String> {
    use futures_util::FutureExt as _;
    std::panic::AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(|panic| {
            panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_string())
        })
}

/// The value of guarded work, or an error diagnostic (and a log line) when
/// it panicked.
fn report_panic<T>(call: &str, outcome: Result<T, String>, diags: &mut Diagnostics) -> Option<T> {
    match outcome {
        Ok(value) => Some(value),
        Err(message) => {
            log::error!("{call} panicked: {message}");
            diags.error(
                "The provider hit a bug",
                format!(
                    "{call} failed inside the provider: {message}. Nothing else was affected; the state \
                     keeps what it had before this step. Please report this with the Terraform output."
                ),
            );
            None
        }
    }
}

/// Numbers are handled as 64-bit floats: one that none equals (Terraform's
/// numbers are arbitrary-precision) is refused here, at its attribute,
/// rather than rounded into a plan that no longer matches the configuration.
fn reject_inexact_numbers(config: &Value, diags: &mut Diagnostics) {
    for (path, text) in config.inexact_numbers(&AttributePath::default()) {
        let nearest = text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map_or("a smaller number".to_string(), |n| format!("{n}"));
        diags.attribute_error(
            path.clone(),
            "Number too precise",
            format!(
                "{path} = {text} cannot be held exactly: this provider's numbers are 64-bit floating point. \
                 Use a plain number such as {nearest}."
            ),
        );
    }
}

fn server_capabilities() -> pb::ServerCapabilities {
    pb::ServerCapabilities {
        // Terraform 1.3+ then plans destroys through us, so the renewal
        // can say what a destroy does to a paid order.
        plan_destroy: true,
        get_provider_schema_optional: false,
        move_resource_state: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugin::schema::Attribute;
    use pb::provider_server::Provider as _;

    struct TestProvider;

    #[tonic::async_trait]
    impl Provider for TestProvider {
        fn schema(&self) -> Schema {
            Schema::new(
                0,
                Block::new("")
                    .attribute(Attribute::optional("token", Type::String, "").sensitive()),
            )
        }
        async fn configure(&self, _: &str, _: &Value, _: &mut Diagnostics) {}
        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            Vec::new()
        }
        fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
            Vec::new()
        }
    }

    fn service() -> ProviderService {
        ProviderService::new(Arc::new(TestProvider))
    }

    fn first_error(diagnostics: &[pb::Diagnostic]) -> &pb::Diagnostic {
        diagnostics
            .iter()
            .find(|d| d.severity == pb::diagnostic::Severity::Error as i32)
            .expect("an error diagnostic")
    }

    #[tokio::test]
    async fn unknown_type_names_are_diagnostics_not_panics() {
        let plan = service()
            .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: "nope_thing".into(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(first_error(&plan.diagnostics)
            .detail
            .contains("\"nope_thing\""));
        let read = service()
            .read_data_source(Request::new(pb::read_data_source::Request {
                type_name: "nope".into(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            first_error(&read.diagnostics).summary,
            "Unknown data source"
        );
    }

    #[tokio::test]
    async fn malformed_values_from_terraform_are_diagnostics() {
        let response = service()
            .validate_provider_config(Request::new(pb::validate_provider_config::Request {
                config: Some(pb::DynamicValue {
                    msgpack: vec![0x92, 0x01],
                    json: Vec::new(),
                }),
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            first_error(&response.diagnostics).summary,
            "Invalid value from Terraform"
        );
    }

    #[tokio::test]
    async fn newer_rpcs_answer_well_formed() {
        let functions = service()
            .get_functions(Request::new(pb::get_functions::Request {}))
            .await
            .unwrap()
            .into_inner();
        assert!(functions.functions.is_empty() && functions.diagnostics.is_empty());
        let moved = service()
            .move_resource_state(Request::new(pb::move_resource_state::Request {
                source_type_name: "other_thing".into(),
                target_type_name: "nicsrs_x".into(),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert!(first_error(&moved.diagnostics)
            .detail
            .contains("other_thing"));
        let metadata = service()
            .get_metadata(Request::new(pb::get_metadata::Request {}))
            .await
            .unwrap()
            .into_inner();
        assert!(metadata.resources.is_empty());
    }

    #[tokio::test]
    async fn schema_marks_sensitive_attributes_and_uses_json_types() {
        let schema = service()
            .get_provider_schema(Request::new(pb::get_provider_schema::Request {}))
            .await
            .unwrap()
            .into_inner();
        let block = schema.provider.unwrap().block.unwrap();
        assert!(block.attributes[0].sensitive);
        assert_eq!(block.attributes[0].r#type, b"\"string\"");
    }

    #[test]
    fn attribute_paths_become_protocol_steps() {
        use pb::attribute_path::step::Selector;
        let path = path_to_proto(
            &AttributePath::root("domain_info")
                .index(2)
                .attribute("dcv_email"),
        );
        let steps: Vec<_> = path
            .steps
            .into_iter()
            .map(|s| s.selector.unwrap())
            .collect();
        assert_eq!(
            steps,
            vec![
                Selector::AttributeName("domain_info".into()),
                Selector::ElementKeyInt(2),
                Selector::AttributeName("dcv_email".into()),
            ]
        );
    }

    /// A resource whose code panics: the only way to reach these paths.
    struct Panicky;

    #[tonic::async_trait]
    impl Resource for Panicky {
        fn type_name(&self) -> &'static str {
            "test_panicky"
        }
        fn schema(&self) -> Schema {
            Schema::new(
                0,
                Block::new("").attribute(Attribute::optional("name", Type::String, "")),
            )
        }
        async fn modify_plan(
            &self,
            _: &crate::plugin::PlanChange<'_>,
            _: &mut crate::plugin::Plan,
            _: &mut Diagnostics,
        ) {
            panic!("planning exploded");
        }
        async fn create(&self, _: &Value, _: &[u8], _: &mut Diagnostics) -> Option<Value> {
            panic!("create exploded")
        }
        async fn read(&self, _: &Value, _: &mut Diagnostics) -> Option<Value> {
            // A formatted message: the panic carries a String, not a &str.
            panic!("{} exploded", "read")
        }
        async fn update(&self, _: &Value, _: &Value, _: &mut Diagnostics) -> Option<Value> {
            panic!("update exploded")
        }
        async fn delete(&self, _: &Value, _: &mut Diagnostics) {
            panic!("delete exploded")
        }
    }

    struct PanickyProvider;

    #[tonic::async_trait]
    impl Provider for PanickyProvider {
        fn schema(&self) -> Schema {
            Schema::new(0, Block::new(""))
        }
        async fn configure(&self, _: &str, _: &Value, _: &mut Diagnostics) {}
        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            vec![Arc::new(Panicky)]
        }
        fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
            Vec::new()
        }
    }

    #[tokio::test]
    async fn a_panic_is_an_error_diagnostic_and_the_provider_keeps_serving() {
        let service = ProviderService::new(Arc::new(PanickyProvider));
        let ty = Panicky.schema().value_type();
        let object = |name: &str| {
            codec::encode_msgpack(&Value::object([("name", name.into())]), &ty)
                .map(|msgpack| pb::DynamicValue {
                    msgpack,
                    json: Vec::new(),
                })
                .ok()
        };
        let plan = service
            .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: "test_panicky".into(),
                prior_state: object("a"),
                proposed_new_state: object("b"),
                config: object("b"),
                ..Default::default()
            }))
            .await
            .expect("an answer, not a gRPC error")
            .into_inner();
        let error = first_error(&plan.diagnostics);
        assert_eq!(error.summary, "The provider hit a bug");
        assert!(
            error
                .detail
                .contains("PlanResourceChange failed inside the provider: planning exploded"),
            "{}",
            error.detail
        );

        // The same service answers the next calls; a failed read keeps the state.
        let read = service
            .read_resource(Request::new(pb::read_resource::Request {
                type_name: "test_panicky".into(),
                current_state: object("a"),
                ..Default::default()
            }))
            .await
            .expect("an answer")
            .into_inner();
        assert!(first_error(&read.diagnostics)
            .detail
            .contains("read exploded"));
        assert_eq!(read.new_state, object("a"), "never dropped by a panic");
        let update = service
            .apply_resource_change(Request::new(pb::apply_resource_change::Request {
                type_name: "test_panicky".into(),
                prior_state: object("a"),
                planned_state: object("b"),
                config: object("b"),
                ..Default::default()
            }))
            .await
            .expect("an answer")
            .into_inner();
        assert!(first_error(&update.diagnostics)
            .detail
            .contains("update exploded"));
        assert_eq!(update.new_state, object("a"), "the prior object is kept");
    }
}
