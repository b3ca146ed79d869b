//! `terraform-provider-peer`: a provider that does nothing, built on the
//! `tf-provider` crate. One resource, `peer_noop`, with one optional string
//! `input` and a computed `id` (the input, or "noop"); no provider arguments;
//! a changed `input` replaces it. Like `null_resource`, it is the cheapest
//! resource a provider process can serve, so bench/run.sh uses it as the floor
//! for a provider's start-up and for a whole run with a provider process.

use std::borrow::Cow;
use std::collections::HashMap;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    Attribute, AttributeConstraint, AttributeType, Block, Description, Schema,
};
use tf_provider::value::{ValueEmpty, ValueString};
use tf_provider::{
    AttributePath, Diagnostics, DynamicDataSource, DynamicResource, Provider, Resource,
};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct NoopState<'a> {
    #[serde(borrow = "'a")]
    id: ValueString<'a>,
    #[serde(borrow = "'a")]
    input: ValueString<'a>,
}

struct Noop;

fn attribute(constraint: AttributeConstraint, text: &str) -> Attribute {
    Attribute {
        attr_type: AttributeType::String,
        description: Description::plain(text),
        constraint,
        ..Default::default()
    }
}

#[async_trait]
impl Resource for Noop {
    type State<'a> = NoopState<'a>;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        let mut attributes = HashMap::new();
        attributes.insert(
            "id".to_string(),
            attribute(AttributeConstraint::Computed, "The input, or \"noop\"."),
        );
        attributes.insert(
            "input".to_string(),
            attribute(
                AttributeConstraint::Optional,
                "Any string; a change replaces the resource.",
            ),
        );
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::plain("Does nothing."),
                attributes,
                ..Default::default()
            },
        })
    }

    async fn read<'a>(
        &self,
        _diags: &mut Diagnostics,
        state: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        Some((state, private))
    }

    async fn plan_create<'a>(
        &self,
        _diags: &mut Diagnostics,
        proposed: Self::State<'a>,
        _config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        Some((
            NoopState {
                id: ValueString::Unknown,
                ..proposed
            },
            ValueEmpty::default(),
        ))
    }

    async fn plan_update<'a>(
        &self,
        _diags: &mut Diagnostics,
        prior: Self::State<'a>,
        proposed: Self::State<'a>,
        _config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        let replace = if prior.input == proposed.input {
            Vec::new()
        } else {
            vec![AttributePath::new("input")]
        };
        Some((proposed, private, replace))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        Some(private)
    }

    async fn create<'a>(
        &self,
        _diags: &mut Diagnostics,
        planned: Self::State<'a>,
        _config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let id = match &planned.input {
            ValueString::Value(input) => ValueString::Value(input.clone()),
            _ => ValueString::Value(Cow::Borrowed("noop")),
        };
        Some((NoopState { id, ..planned }, private))
    }

    async fn update<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        planned: Self::State<'a>,
        _config: Self::State<'a>,
        private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        Some((planned, private))
    }

    async fn destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        Some(())
    }
}

struct Peer;

#[async_trait]
impl Provider for Peer {
    type Config<'a> = ValueEmpty;
    type MetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(Schema {
            version: 0,
            block: Block {
                description: Description::plain("A provider that does nothing."),
                ..Default::default()
            },
        })
    }

    fn get_resources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicResource>>> {
        let mut resources: HashMap<String, Box<dyn DynamicResource>> = HashMap::new();
        resources.insert("noop".to_string(), Box::new(Noop));
        Some(resources)
    }

    fn get_data_sources(
        &self,
        _diags: &mut Diagnostics,
    ) -> Option<HashMap<String, Box<dyn DynamicDataSource>>> {
        Some(HashMap::new())
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    tf_provider::serve("peer", Peer).await
}
