//! Typed stored-query requests -> the model. Each typed request is written as the ebRIM
//! parameters it stands for and read by the same parser as an ITI-18 SOAP request, so both
//! transports accept and refuse exactly the same queries, with the same error codes and the
//! parameter name as the location.

use xds::error::RegistryError;
use xds::model::{DocumentAvailability, RawParameter, StoredQueryId, StoredQueryRequest};

use crate::metadata::{association_type, availability, document_type, status};
use crate::v1;

/// One quoted item (`''` escapes a quote).
fn quoted(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// A parenthesized list of quoted items.
fn list<'a>(values: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = values.into_iter().map(quoted).collect();
    format!("({})", items.join(","))
}

/// Builds the parameter list of one query.
#[derive(Debug, Default)]
struct Parameters(Vec<RawParameter>);

impl Parameters {
    fn single(&mut self, name: &str, value: &str) {
        if !value.is_empty() {
            self.0.push(RawParameter::new(name, vec![quoted(value)]));
        }
    }

    fn values<'a>(&mut self, name: &str, values: impl IntoIterator<Item = &'a str>) {
        let values: Vec<&str> = values.into_iter().collect();
        if !values.is_empty() {
            self.0.push(RawParameter::new(name, vec![list(values)]));
        }
    }

    /// Each filter is one occurrence of the parameter (ANDed); its codes are ORed.
    fn codes(&mut self, name: &str, filters: &[v1::CodeFilter]) {
        for filter in filters {
            let codes: Vec<String> = filter
                .codes
                .iter()
                .map(|code| format!("{}^^{}", code.code, code.coding_scheme))
                .collect();
            self.0.push(RawParameter::new(
                name,
                vec![list(codes.iter().map(String::as_str))],
            ));
        }
    }

    fn time(&mut self, from: &str, to: &str, range: Option<&v1::TimeRange>) {
        if let Some(range) = range {
            for (name, value) in [(from, &range.from), (to, &range.to)] {
                if !value.is_empty() {
                    self.0.push(RawParameter::new(name, vec![value.clone()]));
                }
            }
        }
    }

    /// Status values; an unknown enum value is passed on as such for the parser to refuse.
    fn statuses(&mut self, name: &str, values: &[i32]) {
        let urns: Vec<String> = values
            .iter()
            .map(|value| {
                status(*value)
                    .map(|status| status.urn().to_owned())
                    .unwrap_or_else(|| format!("unknown status {value}"))
            })
            .collect();
        self.values(name, urns.iter().map(String::as_str));
    }

    fn document_types(&mut self, values: &[i32]) {
        let urns: Vec<String> = values
            .iter()
            .map(|value| {
                document_type(*value)
                    .map(|kind| kind.urn().to_owned())
                    .unwrap_or_else(|| format!("unknown document type {value}"))
            })
            .collect();
        self.values("$XDSDocumentEntryType", urns.iter().map(String::as_str));
    }

    fn selector(
        &mut self,
        prefix: &str,
        uuids: &[String],
        unique_ids: &[String],
        logical: &[String],
    ) {
        self.values(
            &format!("{prefix}EntryUUID"),
            uuids.iter().map(String::as_str),
        );
        self.values(
            &format!("{prefix}UniqueId"),
            unique_ids.iter().map(String::as_str),
        );
        self.values(
            &format!("{prefix}LogicalID"),
            logical.iter().map(String::as_str),
        );
    }
}

/// Reads a typed query with its options.
fn read(
    id: StoredQueryId,
    options: Option<&v1::QueryOptions>,
    parameters: Parameters,
) -> Result<StoredQueryRequest, Vec<RegistryError>> {
    let default = v1::QueryOptions::default();
    let options = options.unwrap_or(&default);
    let mut parameters = parameters.0;
    if let Some(level) = options.metadata_level {
        parameters.push(RawParameter::new("$MetadataLevel", vec![level.to_string()]));
    }
    let home = (!options.home.is_empty()).then_some(options.home.as_str());
    StoredQueryRequest::from_parameters(id.urn(), Some(return_type(options)), home, &parameters)
}

fn return_type(options: &v1::QueryOptions) -> &'static str {
    match v1::ReturnType::try_from(options.return_type) {
        Ok(v1::ReturnType::ObjectRef) => "ObjectRef",
        _ => "LeafClass",
    }
}

/// FindDocuments or FindDocumentsByReferenceId.
pub fn find_documents(
    id: StoredQueryId,
    request: &v1::FindDocumentsRequest,
) -> Result<StoredQueryRequest, Vec<RegistryError>> {
    let mut p = Parameters::default();
    p.single("$XDSDocumentEntryPatientId", &request.patient_id);
    p.codes("$XDSDocumentEntryClassCode", &request.class_codes);
    p.codes("$XDSDocumentEntryTypeCode", &request.type_codes);
    p.codes(
        "$XDSDocumentEntryPracticeSettingCode",
        &request.practice_setting_codes,
    );
    p.codes(
        "$XDSDocumentEntryHealthcareFacilityTypeCode",
        &request.healthcare_facility_type_codes,
    );
    p.codes("$XDSDocumentEntryEventCodeList", &request.event_codes);
    p.codes(
        "$XDSDocumentEntryConfidentialityCode",
        &request.confidentiality_codes,
    );
    p.codes("$XDSDocumentEntryFormatCode", &request.format_codes);
    p.time(
        "$XDSDocumentEntryCreationTimeFrom",
        "$XDSDocumentEntryCreationTimeTo",
        request.creation_time.as_ref(),
    );
    p.time(
        "$XDSDocumentEntryServiceStartTimeFrom",
        "$XDSDocumentEntryServiceStartTimeTo",
        request.service_start_time.as_ref(),
    );
    p.time(
        "$XDSDocumentEntryServiceStopTimeFrom",
        "$XDSDocumentEntryServiceStopTimeTo",
        request.service_stop_time.as_ref(),
    );
    p.values(
        "$XDSDocumentEntryAuthorPerson",
        request.author_persons.iter().map(String::as_str),
    );
    p.statuses("$XDSDocumentEntryStatus", &request.statuses);
    p.document_types(&request.document_types);
    p.values(
        "$XDSDocumentEntryReferenceIdList",
        request.reference_ids.iter().map(String::as_str),
    );
    let availability: Vec<&str> = request
        .document_availability
        .iter()
        .map(|value| availability(*value).map_or("unknown", DocumentAvailability::urn))
        .collect();
    p.values("$XDSDocumentEntryDocumentAvailability", availability);
    read(id, request.options.as_ref(), p)
}

pub fn find_submission_sets(
    request: &v1::FindSubmissionSetsRequest,
) -> Result<StoredQueryRequest, Vec<RegistryError>> {
    let mut p = Parameters::default();
    p.single("$XDSSubmissionSetPatientId", &request.patient_id);
    p.values(
        "$XDSSubmissionSetSourceId",
        request.source_ids.iter().map(String::as_str),
    );
    p.time(
        "$XDSSubmissionSetSubmissionTimeFrom",
        "$XDSSubmissionSetSubmissionTimeTo",
        request.submission_time.as_ref(),
    );
    p.single("$XDSSubmissionSetAuthorPerson", &request.author_person);
    p.codes("$XDSSubmissionSetContentType", &request.content_type_codes);
    p.statuses("$XDSSubmissionSetStatus", &request.statuses);
    read(
        StoredQueryId::FindSubmissionSets,
        request.options.as_ref(),
        p,
    )
}

pub fn find_folders(
    request: &v1::FindFoldersRequest,
) -> Result<StoredQueryRequest, Vec<RegistryError>> {
    let mut p = Parameters::default();
    p.single("$XDSFolderPatientId", &request.patient_id);
    p.time(
        "$XDSFolderLastUpdateTimeFrom",
        "$XDSFolderLastUpdateTimeTo",
        request.last_update_time.as_ref(),
    );
    p.codes("$XDSFolderCodeList", &request.codes);
    p.statuses("$XDSFolderStatus", &request.statuses);
    read(StoredQueryId::FindFolders, request.options.as_ref(), p)
}

pub fn get_all(request: &v1::GetAllRequest) -> Result<StoredQueryRequest, Vec<RegistryError>> {
    let mut p = Parameters::default();
    p.single("$patientId", &request.patient_id);
    p.statuses("$XDSDocumentEntryStatus", &request.document_statuses);
    p.statuses("$XDSSubmissionSetStatus", &request.submission_set_statuses);
    p.statuses("$XDSFolderStatus", &request.folder_statuses);
    p.codes("$XDSDocumentEntryFormatCode", &request.format_codes);
    p.codes(
        "$XDSDocumentEntryConfidentialityCode",
        &request.confidentiality_codes,
    );
    p.document_types(&request.document_types);
    read(StoredQueryId::GetAll, request.options.as_ref(), p)
}

/// GetDocuments, GetFolders, GetAssociations, GetDocumentsAndAssociations, GetSubmissionSets,
/// GetFoldersForDocument.
pub fn get_objects(
    id: StoredQueryId,
    request: &v1::GetObjectsRequest,
) -> Result<StoredQueryRequest, Vec<RegistryError>> {
    let mut p = Parameters::default();
    match id {
        StoredQueryId::GetAssociations | StoredQueryId::GetSubmissionSets => {
            p.values("$uuid", request.uuids.iter().map(String::as_str));
        }
        StoredQueryId::GetFolders => p.selector(
            "$XDSFolder",
            &request.uuids,
            &request.unique_ids,
            &request.logical_ids,
        ),
        _ => p.selector(
            "$XDSDocumentEntry",
            &request.uuids,
            &request.unique_ids,
            &request.logical_ids,
        ),
    }
    read(id, request.options.as_ref(), p)
}

/// GetSubmissionSetAndContents or GetFolderAndContents.
pub fn get_contents(
    id: StoredQueryId,
    request: &v1::GetContentsRequest,
) -> Result<StoredQueryRequest, Vec<RegistryError>> {
    let mut p = Parameters::default();
    let prefix = if id == StoredQueryId::GetFolderAndContents {
        "$XDSFolder"
    } else {
        "$XDSSubmissionSet"
    };
    p.selector(prefix, &request.uuids, &request.unique_ids, &[]);
    p.codes("$XDSDocumentEntryFormatCode", &request.format_codes);
    p.codes(
        "$XDSDocumentEntryConfidentialityCode",
        &request.confidentiality_codes,
    );
    p.document_types(&request.document_types);
    read(id, request.options.as_ref(), p)
}

pub fn get_related_documents(
    request: &v1::GetRelatedDocumentsRequest,
) -> Result<StoredQueryRequest, Vec<RegistryError>> {
    let mut p = Parameters::default();
    p.selector(
        "$XDSDocumentEntry",
        &request.uuids,
        &request.unique_ids,
        &[],
    );
    let types: Vec<String> = request
        .association_types
        .iter()
        .map(|value| {
            association_type(*value)
                .map(|kind| kind.urn().to_owned())
                .unwrap_or_else(|| format!("unknown association type {value}"))
        })
        .collect();
    p.values("$AssociationTypes", types.iter().map(String::as_str));
    p.document_types(&request.document_types);
    read(
        StoredQueryId::GetRelatedDocuments,
        request.options.as_ref(),
        p,
    )
}

/// The generic form: the query id and raw parameters.
pub fn generic(request: &v1::QueryRequest) -> Result<StoredQueryRequest, Vec<RegistryError>> {
    let default = v1::QueryOptions::default();
    let options = request.options.as_ref().unwrap_or(&default);
    let mut parameters: Vec<RawParameter> = request
        .parameters
        .iter()
        .map(|parameter| RawParameter::new(&parameter.name, parameter.values.clone()))
        .collect();
    if let Some(level) = options.metadata_level {
        parameters.push(RawParameter::new("$MetadataLevel", vec![level.to_string()]));
    }
    let home = (!options.home.is_empty()).then_some(options.home.as_str());
    StoredQueryRequest::from_parameters(
        &request.query_id,
        Some(return_type(options)),
        home,
        &parameters,
    )
}
