//! Loading the ANS value-set files: every file of the shared folder loads and binds; a wrong,
//! truncated or missing file stops loading with the file's name and the reason.

mod support;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use support::{valuesets_copy, valuesets_dir};
use xds_profiles::dmp::{BINDINGS, DmpProfile};
use xds_profiles::valuesets::{Catalogue, CodeList, ImpliedClass, Membership};
use xds_profiles::{ProfileConfig, ProfileError, load};

fn dmp_config(dir: &Path) -> ProfileConfig {
    ProfileConfig {
        name: "fr-dmp".to_owned(),
        valuesets: Some(dir.to_owned()),
        ..ProfileConfig::default()
    }
}

/// The error of loading the DMP profile from `dir`, as the daemons print it.
fn load_error(dir: &Path) -> String {
    match load(&dmp_config(dir)) {
        Ok(_) => panic!("{} loaded", dir.display()),
        Err(error) => error.to_string(),
    }
}

#[test]
fn every_file_of_the_shared_folder_loads() {
    let dir = valuesets_dir();
    let catalogue = Catalogue::load_dir(&dir, &BTreeMap::new()).expect("loads");
    let mut expected: Vec<String> = fs::read_dir(&dir)
        .expect("folder")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".json") || name.ends_with(".xml") || name.ends_with(".csv"))
        .collect();
    expected.sort();
    let read: Vec<String> = catalogue
        .files
        .iter()
        .map(|path| {
            path.file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(read, expected, "every value-set file is read");
    assert!(expected.len() >= 20, "{expected:?}");
    // One value set per JSON or XML file, each with codes.
    assert_eq!(
        catalogue.len(),
        expected.len() - 1,
        "the CSV is the class map"
    );
    for set in catalogue.value_sets() {
        assert!(!set.concepts.is_empty(), "{} has codes", set.oid);
    }
    // Figures the files publish (dmp-profile.md §5.1).
    let count = |oid: &str| catalogue.get(oid).expect(oid).concepts.len();
    assert_eq!(
        count("1.2.250.1.213.1.1.5.7"),
        108,
        "J66: 31 TRE_A05 + 76 LOINC + E1762"
    );
    assert_eq!(count("1.2.250.1.213.1.1.5.6"), 12, "J57");
    assert_eq!(count("1.2.250.1.213.1.1.5.8"), 61, "J60");
    assert_eq!(count("1.2.250.1.213.1.1.5.9"), 6, "J58");
    assert_eq!(count("1.2.250.1.213.1.1.5.693"), 3, "J231");
    assert_eq!(count("1.2.250.1.213.1.1.4.13"), 5, "TRE_A07 code system");
    // Every set the DMP binds resolves to codingScheme values, and the class map to 108
    // typeCodes. (J52's availability-status systems have no OID we know; nothing binds it.)
    for binding in BINDINGS {
        catalogue
            .binding(binding.value_set)
            .expect("present")
            .unwrap_or_else(|error| panic!("{error}"));
    }
    let (classes, file) = catalogue.class_map().expect("resolves").expect("present");
    assert!(file.ends_with("DERIVED-typeCode-to-classCode-DMP.csv"));
    assert_eq!(classes.len(), 108);
    assert_eq!(
        classes.class_of("E1762", "ASTM"),
        Some(Some(&ImpliedClass {
            code: "urn:oid:1.3.6.1.4.1.19376.1.2.1.1.1".to_owned(),
            schemes: vec!["URN".to_owned()]
        }))
    );
    assert_eq!(
        classes.class_of("28617-9", "2.16.840.1.113883.6.1"),
        Some(None)
    );
}

#[test]
fn bound_sets_know_codes_and_their_code_systems() {
    let catalogue = Catalogue::load_dir(&valuesets_dir(), &BTreeMap::new()).expect("loads");
    let types = catalogue
        .binding("1.2.250.1.213.1.1.5.7")
        .expect("J66")
        .expect("binds");
    assert_eq!(
        types.check("11490-0", Some("2.16.840.1.113883.6.1")),
        Membership::Member
    );
    assert_eq!(
        types.check("11490-0", Some("1.2.250.1.213.1.1.4.12")),
        Membership::WrongScheme(vec!["2.16.840.1.113883.6.1".to_owned()])
    );
    assert_eq!(
        types.check("99999-9", Some("2.16.840.1.113883.6.1")),
        Membership::Absent
    );
    // SVS files carry OIDs directly.
    let roles = catalogue
        .binding("1.2.250.1.213.1.1.5.124")
        .expect("J47")
        .expect("binds");
    assert_eq!(
        roles.check("ATTPHYS", Some("2.16.840.1.113883.5.88")),
        Membership::Member
    );
    // The VIHF sets load too (used by the trust issue).
    assert!(
        catalogue.get("1.2.250.1.213.1.1.5.5").is_some(),
        "J65 SubjectRole"
    );
    assert!(
        catalogue.get("1.2.250.1.213.1.1.4.336").is_some(),
        "TRE_R248"
    );
}

#[test]
fn the_dmp_profile_binds_every_attribute() {
    let profile = DmpProfile::load(&dmp_config(&valuesets_dir())).expect("loads");
    let profile: &dyn xds::validate::Profile = &profile;
    assert_eq!(profile.name(), "fr-dmp");
    assert_eq!(BINDINGS.len(), 12);
    assert!(
        BINDINGS
            .iter()
            .any(|binding| binding.label.starts_with("JDV_J65"))
    );
    assert!(
        BINDINGS
            .iter()
            .any(|binding| binding.label.starts_with("JDV_J64"))
    );
    assert!(profile.rules().iter().any(|rule| rule.id == "DMP-21"));
}

#[test]
fn a_truncated_json_file_names_the_file_and_the_position() {
    let dir = valuesets_copy("truncated-json");
    let file = dir.join("ValueSet-JDV-J66-TypeCode-DMP.json");
    let text = fs::read(&file).expect("read");
    fs::write(&file, &text[..text.len() / 2]).expect("truncate");
    let error = load_error(&dir);
    assert!(
        error.contains("ValueSet-JDV-J66-TypeCode-DMP.json"),
        "{error}"
    );
    assert!(
        error.contains("not valid FHIR JSON") && error.contains("line"),
        "{error}"
    );
}

#[test]
fn a_truncated_xml_file_names_the_file() {
    let dir = valuesets_copy("truncated-xml");
    let file = dir.join("JDV_J47_FunctionCode_CISIS.xml");
    let text = fs::read_to_string(&file).expect("read");
    let cut = text.find("</ConceptList>").expect("list end");
    fs::write(&file, &text[..cut]).expect("truncate");
    let error = load_error(&dir);
    assert!(error.contains("JDV_J47_FunctionCode_CISIS.xml"), "{error}");
    assert!(error.contains("unclosed element"), "{error}");
}

#[test]
fn wrong_files_are_named_with_the_reason() {
    let cases: [(&str, &[u8], &str); 6] = [
        (
            "ValueSet-JDV-J57-ClassCode-DMP.json",
            br#"{"resourceType": "Patient", "id": "x"}"#,
            "resourceType \"Patient\" is neither ValueSet nor CodeSystem",
        ),
        (
            "ValueSet-JDV-J57-ClassCode-DMP.json",
            br#"{"resourceType": "ValueSet", "identifier": [{"value": "urn:oid:1.2.250.1.213.1.1.5.6"}], "compose": {"include": [{"system": "http://loinc.org", "filter": [{"property": "x"}]}]}}"#,
            "does not enumerate its codes",
        ),
        (
            "JDV_J231_XdsTypesIdentifiantsReferenceId_DMP.xml",
            b"<?xml version=\"1.0\"?><Codes><CodeType name=\"x\"/></Codes>",
            "is not an IHE SVS value set",
        ),
        (
            "JDV_J231_XdsTypesIdentifiantsReferenceId_DMP.xml",
            b"<RetrieveValueSetResponse xmlns=\"urn:ihe:iti:svs:2008\"><ValueSet id=\"1.2.250.1.213.1.1.5.693\"><ConceptList><Concept code=\"x\"/></ConceptList></ValueSet></RetrieveValueSetResponse>",
            "lacks its code or codeSystem",
        ),
        (
            "DERIVED-typeCode-to-classCode-DMP.csv",
            b"typeCodeSystem,typeCode,typeDisplay,classCodeSystem,classCode\nhttp://loinc.org,11490-0,Lettre\n",
            "line 2: 3 fields where the header has 5",
        ),
        (
            "ValueSet-JDV-J62-PracticeSettingCode-DMP.json",
            b"\xff\xfe{}",
            "not UTF-8",
        ),
    ];
    for (name, content, reason) in cases {
        let dir = valuesets_copy("wrong");
        fs::write(dir.join(name), content).expect("write");
        let error = load_error(&dir);
        assert!(error.contains(name), "{name}: {error}");
        assert!(error.contains(reason), "{name}: {error} lacks {reason:?}");
    }
}

#[test]
fn a_missing_value_set_or_class_map_stops_loading() {
    let dir = valuesets_copy("missing-set");
    fs::remove_file(dir.join("ValueSet-JDV-J66-TypeCode-DMP.json")).expect("remove");
    let error = load_error(&dir);
    assert!(
        error.contains("JDV_J66 TypeCode DMP (1.2.250.1.213.1.1.5.7) for DocumentEntry.typeCode"),
        "{error}"
    );

    let dir = valuesets_copy("missing-map");
    fs::remove_file(dir.join("DERIVED-typeCode-to-classCode-DMP.csv")).expect("remove");
    assert!(load_error(&dir).contains("ASS_X16"));

    let error = load_error(Path::new("/nonexistent/valuesets"));
    assert!(
        error.contains("/nonexistent/valuesets") && error.contains("cannot read"),
        "{error}"
    );

    let error = match load(&ProfileConfig {
        name: "fr-dmp".to_owned(),
        ..ProfileConfig::default()
    }) {
        Err(ProfileError::Config(message)) => message,
        Err(other) => panic!("{other}"),
        Ok(_) => panic!("fr-dmp loaded without value sets"),
    };
    assert!(error.contains("profile.valuesets"), "{error}");
}

#[test]
fn an_unmapped_code_system_names_the_file_and_the_url_and_can_be_mapped() {
    let dir = valuesets_copy("unmapped");
    let file = dir.join("ValueSet-JDV-J62-PracticeSettingCode-DMP.json");
    let text = fs::read_to_string(&file).expect("read");
    let changed = text.replace(
        "https://mos.esante.gouv.fr/NOS/TRE_A01-CadreExercice/FHIR/TRE-A01-CadreExercice",
        "https://example.org/CadreExercice",
    );
    fs::write(&file, changed).expect("write");
    let error = load_error(&dir);
    assert!(
        error.contains("ValueSet-JDV-J62-PracticeSettingCode-DMP.json"),
        "{error}"
    );
    assert!(
        error.contains("https://example.org/CadreExercice"),
        "{error}"
    );
    let mut config = dmp_config(&dir);
    config.code_systems.insert(
        "https://example.org/CadreExercice".to_owned(),
        vec!["1.2.250.1.213.1.1.4.9".to_owned()],
    );
    load(&config).expect("mapped in the configuration");
}

#[test]
fn two_files_for_one_value_set_are_refused() {
    let dir = valuesets_copy("duplicate");
    fs::copy(
        dir.join("ValueSet-JDV-J57-ClassCode-DMP.json"),
        dir.join("ValueSet-JDV-J57-copy.json"),
    )
    .expect("copy");
    let error = load_error(&dir);
    assert!(error.contains("is also defined by"), "{error}");
}

#[test]
fn the_nist_code_list_loads_and_a_broken_one_is_named() {
    let file = support::shared_dir()
        .join("conformance/nist-testkit/support/environment/default/codes.xml");
    let list = CodeList::load(&file).expect("loads");
    for kind in [
        "classCode",
        "typeCode",
        "formatCode",
        "confidentialityCode",
        "mimeType",
    ] {
        assert!(!list.types.get(kind).expect(kind).is_empty(), "{kind}");
    }
    let dir = support::scratch("codes");
    let broken = dir.join("codes.xml");
    let text = fs::read_to_string(&file).expect("read");
    fs::write(&broken, &text[..text.len() / 3]).expect("write");
    let error = CodeList::load(&broken).expect_err("truncated").to_string();
    assert!(
        error.contains("codes.xml") && error.contains("truncated"),
        "{error}"
    );
}

#[test]
fn the_dmp_profile_checks_the_codes_of_a_vihf_assertion() {
    use xds::model::{AccessMode, Assertion, AuthenticationMode, CodedValue};
    let profile = DmpProfile::load(&dmp_config(&valuesets_dir())).expect("loads");
    let profile: &dyn xds::validate::Profile = &profile;
    let coded = |code: &str, system: &str| CodedValue {
        code: code.to_owned(),
        system: system.to_owned(),
    };
    let good = Assertion {
        id: "_a".to_owned(),
        issuer: "CN=x".to_owned(),
        name_id: "810003461033".to_owned(),
        version: "3.0".to_owned(),
        authentication: AuthenticationMode::Indirect,
        structure_id: "1750100125".to_owned(),
        sector: coded("SA07", "1.2.250.1.71.4.2.4"),
        subject_name: "DURANT Romuald".to_owned(),
        roles: vec![
            coded("10", "1.2.250.1.71.1.2.7"),
            coded("SM26", "1.2.250.1.71.4.2.5"),
        ],
        access_mode: AccessMode::Normal,
        patient: None,
        confidentiality: Some("INVISIBLE_REPRESENTANTS_LEGAUX".to_owned()),
        software_name: "x".to_owned(),
        software_homologation: "x".to_owned(),
        issue_instant: 0,
    };
    assert_eq!(profile.check_assertion(&good), Vec::<String>::new());
    let bad = Assertion {
        sector: coded("SA99", "1.2.250.1.71.4.2.4"),
        roles: vec![coded("10", "1.2.250.1.71.4.2.5")],
        confidentiality: Some("MASQUE_PS".to_owned()),
        ..good
    };
    let problems = profile.check_assertion(&bad);
    assert_eq!(problems.len(), 3, "{problems:?}");
    assert!(
        problems[0].contains("Secteur_Activite SA99"),
        "{problems:?}"
    );
    assert!(problems[1].contains("codingScheme"), "{problems:?}");
    assert!(problems[2].contains("J64"), "{problems:?}");
}
