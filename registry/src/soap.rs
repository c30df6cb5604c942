//! SOAP 1.2 adapter: decodes the HTTP body (Simple SOAP or MTOM), dispatches on wsa:Action to
//! the services, and encodes the answer (an MTOM request gets an MTOM answer). Problems with
//! the message itself are SOAP faults; problems with its metadata are RegistryResponse errors.

use std::sync::Arc;

use tracing::Instrument;
use xds::error::{RegistryError, RegistryResponse};
use xds::model::{Metadata, QueryResponse};
use xds::net::daemon::correlation_id;
use xds::net::metrics::{self, Timer};
use xds::net::soap::{
    HttpAnswer, body_mismatch, content_type_action, envelope_answer, fault, served_transaction,
};
use xds::net::tls::Peer;
use xds::net::trust::Trust;
use xds::transaction::Transaction;
use xds::transform::{self, Options};
use xds::wire::{self, Body, DecodeError, ErrorClass, FaultCode, Limits, MemorySink, OutContent};
use xds::{ResponseStatus, XdsErrorCode};

use crate::service::Registry;

/// The `protocol` label of this adapter's metrics.
const PROTOCOL: &str = "soap";

/// Bodies above this size are decoded off the async workers' fast path.
const LARGE_BODY: usize = 64 * 1024;

/// The SOAP endpoint of the registry.
#[derive(Debug, Clone)]
pub struct SoapEndpoint {
    registry: Registry,
    limits: Arc<Limits>,
    trust: Trust,
}

/// Encodes a response envelope, as MTOM when the request was MTOM.
fn respond(
    transaction: Transaction,
    relates_to: Option<String>,
    body: Body<OutContent>,
    mtom: bool,
) -> HttpAnswer {
    envelope_answer(
        transaction.response_action(),
        relates_to,
        &body,
        mtom,
        "root.message@xds-registry",
    )
}

fn registry_response(response: &RegistryResponse) -> Body<OutContent> {
    Body::RegistryResponse(transform::registry_response_to_wire(response))
}

/// The Failure answering a body that does not map to the model.
fn refused(violations: &[transform::Violation]) -> RegistryResponse {
    RegistryResponse::from_errors(
        violations
            .iter()
            .map(transform::Violation::to_registry_error)
            .collect(),
    )
}

fn query_response(response: &QueryResponse) -> Body<OutContent> {
    Body::AdhocQueryResponse(transform::query_response_to_wire(response))
}

impl SoapEndpoint {
    pub fn new(registry: Registry, limits: Limits, trust: Trust) -> Self {
        Self {
            registry,
            limits: Arc::new(limits),
            trust,
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Handles one POSTed SOAP message that came over `peer`'s connection. The caller is
    /// authenticated (certificate, VIHF assertion) before the transaction is looked at.
    pub async fn handle(&self, peer: &Peer, content_type: &str, body: &[u8]) -> HttpAnswer {
        let timer = Timer::start();
        let decode = || {
            let mut sink = MemorySink::default();
            wire::decode_message(content_type, body, &self.limits, &mut sink)
        };
        // Decoding a large submission takes milliseconds of CPU: let the runtime move its other
        // tasks to another worker meanwhile (the daemon runs the multi-threaded runtime).
        let decoded = if body.len() > LARGE_BODY
            && tokio::runtime::Handle::try_current().is_ok_and(|handle| {
                handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
            }) {
            tokio::task::block_in_place(decode)
        } else {
            decode()
        };
        let message = match decoded {
            Ok(message) => message,
            Err(error) => {
                timer.undecodable(PROTOCOL);
                return decode_failure(content_type, &error);
            }
        };
        let correlation_id = correlation_id(message.envelope.header.message_id.as_deref());
        let span = tracing::info_span!("soap", %correlation_id);
        self.dispatch(peer, message, timer).instrument(span).await
    }

    /// Authenticates the caller and runs the transaction the decoded message asks for.
    async fn dispatch(
        &self,
        peer: &Peer,
        message: wire::DecodedMessage<Vec<u8>>,
        timer: Timer,
    ) -> HttpAnswer {
        let header = message.envelope.header;
        let mtom = message.mtom;
        let relates_to = header.message_id.clone();
        let label = header
            .action
            .as_deref()
            .and_then(Transaction::from_action)
            .map_or("unknown", Transaction::id);
        let caller = match self.trust.caller(peer, header.security.as_ref()) {
            Ok(caller) => caller,
            Err(refusal) => {
                tracing::warn!(subject = ?peer.identity.as_ref().map(|identity| &identity.subject), fault = refusal.subcode, reason = %refusal.reason, "caller refused");
                metrics::global().refusal(refusal.subcode);
                timer.ended(PROTOCOL, label, "fault");
                return refusal.answer(relates_to);
            }
        };
        if let Body::Extension(raw) = &message.envelope.body {
            let answer = crate::dmp_soap::handle(
                &self.registry,
                &caller,
                header.action.as_deref(),
                raw,
                relates_to,
            )
            .await;
            timer.ended(
                PROTOCOL,
                "DMP",
                if answer.status == 200 {
                    "answered"
                } else {
                    "fault"
                },
            );
            return answer;
        }
        // A repository forwarding its caller's assertion names the transaction it serves in
        // wsa:From (ITI-41 behind an ITI-42, ITI-43 behind an ITI-18), for the audit trail.
        let forwarded_for = caller
            .signer
            .as_ref()
            .and(header.from.as_ref())
            .and_then(|from| from.address.as_deref())
            .and_then(|address| {
                [Transaction::Iti41, Transaction::Iti43]
                    .into_iter()
                    .find(|transaction| transaction.action() == address)
            });
        let served: Vec<Transaction> = [
            Transaction::Iti42,
            Transaction::Iti18,
            Transaction::Iti57,
            Transaction::Iti62,
        ]
        .into_iter()
        .filter(|transaction| self.registry.profile().allows(*transaction))
        .collect();
        let transaction = match served_transaction(&header, &served, "registry") {
            Ok(transaction) => transaction,
            Err(answer) => {
                timer.ended(PROTOCOL, label, "fault");
                return answer;
            }
        };
        match (transaction, message.envelope.body) {
            (Transaction::Iti42, Body::SubmitObjects(request)) => {
                let response =
                    match transform::submit_objects_from_wire(&request, Options::REGISTRY) {
                        Ok(metadata) => {
                            let via = forwarded_for.unwrap_or(Transaction::Iti42);
                            self.registry.register_as(&caller, metadata, via).await
                        }
                        Err(violations) => refused(&violations),
                    };
                timer.answered(PROTOCOL, transaction.id(), &response);
                respond(transaction, relates_to, registry_response(&response), mtom)
            }
            (Transaction::Iti57, Body::SubmitObjects(request)) => {
                let response =
                    match transform::submit_objects_from_wire(&request, Options::REGISTRY) {
                        Ok(metadata) => self.registry.update_as(&caller, metadata).await,
                        Err(violations) => refused(&violations),
                    };
                timer.answered(PROTOCOL, transaction.id(), &response);
                respond(transaction, relates_to, registry_response(&response), mtom)
            }
            (Transaction::Iti18, Body::AdhocQuery(request)) => {
                let response = match transform::stored_query_from_wire(&request) {
                    Ok(query) => {
                        let via = forwarded_for.unwrap_or(Transaction::Iti18);
                        self.registry.query_as(&caller, query, via).await
                    }
                    Err(errors) => QueryResponse {
                        response: RegistryResponse::from_errors(errors),
                        metadata: Metadata::default(),
                    },
                };
                timer.answered(PROTOCOL, transaction.id(), &response.response);
                respond(transaction, relates_to, query_response(&response), mtom)
            }
            (Transaction::Iti62, Body::RemoveObjects(request)) => {
                let response =
                    match transform::remove_metadata_from_wire(&request, Options::REGISTRY) {
                        Ok(request) => self.registry.remove_as(&caller, request).await,
                        Err(violations) => refused(&violations),
                    };
                timer.answered(PROTOCOL, transaction.id(), &response);
                respond(transaction, relates_to, registry_response(&response), mtom)
            }
            (transaction, body) => {
                timer.ended(PROTOCOL, transaction.id(), "fault");
                body_mismatch(transaction, &body, relates_to)
            }
        }
    }
}

/// Answers a message that could not be decoded: a fault for an unusable envelope, a Failure
/// response with the metadata error code for a body that is not valid ebRIM.
fn decode_failure(content_type: &str, error: &DecodeError) -> HttpAnswer {
    match error.class() {
        ErrorClass::VersionMismatch => {
            fault(FaultCode::VersionMismatch, None, error.to_string(), None)
        }
        ErrorClass::Metadata | ErrorClass::MissingDocument => {
            let query = content_type_action(content_type).as_deref()
                == Some(Transaction::Iti18.action())
                || error.to_string().contains("AdhocQuery");
            let code = if query {
                XdsErrorCode::RegistryError
            } else {
                XdsErrorCode::RegistryMetadataError
            };
            let response =
                RegistryResponse::from_errors(vec![RegistryError::error(code, error.to_string())]);
            if query {
                respond(
                    Transaction::Iti18,
                    None,
                    query_response(&QueryResponse {
                        response,
                        metadata: Metadata::default(),
                    }),
                    false,
                )
            } else {
                respond(
                    Transaction::Iti42,
                    None,
                    registry_response(&response),
                    false,
                )
            }
        }
        ErrorClass::TooLarge => fault(FaultCode::Sender, None, error.to_string(), None),
        ErrorClass::SenderFault => fault(FaultCode::Sender, None, error.to_string(), None),
        ErrorClass::Internal => fault(FaultCode::Receiver, None, error.to_string(), None),
    }
}

/// Whether an answer reports success (for logs and metrics).
pub fn is_success(response: &RegistryResponse) -> bool {
    response.status == ResponseStatus::Success
}
