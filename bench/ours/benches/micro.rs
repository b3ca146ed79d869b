//! Criterion micro-benchmarks of the provider's per-call work on one full
//! renewal (the state in `NICSRS_BENCH_STATE`, see `nicsrs_bench::STATE_ENV`):
//! - `codec`: msgpack decode + encode of the state (what every RPC does to
//!   each value it receives and returns), and building the renewal schema and
//!   its value type (which each RPC handler does once);
//! - `plan`: PlanResourceChange handled by the gRPC service with our
//!   provider, unconfigured so that no API is called: a plan with no changes
//!   (what `terraform plan` asks per renewal) and a create;
//! - `renew_request`: the renew call built from the planned state, and its
//!   form fields.

use std::sync::Arc;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use nicsrs_bench::pb::provider_server::Provider as _;
use nicsrs_bench::{
    codec, pb, renew_request, renewal_schema, renewal_state_from_env, Block, NicsrsProvider,
    ProviderService, Value, TYPE_NAME,
};

fn state() -> Value {
    renewal_state_from_env().unwrap_or_else(|problem| panic!("{problem}"))
}

/// The configuration part of a state: computed-only attributes null, at
/// every depth.
fn config_of(block: &Block, state: &Value) -> Value {
    let Value::Object(items) = state else {
        return state.clone();
    };
    let mut config = items.clone();
    for attribute in &block.attributes {
        if attribute.mode == nicsrs_bench::Mode::Computed {
            config.insert(attribute.name.clone(), Value::Null);
        }
    }
    for nested in &block.blocks {
        if let Some(value) = config.get(&nested.name) {
            let stripped = match value {
                Value::List(items) => {
                    Value::List(items.iter().map(|i| config_of(&nested.block, i)).collect())
                }
                Value::Set(items) => {
                    Value::Set(items.iter().map(|i| config_of(&nested.block, i)).collect())
                }
                single => config_of(&nested.block, single),
            };
            config.insert(nested.name.clone(), stripped);
        }
    }
    Value::Object(config)
}

/// `config` with its computed attributes unknown, as Terraform proposes a
/// create.
fn proposed_create(block: &Block, config: &Value) -> Value {
    let Value::Object(items) = config else {
        return config.clone();
    };
    let mut proposed = items.clone();
    for attribute in &block.attributes {
        if attribute.mode.is_computed() && proposed.get(&attribute.name) == Some(&Value::Null) {
            proposed.insert(attribute.name.clone(), Value::Unknown);
        }
    }
    Value::Object(proposed)
}

fn codec_benches(c: &mut Criterion) {
    let state = state();
    let ty = renewal_schema().value_type();
    let bytes = codec::encode_msgpack(&state, &ty).expect("the state encodes");
    let mut group = c.benchmark_group("codec");
    group.bench_function(
        format!("msgpack decode + encode of one renewal ({} B)", bytes.len()),
        |b| {
            b.iter(|| {
                let value = codec::decode_msgpack(black_box(&bytes), &ty).expect("decodes");
                codec::encode_msgpack(&value, &ty).expect("encodes")
            })
        },
    );
    group.bench_function("renewal schema and its value type, built", |b| {
        b.iter(|| renewal_schema().value_type())
    });
    group.finish();
}

fn plan_benches(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let service = ProviderService::new(Arc::new(NicsrsProvider::new()));
    let schema = renewal_schema();
    let ty = schema.value_type();
    let state = state();
    let config = config_of(&schema.block, &state);
    let dynamic = |value: &Value| pb::DynamicValue {
        msgpack: codec::encode_msgpack(value, &ty).expect("encodes"),
        json: Vec::new(),
    };
    let unchanged = pb::plan_resource_change::Request {
        type_name: TYPE_NAME.to_string(),
        prior_state: Some(dynamic(&state)),
        proposed_new_state: Some(dynamic(&state)),
        config: Some(dynamic(&config)),
        ..Default::default()
    };
    let create = pb::plan_resource_change::Request {
        type_name: TYPE_NAME.to_string(),
        prior_state: Some(dynamic(&Value::Null)),
        proposed_new_state: Some(dynamic(&proposed_create(&schema.block, &config))),
        config: Some(dynamic(&config)),
        ..Default::default()
    };
    let plan = |request: &pb::plan_resource_change::Request| {
        runtime
            .block_on(service.plan_resource_change(tonic::Request::new(request.clone())))
            .expect("never a gRPC error")
            .into_inner()
    };
    // What is measured must be a plan, not an error path.
    for (what, request) in [("no-change", &unchanged), ("create", &create)] {
        let response = plan(request);
        let errors: Vec<_> = response
            .diagnostics
            .iter()
            .filter(|d| d.severity == pb::diagnostic::Severity::Error as i32)
            .map(|d| format!("{}: {}", d.summary, d.detail))
            .collect();
        assert!(
            errors.is_empty(),
            "the {what} plan reported errors: {errors:?}"
        );
    }
    assert_eq!(
        plan(&unchanged).planned_state,
        unchanged.prior_state,
        "a plan with no changes must return the prior state"
    );
    let mut group = c.benchmark_group("plan");
    group.bench_function("PlanResourceChange, no changes", |b| {
        b.iter(|| plan(black_box(&unchanged)))
    });
    group.bench_function("PlanResourceChange, create", |b| {
        b.iter(|| plan(black_box(&create)))
    });
    group.finish();
}

fn renew_request_benches(c: &mut Criterion) {
    let planned = state();
    renew_request(&planned).expect("the state gives a renew call");
    let mut group = c.benchmark_group("renew_request");
    group.bench_function("renew call from the planned state", |b| {
        b.iter(|| renew_request(black_box(&planned)).expect("builds"))
    });
    group.bench_function("renew call and its form fields", |b| {
        b.iter(|| {
            renew_request(black_box(&planned))
                .expect("builds")
                .form_fields("sandbox-token")
                .expect("encodes")
        })
    });
    group.finish();
}

criterion_group!(benches, codec_benches, plan_benches, renew_request_benches);
criterion_main!(benches);
