//! Fuzz target: a whole HTTP body (Simple SOAP or MTOM/XOP) through `wire::decode_message`.
//! The first byte picks the Content-Type, so both framings and both root-part lookups are
//! exercised; every decoded message must re-encode and decode to the same body.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use xds::wire::{self, MemorySink};

const CONTENT_TYPES: [&str; 4] = [
    "application/soap+xml; charset=UTF-8",
    "multipart/related; boundary=\"b\"; type=\"application/xop+xml\"; start=\"<root@x>\"; start-info=\"application/soap+xml\"",
    "multipart/related; boundary=b; type=\"application/xop+xml\"",
    "multipart/related; boundary=\"MIMEBoundary_95b57d7287e4fa4b528a8f050c41f8ad829c20332f23b48d\"; type=\"application/xop+xml\"",
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    let content_type = CONTENT_TYPES[usize::from(selector) % CONTENT_TYPES.len()];
    if let Ok(message) = wire::decode_message(content_type, body, &common::fuzz_limits(), &mut MemorySink::default()) {
        common::check_body(message.envelope.body);
    }
});
