//! The access decisions, case by case (the end-to-end matrix over SOAP is in
//! `repository/tests/access.rs`).

use xds::XdsErrorCode;
use xds::model::{
    AccessMode, Assertion, AuthenticationMode, Author, Caller, CertificateIdentity,
    CertificateKind, Code, CodedValue, DocumentEntry, ObjectId, Xcn, Xon,
};

use super::*;

const DOCTOR: &str = "810000000001";
const OTHER_DOCTOR: &str = "810000000002";
const STRUCTURE: &str = "1750100125";

fn certificate(subject: &str) -> CertificateIdentity {
    CertificateIdentity {
        subject: subject.to_owned(),
        serial: "01".to_owned(),
        kind: CertificateKind::Structure,
        structure_id: Some(STRUCTURE.to_owned()),
        professional_id: None,
    }
}

fn caller(name_id: &str, role: (&str, &str), mode: AccessMode) -> Caller {
    Caller {
        certificate: Some(certificate("CN=lps,OU=1750100125,O=Hospital,C=FR")),
        assertion: Some(Assertion {
            id: "_a".to_owned(),
            issuer: "CN=lps".to_owned(),
            name_id: name_id.to_owned(),
            version: "3.0".to_owned(),
            authentication: AuthenticationMode::Direct,
            structure_id: STRUCTURE.to_owned(),
            sector: CodedValue {
                code: "SA07".to_owned(),
                system: "1.2.250.1.71.4.2.4".to_owned(),
            },
            subject_name: "Dr Test".to_owned(),
            roles: vec![CodedValue {
                code: role.0.to_owned(),
                system: role.1.to_owned(),
            }],
            access_mode: mode,
            patient: None,
            confidentiality: None,
            software_name: "LPS".to_owned(),
            software_homologation: "H1".to_owned(),
            issue_instant: 0,
        }),
        signer: None,
        direct_author_check: true,
    }
}

fn doctor(name_id: &str, mode: AccessMode) -> Caller {
    caller(name_id, ("10", "1.2.250.1.71.1.2.7"), mode)
}

fn settings() -> AccessSettings {
    AccessSettings {
        portals: vec!["CN=portal,O=Mon espace sante,C=FR".to_owned()],
        ..AccessSettings::default()
    }
}

fn record() -> DmpRecord {
    DmpRecord::opened(0)
}

fn entry(author: &str, type_code: &str, flags: &[&str]) -> DocumentEntry {
    let mut entry = DocumentEntry::new(ObjectId::Symbolic("doc".to_owned()));
    entry.authors.push(Author {
        person: Some(
            Xcn::parse(&format!("{author}^Author^^^^^^^&1.2.250.1.71.4.2.1&ISO")).expect("XCN"),
        ),
        institutions: vec![
            Xon::parse(&format!(
                "Hospital^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^{STRUCTURE}"
            ))
            .expect("XON"),
        ],
        ..Author::default()
    });
    entry.type_code = Some(Code::new(type_code, "1.2.250.1.213.1.1.4.12", ""));
    entry
        .confidentiality_codes
        .push(Code::new("N", "2.16.840.1.113883.5.25", ""));
    for flag in flags {
        entry
            .confidentiality_codes
            .push(Code::new(flag, "1.2.250.1.213.1.1.4.13", ""));
    }
    entry
}

fn token(result: Result<Viewer, Denial>) -> &'static str {
    match result {
        Ok(_) => "allowed",
        Err(denial) => denial.token,
    }
}

#[test]
fn no_dmp_and_closed_dmp_refuse_everything() {
    let caller = doctor(DOCTOR, AccessMode::Normal);
    let refused = admit(&settings(), &caller, None, Operation::Feed).expect_err("no DMP");
    assert_eq!(refused.code, XdsErrorCode::UnknownPatientId);
    assert_eq!(refused.token, DMP_NOT_FOUND);
    let closed = DmpCommand::Close {
        reason_code: "DECES".to_owned(),
        reason: String::new(),
    }
    .apply(Some(&record()), 10)
    .expect("closes");
    for operation in [Operation::Feed, Operation::Consult, Operation::Update] {
        assert_eq!(
            token(admit(&settings(), &caller, Some(&closed), operation)),
            DMP_CLOSED
        );
    }
    // Reopening restores the same record.
    let reopened = DmpCommand::Open.apply(Some(&closed), 20).expect("reopens");
    assert!(reopened.is_active());
}

#[test]
fn feeding_needs_no_authorisation_but_consultation_does() {
    let caller = doctor(DOCTOR, AccessMode::Normal);
    assert_eq!(
        token(admit(
            &settings(),
            &caller,
            Some(&record()),
            Operation::Feed
        )),
        "allowed"
    );
    assert_eq!(
        token(admit(
            &settings(),
            &caller,
            Some(&record()),
            Operation::Consult
        )),
        ACCESS_NOT_AUTHORISED
    );
    let authorised = DmpCommand::Authorise {
        name_id: DOCTOR.to_owned(),
    }
    .apply(Some(&record()), 1)
    .expect("authorises");
    assert_eq!(
        token(admit(
            &settings(),
            &caller,
            Some(&authorised),
            Operation::Consult
        )),
        "allowed"
    );
}

#[test]
fn emergency_modes_skip_the_authorisation_unless_opposed() {
    let open = record();
    let opposed = DmpCommand::Oppose {
        emergency: true,
        regulator: false,
    }
    .apply(Some(&open), 1)
    .expect("opposes");
    let glass = doctor(DOCTOR, AccessMode::BreakGlass);
    let regulator = doctor(DOCTOR, AccessMode::Centre15);
    assert_eq!(
        token(admit(&settings(), &glass, Some(&open), Operation::Consult)),
        "allowed"
    );
    assert_eq!(
        token(admit(
            &settings(),
            &glass,
            Some(&opposed),
            Operation::Consult
        )),
        ACCESS_MODE_OPPOSED
    );
    assert_eq!(
        token(admit(
            &settings(),
            &regulator,
            Some(&opposed),
            Operation::Consult
        )),
        "allowed"
    );
}

#[test]
fn a_block_beats_authorisation_emergency_and_feeding_unless_switched_off() {
    let blocked = DmpCommand::Block {
        name_id: DOCTOR.to_owned(),
    }
    .apply(
        Some(
            &DmpCommand::Authorise {
                name_id: DOCTOR.to_owned(),
            }
            .apply(Some(&record()), 1)
            .expect("authorises"),
        ),
        2,
    )
    .expect("blocks");
    assert!(
        !blocked.authorised.contains_key(DOCTOR),
        "a block removes the authorisation"
    );
    for (mode, operation) in [
        (AccessMode::Normal, Operation::Consult),
        (AccessMode::BreakGlass, Operation::Consult),
        (AccessMode::Centre15, Operation::Consult),
        (AccessMode::Normal, Operation::Feed),
    ] {
        assert_eq!(
            token(admit(
                &settings(),
                &doctor(DOCTOR, mode),
                Some(&blocked),
                operation
            )),
            ACCESS_BLOCKED,
            "{mode:?} {operation:?}"
        );
    }
    let lenient = AccessSettings {
        block_covers_feeding: false,
        block_covers_emergency: false,
        ..settings()
    };
    assert_eq!(
        token(admit(
            &lenient,
            &doctor(DOCTOR, AccessMode::Normal),
            Some(&blocked),
            Operation::Feed
        )),
        "allowed"
    );
    assert_eq!(
        token(admit(
            &lenient,
            &doctor(DOCTOR, AccessMode::BreakGlass),
            Some(&blocked),
            Operation::Consult
        )),
        "allowed"
    );
    // Another professional is not concerned.
    assert_eq!(
        token(admit(
            &settings(),
            &doctor(OTHER_DOCTOR, AccessMode::BreakGlass),
            Some(&blocked),
            Operation::Consult
        )),
        "allowed"
    );
}

#[test]
fn masked_documents_show_to_their_author_and_the_medecin_traitant_only() {
    let masked = entry(DOCTOR, "11488-4", &[MASQUE_PS]);
    let with_doctor = DmpCommand::MedecinTraitant {
        name_id: Some(OTHER_DOCTOR.to_owned()),
    }
    .apply(Some(&record()), 1)
    .expect("names");
    let viewer = |name: &str, mode: AccessMode, dmp: &DmpRecord| {
        let mut dmp = dmp.clone();
        dmp.authorised.insert(name.to_owned(), 1);
        admit(
            &settings(),
            &doctor(name, mode),
            Some(&dmp),
            Operation::Consult,
        )
        .expect("admitted")
    };
    assert!(viewer(DOCTOR, AccessMode::Normal, &record()).sees(&settings(), &masked));
    assert!(viewer(OTHER_DOCTOR, AccessMode::Normal, &with_doctor).sees(&settings(), &masked));
    assert!(!viewer(OTHER_DOCTOR, AccessMode::Normal, &record()).sees(&settings(), &masked));
    assert!(!viewer(OTHER_DOCTOR, AccessMode::BreakGlass, &record()).sees(&settings(), &masked));
    let shown = AccessSettings {
        masked_visible_in_emergency: true,
        ..settings()
    };
    assert!(viewer(OTHER_DOCTOR, AccessMode::BreakGlass, &record()).sees(&shown, &masked));
    // An unflagged document is seen by any admitted doctor.
    assert!(
        viewer(OTHER_DOCTOR, AccessMode::Normal, &record())
            .sees(&settings(), &entry(DOCTOR, "11488-4", &[]))
    );
}

#[test]
fn patients_and_representatives_see_by_their_flags_through_a_portal_only() {
    let portal_caller = |role: &str| {
        let mut caller = caller("patient", (role, PORTAL_ROLE_SYSTEM), AccessMode::Normal);
        caller.certificate = Some(certificate("CN=portal,O=Mon espace sante,C=FR"));
        caller
    };
    let patient = admit(
        &settings(),
        &portal_caller(PORTAL_PATIENT),
        Some(&record()),
        Operation::Consult,
    )
    .expect("patient");
    let representative = admit(
        &settings(),
        &portal_caller(PORTAL_REPRESENTATIVE),
        Some(&record()),
        Operation::Consult,
    )
    .expect("representative");
    let hidden_patient = entry(DOCTOR, "11488-4", &[INVISIBLE_PATIENT]);
    let secret = entry(DOCTOR, "11488-4", &[INVISIBLE_REPRESENTANTS_LEGAUX]);
    let masked = entry(DOCTOR, "11488-4", &[MASQUE_PS]);
    assert!(!patient.sees(&settings(), &hidden_patient));
    assert!(patient.sees(&settings(), &secret));
    assert!(patient.sees(&settings(), &masked));
    assert!(!representative.sees(&settings(), &hidden_patient));
    assert!(!representative.sees(&settings(), &secret));
    // The same role from a professional's certificate is refused.
    let mut forged = portal_caller(PORTAL_PATIENT);
    forged.certificate = Some(certificate("CN=lps,OU=1750100125,O=Hospital,C=FR"));
    assert_eq!(
        token(admit(
            &settings(),
            &forged,
            Some(&record()),
            Operation::Consult
        )),
        ACCESS_NOT_AUTHORISED
    );
}

#[test]
fn producers_and_indirect_callers_read_only_their_own_documents() {
    let automate = caller(
        DOCTOR,
        ("AUTOMATE", "1.2.250.1.213.1.1.4.6"),
        AccessMode::Normal,
    );
    let viewer = admit(&settings(), &automate, Some(&record()), Operation::Consult).expect("own");
    assert!(viewer.sees(&settings(), &entry(DOCTOR, "11488-4", &[])));
    assert!(!viewer.sees(&settings(), &entry(OTHER_DOCTOR, "11488-4", &[])));
    let mut indirect = doctor("someone", AccessMode::Normal);
    if let Some(assertion) = indirect.assertion.as_mut() {
        assertion.authentication = AuthenticationMode::Indirect;
    }
    let viewer = admit(&settings(), &indirect, Some(&record()), Operation::Consult).expect("own");
    // Indirect callers are authors by structure.
    assert!(viewer.sees(&settings(), &entry(OTHER_DOCTOR, "11488-4", &[])));
    let mut elsewhere = entry(OTHER_DOCTOR, "11488-4", &[]);
    elsewhere.authors[0].institutions.clear();
    assert!(!viewer.sees(&settings(), &elsewhere));
}

#[test]
fn the_matrix_denies_unknown_roles_and_applies_exceptions() {
    let mut dmp = record();
    dmp.authorised.insert(DOCTOR.to_owned(), 1);
    let social = caller(DOCTOR, ("41", "1.2.250.1.213.1.6.1.4"), AccessMode::Normal);
    let viewer = admit(&settings(), &social, Some(&dmp), Operation::Consult).expect("admitted");
    let report = entry(OTHER_DOCTOR, "11488-4", &[]);
    assert!(
        !viewer.sees(&settings(), &report),
        "no row for social workers"
    );
    let matrix = AccessSettings {
        matrix: vec![MatrixRow {
            role: "41".to_owned(),
            system: None,
            second_role: None,
            read: vec!["*".to_owned()],
            except: vec!["11488-4".to_owned()],
        }],
        ..settings()
    };
    assert!(!viewer.sees(&matrix, &report), "excepted type");
    assert!(viewer.sees(&matrix, &entry(OTHER_DOCTOR, "34133-9", &[])));
}

#[test]
fn no_assertion_is_refused_and_a_certificate_alone_reads_identifiers_only() {
    let anonymous = Caller::anonymous();
    assert_eq!(
        token(admit(
            &settings(),
            &anonymous,
            Some(&record()),
            Operation::Consult
        )),
        ACCESS_NOT_AUTHORISED
    );
    let repository = Caller {
        certificate: Some(certificate("CN=xds-repository,O=XDS TEST PKI,C=FR")),
        ..Caller::default()
    };
    assert_eq!(
        admit(
            &settings(),
            &repository,
            Some(&record()),
            Operation::Consult
        ),
        Ok(Viewer::System)
    );
    assert_eq!(
        token(admit(
            &settings(),
            &repository,
            Some(&record()),
            Operation::Feed
        )),
        ACCESS_NOT_AUTHORISED
    );
}

/// The outcome of one ITI-57 change for a caller admitted for updates: "allowed" or the
/// refusal's token.
fn update_check(
    settings: &AccessSettings,
    caller: &Caller,
    dmp: &DmpRecord,
    target: &DocumentEntry,
    status_change: bool,
) -> String {
    use crate::service::iti57::{LifecycleChange, LifecyclePolicy, StatusChange};
    use crate::store::{Located, StoredObject};
    let viewer = match admit(settings, caller, Some(dmp), Operation::Update) {
        Ok(viewer) => viewer,
        Err(denial) => return denial.token.to_owned(),
    };
    let rules = CallerLifecycle {
        viewer,
        settings: std::sync::Arc::new(settings.clone()),
    };
    let located = Located {
        patient: 1,
        object: StoredObject::DocumentEntry(target.clone()),
    };
    let (from, to) = (
        xds::model::AvailabilityStatus::Approved,
        xds::model::AvailabilityStatus::Deleted,
    );
    let change = if status_change {
        LifecycleChange::Status(StatusChange {
            target: &located,
            from: &from,
            to: &to,
        })
    } else {
        LifecycleChange::Version {
            previous: &located,
            next: &located.object,
        }
    };
    match rules.check(&change) {
        Ok(()) => "allowed".to_owned(),
        Err(error) => error
            .code_context
            .split(':')
            .next()
            .unwrap_or_default()
            .to_owned(),
    }
}

#[test]
fn updates_need_direct_authentication() {
    let mut caller = doctor(DOCTOR, AccessMode::Normal);
    let mut dmp = record();
    dmp.authorised.insert(DOCTOR.to_owned(), 1);
    let others = entry(OTHER_DOCTOR, "11488-4", &[]);
    assert_eq!(
        update_check(&settings(), &caller, &dmp, &others, false),
        "allowed"
    );
    if let Some(assertion) = caller.assertion.as_mut() {
        assertion.authentication = AuthenticationMode::IndirectReinforced;
    }
    assert_eq!(
        update_check(&settings(), &caller, &dmp, &others, false),
        AUTH_MODE_NOT_ALLOWED
    );
    let reinforced = AccessSettings {
        update_allows_reinforced: true,
        ..settings()
    };
    assert_eq!(
        update_check(&reinforced, &caller, &dmp, &others, false),
        "allowed"
    );
}

#[test]
fn only_the_author_deletes_and_software_without_authorisation_touches_only_its_own() {
    let dmp = record();
    let mine = entry(DOCTOR, "11488-4", &[]);
    let others = entry(OTHER_DOCTOR, "11488-4", &[]);
    let caller = doctor(DOCTOR, AccessMode::Normal);
    // No authorisation: own documents only, masking and deletion alike.
    assert_eq!(
        update_check(&settings(), &caller, &dmp, &mine, true),
        "allowed"
    );
    assert_eq!(
        update_check(&settings(), &caller, &dmp, &mine, false),
        "allowed"
    );
    assert_eq!(
        update_check(&settings(), &caller, &dmp, &others, true),
        NOT_AUTHOR
    );
    assert_eq!(
        update_check(&settings(), &caller, &dmp, &others, false),
        NOT_AUTHOR
    );
    // Authorised: may mask another's document, never delete it.
    let mut authorised = record();
    authorised.authorised.insert(DOCTOR.to_owned(), 1);
    assert_eq!(
        update_check(&settings(), &caller, &authorised, &others, false),
        "allowed"
    );
    assert_eq!(
        update_check(&settings(), &caller, &authorised, &others, true),
        NOT_AUTHOR
    );
    // An INDIRECTE producer deletes its own documents (by structure) but never masks.
    let mut indirect = caller.clone();
    if let Some(assertion) = indirect.assertion.as_mut() {
        assertion.authentication = AuthenticationMode::Indirect;
    }
    assert_eq!(
        update_check(&settings(), &indirect, &dmp, &others, true),
        "allowed"
    );
    assert_eq!(
        update_check(&settings(), &indirect, &dmp, &others, false),
        AUTH_MODE_NOT_ALLOWED
    );
    // Blocked and opposed stay refused before any change is looked at.
    let mut opposed = record();
    opposed.oppose_emergency = true;
    assert_eq!(
        update_check(
            &settings(),
            &doctor(DOCTOR, AccessMode::BreakGlass),
            &opposed,
            &mine,
            true
        ),
        ACCESS_MODE_OPPOSED
    );
}
