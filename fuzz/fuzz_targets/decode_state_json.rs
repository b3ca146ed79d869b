//! Any bytes as stored renewal state (JSON, UpgradeResourceState): an
//! error or a value, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tfplugin::codec;
use nicsrs_provider::provider::certificate_renewal;

fuzz_target!(|data: &[u8]| {
    let ty = certificate_renewal::schema().value_type();
    if let Ok(json) = serde_json::from_slice::<serde_json::Value>(data) {
        let _ = codec::state_from_json(&json, &ty);
    }
});
