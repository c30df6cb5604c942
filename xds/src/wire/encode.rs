//! Writers for the SOAP envelope and every body element, in schema order with conventional
//! prefixes (`soap`, `wsa`, `rim`, `rs`, `lcm`, `query`, `xds`, `rmd`, `xop`). The output is
//! checked against the ebRS 3.0 / XDS.b / RMD / SOAP 1.2 schemas by tests.

use super::names::*;
use super::types::*;
use super::xml::RawXml;

/// How a document's content is written into `xds:Document`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutContent {
    /// `xop:Include href="cid:..."`; the bytes travel in a MIME part.
    Xop { cid: String },
    /// Inline base64 of these bytes.
    Inline(Vec<u8>),
}

/// A minimal XML text builder with correct escaping.
#[derive(Debug, Default)]
pub struct XmlWriter {
    out: String,
}

impl XmlWriter {
    pub fn new() -> Self {
        Self {
            out: String::with_capacity(4096),
        }
    }

    /// A writer whose buffer starts at `capacity` bytes (large answers grow it less often).
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            out: String::with_capacity(capacity),
        }
    }

    pub fn into_string(self) -> String {
        self.out
    }

    pub fn as_str(&self) -> &str {
        &self.out
    }

    /// Writes `<name`; follow with attributes and [`XmlWriter::close`] or [`XmlWriter::close_empty`].
    pub fn open(&mut self, name: &str) -> &mut Self {
        self.out.push('<');
        self.out.push_str(name);
        self
    }

    pub fn attr(&mut self, name: &str, value: &str) -> &mut Self {
        self.out.push(' ');
        self.out.push_str(name);
        self.out.push_str("=\"");
        escape_attribute(value, &mut self.out);
        self.out.push('"');
        self
    }

    pub fn attr_opt(&mut self, name: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.attr(name, value);
        }
        self
    }

    pub fn close(&mut self) -> &mut Self {
        self.out.push('>');
        self
    }

    pub fn close_empty(&mut self) -> &mut Self {
        self.out.push_str("/>");
        self
    }

    pub fn end(&mut self, name: &str) -> &mut Self {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push('>');
        self
    }

    pub fn text(&mut self, text: &str) -> &mut Self {
        escape_text(text, &mut self.out);
        self
    }

    /// `<name>text</name>`.
    pub fn text_element(&mut self, name: &str, text: &str) -> &mut Self {
        self.open(name).close().text(text).end(name)
    }

    /// `<name>text</name>` when there is a value; nothing otherwise.
    pub fn text_element_opt(&mut self, name: &str, text: Option<&str>) -> &mut Self {
        if let Some(text) = text {
            self.text_element(name, text);
        }
        self
    }

    pub fn raw(&mut self, xml: &str) -> &mut Self {
        self.out.push_str(xml);
        self
    }
}

/// Escape classes of each byte: bit 0 when attribute values escape it, bit 1 when text does.
const ESCAPE_IN_ATTRIBUTE: u8 = 1;
const ESCAPE_IN_TEXT: u8 = 2;
static ESCAPE_CLASS: [u8; 256] = {
    let mut table = [0u8; 256];
    table[b'&' as usize] = ESCAPE_IN_ATTRIBUTE | ESCAPE_IN_TEXT;
    table[b'<' as usize] = ESCAPE_IN_ATTRIBUTE | ESCAPE_IN_TEXT;
    table[b'>' as usize] = ESCAPE_IN_ATTRIBUTE | ESCAPE_IN_TEXT;
    table[b'\r' as usize] = ESCAPE_IN_ATTRIBUTE | ESCAPE_IN_TEXT;
    table[b'"' as usize] = ESCAPE_IN_ATTRIBUTE;
    // Character references keep these through attribute-value normalization.
    table[b'\t' as usize] = ESCAPE_IN_ATTRIBUTE;
    table[b'\n' as usize] = ESCAPE_IN_ATTRIBUTE;
    table
};

fn replacement(byte: u8) -> &'static str {
    match byte {
        b'&' => "&amp;",
        b'<' => "&lt;",
        b'>' => "&gt;",
        b'"' => "&quot;",
        b'\t' => "&#9;",
        b'\n' => "&#10;",
        _ => "&#13;",
    }
}

/// Copies `value` into `out`, replacing each byte whose class has `mask`. Every escaped
/// character is ASCII, so the clean runs between them are copied whole (byte positions of
/// ASCII characters are always char boundaries); a value without any is one copy.
#[inline]
fn escape_with(value: &str, out: &mut String, mask: u8) {
    let bytes = value.as_bytes();
    let Some(first) = bytes
        .iter()
        .position(|&byte| ESCAPE_CLASS[usize::from(byte)] & mask != 0)
    else {
        out.push_str(value);
        return;
    };
    out.reserve(value.len() + 8);
    let mut clean_from = 0;
    for (index, &byte) in bytes.iter().enumerate().skip(first) {
        if ESCAPE_CLASS[usize::from(byte)] & mask != 0 {
            out.push_str(&value[clean_from..index]);
            out.push_str(replacement(byte));
            clean_from = index + 1;
        }
    }
    out.push_str(&value[clean_from..]);
}

fn escape_attribute(value: &str, out: &mut String) {
    escape_with(value, out, ESCAPE_IN_ATTRIBUTE);
}

fn escape_text(value: &str, out: &mut String) {
    escape_with(value, out, ESCAPE_IN_TEXT);
}

fn write_slot(writer: &mut XmlWriter, slot: &Slot) {
    writer
        .open("rim:Slot")
        .attr_opt("name", slot.name.as_deref())
        .attr_opt("slotType", slot.slot_type.as_deref())
        .close()
        .open("rim:ValueList")
        .close();
    for value in &slot.values {
        writer.text_element("rim:Value", value);
    }
    writer.end("rim:ValueList").end("rim:Slot");
}

fn write_international(writer: &mut XmlWriter, name: &str, strings: &[LocalizedString]) {
    writer.open(name).close();
    for string in strings {
        writer
            .open("rim:LocalizedString")
            .attr_opt("xml:lang", string.lang.as_deref())
            .attr_opt("charset", string.charset.as_deref())
            .attr_opt("value", string.value.as_deref())
            .close_empty();
    }
    writer.end(name);
}

fn write_object_attrs(writer: &mut XmlWriter, object: &RegistryObject) {
    writer
        .attr_opt("id", object.id.as_deref())
        .attr_opt("home", object.home.as_deref())
        .attr_opt("lid", object.lid.as_deref())
        .attr_opt("objectType", object.object_type.as_deref())
        .attr_opt("status", object.status.as_deref());
}

fn write_version_info(writer: &mut XmlWriter, name: &str, info: &VersionInfo) {
    writer
        .open(name)
        .attr_opt("versionName", info.version_name.as_deref())
        .attr_opt("comment", info.comment.as_deref())
        .close_empty();
}

fn has_object_children(object: &RegistryObject) -> bool {
    !object.slots.is_empty()
        || object.name.is_some()
        || object.description.is_some()
        || object.version_info.is_some()
        || !object.classifications.is_empty()
        || !object.external_identifiers.is_empty()
}

/// Writes the schema-ordered children of a RegistryObject.
fn write_object_children(writer: &mut XmlWriter, object: &RegistryObject) {
    for slot in &object.slots {
        write_slot(writer, slot);
    }
    if let Some(name) = &object.name {
        write_international(writer, "rim:Name", name);
    }
    if let Some(description) = &object.description {
        write_international(writer, "rim:Description", description);
    }
    if let Some(info) = &object.version_info {
        write_version_info(writer, "rim:VersionInfo", info);
    }
    for classification in &object.classifications {
        write_classification(writer, classification);
    }
    for identifier in &object.external_identifiers {
        write_external_identifier(writer, identifier);
    }
}

fn write_classification(writer: &mut XmlWriter, classification: &Classification) {
    writer.open("rim:Classification");
    write_object_attrs(writer, &classification.object);
    writer
        .attr_opt(
            "classificationScheme",
            classification.classification_scheme.as_deref(),
        )
        .attr_opt(
            "classifiedObject",
            classification.classified_object.as_deref(),
        )
        .attr_opt(
            "classificationNode",
            classification.classification_node.as_deref(),
        )
        .attr_opt(
            "nodeRepresentation",
            classification.node_representation.as_deref(),
        );
    finish_object(writer, "rim:Classification", &classification.object);
}

fn write_external_identifier(writer: &mut XmlWriter, identifier: &ExternalIdentifier) {
    writer.open("rim:ExternalIdentifier");
    write_object_attrs(writer, &identifier.object);
    writer
        .attr_opt("registryObject", identifier.registry_object.as_deref())
        .attr_opt(
            "identificationScheme",
            identifier.identification_scheme.as_deref(),
        )
        .attr_opt("value", identifier.value.as_deref());
    finish_object(writer, "rim:ExternalIdentifier", &identifier.object);
}

fn finish_object(writer: &mut XmlWriter, name: &str, object: &RegistryObject) {
    if has_object_children(object) {
        writer.close();
        write_object_children(writer, object);
        writer.end(name);
    } else {
        writer.close_empty();
    }
}

fn write_object_ref(writer: &mut XmlWriter, object_ref: &ObjectRef) {
    writer
        .open("rim:ObjectRef")
        .attr_opt("id", object_ref.id.as_deref())
        .attr_opt("home", object_ref.home.as_deref())
        .attr_opt("createReplica", object_ref.create_replica.as_deref());
    if object_ref.slots.is_empty() {
        writer.close_empty();
    } else {
        writer.close();
        for slot in &object_ref.slots {
            write_slot(writer, slot);
        }
        writer.end("rim:ObjectRef");
    }
}

pub(crate) fn write_identifiable(writer: &mut XmlWriter, object: &Identifiable) {
    match object {
        Identifiable::ExtrinsicObject(extrinsic) => {
            writer.open("rim:ExtrinsicObject");
            write_object_attrs(writer, &extrinsic.object);
            writer
                .attr_opt("mimeType", extrinsic.mime_type.as_deref())
                .attr_opt("isOpaque", extrinsic.is_opaque.as_deref());
            if has_object_children(&extrinsic.object) || extrinsic.content_version_info.is_some() {
                writer.close();
                write_object_children(writer, &extrinsic.object);
                if let Some(info) = &extrinsic.content_version_info {
                    write_version_info(writer, "rim:ContentVersionInfo", info);
                }
                writer.end("rim:ExtrinsicObject");
            } else {
                writer.close_empty();
            }
        }
        Identifiable::RegistryPackage(package) => {
            writer.open("rim:RegistryPackage");
            write_object_attrs(writer, &package.object);
            finish_object(writer, "rim:RegistryPackage", &package.object);
        }
        Identifiable::Association(association) => {
            writer.open("rim:Association");
            write_object_attrs(writer, &association.object);
            writer
                .attr_opt("associationType", association.association_type.as_deref())
                .attr_opt("sourceObject", association.source_object.as_deref())
                .attr_opt("targetObject", association.target_object.as_deref());
            finish_object(writer, "rim:Association", &association.object);
        }
        Identifiable::Classification(classification) => {
            write_classification(writer, classification)
        }
        Identifiable::ExternalIdentifier(identifier) => {
            write_external_identifier(writer, identifier)
        }
        Identifiable::ObjectRef(object_ref) => write_object_ref(writer, object_ref),
    }
}

pub(crate) fn write_registry_object_list(writer: &mut XmlWriter, objects: &[Identifiable]) {
    if objects.is_empty() {
        writer.open("rim:RegistryObjectList").close_empty();
        return;
    }
    writer.open("rim:RegistryObjectList").close();
    for object in objects {
        write_identifiable(writer, object);
    }
    writer.end("rim:RegistryObjectList");
}

fn write_request_attrs(writer: &mut XmlWriter, header: &RequestHeader) {
    writer
        .attr_opt("id", header.id.as_deref())
        .attr_opt("comment", header.comment.as_deref());
}

fn write_slot_list(writer: &mut XmlWriter, name: &str, slots: &Option<Vec<Slot>>) {
    if let Some(slots) = slots {
        writer.open(name).close();
        for slot in slots {
            write_slot(writer, slot);
        }
        writer.end(name);
    }
}

fn write_submit_objects(writer: &mut XmlWriter, request: &SubmitObjectsRequest, declare: bool) {
    writer.open("lcm:SubmitObjectsRequest");
    if declare {
        writer
            .attr("xmlns:lcm", NS_LCM)
            .attr("xmlns:rim", NS_RIM)
            .attr("xmlns:rs", NS_RS);
    }
    write_request_attrs(writer, &request.header);
    writer.close();
    write_slot_list(writer, "rs:RequestSlotList", &request.header.request_slots);
    write_registry_object_list(writer, &request.objects);
    writer.end("lcm:SubmitObjectsRequest");
}

fn write_content(writer: &mut XmlWriter, content: &OutContent) {
    match content {
        OutContent::Xop { cid } => {
            writer
                .open("xop:Include")
                .attr("xmlns:xop", NS_XOP)
                .attr("href", &format!("cid:{cid}"))
                .close_empty();
        }
        OutContent::Inline(bytes) => {
            use base64::Engine;
            let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
            writer.raw(&encoded);
        }
    }
}

fn write_error_list(writer: &mut XmlWriter, list: &RegistryErrorList) {
    writer
        .open("rs:RegistryErrorList")
        .attr_opt("highestSeverity", list.highest_severity.as_deref())
        .close();
    for error in &list.errors {
        writer
            .open("rs:RegistryError")
            .attr_opt("codeContext", error.code_context.as_deref())
            .attr_opt("errorCode", error.error_code.as_deref())
            .attr_opt("severity", error.severity.as_deref())
            .attr_opt("location", error.location.as_deref());
        if error.text.is_empty() {
            writer.close_empty();
        } else {
            writer.close().text(&error.text).end("rs:RegistryError");
        }
    }
    writer.end("rs:RegistryErrorList");
}

fn write_response_attrs(writer: &mut XmlWriter, response: &RegistryResponse) {
    writer
        .attr_opt("status", response.status.as_deref())
        .attr_opt("requestId", response.request_id.as_deref());
}

fn write_response_children(writer: &mut XmlWriter, response: &RegistryResponse) {
    write_slot_list(writer, "rs:ResponseSlotList", &response.response_slots);
    if let Some(errors) = &response.errors {
        write_error_list(writer, errors);
    }
}

fn write_registry_response(writer: &mut XmlWriter, response: &RegistryResponse, declare: bool) {
    writer.open("rs:RegistryResponse");
    if declare {
        writer.attr("xmlns:rs", NS_RS).attr("xmlns:rim", NS_RIM);
    }
    write_response_attrs(writer, response);
    if response.response_slots.is_none() && response.errors.is_none() {
        writer.close_empty();
    } else {
        writer.close();
        write_response_children(writer, response);
        writer.end("rs:RegistryResponse");
    }
}

fn write_adhoc_query(writer: &mut XmlWriter, query: &AdhocQuery) {
    writer.open("rim:AdhocQuery");
    write_object_attrs(writer, &query.object);
    if has_object_children(&query.object) || query.query_expression.is_some() {
        writer.close();
        write_object_children(writer, &query.object);
        if let Some((language, text)) = &query.query_expression {
            writer
                .open("rim:QueryExpression")
                .attr_opt("queryLanguage", language.as_deref())
                .close()
                .text(text)
                .end("rim:QueryExpression");
        }
        writer.end("rim:AdhocQuery");
    } else {
        writer.close_empty();
    }
}

fn write_document_request(writer: &mut XmlWriter, request: &DocumentRequest) {
    writer.open("xds:DocumentRequest").close();
    if let Some(home) = &request.home_community_id {
        writer.text_element("xds:HomeCommunityId", home);
    }
    writer.text_element_opt(
        "xds:RepositoryUniqueId",
        request.repository_unique_id.as_deref(),
    );
    writer.text_element_opt(
        "xds:DocumentUniqueId",
        request.document_unique_id.as_deref(),
    );
    writer.end("xds:DocumentRequest");
}

/// Writes a body element with its namespace declarations.
pub fn write_body(writer: &mut XmlWriter, body: &Body<OutContent>) {
    match body {
        Body::SubmitObjects(request) => write_submit_objects(writer, request, true),
        Body::ProvideAndRegister(request) => {
            writer
                .open("xds:ProvideAndRegisterDocumentSetRequest")
                .attr("xmlns:xds", NS_XDS)
                .attr("xmlns:lcm", NS_LCM)
                .attr("xmlns:rim", NS_RIM)
                .attr("xmlns:rs", NS_RS)
                .close();
            write_submit_objects(writer, &request.submit, false);
            for document in &request.documents {
                writer
                    .open("xds:Document")
                    .attr_opt("id", document.id.as_deref())
                    .close();
                write_content(writer, &document.content);
                writer.end("xds:Document");
            }
            writer.end("xds:ProvideAndRegisterDocumentSetRequest");
        }
        Body::AdhocQuery(request) => {
            writer
                .open("query:AdhocQueryRequest")
                .attr("xmlns:query", NS_QUERY)
                .attr("xmlns:rim", NS_RIM)
                .attr("xmlns:rs", NS_RS);
            write_request_attrs(writer, &request.header);
            writer
                .attr_opt("federated", request.federated.as_deref())
                .attr_opt("federation", request.federation.as_deref())
                .attr_opt("startIndex", request.start_index.as_deref())
                .attr_opt("maxResults", request.max_results.as_deref())
                .close();
            write_slot_list(writer, "rs:RequestSlotList", &request.header.request_slots);
            writer
                .open("query:ResponseOption")
                .attr_opt(
                    "returnComposedObjects",
                    request.return_composed_objects.as_deref(),
                )
                .attr_opt("returnType", request.return_type.as_deref())
                .close_empty();
            write_adhoc_query(writer, &request.query);
            writer.end("query:AdhocQueryRequest");
        }
        Body::Retrieve(request) => {
            writer
                .open("xds:RetrieveDocumentSetRequest")
                .attr("xmlns:xds", NS_XDS)
                .close();
            for document in &request.requests {
                write_document_request(writer, document);
            }
            writer.end("xds:RetrieveDocumentSetRequest");
        }
        Body::RemoveObjects(request) => {
            writer
                .open("lcm:RemoveObjectsRequest")
                .attr("xmlns:lcm", NS_LCM)
                .attr("xmlns:rim", NS_RIM)
                .attr("xmlns:rs", NS_RS);
            write_request_attrs(writer, &request.header);
            writer
                .attr_opt("deletionScope", request.deletion_scope.as_deref())
                .close();
            write_slot_list(writer, "rs:RequestSlotList", &request.header.request_slots);
            if let Some(query) = &request.query {
                write_adhoc_query(writer, query);
            }
            if let Some(refs) = &request.object_refs {
                writer.open("rim:ObjectRefList").close();
                for object_ref in refs {
                    write_object_ref(writer, object_ref);
                }
                writer.end("rim:ObjectRefList");
            }
            writer.end("lcm:RemoveObjectsRequest");
        }
        Body::RemoveDocuments(request) => {
            writer
                .open("rmd:RemoveDocumentsRequest")
                .attr("xmlns:rmd", NS_RMD)
                .attr("xmlns:xds", NS_XDS)
                .close();
            for document in &request.requests {
                write_document_request(writer, document);
            }
            writer.end("rmd:RemoveDocumentsRequest");
        }
        Body::RegistryResponse(response) => write_registry_response(writer, response, true),
        Body::AdhocQueryResponse(response) => {
            writer
                .open("query:AdhocQueryResponse")
                .attr("xmlns:query", NS_QUERY)
                .attr("xmlns:rim", NS_RIM)
                .attr("xmlns:rs", NS_RS);
            write_response_attrs(writer, &response.response);
            writer
                .attr_opt("startIndex", response.start_index.as_deref())
                .attr_opt("totalResultCount", response.total_result_count.as_deref())
                .close();
            write_response_children(writer, &response.response);
            // Required by the schema even on Failure (xds-spec-brief.md §10.5).
            write_registry_object_list(writer, &response.objects);
            writer.end("query:AdhocQueryResponse");
        }
        Body::RetrieveResponse(response) => {
            writer
                .open("xds:RetrieveDocumentSetResponse")
                .attr("xmlns:xds", NS_XDS)
                .attr("xmlns:rs", NS_RS)
                .attr("xmlns:rim", NS_RIM)
                .close();
            write_registry_response(writer, &response.response, false);
            for document in &response.documents {
                writer.open("xds:DocumentResponse").close();
                if let Some(home) = &document.home_community_id {
                    writer.text_element("xds:HomeCommunityId", home);
                }
                writer.text_element_opt(
                    "xds:RepositoryUniqueId",
                    document.repository_unique_id.as_deref(),
                );
                writer.text_element_opt(
                    "xds:DocumentUniqueId",
                    document.document_unique_id.as_deref(),
                );
                if let Some(value) = &document.new_repository_unique_id {
                    writer.text_element("xds:NewRepositoryUniqueId", value);
                }
                if let Some(value) = &document.new_document_unique_id {
                    writer.text_element("xds:NewDocumentUniqueId", value);
                }
                writer.text_element_opt("xds:mimeType", document.mime_type.as_deref());
                writer.open("xds:Document").close();
                write_content(writer, &document.document);
                writer.end("xds:Document");
                writer.end("xds:DocumentResponse");
            }
            writer.end("xds:RetrieveDocumentSetResponse");
        }
        Body::Fault(fault) => write_fault(writer, fault),
        Body::Extension(raw) => write_raw_with_namespaces(writer, raw),
    }
}

fn write_fault(writer: &mut XmlWriter, fault: &Fault) {
    writer
        .open("soap:Fault")
        .attr("xmlns:wsse", NS_WSSE)
        .close();
    writer.open("soap:Code").close();
    writer.text_element("soap:Value", &format!("soap:{}", fault.code.local_name()));
    for subcode in &fault.subcodes {
        writer
            .open("soap:Subcode")
            .close()
            .text_element("soap:Value", subcode);
    }
    for _ in &fault.subcodes {
        writer.end("soap:Subcode");
    }
    writer.end("soap:Code");
    writer
        .open("soap:Reason")
        .close()
        .open("soap:Text")
        .attr("xml:lang", fault.reason_lang.as_deref().unwrap_or("en"))
        .close()
        .text(&fault.reason)
        .end("soap:Text")
        .end("soap:Reason");
    if let Some(detail) = &fault.detail {
        writer
            .open("soap:Detail")
            .close()
            .text(detail)
            .end("soap:Detail");
    }
    writer.end("soap:Fault");
}

/// Writes raw XML captured from another message, re-declaring the namespaces it inherited so
/// that it stands on its own.
fn write_raw_with_namespaces(writer: &mut XmlWriter, raw: &RawXml) {
    let xml = raw.xml.as_str();
    let name_end = xml
        .char_indices()
        .skip(1)
        .find(|(_, character)| character.is_whitespace() || *character == '>' || *character == '/')
        .map_or(xml.len(), |(index, _)| index);
    let start_tag_end = xml.find('>').unwrap_or(xml.len());
    let start_tag = &xml[..start_tag_end];
    let mut declarations = String::new();
    for (prefix, namespace) in &raw.namespaces {
        let attribute = if prefix.is_empty() {
            "xmlns".to_owned()
        } else {
            format!("xmlns:{prefix}")
        };
        if !start_tag.contains(&format!("{attribute}=")) {
            declarations.push(' ');
            declarations.push_str(&attribute);
            declarations.push_str("=\"");
            escape_attribute(namespace, &mut declarations);
            declarations.push('"');
        }
    }
    writer
        .raw(&xml[..name_end])
        .raw(&declarations)
        .raw(&xml[name_end..]);
}

/// Writes a complete SOAP 1.2 envelope. `wsa:Action` always carries `mustUnderstand="1"`.
pub fn write_envelope(header: &Header, body: &Body<OutContent>) -> String {
    // A registry object is a few kilobytes of XML: start the buffer near its final size.
    let objects = match body {
        Body::AdhocQueryResponse(response) => response.objects.len(),
        Body::SubmitObjects(request) => request.objects.len(),
        Body::ProvideAndRegister(request) => request.submit.objects.len(),
        _ => 0,
    };
    let mut writer = XmlWriter::with_capacity(4096 + objects.saturating_mul(6 << 10));
    writer.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    writer
        .open("soap:Envelope")
        .attr("xmlns:soap", NS_SOAP)
        .attr("xmlns:wsa", NS_WSA)
        .close();
    writer.open("soap:Header").close();
    if let Some(action) = &header.action {
        writer
            .open("wsa:Action")
            .attr("soap:mustUnderstand", "1")
            .close()
            .text(action)
            .end("wsa:Action");
    }
    if let Some(message_id) = &header.message_id {
        writer.text_element("wsa:MessageID", message_id);
    }
    if let Some(reply_to) = &header.reply_to {
        writer.open("wsa:ReplyTo").close();
        writer.text_element(
            "wsa:Address",
            reply_to.address.as_deref().unwrap_or(WSA_ANONYMOUS),
        );
        writer.end("wsa:ReplyTo");
    }
    if let Some(to) = &header.to {
        writer.text_element("wsa:To", to);
    }
    if let Some(address) = header
        .from
        .as_ref()
        .and_then(|from| from.address.as_deref())
    {
        writer.open("wsa:From").close();
        writer.text_element("wsa:Address", address);
        writer.end("wsa:From");
    }
    if let Some(relates_to) = &header.relates_to {
        writer.text_element("wsa:RelatesTo", relates_to);
    }
    if let Some(security) = &header.security {
        write_raw_with_namespaces(&mut writer, security);
    }
    writer.end("soap:Header");
    writer.open("soap:Body").close();
    write_body(&mut writer, body);
    writer.end("soap:Body").end("soap:Envelope");
    writer.into_string()
}

/// Writes a bare body element as a standalone document (test data, harness files).
pub fn write_body_document(body: &Body<OutContent>) -> String {
    let mut writer = XmlWriter::new();
    writer.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    write_body(&mut writer, body);
    writer.into_string()
}
