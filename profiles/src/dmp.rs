//! `fr-dmp`: the French DMP rules of dmp-profile.md §8 that concern submitted metadata
//! (rules 1-3 and 20-28; rule 4, one patientId per submission, is the structural
//! IHE-PATIENT-MATCH), with the ANS value sets bound to the coded attributes (§5.1) and the
//! ASS_X16 typeCode -> classCode correspondence (§5.2).
//!
//! Rules that need the VIHF assertion, the DMP's state or the registry's content (5-19, 29-47)
//! belong to the services that hold them. Items dmp-profile.md marks UNCONFIRMED are
//! [`DmpConfig`] switches with documented defaults.

use std::collections::HashSet;

use serde::Deserialize;
use xds::model::{
    AssociationType, Author, AvailabilityStatus, Code, Composite, Cx, DocumentEntry, InsError,
    InsKind, InsPolicy, Metadata, Oid, Xcn,
};
use xds::transaction::Transaction;
use xds::validate::{Findings, Profile, Rule};

use crate::valuesets::{BoundSet, Catalogue, ClassMap, Membership};
use crate::{ProfileConfig, ProfileError};

pub const NAME: &str = "fr-dmp";

pub const INS_FORM: Rule = Rule::metadata(
    "DMP-01",
    "patientId (SubmissionSet, DocumentEntry, Folder) is <matricule>^^^&<OID>&ISO^NH: empty CX.4 namespace, type ISO, CX.5 NH.",
)
.with_token("INS_INVALID");
pub const INS_AUTHORITY: Rule = Rule::metadata(
    "DMP-02",
    "The patientId's assigning authority is an accepted INS OID (production: INS-NIR 1.2.250.1.213.1.4.8, INS-NIA ...4.9; tests add ...4.10, ...4.11; INS-C ...4.2 never).",
)
.with_token("INS_INVALID");
pub const INS_KEY: Rule = Rule::metadata(
    "DMP-03",
    "The INS matricule is 15 characters (digits, 2A/2B at positions 6-7) whose key is 97 - (N mod 97).",
)
.with_token("INS_INVALID");
pub const REQUIRED: Rule = Rule::metadata(
    "DMP-20",
    "DocumentEntry: author, legalAuthenticator, serviceStartTime, sourcePatientId, sourcePatientInfo, title, languageCode, hash, size, classCode, typeCode, formatCode, healthcareFacilityTypeCode, practiceSettingCode, confidentialityCode, creationTime; SubmissionSet: author with authorPerson, contentTypeCode, sourceId, submissionTime, uniqueId, patientId.",
);
pub const VALUE_SET: Rule = Rule::metadata(
    "DMP-21",
    "typeCode in J66, classCode in J57, formatCode in J60, healthcareFacilityTypeCode in J61, practiceSettingCode in J62, contentTypeCode in J59, authorSpecialty in J01, authorRole in J47, referenceIdList CX.5 in J231, each under its code system's codingScheme.",
)
.with_token("CODE_NOT_IN_JDV");
pub const CLASS_TYPE: Rule = Rule::metadata(
    "DMP-22",
    "classCode is the class ASS_X16 gives for the typeCode, when it gives one.",
)
.with_token("CLASS_TYPE_MISMATCH");
pub const CONFIDENTIALITY: Rule = Rule::metadata(
    "DMP-23",
    "confidentialityCode: 1 to 4 distinct codes of J58, exactly one HL7 level (2.16.840.1.113883.5.25) unless flag-only lists are allowed, DMP flags only MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX.",
)
.with_token("CODE_NOT_IN_JDV");
pub const MIME_TYPE: Rule = Rule::metadata(
    "DMP-24",
    "mimeType is one of the configured types (default text/xml), application/dicom for a DICOM KOS (formatCode 1.2.840.10008.5.1.4.1.1.88.59).",
);
pub const AUTHOR_PERSON: Rule = Rule::metadata(
    "DMP-25",
    "authorPerson and legalAuthenticator: XCN.9 &<OID>&ISO, XCN.10 D or U, XCN.13 IDNPS, EI, RI or NH; an idNat_PS (1.2.250.1.71.4.2.1) starts with 0, 1, 3, 4, 5, 6 or 8; IDNPS with prefix 8 is 8 and 11 digits.",
);
pub const AUTHOR_INSTITUTION: Rule = Rule::metadata(
    "DMP-26",
    "authorInstitution with XON.10 has XON.1, XON.6 and XON.7; an author whose authorSpecialty is EXP_PATIENT has no authorInstitution.",
);
pub const SIGNATURE: Rule = Rule::metadata(
    "DMP-27",
    "A document submission holds a signature DocumentEntry (formatCode http://www.w3.org/2000/09/xmldsig#), member of the SubmissionSet and source of a signs association to it.",
)
.with_token("SUBMISSION_SIGNATURE");
pub const STATUS: Rule = Rule::metadata(
    "DMP-28",
    "A submitter sets no availabilityStatus other than Approved: the registry stores new entries as Approved.",
);

const RULES: &[Rule] = &[
    INS_FORM,
    INS_AUTHORITY,
    INS_KEY,
    REQUIRED,
    VALUE_SET,
    CLASS_TYPE,
    CONFIDENTIALITY,
    MIME_TYPE,
    AUTHOR_PERSON,
    AUTHOR_INSTITUTION,
    SIGNATURE,
    STATUS,
];

/// HL7 Confidentiality (the base level of a DMP confidentialityCode list).
pub const HL7_CONFIDENTIALITY: &str = "2.16.840.1.113883.5.25";
/// TRE_A07 StatutVisibiliteDocument (the DMP visibility flags).
pub const VISIBILITY_FLAGS: &str = "1.2.250.1.213.1.1.4.13";
/// The flags JDV_J58 allows.
pub const ALLOWED_FLAGS: [&str; 3] = [
    "MASQUE_PS",
    "INVISIBLE_PATIENT",
    "INVISIBLE_REPRESENTANTS_LEGAUX",
];
/// formatCode of a DICOM KOS (its mimeType is application/dicom).
pub const DICOM_KOS_FORMAT: &str = "1.2.840.10008.5.1.4.1.1.88.59";
/// formatCode of the XAdES signature DocumentEntry.
pub const SIGNATURE_FORMAT: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Assigning authority of idNat_PS.
pub const IDNAT_PS: &str = "1.2.250.1.71.4.2.1";
/// authorSpecialty of documents the patient writes personally.
pub const EXP_PATIENT: &str = "EXP_PATIENT";

/// A value set the profile binds to an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Binding {
    /// Position in [`BINDINGS`].
    pub slot: usize,
    pub attribute: &'static str,
    /// The JDV's OID.
    pub value_set: &'static str,
    pub label: &'static str,
}

pub const TYPE_CODE: Binding = Binding {
    slot: 0,
    attribute: "DocumentEntry.typeCode",
    value_set: "1.2.250.1.213.1.1.5.7",
    label: "JDV_J66 TypeCode DMP",
};
pub const CLASS_CODE: Binding = Binding {
    slot: 1,
    attribute: "DocumentEntry.classCode",
    value_set: "1.2.250.1.213.1.1.5.6",
    label: "JDV_J57 ClassCode DMP",
};
pub const FORMAT_CODE: Binding = Binding {
    slot: 2,
    attribute: "DocumentEntry.formatCode",
    value_set: "1.2.250.1.213.1.1.5.8",
    label: "JDV_J60 FormatCode DMP",
};
pub const FACILITY_CODE: Binding = Binding {
    slot: 3,
    attribute: "DocumentEntry.healthcareFacilityTypeCode",
    value_set: "1.2.250.1.213.1.1.5.3",
    label: "JDV_J61 HealthcareFacilityTypeCode DMP",
};
pub const PRACTICE_CODE: Binding = Binding {
    slot: 4,
    attribute: "DocumentEntry.practiceSettingCode",
    value_set: "1.2.250.1.213.1.1.5.4",
    label: "JDV_J62 PracticeSettingCode DMP",
};
pub const CONFIDENTIALITY_CODE: Binding = Binding {
    slot: 5,
    attribute: "DocumentEntry.confidentialityCode",
    value_set: "1.2.250.1.213.1.1.5.9",
    label: "JDV_J58 ConfidentialityCode DMP",
};
pub const CONTENT_TYPE_CODE: Binding = Binding {
    slot: 6,
    attribute: "SubmissionSet.contentTypeCode",
    value_set: "1.2.250.1.213.1.1.5.2",
    label: "JDV_J59 ContentTypeCode DMP",
};
pub const AUTHOR_SPECIALTY: Binding = Binding {
    slot: 7,
    attribute: "author.authorSpecialty",
    value_set: "1.2.250.1.213.1.1.5.461",
    label: "JDV_J01 XdsAuthorSpecialty CISIS",
};
pub const AUTHOR_ROLE: Binding = Binding {
    slot: 8,
    attribute: "author.authorRole",
    value_set: "1.2.250.1.213.1.1.5.124",
    label: "JDV_J47 FunctionCode CISIS",
};
pub const REFERENCE_ID_TYPE: Binding = Binding {
    slot: 9,
    attribute: "DocumentEntry.referenceIdList CX.5",
    value_set: "1.2.250.1.213.1.1.5.693",
    label: "JDV_J231 XdsTypesIdentifiantsReferenceId DMP",
};

pub const SUBJECT_ROLE: Binding = Binding {
    slot: 10,
    attribute: "VIHF role",
    value_set: "1.2.250.1.213.1.1.5.5",
    label: "JDV_J65 SubjectRole DMP",
};
pub const AUDIENCE_RESTRICTION: Binding = Binding {
    slot: 11,
    attribute: "VIHF confidentiality-code",
    value_set: "1.2.250.1.213.1.1.5.97",
    label: "JDV_J64 RestrictionAudienceVIHF DMP",
};

/// Every binding, in the order of [`DmpProfile`]'s sets.
pub const BINDINGS: [Binding; 12] = [
    TYPE_CODE,
    CLASS_CODE,
    FORMAT_CODE,
    FACILITY_CODE,
    PRACTICE_CODE,
    CONFIDENTIALITY_CODE,
    CONTENT_TYPE_CODE,
    AUTHOR_SPECIALTY,
    AUTHOR_ROLE,
    REFERENCE_ID_TYPE,
    SUBJECT_ROLE,
    AUDIENCE_RESTRICTION,
];

/// The `fr-dmp` switches (`[profile.dmp]`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct DmpConfig {
    /// INS kinds accepted as patientId (rule 2): `nir`, `nia`, `test`, `demo`.
    pub ins_accept: Vec<String>,
    /// Check the key of test and demo INS too (rule 3).
    pub ins_check_fictitious_keys: bool,
    /// UNCONFIRMED (dmp-profile.md §4.5): accept a confidentialityCode list of DMP flags
    /// without an HL7 level.
    pub allow_flag_only_confidentiality: bool,
    /// Rule 24: mimeTypes accepted besides application/dicom for a DICOM KOS. UNCONFIRMED
    /// (§5.2): whether the DMP takes `application/pdf` or `application/xslt+xml`.
    pub mime_types: Vec<String>,
    /// Rule 27: a document submission carries a signature DocumentEntry signing its
    /// SubmissionSet.
    pub require_signature: bool,
    /// UNCONFIRMED (dmp-profile.md §6.2): ITI-57 updates (masking, deletion, archiving) carry
    /// one too. The DMP's own clients send none.
    pub require_signature_on_update: bool,
}

impl Default for DmpConfig {
    fn default() -> Self {
        Self {
            ins_accept: vec!["nir".to_owned(), "nia".to_owned()],
            ins_check_fictitious_keys: true,
            allow_flag_only_confidentiality: false,
            mime_types: vec!["text/xml".to_owned()],
            require_signature: true,
            require_signature_on_update: false,
        }
    }
}

/// The DMP profile, with its value sets loaded.
#[derive(Debug, Clone)]
pub struct DmpProfile {
    ins: InsPolicy,
    settings: DmpConfig,
    /// In the order of [`BINDINGS`].
    sets: Vec<BoundSet>,
    classes: ClassMap,
}

impl DmpProfile {
    /// Reads the value-set folder and binds every set the rules need. A missing folder, a
    /// malformed file, a missing set or an unmapped code system stops here.
    pub fn load(config: &ProfileConfig) -> Result<Self, ProfileError> {
        if config.codes.is_some() {
            return Err(ProfileError::Config(
                "profile.codes is the ihe-xds-b code list; fr-dmp reads its value sets from profile.valuesets".to_owned(),
            ));
        }
        let Some(dir) = &config.valuesets else {
            return Err(ProfileError::Config(
                "fr-dmp needs profile.valuesets, the folder of the ANS value-set files (see the README, Value sets)".to_owned(),
            ));
        };
        let mut accepted = Vec::new();
        for name in &config.dmp.ins_accept {
            match InsKind::from_config_name(name) {
                Some(InsKind::Computed) | None => {
                    return Err(ProfileError::Config(format!(
                        "profile.dmp.ins_accept: {name:?} is not an acceptable INS kind (nir, nia, test, demo)"
                    )));
                }
                Some(kind) => accepted.push(kind),
            }
        }
        if config.dmp.mime_types.is_empty() {
            return Err(ProfileError::Config(
                "profile.dmp.mime_types is empty: no document could be submitted".to_owned(),
            ));
        }
        let catalogue = Catalogue::load_dir(dir, &config.code_systems)?;
        let mut sets = Vec::new();
        for binding in BINDINGS {
            match catalogue.binding(binding.value_set) {
                Some(set) => {
                    let mut set = set?;
                    set.name = binding.label.to_owned();
                    sets.push(set);
                }
                None => {
                    return Err(ProfileError::Config(format!(
                        "fr-dmp needs the value set {} ({}) for {}; no file of {} defines it ({} value sets read)",
                        binding.label,
                        binding.value_set,
                        binding.attribute,
                        dir.display(),
                        catalogue.len()
                    )));
                }
            }
        }
        let Some((classes, _file)) = catalogue.class_map()? else {
            return Err(ProfileError::Config(format!(
                "fr-dmp needs the ASS_X16 typeCode -> classCode correspondence (a CSV file with the columns typeCodeSystem, typeCode, classCodeSystem, classCode) in {}",
                dir.display()
            )));
        };
        Ok(Self {
            ins: InsPolicy {
                accepted,
                check_fictitious_keys: config.dmp.ins_check_fictitious_keys,
            },
            settings: config.dmp.clone(),
            sets,
            classes,
        })
    }

    fn set(&self, binding: Binding) -> &BoundSet {
        &self.sets[binding.slot]
    }

    /// Rules 1-3 for one patientId.
    fn check_patient(&self, findings: &mut Findings, location: &str, patient: &Option<Cx>) {
        let Some(cx) = patient else {
            return; // IHE-REQUIRED reports it
        };
        let authority = cx.assigning_authority();
        let form_ok = cx.identifier_type_code() == "NH"
            && authority.as_ref().is_some_and(|authority| {
                authority.namespace_id.is_empty() && authority.universal_id_type == "ISO"
            });
        if !form_ok {
            findings.report(
                &INS_FORM,
                location,
                format!(
                    "patientId {} is not <matricule>^^^&<INS OID>&ISO^NH",
                    cx.format()
                ),
            );
        }
        let oid = authority
            .map(|authority| authority.universal_id)
            .unwrap_or_default();
        if InsKind::from_oid(&oid).is_none() {
            findings.report(
                &INS_AUTHORITY,
                location,
                format!(
                    "patientId {}: assigning authority {oid:?} is not an INS OID",
                    cx.format()
                ),
            );
            return;
        }
        match self.ins.check(cx) {
            Ok(_) => {}
            Err(error @ (InsError::NotAccepted { .. } | InsError::Withdrawn { .. })) => {
                findings.report(&INS_AUTHORITY, location, error.to_string());
            }
            Err(error) => findings.report(&INS_KEY, location, error.to_string()),
        }
    }

    /// Rule 21 for one code.
    fn check_code(
        &self,
        findings: &mut Findings,
        location: &str,
        attribute: &str,
        binding: Binding,
        code: &Code,
    ) {
        if let Some(problem) = self.set(binding).problem(attribute, code) {
            findings.report(&VALUE_SET, location, problem);
        }
    }

    /// Rule 21 for an author's coded strings (`code^display^OID` or `code^^^&OID&ISO`).
    fn check_coded_string(
        &self,
        findings: &mut Findings,
        location: &str,
        attribute: &str,
        binding: Binding,
        value: &str,
    ) {
        let (code, scheme) = coded_string(value);
        let Some(scheme) = scheme else {
            findings.report(
                &VALUE_SET,
                location,
                format!("{attribute} {value:?} names no code system (code^display^OID expected)"),
            );
            return;
        };
        let code = Code::new(&code, &scheme, "");
        self.check_code(findings, location, attribute, binding, &code);
    }

    fn check_authors(&self, findings: &mut Findings, location: &str, authors: &[Author]) {
        for (index, author) in authors.iter().enumerate() {
            let here = format!("{location} / author {}", index + 1);
            for specialty in &author.specialties {
                self.check_coded_string(
                    findings,
                    &here,
                    "authorSpecialty",
                    AUTHOR_SPECIALTY,
                    specialty,
                );
            }
            for role in &author.roles {
                self.check_coded_string(findings, &here, "authorRole", AUTHOR_ROLE, role);
            }
            if let Some(person) = &author.person {
                check_person(findings, &here, "authorPerson", person);
            }
            // Rule 26.
            for institution in &author.institutions {
                let missing: Vec<&str> = [
                    ("XON.1", institution.organization_name().is_empty()),
                    ("XON.6", institution.composite().is_component_empty(6)),
                    ("XON.7", institution.identifier_type_code().is_empty()),
                ]
                .into_iter()
                .filter_map(|(name, empty)| empty.then_some(name))
                .collect();
                if !institution.organization_identifier().is_empty() && !missing.is_empty() {
                    findings.report(
                        &AUTHOR_INSTITUTION,
                        &here,
                        format!(
                            "authorInstitution {} has XON.10 but lacks {}",
                            institution.format(),
                            missing.join(", ")
                        ),
                    );
                }
            }
            let patient_author = author
                .specialties
                .iter()
                .any(|specialty| coded_string(specialty).0 == EXP_PATIENT);
            if patient_author && !author.institutions.is_empty() {
                findings.report(
                    &AUTHOR_INSTITUTION,
                    &here,
                    "an author whose authorSpecialty is EXP_PATIENT (the patient) has no authorInstitution",
                );
            }
        }
    }

    fn check_entry(&self, findings: &mut Findings, entry: &DocumentEntry) {
        let location = format!("DocumentEntry {}", entry.entry_uuid);
        let location = location.as_str();
        self.check_patient(findings, location, &entry.patient_id);

        // Rule 20.
        let registry = findings.receiver() == xds::validate::Receiver::Registry;
        let missing: Vec<&str> = [
            ("author", entry.authors.is_empty()),
            ("legalAuthenticator", entry.legal_authenticator.is_none()),
            ("serviceStartTime", entry.service_start_time.is_none()),
            ("sourcePatientId", entry.source_patient_id.is_none()),
            ("sourcePatientInfo", entry.source_patient_info.is_empty()),
            (
                "title",
                entry
                    .title
                    .iter()
                    .all(|title| title.value.trim().is_empty()),
            ),
            ("languageCode", entry.language_code.is_none()),
            ("hash", registry && entry.hash.is_none()),
            ("size", registry && entry.size.is_none()),
            ("classCode", entry.class_code.is_none()),
            ("typeCode", entry.type_code.is_none()),
            ("formatCode", entry.format_code.is_none()),
            (
                "healthcareFacilityTypeCode",
                entry.healthcare_facility_type_code.is_none(),
            ),
            ("practiceSettingCode", entry.practice_setting_code.is_none()),
            (
                "confidentialityCode",
                entry.confidentiality_codes.is_empty(),
            ),
            ("creationTime", entry.creation_time.is_none()),
        ]
        .into_iter()
        .filter_map(|(name, absent)| absent.then_some(name))
        .collect();
        if !missing.is_empty() {
            findings.report(
                &REQUIRED,
                location,
                format!("the DMP requires {}", missing.join(", ")),
            );
        }

        // Rule 21.
        let coded = [
            ("typeCode", TYPE_CODE, &entry.type_code),
            ("classCode", CLASS_CODE, &entry.class_code),
            ("formatCode", FORMAT_CODE, &entry.format_code),
            (
                "healthcareFacilityTypeCode",
                FACILITY_CODE,
                &entry.healthcare_facility_type_code,
            ),
            (
                "practiceSettingCode",
                PRACTICE_CODE,
                &entry.practice_setting_code,
            ),
        ];
        for (attribute, binding, code) in coded {
            if let Some(code) = code {
                self.check_code(findings, location, attribute, binding, code);
            }
        }
        let types = self.set(REFERENCE_ID_TYPE);
        for reference in &entry.reference_ids {
            let kind = reference.identifier_type_code();
            if !types.contains_code(kind) {
                findings.report(
                    &VALUE_SET,
                    location,
                    format!(
                        "referenceIdList {}: CX.5 {kind:?} is not in {}",
                        reference.format(),
                        types.label()
                    ),
                );
            }
        }
        self.check_authors(findings, location, &entry.authors);

        // Rule 22.
        if let (Some(type_code), Some(class_code)) = (&entry.type_code, &entry.class_code)
            && let Some(Some(class)) = self
                .classes
                .class_of(&type_code.code, &type_code.coding_scheme)
            && (class_code.code != class.code || !class.schemes.contains(&class_code.coding_scheme))
        {
            findings.report(
                &CLASS_TYPE,
                location,
                format!(
                    "typeCode {} gives classCode {} ({}) by ASS_X16, not {} ({})",
                    type_code.code,
                    class.code,
                    class.schemes.join(" or "),
                    class_code.code,
                    class_code.coding_scheme
                ),
            );
        }

        self.check_confidentiality(findings, location, &entry.confidentiality_codes);

        // Rule 24.
        if let Some(mime) = &entry.mime_type {
            let kos = entry
                .format_code
                .as_ref()
                .is_some_and(|format| format.code == DICOM_KOS_FORMAT);
            if kos && mime != "application/dicom" {
                findings.report(
                    &MIME_TYPE,
                    location,
                    format!("a DICOM KOS (formatCode {DICOM_KOS_FORMAT}) has mimeType application/dicom, not {mime}"),
                );
            } else if !kos
                && !self
                    .settings
                    .mime_types
                    .iter()
                    .any(|allowed| allowed == mime)
            {
                findings.report(
                    &MIME_TYPE,
                    location,
                    format!(
                        "mimeType {mime} is not accepted (accepted: {}; application/dicom for a DICOM KOS)",
                        self.settings.mime_types.join(", ")
                    ),
                );
            }
        }

        // Rule 25 (legalAuthenticator takes the same forms, dmp-profile.md §2.4).
        if let Some(authenticator) = &entry.legal_authenticator {
            check_person(findings, location, "legalAuthenticator", authenticator);
        }

        // Rule 28.
        check_status(findings, location, &entry.availability_status);
    }

    /// Rule 23.
    fn check_confidentiality(&self, findings: &mut Findings, location: &str, codes: &[Code]) {
        if codes.is_empty() {
            return; // rule 20
        }
        let set = self.set(CONFIDENTIALITY_CODE);
        let mut problems = Vec::new();
        if codes.len() > 4 {
            problems.push(format!("{} codes (at most 4)", codes.len()));
        }
        let levels = codes
            .iter()
            .filter(|code| code.coding_scheme == HL7_CONFIDENTIALITY)
            .count();
        if levels > 1 {
            problems.push(format!("{levels} HL7 levels (exactly one)"));
        } else if levels == 0 && !self.settings.allow_flag_only_confidentiality {
            problems.push(format!("no HL7 level ({HL7_CONFIDENTIALITY}: N, R or V)"));
        }
        let mut seen = HashSet::new();
        for code in codes {
            if !seen.insert((&code.code, &code.coding_scheme)) {
                problems.push(format!("{} is repeated", code.code));
            }
            if code.coding_scheme == VISIBILITY_FLAGS
                && !ALLOWED_FLAGS.contains(&code.code.as_str())
            {
                problems.push(format!(
                    "flag {} is not a DMP flag ({})",
                    code.code,
                    ALLOWED_FLAGS.join(", ")
                ));
            } else if set.check(&code.code, Some(&code.coding_scheme)) != Membership::Member {
                problems.push(format!(
                    "{} ({}) is not in {}",
                    code.code,
                    code.coding_scheme,
                    set.label()
                ));
            }
        }
        if !problems.is_empty() {
            findings.report(
                &CONFIDENTIALITY,
                location,
                format!("confidentialityCode: {}", problems.join("; ")),
            );
        }
    }

    /// Rule 27.
    fn check_signature(&self, findings: &mut Findings, metadata: &Metadata) {
        if !self.settings.require_signature
            || metadata.document_entries.is_empty()
            || (findings.is_update() && !self.settings.require_signature_on_update)
        {
            return;
        }
        let Some(set) = metadata.submission_sets.first() else {
            return;
        };
        let signed = metadata.document_entries.iter().any(|entry| {
            entry
                .format_code
                .as_ref()
                .is_some_and(|format| format.code == SIGNATURE_FORMAT)
                && metadata.associations.iter().any(|association| {
                    association.association_type == AssociationType::HasMember
                        && association.source == set.entry_uuid
                        && association.target == entry.entry_uuid
                })
                && metadata.associations.iter().any(|association| {
                    association.association_type == AssociationType::Signs
                        && association.source == entry.entry_uuid
                        && association.target == set.entry_uuid
                })
        });
        if !signed {
            findings.report(
                &SIGNATURE,
                &format!("SubmissionSet {}", set.entry_uuid),
                format!(
                    "no signature DocumentEntry (formatCode {SIGNATURE_FORMAT}) that is a member of the SubmissionSet and the source of a signs association to it"
                ),
            );
        }
    }
}

/// Rule 25 for one XCN.
fn check_person(findings: &mut Findings, location: &str, attribute: &str, person: &Xcn) {
    let value = person.format();
    let mut problems = Vec::new();
    let authority = person.assigning_authority();
    let authority_oid = authority
        .as_ref()
        .filter(|authority| {
            authority.namespace_id.is_empty()
                && authority.universal_id_type == "ISO"
                && Oid::is_valid(&authority.universal_id)
        })
        .map(|authority| authority.universal_id.as_str());
    if authority_oid.is_none() {
        problems.push("XCN.9 is not &<OID>&ISO".to_owned());
    }
    if !matches!(person.name_type_code(), "D" | "U") {
        problems.push(format!(
            "XCN.10 {:?} is neither D (person) nor U (system)",
            person.name_type_code()
        ));
    }
    let kind = person.identifier_type_code();
    if !matches!(kind, "IDNPS" | "EI" | "RI" | "NH") {
        problems.push(format!("XCN.13 {kind:?} is not IDNPS, EI, RI or NH"));
    }
    let id = person.id();
    if authority_oid == Some(IDNAT_PS) && !is_idnat_ps(id) {
        problems.push(format!(
            "XCN.1 {id:?} is not an idNat_PS (prefix 0, 1, 3, 4, 5, 6 or 8, then the register's id)"
        ));
    }
    if kind == "IDNPS"
        && id.starts_with('8')
        && !(id.len() == 12 && id.bytes().all(|byte| byte.is_ascii_digit()))
    {
        problems.push(format!(
            "XCN.1 {id:?}: an IDNPS with prefix 8 is 8 and the 11-digit RPPS number"
        ));
    }
    if !problems.is_empty() {
        findings.report(
            &AUTHOR_PERSON,
            location,
            format!("{attribute} {value}: {}", problems.join("; ")),
        );
    }
}

/// `^[0134568][0-9A-Za-z]+(/[^^&~\\|]+)?$` (dmp-profile.md §2.1, Recommendation).
fn is_idnat_ps(id: &str) -> bool {
    let (head, internal) = match id.split_once('/') {
        Some((head, internal)) => (head, Some(internal)),
        None => (id, None),
    };
    let mut chars = head.chars();
    let prefix_ok = chars
        .next()
        .is_some_and(|prefix| "0134568".contains(prefix));
    let rest = chars.as_str();
    prefix_ok
        && !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_alphanumeric())
        && internal.is_none_or(|internal| {
            !internal.is_empty() && !internal.contains(['^', '&', '~', '\\', '|', '/'])
        })
}

/// Rule 28 for one object.
fn check_status(findings: &mut Findings, location: &str, status: &Option<AvailabilityStatus>) {
    if let Some(status) = status
        && *status != AvailabilityStatus::Approved
    {
        findings.report(
            &STATUS,
            location,
            format!(
                "availabilityStatus {} is set by the registry, not by the submitter",
                status.urn()
            ),
        );
    }
}

/// The code and codingScheme of `code^display^OID` (CE) or `code^^^&OID&ISO`.
fn coded_string(value: &str) -> (String, Option<String>) {
    if !value.contains('\\') {
        // No HL7 escape: split in place.
        let mut components = value.split('^');
        let code = components.next().unwrap_or_default();
        let system = components.nth(1).unwrap_or_default();
        if !system.is_empty() {
            return (code.to_owned(), Some(system.to_owned()));
        }
        let authority = components.next().unwrap_or_default();
        let oid = authority.split('&').nth(1).unwrap_or_default();
        return (code.to_owned(), (!oid.is_empty()).then(|| oid.to_owned()));
    }
    let Ok(composite) = Composite::parse(value) else {
        return (value.to_owned(), None);
    };
    let code = composite.component(1).to_owned();
    let system = composite.component(3);
    if !system.is_empty() {
        return (code, Some(system.to_owned()));
    }
    let authority = composite.get(4, 2);
    if !authority.is_empty() {
        return (code, Some(authority.to_owned()));
    }
    (code, None)
}

impl Profile for DmpProfile {
    fn name(&self) -> &str {
        NAME
    }

    fn rules(&self) -> &[Rule] {
        RULES
    }

    /// Rule 46: no Remove Metadata and Documents (ITI-62, ITI-86) in the DMP.
    fn allows(&self, transaction: Transaction) -> bool {
        !matches!(transaction, Transaction::Iti62 | Transaction::Iti86)
    }

    /// Rule 30: a new version changes the confidentialityCode list only (masking and
    /// visibility, TD3.3a/b); sourcePatientInfo never changes (rule 6).
    fn version_change_refused(
        &self,
        previous: &DocumentEntry,
        next: &DocumentEntry,
    ) -> Option<String> {
        // The whole entry but what a version may change: nothing else may differ.
        let frozen = |entry: &DocumentEntry| DocumentEntry {
            entry_uuid: previous.entry_uuid.clone(),
            logical_id: None,
            version: None,
            availability_status: None,
            confidentiality_codes: Vec::new(),
            ..entry.clone()
        };
        if frozen(previous) == frozen(next) {
            return None;
        }
        let changed: Vec<&str> = [
            ("mimeType", previous.mime_type != next.mime_type),
            ("objectType", previous.object_type != next.object_type),
            ("URI", previous.uri != next.uri),
            (
                "documentAvailability",
                previous.document_availability != next.document_availability,
            ),
            ("homeCommunityId", previous.home != next.home),
            ("extra slots", previous.extra_slots != next.extra_slots),
            ("title", previous.title != next.title),
            ("comments", previous.comments != next.comments),
            ("author", previous.authors != next.authors),
            ("classCode", previous.class_code != next.class_code),
            ("eventCodeList", previous.event_codes != next.event_codes),
            ("formatCode", previous.format_code != next.format_code),
            (
                "healthcareFacilityTypeCode",
                previous.healthcare_facility_type_code != next.healthcare_facility_type_code,
            ),
            (
                "practiceSettingCode",
                previous.practice_setting_code != next.practice_setting_code,
            ),
            ("typeCode", previous.type_code != next.type_code),
            ("creationTime", previous.creation_time != next.creation_time),
            (
                "serviceStartTime",
                previous.service_start_time != next.service_start_time,
            ),
            (
                "serviceStopTime",
                previous.service_stop_time != next.service_stop_time,
            ),
            ("hash", previous.hash != next.hash),
            ("size", previous.size != next.size),
            ("languageCode", previous.language_code != next.language_code),
            (
                "legalAuthenticator",
                previous.legal_authenticator != next.legal_authenticator,
            ),
            ("patientId", previous.patient_id != next.patient_id),
            (
                "sourcePatientId",
                previous.source_patient_id != next.source_patient_id,
            ),
            (
                "sourcePatientInfo",
                previous.source_patient_info != next.source_patient_info,
            ),
            (
                "referenceIdList",
                previous.reference_ids != next.reference_ids,
            ),
            (
                "repositoryUniqueId",
                previous.repository_unique_id != next.repository_unique_id,
            ),
        ]
        .into_iter()
        .filter_map(|(name, differs)| differs.then_some(name))
        .collect();
        Some(format!(
            "a DMP metadata update changes only the confidentialityCode list (dmp-profile.md §6.4); this one changes {}",
            if changed.is_empty() {
                "other attributes".to_owned()
            } else {
                changed.join(", ")
            }
        ))
    }

    /// Rule 32: Approved -> Deleted, Archived -> Deleted, Approved -> Archived and
    /// Archived -> Approved (TD3.3c/d); Deleted and Deprecated are final.
    fn status_change_allowed(&self, from: &AvailabilityStatus, to: &AvailabilityStatus) -> bool {
        use AvailabilityStatus::{Approved, Archived, Deleted};
        matches!(
            (from, to),
            (Approved, Deleted) | (Archived, Deleted) | (Approved, Archived) | (Archived, Approved)
        )
    }

    /// dmp-profile.md §8 rules 12 and 15: the sector in J61, the profession in J65, the
    /// connexion-secrète code in J64.
    fn check_assertion(&self, assertion: &xds::model::Assertion) -> Vec<String> {
        let mut problems = Vec::new();
        let sector = Code::new(&assertion.sector.code, &assertion.sector.system, "");
        problems.extend(self.set(FACILITY_CODE).problem("Secteur_Activite", &sector));
        // A patient portal's role is not a profession (the registry's access policy accepts it
        // from configured portal certificates only).
        if let Some(role) = assertion
            .roles
            .first()
            .filter(|role| role.system != xds::model::caller::PORTAL_ROLE_SYSTEM)
        {
            let role = Code::new(&role.code, &role.system, "");
            problems.extend(self.set(SUBJECT_ROLE).problem("role", &role));
        }
        if let Some(code) = &assertion.confidentiality
            && self.set(AUDIENCE_RESTRICTION).check(code, None) != Membership::Member
        {
            problems.push(format!(
                "confidentiality-code {code} is not in {}",
                AUDIENCE_RESTRICTION.label
            ));
        }
        problems
    }

    fn validate_submission(&self, metadata: &Metadata, findings: &mut Findings) {
        for set in &metadata.submission_sets {
            let location = format!("SubmissionSet {}", set.entry_uuid);
            let location = location.as_str();
            self.check_patient(findings, location, &set.patient_id);
            let missing: Vec<&str> = [
                ("author", set.authors.is_empty()),
                (
                    "authorPerson",
                    !set.authors.is_empty()
                        && set.authors.iter().all(|author| author.person.is_none()),
                ),
                ("contentTypeCode", set.content_type_code.is_none()),
                ("sourceId", set.source_id.is_none()),
                ("submissionTime", set.submission_time.is_none()),
                ("uniqueId", set.unique_id.is_none()),
                ("patientId", set.patient_id.is_none()),
            ]
            .into_iter()
            .filter_map(|(name, absent)| absent.then_some(name))
            .collect();
            if !missing.is_empty() {
                findings.report(
                    &REQUIRED,
                    location,
                    format!("the DMP requires {}", missing.join(", ")),
                );
            }
            if let Some(code) = &set.content_type_code {
                self.check_code(
                    findings,
                    location,
                    "contentTypeCode",
                    CONTENT_TYPE_CODE,
                    code,
                );
            }
            self.check_authors(findings, location, &set.authors);
            check_status(findings, location, &set.availability_status);
        }
        for entry in &metadata.document_entries {
            self.check_entry(findings, entry);
        }
        for folder in &metadata.folders {
            let location = format!("Folder {}", folder.entry_uuid);
            self.check_patient(findings, &location, &folder.patient_id);
            check_status(findings, &location, &folder.availability_status);
        }
        self.check_signature(findings, metadata);
    }
}
