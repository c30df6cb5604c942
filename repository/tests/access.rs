//! The DMP access policy end to end, as deployed: both daemons on mutual TLS with the test PKI,
//! signed VIHF assertions, the fr-dmp profile and its access policy. Four letters of one
//! patient (plain, MASQUE_PS, INVISIBLE_PATIENT, INVISIBLE_REPRESENTANTS_LEGAUX) go in through
//! the repository; then every kind of caller, in every access mode, on DMPs open, closed and
//! absent, with and without authorisation or block, lists them (ITI-18 at the registry) and
//! retrieves them (ITI-43 at the repository, which asks the registry): both must give exactly
//! the expected visible set, or the expected refusal. The access history then shows the
//! emergency accesses flagged, and the refusals.

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;

use common::*;
use xds::model::*;
use xds::transaction::Transaction;
use xds::transform::{self, Options};
use xds::wire::{self, Body, OutContent};
use xds::{ResponseStatus, XdsErrorCode};
use xds_conformance::pki::{self, OTHER_STRUCTURE_ID, PORTAL_DN, PORTAL_STRUCTURE_ID, VihfSpec};

const ACTIVE: &str = "185057800608491^^^&1.2.250.1.213.1.4.8&ISO^NH";
/// Registered, no DMP.
const NO_DMP: &str = "292042A00401249^^^&1.2.250.1.213.1.4.8&ISO^NH";
/// Registered, DMP closed.
const CLOSED: &str = "292042B00401276^^^&1.2.250.1.213.1.4.8&ISO^NH";

const AUTHORISED: &str = "1690100141/100";
const STRANGER: &str = "1690100141/200";
const PRODUCER: &str = "1690100141/300";
const BLOCKED: &str = "1690100141/666";
const MEDECIN_TRAITANT: &str = "1690100141/999";

/// The four letters, by their flag ("" for none).
const FLAGS: [&str; 4] = [
    "",
    "MASQUE_PS",
    "INVISIBLE_PATIENT",
    "INVISIBLE_REPRESENTANTS_LEGAUX",
];

fn letter_id(index: usize) -> String {
    format!("1.2.250.1.999.77.3.20261123.10{index}")
}

type World = SecurePair;

fn start(name: &str) -> World {
    start_secure(
        name,
        &format!("\n[access]\nportals = [{PORTAL_DN:?}]\n"),
        |data| {
            patient_add(data, &[ACTIVE, NO_DMP, CLOSED]);
            dmp_open(data, &[ACTIVE, CLOSED]);
            dmp_command(data, &["close", CLOSED, "--reason-code", "DEMANDE_PATIENT"]);
            dmp_command(data, &["authorise", ACTIVE, AUTHORISED]);
            dmp_command(data, &["block", ACTIVE, BLOCKED]);
            dmp_command(data, &["medecin-traitant", ACTIVE, MEDECIN_TRAITANT]);
        },
    )
}

fn post(world: &World, address: SocketAddr, path: &str, signer: &str, body: &[u8]) -> Answer {
    tls_post(
        address,
        TlsClient {
            pki: &world.pki,
            certificate: Some(signer),
        },
        path,
        SOAP,
        body,
    )
    .expect("an answer")
}

/// A caller: the certificate (and assertion signer) and the assertion.
#[derive(Clone)]
struct Who {
    label: &'static str,
    spec: VihfSpec,
}

fn professional(label: &'static str, name_id: &str, mode: &str, patient: &str) -> Who {
    Who {
        label,
        spec: VihfSpec {
            signer: "structure-b".to_owned(),
            name_id: name_id.to_owned(),
            subject_name: format!("Dr {name_id}"),
            authentication: "INDIRECTE_RENFORCEE".to_owned(),
            structure_id: OTHER_STRUCTURE_ID.to_owned(),
            access_mode: format!("{mode}^1.2.250.1.213.1.1.4.248"),
            ..VihfSpec::structure(Some(patient))
        },
    }
}

fn author(patient: &str) -> Who {
    Who {
        label: "author (indirect, its structure's documents)",
        spec: VihfSpec::structure(Some(patient)),
    }
}

fn producer(patient: &str) -> Who {
    let mut who = professional("producer (AUTOMATE)", PRODUCER, "normal", patient);
    who.spec.roles = vec!["AUTOMATE^1.2.250.1.213.1.1.4.6".to_owned()];
    who
}

fn portal(label: &'static str, role: &str, patient: &str) -> Who {
    Who {
        label,
        spec: VihfSpec {
            signer: "portal".to_owned(),
            name_id: "patient".to_owned(),
            subject_name: "DUPONT Jean".to_owned(),
            authentication: "INDIRECTE".to_owned(),
            structure_id: PORTAL_STRUCTURE_ID.to_owned(),
            roles: vec![format!("{role}^urn:xds:dmp:portal-role")],
            ..VihfSpec::structure(Some(patient))
        },
    }
}

fn sign(world: &World, who: &Who) -> String {
    pki::sign_vihf(&world.pki, &who.spec).expect("sign the assertion")
}

/// What a caller gets: the letters (by flag) it sees, or the refusal's token.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seen {
    Letters(BTreeSet<&'static str>),
    Refused(String),
}

fn letters(flags: &[&'static str]) -> Seen {
    Seen::Letters(flags.iter().copied().collect())
}

fn refused(token: &str) -> Seen {
    Seen::Refused(token.to_owned())
}

fn flag_of(unique_id: &str) -> Option<&'static str> {
    (0..FLAGS.len())
        .find(|index| letter_id(*index) == unique_id)
        .map(|index| FLAGS[index])
}

fn token_of(errors: &[xds::error::RegistryError]) -> String {
    let context = &errors[0].code_context;
    context
        .split(':')
        .next()
        .unwrap_or(context)
        .trim()
        .to_owned()
}

/// ITI-18 FindDocuments at the registry.
fn list(world: &World, who: &Who, patient: &str) -> Seen {
    let request = find_documents(&Cx::parse(patient).expect("CX"));
    let body = Body::AdhocQuery(transform::stored_query_to_wire(&request));
    let answer = post(
        world,
        world.registry.address,
        REGISTRY_PATH,
        &who.spec.signer,
        &envelope_with_assertion(Transaction::Iti18, &body, Some(&sign(world, who))),
    );
    let Body::AdhocQueryResponse(response) = answer_body(&answer) else {
        panic!("{}: {}", who.label, answer.text());
    };
    let response =
        transform::query_response_from_wire(&response, Options::REGISTRY).expect("query response");
    if response.response.status == ResponseStatus::Failure {
        return Seen::Refused(token_of(&response.response.errors));
    }
    Seen::Letters(
        response
            .metadata
            .document_entries
            .iter()
            .filter_map(|entry| entry.unique_id.as_ref().and_then(|id| flag_of(id.as_str())))
            .collect(),
    )
}

/// ITI-43 of the four letters at the repository.
fn retrieve(world: &World, who: &Who) -> (Seen, Vec<xds::error::RegistryError>) {
    let requests: Vec<DocumentRequest> = (0..FLAGS.len())
        .map(|index| DocumentRequest {
            home_community_id: None,
            repository_unique_id: REPOSITORY_ID.to_owned(),
            document_unique_id: letter_id(index),
        })
        .collect();
    let body = Body::Retrieve(wire::RetrieveDocumentSetRequest {
        requests: transform::document_requests_to_wire(&requests),
    });
    let answer = post(
        world,
        world.repository.address,
        REPOSITORY_PATH,
        &who.spec.signer,
        &envelope_with_assertion(Transaction::Iti43, &body, Some(&sign(world, who))),
    );
    let Body::RetrieveResponse(response) = answer_body(&answer) else {
        panic!("{}: {}", who.label, answer.text());
    };
    let errors = transform::registry_response_from_wire(&response.response)
        .expect("response")
        .errors;
    let documents: BTreeSet<&'static str> = response
        .documents
        .iter()
        .filter_map(|document| document.document_unique_id.as_deref().and_then(flag_of))
        .collect();
    // Content really came back for every document answered.
    for document in &response.documents {
        assert!(
            String::from_utf8_lossy(&document.document).contains("lettre"),
            "{}",
            who.label
        );
    }
    let hidden_only = errors
        .iter()
        .all(|error| error.code == XdsErrorCode::DocumentUniqueIdError);
    let seen = if documents.is_empty() && !errors.is_empty() && !hidden_only {
        Seen::Refused(token_of(&errors))
    } else {
        Seen::Letters(documents)
    };
    (seen, errors)
}

/// Submits letter `index` through the repository as the author structure (in a
/// connexion-secrète session when `secret`); the registry's answer.
fn submit_letter(
    world: &World,
    index: usize,
    flag: &str,
    secret: bool,
) -> xds::error::RegistryResponse {
    let mut metadata = dmp_sample();
    let suffix = format!("{index}");
    // Fresh ids: entryUUIDs, uniqueIds.
    let mut renamed = std::collections::HashMap::new();
    let mut rename = |id: &mut ObjectId| {
        let next = renamed.len();
        let new = renamed
            .entry(id.to_string())
            .or_insert_with(|| {
                ObjectId::parse(&format!(
                    "urn:uuid:6a0e7f3c-1b2d-4c5e-8f90-{:012}",
                    index * 100 + next
                ))
                .expect("UUID")
            })
            .clone();
        *id = new;
    };
    for set in &mut metadata.submission_sets {
        rename(&mut set.entry_uuid);
        set.unique_id =
            Some(Oid::parse(&format!("1.2.250.1.999.77.1.20261123.10{suffix}")).expect("OID"));
    }
    for (position, entry) in metadata.document_entries.iter_mut().enumerate() {
        rename(&mut entry.entry_uuid);
        entry.hash = None;
        entry.size = None;
        entry.repository_unique_id = None;
        let is_letter = entry
            .format_code
            .as_ref()
            .is_none_or(|code| !code.code.contains("xmldsig"));
        entry.unique_id = Some(
            UniqueId::parse(&if is_letter {
                letter_id(index)
            } else {
                format!("1.2.250.1.999.77.4.20261123.10{suffix}{position}")
            })
            .expect("uniqueId"),
        );
        // In a secret session every entry, the signature's too, carries the session's flag.
        if (is_letter || secret) && !flag.is_empty() {
            entry
                .confidentiality_codes
                .push(Code::new(flag, "1.2.250.1.213.1.1.4.13", flag));
        }
    }
    for association in &mut metadata.associations {
        rename(&mut association.entry_uuid);
        rename(&mut association.source);
        rename(&mut association.target);
    }
    let contents: Vec<Vec<u8>> = metadata
        .document_entries
        .iter()
        .map(|entry| {
            if entry
                .unique_id
                .as_ref()
                .is_some_and(|id| id.as_str() == letter_id(index))
            {
                format!(
                    "<ClinicalDocument xmlns=\"urn:hl7-org:v3\">lettre {index}</ClinicalDocument>"
                )
                .into_bytes()
            } else {
                b"<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>".to_vec()
            }
        })
        .collect();
    let request = ProvideAndRegister {
        documents: metadata
            .document_entries
            .iter()
            .zip(contents)
            .map(|(entry, content)| Document {
                id: entry.entry_uuid.clone(),
                content,
            })
            .collect(),
        metadata,
    };
    let body = Body::ProvideAndRegister(transform::provide_and_register_to_wire(
        &request,
        |document| OutContent::Inline(document.content.clone()),
    ));
    let mut who = author(ACTIVE);
    if secret {
        who.spec.confidentiality = Some("INVISIBLE_REPRESENTANTS_LEGAUX".to_owned());
    }
    let answer = post(
        world,
        world.repository.address,
        REPOSITORY_PATH,
        "structure",
        &envelope_with_assertion(Transaction::Iti41, &body, Some(&sign(world, &who))),
    );
    registry_response(&answer)
}

/// A management operation of the registry; the answer's text.
fn manage(world: &World, who: &Who, operation: &str, fields: &[(&str, &str)]) -> String {
    let envelope = management_envelope(operation, fields, Some(&sign(world, who)));
    post(
        world,
        world.registry.address,
        REGISTRY_PATH,
        &who.spec.signer,
        &envelope,
    )
    .text()
}

#[test]
fn every_caller_sees_exactly_what_the_policy_allows_in_lists_and_retrievals() {
    let world = start("access-matrix");
    // The last letter comes from a connexion-secrète session (a minor's secret care), which
    // may submit only documents hidden from the legal representatives.
    let unflagged = submit_letter(&world, 3, "", true);
    assert_eq!(unflagged.status, ResponseStatus::Failure);
    assert!(
        unflagged.errors[0]
            .code_context
            .starts_with("ACCESS_NOT_AUTHORISED"),
        "{unflagged:?}"
    );
    for (index, flag) in FLAGS.iter().enumerate() {
        let response = submit_letter(&world, index, flag, index == 3);
        assert_eq!(
            response.status,
            ResponseStatus::Success,
            "letter {index}: {response:?}"
        );
    }
    let all = letters(&FLAGS);
    let not_masked = letters(&["", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX"]);
    // (caller, patient of the assertion, expected)
    let cases: Vec<(Who, Seen)> = vec![
        (author(ACTIVE), all.clone()),
        (
            professional("authorised doctor", AUTHORISED, "normal", ACTIVE),
            not_masked.clone(),
        ),
        (
            professional("médecin traitant", MEDECIN_TRAITANT, "normal", ACTIVE),
            all.clone(),
        ),
        (
            professional("stranger", STRANGER, "normal", ACTIVE),
            refused("ACCESS_NOT_AUTHORISED"),
        ),
        (
            professional("stranger, bris de glace", STRANGER, "bris_de_glace", ACTIVE),
            not_masked.clone(),
        ),
        (
            professional("stranger, centre 15", STRANGER, "centre_15", ACTIVE),
            not_masked.clone(),
        ),
        (
            professional("blocked", BLOCKED, "normal", ACTIVE),
            refused("ACCESS_BLOCKED"),
        ),
        (
            professional("blocked, bris de glace", BLOCKED, "bris_de_glace", ACTIVE),
            refused("ACCESS_BLOCKED"),
        ),
        (producer(ACTIVE), letters(&[])),
        (
            portal("patient", "PATIENT", ACTIVE),
            letters(&["", "MASQUE_PS", "INVISIBLE_REPRESENTANTS_LEGAUX"]),
        ),
        (
            portal("legal representative", "REPRESENTANT_LEGAL", ACTIVE),
            letters(&["", "MASQUE_PS"]),
        ),
        (
            professional("authorised, closed DMP", AUTHORISED, "normal", CLOSED),
            refused("DMP_CLOSED"),
        ),
        (
            professional(
                "bris de glace, closed DMP",
                STRANGER,
                "bris_de_glace",
                CLOSED,
            ),
            refused("DMP_CLOSED"),
        ),
        (
            professional("authorised, no DMP", AUTHORISED, "normal", NO_DMP),
            refused("DMP_NOT_FOUND"),
        ),
    ];
    let mut failures = Vec::new();
    for (who, expected) in &cases {
        let patient = who.spec.patient.as_deref().expect("patient");
        let listed = list(&world, who, patient);
        let (retrieved, _) = retrieve(&world, who);
        if listed != *expected || retrieved != *expected {
            failures.push(format!(
                "{}: expected {expected:?}, ITI-18 gave {listed:?}, ITI-43 gave {retrieved:?}",
                who.label
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));

    // A masked document fetched by a professional who knows its uniqueId: answered exactly
    // like a document the repository does not hold.
    let (seen, errors) = retrieve(
        &world,
        &professional("authorised", AUTHORISED, "normal", ACTIVE),
    );
    assert_eq!(seen, not_masked);
    let masked = letter_id(1);
    let error = errors
        .iter()
        .find(|error| error.location.as_deref() == Some(masked.as_str()))
        .expect("an error for the masked letter");
    assert_eq!(error.code, XdsErrorCode::DocumentUniqueIdError);
    assert_eq!(
        error.code_context,
        format!("document {masked} is not in this repository")
    );

    // The patient opposes emergency access through the portal: bris de glace is refused,
    // centre 15 still works; then the stranger's software declares an authorisation.
    let patient = portal("patient", "PATIENT", ACTIVE);
    let answer = manage(
        &world,
        &patient,
        "manageDmp",
        &[
            ("patient", ACTIVE),
            ("command", "oppose"),
            ("emergency", "true"),
        ],
    );
    assert!(
        answer.contains("status=\"OK\"") && answer.contains("opposeEmergency=\"true\""),
        "{answer}"
    );
    let glass = professional("stranger, bris de glace", STRANGER, "bris_de_glace", ACTIVE);
    assert_eq!(list(&world, &glass, ACTIVE), refused("ACCESS_MODE_OPPOSED"));
    assert_eq!(retrieve(&world, &glass).0, refused("ACCESS_MODE_OPPOSED"));
    let regulator = professional("stranger, centre 15", STRANGER, "centre_15", ACTIVE);
    assert_eq!(list(&world, &regulator, ACTIVE), not_masked);
    // The patient reads the DMP's state; a professional may not.
    let state = manage(&world, &patient, "getDmp", &[("patient", ACTIVE)]);
    for part in [
        "status=\"active\"",
        "opposeEmergency=\"true\"",
        "opposeRegulator=\"false\"",
        &format!("medecinTraitant=\"{MEDECIN_TRAITANT}\""),
        &format!("<a:authorised professional=\"{AUTHORISED}\""),
        &format!("<a:blocked professional=\"{BLOCKED}\""),
    ] {
        assert!(state.contains(part), "{part} missing: {state}");
    }
    let professional_view = manage(
        &world,
        &professional("stranger", STRANGER, "normal", ACTIVE),
        "getDmp",
        &[("patient", ACTIVE)],
    );
    assert!(
        professional_view.contains("status=\"Failure\""),
        "{professional_view}"
    );
    // A professional cannot manage the patient's settings.
    let stranger = professional("stranger", STRANGER, "normal", ACTIVE);
    let answer = manage(
        &world,
        &stranger,
        "manageDmp",
        &[
            ("patient", ACTIVE),
            ("command", "unblock"),
            ("professional", BLOCKED),
        ],
    );
    assert!(
        answer.contains("status=\"Failure\"") && answer.contains("ACCESS_NOT_AUTHORISED"),
        "{answer}"
    );
    let answer = manage(
        &world,
        &stranger,
        "setAuthorization",
        &[("patient", ACTIVE), ("action", "AJOUT")],
    );
    assert!(answer.contains("status=\"OK\""), "{answer}");
    assert_eq!(list(&world, &stranger, ACTIVE), not_masked);

    // The access history, as the patient sees it: newest first, emergency accesses flagged,
    // refusals listed, retrievals named as such; paging goes back without overlap.
    let history = manage(
        &world,
        &patient,
        "getAccessHistory",
        &[("patient", ACTIVE), ("limit", "500")],
    );
    let entries: Vec<&str> = history.split("<a:access ").skip(1).collect();
    assert!(entries.len() > cases.len() * 2, "{history}");
    let glass_retrieval = entries.iter().find(|entry| {
        entry.contains("transaction=\"ITI-43\"")
            && entry.contains("mode=\"bris_de_glace\"")
            && entry.contains("outcome=\"allowed\"")
    });
    let glass_retrieval =
        glass_retrieval.unwrap_or_else(|| panic!("no bris_de_glace retrieval: {history}"));
    assert!(
        glass_retrieval.contains("emergency=\"true\""),
        "{glass_retrieval}"
    );
    assert!(
        glass_retrieval.contains(&format!("professional=\"{STRANGER}\"")),
        "{glass_retrieval}"
    );
    assert!(
        entries
            .iter()
            .any(|entry| entry.contains("transaction=\"ITI-18\"")
                && entry.contains("mode=\"centre_15\"")
                && entry.contains("emergency=\"true\"")),
        "{history}"
    );
    assert!(
        entries.iter().any(
            |entry| entry.contains(&format!("professional=\"{BLOCKED}\""))
                && entry.contains("outcome=\"denied\"")
                && entry.contains("ACCESS_BLOCKED")
        ),
        "{history}"
    );
    assert!(
        entries
            .iter()
            .any(|entry| entry.contains("transaction=\"ITI-41\"")
                && entry.contains("outcome=\"allowed\"")),
        "{history}"
    );
    let ids: Vec<u64> = entries
        .iter()
        .map(|entry| {
            let start = entry.find("id=\"").expect("id") + 4;
            entry[start..]
                .split('"')
                .next()
                .expect("id")
                .parse()
                .expect("number")
        })
        .collect();
    assert!(
        ids.windows(2).all(|pair| pair[0] > pair[1]),
        "newest first: {ids:?}"
    );
    let first_page = manage(
        &world,
        &patient,
        "getAccessHistory",
        &[("patient", ACTIVE), ("limit", "5")],
    );
    let next = first_page
        .split("next=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a next page");
    let second_page = manage(
        &world,
        &patient,
        "getAccessHistory",
        &[("patient", ACTIVE), ("limit", "5"), ("before", next)],
    );
    assert_eq!(second_page.matches("<a:access ").count(), 5);
    assert!(
        second_page.contains(&format!("id=\"{}\"", ids[5])),
        "{second_page}"
    );
    // The secret session's submission is in the patient's history, not in the legal
    // representative's.
    let secret_letter = letter_id(3);
    let submitted = |entries: &[String]| {
        entries.iter().any(|entry| {
            entry.contains("transaction=\"ITI-41\"") && entry.contains(secret_letter.as_str())
        })
    };
    assert!(submitted(&history_entries(&history).0), "{history}");
    let representative = portal("legal representative", "REPRESENTANT_LEGAL", ACTIVE);
    let their_history = manage(
        &world,
        &representative,
        "getAccessHistory",
        &[("patient", ACTIVE), ("limit", "500")],
    );
    assert!(their_history.contains("status=\"OK\""), "{their_history}");
    assert!(
        !submitted(&history_entries(&their_history).0),
        "{their_history}"
    );
    // A professional does not read the history.
    let answer = manage(
        &world,
        &stranger,
        "getAccessHistory",
        &[("patient", ACTIVE)],
    );
    assert!(answer.contains("status=\"Failure\""), "{answer}");

    // ITI-57 deletion (TD3.3c): an authorised professional who is not the author is refused,
    // the author deletes, and the letter is gone for everyone.
    let plain = entry_uuid_of(&world, 0);
    let answer = delete_letter(
        &world,
        &professional("authorised", AUTHORISED, "normal", ACTIVE),
        plain,
    );
    assert_eq!(answer.status, ResponseStatus::Failure);
    assert!(
        answer.errors[0].code_context.starts_with("NOT_AUTHOR"),
        "{answer:?}"
    );
    let answer = delete_letter(&world, &author(ACTIVE), plain);
    assert_eq!(answer.status, ResponseStatus::Success, "{answer:?}");
    assert_eq!(
        list(&world, &author(ACTIVE), ACTIVE),
        letters(&[
            "MASQUE_PS",
            "INVISIBLE_PATIENT",
            "INVISIBLE_REPRESENTANTS_LEGAUX"
        ])
    );
}

/// The current entryUUID of letter `index`, as its author finds it.
fn entry_uuid_of(world: &World, index: usize) -> Uuid {
    let who = author(ACTIVE);
    let request = find_documents(&Cx::parse(ACTIVE).expect("CX"));
    let body = Body::AdhocQuery(transform::stored_query_to_wire(&request));
    let answer = post(
        world,
        world.registry.address,
        REGISTRY_PATH,
        &who.spec.signer,
        &envelope_with_assertion(Transaction::Iti18, &body, Some(&sign(world, &who))),
    );
    let Body::AdhocQueryResponse(response) = answer_body(&answer) else {
        panic!("{}", answer.text());
    };
    transform::query_response_from_wire(&response, Options::REGISTRY)
        .expect("query response")
        .metadata
        .document_entries
        .iter()
        .find(|entry| {
            entry
                .unique_id
                .as_ref()
                .is_some_and(|id| id.as_str() == letter_id(index))
        })
        .and_then(|entry| entry.entry_uuid.as_uuid())
        .expect("the letter")
}

/// ITI-57 UpdateAvailabilityStatus Approved -> Deleted of `target` as `who` (whose structure is
/// the update's author institution).
fn delete_letter(world: &World, who: &Who, target: Uuid) -> xds::error::RegistryResponse {
    let mut set = dmp_sample().submission_sets.remove(0);
    set.unique_id = Some(Oid::parse("1.2.250.1.999.77.1.20261123.57").expect("OID"));
    for author in &mut set.authors {
        for institution in &mut author.institutions {
            let text = institution
                .to_string()
                .replace("1750100125", &who.spec.structure_id);
            *institution = Xon::parse(&text).expect("XON");
        }
    }
    let metadata = status_update(
        set,
        &[(
            target,
            AvailabilityStatus::Approved,
            AvailabilityStatus::Deleted,
        )],
    );
    let body = Body::SubmitObjects(transform::submit_objects_to_wire(&metadata));
    let answer = post(
        world,
        world.registry.address,
        REGISTRY_PATH,
        &who.spec.signer,
        &envelope_with_assertion(Transaction::Iti57, &body, Some(&sign(world, who))),
    );
    registry_response(&answer)
}
