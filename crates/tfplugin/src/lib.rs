//! The Terraform side: plugin protocol v6 over gRPC, the go-plugin handshake,
//! and the small API a provider implements ([`Provider`], [`Resource`],
//! [`DataSource`]) in terms of [`Value`]s, [`Schema`]s and [`Diagnostics`].
//!
//! It names no provider: a provider says who it is through [`Provider::about`].

pub mod codec;
pub mod diagnostics;
mod grpc;
pub mod handshake;
pub mod identity;
pub mod logging;
pub mod model;
pub mod plan;
pub mod schema;
mod serve;
mod services;
pub mod testing;
pub mod tls;
pub mod value;

use std::sync::Arc;

/// Providers write `#[tfplugin::async_trait]` on their trait impls.
pub use tonic::async_trait;

pub use diagnostics::{AttributePath, Diagnostic, Diagnostics, Severity};
pub use grpc::ProviderService;
pub use model::{Field, Model};
pub use plan::{Plan, PlanChange};
pub use schema::{Attribute, Block, Invalid, Mode, NestedBlock, Nesting, Schema, Validator};
pub use serve::serve;
pub use value::{Type, Value};

/// Generated protobuf code.
pub mod proto {
    pub mod tfplugin6 {
        tonic::include_proto!("tfplugin6");
    }
    pub mod plugin {
        tonic::include_proto!("plugin");
    }
    pub mod health {
        tonic::include_proto!("grpc.health.v1");
    }
}

/// Who a provider is, for the parts of the protocol that name it: this
/// crate knows no provider of its own.
#[derive(Debug, Clone, Copy)]
pub struct About {
    /// The registry source address, e.g. `"hashicorp/tls"`.
    pub source: &'static str,
    /// What a sentence calls it, e.g. `"the TLS provider"`.
    pub title: &'static str,
    /// Log targets (module path prefixes) shown from DEBUG on; lines of
    /// other crates below INFO show only at TRACE.
    pub log_targets: &'static [&'static str],
}

impl About {
    /// The provider's type name: the last part of its source address.
    pub fn type_name(&self) -> &'static str {
        self.source.rsplit('/').next().unwrap_or(self.source)
    }

    /// The binary's name, as Terraform expects it: `terraform-provider-TYPE`.
    pub fn binary_name(&self) -> String {
        format!("terraform-provider-{}", self.type_name())
    }
}

/// A provider: its own configuration, and the resources and data sources it
/// offers.
#[tonic::async_trait]
pub trait Provider: Send + Sync + 'static {
    fn about(&self) -> About;

    fn schema(&self) -> Schema;

    /// Static checks of the provider block; values may be unknown.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Called before any resource operation, in each provider process.
    async fn configure(&self, terraform_version: &str, config: &Value, diags: &mut Diagnostics);

    fn resources(&self) -> Vec<Arc<dyn Resource>>;

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>>;

    /// Terraform asks to stop work in flight (the user pressed Ctrl-C).
    fn stop(&self) {}
}

/// A managed resource. Values are whole objects of the resource's schema.
///
/// Create and update return the new state even when they also report
/// errors: Terraform saves a returned object (tainted after a failed create),
/// so a remote object that exists is never lost. `None` means nothing exists.
#[tonic::async_trait]
pub trait Resource: Send + Sync {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Static checks of the resource block; unknown values must be skipped.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Runs after the engine's generic planning (see [`plan`]); may adjust
    /// the planned value and the replace paths, and add warnings.
    /// Also called for a destroy (planned null), to warn about it.
    async fn modify_plan(
        &self,
        _change: &PlanChange<'_>,
        _plan: &mut Plan,
        _diags: &mut Diagnostics,
    ) {
    }

    /// `private` is what the plan hook left in [`Plan::private`].
    async fn create(
        &self,
        planned: &Value,
        private: &[u8],
        diags: &mut Diagnostics,
    ) -> Option<Value>;

    /// `None` when the remote object is gone: Terraform drops it from state.
    async fn read(&self, state: &Value, diags: &mut Diagnostics) -> Option<Value>;

    async fn update(
        &self,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value>;

    async fn delete(&self, prior: &Value, diags: &mut Diagnostics);

    async fn import(&self, _id: &str, diags: &mut Diagnostics) -> Option<Value> {
        diags.error(
            "Import not supported",
            format!("{} cannot be imported.", self.type_name()),
        );
        None
    }

    /// The top-level state attributes that identify the remote object:
    /// its resource identity (Terraform 1.12 and later; see [`identity`]).
    /// The plugin layer derives the identity schema and data from them.
    /// Empty (the default): no identity.
    fn identity(&self) -> &'static [&'static str] {
        &[]
    }

    /// Import by identity (`import { identity = { … } }`), given identity
    /// data of this resource's identity schema. The default imports by the
    /// ID that a single string identity attribute holds, through
    /// [`Resource::import`].
    async fn import_by_identity(&self, identity: &Value, diags: &mut Diagnostics) -> Option<Value> {
        let schema =
            match identity::IdentitySchema::of(self.type_name(), self.identity(), &self.schema()) {
                Ok(Some(schema)) => schema,
                Ok(None) => {
                    diags.error(
                        "Import by identity not supported",
                        format!(
                            "{} has no resource identity; import it by ID instead.",
                            self.type_name()
                        ),
                    );
                    return None;
                }
                Err(problem) => {
                    diags.error(
                        "Invalid resource identity",
                        format!("{problem} This is a bug in the provider."),
                    );
                    return None;
                }
            };
        match schema.import_id(identity) {
            Ok(id) => self.import(&id, diags).await,
            Err(problem) => {
                diags.error(
                    "Invalid import identity",
                    format!("Cannot import {}: {problem}.", self.type_name()),
                );
                None
            }
        }
    }

    /// Turns stored state (raw JSON written by schema `version`) into a value
    /// of the current schema. The default reads state of the current version.
    fn upgrade_state(
        &self,
        version: i64,
        raw: &serde_json::Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let schema = self.schema();
        if version != schema.version {
            diags.error(
                "Unsupported state version",
                format!(
                    "{} state has schema version {version}, but this provider only reads version {}.",
                    self.type_name(),
                    schema.version
                ),
            );
            return None;
        }
        match codec::state_from_json(raw, &schema.value_type()) {
            Ok((value, dropped)) => {
                if !dropped.is_empty() {
                    log::info!(
                        "{} state: dropped attributes the schema no longer has: {}",
                        self.type_name(),
                        dropped.join(", ")
                    );
                }
                Some(value)
            }
            Err(e) => {
                diags.error(
                    "Unreadable state",
                    format!("The stored state does not match the schema: {e}."),
                );
                None
            }
        }
    }
}

/// A data source: reads something, stores nothing remote.
#[tonic::async_trait]
pub trait DataSource: Send + Sync {
    fn type_name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Must return a wholly known object, or report an error.
    async fn read(&self, config: &Value, diags: &mut Diagnostics) -> Option<Value>;
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Versioned;

    #[tonic::async_trait]
    impl Resource for Versioned {
        fn type_name(&self) -> &'static str {
            "test_versioned"
        }
        fn schema(&self) -> Schema {
            Schema::new(
                2,
                Block::new("").attribute(Attribute::required("name", Type::String, "")),
            )
        }
        async fn create(&self, _: &Value, _: &[u8], _: &mut Diagnostics) -> Option<Value> {
            None
        }
        async fn read(&self, _: &Value, _: &mut Diagnostics) -> Option<Value> {
            None
        }
        async fn update(&self, _: &Value, _: &Value, _: &mut Diagnostics) -> Option<Value> {
            None
        }
        async fn delete(&self, _: &Value, _: &mut Diagnostics) {}
    }

    #[test]
    fn state_of_the_current_version_is_read_as_it_is() {
        let mut diags = Diagnostics::new();
        let raw = serde_json::json!({"name": "web"});
        let value = Versioned.upgrade_state(2, &raw, &mut diags);
        assert_eq!(value, Some(Value::object([("name", "web".into())])));
        assert!(diags.is_empty());
    }

    #[test]
    fn state_of_an_unknown_version_is_refused_with_a_reason() {
        let mut diags = Diagnostics::new();
        assert_eq!(
            Versioned.upgrade_state(1, &serde_json::json!({}), &mut diags),
            None
        );
        assert!(
            diags.0[0].detail.contains("schema version 1"),
            "{:?}",
            diags
        );
        let mut diags = Diagnostics::new();
        assert_eq!(
            Versioned.upgrade_state(2, &serde_json::json!({"name": 1}), &mut diags),
            None
        );
        assert!(diags.has_errors(), "a value of the wrong type is refused");
    }

    #[test]
    fn attributes_the_schema_no_longer_has_are_dropped_not_fatal() {
        // Written by a release that still had `retired` (top level and inside
        // a block element): read by this one, which does not.
        struct Trimmed;
        #[tonic::async_trait]
        impl Resource for Trimmed {
            fn type_name(&self) -> &'static str {
                "test_trimmed"
            }
            fn schema(&self) -> Schema {
                Schema::new(
                    0,
                    Block::new("")
                        .attribute(Attribute::required("name", Type::String, ""))
                        .block(crate::NestedBlock::list(
                            "item",
                            Block::new("").attribute(Attribute::required("v", Type::String, "")),
                        )),
                )
            }
            async fn create(&self, _: &Value, _: &[u8], _: &mut Diagnostics) -> Option<Value> {
                None
            }
            async fn read(&self, _: &Value, _: &mut Diagnostics) -> Option<Value> {
                None
            }
            async fn update(&self, _: &Value, _: &Value, _: &mut Diagnostics) -> Option<Value> {
                None
            }
            async fn delete(&self, _: &Value, _: &mut Diagnostics) {}
        }
        let raw = serde_json::json!({
            "name": "web",
            "retired": "x",
            "item": [{"v": "a", "retired": 3}]
        });
        let mut diags = Diagnostics::new();
        let value = Trimmed.upgrade_state(0, &raw, &mut diags);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            value,
            Some(Value::object([
                ("name", "web".into()),
                (
                    "item",
                    Value::List(vec![Value::object([("v", "a".into())])])
                ),
            ]))
        );
    }
}
