//! Any text as a `csr` argument: the plan-time CSR rules refuse it with a
//! message or accept it, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nicsrs::rules;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = rules::csr("csr", &text);
    let _ = rules::domain_name("domain_name", &text);
});
