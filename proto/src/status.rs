//! XDS outcomes <-> gRPC statuses. A Failure becomes a non-OK status: its code says what kind of
//! failure it is, its message is the first error's text, and its details (google.rpc.Status)
//! hold one google.rpc.ErrorInfo per RegistryError: reason = the XDS error code, domain =
//! [`ERROR_DOMAIN`], metadata `location`, `severity`, `code_context`.

use std::collections::HashMap;

use tonic::{Code, Status};
use tonic_types::{ErrorDetail, ErrorInfo, StatusExt};
use xds::error::{RegistryError, Severity, XdsErrorCode};

/// The ErrorInfo domain of XDS errors.
pub const ERROR_DOMAIN: &str = "ihe.net/xds";

/// Whether `code_context` starts with a refusal token (`ACCESS_BLOCKED: ...`, `VIHF_...`): the
/// access policy's and the caller checks' stable prefixes.
pub fn is_refusal(code_context: &str) -> bool {
    xds::error::refusal_token(code_context).is_some()
}

/// The gRPC code of a failure whose first error is `error`.
pub fn code_of(error: &RegistryError) -> Code {
    use XdsErrorCode as X;
    match error.code {
        X::RegistryError | X::RepositoryError if is_refusal(&error.code_context) => {
            Code::PermissionDenied
        }
        X::RegistryError | X::RepositoryError | X::RemoveDocumentsError => Code::Internal,
        X::RegistryBusy | X::RepositoryBusy | X::RegistryNotAvailable | X::UnavailableCommunity => {
            Code::Unavailable
        }
        X::RegistryOutOfResources | X::RepositoryOutOfResources | X::TooManyResults => {
            Code::ResourceExhausted
        }
        X::UnknownPatientId
        | X::UnknownRepositoryId
        | X::DocumentUniqueIdError
        | X::UnknownCommunity
        | X::UnknownStoredQuery
        | X::UnresolvedReferenceException
        | X::UnreferencedObjectException => Code::NotFound,
        X::DuplicateUniqueIdInRegistry
        | X::RegistryDeprecatedDocumentError
        | X::MetadataVersionError
        | X::ReferencesExistException
        | X::PatientIdReconciliationError => Code::FailedPrecondition,
        _ => Code::InvalidArgument,
    }
}

fn error_info(error: &RegistryError) -> ErrorDetail {
    let mut metadata = HashMap::new();
    metadata.insert(
        "severity".to_owned(),
        match error.severity {
            Severity::Error => "Error",
            Severity::Warning => "Warning",
        }
        .to_owned(),
    );
    metadata.insert("code_context".to_owned(), error.code_context.clone());
    if let Some(location) = &error.location {
        metadata.insert("location".to_owned(), location.clone());
    }
    ErrorInfo::new(error.code.as_str(), ERROR_DOMAIN, metadata).into()
}

/// The status answering failed `errors` (at least one); the errors are counted in the
/// daemon's metrics (this is the server side).
#[cfg(feature = "server")]
pub fn failure(errors: &[RegistryError]) -> Status {
    xds::net::metrics::global().errors(errors);
    status_of(errors)
}

/// The status of failed `errors` (at least one).
pub fn status_of(errors: &[RegistryError]) -> Status {
    let Some(first) = errors
        .iter()
        .find(|error| error.severity == Severity::Error)
        .or(errors.first())
    else {
        return Status::internal("failure without errors");
    };
    let details: Vec<ErrorDetail> = errors.iter().map(error_info).collect();
    Status::with_error_details_vec(
        code_of(first),
        format!("{}: {}", first.code.as_str(), first.code_context),
        details,
    )
}

/// Ok(response) for Success and PartialSuccess, the failure status otherwise (errors counted
/// in the daemon's metrics).
#[cfg(feature = "server")]
pub fn answer(
    response: &xds::error::RegistryResponse,
) -> Result<crate::v1::RegistryResponse, Status> {
    xds::net::metrics::global().errors(&response.errors);
    if response.status == xds::ResponseStatus::Failure {
        Err(status_of(&response.errors))
    } else {
        Ok(crate::metadata::response_to_proto(response))
    }
}

/// The XDS errors a status carries in its details (clients).
pub fn errors_of(status: &Status) -> Vec<RegistryError> {
    let mut errors = Vec::new();
    for detail in status.get_error_details_vec() {
        if let ErrorDetail::ErrorInfo(info) = detail {
            if info.domain != ERROR_DOMAIN {
                continue;
            }
            let code = XdsErrorCode::from_spec(&info.reason).unwrap_or(XdsErrorCode::RegistryError);
            let context = info
                .metadata
                .get("code_context")
                .cloned()
                .unwrap_or_default();
            let mut error = if info.metadata.get("severity").map(String::as_str) == Some("Warning")
            {
                RegistryError::warning(code, context)
            } else {
                RegistryError::error(code, context)
            };
            if let Some(location) = info.metadata.get("location") {
                error = error.at(location.clone());
            }
            errors.push(error);
        }
    }
    errors
}
