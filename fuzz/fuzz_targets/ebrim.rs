//! Fuzz target: a bare ebRIM/ebRS/XDS.b body element through `wire::decode_body_xml`, then the
//! transforms; every decoded body must re-encode and decode to the same value, and every body
//! whose metadata is valid must survive model -> XML -> model unchanged.
#![no_main]

#[path = "common.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use xds::wire::{self, DocumentContent, MemorySink};

fuzz_target!(|data: &[u8]| {
    let Ok(body) = wire::decode_body_xml(data, &common::fuzz_limits(), &mut MemorySink::default()) else { return };
    let Ok(body) = body.try_map_content::<_, ()>(|content| match content {
        DocumentContent::Inline(attachment) => Ok(attachment),
        DocumentContent::Xop { .. } => Err(()),
    }) else {
        return;
    };
    common::check_body(body);
});
