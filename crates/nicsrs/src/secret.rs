//! The API token, kept out of logs, errors and `Debug` output.

use std::fmt;

/// A NicSRS API token. `Debug` and `Display` print `***`; the value is only
/// reachable through [`ApiToken::expose`], which the client calls once per
/// request when it builds the form.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// Wraps a token.
    pub fn new(token: impl Into<String>) -> Self {
        ApiToken(token.into())
    }

    /// The token itself, for the `api_token` form field and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the token is empty or only whitespace.
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(***)")
    }
}

impl fmt::Display for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let t = ApiToken::new("s3cret-value");
        assert_eq!(format!("{t}"), "***");
        assert_eq!(format!("{t:?}"), "ApiToken(***)");
        assert!(!format!("{t:?}").contains("s3cret"));
        assert_eq!(t.expose(), "s3cret-value");
        assert!(ApiToken::new("  ").is_blank());
    }
}
