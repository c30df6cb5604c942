//! gRPC against SOAP on the same daemons, in the same run (run by hand; not part of the test
//! command):
//!
//! ```text
//! cargo bench -p xds-repository --bench grpc -- [--clients 4] [--queries 500] [--retrieves 100] [--rounds 5]
//! ```
//!
//! Both release daemons on loopback (plain listeners: the transports, not TLS, are compared),
//! one patient with 20 DocumentEntries and one 1 MiB document. Per round, the same number of
//! clients send the same requests over each transport, one after the other:
//! 1. ITI-18 FindDocuments (20 entries, LeafClass): SOAP over keep-alive HTTP/1.1 connections,
//!    one per client, against the typed FindDocuments RPC over one HTTP/2 channel per client;
//! 2. ITI-43 of the 1 MiB document: the MTOM answer read whole, against the server stream.
//!
//! It prints the medians over the rounds of each rate and the ratio gRPC / SOAP.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a command that prints figures

use std::net::SocketAddr;
use std::path::Path;
use std::time::Instant;

use tonic::transport::Channel;
use xds::model::*;
use xds::transaction::Transaction;
use xds::transform;
use xds::wire::{self, Body};
use xds_conformance::load::Client;
use xds_conformance::support::{self, Daemon, Output, TempDir};
use xds_proto::v1;
use xds_proto::v1::registry_client::RegistryClient;
use xds_proto::v1::repository_client::RepositoryClient;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const REPOSITORY_ID: &str = "1.3.6.1.4.1.21367.13.80.9";
const MIB: usize = 1 << 20;

#[derive(Debug, Clone, Copy)]
struct Args {
    clients: usize,
    queries: usize,
    retrieves: usize,
    rounds: usize,
}

fn parse_args() -> Args {
    let mut args = Args {
        clients: 4,
        queries: 500,
        retrieves: 100,
        rounds: 5,
    };
    let mut raw = std::env::args().skip(1);
    while let Some(flag) = raw.next() {
        let mut value = || raw.next().and_then(|value| value.parse::<usize>().ok());
        match flag.as_str() {
            "--clients" => args.clients = value().expect("--clients N"),
            "--queries" => args.queries = value().expect("--queries N"),
            "--retrieves" => args.retrieves = value().expect("--retrieves N"),
            "--rounds" => args.rounds = value().expect("--rounds N"),
            _ => {}
        }
    }
    args
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// `clients` threads each doing `count` SOAP exchanges; operations per second.
fn soap_rate(
    address: SocketAddr,
    path: &str,
    clients: usize,
    count: usize,
    body: &[u8],
    check: fn(&[u8]),
) -> f64 {
    let started = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..clients {
            scope.spawn(|| {
                let mut client = Client::connect(address);
                for _ in 0..count {
                    let (status, answer) = client.post(path, body);
                    assert_eq!(status, 200);
                    check(&answer);
                }
            });
        }
    });
    (clients * count) as f64 / started.elapsed().as_secs_f64()
}

fn check_query(answer: &[u8]) {
    let text = std::str::from_utf8(answer).expect("UTF-8");
    assert!(
        text.contains("ResponseStatusType:Success")
            && text.matches("<rim:ExtrinsicObject").count() == 20
    );
}

fn check_retrieve(answer: &[u8]) {
    assert!(answer.len() > MIB);
}

async fn grpc_rate<F, Fut>(channel: &Channel, clients: usize, count: usize, operation: F) -> f64
where
    F: Fn(Channel) -> Fut + Clone + Send + 'static,
    Fut: Future<Output = ()> + Send,
{
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let channel = channel.clone();
        let operation = operation.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..count {
                operation(channel.clone()).await;
            }
        }));
    }
    for task in tasks {
        task.await.expect("client");
    }
    (clients * count) as f64 / started.elapsed().as_secs_f64()
}

async fn connect(address: SocketAddr) -> Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{address}"))
        .expect("endpoint")
        .tcp_nodelay(true)
        .initial_stream_window_size(Some(2 << 20))
        .initial_connection_window_size(Some(4 << 20))
        .connect()
        .await
        .expect("connect")
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args = parse_args();
    let repository_binary = Path::new(env!("CARGO_BIN_EXE_xds-repository"));
    let registry_binary = repository_binary.with_file_name("xds-registry");
    assert!(
        registry_binary.exists(),
        "build xds-registry (release) first"
    );
    let patient = support::patient(9001);
    let registry_dir = TempDir::new("bench-grpc-registry");
    let repository_dir = TempDir::new("bench-grpc-repository");
    support::patient_add(
        &registry_binary,
        registry_dir.path(),
        &[&patient.to_string()],
    );
    let output = Output {
        log_level: "warn",
        ..Output::default()
    };
    let grpc = ["--grpc-listen", "127.0.0.1:0"];
    let registry = Daemon::spawn(
        &registry_binary,
        "127.0.0.1:0",
        registry_dir.path(),
        &grpc,
        &output,
    );
    let url = format!("http://{}/xds/registry", registry.address);
    let repository = Daemon::spawn(
        repository_binary,
        "127.0.0.1:0",
        repository_dir.path(),
        &[
            "--registry-url",
            &url,
            "--repository-id",
            REPOSITORY_ID,
            "--grpc-listen",
            "127.0.0.1:0",
        ],
        &output,
    );
    let registry_grpc = connect(registry.listener("grpc").expect("gRPC")).await;
    let repository_grpc = connect(repository.listener("grpc").expect("gRPC")).await;

    // 20 DocumentEntries, one of them 1 MiB.
    let ids: Vec<String> = (0..20)
        .map(|index| format!("1.2.250.1.999.93.1.{index}"))
        .collect();
    let id_refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut metadata = support::documents("1.2.250.1.999.93.1", &patient, &id_refs);
    for entry in &mut metadata.document_entries {
        entry.hash = None;
        entry.size = None;
        entry.repository_unique_id = None;
    }
    use v1::provide_and_register_part::Part;
    let mut parts = vec![v1::ProvideAndRegisterPart {
        part: Some(Part::Header(v1::ProvideAndRegisterHeader {
            metadata: Some(xds_proto::metadata::metadata_to_proto(&metadata)),
        })),
    }];
    for (index, entry) in metadata.document_entries.iter().enumerate() {
        let size = if index == 0 { MIB } else { 2_000 };
        parts.push(v1::ProvideAndRegisterPart {
            part: Some(Part::Chunk(v1::DocumentChunk {
                document_id: entry.entry_uuid.to_string(),
                data: vec![b'a' + (index % 26) as u8; size],
            })),
        });
    }
    let answer = RepositoryClient::new(repository_grpc.clone())
        .provide_and_register(tokio_stream::iter(parts))
        .await
        .expect("seed")
        .into_inner();
    assert_eq!(answer.status, v1::ResponseStatus::Success as i32);

    let query = support::find_documents(&patient);
    let soap_query = support::envelope(
        Transaction::Iti18,
        &Body::AdhocQuery(transform::stored_query_to_wire(&query)),
    )
    .into_bytes();
    let find = v1::FindDocumentsRequest {
        patient_id: patient.format(),
        statuses: vec![v1::AvailabilityStatus::Approved as i32],
        ..Default::default()
    };
    let soap_retrieve = support::envelope(
        Transaction::Iti43,
        &Body::Retrieve(wire::RetrieveDocumentSetRequest {
            requests: transform::document_requests_to_wire(&[DocumentRequest {
                home_community_id: None,
                repository_unique_id: REPOSITORY_ID.to_owned(),
                document_unique_id: ids[0].clone(),
            }]),
        }),
    )
    .into_bytes();
    let retrieve = v1::RetrieveRequest {
        documents: vec![v1::DocumentRequest {
            home_community_id: String::new(),
            repository_unique_id: REPOSITORY_ID.to_owned(),
            document_unique_id: ids[0].clone(),
        }],
    };

    let (mut soap_q, mut grpc_q, mut soap_r, mut grpc_r) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let registry_soap = registry.address;
    let repository_soap = repository.address;
    for _ in 0..args.rounds {
        let body = soap_query.clone();
        let soap = tokio::task::spawn_blocking(move || {
            soap_rate(
                registry_soap,
                "/xds/registry",
                args.clients,
                args.queries,
                &body,
                check_query,
            )
        });
        soap_q.push(soap.await.expect("SOAP queries"));
        let request = find.clone();
        grpc_q.push(
            grpc_rate(&registry_grpc, args.clients, args.queries, move |channel| {
                let request = request.clone();
                async move {
                    let answer = RegistryClient::new(channel)
                        .find_documents(request)
                        .await
                        .expect("FindDocuments")
                        .into_inner();
                    assert_eq!(
                        answer.metadata.expect("metadata").document_entries.len(),
                        20
                    );
                }
            })
            .await,
        );
        let body = soap_retrieve.clone();
        let soap = tokio::task::spawn_blocking(move || {
            soap_rate(
                repository_soap,
                "/xds/repository",
                args.clients,
                args.retrieves,
                &body,
                check_retrieve,
            )
        });
        soap_r.push(soap.await.expect("SOAP retrieves") * (MIB as f64) / 1e6);
        let request = retrieve.clone();
        grpc_r.push(
            grpc_rate(
                &repository_grpc,
                args.clients,
                args.retrieves,
                move |channel| {
                    let request = request.clone();
                    async move {
                        let mut stream = RepositoryClient::new(channel)
                            .retrieve(request)
                            .await
                            .expect("Retrieve")
                            .into_inner();
                        let mut received = 0;
                        while let Some(part) = stream.message().await.expect("part") {
                            if let Some(v1::retrieve_part::Part::Data(data)) = part.part {
                                received += data.len();
                            }
                        }
                        assert_eq!(received, MIB);
                    }
                },
            )
            .await
                * (MIB as f64)
                / 1e6,
        );
    }
    let (soap_q, grpc_q, soap_r, grpc_r) = (
        median(soap_q),
        median(grpc_q),
        median(soap_r),
        median(grpc_r),
    );
    println!(
        "FindDocuments (20 entries), {} clients, {} queries each, median of {} rounds: SOAP {soap_q:.0} q/s, gRPC {grpc_q:.0} q/s, ratio gRPC/SOAP {:.2}",
        args.clients,
        args.queries,
        args.rounds,
        grpc_q / soap_q
    );
    println!(
        "Retrieve 1 MiB, {} clients, {} retrieves each, median of {} rounds: SOAP {soap_r:.0} MB/s, gRPC {grpc_r:.0} MB/s, ratio gRPC/SOAP {:.2}",
        args.clients,
        args.retrieves,
        args.rounds,
        grpc_r / soap_r
    );
}
