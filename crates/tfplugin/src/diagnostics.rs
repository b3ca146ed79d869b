//! Diagnostics: what the provider tells the user, with the attribute path
//! that lets Terraform point at the offending line of configuration.
//!
//! Handlers collect diagnostics and keep going; an operation that created
//! something still returns it next to its errors (see `Resource::create`).

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One step into a value: an attribute, a map key, or a list index.
/// Ordered so replace paths can be sorted (indexes numerically).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Step {
    Attribute(String),
    Key(String),
    Index(i64),
}

/// A path from the resource's top-level object to one attribute.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct AttributePath(pub Vec<Step>);

impl AttributePath {
    pub fn root(attribute: &str) -> AttributePath {
        AttributePath(vec![Step::Attribute(attribute.to_string())])
    }

    pub fn attribute(mut self, name: &str) -> AttributePath {
        self.0.push(Step::Attribute(name.to_string()));
        self
    }

    pub fn index(mut self, index: usize) -> AttributePath {
        self.0
            .push(Step::Index(i64::try_from(index).unwrap_or(i64::MAX)));
        self
    }

    pub fn key(mut self, key: &str) -> AttributePath {
        self.0.push(Step::Key(key.to_string()));
        self
    }
}

impl fmt::Display for AttributePath {
    /// HCL-like rendering: `domain_info[1].dcv_email`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                Step::Attribute(name) if i == 0 => write!(f, "{name}")?,
                Step::Attribute(name) => write!(f, ".{name}")?,
                Step::Key(key) => write!(f, "[{key:?}]")?,
                Step::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// A short title.
    pub summary: String,
    /// The cause and the remedy.
    pub detail: String,
    pub path: Option<AttributePath>,
}

/// Diagnostics collected while handling one request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Diagnostics {
        Diagnostics::default()
    }

    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, summary, detail, None);
    }

    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Warning, summary, detail, None);
    }

    pub fn attribute_error(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Error, summary, detail, Some(path));
    }

    pub fn attribute_warning(
        &mut self,
        path: AttributePath,
        summary: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.push(Severity::Warning, summary, detail, Some(path));
    }

    fn push(
        &mut self,
        severity: Severity,
        summary: impl Into<String>,
        detail: impl Into<String>,
        path: Option<AttributePath>,
    ) {
        self.0.push(Diagnostic {
            severity,
            summary: summary.into(),
            detail: detail.into(),
            path,
        });
    }

    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_render_like_hcl() {
        let path = AttributePath::root("domain_info")
            .index(1)
            .attribute("dcv_email");
        assert_eq!(path.to_string(), "domain_info[1].dcv_email");
        assert_eq!(
            AttributePath::root("dns").key("a.com").to_string(),
            "dns[\"a.com\"]"
        );
    }

    #[test]
    fn errors_are_told_apart_from_warnings() {
        let mut diags = Diagnostics::new();
        diags.warning("w", "");
        assert!(!diags.has_errors());
        diags.attribute_error(AttributePath::root("years"), "e", "d");
        assert!(diags.has_errors());
        assert_eq!(diags.0[1].path, Some(AttributePath::root("years")));
    }
}
