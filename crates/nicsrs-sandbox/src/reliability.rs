//! The rows of `docs/reliability.md`: what a test tried against the sandbox
//! (or a hostile server) and what it measured. Tests, unit and end-to-end,
//! record rows as JSON files under `target/reliability/`; the report test
//! (`tests/reliability.rs`, run last by `scripts/test.sh`) renders them and
//! checks the page, so the page's numbers are the suite's numbers.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// What a row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Terraform, the CI job or the network fails mid-run.
    Fault,
    /// A wrong value in the configuration.
    BadInput,
    /// A server that misbehaves on purpose.
    HostileServer,
}

impl Kind {
    /// The table's heading for the kind.
    pub fn heading(self) -> &'static str {
        match self {
            Kind::Fault => "Faults",
            Kind::BadInput => "Bad inputs",
            Kind::HostileServer => "Hostile servers",
        }
    }
}

/// One scenario as one test run measured it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// What was tried, in a few words.
    pub scenario: String,
    /// Fault, bad input or hostile server.
    pub kind: Kind,
    /// The Terraform version that ran it, or `client` for in-process tests.
    pub runner: String,
    /// Orders the scenario should end with.
    pub orders_expected: u64,
    /// Orders the sandbox holds at the end.
    pub orders_placed: u64,
    /// Outputs in which the API token appeared.
    pub token_leaks: u64,
    /// Outputs that show a provider crash or panic.
    pub crashes: u64,
}

/// Signs of a provider crash in Terraform's output.
pub const CRASH_MARKERS: [&str; 4] = [
    "The provider hit a bug",
    "Plugin did not respond",
    "panicked at",
    "The plugin encountered an error",
];

/// Where rows are kept: the workspace's `target/reliability`, which
/// `scripts/test.sh` empties before the suite and the page check reads.
pub fn dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target.join("reliability")
}

impl Row {
    /// A row for `scenario`, counting leaks of `token` and crash markers in
    /// `outputs`.
    pub fn measure(
        kind: Kind,
        scenario: &str,
        runner: &str,
        orders: (u64, u64),
        token: &str,
        outputs: &[&str],
    ) -> Row {
        let count =
            |found: &dyn Fn(&str) -> bool| outputs.iter().filter(|o| found(o)).count() as u64;
        Row {
            scenario: scenario.to_string(),
            kind,
            runner: runner.to_string(),
            orders_expected: orders.0,
            orders_placed: orders.1,
            token_leaks: count(&|o| o.contains(token)),
            crashes: count(&|o| CRASH_MARKERS.iter().any(|m| o.contains(m))),
        }
    }

    /// Writes the row; a test's own failure is what matters, so a row
    /// that cannot be written is reported and skipped.
    pub fn record(&self) {
        let name: String = format!("{} {}", self.scenario, self.runner)
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let written = std::fs::create_dir_all(dir()).and_then(|()| {
            std::fs::write(
                dir().join(format!("{name}.json")),
                serde_json::to_vec_pretty(self).unwrap_or_default(),
            )
        });
        if let Err(e) = written {
            eprintln!("reliability row {name:?} not written: {e}");
        }
    }
}
