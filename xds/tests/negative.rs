//! Bad input gets a precise error: each test feeds one kind of broken message and asserts the
//! exact `DecodeError` variant and the class of answer it deserves.

// In test helpers a panic is the failure report, so unwrapping is the point.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;

use xds::wire::{
    self, AttachmentInfo, AttachmentSink, Body, CountingSink, DecodeError, ErrorClass, Limits,
    MemorySink, MimeError, SinkError,
};

const SOAP: &str = "application/soap+xml; charset=UTF-8";

fn envelope(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing">
 <s:Header><a:Action s:mustUnderstand="1">urn:ihe:iti:2007:RegisterDocumentSet-b</a:Action><a:MessageID>urn:uuid:1</a:MessageID></s:Header>
 <s:Body>{body}</s:Body>
</s:Envelope>"#
    )
}

const SUBMIT: &str = r#"<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList/></lcm:SubmitObjectsRequest>"#;

fn decode_with(
    content_type: &str,
    body: &[u8],
    limits: &Limits,
) -> Result<wire::DecodedMessage<Vec<u8>>, DecodeError> {
    wire::decode_message(content_type, body, limits, &mut MemorySink::default())
}

fn decode(content_type: &str, body: &[u8]) -> Result<wire::DecodedMessage<Vec<u8>>, DecodeError> {
    decode_with(content_type, body, &Limits::default())
}

fn error_of(content_type: &str, body: &[u8]) -> DecodeError {
    decode(content_type, body).expect_err("must be refused")
}

/// An ITI-41 MTOM package with one part referenced from `xds:Document`.
fn mtom(
    boundary: &str,
    start: &str,
    document: &str,
    parts: &[(&str, &[u8])],
    close: bool,
) -> (String, Vec<u8>) {
    let root = envelope(&format!(
        r#"<xds:ProvideAndRegisterDocumentSetRequest xmlns:xds="urn:ihe:iti:xds-b:2007">{SUBMIT}{document}</xds:ProvideAndRegisterDocumentSetRequest>"#
    ));
    let mut body = format!(
        "--{boundary}\r\nContent-Type: application/xop+xml; charset=UTF-8; type=\"application/soap+xml\"\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <root@x>\r\n\r\n{root}"
    )
    .into_bytes();
    for (cid, bytes) in parts {
        body.extend_from_slice(
            format!("\r\n--{boundary}\r\nContent-Type: text/plain\r\nContent-ID: <{cid}>\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
    }
    if close {
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    }
    let content_type = format!(
        "multipart/related; boundary=\"{boundary}\"; type=\"application/xop+xml\"; start=\"{start}\"; start-info=\"application/soap+xml\""
    );
    (content_type, body)
}

const XOP_DOC: &str = r#"<xds:Document id="Doc1"><xop:Include xmlns:xop="http://www.w3.org/2004/08/xop/include" href="cid:doc1@x"/></xds:Document>"#;

#[test]
fn a_well_formed_package_decodes() {
    let (content_type, body) = mtom("b1", "<root@x>", XOP_DOC, &[("doc1@x", b"hello")], true);
    let message = decode(&content_type, &body).unwrap();
    let Body::ProvideAndRegister(request) = message.envelope.body else {
        panic!()
    };
    assert_eq!(request.documents[0].content.handle, b"hello");
}

#[test]
fn malformed_xml_is_a_sender_fault() {
    let error = error_of(
        SOAP,
        envelope(
            "<lcm:SubmitObjectsRequest xmlns:lcm=\"urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0\">",
        )
        .as_bytes(),
    );
    assert!(matches!(error, DecodeError::Xml { .. }), "{error:?}");
    assert_eq!(error.class(), ErrorClass::SenderFault);
    let error = error_of(SOAP, b"this is not XML at all");
    assert!(
        matches!(
            error,
            DecodeError::NotAnEnvelope { .. } | DecodeError::Xml { .. }
        ),
        "{error:?}"
    );
    assert_eq!(error.class(), ErrorClass::SenderFault);
    let error = error_of(SOAP, b"<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body a=\"1\" a=\"2\"/></s:Envelope>");
    assert!(
        matches!(&error, DecodeError::MalformedTag { message, .. } if message == "duplicate attribute a"),
        "{error:?}"
    );
    assert_eq!(error.class(), ErrorClass::SenderFault);
}

#[test]
fn soap_11_envelope_is_a_version_mismatch() {
    let body =
        r#"<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>"#;
    let error = error_of(SOAP, body.as_bytes());
    assert!(matches!(error, DecodeError::Soap11), "{error:?}");
    assert_eq!(error.class(), ErrorClass::VersionMismatch);
}

#[test]
fn wrong_namespaces_are_named_precisely() {
    // Root in no namespace.
    let error = error_of(SOAP, b"<Envelope><Body/></Envelope>");
    assert!(
        matches!(&error, DecodeError::NotAnEnvelope { found } if found == "Envelope"),
        "{error:?}"
    );
    // A body element in the wrong namespace is a metadata error the client can read.
    let body = envelope(
        r#"<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"/>"#,
    );
    let error = error_of(SOAP, body.as_bytes());
    match &error {
        DecodeError::WrongNamespace {
            element,
            found,
            expected,
            in_body: true,
            ..
        } => {
            assert_eq!(element, "lcm:SubmitObjectsRequest");
            assert_eq!(found, "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0");
            assert_eq!(*expected, "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(error.class(), ErrorClass::Metadata);
    // An ebRIM child in the ebRIM 2.1 namespace inside a 3.0 request.
    let body = envelope(
        r#"<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0"><rim:LeafRegistryObjectList xmlns:rim="urn:oasis:names:tc:ebxml-regrep:rim:xsd:2.1"/></lcm:SubmitObjectsRequest>"#,
    );
    let error = error_of(SOAP, body.as_bytes());
    assert!(
        matches!(&error, DecodeError::Ebrim21 { element, .. } if element == "rim:LeafRegistryObjectList"),
        "{error:?}"
    );
    assert_eq!(error.class(), ErrorClass::Metadata);
}

#[test]
fn unknown_elements_where_the_schema_forbids_them_are_refused() {
    let body = envelope(
        r#"<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList><rim:ExtrinsicObject id="a"><rim:Slot name="x"><rim:Value>1</rim:Value></rim:Slot></rim:ExtrinsicObject></rim:RegistryObjectList></lcm:SubmitObjectsRequest>"#,
    );
    let error = error_of(SOAP, body.as_bytes());
    match &error {
        DecodeError::UnexpectedElement {
            found,
            location,
            in_body: true,
            ..
        } => {
            assert_eq!(found, "rim:Value");
            assert_eq!(
                location,
                "/Envelope/Body/SubmitObjectsRequest/RegistryObjectList/ExtrinsicObject/Slot/Value"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(error.class(), ErrorClass::Metadata);
    let body = envelope(
        r#"<lcm:SubmitObjectsRequest xmlns:lcm="urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0" xmlns:rim="urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"><rim:RegistryObjectList><rim:Organization id="o"/></rim:RegistryObjectList></lcm:SubmitObjectsRequest>"#,
    );
    assert!(
        matches!(error_of(SOAP, body.as_bytes()), DecodeError::UnexpectedElement { found, .. } if found == "rim:Organization")
    );
    // Stray text where only elements may appear.
    let body =
        envelope(&SUBMIT.replace("<rim:RegistryObjectList/>", "oops<rim:RegistryObjectList/>"));
    assert!(
        matches!(error_of(SOAP, body.as_bytes()), DecodeError::UnexpectedText { text, .. } if text == "oops")
    );
    // A body with two elements.
    let body = envelope(&format!("{SUBMIT}{SUBMIT}"));
    assert!(matches!(
        error_of(SOAP, body.as_bytes()),
        DecodeError::UnexpectedElement { .. }
    ));
    // No body at all.
    let body =
        r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Header/></s:Envelope>"#;
    assert!(matches!(
        error_of(SOAP, body.as_bytes()),
        DecodeError::MissingBody
    ));
}

#[test]
fn truncated_multipart_is_refused() {
    let (content_type, body) = mtom("b1", "<root@x>", XOP_DOC, &[("doc1@x", b"hello")], false);
    let error = error_of(&content_type, &body);
    assert!(
        matches!(error, DecodeError::Mime(MimeError::Truncated { part: 2 })),
        "{error:?}"
    );
    assert_eq!(error.class(), ErrorClass::SenderFault);
    // Cut inside the root part.
    let (content_type, body) = mtom("b1", "<root@x>", XOP_DOC, &[("doc1@x", b"hello")], true);
    let cut = &body[..body.len() / 3];
    let error = error_of(&content_type, cut);
    assert!(
        matches!(error, DecodeError::Mime(MimeError::Truncated { part: 1 })),
        "{error:?}"
    );
}

#[test]
fn missing_root_part_is_refused() {
    let (content_type, body) = mtom(
        "b1",
        "<elsewhere@x>",
        XOP_DOC,
        &[("doc1@x", b"hello")],
        true,
    );
    let error = error_of(&content_type, &body);
    assert!(
        matches!(&error, DecodeError::Mime(MimeError::MissingRoot { start }) if start == "elsewhere@x"),
        "{error:?}"
    );
    let error = error_of("multipart/related; type=\"application/xop+xml\"", &body);
    assert!(
        matches!(error, DecodeError::Mime(MimeError::MissingBoundary)),
        "{error:?}"
    );
}

#[test]
fn xop_include_to_an_absent_cid_is_a_missing_document() {
    let (content_type, body) = mtom("b1", "<root@x>", XOP_DOC, &[("other@x", b"hello")], true);
    let error = error_of(&content_type, &body);
    match &error {
        DecodeError::MissingAttachment { cid, location } => {
            assert_eq!(cid, "doc1@x");
            assert!(location.contains("Document[@id=Doc1]"), "{location}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(error.class(), ErrorClass::MissingDocument);
    // A Simple SOAP message cannot carry parts at all.
    let body = envelope(&format!(
        r#"<xds:ProvideAndRegisterDocumentSetRequest xmlns:xds="urn:ihe:iti:xds-b:2007">{SUBMIT}{XOP_DOC}</xds:ProvideAndRegisterDocumentSetRequest>"#
    ));
    assert!(matches!(
        error_of(SOAP, body.as_bytes()),
        DecodeError::MissingAttachment { .. }
    ));
}

#[test]
fn bad_base64_is_refused() {
    for (content, fragment) in [
        ("SGVsbG8*", "not a base64 character"),
        ("QQ==QUJD", "after '=' padding"),
        ("QUJDR", "whole number"),
    ] {
        let document = format!(r#"<xds:Document id="Doc1">{content}</xds:Document>"#);
        let (content_type, body) = mtom("b1", "<root@x>", &document, &[], true);
        let error = error_of(&content_type, &body);
        match &error {
            DecodeError::Base64 { message, .. } => assert!(message.contains(fragment), "{message}"),
            other => panic!("{content}: {other:?}"),
        }
        assert_eq!(error.class(), ErrorClass::Metadata);
    }
    // Inline base64 with character references for line breaks is fine.
    let document = r#"<xds:Document id="Doc1">aGVs&#13;&#10;bG8=</xds:Document>"#;
    let (content_type, body) = mtom("b1", "<root@x>", document, &[], true);
    let Body::ProvideAndRegister(request) = decode(&content_type, &body).unwrap().envelope.body
    else {
        panic!()
    };
    assert_eq!(request.documents[0].content.handle, b"hello");
}

#[test]
fn parts_over_the_size_limit_are_refused() {
    let limits = Limits {
        max_attachment_bytes: 4,
        ..Limits::default()
    };
    let (content_type, body) = mtom("b1", "<root@x>", XOP_DOC, &[("doc1@x", b"hello")], true);
    let error = decode_with(&content_type, &body, &limits).unwrap_err();
    assert!(
        matches!(&error, DecodeError::AttachmentTooLarge { limit: 4, what } if what.contains("doc1@x")),
        "{error:?}"
    );
    assert_eq!(error.class(), ErrorClass::TooLarge);
    // The same limit applies to inline content.
    let (content_type, body) = mtom(
        "b1",
        "<root@x>",
        r#"<xds:Document id="Doc1">aGVsbG8=</xds:Document>"#,
        &[],
        true,
    );
    let error = decode_with(&content_type, &body, &limits).unwrap_err();
    assert!(
        matches!(&error, DecodeError::AttachmentTooLarge { limit: 4, what } if what.contains("Doc1")),
        "{error:?}"
    );
    // Envelope and message limits.
    let limits = Limits {
        max_envelope_bytes: 100,
        ..Limits::default()
    };
    let (content_type, body) = mtom("b1", "<root@x>", XOP_DOC, &[("doc1@x", b"hello")], true);
    assert!(matches!(
        decode_with(&content_type, &body, &limits).unwrap_err(),
        DecodeError::EnvelopeTooLarge { limit: 100 }
    ));
    let limits = Limits {
        max_message_bytes: 200,
        ..Limits::default()
    };
    assert!(matches!(
        decode_with(&content_type, &body, &limits).unwrap_err(),
        DecodeError::MessageTooLarge { limit: 200 }
    ));
    assert!(matches!(
        decode_with(SOAP, envelope(SUBMIT).as_bytes(), &limits).unwrap_err(),
        DecodeError::MessageTooLarge { limit: 200 }
    ));
    let limits = Limits {
        max_depth: 3,
        ..Limits::default()
    };
    assert!(matches!(
        decode_with(SOAP, envelope(SUBMIT).as_bytes(), &limits).unwrap_err(),
        DecodeError::TooDeep { limit: 3, .. }
    ));
}

#[test]
fn doctype_and_entities_are_refused() {
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&lol2;</s:Body></s:Envelope>"#;
    let error = error_of(SOAP, laughs.as_bytes());
    assert!(matches!(error, DecodeError::DocType { .. }), "{error:?}");
    assert_eq!(error.class(), ErrorClass::SenderFault);
    let external = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>&xxe;</s:Body></s:Envelope>"#;
    assert!(matches!(
        error_of(SOAP, external.as_bytes()),
        DecodeError::DocType { .. }
    ));
    // Without a DOCTYPE, an entity reference has nothing to refer to.
    let body = envelope(&SUBMIT.replace(
        "<rim:RegistryObjectList/>",
        "<rim:RegistryObjectList/>&xxe;",
    ));
    assert!(
        matches!(error_of(SOAP, body.as_bytes()), DecodeError::UndefinedEntity { name, .. } if name == "xxe")
    );
    // Other encodings than UTF-8 are refused by name.
    let latin = envelope(SUBMIT).replace("encoding=\"UTF-8\"", "encoding=\"ISO-8859-1\"");
    assert!(
        matches!(error_of(SOAP, latin.as_bytes()), DecodeError::Encoding { declared } if declared == "ISO-8859-1")
    );
}

#[test]
fn unsupported_content_types_and_duplicate_parts_are_refused() {
    assert!(matches!(
        error_of("application/json", b"{}"),
        DecodeError::Mime(MimeError::UnsupportedContentType(_))
    ));
    let (content_type, body) = mtom(
        "b1",
        "<root@x>",
        XOP_DOC,
        &[("doc1@x", b"a"), ("doc1@x", b"b")],
        true,
    );
    assert!(
        matches!(error_of(&content_type, &body), DecodeError::Mime(MimeError::DuplicateContentId(cid)) if cid == "doc1@x")
    );
}

/// A sink that fails on its second write and records aborts.
#[derive(Default)]
struct FailingSink {
    writes: usize,
    aborted: usize,
}

impl AttachmentSink for FailingSink {
    type Handle = ();
    fn begin(&mut self, _info: &AttachmentInfo<'_>) -> Result<(), SinkError> {
        Ok(())
    }
    fn write(&mut self, _chunk: &[u8]) -> Result<(), SinkError> {
        self.writes += 1;
        if self.writes > 1 {
            Err(SinkError("disk full".to_owned()))
        } else {
            Ok(())
        }
    }
    fn finish(&mut self) -> Result<(), SinkError> {
        Ok(())
    }
    fn abort(&mut self) {
        self.aborted += 1;
    }
}

#[test]
fn a_failing_sink_aborts_the_attachment() {
    let big = vec![b'x'; 300_000];
    let (content_type, body) = mtom("b1", "<root@x>", XOP_DOC, &[("doc1@x", &big)], true);
    let mut sink = FailingSink::default();
    let error =
        wire::decode_message(&content_type, &body[..], &Limits::default(), &mut sink).unwrap_err();
    assert!(
        matches!(&error, DecodeError::Sink(message) if message == "disk full"),
        "{error:?}"
    );
    assert_eq!(error.class(), ErrorClass::Internal);
    assert_eq!(sink.aborted, 1);
}

/// A source that produces a large MTOM package lazily and records how much was read.
struct LazyPackage {
    prefix: Vec<u8>,
    size: u64,
    produced: u64,
    suffix: Vec<u8>,
    position: u64,
    read_so_far: std::rc::Rc<std::cell::Cell<u64>>,
}

impl Read for LazyPackage {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let total = self.prefix.len() as u64 + self.size + self.suffix.len() as u64;
        if self.position >= total {
            return Ok(0);
        }
        let mut written = 0;
        while written < out.len() && self.position < total {
            let prefix = self.prefix.len() as u64;
            let byte = if self.position < prefix {
                self.prefix[self.position as usize]
            } else if self.position < prefix + self.size {
                self.produced += 1;
                b'a' + (self.produced % 26) as u8
            } else {
                self.suffix[(self.position - prefix - self.size) as usize]
            };
            out[written] = byte;
            written += 1;
            self.position += 1;
        }
        self.read_so_far.set(self.position);
        Ok(written)
    }
}

/// Records the input position when the first attachment byte arrives.
struct ProbeSink {
    read_so_far: std::rc::Rc<std::cell::Cell<u64>>,
    first_write_at: Option<u64>,
    bytes: u64,
}

impl AttachmentSink for ProbeSink {
    type Handle = u64;
    fn begin(&mut self, _info: &AttachmentInfo<'_>) -> Result<(), SinkError> {
        Ok(())
    }
    fn write(&mut self, chunk: &[u8]) -> Result<(), SinkError> {
        self.first_write_at.get_or_insert(self.read_so_far.get());
        self.bytes += chunk.len() as u64;
        Ok(())
    }
    fn finish(&mut self) -> Result<u64, SinkError> {
        Ok(self.bytes)
    }
    fn abort(&mut self) {}
}

#[test]
fn attachments_stream_to_the_sink_before_the_message_is_read() {
    let (content_type, whole) = mtom("b1", "<root@x>", XOP_DOC, &[("doc1@x", b"")], true);
    let closing = b"\r\n--b1--\r\n";
    let prefix = whole[..whole.len() - closing.len()].to_vec();
    let size = 20 * 1024 * 1024;
    let read_so_far = std::rc::Rc::new(std::cell::Cell::new(0));
    let source = LazyPackage {
        prefix,
        size,
        produced: 0,
        suffix: closing.to_vec(),
        position: 0,
        read_so_far: read_so_far.clone(),
    };
    let mut sink = ProbeSink {
        read_so_far,
        first_write_at: None,
        bytes: 0,
    };
    let message =
        wire::decode_message(&content_type, source, &Limits::default(), &mut sink).unwrap();
    let Body::ProvideAndRegister(request) = message.envelope.body else {
        panic!()
    };
    assert_eq!(request.documents[0].content.size, size);
    let first = sink.first_write_at.unwrap();
    assert!(
        first < 1024 * 1024,
        "the first attachment bytes reached the sink only after {first} bytes were read"
    );
    // And a counting sink sees exactly the content.
    let (content_type, body) = mtom(
        "b1",
        "<root@x>",
        XOP_DOC,
        &[("doc1@x", b"0123456789")],
        true,
    );
    let message = wire::decode_message(
        &content_type,
        &body[..],
        &Limits::default(),
        &mut CountingSink::default(),
    )
    .unwrap();
    let Body::ProvideAndRegister(request) = message.envelope.body else {
        panic!()
    };
    assert_eq!(request.documents[0].content.handle, 10);
}

#[test]
fn header_blocks_are_read_and_ws_security_is_kept_raw() {
    let body = r#"<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:a="http://www.w3.org/2005/08/addressing" xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">
 <s:Header>
  <a:Action s:mustUnderstand="true">urn:ihe:iti:2007:RegistryStoredQuery</a:Action>
  <a:MessageID>urn:uuid:42</a:MessageID>
  <a:ReplyTo><a:Address>http://www.w3.org/2005/08/addressing/anonymous</a:Address></a:ReplyTo>
  <wsse:Security s:mustUnderstand="1"><saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1"><saml2:Issuer>CN=x &amp; y</saml2:Issuer><!-- kept --></saml2:Assertion></wsse:Security>
  <x:Unknown xmlns:x="urn:example" s:mustUnderstand="1"/>
  <x:Optional xmlns:x="urn:example"/>
 </s:Header>
 <s:Body><rs:RegistryResponse xmlns:rs="urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0" status="urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success"/></s:Body>
</s:Envelope>"#;
    let message = decode(SOAP, body.as_bytes()).unwrap();
    let header = message.envelope.header;
    assert_eq!(
        header.action.as_deref(),
        Some("urn:ihe:iti:2007:RegistryStoredQuery")
    );
    assert!(header.action_must_understand);
    let security = header.security.unwrap();
    assert_eq!(
        security.xml,
        r#"<wsse:Security s:mustUnderstand="1"><saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="_a1"><saml2:Issuer>CN=x &amp; y</saml2:Issuer><!-- kept --></saml2:Assertion></wsse:Security>"#
    );
    assert!(security.namespaces.contains(&(
        "s".to_owned(),
        "http://www.w3.org/2003/05/soap-envelope".to_owned()
    )));
    assert!(
        security
            .namespaces
            .iter()
            .any(|(prefix, _)| prefix == "wsse")
    );
    assert_eq!(header.not_understood.len(), 1);
    assert_eq!(header.not_understood[0].qname, "x:Unknown");
    // Re-emitted, the captured header stands on its own with its namespaces declared.
    let envelope = wire::write_envelope(
        &wire::Header {
            security: Some(security),
            ..wire::Header::default()
        },
        &Body::RegistryResponse(wire::RegistryResponse {
            status: Some("s".into()),
            ..Default::default()
        }),
    );
    let again = decode(SOAP, envelope.as_bytes()).unwrap();
    assert!(
        again
            .envelope
            .header
            .security
            .unwrap()
            .xml
            .contains("xmlns:wsse=")
    );
}

#[test]
fn character_references_to_illegal_characters_are_refused() {
    let body =
        envelope(&SUBMIT.replace("<rim:RegistryObjectList/>", "<rim:RegistryObjectList/>&#1;"));
    assert!(
        matches!(error_of(SOAP, body.as_bytes()), DecodeError::UndefinedEntity { name, .. } if name == "#1")
    );
    let body = envelope(&SUBMIT.replace(
        "<rim:RegistryObjectList/>",
        "&#x20;<rim:RegistryObjectList/>",
    ));
    assert!(
        decode(SOAP, body.as_bytes()).is_ok(),
        "a legal reference is fine"
    );
}

#[test]
fn illegal_characters_in_attributes_are_refused() {
    let body = envelope(&SUBMIT.replace(
        "SubmitObjectsRequest xmlns",
        "SubmitObjectsRequest comment=\"a&#0;b\" xmlns",
    ));
    let error = error_of(SOAP, body.as_bytes());
    assert!(
        matches!(error, DecodeError::UndefinedEntity { .. }),
        "{error:?}"
    );
    let body = envelope(&SUBMIT.replace(
        "SubmitObjectsRequest xmlns",
        "SubmitObjectsRequest comment=\"a&#2;b\" xmlns",
    ));
    assert!(matches!(
        error_of(SOAP, body.as_bytes()),
        DecodeError::UndefinedEntity { .. }
    ));
}

#[test]
fn raw_illegal_characters_in_text_are_refused() {
    let body = envelope(&SUBMIT.replace(
        "<rim:RegistryObjectList/>",
        "\u{1}<rim:RegistryObjectList/>",
    ));
    let error = error_of(SOAP, body.as_bytes());
    assert!(
        matches!(
            error,
            DecodeError::UndefinedEntity { .. } | DecodeError::Xml { .. }
        ),
        "{error:?}"
    );
}

#[test]
fn a_package_written_from_readers_decodes_to_the_same_bytes() {
    let writer = wire::MultipartWriter::new(wire::MultipartWriter::boundary_from_random([3u8; 16]));
    let document: Vec<u8> = (0..200_000u32)
        .map(|index| (index * 7 % 256) as u8)
        .collect();
    let envelope = envelope(&format!(
        r#"<xds:ProvideAndRegisterDocumentSetRequest xmlns:xds="urn:ihe:iti:xds-b:2007">{SUBMIT}{XOP_DOC}</xds:ProvideAndRegisterDocumentSetRequest>"#
    ));
    let mut package = Vec::new();
    let written = writer
        .write_package(
            &mut package,
            "root@x",
            envelope.as_bytes(),
            [wire::OutgoingPart {
                content_id: "doc1@x".to_owned(),
                content_type: "application/octet-stream".to_owned(),
                body: &document[..],
            }],
        )
        .unwrap();
    assert_eq!(written, package.len() as u64);
    let message = decode(&writer.content_type("root@x", None), &package).unwrap();
    let Body::ProvideAndRegister(request) = message.envelope.body else {
        panic!()
    };
    assert_eq!(request.documents[0].content.handle, document);
    assert_eq!(
        request.documents[0].content.content_type.as_deref(),
        Some("application/octet-stream")
    );
}

#[test]
fn an_extension_body_is_kept_whole_and_an_unknown_one_refused() {
    let envelope = |body: &str| {
        format!(
            "<soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\"><soap:Body>{body}</soap:Body></soap:Envelope>"
        )
    };
    let extension = "<a:getDmp xmlns:a=\"urn:xds:dmp:access:2026\"><a:patient>1^^^&amp;1.2&amp;ISO</a:patient></a:getDmp>";
    let decoded = wire::decode_message(
        "application/soap+xml",
        envelope(extension).as_bytes(),
        &Limits::default(),
        &mut MemorySink::default(),
    )
    .expect("an extension body decodes");
    match decoded.envelope.body {
        Body::Extension(raw) => {
            assert_eq!(raw.xml, extension);
            let element = wire::dom::parse(&raw).expect("a tree");
            assert_eq!(element.local, "getDmp");
            assert_eq!(element.namespace, "urn:xds:dmp:access:2026");
        }
        other => panic!("{}", other.element_name()),
    }
    let unknown = wire::decode_message(
        "application/soap+xml",
        envelope("<x:thing xmlns:x=\"urn:other\"/>").as_bytes(),
        &Limits::default(),
        &mut MemorySink::default(),
    );
    assert!(unknown.is_err());
}
