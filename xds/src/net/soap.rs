//! SOAP 1.2 answers ready to send: faults, envelopes as Simple SOAP or as a one-part MTOM
//! package, and the random identifiers they need.

use hyper::{Response, StatusCode};

use crate::transaction::Transaction;
use crate::wire::{self, Body, Fault, FaultCode, Header, MultipartWriter, OutContent};

use super::http::{ResponseBody, full, response};

/// The Content-Type of a Simple SOAP 1.2 message.
pub const SOAP_CONTENT_TYPE: &str = "application/soap+xml; charset=UTF-8";

/// An HTTP answer held whole in memory (everything but retrieved documents).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl HttpAnswer {
    pub fn into_response(self) -> Response<ResponseBody> {
        response(
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            &self.content_type,
            full(self.body),
        )
    }
}

/// 16 random bytes (the operating system's generator; the clock if it fails, which only
/// weakens uniqueness of message ids and MIME boundaries).
pub fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        bytes = nanos.to_be_bytes();
    }
    bytes
}

/// A fresh `urn:uuid:` (version 4), for wsa:MessageID.
pub fn random_uuid_urn() -> String {
    crate::model::Uuid::new_v4(random_bytes()).to_string()
}

/// A SOAP fault answer (fault Action of WS-Addressing).
pub fn fault(
    code: FaultCode,
    subcode: Option<&str>,
    reason: impl Into<String>,
    relates_to: Option<String>,
) -> HttpAnswer {
    let header = Header {
        action: Some(wire::names::WSA_FAULT_ACTION.to_owned()),
        message_id: Some(random_uuid_urn()),
        relates_to,
        ..Header::default()
    };
    let body = Body::Fault(Fault {
        code,
        subcodes: subcode.map(str::to_owned).into_iter().collect(),
        reason: reason.into(),
        reason_lang: Some("en".to_owned()),
        detail: None,
    });
    HttpAnswer {
        status: code.http_status(),
        content_type: SOAP_CONTENT_TYPE.to_owned(),
        body: wire::write_envelope(&header, &body).into_bytes(),
    }
}

/// The envelope of an answer with `action`, as Simple SOAP or, when `mtom`, as the root part
/// of a one-part MTOM package (an MTOM request gets an MTOM answer).
pub fn envelope_answer(
    action: &str,
    relates_to: Option<String>,
    body: &Body<OutContent>,
    mtom: bool,
    root_content_id: &str,
) -> HttpAnswer {
    let header = Header {
        action: Some(action.to_owned()),
        message_id: Some(random_uuid_urn()),
        relates_to,
        ..Header::default()
    };
    let envelope = wire::write_envelope(&header, body);
    if !mtom {
        return HttpAnswer {
            status: 200,
            content_type: format!("{SOAP_CONTENT_TYPE}; action=\"{action}\""),
            body: envelope.into_bytes(),
        };
    }
    let writer = MultipartWriter::new(MultipartWriter::boundary_from_random(random_bytes()));
    let mut out = writer.root_part_header(root_content_id);
    out.extend_from_slice(envelope.as_bytes());
    out.extend_from_slice(&writer.closing());
    HttpAnswer {
        status: 200,
        content_type: writer.content_type(root_content_id, Some(action)),
        body: out,
    }
}

/// The `action` parameter of a Content-Type, if any (SOAP 1.2 HTTP binding).
pub fn content_type_action(content_type: &str) -> Option<String> {
    let parsed = wire::ContentType::parse(content_type).ok()?;
    parsed.param("action").map(str::to_owned)
}

/// Checks the addressing of a decoded request against the transactions an endpoint serves:
/// no unprocessed mustUnderstand header, a wsa:Action, one of `served`. Otherwise the fault
/// to answer (xds-spec-brief.md §1.4).
pub fn served_transaction(
    header: &Header,
    served: &[Transaction],
    actor: &str,
) -> Result<Transaction, HttpAnswer> {
    let relates_to = header.message_id.clone();
    if let Some(block) = header.not_understood.first() {
        return Err(fault(
            FaultCode::MustUnderstand,
            None,
            format!(
                "header block {} ({}) is marked mustUnderstand and is not understood here",
                block.qname, block.namespace
            ),
            relates_to,
        ));
    }
    let Some(action) = header.action.as_deref() else {
        return Err(fault(
            FaultCode::Sender,
            Some("wsa:MessageAddressingHeaderRequired"),
            "the wsa:Action header is required",
            relates_to,
        ));
    };
    match Transaction::from_action(action) {
        Some(transaction) if served.contains(&transaction) => Ok(transaction),
        Some(other) => Err(fault(
            FaultCode::Sender,
            Some("wsa:ActionNotSupported"),
            format!("{} ({action}) is not served at this endpoint", other.id()),
            relates_to,
        )),
        None => Err(fault(
            FaultCode::Sender,
            Some("wsa:ActionNotSupported"),
            format!("action {action:?} is not supported by this {actor}"),
            relates_to,
        )),
    }
}

/// The fault for a body that does not belong to the request's action.
pub fn body_mismatch<C>(
    transaction: Transaction,
    body: &Body<C>,
    relates_to: Option<String>,
) -> HttpAnswer {
    fault(
        FaultCode::Sender,
        None,
        format!(
            "the action {} ({}) needs a {} body, not {}",
            transaction.action(),
            transaction.id(),
            transaction.request_element().1,
            body.element_name()
        ),
        relates_to,
    )
}
