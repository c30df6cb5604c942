//! The VIHF assertion in gRPC request metadata. SOAP carries it in the wsse:Security header;
//! over gRPC the signed `<saml2:Assertion>` element's bytes travel in [`ASSERTION_KEY`] and are
//! checked by the same verifier, as the content of a wsse:Security header.

use tonic::metadata::MetadataMap;
use xds::wire::RawXml;
use xds::wire::names::NS_WSSE;

/// Binary metadata key of the assertion (the bytes of the signed `<saml2:Assertion>`).
pub const ASSERTION_KEY: &str = "x-vihf-assertion-bin";
/// Text metadata key a repository sets when it forwards its caller's assertion: the SOAP action
/// of the transaction it serves (as wsa:From over SOAP).
pub const FORWARDED_FOR_KEY: &str = "x-xds-forwarded-for";

/// The assertion of a request as the security header the verifier reads; `Err` when the
/// metadata value is not UTF-8 XML text.
pub fn security_of(metadata: &MetadataMap) -> Result<Option<RawXml>, String> {
    let Some(value) = metadata.get_bin(ASSERTION_KEY) else {
        return Ok(None);
    };
    let bytes = value
        .to_bytes()
        .map_err(|error| format!("{ASSERTION_KEY} is not valid base64: {error}"))?;
    let assertion =
        std::str::from_utf8(&bytes).map_err(|_| format!("{ASSERTION_KEY} is not UTF-8 text"))?;
    Ok(Some(wrap(assertion)))
}

/// `assertion` as the content of a wsse:Security header.
pub fn wrap(assertion: &str) -> RawXml {
    RawXml {
        xml: format!("<wsse:Security xmlns:wsse=\"{NS_WSSE}\">{assertion}</wsse:Security>"),
        namespaces: Vec::new(),
    }
}

/// Puts `assertion` (the `<saml2:Assertion>` element) into request metadata (clients).
pub fn attach(metadata: &mut MetadataMap, assertion: &str) {
    metadata.insert_bin(
        ASSERTION_KEY,
        tonic::metadata::MetadataValue::from_bytes(assertion.as_bytes()),
    );
}
