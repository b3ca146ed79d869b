//! The planning engine, applied to every resource in one fixed order:
//! destroy stays null → defaults → computed attributes marked unknown (only
//! when something changed; `use_state_for_unknown` keeps the prior value,
//! list elements paired by their key attribute) → replace paths of the
//! flagged attributes and blocks → the resource's own hook, which sees those
//! paths and may drop or add some → the paths sorted and de-duplicated.
//!
//! The replace paths come before the hook, as terraform-plugin-framework
//! runs `RequiresReplace` (an attribute plan modifier) before the resource's
//! `ModifyPlan`: a hook must know whether the change is a replacement to
//! plan it (warn about the new order, keep or drop a path it knows better).
//!
//! Terraform compares the plan it gets at apply with the one it showed, and
//! the applied result with the plan; so planning must be deterministic and
//! must not mark anything unknown that will not change.

use super::diagnostics::{AttributePath, Diagnostics};
use super::schema::{Block, Mode, NestedBlock, Nesting, Schema};
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
    plan.requires_replace.sort();
    plan.requires_replace.dedup();
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
        if !left_to_provider {
            continue;
        }
        let prior_value = prior.get(&attribute.name);
        if attribute.use_state_for_unknown && !prior_value.is_null() {
            // Explicitly: Terraform's proposed value pairs list elements by
            // position, so it may carry another element's value.
            planned.set(&attribute.name, prior_value.clone());
        } else {
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
                    let config_item = config_blocks.elements().get(i).unwrap_or(&Value::Null);
                    let prior_item = prior_element(nested, prior_blocks, config_item, i);
                    mark_computed_unknown(&nested.block, item, prior_item, config_item);
                }
            }
            _ => {}
        }
    }
}

/// The prior element that a configured list element continues: the one
/// with the same key attribute when the block declares one (none when the
/// key is new, or not known yet), else the one at the same position.
fn prior_element<'a>(
    nested: &NestedBlock,
    prior: &'a Value,
    config_item: &Value,
    index: usize,
) -> &'a Value {
    static NULL: Value = Value::Null;
    match &nested.key_attribute {
        None => prior.elements().get(index).unwrap_or(&NULL),
        Some(key) => {
            let wanted = config_item.get(key);
            if wanted.is_null() || !wanted.is_wholly_known() {
                return &NULL;
            }
            prior
                .elements()
                .iter()
                .find(|p| p.get(key) == wanted)
                .unwrap_or(&NULL)
        }
    }
}

/// Paths whose change forces a new resource: flagged attributes and
/// blocks (a flagged block also when it appears or disappears); inside a
/// single block, its flagged attributes; inside a list block, a changed
/// count, or a flagged attribute of one element.
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
        match nested.nesting {
            Nesting::Single => {
                // Null on either side: every flagged attribute set on the
                // other side is a change from or to null.
                paths.extend(replace_paths(&nested.block, before, after, &path));
            }
            Nesting::List => {
                if before.elements().len() != after.elements().len() {
                    paths.push(path);
                    continue;
                }
                for (i, (b, a)) in before.elements().iter().zip(after.elements()).enumerate() {
                    paths.extend(replace_paths(&nested.block, b, a, &path.clone().index(i)));
                }
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
    /// A list block keyed by `name`, whose elements carry a computed
    /// `token` kept by `use_state_for_unknown`, and a computed `status`.
    fn keyed(key: bool) -> Block {
        let list = NestedBlock::list(
            "d",
            Block::new("")
                .attribute(Attribute::required("name", Type::String, ""))
                .attribute(Attribute::optional("note", Type::String, ""))
                .attribute(Attribute::computed("token", Type::String, "").use_state_for_unknown())
                .attribute(Attribute::computed("status", Type::String, "")),
        );
        Block::new("").block(if key { list.key("name") } else { list })
    }

    fn element(name: &str, note: &str, token: Value) -> Value {
        Value::object([
            ("name", name.into()),
            ("note", note.into()),
            ("token", token),
            ("status", Value::Null),
        ])
    }

    fn tokens(planned: &Value) -> Vec<(String, Value)> {
        planned
            .get("d")
            .elements()
            .iter()
            .map(|e| {
                (
                    e.get("name").as_str().unwrap_or("?").to_string(),
                    e.get("token").clone(),
                )
            })
            .collect()
    }

    /// Terraform's proposed value pairs prior and configured elements by
    /// position: what `plugin::testing::proposed_new` does.
    fn by_position(prior: &Value, config: &Value) -> Value {
        let items = config
            .get("d")
            .elements()
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut e = c.clone();
                let p = prior
                    .get("d")
                    .elements()
                    .get(i)
                    .cloned()
                    .unwrap_or_default();
                e.set("token", p.get("token").clone());
                e.set("status", p.get("status").clone());
                e
            })
            .collect();
        Value::object([("d", Value::List(items))])
    }

    #[test]
    fn use_state_for_unknown_pairs_list_elements_by_their_key() {
        let prior = Value::object([(
            "d",
            Value::List(vec![
                element("a", "", "ta".into()),
                element("b", "", "tb".into()),
            ]),
        )]);
        let known = |t: &str| Value::from(t);
        // (what, keyed, configured names, expected tokens in order)
        type Case<'a> = (&'a str, bool, Vec<&'a str>, Vec<(&'a str, Value)>);
        let cases: Vec<Case> = vec![
            (
                "reordered, keyed",
                true,
                vec!["b", "a"],
                vec![("b", known("tb")), ("a", known("ta"))],
            ),
            (
                "inserted first, keyed",
                true,
                vec!["c", "a", "b"],
                vec![
                    ("c", Value::Unknown),
                    ("a", known("ta")),
                    ("b", known("tb")),
                ],
            ),
            (
                "removed first, keyed",
                true,
                vec!["b"],
                vec![("b", known("tb"))],
            ),
            // Without a key, position decides: the fallback.
            (
                "reordered, by position",
                false,
                vec!["b", "a"],
                vec![("b", known("ta")), ("a", known("tb"))],
            ),
            (
                "inserted first, by position",
                false,
                vec!["c", "a", "b"],
                vec![
                    ("c", known("ta")),
                    ("a", known("tb")),
                    ("b", Value::Unknown),
                ],
            ),
        ];
        for (what, key, names, expected) in cases {
            let config = Value::object([(
                "d",
                Value::List(names.iter().map(|n| element(n, "", Value::Null)).collect()),
            )]);
            let mut planned = by_position(&prior, &config);
            mark_computed_unknown(&keyed(key), &mut planned, &prior, &config);
            let expected: Vec<(String, Value)> = expected
                .into_iter()
                .map(|(n, t)| (n.to_string(), t))
                .collect();
            assert_eq!(tokens(&planned), expected, "{what}");
            for e in planned.get("d").elements() {
                assert_eq!(e.get("status"), &Value::Unknown, "{what}: not kept");
            }
        }
    }

    #[test]
    fn a_key_not_known_yet_pairs_with_nothing() {
        let prior = Value::object([("d", Value::List(vec![element("a", "", "ta".into())]))]);
        let mut unknown_key = element("a", "", Value::Null);
        unknown_key.set("name", Value::Unknown);
        let config = Value::object([("d", Value::List(vec![unknown_key]))]);
        let mut planned = by_position(&prior, &config);
        mark_computed_unknown(&keyed(true), &mut planned, &prior, &config);
        assert_eq!(planned.get("d").elements()[0].get("token"), &Value::Unknown);
    }

    #[test]
    fn single_blocks_are_checked_for_replacement() {
        let inner = || {
            Block::new("")
                .attribute(Attribute::optional("kind", Type::String, "").requires_replace())
                .attribute(Attribute::optional("label", Type::String, ""))
        };
        let schema = Block::new("")
            .block(NestedBlock::single("open", inner()))
            .block(NestedBlock::single("sealed", inner()).requires_replace());
        let obj = |kind: &str, label: &str| {
            Value::object([("kind", kind.into()), ("label", label.into())])
        };
        let with = |open: Value, sealed: Value| Value::object([("open", open), ("sealed", sealed)]);
        let root = AttributePath::default();
        let prior = with(obj("k", "l"), obj("k", "l"));
        let cases: Vec<(&str, Value, Vec<AttributePath>)> = vec![
            ("nothing changed", prior.clone(), vec![]),
            (
                "a plain attribute inside",
                with(obj("k", "m"), obj("k", "l")),
                vec![],
            ),
            (
                "a flagged attribute inside",
                with(obj("x", "l"), obj("k", "l")),
                vec![AttributePath::root("open").attribute("kind")],
            ),
            (
                "the open block disappears",
                with(Value::Null, obj("k", "l")),
                vec![AttributePath::root("open").attribute("kind")],
            ),
            (
                "a flagged block changes",
                with(obj("k", "l"), obj("k", "m")),
                vec![AttributePath::root("sealed")],
            ),
            (
                "a flagged block disappears",
                with(obj("k", "l"), Value::Null),
                vec![AttributePath::root("sealed")],
            ),
        ];
        for (what, planned, expected) in cases {
            assert_eq!(
                replace_paths(&schema, &prior, &planned, &root),
                expected,
                "{what}"
            );
        }
        // Appearing counts as much as disappearing.
        let bare = with(Value::Null, Value::Null);
        assert_eq!(
            replace_paths(&schema, &bare, &prior, &root),
            vec![
                AttributePath::root("open").attribute("kind"),
                AttributePath::root("sealed")
            ]
        );
    }

    /// A hook that records the replace paths it was shown and adds its own,
    /// out of order and twice.
    struct Hooked(std::sync::Mutex<Vec<AttributePath>>);

    #[tonic::async_trait]
    impl Resource for Hooked {
        fn type_name(&self) -> &'static str {
            "test_hooked"
        }
        fn schema(&self) -> Schema {
            test_schema()
        }
        async fn modify_plan(&self, _: &PlanChange<'_>, plan: &mut Plan, _: &mut Diagnostics) {
            *self.0.lock().expect("lock") = plan.requires_replace.clone();
            plan.requires_replace.push(AttributePath::root("note"));
            plan.requires_replace
                .push(AttributePath::root("item").index(10));
            plan.requires_replace
                .push(AttributePath::root("item").index(2));
            plan.requires_replace.push(AttributePath::root("name"));
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
    fn the_hook_sees_the_replace_paths_and_the_result_is_sorted_without_duplicates() {
        let hooked = Hooked(std::sync::Mutex::new(Vec::new()));
        let prior = state("a", None);
        let mut proposed = prior.clone();
        proposed.set("name", "b".into());
        let plan = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(plan_resource_change(
                &hooked,
                &test_schema(),
                &prior,
                &proposed,
                &config("b", None),
                &[],
                &mut Diagnostics::new(),
            ));
        assert_eq!(
            *hooked.0.lock().expect("lock"),
            vec![AttributePath::root("name")],
            "the hook runs after the engine's replace paths"
        );
        assert_eq!(
            plan.requires_replace,
            vec![
                AttributePath::root("item").index(2),
                AttributePath::root("item").index(10),
                AttributePath::root("name"),
                AttributePath::root("note"),
            ]
        );
    }
}
