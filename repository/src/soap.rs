//! SOAP 1.2 adapter of the repository: ITI-41, ITI-43 and ITI-86 at the configured paths,
//! dispatched on wsa:Action. The request body streams from the network into the decoder on a
//! blocking thread, and documents from the decoder into the store; retrieved documents stream
//! from the store into the MTOM answer. Message problems are SOAP faults; metadata problems
//! are Failure responses with the repository's error codes.

use std::sync::Arc;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming as HyperBody;
use hyper::{Method, Request, Response, StatusCode};
use tracing::Instrument;
use xds::XdsErrorCode;
use xds::error::{RegistryError, RegistryResponse};
use xds::model::{RetrieveResponse, RetrievedDocument};
use xds::net::daemon::correlation_id;
use xds::net::http::{self, BodyReader, ResponseBody, channel_body};
use xds::net::metrics::{self, Timer};
use xds::net::soap::{
    HttpAnswer, body_mismatch, content_type_action, envelope_answer, fault, random_bytes,
    random_uuid_urn, served_transaction,
};
use xds::net::tls::Peer;
use xds::net::trust::Trust;
use xds::transaction::Transaction;
use xds::transform::{self, Options, Violation};
use xds::wire::{
    self, Body, DecodeError, ErrorClass, FaultCode, Header, Limits, MultipartWriter, OutContent,
    OutgoingPart,
};

use crate::service::Repository;
use crate::service::upload::{BlobSink, StoredBlob, Uploads};

/// The `protocol` label of this adapter's metrics.
const PROTOCOL: &str = "soap";
const SERVED: [Transaction; 3] = [Transaction::Iti41, Transaction::Iti43, Transaction::Iti86];
const ROOT_CONTENT_ID: &str = "root.message@xds-repository";

/// What the listener serves.
#[derive(Debug, Clone)]
pub struct Routes {
    pub soap: SoapEndpoint,
    pub soap_paths: Arc<Vec<String>>,
    /// The benchmark's floor: a path and its prepared answer.
    pub noop: Option<(String, NoopAnswer)>,
}

/// An ITI-43 answer with one document, prepared once and served from memory.
#[derive(Debug, Clone)]
pub struct NoopAnswer {
    content_type: String,
    body: bytes::Bytes,
}

impl NoopAnswer {
    /// An MTOM RetrieveDocumentSetResponse carrying `size` bytes.
    pub fn new(repository_unique_id: &str, size: usize) -> Self {
        let model = RetrieveResponse {
            response: RegistryResponse::success(),
            documents: vec![RetrievedDocument {
                home_community_id: None,
                repository_unique_id: repository_unique_id.to_owned(),
                document_unique_id: "1.2.3.4.5".to_owned(),
                new_repository_unique_id: None,
                new_document_unique_id: None,
                mime_type: "application/octet-stream".to_owned(),
                content: (),
            }],
        };
        let body = Body::RetrieveResponse(transform::retrieve_response_to_wire(&model, |_| {
            OutContent::Xop {
                cid: "document1@xds-repository".to_owned(),
            }
        }));
        let action = Transaction::Iti43.response_action();
        let header = Header {
            action: Some(action.to_owned()),
            message_id: Some(random_uuid_urn()),
            ..Header::default()
        };
        let envelope = wire::write_envelope(&header, &body);
        let writer = MultipartWriter::new(MultipartWriter::boundary_from_random(random_bytes()));
        let document: Vec<u8> = (0..size).map(|index| (index % 251) as u8).collect();
        let mut out = Vec::with_capacity(size + envelope.len() + 512);
        let parts = std::iter::once(OutgoingPart {
            content_id: "document1@xds-repository".to_owned(),
            content_type: "application/octet-stream".to_owned(),
            body: document.as_slice(),
        });
        // Writing into a Vec cannot fail.
        let _ = writer.write_package(&mut out, ROOT_CONTENT_ID, envelope.as_bytes(), parts);
        Self {
            content_type: writer.content_type(ROOT_CONTENT_ID, Some(action)),
            body: out.into(),
        }
    }
}

/// The SOAP endpoint of the repository.
#[derive(Debug, Clone)]
pub struct SoapEndpoint {
    repository: Repository,
    limits: Arc<Limits>,
    trust: Trust,
}

/// Answers one request.
pub async fn route(routes: Arc<Routes>, request: Request<HyperBody>) -> Response<ResponseBody> {
    let peer = http::peer_of(&request);
    let path = request.uri().path();
    if let Some((noop_path, answer)) = &routes.noop
        && noop_path == path
    {
        // Read the request so the connection can be reused, then answer from memory.
        let _ = request.into_body().collect().await;
        return http::response(
            StatusCode::OK,
            &answer.content_type,
            http::full(answer.body.clone()),
        );
    }
    if !routes.soap_paths.iter().any(|soap_path| soap_path == path) {
        return http::plain(StatusCode::NOT_FOUND, "no endpoint at this path\n");
    }
    if request.method() != Method::POST {
        return http::method_not_allowed();
    }
    let content_type = http::content_type(&request);
    let length = request
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let body = match length {
        // A small message (a retrieve, a removal, a submission of small documents) is read
        // whole and decoded here: no hand-off to the blocking pool.
        Some(length) if length <= SMALL_MESSAGE => {
            match Limited::new(request.into_body(), SMALL_MESSAGE as usize)
                .collect()
                .await
            {
                Ok(collected) => Incoming::Whole(collected.to_bytes()),
                Err(error) => {
                    return fault(
                        FaultCode::Sender,
                        None,
                        format!("reading the request body failed: {error}"),
                        None,
                    )
                    .into_response();
                }
            }
        }
        _ => Incoming::Streamed(BodyReader::new(request.into_body())),
    };
    routes.soap.handle(&peer, content_type, body).await
}

/// Retrieve answers whose documents add up to at most this are read before answering, on the
/// async worker; larger ones stream from a blocking thread.
const INLINE_ANSWER: u64 = 2 * 1024 * 1024;

/// Messages up to this size are read whole before decoding.
const SMALL_MESSAGE: u64 = 64 * 1024;

/// A request body: whole, or still arriving.
#[derive(Debug)]
pub enum Incoming {
    Whole(bytes::Bytes),
    Streamed(BodyReader),
}

fn violations_response(violations: &[Violation]) -> RegistryResponse {
    RegistryResponse::from_errors(
        violations
            .iter()
            .map(Violation::to_registry_error)
            .collect(),
    )
}

/// The answer of `transaction` carrying only a status and errors.
fn status_answer(
    transaction: Transaction,
    relates_to: Option<String>,
    response: &RegistryResponse,
    mtom: bool,
) -> HttpAnswer {
    let registry_response = transform::registry_response_to_wire(response);
    let body = if transaction == Transaction::Iti43 {
        Body::RetrieveResponse(wire::RetrieveDocumentSetResponse {
            response: registry_response,
            documents: Vec::new(),
        })
    } else {
        Body::RegistryResponse(registry_response)
    };
    envelope_answer(
        transaction.response_action(),
        relates_to,
        &body,
        mtom,
        ROOT_CONTENT_ID,
    )
}

/// A MIME type safe to put in a part header (the stored one is metadata from a client).
fn header_safe(mime_type: &str) -> &str {
    if !mime_type.is_empty()
        && mime_type
            .bytes()
            .all(|byte| byte.is_ascii_graphic() || byte == b' ')
    {
        mime_type
    } else {
        "application/octet-stream"
    }
}

impl SoapEndpoint {
    pub fn new(repository: Repository, limits: Limits, trust: Trust) -> Self {
        Self {
            repository,
            limits: Arc::new(limits),
            trust,
        }
    }

    /// Handles one POSTed SOAP message whose body is still arriving, from `peer`'s connection.
    /// The caller is authenticated (certificate, VIHF assertion) before the transaction is
    /// looked at; a refused caller's uploaded documents are dropped.
    pub async fn handle(
        &self,
        peer: &Peer,
        content_type: String,
        body: Incoming,
    ) -> Response<ResponseBody> {
        let timer = Timer::start();
        let store = Arc::clone(self.repository.store());
        let limits = Arc::clone(&self.limits);
        let decoding_type = content_type.clone();
        let decoded = match body {
            Incoming::Whole(bytes) => {
                let mut sink = BlobSink::new(store);
                let result = wire::decode_message(&decoding_type, &bytes[..], &limits, &mut sink);
                Ok((result, sink.into_uploads()))
            }
            Incoming::Streamed(reader) => {
                tokio::task::spawn_blocking(move || {
                    let mut sink = BlobSink::new(store);
                    let result = wire::decode_message(&decoding_type, reader, &limits, &mut sink);
                    (result, sink.into_uploads())
                })
                .await
            }
        };
        let (result, uploads) = match decoded {
            Ok(pair) => pair,
            Err(error) => {
                tracing::error!("failed to decode a request: {error}");
                return fault(FaultCode::Receiver, None, "internal error", None).into_response();
            }
        };
        let message = match result {
            Ok(message) => message,
            Err(error) => {
                timer.undecodable(PROTOCOL);
                return decode_failure(&content_type, &error).into_response();
            }
        };
        let correlation_id = correlation_id(message.envelope.header.message_id.as_deref());
        let span = tracing::info_span!("soap", %correlation_id);
        self.dispatch(peer, message, uploads, timer)
            .instrument(span)
            .await
    }

    /// Authenticates the caller and runs the transaction the decoded message asks for.
    async fn dispatch(
        &self,
        peer: &Peer,
        message: wire::DecodedMessage<StoredBlob>,
        uploads: Uploads,
        timer: Timer,
    ) -> Response<ResponseBody> {
        let header = message.envelope.header;
        let relates_to = header.message_id.clone();
        let label = header
            .action
            .as_deref()
            .and_then(Transaction::from_action)
            .map_or("unknown", Transaction::id);
        let caller = match self.trust.caller(peer, header.security.as_ref()) {
            Ok(caller) => caller,
            Err(refusal) => {
                drop(uploads);
                tracing::warn!(subject = ?peer.identity.as_ref().map(|identity| &identity.subject), fault = refusal.subcode, reason = %refusal.reason, "caller refused");
                metrics::global().refusal(refusal.subcode);
                timer.ended(PROTOCOL, label, "fault");
                return refusal.answer(relates_to).into_response();
            }
        };
        let served: Vec<Transaction> = SERVED
            .into_iter()
            .filter(|transaction| self.repository.profile().allows(*transaction))
            .collect();
        let transaction = match served_transaction(&header, &served, "repository") {
            Ok(transaction) => transaction,
            Err(answer) => {
                timer.ended(PROTOCOL, label, "fault");
                return answer.into_response();
            }
        };
        let mtom = message.mtom;
        match (transaction, message.envelope.body) {
            (Transaction::Iti41, Body::ProvideAndRegister(request)) => {
                // A MIME part no xds:Document refers to is a document without metadata.
                let orphans: Vec<RegistryError> = message
                    .unreferenced
                    .iter()
                    .map(|part| {
                        RegistryError::error(
                            XdsErrorCode::MissingDocumentMetadata,
                            format!(
                                "MIME part <{}> is not referred to by any xds:Document",
                                part.content_id.as_deref().unwrap_or("")
                            ),
                        )
                    })
                    .collect();
                let response =
                    match transform::provide_and_register_from_wire(request, Options::REPOSITORY) {
                        Err(violations) => RegistryResponse::from_errors(
                            violations
                                .iter()
                                .map(Violation::to_registry_error)
                                .chain(orphans)
                                .collect(),
                        ),
                        Ok(_) if !orphans.is_empty() => RegistryResponse::from_errors(orphans),
                        Ok(request) => {
                            // The caller's assertion must agree with the submission first.
                            let refused = caller.check_submission(&request.metadata);
                            if refused.is_empty() {
                                self.repository
                                    .provide_and_register(request, header.security, uploads)
                                    .await
                            } else {
                                RegistryResponse::from_errors(refused)
                            }
                        }
                    };
                timer.answered(PROTOCOL, transaction.id(), &response);
                status_answer(transaction, relates_to, &response, mtom).into_response()
            }
            (Transaction::Iti43, Body::Retrieve(request)) => {
                drop(uploads);
                match transform::document_requests_from_wire(&request.requests, Options::REPOSITORY)
                {
                    Ok(requests) => {
                        self.retrieve(requests, header.security.as_ref(), relates_to, timer)
                            .await
                    }
                    Err(violations) => {
                        let response = violations_response(&violations);
                        timer.answered(PROTOCOL, transaction.id(), &response);
                        status_answer(transaction, relates_to, &response, true).into_response()
                    }
                }
            }
            (Transaction::Iti86, Body::RemoveDocuments(request)) => {
                drop(uploads);
                let response = match transform::document_requests_from_wire(
                    &request.requests,
                    Options::REPOSITORY,
                ) {
                    Ok(requests) => {
                        let repository = self.repository.clone();
                        match tokio::task::spawn_blocking(move || {
                            repository.remove_documents(&requests)
                        })
                        .await
                        {
                            Ok(response) => response,
                            Err(error) => {
                                RegistryResponse::from_errors(vec![RegistryError::error(
                                    XdsErrorCode::RemoveDocumentsError,
                                    error.to_string(),
                                )])
                            }
                        }
                    }
                    Err(violations) => violations_response(&violations),
                };
                timer.answered(PROTOCOL, transaction.id(), &response);
                status_answer(transaction, relates_to, &response, mtom).into_response()
            }
            (transaction, body) => {
                timer.ended(PROTOCOL, transaction.id(), "fault");
                body_mismatch(transaction, &body, relates_to).into_response()
            }
        }
    }

    /// ITI-43: an MTOM answer whose documents stream from the store, with its exact
    /// Content-Length.
    async fn retrieve(
        &self,
        requests: Vec<xds::model::DocumentRequest>,
        security: Option<&wire::RawXml>,
        relates_to: Option<String>,
        timer: Timer,
    ) -> Response<ResponseBody> {
        // The registry says what the caller may read; then a few point reads of small records,
        // usually from cache: cheaper here than a hand-off to the blocking pool (the documents
        // themselves stream from a blocking thread).
        let plan = self
            .repository
            .plan_checked_retrieve(requests, security)
            .await;
        timer.answered(PROTOCOL, Transaction::Iti43.id(), &plan.response);
        let content_ids: Vec<String> = (1..=plan.documents.len())
            .map(|index| format!("document{index}@xds-repository"))
            .collect();
        let model = RetrieveResponse {
            response: plan.response.clone(),
            documents: plan
                .documents
                .iter()
                .enumerate()
                .map(|(index, found)| RetrievedDocument {
                    home_community_id: found.request.home_community_id.clone(),
                    repository_unique_id: found.request.repository_unique_id.clone(),
                    document_unique_id: found.request.document_unique_id.clone(),
                    new_repository_unique_id: None,
                    new_document_unique_id: None,
                    mime_type: found.record.mime_type.clone(),
                    content: index,
                })
                .collect(),
        };
        let body =
            Body::RetrieveResponse(transform::retrieve_response_to_wire(&model, |document| {
                OutContent::Xop {
                    cid: content_ids[document.content].clone(),
                }
            }));
        let action = Transaction::Iti43.response_action();
        let header = Header {
            action: Some(action.to_owned()),
            message_id: Some(random_uuid_urn()),
            relates_to,
            ..Header::default()
        };
        let envelope = wire::write_envelope(&header, &body);
        let writer = MultipartWriter::new(MultipartWriter::boundary_from_random(random_bytes()));
        let mut length = (writer.root_part_header(ROOT_CONTENT_ID).len()
            + envelope.len()
            + writer.closing().len()) as u64;
        for (found, content_id) in plan.documents.iter().zip(&content_ids) {
            length += writer
                .part_header(content_id, header_safe(&found.record.mime_type))
                .len() as u64
                + found.record.size;
        }
        let content_type = writer.content_type(ROOT_CONTENT_ID, Some(action));
        let documents_size: u64 = plan.documents.iter().map(|found| found.record.size).sum();
        let answer = RetrieveAnswer {
            repository: self.repository.clone(),
            writer,
            envelope,
            plan,
            content_ids,
        };
        let body = if documents_size <= INLINE_ANSWER {
            // Small enough to read here: no hand-off to the blocking pool, and a damaged
            // document still gets a proper answer instead of a broken one.
            let mut frames = Vec::new();
            if let Err(error) = answer.emit(&mut |bytes| {
                frames.push(bytes);
                Ok(())
            }) {
                return fault(FaultCode::Receiver, None, error.to_string(), None).into_response();
            }
            http::frames(frames)
        } else {
            let (mut out, body) = channel_body();
            tokio::task::spawn_blocking(move || {
                match answer.emit(&mut |bytes| out.write_bytes(bytes)) {
                    Ok(()) => {
                        if let Err(error) = out.finish() {
                            tracing::debug!("retrieve answer not delivered: {error}");
                        }
                    }
                    // The writer is dropped unfinished: the client sees a broken answer.
                    Err(error) => tracing::debug!("retrieve answer abandoned: {error}"),
                }
            });
            body.boxed()
        };
        let mut response = http::response(StatusCode::OK, &content_type, body);
        if let Ok(value) = length.to_string().parse() {
            response
                .headers_mut()
                .insert(hyper::header::CONTENT_LENGTH, value);
        }
        response
    }
}

/// An ITI-43 MTOM answer ready to go out, frame by frame: the root part, then each document as
/// the chunks read from storage (never copied), then the closing delimiter.
struct RetrieveAnswer {
    repository: Repository,
    writer: MultipartWriter,
    envelope: String,
    plan: crate::service::iti43::RetrievePlan,
    content_ids: Vec<String>,
}

impl RetrieveAnswer {
    fn emit(
        self,
        send: &mut dyn FnMut(bytes::Bytes) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        send(self.writer.root_part_header(ROOT_CONTENT_ID).into())?;
        send(self.envelope.into_bytes().into())?;
        for (found, content_id) in self.plan.documents.iter().zip(&self.content_ids) {
            send(
                self.writer
                    .part_header(content_id, header_safe(&found.record.mime_type))
                    .into(),
            )?;
            let mut reader = self.repository.document_reader(&found.record);
            while let Some(chunk) = reader.next_chunk()? {
                send(chunk.into())?;
            }
        }
        send(self.writer.closing().into())
    }
}

/// Answers a message that could not be decoded (nothing it carried is kept: the uploads
/// guard removes any stored part).
fn decode_failure(content_type: &str, error: &DecodeError) -> HttpAnswer {
    match error.class() {
        ErrorClass::VersionMismatch => {
            fault(FaultCode::VersionMismatch, None, error.to_string(), None)
        }
        class @ (ErrorClass::Metadata | ErrorClass::MissingDocument) => {
            let code = if class == ErrorClass::MissingDocument {
                XdsErrorCode::MissingDocument
            } else {
                XdsErrorCode::RepositoryMetadataError
            };
            let transaction = content_type_action(content_type)
                .and_then(|action| Transaction::from_action(&action))
                .filter(|transaction| SERVED.contains(transaction))
                .unwrap_or(Transaction::Iti41);
            let response =
                RegistryResponse::from_errors(vec![RegistryError::error(code, error.to_string())]);
            status_answer(transaction, None, &response, false)
        }
        ErrorClass::TooLarge | ErrorClass::SenderFault => {
            fault(FaultCode::Sender, None, error.to_string(), None)
        }
        ErrorClass::Internal => {
            tracing::warn!("a request failed while it was read: {error}");
            fault(FaultCode::Receiver, None, error.to_string(), None)
        }
    }
}
