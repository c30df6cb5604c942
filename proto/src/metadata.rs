//! Metadata messages <-> model. Reading a message checks every value the model types check (a
//! CX is a CX, a DTM a DTM, an id an id) and reports each problem as a metadata error located at
//! the object and attribute, like the ebRIM transform does; the services then validate the
//! model exactly as they do for SOAP.

use xds::error::{RegistryError, RegistryResponse, ResponseStatus, Severity, XdsErrorCode};
use xds::model::{
    Association, AssociationType, Author, AvailabilityStatus, Code, Cx, DocumentAvailability,
    DocumentEntry, DocumentEntryType, Dtm, Folder, LocalizedString, Metadata, ObjectId, ObjectRef,
    Oid, Sha1Hash, Slot, SubmissionSet, SubmissionSetStatus, UniqueId, Uuid, Xcn, Xon, Xtn,
};

use crate::v1;

/// Collects the problems of one message; `code` is the metadata error code of the receiver
/// (XDSRegistryMetadataError or XDSRepositoryMetadataError).
#[derive(Debug)]
pub struct Reader {
    code: XdsErrorCode,
    errors: Vec<RegistryError>,
}

impl Reader {
    pub fn new(code: XdsErrorCode) -> Self {
        Self {
            code,
            errors: Vec::new(),
        }
    }

    /// Records a problem at `location`.
    pub fn problem(&mut self, location: &str, text: impl Into<String>) {
        self.errors
            .push(RegistryError::error(self.code, text.into()).at(location.to_owned()));
    }

    /// The value read, or every problem found.
    pub fn finish<T>(self, value: T) -> Result<T, Vec<RegistryError>> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(self.errors)
        }
    }

    /// An optional value: empty text is absent; otherwise `parse` must accept it.
    fn optional<T, E: std::fmt::Display>(
        &mut self,
        text: &str,
        parse: impl FnOnce(&str) -> Result<T, E>,
        location: &str,
        attribute: &str,
    ) -> Option<T> {
        if text.is_empty() {
            return None;
        }
        match parse(text) {
            Ok(value) => Some(value),
            Err(error) => {
                self.problem(location, format!("{attribute} {text:?}: {error}"));
                None
            }
        }
    }

    fn list<T, E: std::fmt::Display>(
        &mut self,
        texts: Vec<String>,
        parse: impl Fn(&str) -> Result<T, E>,
        location: &str,
        attribute: &str,
    ) -> Vec<T> {
        texts
            .iter()
            .filter_map(|text| match parse(text) {
                Ok(value) => Some(value),
                Err(error) => {
                    self.problem(location, format!("{attribute} {text:?}: {error}"));
                    None
                }
            })
            .collect()
    }

    fn object_id(&mut self, text: &str, location: &str, attribute: &str) -> Option<ObjectId> {
        if text.is_empty() {
            self.problem(location, format!("{attribute} is missing"));
            return None;
        }
        self.optional(text, ObjectId::parse, location, attribute)
    }

    fn home(&mut self, text: &str, location: &str) -> Option<Oid> {
        self.optional(text, Oid::parse_urn, location, "home (homeCommunityId)")
    }

    fn dtm(&mut self, text: &str, location: &str, attribute: &str) -> Option<Dtm> {
        self.optional(text, Dtm::parse, location, attribute)
    }

    fn cx(&mut self, text: &str, location: &str, attribute: &str) -> Option<Cx> {
        self.optional(text, Cx::parse, location, attribute)
    }

    fn authors(&mut self, authors: Vec<v1::Author>, location: &str) -> Vec<Author> {
        authors
            .into_iter()
            .map(|author| Author {
                person: self.optional(&author.person, Xcn::parse, location, "authorPerson"),
                institutions: self.list(
                    author.institutions,
                    Xon::parse,
                    location,
                    "authorInstitution",
                ),
                roles: author.roles,
                specialties: author.specialties,
                telecommunications: self.list(
                    author.telecommunications,
                    Xtn::parse,
                    location,
                    "authorTelecommunication",
                ),
            })
            .collect()
    }
}

fn text(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

fn localized(strings: Vec<v1::LocalizedString>) -> Vec<LocalizedString> {
    strings
        .into_iter()
        .map(|string| LocalizedString {
            value: string.value,
            lang: text(&string.lang),
            charset: text(&string.charset),
        })
        .collect()
}

fn localized_out(strings: &[LocalizedString]) -> Vec<v1::LocalizedString> {
    strings
        .iter()
        .map(|string| v1::LocalizedString {
            value: string.value.clone(),
            lang: string.lang.clone().unwrap_or_default(),
            charset: string.charset.clone().unwrap_or_default(),
        })
        .collect()
}

fn code(code: v1::Code) -> Code {
    Code {
        code: code.code,
        coding_scheme: code.coding_scheme,
        display_name: localized(code.display_name),
    }
}

fn code_out(code: &Code) -> v1::Code {
    v1::Code {
        code: code.code.clone(),
        coding_scheme: code.coding_scheme.clone(),
        display_name: localized_out(&code.display_name),
    }
}

fn slots(slots: Vec<v1::Slot>) -> Vec<Slot> {
    slots
        .into_iter()
        .map(|slot| Slot {
            name: slot.name,
            values: slot.values,
        })
        .collect()
}

fn slots_out(slots: &[Slot]) -> Vec<v1::Slot> {
    slots
        .iter()
        .map(|slot| v1::Slot {
            name: slot.name.clone(),
            values: slot.values.clone(),
        })
        .collect()
}

fn authors_out(authors: &[Author]) -> Vec<v1::Author> {
    authors
        .iter()
        .map(|author| v1::Author {
            person: author.person.as_ref().map(Xcn::format).unwrap_or_default(),
            institutions: author.institutions.iter().map(Xon::format).collect(),
            roles: author.roles.clone(),
            specialties: author.specialties.clone(),
            telecommunications: author.telecommunications.iter().map(Xtn::format).collect(),
        })
        .collect()
}

/// The model status of a message enum value (None: unspecified).
pub fn status(value: i32) -> Option<AvailabilityStatus> {
    match v1::AvailabilityStatus::try_from(value).ok()? {
        v1::AvailabilityStatus::Unspecified => None,
        v1::AvailabilityStatus::Submitted => Some(AvailabilityStatus::Submitted),
        v1::AvailabilityStatus::Approved => Some(AvailabilityStatus::Approved),
        v1::AvailabilityStatus::Deprecated => Some(AvailabilityStatus::Deprecated),
        v1::AvailabilityStatus::Deleted => Some(AvailabilityStatus::Deleted),
        v1::AvailabilityStatus::Archived => Some(AvailabilityStatus::Archived),
    }
}

/// The message value of a model status (a status outside the vocabulary: unspecified).
pub fn status_out(status: Option<&AvailabilityStatus>) -> i32 {
    let value = match status {
        None | Some(AvailabilityStatus::Other(_)) => v1::AvailabilityStatus::Unspecified,
        Some(AvailabilityStatus::Submitted) => v1::AvailabilityStatus::Submitted,
        Some(AvailabilityStatus::Approved) => v1::AvailabilityStatus::Approved,
        Some(AvailabilityStatus::Deprecated) => v1::AvailabilityStatus::Deprecated,
        Some(AvailabilityStatus::Deleted) => v1::AvailabilityStatus::Deleted,
        Some(AvailabilityStatus::Archived) => v1::AvailabilityStatus::Archived,
    };
    value as i32
}

pub fn document_type(value: i32) -> Option<DocumentEntryType> {
    match v1::DocumentEntryType::try_from(value).ok()? {
        v1::DocumentEntryType::Unspecified => None,
        v1::DocumentEntryType::Stable => Some(DocumentEntryType::Stable),
        v1::DocumentEntryType::OnDemand => Some(DocumentEntryType::OnDemand),
    }
}

pub fn document_type_out(value: Option<DocumentEntryType>) -> i32 {
    (match value {
        None => v1::DocumentEntryType::Unspecified,
        Some(DocumentEntryType::Stable) => v1::DocumentEntryType::Stable,
        Some(DocumentEntryType::OnDemand) => v1::DocumentEntryType::OnDemand,
    }) as i32
}

pub fn availability(value: i32) -> Option<DocumentAvailability> {
    match v1::DocumentAvailability::try_from(value).ok()? {
        v1::DocumentAvailability::Unspecified => None,
        v1::DocumentAvailability::Online => Some(DocumentAvailability::Online),
        v1::DocumentAvailability::Offline => Some(DocumentAvailability::Offline),
    }
}

fn availability_out(value: Option<DocumentAvailability>) -> i32 {
    (match value {
        None => v1::DocumentAvailability::Unspecified,
        Some(DocumentAvailability::Online) => v1::DocumentAvailability::Online,
        Some(DocumentAvailability::Offline) => v1::DocumentAvailability::Offline,
    }) as i32
}

const ASSOCIATION_TYPES: [(v1::AssociationType, AssociationType); 9] = [
    (v1::AssociationType::HasMember, AssociationType::HasMember),
    (v1::AssociationType::Replace, AssociationType::Replace),
    (v1::AssociationType::Transform, AssociationType::Transform),
    (v1::AssociationType::Append, AssociationType::Append),
    (
        v1::AssociationType::TransformAndReplace,
        AssociationType::TransformAndReplace,
    ),
    (v1::AssociationType::Signs, AssociationType::Signs),
    (
        v1::AssociationType::IsSnapshotOf,
        AssociationType::IsSnapshotOf,
    ),
    (
        v1::AssociationType::UpdateAvailabilityStatus,
        AssociationType::UpdateAvailabilityStatus,
    ),
    (
        v1::AssociationType::SubmitAssociation,
        AssociationType::SubmitAssociation,
    ),
];

pub fn association_type(value: i32) -> Option<AssociationType> {
    ASSOCIATION_TYPES
        .iter()
        .find(|(message, _)| *message as i32 == value)
        .map(|(_, model)| *model)
}

pub fn association_type_out(value: AssociationType) -> i32 {
    ASSOCIATION_TYPES
        .iter()
        .find(|(_, model)| *model == value)
        .map_or(0, |(message, _)| *message as i32)
}

fn document_entry(entry: v1::DocumentEntry, reader: &mut Reader) -> Option<DocumentEntry> {
    let location = format!("DocumentEntry {}", entry.entry_uuid);
    let location = location.as_str();
    let id = reader.object_id(&entry.entry_uuid, location, "entryUUID");
    let hash = reader.optional(
        &entry.hash,
        |text| Sha1Hash::parse_hex(text).ok_or("not 40 hexadecimal digits"),
        location,
        "hash",
    );
    let parsed = DocumentEntry {
        entry_uuid: id.clone()?,
        logical_id: reader.optional(&entry.logical_id, ObjectId::parse, location, "logicalID"),
        version: text(&entry.version),
        home: reader.home(&entry.home, location),
        object_type: document_type(entry.object_type).or(Some(DocumentEntryType::Stable)),
        availability_status: status(entry.availability_status),
        mime_type: text(&entry.mime_type),
        title: localized(entry.title),
        comments: localized(entry.comments),
        authors: reader.authors(entry.authors, location),
        class_code: entry.class_code.map(code),
        confidentiality_codes: entry.confidentiality_codes.into_iter().map(code).collect(),
        event_codes: entry.event_codes.into_iter().map(code).collect(),
        format_code: entry.format_code.map(code),
        healthcare_facility_type_code: entry.healthcare_facility_type_code.map(code),
        practice_setting_code: entry.practice_setting_code.map(code),
        type_code: entry.type_code.map(code),
        creation_time: reader.dtm(&entry.creation_time, location, "creationTime"),
        service_start_time: reader.dtm(&entry.service_start_time, location, "serviceStartTime"),
        service_stop_time: reader.dtm(&entry.service_stop_time, location, "serviceStopTime"),
        hash,
        size: entry.size,
        language_code: text(&entry.language_code),
        legal_authenticator: reader.optional(
            &entry.legal_authenticator,
            Xcn::parse,
            location,
            "legalAuthenticator",
        ),
        patient_id: reader.cx(&entry.patient_id, location, "patientId"),
        source_patient_id: reader.cx(&entry.source_patient_id, location, "sourcePatientId"),
        source_patient_info: entry.source_patient_info,
        reference_ids: reader.list(entry.reference_ids, Cx::parse, location, "referenceIdList"),
        repository_unique_id: reader.optional(
            &entry.repository_unique_id,
            Oid::parse,
            location,
            "repositoryUniqueId",
        ),
        unique_id: reader.optional(&entry.unique_id, UniqueId::parse, location, "uniqueId"),
        uri: text(&entry.uri),
        document_availability: availability(entry.document_availability),
        limited_metadata: entry.limited_metadata,
        extra_slots: slots(entry.extra_slots),
    };
    Some(parsed)
}

fn document_entry_out(entry: &DocumentEntry) -> v1::DocumentEntry {
    let dtm = |value: &Option<Dtm>| value.as_ref().map(|dtm| dtm.as_str().to_owned());
    v1::DocumentEntry {
        entry_uuid: entry.entry_uuid.to_string(),
        logical_id: entry
            .logical_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        version: entry.version.clone().unwrap_or_default(),
        home: entry.home.as_ref().map(Oid::to_urn).unwrap_or_default(),
        object_type: document_type_out(entry.object_type),
        availability_status: status_out(entry.availability_status.as_ref()),
        mime_type: entry.mime_type.clone().unwrap_or_default(),
        title: localized_out(&entry.title),
        comments: localized_out(&entry.comments),
        authors: authors_out(&entry.authors),
        class_code: entry.class_code.as_ref().map(code_out),
        confidentiality_codes: entry.confidentiality_codes.iter().map(code_out).collect(),
        event_codes: entry.event_codes.iter().map(code_out).collect(),
        format_code: entry.format_code.as_ref().map(code_out),
        healthcare_facility_type_code: entry.healthcare_facility_type_code.as_ref().map(code_out),
        practice_setting_code: entry.practice_setting_code.as_ref().map(code_out),
        type_code: entry.type_code.as_ref().map(code_out),
        creation_time: dtm(&entry.creation_time).unwrap_or_default(),
        service_start_time: dtm(&entry.service_start_time).unwrap_or_default(),
        service_stop_time: dtm(&entry.service_stop_time).unwrap_or_default(),
        hash: entry.hash.map(|hash| hash.to_hex()).unwrap_or_default(),
        size: entry.size,
        language_code: entry.language_code.clone().unwrap_or_default(),
        legal_authenticator: entry
            .legal_authenticator
            .as_ref()
            .map(Xcn::format)
            .unwrap_or_default(),
        patient_id: entry
            .patient_id
            .as_ref()
            .map(Cx::format)
            .unwrap_or_default(),
        source_patient_id: entry
            .source_patient_id
            .as_ref()
            .map(Cx::format)
            .unwrap_or_default(),
        source_patient_info: entry.source_patient_info.clone(),
        reference_ids: entry.reference_ids.iter().map(Cx::format).collect(),
        repository_unique_id: entry
            .repository_unique_id
            .as_ref()
            .map(|oid| oid.as_str().to_owned())
            .unwrap_or_default(),
        unique_id: entry
            .unique_id
            .as_ref()
            .map(|id| id.as_str().to_owned())
            .unwrap_or_default(),
        uri: entry.uri.clone().unwrap_or_default(),
        document_availability: availability_out(entry.document_availability),
        limited_metadata: entry.limited_metadata,
        extra_slots: slots_out(&entry.extra_slots),
    }
}

fn submission_set(set: v1::SubmissionSet, reader: &mut Reader) -> Option<SubmissionSet> {
    let location = format!("SubmissionSet {}", set.entry_uuid);
    let location = location.as_str();
    let id = reader.object_id(&set.entry_uuid, location, "entryUUID");
    let parsed = SubmissionSet {
        entry_uuid: id.clone()?,
        home: reader.home(&set.home, location),
        availability_status: status(set.availability_status),
        title: localized(set.title),
        comments: localized(set.comments),
        authors: reader.authors(set.authors, location),
        content_type_code: set.content_type_code.map(code),
        intended_recipients: set.intended_recipients,
        patient_id: reader.cx(&set.patient_id, location, "patientId"),
        source_id: reader.optional(&set.source_id, Oid::parse, location, "sourceId"),
        submission_time: reader.dtm(&set.submission_time, location, "submissionTime"),
        unique_id: reader.optional(&set.unique_id, Oid::parse, location, "uniqueId"),
        limited_metadata: set.limited_metadata,
        extra_slots: slots(set.extra_slots),
    };
    Some(parsed)
}

fn submission_set_out(set: &SubmissionSet) -> v1::SubmissionSet {
    v1::SubmissionSet {
        entry_uuid: set.entry_uuid.to_string(),
        home: set.home.as_ref().map(Oid::to_urn).unwrap_or_default(),
        availability_status: status_out(set.availability_status.as_ref()),
        title: localized_out(&set.title),
        comments: localized_out(&set.comments),
        authors: authors_out(&set.authors),
        content_type_code: set.content_type_code.as_ref().map(code_out),
        intended_recipients: set.intended_recipients.clone(),
        patient_id: set.patient_id.as_ref().map(Cx::format).unwrap_or_default(),
        source_id: set
            .source_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        submission_time: set
            .submission_time
            .as_ref()
            .map(|dtm| dtm.as_str().to_owned())
            .unwrap_or_default(),
        unique_id: set
            .unique_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        limited_metadata: set.limited_metadata,
        extra_slots: slots_out(&set.extra_slots),
    }
}

fn folder(folder: v1::Folder, reader: &mut Reader) -> Option<Folder> {
    let location = format!("Folder {}", folder.entry_uuid);
    let location = location.as_str();
    let id = reader.object_id(&folder.entry_uuid, location, "entryUUID");
    let parsed = Folder {
        entry_uuid: id.clone()?,
        logical_id: reader.optional(&folder.logical_id, ObjectId::parse, location, "logicalID"),
        version: text(&folder.version),
        home: reader.home(&folder.home, location),
        availability_status: status(folder.availability_status),
        title: localized(folder.title),
        comments: localized(folder.comments),
        codes: folder.codes.into_iter().map(code).collect(),
        last_update_time: reader.dtm(&folder.last_update_time, location, "lastUpdateTime"),
        patient_id: reader.cx(&folder.patient_id, location, "patientId"),
        unique_id: reader.optional(&folder.unique_id, Oid::parse, location, "uniqueId"),
        limited_metadata: folder.limited_metadata,
        extra_slots: slots(folder.extra_slots),
    };
    Some(parsed)
}

fn folder_out(folder: &Folder) -> v1::Folder {
    v1::Folder {
        entry_uuid: folder.entry_uuid.to_string(),
        logical_id: folder
            .logical_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        version: folder.version.clone().unwrap_or_default(),
        home: folder.home.as_ref().map(Oid::to_urn).unwrap_or_default(),
        availability_status: status_out(folder.availability_status.as_ref()),
        title: localized_out(&folder.title),
        comments: localized_out(&folder.comments),
        codes: folder.codes.iter().map(code_out).collect(),
        last_update_time: folder
            .last_update_time
            .as_ref()
            .map(|dtm| dtm.as_str().to_owned())
            .unwrap_or_default(),
        patient_id: folder
            .patient_id
            .as_ref()
            .map(Cx::format)
            .unwrap_or_default(),
        unique_id: folder
            .unique_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        limited_metadata: folder.limited_metadata,
        extra_slots: slots_out(&folder.extra_slots),
    }
}

fn association(association: v1::Association, reader: &mut Reader) -> Option<Association> {
    let location = format!("Association {}", association.entry_uuid);
    let location = location.as_str();
    let id = reader.object_id(&association.entry_uuid, location, "entryUUID");
    let source = reader.object_id(&association.source, location, "sourceObject");
    let target = reader.object_id(&association.target, location, "targetObject");
    let kind = association_type(association.association_type);
    if kind.is_none() {
        reader.problem(location, "associationType is missing or unknown");
    }
    let submission_set_status =
        match v1::SubmissionSetStatus::try_from(association.submission_set_status) {
            Ok(v1::SubmissionSetStatus::Original) => Some(SubmissionSetStatus::Original),
            Ok(v1::SubmissionSetStatus::Reference) => Some(SubmissionSetStatus::Reference),
            _ => None,
        };
    Some(Association {
        entry_uuid: id?,
        association_type: kind?,
        source: source?,
        target: target?,
        home: reader.home(&association.home, location),
        availability_status: status(association.availability_status),
        submission_set_status,
        previous_version: text(&association.previous_version),
        original_status: status(association.original_status),
        new_status: status(association.new_status),
        association_propagation: association.association_propagation,
        documentation: association.documentation.map(code),
        extra_slots: slots(association.extra_slots),
    })
}

fn association_out(association: &Association) -> v1::Association {
    v1::Association {
        entry_uuid: association.entry_uuid.to_string(),
        association_type: association_type_out(association.association_type),
        source: association.source.to_string(),
        target: association.target.to_string(),
        home: association
            .home
            .as_ref()
            .map(Oid::to_urn)
            .unwrap_or_default(),
        availability_status: status_out(association.availability_status.as_ref()),
        submission_set_status: (match association.submission_set_status {
            None => v1::SubmissionSetStatus::Unspecified,
            Some(SubmissionSetStatus::Original) => v1::SubmissionSetStatus::Original,
            Some(SubmissionSetStatus::Reference) => v1::SubmissionSetStatus::Reference,
        }) as i32,
        previous_version: association.previous_version.clone().unwrap_or_default(),
        original_status: status_out(association.original_status.as_ref()),
        new_status: status_out(association.new_status.as_ref()),
        association_propagation: association.association_propagation,
        documentation: association.documentation.as_ref().map(code_out),
        extra_slots: slots_out(&association.extra_slots),
    }
}

/// Reads a Metadata message; `code` is the receiver's metadata error code.
pub fn metadata_from_proto(
    metadata: v1::Metadata,
    code: XdsErrorCode,
) -> Result<Metadata, Vec<RegistryError>> {
    let mut reader = Reader::new(code);
    let mut out = Metadata::default();
    for set in metadata.submission_sets {
        out.submission_sets.extend(submission_set(set, &mut reader));
    }
    for entry in metadata.document_entries {
        out.document_entries
            .extend(document_entry(entry, &mut reader));
    }
    for item in metadata.folders {
        out.folders.extend(folder(item, &mut reader));
    }
    for item in metadata.associations {
        out.associations.extend(association(item, &mut reader));
    }
    for object_ref in metadata.object_refs {
        let location = format!("ObjectRef {}", object_ref.id);
        let id = reader.optional(&object_ref.id, Uuid::parse_urn, &location, "id");
        let home = reader.home(&object_ref.home, &location);
        match id {
            Some(id) => out.object_refs.push(ObjectRef { id, home }),
            None if object_ref.id.is_empty() => reader.problem(&location, "id is missing"),
            None => {}
        }
    }
    reader.finish(out)
}

/// Writes the model as a Metadata message.
pub fn metadata_to_proto(metadata: &Metadata) -> v1::Metadata {
    v1::Metadata {
        submission_sets: metadata
            .submission_sets
            .iter()
            .map(submission_set_out)
            .collect(),
        document_entries: metadata
            .document_entries
            .iter()
            .map(document_entry_out)
            .collect(),
        folders: metadata.folders.iter().map(folder_out).collect(),
        associations: metadata.associations.iter().map(association_out).collect(),
        object_refs: metadata
            .object_refs
            .iter()
            .map(|object_ref| v1::ObjectRef {
                id: object_ref.id.to_string(),
                home: object_ref
                    .home
                    .as_ref()
                    .map(Oid::to_urn)
                    .unwrap_or_default(),
            })
            .collect(),
    }
}

/// One error as a message.
pub fn error_to_proto(error: &RegistryError) -> v1::RegistryError {
    v1::RegistryError {
        error_code: error.code.as_str().to_owned(),
        code_context: error.code_context.clone(),
        severity: match error.severity {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
        }
        .to_owned(),
        location: error.location.clone().unwrap_or_default(),
    }
}

/// A message's error in the model (an unknown code reads as XDSRegistryError).
pub fn error_from_proto(error: &v1::RegistryError) -> RegistryError {
    let code = XdsErrorCode::from_spec(&error.error_code).unwrap_or(XdsErrorCode::RegistryError);
    let mut out = if error.severity == "Warning" {
        RegistryError::warning(code, error.code_context.clone())
    } else {
        RegistryError::error(code, error.code_context.clone())
    };
    if !error.location.is_empty() {
        out = out.at(error.location.clone());
    }
    out
}

pub fn response_to_proto(response: &RegistryResponse) -> v1::RegistryResponse {
    v1::RegistryResponse {
        status: (match response.status {
            ResponseStatus::Success => v1::ResponseStatus::Success,
            ResponseStatus::PartialSuccess => v1::ResponseStatus::PartialSuccess,
            ResponseStatus::Failure => v1::ResponseStatus::Failure,
        }) as i32,
        errors: response.errors.iter().map(error_to_proto).collect(),
    }
}

pub fn response_from_proto(response: &v1::RegistryResponse) -> RegistryResponse {
    RegistryResponse {
        status: match v1::ResponseStatus::try_from(response.status) {
            Ok(v1::ResponseStatus::Success) => ResponseStatus::Success,
            Ok(v1::ResponseStatus::PartialSuccess) => ResponseStatus::PartialSuccess,
            _ => ResponseStatus::Failure,
        },
        errors: response.errors.iter().map(error_from_proto).collect(),
        request_id: None,
    }
}

/// ITI-62's object references, read by the same rules as a RemoveObjectsRequest.
pub fn remove_from_proto(
    object_refs: Vec<String>,
    code: XdsErrorCode,
) -> Result<xds::model::RemoveMetadata, Vec<RegistryError>> {
    let request = xds::wire::RemoveObjectsRequest {
        header: xds::wire::RequestHeader::default(),
        deletion_scope: None,
        query: None,
        object_refs: Some(
            object_refs
                .into_iter()
                .map(|id| xds::wire::ObjectRef {
                    id: Some(id),
                    ..xds::wire::ObjectRef::default()
                })
                .collect(),
        ),
    };
    let options = xds::transform::Options {
        metadata_error: code,
    };
    xds::transform::remove_metadata_from_wire(&request, options).map_err(|violations| {
        violations
            .iter()
            .map(xds::transform::Violation::to_registry_error)
            .collect()
    })
}
