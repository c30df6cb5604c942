//! SOAP 1.2 adapter: decodes the HTTP body (Simple SOAP or MTOM), dispatches on wsa:Action to
//! the services, and encodes the answer (an MTOM request gets an MTOM answer). Problems with
//! the message itself are SOAP faults; problems with its metadata are RegistryResponse errors.

use std::sync::Arc;

use xds::error::{RegistryError, RegistryResponse};
use xds::model::{Metadata, QueryResponse};
use xds::transaction::Transaction;
use xds::transform::{self, Options};
use xds::wire::{
    self, Body, DecodeError, ErrorClass, Fault, FaultCode, Header, Limits, MemorySink,
    MultipartWriter, OutContent,
};
use xds::{ResponseStatus, XdsErrorCode};

use crate::service::Registry;

/// Bodies above this size are decoded off the async workers' fast path.
const LARGE_BODY: usize = 64 * 1024;

/// An HTTP answer, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

/// The SOAP endpoint of the registry.
#[derive(Debug, Clone)]
pub struct SoapEndpoint {
    registry: Registry,
    limits: Arc<Limits>,
}

fn random_uuid_urn() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        bytes = nanos.to_be_bytes();
    }
    // Display is the `urn:uuid:` form.
    xds::model::Uuid::new_v4(bytes).to_string()
}

/// A SOAP fault answer.
pub fn fault(
    code: FaultCode,
    subcode: Option<&str>,
    reason: impl Into<String>,
    relates_to: Option<String>,
) -> HttpAnswer {
    let header = Header {
        action: Some(wire::names::WSA_FAULT_ACTION.to_owned()),
        message_id: Some(random_uuid_urn()),
        relates_to,
        ..Header::default()
    };
    let body = Body::Fault(Fault {
        code,
        subcodes: subcode.map(str::to_owned).into_iter().collect(),
        reason: reason.into(),
        reason_lang: Some("en".to_owned()),
        detail: None,
    });
    HttpAnswer {
        status: code.http_status(),
        content_type: "application/soap+xml; charset=UTF-8".to_owned(),
        body: wire::write_envelope(&header, &body).into_bytes(),
    }
}

/// Encodes a response envelope, as MTOM when the request was MTOM.
fn respond(
    transaction: Transaction,
    relates_to: Option<String>,
    body: Body<OutContent>,
    mtom: bool,
) -> HttpAnswer {
    let action = transaction.response_action();
    let header = Header {
        action: Some(action.to_owned()),
        message_id: Some(random_uuid_urn()),
        relates_to,
        ..Header::default()
    };
    let envelope = wire::write_envelope(&header, &body);
    if !mtom {
        return HttpAnswer {
            status: 200,
            content_type: format!("application/soap+xml; charset=UTF-8; action=\"{action}\""),
            body: envelope.into_bytes(),
        };
    }
    let mut random = [0u8; 16];
    let _ = getrandom::fill(&mut random);
    let writer = MultipartWriter::new(MultipartWriter::boundary_from_random(random));
    let root = "<root.message@xds-registry>";
    let mut out = writer.root_part_header(root);
    out.extend_from_slice(envelope.as_bytes());
    out.extend_from_slice(&writer.closing());
    HttpAnswer {
        status: 200,
        content_type: writer.content_type(root, Some(action)),
        body: out,
    }
}

fn registry_response(response: &RegistryResponse) -> Body<OutContent> {
    Body::RegistryResponse(transform::registry_response_to_wire(response))
}

fn query_response(response: &QueryResponse) -> Body<OutContent> {
    Body::AdhocQueryResponse(transform::query_response_to_wire(response))
}

/// The `action` parameter of a Content-Type, if any (SOAP 1.2 HTTP binding).
fn content_type_action(content_type: &str) -> Option<String> {
    let parsed = wire::ContentType::parse(content_type).ok()?;
    parsed.param("action").map(str::to_owned)
}

impl SoapEndpoint {
    pub fn new(registry: Registry, limits: Limits) -> Self {
        Self {
            registry,
            limits: Arc::new(limits),
        }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Handles one POSTed SOAP message.
    pub async fn handle(&self, content_type: &str, body: &[u8]) -> HttpAnswer {
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
            Err(error) => return decode_failure(content_type, &error),
        };
        let header = message.envelope.header;
        let mtom = message.mtom;
        let relates_to = header.message_id.clone();
        if let Some(block) = header.not_understood.first() {
            return fault(
                FaultCode::MustUnderstand,
                None,
                format!(
                    "header block {} ({}) is marked mustUnderstand and is not understood here",
                    block.qname, block.namespace
                ),
                relates_to,
            );
        }
        let Some(action) = header.action.as_deref() else {
            return fault(
                FaultCode::Sender,
                Some("wsa:MessageAddressingHeaderRequired"),
                "the wsa:Action header is required",
                relates_to,
            );
        };
        let transaction = match Transaction::from_action(action) {
            Some(transaction @ (Transaction::Iti42 | Transaction::Iti18)) => transaction,
            Some(other) => {
                return fault(
                    FaultCode::Sender,
                    Some("wsa:ActionNotSupported"),
                    format!("{} ({action}) is not served at this endpoint", other.id()),
                    relates_to,
                );
            }
            None => {
                return fault(
                    FaultCode::Sender,
                    Some("wsa:ActionNotSupported"),
                    format!("action {action:?} is not supported by this registry"),
                    relates_to,
                );
            }
        };
        match (transaction, message.envelope.body) {
            (Transaction::Iti42, Body::SubmitObjects(request)) => {
                let response =
                    match transform::submit_objects_from_wire(&request, Options::REGISTRY) {
                        Ok(metadata) => self.registry.register(metadata).await,
                        Err(violations) => RegistryResponse::from_errors(
                            violations
                                .iter()
                                .map(transform::Violation::to_registry_error)
                                .collect(),
                        ),
                    };
                respond(transaction, relates_to, registry_response(&response), mtom)
            }
            (Transaction::Iti18, Body::AdhocQuery(request)) => {
                let response = match transform::stored_query_from_wire(&request) {
                    Ok(query) => self.registry.query(query).await,
                    Err(errors) => QueryResponse {
                        response: RegistryResponse::from_errors(errors),
                        metadata: Metadata::default(),
                    },
                };
                respond(transaction, relates_to, query_response(&response), mtom)
            }
            (transaction, body) => fault(
                FaultCode::Sender,
                None,
                format!(
                    "the action {} ({}) needs a {} body, not {}",
                    transaction.action(),
                    transaction.id(),
                    transaction.request_element().1,
                    body.element_name()
                ),
                relates_to,
            ),
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
