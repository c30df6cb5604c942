//! XDS error codes, severities and the RegistryResponse status model.
//!
//! Every client-visible error carries exactly one [`XdsErrorCode`]. The enum is closed: a new
//! code is a new variant, and every `match` over it is exhaustive, so adding one makes the
//! compiler point at each place that must decide about it. The strings are the exact spec
//! strings (ITI TF-3 Table 4.2.4.1-2, the Metadata Update and RMD supplements).

use std::fmt;

/// The closed set of error codes we emit or understand.
///
/// Variant names are the spec strings without their `XDS` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum XdsErrorCode {
    RegistryError,
    RepositoryError,
    RegistryMetadataError,
    RepositoryMetadataError,
    MissingDocument,
    MissingDocumentMetadata,
    RegistryNotAvailable,
    RegistryDuplicateUniqueIdInMessage,
    RepositoryDuplicateUniqueIdInMessage,
    DuplicateUniqueIdInRegistry,
    NonIdenticalHash,
    NonIdenticalSize,
    PatientIdDoesNotMatch,
    UnknownPatientId,
    RegistryDeprecatedDocumentError,
    UnresolvedReferenceException,
    ExtraMetadataNotSaved,
    RegistryBusy,
    RepositoryBusy,
    RegistryOutOfResources,
    RepositoryOutOfResources,
    UnknownStoredQuery,
    StoredQueryMissingParam,
    StoredQueryParamNumber,
    ResultNotSinglePatient,
    TooManyResults,
    DocumentUniqueIdError,
    UnknownRepositoryId,
    MissingHomeCommunityId,
    UnknownCommunity,
    UnavailableCommunity,
    /// Deprecated by IHE; listed so that a peer's use of it is understood. Never emitted.
    ReplaceFailed,
    // XDR Document Recipient codes (understood by the harness, never emitted by our daemons).
    DocumentQueued,
    InvalidDocumentContent,
    PartialAppendContentNotProcessed,
    PartialFolderContentNotProcessed,
    PartialReplaceContentNotProcessed,
    PartialTransformNotProcessed,
    PartialTransformReplaceNotProcessed,
    // Metadata Update (ITI-57).
    MetadataUpdateError,
    MetadataVersionError,
    PatientIdReconciliationError,
    MetadataUpdateOperationError,
    // Remove Metadata and Documents (ITI-62, ITI-86).
    ReferencesExistException,
    UnreferencedObjectException,
    RemoveDocumentsError,
}

impl XdsErrorCode {
    /// Every code, in declaration order.
    pub const ALL: &'static [XdsErrorCode] = &[
        Self::RegistryError,
        Self::RepositoryError,
        Self::RegistryMetadataError,
        Self::RepositoryMetadataError,
        Self::MissingDocument,
        Self::MissingDocumentMetadata,
        Self::RegistryNotAvailable,
        Self::RegistryDuplicateUniqueIdInMessage,
        Self::RepositoryDuplicateUniqueIdInMessage,
        Self::DuplicateUniqueIdInRegistry,
        Self::NonIdenticalHash,
        Self::NonIdenticalSize,
        Self::PatientIdDoesNotMatch,
        Self::UnknownPatientId,
        Self::RegistryDeprecatedDocumentError,
        Self::UnresolvedReferenceException,
        Self::ExtraMetadataNotSaved,
        Self::RegistryBusy,
        Self::RepositoryBusy,
        Self::RegistryOutOfResources,
        Self::RepositoryOutOfResources,
        Self::UnknownStoredQuery,
        Self::StoredQueryMissingParam,
        Self::StoredQueryParamNumber,
        Self::ResultNotSinglePatient,
        Self::TooManyResults,
        Self::DocumentUniqueIdError,
        Self::UnknownRepositoryId,
        Self::MissingHomeCommunityId,
        Self::UnknownCommunity,
        Self::UnavailableCommunity,
        Self::ReplaceFailed,
        Self::DocumentQueued,
        Self::InvalidDocumentContent,
        Self::PartialAppendContentNotProcessed,
        Self::PartialFolderContentNotProcessed,
        Self::PartialReplaceContentNotProcessed,
        Self::PartialTransformNotProcessed,
        Self::PartialTransformReplaceNotProcessed,
        Self::MetadataUpdateError,
        Self::MetadataVersionError,
        Self::PatientIdReconciliationError,
        Self::MetadataUpdateOperationError,
        Self::ReferencesExistException,
        Self::UnreferencedObjectException,
        Self::RemoveDocumentsError,
    ];

    /// The exact `errorCode` attribute value.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::RegistryError => "XDSRegistryError",
            Self::RepositoryError => "XDSRepositoryError",
            Self::RegistryMetadataError => "XDSRegistryMetadataError",
            Self::RepositoryMetadataError => "XDSRepositoryMetadataError",
            Self::MissingDocument => "XDSMissingDocument",
            Self::MissingDocumentMetadata => "XDSMissingDocumentMetadata",
            Self::RegistryNotAvailable => "XDSRegistryNotAvailable",
            Self::RegistryDuplicateUniqueIdInMessage => "XDSRegistryDuplicateUniqueIdInMessage",
            Self::RepositoryDuplicateUniqueIdInMessage => "XDSRepositoryDuplicateUniqueIdInMessage",
            Self::DuplicateUniqueIdInRegistry => "XDSDuplicateUniqueIdInRegistry",
            Self::NonIdenticalHash => "XDSNonIdenticalHash",
            Self::NonIdenticalSize => "XDSNonIdenticalSize",
            Self::PatientIdDoesNotMatch => "XDSPatientIdDoesNotMatch",
            Self::UnknownPatientId => "XDSUnknownPatientId",
            Self::RegistryDeprecatedDocumentError => "XDSRegistryDeprecatedDocumentError",
            Self::UnresolvedReferenceException => "UnresolvedReferenceException",
            Self::ExtraMetadataNotSaved => "XDSExtraMetadataNotSaved",
            Self::RegistryBusy => "XDSRegistryBusy",
            Self::RepositoryBusy => "XDSRepositoryBusy",
            Self::RegistryOutOfResources => "XDSRegistryOutOfResources",
            Self::RepositoryOutOfResources => "XDSRepositoryOutOfResources",
            Self::UnknownStoredQuery => "XDSUnknownStoredQuery",
            Self::StoredQueryMissingParam => "XDSStoredQueryMissingParam",
            Self::StoredQueryParamNumber => "XDSStoredQueryParamNumber",
            Self::ResultNotSinglePatient => "XDSResultNotSinglePatient",
            Self::TooManyResults => "XDSTooManyResults",
            Self::DocumentUniqueIdError => "XDSDocumentUniqueIdError",
            Self::UnknownRepositoryId => "XDSUnknownRepositoryId",
            Self::MissingHomeCommunityId => "XDSMissingHomeCommunityId",
            Self::UnknownCommunity => "XDSUnknownCommunity",
            Self::UnavailableCommunity => "XDSUnavailableCommunity",
            Self::ReplaceFailed => "XDSReplaceFailed",
            Self::DocumentQueued => "DocumentQueued",
            Self::InvalidDocumentContent => "InvalidDocumentContent",
            Self::PartialAppendContentNotProcessed => "PartialAppendContentNotProcessed",
            Self::PartialFolderContentNotProcessed => "PartialFolderContentNotProcessed",
            Self::PartialReplaceContentNotProcessed => "PartialReplaceContentNotProcessed",
            Self::PartialTransformNotProcessed => "PartialTransformNotProcessed",
            Self::PartialTransformReplaceNotProcessed => "PartialTransformReplaceNotProcessed",
            Self::MetadataUpdateError => "XDSMetadataUpdateError",
            Self::MetadataVersionError => "XDSMetadataVersionError",
            Self::PatientIdReconciliationError => "XDSPatientIDReconciliationError",
            Self::MetadataUpdateOperationError => "XDSMetadataUpdateOperationError",
            Self::ReferencesExistException => "ReferencesExistException",
            Self::UnreferencedObjectException => "XDSUnreferencedObjectException",
            Self::RemoveDocumentsError => "XDSRemoveDocumentsError",
        }
    }

    /// Parses an `errorCode` attribute value; `None` for codes outside the closed set.
    pub fn from_spec(code: &str) -> Option<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|candidate| candidate.as_str() == code)
    }
}

impl fmt::Display for XdsErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Severity of a RegistryError.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub const ERROR_URN: &'static str = "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Error";
    pub const WARNING_URN: &'static str =
        "urn:oasis:names:tc:ebxml-regrep:ErrorSeverityType:Warning";

    pub const fn urn(self) -> &'static str {
        match self {
            Self::Error => Self::ERROR_URN,
            Self::Warning => Self::WARNING_URN,
        }
    }

    /// Accepts the full URN; the bare words `Error`/`Warning` are accepted too (seen from
    /// older peers).
    pub fn from_urn(value: &str) -> Option<Self> {
        match value {
            Self::ERROR_URN | "Error" => Some(Self::Error),
            Self::WARNING_URN | "Warning" => Some(Self::Warning),
            _ => None,
        }
    }
}

/// Status of a RegistryResponse / AdhocQueryResponse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResponseStatus {
    Success,
    PartialSuccess,
    Failure,
}

impl ResponseStatus {
    pub const SUCCESS_URN: &'static str =
        "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success";
    pub const FAILURE_URN: &'static str =
        "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Failure";
    /// Note the IHE namespace: PartialSuccess is not an ebRS status.
    pub const PARTIAL_SUCCESS_URN: &'static str =
        "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess";

    pub const fn urn(self) -> &'static str {
        match self {
            Self::Success => Self::SUCCESS_URN,
            Self::PartialSuccess => Self::PARTIAL_SUCCESS_URN,
            Self::Failure => Self::FAILURE_URN,
        }
    }

    /// Accepts the normative URNs and, leniently, PartialSuccess in the ebRS namespace.
    pub fn from_urn(value: &str) -> Option<Self> {
        match value {
            Self::SUCCESS_URN => Some(Self::Success),
            Self::FAILURE_URN => Some(Self::Failure),
            Self::PARTIAL_SUCCESS_URN
            | "urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:PartialSuccess" => {
                Some(Self::PartialSuccess)
            }
            _ => None,
        }
    }
}

/// One `rs:RegistryError`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryError {
    pub code: XdsErrorCode,
    /// Human-readable detail: the value at fault (patient id, uniqueId, object id, ...).
    pub code_context: String,
    pub severity: Severity,
    /// Where the problem is: the object id and attribute, or for ITI-43/86 the DocumentUniqueId.
    pub location: Option<String>,
}

impl RegistryError {
    pub fn error(code: XdsErrorCode, code_context: impl Into<String>) -> Self {
        Self {
            code,
            code_context: code_context.into(),
            severity: Severity::Error,
            location: None,
        }
    }

    pub fn warning(code: XdsErrorCode, code_context: impl Into<String>) -> Self {
        Self {
            code,
            code_context: code_context.into(),
            severity: Severity::Warning,
            location: None,
        }
    }

    pub fn at(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
    }
}

impl fmt::Display for RegistryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.code_context)?;
        if let Some(location) = &self.location {
            write!(f, " (at {location})")?;
        }
        Ok(())
    }
}

/// The status and error list shared by RegistryResponse, AdhocQueryResponse and the response
/// part of RetrieveDocumentSetResponse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryResponse {
    pub status: ResponseStatus,
    pub errors: Vec<RegistryError>,
    pub request_id: Option<String>,
}

impl RegistryResponse {
    pub fn success() -> Self {
        Self {
            status: ResponseStatus::Success,
            errors: Vec::new(),
            request_id: None,
        }
    }

    /// A response for ITI-41/42/57/62: Failure as soon as one error has severity Error;
    /// warnings alone keep Success. These transactions never answer PartialSuccess.
    pub fn from_errors(errors: Vec<RegistryError>) -> Self {
        let status = if errors.iter().any(|error| error.severity == Severity::Error) {
            ResponseStatus::Failure
        } else {
            ResponseStatus::Success
        };
        Self {
            status,
            errors,
            request_id: None,
        }
    }

    /// A response for transactions with per-item outcomes (ITI-18, ITI-43, ITI-86): Success
    /// when no item failed, PartialSuccess when some did and some results remain, Failure when
    /// errors left nothing to return.
    pub fn from_partial(errors: Vec<RegistryError>, has_results: bool) -> Self {
        let has_error = errors.iter().any(|error| error.severity == Severity::Error);
        let status = match (has_error, has_results) {
            (false, _) => ResponseStatus::Success,
            (true, true) => ResponseStatus::PartialSuccess,
            (true, false) => ResponseStatus::Failure,
        };
        Self {
            status,
            errors,
            request_id: None,
        }
    }

    /// The most severe severity in the list, for `highestSeverity`.
    pub fn highest_severity(&self) -> Option<Severity> {
        self.errors.iter().map(|error| error.severity).max()
    }
}

/// The refusal token a `codeContext` starts with (`ACCESS_BLOCKED: ...`, `VIHF_...: ...`): the
/// stable prefixes of the access policy's and the caller checks' refusals.
pub fn refusal_token(code_context: &str) -> Option<&str> {
    let (token, _) = code_context.split_once(':')?;
    (token.len() >= 3
        && token
            .bytes()
            .all(|byte| byte.is_ascii_uppercase() || byte == b'_' || byte.is_ascii_digit())
        && token.contains('_'))
    .then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_spec_string() {
        for code in XdsErrorCode::ALL {
            assert_eq!(XdsErrorCode::from_spec(code.as_str()), Some(*code));
        }
        assert_eq!(XdsErrorCode::from_spec("XDSNoSuchCode"), None);
    }

    #[test]
    fn spec_strings_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in XdsErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {}", code.as_str());
        }
    }

    #[test]
    fn failure_when_any_error_and_success_with_only_warnings() {
        let warning = RegistryError::warning(XdsErrorCode::ExtraMetadataNotSaved, "slot x");
        assert_eq!(
            RegistryResponse::from_errors(vec![warning.clone()]).status,
            ResponseStatus::Success
        );
        let error = RegistryError::error(XdsErrorCode::UnknownPatientId, "P1");
        assert_eq!(
            RegistryResponse::from_errors(vec![warning, error.clone()]).status,
            ResponseStatus::Failure
        );
        assert_eq!(
            RegistryResponse::from_partial(vec![error.clone()], true).status,
            ResponseStatus::PartialSuccess
        );
        assert_eq!(
            RegistryResponse::from_partial(vec![error], false).status,
            ResponseStatus::Failure
        );
    }

    #[test]
    fn partial_success_uses_the_ihe_namespace() {
        assert_eq!(
            ResponseStatus::PartialSuccess.urn(),
            "urn:ihe:iti:2007:ResponseStatusType:PartialSuccess"
        );
        assert_eq!(
            ResponseStatus::from_urn(ResponseStatus::PartialSuccess.urn()),
            Some(ResponseStatus::PartialSuccess)
        );
    }
}
