//! Fault injection for `/ssl/*`: answer chosen requests with an HTTP error,
//! an HTML page, a malformed or empty body, a delay, an API error code, or
//! process them and then lose the answer (`drop_after_commit`).
//!
//! A plan is a list of rules; the first rule matching a request's path that
//! is still armed fires. A rule fires for its next `count` matching requests
//! (then stays listed with `count: 0`), or for a `share` of them drawn from
//! an RNG seeded with the plan's `seed` (deterministic across runs), or,
//! with neither, for every matching request until the plan is cleared.

use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a rule does to the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// HTTP 500 with an HTML body; the request is not processed.
    Http500,
    /// HTTP 502 with an HTML body; not processed.
    Http502,
    /// HTTP 503 with `Retry-After`; not processed.
    Http503,
    /// HTTP 504 with an HTML body; not processed.
    Http504,
    /// HTTP 429 with `Retry-After`; not processed.
    Http429,
    /// HTTP 200 with an HTML page (a captive portal, a WAF); not processed.
    Html,
    /// HTTP 200 with a truncated JSON body; not processed.
    Malformed,
    /// HTTP 200 with an empty body; not processed.
    Empty,
    /// HTTP 200 with an API error envelope (`code`, `errors`); not processed.
    ApiError,
    /// Waits `delay_ms`, then processes the request normally.
    Delay,
    /// Processes the request (an order is recorded), then waits `delay_ms`
    /// before answering: beyond the client timeout this is "timeout after commit".
    DelayAfterCommit,
    /// Answers 504 at once (the front end gave up) and processes the
    /// request `delay_ms` later: a backend that commits after the client
    /// stopped waiting.
    LateCommit,
    /// Processes the request, then breaks the connection without a complete
    /// answer: "connection lost after sending".
    DropAfterCommit,
}

/// One rule of a plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultRule {
    /// `/ssl/renew`, `/ssl/*` or `*` (every `/ssl/` path).
    #[serde(default = "all_paths")]
    pub path: String,
    /// The fault.
    pub fault: Fault,
    /// Fire for the next `count` matching requests only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    /// Fire for this share (0.0–1.0) of matching requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub share: Option<f64>,
    /// `Retry-After` seconds for `http429`/`http503` (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_secs: Option<u64>,
    /// Milliseconds for `delay`/`delay_after_commit`/`late_commit` (default 5000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// `code` for `api_error` (default -2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    /// `errors` for `api_error` (any JSON; default `["injected fault"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Value>,
}

fn all_paths() -> String {
    "*".to_string()
}

impl FaultRule {
    /// A rule firing `fault` on `path` for the next `count` requests.
    pub fn new(path: &str, fault: Fault, count: Option<u32>) -> Self {
        FaultRule {
            path: path.to_string(),
            fault,
            count,
            share: None,
            retry_after_secs: None,
            delay_ms: None,
            code: None,
            errors: None,
        }
    }

    fn matches(&self, path: &str) -> bool {
        match self.path.as_str() {
            "*" | "/ssl/*" => path.starts_with("/ssl/"),
            p => p == path,
        }
    }

    /// Parses the `--fault` flag: `PATH=KIND[,count=N][,share=F][,delay_ms=M][,retry_after=S][,code=C]`.
    pub fn parse_flag(s: &str) -> Result<FaultRule, String> {
        let (path, rest) = s
            .split_once('=')
            .ok_or_else(|| format!("--fault {s:?}: expected PATH=KIND[,option=value…]"))?;
        let mut parts = rest.split(',');
        let kind = parts.next().unwrap_or_default().trim();
        let fault: Fault = serde_json::from_value(Value::String(kind.to_string()))
            .map_err(|_| format!("--fault {s:?}: unknown fault kind {kind:?}"))?;
        let mut rule = FaultRule::new(path.trim(), fault, None);
        for opt in parts {
            let (k, v) = opt
                .split_once('=')
                .ok_or_else(|| format!("--fault {s:?}: option {opt:?} is not key=value"))?;
            let bad = |_| format!("--fault {s:?}: bad value for {k}: {v:?}");
            match k.trim() {
                "count" => rule.count = Some(v.trim().parse().map_err(bad)?),
                "share" => {
                    rule.share = Some(
                        v.trim()
                            .parse()
                            .map_err(|_| format!("--fault {s:?}: bad share {v:?}"))?,
                    )
                }
                "delay_ms" => rule.delay_ms = Some(v.trim().parse().map_err(bad)?),
                "retry_after" | "retry_after_secs" => {
                    rule.retry_after_secs = Some(v.trim().parse().map_err(bad)?)
                }
                "code" => {
                    rule.code = Some(
                        v.trim()
                            .parse()
                            .map_err(|_| format!("--fault {s:?}: bad code {v:?}"))?,
                    )
                }
                other => return Err(format!("--fault {s:?}: unknown option {other:?}")),
            }
        }
        Ok(rule)
    }
}

/// A fault plan, as posted to `POST /sandbox/faults`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FaultPlan {
    /// Seed of the RNG used by `share` rules.
    #[serde(default)]
    pub seed: u64,
    /// The rules, tried in order.
    #[serde(default)]
    pub rules: Vec<FaultRule>,
}

/// A plan being applied.
#[derive(Debug)]
pub struct Faults {
    plan: FaultPlan,
    rng: StdRng,
}

impl Faults {
    /// Arms `plan`.
    pub fn new(plan: FaultPlan) -> Self {
        Faults {
            rng: StdRng::seed_from_u64(plan.seed),
            plan,
        }
    }

    /// The plan with the remaining counts.
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// The rule to apply to a request for `path`, if any (counts it down).
    pub fn pick(&mut self, path: &str) -> Option<FaultRule> {
        for rule in &mut self.plan.rules {
            if !rule.matches(path) || rule.count == Some(0) {
                continue;
            }
            if let Some(share) = rule.share {
                if self.rng.random::<f64>() >= share {
                    continue;
                }
            }
            if let Some(n) = rule.count.as_mut() {
                *n -= 1;
            }
            return Some(rule.clone());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counted_rules_fire_n_times_on_their_path() {
        let mut f = Faults::new(FaultPlan {
            seed: 1,
            rules: vec![FaultRule::new("/ssl/collect", Fault::Http503, Some(2))],
        });
        assert!(f.pick("/ssl/renew").is_none());
        assert_eq!(
            f.pick("/ssl/collect").map(|r| r.fault),
            Some(Fault::Http503)
        );
        assert!(f.pick("/ssl/collect").is_some());
        assert!(f.pick("/ssl/collect").is_none());
        assert_eq!(f.plan().rules[0].count, Some(0));
    }

    #[test]
    fn shares_are_deterministic_for_a_seed() {
        let run = || {
            let mut rule = FaultRule::new("*", Fault::Html, None);
            rule.share = Some(0.5);
            let mut f = Faults::new(FaultPlan {
                seed: 42,
                rules: vec![rule],
            });
            (0..64)
                .map(|_| f.pick("/ssl/collect").is_some())
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let fired = a.iter().filter(|x| **x).count();
        assert!((16..=48).contains(&fired), "{fired}");
    }

    #[test]
    fn flag_syntax() {
        let r = FaultRule::parse_flag("/ssl/renew=drop_after_commit,count=1").expect("parse");
        assert_eq!(
            (r.path.as_str(), r.fault, r.count),
            ("/ssl/renew", Fault::DropAfterCommit, Some(1))
        );
        let r = FaultRule::parse_flag("*=http429,retry_after=2,share=0.25").expect("parse");
        assert_eq!((r.retry_after_secs, r.share), (Some(2), Some(0.25)));
        assert!(FaultRule::parse_flag("/ssl/renew=explode").is_err());
        assert!(FaultRule::parse_flag("/ssl/renew").is_err());
        assert!(FaultRule::parse_flag("/ssl/renew=delay,bogus=1").is_err());
    }
}
