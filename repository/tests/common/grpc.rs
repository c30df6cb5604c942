//! gRPC clients of the tests (tonic, the generated xds.v1 clients): channels over plain TCP or
//! mutual TLS with the test PKI, the VIHF assertion in request metadata, and streamed ITI-41 /
//! ITI-43 with a chunk size of the caller's choice.
#![allow(unused_imports)]

use std::net::SocketAddr;
use std::path::Path;

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic::{Request, Status};
use xds::error::RegistryError;
use xds::model::Metadata;
use xds_proto::v1;
pub use xds_proto::v1::access_history_client::AccessHistoryClient;
pub use xds_proto::v1::identity_client::IdentityClient;
pub use xds_proto::v1::policy_client::PolicyClient;
pub use xds_proto::v1::registry_client::RegistryClient;
pub use xds_proto::v1::repository_client::RepositoryClient;

/// A channel to a plain (--insecure) gRPC listener.
pub async fn plain(address: SocketAddr) -> Channel {
    Endpoint::from_shared(format!("http://{address}"))
        .expect("endpoint")
        .connect()
        .await
        .expect("connect")
}

/// A channel over mutual TLS presenting `certificate` (a file stem of the test PKI).
pub async fn secure(address: SocketAddr, pki: &Path, certificate: &str) -> Result<Channel, String> {
    let read = |name: String| std::fs::read(pki.join(name)).expect("PKI file");
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read("ca.pem".to_owned())))
        .identity(Identity::from_pem(
            read(format!("{certificate}.pem")),
            read(format!("{certificate}.key")),
        ))
        .domain_name("127.0.0.1");
    Endpoint::from_shared(format!("https://{address}"))
        .expect("endpoint")
        .tls_config(tls)
        .map_err(|error| error.to_string())?
        .connect()
        .await
        .map_err(|error| format!("{error:?}"))
}

/// A request carrying `assertion` (the signed `<saml2:Assertion>`), if any.
pub fn with_assertion<T>(message: T, assertion: Option<&str>) -> Request<T> {
    let mut request = Request::new(message);
    if let Some(assertion) = assertion {
        xds_proto::security::attach(request.metadata_mut(), assertion);
    }
    request
}

/// The XDS error codes a failed call's status carries, with their locations.
pub fn error_codes(status: &Status) -> Vec<(String, String)> {
    xds_proto::status::errors_of(status)
        .iter()
        .map(|error: &RegistryError| {
            (
                error.code.to_string(),
                error.location.clone().unwrap_or_default(),
            )
        })
        .collect()
}

/// ITI-41 as a client stream: the header, then each document in `chunk`-byte parts.
pub async fn grpc_provide(
    client: &mut RepositoryClient<Channel>,
    metadata: &Metadata,
    documents: Vec<(String, Vec<u8>)>,
    chunk: usize,
    assertion: Option<&str>,
) -> Result<v1::RegistryResponse, Status> {
    use v1::provide_and_register_part::Part;
    let mut parts = vec![v1::ProvideAndRegisterPart {
        part: Some(Part::Header(v1::ProvideAndRegisterHeader {
            metadata: Some(xds_proto::metadata::metadata_to_proto(metadata)),
        })),
    }];
    for (id, content) in documents {
        let pieces: Vec<&[u8]> = if content.is_empty() {
            vec![&[]]
        } else {
            content.chunks(chunk).collect()
        };
        for piece in pieces {
            parts.push(v1::ProvideAndRegisterPart {
                part: Some(Part::Chunk(v1::DocumentChunk {
                    document_id: id.clone(),
                    data: piece.to_vec(),
                })),
            });
        }
    }
    client
        .provide_and_register(with_assertion(tokio_stream::iter(parts), assertion))
        .await
        .map(tonic::Response::into_inner)
}

/// One document of an ITI-43 answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Got {
    pub header: v1::RetrievedDocument,
    pub content: Vec<u8>,
}

/// ITI-43 as a server stream, gathered: the status part and the documents.
pub async fn grpc_retrieve(
    client: &mut RepositoryClient<Channel>,
    unique_ids: &[&str],
    repository_unique_id: &str,
    assertion: Option<&str>,
) -> Result<(v1::RegistryResponse, Vec<Got>), Status> {
    use v1::retrieve_part::Part;
    let documents = unique_ids
        .iter()
        .map(|id| v1::DocumentRequest {
            home_community_id: String::new(),
            repository_unique_id: repository_unique_id.to_owned(),
            document_unique_id: (*id).to_owned(),
        })
        .collect();
    let mut stream = client
        .retrieve(with_assertion(v1::RetrieveRequest { documents }, assertion))
        .await?
        .into_inner();
    let mut response = None;
    let mut got: Vec<Got> = Vec::new();
    while let Some(part) = stream.message().await? {
        match part.part {
            Some(Part::Response(status)) => response = Some(status),
            Some(Part::Document(header)) => got.push(Got {
                header,
                content: Vec::new(),
            }),
            Some(Part::Data(data)) => got
                .last_mut()
                .expect("data after a document header")
                .content
                .extend_from_slice(&data),
            None => {}
        }
    }
    Ok((response.expect("a status part first"), got))
}
