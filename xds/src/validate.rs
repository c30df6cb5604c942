//! IHE XDS.b validation of a submission that needs no registry state (TF-3 4.2 and ITI-42
//! 3.42.4.1.3; xds-spec-brief.md §3.9): required attributes per receiver, value forms,
//! uniqueness inside the message, patient consistency and association structure. Every
//! problem is reported, each with its exact error code and the object it concerns.
//!
//! What needs the registry's state (known patients, existing uniqueIds and UUIDs, association
//! targets in the registry) is checked by the registry service.

use std::collections::{HashMap, HashSet};

use crate::error::{RegistryError, XdsErrorCode};
use crate::model::*;

/// Who validates: the registry receiving ITI-42 (TF-3 "DR" column: hash, size and
/// repositoryUniqueId required) or the repository receiving ITI-41 ("DS" column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receiver {
    Registry,
    Repository,
}

impl Receiver {
    fn metadata_error(self) -> XdsErrorCode {
        match self {
            Self::Registry => XdsErrorCode::RegistryMetadataError,
            Self::Repository => XdsErrorCode::RepositoryMetadataError,
        }
    }

    fn duplicate_in_message(self) -> XdsErrorCode {
        match self {
            Self::Registry => XdsErrorCode::RegistryDuplicateUniqueIdInMessage,
            Self::Repository => XdsErrorCode::RepositoryDuplicateUniqueIdInMessage,
        }
    }
}

/// An affinity-domain profile: rules added on top of the IHE structural ones (value sets,
/// national identifiers). Implemented in the `xds-profiles` crate.
pub trait Profile: Send + Sync {
    /// The profile's name as configured (`ihe-xds-b`, `fr-dmp`).
    fn name(&self) -> &str;
    /// Appends the profile's findings for a submission.
    fn validate_submission(
        &self,
        metadata: &Metadata,
        receiver: Receiver,
        errors: &mut Vec<RegistryError>,
    );
}

/// The structural profile: IHE rules only, no code lists.
#[derive(Debug, Clone, Copy, Default)]
pub struct IheXdsB;

impl Profile for IheXdsB {
    fn name(&self) -> &str {
        "ihe-xds-b"
    }

    fn validate_submission(
        &self,
        _metadata: &Metadata,
        _receiver: Receiver,
        _errors: &mut Vec<RegistryError>,
    ) {
    }
}

struct Findings {
    receiver: Receiver,
    errors: Vec<RegistryError>,
}

impl Findings {
    fn metadata(&mut self, location: &str, message: impl Into<String>) {
        self.errors.push(
            RegistryError::error(self.receiver.metadata_error(), message).at(location.to_owned()),
        );
    }

    fn coded(&mut self, code: XdsErrorCode, location: &str, message: impl Into<String>) {
        self.errors
            .push(RegistryError::error(code, message).at(location.to_owned()));
    }
}

const DE_TITLE_MAX: usize = 128;
const TITLE_MAX: usize = 256;

fn check_title(findings: &mut Findings, location: &str, title: &InternationalString, max: usize) {
    for string in title {
        if string.value.chars().count() > max {
            findings.metadata(location, format!("title longer than {max} characters"));
        }
    }
}

fn check_code(findings: &mut Findings, location: &str, attribute: &str, code: &Code) {
    if code.code.trim().is_empty() {
        findings.metadata(location, format!("{attribute}: the code is empty"));
    }
    if code.coding_scheme.trim().is_empty() {
        findings.metadata(
            location,
            format!("{attribute} {}: the codingScheme is empty", code.code),
        );
    }
    if code
        .display()
        .is_none_or(|display| display.trim().is_empty())
    {
        findings.metadata(
            location,
            format!(
                "{attribute} {}: the display name (rim:Name) is missing",
                code.code
            ),
        );
    }
}

fn require_code(findings: &mut Findings, location: &str, attribute: &str, code: &Option<Code>) {
    match code {
        Some(code) => check_code(findings, location, attribute, code),
        None => findings.metadata(location, format!("{attribute} is required")),
    }
}

fn check_patient(
    findings: &mut Findings,
    location: &str,
    attribute: &str,
    patient: &Option<Cx>,
    required: bool,
) {
    match patient {
        Some(cx) => {
            if let Err(problem) = cx.check_patient_id_form() {
                findings.metadata(location, format!("{attribute} {}: {problem}", cx.format()));
            }
        }
        None if required => findings.metadata(location, format!("{attribute} is required")),
        None => {}
    }
}

fn check_authors(findings: &mut Findings, location: &str, authors: &[Author]) {
    for (index, author) in authors.iter().enumerate() {
        let here = format!("{location} / author {}", index + 1);
        if author.person.is_none()
            && author.institutions.is_empty()
            && author.telecommunications.is_empty()
        {
            findings.metadata(
                &here,
                "an author needs authorPerson, authorInstitution or authorTelecommunication",
            );
        }
        if let Some(person) = &author.person {
            if let Err(problem) = person.check_form() {
                findings.metadata(
                    &here,
                    format!("authorPerson {}: {problem}", person.format()),
                );
            }
        }
        for institution in &author.institutions {
            if let Err(problem) = institution.check_form() {
                findings.metadata(
                    &here,
                    format!("authorInstitution {}: {problem}", institution.format()),
                );
            }
        }
        for telecom in &author.telecommunications {
            if let Err(problem) = telecom.check_form() {
                findings.metadata(
                    &here,
                    format!("authorTelecommunication {}: {problem}", telecom.format()),
                );
            }
        }
    }
}

/// Whether `start` is after `stop`, compared at their common precision.
fn starts_after_stop(start: &Dtm, stop: &Dtm) -> bool {
    let common = start.as_str().len().min(stop.as_str().len());
    start.as_str()[..common] > stop.as_str()[..common]
}

fn validate_document_entry(findings: &mut Findings, entry: &DocumentEntry) {
    let location = format!("DocumentEntry {}", entry.entry_uuid);
    let location = location.as_str();
    match entry.object_type {
        Some(DocumentEntryType::Stable) => {}
        Some(DocumentEntryType::OnDemand) => findings.metadata(
            location,
            "On-Demand DocumentEntries cannot be submitted with ITI-41/42",
        ),
        None => findings.metadata(location, "objectType is required"),
    }
    if entry
        .mime_type
        .as_deref()
        .is_none_or(|mime| mime.trim().is_empty())
    {
        findings.metadata(location, "mimeType is required");
    }
    require_code(findings, location, "classCode", &entry.class_code);
    require_code(findings, location, "formatCode", &entry.format_code);
    require_code(
        findings,
        location,
        "healthcareFacilityTypeCode",
        &entry.healthcare_facility_type_code,
    );
    require_code(
        findings,
        location,
        "practiceSettingCode",
        &entry.practice_setting_code,
    );
    require_code(findings, location, "typeCode", &entry.type_code);
    if entry.confidentiality_codes.is_empty() {
        findings.metadata(location, "confidentialityCode is required");
    }
    for code in &entry.confidentiality_codes {
        check_code(findings, location, "confidentialityCode", code);
    }
    for code in &entry.event_codes {
        check_code(findings, location, "eventCodeList", code);
    }
    if entry.creation_time.is_none() {
        findings.metadata(location, "creationTime is required");
    }
    if entry.language_code.is_none() {
        findings.metadata(location, "languageCode is required");
    }
    check_patient(findings, location, "patientId", &entry.patient_id, true);
    check_patient(
        findings,
        location,
        "sourcePatientId",
        &entry.source_patient_id,
        true,
    );
    if entry.unique_id.is_none() {
        findings.metadata(location, "uniqueId is required");
    }
    if findings.receiver == Receiver::Registry {
        if entry.hash.is_none() {
            findings.metadata(location, "hash is required (set by the repository)");
        }
        if entry.size.is_none() {
            findings.metadata(location, "size is required (set by the repository)");
        }
        if entry.repository_unique_id.is_none() {
            findings.metadata(
                location,
                "repositoryUniqueId is required (set by the repository)",
            );
        }
    }
    if let (Some(start), Some(stop)) = (&entry.service_start_time, &entry.service_stop_time) {
        if starts_after_stop(start, stop) {
            findings.metadata(
                location,
                format!("serviceStartTime {start} is after serviceStopTime {stop}"),
            );
        }
    }
    if let Some(authenticator) = &entry.legal_authenticator {
        if let Err(problem) = authenticator.check_form() {
            findings.metadata(
                location,
                format!("legalAuthenticator {}: {problem}", authenticator.format()),
            );
        }
    }
    for info in &entry.source_patient_info {
        let field = info.split('|').next().unwrap_or("");
        let known = field
            .strip_prefix("PID-")
            .and_then(|number| number.parse::<u32>().ok());
        match known {
            None => findings.metadata(
                location,
                format!("sourcePatientInfo value {info:?} is not PID-n|value"),
            ),
            Some(2 | 4 | 12 | 19) => findings.metadata(
                location,
                format!("sourcePatientInfo must not carry {field}"),
            ),
            Some(_) => {}
        }
    }
    check_authors(findings, location, &entry.authors);
    check_title(findings, location, &entry.title, DE_TITLE_MAX);
    if entry.limited_metadata {
        findings.metadata(location, "limitedMetadata is not allowed in ITI-41/42");
    }
}

fn validate_submission_set(findings: &mut Findings, set: &SubmissionSet) {
    let location = format!("SubmissionSet {}", set.entry_uuid);
    let location = location.as_str();
    require_code(
        findings,
        location,
        "contentTypeCode",
        &set.content_type_code,
    );
    check_patient(findings, location, "patientId", &set.patient_id, true);
    if set.source_id.is_none() {
        findings.metadata(location, "sourceId is required");
    }
    if set.submission_time.is_none() {
        findings.metadata(location, "submissionTime is required");
    }
    if set.unique_id.is_none() {
        findings.metadata(location, "uniqueId is required");
    }
    check_authors(findings, location, &set.authors);
    check_title(findings, location, &set.title, TITLE_MAX);
    if set.limited_metadata {
        findings.metadata(location, "limitedMetadata is not allowed in ITI-41/42");
    }
}

fn validate_folder(findings: &mut Findings, folder: &Folder) {
    let location = format!("Folder {}", folder.entry_uuid);
    let location = location.as_str();
    if folder.codes.is_empty() {
        findings.metadata(location, "codeList is required");
    }
    for code in &folder.codes {
        check_code(findings, location, "codeList", code);
    }
    check_patient(findings, location, "patientId", &folder.patient_id, true);
    if folder
        .title
        .iter()
        .all(|title| title.value.trim().is_empty())
    {
        findings.metadata(location, "title is required");
    }
    check_title(findings, location, &folder.title, TITLE_MAX);
    if folder.unique_id.is_none() {
        findings.metadata(location, "uniqueId is required");
    }
    if folder.limited_metadata {
        findings.metadata(location, "limitedMetadata is not allowed in ITI-41/42");
    }
}

/// What an id names inside the submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Local {
    SubmissionSet,
    DocumentEntry(usize),
    Folder(usize),
    Association(usize),
}

/// Validates an ITI-41/42 submission. Returns every problem found; an empty list means the
/// submission is structurally valid.
pub fn validate_submission(
    metadata: &Metadata,
    receiver: Receiver,
    profile: &dyn Profile,
) -> Vec<RegistryError> {
    let mut findings = Findings {
        receiver,
        errors: Vec::new(),
    };
    let findings = &mut findings;
    match metadata.submission_sets.len() {
        1 => {}
        0 => findings.metadata(
            "SubmitObjectsRequest",
            "the submission has no SubmissionSet",
        ),
        count => findings.metadata(
            "SubmitObjectsRequest",
            format!("the submission has {count} SubmissionSets, exactly one is allowed"),
        ),
    }
    if metadata.document_entries.is_empty()
        && metadata.folders.is_empty()
        && metadata.associations.is_empty()
    {
        findings.metadata(
            "SubmitObjectsRequest",
            "the submission contains no DocumentEntry, Folder or Association",
        );
    }

    // Ids: unique inside the message.
    let mut locals: HashMap<&ObjectId, Local> = HashMap::new();
    let mut ids: Vec<(&ObjectId, Local)> = Vec::new();
    if let Some(set) = metadata.submission_sets.first() {
        ids.push((&set.entry_uuid, Local::SubmissionSet));
    }
    ids.extend(
        metadata
            .document_entries
            .iter()
            .enumerate()
            .map(|(index, entry)| (&entry.entry_uuid, Local::DocumentEntry(index))),
    );
    ids.extend(
        metadata
            .folders
            .iter()
            .enumerate()
            .map(|(index, folder)| (&folder.entry_uuid, Local::Folder(index))),
    );
    ids.extend(
        metadata
            .associations
            .iter()
            .enumerate()
            .map(|(index, association)| (&association.entry_uuid, Local::Association(index))),
    );
    for (id, local) in ids {
        if locals.insert(id, local).is_some() {
            findings.metadata(
                &id.to_string(),
                format!("two objects of the submission have the id {id}"),
            );
        }
    }

    for set in &metadata.submission_sets {
        validate_submission_set(findings, set);
    }
    for entry in &metadata.document_entries {
        validate_document_entry(findings, entry);
    }
    for folder in &metadata.folders {
        validate_folder(findings, folder);
    }

    // uniqueIds: unique inside the message.
    let mut unique_ids: HashSet<&str> = HashSet::new();
    let all_unique_ids = metadata
        .document_entries
        .iter()
        .filter_map(|entry| {
            entry
                .unique_id
                .as_ref()
                .map(|id| (format!("DocumentEntry {}", entry.entry_uuid), id.as_str()))
        })
        .chain(metadata.submission_sets.iter().filter_map(|set| {
            set.unique_id
                .as_ref()
                .map(|id| (format!("SubmissionSet {}", set.entry_uuid), id.as_str()))
        }))
        .chain(metadata.folders.iter().filter_map(|folder| {
            folder
                .unique_id
                .as_ref()
                .map(|id| (format!("Folder {}", folder.entry_uuid), id.as_str()))
        }));
    for (location, unique_id) in all_unique_ids {
        if !unique_ids.insert(unique_id) {
            findings.coded(
                receiver.duplicate_in_message(),
                &location,
                unique_id.to_owned(),
            );
        }
    }

    // Patient consistency inside the message.
    let set_patient = metadata
        .submission_sets
        .first()
        .and_then(|set| set.patient_id.as_ref());
    if let Some(set_patient) = set_patient {
        for entry in &metadata.document_entries {
            if let Some(patient) = &entry.patient_id {
                if patient != set_patient {
                    findings.coded(
                        XdsErrorCode::PatientIdDoesNotMatch,
                        &format!("DocumentEntry {}", entry.entry_uuid),
                        format!("DocumentEntry patientId {} differs from the SubmissionSet patientId {}", patient.format(), set_patient.format()),
                    );
                }
            }
        }
        for folder in &metadata.folders {
            if let Some(patient) = &folder.patient_id {
                if patient != set_patient {
                    findings.coded(
                        XdsErrorCode::PatientIdDoesNotMatch,
                        &format!("Folder {}", folder.entry_uuid),
                        format!(
                            "Folder patientId {} differs from the SubmissionSet patientId {}",
                            patient.format(),
                            set_patient.format()
                        ),
                    );
                }
            }
        }
    }

    validate_associations(findings, metadata, &locals);
    profile.validate_submission(metadata, receiver, &mut findings.errors);
    std::mem::take(&mut findings.errors)
}

fn validate_associations(
    findings: &mut Findings,
    metadata: &Metadata,
    locals: &HashMap<&ObjectId, Local>,
) {
    let set_id = metadata.submission_sets.first().map(|set| &set.entry_uuid);
    let mut members: HashSet<&ObjectId> = HashSet::new();
    for association in &metadata.associations {
        let location = format!("Association {}", association.entry_uuid);
        let location = location.as_str();
        let source = locals.get(&association.source).copied();
        let target = locals.get(&association.target).copied();
        for (end, local, id) in [
            ("sourceObject", source, &association.source),
            ("targetObject", target, &association.target),
        ] {
            if local.is_none() && id.is_symbolic() {
                findings.coded(
                    XdsErrorCode::UnresolvedReferenceException,
                    location,
                    format!("{end} {id} is neither an object of the submission nor a UUID"),
                );
            }
        }
        if association.source == association.target {
            findings.metadata(
                location,
                "sourceObject and targetObject are the same object",
            );
        }
        match association.association_type {
            AssociationType::HasMember => {
                if association.documentation.is_some() {
                    findings.metadata(
                        location,
                        "a HasMember association may not carry a documentation classification",
                    );
                }
                match source {
                    Some(Local::SubmissionSet) => {
                        members.insert(&association.target);
                        match (target, association.submission_set_status) {
                            (Some(Local::DocumentEntry(_)), Some(SubmissionSetStatus::Original)) => {}
                            (Some(Local::DocumentEntry(_)), Some(SubmissionSetStatus::Reference)) => findings.metadata(
                                location,
                                "SubmissionSetStatus Reference names a DocumentEntry submitted by value (use Original)",
                            ),
                            (Some(Local::DocumentEntry(_)), None) => {
                                findings.metadata(location, "the SubmissionSet-DocumentEntry HasMember needs a SubmissionSetStatus slot")
                            }
                            (None, Some(SubmissionSetStatus::Original)) => findings.metadata(
                                location,
                                format!("SubmissionSetStatus Original names {}, which is not in the submission", association.target),
                            ),
                            _ => {}
                        }
                    }
                    Some(Local::Folder(_)) | None => {
                        // Folder -> DocumentEntry (the folder and the entry may already exist).
                        if let Some(
                            Local::Folder(_) | Local::SubmissionSet | Local::Association(_),
                        ) = target
                        {
                            findings.metadata(
                                location,
                                "a Folder HasMember must target a DocumentEntry",
                            );
                        }
                    }
                    Some(Local::DocumentEntry(_) | Local::Association(_)) => findings.metadata(
                        location,
                        "a HasMember must start at the SubmissionSet or a Folder",
                    ),
                }
            }
            AssociationType::UpdateAvailabilityStatus | AssociationType::SubmitAssociation => {
                findings.metadata(
                    location,
                    format!(
                        "{} belongs to Metadata Update (ITI-57), not to ITI-41/42",
                        association.association_type.urn()
                    ),
                )
            }
            kind => {
                // Document relationships: the source is a DocumentEntry of this submission.
                if !matches!(source, Some(Local::DocumentEntry(_))) {
                    findings.coded(
                        XdsErrorCode::UnresolvedReferenceException,
                        location,
                        format!("the sourceObject {} of a {} association must be a DocumentEntry of the submission", association.source, kind.urn()),
                    );
                }
                let target_must_exist = matches!(
                    kind,
                    AssociationType::Replace
                        | AssociationType::TransformAndReplace
                        | AssociationType::IsSnapshotOf
                );
                match target {
                    Some(_) if target_must_exist => findings.coded(
                        XdsErrorCode::UnresolvedReferenceException,
                        location,
                        format!("the targetObject of a {} association must be a DocumentEntry already in the registry", kind.urn()),
                    ),
                    Some(Local::SubmissionSet) if kind == AssociationType::Signs => {}
                    Some(Local::Folder(_) | Local::SubmissionSet | Local::Association(_)) => {
                        findings.metadata(location, format!("the targetObject of a {} association must be a DocumentEntry", kind.urn()))
                    }
                    _ => {}
                }
            }
        }
    }
    // Every DocumentEntry and Folder of the submission is a member of its SubmissionSet.
    if set_id.is_some() {
        for entry in &metadata.document_entries {
            if !members.contains(&entry.entry_uuid) {
                findings.metadata(
                    &format!("DocumentEntry {}", entry.entry_uuid),
                    "the DocumentEntry has no HasMember association from the SubmissionSet",
                );
            }
        }
        for folder in &metadata.folders {
            if !members.contains(&folder.entry_uuid) {
                findings.metadata(
                    &format!("Folder {}", folder.entry_uuid),
                    "the Folder has no HasMember association from the SubmissionSet",
                );
            }
        }
        // Every Folder-DocumentEntry HasMember is itself a member of the SubmissionSet.
        for association in &metadata.associations {
            let source = locals.get(&association.source).copied();
            let is_folder_member = association.association_type == AssociationType::HasMember
                && !matches!(source, Some(Local::SubmissionSet))
                && !matches!(
                    source,
                    Some(Local::DocumentEntry(_) | Local::Association(_))
                );
            if is_folder_member && !members.contains(&association.entry_uuid) {
                findings.metadata(
                    &format!("Association {}", association.entry_uuid),
                    "a Folder-DocumentEntry HasMember needs a HasMember from the SubmissionSet to it",
                );
            }
        }
    }
}
