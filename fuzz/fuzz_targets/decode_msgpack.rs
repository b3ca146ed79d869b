//! Any bytes as a renewal's DynamicValue (msgpack): an error or a value
//! that encodes again, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tfplugin::codec;
use nicsrs_provider::provider::certificate_renewal;

fuzz_target!(|data: &[u8]| {
    let ty = certificate_renewal::schema().value_type();
    if let Ok(value) = codec::decode_msgpack(data, &ty) {
        let _ = codec::encode_msgpack(&value, &ty);
    }
});
