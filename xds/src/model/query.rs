//! ITI-18 stored queries as typed requests: the 14 queries of TF-2 3.18.4.1.2.4, every
//! parameter, and the value grammar of 3.18.4.1.2.3.7 (quoted strings, lists, AND-of-OR).
//!
//! [`StoredQueryRequest::from_parameters`] turns the raw `rim:Slot`s of an AdhocQuery into a
//! typed query and reports every problem at once with the stored-query error codes;
//! [`StoredQueryRequest::to_parameters`] writes them back in the normative form.

use std::fmt;

use super::hl7::{Cx, Dtm};
use super::ids::Uuid;
use super::metadata::{
    AssociationType, AvailabilityStatus, DocumentAvailability, DocumentEntryType,
};
use crate::error::{RegistryError, XdsErrorCode};

/// The stored queries a registry must answer, with their ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StoredQueryId {
    FindDocuments,
    FindDocumentsByReferenceId,
    FindSubmissionSets,
    FindFolders,
    GetAll,
    GetDocuments,
    GetFolders,
    GetAssociations,
    GetDocumentsAndAssociations,
    GetSubmissionSets,
    GetSubmissionSetAndContents,
    GetFolderAndContents,
    GetFoldersForDocument,
    GetRelatedDocuments,
}

impl StoredQueryId {
    pub const ALL: [StoredQueryId; 14] = [
        Self::FindDocuments,
        Self::FindDocumentsByReferenceId,
        Self::FindSubmissionSets,
        Self::FindFolders,
        Self::GetAll,
        Self::GetDocuments,
        Self::GetFolders,
        Self::GetAssociations,
        Self::GetDocumentsAndAssociations,
        Self::GetSubmissionSets,
        Self::GetSubmissionSetAndContents,
        Self::GetFolderAndContents,
        Self::GetFoldersForDocument,
        Self::GetRelatedDocuments,
    ];

    pub const fn urn(self) -> &'static str {
        match self {
            Self::FindDocuments => "urn:uuid:14d4debf-8f97-4251-9a74-a90016b0af0d",
            Self::FindDocumentsByReferenceId => "urn:uuid:12941a89-e02e-4be5-967c-ce4bfc8fe492",
            Self::FindSubmissionSets => "urn:uuid:f26abbcb-ac74-4422-8a30-edb644bbc1a9",
            Self::FindFolders => "urn:uuid:958f3006-baad-4929-a4de-ff1114824431",
            Self::GetAll => "urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3",
            Self::GetDocuments => "urn:uuid:5c4f972b-d56b-40ac-a5fc-c8ca9b40b9d4",
            Self::GetFolders => "urn:uuid:5737b14c-8a1a-4539-b659-e03a34a5e1e4",
            Self::GetAssociations => "urn:uuid:a7ae438b-4bc2-4642-93e9-be891f7bb155",
            Self::GetDocumentsAndAssociations => "urn:uuid:bab9529a-4a10-40b3-a01f-f68a615d247a",
            Self::GetSubmissionSets => "urn:uuid:51224314-5390-4169-9b91-b1980040715a",
            Self::GetSubmissionSetAndContents => "urn:uuid:e8e3cb2c-e39c-46b9-99e4-c12f57260b83",
            Self::GetFolderAndContents => "urn:uuid:b909a503-523d-4517-8acf-8e5834dfc4c7",
            Self::GetFoldersForDocument => "urn:uuid:10cae35a-c7f9-4cf5-b61e-fc3278ffb578",
            Self::GetRelatedDocuments => "urn:uuid:d90e5407-b356-4d91-a89f-873917b4b0e6",
        }
    }

    /// Query ids compare case-insensitively (they are UUID URNs).
    pub fn from_urn(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|candidate| candidate.urn().eq_ignore_ascii_case(value.trim()))
    }

    pub const fn name(self) -> &'static str {
        match self {
            Self::FindDocuments => "FindDocuments",
            Self::FindDocumentsByReferenceId => "FindDocumentsByReferenceId",
            Self::FindSubmissionSets => "FindSubmissionSets",
            Self::FindFolders => "FindFolders",
            Self::GetAll => "GetAll",
            Self::GetDocuments => "GetDocuments",
            Self::GetFolders => "GetFolders",
            Self::GetAssociations => "GetAssociations",
            Self::GetDocumentsAndAssociations => "GetDocumentsAndAssociations",
            Self::GetSubmissionSets => "GetSubmissionSets",
            Self::GetSubmissionSetAndContents => "GetSubmissionSetAndContents",
            Self::GetFolderAndContents => "GetFolderAndContents",
            Self::GetFoldersForDocument => "GetFoldersForDocument",
            Self::GetRelatedDocuments => "GetRelatedDocuments",
        }
    }

    /// Queries whose LeafClass result must be single-patient (TF-2 3.18.4.1.3.3,
    /// XDSResultNotSinglePatient).
    pub const fn requires_single_patient(self) -> bool {
        matches!(
            self,
            Self::GetDocuments
                | Self::GetFolders
                | Self::GetDocumentsAndAssociations
                | Self::GetSubmissionSets
                | Self::GetSubmissionSetAndContents
                | Self::GetFolderAndContents
        )
    }
}

impl fmt::Display for StoredQueryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// `query:ResponseOption/@returnType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnType {
    ObjectRef,
    LeafClass,
}

impl ReturnType {
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ObjectRef => "ObjectRef",
            Self::LeafClass => "LeafClass",
        }
    }
}

/// A code parameter value `code^^scheme` (CE, first and third components).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CodeParam {
    pub code: String,
    pub scheme: String,
}

impl CodeParam {
    pub fn new(code: &str, scheme: &str) -> Self {
        Self {
            code: code.to_owned(),
            scheme: scheme.to_owned(),
        }
    }
}

/// Code filter: every inner list is an OR, the outer list ANDs them (repeated slots).
/// Empty = no filter.
pub type CodeFilter = Vec<Vec<CodeParam>>;

/// A half-open time range `from <= t < to`; either bound may be absent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TimeRange {
    pub from: Option<Dtm>,
    pub to: Option<Dtm>,
}

impl TimeRange {
    pub fn is_unbounded(&self) -> bool {
        self.from.is_none() && self.to.is_none()
    }
}

/// Which objects a Get query names: entryUUIDs, uniqueIds (the "1 of 2" parameter pairs), or
/// for GetDocuments/GetFolders under Metadata Update, logicalIDs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ObjectSelector {
    Uuids(Vec<Uuid>),
    UniqueIds(Vec<String>),
    LogicalIds(Vec<Uuid>),
}

/// Parameters of FindDocuments and FindDocumentsByReferenceId.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindDocumentsQuery {
    pub patient_id: Cx,
    pub class_codes: CodeFilter,
    pub type_codes: CodeFilter,
    pub practice_setting_codes: CodeFilter,
    pub healthcare_facility_type_codes: CodeFilter,
    pub event_codes: CodeFilter,
    pub confidentiality_codes: CodeFilter,
    pub format_codes: CodeFilter,
    pub creation_time: TimeRange,
    pub service_start_time: TimeRange,
    pub service_stop_time: TimeRange,
    /// LIKE patterns (`%`, `_`), OR within a slot, AND across slots.
    pub author_persons: Vec<Vec<String>>,
    pub statuses: Vec<AvailabilityStatus>,
    /// Empty means Stable only.
    pub document_types: Vec<DocumentEntryType>,
    /// `$XDSDocumentEntryReferenceIdList` (FindDocumentsByReferenceId: required), LIKE, AND/OR.
    pub reference_ids: Vec<Vec<String>>,
    /// `$XDSDocumentEntryDocumentAvailability` (Metadata Update).
    pub document_availability: Vec<DocumentAvailability>,
}

impl FindDocumentsQuery {
    pub fn new(patient_id: Cx, statuses: Vec<AvailabilityStatus>) -> Self {
        Self {
            patient_id,
            class_codes: Vec::new(),
            type_codes: Vec::new(),
            practice_setting_codes: Vec::new(),
            healthcare_facility_type_codes: Vec::new(),
            event_codes: Vec::new(),
            confidentiality_codes: Vec::new(),
            format_codes: Vec::new(),
            creation_time: TimeRange::default(),
            service_start_time: TimeRange::default(),
            service_stop_time: TimeRange::default(),
            author_persons: Vec::new(),
            statuses,
            document_types: Vec::new(),
            reference_ids: Vec::new(),
            document_availability: Vec::new(),
        }
    }
}

/// Parameters of FindSubmissionSets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindSubmissionSetsQuery {
    pub patient_id: Cx,
    pub source_ids: Vec<String>,
    pub submission_time: TimeRange,
    pub author_person: Option<String>,
    pub content_type_codes: CodeFilter,
    pub statuses: Vec<AvailabilityStatus>,
}

/// Parameters of FindFolders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindFoldersQuery {
    pub patient_id: Cx,
    pub last_update_time: TimeRange,
    pub codes: CodeFilter,
    pub statuses: Vec<AvailabilityStatus>,
}

/// Parameters of GetAll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetAllQuery {
    pub patient_id: Cx,
    pub document_statuses: Vec<AvailabilityStatus>,
    pub submission_set_statuses: Vec<AvailabilityStatus>,
    pub folder_statuses: Vec<AvailabilityStatus>,
    pub format_codes: CodeFilter,
    pub confidentiality_codes: CodeFilter,
    pub document_types: Vec<DocumentEntryType>,
}

/// The document filters shared by GetSubmissionSetAndContents and GetFolderAndContents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentFilter {
    pub format_codes: CodeFilter,
    pub confidentiality_codes: CodeFilter,
    pub document_types: Vec<DocumentEntryType>,
}

/// One typed stored query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredQuery {
    FindDocuments(FindDocumentsQuery),
    FindDocumentsByReferenceId(FindDocumentsQuery),
    FindSubmissionSets(FindSubmissionSetsQuery),
    FindFolders(FindFoldersQuery),
    GetAll(GetAllQuery),
    GetDocuments {
        selector: ObjectSelector,
    },
    GetFolders {
        selector: ObjectSelector,
    },
    GetAssociations {
        uuids: Vec<Uuid>,
    },
    GetDocumentsAndAssociations {
        selector: ObjectSelector,
    },
    GetSubmissionSets {
        uuids: Vec<Uuid>,
    },
    GetSubmissionSetAndContents {
        selector: ObjectSelector,
        filter: ContentFilter,
    },
    GetFolderAndContents {
        selector: ObjectSelector,
        filter: ContentFilter,
    },
    GetFoldersForDocument {
        selector: ObjectSelector,
    },
    GetRelatedDocuments {
        selector: ObjectSelector,
        association_types: Vec<AssociationType>,
        document_types: Vec<DocumentEntryType>,
    },
}

impl StoredQuery {
    /// The patient the query names (`$XDSDocumentEntryPatientId`, ..., `$patientId`), if any.
    pub fn patient(&self) -> Option<&Cx> {
        match self {
            Self::FindDocuments(query) | Self::FindDocumentsByReferenceId(query) => {
                Some(&query.patient_id)
            }
            Self::FindSubmissionSets(query) => Some(&query.patient_id),
            Self::FindFolders(query) => Some(&query.patient_id),
            Self::GetAll(query) => Some(&query.patient_id),
            _ => None,
        }
    }

    pub fn id(&self) -> StoredQueryId {
        match self {
            Self::FindDocuments(_) => StoredQueryId::FindDocuments,
            Self::FindDocumentsByReferenceId(_) => StoredQueryId::FindDocumentsByReferenceId,
            Self::FindSubmissionSets(_) => StoredQueryId::FindSubmissionSets,
            Self::FindFolders(_) => StoredQueryId::FindFolders,
            Self::GetAll(_) => StoredQueryId::GetAll,
            Self::GetDocuments { .. } => StoredQueryId::GetDocuments,
            Self::GetFolders { .. } => StoredQueryId::GetFolders,
            Self::GetAssociations { .. } => StoredQueryId::GetAssociations,
            Self::GetDocumentsAndAssociations { .. } => StoredQueryId::GetDocumentsAndAssociations,
            Self::GetSubmissionSets { .. } => StoredQueryId::GetSubmissionSets,
            Self::GetSubmissionSetAndContents { .. } => StoredQueryId::GetSubmissionSetAndContents,
            Self::GetFolderAndContents { .. } => StoredQueryId::GetFolderAndContents,
            Self::GetFoldersForDocument { .. } => StoredQueryId::GetFoldersForDocument,
            Self::GetRelatedDocuments { .. } => StoredQueryId::GetRelatedDocuments,
        }
    }
}

/// A complete ITI-18 request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredQueryRequest {
    pub query: StoredQuery,
    pub return_type: ReturnType,
    /// `rim:AdhocQuery/@home` (homeCommunityId), kept as sent.
    pub home: Option<String>,
    /// `$MetadataLevel` (Metadata Update); `None` = level 1.
    pub metadata_level: Option<u32>,
}

/// One raw parameter: the slot name and its `rim:Value`s, as on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawParameter {
    pub name: String,
    pub values: Vec<String>,
}

impl RawParameter {
    pub fn new(name: &str, values: Vec<String>) -> Self {
        Self {
            name: name.to_owned(),
            values,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Value grammar.

/// One item of a parameter value.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Quoted(String),
    Bare(String),
}

impl Item {
    fn text(&self) -> &str {
        match self {
            Self::Quoted(text) | Self::Bare(text) => text,
        }
    }
}

/// Parses one `rim:Value`: a parenthesized list of items, or a single item. Items are
/// single-quoted strings (`''` escapes a quote) or bare tokens (numbers; unquoted strings are
/// accepted leniently, as the TF asynchronous sample sends them).
fn parse_value(value: &str) -> Result<Vec<Item>, String> {
    let text = value.trim();
    if let Some(inner) = text.strip_prefix('(') {
        let inner = inner
            .strip_suffix(')')
            .ok_or_else(|| format!("list {value:?} is not closed by ')'"))?;
        let mut items = Vec::new();
        let mut rest = inner.trim_start();
        if rest.trim().is_empty() {
            return Ok(items);
        }
        loop {
            let (item, after) = parse_item(rest, value)?;
            items.push(item);
            let after = after.trim_start();
            if after.is_empty() {
                return Ok(items);
            }
            rest = after
                .strip_prefix(',')
                .ok_or_else(|| format!("expected ',' between list items in {value:?}"))?
                .trim_start();
        }
    } else {
        let (item, after) = parse_item(text, value)?;
        if !after.trim().is_empty() {
            return Err(format!("unexpected text after the value in {value:?}"));
        }
        Ok(vec![item])
    }
}

fn parse_item<'a>(text: &'a str, whole: &str) -> Result<(Item, &'a str), String> {
    if let Some(body) = text.strip_prefix('\'') {
        let mut out = String::new();
        let mut chars = body.char_indices().peekable();
        while let Some((index, character)) = chars.next() {
            if character == '\'' {
                if chars.peek().map(|&(_, next)| next) == Some('\'') {
                    out.push('\'');
                    chars.next();
                } else {
                    return Ok((Item::Quoted(out), &body[index + 1..]));
                }
            } else {
                out.push(character);
            }
        }
        Err(format!("unterminated quoted string in {whole:?}"))
    } else {
        let end = text.find([',', ')', '(']).unwrap_or(text.len());
        let token = text[..end].trim();
        if token.is_empty() {
            return Err(format!("empty item in {whole:?}"));
        }
        Ok((Item::Bare(token.to_owned()), &text[end..]))
    }
}

/// Quotes a string for a query parameter.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// Formats a parenthesized list of quoted strings.
pub fn quote_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = items.into_iter().map(quote).collect();
    format!("({})", quoted.join(","))
}

// ---------------------------------------------------------------------------------------------
// Parameter decoding.

/// Collects the slots of one query and the errors found while reading them.
struct Params<'a> {
    query: StoredQueryId,
    raw: &'a [RawParameter],
    errors: Vec<RegistryError>,
}

impl<'a> Params<'a> {
    fn slots(&self, name: &str) -> impl Iterator<Item = &'a RawParameter> + use<'a, '_> {
        let name = name.to_owned();
        self.raw
            .iter()
            .filter(move |parameter| parameter.name == name)
    }

    fn has(&self, name: &str) -> bool {
        self.slots(name).next().is_some()
    }

    fn invalid(&mut self, name: &str, detail: impl fmt::Display) {
        self.errors.push(
            RegistryError::error(
                XdsErrorCode::RegistryError,
                format!(
                    "{}: invalid value for parameter {name}: {detail}",
                    self.query
                ),
            )
            .at(name.to_owned()),
        );
    }

    fn param_number(&mut self, detail: String, name: &str) {
        self.errors.push(
            RegistryError::error(XdsErrorCode::StoredQueryParamNumber, detail).at(name.to_owned()),
        );
    }

    fn missing(&mut self, name: &str) {
        self.errors.push(
            RegistryError::error(
                XdsErrorCode::StoredQueryMissingParam,
                format!("{}: required parameter {name} is missing", self.query),
            )
            .at(name.to_owned()),
        );
    }

    /// All items of all slots with this name, one inner vector per slot (AND of ORs).
    fn items_by_slot(&mut self, name: &str) -> Vec<Vec<Item>> {
        let mut out = Vec::new();
        let slots: Vec<&RawParameter> = self.slots(name).collect();
        for slot in slots {
            let mut items = Vec::new();
            for value in &slot.values {
                match parse_value(value) {
                    Ok(parsed) => items.extend(parsed),
                    Err(detail) => self.invalid(name, detail),
                }
            }
            out.push(items);
        }
        out
    }

    /// The single item of a single-valued parameter.
    fn single(&mut self, name: &str) -> Option<Item> {
        let slots = self.items_by_slot(name);
        if slots.len() > 1 {
            self.param_number(
                format!(
                    "{}: parameter {name} is given {} times",
                    self.query,
                    slots.len()
                ),
                name,
            );
            return None;
        }
        let mut items = slots.into_iter().next()?;
        match items.len() {
            0 => None,
            1 => items.pop(),
            count => {
                self.param_number(
                    format!(
                        "{}: parameter {name} takes one value, got {count}",
                        self.query
                    ),
                    name,
                );
                None
            }
        }
    }

    /// Items of a multi-valued parameter that may not be repeated: a repeated slot is merged
    /// as OR would be wrong, so it is read as AND and the caller decides; here every slot's items
    /// are concatenated (used for OR-only parameters where repetition is tolerated as OR).
    fn multi(&mut self, name: &str) -> Vec<Item> {
        self.items_by_slot(name).into_iter().flatten().collect()
    }

    fn required_patient(&mut self, name: &str) -> Option<Cx> {
        if !self.has(name) {
            self.missing(name);
            return None;
        }
        let item = self.single(name)?;
        match Cx::parse(item.text()) {
            Ok(cx) if !cx.id_number().is_empty() => Some(cx),
            Ok(_) => {
                self.invalid(name, format!("{:?} has no id number", item.text()));
                None
            }
            Err(error) => {
                self.invalid(name, error);
                None
            }
        }
    }

    fn time(&mut self, name: &str) -> Option<Dtm> {
        let item = self.single(name)?;
        match Dtm::parse(item.text().trim()) {
            Ok(dtm) => Some(dtm),
            Err(error) => {
                self.invalid(name, error);
                None
            }
        }
    }

    fn range(&mut self, from: &str, to: &str) -> TimeRange {
        TimeRange {
            from: self.time(from),
            to: self.time(to),
        }
    }

    fn codes(&mut self, name: &str) -> CodeFilter {
        let mut filter = Vec::new();
        for slot in self.items_by_slot(name) {
            let mut alternatives = Vec::new();
            for item in slot {
                match parse_code(item.text()) {
                    Ok(code) => alternatives.push(code),
                    Err(detail) => self.invalid(name, detail),
                }
            }
            if !alternatives.is_empty() {
                filter.push(alternatives);
            }
        }
        filter
    }

    fn strings_by_slot(&mut self, name: &str) -> Vec<Vec<String>> {
        self.items_by_slot(name)
            .into_iter()
            .map(|slot| {
                slot.into_iter()
                    .map(|item| item.text().to_owned())
                    .collect::<Vec<_>>()
            })
            .filter(|slot: &Vec<String>| !slot.is_empty())
            .collect()
    }

    fn strings(&mut self, name: &str) -> Vec<String> {
        self.multi(name)
            .into_iter()
            .map(|item| item.text().to_owned())
            .collect()
    }

    /// Status parameters: unknown values are ignored (TF-2 3.18.4.1.2.3.6); if nothing
    /// understood remains, the parameter counts as missing.
    fn statuses(&mut self, name: &str) -> Vec<AvailabilityStatus> {
        let statuses: Vec<AvailabilityStatus> = self
            .multi(name)
            .into_iter()
            .filter_map(
                |item| match AvailabilityStatus::from_urn(item.text().trim()) {
                    AvailabilityStatus::Other(other) => lenient_status(&other),
                    known => Some(known),
                },
            )
            .collect();
        if statuses.is_empty() {
            self.missing(name);
        }
        statuses
    }

    fn document_types(&mut self, name: &str) -> Vec<DocumentEntryType> {
        let mut types = Vec::new();
        for item in self.multi(name) {
            match DocumentEntryType::from_urn(item.text().trim()) {
                Some(document_type) => types.push(document_type),
                None => self.invalid(
                    name,
                    format!("{:?} is not a DocumentEntry type", item.text()),
                ),
            }
        }
        types
    }

    fn uuids(&mut self, name: &str) -> Vec<Uuid> {
        let mut uuids = Vec::new();
        for item in self.multi(name) {
            match Uuid::parse_urn(item.text().trim()) {
                Ok(uuid) => uuids.push(uuid),
                Err(error) => self.invalid(name, error),
            }
        }
        uuids
    }

    fn required_uuids(&mut self, name: &str) -> Vec<Uuid> {
        if !self.has(name) {
            self.missing(name);
            return Vec::new();
        }
        let uuids = self.uuids(name);
        if uuids.is_empty() && self.errors.is_empty() {
            self.missing(name);
        }
        uuids
    }

    /// The "1 of 2" pair of entryUUID / uniqueId parameters.
    fn selector(
        &mut self,
        uuid_name: &str,
        unique_id_name: &str,
        single: bool,
    ) -> Option<ObjectSelector> {
        match (self.has(uuid_name), self.has(unique_id_name)) {
            (true, true) => {
                self.param_number(
                    format!(
                        "{}: {uuid_name} and {unique_id_name} are mutually exclusive",
                        self.query
                    ),
                    uuid_name,
                );
                None
            }
            (false, false) => {
                self.errors.push(
                    RegistryError::error(
                        XdsErrorCode::StoredQueryMissingParam,
                        format!(
                            "{}: one of {uuid_name} or {unique_id_name} is required",
                            self.query
                        ),
                    )
                    .at(uuid_name.to_owned()),
                );
                None
            }
            (true, false) => {
                let uuids = if single {
                    let item = self.single(uuid_name)?;
                    match Uuid::parse_urn(item.text().trim()) {
                        Ok(uuid) => vec![uuid],
                        Err(error) => {
                            self.invalid(uuid_name, error);
                            return None;
                        }
                    }
                } else {
                    self.uuids(uuid_name)
                };
                if uuids.is_empty() {
                    self.missing(uuid_name);
                    return None;
                }
                Some(ObjectSelector::Uuids(uuids))
            }
            (false, true) => {
                let unique_ids = if single {
                    vec![self.single(unique_id_name)?.text().to_owned()]
                } else {
                    self.strings(unique_id_name)
                };
                if unique_ids.is_empty() {
                    self.missing(unique_id_name);
                    return None;
                }
                Some(ObjectSelector::UniqueIds(unique_ids))
            }
        }
    }

    /// GetDocuments/GetFolders: entryUUID, uniqueId or (Metadata Update) logicalID, exactly one.
    fn selector_with_logical(
        &mut self,
        uuid_name: &str,
        unique_id_name: &str,
        logical_name: &str,
    ) -> Option<ObjectSelector> {
        if !self.has(logical_name) {
            return self.selector(uuid_name, unique_id_name, false);
        }
        if self.has(uuid_name) || self.has(unique_id_name) {
            self.param_number(
                format!(
                    "{}: {logical_name} excludes {uuid_name} and {unique_id_name}",
                    self.query
                ),
                logical_name,
            );
            return None;
        }
        let logical_ids = self.uuids(logical_name);
        if logical_ids.is_empty() {
            self.missing(logical_name);
            return None;
        }
        Some(ObjectSelector::LogicalIds(logical_ids))
    }

    fn content_filter(&mut self) -> ContentFilter {
        ContentFilter {
            format_codes: self.codes(FORMAT_CODE),
            confidentiality_codes: self.codes(CONFIDENTIALITY_CODE),
            document_types: self.document_types(DOCUMENT_TYPE),
        }
    }
}

/// The TF samples' `...ResponseStatusType:Approved` mistake is accepted (xds-spec-brief.md
/// §10.1); any other unknown status is ignored.
fn lenient_status(value: &str) -> Option<AvailabilityStatus> {
    match value {
        "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Approved" => {
            Some(AvailabilityStatus::Approved)
        }
        "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Deprecated" => {
            Some(AvailabilityStatus::Deprecated)
        }
        _ => None,
    }
}

fn parse_code(text: &str) -> Result<CodeParam, String> {
    let parts: Vec<&str> = text.split('^').collect();
    match parts.as_slice() {
        [code, _, scheme] | [code, _, scheme, ..] if !code.is_empty() && !scheme.is_empty() => {
            Ok(CodeParam::new(code, scheme))
        }
        _ => Err(format!(
            "{text:?} is not a code in the form code^^codingScheme"
        )),
    }
}

// Parameter names.
const DE_PATIENT_ID: &str = "$XDSDocumentEntryPatientId";
const CLASS_CODE: &str = "$XDSDocumentEntryClassCode";
const TYPE_CODE: &str = "$XDSDocumentEntryTypeCode";
const PRACTICE_SETTING_CODE: &str = "$XDSDocumentEntryPracticeSettingCode";
const CREATION_FROM: &str = "$XDSDocumentEntryCreationTimeFrom";
const CREATION_TO: &str = "$XDSDocumentEntryCreationTimeTo";
const START_FROM: &str = "$XDSDocumentEntryServiceStartTimeFrom";
const START_TO: &str = "$XDSDocumentEntryServiceStartTimeTo";
const STOP_FROM: &str = "$XDSDocumentEntryServiceStopTimeFrom";
const STOP_TO: &str = "$XDSDocumentEntryServiceStopTimeTo";
const HCFT_CODE: &str = "$XDSDocumentEntryHealthcareFacilityTypeCode";
const EVENT_CODE: &str = "$XDSDocumentEntryEventCodeList";
const CONFIDENTIALITY_CODE: &str = "$XDSDocumentEntryConfidentialityCode";
const DE_AUTHOR_PERSON: &str = "$XDSDocumentEntryAuthorPerson";
const FORMAT_CODE: &str = "$XDSDocumentEntryFormatCode";
const DE_STATUS: &str = "$XDSDocumentEntryStatus";
const DOCUMENT_TYPE: &str = "$XDSDocumentEntryType";
const REFERENCE_ID_LIST: &str = "$XDSDocumentEntryReferenceIdList";
const DOCUMENT_AVAILABILITY: &str = "$XDSDocumentEntryDocumentAvailability";
const SS_PATIENT_ID: &str = "$XDSSubmissionSetPatientId";
const SS_SOURCE_ID: &str = "$XDSSubmissionSetSourceId";
const SS_TIME_FROM: &str = "$XDSSubmissionSetSubmissionTimeFrom";
const SS_TIME_TO: &str = "$XDSSubmissionSetSubmissionTimeTo";
const SS_AUTHOR_PERSON: &str = "$XDSSubmissionSetAuthorPerson";
const SS_CONTENT_TYPE: &str = "$XDSSubmissionSetContentType";
const SS_STATUS: &str = "$XDSSubmissionSetStatus";
const FOLDER_PATIENT_ID: &str = "$XDSFolderPatientId";
const FOLDER_UPDATE_FROM: &str = "$XDSFolderLastUpdateTimeFrom";
const FOLDER_UPDATE_TO: &str = "$XDSFolderLastUpdateTimeTo";
const FOLDER_CODE_LIST: &str = "$XDSFolderCodeList";
const FOLDER_STATUS: &str = "$XDSFolderStatus";
const PATIENT_ID: &str = "$patientId";
const DE_ENTRY_UUID: &str = "$XDSDocumentEntryEntryUUID";
const DE_UNIQUE_ID: &str = "$XDSDocumentEntryUniqueId";
const DE_LOGICAL_ID: &str = "$XDSDocumentEntryLogicalID";
const FOLDER_ENTRY_UUID: &str = "$XDSFolderEntryUUID";
const FOLDER_UNIQUE_ID: &str = "$XDSFolderUniqueId";
const FOLDER_LOGICAL_ID: &str = "$XDSFolderLogicalID";
const SS_ENTRY_UUID: &str = "$XDSSubmissionSetEntryUUID";
const SS_UNIQUE_ID: &str = "$XDSSubmissionSetUniqueId";
const UUID: &str = "$uuid";
const ASSOCIATION_TYPES: &str = "$AssociationTypes";
const METADATA_LEVEL: &str = "$MetadataLevel";

impl StoredQueryRequest {
    /// Reads a stored query from its id, returnType attribute, home attribute and slots.
    /// Unknown parameters are ignored (ebRS 3.0 §6.3.2.1). All problems are reported together.
    pub fn from_parameters(
        query_id: &str,
        return_type: Option<&str>,
        home: Option<&str>,
        parameters: &[RawParameter],
    ) -> Result<Self, Vec<RegistryError>> {
        let Some(id) = StoredQueryId::from_urn(query_id) else {
            return Err(vec![
                RegistryError::error(
                    XdsErrorCode::UnknownStoredQuery,
                    format!("unknown stored query id {query_id:?}"),
                )
                .at(query_id.to_owned()),
            ]);
        };
        let mut errors = Vec::new();
        let return_type = match return_type.map(str::trim) {
            Some("ObjectRef") => Some(ReturnType::ObjectRef),
            Some("LeafClass") | Some("LeafClassWithRepositoryItem") => Some(ReturnType::LeafClass),
            other => {
                errors.push(RegistryError::error(
                    XdsErrorCode::RegistryError,
                    format!(
                        "returnType must be ObjectRef or LeafClass, got {}",
                        other.map_or(
                            "nothing (schema default RegistryObject)".to_owned(),
                            |value| { format!("{value:?}") }
                        )
                    ),
                ));
                None
            }
        };
        let mut params = Params {
            query: id,
            raw: parameters,
            errors: Vec::new(),
        };
        let metadata_level = match params.single(METADATA_LEVEL) {
            Some(item) => match item.text().trim().parse::<u32>() {
                Ok(level @ 1..=2) => Some(level),
                _ => {
                    params.invalid(METADATA_LEVEL, format!("{:?} is not 1 or 2", item.text()));
                    None
                }
            },
            None => None,
        };
        let query = decode_query(id, &mut params);
        errors.append(&mut params.errors);
        match (query, return_type) {
            (Some(query), Some(return_type)) if errors.is_empty() => Ok(Self {
                query,
                return_type,
                home: home.map(str::to_owned),
                metadata_level,
            }),
            _ => Err(errors),
        }
    }

    /// The slots of this query in the normative encoding.
    pub fn to_parameters(&self) -> Vec<RawParameter> {
        let mut out = Vec::new();
        encode_query(&self.query, &mut out);
        if let Some(level) = self.metadata_level {
            out.push(RawParameter::new(METADATA_LEVEL, vec![level.to_string()]));
        }
        out
    }
}

fn decode_query(id: StoredQueryId, params: &mut Params<'_>) -> Option<StoredQuery> {
    let query = match id {
        StoredQueryId::FindDocuments | StoredQueryId::FindDocumentsByReferenceId => {
            let patient_id = params.required_patient(DE_PATIENT_ID);
            let statuses = if params.has(DE_STATUS) {
                params.statuses(DE_STATUS)
            } else {
                params.missing(DE_STATUS);
                Vec::new()
            };
            let mut query = FindDocumentsQuery {
                patient_id: patient_id.clone().unwrap_or_default(),
                class_codes: params.codes(CLASS_CODE),
                type_codes: params.codes(TYPE_CODE),
                practice_setting_codes: params.codes(PRACTICE_SETTING_CODE),
                healthcare_facility_type_codes: params.codes(HCFT_CODE),
                event_codes: params.codes(EVENT_CODE),
                confidentiality_codes: params.codes(CONFIDENTIALITY_CODE),
                format_codes: params.codes(FORMAT_CODE),
                creation_time: params.range(CREATION_FROM, CREATION_TO),
                service_start_time: params.range(START_FROM, START_TO),
                service_stop_time: params.range(STOP_FROM, STOP_TO),
                author_persons: params.strings_by_slot(DE_AUTHOR_PERSON),
                statuses,
                document_types: params.document_types(DOCUMENT_TYPE),
                reference_ids: Vec::new(),
                document_availability: Vec::new(),
            };
            for item in params.multi(DOCUMENT_AVAILABILITY) {
                match DocumentAvailability::from_urn(item.text().trim()) {
                    Some(availability) => query.document_availability.push(availability),
                    None => params.invalid(DOCUMENT_AVAILABILITY, format!("{:?}", item.text())),
                }
            }
            patient_id?;
            if id == StoredQueryId::FindDocumentsByReferenceId {
                query.reference_ids = params.strings_by_slot(REFERENCE_ID_LIST);
                if query.reference_ids.is_empty() {
                    params.missing(REFERENCE_ID_LIST);
                }
                StoredQuery::FindDocumentsByReferenceId(query)
            } else {
                StoredQuery::FindDocuments(query)
            }
        }
        StoredQueryId::FindSubmissionSets => {
            let patient_id = params.required_patient(SS_PATIENT_ID);
            let statuses = if params.has(SS_STATUS) {
                params.statuses(SS_STATUS)
            } else {
                params.missing(SS_STATUS);
                Vec::new()
            };
            let query = FindSubmissionSetsQuery {
                patient_id: patient_id.clone().unwrap_or_default(),
                source_ids: params.strings(SS_SOURCE_ID),
                submission_time: params.range(SS_TIME_FROM, SS_TIME_TO),
                author_person: params
                    .single(SS_AUTHOR_PERSON)
                    .map(|item| item.text().to_owned()),
                content_type_codes: params.codes(SS_CONTENT_TYPE),
                statuses,
            };
            patient_id?;
            StoredQuery::FindSubmissionSets(query)
        }
        StoredQueryId::FindFolders => {
            let patient_id = params.required_patient(FOLDER_PATIENT_ID);
            let statuses = if params.has(FOLDER_STATUS) {
                params.statuses(FOLDER_STATUS)
            } else {
                params.missing(FOLDER_STATUS);
                Vec::new()
            };
            let query = FindFoldersQuery {
                patient_id: patient_id.clone().unwrap_or_default(),
                last_update_time: params.range(FOLDER_UPDATE_FROM, FOLDER_UPDATE_TO),
                codes: params.codes(FOLDER_CODE_LIST),
                statuses,
            };
            patient_id?;
            StoredQuery::FindFolders(query)
        }
        StoredQueryId::GetAll => {
            let patient_id = params.required_patient(PATIENT_ID);
            let status = |params: &mut Params<'_>, name: &str| {
                if params.has(name) {
                    params.statuses(name)
                } else {
                    params.missing(name);
                    Vec::new()
                }
            };
            let document_statuses = status(params, DE_STATUS);
            let submission_set_statuses = status(params, SS_STATUS);
            let folder_statuses = status(params, FOLDER_STATUS);
            let query = GetAllQuery {
                patient_id: patient_id.clone().unwrap_or_default(),
                document_statuses,
                submission_set_statuses,
                folder_statuses,
                format_codes: params.codes(FORMAT_CODE),
                confidentiality_codes: params.codes(CONFIDENTIALITY_CODE),
                document_types: params.document_types(DOCUMENT_TYPE),
            };
            patient_id?;
            StoredQuery::GetAll(query)
        }
        StoredQueryId::GetDocuments => StoredQuery::GetDocuments {
            selector: params.selector_with_logical(DE_ENTRY_UUID, DE_UNIQUE_ID, DE_LOGICAL_ID)?,
        },
        StoredQueryId::GetFolders => StoredQuery::GetFolders {
            selector: params.selector_with_logical(
                FOLDER_ENTRY_UUID,
                FOLDER_UNIQUE_ID,
                FOLDER_LOGICAL_ID,
            )?,
        },
        StoredQueryId::GetAssociations => StoredQuery::GetAssociations {
            uuids: params.required_uuids(UUID),
        },
        StoredQueryId::GetDocumentsAndAssociations => StoredQuery::GetDocumentsAndAssociations {
            selector: params.selector(DE_ENTRY_UUID, DE_UNIQUE_ID, false)?,
        },
        StoredQueryId::GetSubmissionSets => StoredQuery::GetSubmissionSets {
            uuids: params.required_uuids(UUID),
        },
        StoredQueryId::GetSubmissionSetAndContents => {
            let selector = params.selector(SS_ENTRY_UUID, SS_UNIQUE_ID, true);
            let filter = params.content_filter();
            StoredQuery::GetSubmissionSetAndContents {
                selector: selector?,
                filter,
            }
        }
        StoredQueryId::GetFolderAndContents => {
            let selector = params.selector(FOLDER_ENTRY_UUID, FOLDER_UNIQUE_ID, true);
            let filter = params.content_filter();
            StoredQuery::GetFolderAndContents {
                selector: selector?,
                filter,
            }
        }
        StoredQueryId::GetFoldersForDocument => StoredQuery::GetFoldersForDocument {
            selector: params.selector(DE_ENTRY_UUID, DE_UNIQUE_ID, true)?,
        },
        StoredQueryId::GetRelatedDocuments => {
            let selector = params.selector(DE_ENTRY_UUID, DE_UNIQUE_ID, true);
            let mut association_types = Vec::new();
            if !params.has(ASSOCIATION_TYPES) {
                params.missing(ASSOCIATION_TYPES);
            }
            for item in params.multi(ASSOCIATION_TYPES) {
                match AssociationType::from_urn(item.text().trim()) {
                    Some(association_type) => association_types.push(association_type),
                    None => params.invalid(
                        ASSOCIATION_TYPES,
                        format!("{:?} is not an association type", item.text()),
                    ),
                }
            }
            let document_types = params.document_types(DOCUMENT_TYPE);
            StoredQuery::GetRelatedDocuments {
                selector: selector?,
                association_types,
                document_types,
            }
        }
    };
    Some(query)
}

fn push_string(out: &mut Vec<RawParameter>, name: &str, value: &str) {
    out.push(RawParameter::new(name, vec![quote(value)]));
}

fn push_list<'a>(
    out: &mut Vec<RawParameter>,
    name: &str,
    items: impl IntoIterator<Item = &'a str>,
) {
    let items: Vec<&str> = items.into_iter().collect();
    if !items.is_empty() {
        out.push(RawParameter::new(name, vec![quote_list(items)]));
    }
}

fn push_codes(out: &mut Vec<RawParameter>, name: &str, filter: &CodeFilter) {
    for alternatives in filter {
        let items: Vec<String> = alternatives
            .iter()
            .map(|code| format!("{}^^{}", code.code, code.scheme))
            .collect();
        push_list(out, name, items.iter().map(String::as_str));
    }
}

fn push_range(out: &mut Vec<RawParameter>, from: &str, to: &str, range: &TimeRange) {
    if let Some(value) = &range.from {
        out.push(RawParameter::new(from, vec![value.as_str().to_owned()]));
    }
    if let Some(value) = &range.to {
        out.push(RawParameter::new(to, vec![value.as_str().to_owned()]));
    }
}

fn push_statuses(out: &mut Vec<RawParameter>, name: &str, statuses: &[AvailabilityStatus]) {
    push_list(out, name, statuses.iter().map(AvailabilityStatus::urn));
}

fn push_types(out: &mut Vec<RawParameter>, types: &[DocumentEntryType]) {
    push_list(
        out,
        DOCUMENT_TYPE,
        types.iter().map(|document_type| document_type.urn()),
    );
}

/// Writes a multi-valued selector; `names` = entryUUID, uniqueId and logicalID parameter names.
fn push_selector(out: &mut Vec<RawParameter>, names: [&str; 3], selector: &ObjectSelector) {
    match selector {
        ObjectSelector::Uuids(uuids) => {
            let texts: Vec<String> = uuids.iter().map(Uuid::to_urn).collect();
            push_list(out, names[0], texts.iter().map(String::as_str));
        }
        ObjectSelector::UniqueIds(ids) => push_list(out, names[1], ids.iter().map(String::as_str)),
        ObjectSelector::LogicalIds(uuids) => {
            let texts: Vec<String> = uuids.iter().map(Uuid::to_urn).collect();
            push_list(out, names[2], texts.iter().map(String::as_str));
        }
    }
}

fn encode_query(query: &StoredQuery, out: &mut Vec<RawParameter>) {
    match query {
        StoredQuery::FindDocuments(find) | StoredQuery::FindDocumentsByReferenceId(find) => {
            push_string(out, DE_PATIENT_ID, &find.patient_id.format());
            push_codes(out, CLASS_CODE, &find.class_codes);
            push_codes(out, TYPE_CODE, &find.type_codes);
            push_codes(out, PRACTICE_SETTING_CODE, &find.practice_setting_codes);
            push_range(out, CREATION_FROM, CREATION_TO, &find.creation_time);
            push_range(out, START_FROM, START_TO, &find.service_start_time);
            push_range(out, STOP_FROM, STOP_TO, &find.service_stop_time);
            push_codes(out, HCFT_CODE, &find.healthcare_facility_type_codes);
            push_codes(out, EVENT_CODE, &find.event_codes);
            push_codes(out, CONFIDENTIALITY_CODE, &find.confidentiality_codes);
            for authors in &find.author_persons {
                push_list(out, DE_AUTHOR_PERSON, authors.iter().map(String::as_str));
            }
            push_codes(out, FORMAT_CODE, &find.format_codes);
            push_statuses(out, DE_STATUS, &find.statuses);
            push_types(out, &find.document_types);
            for references in &find.reference_ids {
                push_list(
                    out,
                    REFERENCE_ID_LIST,
                    references.iter().map(String::as_str),
                );
            }
            push_list(
                out,
                DOCUMENT_AVAILABILITY,
                find.document_availability
                    .iter()
                    .map(|availability| availability.urn()),
            );
        }
        StoredQuery::FindSubmissionSets(find) => {
            push_string(out, SS_PATIENT_ID, &find.patient_id.format());
            push_list(
                out,
                SS_SOURCE_ID,
                find.source_ids.iter().map(String::as_str),
            );
            push_range(out, SS_TIME_FROM, SS_TIME_TO, &find.submission_time);
            if let Some(author) = &find.author_person {
                push_string(out, SS_AUTHOR_PERSON, author);
            }
            push_codes(out, SS_CONTENT_TYPE, &find.content_type_codes);
            push_statuses(out, SS_STATUS, &find.statuses);
        }
        StoredQuery::FindFolders(find) => {
            push_string(out, FOLDER_PATIENT_ID, &find.patient_id.format());
            push_range(
                out,
                FOLDER_UPDATE_FROM,
                FOLDER_UPDATE_TO,
                &find.last_update_time,
            );
            push_codes(out, FOLDER_CODE_LIST, &find.codes);
            push_statuses(out, FOLDER_STATUS, &find.statuses);
        }
        StoredQuery::GetAll(all) => {
            push_string(out, PATIENT_ID, &all.patient_id.format());
            push_statuses(out, DE_STATUS, &all.document_statuses);
            push_statuses(out, SS_STATUS, &all.submission_set_statuses);
            push_statuses(out, FOLDER_STATUS, &all.folder_statuses);
            push_codes(out, FORMAT_CODE, &all.format_codes);
            push_codes(out, CONFIDENTIALITY_CODE, &all.confidentiality_codes);
            push_types(out, &all.document_types);
        }
        StoredQuery::GetDocuments { selector } => {
            push_selector(out, [DE_ENTRY_UUID, DE_UNIQUE_ID, DE_LOGICAL_ID], selector);
        }
        StoredQuery::GetFolders { selector } => {
            push_selector(
                out,
                [FOLDER_ENTRY_UUID, FOLDER_UNIQUE_ID, FOLDER_LOGICAL_ID],
                selector,
            );
        }
        StoredQuery::GetAssociations { uuids } | StoredQuery::GetSubmissionSets { uuids } => {
            let texts: Vec<String> = uuids.iter().map(Uuid::to_urn).collect();
            push_list(out, UUID, texts.iter().map(String::as_str));
        }
        StoredQuery::GetDocumentsAndAssociations { selector } => {
            push_selector(out, [DE_ENTRY_UUID, DE_UNIQUE_ID, DE_LOGICAL_ID], selector);
        }
        StoredQuery::GetSubmissionSetAndContents { selector, filter } => {
            push_single_selector(out, SS_ENTRY_UUID, SS_UNIQUE_ID, selector);
            push_filter(out, filter);
        }
        StoredQuery::GetFolderAndContents { selector, filter } => {
            push_single_selector(out, FOLDER_ENTRY_UUID, FOLDER_UNIQUE_ID, selector);
            push_filter(out, filter);
        }
        StoredQuery::GetFoldersForDocument { selector } => {
            push_single_selector(out, DE_ENTRY_UUID, DE_UNIQUE_ID, selector);
        }
        StoredQuery::GetRelatedDocuments {
            selector,
            association_types,
            document_types,
        } => {
            push_single_selector(out, DE_ENTRY_UUID, DE_UNIQUE_ID, selector);
            push_list(
                out,
                ASSOCIATION_TYPES,
                association_types.iter().map(|kind| kind.urn()),
            );
            push_types(out, document_types);
        }
    }
}

/// Single-valued selectors are written as one quoted string, not a list.
fn push_single_selector(
    out: &mut Vec<RawParameter>,
    uuid_name: &str,
    unique_id_name: &str,
    selector: &ObjectSelector,
) {
    match selector {
        ObjectSelector::Uuids(uuids) | ObjectSelector::LogicalIds(uuids) => {
            for uuid in uuids {
                push_string(out, uuid_name, &uuid.to_urn());
            }
        }
        ObjectSelector::UniqueIds(ids) => {
            for id in ids {
                push_string(out, unique_id_name, id);
            }
        }
    }
}

fn push_filter(out: &mut Vec<RawParameter>, filter: &ContentFilter) {
    push_codes(out, FORMAT_CODE, &filter.format_codes);
    push_codes(out, CONFIDENTIALITY_CODE, &filter.confidentiality_codes);
    push_types(out, &filter.document_types);
}

/// Whether `text` matches an SQL LIKE `pattern` (`%` any run, `_` any one character), as used by
/// the author and referenceId parameters. Case-sensitive, like the stored values.
pub fn like_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // Classic two-pointer wildcard matching with backtracking to the last '%'.
    let (mut p, mut t) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && (pattern[p] == '_' || pattern[p] == text[t]) {
            p += 1;
            t += 1;
        } else if p < pattern.len() && pattern[p] == '%' {
            star = Some((p, t));
            p += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    while p < pattern.len() && pattern[p] == '%' {
        p += 1;
    }
    p == pattern.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(name: &str, values: &[&str]) -> RawParameter {
        RawParameter::new(
            name,
            values.iter().map(|value| (*value).to_owned()).collect(),
        )
    }

    fn find_documents(extra: Vec<RawParameter>) -> Result<StoredQueryRequest, Vec<RegistryError>> {
        let mut parameters = vec![
            raw(DE_PATIENT_ID, &["'P1234^^^&2.999.1.1&ISO'"]),
            raw(
                DE_STATUS,
                &["('urn:oasis:names:tc:ebxml-regrep:StatusType:Approved')"],
            ),
        ];
        parameters.extend(extra);
        StoredQueryRequest::from_parameters(
            StoredQueryId::FindDocuments.urn(),
            Some("LeafClass"),
            None,
            &parameters,
        )
    }

    fn codes_of(errors: &[RegistryError]) -> Vec<XdsErrorCode> {
        errors.iter().map(|error| error.code).collect()
    }

    #[test]
    fn value_grammar_handles_quotes_lists_and_numbers() {
        assert_eq!(
            parse_value("'a''b'").unwrap(),
            vec![Item::Quoted("a'b".into())]
        );
        assert_eq!(
            parse_value(" ( 'a' , 'b,c' ,'d)') ").unwrap(),
            vec![
                Item::Quoted("a".into()),
                Item::Quoted("b,c".into()),
                Item::Quoted("d)".into())
            ]
        );
        assert_eq!(
            parse_value("200412252300").unwrap(),
            vec![Item::Bare("200412252300".into())]
        );
        assert_eq!(parse_value("()").unwrap(), vec![]);
        assert!(parse_value("('a'").is_err());
        assert!(parse_value("'a").is_err());
        assert!(parse_value("('a' 'b')").is_err());
        assert_eq!(quote("Children's Hospital"), "'Children''s Hospital'");
    }

    #[test]
    fn find_documents_reads_every_parameter() {
        let request = find_documents(vec![
            raw(CLASS_CODE, &["('11488-4^^2.16.840.1.113883.6.1','34133-9^^2.16.840.1.113883.6.1')"]),
            raw(EVENT_CODE, &["('a^^s1')"]),
            raw(EVENT_CODE, &["('b^^s2')", "('c^^s2')"]),
            raw(CREATION_FROM, &["20240101"]),
            raw(CREATION_TO, &["'202402'"]),
            raw(DE_AUTHOR_PERSON, &["('%Smith%')"]),
            raw(DOCUMENT_TYPE, &["('urn:uuid:34268e47-fdf5-41a6-ba33-82133c465248','urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1')"]),
            raw("$SomethingUnknown", &["'ignored'"]),
        ])
        .unwrap();
        let StoredQuery::FindDocuments(find) = &request.query else {
            panic!("wrong query")
        };
        assert_eq!(find.patient_id.format(), "P1234^^^&2.999.1.1&ISO");
        assert_eq!(find.class_codes.len(), 1);
        assert_eq!(find.class_codes[0].len(), 2);
        assert_eq!(
            find.event_codes,
            vec![
                vec![CodeParam::new("a", "s1")],
                vec![CodeParam::new("b", "s2"), CodeParam::new("c", "s2")]
            ]
        );
        assert_eq!(
            find.creation_time.from.as_ref().unwrap().as_str(),
            "20240101"
        );
        assert_eq!(find.creation_time.to.as_ref().unwrap().as_str(), "202402");
        assert_eq!(find.author_persons, vec![vec!["%Smith%".to_owned()]]);
        assert_eq!(find.document_types.len(), 2);
        assert_eq!(find.statuses, vec![AvailabilityStatus::Approved]);
        // Encoding and decoding again gives the same query.
        let again = StoredQueryRequest::from_parameters(
            StoredQueryId::FindDocuments.urn(),
            Some("LeafClass"),
            None,
            &request.to_parameters(),
        )
        .unwrap();
        assert_eq!(again, request);
    }

    #[test]
    fn missing_required_parameters_are_all_reported() {
        let errors = StoredQueryRequest::from_parameters(
            StoredQueryId::FindDocuments.urn(),
            Some("ObjectRef"),
            None,
            &[],
        )
        .unwrap_err();
        assert_eq!(
            codes_of(&errors),
            vec![
                XdsErrorCode::StoredQueryMissingParam,
                XdsErrorCode::StoredQueryMissingParam
            ]
        );
        assert!(errors[0].code_context.contains(DE_PATIENT_ID));
        assert!(errors[1].code_context.contains(DE_STATUS));
    }

    #[test]
    fn single_valued_parameter_with_two_values_is_param_number() {
        let errors =
            find_documents(vec![raw(CREATION_FROM, &["20240101", "20240102"])]).unwrap_err();
        assert_eq!(
            codes_of(&errors),
            vec![XdsErrorCode::StoredQueryParamNumber]
        );
        let errors = find_documents(vec![
            raw(CREATION_FROM, &["20240101"]),
            raw(CREATION_FROM, &["2024"]),
        ])
        .unwrap_err();
        assert_eq!(
            codes_of(&errors),
            vec![XdsErrorCode::StoredQueryParamNumber]
        );
    }

    #[test]
    fn both_members_of_an_either_or_pair_is_param_number() {
        let errors = StoredQueryRequest::from_parameters(
            StoredQueryId::GetDocuments.urn(),
            Some("LeafClass"),
            None,
            &[
                raw(
                    DE_ENTRY_UUID,
                    &["('urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3')"],
                ),
                raw(DE_UNIQUE_ID, &["('1.2.3')"]),
            ],
        )
        .unwrap_err();
        assert_eq!(
            codes_of(&errors),
            vec![XdsErrorCode::StoredQueryParamNumber]
        );
        let errors = StoredQueryRequest::from_parameters(
            StoredQueryId::GetDocuments.urn(),
            Some("LeafClass"),
            None,
            &[],
        )
        .unwrap_err();
        assert_eq!(
            codes_of(&errors),
            vec![XdsErrorCode::StoredQueryMissingParam]
        );
    }

    #[test]
    fn unknown_query_id_is_reported() {
        let errors = StoredQueryRequest::from_parameters(
            "urn:uuid:00000000-0000-0000-0000-000000000000",
            Some("LeafClass"),
            None,
            &[],
        )
        .unwrap_err();
        assert_eq!(codes_of(&errors), vec![XdsErrorCode::UnknownStoredQuery]);
    }

    #[test]
    fn unknown_statuses_are_ignored_and_all_unknown_means_missing() {
        let request = find_documents(vec![]).unwrap();
        assert!(matches!(request.query, StoredQuery::FindDocuments(_)));
        let errors = StoredQueryRequest::from_parameters(
            StoredQueryId::FindDocuments.urn(),
            Some("LeafClass"),
            None,
            &[
                raw(DE_PATIENT_ID, &["'P1^^^&1.2&ISO'"]),
                raw(DE_STATUS, &["('urn:example:NotAStatus')"]),
            ],
        )
        .unwrap_err();
        assert_eq!(
            codes_of(&errors),
            vec![XdsErrorCode::StoredQueryMissingParam]
        );
        // The TF sample's ResponseStatusType:Approved is understood.
        let request = StoredQueryRequest::from_parameters(
            StoredQueryId::FindDocuments.urn(),
            Some("LeafClass"),
            None,
            &[
                raw(DE_PATIENT_ID, &["P1^^^&1.2&ISO"]),
                raw(
                    DE_STATUS,
                    &["('urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Approved')"],
                ),
            ],
        )
        .unwrap();
        let StoredQuery::FindDocuments(find) = request.query else {
            panic!()
        };
        assert_eq!(find.statuses, vec![AvailabilityStatus::Approved]);
    }

    #[test]
    fn code_without_scheme_is_refused() {
        let errors =
            find_documents(vec![raw(CLASS_CODE, &["('DEMO-Lab^^1.3.6', 'a^^')"])]).unwrap_err();
        assert_eq!(codes_of(&errors), vec![XdsErrorCode::RegistryError]);
        assert!(errors[0].code_context.contains("a^^"));
    }

    #[test]
    fn every_query_round_trips_through_its_parameters() {
        let uuid = Uuid::parse_urn("urn:uuid:10b545ea-725c-446d-9b95-8aeb444eddf3").unwrap();
        let patient = Cx::parse("P1^^^&1.2.3&ISO").unwrap();
        let queries = vec![
            StoredQuery::FindSubmissionSets(FindSubmissionSetsQuery {
                patient_id: patient.clone(),
                source_ids: vec!["1.2.3".into()],
                submission_time: TimeRange {
                    from: Dtm::parse("2004").ok(),
                    to: None,
                },
                author_person: Some("%Dopplemeyer%".into()),
                content_type_codes: vec![vec![CodeParam::new("x", "y")]],
                statuses: vec![AvailabilityStatus::Approved],
            }),
            StoredQuery::FindFolders(FindFoldersQuery {
                patient_id: patient.clone(),
                last_update_time: TimeRange {
                    from: None,
                    to: Dtm::parse("20250101").ok(),
                },
                codes: vec![
                    vec![CodeParam::new("a", "b")],
                    vec![CodeParam::new("c", "d")],
                ],
                statuses: vec![AvailabilityStatus::Approved, AvailabilityStatus::Deprecated],
            }),
            StoredQuery::GetAll(GetAllQuery {
                patient_id: patient.clone(),
                document_statuses: vec![AvailabilityStatus::Approved],
                submission_set_statuses: vec![AvailabilityStatus::Approved],
                folder_statuses: vec![AvailabilityStatus::Approved],
                format_codes: vec![],
                confidentiality_codes: vec![vec![CodeParam::new("N", "2.16.840.1.113883.5.25")]],
                document_types: vec![DocumentEntryType::OnDemand],
            }),
            StoredQuery::GetDocuments {
                selector: ObjectSelector::UniqueIds(vec!["1.2".into(), "1.3".into()]),
            },
            StoredQuery::GetDocuments {
                selector: ObjectSelector::LogicalIds(vec![uuid]),
            },
            StoredQuery::GetFolders {
                selector: ObjectSelector::Uuids(vec![uuid]),
            },
            StoredQuery::GetAssociations {
                uuids: vec![uuid, uuid],
            },
            StoredQuery::GetDocumentsAndAssociations {
                selector: ObjectSelector::Uuids(vec![uuid]),
            },
            StoredQuery::GetSubmissionSets { uuids: vec![uuid] },
            StoredQuery::GetSubmissionSetAndContents {
                selector: ObjectSelector::UniqueIds(vec!["1.2.3".into()]),
                filter: ContentFilter {
                    format_codes: vec![vec![CodeParam::new("f", "s")]],
                    confidentiality_codes: vec![],
                    document_types: vec![DocumentEntryType::Stable],
                },
            },
            StoredQuery::GetFolderAndContents {
                selector: ObjectSelector::Uuids(vec![uuid]),
                filter: ContentFilter::default(),
            },
            StoredQuery::GetFoldersForDocument {
                selector: ObjectSelector::Uuids(vec![uuid]),
            },
            StoredQuery::GetRelatedDocuments {
                selector: ObjectSelector::UniqueIds(vec!["1.2".into()]),
                association_types: vec![AssociationType::Replace, AssociationType::Append],
                document_types: vec![],
            },
        ];
        for query in queries {
            let request = StoredQueryRequest {
                query,
                return_type: ReturnType::ObjectRef,
                home: Some("urn:oid:1.2.3".into()),
                metadata_level: None,
            };
            let again = StoredQueryRequest::from_parameters(
                request.query.id().urn(),
                Some("ObjectRef"),
                Some("urn:oid:1.2.3"),
                &request.to_parameters(),
            )
            .unwrap_or_else(|errors| panic!("{:?}: {errors:?}", request.query.id()));
            assert_eq!(again, request);
        }
    }

    #[test]
    fn like_patterns() {
        assert!(like_matches("%Smith%", "^Smith^John"));
        assert!(like_matches("_mith", "Smith"));
        assert!(!like_matches("_mith", "Ssmith"));
        assert!(like_matches("%", ""));
        assert!(like_matches("a%b%c", "aXXbYYc"));
        assert!(!like_matches("a%b%c", "aXXbYY"));
        assert!(like_matches("exact", "exact"));
        assert!(!like_matches("exact", "exactly"));
    }
}
