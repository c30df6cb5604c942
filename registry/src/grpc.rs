//! gRPC adapter (proto/xds/v1): decodes the typed messages into the model, authenticates the
//! caller exactly as the SOAP adapter does (client certificate, VIHF assertion from the
//! `x-vihf-assertion-bin` metadata), calls the same services, and maps a Failure to a status
//! whose details carry each XDS error (xds_proto::status).

use tonic::{Request, Response, Status};
use xds::error::{RegistryError, RegistryResponse, XdsErrorCode};
use xds::model::{Caller, CertificateKind, Cx, StoredQueryId, StoredQueryRequest};
use xds::net::trust::Trust;
use xds::transaction::Transaction;
use xds_proto::v1::access_history_server::{AccessHistory, AccessHistoryServer};
use xds_proto::v1::identity_server::{Identity, IdentityServer};
use xds_proto::v1::policy_server::{Policy, PolicyServer};
use xds_proto::v1::registry_server::{Registry as RegistryRpc, RegistryServer};
use xds_proto::{metadata as convert, query, security, server, status, v1};

use crate::access::{self, DmpCommand, DmpRecord, DmpStatus};
use crate::audit::{AuditOutcome, AuditRecord};
use crate::identity::{
    self as patients_identity, IdentityCommand, IdentityOutcome, IdentityStatus, Refusal, Traits,
};
use crate::service::{Provenance, Registry};

/// The fully qualified services of the registry (health reports them).
pub const SERVICES: [&str; 4] = [
    "xds.v1.Registry",
    "xds.v1.Identity",
    "xds.v1.Policy",
    "xds.v1.AccessHistory",
];

/// The registry's gRPC services; cheap to clone.
#[derive(Debug, Clone)]
pub struct GrpcEndpoint {
    registry: Registry,
    trust: Trust,
}

type Answer<T> = Result<Response<T>, Status>;

/// A metadata error at `location` (a field of the request).
fn invalid(location: &str, text: impl Into<String>) -> Status {
    status::failure(&[
        RegistryError::error(XdsErrorCode::RegistryMetadataError, text).at(location.to_owned()),
    ])
}

fn patient_id(text: &str, location: &str) -> Result<Cx, Status> {
    if text.is_empty() {
        return Err(invalid(location, "the patient id is missing"));
    }
    Cx::parse(text).map_err(|error| invalid(location, format!("{text:?}: {error}")))
}

fn store_failure(error: &crate::store::StoreError) -> Status {
    tracing::error!(error = %error.message, "gRPC: the store failed");
    Status::internal("the registry could not read or write its store; nothing was done")
}

impl GrpcEndpoint {
    pub fn new(registry: Registry, trust: Trust) -> Self {
        Self { registry, trust }
    }

    /// The services with health and reflection.
    pub async fn routes(&self) -> Result<tonic::service::Routes, String> {
        let limit = server::MAX_MESSAGE_BYTES;
        let services = tonic::service::Routes::new(
            RegistryServer::new(self.clone())
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        )
        .add_service(IdentityServer::new(self.clone()))
        .add_service(PolicyServer::new(self.clone()))
        .add_service(AccessHistoryServer::new(self.clone()));
        server::routes(services, &SERVICES).await
    }

    /// The authenticated caller, and the transaction a forwarding repository serves.
    fn caller<T>(&self, request: &Request<T>) -> Result<(Caller, Option<Transaction>), Status> {
        let peer = server::peer_of(&self.trust, request);
        let security =
            security::security_of(request.metadata()).map_err(Status::invalid_argument)?;
        let caller = self
            .trust
            .caller(&peer, security.as_ref())
            .map_err(|refusal| {
                tracing::warn!(subject = ?peer.identity.as_ref().map(|identity| &identity.subject), fault = refusal.subcode, reason = %refusal.reason, "gRPC caller refused");
                Status::unauthenticated(format!("{}: {}", refusal.subcode, refusal.reason))
            })?;
        let forwarded = caller
            .signer
            .as_ref()
            .and(request.metadata().get(security::FORWARDED_FOR_KEY))
            .and_then(|value| value.to_str().ok())
            .and_then(|action| {
                [Transaction::Iti41, Transaction::Iti43]
                    .into_iter()
                    .find(|transaction| transaction.action() == action)
            });
        Ok((caller, forwarded))
    }

    fn served(&self, transaction: Transaction) -> Result<(), Status> {
        server::offered(self.registry.profile().allows(transaction), transaction)
    }

    /// One stored query: the typed request read by `read`, run like an ITI-18.
    async fn run_query<T: Send>(
        &self,
        request: Request<T>,
        read: impl FnOnce(&T) -> Result<StoredQueryRequest, Vec<RegistryError>>,
    ) -> Answer<v1::QueryResponse> {
        self.served(Transaction::Iti18)?;
        let (caller, forwarded) = self.caller(&request)?;
        let query = read(request.get_ref()).map_err(|errors| status::failure(&errors))?;
        let response = self
            .registry
            .query_as(&caller, query, forwarded.unwrap_or(Transaction::Iti18))
            .await;
        if response.response.status == xds::ResponseStatus::Failure {
            return Err(status::failure(&response.response.errors));
        }
        Ok(Response::new(v1::QueryResponse {
            response: Some(convert::response_to_proto(&response.response)),
            metadata: Some(convert::metadata_to_proto(&response.metadata)),
        }))
    }

    /// A DMP command for the patient of the request.
    async fn dmp(
        &self,
        request: Request<impl Send>,
        patient: &str,
        command: DmpCommand,
    ) -> Answer<v1::DmpState> {
        let (caller, _) = self.caller(&request)?;
        let patient = patient_id(patient, "patient_id")?;
        match self.registry.dmp_as(&caller, &patient, command).await {
            Ok(record) => Ok(Response::new(dmp_state(&patient, &record))),
            Err(error) => Err(status::failure(&[error])),
        }
    }

    /// Identity commands come from structure systems and operators, never a professional's
    /// card; like ITI-8 they are system-to-system and carry no VIHF assertion: the client
    /// certificate alone decides.
    fn feeder<T>(&self, request: &Request<T>) -> Result<Caller, Status> {
        let caller = Caller {
            certificate: server::peer_of(&self.trust, request).identity,
            ..Caller::anonymous()
        };
        match &caller.certificate {
            Some(identity)
                if identity.kind == CertificateKind::Professional
                    && !access::is_operator(self.registry.access(), &caller) =>
            {
                Err(Status::permission_denied(format!(
                    "patient identities are fed from structure certificates only, not from {}",
                    identity.subject
                )))
            }
            _ => Ok(caller),
        }
    }

    async fn identity(
        &self,
        caller: &Caller,
        command: IdentityCommand,
        what: &str,
    ) -> Answer<v1::PatientAnswer> {
        let source = caller
            .certificate
            .as_ref()
            .map_or("an insecure listener", |identity| identity.subject.as_str());
        let provenance = Provenance {
            source: format!("gRPC Identity.{what} from {source}"),
            at: xds::model::Dtm::now().to_string(),
        };
        let outcome = self
            .registry
            .identity(command, None, provenance)
            .await
            .map_err(|error| store_failure(&error))?;
        let store = self.registry.store();
        let id_of = |patient| {
            store
                .patient_id(patient)
                .ok()
                .flatten()
                .map(|cx| cx.format())
                .unwrap_or_default()
        };
        let (outcome, patient) = match outcome {
            IdentityOutcome::Created(patient) => (v1::PatientOutcome::Created, id_of(patient)),
            IdentityOutcome::Updated(patient) => (v1::PatientOutcome::Updated, id_of(patient)),
            IdentityOutcome::Unchanged(patient) => (v1::PatientOutcome::Unchanged, id_of(patient)),
            IdentityOutcome::Merged { surviving, .. } => {
                (v1::PatientOutcome::Merged, id_of(surviving))
            }
            IdentityOutcome::Resent => (v1::PatientOutcome::Unchanged, String::new()),
            IdentityOutcome::Refused(refusal) => return Err(identity_refusal(&refusal)),
        };
        Ok(Response::new(v1::PatientAnswer {
            outcome: outcome as i32,
            patient_id: patient,
        }))
    }

    /// The domain id of a request (the identity policy: INS key, accepted OIDs).
    fn domain_id(&self, text: &str, location: &str) -> Result<Cx, Status> {
        let id = patient_id(text, location)?;
        self.registry
            .identity_policy()
            .check_patient_id(&id)
            .map_err(|error| invalid(location, format!("{text:?}: {error}")))
    }

    fn upsert(&self, request: &v1::PatientRequest) -> Result<IdentityCommand, Status> {
        let id = self.domain_id(&request.patient_id, "patient_id")?;
        let local_ids = request
            .local_ids
            .iter()
            .map(|local| patient_id(local, "local_ids"))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(IdentityCommand::Upsert {
            id,
            local_ids,
            identity: request.identity.as_ref().map(identity_from_proto),
        })
    }
}

fn identity_refusal(refusal: &Refusal) -> Status {
    let code = match refusal {
        Refusal::Unknown(..) => XdsErrorCode::UnknownPatientId,
        Refusal::Subsumed(..) => XdsErrorCode::PatientIdReconciliationError,
        Refusal::SameIds(_) | Refusal::ControlIdReused(_) => XdsErrorCode::RegistryMetadataError,
    };
    status::failure(&[RegistryError::error(code, refusal.to_string())])
}

const IDENTITY_STATUSES: [(v1::IdentityStatus, IdentityStatus); 4] = [
    (v1::IdentityStatus::Provisional, IdentityStatus::Provisional),
    (v1::IdentityStatus::Recovered, IdentityStatus::Recovered),
    (v1::IdentityStatus::Validated, IdentityStatus::Validated),
    (v1::IdentityStatus::Qualified, IdentityStatus::Qualified),
];

fn identity_from_proto(identity: &v1::PatientIdentity) -> patients_identity::Identity {
    patients_identity::Identity {
        traits: Traits {
            birth_name: identity.birth_name.clone(),
            first_name: identity.first_name.clone(),
            other_first_names: identity.other_first_names.clone(),
            birth_date: identity.birth_date.clone(),
            sex: identity.sex.clone(),
            birth_place: identity.birth_place.clone(),
        },
        status: IDENTITY_STATUSES
            .iter()
            .find(|(message, _)| *message as i32 == identity.status)
            .map(|(_, status)| *status),
        attributes: identity.attributes.clone(),
    }
}

fn identity_to_proto(identity: &patients_identity::Identity) -> v1::PatientIdentity {
    let traits = &identity.traits;
    v1::PatientIdentity {
        birth_name: traits.birth_name.clone(),
        first_name: traits.first_name.clone(),
        other_first_names: traits.other_first_names.clone(),
        birth_date: traits.birth_date.clone(),
        sex: traits.sex.clone(),
        birth_place: traits.birth_place.clone(),
        status: IDENTITY_STATUSES
            .iter()
            .find(|(_, status)| Some(*status) == identity.status)
            .map_or(0, |(message, _)| *message as i32),
        attributes: identity.attributes.clone(),
    }
}

fn dmp_state(patient: &Cx, record: &DmpRecord) -> v1::DmpState {
    let (active, closed_at, reason_code, reason) = match &record.status {
        DmpStatus::Active => (true, 0, String::new(), String::new()),
        DmpStatus::Closed {
            at,
            reason_code,
            reason,
        } => (false, *at, reason_code.clone(), reason.clone()),
    };
    v1::DmpState {
        patient_id: patient.format(),
        active,
        opened_at: record.opened_at,
        closed_at,
        close_reason_code: reason_code,
        close_reason: reason,
        oppose_emergency: record.oppose_emergency,
        oppose_regulator: record.oppose_regulator,
        authorised: record
            .authorised
            .iter()
            .map(|(professional, since)| v1::Authorisation {
                professional: professional.clone(),
                since: *since,
            })
            .collect(),
        blocked: record.blocked.iter().cloned().collect(),
        medecin_traitant: record.medecin_traitant.clone().unwrap_or_default(),
        full_rights: record.full_rights.iter().cloned().collect(),
    }
}

fn access_record(record: AuditRecord) -> v1::AccessRecord {
    let (outcome, reason) = match &record.outcome {
        AuditOutcome::Success => ("allowed", String::new()),
        AuditOutcome::Denied(reason) => ("denied", reason.clone()),
        AuditOutcome::Failed(reason) => ("failed", reason.clone()),
    };
    v1::AccessRecord {
        id: record.id,
        time_ms: record.time_ms,
        emergency: !record.access_mode.is_empty() && record.access_mode != "normal",
        transaction: record.transaction,
        dmp_transaction: record.dmp_transaction,
        action: record.action,
        name_id: record.name_id,
        subject_name: record.subject_name,
        roles: record.roles,
        structure_id: record.structure_id,
        sector: record.sector,
        authentication: record.authentication,
        access_mode: record.access_mode,
        certificate: record.certificate,
        signer: record.signer,
        software: record.software,
        entry_uuids: record.entry_uuids,
        unique_ids: record.unique_ids,
        outcome: outcome.to_owned(),
        reason,
    }
}

/// The registry answer of ITI-42/57/62 as a gRPC answer.
fn registry_answer(response: &RegistryResponse) -> Answer<v1::RegistryResponse> {
    status::answer(response).map(Response::new)
}

#[tonic::async_trait]
impl RegistryRpc for GrpcEndpoint {
    async fn register(
        &self,
        request: Request<v1::RegisterRequest>,
    ) -> Answer<v1::RegistryResponse> {
        self.served(Transaction::Iti42)?;
        let (caller, forwarded) = self.caller(&request)?;
        let metadata = request.into_inner().metadata.unwrap_or_default();
        let response =
            match convert::metadata_from_proto(metadata, XdsErrorCode::RegistryMetadataError) {
                Ok(metadata) => {
                    self.registry
                        .register_as(&caller, metadata, forwarded.unwrap_or(Transaction::Iti42))
                        .await
                }
                Err(errors) => RegistryResponse::from_errors(errors),
            };
        registry_answer(&response)
    }

    async fn update_document_set(
        &self,
        request: Request<v1::UpdateDocumentSetRequest>,
    ) -> Answer<v1::RegistryResponse> {
        self.served(Transaction::Iti57)?;
        let (caller, _) = self.caller(&request)?;
        let metadata = request.into_inner().metadata.unwrap_or_default();
        let response =
            match convert::metadata_from_proto(metadata, XdsErrorCode::RegistryMetadataError) {
                Ok(metadata) => self.registry.update_as(&caller, metadata).await,
                Err(errors) => RegistryResponse::from_errors(errors),
            };
        registry_answer(&response)
    }

    async fn remove_metadata(
        &self,
        request: Request<v1::RemoveMetadataRequest>,
    ) -> Answer<v1::RegistryResponse> {
        self.served(Transaction::Iti62)?;
        let (caller, _) = self.caller(&request)?;
        let refs = request.into_inner().object_refs;
        let response = match convert::remove_from_proto(refs, XdsErrorCode::RegistryMetadataError) {
            Ok(request) => self.registry.remove_as(&caller, request).await,
            Err(errors) => RegistryResponse::from_errors(errors),
        };
        registry_answer(&response)
    }

    async fn query(&self, request: Request<v1::QueryRequest>) -> Answer<v1::QueryResponse> {
        self.run_query(request, query::generic).await
    }

    async fn find_documents(
        &self,
        request: Request<v1::FindDocumentsRequest>,
    ) -> Answer<v1::QueryResponse> {
        self.run_query(request, |request| {
            query::find_documents(StoredQueryId::FindDocuments, request)
        })
        .await
    }

    async fn find_documents_by_reference_id(
        &self,
        request: Request<v1::FindDocumentsRequest>,
    ) -> Answer<v1::QueryResponse> {
        self.run_query(request, |request| {
            query::find_documents(StoredQueryId::FindDocumentsByReferenceId, request)
        })
        .await
    }

    async fn find_submission_sets(
        &self,
        request: Request<v1::FindSubmissionSetsRequest>,
    ) -> Answer<v1::QueryResponse> {
        self.run_query(request, query::find_submission_sets).await
    }

    async fn find_folders(
        &self,
        request: Request<v1::FindFoldersRequest>,
    ) -> Answer<v1::QueryResponse> {
        self.run_query(request, query::find_folders).await
    }

    async fn get_all(&self, request: Request<v1::GetAllRequest>) -> Answer<v1::QueryResponse> {
        self.run_query(request, query::get_all).await
    }

    async fn get_documents(
        &self,
        request: Request<v1::GetObjectsRequest>,
    ) -> Answer<v1::QueryResponse> {
        self.run_query(request, |request| {
            query::get_objects(StoredQueryId::GetDocuments, request)
        })
        .await
    }

    async fn get_folders(
        &self,
        request: Request<v1::GetObjectsRequest>,
    ) -> Answer<v1::QueryResponse> {
        self.run_query(request, |request| {
            query::get_objects(StoredQueryId::GetFolders, request)
        })
        .await
    }

    async fn get_associations(
        &self,
        request: Request<v1::GetObjectsRequest>,
    ) -> Answer<v1::QueryResponse> {
        self.run_query(request, |request| {
            query::get_objects(StoredQueryId::GetAssociations, request)
        })
        .await
    }

    async fn get_documents_and_associations(
        &self,
        request: Request<v1::GetObjectsRequest>,
    ) -> Answer<v1::QueryResponse> {
        self.run_query(request, |request| {
            query::get_objects(StoredQueryId::GetDocumentsAndAssociations, request)
        })
        .await
    }

    async fn get_submission_sets(
        &self,
        request: Request<v1::GetObjectsRequest>,
    ) -> Answer<v1::QueryResponse> {
        self.run_query(request, |request| {
            query::get_objects(StoredQueryId::GetSubmissionSets, request)
        })
        .await
    }

    async fn get_submission_set_and_contents(
        &self,
        request: Request<v1::GetContentsRequest>,
    ) -> Answer<v1::QueryResponse> {
        self.run_query(request, |request| {
            query::get_contents(StoredQueryId::GetSubmissionSetAndContents, request)
        })
        .await
    }

    async fn get_folder_and_contents(
        &self,
        request: Request<v1::GetContentsRequest>,
    ) -> Answer<v1::QueryResponse> {
        self.run_query(request, |request| {
            query::get_contents(StoredQueryId::GetFolderAndContents, request)
        })
        .await
    }

    async fn get_folders_for_document(
        &self,
        request: Request<v1::GetObjectsRequest>,
    ) -> Answer<v1::QueryResponse> {
        self.run_query(request, |request| {
            query::get_objects(StoredQueryId::GetFoldersForDocument, request)
        })
        .await
    }

    async fn get_related_documents(
        &self,
        request: Request<v1::GetRelatedDocumentsRequest>,
    ) -> Answer<v1::QueryResponse> {
        self.run_query(request, query::get_related_documents).await
    }
}

#[tonic::async_trait]
impl Identity for GrpcEndpoint {
    async fn create_patient(
        &self,
        request: Request<v1::PatientRequest>,
    ) -> Answer<v1::PatientAnswer> {
        let caller = self.feeder(&request)?;
        let command = self.upsert(request.get_ref())?;
        self.identity(&caller, command, "CreatePatient").await
    }

    async fn update_patient(
        &self,
        request: Request<v1::PatientRequest>,
    ) -> Answer<v1::PatientAnswer> {
        let caller = self.feeder(&request)?;
        let command = self.upsert(request.get_ref())?;
        if let IdentityCommand::Upsert { id, .. } = &command {
            let known = self
                .registry
                .store()
                .patient(id)
                .map_err(|error| store_failure(&error))?;
            if known.is_none() {
                return Err(status::failure(&[RegistryError::error(
                    XdsErrorCode::UnknownPatientId,
                    format!("{} is not known to this registry", id.format()),
                )
                .at("patient_id")]));
            }
        }
        self.identity(&caller, command, "UpdatePatient").await
    }

    async fn merge_patients(
        &self,
        request: Request<v1::MergeRequest>,
    ) -> Answer<v1::PatientAnswer> {
        let caller = self.feeder(&request)?;
        let merge = request.get_ref();
        let command = IdentityCommand::Merge {
            surviving: self.domain_id(&merge.surviving, "surviving")?,
            subsumed: self.domain_id(&merge.subsumed, "subsumed")?,
        };
        self.identity(&caller, command, "MergePatients").await
    }

    async fn lookup_patient(&self, request: Request<v1::LookupRequest>) -> Answer<v1::Patient> {
        self.feeder(&request)?;
        let id = patient_id(&request.get_ref().patient_id, "patient_id")?;
        let store = std::sync::Arc::clone(self.registry.store());
        let lookup_id = id.clone();
        let view =
            tokio::task::spawn_blocking(move || crate::patients::lookup(&*store, &lookup_id))
                .await
                .map_err(|error| Status::internal(error.to_string()))?
                .map_err(|error| store_failure(&error))?;
        let Some(view) = view else {
            return Err(status::failure(&[RegistryError::error(
                XdsErrorCode::UnknownPatientId,
                format!("{} is not known to this registry", id.format()),
            )
            .at("patient_id")]));
        };
        Ok(Response::new(v1::Patient {
            patient_id: view.id,
            found_by_local_id: view.via_local,
            merged_into: view.merged_into.unwrap_or_default(),
            merged: view.merged,
            local_ids: view.record.local_ids.iter().map(Cx::format).collect(),
            identity: view.record.identity.as_ref().map(identity_to_proto),
            document_entries: view.documents as u64,
            updated: view.record.updated,
            source: view.record.source,
        }))
    }
}

#[tonic::async_trait]
impl Policy for GrpcEndpoint {
    async fn get_dmp(&self, request: Request<v1::PatientRef>) -> Answer<v1::DmpState> {
        let (caller, _) = self.caller(&request)?;
        let patient = patient_id(&request.get_ref().patient_id, "patient_id")?;
        match self.registry.dmp_show_as(&caller, &patient).await {
            Ok(Some(record)) => Ok(Response::new(dmp_state(&patient, &record))),
            Ok(None) => Err(Status::not_found(format!(
                "{}: this patient has no DMP",
                access::DMP_NOT_FOUND
            ))),
            Err(error) => Err(status::failure(&[error])),
        }
    }

    async fn open_dmp(&self, request: Request<v1::PatientRef>) -> Answer<v1::DmpState> {
        let patient = request.get_ref().patient_id.clone();
        self.dmp(request, &patient, DmpCommand::Open).await
    }

    async fn close_dmp(&self, request: Request<v1::CloseDmpRequest>) -> Answer<v1::DmpState> {
        let close = request.get_ref().clone();
        if close.reason_code.is_empty() {
            return Err(invalid("reason_code", "a closing reason code is required"));
        }
        let command = DmpCommand::Close {
            reason_code: close.reason_code,
            reason: close.reason,
        };
        self.dmp(request, &close.patient_id, command).await
    }

    async fn set_authorization(
        &self,
        request: Request<v1::AuthorizationRequest>,
    ) -> Answer<v1::DmpState> {
        let message = request.get_ref().clone();
        let name_id = professional(&message.professional)?;
        let command = if message.authorised {
            DmpCommand::Authorise { name_id }
        } else {
            DmpCommand::Revoke { name_id }
        };
        self.dmp(request, &message.patient_id, command).await
    }

    async fn set_block(&self, request: Request<v1::BlockRequest>) -> Answer<v1::DmpState> {
        let message = request.get_ref().clone();
        let name_id = professional(&message.professional)?;
        let command = if message.blocked {
            DmpCommand::Block { name_id }
        } else {
            DmpCommand::Unblock { name_id }
        };
        self.dmp(request, &message.patient_id, command).await
    }

    async fn set_oppositions(
        &self,
        request: Request<v1::OppositionsRequest>,
    ) -> Answer<v1::DmpState> {
        let message = request.get_ref().clone();
        let command = DmpCommand::Oppose {
            emergency: message.emergency,
            regulator: message.regulator,
        };
        self.dmp(request, &message.patient_id, command).await
    }

    async fn set_medecin_traitant(
        &self,
        request: Request<v1::MedecinTraitantRequest>,
    ) -> Answer<v1::DmpState> {
        let message = request.get_ref().clone();
        let command = DmpCommand::MedecinTraitant {
            name_id: (!message.professional.is_empty()).then_some(message.professional),
        };
        self.dmp(request, &message.patient_id, command).await
    }

    async fn set_full_rights(
        &self,
        request: Request<v1::FullRightsRequest>,
    ) -> Answer<v1::DmpState> {
        let message = request.get_ref().clone();
        let command = DmpCommand::FullRights {
            name_id: professional(&message.professional)?,
            granted: message.granted,
        };
        self.dmp(request, &message.patient_id, command).await
    }
}

fn professional(text: &str) -> Result<String, Status> {
    if text.trim().is_empty() {
        Err(invalid("professional", "the professional is missing"))
    } else {
        Ok(text.trim().to_owned())
    }
}

/// Page size of the access history when the request gives none, and the largest.
const HISTORY_PAGE: usize = 50;
const HISTORY_MAX: usize = 1000;

#[tonic::async_trait]
impl AccessHistory for GrpcEndpoint {
    async fn list(&self, request: Request<v1::HistoryRequest>) -> Answer<v1::HistoryPage> {
        let (caller, _) = self.caller(&request)?;
        let message = request.get_ref();
        let patient = patient_id(&message.patient_id, "patient_id")?;
        let limit = match message.limit as usize {
            0 => HISTORY_PAGE,
            limit => limit.min(HISTORY_MAX),
        };
        match self
            .registry
            .history_as(&caller, &patient, message.before, limit)
            .await
        {
            Ok(records) => Ok(Response::new(v1::HistoryPage {
                records: records.into_iter().map(access_record).collect(),
            })),
            Err(error) => Err(status::failure(&[error])),
        }
    }
}
