//! Schemas: attributes and nested blocks, in declared order, with the plan
//! behaviour (`requires_replace`, `use_state_for_unknown`, defaults) written
//! beside each attribute so a resource reads like its documentation.

use super::value::{Type, Value};

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
