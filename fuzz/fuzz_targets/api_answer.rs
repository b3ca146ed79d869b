//! Any bytes as a NicSRS answer body: the client's own parser gives an
//! envelope, data or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nicsrs::types::{CertIdData, CollectData, RenewData};
use nicsrs::{decode_data, parse_envelope, Operation};

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    for op in [Operation::Renew, Operation::Collect, Operation::CertIdByRefId] {
        if let Ok(envelope) = parse_envelope(op, 200, &body) {
            let _ = decode_data::<CollectData>(op, &envelope, &body);
            let _ = decode_data::<RenewData>(op, &envelope, &body);
            let _ = decode_data::<CertIdData>(op, &envelope, &body);
        }
    }
});
