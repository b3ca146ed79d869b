//! `nicsrs-sandbox`: a local simulator of the NicSRS reseller API.
//!
//! Same paths, form encoding, envelope, codes and `collect` shape as the
//! real API (it serializes [`crate::nicsrs::types`]), plus sandbox-only
//! endpoints under `/sandbox/` to steer it: list orders, move the clock,
//! "create" DNS records / HTTP files / approve e-mails for DCV, seed
//! certificates and inject faults. Tests start it in-process with
//! [`Sandbox::start`] on `127.0.0.1:0`; the `nicsrs-sandbox` binary wraps
//! the same call.
//!
//! Every behaviour the real API does not document (error codes for unknown
//! ids, the renewal-window code, code 2 on pending collects) comes from
//! [`crate::nicsrs::codes`], so the client and the simulator agree.

mod admin;
pub mod ca;
pub mod clock;
pub mod faults;
mod routes;
pub mod rules;
pub mod store;
#[cfg(test)]
pub(crate) mod testkit;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::{Fault, FaultPlan, FaultRule};
pub use store::{Brand, Order, OrderStatus, Validation};

/// The token accepted when none is configured.
pub const DEFAULT_TOKEN: &str = "sandbox-token";

/// A certificate to create at start: issued, expiring in `days_left` days.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedCertificate {
    /// Its certId (what a renewal's `renewId` names).
    pub cert_id: String,
    /// Days until it expires (negative: already expired).
    pub days_left: i64,
    /// The product's brand.
    pub brand: Brand,
    /// The product's validation type.
    pub validation: Validation,
    /// Its domains (default `example.com`).
    pub domains: Vec<String>,
}

impl SeedCertificate {
    /// A Sectigo DV certificate for `example.com`.
    pub fn new(cert_id: &str, days_left: i64) -> Self {
        SeedCertificate {
            cert_id: cert_id.to_string(),
            days_left,
            brand: Brand::Sectigo,
            validation: Validation::Dv,
            domains: vec!["example.com".into()],
        }
    }

    /// Parses `ID:DAYS_LEFT[:BRAND[:VALIDATION]]` (`sectigo`/`digicert`, `dv`/`ov`/`ev`).
    pub fn parse(s: &str) -> Result<Self, String> {
        let parts: Vec<&str> = s.split(':').collect();
        let bad =
            || format!("--seed-certificate {s:?}: expected ID:DAYS_LEFT[:BRAND[:VALIDATION]]");
        if !(2..=4).contains(&parts.len()) || parts[0].trim().is_empty() {
            return Err(bad());
        }
        let days_left = parts[1].trim().parse().map_err(|_| bad())?;
        let mut seed = SeedCertificate::new(parts[0].trim(), days_left);
        if let Some(b) = parts.get(2) {
            seed.brand = Brand::parse(b)
                .ok_or_else(|| format!("{}: brand must be sectigo or digicert", bad()))?;
        }
        if let Some(v) = parts.get(3) {
            seed.validation = Validation::parse(v)
                .ok_or_else(|| format!("{}: validation must be dv, ov or ev", bad()))?;
        }
        Ok(seed)
    }
}

/// How to run a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Persist the state here (JSON, written atomically); `None` = in memory.
    pub state_file: Option<PathBuf>,
    /// Pin the clock at this instant (overrides a persisted clock).
    pub now: Option<OffsetDateTime>,
    /// Accepted API tokens (empty = [`DEFAULT_TOKEN`]).
    pub tokens: Vec<String>,
    /// Issued certificates to create (kept when the id already exists).
    pub seed_certificates: Vec<SeedCertificate>,
    /// Validate every domain of a pending order after this many `collect`
    /// calls on it (0 = at once, when the order is placed).
    pub auto_validate_after: Option<u32>,
    /// The initial fault plan.
    pub faults: FaultPlan,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_file: None,
            now: None,
            tokens: vec![DEFAULT_TOKEN.to_string()],
            seed_certificates: Vec::new(),
            auto_validate_after: None,
            faults: FaultPlan::default(),
        }
    }
}

/// A sandbox failed to start.
#[derive(Debug)]
pub struct SandboxError(pub String);

impl std::fmt::Display for SandboxError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "nicsrs-sandbox: {}", self.0)
    }
}

impl std::error::Error for SandboxError {}

/// Shared state of a running sandbox.
#[derive(Debug)]
pub(crate) struct App {
    store: Mutex<store::Store>,
    tokens: Vec<String>,
    faults: Mutex<faults::Faults>,
    auto_validate_after: Option<u32>,
    requests: Mutex<BTreeMap<String, u64>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl App {
    fn store(&self) -> MutexGuard<'_, store::Store> {
        lock(&self.store)
    }
}

/// The entry point.
pub struct Sandbox;

impl Sandbox {
    /// Opens (or creates) the state, binds the listener and serves in a
    /// background task. Connections are accepted once this returns.
    pub async fn start(config: SandboxConfig) -> Result<RunningSandbox, SandboxError> {
        let mut store = store::Store::open(config.state_file.as_deref()).map_err(SandboxError)?;
        if let Some(now) = config.now {
            store.state.clock.set(now);
        }
        for seed in &config.seed_certificates {
            if !store.state.orders.contains_key(&seed.cert_id) {
                admin::seed_certificate(&mut store, seed).map_err(SandboxError)?;
            }
        }
        store.save().map_err(SandboxError)?;
        let tokens = if config.tokens.is_empty() {
            vec![DEFAULT_TOKEN.to_string()]
        } else {
            config.tokens.clone()
        };
        let app = Arc::new(App {
            store: Mutex::new(store),
            tokens,
            faults: Mutex::new(faults::Faults::new(config.faults.clone())),
            auto_validate_after: config.auto_validate_after,
            requests: Mutex::new(BTreeMap::new()),
        });
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| SandboxError(format!("cannot listen on {}: {e}", config.listen)))?;
        let addr = listener
            .local_addr()
            .map_err(|e| SandboxError(format!("no local address: {e}")))?;
        let router = routes::router(app);
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                eprintln!("nicsrs-sandbox: server error: {e}");
            }
        });
        Ok(RunningSandbox {
            addr,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// A sandbox serving in the background; dropping it stops it.
#[derive(Debug)]
pub struct RunningSandbox {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RunningSandbox {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`, the base URL for a client.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, lets requests in flight finish (at most 2 s), then stops.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(2), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }

    /// Serves until the server stops (for the binary: until `shutdown` from elsewhere).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
