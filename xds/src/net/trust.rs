//! Who the caller is: the TLS client certificate plus the VIHF assertion of the WS-Security
//! header, verified (dmp-profile.md §3.3, §8 rules 7-17) into one [`Caller`].
//!
//! The assertion must be the only one in the header, carry an enveloped XML signature (exclusive
//! c14n, RSA-SHA256, SHA-256 reference digest over the assertion itself, its `ID` unique in the
//! header so that no other element can stand in for it), be signed by the TLS client
//! certificate (or, when a trusted intermediary such as the repository forwards it, by a
//! certificate that chains to the trust anchors, unexpired and unrevoked), name that certificate
//! as `Issuer`, be within its validity window, and carry every mandatory attribute in its form.
//! Failures are SOAP faults with the WS-Security fault codes; nothing else happens.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use rustls::pki_types::{CertificateDer, UnixTime};
use rustls::server::danger::ClientCertVerifier;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::model::{
    AccessMode, Assertion, AuthenticationMode, Caller, CertificateIdentity, CertificateKind,
    CodedValue, Cx, Dtm, InsKind,
};
use crate::wire::dom::{self, Element};
use crate::wire::{FaultCode, RawXml};

use super::soap::{HttpAnswer, fault};
use super::tls::{IdentityRules, Peer, identity_of, parse_dn, same_dn, subject_of};

pub const NS_SAML2: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
pub const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
pub const NS_WSSE: &str = crate::wire::names::NS_WSSE;
pub const NS_HL7V3: &str = "urn:hl7-org:v3";
pub const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
pub const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
pub const X509_SUBJECT_NAME: &str = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName";
/// TRE_R248 (access modes) as sent on the wire, and as its CodeSystem file names it.
pub const ACCESS_MODE_SYSTEMS: [&str; 2] = ["1.2.250.1.213.1.1.4.248", "1.2.250.1.213.1.1.4.336"];
pub const ATTRIBUTE_ROLE: &str = "urn:oasis:names:tc:xacml:2.0:subject:role";
pub const ATTRIBUTE_SUBJECT_ID: &str = "urn:oasis:names:tc:xspa:1.0:subject:subject-id";
pub const ATTRIBUTE_RESOURCE_ID: &str = "urn:oasis:names:tc:xacml:2.0:resource:resource-id";
pub const ATTRIBUTE_PURPOSE: &str = "urn:oasis:names:tc:xspa:1.0:subject:purposeofuse";
pub const ATTRIBUTE_CONFIDENTIALITY: &str =
    "urn:oasis:names:tc:xspa:1.0:resource:patient:hl7:confidentiality-code";
/// The only `confidentiality-code` value (JDV_J64).
pub const SECRET_CONNECTION: &str = "INVISIBLE_REPRESENTANTS_LEGAUX";
const DOCTOR: (&str, &str) = ("10", "1.2.250.1.71.1.2.7");
const PHARMACIST: (&str, &str) = ("21", "1.2.250.1.71.1.2.7");
const DOCTOR_SPECIALITIES: &str = "1.2.250.1.71.4.2.5";
const PHARMACIST_SECTIONS: &str = "1.2.250.1.71.4.2.6";

/// The value-set checks of the assertion's codes a profile makes (sector in J61, roles in
/// J65, ...): one message per problem.
pub type CodeCheck = Arc<dyn Fn(&Assertion) -> Vec<String> + Send + Sync>;

/// How callers are authenticated.
#[derive(Debug, Clone)]
pub struct TrustSettings {
    /// Refuse a request on a TLS listener that has no assertion (dmp-profile.md §8 rule 7).
    pub require_assertion: bool,
    /// Tolerated clock difference with the assertion's issuer.
    pub clock_skew: Duration,
    /// Oldest `IssueInstant` accepted.
    pub max_age: Duration,
    /// Accepted `VIHF_Version` values.
    pub versions: Vec<String>,
    /// Subject DNs of certificates allowed to forward another caller's assertion (the
    /// repositories), and to call without an assertion for their own bookkeeping.
    pub forwarders: Vec<String>,
    /// Geographic structures (EG) an assertion may name for a legal entity's (EJ) certificate.
    pub structure_sites: BTreeMap<String, Vec<String>>,
    pub identity: IdentityRules,
    /// In direct mode a submission must have the assertion's user among its authorPersons.
    pub direct_author_check: bool,
}

impl Default for TrustSettings {
    fn default() -> Self {
        Self {
            require_assertion: true,
            clock_skew: Duration::from_secs(120),
            max_age: Duration::from_secs(8 * 3600),
            versions: vec!["3.0".to_owned(), "4.0".to_owned()],
            forwarders: Vec::new(),
            structure_sites: BTreeMap::new(),
            identity: IdentityRules::default(),
            direct_author_check: true,
        }
    }
}

/// Why a caller is refused: a WS-Security fault code and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `wsse:InvalidSecurity`, `wsse:FailedCheck`, ...
    pub subcode: &'static str,
    pub reason: String,
}

impl Refusal {
    fn new(subcode: &'static str, reason: impl Into<String>) -> Self {
        Self {
            subcode,
            reason: reason.into(),
        }
    }

    /// The SOAP fault answering the request.
    pub fn answer(&self, relates_to: Option<String>) -> HttpAnswer {
        fault(
            FaultCode::Sender,
            Some(self.subcode),
            self.reason.clone(),
            relates_to,
        )
    }
}

const INVALID_SECURITY: &str = "wsse:InvalidSecurity";
const INVALID_TOKEN: &str = "wsse:InvalidSecurityToken";
const FAILED_AUTHENTICATION: &str = "wsse:FailedAuthentication";
const FAILED_CHECK: &str = "wsse:FailedCheck";
const UNSUPPORTED_ALGORITHM: &str = "wsse:UnsupportedAlgorithm";
const EXPIRED: &str = "wsse:MessageExpired";

/// Verified assertions remembered at most (a full cache keeps the unexpired ones, or starts
/// over).
const VERIFIED_CAPACITY: usize = 8192;

/// Verified callers by SHA-256 of (client certificate, header bytes), with their end of validity.
type Verified = std::sync::Mutex<std::collections::HashMap<[u8; 32], (Caller, i64)>>;

/// The verifier of callers, shared by every request of a listener.
#[derive(Clone)]
pub struct Trust {
    settings: Arc<TrustSettings>,
    verified: Arc<Verified>,
    forwarders: Arc<Vec<Vec<(String, String)>>>,
    /// Chains, validity and revocation of forwarded assertions' signers.
    verifier: Option<Arc<dyn ClientCertVerifier>>,
    codes: CodeCheck,
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Trust")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl Trust {
    /// `verifier` is the listeners' client-certificate verifier (None without TLS).
    pub fn new(
        settings: TrustSettings,
        verifier: Option<Arc<dyn ClientCertVerifier>>,
        codes: CodeCheck,
    ) -> Result<Self, String> {
        let forwarders = settings
            .forwarders
            .iter()
            .map(|dn| parse_dn(dn).ok_or_else(|| format!("forwarder {dn:?} is not a DN")))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            settings: Arc::new(settings),
            verified: Arc::new(Verified::default()),
            forwarders: Arc::new(forwarders),
            verifier,
            codes,
        })
    }

    pub fn settings(&self) -> &TrustSettings {
        &self.settings
    }

    /// The identity of a connection's client certificate.
    pub fn peer(&self, certificate: Option<CertificateDer<'static>>) -> Peer {
        let identity = certificate
            .as_ref()
            .and_then(|der| identity_of(der, &self.settings.identity).ok());
        Peer {
            certificate,
            identity,
        }
    }

    fn is_forwarder(&self, identity: &CertificateIdentity) -> bool {
        parse_dn(&identity.subject).is_some_and(|subject| {
            self.forwarders
                .iter()
                .any(|forwarder| same_dn(forwarder, &subject))
        })
    }

    /// The caller of a request that came over `peer` with the WS-Security header `security`.
    /// A plain (insecure) connection gives an anonymous caller.
    pub fn caller(&self, peer: &Peer, security: Option<&RawXml>) -> Result<Caller, Refusal> {
        self.caller_at(peer, security, now_seconds())
    }

    /// [`Trust::caller`] at `now` (seconds since the epoch). A verified assertion is
    /// remembered for the same certificate and the same header bytes until it would expire, so
    /// a workstation that sends one assertion for a whole session pays the signature check
    /// once; the validity window is checked on every request.
    pub fn caller_at(
        &self,
        peer: &Peer,
        security: Option<&RawXml>,
        now: i64,
    ) -> Result<Caller, Refusal> {
        let (Some(certificate), Some(_)) = (&peer.certificate, &peer.identity) else {
            return Ok(Caller::anonymous());
        };
        let Some(raw) = security else {
            return self.verify(peer, None, now).map(|(caller, _)| caller);
        };
        let mut context = ring::digest::Context::new(&ring::digest::SHA256);
        context.update(certificate.as_ref());
        for (prefix, uri) in &raw.namespaces {
            context.update(&[0]);
            context.update(prefix.as_bytes());
            context.update(&[1]);
            context.update(uri.as_bytes());
        }
        context.update(&[2]);
        context.update(raw.xml.as_bytes());
        let mut key = [0u8; 32];
        key.copy_from_slice(context.finish().as_ref());
        if let Ok(cache) = self.verified.lock()
            && let Some((caller, valid_until)) = cache.get(&key)
            && now < *valid_until
        {
            return Ok(caller.clone());
        }
        let (caller, valid_until) = self.verify(peer, Some(raw), now)?;
        if let Ok(mut cache) = self.verified.lock() {
            if cache.len() >= VERIFIED_CAPACITY {
                cache.retain(|_, (_, until)| now < *until);
                if cache.len() >= VERIFIED_CAPACITY {
                    cache.clear();
                }
            }
            cache.insert(key, (caller.clone(), valid_until));
        }
        Ok(caller)
    }

    /// The whole verification; the caller and the first instant it no longer holds.
    fn verify(
        &self,
        peer: &Peer,
        security: Option<&RawXml>,
        now: i64,
    ) -> Result<(Caller, i64), Refusal> {
        let (Some(certificate), Some(identity)) = (&peer.certificate, &peer.identity) else {
            return Ok((Caller::anonymous(), i64::MAX));
        };
        let forwarder = self.is_forwarder(identity);
        // Without an assertion: the certificate alone, for a forwarder's own bookkeeping or
        // when assertions are not required.
        let certificate_only = || {
            let caller = Caller {
                certificate: Some(identity.clone()),
                ..Caller::default()
            };
            Ok((caller, i64::MAX))
        };
        let Some(security) = security else {
            if forwarder || !self.settings.require_assertion {
                return certificate_only();
            }
            return Err(Refusal::new(
                INVALID_SECURITY,
                "no wsse:Security header: every request needs one VIHF assertion",
            ));
        };
        let header = dom::parse(security).map_err(|error| {
            Refusal::new(
                INVALID_SECURITY,
                format!("wsse:Security is not usable: {error}"),
            )
        })?;
        let mut assertions = header.children_named(NS_SAML2, "Assertion");
        let assertion = match (assertions.next(), assertions.next()) {
            (Some(assertion), None) => assertion,
            (None, _) if forwarder || !self.settings.require_assertion => {
                return certificate_only();
            }
            (None, _) => {
                return Err(Refusal::new(
                    INVALID_SECURITY,
                    "wsse:Security holds no SAML 2.0 assertion",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Refusal::new(
                    INVALID_SECURITY,
                    "wsse:Security holds more than one SAML 2.0 assertion",
                ));
            }
        };
        let signer_der = verify_signature(&header, assertion, certificate, forwarder)?;
        let (signer_der, signer) = if forwarder {
            let der = signer_der.ok_or_else(|| {
                Refusal::new(
                    INVALID_TOKEN,
                    "a forwarded assertion must carry its signer's certificate (KeyInfo)",
                )
            })?;
            if let Some(verifier) = &self.verifier {
                verifier
                    .verify_client_cert(&der, &[], UnixTime::now())
                    .map_err(|error| {
                        Refusal::new(
                            FAILED_AUTHENTICATION,
                            format!("the assertion's signer certificate is not trusted: {error}"),
                        )
                    })?;
            }
            let signer = identity_of(&der, &self.settings.identity)
                .map_err(|error| Refusal::new(INVALID_TOKEN, error))?;
            (der, signer)
        } else {
            (certificate.clone(), identity.clone())
        };
        let (parsed, valid_until) = read_assertion(assertion, &signer_der, &self.settings, now)?;
        self.check_structure(&parsed, &signer)?;
        let problems = (self.codes)(&parsed);
        if !problems.is_empty() {
            return Err(Refusal::new(INVALID_TOKEN, problems.join("; ")));
        }
        Ok((
            Caller {
                certificate: Some(identity.clone()),
                assertion: Some(parsed),
                signer: forwarder.then_some(signer),
                direct_author_check: self.settings.direct_author_check,
            },
            valid_until,
        ))
    }

    /// dmp-profile.md §3.3 item 4 and §8 rule 17: in indirect modes the assertion's structure
    /// is the signing certificate's (or one of its configured sites); in direct mode the
    /// signer is the user's own card.
    fn check_structure(
        &self,
        assertion: &Assertion,
        signer: &CertificateIdentity,
    ) -> Result<(), Refusal> {
        if assertion.authentication.is_indirect() {
            let Some(structure) = &signer.structure_id else {
                return Err(Refusal::new(
                    FAILED_AUTHENTICATION,
                    format!(
                        "{} mode needs a structure certificate; {} is not one",
                        assertion.authentication.as_str(),
                        signer.subject
                    ),
                ));
            };
            let site = self
                .settings
                .structure_sites
                .get(structure)
                .is_some_and(|sites| sites.contains(&assertion.structure_id));
            if *structure != assertion.structure_id && !site {
                return Err(Refusal::new(
                    FAILED_AUTHENTICATION,
                    format!(
                        "legal-person authentication error: Identifiant_Structure {} is not the certificate's structure {structure}",
                        assertion.structure_id
                    ),
                ));
            }
        } else if signer.kind != CertificateKind::Professional
            || signer.professional_id.as_deref() != Some(assertion.name_id.as_str())
        {
            return Err(Refusal::new(
                FAILED_AUTHENTICATION,
                format!(
                    "DIRECTE mode: the assertion's user {} must sign with their own card certificate, not {}",
                    assertion.name_id, signer.subject
                ),
            ));
        }
        Ok(())
    }
}

fn single<'a>(parent: &'a Element, namespace: &str, local: &str) -> Result<&'a Element, Refusal> {
    let mut found = parent
        .elements()
        .filter(|element| element.is(namespace, local));
    match (found.next(), found.next()) {
        (Some(element), None) => Ok(element),
        (None, _) => Err(Refusal::new(
            INVALID_TOKEN,
            format!("{} has no {local}", parent.local),
        )),
        _ => Err(Refusal::new(
            INVALID_TOKEN,
            format!("{} has more than one {local}", parent.local),
        )),
    }
}

fn algorithm<'a>(element: &'a Element, local: &str) -> Result<&'a str, Refusal> {
    element
        .child(NS_DS, local)
        .and_then(|method| method.attribute("Algorithm"))
        .ok_or_else(|| Refusal::new(INVALID_TOKEN, format!("{} has no {local}", element.local)))
}

/// The InclusiveNamespaces PrefixList of an exc-c14n method or transform.
fn inclusive_prefixes(method: &Element) -> Vec<String> {
    method
        .child(EXC_C14N, "InclusiveNamespaces")
        .and_then(|inclusive| inclusive.attribute("PrefixList"))
        .map(|list| list.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// Checks the enveloped signature of `assertion` (inside `header`) and returns the signer
/// certificate of KeyInfo, if any. A signature made by another key than `tls_certificate`'s
/// (or KeyInfo's when `forwarded`) fails.
fn verify_signature(
    header: &Element,
    assertion: &Element,
    tls_certificate: &CertificateDer<'static>,
    forwarded: bool,
) -> Result<Option<CertificateDer<'static>>, Refusal> {
    let id = assertion
        .attribute("ID")
        .filter(|id| !id.is_empty())
        .ok_or_else(|| Refusal::new(INVALID_TOKEN, "the assertion has no ID"))?;
    // Signature wrapping: the reference must designate this assertion and nothing else.
    let holders = header
        .descendants()
        .into_iter()
        .filter(|element| {
            element.attributes.iter().any(|attribute| {
                matches!(attribute.local.as_str(), "ID" | "Id" | "id") && attribute.value == id
            })
        })
        .count();
    if holders != 1 {
        return Err(Refusal::new(
            INVALID_SECURITY,
            format!("ID {id:?} is carried by {holders} elements of the header"),
        ));
    }
    let signature = assertion.child(NS_DS, "Signature").ok_or_else(|| {
        Refusal::new(
            INVALID_SECURITY,
            "the assertion is not signed (no ds:Signature)",
        )
    })?;
    let signed_info = single(signature, NS_DS, "SignedInfo")?;
    let c14n_method = signed_info
        .child(NS_DS, "CanonicalizationMethod")
        .ok_or_else(|| Refusal::new(INVALID_TOKEN, "SignedInfo has no CanonicalizationMethod"))?;
    if c14n_method.attribute("Algorithm") != Some(EXC_C14N) {
        return Err(Refusal::new(
            UNSUPPORTED_ALGORITHM,
            format!(
                "canonicalization {:?} is not exclusive c14n ({EXC_C14N})",
                c14n_method.attribute("Algorithm").unwrap_or("")
            ),
        ));
    }
    let signature_method = algorithm(signed_info, "SignatureMethod")?;
    if signature_method != RSA_SHA256 {
        return Err(Refusal::new(
            UNSUPPORTED_ALGORITHM,
            format!("signature algorithm {signature_method:?} is not RSA-SHA256"),
        ));
    }
    let reference = single(signed_info, NS_DS, "Reference")?;
    let expected_uri = format!("#{id}");
    if reference.attribute("URI") != Some(expected_uri.as_str()) {
        return Err(Refusal::new(
            INVALID_SECURITY,
            format!(
                "the signature's reference {:?} is not the assertion ({expected_uri})",
                reference.attribute("URI").unwrap_or("")
            ),
        ));
    }
    let transforms: Vec<&Element> = reference
        .child(NS_DS, "Transforms")
        .map(|transforms| transforms.children_named(NS_DS, "Transform").collect())
        .unwrap_or_default();
    let names: Vec<&str> = transforms
        .iter()
        .map(|transform| transform.attribute("Algorithm").unwrap_or(""))
        .collect();
    if names != [ENVELOPED, EXC_C14N] {
        return Err(Refusal::new(
            UNSUPPORTED_ALGORITHM,
            format!(
                "the reference's transforms {names:?} are not enveloped-signature then exclusive c14n"
            ),
        ));
    }
    let digest_method = algorithm(reference, "DigestMethod")?;
    if digest_method != SHA256 {
        return Err(Refusal::new(
            UNSUPPORTED_ALGORITHM,
            format!("digest algorithm {digest_method:?} is not SHA-256"),
        ));
    }
    let digest_value = decode_base64(&single(reference, NS_DS, "DigestValue")?.text())
        .ok_or_else(|| Refusal::new(INVALID_TOKEN, "DigestValue is not base64"))?;
    let canonical = dom::exclusive_c14n(
        assertion,
        &inclusive_prefixes(transforms[1]),
        Some(signature),
    );
    let digest = ring::digest::digest(&ring::digest::SHA256, &canonical);
    if digest.as_ref() != digest_value.as_slice() {
        return Err(Refusal::new(
            FAILED_CHECK,
            "the assertion does not match its signed digest (changed after signing)",
        ));
    }
    let signature_value = decode_base64(&single(signature, NS_DS, "SignatureValue")?.text())
        .ok_or_else(|| Refusal::new(INVALID_TOKEN, "SignatureValue is not base64"))?;
    let key_info = signature
        .child(NS_DS, "KeyInfo")
        .and_then(|info| info.child(NS_DS, "X509Data"))
        .and_then(|data| data.child(NS_DS, "X509Certificate"))
        .map(|certificate| {
            decode_base64(&certificate.text())
                .map(CertificateDer::from)
                .ok_or_else(|| Refusal::new(INVALID_TOKEN, "X509Certificate is not base64"))
        })
        .transpose()?;
    let signer = match (&key_info, forwarded) {
        (Some(der), _) if forwarded => der,
        (None, true) => return Ok(None),
        (Some(der), false) if der.as_ref() != tls_certificate.as_ref() => {
            return Err(Refusal::new(
                FAILED_AUTHENTICATION,
                "the assertion is signed by another certificate than the TLS client certificate",
            ));
        }
        _ => tls_certificate,
    };
    let (_, parsed) = X509Certificate::from_der(signer.as_ref())
        .map_err(|error| Refusal::new(INVALID_TOKEN, format!("signer certificate: {error}")))?;
    let key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
        parsed.public_key().subject_public_key.data.as_ref(),
    );
    let signed = dom::exclusive_c14n(signed_info, &inclusive_prefixes(c14n_method), None);
    key.verify(&signed, &signature_value).map_err(|_| {
        Refusal::new(
            FAILED_CHECK,
            "the assertion's signature does not verify with the signer's key",
        )
    })?;
    Ok(key_info)
}

/// `xs:dateTime` in UTC (`Z` or an offset) to seconds since the epoch.
fn parse_instant(text: &str) -> Option<i64> {
    let text = text.trim();
    if !text.is_ascii() {
        return None;
    }
    let (date_time, offset) = if let Some(stripped) = text.strip_suffix('Z') {
        (stripped, 0)
    } else if text.len() > 6 && matches!(text.get(text.len() - 6..text.len() - 5), Some("+" | "-"))
    {
        let (body, zone) = text.split_at(text.len() - 6);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let hours: i64 = zone.get(1..3)?.parse().ok()?;
        let minutes: i64 = zone.get(4..6)?.parse().ok()?;
        (body, sign * (hours * 3600 + minutes * 60))
    } else {
        return None;
    };
    let (date, time) = date_time.split_once('T')?;
    let time = time.split('.').next()?;
    let compact = format!("{}{}", date.replace('-', ""), time.replace(':', ""));
    if compact.len() != 14 {
        return None;
    }
    Some(Dtm::parse(&compact).ok()?.to_unix_seconds()? - offset)
}

fn now_seconds() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_secs()).unwrap_or(i64::MAX)
        })
}

/// An attribute's values: their text, or their first child element.
struct AttributeValues<'a> {
    values: Vec<&'a Element>,
}

impl AttributeValues<'_> {
    fn text(&self) -> Option<String> {
        self.values
            .first()
            .map(|value| value.text().trim().to_owned())
            .filter(|text| !text.is_empty())
    }

    fn coded(&self) -> Vec<Option<CodedValue>> {
        self.values
            .iter()
            .map(|value| {
                let element = value.elements().next()?;
                Some(CodedValue {
                    code: element.attribute("code")?.to_owned(),
                    system: element.attribute("codeSystem")?.to_owned(),
                })
            })
            .collect()
    }
}

/// Reads and checks the assertion's contents (validity window at `now`, issuer, attributes);
/// the assertion and the first instant it (or its signer's certificate) is no longer valid.
fn read_assertion(
    assertion: &Element,
    signer: &CertificateDer<'_>,
    settings: &TrustSettings,
    now: i64,
) -> Result<(Assertion, i64), Refusal> {
    let invalid = |message: String| Refusal::new(INVALID_TOKEN, message);
    if assertion.attribute("Version") != Some("2.0") {
        return Err(invalid(
            "the assertion is not SAML 2.0 (Version)".to_owned(),
        ));
    }
    let skew = i64::try_from(settings.clock_skew.as_secs()).unwrap_or(i64::MAX);
    let max_age = i64::try_from(settings.max_age.as_secs()).unwrap_or(i64::MAX);
    let issued = assertion
        .attribute("IssueInstant")
        .and_then(parse_instant)
        .ok_or_else(|| invalid("IssueInstant is missing or not a UTC dateTime".to_owned()))?;
    if issued > now.saturating_add(skew) {
        return Err(invalid(format!(
            "IssueInstant is {} s in the future",
            issued - now
        )));
    }
    if now.saturating_sub(issued) > max_age.saturating_add(skew) {
        return Err(Refusal::new(
            EXPIRED,
            format!(
                "the assertion was issued {} s ago; the limit is {max_age} s",
                now - issued
            ),
        ));
    }
    let mut valid_until = issued
        .saturating_add(max_age)
        .saturating_add(skew)
        .saturating_add(1);
    if let Some(conditions) = assertion.child(NS_SAML2, "Conditions") {
        if let Some(not_before) = conditions.attribute("NotBefore") {
            let not_before = parse_instant(not_before)
                .ok_or_else(|| invalid("Conditions/@NotBefore is not a UTC dateTime".to_owned()))?;
            if not_before > now.saturating_add(skew) {
                return Err(invalid(
                    "the assertion is not valid yet (NotBefore)".to_owned(),
                ));
            }
        }
        if let Some(not_after) = conditions.attribute("NotOnOrAfter") {
            let not_after = parse_instant(not_after).ok_or_else(|| {
                invalid("Conditions/@NotOnOrAfter is not a UTC dateTime".to_owned())
            })?;
            if now.saturating_sub(skew) >= not_after {
                return Err(Refusal::new(
                    EXPIRED,
                    "the assertion has expired (NotOnOrAfter)",
                ));
            }
            valid_until = valid_until.min(not_after.saturating_add(skew));
        }
    }
    // Issuer: the signer certificate's subject.
    let issuer = single(assertion, NS_SAML2, "Issuer")?;
    if let Some(format) = issuer.attribute("Format")
        && format != X509_SUBJECT_NAME
    {
        return Err(invalid(format!(
            "Issuer Format {format:?} is not {X509_SUBJECT_NAME}"
        )));
    }
    let issuer_text = issuer.text().trim().to_owned();
    let (_, certificate) = X509Certificate::from_der(signer.as_ref())
        .map_err(|error| invalid(format!("signer certificate: {error}")))?;
    valid_until = valid_until.min(certificate.validity().not_after.timestamp());
    let subject = subject_of(&certificate);
    if !parse_dn(&issuer_text).is_some_and(|issuer| same_dn(&issuer, &subject)) {
        return Err(Refusal::new(
            FAILED_AUTHENTICATION,
            format!(
                "Issuer {issuer_text:?} is not the signer certificate's subject {:?}",
                super::tls::format_dn(&subject)
            ),
        ));
    }
    let name_id = assertion
        .child(NS_SAML2, "Subject")
        .and_then(|subject| subject.child(NS_SAML2, "NameID"))
        .map(|name| name.text().trim().to_owned())
        .filter(|name| !name.is_empty())
        .ok_or_else(|| invalid("Subject/NameID is missing".to_owned()))?;
    // Attributes.
    let mut attributes: BTreeMap<&str, AttributeValues<'_>> = BTreeMap::new();
    for statement in assertion.children_named(NS_SAML2, "AttributeStatement") {
        for attribute in statement.children_named(NS_SAML2, "Attribute") {
            let Some(name) = attribute.attribute("Name") else {
                return Err(invalid("an Attribute has no Name".to_owned()));
            };
            attributes
                .entry(name)
                .or_insert(AttributeValues { values: Vec::new() })
                .values
                .extend(attribute.children_named(NS_SAML2, "AttributeValue"));
        }
    }
    let required = |name: &str| -> Result<String, Refusal> {
        attributes
            .get(name)
            .and_then(AttributeValues::text)
            .ok_or_else(|| invalid(format!("required attribute {name} is missing or empty")))
    };
    let version = required("VIHF_Version")?;
    if !settings.versions.contains(&version) {
        return Err(invalid(format!(
            "VIHF_Version {version:?} is not one of {:?}",
            settings.versions
        )));
    }
    let mode_text = required("Authentification_Mode")?;
    let authentication = AuthenticationMode::parse(&mode_text).ok_or_else(|| {
        invalid(format!(
            "Authentification_Mode {mode_text:?} is not DIRECTE, INDIRECTE or INDIRECTE_RENFORCEE"
        ))
    })?;
    let structure_id = required("Identifiant_Structure")?;
    let sector_text = required("Secteur_Activite")?;
    let sector = sector_text
        .split_once('^')
        .filter(|(code, system)| !code.is_empty() && !system.is_empty() && !system.contains('^'))
        .map(|(code, system)| CodedValue {
            code: code.to_owned(),
            system: system.to_owned(),
        })
        .ok_or_else(|| invalid(format!("Secteur_Activite {sector_text:?} is not code^OID")))?;
    let subject_name = required(ATTRIBUTE_SUBJECT_ID)?;
    let resource = required("Ressource_URN")?;
    if resource != "urn:dmp" {
        return Err(invalid(format!(
            "Ressource_URN {resource:?} is not urn:dmp"
        )));
    }
    let software_name = required("LPS_Nom")?;
    let software_homologation = required("LPS_ID_HOMOLOGATION_DMP")?;
    let roles = attributes
        .get(ATTRIBUTE_ROLE)
        .map(AttributeValues::coded)
        .unwrap_or_default();
    if roles.is_empty() {
        return Err(invalid(format!(
            "required attribute {ATTRIBUTE_ROLE} is missing"
        )));
    }
    let roles: Vec<CodedValue> = roles.into_iter().collect::<Option<_>>().ok_or_else(|| {
        invalid("a role value is not an element with code and codeSystem".to_owned())
    })?;
    let profession = (roles[0].code.as_str(), roles[0].system.as_str());
    let second = roles.get(1).map(|role| role.system.as_str());
    if profession == DOCTOR && second != Some(DOCTOR_SPECIALITIES) {
        return Err(invalid(format!(
            "a doctor (role 10) needs a second role from {DOCTOR_SPECIALITIES} (savoir-faire)"
        )));
    }
    if profession == PHARMACIST && second != Some(PHARMACIST_SECTIONS) {
        return Err(invalid(format!(
            "a pharmacist (role 21) needs a second role from {PHARMACIST_SECTIONS} (CNOP section)"
        )));
    }
    let purpose = attributes
        .get(ATTRIBUTE_PURPOSE)
        .map(AttributeValues::coded)
        .and_then(|values| values.into_iter().next().flatten())
        .ok_or_else(|| {
            invalid(format!(
                "required attribute {ATTRIBUTE_PURPOSE} is missing or has no code and codeSystem"
            ))
        })?;
    let access_mode = AccessMode::parse(&purpose.code)
        .filter(|_| ACCESS_MODE_SYSTEMS.contains(&purpose.system.as_str()))
        .ok_or_else(|| {
            invalid(format!(
                "access mode {}^{} is not normal, bris_de_glace or centre_15 of TRE_R248 ({})",
                purpose.code,
                purpose.system,
                ACCESS_MODE_SYSTEMS.join(" or ")
            ))
        })?;
    let confidentiality = attributes
        .get(ATTRIBUTE_CONFIDENTIALITY)
        .and_then(|values| {
            values.text().or_else(|| {
                values
                    .coded()
                    .into_iter()
                    .next()
                    .flatten()
                    .map(|value| value.code)
            })
        });
    if let Some(value) = &confidentiality
        && value != SECRET_CONNECTION
    {
        return Err(invalid(format!(
            "confidentiality-code {value:?} is not {SECRET_CONNECTION}"
        )));
    }
    let patient = match attributes
        .get(ATTRIBUTE_RESOURCE_ID)
        .and_then(AttributeValues::text)
    {
        None => None,
        Some(text) => Some(check_patient(&text).map_err(|reason| {
            invalid(format!("resource-id {text:?} is not a valid INS: {reason}"))
        })?),
    };
    Ok((
        Assertion {
            id: assertion.attribute("ID").unwrap_or_default().to_owned(),
            issuer: issuer_text,
            name_id,
            version,
            authentication,
            structure_id,
            sector,
            subject_name,
            roles,
            access_mode,
            patient,
            confidentiality,
            software_name,
            software_homologation,
            issue_instant: issued,
        },
        valid_until,
    ))
}

/// A patient id of the assertion: a CX `<id>^^^&<OID>&ISO^NH`, and for INS OIDs a valid
/// matricule with its key.
fn check_patient(text: &str) -> Result<Cx, String> {
    let cx = Cx::parse(text).map_err(|error| error.to_string())?;
    cx.check_patient_id_form()?;
    let oid = cx
        .assigning_authority()
        .and_then(|authority| authority.iso_oid())
        .ok_or("no ISO assigning authority")?;
    if InsKind::from_oid(oid.as_str()).is_some() {
        crate::model::ins::check_matricule(cx.id_number(), true)
            .map_err(|error| error.to_string())?;
    }
    Ok(cx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_read_in_utc() {
        assert_eq!(parse_instant("1970-01-01T00:00:10Z"), Some(10));
        assert_eq!(parse_instant("1970-01-01T01:00:10.123+01:00"), Some(10));
        assert_eq!(parse_instant("1970-01-01T00:00:10"), None);
        assert_eq!(parse_instant("yesterday"), None);
        assert_eq!(parse_instant("2026-11-23T10:00:00+01:0é"), None);
        assert_eq!(parse_instant("é"), None);
    }
}
