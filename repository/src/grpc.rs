//! gRPC adapter (proto/xds/v1 Repository): ITI-41 as a client stream whose document chunks go
//! straight into the store (the same BlobSink as MTOM parts), ITI-43 as a server stream read
//! chunk by chunk from the store, ITI-86. Callers are authenticated as over SOAP, the VIHF
//! assertion coming from the `x-vihf-assertion-bin` metadata and forwarded to the registry.

use std::sync::Arc;

use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};
use xds::error::{RegistryError, RegistryResponse, XdsErrorCode};
use xds::model::{Caller, Document, ObjectId, ProvideAndRegister};
use xds::net::trust::Trust;
use xds::transaction::Transaction;
use xds::wire::{Attachment, AttachmentInfo, AttachmentSink, Limits, RawXml};
use xds_proto::v1::repository_server::{Repository as RepositoryRpc, RepositoryServer};
use xds_proto::{documents, metadata as convert, server, status, v1};

use crate::service::Repository;
use crate::service::upload::{BlobSink, StoredBlob};

/// Fully qualified name of the service (health).
pub const SERVICE: &str = "xds.v1.Repository";
/// Parts of a retrieve answer buffered ahead of the client (each at most one store chunk).
const RETRIEVE_BUFFER: usize = 4;

/// The repository's gRPC service; cheap to clone.
#[derive(Debug, Clone)]
pub struct GrpcEndpoint {
    repository: Repository,
    limits: Arc<Limits>,
    trust: Trust,
}

type Answer<T> = Result<Response<T>, Status>;

fn invalid(location: &str, text: impl Into<String>) -> Status {
    status::failure(&[
        RegistryError::error(XdsErrorCode::RepositoryMetadataError, text).at(location.to_owned()),
    ])
}

/// Runs store work on the current worker, letting the runtime move its other tasks away.
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    if tokio::runtime::Handle::try_current()
        .is_ok_and(|handle| handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread)
    {
        tokio::task::block_in_place(work)
    } else {
        work()
    }
}

impl GrpcEndpoint {
    pub fn new(repository: Repository, limits: Limits, trust: Trust) -> Self {
        Self {
            repository,
            limits: Arc::new(limits),
            trust,
        }
    }

    /// The service with health and reflection.
    pub async fn routes(&self) -> Result<tonic::service::Routes, String> {
        let limit = server::MAX_MESSAGE_BYTES;
        let services = tonic::service::Routes::new(
            RepositoryServer::new(self.clone())
                .max_decoding_message_size(limit)
                .max_encoding_message_size(limit),
        );
        server::routes(services, &[SERVICE]).await
    }

    /// The authenticated caller and the assertion to forward.
    fn caller<T>(&self, request: &Request<T>) -> Result<(Caller, Option<RawXml>), Status> {
        server::authenticate(&self.trust, request)
    }

    fn served(&self, transaction: Transaction) -> Result<(), Status> {
        server::offered(self.repository.profile().allows(transaction), transaction)
    }

    /// Receives the documents of an ITI-41 stream into `sink`: their ids in order of arrival.
    async fn receive(
        &self,
        stream: &mut Streaming<v1::ProvideAndRegisterPart>,
        sink: &mut BlobSink,
    ) -> Result<Vec<(ObjectId, StoredBlob)>, Status> {
        let mut documents: Vec<(ObjectId, StoredBlob)> = Vec::new();
        let mut current: Option<(String, u64)> = None;
        while let Some(part) = stream.message().await? {
            let chunk = match part.part {
                Some(v1::provide_and_register_part::Part::Chunk(chunk)) => chunk,
                Some(v1::provide_and_register_part::Part::Header(_)) => {
                    return Err(invalid("header", "the header comes once, first"));
                }
                None => continue,
            };
            if current.as_ref().map(|(id, _)| id) != Some(&chunk.document_id) {
                if let Some((id, _)) = current.take() {
                    documents.push(finish(sink, &id)?);
                }
                let id = ObjectId::parse(&chunk.document_id).map_err(|error| {
                    invalid("document_id", format!("{:?}: {error}", chunk.document_id))
                })?;
                if documents.iter().any(|(seen, _)| *seen == id) {
                    return Err(invalid(
                        &format!("xds:Document {id}"),
                        format!("the chunks of document {id} are not contiguous"),
                    ));
                }
                let info = AttachmentInfo {
                    content_id: None,
                    content_type: None,
                    document_id: Some(&chunk.document_id),
                };
                blocking(|| sink.begin(&info)).map_err(|error| Status::internal(error.0))?;
                current = Some((chunk.document_id.clone(), 0));
            }
            if let Some((_, size)) = current.as_mut() {
                *size += chunk.data.len() as u64;
                if *size > self.limits.max_attachment_bytes {
                    return Err(Status::resource_exhausted(format!(
                        "document {} is larger than the limit of {} bytes",
                        chunk.document_id, self.limits.max_attachment_bytes
                    )));
                }
            }
            blocking(|| sink.write(&chunk.data)).map_err(|error| Status::internal(error.0))?;
        }
        if let Some((id, _)) = current.take() {
            documents.push(finish(sink, &id)?);
        }
        Ok(documents)
    }
}

/// Ends the document being written.
fn finish(sink: &mut BlobSink, id: &str) -> Result<(ObjectId, StoredBlob), Status> {
    let blob = blocking(|| sink.finish()).map_err(|error| Status::internal(error.0))?;
    let id = ObjectId::parse(id).map_err(|error| invalid("document_id", error.to_string()))?;
    Ok((id, blob))
}

#[tonic::async_trait]
impl RepositoryRpc for GrpcEndpoint {
    async fn provide_and_register(
        &self,
        request: Request<Streaming<v1::ProvideAndRegisterPart>>,
    ) -> Answer<v1::RegistryResponse> {
        self.served(Transaction::Iti41)?;
        let (caller, security) = self.caller(&request)?;
        let mut stream = request.into_inner();
        let header = match stream.message().await?.and_then(|part| part.part) {
            Some(v1::provide_and_register_part::Part::Header(header)) => header,
            _ => return Err(invalid("header", "the first message must be the header")),
        };
        // The metadata is read before any document is stored: a bad one stores nothing.
        let metadata = convert::metadata_from_proto(
            header.metadata.unwrap_or_default(),
            XdsErrorCode::RepositoryMetadataError,
        )
        .map_err(|errors| status::failure(&errors))?;
        let mut sink = BlobSink::new(Arc::clone(self.repository.store()));
        let received = self.receive(&mut stream, &mut sink).await;
        let uploads = sink.into_uploads();
        let received = received?;
        let ids: Vec<ObjectId> = received.iter().map(|(id, _)| id.clone()).collect();
        let pairing = documents::pairing_errors(&metadata, &ids);
        if !pairing.is_empty() {
            return Err(status::failure(&pairing));
        }
        let refused = caller.check_submission(&metadata);
        if !refused.is_empty() {
            return Err(status::failure(&refused));
        }
        let documents = received
            .into_iter()
            .map(|(id, handle)| Document {
                id,
                content: Attachment {
                    handle,
                    size: handle.size,
                    content_type: None,
                    content_id: None,
                },
            })
            .collect();
        let response = self
            .repository
            .provide_and_register(
                ProvideAndRegister {
                    metadata,
                    documents,
                },
                security,
                uploads,
            )
            .await;
        status::answer(&response).map(Response::new)
    }

    type RetrieveStream = ReceiverStream<Result<v1::RetrievePart, Status>>;

    async fn retrieve(
        &self,
        request: Request<v1::RetrieveRequest>,
    ) -> Answer<Self::RetrieveStream> {
        self.served(Transaction::Iti43)?;
        let (_, security) = self.caller(&request)?;
        let requests = documents::requests_from_proto(request.into_inner().documents)
            .map_err(|errors| status::failure(&errors))?;
        let plan = self
            .repository
            .plan_checked_retrieve(requests, security.as_ref())
            .await;
        if plan.response.status == xds::ResponseStatus::Failure {
            return Err(status::failure(&plan.response.errors));
        }
        let (sender, receiver) = tokio::sync::mpsc::channel(RETRIEVE_BUFFER);
        let repository = self.repository.clone();
        tokio::task::spawn_blocking(move || {
            use v1::retrieve_part::Part;
            let send = |part: Part| {
                sender
                    .blocking_send(Ok(v1::RetrievePart { part: Some(part) }))
                    .is_ok()
            };
            if !send(Part::Response(convert::response_to_proto(&plan.response))) {
                return;
            }
            for found in &plan.documents {
                let header = v1::RetrievedDocument {
                    home_community_id: found.request.home_community_id.clone().unwrap_or_default(),
                    repository_unique_id: found.request.repository_unique_id.clone(),
                    document_unique_id: found.request.document_unique_id.clone(),
                    mime_type: found.record.mime_type.clone(),
                    size: found.record.size,
                };
                if !send(Part::Document(header)) {
                    return;
                }
                let mut reader = repository.document_reader(&found.record);
                loop {
                    match reader.next_chunk() {
                        Ok(Some(chunk)) => {
                            if !send(Part::Data(chunk)) {
                                return;
                            }
                        }
                        Ok(None) => break,
                        Err(error) => {
                            tracing::error!(document = %found.request.document_unique_id, %error, "retrieve: the document could not be read");
                            let _ = sender.blocking_send(Err(Status::data_loss(format!(
                                "document {} could not be read: {error}",
                                found.request.document_unique_id
                            ))));
                            return;
                        }
                    }
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(receiver)))
    }

    async fn remove_documents(
        &self,
        request: Request<v1::RemoveDocumentsRequest>,
    ) -> Answer<v1::RegistryResponse> {
        self.served(Transaction::Iti86)?;
        self.caller(&request)?;
        let requests = documents::requests_from_proto(request.into_inner().documents)
            .map_err(|errors| status::failure(&errors))?;
        let repository = self.repository.clone();
        let response = tokio::task::spawn_blocking(move || repository.remove_documents(&requests))
            .await
            .unwrap_or_else(|error| {
                RegistryResponse::from_errors(vec![RegistryError::error(
                    XdsErrorCode::RemoveDocumentsError,
                    error.to_string(),
                )])
            });
        status::answer(&response).map(Response::new)
    }
}
