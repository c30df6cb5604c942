//! Both daemons as deployed: every listener on mutual TLS with the test PKI
//! (`xds-conformance pki init`), every request with a signed VIHF assertion, the fr-dmp
//! profile. The DMP sample goes through the repository (which calls the registry with its
//! own certificate and forwards the caller's assertion) and is found and retrieved; each way
//! of getting trust wrong gets its precise error (TLS alert, SOAP fault with the WS-Security
//! code, RegistryResponse error, HL7 AR) and changes nothing.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;

use common::*;
use xds::model::*;
use xds::transaction::Transaction;
use xds::transform::{self, Options};
use xds::wire::{self, Body, OutContent};
use xds::{ResponseStatus, XdsErrorCode};
use xds_conformance::pki::{self, VihfSpec};

const DMP_PATIENT: &str = "185057800608491^^^&1.2.250.1.213.1.4.8&ISO^NH";
/// Another valid INS (dmp-profile.md §8 rule 3 test vector).
const OTHER_PATIENT: &str = "292042A00401249^^^&1.2.250.1.213.1.4.8&ISO^NH";
const LETTER: &str = "1.2.250.1.999.77.3.20261123.1";

type Secure = SecurePair;

fn start(name: &str) -> Secure {
    start_secure(name, "", |data| {
        patient_add(data, &[DMP_PATIENT, OTHER_PATIENT]);
        dmp_open(data, &[DMP_PATIENT, OTHER_PATIENT]);
    })
}

fn post_as(
    secure: &Secure,
    address: SocketAddr,
    path: &str,
    certificate: Option<&str>,
    body: &[u8],
) -> Result<Answer, String> {
    tls_post(
        address,
        TlsClient {
            pki: &secure.pki,
            certificate,
        },
        path,
        SOAP,
        body,
    )
}

fn register_body(metadata: &Metadata) -> Body<OutContent> {
    Body::SubmitObjects(transform::submit_objects_to_wire(metadata))
}

fn find_body(patient: &str) -> Body<OutContent> {
    let request = find_documents(&Cx::parse(patient).expect("CX"));
    Body::AdhocQuery(transform::stored_query_to_wire(&request))
}

/// The fault's subcode and reason.
fn fault_of(answer: &Answer) -> (String, String) {
    match answer_body(answer) {
        Body::Fault(fault) => (fault.subcodes.join(" "), fault.reason),
        other => panic!(
            "expected a SOAP fault, got {}: {}",
            other.element_name(),
            answer.text()
        ),
    }
}

fn assertion(secure: &Secure, spec: &VihfSpec) -> String {
    pki::sign_vihf(&secure.pki, spec).expect("sign the assertion")
}

fn structure_spec() -> VihfSpec {
    VihfSpec::structure(Some(DMP_PATIENT))
}

/// FindDocuments for the sample's patient, as a trusted caller: the entries registered.
fn entries_of_patient(secure: &Secure) -> usize {
    let token = assertion(secure, &structure_spec());
    let answer = post_as(
        secure,
        secure.registry.address,
        REGISTRY_PATH,
        Some("structure"),
        &envelope_with_assertion(Transaction::Iti18, &find_body(DMP_PATIENT), Some(&token)),
    )
    .expect("query");
    match answer_body(&answer) {
        Body::AdhocQueryResponse(response) => {
            let response = transform::query_response_from_wire(&response, Options::REGISTRY)
                .expect("query response");
            assert_eq!(
                response.response.status,
                ResponseStatus::Success,
                "{response:?}"
            );
            response.metadata.document_entries.len() + response.metadata.object_refs.len()
        }
        other => panic!("unexpected {}", other.element_name()),
    }
}

#[test]
fn every_listener_refuses_missing_untrusted_expired_and_revoked_certificates() {
    let secure = start("trust-tls");
    let body = envelope_with_assertion(Transaction::Iti18, &find_body(DMP_PATIENT), None);
    for (address, path) in [
        (secure.registry.address, REGISTRY_PATH),
        (secure.repository.address, REPOSITORY_PATH),
    ] {
        for (certificate, alert) in [
            (None, "CertificateRequired"),
            (Some("untrusted"), "UnknownCA"),
            (Some("expired"), "CertificateExpired"),
            (Some("revoked"), "CertificateRevoked"),
        ] {
            let error = tls_handshake(
                address,
                TlsClient {
                    pki: &secure.pki,
                    certificate,
                },
            )
            .expect_err("the handshake must fail");
            assert!(
                error.contains(alert),
                "{certificate:?} at {path}: {error} lacks the alert {alert}"
            );
        }
        // A good certificate is kept, and answered with a fault for want of an assertion.
        let answer = post_as(&secure, address, path, Some("structure"), &body).expect("answer");
        assert_eq!(fault_of(&answer).0, "wsse:InvalidSecurity");
    }
    // Plain HTTP on a TLS listener is not served either.
    let plain = try_post(secure.registry.address, REGISTRY_PATH, SOAP, &body);
    assert!(
        plain.as_ref().map_or(true, |answer| answer.status != 200),
        "{plain:?}"
    );

    // The MLLP listener: TLS with a client certificate; feeds from a structure only.
    let mllp = secure.registry.listener("mllp").expect("MLLP listener");
    let feed = |certificate: Option<&str>, id: &str| -> Result<String, String> {
        mllp_over_tls(&secure.pki, mllp, certificate, &admit(id))
    };
    for (certificate, alert) in [
        (None, "CertificateRequired"),
        (Some("revoked"), "CertificateRevoked"),
    ] {
        let error = tls_handshake(
            mllp,
            TlsClient {
                pki: &secure.pki,
                certificate,
            },
        )
        .expect_err("refused");
        assert!(error.contains(alert), "{error}");
    }
    let ack = feed(Some("professional"), "1801275001234").expect("an answer");
    assert!(ack.contains("MSA|AR|"), "{ack}");
    assert!(ack.contains("structure certificates only"), "{ack}");
    let ack = feed(Some("structure"), "1801275001234").expect("an answer");
    assert!(ack.contains("MSA|AA|"), "{ack}");
}

/// An ITI-8 A01 admitting the test INS `id` + its key.
fn admit(id13: &str) -> String {
    let key = ins::nir_key(id13).expect("a NIR");
    format!(
        "MSH|^~\\&|HIS|HOP|XDS|REG|20261123120000||ADT^A01^ADT_A01|MSG{id13}|P|2.5\rEVN|A01|20261123120000\rPID|||{id13}{key:02}^^^&1.2.250.1.213.1.4.8&ISO^NH||DUPONT^JEAN||19800101|M\rPV1||I\r"
    )
}

/// One HL7 message over MLLP inside TLS; the acknowledgement, or the TLS error.
fn mllp_over_tls(
    pki_dir: &Path,
    address: SocketAddr,
    certificate: Option<&str>,
    message: &str,
) -> Result<String, String> {
    let mut stream = tls_connect(
        address,
        TlsClient {
            pki: pki_dir,
            certificate,
        },
    )?;
    let frame = format!("\u{b}{message}\u{1c}\r");
    stream
        .write_all(frame.as_bytes())
        .and_then(|()| stream.flush())
        .map_err(|error| error.to_string())?;
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let count = stream
            .read(&mut buffer)
            .map_err(|error| error.to_string())?;
        if count == 0 {
            return Err("closed before an acknowledgement".to_owned());
        }
        answer.extend_from_slice(&buffer[..count]);
        if answer.ends_with(b"\x1c\r") {
            return Ok(String::from_utf8_lossy(&answer).replace('\r', "\n"));
        }
    }
}

#[test]
fn assertions_are_verified_and_every_refusal_changes_nothing() {
    let secure = start("trust-vihf");
    let metadata = dmp_sample();
    let submit = |certificate: &str, token: Option<&str>| {
        post_as(
            &secure,
            secure.registry.address,
            REGISTRY_PATH,
            Some(certificate),
            &envelope_with_assertion(Transaction::Iti42, &register_body(&metadata), token),
        )
        .expect("an answer")
    };
    let fault = |certificate: &str, token: Option<&str>| fault_of(&submit(certificate, token));

    let signed = |spec: VihfSpec| Some(assertion(&secure, &spec));
    let good = assertion(&secure, &structure_spec());
    let signature_start = good.find("<ds:SignatureValue>").expect("signature") + 19;
    let mut forged = good.clone();
    let flipped = if &good[signature_start..=signature_start] == "A" {
        "B"
    } else {
        "A"
    };
    forged.replace_range(signature_start..=signature_start, flipped);
    // (what, TLS certificate, assertion, WS-Security fault code, words of the reason)
    let cases: Vec<(&str, &str, Option<String>, &str, &str)> = vec![
        (
            "no assertion",
            "structure",
            None,
            "wsse:InvalidSecurity",
            "no wsse:Security",
        ),
        (
            "issued 9 h ago (limit 8 h)",
            "structure",
            signed(VihfSpec {
                issued_ago: 9 * 3600,
                lifetime: 12 * 3600,
                ..structure_spec()
            }),
            "wsse:MessageExpired",
            "issued",
        ),
        (
            "past NotOnOrAfter",
            "structure",
            signed(VihfSpec {
                issued_ago: 3600,
                lifetime: 600,
                ..structure_spec()
            }),
            "wsse:MessageExpired",
            "NotOnOrAfter",
        ),
        (
            "signature value not the signer's",
            "structure",
            Some(forged),
            "wsse:FailedCheck",
            "signature does not verify",
        ),
        (
            "attribute changed after signing",
            "structure",
            Some(good.replace("MARTIN Philippe", "MARTIN Paul")),
            "wsse:FailedCheck",
            "changed after signing",
        ),
        (
            "signed by another structure than the TLS client",
            "structure",
            signed(VihfSpec {
                signer: "structure-b".into(),
                structure_id: pki::OTHER_STRUCTURE_ID.into(),
                ..structure_spec()
            }),
            "wsse:FailedAuthentication",
            "TLS client certificate",
        ),
        (
            "names another structure than the certificate's",
            "structure",
            signed(VihfSpec {
                structure_id: pki::OTHER_STRUCTURE_ID.into(),
                ..structure_spec()
            }),
            "wsse:FailedAuthentication",
            "legal-person",
        ),
        (
            "role outside JDV_J65",
            "structure",
            signed(VihfSpec {
                roles: vec!["99^1.2.250.1.71.1.2.7".into()],
                ..structure_spec()
            }),
            "wsse:InvalidSecurityToken",
            "J65",
        ),
        (
            "access mode outside TRE_R248",
            "structure",
            signed(VihfSpec {
                access_mode: "urgence^1.2.250.1.213.1.1.4.248".into(),
                ..structure_spec()
            }),
            "wsse:InvalidSecurityToken",
            "urgence",
        ),
        (
            "doctor without a speciality",
            "structure",
            signed(VihfSpec {
                roles: vec!["10^1.2.250.1.71.1.2.7".into()],
                ..structure_spec()
            }),
            "wsse:InvalidSecurityToken",
            "savoir-faire",
        ),
        (
            "resource-id not a valid INS",
            "structure",
            signed(VihfSpec::structure(Some(
                "185057800608492^^^&1.2.250.1.213.1.4.8&ISO^NH",
            ))),
            "wsse:InvalidSecurityToken",
            "not a valid INS",
        ),
        (
            "direct mode signed by a structure",
            "structure",
            signed(VihfSpec {
                authentication: "DIRECTE".into(),
                ..structure_spec()
            }),
            "wsse:FailedAuthentication",
            "own card",
        ),
    ];
    for (what, certificate, token, code, words) in &cases {
        let (found, reason) = fault(certificate, token.as_deref());
        assert_eq!(&found, code, "{what}: {reason}");
        assert!(reason.contains(words), "{what}: {reason} lacks {words:?}");
    }
    // The alias OID of TRE_R248 is accepted (checked below with the registered submission).
    // Another patient than the submission's: a RegistryResponse error, not a fault.
    let other_patient = assertion(&secure, &VihfSpec::structure(Some(OTHER_PATIENT)));
    let response = registry_response(&submit("structure", Some(&other_patient)));
    assert_eq!(response.status, ResponseStatus::Failure);
    assert_eq!(response.errors[0].code, XdsErrorCode::RegistryError);
    assert!(
        response.errors[0]
            .code_context
            .starts_with("VIHF_PATIENT_MISMATCH"),
        "{response:?}"
    );
    // Direct mode: the card holder must be an author of the submission.
    let card = assertion(
        &secure,
        &VihfSpec {
            signer: "professional".into(),
            authentication: "DIRECTE".into(),
            name_id: pki::PROFESSIONAL_ID.into(),
            ..structure_spec()
        },
    );
    let response = registry_response(&submit("professional", Some(&card)));
    assert!(
        response
            .errors
            .iter()
            .any(|error| error.code_context.starts_with("VIHF_USER_NOT_AUTHOR")),
        "{response:?}"
    );

    // Nothing of the above was registered: the registry holds no entry of the patient, and
    // the very same submission (same uniqueIds) is now accepted.
    assert_eq!(entries_of_patient(&secure), 0);
    let alias_mode = assertion(
        &secure,
        &VihfSpec {
            access_mode: "normal^1.2.250.1.213.1.1.4.336".into(),
            ..structure_spec()
        },
    );
    let response = registry_response(&submit("structure", Some(&alias_mode)));
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    assert_eq!(entries_of_patient(&secure), 2);

    // A query about another patient than the assertion's.
    let answer = post_as(
        &secure,
        secure.registry.address,
        REGISTRY_PATH,
        Some("structure"),
        &envelope_with_assertion(Transaction::Iti18, &find_body(OTHER_PATIENT), Some(&good)),
    )
    .expect("an answer");
    let Body::AdhocQueryResponse(response) = answer_body(&answer) else {
        panic!("{}", answer.text());
    };
    let response =
        transform::query_response_from_wire(&response, Options::REGISTRY).expect("response");
    assert_eq!(response.response.status, ResponseStatus::Failure);
    assert!(
        response.response.errors[0]
            .code_context
            .starts_with("VIHF_PATIENT_MISMATCH")
    );
}

#[test]
fn the_repository_forwards_the_callers_assertion_with_its_own_certificate() {
    let secure = start("trust-forward");
    let mut metadata = dmp_sample();
    for entry in &mut metadata.document_entries {
        entry.hash = None;
        entry.size = None;
        entry.repository_unique_id = None;
    }
    let letter = b"<ClinicalDocument xmlns=\"urn:hl7-org:v3\">lettre</ClinicalDocument>".to_vec();
    let signature = b"<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/>".to_vec();
    let provide_as = |token: Option<&str>| {
        let request = ProvideAndRegister {
            metadata: metadata.clone(),
            documents: metadata
                .document_entries
                .iter()
                .zip([&letter, &signature])
                .map(|(entry, content)| Document {
                    id: entry.entry_uuid.clone(),
                    content: content.clone(),
                })
                .collect(),
        };
        let body = Body::ProvideAndRegister(transform::provide_and_register_to_wire(
            &request,
            |document| OutContent::Inline(document.content.clone()),
        ));
        post_as(
            &secure,
            secure.repository.address,
            REPOSITORY_PATH,
            Some("structure"),
            &envelope_with_assertion(Transaction::Iti41, &body, token),
        )
        .expect("an answer")
    };
    // A tampered assertion stops at the repository: nothing stored, nothing registered.
    let good = assertion(&secure, &structure_spec());
    let (code, _) = fault_of(&provide_as(Some(&good.replace("MARTIN Philippe", "X"))));
    assert_eq!(code, "wsse:FailedCheck");
    assert_eq!(entries_of_patient(&secure), 0);
    // Another patient: refused by the repository itself, before storing.
    let other = assertion(&secure, &VihfSpec::structure(Some(OTHER_PATIENT)));
    let response = registry_response(&provide_as(Some(&other)));
    assert!(
        response.errors[0]
            .code_context
            .starts_with("VIHF_PATIENT_MISMATCH"),
        "{response:?}"
    );
    // The real thing: the repository registers with its own certificate, forwarding the
    // assertion, which the registry verifies against the signer's certificate.
    let response = registry_response(&provide_as(Some(&good)));
    assert_eq!(response.status, ResponseStatus::Success, "{response:?}");
    assert_eq!(entries_of_patient(&secure), 2);
    // Retrieve through TLS with an assertion.
    let body = Body::Retrieve(wire::RetrieveDocumentSetRequest {
        requests: transform::document_requests_to_wire(&[DocumentRequest {
            home_community_id: None,
            repository_unique_id: REPOSITORY_ID.to_owned(),
            document_unique_id: LETTER.to_owned(),
        }]),
    });
    let answer = post_as(
        &secure,
        secure.repository.address,
        REPOSITORY_PATH,
        Some("structure"),
        &envelope_with_assertion(
            Transaction::Iti43,
            &body,
            Some(&assertion(&secure, &structure_spec())),
        ),
    )
    .expect("an answer");
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert!(
        answer.body.windows(6).any(|window| window == b"lettre"),
        "{}",
        answer.text()
    );
    // The repository's own bookkeeping (settling a submission in doubt) carries no assertion:
    // accepted from a forwarder's certificate only, for identifiers (ObjectRef) only.
    let own = |return_type: ReturnType| {
        let mut request = find_documents(&Cx::parse(DMP_PATIENT).expect("CX"));
        request.return_type = return_type;
        let body = Body::AdhocQuery(transform::stored_query_to_wire(&request));
        post_as(
            &secure,
            secure.registry.address,
            REGISTRY_PATH,
            Some("repository"),
            &envelope_with_assertion(Transaction::Iti18, &body, None),
        )
        .expect("an answer")
        .text()
    };
    let references = own(ReturnType::ObjectRef);
    assert!(
        references.contains("ResponseStatusType:Success"),
        "{references}"
    );
    assert!(references.contains("ObjectRef"), "{references}");
    let metadata = own(ReturnType::LeafClass);
    assert!(metadata.contains("ACCESS_NOT_AUTHORISED"), "{metadata}");
    // A certificate that is not a configured forwarder cannot pass someone else's assertion.
    let forwarded_by_stranger = post_as(
        &secure,
        secure.registry.address,
        REGISTRY_PATH,
        Some("structure-b"),
        &envelope_with_assertion(Transaction::Iti18, &find_body(DMP_PATIENT), Some(&good)),
    )
    .expect("an answer");
    assert_eq!(
        fault_of(&forwarded_by_stranger).0,
        "wsse:FailedAuthentication"
    );
}

#[test]
fn a_daemon_without_its_tls_files_does_not_start() {
    let dir = TempDir::new("trust-config");
    let config = dir.path().join("daemon.toml");
    // Exit 64 before listening, the message naming `words`.
    let refuses = |binary: &Path, data: &str, words: &str| {
        let output = std::process::Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(dir.path().join(data))
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(64), "{stderr}");
        assert!(stderr.contains(words), "{stderr}");
    };
    std::fs::write(
        &config,
        "[tls]\ncertificate = \"/nonexistent/daemon.pem\"\nprivate_key = \"/nonexistent/daemon.key\"\ntrust_anchors = \"/nonexistent/ca.pem\"\n",
    )
    .expect("config");
    refuses(registry_binary(), "registry", "/nonexistent/daemon.pem");
    refuses(
        Path::new(REPOSITORY_BINARY),
        "repository",
        "/nonexistent/daemon.pem",
    );
    // No TLS section and no --insecure: refused, naming what is missing.
    std::fs::write(&config, "").expect("config");
    refuses(registry_binary(), "registry", "tls.certificate");
    refuses(
        Path::new(REPOSITORY_BINARY),
        "repository",
        "tls.certificate",
    );
}
