//! `xds-conformance`: a black-box conformance harness for XDS.b registries and repositories.
//!
//! Layout: `ebrim21` (ebRIM 2.1 -> 3.0 conversion of NIST testkit submissions), `xmltree` (a small
//! element tree for the harness's own documents), `testkit` (reading the NIST testkit data),
//! `runner` (the NIST testkit runner) with `xpath`, and `support` (daemons on loopback, a small
//! HTTP client and canonical sample submissions, for the daemons' tests and our own suites),
//! `load` (keep-alive load generation for the benchmark commands), `suites` (the NIST suites,
//! results, known failures), `scenario` (our declarative suites in `conformance/suites`),
//! `junit`, `validate_file` and `cli` (the `xds-conformance` command line).

pub mod cli;
pub mod ebrim21;
pub mod feed;
pub mod junit;
pub mod load;
pub mod pki;
pub mod runner;
pub mod scenario;
pub mod suites;
pub mod support;
pub mod testkit;
pub mod validate_file;
pub mod xmltree;
pub mod xpath;
