//! Transaction bodies <-> model: ITI-41/42/57 submissions, ITI-18 queries and responses,
//! ITI-43 retrieve, ITI-62 and ITI-86 removals, and RegistryResponse.

use std::collections::HashSet;

use super::metadata::{metadata_from_wire, metadata_to_wire};
use super::{Options, Violation};
use crate::error::{RegistryError, RegistryResponse, ResponseStatus, Severity, XdsErrorCode};
use crate::model::*;
use crate::wire;
use crate::wire::{Attachment, OutContent};

/// ITI-42 / ITI-57 body -> model.
pub fn submit_objects_from_wire(
    request: &wire::SubmitObjectsRequest,
    options: Options,
) -> Result<Metadata, Vec<Violation>> {
    metadata_from_wire(&request.objects, options)
}

/// Model -> ITI-42 / ITI-57 body.
pub fn submit_objects_to_wire(metadata: &Metadata) -> wire::SubmitObjectsRequest {
    wire::SubmitObjectsRequest {
        header: wire::RequestHeader::default(),
        objects: metadata_to_wire(metadata),
    }
}

/// ITI-41 body -> model. Besides the metadata rules, checks that documents and
/// DocumentEntries pair up one to one (XDSMissingDocument / XDSMissingDocumentMetadata).
pub fn provide_and_register_from_wire<H>(
    request: wire::ProvideAndRegisterRequest<Attachment<H>>,
    options: Options,
) -> Result<ProvideAndRegister<Attachment<H>>, Vec<Violation>> {
    let mut violations = Vec::new();
    let metadata = match metadata_from_wire(&request.submit.objects, options) {
        Ok(metadata) => Some(metadata),
        Err(mut found) => {
            violations.append(&mut found);
            None
        }
    };
    let mut documents = Vec::with_capacity(request.documents.len());
    let mut seen = HashSet::new();
    for document in request.documents {
        let location = format!(
            "xds:Document {}",
            document.id.as_deref().unwrap_or("(no id)")
        );
        match document.id.as_deref().map(ObjectId::parse) {
            None => violations.push(Violation::new(
                options.metadata_error,
                location,
                "xds:Document without an id",
            )),
            Some(Err(error)) => violations.push(Violation::new(
                options.metadata_error,
                location,
                format!("id: {error}"),
            )),
            Some(Ok(id)) => {
                if !seen.insert(id.clone()) {
                    violations.push(Violation::new(
                        options.metadata_error,
                        location,
                        format!("two xds:Document elements have id {id}"),
                    ));
                } else {
                    documents.push(Document {
                        id,
                        content: document.content,
                    });
                }
            }
        }
    }
    if let Some(metadata) = &metadata {
        let entry_ids: HashSet<&ObjectId> = metadata
            .document_entries
            .iter()
            .map(|entry| &entry.entry_uuid)
            .collect();
        for entry in &metadata.document_entries {
            if !seen.contains(&entry.entry_uuid) {
                violations.push(Violation::new(
                    XdsErrorCode::MissingDocument,
                    format!("ExtrinsicObject {}", entry.entry_uuid),
                    format!("DocumentEntry {} has no xds:Document", entry.entry_uuid),
                ));
            }
        }
        for document in &documents {
            if !entry_ids.contains(&document.id) {
                violations.push(Violation::new(
                    XdsErrorCode::MissingDocumentMetadata,
                    format!("xds:Document {}", document.id),
                    format!("xds:Document {} has no DocumentEntry", document.id),
                ));
            }
        }
    }
    match metadata {
        Some(metadata) if violations.is_empty() => Ok(ProvideAndRegister {
            metadata,
            documents,
        }),
        _ => Err(violations),
    }
}

/// Model -> ITI-41 body; `content` says how each document travels.
pub fn provide_and_register_to_wire<D>(
    request: &ProvideAndRegister<D>,
    mut content: impl FnMut(&Document<D>) -> OutContent,
) -> wire::ProvideAndRegisterRequest<OutContent> {
    wire::ProvideAndRegisterRequest {
        submit: submit_objects_to_wire(&request.metadata),
        documents: request
            .documents
            .iter()
            .map(|document| wire::Document {
                id: Some(document.id.to_string()),
                content: content(document),
            })
            .collect(),
    }
}

/// ITI-18 body -> model. Errors carry the stored-query error codes.
pub fn stored_query_from_wire(
    request: &wire::AdhocQueryRequest,
) -> Result<StoredQueryRequest, Vec<RegistryError>> {
    let Some(query_id) = request.query.object.id.as_deref() else {
        return Err(vec![RegistryError::error(
            XdsErrorCode::UnknownStoredQuery,
            "rim:AdhocQuery has no id",
        )]);
    };
    let mut errors = Vec::new();
    let mut parameters = Vec::with_capacity(request.query.object.slots.len());
    for slot in &request.query.object.slots {
        match &slot.name {
            Some(name) => parameters.push(RawParameter::new(name, slot.values.clone())),
            None => errors.push(RegistryError::error(
                XdsErrorCode::RegistryError,
                "query parameter slot without a name",
            )),
        }
    }
    match StoredQueryRequest::from_parameters(
        query_id,
        request.return_type.as_deref(),
        request.query.object.home.as_deref(),
        &parameters,
    ) {
        Ok(query) if errors.is_empty() => Ok(query),
        Ok(_) => Err(errors),
        Err(mut found) => {
            errors.append(&mut found);
            Err(errors)
        }
    }
}

/// Model -> ITI-18 body.
pub fn stored_query_to_wire(request: &StoredQueryRequest) -> wire::AdhocQueryRequest {
    wire::AdhocQueryRequest {
        header: wire::RequestHeader::default(),
        return_type: Some(request.return_type.as_str().to_owned()),
        return_composed_objects: Some("true".to_owned()),
        query: wire::AdhocQuery {
            object: wire::RegistryObject {
                id: Some(request.query.id().urn().to_owned()),
                home: request.home.clone(),
                slots: request
                    .to_parameters()
                    .into_iter()
                    .map(|parameter| wire::Slot::new(&parameter.name, parameter.values))
                    .collect(),
                ..wire::RegistryObject::default()
            },
            query_expression: None,
        },
        ..wire::AdhocQueryRequest::default()
    }
}

/// ITI-43 / ITI-86 document requests -> model.
pub fn document_requests_from_wire(
    requests: &[wire::DocumentRequest],
    options: Options,
) -> Result<Vec<DocumentRequest>, Vec<Violation>> {
    let mut violations = Vec::new();
    if requests.is_empty() {
        violations.push(Violation::new(
            options.metadata_error,
            "DocumentRequest",
            "at least one xds:DocumentRequest is required",
        ));
    }
    let mut out = Vec::with_capacity(requests.len());
    for (index, request) in requests.iter().enumerate() {
        let location = format!("DocumentRequest[{}]", index + 1);
        let repository = request
            .repository_unique_id
            .clone()
            .filter(|value| !value.is_empty());
        let document = request
            .document_unique_id
            .clone()
            .filter(|value| !value.is_empty());
        if repository.is_none() {
            violations.push(Violation::new(
                options.metadata_error,
                location.clone(),
                "xds:RepositoryUniqueId is missing",
            ));
        }
        if document.is_none() {
            violations.push(Violation::new(
                options.metadata_error,
                location.clone(),
                "xds:DocumentUniqueId is missing",
            ));
        }
        if let (Some(repository_unique_id), Some(document_unique_id)) = (repository, document) {
            out.push(DocumentRequest {
                home_community_id: request
                    .home_community_id
                    .clone()
                    .filter(|value| !value.is_empty()),
                repository_unique_id,
                document_unique_id,
            });
        }
    }
    if violations.is_empty() {
        Ok(out)
    } else {
        Err(violations)
    }
}

/// Model -> ITI-43 / ITI-86 document requests.
pub fn document_requests_to_wire(requests: &[DocumentRequest]) -> Vec<wire::DocumentRequest> {
    requests
        .iter()
        .map(|request| wire::DocumentRequest {
            home_community_id: request.home_community_id.clone(),
            repository_unique_id: Some(request.repository_unique_id.clone()),
            document_unique_id: Some(request.document_unique_id.clone()),
        })
        .collect()
}

/// ITI-62 body -> model: a non-empty ObjectRefList of UUIDs, no AdhocQuery, no deletionScope
/// (RMD restrictions, xds-spec-brief.md §6.2).
pub fn remove_metadata_from_wire(
    request: &wire::RemoveObjectsRequest,
    options: Options,
) -> Result<RemoveMetadata, Vec<Violation>> {
    let mut violations = Vec::new();
    let code = options.metadata_error;
    if request.query.is_some() {
        violations.push(Violation::new(
            code,
            "RemoveObjectsRequest/AdhocQuery",
            "ITI-62 does not allow rim:AdhocQuery",
        ));
    }
    if request.deletion_scope.is_some() {
        violations.push(Violation::new(
            code,
            "RemoveObjectsRequest/@deletionScope",
            "ITI-62 does not allow deletionScope",
        ));
    }
    let mut object_refs = Vec::new();
    match &request.object_refs {
        None => violations.push(Violation::new(
            code,
            "RemoveObjectsRequest",
            "rim:ObjectRefList is required",
        )),
        Some(refs) if refs.is_empty() => {
            violations.push(Violation::new(
                code,
                "RemoveObjectsRequest/ObjectRefList",
                "rim:ObjectRefList is empty",
            ));
        }
        Some(refs) => {
            for object_ref in refs {
                let location = format!(
                    "ObjectRef {}",
                    object_ref.id.as_deref().unwrap_or("(no id)")
                );
                match object_ref.id.as_deref().map(Uuid::parse_urn) {
                    Some(Ok(uuid)) => object_refs.push(uuid),
                    Some(Err(error)) => {
                        violations.push(Violation::new(code, location, error.to_string()))
                    }
                    None => {
                        violations.push(Violation::new(code, location, "ObjectRef without an id"))
                    }
                }
            }
        }
    }
    if violations.is_empty() {
        Ok(RemoveMetadata { object_refs })
    } else {
        Err(violations)
    }
}

/// Model -> ITI-62 body.
pub fn remove_metadata_to_wire(request: &RemoveMetadata) -> wire::RemoveObjectsRequest {
    wire::RemoveObjectsRequest {
        header: wire::RequestHeader::default(),
        deletion_scope: None,
        query: None,
        object_refs: Some(
            request
                .object_refs
                .iter()
                .map(|uuid| wire::ObjectRef {
                    id: Some(uuid.to_urn()),
                    home: None,
                    create_replica: None,
                    slots: Vec::new(),
                })
                .collect(),
        ),
    }
}

/// Model -> `rs:RegistryResponse` (with `highestSeverity` when there are errors).
pub fn registry_response_to_wire(response: &RegistryResponse) -> wire::RegistryResponse {
    wire::RegistryResponse {
        status: Some(response.status.urn().to_owned()),
        request_id: response.request_id.clone(),
        response_slots: None,
        errors: (!response.errors.is_empty()).then(|| wire::RegistryErrorList {
            highest_severity: response
                .highest_severity()
                .map(|severity| severity.urn().to_owned()),
            errors: response
                .errors
                .iter()
                .map(|error| wire::RegistryError {
                    error_code: Some(error.code.as_str().to_owned()),
                    code_context: Some(error.code_context.clone()),
                    severity: Some(error.severity.urn().to_owned()),
                    location: error.location.clone(),
                    text: String::new(),
                })
                .collect(),
        }),
    }
}

/// `rs:RegistryResponse` -> model. Codes outside the closed set and unknown statuses are
/// violations (the harness reads the wire strings directly when it must accept anything).
pub fn registry_response_from_wire(
    response: &wire::RegistryResponse,
) -> Result<RegistryResponse, Vec<Violation>> {
    let mut violations = Vec::new();
    let status = match response
        .status
        .as_deref()
        .map(|status| ResponseStatus::from_urn(status.trim()))
    {
        Some(Some(status)) => Some(status),
        Some(None) => {
            violations.push(Violation::new(
                XdsErrorCode::RegistryError,
                "RegistryResponse/@status",
                format!(
                    "unknown status {:?}",
                    response.status.as_deref().unwrap_or("")
                ),
            ));
            None
        }
        None => {
            violations.push(Violation::new(
                XdsErrorCode::RegistryError,
                "RegistryResponse/@status",
                "status is missing",
            ));
            None
        }
    };
    let mut errors = Vec::new();
    for (index, error) in response
        .errors
        .iter()
        .flat_map(|list| list.errors.iter())
        .enumerate()
    {
        let location = format!("RegistryError[{}]", index + 1);
        let code = error
            .error_code
            .as_deref()
            .map(str::trim)
            .and_then(XdsErrorCode::from_spec);
        let severity = match error.severity.as_deref() {
            None => Some(Severity::Error),
            Some(urn) => Severity::from_urn(urn.trim()),
        };
        match (code, severity) {
            (Some(code), Some(severity)) => errors.push(RegistryError {
                code,
                code_context: error.code_context.clone().unwrap_or_default(),
                severity,
                location: error.location.clone(),
            }),
            (None, _) => violations.push(Violation::new(
                XdsErrorCode::RegistryError,
                location,
                format!(
                    "unknown errorCode {:?}",
                    error.error_code.as_deref().unwrap_or("")
                ),
            )),
            (_, None) => violations.push(Violation::new(
                XdsErrorCode::RegistryError,
                location,
                format!(
                    "unknown severity {:?}",
                    error.severity.as_deref().unwrap_or("")
                ),
            )),
        }
    }
    match status {
        Some(status) if violations.is_empty() => Ok(RegistryResponse {
            status,
            errors,
            request_id: response.request_id.clone(),
        }),
        _ => Err(violations),
    }
}

/// Model -> `query:AdhocQueryResponse`.
pub fn query_response_to_wire(response: &QueryResponse) -> wire::AdhocQueryResponse {
    wire::AdhocQueryResponse {
        response: registry_response_to_wire(&response.response),
        start_index: None,
        total_result_count: None,
        objects: metadata_to_wire(&response.metadata),
    }
}

/// `query:AdhocQueryResponse` -> model.
pub fn query_response_from_wire(
    response: &wire::AdhocQueryResponse,
    options: Options,
) -> Result<QueryResponse, Vec<Violation>> {
    let registry = registry_response_from_wire(&response.response);
    let metadata = metadata_from_wire(&response.objects, options);
    match (registry, metadata) {
        (Ok(response), Ok(metadata)) => Ok(QueryResponse { response, metadata }),
        (registry, metadata) => Err(registry
            .err()
            .into_iter()
            .flatten()
            .chain(metadata.err().into_iter().flatten())
            .collect()),
    }
}

/// Model -> `xds:RetrieveDocumentSetResponse`; `content` says how each document travels.
pub fn retrieve_response_to_wire<D>(
    response: &RetrieveResponse<D>,
    mut content: impl FnMut(&RetrievedDocument<D>) -> OutContent,
) -> wire::RetrieveDocumentSetResponse<OutContent> {
    wire::RetrieveDocumentSetResponse {
        response: registry_response_to_wire(&response.response),
        documents: response
            .documents
            .iter()
            .map(|document| wire::DocumentResponse {
                home_community_id: document.home_community_id.clone(),
                repository_unique_id: Some(document.repository_unique_id.clone()),
                document_unique_id: Some(document.document_unique_id.clone()),
                new_repository_unique_id: document.new_repository_unique_id.clone(),
                new_document_unique_id: document.new_document_unique_id.clone(),
                mime_type: Some(document.mime_type.clone()),
                document: content(document),
            })
            .collect(),
    }
}

/// `xds:RetrieveDocumentSetResponse` -> model.
pub fn retrieve_response_from_wire<H>(
    response: wire::RetrieveDocumentSetResponse<Attachment<H>>,
) -> Result<RetrieveResponse<Attachment<H>>, Vec<Violation>> {
    let mut violations = registry_response_from_wire(&response.response)
        .err()
        .unwrap_or_default();
    let registry = registry_response_from_wire(&response.response).ok();
    let mut documents = Vec::with_capacity(response.documents.len());
    for (index, document) in response.documents.into_iter().enumerate() {
        let location = format!("DocumentResponse[{}]", index + 1);
        let mut missing = |what: &str| {
            violations.push(Violation::new(
                XdsErrorCode::RepositoryError,
                location.clone(),
                format!("{what} is missing"),
            ))
        };
        let repository_unique_id = document
            .repository_unique_id
            .filter(|value| !value.is_empty());
        let document_unique_id = document
            .document_unique_id
            .filter(|value| !value.is_empty());
        let mime_type = document.mime_type.filter(|value| !value.is_empty());
        if repository_unique_id.is_none() {
            missing("xds:RepositoryUniqueId");
        }
        if document_unique_id.is_none() {
            missing("xds:DocumentUniqueId");
        }
        if mime_type.is_none() {
            missing("xds:mimeType");
        }
        if let (Some(repository_unique_id), Some(document_unique_id), Some(mime_type)) =
            (repository_unique_id, document_unique_id, mime_type)
        {
            documents.push(RetrievedDocument {
                home_community_id: document.home_community_id,
                repository_unique_id,
                document_unique_id,
                new_repository_unique_id: document.new_repository_unique_id,
                new_document_unique_id: document.new_document_unique_id,
                mime_type,
                content: document.document,
            });
        }
    }
    match registry {
        Some(response) if violations.is_empty() => Ok(RetrieveResponse {
            response,
            documents,
        }),
        _ => Err(violations),
    }
}
