//! The go-plugin handshake: how Terraform tells a provider binary that it is
//! being run as a plugin, which protocol to speak, and how the provider
//! answers with the one line on stdout that says where to connect.

use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine;

/// The magic cookie Terraform sets; without it we were started by hand.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// go-plugin's core protocol version; Terraform refuses any other.
const CORE_PROTOCOL_VERSION: u32 = 1;
/// The only Terraform plugin protocol we speak.
pub const PROTOCOL_VERSION: u32 = 6;

/// Shown when the binary is run by hand.
pub fn run_by_hand_message(about: &crate::About) -> String {
    let (source, title) = (about.source, about.title);
    format!(
        "This binary is a Terraform plugin: {title} ({source}).
It is not meant to be run directly. Terraform starts it when a configuration uses
the provider. To use a local build, point Terraform at its folder with a CLI
config file (TF_CLI_CONFIG_FILE=dev.tfrc):

    provider_installation {{
      dev_overrides {{ \"{source}\" = \"/path/to/target/release\" }}
      direct {{}}
    }}

then run `terraform plan` (no `terraform init` needed). See the README."
    )
}

/// True when Terraform (or another go-plugin host) started us.
pub fn started_by_terraform(cookie: Option<&str>) -> bool {
    cookie == Some(MAGIC_COOKIE_VALUE)
}

/// Picks our protocol version from the host's `PLUGIN_PROTOCOL_VERSIONS`
/// (comma-separated, in any order). A host that does not say is assumed to
/// accept version 6.
pub fn negotiate_version(offered: Option<&str>) -> Result<u32, String> {
    let Some(offered) = offered.filter(|s| !s.trim().is_empty()) else {
        return Ok(PROTOCOL_VERSION);
    };
    let speaks_ours = offered
        .split(',')
        .any(|v| v.trim().parse::<u32>() == Ok(PROTOCOL_VERSION));
    if speaks_ours {
        Ok(PROTOCOL_VERSION)
    } else {
        Err(format!(
            "Terraform offered plugin protocol versions {offered}, but this provider speaks only \
             version {PROTOCOL_VERSION}, which Terraform supports since 0.15. Upgrade Terraform \
             to 1.0 or later."
        ))
    }
}

/// The line printed on stdout once the server accepts connections:
/// `1|6|unix|/path/plugin.sock|grpc|<server certificate>`. The certificate is
/// DER in base64 *without padding*, which is the only form go-plugin decodes
/// reliably; without AutoMTLS the field is empty.
pub fn handshake_line(network: &str, address: &str, server_cert_der: Option<&[u8]>) -> String {
    let cert = server_cert_der
        .map(|der| STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!("{CORE_PROTOCOL_VERSION}|{PROTOCOL_VERSION}|{network}|{address}|grpc|{cert}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_six_is_chosen_from_any_order() {
        assert_eq!(negotiate_version(Some("5,6")), Ok(6));
        assert_eq!(negotiate_version(Some("6, 5")), Ok(6));
        assert_eq!(negotiate_version(None), Ok(6));
        let refused = negotiate_version(Some("4,5")).unwrap_err();
        assert!(
            refused.contains("4,5") && refused.contains("only version 6"),
            "{refused}"
        );
    }

    #[test]
    fn cookie_must_match_exactly() {
        assert!(started_by_terraform(Some(MAGIC_COOKIE_VALUE)));
        assert!(!started_by_terraform(Some("nope")));
        assert!(!started_by_terraform(None));
    }

    #[test]
    fn line_has_six_fields_and_an_unpadded_certificate() {
        assert_eq!(
            handshake_line("unix", "/tmp/x/plugin.sock", None),
            "1|6|unix|/tmp/x/plugin.sock|grpc|"
        );
        // 4 bytes need padding in standard base64 ("AQIDBA==").
        let line = handshake_line("unix", "/s", Some(&[1, 2, 3, 4]));
        assert_eq!(line, "1|6|unix|/s|grpc|AQIDBA");
        assert_eq!(line.split('|').count(), 6);
    }

    #[test]
    fn real_certificate_round_trips_through_the_line() {
        let identity = crate::tls::ServerIdentity::generate().unwrap();
        let line = handshake_line("unix", "/s", Some(identity.cert_der()));
        let field = line.rsplit('|').next().unwrap();
        assert!(!field.contains('='));
        assert_eq!(STANDARD_NO_PAD.decode(field).unwrap(), identity.cert_der());
    }
}
