//! The planning engine, applied to every resource in one fixed order:
//! destroy stays null → defaults → computed attributes marked unknown (only
//! when something changed) → the resource's own hook → replace paths.
//!
//! Terraform compares the plan it gets at apply with the one it showed, and
//! the applied result with the plan; so planning must be deterministic and
//! must not mark anything unknown that will not change.

use super::diagnostics::{AttributePath, Diagnostics};
use super::schema::{Block, Mode, Nesting, Schema};
use super::value::Value;
use super::Resource;

/// What the engine hands to a resource's plan hook.
pub struct PlanChange<'a> {
    /// Null when the resource is being created.
    pub prior: &'a Value,
    /// Null when the resource is being destroyed.
    pub config: &'a Value,
    /// The provider's private data from the prior state, or, when Terraform
    /// plans the create half of a replacement, from the first plan of it:
    /// the only way the create half can learn what it replaces.
    pub prior_private: &'a [u8],
}

impl PlanChange<'_> {
    pub fn is_create(&self) -> bool {
        self.prior.is_null()
    }
}

impl PlanChange<'_> {
    pub fn is_destroy(&self) -> bool {
        self.config.is_null()
    }
}

pub struct Plan {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
    /// Private data handed to apply (and to the create half of a replacement).
    pub private: Vec<u8>,
}

pub async fn plan_resource_change(
    resource: &dyn Resource,
    schema: &Schema,
    prior: &Value,
    proposed: &Value,
    config: &Value,
    prior_private: &[u8],
    diags: &mut Diagnostics,
) -> Plan {
    let change = PlanChange {
        prior,
        config,
        prior_private,
    };
    if proposed.is_null() {
        // Destroy: the hook may only warn; the plan stays null.
        let mut plan = Plan {
            planned: Value::Null,
            requires_replace: Vec::new(),
            private: prior_private.to_vec(),
        };
        resource.modify_plan(&change, &mut plan, diags).await;
        plan.planned = Value::Null;
        plan.requires_replace.clear();
        return plan;
    }
    let mut planned = proposed.clone();
    apply_defaults(&schema.block, &mut planned, config);
    if prior.is_null() || planned != *prior {
        mark_computed_unknown(&schema.block, &mut planned, prior, config);
    }
    let requires_replace = if prior.is_null() {
        Vec::new()
    } else {
        replace_paths(&schema.block, prior, &planned, &AttributePath::default())
    };
    let mut plan = Plan {
        planned,
        requires_replace,
        private: prior_private.to_vec(),
    };
    resource.modify_plan(&change, &mut plan, diags).await;
    plan
}

fn apply_defaults(block: &Block, planned: &mut Value, config: &Value) {
    for attribute in &block.attributes {
        if let Some(default) = &attribute.default {
            if config.get(&attribute.name).is_null() {
                planned.set(&attribute.name, default.clone());
            }
        }
    }
}

/// Computed attributes the user left null will be set by apply; on an update
/// they keep their prior value only when marked `use_state_for_unknown`.
fn mark_computed_unknown(block: &Block, planned: &mut Value, prior: &Value, config: &Value) {
    for attribute in &block.attributes {
        let left_to_provider = attribute.mode.is_computed()
            && attribute.default.is_none()
            && config.get(&attribute.name).is_null();
        let keep_prior = attribute.use_state_for_unknown && !prior.get(&attribute.name).is_null();
        if left_to_provider && !keep_prior {
            planned.set(&attribute.name, Value::Unknown);
        }
    }
    for nested in &block.blocks {
        let Some(planned_blocks) = planned.get_mut(&nested.name) else {
            continue;
        };
        let config_blocks = config.get(&nested.name);
        let prior_blocks = prior.get(&nested.name);
        match (nested.nesting, planned_blocks) {
            (Nesting::Single, item @ Value::Object(_)) => {
                mark_computed_unknown(&nested.block, item, prior_blocks, config_blocks)
            }
            (Nesting::List, Value::List(items)) => {
                for (i, item) in items.iter_mut().enumerate() {
                    let prior_item = prior_blocks.elements().get(i).unwrap_or(&Value::Null);
                    let config_item = config_blocks.elements().get(i).unwrap_or(&Value::Null);
                    mark_computed_unknown(&nested.block, item, prior_item, config_item);
                }
            }
            _ => {}
        }
    }
}

/// Paths whose change forces a new resource: flagged attributes and
/// blocks; inside a list block, a changed element count, or a flagged
/// attribute of one element.
fn replace_paths(
    block: &Block,
    prior: &Value,
    planned: &Value,
    at: &AttributePath,
) -> Vec<AttributePath> {
    let mut paths = Vec::new();
    for attribute in &block.attributes {
        let name = attribute.name.as_str();
        if attribute.requires_replace
            && attribute.mode != Mode::Computed
            && prior.get(name) != planned.get(name)
        {
            paths.push(at.clone().attribute(name));
        }
    }
    for nested in &block.blocks {
        let name = nested.name.as_str();
        let (before, after) = (prior.get(name), planned.get(name));
        if before == after {
            continue;
        }
        let path = at.clone().attribute(name);
        if nested.requires_replace {
            paths.push(path);
            continue;
        }
        if nested.nesting == Nesting::List {
            if before.elements().len() != after.elements().len() {
                paths.push(path);
                continue;
            }
            for (i, (b, a)) in before.elements().iter().zip(after.elements()).enumerate() {
                paths.extend(replace_paths(&nested.block, b, a, &path.clone().index(i)));
            }
        }
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, NestedBlock};
    use crate::value::Type;

    struct Plain;

    #[tonic::async_trait]
    impl Resource for Plain {
        fn type_name(&self) -> &'static str {
            "test_plain"
        }
        fn schema(&self) -> Schema {
            test_schema()
        }
        async fn create(&self, _: &Value, _: &[u8], _: &mut Diagnostics) -> Option<Value> {
            None
        }
        async fn read(&self, state: &Value, _: &mut Diagnostics) -> Option<Value> {
            Some(state.clone())
        }
        async fn update(&self, _: &Value, planned: &Value, _: &mut Diagnostics) -> Option<Value> {
            Some(planned.clone())
        }
        async fn delete(&self, _: &Value, _: &mut Diagnostics) {}
    }

    fn test_schema() -> Schema {
        Schema::new(
            0,
            Block::new("")
                .attribute(Attribute::required("name", Type::String, "").requires_replace())
                .attribute(Attribute::optional("note", Type::String, ""))
                .attribute(
                    Attribute::optional_computed("flag", Type::Bool, "")
                        .default(Value::Bool(false)),
                )
                .attribute(Attribute::computed("id", Type::String, "").use_state_for_unknown())
                .attribute(Attribute::computed("status", Type::String, ""))
                .block(NestedBlock::list(
                    "item",
                    Block::new("").attribute(Attribute::required("v", Type::String, "")),
                )),
        )
    }

    fn run(prior: &Value, proposed: &Value, config: &Value) -> Plan {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(plan_resource_change(
                &Plain,
                &test_schema(),
                prior,
                proposed,
                config,
                &[],
                &mut Diagnostics::new(),
            ))
    }

    fn config(name: &str, note: Option<&str>) -> Value {
        Value::object([
            ("name", name.into()),
            ("note", Value::opt_string(note)),
            ("flag", Value::Null),
            ("id", Value::Null),
            ("status", Value::Null),
            ("item", Value::List(vec![])),
        ])
    }

    fn state(name: &str, note: Option<&str>) -> Value {
        let mut v = config(name, note);
        v.set("flag", Value::Bool(false));
        v.set("id", "abc".into());
        v.set("status", "PENDING".into());
        v
    }

    #[test]
    fn create_marks_computed_unknown_and_applies_defaults() {
        let cfg = config("a", None);
        let plan = run(&Value::Null, &cfg, &cfg);
        assert_eq!(plan.planned.get("id"), &Value::Unknown);
        assert_eq!(plan.planned.get("status"), &Value::Unknown);
        assert_eq!(plan.planned.get("flag"), &Value::Bool(false));
        assert!(plan.requires_replace.is_empty());
    }

    #[test]
    fn no_change_keeps_every_prior_value() {
        let prior = state("a", None);
        // Terraform's proposed value carries computed attributes over from prior.
        let plan = run(&prior, &prior, &config("a", None));
        assert_eq!(plan.planned, prior);
    }

    #[test]
    fn update_keeps_use_state_for_unknown_and_unknowns_the_rest() {
        let prior = state("a", None);
        let mut proposed = prior.clone();
        proposed.set("note", "x".into());
        let plan = run(&prior, &proposed, &config("a", Some("x")));
        assert_eq!(plan.planned.get("id"), &Value::from("abc"));
        assert_eq!(plan.planned.get("status"), &Value::Unknown);
        assert!(plan.requires_replace.is_empty());
    }

    #[test]
    fn list_blocks_replace_on_count_or_flagged_element_attributes() {
        let schema = Block::new("").block(NestedBlock::list(
            "d",
            Block::new("")
                .attribute(Attribute::required("name", Type::String, "").requires_replace())
                .attribute(Attribute::required("method", Type::String, "")),
        ));
        let item = |name: &str, method: &str| {
            Value::object([("name", name.into()), ("method", method.into())])
        };
        let with = |items: Vec<Value>| Value::object([("d", Value::List(items))]);
        let root = AttributePath::default();
        let prior = with(vec![item("a", "x"), item("b", "x")]);
        assert!(replace_paths(
            &schema,
            &prior,
            &with(vec![item("a", "y"), item("b", "x")]),
            &root
        )
        .is_empty());
        assert_eq!(
            replace_paths(
                &schema,
                &prior,
                &with(vec![item("a", "x"), item("c", "x")]),
                &root
            ),
            vec![AttributePath::root("d").index(1).attribute("name")]
        );
        assert_eq!(
            replace_paths(&schema, &prior, &with(vec![item("a", "x")]), &root),
            vec![AttributePath::root("d")]
        );
    }

    #[test]
    fn changing_a_replace_attribute_lists_its_path() {
        let prior = state("a", None);
        let mut proposed = prior.clone();
        proposed.set("name", "b".into());
        let plan = run(&prior, &proposed, &config("b", None));
        assert_eq!(plan.requires_replace, vec![AttributePath::root("name")]);
    }

    #[test]
    fn destroy_plans_null() {
        let plan = run(&state("a", None), &Value::Null, &Value::Null);
        assert_eq!(plan.planned, Value::Null);
    }
}
