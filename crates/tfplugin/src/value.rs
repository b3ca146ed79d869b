//! Terraform's value model: every value is known, null, or unknown.
//!
//! Values are plain owned trees; their type lives beside them in [`Type`]
//! (taken from the schema), which is what the codec needs to read msgpack and
//! JSON, and to write an object with every attribute present.

use super::diagnostics::AttributePath;
use std::collections::BTreeMap;

/// A cty type, as used in schema attribute `type` fields.
#[derive(Debug, Clone, PartialEq)]
pub enum Type {
    String,
    Number,
    Bool,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(BTreeMap<String, Type>),
}

impl Type {
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    pub fn object<'a>(attributes: impl IntoIterator<Item = (&'a str, Type)>) -> Type {
        Type::Object(
            attributes
                .into_iter()
                .map(|(name, ty)| (name.to_string(), ty))
                .collect(),
        )
    }

    /// The attribute names of an object type (sorted); empty for others.
    /// Models compare their declared names with this.
    pub fn attribute_names(&self) -> Vec<String> {
        match self {
            Type::Object(attributes) => attributes.keys().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// The JSON type expression Terraform expects in `Schema.Attribute.type`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::{json, Value as J};
        match self {
            Type::String => J::from("string"),
            Type::Number => J::from("number"),
            Type::Bool => J::from("bool"),
            Type::List(e) => json!(["list", e.to_json()]),
            Type::Set(e) => json!(["set", e.to_json()]),
            Type::Map(e) => json!(["map", e.to_json()]),
            Type::Object(attrs) => {
                let fields: serde_json::Map<String, J> = attrs
                    .iter()
                    .map(|(name, ty)| (name.clone(), ty.to_json()))
                    .collect();
                json!(["object", fields])
            }
        }
    }
}

/// One value of a Terraform type.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    #[default]
    Null,
    /// Not known until apply. Refinements Terraform may attach are dropped:
    /// they only narrow what the value can become.
    Unknown,
    String(String),
    Number(f64),
    /// A number no 64-bit float equals (`6.000000000000000000001`, `1e400`,
    /// `2^53 + 1`), which Terraform sends as decimal text. Kept exactly as
    /// sent, so a plan round-trips; configuration validation refuses it
    /// (see [`Value::inexact_numbers`]) before any resource code sees it.
    Decimal(String),
    Bool(bool),
    List(Vec<Value>),
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True when neither this value nor anything inside it is unknown.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::List(items) | Value::Set(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(items) | Value::Object(items) => items.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// `Some(s)` becomes a string value, `None` becomes null.
    pub fn opt_string(s: Option<impl Into<String>>) -> Value {
        s.map_or(Value::Null, |s| Value::String(s.into()))
    }

    pub fn object<'a>(attributes: impl IntoIterator<Item = (&'a str, Value)>) -> Value {
        Value::Object(
            attributes
                .into_iter()
                .map(|(name, value)| (name.to_string(), value))
                .collect(),
        )
    }

    /// The attribute `name` of an object; null for anything else or a missing name.
    pub fn get(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        match self {
            Value::Object(attrs) | Value::Map(attrs) => attrs.get(name).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Mutable access to an attribute of an object (inserting null when missing).
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        match self {
            Value::Object(attrs) => Some(attrs.entry(name.to_string()).or_default()),
            _ => None,
        }
    }

    /// Sets an attribute of an object; does nothing on other values.
    pub fn set(&mut self, name: &str, value: Value) {
        if let Value::Object(attrs) = self {
            attrs.insert(name.to_string(), value);
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// Every [`Value::Decimal`] inside this value, with its path.
    pub fn inexact_numbers(&self, at: &AttributePath) -> Vec<(AttributePath, String)> {
        let mut found = Vec::new();
        self.collect_inexact(at, &mut found);
        found
    }

    fn collect_inexact(&self, at: &AttributePath, found: &mut Vec<(AttributePath, String)>) {
        match self {
            Value::Decimal(text) => found.push((at.clone(), text.clone())),
            Value::List(items) | Value::Set(items) => {
                for (i, item) in items.iter().enumerate() {
                    item.collect_inexact(&at.clone().index(i), found);
                }
            }
            Value::Map(items) => {
                for (key, item) in items {
                    item.collect_inexact(&at.clone().key(key), found);
                }
            }
            Value::Object(items) => {
                for (name, item) in items {
                    item.collect_inexact(&at.clone().attribute(name), found);
                }
            }
            _ => {}
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// Elements of a list or set; empty for null, unknown and other values.
    pub fn elements(&self) -> &[Value] {
        match self {
            Value::List(items) | Value::Set(items) => items,
            _ => &[],
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_string())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Number(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_expressions_are_the_json_terraform_expects() {
        let ty = Type::object([
            ("a", Type::list(Type::String)),
            ("b", Type::map(Type::Number)),
            ("c", Type::set(Type::Bool)),
        ]);
        assert_eq!(
            ty.to_json().to_string(),
            r#"["object",{"a":["list","string"],"b":["map","number"],"c":["set","bool"]}]"#
        );
    }

    #[test]
    fn wholly_known_looks_inside_collections() {
        let v = Value::object([("a", Value::List(vec![Value::Unknown]))]);
        assert!(!v.is_wholly_known());
        assert!(Value::object([("a", Value::Null)]).is_wholly_known());
    }
}
