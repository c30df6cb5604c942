//! Test support of the repository: both real binaries on loopback (the registry binary is
//! found in the same target directory, built on demand), and ITI-41/43/86 over SOAP.
#![allow(dead_code)]

pub mod grpc;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use sha1::{Digest, Sha1};
use xds::error::RegistryResponse;
use xds::model::*;
use xds::transaction::Transaction;
use xds::transform;
use xds::wire::{self, Body, MemorySink, MultipartWriter, OutContent, OutgoingPart};
pub use xds_conformance::support::*;
use xds_repository::store::rocks::{Inventory, RocksDocumentStore, RocksSettings};

pub const REPOSITORY_BINARY: &str = env!("CARGO_BIN_EXE_xds-repository");
pub const REPOSITORY_PATH: &str = "/xds/repository";
pub const REGISTRY_PATH: &str = "/xds/registry";
pub const REPOSITORY_ID: &str = "1.3.6.1.4.1.21367.13.80.7";

/// The registry binary beside ours (`cargo build -p xds-registry` when it is missing, e.g.
/// when only this crate's tests were built).
pub fn registry_binary() -> &'static Path {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY.get_or_init(|| {
        let path = Path::new(REPOSITORY_BINARY).with_file_name("xds-registry");
        if !path.exists() {
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
            let status = Command::new(cargo)
                .args(["build", "-p", "xds-registry", "--bin", "xds-registry"])
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .status()
                .expect("run cargo build");
            assert!(status.success(), "building xds-registry failed");
        }
        path
    })
}

/// A free loopback port (for daemons that must come back on the same address).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("free port")
}

/// Registers patients with the registry's offline command.
pub fn patient_add(data_dir: &Path, ids: &[&str]) {
    xds_conformance::support::patient_add(registry_binary(), data_dir, ids);
}

/// Opens the DMP of patients with the registry's offline command.
pub fn dmp_open(data_dir: &Path, ids: &[&str]) {
    xds_conformance::support::dmp_open(registry_binary(), data_dir, ids);
}

/// Runs one offline `xds-registry dmp` command.
pub fn dmp_command(data_dir: &Path, args: &[&str]) {
    xds_conformance::support::dmp_command(registry_binary(), data_dir, args);
}

/// Both daemons with fresh data directories.
#[derive(Debug)]
pub struct Pair {
    pub registry_dir: TempDir,
    pub repository_dir: TempDir,
    pub registry: Daemon,
    pub repository: Daemon,
}

impl Pair {
    /// Both daemons with their gRPC listeners too (plain, like their SOAP ones).
    pub fn start_grpc(name: &str, patients: &[&Cx]) -> Self {
        let grpc = ["--grpc-listen", "127.0.0.1:0"];
        Self::launch(name, patients, &grpc, &grpc)
    }

    pub fn registry_grpc(&self) -> SocketAddr {
        self.registry
            .listener("grpc")
            .expect("the registry's gRPC listener")
    }

    pub fn repository_grpc(&self) -> SocketAddr {
        self.repository
            .listener("grpc")
            .expect("the repository's gRPC listener")
    }
}

/// The registry on `port` (0: any).
pub fn start_registry(dir: &Path, port: u16) -> Daemon {
    Daemon::start_on(registry_binary(), &format!("127.0.0.1:{port}"), dir, &[])
}

/// The repository registering with the registry at `registry`.
pub fn start_repository(dir: &Path, registry: SocketAddr, port: u16, extra: &[&str]) -> Daemon {
    let listen = format!("127.0.0.1:{port}");
    let url = format!("http://{registry}{REGISTRY_PATH}");
    let mut args = vec!["--registry-url", &url, "--repository-id", REPOSITORY_ID];
    args.extend_from_slice(extra);
    Daemon::start_on(Path::new(REPOSITORY_BINARY), &listen, dir, &args)
}

/// The repository with configuration file `config`, registering with `registry_url`.
pub fn spawn_repository(
    dir: &Path,
    config: &Path,
    registry_url: &str,
    output: &Output<'_>,
) -> Daemon {
    Daemon::spawn(
        Path::new(REPOSITORY_BINARY),
        "127.0.0.1:0",
        dir,
        &[
            "--config",
            config.to_str().expect("utf-8"),
            "--registry-url",
            registry_url,
            "--repository-id",
            REPOSITORY_ID,
            "--grpc-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ],
        output,
    )
}

impl Pair {
    pub fn start(name: &str, patients: &[&Cx], repository_extra: &[&str]) -> Self {
        Self::launch(name, patients, &[], repository_extra)
    }

    /// Both daemons with extra arguments each.
    pub fn start_with(
        name: &str,
        patients: &[&Cx],
        registry_extra: &[&str],
        repository_extra: &[&str],
    ) -> Self {
        Self::launch(name, patients, registry_extra, repository_extra)
    }

    fn launch(
        name: &str,
        patients: &[&Cx],
        registry_extra: &[&str],
        repository_extra: &[&str],
    ) -> Self {
        let registry_dir = TempDir::new(&format!("{name}-registry"));
        let repository_dir = TempDir::new(&format!("{name}-repository"));
        if !patients.is_empty() {
            let ids: Vec<String> = patients.iter().map(ToString::to_string).collect();
            let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
            patient_add(registry_dir.path(), &ids);
        }
        let registry = Daemon::start(registry_binary(), registry_dir.path(), registry_extra);
        let repository =
            start_repository(repository_dir.path(), registry.address, 0, repository_extra);
        Self {
            registry_dir,
            repository_dir,
            registry,
            repository,
        }
    }
}

impl Pair {
    /// Stops the repository cleanly (SIGTERM) and lists what its store holds.
    pub fn stop_repository_and_list(self) -> Inventory {
        let Pair {
            repository,
            repository_dir,
            ..
        } = self;
        assert!(
            repository.stop().success(),
            "the repository did not stop cleanly"
        );
        inventory(repository_dir.path())
    }
}

/// What the repository's store holds (the repository must be stopped).
pub fn inventory(repository_dir: &Path) -> Inventory {
    let store =
        RocksDocumentStore::open(&repository_dir.join("documents"), RocksSettings::default())
            .expect("open the repository's store");
    store.inventory().expect("inventory")
}

pub fn sha1_hex(bytes: &[u8]) -> String {
    Sha1::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A submission of documents with the given contents; hash and size left for the repository.
pub fn provide_metadata(set_unique_id: &str, patient: &Cx, unique_ids: &[&str]) -> Metadata {
    let mut metadata = documents(set_unique_id, patient, unique_ids);
    for entry in &mut metadata.document_entries {
        entry.hash = None;
        entry.size = None;
        entry.repository_unique_id = None;
    }
    metadata
}

/// An ITI-41 request body with its Content-Type: MTOM (documents as parts) or inline base64.
pub fn provide_request(metadata: &Metadata, contents: &[&[u8]], mtom: bool) -> (String, Vec<u8>) {
    let request = ProvideAndRegister {
        metadata: metadata.clone(),
        documents: metadata
            .document_entries
            .iter()
            .zip(contents)
            .map(|(entry, content)| Document {
                id: entry.entry_uuid.clone(),
                content: content.to_vec(),
            })
            .collect(),
    };
    let mut index = 0;
    let body = Body::ProvideAndRegister(transform::provide_and_register_to_wire(
        &request,
        |document| {
            index += 1;
            if mtom {
                OutContent::Xop {
                    cid: format!("doc{index}@test"),
                }
            } else {
                OutContent::Inline(document.content.clone())
            }
        },
    ));
    let envelope = envelope(Transaction::Iti41, &body);
    if !mtom {
        return (
            format!("{SOAP}; action=\"{}\"", Transaction::Iti41.action()),
            envelope.into_bytes(),
        );
    }
    let writer = MultipartWriter::new("MIMEBoundary_test_0123456789");
    let mut out = Vec::new();
    writer
        .write_package(
            &mut out,
            "root@test",
            envelope.as_bytes(),
            contents
                .iter()
                .enumerate()
                .map(|(index, content)| OutgoingPart {
                    content_id: format!("doc{}@test", index + 1),
                    content_type: "application/octet-stream".to_owned(),
                    body: *content,
                }),
        )
        .expect("write package");
    (
        writer.content_type("root@test", Some(Transaction::Iti41.action())),
        out,
    )
}

/// ITI-41.
pub fn provide(
    repository: SocketAddr,
    metadata: &Metadata,
    contents: &[&[u8]],
    mtom: bool,
) -> RegistryResponse {
    let (content_type, body) = provide_request(metadata, contents, mtom);
    registry_response(&post(repository, REPOSITORY_PATH, &content_type, &body))
}

/// One retrieved document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retrieved {
    pub unique_id: String,
    pub mime_type: String,
    pub content: Vec<u8>,
}

fn document_requests(requests: &[(&str, &str)]) -> Vec<DocumentRequest> {
    requests
        .iter()
        .map(|(repository, document)| DocumentRequest {
            home_community_id: None,
            repository_unique_id: (*repository).to_owned(),
            document_unique_id: (*document).to_owned(),
        })
        .collect()
}

/// ITI-43 for (repositoryUniqueId, documentUniqueId) pairs.
pub fn retrieve(
    repository: SocketAddr,
    requests: &[(&str, &str)],
) -> (RegistryResponse, Vec<Retrieved>) {
    let body = Body::Retrieve(wire::RetrieveDocumentSetRequest {
        requests: transform::document_requests_to_wire(&document_requests(requests)),
    });
    let answer = post_soap(repository, REPOSITORY_PATH, Transaction::Iti43, &body);
    let mut sink = MemorySink::default();
    let decoded = wire::decode_message(
        &answer.content_type,
        &answer.body[..],
        &wire::Limits::default(),
        &mut sink,
    )
    .unwrap_or_else(|error| panic!("undecodable retrieve answer ({error})"));
    assert!(decoded.mtom, "ITI-43 answers are MTOM");
    match decoded.envelope.body {
        Body::RetrieveResponse(response) => {
            let response =
                transform::retrieve_response_from_wire(response).expect("valid retrieve answer");
            let documents = response
                .documents
                .into_iter()
                .map(|document| Retrieved {
                    unique_id: document.document_unique_id,
                    mime_type: document.mime_type,
                    content: document.content.handle,
                })
                .collect();
            (response.response, documents)
        }
        other => panic!("unexpected answer {}", other.element_name()),
    }
}

/// ITI-86.
pub fn remove(repository: SocketAddr, requests: &[(&str, &str)]) -> RegistryResponse {
    let body = Body::RemoveDocuments(wire::RemoveDocumentsRequest {
        requests: transform::document_requests_to_wire(&document_requests(requests)),
    });
    registry_response(&post_soap(
        repository,
        REPOSITORY_PATH,
        Transaction::Iti86,
        &body,
    ))
}

/// GetDocuments by uniqueId at the registry (every status).
pub fn registered(registry: SocketAddr, unique_ids: &[&str]) -> Vec<DocumentEntry> {
    let response = query(
        registry,
        REGISTRY_PATH,
        &leaf(StoredQuery::GetDocuments {
            selector: ObjectSelector::UniqueIds(
                unique_ids.iter().map(|id| (*id).to_owned()).collect(),
            ),
        }),
    );
    response.metadata.document_entries
}

/// Deterministic pseudo-random bytes.
pub fn content(seed: u64, length: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// Both daemons as deployed: every listener (the registry's MLLP feed included) on mutual TLS
/// with a fresh test PKI (`xds-conformance pki init`), the fr-dmp profile (and so the DMP
/// access policy).
pub struct SecurePair {
    pub dirs: Vec<TempDir>,
    pub pki: PathBuf,
    pub registry: Daemon,
    pub repository: Daemon,
}

/// Starts a [`SecurePair`]: `registry_extra` is appended to the registry's configuration;
/// `prepare` runs the registry's offline commands on its data directory before it starts.
pub fn start_secure(name: &str, registry_extra: &str, prepare: impl FnOnce(&Path)) -> SecurePair {
    let config_dir = TempDir::new(&format!("{name}-config"));
    let pki = test_pki(config_dir.path());
    let mut registry_base = std::fs::read_to_string(fr_dmp_registry_config(config_dir.path()))
        .expect("config")
        .replace("insecure = true", "insecure = false");
    registry_base.push_str(registry_extra);
    let registry_config = secure_config(
        &registry_base,
        &pki,
        "registry",
        "",
        &config_dir.path().join("registry-tls.toml"),
    );
    let repository_base = format!(
        "[server]\ninsecure = false\n\n[profile]\nname = \"fr-dmp\"\nvaluesets = {:?}\n",
        dmp_valuesets().display().to_string()
    );
    let repository_config = secure_config(
        &repository_base,
        &pki,
        "repository",
        "",
        &config_dir.path().join("repository-tls.toml"),
    );
    let registry_dir = TempDir::new(&format!("{name}-registry"));
    let repository_dir = TempDir::new(&format!("{name}-repository"));
    prepare(registry_dir.path());
    let output = Output {
        insecure: false,
        ..Output::default()
    };
    let registry = Daemon::spawn(
        registry_binary(),
        "127.0.0.1:0",
        registry_dir.path(),
        &[
            "--config",
            registry_config.to_str().expect("utf-8"),
            "--mllp-listen",
            "127.0.0.1:0",
            "--grpc-listen",
            "127.0.0.1:0",
            "--admin-listen",
            "127.0.0.1:0",
        ],
        &output,
    );
    let url = format!("https://{}{REGISTRY_PATH}", registry.address);
    let repository = spawn_repository(repository_dir.path(), &repository_config, &url, &output);
    SecurePair {
        dirs: vec![config_dir, registry_dir, repository_dir],
        pki,
        registry,
        repository,
    }
}
