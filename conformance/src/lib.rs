//! `xds-conformance`: a black-box conformance harness for XDS.b registries and repositories.
//!
//! Layout: `ebrim21` (ebRIM 2.1 -> 3.0 conversion of NIST testkit submissions), `xmltree` (a small
//! element tree for the harness's own documents), `testkit` (reading the NIST testkit data).

pub mod ebrim21;
pub mod runner;
pub mod testkit;
pub mod xmltree;
pub mod xpath;
