//! The contact block shared by `administrator`, `finance` and `tech`
//! (the renew call's `Administrator`, `finance` and `tech`), written once.

use crate::nicsrs;
use crate::plugin::{Attribute, AttributePath, Block, Diagnostics, Type, Value};

use crate::nicsrs::rules;

/// (attribute, what it holds) in the seed's order.
pub const CONTACT_FIELDS: [(&str, &str); 11] = [
    ("job", "job title"),
    ("city", "city"),
    ("email", "e-mail address"),
    ("state", "state or province"),
    ("mobile", "phone number, digits only (e.g. \"18111111111\")"),
    ("address", "street address"),
    (
        "country",
        "two-letter ISO 3166-1 country code (e.g. \"CN\")",
    ),
    ("last_name", "last name"),
    ("post_code", "postal code"),
    ("first_name", "first name"),
    ("organization", "organization name"),
];

/// A contact block; every field required (`administrator`) or optional.
pub fn contact_block(description: &str, required: bool) -> Block {
    Block::new(description).attributes(CONTACT_FIELDS.iter().map(|(name, what)| {
        let description = format!("The contact's {what}.");
        if required {
            Attribute::required(name, Type::String, &description)
        } else {
            Attribute::optional(name, Type::String, &description)
        }
    }))
}

/// Checks what is set, with the rules the API applies.
pub fn validate_contact(block: &Value, path: &AttributePath, diags: &mut Diagnostics) {
    validate_fields(block, path, &CONTACT_FIELDS.map(|(name, _)| name), diags);
}

/// The fields `names` of a contact or organization block, as far as they
/// are set: text the API can store, and by name the e-mail address, the
/// phone number and the country code.
pub fn validate_fields(
    block: &Value,
    path: &AttributePath,
    names: &[&str],
    diags: &mut Diagnostics,
) {
    for name in names {
        let Some(value) = block.get(name).as_str() else {
            continue;
        };
        let label = format!("{path}.{name}");
        let outcome = rules::text(&label, value).and_then(|()| match *name {
            "email" => rules::email(&label, value),
            "country" => rules::country(&label, value),
            "mobile" => rules::mobile(&label, value),
            _ => Ok(()),
        });
        if let Err(problem) = outcome {
            let title = if value.trim().is_empty() {
                "Empty field".to_string()
            } else {
                format!("Invalid {name}")
            };
            diags.attribute_error(path.clone().attribute(name), title, problem);
        }
    }
}

fn field(block: &Value, name: &str) -> Option<String> {
    block.get(name).as_str().map(str::to_string)
}

pub fn to_contact(block: &Value) -> nicsrs::Contact {
    nicsrs::Contact {
        job: field(block, "job"),
        city: field(block, "city"),
        email: field(block, "email"),
        state: field(block, "state"),
        mobile: field(block, "mobile"),
        address: field(block, "address"),
        country: field(block, "country"),
        last_name: field(block, "last_name"),
        post_code: field(block, "post_code"),
        first_name: field(block, "first_name"),
        organization: field(block, "organization"),
    }
}
