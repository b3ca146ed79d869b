//! An in-process Terraform for tests: serves a [`Provider`] over tfplugin6
//! on an in-memory stream (`tokio::io::duplex`; no socket, no TLS, no
//! Terraform binary) and drives it with the calls Terraform makes, in the
//! order it makes them, so validation and planning are table-tested in
//! milliseconds.
//!
//! Values go in and come out as [`Value`]s, encoded and decoded with our
//! codec against the schema the provider announced over the wire, exactly
//! as they would be for Terraform. What Terraform itself adds is done here
//! too, as Terraform does it:
//! - the proposed new state ([`proposed_new`]): configuration, with computed
//!   attributes the configuration leaves null carried over from the prior
//!   state, nested list blocks paired by index;
//! - a plan with replace paths is planned again with a null prior state and
//!   the first plan's private data (the create half of the replacement);
//! - diagnostics come back with their attribute paths.
//!
//! Checks of Terraform's own (required arguments, attribute types, HCL) are
//! not reproduced: those stay in the end-to-end tests. Nor is resource
//! identity: the harness is a Terraform that did not ask for identity
//! schemas (as 1.0.3), so requests carry none.
//!
//! A normal public module, not `cfg(test)`, so tests of other crates can use
//! it; it adds no dependency the server side does not already pull in.

use std::collections::BTreeMap;
use std::sync::Arc;

use hyper_util::rt::TokioIo;
use tonic::transport::{Channel, Endpoint, Server, Uri};

use super::diagnostics::{AttributePath, Diagnostic, Severity, Step};
use super::grpc::ProviderService;
use super::proto::tfplugin6 as pb;
use super::value::{Type, Value};
use super::{codec, Provider};

/// The Terraform version the harness claims to be in `ConfigureProvider`.
pub const TERRAFORM_VERSION: &str = "1.15.5";

type Client = pb::provider_client::ProviderClient<Channel>;

/// A provider served in-process, and a client that speaks to it as
/// Terraform does. Dropping it stops the server.
pub struct Harness {
    client: Client,
    schemas: pb::get_provider_schema::Response,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Harness {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// What a plan returned: for a replacement, the create half's plan with the
/// replace paths of the first one.
#[derive(Debug, Clone)]
pub struct Planned {
    pub planned: Value,
    /// Sorted as the provider sent them.
    pub requires_replace: Vec<AttributePath>,
    pub private: Vec<u8>,
    /// Of both plans, for a replacement.
    pub diagnostics: Vec<Diagnostic>,
}

impl Planned {
    pub fn replaces(&self) -> bool {
        !self.requires_replace.is_empty()
    }
}

/// What an apply, a read or an import returned.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Null when the provider returned no object.
    pub state: Value,
    pub private: Vec<u8>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Harness {
    /// Serves `provider` and, as Terraform does first, reads its schemas.
    pub async fn start(provider: Arc<dyn Provider>) -> Harness {
        let (client_io, server_io) = tokio::io::duplex(1 << 20);
        let service = pb::provider_server::ProviderServer::new(ProviderService::new(provider))
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        let server = tokio::spawn(async move {
            let incoming = tokio_stream::once(Ok::<_, std::io::Error>(server_io));
            // Ends when the client side is dropped.
            let _ = Server::builder()
                .add_service(service)
                .serve_with_incoming(incoming)
                .await;
        });
        // The URI is never dialled: the connector hands out the one stream.
        let mut client_io = Some(client_io);
        let channel = Endpoint::from_static("http://in-process.invalid")
            .connect_with_connector(tower::service_fn(move |_: Uri| {
                let io = client_io.take();
                async move {
                    io.map(TokioIo::new).ok_or_else(|| {
                        std::io::Error::other("the in-process provider takes one connection")
                    })
                }
            }))
            .await
            .expect("connect to the in-process provider");
        let mut client = Client::new(channel)
            .max_decoding_message_size(usize::MAX)
            .max_encoding_message_size(usize::MAX);
        let schemas = client
            .get_provider_schema(pb::get_provider_schema::Request {})
            .await
            .expect("GetProviderSchema")
            .into_inner();
        Harness {
            client,
            schemas,
            server,
        }
    }

    /// The `GetProviderSchema` answer, as the provider sent it.
    pub fn schemas(&self) -> &pb::get_provider_schema::Response {
        &self.schemas
    }

    /// The schema of a resource type; panics on a type the provider lacks.
    pub fn resource_schema(&self, type_name: &str) -> &pb::schema::Block {
        self.schemas
            .resource_schemas
            .get(type_name)
            .and_then(|s| s.block.as_ref())
            .unwrap_or_else(|| panic!("the provider has no resource {type_name:?}"))
    }

    fn provider_schema(&self) -> &pb::schema::Block {
        self.schemas
            .provider
            .as_ref()
            .and_then(|s| s.block.as_ref())
            .expect("the provider schema")
    }

    pub async fn validate_provider_config(&mut self, config: &Value) -> Vec<Diagnostic> {
        let config = Some(encode(config, self.provider_schema()));
        let response = self
            .client
            .validate_provider_config(pb::validate_provider_config::Request { config })
            .await
            .expect("ValidateProviderConfig")
            .into_inner();
        diagnostics(&response.diagnostics)
    }

    pub async fn configure(&mut self, config: &Value) -> Vec<Diagnostic> {
        let config = Some(encode(config, self.provider_schema()));
        let response = self
            .client
            .configure_provider(pb::configure_provider::Request {
                terraform_version: TERRAFORM_VERSION.to_string(),
                config,
                client_capabilities: None,
            })
            .await
            .expect("ConfigureProvider")
            .into_inner();
        diagnostics(&response.diagnostics)
    }

    pub async fn validate_resource_config(
        &mut self,
        type_name: &str,
        config: &Value,
    ) -> Vec<Diagnostic> {
        let config = Some(encode(config, self.resource_schema(type_name)));
        let response = self
            .client
            .validate_resource_config(pb::validate_resource_config::Request {
                type_name: type_name.to_string(),
                config,
                client_capabilities: None,
            })
            .await
            .expect("ValidateResourceConfig")
            .into_inner();
        diagnostics(&response.diagnostics)
    }

    /// `PlanResourceChange` as Terraform calls it: the proposed new state
    /// is worked out from `prior` and `config`; when the provider answers
    /// with replace paths, the create half is planned again with a null
    /// prior state and the first plan's private data (unless the first
    /// plan failed). A null `config` plans a destroy.
    pub async fn plan(
        &mut self,
        type_name: &str,
        prior: &Value,
        config: &Value,
        prior_private: &[u8],
    ) -> Planned {
        let schema = self.resource_schema(type_name).clone();
        let first = self
            .plan_once(type_name, &schema, prior, config, prior_private)
            .await;
        // Terraform stops at a plan with errors; it plans the create half
        // only of a replacement that planned cleanly.
        if prior.is_null()
            || config.is_null()
            || first.requires_replace.is_empty()
            || !errors(&first.diagnostics).is_empty()
        {
            return first;
        }
        let second = self
            .plan_once(type_name, &schema, &Value::Null, config, &first.private)
            .await;
        let mut diagnostics = first.diagnostics;
        diagnostics.extend(second.diagnostics);
        Planned {
            planned: second.planned,
            requires_replace: first.requires_replace,
            private: second.private,
            diagnostics,
        }
    }

    async fn plan_once(
        &mut self,
        type_name: &str,
        schema: &pb::schema::Block,
        prior: &Value,
        config: &Value,
        prior_private: &[u8],
    ) -> Planned {
        let proposed = proposed_new(schema, prior, config);
        let response = self
            .client
            .plan_resource_change(pb::plan_resource_change::Request {
                type_name: type_name.to_string(),
                prior_state: Some(encode(prior, schema)),
                proposed_new_state: Some(encode(&proposed, schema)),
                config: Some(encode(config, schema)),
                prior_private: prior_private.to_vec(),
                provider_meta: None,
                client_capabilities: None,
                ..Default::default()
            })
            .await
            .expect("PlanResourceChange")
            .into_inner();
        Planned {
            planned: decode(response.planned_state.as_ref(), schema),
            requires_replace: response.requires_replace.iter().map(path).collect(),
            private: response.planned_private,
            diagnostics: diagnostics(&response.diagnostics),
        }
    }

    /// `ApplyResourceChange` of what [`Harness::plan`] returned. For a
    /// replacement, Terraform destroys `prior` first: call this once with a
    /// destroy plan, then with the create plan and a null prior.
    pub async fn apply(
        &mut self,
        type_name: &str,
        prior: &Value,
        plan: &Planned,
        config: &Value,
    ) -> Outcome {
        let schema = self.resource_schema(type_name).clone();
        let response = self
            .client
            .apply_resource_change(pb::apply_resource_change::Request {
                type_name: type_name.to_string(),
                prior_state: Some(encode(prior, &schema)),
                planned_state: Some(encode(&plan.planned, &schema)),
                config: Some(encode(config, &schema)),
                planned_private: plan.private.clone(),
                provider_meta: None,
                ..Default::default()
            })
            .await
            .expect("ApplyResourceChange")
            .into_inner();
        Outcome {
            state: decode(response.new_state.as_ref(), &schema),
            private: response.private,
            diagnostics: diagnostics(&response.diagnostics),
        }
    }

    pub async fn read(&mut self, type_name: &str, state: &Value, private: &[u8]) -> Outcome {
        let schema = self.resource_schema(type_name).clone();
        let response = self
            .client
            .read_resource(pb::read_resource::Request {
                type_name: type_name.to_string(),
                current_state: Some(encode(state, &schema)),
                private: private.to_vec(),
                provider_meta: None,
                client_capabilities: None,
                ..Default::default()
            })
            .await
            .expect("ReadResource")
            .into_inner();
        Outcome {
            state: decode(response.new_state.as_ref(), &schema),
            private: response.private,
            diagnostics: diagnostics(&response.diagnostics),
        }
    }

    /// `ImportResourceState`; the first imported object, or null.
    pub async fn import(&mut self, type_name: &str, id: &str) -> Outcome {
        let schema = self.resource_schema(type_name).clone();
        let response = self
            .client
            .import_resource_state(pb::import_resource_state::Request {
                type_name: type_name.to_string(),
                id: id.to_string(),
                client_capabilities: None,
                ..Default::default()
            })
            .await
            .expect("ImportResourceState")
            .into_inner();
        let first = response.imported_resources.into_iter().next();
        Outcome {
            state: first
                .as_ref()
                .map_or(Value::Null, |r| decode(r.state.as_ref(), &schema)),
            private: first.map(|r| r.private).unwrap_or_default(),
            diagnostics: diagnostics(&response.diagnostics),
        }
    }

    /// The schemas as `terraform providers schema -json` prints them, for
    /// a provider installed as `source` (e.g. `registry.terraform.io/a/b`).
    pub fn schema_json(&self, source: &str) -> serde_json::Value {
        let schema = |s: &pb::Schema| {
            serde_json::json!({
                "version": s.version,
                "block": block_json(s.block.as_ref().expect("a schema block")),
            })
        };
        let map = |schemas: &std::collections::HashMap<String, pb::Schema>| {
            let sorted: BTreeMap<&String, &pb::Schema> = schemas.iter().collect();
            serde_json::Value::Object(
                sorted
                    .into_iter()
                    .map(|(name, s)| (name.clone(), schema(s)))
                    .collect(),
            )
        };
        let mut provider = serde_json::Map::new();
        provider.insert(
            "provider".into(),
            schema(self.schemas.provider.as_ref().expect("provider schema")),
        );
        if !self.schemas.resource_schemas.is_empty() {
            provider.insert(
                "resource_schemas".into(),
                map(&self.schemas.resource_schemas),
            );
        }
        if !self.schemas.data_source_schemas.is_empty() {
            provider.insert(
                "data_source_schemas".into(),
                map(&self.schemas.data_source_schemas),
            );
        }
        serde_json::json!({
            "format_version": "1.0",
            "provider_schemas": { source: provider },
        })
    }
}

fn block_json(block: &pb::schema::Block) -> serde_json::Value {
    let mut out = serde_json::Map::new();
    if !block.attributes.is_empty() {
        let mut attributes = serde_json::Map::new();
        for a in &block.attributes {
            let mut attr = serde_json::Map::new();
            let ty: serde_json::Value =
                serde_json::from_slice(&a.r#type).expect("attribute type JSON");
            attr.insert("type".into(), ty);
            if !a.description.is_empty() {
                attr.insert("description".into(), a.description.clone().into());
            }
            attr.insert("description_kind".into(), kind(a.description_kind).into());
            for (flag, set) in [
                ("required", a.required),
                ("optional", a.optional),
                ("computed", a.computed),
                ("sensitive", a.sensitive),
                ("deprecated", a.deprecated),
            ] {
                if set {
                    attr.insert(flag.into(), true.into());
                }
            }
            attributes.insert(a.name.clone(), attr.into());
        }
        out.insert("attributes".into(), attributes.into());
    }
    if !block.block_types.is_empty() {
        let mut types = serde_json::Map::new();
        for b in &block.block_types {
            use pb::schema::nested_block::NestingMode;
            let nesting = match NestingMode::try_from(b.nesting) {
                Ok(NestingMode::Single) => "single",
                Ok(NestingMode::List) => "list",
                Ok(NestingMode::Set) => "set",
                Ok(NestingMode::Map) => "map",
                Ok(NestingMode::Group) => "group",
                _ => "invalid",
            };
            let mut nested = serde_json::Map::new();
            nested.insert("nesting_mode".into(), nesting.into());
            nested.insert(
                "block".into(),
                block_json(b.block.as_ref().expect("a nested block")),
            );
            if b.min_items > 0 {
                nested.insert("min_items".into(), b.min_items.into());
            }
            if b.max_items > 0 {
                nested.insert("max_items".into(), b.max_items.into());
            }
            types.insert(b.type_name.clone(), nested.into());
        }
        out.insert("block_types".into(), types.into());
    }
    if !block.description.is_empty() {
        out.insert("description".into(), block.description.clone().into());
    }
    out.insert(
        "description_kind".into(),
        kind(block.description_kind).into(),
    );
    if block.deprecated {
        out.insert("deprecated".into(), true.into());
    }
    out.into()
}

fn kind(k: i32) -> &'static str {
    if k == pb::StringKind::Markdown as i32 {
        "markdown"
    } else {
        "plain"
    }
}

/// The value type of a block as announced over the wire.
pub fn block_type(block: &pb::schema::Block) -> Type {
    use pb::schema::nested_block::NestingMode;
    let mut fields = BTreeMap::new();
    for a in &block.attributes {
        let json: serde_json::Value =
            serde_json::from_slice(&a.r#type).expect("attribute type JSON");
        fields.insert(a.name.clone(), type_from_json(&json));
    }
    for b in &block.block_types {
        let object = block_type(b.block.as_ref().expect("a nested block"));
        let ty = match NestingMode::try_from(b.nesting) {
            Ok(NestingMode::Single | NestingMode::Group) => object,
            Ok(NestingMode::Set) => Type::set(object),
            Ok(NestingMode::Map) => Type::map(object),
            _ => Type::list(object),
        };
        fields.insert(b.type_name.clone(), ty);
    }
    Type::Object(fields)
}

fn type_from_json(json: &serde_json::Value) -> Type {
    use serde_json::Value as J;
    match json {
        J::String(s) if s == "string" => Type::String,
        J::String(s) if s == "number" => Type::Number,
        J::String(s) if s == "bool" => Type::Bool,
        J::Array(parts) => match (parts.first().and_then(J::as_str), parts.get(1)) {
            (Some("list"), Some(e)) => Type::list(type_from_json(e)),
            (Some("set"), Some(e)) => Type::set(type_from_json(e)),
            (Some("map"), Some(e)) => Type::map(type_from_json(e)),
            (Some("object"), Some(J::Object(attrs))) => Type::Object(
                attrs
                    .iter()
                    .map(|(k, v)| (k.clone(), type_from_json(v)))
                    .collect(),
            ),
            _ => panic!("unsupported type expression {json}"),
        },
        _ => panic!("unsupported type expression {json}"),
    }
}

fn encode(value: &Value, schema: &pb::schema::Block) -> pb::DynamicValue {
    let msgpack = codec::encode_msgpack(value, &block_type(schema))
        .unwrap_or_else(|e| panic!("test value does not fit the schema: {e}\n{value:?}"));
    pb::DynamicValue {
        msgpack,
        json: Vec::new(),
    }
}

fn decode(value: Option<&pb::DynamicValue>, schema: &pb::schema::Block) -> Value {
    let Some(value) = value else {
        return Value::Null;
    };
    codec::decode_msgpack(&value.msgpack, &block_type(schema))
        .unwrap_or_else(|e| panic!("the provider sent a value that does not decode: {e}"))
}

/// Terraform's proposed new state (`objchange.ProposedNew`): the
/// configuration, where each computed attribute the configuration leaves
/// null takes its prior value; single blocks merge with the prior block,
/// list blocks pair with the prior element of the same index.
pub fn proposed_new(schema: &pb::schema::Block, prior: &Value, config: &Value) -> Value {
    use pb::schema::nested_block::NestingMode;
    if config.is_null() || !matches!(config, Value::Object(_)) {
        return config.clone();
    }
    let mut out = config.clone();
    for a in &schema.attributes {
        let configured = config.get(&a.name);
        if a.computed && configured.is_null() {
            out.set(&a.name, prior.get(&a.name).clone());
        }
    }
    for b in &schema.block_types {
        let block = b.block.as_ref().expect("a nested block");
        let (before, now) = (prior.get(&b.type_name), config.get(&b.type_name));
        let merged = match (NestingMode::try_from(b.nesting), now) {
            (Ok(NestingMode::Single | NestingMode::Group), Value::Object(_)) => {
                proposed_new(block, before, now)
            }
            (Ok(NestingMode::List), Value::List(items)) => Value::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        proposed_new(
                            block,
                            before.elements().get(i).unwrap_or(&Value::Null),
                            item,
                        )
                    })
                    .collect(),
            ),
            _ => now.clone(),
        };
        out.set(&b.type_name, merged);
    }
    out
}

fn diagnostics(list: &[pb::Diagnostic]) -> Vec<Diagnostic> {
    list.iter()
        .map(|d| Diagnostic {
            severity: if d.severity == pb::diagnostic::Severity::Warning as i32 {
                Severity::Warning
            } else {
                Severity::Error
            },
            summary: d.summary.clone(),
            detail: d.detail.clone(),
            path: d.attribute.as_ref().map(path),
        })
        .collect()
}

fn path(p: &pb::AttributePath) -> AttributePath {
    use pb::attribute_path::step::Selector;
    AttributePath(
        p.steps
            .iter()
            .filter_map(|s| s.selector.as_ref())
            .map(|s| match s {
                Selector::AttributeName(n) => Step::Attribute(n.clone()),
                Selector::ElementKeyString(k) => Step::Key(k.clone()),
                Selector::ElementKeyInt(i) => Step::Index(*i),
            })
            .collect(),
    )
}

/// Errors only, for assertions.
pub fn errors(diagnostics: &[Diagnostic]) -> Vec<&Diagnostic> {
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Plan, PlanChange};
    use crate::schema::{Attribute, Block, NestedBlock, Schema};
    use crate::{DataSource, Diagnostics, Resource};

    /// A resource with a replace-flagged `name`, a computed `id` kept by
    /// `use_state_for_unknown`, a list block keyed by `host` whose elements
    /// carry a kept `token`, and a single block with a flagged attribute.
    struct Thing;

    fn thing_schema() -> Schema {
        Schema::new(
            0,
            Block::new("")
                .attribute(Attribute::required("name", Type::String, "").requires_replace())
                .attribute(Attribute::computed("id", Type::String, "").use_state_for_unknown())
                .block(
                    NestedBlock::list(
                        "entry",
                        Block::new("")
                            .attribute(Attribute::required("host", Type::String, ""))
                            .attribute(Attribute::optional("note", Type::String, ""))
                            .attribute(
                                Attribute::computed("token", Type::String, "")
                                    .use_state_for_unknown(),
                            ),
                    )
                    .key("host"),
                )
                .block(NestedBlock::single(
                    "owner",
                    Block::new("").attribute(
                        Attribute::optional("team", Type::String, "").requires_replace(),
                    ),
                )),
        )
    }

    /// Fills every unknown the way an apply would.
    fn settle(planned: &Value) -> Value {
        let mut out = planned.clone();
        if out.get("id").is_unknown() {
            out.set(
                "id",
                format!("id-{}", planned.get("name").as_str().unwrap_or("")).into(),
            );
        }
        if let Some(Value::List(items)) = out.get_mut("entry") {
            for item in items {
                if item.get("token").is_unknown() {
                    let token = format!("t-{}", item.get("host").as_str().unwrap_or(""));
                    item.set("token", token.into());
                }
            }
        }
        out
    }

    #[tonic::async_trait]
    impl Resource for Thing {
        fn type_name(&self) -> &'static str {
            "test_thing"
        }
        fn schema(&self) -> Schema {
            thing_schema()
        }
        async fn modify_plan(
            &self,
            change: &PlanChange<'_>,
            plan: &mut Plan,
            diags: &mut Diagnostics,
        ) {
            if change.is_create() {
                // The create half of a replacement learns what it replaces.
                let replaces = String::from_utf8_lossy(change.prior_private).to_string();
                if !replaces.is_empty() {
                    diags.warning("Replacing", replaces);
                }
            } else if !change.is_destroy() {
                let id = change.prior.get("id").as_str().unwrap_or("");
                plan.private = id.as_bytes().to_vec();
            }
        }
        async fn create(&self, planned: &Value, _: &[u8], _: &mut Diagnostics) -> Option<Value> {
            Some(settle(planned))
        }
        async fn read(&self, state: &Value, _: &mut Diagnostics) -> Option<Value> {
            Some(state.clone())
        }
        async fn update(&self, _: &Value, planned: &Value, _: &mut Diagnostics) -> Option<Value> {
            Some(settle(planned))
        }
        async fn delete(&self, _: &Value, _: &mut Diagnostics) {}
        async fn import(&self, id: &str, _: &mut Diagnostics) -> Option<Value> {
            Some(Value::object([
                ("name", id.into()),
                ("id", id.into()),
                ("entry", Value::List(vec![])),
            ]))
        }
    }

    struct Things;

    #[tonic::async_trait]
    impl Provider for Things {
        fn about(&self) -> crate::About {
            crate::About {
                source: "example/things",
                title: "the Things provider",
                log_targets: &[],
            }
        }
        fn schema(&self) -> Schema {
            Schema::new(
                0,
                Block::new("").attribute(Attribute::optional("region", Type::String, "")),
            )
        }
        fn validate(&self, config: &Value, diags: &mut Diagnostics) {
            if config.get("region").as_str() == Some("mars") {
                diags.attribute_error(
                    AttributePath::root("region"),
                    "Invalid region",
                    "Not on Earth.",
                );
            }
        }
        async fn configure(&self, _: &str, _: &Value, _: &mut Diagnostics) {}
        fn resources(&self) -> Vec<Arc<dyn Resource>> {
            vec![Arc::new(Thing)]
        }
        fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
            Vec::new()
        }
    }

    fn config(name: &str, hosts: &[&str], team: Option<&str>) -> Value {
        Value::object([
            ("name", name.into()),
            (
                "entry",
                Value::List(
                    hosts
                        .iter()
                        .map(|h| Value::object([("host", (*h).into())]))
                        .collect(),
                ),
            ),
            (
                "owner",
                team.map_or(Value::Null, |t| Value::object([("team", t.into())])),
            ),
        ])
    }

    fn tokens(state: &Value) -> Vec<(&str, &Value)> {
        state
            .get("entry")
            .elements()
            .iter()
            .map(|e| (e.get("host").as_str().unwrap_or("?"), e.get("token")))
            .collect()
    }

    #[tokio::test]
    async fn drives_a_provider_as_terraform_does() {
        let mut tf = Harness::start(Arc::new(Things)).await;
        assert!(tf.schemas().resource_schemas.contains_key("test_thing"));

        let bad = Value::object([("region", "mars".into())]);
        let diagnostics = tf.validate_provider_config(&bad).await;
        assert_eq!(
            errors(&diagnostics)[0].path,
            Some(AttributePath::root("region"))
        );
        assert!(tf.configure(&Value::object([])).await.is_empty());

        // Create: computed attributes are unknown, then settled by apply.
        let cfg = config("a", &["x", "y"], None);
        assert!(tf
            .validate_resource_config("test_thing", &cfg)
            .await
            .is_empty());
        let plan = tf.plan("test_thing", &Value::Null, &cfg, &[]).await;
        assert!(plan.planned.get("id").is_unknown());
        let created = tf.apply("test_thing", &Value::Null, &plan, &cfg).await;
        assert_eq!(created.state.get("id"), &Value::from("id-a"));
        let state = tf
            .read("test_thing", &created.state, &created.private)
            .await
            .state;
        assert_eq!(state, created.state);

        // A reordered element keeps its own token and a new one gets a new
        // token (keyed by host), though Terraform's proposed value pairs
        // them by position.
        let cfg = config("a", &["y", "w"], None);
        let plan = tf.plan("test_thing", &state, &cfg, &[]).await;
        assert!(!plan.replaces(), "{:?}", plan.requires_replace);
        let y = Value::from("t-y");
        assert_eq!(
            tokens(&plan.planned),
            vec![("y", &y), ("w", &Value::Unknown)]
        );
        let state = tf.apply("test_thing", &state, &plan, &cfg).await.state;

        // A flagged attribute inside a single block replaces; Terraform
        // plans the create half again with a null prior and the first
        // plan's private data.
        let cfg = config("a", &["y", "w"], Some("blue"));
        let plan = tf.plan("test_thing", &state, &cfg, &[]).await;
        assert_eq!(
            plan.requires_replace,
            vec![AttributePath::root("owner").attribute("team")]
        );
        assert!(
            plan.planned.get("id").is_unknown(),
            "the create half plans a new object"
        );
        let told: Vec<&str> = plan.diagnostics.iter().map(|d| d.detail.as_str()).collect();
        assert_eq!(
            told,
            vec!["id-a"],
            "the create half learns what it replaces"
        );
        let destroyed = tf
            .apply(
                "test_thing",
                &state,
                &Planned {
                    planned: Value::Null,
                    requires_replace: Vec::new(),
                    private: Vec::new(),
                    diagnostics: Vec::new(),
                },
                &Value::Null,
            )
            .await;
        assert_eq!(destroyed.state, Value::Null);
        let created = tf.apply("test_thing", &Value::Null, &plan, &cfg).await;
        assert_eq!(created.state.get("owner").get("team"), &Value::from("blue"));

        let imported = tf.import("test_thing", "b").await;
        assert_eq!(imported.state.get("id"), &Value::from("b"));
    }

    #[test]
    fn schema_json_has_the_shape_terraform_prints() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let json = rt.block_on(async {
            Harness::start(Arc::new(Things))
                .await
                .schema_json("example.com/t/things")
        });
        let thing =
            &json["provider_schemas"]["example.com/t/things"]["resource_schemas"]["test_thing"];
        assert_eq!(thing["block"]["attributes"]["name"]["required"], true);
        assert_eq!(thing["block"]["attributes"]["id"]["computed"], true);
        assert_eq!(
            thing["block"]["block_types"]["entry"]["nesting_mode"],
            "list"
        );
        assert_eq!(
            thing["block"]["block_types"]["owner"]["block"]["attributes"]["team"]["type"],
            "string"
        );
    }
}
