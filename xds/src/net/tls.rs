//! Mutual TLS: the listeners' rustls configuration (a required client certificate chaining to
//! the configured trust anchors, checked against the configured CRLs), the client
//! configuration of a daemon calling another with its own certificate, and what a client
//! certificate says about its holder ([`identity_of`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
pub use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateRevocationListDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::server::danger::ClientCertVerifier;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::model::{CertificateIdentity, CertificateKind};

/// The files of a TLS endpoint (PEM).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsFiles {
    /// The daemon's certificate chain (leaf first).
    pub certificate: PathBuf,
    pub private_key: PathBuf,
    /// Trust anchors: clients' certificates must chain to one of them (and so must VIHF
    /// signers); the repository also checks the registry's server certificate against them.
    pub trust_anchors: PathBuf,
    /// Certificate revocation lists of those CAs.
    pub crls: Vec<PathBuf>,
}

/// A TLS file that cannot be used (exit 64 before listening).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {reason}")]
    File { path: String, reason: String },
    #[error("TLS configuration: {0}")]
    Config(String),
}

fn file_error(path: &Path, reason: impl ToString) -> TlsError {
    TlsError::File {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

/// The certificates of a PEM file (at least one).
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|error| file_error(path, error))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| file_error(path, error))?;
    if certificates.is_empty() {
        return Err(file_error(path, "no CERTIFICATE in the file"));
    }
    Ok(certificates)
}

/// The private key of a PEM file (PKCS#8, PKCS#1 or SEC1).
pub fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|error| file_error(path, error))
}

fn read_crls(paths: &[PathBuf]) -> Result<Vec<CertificateRevocationListDer<'static>>, TlsError> {
    let mut crls = Vec::new();
    for path in paths {
        let found = CertificateRevocationListDer::pem_file_iter(path)
            .map_err(|error| file_error(path, error))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| file_error(path, error))?;
        if found.is_empty() {
            return Err(file_error(path, "no X509 CRL in the file"));
        }
        crls.extend(found);
    }
    Ok(crls)
}

fn roots(path: &Path) -> Result<Arc<RootCertStore>, TlsError> {
    let mut store = RootCertStore::empty();
    for certificate in read_certificates(path)? {
        store
            .add(certificate)
            .map_err(|error| file_error(path, error))?;
    }
    Ok(Arc::new(store))
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A listener's TLS: the acceptor, and the client-certificate verifier (also used for the
/// signers of forwarded assertions).
#[derive(Clone)]
pub struct ServerTls {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub verifier: Arc<dyn ClientCertVerifier>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("ServerTls")
    }
}

impl ServerTls {
    /// Reads every file; a client certificate is required on every connection.
    pub fn load(files: &TlsFiles) -> Result<Self, TlsError> {
        let chain = read_certificates(&files.certificate)?;
        let key = read_private_key(&files.private_key)?;
        let verifier =
            WebPkiClientVerifier::builder_with_provider(roots(&files.trust_anchors)?, provider())
                .with_crls(read_crls(&files.crls)?)
                .build()
                .map_err(|error| TlsError::Config(error.to_string()))?;
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|error| TlsError::Config(error.to_string()))?
            .with_client_cert_verifier(Arc::clone(&verifier))
            .with_single_cert(chain, key)
            .map_err(|error| file_error(&files.private_key, error))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        // Session resumption (tickets) keeps reconnecting clients off the full handshake.
        config.ticketer = rustls::crypto::ring::Ticketer::new()
            .map_err(|error| TlsError::Config(error.to_string()))?;
        Ok(Self {
            acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)),
            verifier,
        })
    }

    /// An acceptor for a listener that speaks `alpn` only (empty: no ALPN, as MLLP).
    pub fn with_alpn(&self, alpn: &[&[u8]]) -> tokio_rustls::TlsAcceptor {
        with_alpn(&self.acceptor, alpn)
    }
}

/// `acceptor` (same certificates and client verifier) offering `alpn` only (empty: no ALPN).
pub fn with_alpn(
    acceptor: &tokio_rustls::TlsAcceptor,
    alpn: &[&[u8]],
) -> tokio_rustls::TlsAcceptor {
    let mut config = rustls::ServerConfig::clone(acceptor.config());
    config.alpn_protocols = alpn.iter().map(|protocol| protocol.to_vec()).collect();
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// A client configuration trusting servers whose certificates chain to `trust_anchors` and,
/// with `identity` (certificate chain file, private key file), presenting that certificate.
pub fn client_config(
    identity: Option<(&Path, &Path)>,
    trust_anchors: &Path,
) -> Result<rustls::ClientConfig, TlsError> {
    let builder = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::Config(error.to_string()))?
        .with_root_certificates(roots(trust_anchors)?);
    match identity {
        None => Ok(builder.with_no_client_auth()),
        Some((certificate, private_key)) => builder
            .with_client_auth_cert(
                read_certificates(certificate)?,
                read_private_key(private_key)?,
            )
            .map_err(|error| file_error(private_key, error)),
    }
}

/// What the peer of a connection presented (None on a plain listener).
#[derive(Debug, Clone, Default)]
pub struct Peer {
    pub certificate: Option<CertificateDer<'static>>,
    pub identity: Option<CertificateIdentity>,
}

/// How identities are read from certificate subjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRules {
    /// Subject attribute carrying a card holder's idNat_PS (dmp-profile.md §2.7: UNCONFIRMED,
    /// `CN` by default).
    pub professional_attribute: String,
}

impl Default for IdentityRules {
    fn default() -> Self {
        Self {
            professional_attribute: "CN".to_owned(),
        }
    }
}

/// Short names of the DN attributes certificates here use; others print as dotted OIDs.
fn attribute_name(oid: &str) -> String {
    match oid {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "SERIALNUMBER",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "TITLE",
        "2.5.4.42" => "GN",
        "1.2.840.113549.1.9.1" => "E",
        other => other,
    }
    .to_owned()
}

/// The subject of a certificate as `(attribute, value)` pairs, most significant last
/// (RFC 4514 order: `CN` first, `C` last).
pub fn subject_of(certificate: &X509Certificate<'_>) -> Vec<(String, String)> {
    let mut pairs = Vec::new();
    for rdn in certificate.subject().iter_rdn() {
        for attribute in rdn.iter() {
            let value = attribute
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|_| String::from_utf8_lossy(attribute.as_slice()).into_owned());
            pairs.push((attribute_name(&attribute.attr_type().to_id_string()), value));
        }
    }
    pairs.reverse();
    pairs
}

/// `CN=a,OU=b,...` (RFC 4514 escaping of the characters it requires).
pub fn format_dn(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(name);
        out.push('=');
        for (position, character) in value.chars().enumerate() {
            let leading = position == 0 && matches!(character, ' ' | '#');
            if leading || matches!(character, ',' | '+' | '"' | '\\' | '<' | '>' | ';') {
                out.push('\\');
            }
            out.push(character);
        }
    }
    out
}

/// Parses an RFC 4514 (or X.500-ordered, or `, `-separated) DN string into pairs; None when
/// it is not a DN.
pub fn parse_dn(text: &str) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    let mut current = String::new();
    let mut escaped = false;
    let mut pieces = Vec::new();
    for character in text.chars() {
        if escaped {
            current.push(character);
            escaped = false;
        } else if character == '\\' {
            escaped = true;
        } else if character == ',' || character == '+' || character == ';' {
            pieces.push(std::mem::take(&mut current));
        } else {
            current.push(character);
        }
    }
    pieces.push(current);
    for piece in pieces {
        let (name, value) = piece.split_once('=')?;
        let name = name.trim().to_ascii_uppercase();
        if name.is_empty() {
            return None;
        }
        let name = match name.as_str() {
            "GIVENNAME" => "GN".to_owned(),
            "SURNAME" => "SN".to_owned(),
            "EMAILADDRESS" => "E".to_owned(),
            "S" => "ST".to_owned(),
            _ => name,
        };
        pairs.push((name, value.trim().to_owned()));
    }
    Some(pairs)
}

/// Whether two DNs name the same subject: same attributes and values (values compared without
/// case and with white space runs collapsed), in the same order or in reverse order (X.500 and
/// LDAP write DNs in opposite orders).
pub fn same_dn(left: &[(String, String)], right: &[(String, String)]) -> bool {
    fn normalize(value: &str) -> String {
        value
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    }
    let equal = |a: &(String, String), b: &(String, String)| {
        a.0 == b.0 && normalize(&a.1) == normalize(&b.1)
    };
    left.len() == right.len()
        && (left.iter().zip(right).all(|(a, b)| equal(a, b))
            || left
                .iter()
                .zip(right.iter().rev())
                .all(|(a, b)| equal(a, b)))
}

/// Whether `value` has the form of an idNat_PS (dmp-profile.md §2.1).
fn is_professional_id(value: &str) -> bool {
    let mut characters = value.chars();
    let Some(first) = characters.next() else {
        return false;
    };
    let (id, internal) = match value.split_once('/') {
        Some((id, internal)) => (id, Some(internal)),
        None => (value, None),
    };
    matches!(first, '0' | '1' | '3' | '4' | '5' | '6' | '8')
        && id.len() > 1
        && id
            .chars()
            .all(|character| character.is_ascii_alphanumeric())
        && id
            .chars()
            .skip(1)
            .any(|character| character.is_ascii_digit())
        && internal.is_none_or(|internal| {
            !internal.is_empty() && !internal.contains(['^', '&', '~', '\\', '|'])
        })
}

/// Reads a certificate's holder: a structure certificate has its idNat_Struct in OU, a card
/// certificate its idNat_PS in the configured attribute.
pub fn identity_of(
    certificate: &CertificateDer<'_>,
    rules: &IdentityRules,
) -> Result<CertificateIdentity, String> {
    let (_, parsed) = X509Certificate::from_der(certificate.as_ref())
        .map_err(|error| format!("unreadable certificate: {error}"))?;
    let subject = subject_of(&parsed);
    let find = |name: &str| {
        subject
            .iter()
            .find(|(attribute, _)| attribute.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.clone())
    };
    let structure_id = find("OU").filter(|value| !value.trim().is_empty());
    let professional_id =
        find(&rules.professional_attribute).filter(|value| is_professional_id(value));
    let kind = if structure_id.is_some() {
        CertificateKind::Structure
    } else if professional_id.is_some() {
        CertificateKind::Professional
    } else {
        CertificateKind::Other
    };
    Ok(CertificateIdentity {
        subject: format_dn(&subject),
        serial: parsed.raw_serial_as_string(),
        kind,
        structure_id,
        professional_id: if kind == CertificateKind::Professional {
            professional_id
        } else {
            None
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect()
    }

    #[test]
    fn distinguished_names_compare_in_either_order_without_case() {
        let subject = pairs(&[("CN", "DPI Test"), ("OU", "1750100125"), ("C", "FR")]);
        assert!(same_dn(
            &subject,
            &parse_dn("CN=DPI  test, OU=1750100125, C=FR").unwrap()
        ));
        assert!(same_dn(
            &subject,
            &parse_dn("C=FR,OU=1750100125,CN=DPI Test").unwrap()
        ));
        assert!(!same_dn(
            &subject,
            &parse_dn("CN=DPI Test,OU=1750100133,C=FR").unwrap()
        ));
        assert!(!same_dn(&subject, &parse_dn("CN=DPI Test,C=FR").unwrap()));
        assert_eq!(parse_dn("no equals sign"), None);
        let escaped = pairs(&[("O", "Hôpital, Nord")]);
        assert!(same_dn(&escaped, &parse_dn(&format_dn(&escaped)).unwrap()));
    }

    #[test]
    fn professional_ids_have_the_national_form() {
        assert!(is_professional_id("810003461033"));
        assert!(is_professional_id("3750100125/1453"));
        assert!(!is_professional_id("Logiciel DPI"));
        assert!(!is_professional_id("7123"));
        assert!(!is_professional_id("3750100125/"));
    }
}
