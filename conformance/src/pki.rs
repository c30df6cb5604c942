//! The test PKI (`xds-conformance pki init DIR`) and VIHF assertions signed with it
//! (`xds-conformance pki vihf`). Throwaway keys for tests, development and demonstrations:
//! never for production.
//!
//! Files of `pki init DIR` (PEM; `NAME.pem` a certificate, `NAME.key` its PKCS#8 RSA key):
//!
//! | File | What |
//! |---|---|
//! | `ca.pem`, `ca.key`, `ca.crl` | the test CA "AC TEST IGC-SANTE ELEMENTAIRE ORGANISATIONS" and its CRL |
//! | `untrusted-ca.pem`, `.key` | a second CA the daemons do not trust |
//! | `registry.pem`, `repository.pem` | the daemons' certificates (server and client; localhost, 127.0.0.1, ::1) |
//! | `structure.pem` | seal certificate of structure `1750100125` (FINESS 750100125) |
//! | `structure-b.pem` | seal certificate of another structure, `1690100141` |
//! | `professional.pem` | card certificate of the doctor `810003461033` (RPPS 10003461033) |
//! | `expired.pem` | a seal certificate of `1750100125` that has expired |
//! | `revoked.pem` | a seal certificate of `1750100125` listed in `ca.crl` |
//! | `untrusted.pem` | a seal certificate of `1750100125` issued by the untrusted CA |

use std::path::{Path, PathBuf};

use base64::Engine;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    PKCS_RSA_SHA256, RevokedCertParams, SanType, SerialNumber,
};
use rsa::pkcs8::EncodePrivateKey;
use xds::wire::dom;

/// What went wrong making or using the test PKI.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("{0}")]
    Crypto(String),
    #[error("{0}")]
    Usage(String),
}

fn crypto(error: impl std::fmt::Display) -> PkiError {
    PkiError::Crypto(error.to_string())
}

fn file_error(path: &Path, error: impl std::fmt::Display) -> PkiError {
    PkiError::File {
        path: path.display().to_string(),
        reason: error.to_string(),
    }
}

/// The structure id of `structure.pem` (and of the expired, revoked and untrusted ones).
pub const STRUCTURE_ID: &str = "1750100125";
/// The structure id of `structure-b.pem`.
pub const OTHER_STRUCTURE_ID: &str = "1690100141";
/// The idNat_PS of `professional.pem`.
pub const PROFESSIONAL_ID: &str = "810003461033";
/// The structure id of the test patient portal (`portal.pem`).
pub const PORTAL_STRUCTURE_ID: &str = "1000000001";
/// The subject DN of the test patient portal's certificate.
pub const PORTAL_DN: &str =
    "CN=PORTAIL PATIENT TEST,OU=1000000001,O=MON ESPACE SANTE TEST,ST=Paris (75),C=FR";

/// A fresh 2048-bit RSA key (the rsa crate makes it; ring signs with it through rcgen).
fn new_key() -> Result<KeyPair, PkiError> {
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).map_err(crypto)?;
    let pkcs8 = key.to_pkcs8_der().map_err(crypto)?.as_bytes().to_vec();
    KeyPair::from_pkcs8_der_and_sign_algo(&pkcs8.into(), &PKCS_RSA_SHA256).map_err(crypto)
}

fn name(parts: &[(DnType, &str)]) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    for (kind, value) in parts {
        name.push(kind.clone(), *value);
    }
    name
}

fn now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// One certificate to issue.
struct Leaf<'a> {
    file: &'a str,
    subject: DistinguishedName,
    server: bool,
    expired: bool,
    serial: u64,
}

fn leaf_params(leaf: &Leaf<'_>, hosts: &[String]) -> Result<CertificateParams, PkiError> {
    let mut params = CertificateParams::default();
    params.distinguished_name = leaf.subject.clone();
    params.serial_number = Some(SerialNumber::from(leaf.serial));
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
        KeyUsagePurpose::ContentCommitment,
    ];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    if leaf.server {
        params
            .extended_key_usages
            .push(ExtendedKeyUsagePurpose::ServerAuth);
        params.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().map_err(crypto)?),
            SanType::IpAddress([127, 0, 0, 1].into()),
            SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()),
        ];
        for host in hosts {
            params
                .subject_alt_names
                .push(SanType::DnsName(host.clone().try_into().map_err(crypto)?));
        }
    }
    if leaf.expired {
        params.not_before = now() - time::Duration::days(400);
        params.not_after = now() - time::Duration::days(35);
    } else {
        params.not_before = now() - time::Duration::days(1);
        params.not_after = now() + time::Duration::days(825);
    }
    Ok(params)
}

fn ca_params(common_name: &str) -> CertificateParams {
    let mut params = CertificateParams::default();
    params.distinguished_name = name(&[
        (DnType::CountryName, "FR"),
        (DnType::OrganizationName, "XDS TEST PKI"),
        (DnType::OrganizationalUnitName, "NOT FOR PRODUCTION"),
        (DnType::CommonName, common_name),
    ]);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.key_identifier_method = KeyIdMethod::Sha256;
    params.not_before = now() - time::Duration::days(2);
    params.not_after = now() + time::Duration::days(3650);
    params
}

fn structure(common_name: &str, structure_id: &str, organisation: &str) -> DistinguishedName {
    name(&[
        (DnType::CountryName, "FR"),
        (DnType::StateOrProvinceName, "Paris (75)"),
        (DnType::OrganizationName, organisation),
        (DnType::OrganizationalUnitName, structure_id),
        (DnType::CommonName, common_name),
    ])
}

fn write(dir: &Path, file: &str, text: &str) -> Result<(), PkiError> {
    let path = dir.join(file);
    std::fs::write(&path, text).map_err(|error| file_error(&path, error))
}

/// Makes the whole test PKI in `dir` (created if missing). Existing files are replaced.
pub fn init(dir: &Path) -> Result<Vec<PathBuf>, PkiError> {
    init_with_hosts(dir, &[])
}

/// [`init`], the daemons' certificates also naming `hosts` (DNS names, e.g. the services of a
/// docker-compose network).
pub fn init_with_hosts(dir: &Path, hosts: &[String]) -> Result<Vec<PathBuf>, PkiError> {
    std::fs::create_dir_all(dir).map_err(|error| file_error(dir, error))?;
    let mut written = Vec::new();
    let mut issue_ca =
        |file: &str, common_name: &str| -> Result<Issuer<'static, KeyPair>, PkiError> {
            let params = ca_params(common_name);
            let key = new_key()?;
            let certificate = params.self_signed(&key).map_err(crypto)?;
            write(dir, &format!("{file}.pem"), &certificate.pem())?;
            write(dir, &format!("{file}.key"), &key.serialize_pem())?;
            written.push(dir.join(format!("{file}.pem")));
            Ok(Issuer::new(params, key))
        };
    let ca = issue_ca("ca", "AC TEST IGC-SANTE ELEMENTAIRE ORGANISATIONS")?;
    let untrusted_ca = issue_ca("untrusted-ca", "AC INCONNUE")?;
    let leaves = [
        (
            Leaf {
                file: "registry",
                subject: name(&[
                    (DnType::CountryName, "FR"),
                    (DnType::OrganizationName, "XDS TEST PKI"),
                    (DnType::CommonName, "xds-registry"),
                ]),
                server: true,
                expired: false,
                serial: 0x1001,
            },
            false,
        ),
        (
            Leaf {
                file: "repository",
                subject: name(&[
                    (DnType::CountryName, "FR"),
                    (DnType::OrganizationName, "XDS TEST PKI"),
                    (DnType::CommonName, "xds-repository"),
                ]),
                server: true,
                expired: false,
                serial: 0x1002,
            },
            false,
        ),
        (
            Leaf {
                file: "structure",
                subject: structure("DPI HOPITAL TEST", STRUCTURE_ID, "HOPITAL TEST"),
                server: false,
                expired: false,
                serial: 0x2001,
            },
            false,
        ),
        (
            Leaf {
                file: "structure-b",
                subject: structure("SIL LABO TEST", OTHER_STRUCTURE_ID, "LABORATOIRE TEST"),
                server: false,
                expired: false,
                serial: 0x2002,
            },
            false,
        ),
        (
            Leaf {
                file: "portal",
                subject: structure(
                    "PORTAIL PATIENT TEST",
                    PORTAL_STRUCTURE_ID,
                    "MON ESPACE SANTE TEST",
                ),
                server: false,
                expired: false,
                serial: 0x2003,
            },
            false,
        ),
        (
            Leaf {
                file: "professional",
                subject: name(&[
                    (DnType::CountryName, "FR"),
                    (DnType::OrganizationName, "CABINET TEST"),
                    (DnType::CustomDnType(vec![2, 5, 4, 4]), "DURANT"),
                    (DnType::CustomDnType(vec![2, 5, 4, 42]), "Romuald"),
                    (DnType::CommonName, PROFESSIONAL_ID),
                ]),
                server: false,
                expired: false,
                serial: 0x3001,
            },
            false,
        ),
        (
            Leaf {
                file: "expired",
                subject: structure("DPI HOPITAL TEST EXPIRE", STRUCTURE_ID, "HOPITAL TEST"),
                server: false,
                expired: true,
                serial: 0x4001,
            },
            false,
        ),
        (
            Leaf {
                file: "revoked",
                subject: structure("DPI HOPITAL TEST REVOQUE", STRUCTURE_ID, "HOPITAL TEST"),
                server: false,
                expired: false,
                serial: 0x4002,
            },
            false,
        ),
        (
            Leaf {
                file: "untrusted",
                subject: structure("DPI HOPITAL TEST INCONNU", STRUCTURE_ID, "HOPITAL TEST"),
                server: false,
                expired: false,
                serial: 0x4003,
            },
            true,
        ),
    ];
    for (leaf, untrusted) in &leaves {
        let key = new_key()?;
        let issuer = if *untrusted { &untrusted_ca } else { &ca };
        let certificate = leaf_params(leaf, hosts)?
            .signed_by(&key, issuer)
            .map_err(crypto)?;
        write(dir, &format!("{}.pem", leaf.file), &certificate.pem())?;
        write(dir, &format!("{}.key", leaf.file), &key.serialize_pem())?;
        written.push(dir.join(format!("{}.pem", leaf.file)));
    }
    let crl = CertificateRevocationListParams {
        this_update: now() - time::Duration::hours(1),
        next_update: now() + time::Duration::days(30),
        crl_number: SerialNumber::from(1u64),
        issuing_distribution_point: None,
        revoked_certs: vec![RevokedCertParams {
            serial_number: SerialNumber::from(0x4002u64),
            revocation_time: now() - time::Duration::hours(2),
            reason_code: Some(rcgen::RevocationReason::KeyCompromise),
            invalidity_date: None,
        }],
        key_identifier_method: KeyIdMethod::Sha256,
    }
    .signed_by(&ca)
    .map_err(crypto)?;
    write(dir, "ca.crl", &crl.pem().map_err(crypto)?)?;
    written.push(dir.join("ca.crl"));
    write(
        dir,
        "README.txt",
        "Test PKI made by `xds-conformance pki init`: throwaway keys, never for production.\n\
         ca.pem/ca.key/ca.crl: the test CA and its CRL (revoked.pem is listed).\n\
         untrusted-ca.pem: a CA the daemons do not trust (untrusted.pem is its).\n\
         registry.pem, repository.pem: the daemons (server and client; localhost, 127.0.0.1, ::1).\n\
         structure.pem: structure 1750100125; structure-b.pem: structure 1690100141.\n\
         portal.pem: a patient portal (structure 1000000001).\n\
         professional.pem: card of the doctor 810003461033.\n\
         expired.pem, revoked.pem, untrusted.pem: refused certificates of structure 1750100125.\n\
         `xds-conformance pki vihf --dir DIR --cert NAME ...` signs a VIHF assertion with NAME.key.\n",
    )?;
    Ok(written)
}

/// What a VIHF assertion says (dmp-profile.md §3).
#[derive(Debug, Clone)]
pub struct VihfSpec {
    /// File stem of the signer in the PKI folder (`structure`, `professional`, ...).
    pub signer: String,
    pub name_id: String,
    pub subject_name: String,
    pub authentication: String,
    pub structure_id: String,
    pub sector: String,
    /// `code^codeSystem`, profession first.
    pub roles: Vec<String>,
    /// `code^codeSystem` of purposeofuse.
    pub access_mode: String,
    /// The patient CX (`resource-id`); none for transactions that name no patient.
    pub patient: Option<String>,
    pub version: String,
    pub confidentiality: Option<String>,
    /// Seconds before now the assertion says it was issued.
    pub issued_ago: i64,
    /// Validity from the issue instant, for `Conditions/@NotOnOrAfter`.
    pub lifetime: i64,
}

impl VihfSpec {
    /// An indirect-mode assertion of `structure.pem`'s software for a doctor of that
    /// structure, about `patient`.
    pub fn structure(patient: Option<&str>) -> Self {
        Self {
            signer: "structure".to_owned(),
            name_id: "3750100125/1453".to_owned(),
            subject_name: "MARTIN Philippe".to_owned(),
            authentication: "INDIRECTE".to_owned(),
            structure_id: STRUCTURE_ID.to_owned(),
            sector: "SA07^1.2.250.1.71.4.2.4".to_owned(),
            roles: vec![
                "10^1.2.250.1.71.1.2.7".to_owned(),
                "SM26^1.2.250.1.71.4.2.5".to_owned(),
            ],
            access_mode: "normal^1.2.250.1.213.1.1.4.248".to_owned(),
            patient: patient.map(str::to_owned),
            version: "3.0".to_owned(),
            confidentiality: None,
            issued_ago: 5,
            lifetime: 3600,
        }
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn instant(unix: i64) -> String {
    let dtm = xds::model::Dtm::from_unix_seconds(u64::try_from(unix).unwrap_or(0));
    let text = dtm.as_str();
    format!(
        "{}-{}-{}T{}:{}:{}Z",
        &text[0..4],
        &text[4..6],
        &text[6..8],
        &text[8..10],
        &text[10..12],
        &text[12..14]
    )
}

fn coded(element: &str, value: &str, extra: &str) -> Result<String, PkiError> {
    let (code, system) = value
        .split_once('^')
        .ok_or_else(|| PkiError::Usage(format!("{value:?} is not code^codeSystem")))?;
    Ok(format!(
        "<{element} xmlns=\"urn:hl7-org:v3\" xsi:type=\"CE\" code=\"{}\" codeSystem=\"{}\"{extra}/>",
        escape(code),
        escape(system)
    ))
}

/// A signed VIHF assertion (`saml2:Assertion` element) made with `dir/SIGNER.key`.
pub fn sign_vihf(dir: &Path, spec: &VihfSpec) -> Result<String, PkiError> {
    let certificate = xds::net::tls::read_certificates(&dir.join(format!("{}.pem", spec.signer)))
        .map_err(crypto)?
        .remove(0);
    let key = xds::net::tls::read_private_key(&dir.join(format!("{}.key", spec.signer)))
        .map_err(crypto)?;
    let issuer = xds::net::tls::identity_of(&certificate, &xds::net::tls::IdentityRules::default())
        .map_err(PkiError::Crypto)?
        .subject;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| i64::try_from(elapsed.as_secs()).unwrap_or(0));
    let issued = now - spec.issued_ago;
    let id = format!(
        "_{}",
        xds::model::Uuid::new_v4(random16())
            .to_string()
            .trim_start_matches("urn:uuid:")
    );
    let mut attributes = String::new();
    let mut text_attribute = |name: &str, value: &str| {
        attributes.push_str(&format!(
            "<saml2:Attribute Name=\"{}\"><saml2:AttributeValue>{}</saml2:AttributeValue></saml2:Attribute>",
            escape(name),
            escape(value)
        ));
    };
    text_attribute("VIHF_Version", &spec.version);
    text_attribute("Authentification_Mode", &spec.authentication);
    text_attribute("Identifiant_Structure", &spec.structure_id);
    text_attribute("Secteur_Activite", &spec.sector);
    text_attribute(
        "urn:oasis:names:tc:xspa:1.0:subject:subject-id",
        &spec.subject_name,
    );
    if let Some(patient) = &spec.patient {
        text_attribute("urn:oasis:names:tc:xacml:2.0:resource:resource-id", patient);
    }
    text_attribute("Ressource_URN", "urn:dmp");
    text_attribute("LPS_Nom", "xds-conformance");
    text_attribute("LPS_Version", env!("CARGO_PKG_VERSION"));
    text_attribute("LPS_ID_HOMOLOGATION_DMP", "TEST-0000");
    if let Some(code) = &spec.confidentiality {
        text_attribute(
            "urn:oasis:names:tc:xspa:1.0:resource:patient:hl7:confidentiality-code",
            code,
        );
    }
    let mut roles = String::new();
    for role in &spec.roles {
        roles.push_str("<saml2:AttributeValue>");
        roles.push_str(&coded("Role", role, "")?);
        roles.push_str("</saml2:AttributeValue>");
    }
    let purpose = coded(
        "PurposeOfUse",
        &spec.access_mode,
        " codeSystemName=\"mode acces VIHF 1.0\"",
    )?;
    let unsigned_head = format!(
        "<saml2:Assertion xmlns:saml2=\"urn:oasis:names:tc:SAML:2.0:assertion\" xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ID=\"{id}\" IssueInstant=\"{}\" Version=\"2.0\"><saml2:Issuer Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName\">{}</saml2:Issuer>",
        instant(issued),
        escape(&issuer)
    );
    let unsigned_tail = format!(
        "<saml2:Subject><saml2:NameID Format=\"urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified\">{}</saml2:NameID></saml2:Subject><saml2:Conditions NotBefore=\"{}\" NotOnOrAfter=\"{}\"/><saml2:AuthnStatement AuthnInstant=\"{}\"><saml2:AuthnContext><saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:TLSClient</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement><saml2:AttributeStatement>{attributes}<saml2:Attribute Name=\"urn:oasis:names:tc:xacml:2.0:subject:role\">{roles}</saml2:Attribute><saml2:Attribute Name=\"urn:oasis:names:tc:xspa:1.0:subject:purposeofuse\"><saml2:AttributeValue>{purpose}</saml2:AttributeValue></saml2:Attribute></saml2:AttributeStatement></saml2:Assertion>",
        escape(&spec.name_id),
        instant(issued - 60),
        instant(issued + spec.lifetime),
        instant(issued)
    );
    let unsigned = format!("{unsigned_head}{unsigned_tail}");
    let parsed = dom::parse_in(&unsigned, &[]).map_err(crypto)?;
    let inclusive = vec!["xsi".to_owned()];
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        &dom::exclusive_c14n(&parsed, &inclusive, None),
    );
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let signed_info = format!(
        "<ds:SignedInfo><ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/><ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/><ds:Reference URI=\"#{id}\"><ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/><ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"><ec:InclusiveNamespaces xmlns:ec=\"http://www.w3.org/2001/10/xml-exc-c14n#\" PrefixList=\"xsi\"/></ds:Transform></ds:Transforms><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue>{}</ds:DigestValue></ds:Reference></ds:SignedInfo>",
        b64(digest.as_ref())
    );
    let context = vec![
        (
            "saml2".to_owned(),
            "urn:oasis:names:tc:SAML:2.0:assertion".to_owned(),
        ),
        (
            "xsi".to_owned(),
            "http://www.w3.org/2001/XMLSchema-instance".to_owned(),
        ),
        (
            "ds".to_owned(),
            "http://www.w3.org/2000/09/xmldsig#".to_owned(),
        ),
    ];
    let signed_info_tree = dom::parse_in(&signed_info, &context).map_err(crypto)?;
    let canonical = dom::exclusive_c14n(&signed_info_tree, &[], None);
    let key = ring::signature::RsaKeyPair::from_pkcs8(key.secret_der()).map_err(crypto)?;
    let mut signature = vec![0u8; key.public().modulus_len()];
    key.sign(
        &ring::signature::RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        &canonical,
        &mut signature,
    )
    .map_err(crypto)?;
    Ok(format!(
        "{unsigned_head}<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">{signed_info}<ds:SignatureValue>{}</ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>{unsigned_tail}",
        b64(&signature),
        b64(certificate.as_ref())
    ))
}

fn random16() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    let _ = getrandom::fill(&mut bytes);
    bytes
}

/// The `wsse:Security` header block holding `assertion`.
pub fn security_header(assertion: &str) -> String {
    format!(
        "<wsse:Security xmlns:wsse=\"{}\">{assertion}</wsse:Security>",
        xds::wire::names::NS_WSSE
    )
}

/// A Simple SOAP 1.2 request: `action`, a message id, the assertion's WS-Security header and
/// `body` (one element, an XML declaration tolerated).
pub fn soap_request(action: &str, assertion: Option<&str>, body: &str) -> String {
    let body = body.trim_start();
    let body = if body.starts_with("<?xml") {
        body.find("?>")
            .map_or(body, |end| body[end + 2..].trim_start())
    } else {
        body
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\"><soap:Header><wsa:Action soap:mustUnderstand=\"1\">{action}</wsa:Action><wsa:MessageID>{}</wsa:MessageID>{}</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>",
        xds::model::Uuid::new_v4(random16()),
        assertion.map(security_header).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_xml_datetimes() {
        assert_eq!(instant(0), "1970-01-01T00:00:00Z");
        assert_eq!(instant(86_400 + 61), "1970-01-02T00:01:01Z");
    }
}
