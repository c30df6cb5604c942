//! Fuzz target: a captured element (as the WS-Security header is) through `wire::dom::parse_in`
//! and exclusive canonicalization. Whatever parses must canonicalize to UTF-8 that parses again
//! on its own and canonicalizes to the same bytes (the canonical form is a fixed point), and
//! nothing may panic: the header comes from the network.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xds::wire::dom;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let context = vec![
        ("p".to_owned(), "urn:p".to_owned()),
        (String::new(), "urn:default".to_owned()),
    ];
    let Ok(tree) = dom::parse_in(text, &context) else { return };
    let inclusive = vec!["p".to_owned(), "#default".to_owned()];
    let first = dom::exclusive_c14n(&tree, &inclusive, None);
    let canonical = std::str::from_utf8(&first).expect("the canonical form is UTF-8");
    let reparsed = dom::parse_in(canonical, &[]).expect("the canonical form parses on its own");
    let second = dom::exclusive_c14n(&reparsed, &inclusive, None);
    assert_eq!(canonical, String::from_utf8_lossy(&second), "c14n is not a fixed point");
});
