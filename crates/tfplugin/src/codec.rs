//! `DynamicValue` ⇄ [`Value`], driven by the schema's [`Type`].
//!
//! Terraform sends msgpack (JSON only inside raw state). Objects are written
//! with every attribute of their type, null where absent, because Terraform
//! rejects a partial object. An unknown is msgpack extension type 0; any
//! extension is read as unknown (type 12 carries refinements we do not need).

use std::collections::BTreeMap;
use std::fmt;

use rmpv::Value as Mp;

use super::value::{Type, Value};

/// Deep enough for any schema, shallow enough that hostile input cannot
/// exhaust the stack.
const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub struct CodecError {
    /// Where in the value the problem is, e.g. `.domain_info[1].domain_name`.
    pub path: String,
    pub message: String,
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "at {}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for CodecError {}

fn error(path: &str, message: impl Into<String>) -> CodecError {
    CodecError {
        path: path.to_string(),
        message: message.into(),
    }
}

/// Decodes msgpack bytes as a value of type `ty`. Empty input is null, as
/// Terraform treats an empty DynamicValue.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let mut reader = bytes;
    let raw = rmpv::decode::read_value_with_max_depth(&mut reader, MAX_DEPTH)
        .map_err(|e| error("", format!("malformed msgpack: {e}")))?;
    if !reader.is_empty() {
        return Err(error("", "trailing bytes after the msgpack value"));
    }
    from_msgpack(&raw, ty, "")
}

fn from_msgpack(raw: &Mp, ty: &Type, path: &str) -> Result<Value, CodecError> {
    match (raw, ty) {
        (Mp::Nil, _) => Ok(Value::Null),
        (Mp::Ext(_, _), _) => Ok(Value::Unknown),
        (Mp::String(s), Type::String) => s
            .as_str()
            .map(Value::string)
            .ok_or_else(|| error(path, "string is not valid UTF-8")),
        (Mp::Integer(i), Type::Number) => Ok(integer(*i)),
        (Mp::F32(n), Type::Number) => Ok(Value::Number(f64::from(*n))),
        (Mp::F64(n), Type::Number) => Ok(Value::Number(*n)),
        (Mp::String(s), Type::Number) => s
            .as_str()
            .and_then(decimal)
            .ok_or_else(|| error(path, "number string is not a decimal number")),
        (Mp::Boolean(b), Type::Bool) => Ok(Value::Bool(*b)),
        (Mp::Array(items), Type::List(element)) => Ok(Value::List(elements(items, element, path)?)),
        (Mp::Array(items), Type::Set(element)) => Ok(Value::Set(elements(items, element, path)?)),
        (Mp::Map(entries), Type::Map(element)) => {
            let mut map = BTreeMap::new();
            for (key, value) in entries {
                let key = map_key(key, path)?;
                let inner = format!("{path}[{key:?}]");
                map.insert(key, from_msgpack(value, element, &inner)?);
            }
            Ok(Value::Map(map))
        }
        (Mp::Map(entries), Type::Object(attributes)) => {
            let mut object: BTreeMap<String, Value> = attributes
                .keys()
                .map(|name| (name.clone(), Value::Null))
                .collect();
            for (key, value) in entries {
                let key = map_key(key, path)?;
                let inner = format!("{path}.{key}");
                let attr_ty = attributes
                    .get(&key)
                    .ok_or_else(|| error(&inner, "attribute is not in the schema"))?;
                object.insert(key, from_msgpack(value, attr_ty, &inner)?);
            }
            Ok(Value::Object(object))
        }
        (other, ty) => Err(error(
            path,
            format!("expected {}, got msgpack {}", describe(ty), kind(other)),
        )),
    }
}

fn elements(items: &[Mp], element: &Type, path: &str) -> Result<Vec<Value>, CodecError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| from_msgpack(item, element, &format!("{path}[{i}]")))
        .collect()
}

fn map_key(key: &Mp, path: &str) -> Result<String, CodecError> {
    key.as_str()
        .map(str::to_string)
        .ok_or_else(|| error(path, "map key is not a UTF-8 string"))
}

fn describe(ty: &Type) -> &'static str {
    match ty {
        Type::String => "a string",
        Type::Number => "a number",
        Type::Bool => "a bool",
        Type::List(_) => "a list",
        Type::Set(_) => "a set",
        Type::Map(_) => "a map",
        Type::Object(_) => "an object",
    }
}

fn kind(raw: &Mp) -> &'static str {
    match raw {
        Mp::Nil => "nil",
        Mp::Boolean(_) => "bool",
        Mp::Integer(_) => "integer",
        Mp::F32(_) | Mp::F64(_) => "float",
        Mp::String(_) => "string",
        Mp::Binary(_) => "binary",
        Mp::Array(_) => "array",
        Mp::Map(_) => "map",
        Mp::Ext(_, _) => "extension",
    }
}

/// Encodes a value of type `ty` as msgpack.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let raw = to_msgpack(value, ty, "")?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &raw)
        .map_err(|e| error("", format!("msgpack encoding failed: {e}")))?;
    Ok(out)
}

/// Integers beyond 2^53 have no exact 64-bit float: kept as text.
fn integer(i: rmpv::Integer) -> Value {
    const EXACT: u64 = 1 << 53;
    match (i.as_i64(), i.as_u64()) {
        (Some(v), _) if v.unsigned_abs() <= EXACT => Value::Number(v as f64),
        (Some(v), _) => Value::Decimal(v.to_string()),
        (None, Some(v)) => Value::Decimal(v.to_string()),
        (None, None) => Value::Decimal(i.to_string()),
    }
}

/// A number sent as text: a float when one says exactly the same, else
/// kept as sent.
fn decimal(text: &str) -> Option<Value> {
    let n = text.trim().parse::<f64>().ok()?;
    Some(if n.is_finite() && format!("{n}") == text.trim() {
        Value::Number(n)
    } else {
        Value::Decimal(text.to_string())
    })
}

fn to_msgpack(value: &Value, ty: &Type, path: &str) -> Result<Mp, CodecError> {
    Ok(match (value, ty) {
        (Value::Null, _) => Mp::Nil,
        (Value::Unknown, _) => Mp::Ext(0, vec![0]),
        (Value::String(s), Type::String) => Mp::from(s.as_str()),
        (Value::Number(n), Type::Number) => number_to_msgpack(*n),
        (Value::Decimal(text), Type::Number) => Mp::from(text.as_str()),
        (Value::Bool(b), Type::Bool) => Mp::Boolean(*b),
        (Value::List(items), Type::List(element)) | (Value::Set(items), Type::Set(element)) => {
            Mp::Array(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| to_msgpack(item, element, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Value::Map(entries), Type::Map(element)) => Mp::Map(
            entries
                .iter()
                .map(|(key, item)| {
                    let inner = format!("{path}[{key:?}]");
                    Ok((Mp::from(key.as_str()), to_msgpack(item, element, &inner)?))
                })
                .collect::<Result<_, CodecError>>()?,
        ),
        (Value::Object(attrs), Type::Object(attribute_types)) => {
            if let Some(extra) = attrs.keys().find(|k| !attribute_types.contains_key(*k)) {
                return Err(error(
                    &format!("{path}.{extra}"),
                    "attribute is not in the schema",
                ));
            }
            Mp::Map(
                attribute_types
                    .iter()
                    .map(|(name, attr_ty)| {
                        let item = attrs.get(name).unwrap_or(&Value::Null);
                        let inner = format!("{path}.{name}");
                        Ok((Mp::from(name.as_str()), to_msgpack(item, attr_ty, &inner)?))
                    })
                    .collect::<Result<_, CodecError>>()?,
            )
        }
        (_, ty) => {
            return Err(error(
                path,
                format!("value does not match the schema: expected {}", describe(ty)),
            ))
        }
    })
}

/// Whole numbers go out as integers, as Terraform itself writes them.
fn number_to_msgpack(n: f64) -> Mp {
    // -2^63 and 2^63 are exact in f64; everything in between fits an i64.
    const I64_RANGE: std::ops::Range<f64> =
        -9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0;
    if n.fract() == 0.0 && I64_RANGE.contains(&n) {
        Mp::from(n as i64)
    } else {
        Mp::F64(n)
    }
}

/// Decodes JSON (raw state, or a DynamicValue's json field) as type `ty`.
/// JSON cannot hold unknowns.
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    let raw: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| error("", format!("malformed JSON: {e}")))?;
    from_json(&raw, ty, "")
}

/// Converts an already parsed JSON value (e.g. raw state) to type `ty`.
pub fn from_json(raw: &serde_json::Value, ty: &Type, path: &str) -> Result<Value, CodecError> {
    use serde_json::Value as J;
    match (raw, ty) {
        (J::Null, _) => Ok(Value::Null),
        (J::String(s), Type::String) => Ok(Value::string(s.clone())),
        (J::Number(n), Type::Number) => n
            .as_f64()
            .map(Value::Number)
            .ok_or_else(|| error(path, "number out of range")),
        (J::String(s), Type::Number) => {
            decimal(s).ok_or_else(|| error(path, "number string is not a decimal number"))
        }
        (J::Bool(b), Type::Bool) => Ok(Value::Bool(*b)),
        (J::Array(items), Type::List(element)) => {
            Ok(Value::List(json_elements(items, element, path)?))
        }
        (J::Array(items), Type::Set(element)) => {
            Ok(Value::Set(json_elements(items, element, path)?))
        }
        (J::Object(entries), Type::Map(element)) => entries
            .iter()
            .map(|(key, item)| {
                let inner = format!("{path}[{key:?}]");
                Ok((key.clone(), from_json(item, element, &inner)?))
            })
            .collect::<Result<_, _>>()
            .map(Value::Map),
        (J::Object(entries), Type::Object(attribute_types)) => {
            let mut object: BTreeMap<String, Value> = attribute_types
                .keys()
                .map(|name| (name.clone(), Value::Null))
                .collect();
            for (key, item) in entries {
                let inner = format!("{path}.{key}");
                let attr_ty = attribute_types
                    .get(key)
                    .ok_or_else(|| error(&inner, "attribute is not in the schema"))?;
                object.insert(key.clone(), from_json(item, attr_ty, &inner)?);
            }
            Ok(Value::Object(object))
        }
        (_, ty) => Err(error(path, format!("expected {} in JSON", describe(ty)))),
    }
}

/// Reads stored state (JSON) as `ty`, dropping attributes the schema no
/// longer has: a release that removes an attribute must not make every
/// existing state unreadable. Returns the dropped paths too.
pub fn state_from_json(
    raw: &serde_json::Value,
    ty: &Type,
) -> Result<(Value, Vec<String>), CodecError> {
    let mut dropped = Vec::new();
    let pruned = prune(raw, ty, "", &mut dropped);
    from_json(&pruned, ty, "").map(|value| (value, dropped))
}

fn prune(
    raw: &serde_json::Value,
    ty: &Type,
    path: &str,
    dropped: &mut Vec<String>,
) -> serde_json::Value {
    use serde_json::Value as J;
    match (raw, ty) {
        (J::Object(entries), Type::Object(attribute_types)) => J::Object(
            entries
                .iter()
                .filter_map(|(key, item)| {
                    let inner = format!("{path}.{key}");
                    match attribute_types.get(key) {
                        Some(attr_ty) => Some((key.clone(), prune(item, attr_ty, &inner, dropped))),
                        None => {
                            dropped.push(inner);
                            None
                        }
                    }
                })
                .collect(),
        ),
        (J::Object(entries), Type::Map(element)) => J::Object(
            entries
                .iter()
                .map(|(key, item)| {
                    (
                        key.clone(),
                        prune(item, element, &format!("{path}[{key:?}]"), dropped),
                    )
                })
                .collect(),
        ),
        (J::Array(items), Type::List(element) | Type::Set(element)) => J::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| prune(item, element, &format!("{path}[{i}]"), dropped))
                .collect(),
        ),
        (other, _) => other.clone(),
    }
}

fn json_elements(
    items: &[serde_json::Value],
    element: &Type,
    path: &str,
) -> Result<Vec<Value>, CodecError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| from_json(item, element, &format!("{path}[{i}]")))
        .collect()
}

/// Encodes a wholly known value as JSON.
pub fn encode_json(value: &Value, ty: &Type) -> Result<serde_json::Value, CodecError> {
    use serde_json::Value as J;
    Ok(match (value, ty) {
        (Value::Null, _) => J::Null,
        (Value::Unknown, _) => return Err(error("", "JSON cannot represent an unknown value")),
        (Value::String(s), Type::String) => J::from(s.as_str()),
        (Value::Number(n), Type::Number) => match number_to_msgpack(*n) {
            Mp::Integer(i) => i.as_i64().map_or(J::from(*n), J::from),
            _ => J::from(*n),
        },
        (Value::Decimal(text), Type::Number) => J::from(text.as_str()),
        (Value::Bool(b), Type::Bool) => J::Bool(*b),
        (Value::List(items), Type::List(element)) | (Value::Set(items), Type::Set(element)) => {
            J::Array(
                items
                    .iter()
                    .map(|item| encode_json(item, element))
                    .collect::<Result<_, _>>()?,
            )
        }
        (Value::Map(entries), Type::Map(element)) => J::Object(
            entries
                .iter()
                .map(|(k, item)| Ok((k.clone(), encode_json(item, element)?)))
                .collect::<Result<_, CodecError>>()?,
        ),
        (Value::Object(attrs), Type::Object(attribute_types)) => J::Object(
            attribute_types
                .iter()
                .map(|(name, attr_ty)| {
                    let item = attrs.get(name).unwrap_or(&Value::Null);
                    Ok((name.clone(), encode_json(item, attr_ty)?))
                })
                .collect::<Result<_, CodecError>>()?,
        ),
        (_, ty) => {
            return Err(error(
                "",
                format!("value does not match the schema: expected {}", describe(ty)),
            ))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn everything_type() -> Type {
        Type::object([
            ("s", Type::String),
            ("n", Type::Number),
            ("f", Type::Number),
            ("b", Type::Bool),
            ("l", Type::list(Type::String)),
            ("set", Type::set(Type::Number)),
            ("m", Type::map(Type::Bool)),
            (
                "nested",
                Type::list(Type::object([("x", Type::String), ("y", Type::Number)])),
            ),
        ])
    }

    fn everything_value() -> Value {
        Value::object([
            ("s", Value::from("héllo")),
            ("n", Value::Number(42.0)),
            ("f", Value::Number(-1.5)),
            ("b", Value::Bool(true)),
            (
                "l",
                Value::List(vec!["a".into(), Value::Null, Value::Unknown]),
            ),
            (
                "set",
                Value::Set(vec![Value::Number(1.0), Value::Number(2.0)]),
            ),
            (
                "m",
                Value::Map(BTreeMap::from([("k".to_string(), Value::Bool(false))])),
            ),
            (
                "nested",
                Value::List(vec![
                    Value::object([("x", "1".into()), ("y", Value::Unknown)]),
                    Value::object([("x", Value::Null), ("y", Value::Number(7.0))]),
                ]),
            ),
        ])
    }

    #[test]
    fn msgpack_round_trips_every_type_null_and_unknown() {
        let ty = everything_type();
        let value = everything_value();
        let bytes = encode_msgpack(&value, &ty).unwrap();
        assert_eq!(decode_msgpack(&bytes, &ty).unwrap(), value);
    }

    #[test]
    fn objects_are_written_with_every_attribute() {
        let ty = Type::object([("a", Type::String), ("b", Type::String)]);
        let bytes = encode_msgpack(&Value::object([("a", "x".into())]), &ty).unwrap();
        let raw = rmpv::decode::read_value(&mut &bytes[..]).unwrap();
        let map = raw.as_map().unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map[1], (Mp::from("b"), Mp::Nil));
    }

    #[test]
    fn unknown_is_extension_zero_and_any_extension_reads_as_unknown() {
        let bytes = encode_msgpack(&Value::Unknown, &Type::String).unwrap();
        assert_eq!(bytes, vec![0xd4, 0x00, 0x00]);
        // A refined unknown (extension 12) with a "not null" refinement.
        let refined = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc2];
        assert_eq!(
            decode_msgpack(&refined, &Type::String).unwrap(),
            Value::Unknown
        );
    }

    #[test]
    fn numbers_may_arrive_as_floats_or_decimal_strings() {
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &Mp::from("12.5")).unwrap();
        assert_eq!(
            decode_msgpack(&bytes, &Type::Number).unwrap(),
            Value::Number(12.5)
        );
        let bytes = encode_msgpack(&Value::Number(3.0), &Type::Number).unwrap();
        assert_eq!(bytes, vec![0x03], "whole numbers are written as integers");
    }

    #[test]
    fn empty_input_is_null() {
        assert_eq!(
            decode_msgpack(&[], &everything_type()).unwrap(),
            Value::Null
        );
        assert_eq!(decode_json(&[], &everything_type()).unwrap(), Value::Null);
    }

    #[test]
    fn malformed_msgpack_is_an_error_not_a_panic() {
        let ty = everything_type();
        for bad in [
            &[0xa5, b'a'][..],                   // string shorter than its length
            &[0x92, 0x01][..],                   // array of 2 with one element
            &[0xdd, 0xff, 0xff, 0xff, 0xff][..], // huge array length, no data
            &[0xa3, 0xff, 0xfe, 0xfd][..],       // invalid UTF-8 string
            &[0x01, 0x02][..],                   // trailing bytes
        ] {
            assert!(
                decode_msgpack(bad, &ty).is_err(),
                "{bad:?} should be rejected"
            );
        }
        let deep: Vec<u8> = std::iter::repeat_n(0x91, 10_000).chain([0xc0]).collect();
        assert!(decode_msgpack(&deep, &Type::list(Type::String)).is_err());
    }

    #[test]
    fn type_mismatches_name_the_path() {
        let ty = Type::object([("a", Type::list(Type::Number))]);
        let value = Value::object([("a", Value::List(vec!["x".into()]))]);
        let bytes = {
            let mut out = Vec::new();
            let raw = Mp::Map(vec![(Mp::from("a"), Mp::Array(vec![Mp::from("x")]))]);
            rmpv::encode::write_value(&mut out, &raw).unwrap();
            out
        };
        let err = decode_msgpack(&bytes, &ty).unwrap_err();
        assert_eq!(err.path, ".a[0]");
        assert!(encode_msgpack(&value, &ty).is_err());
    }

    #[test]
    fn json_round_trips_known_values() {
        let ty = everything_type();
        let mut value = everything_value();
        // JSON has no unknowns: replace them with nulls first.
        value.set("l", Value::List(vec!["a".into(), Value::Null]));
        value.set(
            "nested",
            Value::List(vec![Value::object([
                ("x", "1".into()),
                ("y", Value::Number(2.0)),
            ])]),
        );
        let json = encode_json(&value, &ty).unwrap();
        let bytes = serde_json::to_vec(&json).unwrap();
        assert_eq!(decode_json(&bytes, &ty).unwrap(), value);
        assert!(encode_json(&Value::Unknown, &Type::String).is_err());
        assert!(decode_json(b"{not json", &ty).is_err());
    }

    #[test]
    fn numbers_no_float_can_hold_round_trip_as_sent() {
        for text in ["6.000000000000000000001", "1e400"] {
            let bytes = {
                let mut out = Vec::new();
                rmpv::encode::write_value(&mut out, &Mp::from(text)).unwrap();
                out
            };
            let value = decode_msgpack(&bytes, &Type::Number).unwrap();
            assert_eq!(value, Value::Decimal(text.to_string()));
            assert_eq!(encode_msgpack(&value, &Type::Number).unwrap(), bytes);
            assert_eq!(value.as_f64(), None, "never silently rounded");
        }
        let big = (1i64 << 53) + 1;
        let mut bytes = Vec::new();
        rmpv::encode::write_value(&mut bytes, &Mp::from(big)).unwrap();
        assert_eq!(
            decode_msgpack(&bytes, &Type::Number).unwrap(),
            Value::Decimal(big.to_string())
        );
        let mut exact = Vec::new();
        rmpv::encode::write_value(&mut exact, &Mp::from(1i64 << 53)).unwrap();
        assert_eq!(
            decode_msgpack(&exact, &Type::Number).unwrap(),
            Value::Number((1u64 << 53) as f64)
        );
        let nested = Value::object([
            ("n", Value::Decimal("1e400".into())),
            ("m", Value::Number(1.0)),
        ]);
        use crate::diagnostics::AttributePath;
        let found = nested.inexact_numbers(&AttributePath::default());
        assert_eq!(found, vec![(AttributePath::root("n"), "1e400".to_string())]);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    /// The shape of a resource value: strings, numbers, a list of objects,
    /// a map, each of which may be null or unknown.
    fn ty() -> Type {
        Type::object([
            ("s", Type::String),
            ("n", Type::Number),
            ("b", Type::Bool),
            (
                "items",
                Type::list(Type::object([("k", Type::String), ("v", Type::Number)])),
            ),
            ("tags", Type::map(Type::String)),
        ])
    }

    fn leaf(known: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
        prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
    }

    fn value() -> impl Strategy<Value = Value> {
        let text = || leaf(".{0,12}".prop_map(Value::string).boxed());
        let number = || {
            leaf(
                prop_oneof![
                    (-1e15f64..1e15).prop_map(Value::Number),
                    any::<i32>().prop_map(|i| Value::Number(f64::from(i))),
                    "[1-9][0-9]{0,3}\\.[0-9]{25}".prop_map(Value::Decimal),
                ]
                .boxed(),
            )
        };
        let item = (text(), number()).prop_map(|(k, v)| Value::object([("k", k), ("v", v)]));
        (
            text(),
            number(),
            leaf(any::<bool>().prop_map(Value::Bool).boxed()),
            prop::collection::vec(item, 0..4),
            prop::collection::btree_map("[a-z]{1,5}", text(), 0..4),
        )
            .prop_map(|(s, n, b, items, tags)| {
                Value::object([
                    ("s", s),
                    ("n", n),
                    ("b", b),
                    ("items", Value::List(items)),
                    ("tags", Value::Map(tags)),
                ])
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn msgpack_round_trips_every_value(value in value()) {
            let bytes = encode_msgpack(&value, &ty()).expect("encodes");
            prop_assert_eq!(decode_msgpack(&bytes, &ty()).expect("decodes"), value);
        }

        #[test]
        fn any_bytes_decode_or_are_an_error(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = decode_msgpack(&bytes, &ty());
        }

        #[test]
        fn any_json_state_reads_or_is_an_error(text in "(?s).{0,200}") {
            if let Ok(json) = serde_json::from_str::<serde_json::Value>(&text) {
                let _ = state_from_json(&json, &ty());
            }
        }
    }
}
