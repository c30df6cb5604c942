//! RegistryObjectList <-> [`Metadata`]: DocumentEntries, SubmissionSets, Folders, Associations
//! and ObjectRefs, with every attribute of TF-3 4.2.3 in both directions.

use std::collections::{HashMap, HashSet};

use super::{Options, Violation};
use crate::error::XdsErrorCode;
use crate::model::vocabulary as vocab;
use crate::model::*;
use crate::wire;

/// Collects violations with the configured metadata error code.
struct Collector {
    code: XdsErrorCode,
    violations: Vec<Violation>,
}

impl Collector {
    fn add(&mut self, location: &str, message: impl Into<String>) {
        self.violations
            .push(Violation::new(self.code, location, message));
    }
}

/// Human name of a classification or identification scheme, for messages.
fn scheme_name(scheme: &str) -> &str {
    match scheme {
        vocab::DE_AUTHOR | vocab::SS_AUTHOR => "author",
        vocab::DE_CLASS_CODE => "classCode",
        vocab::DE_CONFIDENTIALITY_CODE => "confidentialityCode",
        vocab::DE_EVENT_CODE => "eventCodeList",
        vocab::DE_FORMAT_CODE => "formatCode",
        vocab::DE_HEALTHCARE_FACILITY_TYPE_CODE => "healthcareFacilityTypeCode",
        vocab::DE_PRACTICE_SETTING_CODE => "practiceSettingCode",
        vocab::DE_TYPE_CODE => "typeCode",
        vocab::SS_CONTENT_TYPE_CODE => "contentTypeCode",
        vocab::FOLDER_CODE_LIST => "codeList",
        vocab::DE_PATIENT_ID | vocab::SS_PATIENT_ID | vocab::FOLDER_PATIENT_ID => "patientId",
        vocab::DE_UNIQUE_ID | vocab::SS_UNIQUE_ID | vocab::FOLDER_UNIQUE_ID => "uniqueId",
        vocab::SS_SOURCE_ID => "sourceId",
        vocab::ASSOCIATION_DOCUMENTATION => "documentation",
        other => other,
    }
}

/// Reads the slots of one object: known slots by name, the rest kept as extra slots.
struct Slots<'a> {
    slots: &'a [wire::Slot],
    used: Vec<bool>,
    location: String,
}

/// ebRIM `LongName`: the limit of Slot values and ExternalIdentifier values.
const LONG_NAME: usize = 256;
/// ebRIM `FreeFormText`: the limit of LocalizedString values.
const FREE_FORM_TEXT: usize = 1024;

impl<'a> Slots<'a> {
    fn new(slots: &'a [wire::Slot], location: &str, collector: &mut Collector) -> Self {
        for slot in slots {
            match &slot.name {
                None => collector.add(location, "rim:Slot without a name"),
                Some(name) => {
                    for value in &slot.values {
                        if value.chars().count() > LONG_NAME {
                            collector.add(
                                &format!("{location} / slot {name}"),
                                format!("slot value longer than {LONG_NAME} characters"),
                            );
                        }
                    }
                }
            }
        }
        Self {
            slots,
            used: vec![false; slots.len()],
            location: location.to_owned(),
        }
    }

    fn matching(&mut self, name: &str) -> Vec<&'a wire::Slot> {
        let mut out = Vec::new();
        for (index, slot) in self.slots.iter().enumerate() {
            if slot.name.as_deref() == Some(name) {
                self.used[index] = true;
                out.push(slot);
            }
        }
        out
    }

    /// A single-valued slot: at most one slot with exactly one value.
    fn single(&mut self, name: &str, collector: &mut Collector) -> Option<&'a str> {
        let matching = self.matching(name);
        let location = format!("{} / slot {name}", self.location);
        match matching.as_slice() {
            [] => None,
            [slot] => match slot.values.as_slice() {
                [value] => Some(value.as_str()),
                [] => {
                    collector.add(&location, format!("slot {name} has no value"));
                    None
                }
                values => {
                    collector.add(
                        &location,
                        format!("slot {name} takes one value, got {}", values.len()),
                    );
                    None
                }
            },
            several => {
                collector.add(
                    &location,
                    format!("slot {name} appears {} times", several.len()),
                );
                None
            }
        }
    }

    /// A multi-valued slot: the values of every slot with this name.
    fn multi(&mut self, name: &str, collector: &mut Collector) -> Vec<&'a str> {
        let matching = self.matching(name);
        if matching.len() > 1 {
            collector.add(
                &format!("{} / slot {name}", self.location),
                format!("slot {name} appears {} times", matching.len()),
            );
        }
        matching
            .iter()
            .flat_map(|slot| slot.values.iter().map(String::as_str))
            .collect()
    }

    /// Slots nobody asked for: extra metadata.
    fn rest(self) -> Vec<Slot> {
        self.slots
            .iter()
            .zip(self.used)
            .filter(|(_, used)| !used)
            .filter_map(|(slot, _)| {
                slot.name.as_ref().map(|name| Slot {
                    name: name.clone(),
                    values: slot.values.clone(),
                })
            })
            .collect()
    }
}

fn localized(
    strings: &Option<Vec<wire::LocalizedString>>,
    location: &str,
    collector: &mut Collector,
) -> InternationalString {
    let Some(strings) = strings else {
        return Vec::new();
    };
    strings
        .iter()
        .filter_map(|string| match &string.value {
            Some(value) => {
                if value.chars().count() > FREE_FORM_TEXT {
                    collector.add(
                        location,
                        format!("LocalizedString value longer than {FREE_FORM_TEXT} characters"),
                    );
                }
                Some(LocalizedString {
                    value: value.clone(),
                    lang: string.lang.clone(),
                    charset: string.charset.clone(),
                })
            }
            None => {
                collector.add(location, "rim:LocalizedString without a value");
                None
            }
        })
        .collect()
}

fn parse_with<T, E: std::fmt::Display>(
    value: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, E>,
    location: &str,
    what: &str,
    collector: &mut Collector,
) -> Option<T> {
    let value = value?;
    match parse(value) {
        Ok(parsed) => Some(parsed),
        Err(error) => {
            collector.add(location, format!("{what}: {error}"));
            None
        }
    }
}

fn required_id(id: &Option<String>, location: &str, collector: &mut Collector) -> Option<ObjectId> {
    match id.as_deref() {
        None => {
            collector.add(location, "the id attribute is missing");
            None
        }
        Some(raw) => parse_with(Some(raw), ObjectId::parse, location, "id", collector),
    }
}

fn optional_object_id(
    value: &Option<String>,
    location: &str,
    what: &str,
    collector: &mut Collector,
) -> Option<ObjectId> {
    parse_with(value.as_deref(), ObjectId::parse, location, what, collector)
}

fn home(value: &Option<String>, location: &str, collector: &mut Collector) -> Option<Oid> {
    parse_with(
        value.as_deref(),
        Oid::parse_urn,
        location,
        "homeCommunityId (home)",
        collector,
    )
}

fn status(value: &Option<String>) -> Option<AvailabilityStatus> {
    value
        .as_deref()
        .map(|urn| AvailabilityStatus::from_urn(urn.trim()))
}

fn dtm(value: Option<&str>, location: &str, name: &str, collector: &mut Collector) -> Option<Dtm> {
    parse_with(value.map(str::trim), Dtm::parse, location, name, collector)
}

fn code_from(
    classification: &wire::Classification,
    location: &str,
    collector: &mut Collector,
) -> Option<Code> {
    let code = classification
        .node_representation
        .clone()
        .unwrap_or_default();
    let mut ok = true;
    if code.is_empty() {
        collector.add(
            location,
            "code classification without nodeRepresentation (the code)",
        );
        ok = false;
    }
    let schemes: Vec<&wire::Slot> = classification
        .object
        .slots
        .iter()
        .filter(|slot| slot.name.as_deref() == Some(vocab::SLOT_CODING_SCHEME))
        .collect();
    let coding_scheme = match schemes.as_slice() {
        [slot] if slot.values.len() == 1 => slot.values[0].clone(),
        [] => {
            collector.add(location, format!("code {code:?} has no codingScheme slot"));
            ok = false;
            String::new()
        }
        _ => {
            collector.add(
                location,
                format!("code {code:?} must have exactly one codingScheme slot with one value"),
            );
            ok = false;
            String::new()
        }
    };
    let display_name = localized(&classification.object.name, location, collector);
    ok.then_some(Code {
        code,
        coding_scheme,
        display_name,
    })
}

fn author_from(
    classification: &wire::Classification,
    location: &str,
    collector: &mut Collector,
) -> Author {
    let mut slots = Slots::new(&classification.object.slots, location, collector);
    let person = parse_with(
        slots.single(vocab::SLOT_AUTHOR_PERSON, collector),
        Xcn::parse,
        location,
        "authorPerson",
        collector,
    );
    let institutions = slots
        .multi(vocab::SLOT_AUTHOR_INSTITUTION, collector)
        .into_iter()
        .filter_map(|value| {
            parse_with(
                Some(value),
                Xon::parse,
                location,
                "authorInstitution",
                collector,
            )
        })
        .collect();
    let roles = slots
        .multi(vocab::SLOT_AUTHOR_ROLE, collector)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let specialties = slots
        .multi(vocab::SLOT_AUTHOR_SPECIALTY, collector)
        .into_iter()
        .map(str::to_owned)
        .collect();
    let telecommunications = slots
        .multi(vocab::SLOT_AUTHOR_TELECOMMUNICATION, collector)
        .into_iter()
        .filter_map(|value| {
            parse_with(
                Some(value),
                Xtn::parse,
                location,
                "authorTelecommunication",
                collector,
            )
        })
        .collect();
    Author {
        person,
        institutions,
        roles,
        specialties,
        telecommunications,
    }
}

/// The classifications and external identifiers of one object: nested ones plus siblings in the
/// RegistryObjectList that point at it.
struct Children<'a> {
    classifications: Vec<&'a wire::Classification>,
    external_identifiers: Vec<&'a wire::ExternalIdentifier>,
}

fn children<'a>(
    object: &'a wire::RegistryObject,
    siblings: &Siblings<'a>,
    location: &str,
    collector: &mut Collector,
) -> Children<'a> {
    let mut classifications: Vec<&wire::Classification> = object.classifications.iter().collect();
    let mut external_identifiers: Vec<&wire::ExternalIdentifier> =
        object.external_identifiers.iter().collect();
    if let Some(id) = &object.id {
        if let Some(found) = siblings.classifications.get(id.as_str()) {
            classifications.extend(found.iter().copied());
        }
        if let Some(found) = siblings.external_identifiers.get(id.as_str()) {
            external_identifiers.extend(found.iter().copied());
        }
        for classification in &object.classifications {
            if let Some(target) = &classification.classified_object
                && target != id
            {
                collector.add(
                    location,
                    format!("nested Classification classifies {target:?}, not its parent {id:?}"),
                );
            }
        }
        for identifier in &object.external_identifiers {
            if let Some(target) = &identifier.registry_object
                && target != id
            {
                collector.add(location, format!("nested ExternalIdentifier names registryObject {target:?}, not its parent {id:?}"));
            }
        }
    }
    Children {
        classifications,
        external_identifiers,
    }
}

/// Top-level Classifications and ExternalIdentifiers, by the object they point at.
#[derive(Default)]
struct Siblings<'a> {
    classifications: HashMap<&'a str, Vec<&'a wire::Classification>>,
    external_identifiers: HashMap<&'a str, Vec<&'a wire::ExternalIdentifier>>,
}

fn external_identifier<'a>(
    identifiers: &[&'a wire::ExternalIdentifier],
    scheme: &str,
    location: &str,
    collector: &mut Collector,
) -> Option<&'a str> {
    let matching: Vec<&&wire::ExternalIdentifier> = identifiers
        .iter()
        .filter(|identifier| identifier.identification_scheme.as_deref() == Some(scheme))
        .collect();
    match matching.as_slice() {
        [] => None,
        [identifier] => match identifier.value.as_deref() {
            Some(value) => {
                if value.chars().count() > LONG_NAME {
                    collector.add(
                        location,
                        format!(
                            "{} value longer than {LONG_NAME} characters",
                            scheme_name(scheme)
                        ),
                    );
                }
                Some(value)
            }
            None => {
                collector.add(
                    location,
                    format!("{} ExternalIdentifier has no value", scheme_name(scheme)),
                );
                None
            }
        },
        several => {
            collector.add(
                location,
                format!("{} is given {} times", scheme_name(scheme), several.len()),
            );
            None
        }
    }
}

fn check_known_identifiers(
    identifiers: &[&wire::ExternalIdentifier],
    known: &[&str],
    location: &str,
    collector: &mut Collector,
) {
    for identifier in identifiers {
        match identifier.identification_scheme.as_deref() {
            Some(scheme) if known.contains(&scheme) => {}
            Some(scheme) => collector.add(
                location,
                format!("unknown ExternalIdentifier identificationScheme {scheme:?}"),
            ),
            None => collector.add(location, "ExternalIdentifier without identificationScheme"),
        }
    }
}

/// Reads a single-valued coded attribute.
fn single_code(
    classifications: &[&wire::Classification],
    scheme: &str,
    location: &str,
    collector: &mut Collector,
) -> Option<Code> {
    let matching: Vec<&&wire::Classification> = classifications
        .iter()
        .filter(|classification| classification.classification_scheme.as_deref() == Some(scheme))
        .collect();
    let location = format!("{location} / {}", scheme_name(scheme));
    match matching.as_slice() {
        [] => None,
        [classification] => code_from(classification, &location, collector),
        several => {
            collector.add(
                &location,
                format!(
                    "{} takes one code, got {}",
                    scheme_name(scheme),
                    several.len()
                ),
            );
            None
        }
    }
}

fn multi_code(
    classifications: &[&wire::Classification],
    scheme: &str,
    location: &str,
    collector: &mut Collector,
) -> Vec<Code> {
    let location = format!("{location} / {}", scheme_name(scheme));
    classifications
        .iter()
        .filter(|classification| classification.classification_scheme.as_deref() == Some(scheme))
        .filter_map(|classification| code_from(classification, &location, collector))
        .collect()
}

fn authors(
    classifications: &[&wire::Classification],
    scheme: &str,
    location: &str,
    collector: &mut Collector,
) -> Vec<Author> {
    let location = format!("{location} / author");
    classifications
        .iter()
        .filter(|classification| classification.classification_scheme.as_deref() == Some(scheme))
        .map(|classification| author_from(classification, &location, collector))
        .collect()
}

fn has_node(classifications: &[&wire::Classification], node: &str) -> bool {
    classifications
        .iter()
        .any(|classification| classification.classification_node.as_deref() == Some(node))
}

fn check_known_classifications(
    classifications: &[&wire::Classification],
    schemes: &[&str],
    nodes: &[&str],
    location: &str,
    collector: &mut Collector,
) {
    for classification in classifications {
        match (
            classification.classification_scheme.as_deref(),
            classification.classification_node.as_deref(),
        ) {
            (Some(scheme), _) if schemes.contains(&scheme) => {}
            (None, Some(node)) if nodes.contains(&node) => {}
            (Some(scheme), _) => {
                collector.add(location, format!("unknown classificationScheme {scheme:?}"))
            }
            (None, Some(node)) => {
                collector.add(location, format!("unknown classificationNode {node:?}"))
            }
            (None, None) => collector.add(
                location,
                "Classification with neither classificationScheme nor classificationNode",
            ),
        }
    }
}

fn document_entry_from(
    extrinsic: &wire::ExtrinsicObject,
    siblings: &Siblings<'_>,
    collector: &mut Collector,
) -> Option<DocumentEntry> {
    let object = &extrinsic.object;
    let location = format!(
        "ExtrinsicObject {}",
        object.id.as_deref().unwrap_or("(no id)")
    );
    let before = collector.violations.len();
    let entry_uuid = required_id(&object.id, &location, collector);
    let mut entry = DocumentEntry::new(ObjectId::Symbolic(String::new()));
    entry.logical_id = optional_object_id(&object.lid, &location, "lid", collector);
    entry.version = object
        .version_info
        .as_ref()
        .and_then(|info| info.version_name.clone());
    entry.home = home(&object.home, &location, collector);
    entry.object_type = match object.object_type.as_deref() {
        None => None,
        Some(urn) => match DocumentEntryType::from_urn(urn.trim()) {
            Some(kind) => Some(kind),
            None => {
                collector.add(&location, format!("objectType {urn:?} is neither the Stable nor the On-Demand DocumentEntry type"));
                None
            }
        },
    };
    entry.availability_status = status(&object.status);
    entry.mime_type = extrinsic.mime_type.clone();
    entry.title = localized(&object.name, &format!("{location} / title"), collector);
    entry.comments = localized(
        &object.description,
        &format!("{location} / comments"),
        collector,
    );

    let mut slots = Slots::new(&object.slots, &location, collector);
    entry.creation_time = dtm(
        slots.single(vocab::SLOT_CREATION_TIME, collector),
        &location,
        "creationTime",
        collector,
    );
    entry.service_start_time = dtm(
        slots.single(vocab::SLOT_SERVICE_START_TIME, collector),
        &location,
        "serviceStartTime",
        collector,
    );
    entry.service_stop_time = dtm(
        slots.single(vocab::SLOT_SERVICE_STOP_TIME, collector),
        &location,
        "serviceStopTime",
        collector,
    );
    entry.hash = parse_with(
        slots.single(vocab::SLOT_HASH, collector),
        |value| Sha1Hash::parse_hex(value.trim()).ok_or("not 40 hexadecimal digits"),
        &location,
        "hash",
        collector,
    );
    entry.size = parse_with(
        slots.single(vocab::SLOT_SIZE, collector),
        |value| {
            value
                .trim()
                .parse::<u64>()
                .map_err(|_| "not a non-negative integer")
        },
        &location,
        "size",
        collector,
    );
    entry.language_code = parse_with(
        slots.single(vocab::SLOT_LANGUAGE_CODE, collector),
        |value| {
            let value = value.trim();
            if !value.is_empty()
                && value
                    .chars()
                    .all(|character| character.is_ascii_alphanumeric() || character == '-')
            {
                Ok(value.to_owned())
            } else {
                Err("not an RFC 5646 language tag")
            }
        },
        &location,
        "languageCode",
        collector,
    );
    entry.legal_authenticator = parse_with(
        slots.single(vocab::SLOT_LEGAL_AUTHENTICATOR, collector),
        Xcn::parse,
        &location,
        "legalAuthenticator",
        collector,
    );
    entry.source_patient_id = parse_with(
        slots.single(vocab::SLOT_SOURCE_PATIENT_ID, collector),
        Cx::parse,
        &location,
        "sourcePatientId",
        collector,
    );
    entry.source_patient_info = slots
        .multi(vocab::SLOT_SOURCE_PATIENT_INFO, collector)
        .into_iter()
        .map(str::to_owned)
        .collect();
    entry.reference_ids = slots
        .multi(vocab::SLOT_REFERENCE_ID_LIST, collector)
        .into_iter()
        .filter_map(|value| {
            parse_with(
                Some(value),
                Cx::parse,
                &location,
                "referenceIdList",
                collector,
            )
        })
        .collect();
    entry.repository_unique_id = parse_with(
        slots
            .single(vocab::SLOT_REPOSITORY_UNIQUE_ID, collector)
            .map(str::trim),
        Oid::parse,
        &location,
        "repositoryUniqueId",
        collector,
    );
    entry.uri = slots.single(vocab::SLOT_URI, collector).map(str::to_owned);
    entry.document_availability = parse_with(
        slots.single(vocab::SLOT_DOCUMENT_AVAILABILITY, collector),
        |value| DocumentAvailability::from_urn(value.trim()).ok_or("not Online or Offline"),
        &location,
        "documentAvailability",
        collector,
    );
    entry.extra_slots = slots.rest();

    let children = children(object, siblings, &location, collector);
    let classifications = &children.classifications;
    check_known_classifications(
        classifications,
        &[
            vocab::DE_AUTHOR,
            vocab::DE_CLASS_CODE,
            vocab::DE_CONFIDENTIALITY_CODE,
            vocab::DE_EVENT_CODE,
            vocab::DE_FORMAT_CODE,
            vocab::DE_HEALTHCARE_FACILITY_TYPE_CODE,
            vocab::DE_PRACTICE_SETTING_CODE,
            vocab::DE_TYPE_CODE,
        ],
        &[vocab::DOCUMENT_ENTRY_LIMITED_METADATA],
        &location,
        collector,
    );
    entry.authors = authors(classifications, vocab::DE_AUTHOR, &location, collector);
    entry.class_code = single_code(classifications, vocab::DE_CLASS_CODE, &location, collector);
    entry.confidentiality_codes = multi_code(
        classifications,
        vocab::DE_CONFIDENTIALITY_CODE,
        &location,
        collector,
    );
    entry.event_codes = multi_code(classifications, vocab::DE_EVENT_CODE, &location, collector);
    entry.format_code = single_code(classifications, vocab::DE_FORMAT_CODE, &location, collector);
    entry.healthcare_facility_type_code = single_code(
        classifications,
        vocab::DE_HEALTHCARE_FACILITY_TYPE_CODE,
        &location,
        collector,
    );
    entry.practice_setting_code = single_code(
        classifications,
        vocab::DE_PRACTICE_SETTING_CODE,
        &location,
        collector,
    );
    entry.type_code = single_code(classifications, vocab::DE_TYPE_CODE, &location, collector);
    entry.limited_metadata = has_node(classifications, vocab::DOCUMENT_ENTRY_LIMITED_METADATA);

    let identifiers = &children.external_identifiers;
    check_known_identifiers(
        identifiers,
        &[vocab::DE_PATIENT_ID, vocab::DE_UNIQUE_ID],
        &location,
        collector,
    );
    entry.patient_id = parse_with(
        external_identifier(identifiers, vocab::DE_PATIENT_ID, &location, collector),
        Cx::parse,
        &location,
        "patientId",
        collector,
    );
    entry.unique_id = parse_with(
        external_identifier(identifiers, vocab::DE_UNIQUE_ID, &location, collector),
        UniqueId::parse,
        &location,
        "uniqueId",
        collector,
    );
    let entry_uuid = entry_uuid?;
    if collector.violations.len() > before {
        return None;
    }
    entry.entry_uuid = entry_uuid;
    Some(entry)
}

enum PackageKind {
    SubmissionSet,
    Folder,
}

fn package_from(
    package: &wire::RegistryPackage,
    siblings: &Siblings<'_>,
    metadata: &mut Metadata,
    collector: &mut Collector,
) {
    let object = &package.object;
    let before = collector.violations.len();
    let mut location = format!(
        "RegistryPackage {}",
        object.id.as_deref().unwrap_or("(no id)")
    );
    let children = children(object, siblings, &location, collector);
    let is_submission_set = has_node(&children.classifications, vocab::SUBMISSION_SET_NODE);
    let is_folder = has_node(&children.classifications, vocab::FOLDER_NODE);
    let kind = match (is_submission_set, is_folder) {
        (true, false) => PackageKind::SubmissionSet,
        (false, true) => PackageKind::Folder,
        (true, true) => {
            collector.add(
                &location,
                "RegistryPackage is classified both as SubmissionSet and as Folder",
            );
            return;
        }
        (false, false) => {
            collector.add(
                &location,
                "RegistryPackage is classified neither as SubmissionSet nor as Folder",
            );
            return;
        }
    };
    let entry_uuid = required_id(&object.id, &location, collector);
    let object_home = home(&object.home, &location, collector);
    match kind {
        PackageKind::SubmissionSet => {
            location = format!(
                "SubmissionSet {}",
                object.id.as_deref().unwrap_or("(no id)")
            );
            let mut set = SubmissionSet::new(ObjectId::Symbolic(String::new()));
            set.home = object_home;
            set.availability_status = status(&object.status);
            set.title = localized(&object.name, &format!("{location} / title"), collector);
            set.comments = localized(
                &object.description,
                &format!("{location} / comments"),
                collector,
            );
            let mut slots = Slots::new(&object.slots, &location, collector);
            set.submission_time = dtm(
                slots.single(vocab::SLOT_SUBMISSION_TIME, collector),
                &location,
                "submissionTime",
                collector,
            );
            set.intended_recipients = slots
                .multi(vocab::SLOT_INTENDED_RECIPIENT, collector)
                .into_iter()
                .map(str::to_owned)
                .collect();
            set.extra_slots = slots.rest();
            let classifications = &children.classifications;
            check_known_classifications(
                classifications,
                &[vocab::SS_AUTHOR, vocab::SS_CONTENT_TYPE_CODE],
                &[
                    vocab::SUBMISSION_SET_NODE,
                    vocab::SUBMISSION_SET_LIMITED_METADATA,
                ],
                &location,
                collector,
            );
            set.authors = authors(classifications, vocab::SS_AUTHOR, &location, collector);
            set.content_type_code = single_code(
                classifications,
                vocab::SS_CONTENT_TYPE_CODE,
                &location,
                collector,
            );
            set.limited_metadata =
                has_node(classifications, vocab::SUBMISSION_SET_LIMITED_METADATA);
            let identifiers = &children.external_identifiers;
            check_known_identifiers(
                identifiers,
                &[
                    vocab::SS_PATIENT_ID,
                    vocab::SS_SOURCE_ID,
                    vocab::SS_UNIQUE_ID,
                ],
                &location,
                collector,
            );
            set.patient_id = parse_with(
                external_identifier(identifiers, vocab::SS_PATIENT_ID, &location, collector),
                Cx::parse,
                &location,
                "patientId",
                collector,
            );
            set.source_id = parse_with(
                external_identifier(identifiers, vocab::SS_SOURCE_ID, &location, collector)
                    .map(str::trim),
                Oid::parse,
                &location,
                "sourceId",
                collector,
            );
            set.unique_id = parse_with(
                external_identifier(identifiers, vocab::SS_UNIQUE_ID, &location, collector)
                    .map(str::trim),
                Oid::parse,
                &location,
                "uniqueId",
                collector,
            );
            if let (Some(entry_uuid), true) = (entry_uuid, collector.violations.len() == before) {
                set.entry_uuid = entry_uuid;
                metadata.submission_sets.push(set);
            }
        }
        PackageKind::Folder => {
            location = format!("Folder {}", object.id.as_deref().unwrap_or("(no id)"));
            let mut folder = Folder::new(ObjectId::Symbolic(String::new()));
            folder.home = object_home;
            folder.logical_id = optional_object_id(&object.lid, &location, "lid", collector);
            folder.version = object
                .version_info
                .as_ref()
                .and_then(|info| info.version_name.clone());
            folder.availability_status = status(&object.status);
            folder.title = localized(&object.name, &format!("{location} / title"), collector);
            folder.comments = localized(
                &object.description,
                &format!("{location} / comments"),
                collector,
            );
            let mut slots = Slots::new(&object.slots, &location, collector);
            folder.last_update_time = dtm(
                slots.single(vocab::SLOT_LAST_UPDATE_TIME, collector),
                &location,
                "lastUpdateTime",
                collector,
            );
            folder.extra_slots = slots.rest();
            let classifications = &children.classifications;
            check_known_classifications(
                classifications,
                &[vocab::FOLDER_CODE_LIST],
                &[vocab::FOLDER_NODE, vocab::FOLDER_LIMITED_METADATA],
                &location,
                collector,
            );
            folder.codes = multi_code(
                classifications,
                vocab::FOLDER_CODE_LIST,
                &location,
                collector,
            );
            folder.limited_metadata = has_node(classifications, vocab::FOLDER_LIMITED_METADATA);
            let identifiers = &children.external_identifiers;
            check_known_identifiers(
                identifiers,
                &[vocab::FOLDER_PATIENT_ID, vocab::FOLDER_UNIQUE_ID],
                &location,
                collector,
            );
            folder.patient_id = parse_with(
                external_identifier(identifiers, vocab::FOLDER_PATIENT_ID, &location, collector),
                Cx::parse,
                &location,
                "patientId",
                collector,
            );
            folder.unique_id = parse_with(
                external_identifier(identifiers, vocab::FOLDER_UNIQUE_ID, &location, collector)
                    .map(str::trim),
                Oid::parse,
                &location,
                "uniqueId",
                collector,
            );
            if let (Some(entry_uuid), true) = (entry_uuid, collector.violations.len() == before) {
                folder.entry_uuid = entry_uuid;
                metadata.folders.push(folder);
            }
        }
    }
}

fn association_from(
    association: &wire::Association,
    index: usize,
    siblings: &Siblings<'_>,
    collector: &mut Collector,
) -> Option<Association> {
    let object = &association.object;
    let location = format!("Association {}", object.id.as_deref().unwrap_or("(no id)"));
    let before = collector.violations.len();
    // TF-3 allows senders to omit association ids (xds-spec-brief.md §10.7): give them a
    // symbolic one that the registry replaces with a UUID like any other.
    let entry_uuid = match &object.id {
        Some(_) => required_id(&object.id, &location, collector),
        None => Some(ObjectId::Symbolic(format!("urn:x-xds:association:{index}"))),
    };
    let association_type = match association.association_type.as_deref() {
        None => {
            collector.add(&location, "associationType is missing");
            None
        }
        Some(urn) => {
            let found = AssociationType::from_urn(urn.trim());
            if found.is_none() {
                collector.add(&location, format!("unknown associationType {urn:?}"));
            }
            found
        }
    };
    let source = match &association.source_object {
        None => {
            collector.add(&location, "sourceObject is missing");
            None
        }
        Some(value) => parse_with(
            Some(value.as_str()),
            ObjectId::parse,
            &location,
            "sourceObject",
            collector,
        ),
    };
    let target = match &association.target_object {
        None => {
            collector.add(&location, "targetObject is missing");
            None
        }
        Some(value) => parse_with(
            Some(value.as_str()),
            ObjectId::parse,
            &location,
            "targetObject",
            collector,
        ),
    };
    let mut slots = Slots::new(&object.slots, &location, collector);
    let submission_set_status = parse_with(
        slots.single(vocab::SLOT_SUBMISSION_SET_STATUS, collector),
        |value| SubmissionSetStatus::parse(value.trim()).ok_or("must be Original or Reference"),
        &location,
        "SubmissionSetStatus",
        collector,
    );
    let previous_version = slots
        .single(vocab::SLOT_PREVIOUS_VERSION, collector)
        .map(|value| value.trim().to_owned());
    let original_status = slots
        .single(vocab::SLOT_ORIGINAL_STATUS, collector)
        .map(|value| AvailabilityStatus::from_urn(value.trim()));
    let new_status = slots
        .single(vocab::SLOT_NEW_STATUS, collector)
        .map(|value| AvailabilityStatus::from_urn(value.trim()));
    let association_propagation = parse_with(
        slots.single(vocab::SLOT_ASSOCIATION_PROPAGATION, collector),
        |value| match value.trim() {
            "yes" => Ok(true),
            "no" => Ok(false),
            _ => Err("must be yes or no"),
        },
        &location,
        "AssociationPropagation",
        collector,
    );
    let extra_slots = slots.rest();
    let children = children(object, siblings, &location, collector);
    check_known_classifications(
        &children.classifications,
        &[vocab::ASSOCIATION_DOCUMENTATION],
        &[],
        &location,
        collector,
    );
    let documentation = single_code(
        &children.classifications,
        vocab::ASSOCIATION_DOCUMENTATION,
        &location,
        collector,
    );
    if !children.external_identifiers.is_empty() {
        collector.add(&location, "Associations carry no ExternalIdentifiers");
    }
    let home = home(&object.home, &location, collector);
    if collector.violations.len() > before {
        return None;
    }
    Some(Association {
        entry_uuid: entry_uuid?,
        association_type: association_type?,
        source: source?,
        target: target?,
        home,
        availability_status: status(&object.status),
        submission_set_status,
        previous_version,
        original_status,
        new_status,
        association_propagation,
        documentation,
        extra_slots,
    })
}

/// Reads a RegistryObjectList into the model, reporting every violation found.
pub fn metadata_from_wire(
    objects: &[wire::Identifiable],
    options: Options,
) -> Result<Metadata, Vec<Violation>> {
    let mut collector = Collector {
        code: options.metadata_error,
        violations: Vec::new(),
    };
    let mut siblings = Siblings::default();
    let mut ids: HashSet<&str> = HashSet::new();
    for object in objects {
        match object {
            wire::Identifiable::ExtrinsicObject(extrinsic) => {
                if let Some(id) = &extrinsic.object.id {
                    ids.insert(id);
                }
            }
            wire::Identifiable::RegistryPackage(package) => {
                if let Some(id) = &package.object.id {
                    ids.insert(id);
                }
            }
            wire::Identifiable::Association(association) => {
                if let Some(id) = &association.object.id {
                    ids.insert(id);
                }
            }
            wire::Identifiable::Classification(classification) => {
                match &classification.classified_object {
                    Some(target) => siblings
                        .classifications
                        .entry(target.as_str())
                        .or_default()
                        .push(classification),
                    None => collector.add(
                        &format!(
                            "Classification {}",
                            classification.object.id.as_deref().unwrap_or("(no id)")
                        ),
                        "classifiedObject is missing",
                    ),
                }
            }
            wire::Identifiable::ExternalIdentifier(identifier) => match &identifier.registry_object
            {
                Some(target) => siblings
                    .external_identifiers
                    .entry(target.as_str())
                    .or_default()
                    .push(identifier),
                None => collector.add(
                    &format!(
                        "ExternalIdentifier {}",
                        identifier.object.id.as_deref().unwrap_or("(no id)")
                    ),
                    "registryObject is missing",
                ),
            },
            wire::Identifiable::ObjectRef(_) => {}
        }
    }
    for (target, classifications) in &siblings.classifications {
        if !ids.contains(target) {
            for classification in classifications {
                collector.add(
                    &format!(
                        "Classification {}",
                        classification.object.id.as_deref().unwrap_or("(no id)")
                    ),
                    format!("classifies {target:?}, which is not an object of this message"),
                );
            }
        }
    }
    for (target, identifiers) in &siblings.external_identifiers {
        if !ids.contains(target) {
            for identifier in identifiers {
                collector.add(
                    &format!(
                        "ExternalIdentifier {}",
                        identifier.object.id.as_deref().unwrap_or("(no id)")
                    ),
                    format!(
                        "names registryObject {target:?}, which is not an object of this message"
                    ),
                );
            }
        }
    }
    let mut metadata = Metadata::default();
    for (index, object) in objects.iter().enumerate() {
        match object {
            wire::Identifiable::ExtrinsicObject(extrinsic) => {
                if let Some(entry) = document_entry_from(extrinsic, &siblings, &mut collector) {
                    metadata.document_entries.push(entry);
                }
            }
            wire::Identifiable::RegistryPackage(package) => {
                package_from(package, &siblings, &mut metadata, &mut collector)
            }
            wire::Identifiable::Association(association) => {
                if let Some(association) =
                    association_from(association, index, &siblings, &mut collector)
                {
                    metadata.associations.push(association);
                }
            }
            wire::Identifiable::ObjectRef(object_ref) => {
                let location = format!(
                    "ObjectRef {}",
                    object_ref.id.as_deref().unwrap_or("(no id)")
                );
                let id = object_ref
                    .id
                    .as_deref()
                    .map(Uuid::parse_urn)
                    .unwrap_or_else(|| Err(IdError::Empty));
                match id {
                    Ok(id) => {
                        let home = home(&object_ref.home, &location, &mut collector);
                        metadata.object_refs.push(ObjectRef { id, home });
                    }
                    Err(error) => collector.add(&location, format!("ObjectRef id: {error}")),
                }
            }
            wire::Identifiable::Classification(_) | wire::Identifiable::ExternalIdentifier(_) => {}
        }
    }
    if collector.violations.is_empty() {
        Ok(metadata)
    } else {
        Err(collector.violations)
    }
}

// ---------------------------------------------------------------------------------------------
// Model -> wire.

/// The id of the `ordinal`-th Classification or ExternalIdentifier of `parent`. For a UUID
/// parent it is a UUID derived from the parent's bytes, stable across renderings; for a symbolic
/// parent, a symbolic id.
pub fn child_id(parent: &ObjectId, ordinal: u32) -> String {
    match parent {
        ObjectId::Uuid(uuid) => {
            let mut bytes = *uuid.as_bytes();
            let first = splitmix64(u64::from(ordinal) ^ 0x5844_535f_6368_6c64);
            let second = splitmix64(first);
            for (index, byte) in bytes.iter_mut().enumerate() {
                let key = if index < 8 {
                    first.to_le_bytes()[index]
                } else {
                    second.to_le_bytes()[index - 8]
                };
                *byte ^= key;
            }
            Uuid::new_v4(bytes).to_urn()
        }
        ObjectId::Symbolic(symbol) => format!("{symbol}.{ordinal}"),
    }
}

fn splitmix64(seed: u64) -> u64 {
    let mut value = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    value = (value ^ (value >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    value = (value ^ (value >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    value ^ (value >> 31)
}

fn wire_slot(name: &str, values: Vec<String>) -> wire::Slot {
    wire::Slot::new(name, values)
}

fn wire_strings(strings: &InternationalString) -> Option<Vec<wire::LocalizedString>> {
    if strings.is_empty() {
        return None;
    }
    Some(
        strings
            .iter()
            .map(|string| wire::LocalizedString {
                value: Some(string.value.clone()),
                lang: string.lang.clone(),
                charset: string.charset.clone(),
            })
            .collect(),
    )
}

/// Builds child Classifications/ExternalIdentifiers with derived ids.
struct ChildBuilder<'a> {
    parent: &'a ObjectId,
    parent_id: String,
    ordinal: u32,
}

impl<'a> ChildBuilder<'a> {
    fn new(parent: &'a ObjectId) -> Self {
        Self {
            parent,
            parent_id: parent.to_string(),
            ordinal: 0,
        }
    }

    fn next_id(&mut self) -> String {
        self.ordinal += 1;
        child_id(self.parent, self.ordinal)
    }

    fn classification(
        &mut self,
        scheme: Option<&str>,
        node: Option<&str>,
        node_representation: Option<String>,
    ) -> wire::Classification {
        wire::Classification {
            object: wire::RegistryObject {
                id: Some(self.next_id()),
                object_type: Some(vocab::OBJECT_TYPE_CLASSIFICATION.to_owned()),
                ..wire::RegistryObject::default()
            },
            classified_object: Some(self.parent_id.clone()),
            classification_scheme: scheme.map(str::to_owned),
            classification_node: node.map(str::to_owned),
            node_representation,
        }
    }

    fn code(&mut self, scheme: &str, code: &Code) -> wire::Classification {
        let mut classification = self.classification(Some(scheme), None, Some(code.code.clone()));
        classification.object.slots.push(wire_slot(
            vocab::SLOT_CODING_SCHEME,
            vec![code.coding_scheme.clone()],
        ));
        classification.object.name = wire_strings(&code.display_name);
        classification
    }

    fn author(&mut self, scheme: &str, author: &Author) -> wire::Classification {
        let mut classification = self.classification(Some(scheme), None, Some(String::new()));
        let slots = &mut classification.object.slots;
        if let Some(person) = &author.person {
            slots.push(wire_slot(vocab::SLOT_AUTHOR_PERSON, vec![person.format()]));
        }
        if !author.institutions.is_empty() {
            slots.push(wire_slot(
                vocab::SLOT_AUTHOR_INSTITUTION,
                author.institutions.iter().map(Xon::format).collect(),
            ));
        }
        if !author.roles.is_empty() {
            slots.push(wire_slot(vocab::SLOT_AUTHOR_ROLE, author.roles.clone()));
        }
        if !author.specialties.is_empty() {
            slots.push(wire_slot(
                vocab::SLOT_AUTHOR_SPECIALTY,
                author.specialties.clone(),
            ));
        }
        if !author.telecommunications.is_empty() {
            slots.push(wire_slot(
                vocab::SLOT_AUTHOR_TELECOMMUNICATION,
                author.telecommunications.iter().map(Xtn::format).collect(),
            ));
        }
        classification
    }

    fn identifier(&mut self, scheme: &str, name: &str, value: String) -> wire::ExternalIdentifier {
        wire::ExternalIdentifier {
            object: wire::RegistryObject {
                id: Some(self.next_id()),
                object_type: Some(vocab::OBJECT_TYPE_EXTERNAL_IDENTIFIER.to_owned()),
                name: Some(vec![wire::LocalizedString {
                    value: Some(name.to_owned()),
                    lang: None,
                    charset: None,
                }]),
                ..wire::RegistryObject::default()
            },
            registry_object: Some(self.parent_id.clone()),
            identification_scheme: Some(scheme.to_owned()),
            value: Some(value),
        }
    }
}

fn extra_slots(slots: &[Slot]) -> impl Iterator<Item = wire::Slot> + '_ {
    slots
        .iter()
        .map(|slot| wire_slot(&slot.name, slot.values.clone()))
}

fn version_info(version: &Option<String>) -> Option<wire::VersionInfo> {
    version.as_ref().map(|name| wire::VersionInfo {
        version_name: Some(name.clone()),
        comment: None,
    })
}

fn document_entry_to_wire(entry: &DocumentEntry) -> wire::ExtrinsicObject {
    let mut slots = Vec::new();
    let mut single = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            slots.push(wire_slot(name, vec![value]));
        }
    };
    single(
        vocab::SLOT_CREATION_TIME,
        entry
            .creation_time
            .as_ref()
            .map(|time| time.as_str().to_owned()),
    );
    single(vocab::SLOT_HASH, entry.hash.map(|hash| hash.to_hex()));
    single(vocab::SLOT_LANGUAGE_CODE, entry.language_code.clone());
    single(
        vocab::SLOT_LEGAL_AUTHENTICATOR,
        entry.legal_authenticator.as_ref().map(Xcn::format),
    );
    single(
        vocab::SLOT_REPOSITORY_UNIQUE_ID,
        entry
            .repository_unique_id
            .as_ref()
            .map(|oid| oid.as_str().to_owned()),
    );
    single(
        vocab::SLOT_SERVICE_START_TIME,
        entry
            .service_start_time
            .as_ref()
            .map(|time| time.as_str().to_owned()),
    );
    single(
        vocab::SLOT_SERVICE_STOP_TIME,
        entry
            .service_stop_time
            .as_ref()
            .map(|time| time.as_str().to_owned()),
    );
    single(vocab::SLOT_SIZE, entry.size.map(|size| size.to_string()));
    single(
        vocab::SLOT_SOURCE_PATIENT_ID,
        entry.source_patient_id.as_ref().map(Cx::format),
    );
    single(vocab::SLOT_URI, entry.uri.clone());
    single(
        vocab::SLOT_DOCUMENT_AVAILABILITY,
        entry
            .document_availability
            .map(|availability| availability.urn().to_owned()),
    );
    if !entry.source_patient_info.is_empty() {
        slots.push(wire_slot(
            vocab::SLOT_SOURCE_PATIENT_INFO,
            entry.source_patient_info.clone(),
        ));
    }
    if !entry.reference_ids.is_empty() {
        slots.push(wire_slot(
            vocab::SLOT_REFERENCE_ID_LIST,
            entry.reference_ids.iter().map(Cx::format).collect(),
        ));
    }
    slots.extend(extra_slots(&entry.extra_slots));

    let mut builder = ChildBuilder::new(&entry.entry_uuid);
    let mut classifications = Vec::new();
    for author in &entry.authors {
        classifications.push(builder.author(vocab::DE_AUTHOR, author));
    }
    let codes: [(&str, Vec<&Code>); 7] = [
        (vocab::DE_CLASS_CODE, entry.class_code.iter().collect()),
        (
            vocab::DE_CONFIDENTIALITY_CODE,
            entry.confidentiality_codes.iter().collect(),
        ),
        (vocab::DE_EVENT_CODE, entry.event_codes.iter().collect()),
        (vocab::DE_FORMAT_CODE, entry.format_code.iter().collect()),
        (
            vocab::DE_HEALTHCARE_FACILITY_TYPE_CODE,
            entry.healthcare_facility_type_code.iter().collect(),
        ),
        (
            vocab::DE_PRACTICE_SETTING_CODE,
            entry.practice_setting_code.iter().collect(),
        ),
        (vocab::DE_TYPE_CODE, entry.type_code.iter().collect()),
    ];
    for (scheme, values) in codes {
        for code in values {
            classifications.push(builder.code(scheme, code));
        }
    }
    if entry.limited_metadata {
        classifications.push(builder.classification(
            None,
            Some(vocab::DOCUMENT_ENTRY_LIMITED_METADATA),
            None,
        ));
    }
    let mut external_identifiers = Vec::new();
    if let Some(patient_id) = &entry.patient_id {
        external_identifiers.push(builder.identifier(
            vocab::DE_PATIENT_ID,
            vocab::DE_PATIENT_ID_NAME,
            patient_id.format(),
        ));
    }
    if let Some(unique_id) = &entry.unique_id {
        external_identifiers.push(builder.identifier(
            vocab::DE_UNIQUE_ID,
            vocab::DE_UNIQUE_ID_NAME,
            unique_id.as_str().to_owned(),
        ));
    }
    wire::ExtrinsicObject {
        object: wire::RegistryObject {
            id: Some(entry.entry_uuid.to_string()),
            home: entry.home.as_ref().map(Oid::to_urn),
            lid: entry.logical_id.as_ref().map(ToString::to_string),
            object_type: entry.object_type.map(|kind| kind.urn().to_owned()),
            status: entry
                .availability_status
                .as_ref()
                .map(|status| status.urn().to_owned()),
            slots,
            name: wire_strings(&entry.title),
            description: wire_strings(&entry.comments),
            version_info: version_info(&entry.version),
            classifications,
            external_identifiers,
        },
        mime_type: entry.mime_type.clone(),
        is_opaque: None,
        content_version_info: None,
    }
}

fn submission_set_to_wire(set: &SubmissionSet) -> wire::RegistryPackage {
    let mut slots = Vec::new();
    if let Some(time) = &set.submission_time {
        slots.push(wire_slot(
            vocab::SLOT_SUBMISSION_TIME,
            vec![time.as_str().to_owned()],
        ));
    }
    if !set.intended_recipients.is_empty() {
        slots.push(wire_slot(
            vocab::SLOT_INTENDED_RECIPIENT,
            set.intended_recipients.clone(),
        ));
    }
    slots.extend(extra_slots(&set.extra_slots));
    let mut builder = ChildBuilder::new(&set.entry_uuid);
    let mut classifications =
        vec![builder.classification(None, Some(vocab::SUBMISSION_SET_NODE), None)];
    for author in &set.authors {
        classifications.push(builder.author(vocab::SS_AUTHOR, author));
    }
    if let Some(code) = &set.content_type_code {
        classifications.push(builder.code(vocab::SS_CONTENT_TYPE_CODE, code));
    }
    if set.limited_metadata {
        classifications.push(builder.classification(
            None,
            Some(vocab::SUBMISSION_SET_LIMITED_METADATA),
            None,
        ));
    }
    let mut external_identifiers = Vec::new();
    if let Some(unique_id) = &set.unique_id {
        external_identifiers.push(builder.identifier(
            vocab::SS_UNIQUE_ID,
            vocab::SS_UNIQUE_ID_NAME,
            unique_id.as_str().to_owned(),
        ));
    }
    if let Some(source_id) = &set.source_id {
        external_identifiers.push(builder.identifier(
            vocab::SS_SOURCE_ID,
            vocab::SS_SOURCE_ID_NAME,
            source_id.as_str().to_owned(),
        ));
    }
    if let Some(patient_id) = &set.patient_id {
        external_identifiers.push(builder.identifier(
            vocab::SS_PATIENT_ID,
            vocab::SS_PATIENT_ID_NAME,
            patient_id.format(),
        ));
    }
    wire::RegistryPackage {
        object: wire::RegistryObject {
            id: Some(set.entry_uuid.to_string()),
            home: set.home.as_ref().map(Oid::to_urn),
            lid: None,
            object_type: Some(vocab::OBJECT_TYPE_REGISTRY_PACKAGE.to_owned()),
            status: set
                .availability_status
                .as_ref()
                .map(|status| status.urn().to_owned()),
            slots,
            name: wire_strings(&set.title),
            description: wire_strings(&set.comments),
            version_info: None,
            classifications,
            external_identifiers,
        },
    }
}

fn folder_to_wire(folder: &Folder) -> wire::RegistryPackage {
    let mut slots = Vec::new();
    if let Some(time) = &folder.last_update_time {
        slots.push(wire_slot(
            vocab::SLOT_LAST_UPDATE_TIME,
            vec![time.as_str().to_owned()],
        ));
    }
    slots.extend(extra_slots(&folder.extra_slots));
    let mut builder = ChildBuilder::new(&folder.entry_uuid);
    let mut classifications = vec![builder.classification(None, Some(vocab::FOLDER_NODE), None)];
    for code in &folder.codes {
        classifications.push(builder.code(vocab::FOLDER_CODE_LIST, code));
    }
    if folder.limited_metadata {
        classifications.push(builder.classification(
            None,
            Some(vocab::FOLDER_LIMITED_METADATA),
            None,
        ));
    }
    let mut external_identifiers = Vec::new();
    if let Some(patient_id) = &folder.patient_id {
        external_identifiers.push(builder.identifier(
            vocab::FOLDER_PATIENT_ID,
            vocab::FOLDER_PATIENT_ID_NAME,
            patient_id.format(),
        ));
    }
    if let Some(unique_id) = &folder.unique_id {
        external_identifiers.push(builder.identifier(
            vocab::FOLDER_UNIQUE_ID,
            vocab::FOLDER_UNIQUE_ID_NAME,
            unique_id.as_str().to_owned(),
        ));
    }
    wire::RegistryPackage {
        object: wire::RegistryObject {
            id: Some(folder.entry_uuid.to_string()),
            home: folder.home.as_ref().map(Oid::to_urn),
            lid: folder.logical_id.as_ref().map(ToString::to_string),
            object_type: Some(vocab::OBJECT_TYPE_REGISTRY_PACKAGE.to_owned()),
            status: folder
                .availability_status
                .as_ref()
                .map(|status| status.urn().to_owned()),
            slots,
            name: wire_strings(&folder.title),
            description: wire_strings(&folder.comments),
            version_info: version_info(&folder.version),
            classifications,
            external_identifiers,
        },
    }
}

fn association_to_wire(association: &Association) -> wire::Association {
    let mut slots = Vec::new();
    if let Some(status) = association.submission_set_status {
        slots.push(wire_slot(
            vocab::SLOT_SUBMISSION_SET_STATUS,
            vec![status.as_str().to_owned()],
        ));
    }
    if let Some(version) = &association.previous_version {
        slots.push(wire_slot(
            vocab::SLOT_PREVIOUS_VERSION,
            vec![version.clone()],
        ));
    }
    if let Some(status) = &association.original_status {
        slots.push(wire_slot(
            vocab::SLOT_ORIGINAL_STATUS,
            vec![status.urn().to_owned()],
        ));
    }
    if let Some(status) = &association.new_status {
        slots.push(wire_slot(
            vocab::SLOT_NEW_STATUS,
            vec![status.urn().to_owned()],
        ));
    }
    if let Some(propagation) = association.association_propagation {
        slots.push(wire_slot(
            vocab::SLOT_ASSOCIATION_PROPAGATION,
            vec![if propagation { "yes" } else { "no" }.to_owned()],
        ));
    }
    slots.extend(extra_slots(&association.extra_slots));
    let mut builder = ChildBuilder::new(&association.entry_uuid);
    let classifications = association
        .documentation
        .iter()
        .map(|code| builder.code(vocab::ASSOCIATION_DOCUMENTATION, code))
        .collect();
    wire::Association {
        object: wire::RegistryObject {
            id: Some(association.entry_uuid.to_string()),
            home: association.home.as_ref().map(Oid::to_urn),
            lid: None,
            object_type: Some(vocab::OBJECT_TYPE_ASSOCIATION.to_owned()),
            status: association
                .availability_status
                .as_ref()
                .map(|status| status.urn().to_owned()),
            slots,
            name: None,
            description: None,
            version_info: None,
            classifications,
            external_identifiers: Vec::new(),
        },
        association_type: Some(association.association_type.urn().to_owned()),
        source_object: Some(association.source.to_string()),
        target_object: Some(association.target.to_string()),
    }
}

/// Writes the model as a RegistryObjectList: SubmissionSets, DocumentEntries, Folders,
/// Associations, then ObjectRefs.
pub fn metadata_to_wire(metadata: &Metadata) -> Vec<wire::Identifiable> {
    let mut objects = Vec::with_capacity(metadata.object_count() + metadata.object_refs.len());
    objects.extend(
        metadata
            .submission_sets
            .iter()
            .map(|set| wire::Identifiable::RegistryPackage(submission_set_to_wire(set))),
    );
    objects.extend(
        metadata
            .document_entries
            .iter()
            .map(|entry| wire::Identifiable::ExtrinsicObject(document_entry_to_wire(entry))),
    );
    objects.extend(
        metadata
            .folders
            .iter()
            .map(|folder| wire::Identifiable::RegistryPackage(folder_to_wire(folder))),
    );
    objects.extend(
        metadata
            .associations
            .iter()
            .map(|association| wire::Identifiable::Association(association_to_wire(association))),
    );
    objects.extend(metadata.object_refs.iter().map(|object_ref| {
        wire::Identifiable::ObjectRef(wire::ObjectRef {
            id: Some(object_ref.id.to_urn()),
            home: object_ref.home.as_ref().map(Oid::to_urn),
            create_replica: None,
            slots: Vec::new(),
        })
    }));
    objects
}
