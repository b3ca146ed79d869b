//! The one harness every end-to-end test uses: a real Terraform CLI, the
//! provider built by cargo (through `dev_overrides`, no `terraform init`),
//! and a private working directory per test.

pub mod crash;
pub mod sandbox;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The Terraform the tests run: `NICSRS_TERRAFORM` when set (what
/// scripts/test.sh does), else the pinned 1.0.3 from scripts/terraform.sh.
pub fn terraform_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(path) = std::env::var_os("NICSRS_TERRAFORM").filter(|p| !p.is_empty()) {
            return PathBuf::from(path);
        }
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/terraform.sh");
        let output = Command::new("bash")
            .arg(&script)
            .arg("--pinned")
            .output()
            .expect("run scripts/terraform.sh");
        assert!(
            output.status.success(),
            "scripts/terraform.sh failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
    })
    .clone()
}

/// The folder holding the provider binary cargo built for these tests.
pub fn provider_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_terraform-provider-nicsrs"))
        .parent()
        .expect("binary has a folder")
        .to_path_buf()
}

/// The `nicsrs-sandbox` binary, built by cargo next to the provider: the
/// sandbox crate's binary, which `cargo test` at the workspace root builds
/// (its package has tests of its own). A missing one says how to build it.
pub fn sandbox_binary() -> PathBuf {
    let path = provider_dir().join(format!("nicsrs-sandbox{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing: build it with `cargo build -p nicsrs-sandbox` (scripts/test.sh does)",
        path.display()
    );
    path
}

/// The names of the entries of folder `dir`, sorted.
pub fn sorted_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A fresh PEM CSR naming `names`, as a user would make with openssl (the
/// sandbox test kit's one generator).
pub fn csr_pem(names: &[&str]) -> String {
    nicsrs_sandbox::testkit::csr(names).0
}

/// A complete, valid `nicsrs_certificate_renewal` block for `web.csr`
/// (written by [`Workspace::with_csr`]), with `extra` HCL inside it.
pub fn renewal_block(name: &str, renew_id: &str, domains: &[(&str, &str)], extra: &str) -> String {
    let domain_blocks: String = domains
        .iter()
        .map(|(domain, method)| {
            // The EMAIL method needs the mailbox the CA writes to.
            let email = if *method == "EMAIL" {
                format!("    dcv_email   = \"admin@{}\"\n", domain.trim_start_matches("*."))
            } else {
                String::new()
            };
            format!("  domain_info {{\n    domain_name = \"{domain}\"\n    dcv_method  = \"{method}\"\n{email}  }}\n")
        })
        .collect();
    format!(
        r#"resource "nicsrs_certificate_renewal" "{name}" {{
  renew_id = "{renew_id}"
  years    = 1
  csr      = file("${{path.module}}/web.csr")
  server   = "nginx"
{domain_blocks}
  administrator {{
    job          = "CTO"
    city         = "Shanghai"
    email        = "ops@example.com"
    state        = "Shanghai"
    mobile       = "18111111111"
    address      = "1 Example Road"
    country      = "CN"
    last_name    = "Zhang"
    post_code    = "401320"
    first_name   = "Nick"
    organization = "Example Ltd"
  }}
{extra}
}}
"#
    )
}

pub const PROVIDER_REQUIREMENT: &str = r#"
terraform {
  required_providers {
    nicsrs = { source = "nicsrs/nicsrs" }
  }
}
"#;

/// One Terraform working directory.
pub struct Workspace {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

/// The outcome of one Terraform command.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The output with Terraform's line wrapping undone, for matching
    /// sentences of a diagnostic.
    pub fn flat(&self) -> String {
        self.output()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[track_caller]
    pub fn success(self) -> Run {
        assert_eq!(self.code, Some(0), "terraform failed:\n{}", self.output());
        self
    }

    #[track_caller]
    pub fn failure(self) -> Run {
        assert_eq!(
            self.code,
            Some(1),
            "terraform should have failed:\n{}",
            self.output()
        );
        self
    }
}

impl Workspace {
    /// A directory with `main.tf` = the provider requirement + `config`.
    pub fn new(config: &str) -> Workspace {
        let dir = tempfile::Builder::new()
            .prefix("nicsrs-e2e")
            .tempdir()
            .expect("temp dir");
        let cli_config = dir.path().join("dev.tfrc");
        std::fs::write(
            &cli_config,
            format!(
                "provider_installation {{\n  dev_overrides {{\n    \"nicsrs/nicsrs\" = \"{}\"\n  }}\n  direct {{}}\n}}\n",
                provider_dir().display()
            ),
        )
        .expect("write CLI config");
        let workspace = Workspace {
            dir,
            env: vec![
                (
                    "TF_CLI_CONFIG_FILE".into(),
                    cli_config.display().to_string(),
                ),
                ("CHECKPOINT_DISABLE".into(), "1".into()),
                ("TF_IN_AUTOMATION".into(), "1".into()),
                ("TF_INPUT".into(), "0".into()),
            ],
        };
        workspace.write("main.tf", &format!("{PROVIDER_REQUIREMENT}\n{config}"));
        workspace
    }

    /// Writes `web.csr` naming `names`.
    pub fn with_csr(self, names: &[&str]) -> Workspace {
        self.write("web.csr", &csr_pem(names));
        self
    }

    /// A directory holding a copy of `examples/<name>` (its main.tf says
    /// which provider it needs), and `terraform.tfvars` pointing it at
    /// `sandbox`.
    pub fn from_example(name: &str, sandbox: &sandbox::Sandbox) -> Workspace {
        let workspace = Workspace::new("");
        std::fs::remove_file(workspace.dir.path().join("main.tf")).expect("remove main.tf");
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("examples")
            .join(name);
        for entry in std::fs::read_dir(&source).expect("example folder") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                std::fs::copy(
                    &path,
                    workspace.dir.path().join(path.file_name().expect("name")),
                )
                .expect("copy");
            }
        }
        workspace.write(
            "terraform.tfvars",
            &format!(
                "nicsrs_base_url  = \"{}\"\nnicsrs_api_token = \"{}\"\n",
                sandbox.url,
                sandbox::TOKEN
            ),
        );
        workspace
    }

    pub fn write(&self, name: &str, contents: &str) {
        std::fs::write(self.dir.path().join(name), contents).expect("write file");
    }

    pub fn env(mut self, key: &str, value: &str) -> Workspace {
        self.env.push((key.to_string(), value.to_string()));
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `terraform ARGS -no-color` here, with no inherited NicSRS settings.
    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(terraform_bin());
        command
            .args(args)
            .arg("-no-color")
            .current_dir(self.dir.path())
            .env_remove("NICSRS_API_TOKEN")
            .env_remove("NICSRS_BASE_URL")
            .env_remove("TF_LOG")
            .env_remove("TF_LOG_PROVIDER");
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    /// Runs `terraform ARGS -no-color` here and waits for it.
    pub fn terraform(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("run terraform");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Starts `terraform ARGS -no-color` here without waiting, its output
    /// going to `NAME.out` in the workspace: for tests that interrupt it.
    pub fn spawn_terraform(&self, name: &str, args: &[&str]) -> std::process::Child {
        let log = std::fs::File::create(self.dir.path().join(format!("{name}.out"))).expect("log");
        let err = log.try_clone().expect("log");
        let mut command = self.command(args);
        // Its own process group, so a test can send it a terminal's Ctrl-C.
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        command
            .stdout(log)
            .stderr(err)
            .spawn()
            .expect("start terraform")
    }

    /// What a spawned command wrote.
    pub fn spawned_output(&self, name: &str) -> String {
        std::fs::read_to_string(self.dir.path().join(format!("{name}.out"))).unwrap_or_default()
    }

    /// The one check that an apply converged: a plan shows no changes.
    #[track_caller]
    pub fn assert_no_changes(&self) {
        let run = self.terraform(&["plan", "-detailed-exitcode"]);
        assert_eq!(
            run.code,
            Some(0),
            "a plan right after apply must show no changes:\n{}",
            run.output()
        );
    }

    /// The addresses in the state.
    pub fn state_list(&self) -> Vec<String> {
        let run = self.terraform(&["state", "list"]);
        run.stdout
            .lines()
            .map(str::to_string)
            .filter(|l| !l.is_empty())
            .collect()
    }
}

/// Records a row of docs/reliability.md for the Terraform under test:
/// `orders` is (expected, placed); `outputs` are the runs' outputs, searched
/// for the API token and for signs of a provider crash.
pub fn record(
    kind: nicsrs_sandbox::reliability::Kind,
    scenario: &str,
    orders: (usize, usize),
    outputs: &[&str],
) {
    let (major, minor, patch) = terraform_version();
    nicsrs_sandbox::reliability::Row::measure(
        kind,
        scenario,
        &format!("Terraform {major}.{minor}.{patch}"),
        (orders.0 as u64, orders.1 as u64),
        sandbox::TOKEN,
        outputs,
    )
    .record();
}

/// The version of the Terraform under test, e.g. `(1, 15, 5)`.
pub fn terraform_version() -> (u32, u32, u32) {
    static VERSION: OnceLock<(u32, u32, u32)> = OnceLock::new();
    *VERSION.get_or_init(|| {
        let output = Command::new(terraform_bin())
            .arg("version")
            .env("CHECKPOINT_DISABLE", "1")
            .output()
            .expect("terraform version");
        let text = String::from_utf8_lossy(&output.stdout);
        let version = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("Terraform v"))
            .unwrap_or_else(|| panic!("unexpected `terraform version`: {text}"));
        let mut parts = version.split('.').map(|p| p.parse().unwrap_or(0));
        (
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
            parts.next().unwrap_or(0),
        )
    })
}
