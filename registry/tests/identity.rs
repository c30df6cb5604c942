//! The identity store through the registry service (in-memory engine): INS checks on ITI-42,
//! unknown and merged patients, what queries answer after a merge, idempotent feed messages,
//! and merge rules. The ITI-8 wire (HL7 over MLLP) is tested in `feed.rs`.

mod common;

use std::sync::Arc;

use common::*;
use xds::ResponseStatus;
use xds::model::*;
use xds_registry::identity::{
    IdentityCommand, IdentityOutcome, IdentityPolicy, MessageKey, Refusal,
};
use xds_registry::service::{
    Provenance, QuerySettings, RegisterSettings, Registry, UnknownPatientAnswer,
};
use xds_registry::store::kv::KvMetadataStore;
use xds_registry::store::mem::MemEngine;

fn registry_with(policy: IdentityPolicy, subsumed: UnknownPatientAnswer) -> Registry {
    let store = Arc::new(KvMetadataStore::new(MemEngine::new()).expect("store"));
    Registry::start(
        store,
        Arc::new(xds::validate::IheXdsB),
        RegisterSettings {
            identity: Arc::new(policy),
            ..RegisterSettings::default()
        },
        QuerySettings {
            unknown_patient: UnknownPatientAnswer::Error,
            subsumed_patient: subsumed,
            ..QuerySettings::default()
        },
    )
    .expect("registry")
}

fn platform() -> IdentityPolicy {
    IdentityPolicy {
        ins: InsPolicy::with_test_patients(),
        ..IdentityPolicy::default()
    }
}

fn provenance() -> Provenance {
    Provenance {
        source: "test".to_owned(),
        at: "20261122".to_owned(),
    }
}

fn upsert(registry: &Registry, id: &Cx) -> IdentityOutcome {
    registry
        .identity_blocking(
            IdentityCommand::Upsert {
                id: id.clone(),
                local_ids: Vec::new(),
                identity: None,
            },
            None,
            provenance(),
        )
        .expect("stored")
}

fn merge(registry: &Registry, surviving: &Cx, subsumed: &Cx) -> IdentityOutcome {
    registry
        .identity_blocking(
            IdentityCommand::Merge {
                surviving: surviving.clone(),
                subsumed: subsumed.clone(),
            },
            None,
            provenance(),
        )
        .expect("stored")
}

/// Registers a submission that must succeed.
fn registered(registry: &Registry, metadata: Metadata) {
    let response = registry.register_blocking(metadata);
    assert_eq!(
        response.status,
        ResponseStatus::Success,
        "{:?}",
        response.errors
    );
}

fn unique_ids(response: &QueryResponse) -> Vec<String> {
    let mut ids: Vec<String> = response
        .metadata
        .document_entries
        .iter()
        .filter_map(|entry| entry.unique_id.as_ref().map(|id| id.as_str().to_owned()))
        .collect();
    ids.sort();
    ids
}

#[test]
fn submissions_for_unknown_patients_and_refused_ins_change_nothing() {
    let registry = registry_with(platform(), UnknownPatientAnswer::Empty);
    let unknown = registry.register_blocking(documents("2.999.1.1", &patient(1), &["2.999.2.1"]));
    assert_includes(&unknown, &["XDSUnknownPatientId"]);

    // A production deployment refuses a test INS, naming the value.
    let production = registry_with(IdentityPolicy::default(), UnknownPatientAnswer::Empty);
    let test_ins = patient(2);
    let refused = production.register_blocking(documents("2.999.1.2", &test_ins, &["2.999.2.2"]));
    assert_includes(&refused, &["XDSRegistryMetadataError"]);
    assert!(
        refused
            .errors
            .iter()
            .any(|error| error.code_context.contains(&test_ins.format())),
        "{:?}",
        refused.errors
    );

    // A bad key: XDSRegistryMetadataError naming the value, reported once.
    let bad = Cx::parse("185057800608492^^^&1.2.250.1.213.1.4.10&ISO^NH").expect("CX");
    let refused =
        registry.register_blocking(documents("2.999.1.3", &bad, &["2.999.2.3", "2.999.2.4"]));
    let metadata_errors: Vec<_> = refused
        .errors
        .iter()
        .filter(|error| error.code == xds::XdsErrorCode::RegistryMetadataError)
        .collect();
    assert_eq!(metadata_errors.len(), 1, "{:?}", refused.errors);
    assert!(metadata_errors[0].code_context.contains("185057800608492"));
    assert!(
        metadata_errors[0].code_context.contains("91"),
        "expected key named"
    );
    assert!(
        registry
            .query_blocking(&leaf(StoredQuery::GetDocuments {
                selector: ObjectSelector::UniqueIds(vec!["2.999.2.3".to_owned()]),
            }))
            .metadata
            .document_entries
            .is_empty()
    );
}

#[test]
fn patients_are_the_same_with_or_without_the_type_code() {
    let registry = registry_with(platform(), UnknownPatientAnswer::Empty);
    let with_nh = patient(3);
    let bare = Cx::new(
        with_nh.id_number(),
        &Hd::iso(&Oid::parse("1.2.250.1.213.1.4.10").expect("OID")),
    );
    assert!(matches!(
        upsert(&registry, &bare),
        IdentityOutcome::Created(_)
    ));
    assert!(matches!(
        upsert(&registry, &with_nh),
        IdentityOutcome::Unchanged(_)
    ));
    registered(&registry, documents("2.999.1.1", &with_nh, &["2.999.2.1"]));
    assert_eq!(
        unique_ids(&registry.query_blocking(&find_documents(&bare))),
        vec!["2.999.2.1"]
    );
}

#[test]
fn after_a_merge_the_surviving_id_answers_for_both_and_the_subsumed_id_for_none() {
    for subsumed_answer in [UnknownPatientAnswer::Empty, UnknownPatientAnswer::Error] {
        let registry = registry_with(platform(), subsumed_answer);
        let (surviving, subsumed) = (patient(10), patient(11));
        upsert(&registry, &surviving);
        upsert(&registry, &subsumed);
        for (set, id, document) in [
            ("2.999.1.1", &surviving, "2.999.2.1"),
            ("2.999.1.2", &subsumed, "2.999.2.2"),
            ("2.999.1.3", &subsumed, "2.999.2.3"),
        ] {
            registered(&registry, documents(set, id, &[document]));
        }
        assert!(matches!(
            merge(&registry, &surviving, &subsumed),
            IdentityOutcome::Merged { .. }
        ));

        let found = registry.query_blocking(&find_documents(&surviving));
        assert_eq!(
            unique_ids(&found),
            vec!["2.999.2.1", "2.999.2.2", "2.999.2.3"]
        );
        // Every object answers under the surviving id.
        assert!(
            found
                .metadata
                .document_entries
                .iter()
                .all(|entry| entry.patient_id.as_ref() == Some(&surviving))
        );
        // GetDocuments mixing both: one patient, so LeafClass is allowed.
        let both = registry.query_blocking(&leaf(StoredQuery::GetDocuments {
            selector: ObjectSelector::UniqueIds(vec![
                "2.999.2.1".to_owned(),
                "2.999.2.2".to_owned(),
            ]),
        }));
        assert_eq!(
            both.response.status,
            ResponseStatus::Success,
            "{:?}",
            both.response.errors
        );
        assert_eq!(both.metadata.document_entries.len(), 2);

        let by_subsumed = registry.query_blocking(&find_documents(&subsumed));
        match subsumed_answer {
            UnknownPatientAnswer::Empty => {
                assert_eq!(by_subsumed.response.status, ResponseStatus::Success);
                assert!(by_subsumed.metadata.document_entries.is_empty());
            }
            UnknownPatientAnswer::Error => {
                assert_includes(&by_subsumed.response, &["XDSUnknownPatientId"]);
                assert!(
                    by_subsumed.response.errors[0]
                        .code_context
                        .contains(&surviving.format()),
                    "the error names the surviving id"
                );
            }
        }

        // New submissions under the subsumed id are refused; under the surviving id they may
        // replace a document filed under the subsumed one.
        let late = registry.register_blocking(documents("2.999.1.4", &subsumed, &["2.999.2.4"]));
        assert_includes(&late, &["XDSUnknownPatientId"]);
        let old = found
            .metadata
            .document_entries
            .iter()
            .find(|entry| entry.unique_id.as_ref().map(|id| id.as_str()) == Some("2.999.2.2"))
            .and_then(|entry| entry.entry_uuid.as_uuid())
            .expect("uuid");
        let mut replacement = documents("2.999.1.5", &surviving, &["2.999.2.5"]);
        replacement.associations.push(Association::new(
            ObjectId::Symbolic("rplc".to_owned()),
            AssociationType::Replace,
            ObjectId::Symbolic("Doc0".to_owned()),
            ObjectId::Uuid(old),
        ));
        registered(&registry, replacement);
        let approved = registry.query_blocking(&find_documents(&surviving));
        assert_eq!(
            unique_ids(&approved),
            vec!["2.999.2.1", "2.999.2.3", "2.999.2.5"]
        );
    }
}

#[test]
fn merge_rules_refuse_without_changing_anything() {
    let registry = registry_with(platform(), UnknownPatientAnswer::Empty);
    let (a, b, c, stranger) = (patient(20), patient(21), patient(22), patient(23));
    for id in [&a, &b, &c] {
        upsert(&registry, id);
    }
    assert!(matches!(
        merge(&registry, &a, &stranger),
        IdentityOutcome::Refused(Refusal::Unknown(..))
    ));
    assert!(matches!(
        merge(&registry, &stranger, &a),
        IdentityOutcome::Refused(Refusal::Unknown(..))
    ));
    assert!(matches!(
        merge(&registry, &a, &a),
        IdentityOutcome::Refused(Refusal::SameIds(_))
    ));
    assert!(matches!(
        merge(&registry, &b, &a),
        IdentityOutcome::Merged { .. }
    ));
    // a is subsumed: it can be neither merged again nor survive.
    assert!(matches!(
        merge(&registry, &c, &a),
        IdentityOutcome::Refused(Refusal::Subsumed(..))
    ));
    assert!(matches!(
        merge(&registry, &a, &c),
        IdentityOutcome::Refused(Refusal::Subsumed(..))
    ));
    // An update of a subsumed id is refused too.
    assert!(matches!(
        upsert(&registry, &a),
        IdentityOutcome::Refused(Refusal::Subsumed(..))
    ));
    // Chains: b (into which a was merged) into c; b's document then answers under c.
    registered(&registry, documents("2.999.1.1", &b, &["2.999.2.1"]));
    assert!(matches!(
        merge(&registry, &c, &b),
        IdentityOutcome::Merged { .. }
    ));
    let found = registry.query_blocking(&find_documents(&c));
    assert_eq!(unique_ids(&found), vec!["2.999.2.1"]);
    assert_eq!(
        found.metadata.document_entries[0].patient_id.as_ref(),
        Some(&c)
    );
}

#[test]
fn a_resent_feed_message_is_answered_again_without_effect() {
    let registry = registry_with(platform(), UnknownPatientAnswer::Empty);
    let (a, b) = (patient(30), patient(31));
    upsert(&registry, &a);
    upsert(&registry, &b);
    let message = MessageKey {
        key: b"HIS\x1fHOSP\x1fM1\x1f".to_vec(),
        digest: [7; 20],
    };
    let command = IdentityCommand::Merge {
        surviving: a.clone(),
        subsumed: b.clone(),
    };
    let first = registry
        .identity_blocking(command.clone(), Some(message.clone()), provenance())
        .expect("stored");
    assert!(matches!(first, IdentityOutcome::Merged { .. }));
    let again = registry
        .identity_blocking(command.clone(), Some(message.clone()), provenance())
        .expect("stored");
    assert_eq!(again, IdentityOutcome::Resent);
    // The same control id for another message is refused.
    let other = MessageKey {
        digest: [8; 20],
        ..message
    };
    assert!(matches!(
        registry
            .identity_blocking(command, Some(other), provenance())
            .expect("stored"),
        IdentityOutcome::Refused(Refusal::ControlIdReused(_))
    ));
}
