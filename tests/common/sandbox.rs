//! A `nicsrs-sandbox` process per test, on a free loopback port, steered
//! through its admin endpoints.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;

pub const TOKEN: &str = "sandbox-token";

pub struct Sandbox {
    child: Child,
    pub url: String,
}

impl Sandbox {
    /// Starts the sandbox binary with `args` (plus `--listen 127.0.0.1:0`)
    /// and waits for its one stdout line.
    pub fn start(args: &[&str]) -> Sandbox {
        let mut child = Command::new(crate::common::sandbox_binary())
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start nicsrs-sandbox");
        let stdout = child.stdout.take().expect("sandbox stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the sandbox's first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected sandbox line {line:?}"))
            .to_string();
        Sandbox { child, url }
    }

    fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}{path}", self.url);
        block_on(async {
            let client = reqwest::Client::new();
            let mut request = client.request(method, &url);
            if let Some(body) = body {
                request = request
                    .header("content-type", "application/json")
                    .body(body.to_string());
            }
            let response = request
                .send()
                .await
                .unwrap_or_else(|e| panic!("{url}: {e}"));
            let text = response.text().await.expect("body");
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url} answered {text:?}: {e}"))
        })
    }

    /// Calls a NicSRS endpoint (`/ssl/...`) with form fields, as the
    /// provider does.
    pub fn api(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let url = format!("{}{path}", self.url);
        block_on(async {
            let mut fields = vec![("api_token", TOKEN)];
            fields.extend_from_slice(form);
            let response = reqwest::Client::new()
                .post(&url)
                .form(&fields)
                .send()
                .await
                .expect("send");
            let text = response.text().await.expect("body");
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{url} answered {text:?}: {e}"))
        })
    }

    pub fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None)
    }

    pub fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body))
    }

    /// Every renewal order placed so far (seeded certificates excluded).
    pub fn orders(&self) -> Vec<Value> {
        self.get("/sandbox/orders")["orders"]
            .as_array()
            .expect("orders array")
            .iter()
            .filter(|o| o["seeded"] != Value::Bool(true))
            .cloned()
            .collect()
    }

    pub fn order(&self, cert_id: &str) -> Value {
        self.orders()
            .into_iter()
            .find(|o| o["cert_id"] == cert_id)
            .unwrap_or_else(|| panic!("no order {cert_id}"))
    }

    /// `/ssl/*` requests the sandbox has seen for `path`.
    pub fn request_count(&self, path: &str) -> u64 {
        self.get("/sandbox/requests")["counts"][path]
            .as_u64()
            .unwrap_or(0)
    }

    pub fn set_faults(&self, rules: Value) {
        self.post("/sandbox/faults", serde_json::json!({ "rules": rules }));
    }
}

/// A `provider "nicsrs"` block that talks to `sandbox`.
pub fn provider_block(sandbox: &Sandbox) -> String {
    format!(
        "provider \"nicsrs\" {{\n  base_url  = \"{}\"\n  api_token = \"{TOKEN}\"\n}}\n",
        sandbox.url
    )
}

/// The tests are synchronous; each HTTP call gets a small runtime.
fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
