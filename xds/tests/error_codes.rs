//! Our error-code strings match the error-code table shipped with the NIST testkit
//! (support/TransactionDefinedErrorCodes.txt, read from the shared data).

// In test helpers a panic is the failure report, so unwrapping is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use xds::XdsErrorCode;

#[test]
fn every_code_of_the_testkit_table_is_in_the_closed_set() {
    let table = std::fs::read_to_string(
        common::shared_dir()
            .join("conformance/nist-testkit/support/TransactionDefinedErrorCodes.txt"),
    )
    .unwrap();
    let mut codes: Vec<&str> = table
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').nth(1))
        .map(str::trim)
        .filter(|code| !code.is_empty())
        .collect();
    codes.sort_unstable();
    codes.dedup();
    assert!(codes.len() >= 30, "table not read: {codes:?}");
    for code in &codes {
        assert!(
            XdsErrorCode::from_spec(code).is_some(),
            "{code} is missing from XdsErrorCode"
        );
    }
    // The warning in that table is a warning here too.
    assert!(table.contains("XDSExtraMetadataNotSaved, W"));
}

#[test]
fn metadata_update_and_rmd_codes_are_spelled_as_the_testkit_expects() {
    // The codes the testkit's ITI-57/62 plans check in <ExpectedErrorCode> (FORMAT.md §7).
    for code in [
        "ReferencesExistException",
        "XDSMetadataUpdateOperationError",
        "XDSResultNotSinglePatient",
        "XDSRepositoryMetadataError",
        "XDSMetadataVersionError",
        "XDSRegistryMetadataError",
        "XDSMetadataUpdateError",
        "XDSUnreferencedObjectException",
        "UnresolvedReferenceException",
        "XDSPatientIDReconciliationError",
    ] {
        assert!(XdsErrorCode::from_spec(code).is_some(), "{code}");
    }
}
