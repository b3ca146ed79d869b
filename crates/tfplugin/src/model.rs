//! Typed models: a resource declares its configuration and state as Rust
//! types, decoded once from a [`Value`] where a request comes in and encoded
//! once where the answer goes out. Resource code then reads fields, never
//! looks an attribute up by its name.
//!
//! A model is written with [`model!`]: the Rust field names are the schema's
//! attribute names, so one name is stated once. [`Field`] carries what
//! Terraform's values can be while planning (null, unknown, known); plain
//! types (`String`, `Vec<T>`, …) are for values that are always known, and
//! [`Option`] for values that are known or null.

use std::collections::BTreeMap;

use super::diagnostics::{AttributePath, Diagnostic, Severity};
use super::value::Value;

/// Why a value does not fit its model: a bug in the model or the schema, or
/// a value Terraform should not have sent. Reported at the attribute.
pub fn mismatch(at: &AttributePath, problem: impl Into<String>) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        summary: "Value does not fit the provider's model".into(),
        detail: format!(
            "{}: {}. This is a bug in the provider; please report it with the configuration.",
            if at.0.is_empty() {
                "the object".to_string()
            } else {
                at.to_string()
            },
            problem.into()
        ),
        path: (!at.0.is_empty()).then(|| at.clone()),
    }
}

/// A type read from a [`Value`]; errors name the attribute path.
pub trait FromValue: Sized {
    fn from_value(value: &Value, at: &AttributePath) -> Result<Self, Diagnostic>;
}

/// A type written as a [`Value`].
pub trait IntoValue {
    fn into_value(self) -> Value;
}

/// A whole object of a schema, read and written as one: what a resource's
/// model implements (through [`model!`]).
pub trait Model: FromValue + IntoValue {
    /// The attribute and block names, in declaration order: compared with
    /// the schema by a test, so a model and its schema cannot drift apart.
    fn attributes() -> Vec<&'static str>;

    /// Reads a whole object; an error is a diagnostic at the attribute.
    fn decode(value: &Value) -> Result<Self, Diagnostic> {
        Self::from_value(value, &AttributePath::default())
    }

    fn encode(self) -> Value {
        self.into_value()
    }
}

/// One attribute while planning: null, not known until apply, or known.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Field<T> {
    #[default]
    Null,
    Unknown,
    Known(T),
}

impl<T> Field<T> {
    pub fn known(&self) -> Option<&T> {
        match self {
            Field::Known(value) => Some(value),
            _ => None,
        }
    }

    pub fn into_known(self) -> Option<T> {
        match self {
            Field::Known(value) => Some(value),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Field::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Field::Unknown)
    }

    pub fn is_known(&self) -> bool {
        matches!(self, Field::Known(_))
    }

    pub fn as_ref(&self) -> Field<&T> {
        match self {
            Field::Null => Field::Null,
            Field::Unknown => Field::Unknown,
            Field::Known(value) => Field::Known(value),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Field<U> {
        match self {
            Field::Null => Field::Null,
            Field::Unknown => Field::Unknown,
            Field::Known(value) => Field::Known(f(value)),
        }
    }
}

impl Field<String> {
    pub fn as_str(&self) -> Option<&str> {
        self.known().map(String::as_str)
    }
}

impl<T> From<Option<T>> for Field<T> {
    fn from(value: Option<T>) -> Field<T> {
        value.map_or(Field::Null, Field::Known)
    }
}

impl From<&str> for Field<String> {
    fn from(value: &str) -> Field<String> {
        Field::Known(value.to_string())
    }
}

impl<T: FromValue> FromValue for Field<T> {
    fn from_value(value: &Value, at: &AttributePath) -> Result<Self, Diagnostic> {
        Ok(match value {
            Value::Null => Field::Null,
            Value::Unknown => Field::Unknown,
            known => Field::Known(T::from_value(known, at)?),
        })
    }
}

impl<T: IntoValue> IntoValue for Field<T> {
    fn into_value(self) -> Value {
        match self {
            Field::Null => Value::Null,
            Field::Unknown => Value::Unknown,
            Field::Known(value) => value.into_value(),
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value, at: &AttributePath) -> Result<Self, Diagnostic> {
        match value {
            Value::Null => Ok(None),
            Value::Unknown => Err(mismatch(
                at,
                "not known, where a known value or null is needed",
            )),
            known => T::from_value(known, at).map(Some),
        }
    }
}

impl<T: IntoValue> IntoValue for Option<T> {
    fn into_value(self) -> Value {
        self.map_or(Value::Null, IntoValue::into_value)
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Unknown => "unknown",
        Value::String(_) => "a string",
        Value::Number(_) | Value::Decimal(_) => "a number",
        Value::Bool(_) => "a bool",
        Value::List(_) => "a list",
        Value::Set(_) => "a set",
        Value::Map(_) => "a map",
        Value::Object(_) => "an object",
    }
}

fn expected(at: &AttributePath, what: &str, value: &Value) -> Diagnostic {
    mismatch(at, format!("expected {what}, got {}", kind(value)))
}

impl FromValue for String {
    fn from_value(value: &Value, at: &AttributePath) -> Result<Self, Diagnostic> {
        value
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| expected(at, "a string", value))
    }
}

impl IntoValue for String {
    fn into_value(self) -> Value {
        Value::String(self)
    }
}

impl FromValue for bool {
    fn from_value(value: &Value, at: &AttributePath) -> Result<Self, Diagnostic> {
        value.as_bool().ok_or_else(|| expected(at, "a bool", value))
    }
}

impl IntoValue for bool {
    fn into_value(self) -> Value {
        Value::Bool(self)
    }
}

/// Numbers stay `f64`, as Terraform sends them: a rule that wants a whole
/// number says so in its own words (see the provider's validators).
impl FromValue for f64 {
    fn from_value(value: &Value, at: &AttributePath) -> Result<Self, Diagnostic> {
        value
            .as_f64()
            .ok_or_else(|| expected(at, "a number", value))
    }
}

impl IntoValue for f64 {
    fn into_value(self) -> Value {
        Value::Number(self)
    }
}

/// A list or a set: the schema's type decides which the codec writes.
impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(value: &Value, at: &AttributePath) -> Result<Self, Diagnostic> {
        match value {
            Value::List(items) | Value::Set(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| T::from_value(item, &at.clone().index(i)))
                .collect(),
            other => Err(expected(at, "a list", other)),
        }
    }
}

impl<T: IntoValue> IntoValue for Vec<T> {
    fn into_value(self) -> Value {
        Value::List(self.into_iter().map(IntoValue::into_value).collect())
    }
}

impl<T: FromValue> FromValue for BTreeMap<String, T> {
    fn from_value(value: &Value, at: &AttributePath) -> Result<Self, Diagnostic> {
        match value {
            Value::Map(items) => items
                .iter()
                .map(|(key, item)| Ok((key.clone(), T::from_value(item, &at.clone().key(key))?)))
                .collect(),
            other => Err(expected(at, "a map", other)),
        }
    }
}

impl<T: IntoValue> IntoValue for BTreeMap<String, T> {
    fn into_value(self) -> Value {
        Value::Map(
            self.into_iter()
                .map(|(key, item)| (key, item.into_value()))
                .collect(),
        )
    }
}

/// The attribute name of a field: its Rust name, less the `r#` that a
/// name such as `type` needs in Rust.
#[doc(hidden)]
pub fn name(field: &'static str) -> &'static str {
    field.strip_prefix("r#").unwrap_or(field)
}

/// The attribute `name` of an object value, for [`model!`]'s decoder: the
/// one place where a name is looked up, next to the declaration it came from.
#[doc(hidden)]
pub fn attribute<'v>(
    value: &'v Value,
    name: &str,
    at: &AttributePath,
) -> Result<&'v Value, Diagnostic> {
    static NULL: Value = Value::Null;
    match value {
        Value::Object(attributes) => Ok(attributes.get(name).unwrap_or(&NULL)),
        other => Err(expected(at, "an object", other)),
    }
}

/// Declares a model: a struct whose fields are the attributes of an object
/// of the schema (same names), with its decoder and encoder.
///
/// ```ignore
/// model! {
///     /// One `domain_info` block.
///     pub struct DomainInfo {
///         pub domain_name: Field<String>,
///         pub dcv_method: Field<String>,
///         pub dcv_email: Field<String>,
///     }
/// }
/// ```
#[macro_export]
macro_rules! model {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[$field_meta:meta])* $field_vis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default)]
        $vis struct $name {
            $( $(#[$field_meta])* $field_vis $field: $ty, )*
        }

        impl $crate::model::FromValue for $name {
            fn from_value(
                value: &$crate::Value,
                at: &$crate::AttributePath,
            ) -> Result<Self, $crate::Diagnostic> {
                Ok($name {
                    $( $field: {
                        let name = $crate::model::name(stringify!($field));
                        let at = at.clone().attribute(name);
                        let item = $crate::model::attribute(value, name, &at)?;
                        $crate::model::FromValue::from_value(item, &at)?
                    }, )*
                })
            }
        }

        impl $crate::model::IntoValue for $name {
            fn into_value(self) -> $crate::Value {
                $crate::Value::object([
                    $( (
                        $crate::model::name(stringify!($field)),
                        $crate::model::IntoValue::into_value(self.$field),
                    ), )*
                ])
            }
        }

        impl $crate::model::Model for $name {
            fn attributes() -> Vec<&'static str> {
                vec![ $( $crate::model::name(stringify!($field)) ),* ]
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Attribute, Block, NestedBlock, Type};

    crate::model! {
        struct Item {
            r#type: String,
            note: Field<String>,
        }
    }

    crate::model! {
        struct Thing {
            size: Field<f64>,
            tags: Option<BTreeMap<String, String>>,
            item: Vec<Item>,
        }
    }

    fn thing() -> Value {
        Value::object([
            ("size", Value::Unknown),
            (
                "tags",
                Value::Map(BTreeMap::from([("a".into(), "b".into())])),
            ),
            (
                "item",
                Value::List(vec![Value::object([
                    ("type", "x".into()),
                    ("note", Value::Null),
                ])]),
            ),
        ])
    }

    #[test]
    fn a_model_reads_and_writes_the_same_value() {
        let decoded = Thing::decode(&thing()).unwrap();
        assert_eq!(decoded.size, Field::Unknown);
        assert_eq!(decoded.item[0].r#type, "x");
        assert_eq!(decoded.item[0].note, Field::Null);
        assert_eq!(decoded.encode(), thing());
    }

    #[test]
    fn a_value_that_does_not_fit_is_reported_at_its_path() {
        let mut value = thing();
        if let Value::Object(attributes) = &mut value {
            attributes.insert(
                "item".into(),
                Value::List(vec![Value::object([("type", Value::Bool(true))])]),
            );
        }
        let error = Thing::decode(&value).unwrap_err();
        assert_eq!(error.path.unwrap().to_string(), "item[0].type");
        assert!(
            error.detail.contains("expected a string, got a bool"),
            "{}",
            error.detail
        );
    }

    #[test]
    fn a_missing_known_value_is_an_error_never_a_default() {
        let value = Value::object([("item", Value::List(vec![Value::object([])]))]);
        let error = Thing::decode(&value).unwrap_err();
        assert_eq!(error.path.unwrap().to_string(), "item[0].type");
        assert!(error.detail.contains("got null"), "{}", error.detail);
    }

    #[test]
    fn attribute_names_come_from_the_declaration() {
        assert_eq!(Thing::attributes(), ["size", "tags", "item"]);
        let schema = Block::new("")
            .attribute(Attribute::optional("size", Type::Number, ""))
            .attribute(Attribute::optional("tags", Type::map(Type::String), ""))
            .block(NestedBlock::list(
                "item",
                Block::new("")
                    .attribute(Attribute::required("type", Type::String, ""))
                    .attribute(Attribute::optional("note", Type::String, "")),
            ));
        assert_eq!(
            schema.value_type().attribute_names(),
            sorted(&Thing::attributes())
        );
    }

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        names.sort();
        names
    }
}
