//! The NicSRS provider: its configuration block and its registry of
//! resources and data sources. Knows nothing of gRPC or msgpack.

pub mod certificate_data;
pub mod certificate_renewal;
pub mod certificate_validation;
mod contact;
mod convert;
mod dcv;
mod issued;
mod lifecycle;
mod models;
#[cfg(test)]
mod rules_agreement;
mod validators;

/// The renew request builder as create runs it (the planned state decoded
/// into its model, then the request built), for its micro-benchmark in
/// bench/ours; not an API.
#[doc(hidden)]
pub fn renew_request(planned: &Value) -> Result<nicsrs::RenewRequest, String> {
    let planned = <models::Renewal as tfplugin::Model>::decode(planned).map_err(|d| d.detail)?;
    convert::renew_request(&planned).map_err(|e| e.to_string())
}

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tfplugin::{
    About, Attribute, AttributePath, Block, DataSource, Diagnostics, Provider, Resource, Schema,
    Type, Value,
};

use models::{decode, ProviderConfig};

pub const DEFAULT_TIMEOUT_SECONDS: u64 = 60;
const TIMEOUT_SECONDS: std::ops::RangeInclusive<f64> = 1.0..=3600.0;
pub const TOKEN_ENV: &str = "NICSRS_API_TOKEN";
pub const BASE_URL_ENV: &str = "NICSRS_BASE_URL";

/// The provider block, resolved with its environment fallbacks.
#[derive(Clone)]
pub struct Settings {
    pub base_url: String,
    /// `None` until a resource needs it: `terraform validate` works without one.
    pub api_token: Option<String>,
    pub timeout: Duration,
    /// Whether a planned renewal checks NicSRS's 90-day window (resources
    /// may override it).
    pub check_renewal_window: bool,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("base_url", &self.base_url)
            .field("api_token", &self.api_token.as_ref().map(|_| "***"))
            .field("timeout", &self.timeout)
            .field("check_renewal_window", &self.check_renewal_window)
            .finish()
    }
}

/// What `configure` learned, shared with every resource.
#[derive(Debug, Clone, Default)]
pub enum Configuration {
    #[default]
    NotConfigured,
    /// Some provider argument comes from a value only known after apply.
    Unknown,
    Ready(Settings),
}

/// What every resource of one provider process shares: the configuration
/// and the one API client (one connection pool) built from it.
pub struct Shared {
    configuration: RwLock<Configuration>,
    client: RwLock<Option<Arc<nicsrs::Client>>>,
    /// Flips to true when Terraform calls StopProvider (Ctrl-C).
    stop: tokio::sync::watch::Sender<bool>,
    /// The refIds the creates of this process have claimed: one apply is
    /// one process, so two resources naming one refId meet here.
    pub claims: nicsrs::ordering::Claims,
    /// How long a create whose renew answer was lost keeps looking for it.
    pub ambiguity_window: nicsrs::ordering::AmbiguityWindow,
}

impl Default for Shared {
    fn default() -> Shared {
        Shared {
            configuration: RwLock::default(),
            client: RwLock::default(),
            stop: tokio::sync::watch::Sender::new(false),
            claims: nicsrs::ordering::Claims::default(),
            ambiguity_window: nicsrs::ordering::AmbiguityWindow::default(),
        }
    }
}

impl Shared {
    /// Changes once Terraform asks to stop; long waits select on it.
    pub fn stop_signal(&self) -> tokio::sync::watch::Receiver<bool> {
        self.stop.subscribe()
    }

    fn configure(&self, configuration: Configuration) {
        if let Ok(mut slot) = self.configuration.write() {
            *slot = configuration;
        }
        if let Ok(mut client) = self.client.write() {
            *client = None;
        }
    }

    /// The API client, built on first use; an error diagnostic when the
    /// provider configuration does not allow calling the API.
    pub fn client(&self, diags: &mut Diagnostics) -> Option<Arc<nicsrs::Client>> {
        if let Some(client) = self.client.read().ok().and_then(|c| c.clone()) {
            return Some(client);
        }
        let settings = self.settings(diags)?;
        // Built under the write lock: concurrent first calls share one
        // client, hence one connection pool.
        let mut slot = self.client.write().ok()?;
        if let Some(client) = slot.as_ref() {
            return Some(client.clone());
        }
        let config = nicsrs::ClientConfig {
            base_url: settings.base_url.clone(),
            token: nicsrs::ApiToken::new(settings.api_token.clone().unwrap_or_default()),
            timeout: settings.timeout,
            retry: nicsrs::RetryPolicy::default(),
        };
        match nicsrs::Client::new(config) {
            Ok(client) => {
                let client = Arc::new(client);
                *slot = Some(client.clone());
                Some(client)
            }
            Err(e) => {
                diags.error("Cannot set up the NicSRS client", format!("{e}"));
                None
            }
        }
    }

    /// The API client when the configuration allows calling the API, with
    /// no diagnostic otherwise: for plan-time lookups that are a bonus.
    pub fn client_if_ready(&self) -> Option<Arc<nicsrs::Client>> {
        match self.configuration() {
            Configuration::Ready(settings) if settings.api_token.is_some() => {
                self.client(&mut Diagnostics::new())
            }
            _ => None,
        }
    }

    /// The provider block's `check_renewal_window` (on unless switched off).
    pub fn checks_renewal_window(&self) -> bool {
        match self.configuration() {
            Configuration::Ready(settings) => settings.check_renewal_window,
            _ => true,
        }
    }

    pub fn configuration(&self) -> Configuration {
        self.configuration
            .read()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// The settings, or an error diagnostic saying why the API cannot be used yet.
    pub fn settings(&self, diags: &mut Diagnostics) -> Option<Settings> {
        match self.configuration() {
            Configuration::Ready(settings) if settings.api_token.is_some() => Some(settings),
            Configuration::Ready(_) => {
                diags.attribute_error(
                    AttributePath::root("api_token"),
                    "Missing NicSRS API token",
                    format!(
                        "This operation calls the NicSRS API, which needs a token. Set `api_token` in the \
                         provider \"nicsrs\" block (from a sensitive variable) or the {TOKEN_ENV} environment variable."
                    ),
                );
                None
            }
            Configuration::Unknown => {
                diags.error(
                    "Provider configuration not known yet",
                    "The provider \"nicsrs\" block uses values that are only known after apply, so the API \
                     cannot be called yet. Use values known at plan time for api_token, base_url and \
                     request_timeout_seconds.",
                );
                None
            }
            Configuration::NotConfigured => {
                diags.error(
                    "Provider not configured",
                    "Terraform did not configure the provider before using it. This is a bug; please report it.",
                );
                None
            }
        }
    }
}

pub struct NicsrsProvider {
    shared: Arc<Shared>,
}

impl NicsrsProvider {
    pub fn new() -> NicsrsProvider {
        NicsrsProvider {
            shared: Arc::new(Shared::default()),
        }
    }
}

impl Default for NicsrsProvider {
    fn default() -> Self {
        NicsrsProvider::new()
    }
}

fn provider_schema() -> Schema {
    Schema::new(
        0,
        Block::new("The NicSRS provider renews TLS certificates through the NicSRS SSL reseller API.")
            .attribute(
                Attribute::optional(
                    "api_token",
                    Type::String,
                    "The NicSRS reseller API token. Falls back to the `NICSRS_API_TOKEN` environment \
                     variable. Needed only by operations that call the API, so `terraform validate` \
                     works without it. Never logged and never stored in state.",
                )
                .sensitive()
                .validate_with(validators::not_empty_token()),
            )
            .attribute(
                Attribute::optional(
                    "base_url",
                    Type::String,
                    "The API's base URL. Defaults to `https://portal.nicsrs.com`; falls back to the \
                     `NICSRS_BASE_URL` environment variable. Plain `http://` is accepted only for \
                     loopback addresses (such as a local `nicsrs-sandbox`).",
                )
                .validate_with(validators::base_url()),
            )
            .attribute(
                Attribute::optional(
                    "request_timeout_seconds",
                    Type::Number,
                    "How long one API request may take, in seconds (1 to 3600). Defaults to 60.",
                )
                .validate_with(validators::whole_seconds(TIMEOUT_SECONDS)),
            )
            .attribute(Attribute::optional(
                "check_renewal_window",
                Type::Bool,
                "Whether planning a new `nicsrs_certificate_renewal` checks that the renewed certificate \
                 expires within 90 days, the window in which NicSRS accepts a renewal (the plan fails \
                 otherwise, naming the date the window opens). Defaults to true; set false for products \
                 whose window differs. A resource's own `check_renewal_window` wins over this.",
            )),
    )
}

/// What a refresh does when `/ssl/collect` says an order does not exist.
#[derive(Debug, Clone, Copy)]
pub enum IfMissing<'a> {
    /// Drop it from state: nothing paid hangs on it.
    Drop,
    /// A paid order: drop it only when `/ssl/certIdByrefId` confirms that
    /// no order carries this refId.
    ConfirmByRefId(&'a str),
    /// A paid order without a known refId: never dropped by a refresh.
    Keep,
}

/// Reads an order for a refresh. One "not found" never drops a paid order:
/// collect retries busy answers itself, and a remaining "not found" is
/// checked as `if_missing` says.
pub async fn refresh_order(
    client: &nicsrs::Client,
    cert_id: &str,
    what: &str,
    if_missing: IfMissing<'_>,
    diags: &mut Diagnostics,
) -> Refresh {
    match client.collect(cert_id).await {
        Ok(collected) => Refresh::Found(Box::new(collected)),
        Err(error) if is_not_found(&error) => match if_missing {
            IfMissing::Drop => {
                diags.warning(
                    format!("{what} no longer exists"),
                    format!("NicSRS says order {cert_id} does not exist, so it was removed from the state. {error}"),
                );
                Refresh::Gone
            }
            IfMissing::ConfirmByRefId(ref_id) => {
                confirm_missing(client, cert_id, ref_id, what, &error, diags).await
            }
            IfMissing::Keep => {
                diags.warning(
                    format!("{what} not found, kept in the state"),
                    format!(
                        "NicSRS says order {cert_id} does not exist ({error}). Its refId is not known, so \
                         this cannot be confirmed, and a paid order is never dropped on one answer. If the \
                         order is really gone, remove it with `terraform state rm`."
                    ),
                );
                Refresh::Unreadable
            }
        },
        Err(error) => {
            diags.error(
                format!("Cannot read the {}", what.to_lowercase()),
                format!("{error}"),
            );
            Refresh::Unreadable
        }
    }
}

async fn confirm_missing(
    client: &nicsrs::Client,
    cert_id: &str,
    ref_id: &str,
    what: &str,
    error: &nicsrs::Error,
    diags: &mut Diagnostics,
) -> Refresh {
    match client.cert_id_by_ref_id(ref_id).await {
        Ok(None) => {
            diags.warning(
                format!("{what} no longer exists"),
                format!(
                    "NicSRS says order {cert_id} does not exist ({error}), and no order carries its refId \
                     {ref_id:?}, so it was removed from the state. Applying again looks refId {ref_id:?} up \
                     before ordering: if the order reappears it is adopted, not bought again."
                ),
            );
            Refresh::Gone
        }
        Ok(Some(found)) => {
            diags.warning(
                format!("{what} kept in the state"),
                format!(
                    "NicSRS's collect says order {cert_id} does not exist ({error}), but certIdByrefId \
                     finds order {found} for its refId {ref_id:?}, so the order was kept. The next refresh \
                     reads it again."
                ),
            );
            Refresh::Unreadable
        }
        Err(lookup_error) => {
            diags.warning(
                format!("{what} kept in the state"),
                format!(
                    "NicSRS says order {cert_id} does not exist ({error}), and looking its refId \
                     {ref_id:?} up failed ({lookup_error}), so the order was kept. The next refresh \
                     checks again."
                ),
            );
            Refresh::Unreadable
        }
    }
}

pub enum Refresh {
    Found(Box<nicsrs::CollectResponse>),
    /// The order does not exist: drop it from state.
    Gone,
    /// The read failed or was not conclusive; keep the state as it is.
    Unreadable,
}

/// Whether the API said "no such order".
pub fn is_not_found(error: &nicsrs::Error) -> bool {
    matches!(error, nicsrs::Error::Api { code, errors, .. } if nicsrs::codes::is_not_found(*code, errors))
}

/// Checks a base URL: https anywhere, http only to this machine.
pub fn check_base_url(url: &str) -> Result<(), String> {
    let rest = if let Some(rest) = url.strip_prefix("https://") {
        rest
    } else if let Some(rest) = url.strip_prefix("http://") {
        let host = rest.split(['/', '?']).next().unwrap_or_default();
        let host = host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.chars().all(|c| c.is_ascii_digit()) {
                h
            } else {
                host
            }
        });
        if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
            return Err(format!(
                "{url:?} uses plain http to {host:?}. The API token must not travel unencrypted: use \
                 https://, or http:// only for a local sandbox on 127.0.0.1 or localhost."
            ));
        }
        rest
    } else {
        return Err(format!(
            "{url:?} is not an http(s) URL. Use the portal's address, e.g. {:?}.",
            nicsrs::DEFAULT_BASE_URL
        ));
    };
    if rest.split(['/', '?']).next().unwrap_or_default().is_empty() {
        return Err(format!(
            "{url:?} has no host name. Use e.g. {:?}.",
            nicsrs::DEFAULT_BASE_URL
        ));
    }
    Ok(())
}

fn check_timeout(seconds: f64) -> Result<u64, String> {
    if seconds.fract() != 0.0 || !TIMEOUT_SECONDS.contains(&seconds) {
        return Err(format!(
            "request_timeout_seconds is {seconds}; it must be a whole number of seconds from 1 to 3600."
        ));
    }
    Ok(seconds as u64)
}

#[tfplugin::async_trait]
impl Provider for NicsrsProvider {
    fn about(&self) -> About {
        About {
            source: "nicsrs/nicsrs",
            title: "the NicSRS provider",
            log_targets: &["nicsrs_provider", "nicsrs"],
        }
    }

    fn schema(&self) -> Schema {
        provider_schema()
    }

    async fn configure(&self, terraform_version: &str, config: &Value, diags: &mut Diagnostics) {
        log::debug!(
            "configuring terraform-provider-nicsrs {} for Terraform {terraform_version}",
            env!("CARGO_PKG_VERSION")
        );
        let Some(config) = decode::<ProviderConfig>(config, diags) else {
            return;
        };
        let configuration = resolve(&config, |name| std::env::var(name).ok(), diags);
        if let Configuration::Ready(settings) = &configuration {
            if let Some(token) = &settings.api_token {
                tfplugin::logging::redact(token);
            }
            log::debug!("provider configured: {settings:?}");
        }
        self.shared.configure(configuration);
    }

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![
            Arc::new(certificate_renewal::CertificateRenewal::new(
                self.shared.clone(),
            )),
            Arc::new(certificate_validation::CertificateValidation::new(
                self.shared.clone(),
            )),
        ]
    }

    fn data_sources(&self) -> Vec<Arc<dyn DataSource>> {
        vec![Arc::new(certificate_data::CertificateData::new(
            self.shared.clone(),
        ))]
    }

    fn stop(&self) {
        log::info!("Terraform asked to stop: interrupting work in flight");
        self.shared.stop.send_replace(true);
    }
}

/// Resolves the provider block with its environment fallbacks.
fn resolve(
    config: &ProviderConfig,
    env: impl Fn(&str) -> Option<String>,
    diags: &mut Diagnostics,
) -> Configuration {
    if config.api_token.is_unknown()
        || config.base_url.is_unknown()
        || config.request_timeout_seconds.is_unknown()
    {
        return Configuration::Unknown;
    }
    let base_url = config
        .base_url
        .known()
        .cloned()
        .or_else(|| env(BASE_URL_ENV).filter(|v| !v.is_empty()))
        .unwrap_or_else(|| nicsrs::DEFAULT_BASE_URL.to_string());
    if let Err(problem) = check_base_url(&base_url) {
        diags.attribute_error(AttributePath::root("base_url"), "Invalid base_url", problem);
    }
    let api_token = config
        .api_token
        .known()
        .cloned()
        .or_else(|| env(TOKEN_ENV))
        .filter(|t| !t.is_empty());
    let seconds = config
        .request_timeout_seconds
        .known()
        .map(|s| check_timeout(*s))
        .unwrap_or(Ok(DEFAULT_TIMEOUT_SECONDS));
    let timeout = match seconds {
        Ok(s) => Duration::from_secs(s),
        Err(problem) => {
            diags.attribute_error(
                AttributePath::root("request_timeout_seconds"),
                "Invalid request_timeout_seconds",
                problem,
            );
            Duration::from_secs(DEFAULT_TIMEOUT_SECONDS)
        }
    };
    Configuration::Ready(Settings {
        base_url: base_url.trim_end_matches('/').to_string(),
        api_token,
        timeout,
        check_renewal_window: config.check_renewal_window.known() != Some(&false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use tfplugin::Field;

    fn config(token: Field<String>, url: Field<String>, timeout: Field<f64>) -> ProviderConfig {
        ProviderConfig {
            api_token: token,
            base_url: url,
            request_timeout_seconds: timeout,
            check_renewal_window: Field::Null,
        }
    }

    #[test]
    fn environment_fills_what_the_block_leaves_out() {
        let env = |name: &str| match name {
            TOKEN_ENV => Some("env-token".to_string()),
            BASE_URL_ENV => Some("http://127.0.0.1:9/".to_string()),
            _ => None,
        };
        let mut diags = Diagnostics::new();
        let Configuration::Ready(s) = resolve(
            &config(Field::Null, Field::Null, Field::Null),
            env,
            &mut diags,
        ) else {
            panic!("expected a ready configuration");
        };
        assert_eq!(s.api_token.as_deref(), Some("env-token"));
        assert_eq!(s.base_url, "http://127.0.0.1:9");
        assert_eq!(s.timeout, Duration::from_secs(60));
        assert!(s.check_renewal_window, "on unless switched off");
        assert!(diags.is_empty());
        assert!(
            !format!("{s:?}").contains("env-token"),
            "Debug must not show the token"
        );
    }

    #[test]
    fn block_values_win_over_environment() {
        let env = |_: &str| Some("env".to_string());
        let cfg = config(
            "cfg-token".into(),
            "https://example.test".into(),
            Field::Known(5.0),
        );
        let Configuration::Ready(s) = resolve(&cfg, env, &mut Diagnostics::new()) else {
            panic!("expected a ready configuration");
        };
        assert_eq!(s.api_token.as_deref(), Some("cfg-token"));
        assert_eq!(s.base_url, "https://example.test");
        assert_eq!(s.timeout, Duration::from_secs(5));
        let mut off = cfg.clone();
        off.check_renewal_window = Field::Known(false);
        let Configuration::Ready(s) = resolve(&off, |_| None, &mut Diagnostics::new()) else {
            panic!("expected a ready configuration");
        };
        assert!(!s.check_renewal_window);
    }

    #[test]
    fn unknown_arguments_defer_configuration() {
        let cfg = config(Field::Unknown, Field::Null, Field::Null);
        assert!(matches!(
            resolve(&cfg, |_| None, &mut Diagnostics::new()),
            Configuration::Unknown
        ));
    }

    #[test]
    fn missing_token_is_an_error_only_when_the_api_is_needed() {
        let shared = Shared::default();
        *shared.configuration.write().unwrap() = resolve(
            &config(Field::Null, Field::Null, Field::Null),
            |_| None,
            &mut Diagnostics::new(),
        );
        let mut diags = Diagnostics::new();
        assert!(shared.settings(&mut diags).is_none());
        assert_eq!(diags.0[0].path, Some(AttributePath::root("api_token")));
        assert!(diags.0[0].detail.contains(TOKEN_ENV));
    }

    #[test]
    fn base_urls_must_be_https_or_local_http() {
        assert!(check_base_url("https://portal.nicsrs.com").is_ok());
        assert!(check_base_url("http://127.0.0.1:8080").is_ok());
        assert!(check_base_url("http://localhost/x").is_ok());
        assert!(check_base_url("http://portal.nicsrs.com")
            .unwrap_err()
            .contains("unencrypted"));
        assert!(check_base_url("portal.nicsrs.com").is_err());
        assert!(check_base_url("https://").is_err());
    }

    #[test]
    fn timeouts_are_whole_seconds_in_range() {
        assert_eq!(check_timeout(30.0), Ok(30));
        assert!(check_timeout(0.0).is_err());
        assert!(check_timeout(1.5).is_err());
        assert!(check_timeout(4000.0).is_err());
    }
}
