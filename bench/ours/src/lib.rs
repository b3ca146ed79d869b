//! What the bench programs share: every path they import from the
//! provider's crates (here and nowhere else, so moving a module into its own
//! crate is a few-line change in this file), and the renewal state they
//! work on.

use std::path::Path;

pub use nicsrs_provider::provider::certificate_renewal::{schema as renewal_schema, TYPE_NAME};
pub use nicsrs_provider::provider::{renew_request, NicsrsProvider};
pub use tfplugin;
/// The attribute macro the plugin layer's traits are written with.
pub use tfplugin::async_trait as tonic_async_trait;
pub use tfplugin::codec;
pub use tfplugin::proto::tfplugin6 as pb;
pub use tfplugin::schema::Mode;
pub use tfplugin::{
    serve, About, Block, DataSource, Diagnostics, Plan, PlanChange, Provider, ProviderService,
    Resource, Schema, Value,
};

/// The variable naming the JSON file of one renewal's state, as Terraform
/// stores it: the `attributes` object of one instance in `terraform.tfstate`,
/// or a whole `terraform.tfstate` (its first renewal is taken).
pub const STATE_ENV: &str = "NICSRS_BENCH_STATE";

/// One renewal's state read from the file named by [`STATE_ENV`], as a value
/// of the current renewal schema.
pub fn renewal_state_from_env() -> Result<Value, String> {
    let path = std::env::var_os(STATE_ENV).ok_or_else(|| {
        format!(
            "{STATE_ENV} is not set: set it to a terraform.tfstate holding a \
             nicsrs_certificate_renewal (bench/run.sh writes one after its first apply)"
        )
    })?;
    renewal_state(Path::new(&path))
}

/// One renewal's state read from `path` (see [`STATE_ENV`] for the forms).
pub fn renewal_state(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{STATE_ENV}: cannot read {}: {e}", path.display()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("{STATE_ENV}: {} is not JSON: {e}", path.display()))?;
    let attributes = match json.get("resources") {
        Some(resources) => resources
            .as_array()
            .into_iter()
            .flatten()
            .filter(|r| r["type"] == TYPE_NAME && r["mode"] == "managed")
            .flat_map(|r| r["instances"].as_array().into_iter().flatten())
            .map(|i| i["attributes"].clone())
            .next()
            .ok_or_else(|| {
                format!(
                    "{STATE_ENV}: {} holds no {TYPE_NAME}; apply one first",
                    path.display()
                )
            })?,
        None => json,
    };
    let (value, dropped) = codec::state_from_json(&attributes, &renewal_schema().value_type())
        .map_err(|e| {
            format!(
                "{STATE_ENV}: {} does not fit the renewal schema ({e}); take it from a \
                 terraform.tfstate written by this provider version",
                path.display()
            )
        })?;
    if !dropped.is_empty() {
        return Err(format!(
            "{STATE_ENV}: {} has attributes the renewal schema no longer has ({}); take it \
             from a terraform.tfstate written by this provider version",
            path.display(),
            dropped.join(", ")
        ));
    }
    Ok(value)
}

/// `planned` with every unknown part replaced by the value at the same place
/// in `template`: what an apply of a no-op resource returns. Known values of
/// the plan are kept, as Terraform requires.
pub fn fill_unknowns(planned: &Value, template: &Value) -> Value {
    const NULL: &Value = &Value::Null;
    match planned {
        Value::Unknown => template.clone(),
        Value::Object(items) => {
            let t = match template {
                Value::Object(t) => Some(t),
                _ => None,
            };
            Value::Object(
                items
                    .iter()
                    .map(|(k, v)| {
                        let tv = t.and_then(|t| t.get(k)).unwrap_or(NULL);
                        (k.clone(), fill_unknowns(v, tv))
                    })
                    .collect(),
            )
        }
        Value::List(items) | Value::Set(items) => {
            let t = match template {
                Value::List(t) | Value::Set(t) => t.as_slice(),
                _ => &[],
            };
            let filled = items
                .iter()
                .enumerate()
                .map(|(i, v)| fill_unknowns(v, t.get(i).unwrap_or(NULL)))
                .collect();
            if matches!(planned, Value::Set(_)) {
                Value::Set(filled)
            } else {
                Value::List(filled)
            }
        }
        Value::Map(items) => Value::Map(
            items
                .iter()
                .map(|(k, v)| {
                    let tv = match template {
                        Value::Map(t) => t.get(k).unwrap_or(NULL),
                        _ => NULL,
                    };
                    (k.clone(), fill_unknowns(v, tv))
                })
                .collect(),
        ),
        known => known.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknowns_take_the_template_and_known_values_stay() {
        let planned = Value::object([
            ("renew_id", Value::string("7000001")),
            ("cert_id", Value::Unknown),
            (
                "dcv",
                Value::List(vec![Value::object([
                    ("name", Value::string("a")),
                    ("value", Value::Unknown),
                ])]),
            ),
            ("gone", Value::Unknown),
        ]);
        let template = Value::object([
            ("renew_id", Value::string("7000000")),
            ("cert_id", Value::string("c1")),
            (
                "dcv",
                Value::List(vec![Value::object([
                    ("name", Value::string("b")),
                    ("value", Value::string("v")),
                ])]),
            ),
        ]);
        let filled = fill_unknowns(&planned, &template);
        assert_eq!(filled.get("renew_id"), &Value::string("7000001"));
        assert_eq!(filled.get("cert_id"), &Value::string("c1"));
        assert_eq!(
            filled.get("dcv"),
            &Value::List(vec![Value::object([
                ("name", Value::string("a")),
                ("value", Value::string("v")),
            ])])
        );
        assert_eq!(filled.get("gone"), &Value::Null);
        assert!(filled.is_wholly_known());
    }
}
