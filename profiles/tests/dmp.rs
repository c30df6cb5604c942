//! The fr-dmp rules of dmp-profile.md §8 that concern metadata: for each, a submission that
//! keeps it (accepted) and one that breaks it (rejected with the rule id, the location and the
//! error code). The base is our DMP-conformant sample, samples/dmp-register.xml.

mod support;

use support::{sample, valuesets_dir, violations};
use xds::error::XdsErrorCode;
use xds::model::{
    AssociationType, AvailabilityStatus, Code, Cx, DocumentEntry, Metadata, ObjectId, Xcn, Xon,
};
use xds::validate::Violation;
use xds_profiles::ProfileConfig;
use xds_profiles::dmp::{DmpConfig, DmpProfile};

fn profile_with(dmp: DmpConfig) -> DmpProfile {
    DmpProfile::load(&ProfileConfig {
        name: "fr-dmp".to_owned(),
        valuesets: Some(valuesets_dir()),
        dmp,
        ..ProfileConfig::default()
    })
    .expect("fr-dmp loads")
}

fn profile() -> DmpProfile {
    profile_with(DmpConfig::default())
}

fn accepted(metadata: &Metadata) {
    accepted_by(&profile(), metadata);
}

fn accepted_by(profile: &DmpProfile, metadata: &Metadata) {
    let found = violations(profile, metadata);
    assert!(found.is_empty(), "unexpected violations: {found:#?}");
}

/// Every violation is of `rule` and is an XDSRegistryMetadataError; returns them.
fn rejected(metadata: &Metadata, rule: &str) -> Vec<Violation> {
    rejected_by(&profile(), metadata, rule)
}

fn rejected_by(profile: &DmpProfile, metadata: &Metadata, rule: &str) -> Vec<Violation> {
    let found = violations(profile, metadata);
    assert!(!found.is_empty(), "{rule}: accepted");
    for violation in &found {
        assert_eq!(violation.rule, Some(rule), "{found:#?}");
        assert_eq!(
            violation.code,
            XdsErrorCode::RegistryMetadataError,
            "{violation}"
        );
    }
    found
}

fn document(metadata: &mut Metadata) -> &mut DocumentEntry {
    &mut metadata.document_entries[0]
}

fn set_patient(metadata: &mut Metadata, id: &str) {
    let cx = Cx::parse(id).expect("CX");
    metadata.submission_sets[0].patient_id = Some(cx.clone());
    for entry in &mut metadata.document_entries {
        entry.patient_id = Some(cx.clone());
    }
}

#[test]
fn the_sample_is_accepted_with_every_rule_in_force() {
    accepted(&sample());
}

#[test]
fn rule_01_patient_id_form() {
    // Positive: the INS CX with ^NH (the sample). Negative: without the NH type code, and
    // with another type code (PI).
    accepted(&sample());
    for id in [
        "185057800608491^^^&1.2.250.1.213.1.4.8&ISO",
        "185057800608491^^^&1.2.250.1.213.1.4.8&ISO^PI",
    ] {
        let mut metadata = sample();
        set_patient(&mut metadata, id);
        let found = rejected(&metadata, "DMP-01");
        assert_eq!(found.len(), 3, "SubmissionSet and both entries: {found:#?}");
        assert!(
            found[0].message.starts_with("INS_INVALID: "),
            "{}",
            found[0]
        );
        assert!(
            found[0].location.starts_with("SubmissionSet "),
            "{}",
            found[0]
        );
    }
}

#[test]
fn rule_02_assigning_authority() {
    // Positive: INS-NIA in production; test INS once configured.
    let mut metadata = sample();
    set_patient(
        &mut metadata,
        "185057800608491^^^&1.2.250.1.213.1.4.9&ISO^NH",
    );
    accepted(&metadata);
    let mut metadata = sample();
    set_patient(
        &mut metadata,
        "185057800608491^^^&1.2.250.1.213.1.4.10&ISO^NH",
    );
    let found = rejected(&metadata, "DMP-02");
    assert!(found[0].message.contains("not accepted"), "{}", found[0]);
    let testing = profile_with(DmpConfig {
        ins_accept: vec!["nir".into(), "nia".into(), "test".into()],
        ..DmpConfig::default()
    });
    accepted_by(&testing, &metadata);
    // Negative: INS-C (withdrawn) and a hospital's own OID.
    for (id, words) in [
        ("185057800608491^^^&1.2.250.1.213.1.4.2&ISO^NH", "withdrawn"),
        (
            "185057800608491^^^&1.2.250.1.999.1&ISO^NH",
            "not an INS OID",
        ),
    ] {
        let mut metadata = sample();
        set_patient(&mut metadata, id);
        let found = rejected_by(&testing, &metadata, "DMP-02");
        assert!(found[0].message.contains(words), "{}", found[0]);
    }
}

#[test]
fn rule_03_matricule_and_key() {
    // Positive: the Corsican test vectors of dmp-profile.md §8 (2A -> 49, 2B -> 76).
    for id in ["292042A00401249", "292042B00401276"] {
        let mut metadata = sample();
        set_patient(
            &mut metadata,
            &format!("{id}^^^&1.2.250.1.213.1.4.8&ISO^NH"),
        );
        accepted(&metadata);
    }
    // Negative: a wrong key, a short matricule, a letter outside positions 6-7.
    for (id, words) in [
        ("185057800608492", "key 92"),
        ("18505780060849", "14 characters"),
        ("1850578X0608491", "not allowed"),
    ] {
        let mut metadata = sample();
        set_patient(
            &mut metadata,
            &format!("{id}^^^&1.2.250.1.213.1.4.8&ISO^NH"),
        );
        let found = rejected(&metadata, "DMP-03");
        assert!(found[0].message.contains(words), "{}", found[0]);
    }
}

#[test]
fn rule_04_one_patient_per_submission() {
    // Structural rule IHE-PATIENT-MATCH, in force under fr-dmp too.
    accepted(&sample());
    let mut metadata = sample();
    document(&mut metadata).patient_id =
        Some(Cx::parse("185057800608491^^^&1.2.250.1.213.1.4.9&ISO^NH").expect("CX"));
    let found = violations(&profile(), &metadata);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].rule, Some("IHE-PATIENT-MATCH"));
    assert_eq!(found[0].code, XdsErrorCode::PatientIdDoesNotMatch);
}

#[test]
fn rule_20_required_attributes() {
    // Positive: optional attributes may go (serviceStopTime, comments, eventCodeList).
    let mut metadata = sample();
    document(&mut metadata).service_stop_time = None;
    document(&mut metadata).event_codes.clear();
    accepted(&metadata);
    // Negative: what IHE leaves optional and the DMP requires.
    let mut metadata = sample();
    let entry = document(&mut metadata);
    entry.legal_authenticator = None;
    entry.service_start_time = None;
    entry.source_patient_info.clear();
    entry.title.clear();
    let found = rejected(&metadata, "DMP-20");
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0]
            .message
            .contains("legalAuthenticator, serviceStartTime, sourcePatientInfo, title"),
        "{}",
        found[0]
    );
    // The SubmissionSet's author needs an authorPerson.
    let mut metadata = sample();
    metadata.submission_sets[0].authors[0].person = None;
    let found = rejected(&metadata, "DMP-20");
    assert!(found[0].message.contains("authorPerson"), "{}", found[0]);
}

#[test]
fn rule_21_value_sets_and_coding_schemes() {
    // Positive: other codes of the value sets.
    let mut metadata = sample();
    let entry = document(&mut metadata);
    entry.type_code = Some(Code::new(
        "11502-2",
        "2.16.840.1.113883.6.1",
        "CR d'examens biologiques",
    ));
    entry.healthcare_facility_type_code =
        Some(Code::new("SA05", "1.2.250.1.71.4.2.4", "Centre de santé"));
    entry.practice_setting_code = Some(Code::new(
        "AMBULATOIRE",
        "1.2.250.1.213.1.1.4.9",
        "Ambulatoire",
    ));
    entry.format_code = Some(Code::new(
        "urn:asip:ci-sis:avk:2009",
        "1.2.250.1.213.1.1.4.2.282",
        "AVK",
    ));
    entry.reference_ids.push(
        Cx::parse("ACC-1^^^&1.2.250.1.999.77&ISO^urn:ihe:iti:xds:2013:accession").expect("CX"),
    );
    accepted(&metadata);
    // Negative: a code outside its JDV, a wrong codingScheme, an author code outside J01/J47,
    // a contentTypeCode outside J59, a referenceIdList type outside J231.
    let mut metadata = sample();
    document(&mut metadata).type_code = Some(Code::new("99999-9", "2.16.840.1.113883.6.1", "x"));
    let found = rejected(&metadata, "DMP-21");
    assert!(
        found[0]
            .message
            .starts_with("CODE_NOT_IN_JDV: typeCode 99999-9"),
        "{}",
        found[0]
    );
    assert!(
        found[0]
            .message
            .contains("JDV_J66 TypeCode DMP (1.2.250.1.213.1.1.5.7)")
    );

    let mut metadata = sample();
    document(&mut metadata).practice_setting_code =
        Some(Code::new("ETABLISSEMENT", "2.16.840.1.113883.6.1", "x"));
    let found = rejected(&metadata, "DMP-21");
    assert!(
        found[0].message.contains("expected 1.2.250.1.213.1.1.4.9"),
        "{}",
        found[0]
    );

    let mut metadata = sample();
    metadata.submission_sets[0].authors[0].specialties =
        vec!["SM99^x^1.2.250.1.213.1.1.4.5".into()];
    metadata.submission_sets[0].authors[0].roles = vec!["PCP".into()];
    metadata.submission_sets[0].content_type_code = Some(Code::new("ZZ", "1.2.250.1.213.2.2", "x"));
    let found = rejected(&metadata, "DMP-21");
    assert_eq!(found.len(), 3, "{found:#?}");
    assert!(
        found
            .iter()
            .all(|violation| violation.location.starts_with("SubmissionSet"))
    );
    assert!(
        found[2].message.contains("names no code system"),
        "{}",
        found[2]
    );

    let mut metadata = sample();
    document(&mut metadata).reference_ids.push(
        Cx::parse("ACC-1^^^&1.2.250.1.999.77&ISO^urn:ihe:iti:xds:2013:referral").expect("CX"),
    );
    let found = rejected(&metadata, "DMP-21");
    assert!(found[0].message.contains("JDV_J231"), "{}", found[0]);
}

#[test]
fn rule_22_class_follows_type() {
    // Positive: a typeCode for which ASS_X16 gives no class takes any J57 class.
    let mut metadata = sample();
    let entry = document(&mut metadata);
    entry.type_code = Some(Code::new(
        "28617-9",
        "2.16.840.1.113883.6.1",
        "Bilan bucco-dentaire",
    ));
    entry.class_code = Some(Code::new("11", "1.2.250.1.213.1.1.4.1", "Synthèse"));
    accepted(&metadata);
    // Negative: a discharge letter (class 10) filed as a prescription (42); the signature
    // type E1762 without the signature class.
    let mut metadata = sample();
    document(&mut metadata).class_code =
        Some(Code::new("42", "1.2.250.1.213.1.1.4.1", "Prescription"));
    let found = rejected(&metadata, "DMP-22");
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .message
            .starts_with("CLASS_TYPE_MISMATCH: typeCode 11490-0 gives classCode 10"),
        "{}",
        found[0]
    );
    let mut metadata = sample();
    metadata.document_entries[1].class_code =
        Some(Code::new("10", "1.2.250.1.213.1.1.4.1", "Compte rendu"));
    let found = rejected(&metadata, "DMP-22");
    assert!(
        found[0]
            .message
            .contains("urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1"),
        "{}",
        found[0]
    );
}

#[test]
fn rule_23_confidentiality_codes() {
    let flag = |code: &str| Code::new(code, "1.2.250.1.213.1.1.4.13", code);
    let level = |code: &str| Code::new(code, "2.16.840.1.113883.5.25", code);
    // Positive: N with two flags; a flag-only list when configured (UNCONFIRMED switch).
    let mut metadata = sample();
    document(&mut metadata).confidentiality_codes =
        vec![level("N"), flag("MASQUE_PS"), flag("INVISIBLE_PATIENT")];
    accepted(&metadata);
    let mut metadata = sample();
    document(&mut metadata).confidentiality_codes = vec![flag("MASQUE_PS")];
    let lenient = profile_with(DmpConfig {
        allow_flag_only_confidentiality: true,
        ..DmpConfig::default()
    });
    accepted_by(&lenient, &metadata);
    // Negative: flag only (default), two levels, a flag J58 lacks, a repeat, five codes.
    for (codes, words) in [
        (vec![flag("MASQUE_PS")], "no HL7 level"),
        (vec![level("N"), level("R")], "2 HL7 levels"),
        (vec![level("N"), flag("MASQUE_PSOCIAL")], "not a DMP flag"),
        (
            vec![level("N"), flag("MASQUE_PS"), flag("MASQUE_PS")],
            "MASQUE_PS is repeated",
        ),
        (
            vec![
                level("N"),
                flag("MASQUE_PS"),
                flag("INVISIBLE_PATIENT"),
                flag("INVISIBLE_REPRESENTANTS_LEGAUX"),
                level("V"),
            ],
            "5 codes (at most 4)",
        ),
    ] {
        let mut metadata = sample();
        document(&mut metadata).confidentiality_codes = codes;
        let found = rejected(&metadata, "DMP-23");
        assert!(found[0].message.contains(words), "{words}: {}", found[0]);
    }
}

#[test]
fn rule_24_mime_type() {
    // Positive: a DICOM KOS as application/dicom; PDF once configured (UNCONFIRMED switch).
    let mut metadata = sample();
    let entry = document(&mut metadata);
    entry.mime_type = Some("application/dicom".into());
    entry.format_code = Some(Code::new(
        "1.2.840.10008.5.1.4.1.1.88.59",
        "1.2.840.10008.2.6.1",
        "KOS",
    ));
    accepted(&metadata);
    let mut metadata = sample();
    document(&mut metadata).mime_type = Some("application/pdf".into());
    let lenient = profile_with(DmpConfig {
        mime_types: vec!["text/xml".into(), "application/pdf".into()],
        ..DmpConfig::default()
    });
    accepted_by(&lenient, &metadata);
    // Negative: raw PDF by default; a KOS as text/xml.
    let found = rejected(&metadata, "DMP-24");
    assert!(
        found[0]
            .message
            .contains("mimeType application/pdf is not accepted"),
        "{}",
        found[0]
    );
    let mut metadata = sample();
    document(&mut metadata).format_code = Some(Code::new(
        "1.2.840.10008.5.1.4.1.1.88.59",
        "1.2.840.10008.2.6.1",
        "KOS",
    ));
    let found = rejected(&metadata, "DMP-24");
    assert!(
        found[0].message.contains("application/dicom"),
        "{}",
        found[0]
    );
}

#[test]
fn rule_25_author_person_forms() {
    // Positive: the forms of dmp-profile.md §2.4 (internal id, device, patient).
    for person in [
        "3750100125/1453^MARTIN^Philippe^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^EI",
        "3750100125/9762^Automate X^waralab1000^^^^^^&1.2.250.1.71.4.2.1&ISO^U^^^RI",
        "185057800608491^DUPONT^Jean^^^^^^&1.2.250.1.213.1.4.8&ISO^D^^^NH",
    ] {
        let mut metadata = sample();
        document(&mut metadata).authors[0].person = Some(Xcn::parse(person).expect("XCN"));
        accepted(&metadata);
    }
    // Negative: each part of the rule.
    for (person, words) in [
        (
            "801234567890^DURANT^Romuald^^^^^^1.2.250.1.71.4.2.1^D^^^IDNPS",
            "XCN.9",
        ),
        (
            "801234567890^DURANT^Romuald^^^^^^&1.2.250.1.71.4.2.1&ISO^X^^^IDNPS",
            "XCN.10",
        ),
        (
            "801234567890^DURANT^Romuald^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^RPPS",
            "XCN.13",
        ),
        (
            "201234567890^DURANT^Romuald^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
            "not an idNat_PS",
        ),
        (
            "81234567^DURANT^Romuald^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS",
            "11-digit RPPS",
        ),
    ] {
        let mut metadata = sample();
        document(&mut metadata).authors[0].person = Some(Xcn::parse(person).expect("XCN"));
        let found = rejected(&metadata, "DMP-25");
        assert!(found[0].message.contains(words), "{words}: {}", found[0]);
        assert!(found[0].location.ends_with("/ author 1"), "{}", found[0]);
    }
    // The legalAuthenticator takes the same forms.
    let mut metadata = sample();
    document(&mut metadata).legal_authenticator =
        Some(Xcn::parse("801234567890^DURANT^Romuald").expect("XCN"));
    let found = rejected(&metadata, "DMP-25");
    assert!(
        found[0].message.starts_with("legalAuthenticator"),
        "{}",
        found[0]
    );
}

#[test]
fn rule_26_author_institution() {
    // Positive: a structure without id (CDA nullFlavor: XON.6, 7, 10 empty); the patient as
    // author without institution.
    let mut metadata = sample();
    document(&mut metadata).authors[0].institutions =
        vec![Xon::parse("Cabinet Martin").expect("XON")];
    accepted(&metadata);
    let mut metadata = sample();
    let author = &mut document(&mut metadata).authors[0];
    author.person = Some(
        Xcn::parse("185057800608491^DUPONT^Jean^^^^^^&1.2.250.1.213.1.4.8&ISO^D^^^NH")
            .expect("XCN"),
    );
    author.institutions.clear();
    author.roles.clear();
    author.specialties =
        vec!["EXP_PATIENT^Expression personnelle du patient^1.2.250.1.213.1.1.4.6".into()];
    accepted(&metadata);
    // Negative: an id without type code; the patient with an institution.
    let mut with_institution = metadata.clone();
    document(&mut with_institution).authors[0]
        .institutions
        .push(Xon::parse("Hôpital^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1750100125").expect("XON"));
    let found = rejected(&with_institution, "DMP-26");
    assert!(found[0].message.contains("EXP_PATIENT"), "{}", found[0]);
    let mut metadata = sample();
    document(&mut metadata).authors[0].institutions =
        vec![Xon::parse("Hôpital^^^^^&1.2.250.1.71.4.2.2&ISO^^^^1750100125").expect("XON")];
    let found = rejected(&metadata, "DMP-26");
    assert!(found[0].message.contains("lacks XON.7"), "{}", found[0]);
}

#[test]
fn rule_27_signature_entry() {
    // Positive: the sample; and without signature when the switch is off.
    accepted(&sample());
    let mut unsigned = sample();
    unsigned
        .associations
        .retain(|association| association.association_type != AssociationType::Signs);
    accepted_by(
        &profile_with(DmpConfig {
            require_signature: false,
            ..DmpConfig::default()
        }),
        &unsigned,
    );
    // Negative: no signs association; a signs association from an entry that is not a
    // signature.
    let found = rejected(&unsigned, "DMP-27");
    assert!(
        found[0].message.starts_with("SUBMISSION_SIGNATURE: "),
        "{}",
        found[0]
    );
    assert!(
        found[0].location.starts_with("SubmissionSet"),
        "{}",
        found[0]
    );
    let mut misdirected = sample();
    let document_id: ObjectId = misdirected.document_entries[0].entry_uuid.clone();
    for association in &mut misdirected.associations {
        if association.association_type == AssociationType::Signs {
            association.source = document_id.clone();
        }
    }
    rejected(&misdirected, "DMP-27");
}

#[test]
fn rule_28_status_is_the_registry_s() {
    // Positive: a submitter's Approved changes nothing.
    let mut metadata = sample();
    document(&mut metadata).availability_status = Some(AvailabilityStatus::Approved);
    accepted(&metadata);
    // Negative: Deleted, Archived or Deprecated from a submitter.
    for status in [
        AvailabilityStatus::Deleted,
        AvailabilityStatus::Archived,
        AvailabilityStatus::Deprecated,
    ] {
        let mut metadata = sample();
        document(&mut metadata).availability_status = Some(status.clone());
        let found = rejected(&metadata, "DMP-28");
        assert!(found[0].message.contains(status.urn()), "{}", found[0]);
    }
}

#[test]
fn every_violation_is_reported_at_once() {
    let mut metadata = sample();
    set_patient(&mut metadata, "185057800608492^^^&1.2.250.1.213.1.4.8&ISO");
    let entry = document(&mut metadata);
    entry.mime_type = Some("application/pdf".into());
    entry.class_code = Some(Code::new("42", "1.2.250.1.213.1.1.4.1", "Prescription"));
    entry.legal_authenticator = None;
    let found = violations(&profile(), &metadata);
    let mut rules: Vec<&str> = found
        .iter()
        .filter_map(|violation| violation.rule)
        .collect();
    rules.sort();
    rules.dedup();
    assert_eq!(
        rules,
        ["DMP-01", "DMP-03", "DMP-20", "DMP-22", "DMP-24"],
        "{found:#?}"
    );
    // On the wire: codeContext = token, message, rule id; location = the object.
    let error = found[0].to_registry_error();
    assert!(
        error.code_context.ends_with("[DMP-01]"),
        "{}",
        error.code_context
    );
    assert!(
        error
            .location
            .as_deref()
            .is_some_and(|at| at.starts_with("SubmissionSet "))
    );
}

#[test]
fn rule_27_on_updates_is_a_switch_off_by_default() {
    // An ITI-57 new version of the letter, without signature entry (as DMP clients send).
    let mut metadata = sample();
    let signature = metadata.document_entries.remove(1);
    metadata.associations.retain(|association| {
        association.source != signature.entry_uuid && association.target != signature.entry_uuid
    });
    let letter = &mut metadata.document_entries[0];
    letter.logical_id = Some(ObjectId::Uuid(xds::model::Uuid::new_v4([1; 16])));
    for association in &mut metadata.associations {
        association.previous_version = Some("1".to_owned());
    }
    let found = xds::validate::validate_update(&metadata, &profile());
    assert!(found.is_empty(), "{found:#?}");
    let strict = profile_with(DmpConfig {
        require_signature_on_update: true,
        ..DmpConfig::default()
    });
    let found = xds::validate::validate_update(&metadata, &strict);
    assert!(
        found
            .iter()
            .any(|violation| violation.rule == Some("DMP-27")),
        "{found:#?}"
    );
}

#[test]
fn rule_30_a_version_changes_only_the_confidentiality_codes() {
    use xds::validate::Profile;
    let profile = profile();
    let previous = sample().document_entries[0].clone();
    // Positive: another confidentialityCode list (and a new id, lid, version, status).
    let mut next = previous.clone();
    next.entry_uuid = ObjectId::parse("Version2").expect("id");
    next.version = Some("2".to_owned());
    next.confidentiality_codes.push(Code::new(
        "MASQUE_PS",
        "1.2.250.1.213.1.1.4.13",
        "MASQUE_PS",
    ));
    assert_eq!(profile.version_change_refused(&previous, &next), None);
    // Negative: a listed attribute is named; one outside the list is refused all the same.
    let mut retitled = next.clone();
    retitled.title = vec![xds::model::LocalizedString::new("Autre")];
    let reason = profile
        .version_change_refused(&previous, &retitled)
        .expect("refused");
    assert!(reason.ends_with("changes title"), "{reason}");
    let mut moved = next.clone();
    moved.uri = Some("http://example.org/other".to_owned());
    assert!(profile.version_change_refused(&previous, &moved).is_some());
}
