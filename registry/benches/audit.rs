//! What the audit trail and the access policy cost a stored query, in process on RocksDB:
//!
//! - floor: `Registry::query` (no policy, no audit record);
//! - audited: `Registry::query_as` under the open policy (one audit record per query, durable
//!   before the answer: group-committed by the writer);
//! - policy: `Registry::query_as` under the DMP policy (admission, visibility filter, audit).
//!
//! Each with 1 and 8 concurrent callers, 5 rounds, medians in queries per second and the ratios
//! to the floor of the same run. Then the latency of an access-history page of 50 out of the
//! patient's records.
//!
//! `cargo bench -p xds-registry --bench audit [-- --queries N]`
#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a command that prints figures

use std::sync::Arc;
use std::time::Instant;

use xds::model::*;
use xds::transaction::Transaction;
use xds_conformance::support::{documents, find_documents};
use xds_registry::access::{AccessSettings, DmpCommand};
use xds_registry::identity::IdentityPolicy;
use xds_registry::service::{QuerySettings, RegisterSettings, Registry};
use xds_registry::store::MetadataStore;
use xds_registry::store::kv::KvMetadataStore;
use xds_registry::store::rocks::{RocksEngine, RocksSettings};

const PATIENT: &str = "185057800608491^^^&1.2.250.1.213.1.4.8&ISO^NH";
const DOCTOR: &str = "810003461033";

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn caller() -> Caller {
    Caller {
        certificate: Some(CertificateIdentity {
            subject: "CN=bench,OU=1750100125,O=Bench,C=FR".to_owned(),
            serial: "01".to_owned(),
            kind: CertificateKind::Structure,
            structure_id: Some("1750100125".to_owned()),
            professional_id: None,
        }),
        assertion: Some(Assertion {
            id: "_bench".to_owned(),
            issuer: "CN=bench".to_owned(),
            name_id: DOCTOR.to_owned(),
            version: "3.0".to_owned(),
            authentication: AuthenticationMode::Direct,
            structure_id: "1750100125".to_owned(),
            sector: CodedValue {
                code: "SA07".to_owned(),
                system: "1.2.250.1.71.4.2.4".to_owned(),
            },
            subject_name: "Dr Bench".to_owned(),
            roles: vec![CodedValue {
                code: "10".to_owned(),
                system: "1.2.250.1.71.1.2.7".to_owned(),
            }],
            access_mode: AccessMode::Normal,
            patient: Some(Cx::parse(PATIENT).expect("CX")),
            confidentiality: None,
            software_name: "bench".to_owned(),
            software_homologation: "-".to_owned(),
            issue_instant: 0,
        }),
        signer: None,
        direct_author_check: false,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Floor,
    Audited,
}

/// Queries per second with `clients` concurrent callers, `per_client` queries each.
fn rate(
    runtime: &tokio::runtime::Runtime,
    registry: &Registry,
    mode: Mode,
    clients: usize,
    per_client: usize,
) -> f64 {
    let request = find_documents(&Cx::parse(PATIENT).expect("CX"));
    let caller = caller();
    let started = Instant::now();
    runtime.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..clients {
            let registry = registry.clone();
            let request = request.clone();
            let caller = caller.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..per_client {
                    let answer = match mode {
                        Mode::Floor => registry.query(request.clone()).await,
                        Mode::Audited => {
                            registry
                                .query_as(&caller, request.clone(), Transaction::Iti18)
                                .await
                        }
                    };
                    assert_eq!(answer.metadata.document_entries.len(), 20, "{answer:?}");
                }
            }));
        }
        for task in tasks {
            task.await.expect("client");
        }
    });
    (clients * per_client) as f64 / started.elapsed().as_secs_f64()
}

fn main() {
    let mut queries = 2000usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--queries" {
            queries = args
                .next()
                .and_then(|n| n.parse().ok())
                .expect("--queries N");
        }
    }
    let dir = std::env::temp_dir().join(format!("xds-audit-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let engine = RocksEngine::open(&dir, RocksSettings::default()).expect("RocksDB");
    let store: Arc<dyn MetadataStore> = Arc::new(KvMetadataStore::new(engine).expect("store"));
    let start = |access: AccessSettings| {
        Registry::start(
            Arc::clone(&store),
            Arc::new(xds::validate::IheXdsB),
            RegisterSettings {
                require_known_patient: false,
                identity: Arc::new(IdentityPolicy::development()),
                ..RegisterSettings::default()
            },
            QuerySettings::default(),
        )
        .expect("registry")
        .with_access(access)
    };
    let open = start(AccessSettings {
        enforce: false,
        ..AccessSettings::default()
    });
    let patient = Cx::parse(PATIENT).expect("CX");
    let ids: Vec<String> = (0..20).map(|n| format!("2.999.2.1.{n}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let answer = open.register_blocking(documents("2.999.1.1", &patient, &ids));
    assert!(answer.errors.is_empty(), "{answer:?}");
    for command in [
        DmpCommand::Open,
        DmpCommand::Authorise {
            name_id: DOCTOR.to_owned(),
        },
    ] {
        open.dmp_blocking(&patient, command, "bench").expect("DMP");
    }
    let dmp = open.clone().with_access(AccessSettings::default());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "audit benchmark: FindDocuments of 20 entries, {queries} queries per round, 5 rounds, medians"
    );
    for clients in [1usize, 8] {
        let per_client = queries / clients;
        let (mut floor, mut audited, mut policy) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..5 {
            floor.push(rate(&runtime, &open, Mode::Floor, clients, per_client));
            audited.push(rate(&runtime, &open, Mode::Audited, clients, per_client));
            policy.push(rate(&runtime, &dmp, Mode::Audited, clients, per_client));
        }
        let (floor, audited, policy) = (
            median(&mut floor),
            median(&mut audited),
            median(&mut policy),
        );
        println!(
            "{clients} client(s): floor {floor:.0} q/s; audited {audited:.0} q/s (ratio {:.2}); DMP policy + audit {policy:.0} q/s (ratio {:.2})",
            audited / floor,
            policy / floor
        );
    }
    let mut pages = Vec::new();
    for _ in 0..50 {
        let started = Instant::now();
        let page = open.history(&patient, None, 50, false).expect("history");
        assert_eq!(page.len(), 50);
        pages.push(started.elapsed().as_secs_f64() * 1e6);
    }
    let total = store
        .audit_records(store.patient(&patient).ok().flatten(), None, usize::MAX)
        .map_or(0, |records| records.len());
    println!(
        "history page of 50 (of {total} records): median {:.0} us",
        median(&mut pages)
    );
    dmp.close();
    open.close();
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
