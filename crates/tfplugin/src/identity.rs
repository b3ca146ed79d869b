//! Resource identity (plugin protocol 6.9, Terraform 1.12 and later): the few
//! attributes that name one remote object, stored by Terraform beside the
//! state and accepted by `import { identity = { … } }`.
//!
//! A resource declares its identity as a list of its own top-level state
//! attributes ([`Resource::identity`](super::Resource::identity)); this
//! module derives everything else from that list and the resource schema:
//! the identity schema (types and descriptions taken from the attributes,
//! all required for import, version [`VERSION`]) and the identity data of a
//! state. The identity always follows the state: whatever the resource
//! returns from read, create, update or import is what the identity says.
//!
//! When the state does not know its identity yet (the plan of a create or a
//! replacement, where the ID is "known after apply"), the planned identity
//! is left out (null), which Terraform accepts for creates and replacements.
//! An in-place update must plan a wholly known identity, so when the planned
//! state has lost it (a renewal that rolls to a new order), the prior
//! state's identity is planned and the apply answers with the new one.

use super::schema::Schema;
use super::value::{Type, Value};

/// The identity schema version. Bump it, and teach
/// [`IdentitySchema::upgrade`] the old shape, if the attribute list changes.
pub const VERSION: i64 = 0;

/// One identity attribute: a top-level attribute of the resource schema.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentityAttribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
}

/// The identity of one resource type, derived from its declared attribute
/// names and its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentitySchema {
    pub attributes: Vec<IdentityAttribute>,
}

impl IdentitySchema {
    /// `Ok(None)` for a resource without identity; an error (a provider bug)
    /// when a name is not a top-level attribute or its type cannot be an
    /// identity attribute (only strings, numbers, bools, and lists of them).
    pub fn of(
        type_name: &str,
        names: &[&str],
        schema: &Schema,
    ) -> Result<Option<IdentitySchema>, String> {
        if names.is_empty() {
            return Ok(None);
        }
        let mut attributes = Vec::new();
        for name in names {
            let Some(attribute) = schema.block.find_attribute(name) else {
                return Err(format!(
                    "{type_name} declares identity attribute {name:?}, which its schema does not have \
                     as a top-level attribute. Declare only attributes of the resource's own schema."
                ));
            };
            let allowed = match &attribute.ty {
                Type::List(element) => is_primitive(element),
                ty => is_primitive(ty),
            };
            if !allowed {
                return Err(format!(
                    "{type_name} declares identity attribute {name:?} of type {}; identity attributes \
                     must be strings, numbers, bools, or lists of them.",
                    attribute.ty.to_json()
                ));
            }
            if attributes
                .iter()
                .any(|a: &IdentityAttribute| a.name == *name)
            {
                return Err(format!(
                    "{type_name} declares identity attribute {name:?} twice; name it once."
                ));
            }
            attributes.push(IdentityAttribute {
                name: name.to_string(),
                ty: attribute.ty.clone(),
                description: attribute.description.clone(),
            });
        }
        Ok(Some(IdentitySchema { attributes }))
    }

    /// The object type of identity data.
    pub fn value_type(&self) -> Type {
        Type::Object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone()))
                .collect(),
        )
    }

    /// The identity of a state: `None` when the state is null or any
    /// identity attribute is null or not wholly known (Terraform rejects an
    /// identity with unknowns, and one with nulls names nothing).
    pub fn from_state(&self, state: &Value) -> Option<Value> {
        if !matches!(state, Value::Object(_)) {
            return None;
        }
        let mut identity = std::collections::BTreeMap::new();
        for attribute in &self.attributes {
            let value = state.get(&attribute.name);
            if value.is_null() || !value.is_wholly_known() {
                return None;
            }
            identity.insert(attribute.name.clone(), value.clone());
        }
        Some(Value::Object(identity))
    }

    /// The identity to plan: the planned state's when it is known; else,
    /// for an update or a destroy (a prior object exists), the prior
    /// state's, because Terraform requires a wholly known identity there;
    /// else none (a create or the create half of a replacement).
    pub fn planned(&self, prior: &Value, planned: &Value) -> Option<Value> {
        self.from_state(planned).or_else(|| self.from_state(prior))
    }

    /// Reads stored identity data (JSON, written by identity schema
    /// `version`) as a value of the current identity schema.
    pub fn upgrade(
        &self,
        type_name: &str,
        version: i64,
        raw: &serde_json::Value,
    ) -> Result<Value, String> {
        if version != VERSION {
            return Err(format!(
                "The stored identity of {type_name} has identity version {version}, but this provider \
                 only reads version {VERSION}. Use the provider release that wrote this state, or \
                 remove the resource from the state and import it again."
            ));
        }
        super::codec::state_from_json(raw, &self.value_type())
            .map(|(value, _dropped)| value)
            .map_err(|e| {
                format!(
                    "The stored identity of {type_name} does not match its identity schema: {e}."
                )
            })
    }

    /// The import ID for a single-attribute string identity: the value of
    /// that attribute. `Err` says why there is none.
    pub fn import_id(&self, identity: &Value) -> Result<String, String> {
        let [attribute] = self.attributes.as_slice() else {
            return Err(format!(
                "this identity has {} attributes; the resource must implement import by identity itself",
                self.attributes.len()
            ));
        };
        match identity.get(&attribute.name) {
            Value::String(id) if !id.trim().is_empty() => Ok(id.clone()),
            Value::String(_) => Err(format!(
                "identity.{} is empty; set it to the ID of the object to import",
                attribute.name
            )),
            Value::Null => Err(format!(
                "identity.{} is required for import; set it to the ID of the object to import",
                attribute.name
            )),
            other if other.is_unknown() => Err(format!(
                "identity.{} is not known until apply; import needs a value known at plan time",
                attribute.name
            )),
            _ => Err(format!(
                "identity.{} must be a string; import needs a string ID",
                attribute.name
            )),
        }
    }
}

fn is_primitive(ty: &Type) -> bool {
    matches!(ty, Type::String | Type::Number | Type::Bool)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Attribute, Block, NestedBlock};

    fn schema() -> Schema {
        Schema::new(
            3,
            Block::new("")
                .attribute(Attribute::computed(
                    "cert_id",
                    Type::String,
                    "The order ID.",
                ))
                .attribute(Attribute::optional("years", Type::Number, ""))
                .attribute(Attribute::optional("tags", Type::map(Type::String), ""))
                .block(NestedBlock::single("timeouts", Block::new(""))),
        )
    }

    fn identity() -> IdentitySchema {
        IdentitySchema::of("test_thing", &["cert_id"], &schema())
            .unwrap()
            .unwrap()
    }

    fn state(cert_id: Value) -> Value {
        Value::object([
            ("cert_id", cert_id),
            ("years", Value::Number(1.0)),
            ("tags", Value::Null),
            ("timeouts", Value::Null),
        ])
    }

    #[test]
    fn the_schema_takes_type_and_description_from_the_resource_schema() {
        assert_eq!(
            identity().attributes,
            vec![IdentityAttribute {
                name: "cert_id".into(),
                ty: Type::String,
                description: "The order ID.".into(),
            }]
        );
        assert_eq!(
            identity().value_type().to_json().to_string(),
            r#"["object",{"cert_id":"string"}]"#
        );
        assert_eq!(IdentitySchema::of("test_thing", &[], &schema()), Ok(None));
    }

    #[test]
    fn declarations_the_protocol_cannot_carry_are_refused_with_the_name() {
        for (names, expected) in [
            (&["nope"][..], "\"nope\", which its schema does not have"),
            (
                &["timeouts"][..],
                "\"timeouts\", which its schema does not have",
            ),
            (
                &["tags"][..],
                "must be strings, numbers, bools, or lists of them",
            ),
            (&["cert_id", "cert_id"][..], "twice"),
        ] {
            let error = IdentitySchema::of("test_thing", names, &schema()).unwrap_err();
            assert!(error.contains(expected), "{names:?}: {error}");
            assert!(error.starts_with("test_thing declares"), "{error}");
        }
        assert!(IdentitySchema::of("test_thing", &["years", "cert_id"], &schema()).is_ok());
    }

    #[test]
    fn identity_comes_from_known_state_only() {
        assert_eq!(
            identity().from_state(&state("2611".into())),
            Some(Value::object([("cert_id", "2611".into())]))
        );
        assert_eq!(identity().from_state(&state(Value::Unknown)), None);
        assert_eq!(identity().from_state(&state(Value::Null)), None);
        assert_eq!(identity().from_state(&Value::Null), None);
    }

    #[test]
    fn the_planned_identity_is_null_for_a_create_and_known_for_an_update() {
        let id = identity();
        // Create: the ID is known after apply only.
        assert_eq!(id.planned(&Value::Null, &state(Value::Unknown)), None);
        // Update that keeps the ID.
        let kept = Value::object([("cert_id", "2611".into())]);
        assert_eq!(
            id.planned(&state("2611".into()), &state("2611".into())),
            Some(kept.clone())
        );
        // Update that will change it (a roll): the prior identity, known.
        assert_eq!(
            id.planned(&state("2611".into()), &state(Value::Unknown)),
            Some(kept.clone())
        );
        // Destroy.
        assert_eq!(id.planned(&state("2611".into()), &Value::Null), Some(kept));
    }

    #[test]
    fn stored_identity_of_this_version_is_read_and_others_are_refused() {
        let raw = serde_json::json!({"cert_id": "2611"});
        assert_eq!(
            identity().upgrade("test_thing", 0, &raw),
            Ok(Value::object([("cert_id", "2611".into())]))
        );
        let error = identity().upgrade("test_thing", 1, &raw).unwrap_err();
        assert!(error.contains("identity version 1"), "{error}");
        let error = identity()
            .upgrade("test_thing", 0, &serde_json::json!({"cert_id": 5}))
            .unwrap_err();
        assert!(
            error.contains("does not match its identity schema"),
            "{error}"
        );
    }

    #[test]
    fn the_import_id_is_the_single_string_attribute() {
        let id = identity();
        let with = |v: Value| Value::object([("cert_id", v)]);
        assert_eq!(id.import_id(&with("2611".into())), Ok("2611".into()));
        for (value, expected) in [
            (Value::Null, "identity.cert_id is required for import"),
            ("  ".into(), "identity.cert_id is empty"),
            (Value::Unknown, "not known until apply"),
            (Value::Number(5.0), "must be a string"),
        ] {
            let error = id.import_id(&with(value)).unwrap_err();
            assert!(error.contains(expected), "{error}");
        }
        let two = IdentitySchema::of("test_thing", &["cert_id", "years"], &schema())
            .unwrap()
            .unwrap();
        assert!(two
            .import_id(&Value::object([("cert_id", "1".into())]))
            .unwrap_err()
            .contains("2 attributes"));
    }
}
