//! The contact block shared by `administrator`, `finance` and `tech`
//! (the renew call's `Administrator`, `finance` and `tech`), written once.

use tfplugin::{Attribute, Block, Type, Validator};

use super::models::Contact;
use super::validators;

/// (attribute, what it holds, its own check besides the text rule) in the
/// seed's order.
type FieldSpec = (&'static str, &'static str, Option<fn() -> Validator>);

pub const CONTACT_FIELDS: [FieldSpec; 11] = [
    ("job", "job title", None),
    ("city", "city", None),
    ("email", "e-mail address", Some(validators::email)),
    ("state", "state or province", None),
    (
        "mobile",
        "phone number, digits only (e.g. \"18111111111\")",
        Some(validators::mobile),
    ),
    ("address", "street address", None),
    (
        "country",
        "two-letter ISO 3166-1 country code (e.g. \"CN\")",
        Some(validators::country),
    ),
    ("last_name", "last name", None),
    ("post_code", "postal code", None),
    ("first_name", "first name", None),
    ("organization", "organization name", None),
];

/// A text attribute of a contact or the organization, with its checks.
pub fn text_attribute(
    name: &str,
    description: &str,
    required: bool,
    check: Option<fn() -> Validator>,
) -> Attribute {
    let attribute = if required {
        Attribute::required(name, Type::String, description)
    } else {
        Attribute::optional(name, Type::String, description)
    };
    let attribute = attribute.validate_with(validators::text());
    match check {
        Some(validator) => attribute.validate_with(validator()),
        None => attribute,
    }
}

/// A contact block; every field required (`administrator`) or optional.
pub fn contact_block(description: &str, required: bool) -> Block {
    Block::new(description).attributes(CONTACT_FIELDS.iter().map(|(name, what, check)| {
        text_attribute(name, &format!("The contact's {what}."), required, *check)
    }))
}

pub fn to_contact(contact: &Contact) -> nicsrs::Contact {
    let text = |field: &tfplugin::Field<String>| field.known().cloned();
    nicsrs::Contact {
        job: text(&contact.job),
        city: text(&contact.city),
        email: text(&contact.email),
        state: text(&contact.state),
        mobile: text(&contact.mobile),
        address: text(&contact.address),
        country: text(&contact.country),
        last_name: text(&contact.last_name),
        post_code: text(&contact.post_code),
        first_name: text(&contact.first_name),
        organization: text(&contact.organization),
    }
}

/// The block of a contact the renew call reports (`Administrator`, `finance`,
/// `tech`), for import.
pub fn from_contact(contact: nicsrs::Contact) -> Contact {
    Contact {
        job: contact.job.into(),
        city: contact.city.into(),
        email: contact.email.into(),
        state: contact.state.into(),
        mobile: contact.mobile.into(),
        address: contact.address.into(),
        country: contact.country.into(),
        last_name: contact.last_name.into(),
        post_code: contact.post_code.into(),
        first_name: contact.first_name.into(),
        organization: contact.organization.into(),
    }
}
