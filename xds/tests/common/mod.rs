//! Helpers shared by the xds integration tests: where the shared test data lives, xmllint.
#![allow(dead_code)] // each test binary uses a subset
#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

pub mod sample;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared test-data folder (`$XDS_SHARED_DIR`, or `shared/` beside the workspace or a
/// parent). The data is required: tests fail with instructions when it is missing.
pub fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDS_SHARED_DIR") {
        return PathBuf::from(dir);
    }
    let mut current: Option<&Path> = Some(Path::new(env!("CARGO_MANIFEST_DIR")));
    while let Some(dir) = current {
        let candidate = dir.join("shared");
        if candidate.join("conformance").is_dir() {
            return candidate;
        }
        current = dir.parent();
    }
    panic!(
        "shared test data not found: set XDS_SHARED_DIR to the folder holding conformance/ and docs/"
    );
}

/// A SOAP 1.2 envelope schema written for these tests from the structure of W3C SOAP 1.2
/// Part 1 (the shared `soap.xsd` is the SOAP 1.1 schema, `http://schemas.xmlsoap.org/soap/envelope/`).
/// Body content is validated laxly, i.e. against the imported ebXML / XDS.b / RMD schemas.
const SOAP12_XSD: &str = r###"<?xml version="1.0"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:env="http://www.w3.org/2003/05/soap-envelope"
    targetNamespace="http://www.w3.org/2003/05/soap-envelope" elementFormDefault="qualified">
  <xs:import namespace="http://www.w3.org/XML/1998/namespace" schemaLocation="XMLXSD"/>
  <xs:element name="Envelope">
    <xs:complexType>
      <xs:sequence>
        <xs:element ref="env:Header" minOccurs="0"/>
        <xs:element ref="env:Body"/>
      </xs:sequence>
      <xs:anyAttribute namespace="##other" processContents="lax"/>
    </xs:complexType>
  </xs:element>
  <xs:element name="Header">
    <xs:complexType>
      <xs:sequence><xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
      <xs:anyAttribute namespace="##other" processContents="lax"/>
    </xs:complexType>
  </xs:element>
  <xs:element name="Body">
    <xs:complexType>
      <xs:sequence><xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
      <xs:anyAttribute namespace="##other" processContents="lax"/>
    </xs:complexType>
  </xs:element>
  <xs:attribute name="mustUnderstand" type="xs:boolean"/>
  <xs:attribute name="relay" type="xs:boolean"/>
  <xs:attribute name="role" type="xs:anyURI"/>
  <xs:element name="Fault">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Code" type="env:faultcode"/>
        <xs:element name="Reason">
          <xs:complexType>
            <xs:sequence>
              <xs:element name="Text" maxOccurs="unbounded">
                <xs:complexType>
                  <xs:simpleContent>
                    <xs:extension base="xs:string"><xs:attribute ref="xml:lang" use="required"/></xs:extension>
                  </xs:simpleContent>
                </xs:complexType>
              </xs:element>
            </xs:sequence>
          </xs:complexType>
        </xs:element>
        <xs:element name="Node" type="xs:anyURI" minOccurs="0"/>
        <xs:element name="Role" type="xs:anyURI" minOccurs="0"/>
        <xs:element name="Detail" minOccurs="0">
          <xs:complexType mixed="true">
            <xs:sequence><xs:any namespace="##any" processContents="lax" minOccurs="0" maxOccurs="unbounded"/></xs:sequence>
          </xs:complexType>
        </xs:element>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
  <xs:complexType name="faultcode">
    <xs:sequence>
      <xs:element name="Value">
        <xs:simpleType>
          <xs:restriction base="xs:QName">
            <xs:enumeration value="env:VersionMismatch"/>
            <xs:enumeration value="env:MustUnderstand"/>
            <xs:enumeration value="env:DataEncodingUnknown"/>
            <xs:enumeration value="env:Sender"/>
            <xs:enumeration value="env:Receiver"/>
          </xs:restriction>
        </xs:simpleType>
      </xs:element>
      <xs:element name="Subcode" type="env:subcode" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
  <xs:complexType name="subcode">
    <xs:sequence>
      <xs:element name="Value" type="xs:QName"/>
      <xs:element name="Subcode" type="env:subcode" minOccurs="0"/>
    </xs:sequence>
  </xs:complexType>
</xs:schema>
"###;

/// Validates `xml` with xmllint against every schema at once (a wrapper schema importing the
/// SOAP 1.2 envelope schema above and the shared ebRIM/ebRS 3.0, XDS.b and RMD schemas).
/// Returns xmllint's complaint.
pub fn xmllint_validate(xml: &str, name: &str) -> Result<(), String> {
    let schemas = shared_dir().join("conformance").join("schemas");
    let dir = std::env::temp_dir().join(format!("xds-schema-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let wrapper = dir.join("all.xsd");
    let import = |namespace: &str, file: &str| {
        format!(
            "  <xs:import namespace=\"{namespace}\" schemaLocation=\"{}\"/>\n",
            schemas.join(file).display()
        )
    };
    let mut text = String::from(
        "<?xml version=\"1.0\"?>\n<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\">\n",
    );
    let soap12 = dir.join("soap12.xsd");
    std::fs::write(
        &soap12,
        SOAP12_XSD.replace("XMLXSD", &schemas.join("xml.xsd").display().to_string()),
    )
    .expect("write SOAP 1.2 schema");
    text.push_str(&format!(
        "  <xs:import namespace=\"http://www.w3.org/2003/05/soap-envelope\" schemaLocation=\"{}\"/>\n",
        soap12.display()
    ));
    text.push_str(&import(
        "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0",
        "rim.xsd",
    ));
    text.push_str(&import(
        "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0",
        "rs.xsd",
    ));
    text.push_str(&import(
        "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0",
        "lcm.xsd",
    ));
    text.push_str(&import(
        "urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0",
        "query.xsd",
    ));
    text.push_str(&import(
        "urn:ihe:iti:xds-b:2007",
        "XDS.b_DocumentRepository.xsd",
    ));
    text.push_str(&import("urn:ihe:iti:rmd:2017", "rmd.xsd"));
    text.push_str("</xs:schema>\n");
    std::fs::write(&wrapper, text).expect("write wrapper schema");
    let document = dir.join(format!("{name}.xml"));
    std::fs::write(&document, xml).expect("write document");
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&wrapper)
        .arg(&document)
        .output()
        .unwrap_or_else(|error| panic!("xmllint not runnable ({error}); install libxml2-utils"));
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}
