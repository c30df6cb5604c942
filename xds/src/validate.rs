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
pub use crate::transform::Violation;

/// Who validates: the registry receiving ITI-42 (TF-3 "DR" column: hash, size and
/// repositoryUniqueId required) or the repository receiving ITI-41 ("DS" column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Receiver {
    Registry,
    Repository,
}

impl Receiver {
    pub fn metadata_error(self) -> XdsErrorCode {
        match self {
            Self::Registry => XdsErrorCode::RegistryMetadataError,
            Self::Repository => XdsErrorCode::RepositoryMetadataError,
        }
    }

    pub fn duplicate_in_message(self) -> XdsErrorCode {
        match self {
            Self::Registry => XdsErrorCode::RegistryDuplicateUniqueIdInMessage,
            Self::Repository => XdsErrorCode::RepositoryDuplicateUniqueIdInMessage,
        }
    }
}

/// A validation rule: a stable id, what it requires, and the error a violation raises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable id, shown in every violation (`IHE-REQUIRED`, `DMP-21`).
    pub id: &'static str,
    /// What the rule requires, in one sentence.
    pub summary: &'static str,
    /// The error code; `None` means the receiver's metadata error (XDSRegistryMetadataError
    /// for the registry, XDSRepositoryMetadataError for the repository).
    pub code: Option<XdsErrorCode>,
    /// A stable reason token put first in codeContext (dmp-profile.md §6.8), if any.
    pub token: Option<&'static str>,
}

impl Rule {
    /// A metadata rule (the receiver's metadata error).
    pub const fn metadata(id: &'static str, summary: &'static str) -> Self {
        Self {
            id,
            summary,
            code: None,
            token: None,
        }
    }

    /// A rule raising a fixed error code.
    pub const fn coded(id: &'static str, summary: &'static str, code: XdsErrorCode) -> Self {
        Self {
            id,
            summary,
            code: Some(code),
            token: None,
        }
    }

    /// The same rule with a reason token.
    pub const fn with_token(mut self, token: &'static str) -> Self {
        self.token = Some(token);
        self
    }
}

/// The RegistryErrors of a list of violations, in order.
pub fn registry_errors(violations: &[Violation]) -> Vec<RegistryError> {
    violations
        .iter()
        .map(Violation::to_registry_error)
        .collect()
}

/// Where a validation collects its violations.
#[derive(Debug)]
pub struct Findings {
    receiver: Receiver,
    /// ITI-57 (Metadata Update) rather than ITI-41/42.
    update: bool,
    violations: Vec<Violation>,
}

impl Findings {
    pub fn new(receiver: Receiver) -> Self {
        Self {
            receiver,
            update: false,
            violations: Vec::new(),
        }
    }

    /// Whether the message is an ITI-57 Metadata Update.
    pub fn is_update(&self) -> bool {
        self.update
    }

    pub fn receiver(&self) -> Receiver {
        self.receiver
    }

    /// Records a violation of `rule` with the rule's error code (or the receiver's metadata
    /// error), its reason token first.
    pub fn report(&mut self, rule: &Rule, location: &str, message: impl Into<String>) {
        let code = rule.code.unwrap_or_else(|| self.receiver.metadata_error());
        self.coded(rule, code, location, message);
    }

    /// Records a violation of `rule` with an explicit error code.
    pub fn coded(
        &mut self,
        rule: &Rule,
        code: XdsErrorCode,
        location: &str,
        message: impl Into<String>,
    ) {
        let message = message.into();
        let message = match rule.token {
            Some(token) => format!("{token}: {message}"),
            None => message,
        };
        self.violations.push(Violation {
            rule: Some(rule.id),
            code,
            location: location.to_owned(),
            message,
        });
    }

    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    pub fn into_violations(self) -> Vec<Violation> {
        self.violations
    }
}

/// An affinity-domain profile: rules added on top of the IHE structural ones (value sets,
/// national identifiers). Implemented in the `xds-profiles` crate.
pub trait Profile: Send + Sync + std::fmt::Debug {
    /// The profile's name as configured (`ihe-xds-b`, `fr-dmp`).
    fn name(&self) -> &str;
    /// The profile's own rules; the structural ones ([`rule::STRUCTURAL`]) always apply.
    fn rules(&self) -> &[Rule];
    /// Records the profile's findings for a submission.
    fn validate_submission(&self, metadata: &Metadata, findings: &mut Findings);

    /// The profile's checks of a verified VIHF assertion's codes (value sets): one message
    /// per problem. The structural checks are the trust layer's; by default none more.
    fn check_assertion(&self, assertion: &Assertion) -> Vec<String> {
        let _ = assertion;
        Vec::new()
    }
    /// Whether the affinity domain uses a transaction at all (the DMP has no ITI-62/ITI-86,
    /// dmp-profile.md §8 rule 46); daemons answer the others with an ActionNotSupported fault.
    fn allows(&self, transaction: crate::transaction::Transaction) -> bool {
        let _ = transaction;
        true
    }
    /// Why a new version of a DocumentEntry may not replace `previous` (ITI-57), or `None` when
    /// it may. IHE Metadata Update lets every attribute change but the uniqueId and objectType
    /// (checked by the registry).
    fn version_change_refused(
        &self,
        previous: &DocumentEntry,
        next: &DocumentEntry,
    ) -> Option<String> {
        let _ = (previous, next);
        None
    }
    /// Whether an ITI-57 UpdateAvailabilityStatus may move an object from `from` to `to`. IHE
    /// Metadata Update: Approved and Deprecated, both ways.
    fn status_change_allowed(&self, from: &AvailabilityStatus, to: &AvailabilityStatus) -> bool {
        matches!(
            (from, to),
            (AvailabilityStatus::Approved, AvailabilityStatus::Deprecated)
                | (AvailabilityStatus::Deprecated, AvailabilityStatus::Approved)
        )
    }
}

/// The structural profile: IHE rules only, no code lists.
#[derive(Debug, Clone, Copy, Default)]
pub struct IheXdsB;

impl Profile for IheXdsB {
    fn name(&self) -> &str {
        "ihe-xds-b"
    }

    fn rules(&self) -> &[Rule] {
        &[]
    }

    fn validate_submission(&self, _metadata: &Metadata, _findings: &mut Findings) {}
}

/// The IHE XDS.b structural rules (TF-3 4.2, ITI-42 3.42.4.1.3), applied whatever the profile.
pub mod rule {
    use super::Rule;
    use crate::error::XdsErrorCode;

    pub const ONE_SUBMISSION_SET: Rule = Rule::metadata(
        "IHE-ONE-SUBMISSION-SET",
        "A submission holds exactly one SubmissionSet.",
    );
    pub const CONTENT: Rule = Rule::metadata(
        "IHE-CONTENT",
        "A submission holds at least one DocumentEntry, Folder or Association.",
    );
    pub const ID_UNIQUE: Rule = Rule::metadata(
        "IHE-ID-UNIQUE",
        "The ids of the objects of a submission are distinct.",
    );
    pub const UNIQUE_ID_UNIQUE: Rule = Rule::metadata(
        "IHE-UNIQUE-ID-UNIQUE",
        "The uniqueIds of a submission are distinct (XDSRegistryDuplicateUniqueIdInMessage or XDSRepositoryDuplicateUniqueIdInMessage).",
    );
    pub const REQUIRED: Rule = Rule::metadata(
        "IHE-REQUIRED",
        "The attributes TF-3 requires of the receiver's submissions are present (hash, size and repositoryUniqueId at the registry).",
    );
    pub const CODE: Rule = Rule::metadata(
        "IHE-CODE",
        "A coded attribute has a code, a codingScheme and a display name.",
    );
    pub const PATIENT_ID: Rule = Rule::metadata(
        "IHE-PATIENT-ID",
        "A patient id is a CX with CX.1, empty CX.2 and CX.3, and CX.4 = &OID&ISO.",
    );
    pub const AUTHOR: Rule = Rule::metadata(
        "IHE-AUTHOR",
        "An author has a person, an institution or a telecommunication, each of valid form.",
    );
    pub const LEGAL_AUTHENTICATOR: Rule = Rule::metadata(
        "IHE-LEGAL-AUTHENTICATOR",
        "A legalAuthenticator is an XCN with an id or a family name.",
    );
    pub const ENTRY_TYPE: Rule = Rule::metadata(
        "IHE-ENTRY-TYPE",
        "ITI-41/42 submit Stable DocumentEntries only.",
    );
    pub const SERVICE_TIME: Rule = Rule::metadata(
        "IHE-SERVICE-TIME",
        "serviceStartTime is not after serviceStopTime.",
    );
    pub const TITLE: Rule = Rule::metadata(
        "IHE-TITLE",
        "Titles fit their length limit (128 characters for a DocumentEntry, 256 otherwise).",
    );
    pub const SOURCE_PATIENT_INFO: Rule = Rule::metadata(
        "IHE-SOURCE-PATIENT-INFO",
        "sourcePatientInfo lines are PID-n|value, without PID-2, PID-4, PID-12 or PID-19.",
    );
    pub const LIMITED_METADATA: Rule = Rule::metadata(
        "IHE-LIMITED-METADATA",
        "Limited metadata is not submitted with ITI-41/42.",
    );
    pub const PATIENT_MATCH: Rule = Rule::coded(
        "IHE-PATIENT-MATCH",
        "Every DocumentEntry and Folder has the SubmissionSet's patientId.",
        XdsErrorCode::PatientIdDoesNotMatch,
    );
    pub const ASSOCIATION: Rule = Rule::metadata(
        "IHE-ASSOCIATION",
        "Associations have valid ends and types for ITI-41/42.",
    );
    pub const UPDATE: Rule = Rule::coded(
        "IHE-UPDATE",
        "ITI-57: an UpdateAvailabilityStatus starts at the request's SubmissionSet and targets an object already in the registry, with one OriginalStatus and one different NewStatus.",
        XdsErrorCode::MetadataUpdateError,
    );
    pub const MEMBERSHIP: Rule = Rule::metadata(
        "IHE-MEMBERSHIP",
        "Every DocumentEntry, Folder and Folder membership of a submission is a member of its SubmissionSet.",
    );

    /// Every structural rule, in the order of the checks.
    pub const STRUCTURAL: &[Rule] = &[
        ONE_SUBMISSION_SET,
        CONTENT,
        ID_UNIQUE,
        UNIQUE_ID_UNIQUE,
        REQUIRED,
        CODE,
        PATIENT_ID,
        AUTHOR,
        LEGAL_AUTHENTICATOR,
        ENTRY_TYPE,
        SERVICE_TIME,
        TITLE,
        SOURCE_PATIENT_INFO,
        LIMITED_METADATA,
        PATIENT_MATCH,
        ASSOCIATION,
        UPDATE,
        MEMBERSHIP,
    ];
}

const DE_TITLE_MAX: usize = 128;
const TITLE_MAX: usize = 256;

fn check_title(findings: &mut Findings, location: &str, title: &InternationalString, max: usize) {
    for string in title {
        if string.value.chars().count() > max {
            findings.report(
                &rule::TITLE,
                location,
                format!("title longer than {max} characters"),
            );
        }
    }
}

fn check_code(findings: &mut Findings, location: &str, attribute: &str, code: &Code) {
    if code.code.trim().is_empty() {
        findings.report(
            &rule::CODE,
            location,
            format!("{attribute}: the code is empty"),
        );
    }
    if code.coding_scheme.trim().is_empty() {
        findings.report(
            &rule::CODE,
            location,
            format!("{attribute} {}: the codingScheme is empty", code.code),
        );
    }
    if code
        .display()
        .is_none_or(|display| display.trim().is_empty())
    {
        findings.report(
            &rule::CODE,
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
        None => findings.report(
            &rule::REQUIRED,
            location,
            format!("{attribute} is required"),
        ),
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
                findings.report(
                    &rule::PATIENT_ID,
                    location,
                    format!("{attribute} {}: {problem}", cx.format()),
                );
            }
        }
        None if required => findings.report(
            &rule::REQUIRED,
            location,
            format!("{attribute} is required"),
        ),
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
            findings.report(
                &rule::AUTHOR,
                &here,
                "an author needs authorPerson, authorInstitution or authorTelecommunication",
            );
        }
        if let Some(person) = &author.person
            && let Err(problem) = person.check_form()
        {
            findings.report(
                &rule::AUTHOR,
                &here,
                format!("authorPerson {}: {problem}", person.format()),
            );
        }
        for institution in &author.institutions {
            if let Err(problem) = institution.check_form() {
                findings.report(
                    &rule::AUTHOR,
                    &here,
                    format!("authorInstitution {}: {problem}", institution.format()),
                );
            }
        }
        for telecom in &author.telecommunications {
            if let Err(problem) = telecom.check_form() {
                findings.report(
                    &rule::AUTHOR,
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
        Some(DocumentEntryType::OnDemand) => findings.report(
            &rule::ENTRY_TYPE,
            location,
            "On-Demand DocumentEntries cannot be submitted with ITI-41/42",
        ),
        None => findings.report(&rule::REQUIRED, location, "objectType is required"),
    }
    if entry
        .mime_type
        .as_deref()
        .is_none_or(|mime| mime.trim().is_empty())
    {
        findings.report(&rule::REQUIRED, location, "mimeType is required");
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
        findings.report(&rule::REQUIRED, location, "confidentialityCode is required");
    }
    for code in &entry.confidentiality_codes {
        check_code(findings, location, "confidentialityCode", code);
    }
    for code in &entry.event_codes {
        check_code(findings, location, "eventCodeList", code);
    }
    if entry.creation_time.is_none() {
        findings.report(&rule::REQUIRED, location, "creationTime is required");
    }
    if entry.language_code.is_none() {
        findings.report(&rule::REQUIRED, location, "languageCode is required");
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
        findings.report(&rule::REQUIRED, location, "uniqueId is required");
    }
    if findings.receiver == Receiver::Registry {
        if entry.hash.is_none() {
            findings.report(
                &rule::REQUIRED,
                location,
                "hash is required (set by the repository)",
            );
        }
        if entry.size.is_none() {
            findings.report(
                &rule::REQUIRED,
                location,
                "size is required (set by the repository)",
            );
        }
        if entry.repository_unique_id.is_none() {
            findings.report(
                &rule::REQUIRED,
                location,
                "repositoryUniqueId is required (set by the repository)",
            );
        }
    }
    if let (Some(start), Some(stop)) = (&entry.service_start_time, &entry.service_stop_time)
        && starts_after_stop(start, stop)
    {
        findings.report(
            &rule::SERVICE_TIME,
            location,
            format!("serviceStartTime {start} is after serviceStopTime {stop}"),
        );
    }
    if let Some(authenticator) = &entry.legal_authenticator
        && let Err(problem) = authenticator.check_form()
    {
        findings.report(
            &rule::LEGAL_AUTHENTICATOR,
            location,
            format!("legalAuthenticator {}: {problem}", authenticator.format()),
        );
    }
    for info in &entry.source_patient_info {
        let field = info.split('|').next().unwrap_or("");
        let known = field
            .strip_prefix("PID-")
            .and_then(|number| number.parse::<u32>().ok());
        match known {
            None => findings.report(
                &rule::SOURCE_PATIENT_INFO,
                location,
                format!("sourcePatientInfo value {info:?} is not PID-n|value"),
            ),
            Some(2 | 4 | 12 | 19) => findings.report(
                &rule::SOURCE_PATIENT_INFO,
                location,
                format!("sourcePatientInfo must not carry {field}"),
            ),
            Some(_) => {}
        }
    }
    check_authors(findings, location, &entry.authors);
    check_title(findings, location, &entry.title, DE_TITLE_MAX);
    if entry.limited_metadata {
        findings.report(
            &rule::LIMITED_METADATA,
            location,
            "limitedMetadata is not allowed in ITI-41/42",
        );
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
        findings.report(&rule::REQUIRED, location, "sourceId is required");
    }
    if set.submission_time.is_none() {
        findings.report(&rule::REQUIRED, location, "submissionTime is required");
    }
    if set.unique_id.is_none() {
        findings.report(&rule::REQUIRED, location, "uniqueId is required");
    }
    check_authors(findings, location, &set.authors);
    check_title(findings, location, &set.title, TITLE_MAX);
    if set.limited_metadata {
        findings.report(
            &rule::LIMITED_METADATA,
            location,
            "limitedMetadata is not allowed in ITI-41/42",
        );
    }
}

fn validate_folder(findings: &mut Findings, folder: &Folder) {
    let location = format!("Folder {}", folder.entry_uuid);
    let location = location.as_str();
    if folder.codes.is_empty() {
        findings.report(&rule::REQUIRED, location, "codeList is required");
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
        findings.report(&rule::REQUIRED, location, "title is required");
    }
    check_title(findings, location, &folder.title, TITLE_MAX);
    if folder.unique_id.is_none() {
        findings.report(&rule::REQUIRED, location, "uniqueId is required");
    }
    if folder.limited_metadata {
        findings.report(
            &rule::LIMITED_METADATA,
            location,
            "limitedMetadata is not allowed in ITI-41/42",
        );
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

/// The form of one UpdateAvailabilityStatus (ITI-57, xds-spec-brief.md §6.1 operation 2).
fn check_status_update(
    findings: &mut Findings,
    location: &str,
    association: &Association,
    source: Option<Local>,
    target: Option<Local>,
) {
    if source != Some(Local::SubmissionSet) {
        findings.report(
            &rule::UPDATE,
            location,
            format!(
                "the sourceObject {} of an UpdateAvailabilityStatus must be the SubmissionSet of the request",
                association.source
            ),
        );
    }
    // An object already in the registry, or an association the request submits (announced
    // by a SubmitAssociation, checked by the registry).
    let submitted_association = matches!(target, Some(Local::Association(_)));
    if !submitted_association && (target.is_some() || association.target.as_uuid().is_none()) {
        findings.report(
            &rule::UPDATE,
            location,
            format!(
                "the targetObject {} of an UpdateAvailabilityStatus must be the entryUUID of an object already in the registry",
                association.target
            ),
        );
    }
    for (name, present) in [
        ("PreviousVersion", association.previous_version.is_some()),
        (
            "SubmissionSetStatus",
            association.submission_set_status.is_some(),
        ),
        (
            "AssociationPropagation",
            association.association_propagation.is_some(),
        ),
    ] {
        if present {
            findings.coded(
                &rule::UPDATE,
                XdsErrorCode::MetadataUpdateOperationError,
                location,
                format!("the {name} slot does not belong to an UpdateAvailabilityStatus"),
            );
        }
    }
    let usable = |status: &Option<AvailabilityStatus>| {
        matches!(
            status,
            Some(
                AvailabilityStatus::Approved
                    | AvailabilityStatus::Deprecated
                    | AvailabilityStatus::Archived
                    | AvailabilityStatus::Deleted
            )
        )
    };
    for (name, status) in [
        ("OriginalStatus", &association.original_status),
        ("NewStatus", &association.new_status),
    ] {
        if !usable(status) {
            findings.coded(
                &rule::UPDATE,
                XdsErrorCode::MetadataUpdateOperationError,
                location,
                match status {
                    None => format!("the {name} slot is missing (one status URN)"),
                    Some(status) => {
                        format!("{name} {} is not an availability status", status.urn())
                    }
                },
            );
        }
    }
    if usable(&association.original_status) && association.original_status == association.new_status
    {
        findings.coded(
            &rule::UPDATE,
            XdsErrorCode::MetadataUpdateOperationError,
            location,
            "OriginalStatus and NewStatus are the same",
        );
    }
}

/// Validates an ITI-41/42 submission against the structural rules and the profile's. Returns
/// every violation found; an empty list means the submission is valid.
pub fn validate_submission(
    metadata: &Metadata,
    receiver: Receiver,
    profile: &dyn Profile,
) -> Vec<Violation> {
    validate(metadata, Findings::new(receiver), profile)
}

/// Validates an ITI-57 Metadata Update request (at the registry): the same structural and
/// profile rules, with UpdateAvailabilityStatus associations allowed in their ITI-57 form.
pub fn validate_update(metadata: &Metadata, profile: &dyn Profile) -> Vec<Violation> {
    let mut findings = Findings::new(Receiver::Registry);
    findings.update = true;
    validate(metadata, findings, profile)
}

fn validate(metadata: &Metadata, findings: Findings, profile: &dyn Profile) -> Vec<Violation> {
    let mut findings = findings;
    let receiver = findings.receiver;
    let findings = &mut findings;
    match metadata.submission_sets.len() {
        1 => {}
        0 => findings.report(
            &rule::ONE_SUBMISSION_SET,
            "SubmitObjectsRequest",
            "the submission has no SubmissionSet",
        ),
        count => findings.report(
            &rule::ONE_SUBMISSION_SET,
            "SubmitObjectsRequest",
            format!("the submission has {count} SubmissionSets, exactly one is allowed"),
        ),
    }
    if metadata.document_entries.is_empty()
        && metadata.folders.is_empty()
        && metadata.associations.is_empty()
    {
        findings.report(
            &rule::CONTENT,
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
            findings.report(
                &rule::ID_UNIQUE,
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
                &rule::UNIQUE_ID_UNIQUE,
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
            if let Some(patient) = &entry.patient_id
                && patient != set_patient
            {
                findings.coded(
                    &rule::PATIENT_MATCH,
                    XdsErrorCode::PatientIdDoesNotMatch,
                    &format!("DocumentEntry {}", entry.entry_uuid),
                    format!(
                        "DocumentEntry patientId {} differs from the SubmissionSet patientId {}",
                        patient.format(),
                        set_patient.format()
                    ),
                );
            }
        }
        for folder in &metadata.folders {
            if let Some(patient) = &folder.patient_id
                && patient != set_patient
            {
                findings.coded(
                    &rule::PATIENT_MATCH,
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

    validate_associations(findings, metadata, &locals);
    profile.validate_submission(metadata, findings);
    std::mem::take(&mut findings.violations)
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
                    &rule::ASSOCIATION,
                    XdsErrorCode::UnresolvedReferenceException,
                    location,
                    format!("{end} {id} is neither an object of the submission nor a UUID"),
                );
            }
        }
        if association.source == association.target {
            findings.report(
                &rule::ASSOCIATION,
                location,
                "sourceObject and targetObject are the same object",
            );
        }
        match association.association_type {
            AssociationType::HasMember => {
                if association.documentation.is_some() {
                    findings.report(
                        &rule::ASSOCIATION,
                        location,
                        "a HasMember association may not carry a documentation classification",
                    );
                }
                match source {
                    Some(Local::SubmissionSet) => {
                        members.insert(&association.target);
                        match (target, association.submission_set_status) {
                            (Some(Local::DocumentEntry(_)), Some(SubmissionSetStatus::Original)) => {}
                            (Some(Local::DocumentEntry(_)), Some(SubmissionSetStatus::Reference)) => findings.report(&rule::ASSOCIATION,
                                location,
                                "SubmissionSetStatus Reference names a DocumentEntry submitted by value (use Original)",
                            ),
                            (Some(Local::DocumentEntry(_)), None) => {
                                findings.report(&rule::ASSOCIATION, location, "the SubmissionSet-DocumentEntry HasMember needs a SubmissionSetStatus slot")
                            }
                            (None, Some(SubmissionSetStatus::Original)) => findings.report(&rule::ASSOCIATION,
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
                            findings.report(
                                &rule::ASSOCIATION,
                                location,
                                "a Folder HasMember must target a DocumentEntry",
                            );
                        }
                    }
                    Some(Local::DocumentEntry(_) | Local::Association(_)) => findings.report(
                        &rule::ASSOCIATION,
                        location,
                        "a HasMember must start at the SubmissionSet or a Folder",
                    ),
                }
            }
            AssociationType::UpdateAvailabilityStatus if findings.update => {
                check_status_update(findings, location, association, source, target);
            }
            AssociationType::SubmitAssociation if findings.update => {
                // ITI-57 operation 5: the SubmissionSet announces an association of the request.
                if source != Some(Local::SubmissionSet)
                    || !matches!(target, Some(Local::Association(_)))
                {
                    findings.report(
                        &rule::UPDATE,
                        location,
                        "a SubmitAssociation goes from the SubmissionSet to an association of the request",
                    );
                }
                members.insert(&association.target);
            }
            AssociationType::UpdateAvailabilityStatus | AssociationType::SubmitAssociation => {
                findings.report(
                    &rule::ASSOCIATION,
                    location,
                    format!(
                        "{} belongs to Metadata Update (ITI-57), not to ITI-41/42",
                        association.association_type.urn()
                    ),
                )
            }
            kind => {
                // Document relationships: the source is a DocumentEntry of this submission
                // (in ITI-57, also one already in the registry: a submitted association).
                let existing_source =
                    findings.update && source.is_none() && association.source.as_uuid().is_some();
                if !matches!(source, Some(Local::DocumentEntry(_))) && !existing_source {
                    findings.coded(&rule::ASSOCIATION,
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
                    Some(_) if target_must_exist => findings.coded(&rule::ASSOCIATION,
                        XdsErrorCode::UnresolvedReferenceException,
                        location,
                        format!("the targetObject of a {} association must be a DocumentEntry already in the registry", kind.urn()),
                    ),
                    Some(Local::SubmissionSet) if kind == AssociationType::Signs => {}
                    Some(Local::Folder(_) | Local::SubmissionSet | Local::Association(_)) => {
                        findings.report(&rule::ASSOCIATION, location, format!("the targetObject of a {} association must be a DocumentEntry", kind.urn()))
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
                findings.report(
                    &rule::MEMBERSHIP,
                    &format!("DocumentEntry {}", entry.entry_uuid),
                    "the DocumentEntry has no HasMember association from the SubmissionSet",
                );
            }
        }
        for folder in &metadata.folders {
            if !members.contains(&folder.entry_uuid) {
                findings.report(
                    &rule::MEMBERSHIP,
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
                findings.report(&rule::MEMBERSHIP,
                    &format!("Association {}", association.entry_uuid),
                    "a Folder-DocumentEntry HasMember needs a HasMember from the SubmissionSet to it",
                );
            }
        }
    }
}
