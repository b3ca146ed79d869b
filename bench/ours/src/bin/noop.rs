//! `terraform-provider-nicsrs-noop`: a provider that does nothing, with our
//! `nicsrs_certificate_renewal` schema and the same state as ours, served by
//! our own plugin layer. Apply returns the plan with its unknowns taken from
//! one real renewal's state (the file named by `NICSRS_BENCH_STATE`), so
//! Terraform stores as many bytes per renewal as with the real provider; no
//! API is called. bench/run.sh runs it under the same `dev_overrides`
//! address as the real one: the difference between the two runs is our
//! provider's own work, the rest is Terraform's and the protocol's.

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use nicsrs_bench::{
    fill_unknowns, renewal_schema, renewal_state_from_env, serve, About, Block, Diagnostics,
    Provider, Resource, Schema, Value, TYPE_NAME,
};

struct NoopRenewal {
    template: OnceLock<Result<Value, String>>,
}

impl NoopRenewal {
    fn applied(&self, planned: &Value, diags: &mut Diagnostics) -> Option<Value> {
        match self.template.get_or_init(renewal_state_from_env) {
            Ok(template) => Some(fill_unknowns(planned, template)),
            Err(problem) => {
                diags.error("No renewal state to copy", problem.clone());
                None
            }
        }
    }
}

#[nicsrs_bench::tonic_async_trait]
impl Resource for NoopRenewal {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        renewal_schema()
    }

    async fn create(&self, planned: &Value, _: &[u8], diags: &mut Diagnostics) -> Option<Value> {
        self.applied(planned, diags)
    }

    async fn read(&self, state: &Value, _: &mut Diagnostics) -> Option<Value> {
        Some(state.clone())
    }

    async fn update(&self, _: &Value, planned: &Value, diags: &mut Diagnostics) -> Option<Value> {
        self.applied(planned, diags)
    }

    // NO-OP: nothing exists outside Terraform's state.
    async fn delete(&self, _: &Value, _: &mut Diagnostics) {}
}

struct NoopProvider;

#[nicsrs_bench::tonic_async_trait]
impl Provider for NoopProvider {
    fn about(&self) -> About {
        About {
            source: "nicsrs/nicsrs",
            title: "a no-op provider with the NicSRS renewal schema",
            log_targets: &["terraform_provider_nicsrs_noop", "nicsrs_bench"],
        }
    }

    fn schema(&self) -> Schema {
        Schema::new(
            0,
            Block::new("Does nothing, with the renewal schema of nicsrs."),
        )
    }

    // NO-OP: no arguments, nothing to set up.
    async fn configure(&self, _: &str, _: &Value, _: &mut Diagnostics) {}

    fn resources(&self) -> Vec<Arc<dyn Resource>> {
        vec![Arc::new(NoopRenewal {
            template: OnceLock::new(),
        })]
    }

    fn data_sources(&self) -> Vec<Arc<dyn nicsrs_bench::DataSource>> {
        Vec::new()
    }
}

fn main() -> ExitCode {
    serve(NoopProvider)
}
