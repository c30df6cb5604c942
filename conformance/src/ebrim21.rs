//! ebRIM 2.1 -> 3.0 conversion of SubmitObjectsRequest documents.
//!
//! XDS.b speaks ebRIM 3.0 only; most NIST testkit submissions are still written in the XDS.a
//! era's ebRIM 2.1 (its FORMAT.md §5.4). This converter is therefore the harness's own need,
//! not a product feature: a source sending 2.1 to our registry is refused with a precise error.
//! It performs the translation the toolkit does: namespaces, the object list element, child
//! order, missing ids and objectTypes, status and associationType URNs, `lang` -> `xml:lang`.

use xds::model::vocabulary as vocab;
use xds::wire::names::{NS_LCM, NS_RIM, NS_RIM21, NS_RS, NS_RS21};

use crate::xmltree::{self, Element, Node, TreeError};

/// Why a document could not be converted.
#[derive(Debug, thiserror::Error)]
pub enum ConvertError {
    #[error(transparent)]
    Xml(#[from] TreeError),
    #[error("not an ebRIM 2.1 SubmitObjectsRequest: root element is {0}")]
    NotSubmitObjects21(String),
}

/// Whether a document's root is an ebRIM 2.1 SubmitObjectsRequest.
pub fn is_ebrim21(text: &str) -> bool {
    text.contains(NS_RS21) || text.contains(NS_RIM21)
}

/// Converts an ebRIM 2.1 `rs:SubmitObjectsRequest` into an ebRIM 3.0 `lcm:SubmitObjectsRequest`.
pub fn convert_submit_objects(text: &str) -> Result<String, ConvertError> {
    let root = xmltree::parse(text)?;
    if root.local != "SubmitObjectsRequest" || root.namespace.as_deref() != Some(NS_RS21) {
        return Err(ConvertError::NotSubmitObjects21(format!(
            "{{{}}}{}",
            root.namespace.as_deref().unwrap_or(""),
            root.local
        )));
    }
    let mut counter = 0usize;
    let mut objects = Vec::new();
    for child in root.elements() {
        if child.local == "LeafRegistryObjectList" || child.local == "RegistryObjectList" {
            for object in child.elements() {
                if object.local == "ObjectRef" {
                    continue;
                }
                objects.push(Node::Element(convert_object(object, None, &mut counter)));
            }
        }
    }
    let list = Element {
        namespace: Some(NS_RIM.to_owned()),
        local: "RegistryObjectList".to_owned(),
        attributes: Vec::new(),
        children: objects,
    };
    let mut request = Element {
        namespace: Some(NS_LCM.to_owned()),
        local: "SubmitObjectsRequest".to_owned(),
        attributes: Vec::new(),
        children: vec![Node::Element(list)],
    };
    for key in ["id", "comment"] {
        if let Some(value) = root.attribute(key) {
            request.set_attribute(key, value);
        }
    }
    let prefix_of = |namespace: Option<&str>| match namespace {
        Some(NS_LCM) => Some("lcm".to_owned()),
        Some(NS_RS) => Some("rs".to_owned()),
        _ => Some("rim".to_owned()),
    };
    Ok(xmltree::write(
        &request,
        &prefix_of,
        &[("lcm", NS_LCM), ("rim", NS_RIM), ("rs", NS_RS)],
    ))
}

/// Rank of a child in the ebRIM 3.0 RegistryObject content model.
fn child_rank(local: &str) -> usize {
    match local {
        "Slot" => 0,
        "Name" => 1,
        "Description" => 2,
        "VersionInfo" => 3,
        "Classification" => 4,
        "ExternalIdentifier" => 5,
        _ => 6,
    }
}

fn default_object_type(local: &str) -> Option<&'static str> {
    match local {
        "RegistryPackage" => Some(vocab::OBJECT_TYPE_REGISTRY_PACKAGE),
        "Association" => Some(vocab::OBJECT_TYPE_ASSOCIATION),
        "Classification" => Some(vocab::OBJECT_TYPE_CLASSIFICATION),
        "ExternalIdentifier" => Some(vocab::OBJECT_TYPE_EXTERNAL_IDENTIFIER),
        _ => None,
    }
}

fn association_type_urn(value: &str) -> String {
    match value {
        "HasMember" => "urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember".to_owned(),
        "RPLC" | "APND" | "XFRM" | "XFRM_RPLC" | "signs" => {
            format!("urn:ihe:iti:2007:AssociationType:{value}")
        }
        other => other.to_owned(),
    }
}

fn convert_object(object: &Element, parent_id: Option<&str>, counter: &mut usize) -> Element {
    let mut out = Element {
        namespace: Some(NS_RIM.to_owned()),
        local: object.local.clone(),
        attributes: Vec::new(),
        children: Vec::new(),
    };
    for (key, value) in &object.attributes {
        match key.as_str() {
            "majorVersion" | "minorVersion" => {}
            "lang" => out.set_attribute("xml:lang", value.clone()),
            "status" if !value.starts_with("urn:") => {
                out.set_attribute(
                    "status",
                    format!("urn:oasis:names:tc:ebxml-regrep:StatusType:{value}"),
                );
            }
            "associationType" => out.set_attribute("associationType", association_type_urn(value)),
            _ => out.set_attribute(key, value.clone()),
        }
    }
    let is_registry_object = matches!(
        object.local.as_str(),
        "ExtrinsicObject"
            | "RegistryPackage"
            | "Association"
            | "Classification"
            | "ExternalIdentifier"
    );
    if is_registry_object {
        if out.attribute("id").is_none()
            && matches!(
                object.local.as_str(),
                "Classification" | "Association" | "ExternalIdentifier"
            )
        {
            *counter += 1;
            out.set_attribute("id", format!("id_{counter}"));
        }
        if object.local == "ExternalIdentifier"
            && let Some(parent) = parent_id
        {
            out.set_attribute("registryObject", parent);
        }
        if out.attribute("objectType").is_none()
            && let Some(object_type) = default_object_type(&object.local)
        {
            out.set_attribute("objectType", object_type);
        }
        // Attributes in a stable order: id first, as the 3.0 writers do.
        out.attributes
            .sort_by_key(|(key, _)| usize::from(key != "id"));
    }
    let own_id = out.attribute("id").map(str::to_owned);
    let mut children: Vec<&Element> = object
        .elements()
        .filter(|child| child.local != "ObjectRef")
        .collect();
    if is_registry_object {
        children.sort_by_key(|child| child_rank(&child.local));
    }
    for child in children {
        out.children.push(Node::Element(convert_object(
            child,
            own_id.as_deref(),
            counter,
        )));
    }
    if object.elements().next().is_none() {
        let text = object.text();
        if !text.is_empty() {
            out.children.push(Node::Text(text));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"<rs:SubmitObjectsRequest xmlns:rs="urn:oasis:names:tc:ebxml-regrep:registry:xsd:2.1">
  <rim:LeafRegistryObjectList xmlns:rim="urn:oasis:names:tc:ebxml-regrep:rim:xsd:2.1">
    <rim:ObjectRef id="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b518fff"/>
    <rim:ExtrinsicObject id="Document01" mimeType="text/plain" objectType="urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1" majorVersion="1">
      <rim:Name><rim:LocalizedString lang="en-us" value="Doc"/></rim:Name>
      <rim:Slot name="creationTime"><rim:ValueList><rim:Value>20051224</rim:Value></rim:ValueList></rim:Slot>
      <rim:ExternalIdentifier identificationScheme="urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab" value="1.2.3">
        <rim:Name><rim:LocalizedString value="XDSDocumentEntry.uniqueId"/></rim:Name>
      </rim:ExternalIdentifier>
      <rim:Classification classificationScheme="urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a" classifiedObject="Document01" nodeRepresentation="c">
        <rim:Name><rim:LocalizedString value="Code"/></rim:Name>
        <rim:Slot name="codingScheme"><rim:ValueList><rim:Value>s</rim:Value></rim:ValueList></rim:Slot>
      </rim:Classification>
    </rim:ExtrinsicObject>
    <rim:Association associationType="RPLC" sourceObject="Document01" targetObject="$orig$" status="Approved"/>
  </rim:LeafRegistryObjectList>
</rs:SubmitObjectsRequest>"#;

    #[test]
    fn converts_structure_names_and_order() {
        let converted = convert_submit_objects(SAMPLE).unwrap();
        let tree = xmltree::parse(&converted).unwrap();
        assert_eq!(tree.namespace.as_deref(), Some(NS_LCM));
        let list = tree.elements().next().unwrap();
        assert_eq!(list.local, "RegistryObjectList");
        let objects: Vec<&Element> = list.elements().collect();
        assert_eq!(objects.len(), 2, "ObjectRefs are dropped");
        let extrinsic = objects[0];
        assert_eq!(extrinsic.attribute("majorVersion"), None);
        let order: Vec<&str> = extrinsic
            .elements()
            .map(|child| child.local.as_str())
            .collect();
        assert_eq!(
            order,
            ["Slot", "Name", "Classification", "ExternalIdentifier"]
        );
        let name = extrinsic
            .elements()
            .nth(1)
            .unwrap()
            .elements()
            .next()
            .unwrap();
        assert_eq!(name.attribute("xml:lang"), Some("en-us"));
        let classification = extrinsic.elements().nth(2).unwrap();
        assert_eq!(classification.attribute("id"), Some("id_1"));
        assert_eq!(
            classification.attribute("objectType"),
            Some(vocab::OBJECT_TYPE_CLASSIFICATION)
        );
        let inner: Vec<&str> = classification
            .elements()
            .map(|child| child.local.as_str())
            .collect();
        assert_eq!(inner, ["Slot", "Name"]);
        let identifier = extrinsic.elements().nth(3).unwrap();
        assert_eq!(identifier.attribute("registryObject"), Some("Document01"));
        let association = objects[1];
        assert_eq!(
            association.attribute("associationType"),
            Some("urn:ihe:iti:2007:AssociationType:RPLC")
        );
        assert_eq!(
            association.attribute("status"),
            Some("urn:oasis:names:tc:ebxml-regrep:StatusType:Approved")
        );
        assert_eq!(
            association.attribute("targetObject"),
            Some("$orig$"),
            "placeholders are kept"
        );
        assert!(association.attribute("id").is_some());
    }

    #[test]
    fn refuses_non_21_input() {
        assert!(matches!(
            convert_submit_objects(
                "<lcm:SubmitObjectsRequest xmlns:lcm=\"urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0\"/>"
            ),
            Err(ConvertError::NotSubmitObjects21(_))
        ));
    }
}
