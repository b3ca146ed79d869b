//! The tfplugin6 `Provider` service: one short adapter per RPC that decodes,
//! calls the provider, and encodes. Failures go back as diagnostics, never as
//! gRPC errors, so Terraform shows them to the user.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tonic::{Request, Response, Status};

use super::codec;
use super::diagnostics::{AttributePath, Diagnostic, Diagnostics, Severity, Step};
use super::identity::{self, IdentitySchema};
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
    /// Set once Terraform asked for the identity schemas (1.12 and later
    /// do, right after the provider schema, in every provider process).
    /// Until then no response carries identity data: an older Terraform
    /// would have no identity schema to read it with.
    identity_enabled: AtomicBool,
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
            identity_enabled: AtomicBool::new(false),
        }
    }

    /// The identity schema of a resource; `None` without identity, or when
    /// the declaration is invalid (reported by GetResourceIdentitySchemas).
    fn identity_schema(resource: &dyn Resource) -> Option<IdentitySchema> {
        IdentitySchema::of(
            resource.type_name(),
            resource.identity(),
            &resource.schema(),
        )
        .ok()
        .flatten()
    }

    /// Identity data to send with `state`: `None` when Terraform does not
    /// read identities, the resource has none, or the state does not know it.
    fn identity_of(
        &self,
        resource: &dyn Resource,
        state: &Value,
        diags: &mut Diagnostics,
    ) -> Option<pb::ResourceIdentityData> {
        if !self.identity_enabled.load(Ordering::Relaxed) {
            return None;
        }
        let schema = Self::identity_schema(resource)?;
        encode_identity(&schema, schema.from_state(state)?, diags)
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

fn encode_identity(
    schema: &IdentitySchema,
    identity: Value,
    diags: &mut Diagnostics,
) -> Option<pb::ResourceIdentityData> {
    encode(&identity, &schema.value_type(), diags).map(|data| pb::ResourceIdentityData {
        identity_data: Some(data),
    })
}

fn identity_schema_to_proto(schema: &IdentitySchema) -> pb::ResourceIdentitySchema {
    pb::ResourceIdentitySchema {
        version: identity::VERSION,
        identity_attributes: schema
            .attributes
            .iter()
            .map(|a| pb::resource_identity_schema::IdentityAttribute {
                name: a.name.clone(),
                r#type: a.ty.to_json().to_string().into_bytes(),
                // Each attribute names part of the object: import needs all.
                required_for_import: true,
                optional_for_import: false,
                description: a.description.clone(),
            })
            .collect(),
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
            let provider = &self.provider;
            check_config(
                "ValidateProviderConfig",
                &provider.schema().block,
                &config,
                &mut diags,
                |diags| provider.validate(&config, diags),
            )
            .await;
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
                check_config(
                    "ValidateResourceConfig",
                    &resource.schema().block,
                    &config,
                    &mut diags,
                    |diags| resource.validate(&config, diags),
                )
                .await;
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
                check_config(
                    "ValidateDataResourceConfig",
                    &data_source.schema().block,
                    &config,
                    &mut diags,
                    |diags| data_source.validate(&config, diags),
                )
                .await;
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
        let mut new_identity = request.current_identity.clone();
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
                    let read = read.unwrap_or(Value::Null);
                    new_state = encode(&read, &ty, &mut diags);
                    new_identity = self.identity_of(resource.as_ref(), &read, &mut diags);
                }
            }
        }
        Ok(Response::new(pb::read_resource::Response {
            new_state,
            diagnostics: diagnostics_to_proto(&diags),
            private: request.private,
            new_identity,
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
                    if self.identity_enabled.load(Ordering::Relaxed) {
                        if let Some(schema) = Self::identity_schema(resource.as_ref()) {
                            if let Some(identity) = schema.planned(&prior, &plan.planned) {
                                response.planned_identity =
                                    encode_identity(&schema, identity, &mut diags);
                            }
                        }
                    }
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
        let mut new_identity = None;
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
                        new_identity: self.identity_of(resource.as_ref(), &prior, &mut diags),
                        diagnostics: diagnostics_to_proto(&diags),
                        legacy_type_system: false,
                    }));
                };
                match result {
                    Some(value) => {
                        new_state = encode(&value, &ty, &mut diags);
                        new_identity = self.identity_of(resource.as_ref(), &value, &mut diags);
                    }
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
            new_identity,
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
            let by_identity = request
                .identity
                .as_ref()
                .and_then(|identity| identity.identity_data.as_ref());
            let imported = match by_identity {
                // `import { identity = { … } }` (Terraform 1.12 and later).
                Some(data) => {
                    let Some(schema) = Self::identity_schema(resource.as_ref()) else {
                        diags.error(
                            "Import by identity not supported",
                            format!(
                                "{} has no resource identity; import it by ID instead.",
                                request.type_name
                            ),
                        );
                        return Ok(Response::new(pb::import_resource_state::Response {
                            diagnostics: diagnostics_to_proto(&diags),
                            ..Default::default()
                        }));
                    };
                    // Terraform sent identity data: it reads identities.
                    self.identity_enabled.store(true, Ordering::Relaxed);
                    match decode(
                        Some(data),
                        &schema.value_type(),
                        "import identity",
                        &mut diags,
                    ) {
                        Some(identity) => {
                            guard(resource.import_by_identity(&identity, &mut diags)).await
                        }
                        None => Ok(None),
                    }
                }
                None => guard(resource.import(&request.id, &mut diags)).await,
            };
            if let Some(Some(value)) = report_panic("ImportResourceState", imported, &mut diags) {
                if let Some(state) = encode(&value, &resource.schema().value_type(), &mut diags) {
                    let identity = self.identity_of(resource.as_ref(), &value, &mut diags);
                    if by_identity.is_some() && identity.is_none() && !diags.has_errors() {
                        diags.error(
                            "Imported object has no identity",
                            format!(
                                "{} imported an object whose identity attributes are not all set. \
                                 This is a bug in the provider; please report it.",
                                request.type_name
                            ),
                        );
                    }
                    imported_resources.push(pb::import_resource_state::ImportedResource {
                        type_name: request.type_name.clone(),
                        state: Some(state),
                        private: Vec::new(),
                        identity,
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

    async fn get_resource_identity_schemas(
        &self,
        _: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Rpc<pb::get_resource_identity_schemas::Response> {
        self.identity_enabled.store(true, Ordering::Relaxed);
        let mut diags = Diagnostics::new();
        let mut identity_schemas = HashMap::new();
        for (name, resource) in &self.resources {
            match IdentitySchema::of(name, resource.identity(), &resource.schema()) {
                Ok(Some(schema)) => {
                    identity_schemas.insert(name.to_string(), identity_schema_to_proto(&schema));
                }
                Ok(None) => {}
                Err(problem) => diags.error(
                    "Invalid resource identity",
                    format!("{problem} This is a bug in the provider; please report it."),
                ),
            }
        }
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            identity_schemas,
            diagnostics: diagnostics_to_proto(&diags),
        }))
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Rpc<pb::upgrade_resource_identity::Response> {
        let request = request.into_inner();
        let mut diags = Diagnostics::new();
        let mut upgraded_identity = None;
        if let Some(resource) = self.resource(&request.type_name, &mut diags) {
            match Self::identity_schema(resource.as_ref()) {
                None => diags.error(
                    "No resource identity",
                    format!(
                        "{} has no resource identity, yet the state holds one. Remove the \
                         resource from the state and import it again.",
                        request.type_name
                    ),
                ),
                Some(schema) => {
                    let raw = request.raw_identity.map(|r| r.json).unwrap_or_default();
                    let upgraded = serde_json::from_slice::<serde_json::Value>(&raw)
                        .map_err(|e| {
                            format!(
                                "The stored identity of {} is not JSON ({e}).",
                                request.type_name
                            )
                        })
                        .and_then(|json| {
                            schema.upgrade(&request.type_name, request.version, &json)
                        });
                    match upgraded {
                        Ok(identity) => {
                            upgraded_identity = encode_identity(&schema, identity, &mut diags)
                        }
                        Err(problem) => diags.error("Unreadable resource identity", problem),
                    }
                }
            }
        }
        Ok(Response::new(pb::upgrade_resource_identity::Response {
            upgraded_identity,
            diagnostics: diagnostics_to_proto(&diags),
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
/// True when it refused any.
/// The checks of a configuration: exact numbers, then each attribute's
/// validators, then the object's own checks across attributes (guarded
/// against a panic like every call into the provider).
async fn check_config(
    call: &str,
    block: &crate::Block,
    config: &Value,
    diags: &mut Diagnostics,
    own_checks: impl FnOnce(&mut Diagnostics),
) {
    // The model cannot hold such a number: the rest would only repeat the
    // error as a provider bug.
    if reject_inexact_numbers(config, diags) {
        return;
    }
    block.run_validators(config, &AttributePath::default(), diags);
    let checked = guard(async { own_checks(diags) }).await;
    report_panic(call, checked, diags);
}

fn reject_inexact_numbers(config: &Value, diags: &mut Diagnostics) -> bool {
    let inexact = config.inexact_numbers(&AttributePath::default());
    let found = !inexact.is_empty();
    for (path, text) in inexact {
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
    found
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
    use crate::schema::Attribute;
    use pb::provider_server::Provider as _;

    struct TestProvider;

    #[tonic::async_trait]
    impl Provider for TestProvider {
        fn about(&self) -> crate::About {
            crate::About {
                source: "example/example",
                title: "a test provider",
                log_targets: &[],
            }
        }

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
                target_type_name: "example_x".into(),
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
            _: &crate::PlanChange<'_>,
            _: &mut crate::Plan,
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
        fn about(&self) -> crate::About {
            crate::About {
                source: "example/example",
                title: "a test provider",
                log_targets: &[],
            }
        }

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

    /// A resource identified by its computed `cert_id`, which a change of
    /// `name` renews (as a rolling renewal does).
    struct Ordered;

    #[tonic::async_trait]
    impl Resource for Ordered {
        fn type_name(&self) -> &'static str {
            "test_ordered"
        }
        fn schema(&self) -> Schema {
            Schema::new(
                0,
                Block::new("")
                    .attribute(Attribute::required("name", Type::String, ""))
                    .attribute(Attribute::computed("cert_id", Type::String, "The order.")),
            )
        }
        fn identity(&self) -> &'static [&'static str] {
            &["cert_id"]
        }
        async fn create(&self, planned: &Value, _: &[u8], _: &mut Diagnostics) -> Option<Value> {
            let mut state = planned.clone();
            let name = planned.get("name").as_str().unwrap_or_default();
            state.set("cert_id", format!("c-{name}").into());
            Some(state)
        }
        async fn read(&self, state: &Value, _: &mut Diagnostics) -> Option<Value> {
            (state.get("cert_id").as_str() != Some("gone")).then(|| state.clone())
        }
        async fn update(&self, _: &Value, planned: &Value, d: &mut Diagnostics) -> Option<Value> {
            self.create(planned, &[], d).await
        }
        async fn delete(&self, _: &Value, _: &mut Diagnostics) {}
        async fn import(&self, id: &str, _: &mut Diagnostics) -> Option<Value> {
            Some(Value::object([
                ("name", "imported".into()),
                ("cert_id", id.into()),
            ]))
        }
    }

    /// The same without identity, and one whose declaration is wrong.
    struct Plain(&'static [&'static str]);

    #[tonic::async_trait]
    impl Resource for Plain {
        fn type_name(&self) -> &'static str {
            if self.0.is_empty() {
                "test_plain"
            } else {
                "test_broken"
            }
        }
        fn schema(&self) -> Schema {
            Ordered.schema()
        }
        fn identity(&self) -> &'static [&'static str] {
            self.0
        }
        async fn create(&self, p: &Value, _: &[u8], d: &mut Diagnostics) -> Option<Value> {
            Ordered.create(p, &[], d).await
        }
        async fn read(&self, state: &Value, d: &mut Diagnostics) -> Option<Value> {
            Ordered.read(state, d).await
        }
        async fn update(&self, _: &Value, p: &Value, d: &mut Diagnostics) -> Option<Value> {
            Ordered.create(p, &[], d).await
        }
        async fn delete(&self, _: &Value, _: &mut Diagnostics) {}
        async fn import(&self, id: &str, d: &mut Diagnostics) -> Option<Value> {
            Ordered.import(id, d).await
        }
    }

    struct IdentityProvider(bool);

    #[tonic::async_trait]
    impl Provider for IdentityProvider {
        fn about(&self) -> crate::About {
            crate::About {
                source: "example/example",
                title: "a test provider",
                log_targets: &[],
            }
        }

        fn schema(&self) -> Schema {
            Schema::new(0, Block::new(""))
        }
        async fn configure(&self, _: &str, _: &Value, _: &mut Diagnostics) {}
        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            let mut resources: Vec<Arc<dyn Resource>> =
                vec![Arc::new(Ordered), Arc::new(Plain(&[]))];
            if self.0 {
                resources.push(Arc::new(Plain(&["nope"])));
            }
            resources
        }
        fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
            Vec::new()
        }
    }

    fn state(name: &str, cert_id: Value) -> Option<pb::DynamicValue> {
        let value = Value::object([("name", name.into()), ("cert_id", cert_id)]);
        encode(
            &value,
            &Ordered.schema().value_type(),
            &mut Diagnostics::new(),
        )
    }

    fn identity_data(cert_id: &str) -> Option<pb::ResourceIdentityData> {
        let ty = Type::object([("cert_id", Type::String)]);
        let value = Value::object([("cert_id", cert_id.into())]);
        encode(&value, &ty, &mut Diagnostics::new()).map(|data| pb::ResourceIdentityData {
            identity_data: Some(data),
        })
    }

    async fn identity_schemas(
        service: &ProviderService,
    ) -> pb::get_resource_identity_schemas::Response {
        service
            .get_resource_identity_schemas(Request::new(
                pb::get_resource_identity_schemas::Request {},
            ))
            .await
            .unwrap()
            .into_inner()
    }

    async fn read(
        service: &ProviderService,
        type_name: &str,
        cert_id: &str,
    ) -> pb::read_resource::Response {
        service
            .read_resource(Request::new(pb::read_resource::Request {
                type_name: type_name.into(),
                current_state: state("web", cert_id.into()),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner()
    }

    async fn plan(
        service: &ProviderService,
        prior: Option<pb::DynamicValue>,
        name: &str,
    ) -> pb::plan_resource_change::Response {
        service
            .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: "test_ordered".into(),
                // As Terraform proposes: computed values kept from the prior state.
                proposed_new_state: state(
                    name,
                    decode(
                        prior.as_ref(),
                        &Ordered.schema().value_type(),
                        "",
                        &mut Diagnostics::new(),
                    )
                    .map_or(Value::Null, |p| p.get("cert_id").clone()),
                ),
                prior_state: prior,
                config: state(name, Value::Null),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner()
    }

    async fn apply(
        service: &ProviderService,
        prior: Option<pb::DynamicValue>,
        planned: Option<pb::DynamicValue>,
    ) -> pb::apply_resource_change::Response {
        service
            .apply_resource_change(Request::new(pb::apply_resource_change::Request {
                type_name: "test_ordered".into(),
                prior_state: prior,
                planned_state: planned,
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner()
    }

    async fn import(
        service: &ProviderService,
        type_name: &str,
        id: &str,
        identity: Option<pb::ResourceIdentityData>,
    ) -> pb::import_resource_state::Response {
        service
            .import_resource_state(Request::new(pb::import_resource_state::Request {
                type_name: type_name.into(),
                id: id.into(),
                identity,
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner()
    }

    #[tokio::test]
    async fn identity_schemas_list_the_declared_attributes_with_their_schema_types() {
        let service = ProviderService::new(Arc::new(IdentityProvider(false)));
        let response = identity_schemas(&service).await;
        assert!(
            response.diagnostics.is_empty(),
            "{:?}",
            response.diagnostics
        );
        assert_eq!(response.identity_schemas.len(), 1, "test_plain has none");
        let schema = &response.identity_schemas["test_ordered"];
        assert_eq!(schema.version, 0);
        let attribute = &schema.identity_attributes[0];
        assert_eq!(
            (attribute.name.as_str(), attribute.r#type.as_slice()),
            ("cert_id", &b"\"string\""[..])
        );
        assert!(attribute.required_for_import && !attribute.optional_for_import);
        assert_eq!(attribute.description, "The order.");

        let broken =
            identity_schemas(&ProviderService::new(Arc::new(IdentityProvider(true)))).await;
        assert!(first_error(&broken.diagnostics)
            .detail
            .contains("test_broken declares identity attribute \"nope\""));
    }

    #[tokio::test]
    async fn no_identity_is_sent_to_a_terraform_that_never_asked_for_identity_schemas() {
        // Terraform before 1.12 (e.g. 1.0.3) never calls GetResourceIdentitySchemas.
        let service = ProviderService::new(Arc::new(IdentityProvider(false)));
        assert_eq!(
            read(&service, "test_ordered", "c-web").await.new_identity,
            None
        );
        let planned = plan(&service, state("web", "c-web".into()), "www").await;
        assert!(planned.diagnostics.is_empty(), "{:?}", planned.diagnostics);
        assert_eq!(planned.planned_identity, None);
        let created = apply(&service, None, state("web", Value::Unknown)).await;
        assert!(created.new_state.is_some());
        assert_eq!(created.new_identity, None);
        let imported = import(&service, "test_ordered", "c-1", None).await;
        assert_eq!(imported.imported_resources[0].identity, None);
    }

    #[tokio::test]
    async fn identity_follows_the_state_through_read_plan_apply_and_import() {
        let service = ProviderService::new(Arc::new(IdentityProvider(false)));
        identity_schemas(&service).await;

        assert_eq!(
            read(&service, "test_ordered", "c-web").await.new_identity,
            identity_data("c-web")
        );
        assert_eq!(
            read(&service, "test_ordered", "gone").await.new_identity,
            None,
            "removed"
        );
        assert_eq!(
            read(&service, "test_plain", "c-web").await.new_identity,
            None,
            "no identity"
        );

        // Create: the ID is unknown until apply, so no identity is planned.
        let create = plan(&service, None, "web").await;
        assert!(create.diagnostics.is_empty(), "{:?}", create.diagnostics);
        assert_eq!(create.planned_identity, None);
        let created = apply(&service, None, create.planned_state).await;
        assert_eq!(created.new_identity, identity_data("c-web"));

        // An update that keeps the ID plans the same identity.
        let same = plan(&service, state("web", "c-web".into()), "web").await;
        assert_eq!(same.planned_identity, identity_data("c-web"));
        // An update that renews plans the prior, known identity; apply
        // answers with the new one.
        let roll = plan(&service, state("web", "c-web".into()), "www").await;
        assert_eq!(roll.planned_identity, identity_data("c-web"));
        let rolled = apply(&service, state("web", "c-web".into()), roll.planned_state).await;
        assert_eq!(rolled.new_identity, identity_data("c-www"));

        // Destroy: planned with the prior identity, applied to none.
        let destroy = service
            .plan_resource_change(Request::new(pb::plan_resource_change::Request {
                type_name: "test_ordered".into(),
                prior_state: state("web", "c-web".into()),
                ..Default::default()
            }))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(destroy.planned_identity, identity_data("c-web"));
        let destroyed = apply(&service, state("web", "c-web".into()), None).await;
        assert_eq!(destroyed.new_identity, None);

        let by_id = import(&service, "test_ordered", "c-1", None).await;
        assert_eq!(by_id.imported_resources[0].identity, identity_data("c-1"));
    }

    #[tokio::test]
    async fn import_by_identity_is_the_import_by_id_of_its_single_attribute() {
        let service = ProviderService::new(Arc::new(IdentityProvider(false)));
        let response = import(&service, "test_ordered", "", identity_data("c-7")).await;
        assert!(
            response.diagnostics.is_empty(),
            "{:?}",
            response.diagnostics
        );
        let imported = &response.imported_resources[0];
        assert_eq!(imported.identity, identity_data("c-7"));
        assert_eq!(imported.state, state("imported", "c-7".into()));

        let empty = import(&service, "test_ordered", "", identity_data(" ")).await;
        assert!(empty.imported_resources.is_empty());
        assert!(first_error(&empty.diagnostics)
            .detail
            .contains("identity.cert_id is empty"));

        let plain = import(&service, "test_plain", "", identity_data("c-7")).await;
        assert!(plain.imported_resources.is_empty());
        assert_eq!(
            first_error(&plain.diagnostics).summary,
            "Import by identity not supported"
        );
    }

    #[tokio::test]
    async fn stored_identity_is_upgraded_from_version_0_only() {
        let service = ProviderService::new(Arc::new(IdentityProvider(false)));
        let upgrade = |type_name: &str, version: i64, json: &str| {
            service.upgrade_resource_identity(Request::new(
                pb::upgrade_resource_identity::Request {
                    type_name: type_name.into(),
                    version,
                    raw_identity: Some(pb::RawState {
                        json: json.as_bytes().to_vec(),
                        flatmap: HashMap::new(),
                    }),
                },
            ))
        };
        let ok = upgrade("test_ordered", 0, r#"{"cert_id":"c-1"}"#)
            .await
            .unwrap()
            .into_inner();
        assert!(ok.diagnostics.is_empty(), "{:?}", ok.diagnostics);
        assert_eq!(ok.upgraded_identity, identity_data("c-1"));
        for (type_name, version, json, expected) in [
            (
                "test_ordered",
                1,
                r#"{"cert_id":"c-1"}"#,
                "identity version 1",
            ),
            ("test_ordered", 0, "{", "is not JSON"),
            (
                "test_plain",
                0,
                r#"{"cert_id":"c-1"}"#,
                "has no resource identity",
            ),
        ] {
            let failed = upgrade(type_name, version, json)
                .await
                .unwrap()
                .into_inner();
            assert_eq!(failed.upgraded_identity, None);
            assert!(
                first_error(&failed.diagnostics).detail.contains(expected),
                "{expected}: {:?}",
                failed.diagnostics
            );
        }
    }
}
