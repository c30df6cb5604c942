//! Streaming decoders: SOAP 1.2 envelope with WS-Addressing, and every body we speak (ebRIM 3.0
//! RegistryObjectList, ebRS requests and responses, XDS.b retrieve, RMD). Children of ebRIM
//! objects are accepted in any order (TF-3 samples put Name before Slot) and written back in
//! schema order by the encoder. Document content goes straight to the attachment sink.

use std::io::BufRead;

use super::attachment::{AttachmentInfo, AttachmentSink, Base64Stream, FeedError};
use super::error::DecodeError;
use super::limits::Limits;
use super::names::{AttrName, Ns, Tag};
use super::types::*;
use super::xml::{XmlIn, io_error};

type Xml<R> = XmlIn<R>;

/// Decodes a SOAP 1.2 envelope from `xml`, streaming inline documents into `sink`.
pub(crate) fn decode_envelope<R: BufRead, S: AttachmentSink>(
    xml: &mut Xml<R>,
    sink: &mut S,
    limits: &Limits,
) -> Result<Envelope<DocumentContent<S::Handle>>, DecodeError> {
    match xml.next()? {
        super::xml::Ev::Start => {}
        _ => {
            return Err(DecodeError::NotAnEnvelope {
                found: "nothing (empty document)".to_owned(),
            });
        }
    }
    if xml.ns == Ns::Soap11 && xml.tag == Tag::Envelope {
        return Err(DecodeError::Soap11);
    }
    if xml.ns != Ns::Soap || xml.tag != Tag::Envelope {
        let namespace = xml.namespace_uri();
        let found = if namespace.is_empty() {
            xml.qname().to_owned()
        } else {
            format!("{} in namespace {namespace}", xml.qname())
        };
        return Err(DecodeError::NotAnEnvelope { found });
    }
    let mut header = Header::default();
    let mut body = None;
    while xml.next_child()? {
        match (xml.ns, xml.tag) {
            (Ns::Soap, Tag::Header) if body.is_none() => {
                xml.set_record_raw(true);
                let result = read_header(xml, &mut header);
                xml.set_record_raw(false);
                result?;
            }
            (Ns::Soap, Tag::Body) if body.is_none() => {
                body = Some(read_body(xml, sink, limits)?);
            }
            _ if body.is_some() => {
                // SOAP 1.2 allows nothing after the Body; older schemas allowed foreign
                // elements there. Ignore them rather than reject a message we understood.
                xml.skip()?;
            }
            _ => return Err(xml.unexpected("soap:Header or soap:Body")),
        }
    }
    // Only comments, PIs or whitespace may follow the root element.
    match xml.next()? {
        super::xml::Ev::Eof => {}
        _ => return Err(xml.unexpected("end of document")),
    }
    let body = body.ok_or(DecodeError::MissingBody)?;
    Ok(Envelope { header, body })
}

fn must_understand(xml: &Xml<impl BufRead>) -> bool {
    matches!(
        xml.attr_in(Ns::Soap, AttrName::MustUnderstand)
            .map(str::trim),
        Some("1" | "true")
    )
}

fn read_header<R: BufRead>(xml: &mut Xml<R>, header: &mut Header) -> Result<(), DecodeError> {
    while xml.next_child()? {
        match (xml.ns, xml.tag) {
            (Ns::Wsa, Tag::Action) => {
                header.action_must_understand = must_understand(xml);
                header.action = Some(xml.read_text()?.trim().to_owned());
            }
            (Ns::Wsa, Tag::MessageId) => {
                header.message_id = Some(xml.read_text()?.trim().to_owned())
            }
            (Ns::Wsa, Tag::To) => header.to = Some(xml.read_text()?.trim().to_owned()),
            (Ns::Wsa, Tag::RelatesTo) => {
                header.relates_to = Some(xml.read_text()?.trim().to_owned())
            }
            (Ns::Wsa, Tag::ReplyTo) => header.reply_to = Some(read_endpoint(xml)?),
            (Ns::Wsa, Tag::FaultTo) => header.fault_to = Some(read_endpoint(xml)?),
            (Ns::Wsa, Tag::From) => header.from = Some(read_endpoint(xml)?),
            (Ns::Wsse, Tag::Security) => header.security = Some(xml.capture_raw()?),
            (Ns::Wsa, _) => xml.skip()?,
            _ => {
                if must_understand(xml) {
                    header.not_understood.push(NotUnderstood {
                        qname: xml.qname().to_owned(),
                        namespace: xml.namespace_uri(),
                    });
                }
                xml.skip()?;
            }
        }
    }
    Ok(())
}

fn read_endpoint<R: BufRead>(xml: &mut Xml<R>) -> Result<EndpointReference, DecodeError> {
    let mut endpoint = EndpointReference::default();
    while xml.next_child()? {
        if xml.ns == Ns::Wsa && xml.tag == Tag::Address {
            endpoint.address = Some(xml.read_text()?.trim().to_owned());
        } else {
            // ReferenceParameters, Metadata: not used here.
            xml.skip()?;
        }
    }
    Ok(endpoint)
}

fn read_body<R: BufRead, S: AttachmentSink>(
    xml: &mut Xml<R>,
    sink: &mut S,
    limits: &Limits,
) -> Result<Body<DocumentContent<S::Handle>>, DecodeError> {
    // The body element's start tag is kept, in case it is an extension captured raw.
    xml.set_record_raw(true);
    let started = xml.next_child();
    xml.set_record_raw(false);
    if !started? {
        return Err(xml.missing("body element"));
    }
    xml.in_body = true;
    let body = read_body_element(xml, sink, limits)?;
    if xml.next_child()? {
        return Err(xml.unexpected("end of soap:Body (one body element only)"));
    }
    xml.in_body = false;
    Ok(body)
}

/// Decodes the body element the cursor is on.
pub(crate) fn read_body_element<R: BufRead, S: AttachmentSink>(
    xml: &mut Xml<R>,
    sink: &mut S,
    limits: &Limits,
) -> Result<Body<DocumentContent<S::Handle>>, DecodeError> {
    Ok(match (xml.ns, xml.tag) {
        (Ns::Lcm, Tag::SubmitObjectsRequest) => Body::SubmitObjects(read_submit_objects(xml)?),
        (Ns::Xds, Tag::ProvideAndRegisterDocumentSetRequest) => {
            Body::ProvideAndRegister(read_provide_and_register(xml, sink, limits)?)
        }
        (Ns::Query, Tag::AdhocQueryRequest) => Body::AdhocQuery(read_adhoc_query_request(xml)?),
        (Ns::Xds, Tag::RetrieveDocumentSetRequest) => Body::Retrieve(RetrieveDocumentSetRequest {
            requests: read_document_requests(xml)?,
        }),
        (Ns::Lcm, Tag::RemoveObjectsRequest) => Body::RemoveObjects(read_remove_objects(xml)?),
        (Ns::Rmd, Tag::RemoveDocumentsRequest) => Body::RemoveDocuments(RemoveDocumentsRequest {
            requests: read_document_requests(xml)?,
        }),
        (Ns::Rs, Tag::RegistryResponse) => Body::RegistryResponse(read_registry_response(xml)?),
        (Ns::Query, Tag::AdhocQueryResponse) => {
            Body::AdhocQueryResponse(read_adhoc_query_response(xml)?)
        }
        (Ns::Xds, Tag::RetrieveDocumentSetResponse) => {
            Body::RetrieveResponse(read_retrieve_response(xml, sink, limits)?)
        }
        (Ns::Soap, Tag::Fault) => Body::Fault(read_fault(xml)?),
        (
            _,
            Tag::SubmitObjectsRequest
            | Tag::ProvideAndRegisterDocumentSetRequest
            | Tag::AdhocQueryRequest
            | Tag::RetrieveDocumentSetRequest
            | Tag::RemoveObjectsRequest
            | Tag::RemoveDocumentsRequest
            | Tag::RegistryResponse
            | Tag::AdhocQueryResponse
            | Tag::RetrieveDocumentSetResponse,
        ) => return Err(xml.wrong_namespace(body_namespace(xml.tag))),
        _ if xml.namespace_uri().starts_with(EXTENSION_NAMESPACES) => {
            Body::Extension(xml.capture_raw()?)
        }
        _ => return Err(xml.unexpected("an XDS.b request or response element")),
    })
}

/// Body elements in namespaces starting with this are extensions ([`Body::Extension`]).
pub const EXTENSION_NAMESPACES: &str = "urn:xds:";

fn body_namespace(tag: Tag) -> &'static str {
    use super::names::*;
    match tag {
        Tag::SubmitObjectsRequest | Tag::RemoveObjectsRequest => NS_LCM,
        Tag::AdhocQueryRequest | Tag::AdhocQueryResponse => NS_QUERY,
        Tag::RegistryResponse => NS_RS,
        Tag::RemoveDocumentsRequest => NS_RMD,
        _ => NS_XDS,
    }
}

/// Checks that a child is an ebRIM element; returns the error otherwise.
fn expect_rim<R: BufRead>(xml: &Xml<R>, expected: &'static str) -> Result<(), DecodeError> {
    if xml.ns == Ns::Rim {
        Ok(())
    } else if xml.tag != Tag::Other {
        Err(xml.wrong_namespace(super::names::NS_RIM))
    } else {
        Err(xml.unexpected(expected))
    }
}

fn read_request_header_attrs<R: BufRead>(xml: &Xml<R>) -> RequestHeader {
    RequestHeader {
        id: xml.attr_owned(AttrName::Id),
        comment: xml.attr_owned(AttrName::Comment),
        request_slots: None,
    }
}

fn read_slot_list<R: BufRead>(xml: &mut Xml<R>) -> Result<Vec<Slot>, DecodeError> {
    let mut slots = Vec::new();
    while xml.next_child()? {
        expect_rim(xml, "rim:Slot")?;
        if xml.tag != Tag::Slot {
            return Err(xml.unexpected("rim:Slot"));
        }
        slots.push(read_slot(xml)?);
    }
    Ok(slots)
}

pub(crate) fn read_submit_objects<R: BufRead>(
    xml: &mut Xml<R>,
) -> Result<SubmitObjectsRequest, DecodeError> {
    let mut request = SubmitObjectsRequest {
        header: read_request_header_attrs(xml),
        objects: Vec::new(),
    };
    let mut seen_list = false;
    while xml.next_child()? {
        match (xml.ns, xml.tag) {
            (Ns::Rs, Tag::RequestSlotList) if !seen_list => {
                request.header.request_slots = Some(read_slot_list(xml)?)
            }
            (Ns::Rim, Tag::RegistryObjectList) if !seen_list => {
                request.objects = read_registry_object_list(xml)?;
                seen_list = true;
            }
            (_, Tag::RegistryObjectList) => {
                if seen_list {
                    return Err(xml.unexpected("one rim:RegistryObjectList"));
                }
                return Err(xml.wrong_namespace(super::names::NS_RIM));
            }
            _ => return Err(xml.unexpected("rs:RequestSlotList or rim:RegistryObjectList")),
        }
    }
    if !seen_list {
        return Err(xml.missing("rim:RegistryObjectList"));
    }
    Ok(request)
}

pub(crate) fn read_registry_object_list<R: BufRead>(
    xml: &mut Xml<R>,
) -> Result<Vec<Identifiable>, DecodeError> {
    let mut objects = Vec::new();
    while xml.next_child()? {
        expect_rim(
            xml,
            "an ebRIM object (ExtrinsicObject, RegistryPackage, Association, Classification, ExternalIdentifier, ObjectRef)",
        )?;
        objects.push(read_identifiable(xml)?);
    }
    Ok(objects)
}

fn read_identifiable<R: BufRead>(xml: &mut Xml<R>) -> Result<Identifiable, DecodeError> {
    Ok(match xml.tag {
        Tag::ExtrinsicObject => Identifiable::ExtrinsicObject(read_extrinsic_object(xml)?),
        Tag::RegistryPackage => {
            let mut object = read_object_attrs(xml);
            read_object_children(xml, &mut object, |xml, _| {
                Err(xml.unexpected(
                    "a RegistryObject child (nested RegistryObjectList is not used by XDS)",
                ))
            })?;
            Identifiable::RegistryPackage(RegistryPackage { object })
        }
        Tag::Association => Identifiable::Association(read_association(xml)?),
        Tag::Classification => Identifiable::Classification(read_classification(xml)?),
        Tag::ExternalIdentifier => Identifiable::ExternalIdentifier(read_external_identifier(xml)?),
        Tag::ObjectRef => Identifiable::ObjectRef(read_object_ref(xml)?),
        _ => {
            return Err(xml.unexpected(
                "an ebRIM object (ExtrinsicObject, RegistryPackage, Association, Classification, ExternalIdentifier, ObjectRef)",
            ));
        }
    })
}

fn read_object_attrs<R: BufRead>(xml: &Xml<R>) -> RegistryObject {
    // Typical child counts per kind, so that the vectors are allocated once.
    let (slots, classifications, identifiers) = match xml.tag {
        Tag::ExtrinsicObject => (12, 10, 2),
        Tag::RegistryPackage => (2, 4, 3),
        Tag::Classification => (1, 0, 0),
        Tag::Association => (1, 0, 0),
        _ => (0, 0, 0),
    };
    RegistryObject {
        id: xml.attr_owned(AttrName::Id),
        home: xml.attr_owned(AttrName::Home),
        lid: xml.attr_owned(AttrName::Lid),
        object_type: xml.attr_owned(AttrName::ObjectType),
        status: xml.attr_owned(AttrName::Status),
        slots: Vec::with_capacity(slots),
        classifications: Vec::with_capacity(classifications),
        external_identifiers: Vec::with_capacity(identifiers),
        ..RegistryObject::default()
    }
}

/// Reads the children every RegistryObject may have; `other` handles the rest (it must consume
/// the child or fail).
fn read_object_children<R: BufRead>(
    xml: &mut Xml<R>,
    object: &mut RegistryObject,
    mut other: impl FnMut(&mut Xml<R>, &mut RegistryObject) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    while xml.next_child()? {
        if xml.ns != Ns::Rim {
            if xml.tag == Tag::Other || xml.ns == Ns::Ebxml21 {
                return Err(xml.unexpected("a RegistryObject child"));
            }
            return Err(xml.wrong_namespace(super::names::NS_RIM));
        }
        match xml.tag {
            Tag::Slot => object.slots.push(read_slot(xml)?),
            Tag::Name => {
                if object.name.is_some() {
                    return Err(xml.unexpected("at most one rim:Name"));
                }
                object.name = Some(read_international_string(xml)?);
            }
            Tag::Description => {
                if object.description.is_some() {
                    return Err(xml.unexpected("at most one rim:Description"));
                }
                object.description = Some(read_international_string(xml)?);
            }
            Tag::VersionInfo => {
                object.version_info = Some(read_version_info(xml)?);
            }
            Tag::Classification => object.classifications.push(read_classification(xml)?),
            Tag::ExternalIdentifier => object
                .external_identifiers
                .push(read_external_identifier(xml)?),
            _ => other(xml, object)?,
        }
    }
    Ok(())
}

fn read_slot<R: BufRead>(xml: &mut Xml<R>) -> Result<Slot, DecodeError> {
    let mut slot = Slot {
        name: xml.attr_owned(AttrName::Name),
        slot_type: xml.attr_owned(AttrName::SlotType),
        values: Vec::with_capacity(1),
    };
    let mut seen_list = false;
    while xml.next_child()? {
        expect_rim(xml, "rim:ValueList")?;
        if xml.tag != Tag::ValueList || seen_list {
            return Err(xml.unexpected("one rim:ValueList"));
        }
        seen_list = true;
        while xml.next_child()? {
            expect_rim(xml, "rim:Value")?;
            if xml.tag != Tag::Value {
                return Err(xml.unexpected("rim:Value"));
            }
            slot.values.push(xml.read_text()?);
        }
    }
    if !seen_list {
        return Err(xml.missing("rim:ValueList"));
    }
    Ok(slot)
}

fn read_international_string<R: BufRead>(
    xml: &mut Xml<R>,
) -> Result<Vec<LocalizedString>, DecodeError> {
    let mut strings = Vec::new();
    while xml.next_child()? {
        expect_rim(xml, "rim:LocalizedString")?;
        if xml.tag != Tag::LocalizedString {
            return Err(xml.unexpected("rim:LocalizedString"));
        }
        strings.push(LocalizedString {
            value: xml.attr_owned(AttrName::Value),
            lang: xml.attr_in(Ns::Xml, AttrName::Lang).map(str::to_owned),
            charset: xml.attr_owned(AttrName::Charset),
        });
        if xml.next_child()? {
            return Err(xml.unexpected("an empty rim:LocalizedString"));
        }
    }
    Ok(strings)
}

fn read_version_info<R: BufRead>(xml: &mut Xml<R>) -> Result<VersionInfo, DecodeError> {
    let info = VersionInfo {
        version_name: xml.attr_owned(AttrName::VersionName),
        comment: xml.attr_owned(AttrName::Comment),
    };
    if xml.next_child()? {
        return Err(xml.unexpected("an empty version info element"));
    }
    Ok(info)
}

fn read_classification<R: BufRead>(xml: &mut Xml<R>) -> Result<Classification, DecodeError> {
    let mut classification = Classification {
        object: read_object_attrs(xml),
        classified_object: xml.attr_owned(AttrName::ClassifiedObject),
        classification_scheme: xml.attr_owned(AttrName::ClassificationScheme),
        classification_node: xml.attr_owned(AttrName::ClassificationNode),
        node_representation: xml.attr_owned(AttrName::NodeRepresentation),
    };
    read_object_children(xml, &mut classification.object, |xml, _| {
        Err(xml.unexpected("a RegistryObject child"))
    })?;
    Ok(classification)
}

fn read_external_identifier<R: BufRead>(
    xml: &mut Xml<R>,
) -> Result<ExternalIdentifier, DecodeError> {
    let mut identifier = ExternalIdentifier {
        object: read_object_attrs(xml),
        registry_object: xml.attr_owned(AttrName::RegistryObject),
        identification_scheme: xml.attr_owned(AttrName::IdentificationScheme),
        value: xml.attr_owned(AttrName::Value),
    };
    read_object_children(xml, &mut identifier.object, |xml, _| {
        Err(xml.unexpected("a RegistryObject child"))
    })?;
    Ok(identifier)
}

fn read_extrinsic_object<R: BufRead>(xml: &mut Xml<R>) -> Result<ExtrinsicObject, DecodeError> {
    let mut extrinsic = ExtrinsicObject {
        object: read_object_attrs(xml),
        mime_type: xml.attr_owned(AttrName::MimeType),
        is_opaque: xml.attr_owned(AttrName::IsOpaque),
        content_version_info: None,
    };
    let mut content_version_info = None;
    read_object_children(xml, &mut extrinsic.object, |xml, _| {
        if xml.tag == Tag::ContentVersionInfo {
            content_version_info = Some(read_version_info(xml)?);
            Ok(())
        } else {
            Err(xml.unexpected("a RegistryObject child or rim:ContentVersionInfo"))
        }
    })?;
    extrinsic.content_version_info = content_version_info;
    Ok(extrinsic)
}

fn read_association<R: BufRead>(xml: &mut Xml<R>) -> Result<Association, DecodeError> {
    let mut association = Association {
        object: read_object_attrs(xml),
        association_type: xml.attr_owned(AttrName::AssociationType),
        source_object: xml.attr_owned(AttrName::SourceObject),
        target_object: xml.attr_owned(AttrName::TargetObject),
    };
    read_object_children(xml, &mut association.object, |xml, _| {
        Err(xml.unexpected("a RegistryObject child"))
    })?;
    Ok(association)
}

fn read_object_ref<R: BufRead>(xml: &mut Xml<R>) -> Result<ObjectRef, DecodeError> {
    let mut object_ref = ObjectRef {
        id: xml.attr_owned(AttrName::Id),
        home: xml.attr_owned(AttrName::Home),
        create_replica: xml.attr_owned(AttrName::CreateReplica),
        slots: Vec::new(),
    };
    while xml.next_child()? {
        expect_rim(xml, "rim:Slot")?;
        if xml.tag != Tag::Slot {
            return Err(xml.unexpected("rim:Slot"));
        }
        object_ref.slots.push(read_slot(xml)?);
    }
    Ok(object_ref)
}

fn read_adhoc_query<R: BufRead>(xml: &mut Xml<R>) -> Result<AdhocQuery, DecodeError> {
    let mut query = AdhocQuery {
        object: read_object_attrs(xml),
        query_expression: None,
    };
    let mut expression = None;
    read_object_children(xml, &mut query.object, |xml, _| {
        if xml.tag == Tag::QueryExpression {
            let language = xml.attr_owned(AttrName::QueryLanguage);
            // Stored queries carry no expression; keep the text of an ad hoc one.
            let text = xml.read_all_text()?;
            expression = Some((language, text));
            Ok(())
        } else {
            Err(xml.unexpected("a RegistryObject child or rim:QueryExpression"))
        }
    })?;
    query.query_expression = expression;
    Ok(query)
}

fn read_adhoc_query_request<R: BufRead>(
    xml: &mut Xml<R>,
) -> Result<AdhocQueryRequest, DecodeError> {
    let mut request = AdhocQueryRequest {
        header: read_request_header_attrs(xml),
        federated: xml.attr_owned(AttrName::Federated),
        federation: xml.attr_owned(AttrName::Federation),
        start_index: xml.attr_owned(AttrName::StartIndex),
        max_results: xml.attr_owned(AttrName::MaxResults),
        ..AdhocQueryRequest::default()
    };
    let mut seen_option = false;
    let mut seen_query = false;
    while xml.next_child()? {
        match (xml.ns, xml.tag) {
            (Ns::Rs, Tag::RequestSlotList) if !seen_option && !seen_query => {
                request.header.request_slots = Some(read_slot_list(xml)?)
            }
            (Ns::Query, Tag::ResponseOption) if !seen_option => {
                request.return_type = xml.attr_owned(AttrName::ReturnType);
                request.return_composed_objects = xml.attr_owned(AttrName::ReturnComposedObjects);
                seen_option = true;
                if xml.next_child()? {
                    return Err(xml.unexpected("an empty query:ResponseOption"));
                }
            }
            (Ns::Rim, Tag::AdhocQuery) if !seen_query => {
                request.query = read_adhoc_query(xml)?;
                seen_query = true;
            }
            (_, Tag::ResponseOption | Tag::AdhocQuery | Tag::RequestSlotList)
                if xml.ns != Ns::Query && xml.ns != Ns::Rim && xml.ns != Ns::Rs =>
            {
                let expected = match xml.tag {
                    Tag::ResponseOption => super::names::NS_QUERY,
                    Tag::RequestSlotList => super::names::NS_RS,
                    _ => super::names::NS_RIM,
                };
                return Err(xml.wrong_namespace(expected));
            }
            _ => return Err(xml.unexpected("query:ResponseOption then rim:AdhocQuery")),
        }
    }
    if !seen_option {
        return Err(xml.missing("query:ResponseOption"));
    }
    if !seen_query {
        return Err(xml.missing("rim:AdhocQuery"));
    }
    Ok(request)
}

fn read_registry_error_list<R: BufRead>(
    xml: &mut Xml<R>,
) -> Result<RegistryErrorList, DecodeError> {
    let mut list = RegistryErrorList {
        highest_severity: xml.attr_owned(AttrName::HighestSeverity),
        errors: Vec::new(),
    };
    while xml.next_child()? {
        if xml.ns != Ns::Rs || xml.tag != Tag::RegistryError {
            return Err(xml.unexpected("rs:RegistryError"));
        }
        let mut error = RegistryError {
            error_code: xml.attr_owned(AttrName::ErrorCode),
            code_context: xml.attr_owned(AttrName::CodeContext),
            severity: xml.attr_owned(AttrName::Severity),
            location: xml.attr_owned(AttrName::Location),
            text: String::new(),
        };
        error.text = xml.read_text()?;
        list.errors.push(error);
    }
    Ok(list)
}

/// Reads the RegistryResponseType content; `extra` handles children beyond it.
fn read_response_content<R: BufRead>(
    xml: &mut Xml<R>,
    mut extra: impl FnMut(&mut Xml<R>) -> Result<bool, DecodeError>,
) -> Result<RegistryResponse, DecodeError> {
    let mut response = RegistryResponse {
        status: xml.attr_owned(AttrName::Status),
        request_id: xml.attr_owned(AttrName::RequestId),
        response_slots: None,
        errors: None,
    };
    while xml.next_child()? {
        match (xml.ns, xml.tag) {
            (Ns::Rs, Tag::ResponseSlotList) => response.response_slots = Some(read_slot_list(xml)?),
            (Ns::Rs, Tag::RegistryErrorList) => {
                response.errors = Some(read_registry_error_list(xml)?)
            }
            _ => {
                if !extra(xml)? {
                    return Err(xml.unexpected("rs:ResponseSlotList or rs:RegistryErrorList"));
                }
            }
        }
    }
    Ok(response)
}

fn read_registry_response<R: BufRead>(xml: &mut Xml<R>) -> Result<RegistryResponse, DecodeError> {
    read_response_content(xml, |_| Ok(false))
}

fn read_adhoc_query_response<R: BufRead>(
    xml: &mut Xml<R>,
) -> Result<AdhocQueryResponse, DecodeError> {
    let start_index = xml.attr_owned(AttrName::StartIndex);
    let total_result_count = xml.attr_owned(AttrName::TotalResultCount);
    let mut objects = Vec::new();
    let response = read_response_content(xml, |xml| {
        if xml.ns == Ns::Rim && xml.tag == Tag::RegistryObjectList {
            objects = read_registry_object_list(xml)?;
            Ok(true)
        } else {
            Ok(false)
        }
    })?;
    Ok(AdhocQueryResponse {
        response,
        start_index,
        total_result_count,
        objects,
    })
}

fn read_document_request<R: BufRead>(xml: &mut Xml<R>) -> Result<DocumentRequest, DecodeError> {
    let mut request = DocumentRequest::default();
    while xml.next_child()? {
        if xml.ns != Ns::Xds {
            return Err(if xml.tag == Tag::Other {
                xml.unexpected(
                    "xds:HomeCommunityId, xds:RepositoryUniqueId or xds:DocumentUniqueId",
                )
            } else {
                xml.wrong_namespace(super::names::NS_XDS)
            });
        }
        let tag = xml.tag;
        let value = Some(xml_text_of(xml)?);
        match tag {
            Tag::HomeCommunityId => request.home_community_id = value,
            Tag::RepositoryUniqueId => request.repository_unique_id = value,
            Tag::DocumentUniqueId => request.document_unique_id = value,
            _ => {
                return Err(xml.unexpected(
                    "xds:HomeCommunityId, xds:RepositoryUniqueId or xds:DocumentUniqueId",
                ));
            }
        }
    }
    Ok(request)
}

/// Reads the trimmed text of one of the XDS.b document request/response fields.
fn xml_text_of<R: BufRead>(xml: &mut Xml<R>) -> Result<String, DecodeError> {
    if !matches!(
        xml.tag,
        Tag::HomeCommunityId
            | Tag::RepositoryUniqueId
            | Tag::DocumentUniqueId
            | Tag::NewRepositoryUniqueId
            | Tag::NewDocumentUniqueId
            | Tag::MimeType
    ) {
        return Err(xml.unexpected("an XDS.b document request field"));
    }
    Ok(xml.read_text()?.trim().to_owned())
}

fn read_document_requests<R: BufRead>(
    xml: &mut Xml<R>,
) -> Result<Vec<DocumentRequest>, DecodeError> {
    let mut requests = Vec::new();
    while xml.next_child()? {
        if xml.tag != Tag::DocumentRequest {
            return Err(xml.unexpected("xds:DocumentRequest"));
        }
        if xml.ns != Ns::Xds {
            return Err(xml.wrong_namespace(super::names::NS_XDS));
        }
        requests.push(read_document_request(xml)?);
    }
    Ok(requests)
}

fn read_remove_objects<R: BufRead>(xml: &mut Xml<R>) -> Result<RemoveObjectsRequest, DecodeError> {
    let mut request = RemoveObjectsRequest {
        header: read_request_header_attrs(xml),
        deletion_scope: xml.attr_owned(AttrName::DeletionScope),
        query: None,
        object_refs: None,
    };
    while xml.next_child()? {
        match (xml.ns, xml.tag) {
            (Ns::Rs, Tag::RequestSlotList) => {
                request.header.request_slots = Some(read_slot_list(xml)?)
            }
            (Ns::Rim, Tag::AdhocQuery) => request.query = Some(read_adhoc_query(xml)?),
            (Ns::Rim, Tag::ObjectRefList) => {
                let mut refs = Vec::new();
                while xml.next_child()? {
                    expect_rim(xml, "rim:ObjectRef")?;
                    if xml.tag != Tag::ObjectRef {
                        return Err(xml.unexpected("rim:ObjectRef"));
                    }
                    refs.push(read_object_ref(xml)?);
                }
                request.object_refs = Some(refs);
            }
            _ => {
                return Err(
                    xml.unexpected("rs:RequestSlotList, rim:AdhocQuery or rim:ObjectRefList")
                );
            }
        }
    }
    Ok(request)
}

/// Reads the content of an `xds:Document` element: an `xop:Include`, or inline base64 that is
/// streamed straight from the input into the sink.
fn read_document_content<R: BufRead, S: AttachmentSink>(
    xml: &mut Xml<R>,
    sink: &mut S,
    limits: &Limits,
    document_id: Option<&str>,
) -> Result<DocumentContent<S::Handle>, DecodeError> {
    let location = xml.location();
    if xml.is_empty_element() {
        // `<xds:Document id="x"/>`: an empty document.
        let info = AttachmentInfo {
            content_id: None,
            content_type: None,
            document_id,
        };
        sink.begin(&info)
            .map_err(|error| DecodeError::Sink(error.0))?;
        let handle = sink.finish().map_err(|error| DecodeError::Sink(error.0))?;
        xml.next()?;
        return Ok(DocumentContent::Inline(Attachment {
            handle,
            size: 0,
            content_type: None,
            content_id: None,
        }));
    }
    // Skip leading whitespace, then decide: markup means xop:Include, anything else is base64.
    let starts_with_markup = loop {
        let input = xml.input();
        let available = BufRead::fill_buf(input).map_err(io_error)?;
        if available.is_empty() {
            return Err(xml.missing("end of xds:Document"));
        }
        let blanks = available
            .iter()
            .take_while(|byte| matches!(byte, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        let found = blanks < available.len();
        let next = available.get(blanks).copied();
        BufRead::consume(input, blanks);
        if found {
            break next == Some(b'<');
        }
    };
    if starts_with_markup {
        if !xml.next_child()? {
            // `<xds:Document></xds:Document>`: empty inline content.
            let info = AttachmentInfo {
                content_id: None,
                content_type: None,
                document_id,
            };
            sink.begin(&info)
                .map_err(|error| DecodeError::Sink(error.0))?;
            let handle = sink.finish().map_err(|error| DecodeError::Sink(error.0))?;
            return Ok(DocumentContent::Inline(Attachment {
                handle,
                size: 0,
                content_type: None,
                content_id: None,
            }));
        }
        if xml.ns != Ns::Xop || xml.tag != Tag::Include {
            return Err(xml.unexpected("xop:Include or base64 text"));
        }
        let href = xml
            .attr_owned(AttrName::Href)
            .ok_or_else(|| xml.missing("xop:Include/@href"))?;
        let cid =
            super::mime::cid_from_href(&href).ok_or_else(|| DecodeError::MissingAttachment {
                cid: href.clone(),
                location: location.clone(),
            })?;
        xml.skip()?;
        if xml.next_child()? {
            return Err(xml.unexpected("nothing after xop:Include"));
        }
        return Ok(DocumentContent::Xop {
            cid,
            location: format!("{location}[@id={}]", document_id.unwrap_or("")),
        });
    }
    // Inline base64: stream from the raw input until the next '<'.
    let info = AttachmentInfo {
        content_id: None,
        content_type: None,
        document_id,
    };
    sink.begin(&info)
        .map_err(|error| DecodeError::Sink(error.0))?;
    let result = stream_inline_base64(xml, sink, limits, &location, document_id);
    let size = match result {
        Ok(size) => size,
        Err(error) => {
            sink.abort();
            return Err(error);
        }
    };
    let handle = sink.finish().map_err(|error| DecodeError::Sink(error.0))?;
    if xml.next_child()? {
        return Err(xml.unexpected("only base64 text in xds:Document"));
    }
    Ok(DocumentContent::Inline(Attachment {
        handle,
        size,
        content_type: None,
        content_id: None,
    }))
}

fn stream_inline_base64<R: BufRead, S: AttachmentSink>(
    xml: &mut Xml<R>,
    sink: &mut S,
    limits: &Limits,
    location: &str,
    document_id: Option<&str>,
) -> Result<u64, DecodeError> {
    let mut decoder = Base64Stream::new();
    let mut size = 0u64;
    let limit = limits.max_attachment_bytes;
    let what = document_id.map_or_else(|| location.to_owned(), |id| format!("xds:Document {id}"));
    let mut emit = |chunk: &[u8]| -> Result<(), super::attachment::SinkError> {
        size += chunk.len() as u64;
        if size > limit {
            return Err(super::attachment::SinkError(LIMIT_MARKER.to_owned()));
        }
        sink.write(chunk)
    };
    let map_feed = |error: FeedError| match error {
        FeedError::Base64(problem) => DecodeError::Base64 {
            location: location.to_owned(),
            message: problem.to_string(),
        },
        FeedError::Sink(sink_error) if sink_error.0 == LIMIT_MARKER => {
            DecodeError::AttachmentTooLarge {
                what: what.clone(),
                limit,
            }
        }
        FeedError::Sink(sink_error) => DecodeError::Sink(sink_error.0),
    };
    xml.input().counting = false;
    let mut entity = Vec::new();
    loop {
        let input = xml.input();
        let available = BufRead::fill_buf(input).map_err(io_error)?;
        if available.is_empty() {
            input.counting = true;
            return Err(xml.missing("end of xds:Document"));
        }
        if !entity.is_empty() {
            // Inside a character reference such as `&#13;` split across reads.
            let end = available.iter().position(|byte| *byte == b';');
            let take = end.map_or(available.len(), |index| index + 1);
            entity.extend_from_slice(&available[..take]);
            BufRead::consume(input, take);
            if entity.len() > 12 {
                input.counting = true;
                return Err(DecodeError::Base64 {
                    location: location.to_owned(),
                    message: "invalid character reference".to_owned(),
                });
            }
            if end.is_some() {
                let whitespace = matches!(
                    entity.as_slice(),
                    b"&#13;"
                        | b"&#10;"
                        | b"&#9;"
                        | b"&#32;"
                        | b"&#xD;"
                        | b"&#xA;"
                        | b"&#x9;"
                        | b"&#x20;"
                        | b"&#xd;"
                        | b"&#xa;"
                );
                if !whitespace {
                    input.counting = true;
                    return Err(DecodeError::Base64 {
                        location: location.to_owned(),
                        message: format!(
                            "unexpected reference {}",
                            String::from_utf8_lossy(&entity)
                        ),
                    });
                }
                entity.clear();
            }
            continue;
        }
        let stop = available
            .iter()
            .position(|byte| *byte == b'<' || *byte == b'&');
        let take = stop.unwrap_or(available.len());
        let result = decoder.feed(&available[..take], &mut emit);
        let stop_byte = stop.map(|index| available[index]);
        BufRead::consume(input, take);
        if let Err(error) = result {
            input.counting = true;
            return Err(map_feed(error));
        }
        match stop_byte {
            Some(b'<') => break,
            Some(_) => {
                entity.push(b'&');
                BufRead::consume(input, 1);
            }
            None => {}
        }
    }
    xml.input().counting = true;
    decoder.finish(&mut emit).map_err(map_feed)?;
    Ok(size)
}

const LIMIT_MARKER: &str = "\u{0}attachment limit";

fn read_provide_and_register<R: BufRead, S: AttachmentSink>(
    xml: &mut Xml<R>,
    sink: &mut S,
    limits: &Limits,
) -> Result<ProvideAndRegisterRequest<DocumentContent<S::Handle>>, DecodeError> {
    let mut submit = None;
    let mut documents = Vec::new();
    while xml.next_child()? {
        match (xml.ns, xml.tag) {
            (Ns::Lcm, Tag::SubmitObjectsRequest) if submit.is_none() && documents.is_empty() => {
                submit = Some(read_submit_objects(xml)?);
            }
            (Ns::Xds, Tag::Document) if submit.is_some() => {
                let id = xml.attr_owned(AttrName::Id);
                let content = read_document_content(xml, sink, limits, id.as_deref())?;
                documents.push(Document { id, content });
            }
            (_, Tag::SubmitObjectsRequest) if xml.ns != Ns::Lcm => {
                return Err(xml.wrong_namespace(super::names::NS_LCM));
            }
            (_, Tag::Document) if xml.ns != Ns::Xds => {
                return Err(xml.wrong_namespace(super::names::NS_XDS));
            }
            _ => return Err(xml.unexpected("lcm:SubmitObjectsRequest then xds:Document elements")),
        }
    }
    let submit = submit.ok_or_else(|| xml.missing("lcm:SubmitObjectsRequest"))?;
    Ok(ProvideAndRegisterRequest { submit, documents })
}

fn read_retrieve_response<R: BufRead, S: AttachmentSink>(
    xml: &mut Xml<R>,
    sink: &mut S,
    limits: &Limits,
) -> Result<RetrieveDocumentSetResponse<DocumentContent<S::Handle>>, DecodeError> {
    let mut response = None;
    let mut documents = Vec::new();
    while xml.next_child()? {
        match (xml.ns, xml.tag) {
            (Ns::Rs, Tag::RegistryResponse) if response.is_none() => {
                response = Some(read_registry_response(xml)?);
            }
            (Ns::Xds, Tag::DocumentResponse) if response.is_some() => {
                let mut home_community_id = None;
                let mut repository_unique_id = None;
                let mut document_unique_id = None;
                let mut new_repository_unique_id = None;
                let mut new_document_unique_id = None;
                let mut mime_type = None;
                let mut document = None;
                while xml.next_child()? {
                    if xml.ns != Ns::Xds {
                        return Err(xml.unexpected("an xds:DocumentResponse field"));
                    }
                    match xml.tag {
                        Tag::Document => {
                            let id = document_unique_id.clone();
                            document =
                                Some(read_document_content(xml, sink, limits, id.as_deref())?);
                        }
                        tag => {
                            let value = Some(xml_text_of(xml)?);
                            match tag {
                                Tag::HomeCommunityId => home_community_id = value,
                                Tag::RepositoryUniqueId => repository_unique_id = value,
                                Tag::DocumentUniqueId => document_unique_id = value,
                                Tag::NewRepositoryUniqueId => new_repository_unique_id = value,
                                Tag::NewDocumentUniqueId => new_document_unique_id = value,
                                _ => mime_type = value,
                            }
                        }
                    }
                }
                let document = document.ok_or_else(|| xml.missing("xds:Document"))?;
                documents.push(DocumentResponse {
                    home_community_id,
                    repository_unique_id,
                    document_unique_id,
                    new_repository_unique_id,
                    new_document_unique_id,
                    mime_type,
                    document,
                });
            }
            _ => {
                return Err(
                    xml.unexpected("rs:RegistryResponse then xds:DocumentResponse elements")
                );
            }
        }
    }
    let response = response.ok_or_else(|| xml.missing("rs:RegistryResponse"))?;
    Ok(RetrieveDocumentSetResponse {
        response,
        documents,
    })
}

fn read_fault<R: BufRead>(xml: &mut Xml<R>) -> Result<Fault, DecodeError> {
    let mut fault = Fault {
        code: FaultCode::Receiver,
        subcodes: Vec::new(),
        reason: String::new(),
        reason_lang: None,
        detail: None,
    };
    while xml.next_child()? {
        match (xml.ns, xml.tag) {
            (Ns::Soap, Tag::Code) => {
                let (value, subcodes) = read_fault_code(xml)?;
                let local = value.rsplit(':').next().unwrap_or(&value).to_owned();
                fault.code = FaultCode::from_local_name(&local).unwrap_or(FaultCode::Receiver);
                fault.subcodes = subcodes;
            }
            (Ns::Soap, Tag::Reason) => {
                while xml.next_child()? {
                    if xml.ns == Ns::Soap && xml.tag == Tag::Text {
                        let lang = xml.attr_in(Ns::Xml, AttrName::Lang).map(str::to_owned);
                        let text = xml.read_text()?;
                        if fault.reason.is_empty() {
                            fault.reason = text;
                            fault.reason_lang = lang;
                        }
                    } else {
                        xml.skip()?;
                    }
                }
            }
            (Ns::Soap, Tag::Detail) => fault.detail = Some(xml.read_all_text()?.trim().to_owned()),
            _ => xml.skip()?,
        }
    }
    Ok(fault)
}

fn read_fault_code<R: BufRead>(xml: &mut Xml<R>) -> Result<(String, Vec<String>), DecodeError> {
    let mut value = String::new();
    let mut subcodes = Vec::new();
    while xml.next_child()? {
        match (xml.ns, xml.tag) {
            (Ns::Soap, Tag::Value) => value = xml.read_text()?.trim().to_owned(),
            (Ns::Soap, Tag::Subcode) => {
                let (sub_value, mut deeper) = read_fault_code(xml)?;
                subcodes.push(sub_value);
                subcodes.append(&mut deeper);
            }
            _ => xml.skip()?,
        }
    }
    Ok((value, subcodes))
}
