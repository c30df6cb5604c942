//! The registry, as the repository sees it: a port ([`RegistryClient`]) and its SOAP adapter
//! ([`SoapRegistryClient`]), which registers with ITI-42 and asks with ITI-18 whether a
//! submission set is registered (to settle a submission whose outcome is in doubt). Any
//! conformant registry will do; the caller's WS-Security header is forwarded unchanged.

use std::pin::Pin;
use std::time::Duration;

use hyper::Uri;
use xds::XdsErrorCode;
use xds::error::{RegistryError, RegistryResponse, ResponseStatus};
use xds::model::{
    ContentFilter, Metadata, ObjectSelector, ReturnType, StoredQuery, StoredQueryRequest,
};
use xds::net::client::{ClientError, SoapClient};
use xds::net::soap::{SOAP_CONTENT_TYPE, random_uuid_urn};
use xds::transaction::Transaction;
use xds::transform;
use xds::wire::{self, Body, Header, Limits, MemorySink, OutContent, RawXml};

/// A boxed future (the port is used as a trait object).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why the registry gave no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryCallError {
    /// The request never reached the registry: nothing happened there.
    #[error("the registry was not reached: {0}")]
    NotReached(String),
    /// The request may have been processed: the outcome is unknown.
    #[error("the registry's answer was lost: {0}")]
    InDoubt(String),
}

/// What the repository needs from a registry.
pub trait RegistryClient: Send + Sync + std::fmt::Debug {
    /// ITI-42 with the caller's WS-Security header.
    fn register<'a>(
        &'a self,
        metadata: &'a Metadata,
        security: Option<&'a RawXml>,
    ) -> BoxFuture<'a, Result<RegistryResponse, RegistryCallError>>;

    /// Which of these document uniqueIds the caller (whose WS-Security header is forwarded)
    /// may read, by the registry's access policy: `Ok(Ok(ids))`, or the registry's refusal.
    fn readable<'a>(
        &'a self,
        unique_ids: &'a [String],
        security: Option<&'a RawXml>,
    ) -> BoxFuture<'a, Result<Result<Vec<String>, RegistryResponse>, RegistryCallError>>;

    /// Whether a submission set with this uniqueId is registered.
    fn submission_set_registered<'a>(
        &'a self,
        unique_id: &'a str,
    ) -> BoxFuture<'a, Result<bool, RegistryCallError>>;

    /// Whether the registry answers at all (readiness): no transaction, nothing audited.
    fn reachable(&self) -> BoxFuture<'_, Result<(), String>>;
}

/// The SOAP 1.2 registry client.
#[derive(Debug, Clone)]
pub struct SoapRegistryClient {
    client: SoapClient,
    url: Uri,
    limits: Limits,
}

impl SoapRegistryClient {
    /// `url`: the registry's ITI-42 endpoint (ITI-18 is asked at the same address); an
    /// `https://` URL needs `tls` (the repository's own certificate, the registry's CA).
    pub fn new(
        url: &str,
        timeout: Duration,
        tls: Option<rustls::ClientConfig>,
    ) -> Result<Self, ClientError> {
        let client = SoapClient::new(timeout, 16 << 20, tls);
        Ok(Self {
            url: client.url(url)?,
            client,
            limits: Limits {
                max_message_bytes: 16 << 20,
                max_envelope_bytes: 16 << 20,
                ..Limits::default()
            },
        })
    }

    /// One request; `on_behalf_of` names (in wsa:From) the transaction of the forwarded
    /// caller this request serves, for the registry's audit trail.
    async fn exchange(
        &self,
        transaction: Transaction,
        on_behalf_of: Option<Transaction>,
        security: Option<&RawXml>,
        body: &Body<OutContent>,
    ) -> Result<Body<wire::Attachment<Vec<u8>>>, RegistryCallError> {
        let header = Header {
            action: Some(transaction.action().to_owned()),
            message_id: Some(random_uuid_urn()),
            to: Some(self.url.to_string()),
            from: on_behalf_of.map(|served| wire::EndpointReference {
                address: Some(served.action().to_owned()),
            }),
            security: security.cloned(),
            ..Header::default()
        };
        let envelope = wire::write_envelope(&header, body);
        let content_type = format!("{SOAP_CONTENT_TYPE}; action=\"{}\"", transaction.action());
        let reply = self
            .client
            .post(&self.url, &content_type, envelope.into_bytes())
            .await
            .map_err(|error| {
                if error.maybe_received() {
                    RegistryCallError::InDoubt(error.to_string())
                } else {
                    RegistryCallError::NotReached(error.to_string())
                }
            })?;
        let mut sink = MemorySink::default();
        let decoded = wire::decode_message(
            &reply.content_type,
            &reply.body[..],
            &self.limits,
            &mut sink,
        )
        .map_err(|error| {
            RegistryCallError::InDoubt(format!(
                "HTTP {} with an unreadable body: {error}",
                reply.status
            ))
        })?;
        Ok(decoded.envelope.body)
    }
}

fn fault_response(fault: &wire::Fault) -> RegistryResponse {
    RegistryResponse::from_errors(vec![RegistryError::error(
        XdsErrorCode::RegistryError,
        format!(
            "the registry answered with a SOAP fault ({}): {}",
            fault.code.local_name(),
            fault.reason
        ),
    )])
}

impl RegistryClient for SoapRegistryClient {
    fn reachable(&self) -> BoxFuture<'_, Result<(), String>> {
        // Any HTTP answer (405 to a GET on the SOAP endpoint) proves the connection, the TLS
        // handshake with our certificate and the registry's HTTP layer.
        Box::pin(async move {
            self.client
                .get(&self.url)
                .await
                .map(|_| ())
                .map_err(|error| error.to_string())
        })
    }

    fn register<'a>(
        &'a self,
        metadata: &'a Metadata,
        security: Option<&'a RawXml>,
    ) -> BoxFuture<'a, Result<RegistryResponse, RegistryCallError>> {
        Box::pin(async move {
            let body = Body::SubmitObjects(transform::submit_objects_to_wire(metadata));
            match self
                .exchange(
                    Transaction::Iti42,
                    Some(Transaction::Iti41),
                    security,
                    &body,
                )
                .await?
            {
                Body::RegistryResponse(response) => {
                    transform::registry_response_from_wire(&response).map_err(|violations| {
                        RegistryCallError::InDoubt(format!(
                            "the registry's RegistryResponse is not valid: {}",
                            violations
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join("; ")
                        ))
                    })
                }
                // A fault is the registry refusing the message: nothing was registered.
                Body::Fault(fault) => Ok(fault_response(&fault)),
                other => Err(RegistryCallError::InDoubt(format!(
                    "the registry answered ITI-42 with {}",
                    other.element_name()
                ))),
            }
        })
    }

    fn readable<'a>(
        &'a self,
        unique_ids: &'a [String],
        security: Option<&'a RawXml>,
    ) -> BoxFuture<'a, Result<Result<Vec<String>, RegistryResponse>, RegistryCallError>> {
        Box::pin(async move {
            let request = StoredQueryRequest {
                query: StoredQuery::GetDocuments {
                    selector: ObjectSelector::UniqueIds(unique_ids.to_vec()),
                },
                return_type: ReturnType::LeafClass,
                home: None,
                metadata_level: None,
            };
            let body = Body::AdhocQuery(transform::stored_query_to_wire(&request));
            match self
                .exchange(
                    Transaction::Iti18,
                    Some(Transaction::Iti43),
                    security,
                    &body,
                )
                .await?
            {
                Body::AdhocQueryResponse(response) => {
                    let answer = transform::query_response_from_wire(
                        &response,
                        transform::Options::REPOSITORY,
                    )
                    .map_err(|problem| {
                        RegistryCallError::InDoubt(format!(
                            "the registry's answer to GetDocuments is not valid: {problem:?}"
                        ))
                    })?;
                    if answer.response.status == ResponseStatus::Failure {
                        return Ok(Err(answer.response));
                    }
                    Ok(Ok(answer
                        .metadata
                        .document_entries
                        .iter()
                        .filter_map(|entry| {
                            entry.unique_id.as_ref().map(|id| id.as_str().to_owned())
                        })
                        .collect()))
                }
                Body::Fault(fault) => Ok(Err(fault_response(&fault))),
                other => Err(RegistryCallError::InDoubt(format!(
                    "the registry answered ITI-18 with {}",
                    other.element_name()
                ))),
            }
        })
    }

    fn submission_set_registered<'a>(
        &'a self,
        unique_id: &'a str,
    ) -> BoxFuture<'a, Result<bool, RegistryCallError>> {
        Box::pin(async move {
            let request = StoredQueryRequest {
                query: StoredQuery::GetSubmissionSetAndContents {
                    selector: ObjectSelector::UniqueIds(vec![unique_id.to_owned()]),
                    filter: ContentFilter::default(),
                },
                return_type: ReturnType::ObjectRef,
                home: None,
                metadata_level: None,
            };
            let body = Body::AdhocQuery(transform::stored_query_to_wire(&request));
            match self.exchange(Transaction::Iti18, None, None, &body).await? {
                Body::AdhocQueryResponse(response) => {
                    let status = response
                        .response
                        .status
                        .as_deref()
                        .and_then(ResponseStatus::from_urn);
                    match status {
                        Some(ResponseStatus::Success | ResponseStatus::PartialSuccess) => {
                            Ok(!response.objects.is_empty())
                        }
                        _ => Err(RegistryCallError::InDoubt(format!(
                            "the registry could not answer GetSubmissionSetAndContents: {:?}",
                            response.response.errors
                        ))),
                    }
                }
                Body::Fault(fault) => Err(RegistryCallError::InDoubt(format!(
                    "the registry answered GetSubmissionSetAndContents with a fault: {}",
                    fault.reason
                ))),
                other => Err(RegistryCallError::InDoubt(format!(
                    "the registry answered ITI-18 with {}",
                    other.element_name()
                ))),
            }
        })
    }
}
