//! Fuzz triage aid: decodes a bare body element from FILE, re-encodes it, decodes the output and
//! prints the first line where the two decoded values differ.
//!
//! `cargo run -p xds --example roundtrip_diff -- FILE`

// A command-line tool: printing is its output, and a panic is its error report.
#![allow(clippy::print_stderr, clippy::unwrap_used, clippy::expect_used)]

use xds::wire::{self, DocumentContent, Limits, MemorySink, OutContent};

fn main() {
    let path = std::env::args().nth(1).expect("usage: roundtrip_diff FILE");
    let data = std::fs::read(path).expect("read FILE");
    let body = wire::decode_body_xml(&data[..], &Limits::default(), &mut MemorySink::default())
        .expect("decode FILE");
    let out = body
        .clone()
        .try_map_content::<_, ()>(|content| match content {
            DocumentContent::Inline(attachment) => Ok(OutContent::Inline(attachment.handle)),
            DocumentContent::Xop { cid, .. } => Ok(OutContent::Xop { cid }),
        })
        .expect("infallible");
    let xml = wire::write_body_document(&out);
    let again = wire::decode_body_xml(
        xml.as_bytes(),
        &Limits::default(),
        &mut MemorySink::default(),
    )
    .expect("decode re-encoded");
    let (before, after) = (format!("{body:#?}"), format!("{again:#?}"));
    match before
        .lines()
        .zip(after.lines())
        .enumerate()
        .find(|(_, (left, right))| left != right)
    {
        Some((index, (left, right))) => {
            eprintln!("differs at line {index}:\n  input : {left}\n  output: {right}")
        }
        None if before == after => eprintln!("equal"),
        None => eprintln!("one value is a prefix of the other"),
    }
}
