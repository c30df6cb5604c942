//! Properties checked on every input that decodes: our own encoding of it decodes to the same
//! body, and when its metadata transforms into the model, model -> XML -> model is the identity.

use xds::transform::{self, Options};
use xds::wire::{self, Attachment, Body, Limits, MemorySink, OutContent};

pub fn fuzz_limits() -> Limits {
    Limits {
        max_envelope_bytes: 1 << 20,
        max_attachment_bytes: 1 << 20,
        max_message_bytes: 1 << 22,
        max_parts: 64,
        max_part_header_bytes: 4096,
        max_depth: 64,
        max_text_bytes: 1 << 16,
    }
}

fn inline(body: Body<Attachment<Vec<u8>>>) -> Body<OutContent> {
    body.try_map_content::<_, ()>(|attachment| Ok(OutContent::Inline(attachment.handle))).expect("infallible")
}

fn handles(body: Body<Attachment<Vec<u8>>>) -> Body<Vec<u8>> {
    body.try_map_content::<_, ()>(|attachment| Ok(attachment.handle)).expect("infallible")
}

/// Checks the round-trip properties of a decoded body.
pub fn check_body(body: Body<Attachment<Vec<u8>>>) {
    let document = wire::write_body_document(&inline(body.clone()));
    let again = wire::decode_body_xml(document.as_bytes(), &Limits::default(), &mut MemorySink::default())
        .unwrap_or_else(|error| panic!("our own output does not decode: {error}\n{document}"));
    let again = again
        .try_map_content::<_, ()>(|content| match content {
            wire::DocumentContent::Inline(attachment) => Ok(attachment),
            wire::DocumentContent::Xop { .. } => Err(()),
        })
        .expect("inline only");
    assert_eq!(handles(again), handles(body.clone()), "wire round trip differs\n{document}");
    check_model(&body);
}

fn check_model(body: &Body<Attachment<Vec<u8>>>) {
    match body {
        Body::SubmitObjects(request) => {
            if let Ok(model) = transform::submit_objects_from_wire(request, Options::REGISTRY) {
                let xml = wire::write_body_document(&Body::SubmitObjects(transform::submit_objects_to_wire(&model)));
                let Ok(Body::SubmitObjects(again)) = wire::decode_body_xml(xml.as_bytes(), &Limits::default(), &mut MemorySink::default())
                else {
                    panic!("model output does not decode\n{xml}")
                };
                let model_again = transform::submit_objects_from_wire(&again, Options::REGISTRY)
                    .unwrap_or_else(|violations| panic!("model output invalid: {violations:?}\n{xml}"));
                assert_eq!(model_again, model, "model round trip differs\n{xml}");
            }
        }
        Body::ProvideAndRegister(request) => {
            let _ = transform::provide_and_register_from_wire(request.clone(), Options::REPOSITORY);
        }
        Body::AdhocQuery(request) => {
            if let Ok(query) = transform::stored_query_from_wire(request) {
                let again = transform::stored_query_from_wire(&transform::stored_query_to_wire(&query))
                    .unwrap_or_else(|errors| panic!("query re-encoding invalid: {errors:?}"));
                assert_eq!(again, query);
            }
        }
        Body::RemoveObjects(request) => {
            let _ = transform::remove_metadata_from_wire(request, Options::REGISTRY);
        }
        Body::Retrieve(request) => {
            let _ = transform::document_requests_from_wire(&request.requests, Options::REPOSITORY);
        }
        Body::RemoveDocuments(request) => {
            let _ = transform::document_requests_from_wire(&request.requests, Options::REPOSITORY);
        }
        Body::RegistryResponse(response) => {
            if let Ok(model) = transform::registry_response_from_wire(response) {
                assert_eq!(transform::registry_response_from_wire(&transform::registry_response_to_wire(&model)).ok(), Some(model));
            }
        }
        Body::AdhocQueryResponse(response) => {
            let _ = transform::query_response_from_wire(response, Options::REGISTRY);
        }
        Body::RetrieveResponse(response) => {
            let _ = transform::retrieve_response_from_wire(response.clone());
        }
        Body::Fault(_) => {}
    }
}
