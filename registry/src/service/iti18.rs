//! ITI-18 Registry Stored Query: the 14 stored queries over the [`MetadataStore`]
//! (xds-spec-brief.md §4). Queries naming a patient read that patient's contiguous key range;
//! queries naming entryUUIDs or uniqueIds are point reads and short prefix scans; related
//! objects are found through the association index. Nothing scans the whole registry.

use std::collections::HashSet;

use xds::XdsErrorCode;
use xds::error::{RegistryError, RegistryResponse};
use xds::model::{
    Association, AssociationType, AvailabilityStatus, Code, CodeFilter, CodeParam, ContentFilter,
    Cx, DocumentEntry, DocumentEntryType, Dtm, Metadata, ObjectRef, ObjectSelector, QueryResponse,
    ReturnType, StoredQuery, StoredQueryRequest, TimeRange, Uuid, like_matches,
};

use crate::store::{
    Direction, Kind, Link, Located, MetadataStore, PatientNum, StoreError, StoredObject,
};

/// What a query answers when its patient id is unknown (xds-spec-brief.md §4.4: affinity-domain
/// policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnknownPatientAnswer {
    /// Success with no results.
    #[default]
    Empty,
    /// Failure with XDSUnknownPatientId.
    Error,
}

/// Settings of the ITI-18 service.
#[derive(Debug, Clone)]
pub struct QuerySettings {
    /// Most objects a LeafClass answer may hold (XDSTooManyResults beyond).
    pub leaf_class_limit: usize,
    /// Most object references an ObjectRef answer may hold.
    pub object_ref_limit: usize,
    pub unknown_patient: UnknownPatientAnswer,
    /// What a query by an id merged into another one answers (ITI-8: no content; ITI-18
    /// allows XDSUnknownPatientId by affinity-domain policy).
    pub subsumed_patient: UnknownPatientAnswer,
}

impl Default for QuerySettings {
    fn default() -> Self {
        Self {
            leaf_class_limit: 5_000,
            object_ref_limit: 1_000_000,
            unknown_patient: UnknownPatientAnswer::Empty,
            subsumed_patient: UnknownPatientAnswer::Empty,
        }
    }
}

/// The patients a query by patient id reads: the id's own and every id merged into it.
enum PatientScope {
    Read(Vec<PatientNum>),
    Answer(Outcome),
}

fn patient_scope(
    store: &dyn MetadataStore,
    id: &Cx,
    settings: &QuerySettings,
) -> Result<PatientScope, StoreError> {
    let Some(patient) = store.patient(id)? else {
        return Ok(PatientScope::Answer(unknown_patient(id, settings)));
    };
    if let Some(into) = store.surviving_id(patient)? {
        return Ok(PatientScope::Answer(match settings.subsumed_patient {
            UnknownPatientAnswer::Empty => Outcome::Found(Found::default()),
            UnknownPatientAnswer::Error => {
                let into = into.format();
                Outcome::Refused(vec![RegistryError::error(
                    XdsErrorCode::UnknownPatientId,
                    format!(
                        "patient id {} was merged into {into}; query by that id",
                        id.format()
                    ),
                )])
            }
        }));
    }
    let mut patients = vec![patient];
    patients.extend(store.merged_into(patient)?);
    Ok(PatientScope::Read(patients))
}

/// Visits every object of one kind filed under any of `patients`.
fn scan_patients(
    store: &dyn MetadataStore,
    patients: &[PatientNum],
    kind: Kind,
    visit: &mut dyn FnMut(StoredObject) -> bool,
) -> Result<(), StoreError> {
    for patient in patients {
        store.scan_patient(*patient, kind, visit)?;
    }
    Ok(())
}

/// Answers show the surviving id of merged patients: objects filed under a subsumed id carry
/// the id its merge chain ends at.
fn show_surviving_ids(
    store: &dyn MetadataStore,
    metadata: &mut Metadata,
) -> Result<(), StoreError> {
    if !store.has_merges() {
        return Ok(());
    }
    let mut resolved: Vec<(Cx, Option<Cx>)> = Vec::new();
    let mut resolve = |id: &mut Option<Cx>| -> Result<(), StoreError> {
        let Some(current) = id.as_ref() else {
            return Ok(());
        };
        let replacement = match resolved.iter().find(|(known, _)| known == current) {
            Some((_, replacement)) => replacement.clone(),
            None => {
                let replacement = match store.patient(current)? {
                    Some(patient) => store.surviving_id(patient)?,
                    None => None,
                };
                resolved.push((current.clone(), replacement.clone()));
                replacement
            }
        };
        if let Some(replacement) = replacement {
            *id = Some(replacement);
        }
        Ok(())
    };
    for entry in &mut metadata.document_entries {
        resolve(&mut entry.patient_id)?;
    }
    for set in &mut metadata.submission_sets {
        resolve(&mut set.patient_id)?;
    }
    for folder in &mut metadata.folders {
        resolve(&mut folder.patient_id)?;
    }
    Ok(())
}

/// The objects a query found, each once, in the order found. Logically deleted objects (the
/// DMP's `urn:asip:ci-sis:2010:StatusType:Deleted`, dmp-profile.md §8 rule 34) are never
/// answered, whatever the query asks.
#[derive(Default)]
struct Found {
    metadata: Metadata,
    seen: HashSet<Uuid>,
    /// Deleted objects met and left out (and those the access policy hides).
    hidden: HashSet<Uuid>,
    /// The access policy's visibility test (None: everything not deleted).
    filter: Option<Filter>,
}

/// Which stored objects a caller may see (the access policy, [`crate::access`]). An object it
/// hides is left out exactly like a deleted one, with every association touching it.
pub type Filter = std::sync::Arc<dyn Fn(&StoredObject) -> bool + Send + Sync>;

impl Found {
    fn with_filter(filter: Option<Filter>) -> Self {
        Self {
            filter,
            ..Self::default()
        }
    }

    /// Whether an object is left out of every answer.
    fn hides(&self, object: &StoredObject) -> bool {
        is_deleted(object) || self.filter.as_ref().is_some_and(|visible| !visible(object))
    }
}

fn is_deleted(object: &StoredObject) -> bool {
    let status = match object {
        StoredObject::DocumentEntry(entry) => entry.availability_status.as_ref(),
        StoredObject::SubmissionSet(set) => set.availability_status.as_ref(),
        StoredObject::Folder(folder) => folder.availability_status.as_ref(),
        StoredObject::Association(association) => association.availability_status.as_ref(),
    };
    status == Some(&AvailabilityStatus::Deleted)
}

impl Found {
    fn add(&mut self, object: StoredObject) {
        let Some(uuid) = object.uuid() else { return };
        if self.hides(&object) {
            self.hidden.insert(uuid);
            return;
        }
        if !self.seen.insert(uuid) {
            return;
        }
        match object {
            StoredObject::DocumentEntry(entry) => self.metadata.document_entries.push(entry),
            StoredObject::SubmissionSet(set) => self.metadata.submission_sets.push(set),
            StoredObject::Folder(folder) => self.metadata.folders.push(folder),
            StoredObject::Association(association) => self.metadata.associations.push(association),
        }
    }

    fn contains(&self, uuid: &Uuid) -> bool {
        self.seen.contains(uuid)
    }

    fn len(&self) -> usize {
        self.seen.len()
    }
}

/// Runs a stored query. Storage failures become XDSRegistryError (the caller logs them).
pub fn run(
    store: &dyn MetadataStore,
    request: &StoredQueryRequest,
    settings: &QuerySettings,
) -> QueryResponse {
    run_filtered(store, request, settings, None)
}

/// Runs a stored query for a caller who sees only what `filter` lets through.
pub fn run_filtered(
    store: &dyn MetadataStore,
    request: &StoredQueryRequest,
    settings: &QuerySettings,
    filter: Option<Filter>,
) -> QueryResponse {
    match execute(store, request, settings, filter).and_then(|outcome| match outcome {
        Outcome::Found(mut found) => {
            if request.metadata_level != Some(2) {
                hide_old_versions(store, &mut found)?;
            }
            hide_links_to_deleted(store, &mut found)?;
            show_surviving_ids(store, &mut found.metadata)?;
            Ok(Outcome::Found(found))
        }
        refused => Ok(refused),
    }) {
        Ok(Outcome::Found(found)) => answer(found, request, settings),
        Ok(Outcome::Refused(errors)) => QueryResponse {
            response: RegistryResponse::from_errors(errors),
            metadata: Metadata::default(),
        },
        Err(error) => QueryResponse {
            response: RegistryResponse::from_errors(vec![RegistryError::error(
                XdsErrorCode::RegistryError,
                format!("the registry could not read its store: {}", error.message),
            )]),
            metadata: Metadata::default(),
        },
    }
}

/// `$MetadataLevel` 1 (the default): only the latest version of a DocumentEntry is answered, no
/// Deprecated Folder and no Deprecated association (ITI-18 with Metadata Update). Older
/// DocumentEntry versions are Deprecated, so only those are looked at.
fn hide_old_versions(store: &dyn MetadataStore, found: &mut Found) -> Result<(), StoreError> {
    let mut old = HashSet::new();
    for entry in &found.metadata.document_entries {
        if entry.availability_status != Some(AvailabilityStatus::Deprecated) {
            continue;
        }
        let (Some(uuid), Some(lid)) = (
            entry.entry_uuid.as_uuid(),
            entry
                .logical_id
                .as_ref()
                .and_then(xds::model::ObjectId::as_uuid),
        ) else {
            continue;
        };
        let latest =
            super::iti57::latest_version(store, &lid)?.and_then(|latest| latest.object.uuid());
        if latest.is_some_and(|latest| latest != uuid) {
            old.insert(uuid);
        }
    }
    // Level 1 answers no Deprecated Folder and no Deprecated association either.
    let deprecated = Some(&AvailabilityStatus::Deprecated);
    for folder in &found.metadata.folders {
        if folder.availability_status.as_ref() == deprecated
            && let Some(uuid) = folder.entry_uuid.as_uuid()
        {
            old.insert(uuid);
        }
    }
    for association in &found.metadata.associations {
        if association.availability_status.as_ref() == deprecated
            && let Some(uuid) = association.entry_uuid.as_uuid()
        {
            old.insert(uuid);
        }
    }
    if old.is_empty() {
        return Ok(());
    }
    let keep = |id: &xds::model::ObjectId| id.as_uuid().is_none_or(|uuid| !old.contains(&uuid));
    found
        .metadata
        .folders
        .retain(|folder| keep(&folder.entry_uuid));
    found
        .metadata
        .associations
        .retain(|association| keep(&association.entry_uuid));
    found.metadata.document_entries.retain(|entry| {
        entry
            .entry_uuid
            .as_uuid()
            .is_none_or(|uuid| !old.contains(&uuid))
    });
    for uuid in old {
        found.seen.remove(&uuid);
        found.hidden.insert(uuid);
    }
    Ok(())
}

/// Leaves out the associations that touch a deleted object, so that an answer never names one.
fn hide_links_to_deleted(store: &dyn MetadataStore, found: &mut Found) -> Result<(), StoreError> {
    let mut deleted = std::mem::take(&mut found.hidden);
    let mut alive: HashSet<Uuid> = HashSet::new();
    let mut keep = Vec::with_capacity(found.metadata.associations.len());
    for association in std::mem::take(&mut found.metadata.associations) {
        let mut touches_deleted = false;
        for end in [&association.source, &association.target] {
            let Some(end) = end.as_uuid() else { continue };
            if found.seen.contains(&end) || alive.contains(&end) {
                continue;
            }
            if deleted.contains(&end) {
                touches_deleted = true;
                continue;
            }
            match store.object(&end)? {
                Some(located) if found.hides(&located.object) => {
                    deleted.insert(end);
                    touches_deleted = true;
                }
                _ => {
                    alive.insert(end);
                }
            }
        }
        if touches_deleted {
            if let Some(uuid) = association.entry_uuid.as_uuid() {
                found.seen.remove(&uuid);
            }
        } else {
            keep.push(association);
        }
    }
    found.metadata.associations = keep;
    found.hidden = deleted;
    Ok(())
}

enum Outcome {
    Found(Found),
    Refused(Vec<RegistryError>),
}

fn answer(found: Found, request: &StoredQueryRequest, settings: &QuerySettings) -> QueryResponse {
    let (limit, what) = match request.return_type {
        ReturnType::LeafClass => (settings.leaf_class_limit, "LeafClass"),
        ReturnType::ObjectRef => (settings.object_ref_limit, "ObjectRef"),
    };
    if found.len() > limit {
        let hint = match request.return_type {
            ReturnType::LeafClass => {
                "; ask with returnType ObjectRef, then fetch slices with GetDocuments"
            }
            ReturnType::ObjectRef => "; narrow the query",
        };
        return QueryResponse {
            response: RegistryResponse::from_errors(vec![RegistryError::error(
                XdsErrorCode::TooManyResults,
                format!(
                    "{} objects match; a {what} answer holds at most {limit}{hint}",
                    found.len()
                ),
            )]),
            metadata: Metadata::default(),
        };
    }
    if request.return_type == ReturnType::LeafClass && single_patient_query(&request.query) {
        let mut patients: Vec<&Cx> = Vec::new();
        let metadata = &found.metadata;
        let ids = metadata
            .document_entries
            .iter()
            .filter_map(|entry| entry.patient_id.as_ref())
            .chain(
                metadata
                    .submission_sets
                    .iter()
                    .filter_map(|set| set.patient_id.as_ref()),
            )
            .chain(
                metadata
                    .folders
                    .iter()
                    .filter_map(|folder| folder.patient_id.as_ref()),
            );
        for id in ids {
            if !patients.contains(&id) {
                patients.push(id);
            }
        }
        if patients.len() > 1 {
            return QueryResponse {
                response: RegistryResponse::from_errors(vec![RegistryError::error(
                    XdsErrorCode::ResultNotSinglePatient,
                    format!(
                        "the objects found belong to {} patients; a LeafClass answer must concern one",
                        patients.len()
                    ),
                )]),
                metadata: Metadata::default(),
            };
        }
    }
    let metadata = match request.return_type {
        ReturnType::LeafClass => found.metadata,
        ReturnType::ObjectRef => {
            let metadata = found.metadata;
            let ids = metadata
                .document_entries
                .iter()
                .filter_map(|entry| entry.entry_uuid.as_uuid())
                .chain(
                    metadata
                        .submission_sets
                        .iter()
                        .filter_map(|set| set.entry_uuid.as_uuid()),
                )
                .chain(
                    metadata
                        .folders
                        .iter()
                        .filter_map(|folder| folder.entry_uuid.as_uuid()),
                )
                .chain(
                    metadata
                        .associations
                        .iter()
                        .filter_map(|association| association.entry_uuid.as_uuid()),
                );
            Metadata {
                object_refs: ids.map(|id| ObjectRef { id, home: None }).collect(),
                ..Metadata::default()
            }
        }
    };
    QueryResponse {
        response: RegistryResponse::success(),
        metadata,
    }
}

/// The queries whose LeafClass answer must concern a single patient (ITI-18 3.18.4.1.3.5).
fn single_patient_query(query: &StoredQuery) -> bool {
    matches!(
        query,
        StoredQuery::GetDocuments { .. }
            | StoredQuery::GetFolders { .. }
            | StoredQuery::GetDocumentsAndAssociations { .. }
            | StoredQuery::GetSubmissionSets { .. }
            | StoredQuery::GetSubmissionSetAndContents { .. }
            | StoredQuery::GetFolderAndContents { .. }
    )
}

fn execute(
    store: &dyn MetadataStore,
    request: &StoredQueryRequest,
    settings: &QuerySettings,
    filter: Option<Filter>,
) -> Result<Outcome, StoreError> {
    let mut found = Found::with_filter(filter);
    match &request.query {
        StoredQuery::FindDocuments(query) | StoredQuery::FindDocumentsByReferenceId(query) => {
            let patients = match patient_scope(store, &query.patient_id, settings)? {
                PatientScope::Read(patients) => patients,
                PatientScope::Answer(outcome) => return Ok(outcome),
            };
            scan_patients(store, &patients, Kind::DocumentEntry, &mut |object| {
                if let StoredObject::DocumentEntry(entry) = &object
                    && find_documents_matches(query, entry)
                {
                    found.add(object);
                }
                true
            })?;
        }
        StoredQuery::FindSubmissionSets(query) => {
            let patients = match patient_scope(store, &query.patient_id, settings)? {
                PatientScope::Read(patients) => patients,
                PatientScope::Answer(outcome) => return Ok(outcome),
            };
            scan_patients(store, &patients, Kind::SubmissionSet, &mut |object| {
                if let StoredObject::SubmissionSet(set) = &object {
                    let matches = status_in(&query.statuses, set.availability_status.as_ref())
                        && (query.source_ids.is_empty()
                            || set.source_id.as_ref().is_some_and(|source| {
                                query
                                    .source_ids
                                    .iter()
                                    .any(|wanted| wanted == source.as_str())
                            }))
                        && in_range(&query.submission_time, set.submission_time.as_ref(), false)
                        && query.author_person.as_ref().is_none_or(|pattern| {
                            author_matches(&set.authors, std::slice::from_ref(pattern))
                        })
                        && single_code(&query.content_type_codes, set.content_type_code.as_ref());
                    if matches {
                        found.add(object);
                    }
                }
                true
            })?;
        }
        StoredQuery::FindFolders(query) => {
            let patients = match patient_scope(store, &query.patient_id, settings)? {
                PatientScope::Read(patients) => patients,
                PatientScope::Answer(outcome) => return Ok(outcome),
            };
            scan_patients(store, &patients, Kind::Folder, &mut |object| {
                if let StoredObject::Folder(folder) = &object
                    && status_in(&query.statuses, folder.availability_status.as_ref())
                    && in_range(
                        &query.last_update_time,
                        folder.last_update_time.as_ref(),
                        false,
                    )
                    && multi_code(&query.codes, &folder.codes)
                {
                    found.add(object);
                }
                true
            })?;
        }
        StoredQuery::GetAll(query) => {
            let patients = match patient_scope(store, &query.patient_id, settings)? {
                PatientScope::Read(patients) => patients,
                PatientScope::Answer(outcome) => return Ok(outcome),
            };
            let filter = ContentFilter {
                format_codes: query.format_codes.clone(),
                confidentiality_codes: query.confidentiality_codes.clone(),
                document_types: query.document_types.clone(),
            };
            scan_patients(store, &patients, Kind::SubmissionSet, &mut |object| {
                if let StoredObject::SubmissionSet(set) = &object
                    && status_in(
                        &query.submission_set_statuses,
                        set.availability_status.as_ref(),
                    )
                {
                    found.add(object);
                }
                true
            })?;
            scan_patients(store, &patients, Kind::DocumentEntry, &mut |object| {
                if let StoredObject::DocumentEntry(entry) = &object
                    && status_in(&query.document_statuses, entry.availability_status.as_ref())
                    && content_matches(&filter, entry)
                {
                    found.add(object);
                }
                true
            })?;
            scan_patients(store, &patients, Kind::Folder, &mut |object| {
                if let StoredObject::Folder(folder) = &object
                    && status_in(&query.folder_statuses, folder.availability_status.as_ref())
                {
                    found.add(object);
                }
                true
            })?;
            add_touching_associations(store, &mut found, |_| true)?;
        }
        StoredQuery::GetDocuments { selector } => {
            for entry in select(store, Kind::DocumentEntry, selector)? {
                found.add(entry);
            }
        }
        StoredQuery::GetFolders { selector } => {
            for folder in select(store, Kind::Folder, selector)? {
                found.add(folder);
            }
        }
        StoredQuery::GetAssociations { uuids } => {
            for uuid in uuids {
                for direction in [Direction::From, Direction::To] {
                    for link in store.links(uuid, direction)? {
                        add_object(store, &mut found, &link.association)?;
                    }
                }
            }
        }
        StoredQuery::GetDocumentsAndAssociations { selector } => {
            for entry in select(store, Kind::DocumentEntry, selector)? {
                found.add(entry);
            }
            add_touching_associations(store, &mut found, |_| true)?;
        }
        StoredQuery::GetSubmissionSets { uuids } => {
            for uuid in uuids {
                for link in store.links(uuid, Direction::To)? {
                    if link.association_type != AssociationType::HasMember {
                        continue;
                    }
                    if store.locate(&link.other)?.map(|(kind, _)| kind) == Some(Kind::SubmissionSet)
                    {
                        add_object(store, &mut found, &link.other)?;
                        add_object(store, &mut found, &link.association)?;
                    }
                }
            }
        }
        StoredQuery::GetSubmissionSetAndContents { selector, filter } => {
            let Some(set) = select(store, Kind::SubmissionSet, selector)?
                .into_iter()
                .next()
            else {
                return Ok(Outcome::Found(found));
            };
            let Some(set_uuid) = set.uuid() else {
                return Ok(Outcome::Found(found));
            };
            found.add(set);
            let members = store.links(&set_uuid, Direction::From)?;
            let mut member_associations = Vec::new();
            for link in members
                .iter()
                .filter(|link| link.association_type == AssociationType::HasMember)
            {
                let Some(member) = store.object(&link.other)? else {
                    continue;
                };
                match &member.object {
                    StoredObject::DocumentEntry(entry) if content_matches(filter, entry) => {
                        found.add(member.object);
                        add_object(store, &mut found, &link.association)?;
                    }
                    StoredObject::Folder(_) => {
                        found.add(member.object);
                        add_object(store, &mut found, &link.association)?;
                    }
                    StoredObject::Association(association) => {
                        member_associations.push((link.association, association.clone()))
                    }
                    _ => {}
                }
            }
            // Associations the SubmissionSet holds (folder memberships, relationships) are
            // returned when both their ends are, with the HasMember that holds them.
            for (holder, association) in member_associations {
                let ends = (association.source.as_uuid(), association.target.as_uuid());
                if let (Some(source), Some(target)) = ends
                    && found.contains(&source)
                    && found.contains(&target)
                {
                    found.add(StoredObject::Association(association));
                    add_object(store, &mut found, &holder)?;
                }
            }
        }
        StoredQuery::GetFolderAndContents { selector, filter } => {
            // Every version of the folder at $MetadataLevel 2 (a uniqueId names them all), the
            // current one otherwise.
            let all_versions = request.metadata_level == Some(2);
            for folder in select(store, Kind::Folder, selector)? {
                let deprecated = matches!(
                    &folder,
                    StoredObject::Folder(folder)
                        if folder.availability_status == Some(AvailabilityStatus::Deprecated)
                );
                if deprecated && !all_versions {
                    continue;
                }
                let Some(folder_uuid) = folder.uuid() else {
                    continue;
                };
                found.add(folder);
                for link in store.links(&folder_uuid, Direction::From)? {
                    if link.association_type != AssociationType::HasMember {
                        continue;
                    }
                    if let Some(member) = store.object(&link.other)?
                        && let StoredObject::DocumentEntry(entry) = &member.object
                        && content_matches(filter, entry)
                    {
                        found.add(member.object);
                        add_object(store, &mut found, &link.association)?;
                    }
                }
                if !all_versions {
                    break;
                }
            }
        }
        StoredQuery::GetFoldersForDocument { selector } => {
            for entry in select(store, Kind::DocumentEntry, selector)? {
                let Some(uuid) = entry.uuid() else { continue };
                for link in store.links(&uuid, Direction::To)? {
                    if link.association_type == AssociationType::HasMember
                        && store.locate(&link.other)?.map(|(kind, _)| kind) == Some(Kind::Folder)
                    {
                        add_object(store, &mut found, &link.other)?;
                    }
                }
            }
        }
        StoredQuery::GetRelatedDocuments {
            selector,
            association_types,
            document_types,
        } => {
            let Some(entry) = select(store, Kind::DocumentEntry, selector)?
                .into_iter()
                .next()
            else {
                return Ok(Outcome::Found(found));
            };
            let Some(uuid) = entry.uuid() else {
                return Ok(Outcome::Found(found));
            };
            let mut related: Vec<Link> = Vec::new();
            for direction in [Direction::From, Direction::To] {
                related.extend(
                    store
                        .links(&uuid, direction)?
                        .into_iter()
                        .filter(|link| association_types.contains(&link.association_type)),
                );
            }
            let mut ends = Vec::new();
            let all_statuses = request.metadata_level == Some(2);
            for link in related {
                // At $MetadataLevel 1 a Deprecated association relates nothing.
                if !all_statuses
                    && let Some(Located {
                        object: StoredObject::Association(association),
                        ..
                    }) = store.object(&link.association)?
                    && association.availability_status == Some(AvailabilityStatus::Deprecated)
                {
                    continue;
                }
                let Some(other) = store.object(&link.other)? else {
                    continue;
                };
                let StoredObject::DocumentEntry(other_entry) = &other.object else {
                    continue;
                };
                if !type_matches(document_types, other_entry.object_type) {
                    continue;
                }
                ends.push(other.object);
                add_object(store, &mut found, &link.association)?;
            }
            if !ends.is_empty() {
                found.add(entry);
                for end in ends {
                    found.add(end);
                }
            }
        }
    }
    Ok(Outcome::Found(found))
}

fn unknown_patient(id: &Cx, settings: &QuerySettings) -> Outcome {
    match settings.unknown_patient {
        UnknownPatientAnswer::Empty => Outcome::Found(Found::default()),
        UnknownPatientAnswer::Error => Outcome::Refused(vec![RegistryError::error(
            XdsErrorCode::UnknownPatientId,
            format!("patient id {} is not known to this registry", id.format()),
        )]),
    }
}

/// The objects of one kind an [`ObjectSelector`] names, in the order named.
fn select(
    store: &dyn MetadataStore,
    kind: Kind,
    selector: &ObjectSelector,
) -> Result<Vec<StoredObject>, StoreError> {
    let mut objects = Vec::new();
    match selector {
        ObjectSelector::Uuids(uuids) => {
            for uuid in uuids {
                if let Some(located) = store.object(uuid)?
                    && located.object.kind() == kind
                {
                    objects.push(located.object);
                }
            }
        }
        ObjectSelector::UniqueIds(unique_ids) => {
            for unique_id in unique_ids {
                for uuid in store.by_unique_id(kind, unique_id)? {
                    if let Some(located) = store.object(&uuid)? {
                        objects.push(located.object);
                    }
                }
            }
        }
        // Every version of each logical object: the first version's entryUUID is the logicalID,
        // later DocumentEntry versions share its uniqueId (ITI-57).
        ObjectSelector::LogicalIds(logical_ids) => {
            for logical_id in logical_ids {
                if matches!(kind, Kind::DocumentEntry | Kind::Folder) {
                    objects.extend(
                        super::iti57::versions(store, logical_id)?
                            .into_iter()
                            .map(|located| located.object),
                    );
                } else if let Some(located) = store.object(logical_id)?
                    && located.object.kind() == kind
                {
                    objects.push(located.object);
                }
            }
        }
    }
    Ok(objects)
}

fn add_object(store: &dyn MetadataStore, found: &mut Found, uuid: &Uuid) -> Result<(), StoreError> {
    if found.contains(uuid) {
        return Ok(());
    }
    if let Some(located) = store.object(uuid)? {
        found.add(located.object);
    }
    Ok(())
}

/// Adds the associations with at least one end among the objects found (GetAll,
/// GetDocumentsAndAssociations).
fn add_touching_associations(
    store: &dyn MetadataStore,
    found: &mut Found,
    keep: impl Fn(&Association) -> bool,
) -> Result<(), StoreError> {
    let ends: Vec<Uuid> = found
        .metadata
        .document_entries
        .iter()
        .filter_map(|entry| entry.entry_uuid.as_uuid())
        .chain(
            found
                .metadata
                .submission_sets
                .iter()
                .filter_map(|set| set.entry_uuid.as_uuid()),
        )
        .chain(
            found
                .metadata
                .folders
                .iter()
                .filter_map(|folder| folder.entry_uuid.as_uuid()),
        )
        .collect();
    for uuid in ends {
        for direction in [Direction::From, Direction::To] {
            for link in store.links(&uuid, direction)? {
                if found.contains(&link.association) {
                    continue;
                }
                if let Some(located) = store.object(&link.association)?
                    && let StoredObject::Association(association) = &located.object
                    && keep(association)
                {
                    found.add(located.object);
                }
            }
        }
    }
    Ok(())
}

/// Whether a DocumentEntry matches every FindDocuments parameter.
pub fn find_documents_matches(
    query: &xds::model::FindDocumentsQuery,
    entry: &DocumentEntry,
) -> bool {
    let on_demand = entry.object_type == Some(DocumentEntryType::OnDemand);
    status_in(&query.statuses, entry.availability_status.as_ref())
        && type_matches(&query.document_types, entry.object_type)
        && single_code(&query.class_codes, entry.class_code.as_ref())
        && single_code(&query.type_codes, entry.type_code.as_ref())
        && single_code(
            &query.practice_setting_codes,
            entry.practice_setting_code.as_ref(),
        )
        && single_code(
            &query.healthcare_facility_type_codes,
            entry.healthcare_facility_type_code.as_ref(),
        )
        && single_code(&query.format_codes, entry.format_code.as_ref())
        && multi_code(&query.event_codes, &entry.event_codes)
        && multi_code(&query.confidentiality_codes, &entry.confidentiality_codes)
        && (on_demand || in_range(&query.creation_time, entry.creation_time.as_ref(), false))
        && in_range(
            &query.service_start_time,
            entry.service_start_time.as_ref(),
            true,
        )
        && in_range(
            &query.service_stop_time,
            entry.service_stop_time.as_ref(),
            true,
        )
        && query
            .author_persons
            .iter()
            .all(|patterns| author_matches(&entry.authors, patterns))
        && query.reference_ids.iter().all(|patterns| {
            entry.reference_ids.iter().any(|reference| {
                let text = reference.format();
                patterns.iter().any(|pattern| like_matches(pattern, &text))
            })
        })
        && (query.document_availability.is_empty()
            || query.document_availability.contains(
                &entry
                    .document_availability
                    .unwrap_or(xds::model::DocumentAvailability::Online),
            ))
}

/// The document filters of GetAll, GetSubmissionSetAndContents and GetFolderAndContents.
fn content_matches(filter: &ContentFilter, entry: &DocumentEntry) -> bool {
    type_matches(&filter.document_types, entry.object_type)
        && single_code(&filter.format_codes, entry.format_code.as_ref())
        && multi_code(&filter.confidentiality_codes, &entry.confidentiality_codes)
}

/// `$XDSDocumentEntryType`: absent means Stable only.
fn type_matches(types: &[DocumentEntryType], object_type: Option<DocumentEntryType>) -> bool {
    let object_type = object_type.unwrap_or(DocumentEntryType::Stable);
    if types.is_empty() {
        object_type == DocumentEntryType::Stable
    } else {
        types.contains(&object_type)
    }
}

fn status_in(statuses: &[AvailabilityStatus], status: Option<&AvailabilityStatus>) -> bool {
    status.is_some_and(|status| statuses.contains(status))
}

fn code_is(param: &CodeParam, code: &Code) -> bool {
    param.code == code.code && param.scheme == code.coding_scheme
}

/// A single-valued coded attribute against an AND-of-OR filter.
fn single_code(filter: &CodeFilter, value: Option<&Code>) -> bool {
    filter
        .iter()
        .all(|any| value.is_some_and(|code| any.iter().any(|param| code_is(param, code))))
}

/// A multi-valued coded attribute against an AND-of-OR filter: every slot needs one of its
/// codes among the attribute's values.
fn multi_code(filter: &CodeFilter, values: &[Code]) -> bool {
    filter.iter().all(|any| {
        values
            .iter()
            .any(|code| any.iter().any(|param| code_is(param, code)))
    })
}

/// Half-open `from <= value < to`, compared as DTM strings (xds-spec-brief.md §4.1). An absent
/// value matches when `absent_matches` (service times), never otherwise.
fn in_range(range: &TimeRange, value: Option<&Dtm>, absent_matches: bool) -> bool {
    if range.is_unbounded() {
        return true;
    }
    let Some(value) = value else {
        return absent_matches;
    };
    let value = value.as_str();
    range
        .from
        .as_ref()
        .is_none_or(|from| value >= from.as_str())
        && range.to.as_ref().is_none_or(|to| value < to.as_str())
}

/// One authorPerson slot of the query: some author's person matches one of its patterns.
fn author_matches(authors: &[xds::model::Author], patterns: &[String]) -> bool {
    authors
        .iter()
        .filter_map(|author| author.person.as_ref())
        .any(|person| {
            let text = person.format();
            patterns.iter().any(|pattern| like_matches(pattern, &text))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dtm(value: &str) -> Dtm {
        Dtm::parse(value).expect("valid DTM")
    }

    #[test]
    fn time_ranges_are_half_open_and_lexical() {
        let range = TimeRange {
            from: Some(dtm("2004")),
            to: Some(dtm("200501")),
        };
        assert!(in_range(&range, Some(&dtm("20041225")), false));
        assert!(in_range(&range, Some(&dtm("2004")), false));
        assert!(!in_range(&range, Some(&dtm("200501")), false));
        assert!(!in_range(&range, Some(&dtm("2003")), false));
        assert!(!in_range(&range, None, false));
        assert!(in_range(&range, None, true));
        assert!(in_range(&TimeRange::default(), None, false));
    }

    #[test]
    fn code_filters_are_and_of_or() {
        let a = Code::new("a", "s", "");
        let b = Code::new("b", "s", "");
        let filter = vec![
            vec![CodeParam::new("a", "s"), CodeParam::new("x", "s")],
            vec![CodeParam::new("b", "s")],
        ];
        assert!(multi_code(&filter, &[a.clone(), b.clone()]));
        assert!(!multi_code(&filter, std::slice::from_ref(&a)));
        assert!(!single_code(&filter, Some(&a)));
        assert!(single_code(&vec![vec![CodeParam::new("a", "s")]], Some(&a)));
        assert!(!single_code(
            &vec![vec![CodeParam::new("a", "other")]],
            Some(&a)
        ));
        assert!(single_code(&Vec::new(), None));
    }

    #[test]
    fn absent_document_type_means_stable_only() {
        assert!(type_matches(&[], None));
        assert!(!type_matches(&[], Some(DocumentEntryType::OnDemand)));
        assert!(type_matches(
            &[DocumentEntryType::OnDemand],
            Some(DocumentEntryType::OnDemand)
        ));
    }
}
