//! Canonical, fully populated sample metadata that tests encode, validate and mutate.

use xds::model::*;

pub fn oid(text: &str) -> Oid {
    Oid::parse(text).expect("sample OID")
}

pub fn uuid(text: &str) -> Uuid {
    Uuid::parse_urn(text).expect("sample UUID")
}

pub fn patient() -> Cx {
    Cx::new("248098765432140", &Hd::iso(&oid("1.2.250.1.213.1.4.10"))).with_type_code("NH")
}

fn author() -> Author {
    Author {
        person: Some(
            Xcn::parse("801234567890^DURANT^Romuald^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS")
                .unwrap(),
        ),
        institutions: vec![
            Xon::parse("Hôpital Exemple^^^^^&1.2.250.1.71.4.2.2&ISO^IDNST^^^1750100125").unwrap(),
        ],
        roles: vec!["PCP^^^&2.16.840.1.113883.5.88&ISO".to_owned()],
        specialties: vec![
            "G15_10/SM54^Médecin - Médecine Générale (SM)^1.2.250.1.213.1.1.4.5".to_owned(),
        ],
        telecommunications: vec![Xtn::parse("^^Internet^romuald.durant@example.org").unwrap()],
    }
}

/// A DocumentEntry with every attribute set.
pub fn document_entry(id: ObjectId, unique_id: &str) -> DocumentEntry {
    let mut entry = DocumentEntry::new(id);
    entry.object_type = Some(DocumentEntryType::Stable);
    entry.availability_status = Some(AvailabilityStatus::Approved);
    entry.mime_type = Some("text/plain".to_owned());
    entry.title = vec![LocalizedString {
        value: "Compte rendu & suivi <consultation>".to_owned(),
        lang: Some("fr-FR".to_owned()),
        charset: None,
    }];
    entry.comments = vec![LocalizedString::new("Line one\nline two \"quoted\"")];
    entry.authors = vec![
        author(),
        Author {
            person: None,
            institutions: vec![Xon::parse("Clinique B^^^^^^^^^1.2.3.4.5").unwrap()],
            ..Author::default()
        },
    ];
    entry.class_code = Some(Code::new(
        "11488-4",
        "2.16.840.1.113883.6.1",
        "Consult note",
    ));
    entry.confidentiality_codes = vec![
        Code::new("N", "2.16.840.1.113883.5.25", "Normal"),
        Code::new(
            "MASQUE_PS",
            "1.2.250.1.213.1.1.4.13",
            "Masqué aux professionnels de santé",
        ),
    ];
    entry.event_codes = vec![
        Code::new("T-D3000", "SNM3", "Chest"),
        Code::new("CT", "1.2.840.10008.2.16.4", "Computed Tomography"),
    ];
    entry.format_code = Some(Code::new(
        "urn:ihe:iti:xds:2017:mimeTypeSufficient",
        "1.3.6.1.4.1.19376.1.2.3",
        "MIME type sufficient",
    ));
    entry.healthcare_facility_type_code =
        Some(Code::new("HCFT-OUT", "2.999.40.1", "Outpatient clinic"));
    entry.practice_setting_code = Some(Code::new("PS-GEN", "2.999.40.2", "General medicine"));
    entry.type_code = Some(Code::new(
        "11488-4",
        "2.16.840.1.113883.6.1",
        "Consult note",
    ));
    entry.creation_time = Some(Dtm::parse("20240315093000").unwrap());
    entry.service_start_time = Some(Dtm::parse("202403150800").unwrap());
    entry.service_stop_time = Some(Dtm::parse("202403150900").unwrap());
    entry.hash = Sha1Hash::parse_hex("d3016d8d6c49163839f7535431760bf65e74560b");
    entry.size = Some(43);
    entry.language_code = Some("fr-FR".to_owned());
    entry.legal_authenticator = Some(
        Xcn::parse("801234567890^DURANT^Romuald^^^^^^&1.2.250.1.71.4.2.1&ISO^D^^^IDNPS").unwrap(),
    );
    entry.patient_id = Some(patient());
    entry.source_patient_id = Some(Cx::new("IPP-77", &Hd::iso(&oid("1.2.250.1.999.1"))));
    entry.source_patient_info = vec![
        "PID-5|DUPONT^JEAN^^^^^L".to_owned(),
        "PID-7|19700101".to_owned(),
        "PID-8|M".to_owned(),
    ];
    entry.reference_ids = vec![
        Cx::new("A-2013001", &Hd::iso(&oid("1.2.3.4.5.6")))
            .with_type_code("urn:ihe:iti:xds:2013:accession"),
    ];
    entry.repository_unique_id = Some(oid("2.999.5.1"));
    entry.unique_id = Some(UniqueId::parse(unique_id).unwrap());
    entry.uri = Some("https://docs.example.org/2.999.2.1".to_owned());
    entry.home = Some(oid("2.999.9.9"));
    entry.extra_slots = vec![Slot {
        name: "urn:example:extra".to_owned(),
        values: vec!["x".to_owned(), "y".to_owned()],
    }];
    entry
}

pub fn submission_set(id: ObjectId) -> SubmissionSet {
    let mut set = SubmissionSet::new(id);
    set.availability_status = Some(AvailabilityStatus::Approved);
    set.title = vec![LocalizedString::new("Submission")];
    set.comments = vec![LocalizedString::new("Comments")];
    set.authors = vec![author()];
    set.content_type_code = Some(Code::new("CT-VISIT", "2.999.40.3", "Outpatient visit"));
    set.intended_recipients = vec!["Hôpital Exemple^^^^^^^^^1.2.3.4|^DURANT^Romuald".to_owned()];
    set.patient_id = Some(patient());
    set.source_id = Some(oid("2.999.4.1"));
    set.submission_time = Some(Dtm::parse("20240315092000").unwrap());
    set.unique_id = Some(oid("2.999.3.1.20240315.1"));
    set
}

pub fn folder(id: ObjectId) -> Folder {
    let mut folder = Folder::new(id);
    folder.availability_status = Some(AvailabilityStatus::Approved);
    folder.title = vec![LocalizedString::new("Folder")];
    folder.codes = vec![Code::new(
        "Allergy_Treatments",
        "1.3.6.1.4.1.21367.2017.3",
        "Allergy Treatments",
    )];
    folder.last_update_time = Some(Dtm::parse("20240315092000").unwrap());
    folder.patient_id = Some(patient());
    folder.unique_id = Some(oid("2.999.6.1.1"));
    folder
}

pub fn association(
    id: ObjectId,
    kind: AssociationType,
    source: ObjectId,
    target: ObjectId,
) -> Association {
    Association::new(id, kind, source, target)
}

/// A submission with symbolic ids: SubmissionSet, two DocumentEntries, a Folder, every
/// HasMember kind, an RPLC with documentation and a signs association.
pub fn submission() -> Metadata {
    let set = ObjectId::Symbolic("SubmissionSet01".to_owned());
    let doc1 = ObjectId::Symbolic("Document01".to_owned());
    let doc2 = ObjectId::Symbolic("Document02".to_owned());
    let fol = ObjectId::Symbolic("Folder01".to_owned());
    let existing = ObjectId::Uuid(uuid("urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3"));
    let has_member =
        |id: &str, source: &ObjectId, target: &ObjectId, status: Option<SubmissionSetStatus>| {
            let mut association = association(
                ObjectId::Symbolic(id.to_owned()),
                AssociationType::HasMember,
                source.clone(),
                target.clone(),
            );
            association.submission_set_status = status;
            association
        };
    let mut associations = vec![
        has_member("ss-doc1", &set, &doc1, Some(SubmissionSetStatus::Original)),
        has_member("ss-doc2", &set, &doc2, Some(SubmissionSetStatus::Original)),
        has_member("ss-fol", &set, &fol, None),
        has_member("fol-doc1", &fol, &doc1, None),
    ];
    associations.push(has_member(
        "ss-hm",
        &set,
        &ObjectId::Symbolic("fol-doc1".to_owned()),
        None,
    ));
    let mut replace = association(
        ObjectId::Symbolic("rplc".to_owned()),
        AssociationType::Replace,
        doc2.clone(),
        existing,
    );
    replace.documentation = Some(Code::new("correction", "2.999.40.9", "Correction"));
    associations.push(replace);
    associations.push(association(
        ObjectId::Symbolic("signs".to_owned()),
        AssociationType::Signs,
        doc2.clone(),
        set.clone(),
    ));
    Metadata {
        submission_sets: vec![submission_set(set)],
        document_entries: vec![
            document_entry(doc1, "2.999.2.1.20240315.1"),
            document_entry(doc2, "1.2.3^ext-42"),
        ],
        folders: vec![folder(fol)],
        associations,
        object_refs: Vec::new(),
    }
}

/// The same kind of metadata as a registry returns it: UUID ids, statuses, versions, ObjectRefs.
pub fn stored_metadata() -> Metadata {
    let set = ObjectId::Uuid(uuid("urn:uuid:a1b2c3d4-0000-4000-8000-000000000001"));
    let doc = ObjectId::Uuid(uuid("urn:uuid:a1b2c3d4-0000-4000-8000-000000000002"));
    let fol = ObjectId::Uuid(uuid("urn:uuid:a1b2c3d4-0000-4000-8000-000000000003"));
    let mut entry = document_entry(doc.clone(), "2.999.2.1.20240315.1");
    entry.logical_id = Some(doc.clone());
    entry.version = Some("1".to_owned());
    entry.document_availability = Some(DocumentAvailability::Online);
    let mut folder = folder(fol.clone());
    folder.logical_id = Some(fol.clone());
    folder.version = Some("1".to_owned());
    let mut member = association(
        ObjectId::Uuid(uuid("urn:uuid:a1b2c3d4-0000-4000-8000-000000000004")),
        AssociationType::HasMember,
        set.clone(),
        doc.clone(),
    );
    member.availability_status = Some(AvailabilityStatus::Approved);
    member.submission_set_status = Some(SubmissionSetStatus::Original);
    let mut update = association(
        ObjectId::Uuid(uuid("urn:uuid:a1b2c3d4-0000-4000-8000-000000000005")),
        AssociationType::UpdateAvailabilityStatus,
        set.clone(),
        doc,
    );
    update.original_status = Some(AvailabilityStatus::Approved);
    update.new_status = Some(AvailabilityStatus::Deleted);
    update.previous_version = Some("1".to_owned());
    update.association_propagation = Some(false);
    Metadata {
        submission_sets: vec![submission_set(set)],
        document_entries: vec![entry],
        folders: vec![folder],
        associations: vec![member, update],
        object_refs: vec![ObjectRef {
            id: uuid("urn:uuid:a1b2c3d4-0000-4000-8000-000000000006"),
            home: Some(oid("2.999.9.9")),
        }],
    }
}
