//! Schemas: attributes and nested blocks, in declared order, with the plan
//! behaviour (`requires_replace`, `use_state_for_unknown`, defaults) written
//! beside each attribute so a resource reads like its documentation.

use std::sync::Arc;

use super::diagnostics::{AttributePath, Diagnostics, Step};
use super::value::{Type, Value};

/// Why a value is refused: a short title and "expected X, got Y" with the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub summary: String,
    pub detail: String,
}

type Check = dyn Fn(&AttributePath, &Value) -> Result<(), Invalid> + Send + Sync;

/// A named check of one attribute, attached to it in the schema: the engine
/// runs it on every known, non-null value at validation, and the docs render
/// its description beside the attribute.
#[derive(Clone)]
pub struct Validator {
    pub description: String,
    check: Arc<Check>,
}

impl Validator {
    pub fn new(
        description: impl Into<String>,
        check: impl Fn(&AttributePath, &Value) -> Result<(), Invalid> + Send + Sync + 'static,
    ) -> Validator {
        Validator {
            description: description.into(),
            check: Arc::new(check),
        }
    }

    pub fn check(&self, at: &AttributePath, value: &Value) -> Result<(), Invalid> {
        (self.check)(at, value)
    }
}

impl std::fmt::Debug for Validator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Validator({:?})", self.description)
    }
}

/// The name of the attribute a path ends at (for titles such as "Invalid email").
pub fn attribute_name(at: &AttributePath) -> &str {
    at.0.iter()
        .rev()
        .find_map(|step| match step {
            Step::Attribute(name) => Some(name.as_str()),
            _ => None,
        })
        .unwrap_or_default()
}

/// How an attribute is set: by the user, by the provider, or either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Required,
    Optional,
    /// Set by the user, or by the provider when the user leaves it out.
    OptionalComputed,
    Computed,
}

impl Mode {
    pub fn is_computed(self) -> bool {
        matches!(self, Mode::Computed | Mode::OptionalComputed)
    }
}

#[derive(Debug, Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: Type,
    pub mode: Mode,
    pub description: String,
    pub sensitive: bool,
    /// A change of this attribute replaces the resource.
    pub requires_replace: bool,
    /// Keep the prior value in the plan instead of marking it unknown.
    pub use_state_for_unknown: bool,
    /// The value planned when the configuration leaves the attribute null.
    pub default: Option<Value>,
    /// Run in order on a known value; the first refusal is reported.
    pub validators: Vec<Validator>,
}

impl Attribute {
    fn new(name: &str, ty: Type, mode: Mode, description: &str) -> Attribute {
        Attribute {
            name: name.to_string(),
            ty,
            mode,
            description: description.to_string(),
            sensitive: false,
            requires_replace: false,
            use_state_for_unknown: false,
            default: None,
            validators: Vec::new(),
        }
    }

    pub fn required(name: &str, ty: Type, description: &str) -> Attribute {
        Attribute::new(name, ty, Mode::Required, description)
    }

    pub fn optional(name: &str, ty: Type, description: &str) -> Attribute {
        Attribute::new(name, ty, Mode::Optional, description)
    }

    pub fn optional_computed(name: &str, ty: Type, description: &str) -> Attribute {
        Attribute::new(name, ty, Mode::OptionalComputed, description)
    }

    pub fn computed(name: &str, ty: Type, description: &str) -> Attribute {
        Attribute::new(name, ty, Mode::Computed, description)
    }

    pub fn sensitive(mut self) -> Attribute {
        self.sensitive = true;
        self
    }

    pub fn requires_replace(mut self) -> Attribute {
        self.requires_replace = true;
        self
    }

    pub fn use_state_for_unknown(mut self) -> Attribute {
        self.use_state_for_unknown = true;
        self
    }

    pub fn validate_with(mut self, validator: Validator) -> Attribute {
        self.validators.push(validator);
        self
    }

    /// Only meaningful on optional+computed attributes, which Terraform lets
    /// the provider fill in.
    pub fn default(mut self, value: Value) -> Attribute {
        debug_assert_eq!(
            self.mode,
            Mode::OptionalComputed,
            "defaults need Optional+Computed"
        );
        self.default = Some(value);
        self
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// At most one block; null when absent.
    Single,
    /// Ordered blocks; an empty list when absent.
    List,
}

#[derive(Debug, Clone)]
pub struct NestedBlock {
    pub name: String,
    pub nesting: Nesting,
    pub block: Block,
    pub min_items: i64,
    pub max_items: i64,
    pub requires_replace: bool,
    /// For a list block: the attribute that identifies an element (such
    /// as `domain_name`), so planning pairs a prior element with the
    /// configured one by it, not by position. `None`: by position.
    pub key_attribute: Option<String>,
}

impl NestedBlock {
    pub fn single(name: &str, block: Block) -> NestedBlock {
        NestedBlock {
            name: name.to_string(),
            nesting: Nesting::Single,
            block,
            min_items: 0,
            max_items: 0,
            requires_replace: false,
            key_attribute: None,
        }
    }

    pub fn list(name: &str, block: Block) -> NestedBlock {
        NestedBlock {
            nesting: Nesting::List,
            ..NestedBlock::single(name, block)
        }
    }

    /// A required single block (Terraform reports its absence itself).
    pub fn required(mut self) -> NestedBlock {
        self.min_items = 1;
        if self.nesting == Nesting::Single {
            self.max_items = 1;
        }
        self
    }

    pub fn min_items(mut self, n: i64) -> NestedBlock {
        self.min_items = n;
        self
    }

    pub fn requires_replace(mut self) -> NestedBlock {
        self.requires_replace = true;
        self
    }

    /// Elements of this list block are identified by `attribute`: a
    /// reordered or inserted element keeps its own prior values
    /// (`use_state_for_unknown`) instead of those of its position.
    pub fn key(mut self, attribute: &str) -> NestedBlock {
        debug_assert!(
            self.block.find_attribute(attribute).is_some(),
            "key attribute {attribute:?} is not in block {:?}",
            self.name
        );
        self.key_attribute = Some(attribute.to_string());
        self
    }

    pub fn value_type(&self) -> Type {
        let object = self.block.value_type();
        match self.nesting {
            Nesting::Single => object,
            Nesting::List => Type::list(object),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Block {
    pub description: String,
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
}

impl Block {
    pub fn new(description: &str) -> Block {
        Block {
            description: description.to_string(),
            ..Block::default()
        }
    }

    pub fn attribute(mut self, attribute: Attribute) -> Block {
        self.attributes.push(attribute);
        self
    }

    pub fn attributes(mut self, attributes: impl IntoIterator<Item = Attribute>) -> Block {
        self.attributes.extend(attributes);
        self
    }

    pub fn block(mut self, block: NestedBlock) -> Block {
        self.blocks.push(block);
        self
    }

    /// The object type of one instance of this block.
    pub fn value_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone()))
                .chain(self.blocks.iter().map(|b| (b.name.clone(), b.value_type())))
                .collect(),
        )
    }

    pub fn find_attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// Runs every attribute's validators over `value` (an object of this
    /// block), nested blocks included; unknown and null values are skipped.
    pub fn run_validators(&self, value: &Value, at: &AttributePath, diags: &mut Diagnostics) {
        let Value::Object(attributes) = value else {
            return;
        };
        for attribute in &self.attributes {
            let Some(item) = attributes.get(&attribute.name) else {
                continue;
            };
            if item.is_null() || item.is_unknown() {
                continue;
            }
            let path = at.clone().attribute(&attribute.name);
            if let Some(invalid) = attribute
                .validators
                .iter()
                .find_map(|v| v.check(&path, item).err())
            {
                diags.attribute_error(path, invalid.summary, invalid.detail);
            }
        }
        for nested in &self.blocks {
            let path = at.clone().attribute(&nested.name);
            match (nested.nesting, attributes.get(&nested.name)) {
                (Nesting::Single, Some(item)) => nested.block.run_validators(item, &path, diags),
                (Nesting::List, Some(Value::List(items))) => {
                    for (i, item) in items.iter().enumerate() {
                        nested
                            .block
                            .run_validators(item, &path.clone().index(i), diags);
                    }
                }
                _ => {}
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Schema {
    /// Bumped when the stored state's shape changes; see `upgrade_state`.
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new(version: i64, block: Block) -> Schema {
        Schema { version, block }
    }

    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shorter_than(n: usize) -> Validator {
        Validator::new(
            format!("At most {n} characters."),
            move |at, value| match value.as_str() {
                Some(text) if text.len() > n => Err(Invalid {
                    summary: format!("Invalid {}", attribute_name(at)),
                    detail: format!("{at} has {} characters; use at most {n}.", text.len()),
                }),
                _ => Ok(()),
            },
        )
    }

    #[test]
    fn validators_run_on_known_values_in_nested_blocks_at_their_path() {
        let block = Block::new("")
            .attribute(Attribute::optional("a", Type::String, "").validate_with(shorter_than(2)))
            .block(NestedBlock::list(
                "item",
                Block::new("").attribute(
                    Attribute::optional("b", Type::String, "").validate_with(shorter_than(1)),
                ),
            ));
        let cases: Vec<(Value, Vec<&str>)> = vec![
            (Value::object([("a", "ok".into())]), vec![]),
            (Value::object([("a", "long".into())]), vec!["a"]),
            (Value::object([("a", Value::Unknown)]), vec![]),
            (
                Value::object([
                    ("a", Value::Null),
                    (
                        "item",
                        Value::List(vec![
                            Value::object([("b", "".into())]),
                            Value::object([("b", "xy".into())]),
                        ]),
                    ),
                ]),
                vec!["item[1].b"],
            ),
        ];
        for (value, expected) in cases {
            let mut diags = Diagnostics::new();
            block.run_validators(&value, &AttributePath::default(), &mut diags);
            let paths: Vec<String> = diags
                .iter()
                .map(|d| d.path.as_ref().map(ToString::to_string).unwrap_or_default())
                .collect();
            assert_eq!(paths, expected, "{value:?}");
            for d in diags.iter() {
                assert!(d.summary.starts_with("Invalid "), "{}", d.summary);
            }
        }
    }

    #[test]
    fn block_type_includes_nested_blocks_by_nesting_mode() {
        let block = Block::new("")
            .attribute(Attribute::required("a", Type::String, ""))
            .block(NestedBlock::single(
                "one",
                Block::new("").attribute(Attribute::optional("x", Type::Bool, "")),
            ))
            .block(NestedBlock::list("many", Block::new("")));
        assert_eq!(
            block.value_type().to_json().to_string(),
            r#"["object",{"a":"string","many":["list",["object",{}]],"one":["object",{"x":"bool"}]}]"#
        );
    }
}
