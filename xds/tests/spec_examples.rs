//! Every XML example of xds-spec-brief.md (read from the shared docs, not copied) decodes, and
//! decode -> encode -> decode gives an equal envelope and an equal model.

// In test helpers a panic is the failure report, so unwrapping is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use sha1::{Digest, Sha1};
use xds::transform::{self, Options};
use xds::wire::{self, Attachment, Body, Limits, MemorySink, OutContent};

/// Fenced code blocks of the brief: (language, text).
fn code_blocks(markdown: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in markdown.lines() {
        if let Some(fence) = line.strip_prefix("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some((fence.trim().to_owned(), String::new())),
            }
        } else if let Some((_, text)) = &mut current {
            text.push_str(line);
            text.push('\n');
        }
    }
    blocks
}

/// Inline code spans that hold a whole response element (`rs:` or `query:`); the lone
/// `xop:Include` fragment is exercised inside the ITI-41 message instead.
fn inline_elements(markdown: &str) -> Vec<String> {
    markdown
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| {
            span.starts_with('<') && span.ends_with("/>")
                || span.starts_with('<') && span.contains("</")
        })
        .filter(|span| span.starts_with("<rs:") || span.starts_with("<query:"))
        .map(str::to_owned)
        .collect()
}

/// Splits an HTTP example into its Content-Type and body (headers end at the first blank line).
fn http_parts(text: &str) -> (String, Vec<u8>) {
    let (head, body) = text
        .split_once("\n\n")
        .expect("HTTP example has a blank line");
    let content_type = head
        .lines()
        .find_map(|line| line.strip_prefix("Content-Type:"))
        .expect("HTTP example has a Content-Type")
        .trim()
        .to_owned();
    (content_type, body.as_bytes().to_vec())
}

fn decode(content_type: &str, body: &[u8]) -> wire::DecodedMessage<Vec<u8>> {
    wire::decode_message(
        content_type,
        body,
        &Limits::default(),
        &mut MemorySink::default(),
    )
    .unwrap_or_else(|error| panic!("example does not decode: {error}"))
}

/// Re-encodes an envelope (documents inline) and decodes it again.
fn re_encode(message: &wire::DecodedMessage<Vec<u8>>) -> wire::Envelope<Attachment<Vec<u8>>> {
    let body = message
        .envelope
        .body
        .clone()
        .try_map_content::<_, ()>(|attachment| Ok(OutContent::Inline(attachment.handle)))
        .unwrap();
    let xml = wire::write_envelope(&message.envelope.header, &body);
    decode("application/soap+xml; charset=UTF-8", xml.as_bytes()).envelope
}

/// Compares bodies ignoring where document bytes came from (a MIME part or inline).
fn same_documents(left: &Body<Attachment<Vec<u8>>>, right: &Body<Attachment<Vec<u8>>>) -> bool {
    let strip = |body: &Body<Attachment<Vec<u8>>>| {
        body.clone()
            .try_map_content::<_, ()>(|attachment| Ok(attachment.handle))
            .unwrap()
    };
    strip(left) == strip(right)
}

#[test]
fn provide_and_register_example_decodes_with_its_exact_document() {
    let markdown =
        std::fs::read_to_string(common::shared_dir().join("docs/xds-spec-brief.md")).unwrap();
    let blocks = code_blocks(&markdown);
    let (content_type, body) = http_parts(
        &blocks
            .iter()
            .find(|(_, text)| text.contains("<xds:ProvideAndRegisterDocumentSetRequest"))
            .unwrap()
            .1,
    );
    let message = decode(&content_type, &body);
    assert!(message.mtom);
    let header = &message.envelope.header;
    assert_eq!(
        header.action.as_deref(),
        Some("urn:ihe:iti:2007:ProvideAndRegisterDocumentSet-b")
    );
    assert!(header.action_must_understand);
    assert_eq!(
        header.message_id.as_deref(),
        Some("urn:uuid:0f8e2f1c-6d1e-4c6b-9a55-3c1f7f0c2a41")
    );
    assert_eq!(
        header
            .reply_to
            .as_ref()
            .and_then(|reply| reply.address.as_deref()),
        Some(wire::names::WSA_ANONYMOUS)
    );
    let Body::ProvideAndRegister(request) = &message.envelope.body else {
        panic!("not ITI-41")
    };
    assert_eq!(request.documents.len(), 1);
    let document = &request.documents[0].content;
    // The brief states the document: 43 bytes with this SHA-1.
    assert_eq!(document.size, 43);
    assert_eq!(document.handle.len(), 43);
    assert_eq!(
        format!("{:x}", Sha1::digest(&document.handle)),
        "d3016d8d6c49163839f7535431760bf65e74560b"
    );
    assert_eq!(document.content_type.as_deref(), Some("text/plain"));
    assert_eq!(
        document.content_id.as_deref(),
        Some("doc1.content@example.org")
    );

    let model = transform::provide_and_register_from_wire(request.clone(), Options::REPOSITORY)
        .expect("example metadata is valid");
    let entry = &model.metadata.document_entries[0];
    assert_eq!(
        entry.unique_id.as_ref().unwrap().as_str(),
        "2.999.2.1.20240315.1"
    );
    assert_eq!(
        entry.patient_id.as_ref().unwrap().format(),
        "P1234^^^&2.999.1.1&ISO"
    );
    assert_eq!(
        entry.authors[0].person.as_ref().unwrap().family_name(),
        "Smith"
    );
    assert_eq!(
        model.metadata.submission_sets[0]
            .source_id
            .as_ref()
            .unwrap()
            .as_str(),
        "2.999.4.1"
    );

    let again = re_encode(&message);
    assert_eq!(again.header, message.envelope.header);
    assert!(
        same_documents(&again.body, &message.envelope.body),
        "envelope round trip differs"
    );
    let Body::ProvideAndRegister(request_again) = again.body else {
        panic!()
    };
    let model_again =
        transform::provide_and_register_from_wire(request_again, Options::REPOSITORY).unwrap();
    assert_eq!(model_again.metadata, model.metadata);
}

#[test]
fn stored_query_example_decodes_and_round_trips() {
    let markdown =
        std::fs::read_to_string(common::shared_dir().join("docs/xds-spec-brief.md")).unwrap();
    let blocks = code_blocks(&markdown);
    let envelope = &blocks
        .iter()
        .find(|(language, text)| language == "xml" && text.contains("RegistryStoredQuery<"))
        .unwrap()
        .1;
    let message = decode("application/soap+xml; charset=UTF-8", envelope.as_bytes());
    let Body::AdhocQuery(request) = &message.envelope.body else {
        panic!("not ITI-18")
    };
    let query = transform::stored_query_from_wire(request).expect("example query is valid");
    let xds::model::StoredQuery::FindDocuments(find) = &query.query else {
        panic!("not FindDocuments")
    };
    assert_eq!(find.patient_id.format(), "P1234^^^&2.999.1.1&ISO");
    assert_eq!(
        find.creation_time.from.as_ref().unwrap().as_str(),
        "20240101"
    );
    assert_eq!(
        find.class_codes,
        vec![vec![xds::model::CodeParam::new(
            "11488-4",
            "2.16.840.1.113883.6.1"
        )]]
    );
    let again = re_encode(&message);
    assert_eq!(again.header, message.envelope.header);
    let Body::AdhocQuery(request_again) = &again.body else {
        panic!()
    };
    assert_eq!(
        transform::stored_query_from_wire(request_again).unwrap(),
        query
    );
}

#[test]
fn retrieve_example_decodes_and_round_trips() {
    let markdown =
        std::fs::read_to_string(common::shared_dir().join("docs/xds-spec-brief.md")).unwrap();
    let blocks = code_blocks(&markdown);
    let (content_type, body) = http_parts(
        &blocks
            .iter()
            .find(|(_, text)| text.contains("<xds:RetrieveDocumentSetRequest"))
            .unwrap()
            .1,
    );
    let message = decode(&content_type, &body);
    let Body::Retrieve(request) = &message.envelope.body else {
        panic!("not ITI-43")
    };
    let requests =
        transform::document_requests_from_wire(&request.requests, Options::REPOSITORY).unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].repository_unique_id, "2.999.5.1");
    assert_eq!(requests[0].document_unique_id, "2.999.2.1.20240315.1");
    let again = re_encode(&message);
    assert!(same_documents(&again.body, &message.envelope.body));
}

#[test]
fn response_examples_decode_and_round_trip() {
    let markdown =
        std::fs::read_to_string(common::shared_dir().join("docs/xds-spec-brief.md")).unwrap();
    let mut responses: Vec<String> = inline_elements(&markdown);
    responses.extend(
        code_blocks(&markdown)
            .into_iter()
            .filter(|(language, text)| language == "xml" && !text.contains("Envelope"))
            .map(|(_, text)| text),
    );
    let mut decoded = 0;
    for xml in responses {
        let body = wire::decode_body_xml(
            xml.as_bytes(),
            &Limits::default(),
            &mut MemorySink::default(),
        )
        .unwrap_or_else(|error| panic!("{error}\n{xml}"));
        match &body {
            Body::RegistryResponse(response) => {
                let model = transform::registry_response_from_wire(response).unwrap();
                let wire_again = transform::registry_response_to_wire(&model);
                assert_eq!(
                    transform::registry_response_from_wire(&wire_again).unwrap(),
                    model
                );
            }
            Body::AdhocQueryResponse(response) => {
                let model =
                    transform::query_response_from_wire(response, Options::REGISTRY).unwrap();
                let encoded = wire::write_body_document(&Body::AdhocQueryResponse(
                    transform::query_response_to_wire(&model),
                ));
                let Body::AdhocQueryResponse(again) = wire::decode_body_xml(
                    encoded.as_bytes(),
                    &Limits::default(),
                    &mut MemorySink::default(),
                )
                .unwrap() else {
                    panic!()
                };
                assert_eq!(
                    transform::query_response_from_wire(&again, Options::REGISTRY).unwrap(),
                    model
                );
                if xml.contains("Failure") {
                    assert_eq!(
                        model.response.errors[0].code,
                        xds::XdsErrorCode::StoredQueryMissingParam
                    );
                }
            }
            Body::Fault(_) => {}
            other => panic!("unexpected example body {}", other.element_name()),
        }
        decoded += 1;
    }
    assert!(
        decoded >= 3,
        "expected the RegistryResponse and both AdhocQueryResponse examples, got {decoded}"
    );
}
