//! The `[tls]` and `[trust]` sections both daemons read: where the TLS files are, and how
//! callers are authenticated. Validated into [`TlsFiles`] and [`TrustSettings`].

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::tls::{IdentityRules, TlsFiles, parse_dn};
use super::trust::TrustSettings;

/// `[tls]`: the listeners' certificate, key, trust anchors and CRLs (PEM files).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    /// The daemon's certificate chain, leaf first.
    pub certificate: Option<PathBuf>,
    pub private_key: Option<PathBuf>,
    /// CA certificates clients (and VIHF signers) must chain to.
    pub trust_anchors: Option<PathBuf>,
    /// Revocation lists of those CAs.
    pub crls: Vec<PathBuf>,
}

impl TlsConfig {
    /// The files, required unless `insecure`; problems are appended.
    pub fn files(&self, insecure: bool, problems: &mut Vec<String>) -> Option<TlsFiles> {
        if insecure {
            return None;
        }
        let mut missing = Vec::new();
        for (name, value) in [
            ("tls.certificate", &self.certificate),
            ("tls.private_key", &self.private_key),
            ("tls.trust_anchors", &self.trust_anchors),
        ] {
            if value.is_none() {
                missing.push(name);
            }
        }
        if !missing.is_empty() {
            problems.push(format!(
                "{} must be set: every listener uses mutual TLS unless --insecure is given \
                 (`xds-conformance pki init DIR` makes a test PKI)",
                missing.join(", ")
            ));
            return None;
        }
        Some(TlsFiles {
            certificate: self.certificate.clone()?,
            private_key: self.private_key.clone()?,
            trust_anchors: self.trust_anchors.clone()?,
            crls: self.crls.clone(),
        })
    }
}

/// `[trust]`: the VIHF assertion checks (dmp-profile.md §3.3).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrustConfig {
    /// Every request on a TLS listener carries a VIHF assertion (§8 rule 7).
    pub require_assertion: bool,
    pub clock_skew_seconds: u64,
    /// Oldest assertion accepted (the DMP's own limit is not public).
    pub max_assertion_age_seconds: u64,
    pub vihf_versions: Vec<String>,
    /// Subject DNs of the certificates that may forward another caller's assertion (the
    /// repositories, for the registry).
    pub forwarders: Vec<String>,
    /// EJ -> EG: the geographic structures an EJ certificate may name (UNCONFIRMED rule).
    pub structure_sites: BTreeMap<String, Vec<String>>,
    /// Subject attribute of a card certificate holding the idNat_PS (UNCONFIRMED: CN).
    pub professional_id_attribute: String,
    /// DIRECTE mode: a submission names the assertion's user as an authorPerson (§8 rule 19).
    pub direct_author_check: bool,
}

impl Default for TrustConfig {
    fn default() -> Self {
        let settings = TrustSettings::default();
        Self {
            require_assertion: settings.require_assertion,
            clock_skew_seconds: settings.clock_skew.as_secs(),
            max_assertion_age_seconds: settings.max_age.as_secs(),
            vihf_versions: settings.versions,
            forwarders: settings.forwarders,
            structure_sites: settings.structure_sites,
            professional_id_attribute: settings.identity.professional_attribute,
            direct_author_check: settings.direct_author_check,
        }
    }
}

impl TrustConfig {
    /// The settings; problems are appended.
    pub fn settings(&self, problems: &mut Vec<String>) -> TrustSettings {
        for forwarder in &self.forwarders {
            if parse_dn(forwarder).is_none() {
                problems.push(format!("trust.forwarders: {forwarder:?} is not a DN"));
            }
        }
        if self.vihf_versions.is_empty() {
            problems.push("trust.vihf_versions is empty: no assertion would pass".to_owned());
        }
        if self.max_assertion_age_seconds == 0 {
            problems.push("trust.max_assertion_age_seconds must be positive".to_owned());
        }
        if self.professional_id_attribute.trim().is_empty() {
            problems.push("trust.professional_id_attribute is empty".to_owned());
        }
        TrustSettings {
            require_assertion: self.require_assertion,
            clock_skew: Duration::from_secs(self.clock_skew_seconds),
            max_age: Duration::from_secs(self.max_assertion_age_seconds),
            versions: self.vihf_versions.clone(),
            forwarders: self.forwarders.clone(),
            structure_sites: self.structure_sites.clone(),
            identity: IdentityRules {
                professional_attribute: self.professional_id_attribute.trim().to_owned(),
            },
            direct_author_check: self.direct_author_check,
        }
    }
}

/// A daemon's listener security, loaded: the TLS listener (None with `--insecure`) and the
/// caller verifier.
#[derive(Debug, Clone)]
pub struct ListenerSecurity {
    pub tls: Option<super::http::TlsListener>,
    pub trust: super::trust::Trust,
}

impl ListenerSecurity {
    /// Reads the TLS files and builds the verifier, the profile checking the assertion's
    /// codes. An unusable file is a configuration error.
    pub fn load(
        files: Option<&TlsFiles>,
        settings: TrustSettings,
        profile: std::sync::Arc<dyn crate::validate::Profile>,
    ) -> Result<Self, String> {
        let server = files
            .map(super::tls::ServerTls::load)
            .transpose()
            .map_err(|error| error.to_string())?;
        let rules = settings.identity.clone();
        let codes: super::trust::CodeCheck =
            std::sync::Arc::new(move |assertion| profile.check_assertion(assertion));
        let trust = super::trust::Trust::new(
            settings,
            server
                .as_ref()
                .map(|server| std::sync::Arc::clone(&server.verifier)),
            codes,
        )?;
        Ok(Self {
            tls: server.map(|server| super::http::TlsListener {
                acceptor: server.acceptor,
                rules,
            }),
            trust,
        })
    }
}
