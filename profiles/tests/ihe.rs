//! ihe-xds-b: structural rules only by default; with an affinity-domain code list (the NIST
//! testkit's codes.xml here), coded attributes must come from it.

mod support;

use support::{sample, shared_dir, violations};
use xds::model::Code;
use xds_profiles::ihe::IheProfile;
use xds_profiles::{ProfileConfig, ProfileError, load};

fn with_codes() -> IheProfile {
    IheProfile::load(&ProfileConfig {
        codes: Some(
            shared_dir().join("conformance/nist-testkit/support/environment/default/codes.xml"),
        ),
        ..ProfileConfig::default()
    })
    .expect("codes.xml loads")
}

/// The first code the list gives for an attribute.
fn listed(profile: &IheProfile, attribute: &str) -> Code {
    let list = profile.code_list().expect("a list");
    let set = list.types.get(attribute).expect(attribute);
    let (code, scheme) = set
        .codes()
        .into_iter()
        .find(|(_, scheme)| !scheme.is_empty())
        .expect("a code");
    Code::new(&code, &scheme, &code)
}

#[test]
fn without_a_code_list_only_structure_counts() {
    let profile = load(&ProfileConfig::default()).expect("default profile");
    assert_eq!(profile.name(), "ihe-xds-b");
    assert!(profile.rules().is_empty());
    assert!(violations(profile.as_ref(), &sample()).is_empty());
}

#[test]
fn with_the_nist_code_list_codes_outside_it_are_refused_and_listed_codes_pass() {
    let profile = with_codes();
    let found = violations(&profile, &sample());
    assert!(!found.is_empty());
    assert!(
        found
            .iter()
            .all(|violation| violation.rule == Some("IHE-CODE-LIST")),
        "{found:#?}"
    );
    assert!(
        found.iter().any(|violation| violation
            .message
            .starts_with("classCode 10 (1.2.250.1.213.1.1.4.1)")),
        "{found:#?}"
    );

    let mut metadata = sample();
    metadata.submission_sets[0].content_type_code = Some(listed(&profile, "contentTypeCode"));
    for entry in &mut metadata.document_entries {
        entry.class_code = Some(listed(&profile, "classCode"));
        entry.type_code = Some(listed(&profile, "typeCode"));
        entry.format_code = Some(listed(&profile, "formatCode"));
        entry.healthcare_facility_type_code = Some(listed(&profile, "healthcareFacilityTypeCode"));
        entry.practice_setting_code = Some(listed(&profile, "practiceSettingCode"));
        entry.confidentiality_codes = vec![listed(&profile, "confidentialityCode")];
        entry.mime_type = Some("application/pdf".to_owned());
    }
    let found = violations(&profile, &metadata);
    assert!(found.is_empty(), "{found:#?}");

    // A listed code under another codingScheme, and an unlisted mimeType.
    let mut wrong = metadata.clone();
    let class = listed(&profile, "classCode");
    wrong.document_entries[0].class_code = Some(Code::new(&class.code, "1.2.3.4", "x"));
    wrong.document_entries[0].mime_type = Some("application/x-unknown".to_owned());
    let found = violations(&profile, &wrong);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        found[0]
            .message
            .contains("codingScheme \"1.2.3.4\" is not the code system"),
        "{}",
        found[0]
    );
    assert!(
        found[1].message.contains("mimeType application/x-unknown"),
        "{}",
        found[1]
    );
}

#[test]
fn the_profiles_refuse_each_other_s_settings_and_unknown_names() {
    let error = load(&ProfileConfig {
        valuesets: Some(shared_dir()),
        ..ProfileConfig::default()
    })
    .expect_err("refused");
    assert!(
        matches!(&error, ProfileError::Config(message) if message.contains("profile.codes")),
        "{error}"
    );
    let error = load(&ProfileConfig {
        name: "fr-dmpp".to_owned(),
        ..ProfileConfig::default()
    })
    .expect_err("refused");
    assert!(
        error
            .to_string()
            .contains("unknown profile \"fr-dmpp\"; available: ihe-xds-b, fr-dmp"),
        "{error}"
    );
}
