//! Configuration: a TOML file, then environment variables and command-line flags (which win),
//! validated as a whole before any port is bound. Every key has a default; `serve` with no
//! configuration at all runs a development registry in `./data/registry`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use std::collections::BTreeMap;
use std::sync::Arc;

use xds::model::{InsKind, InsPolicy, Oid};
use xds::net::mllp::FrameLimits;
use xds::net::security::{TlsConfig, TrustConfig};
use xds::net::tls::TlsFiles;
use xds::net::trust::TrustSettings;
use xds_profiles::ProfileConfig;

use crate::access::{AccessSettings, MatrixRow, PolicyChoice};
use crate::audit::atna::AuditSource;
use crate::audit::export::ExportSettings;
use crate::identity::feed::FeedSettings;
use crate::identity::{DomainRule, IdentityPolicy};
use crate::mllp::MllpSettings;
use crate::service::{QuerySettings, RegisterSettings, UnknownPatientAnswer};
use crate::store::rocks::RocksSettings;

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub registry: RegistryConfig,
    pub query: QueryConfig,
    pub limits: LimitsConfig,
    pub identity: IdentityConfig,
    pub mllp: MllpConfig,
    /// Validation profile (`ihe-xds-b`, `fr-dmp`) and its files; shared with the repository
    /// and `xds-conformance validate`.
    pub profile: ProfileConfig,
    /// Mutual TLS of every listener (required unless `server.insecure`).
    pub tls: TlsConfig,
    /// How callers are authenticated (VIHF assertion checks).
    pub trust: TrustConfig,
    /// The DMP access policy (dmp-profile.md §4).
    pub access: AccessConfig,
    /// The audit trail's export to an ATNA audit repository (ITI-20).
    pub audit: AuditConfig,
}

/// `[access]`: the DMP access policy. Every UNCONFIRMED rule of dmp-profile.md is a switch
/// here, with the recommended default.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AccessConfig {
    /// `profile` (the DMP policy with the `fr-dmp` profile, none otherwise), `dmp` or `open`.
    pub policy: PolicyChoice,
    pub block_covers_feeding: bool,
    pub block_covers_emergency: bool,
    pub indirect_may_consult: bool,
    pub masked_visible_in_emergency: bool,
    pub update_allows_reinforced: bool,
    /// Subject DNs of patient portals (their assertions may carry the portal roles).
    pub portals: Vec<String>,
    /// Subject DNs of operator consoles (manage any patient's DMP over SOAP).
    pub operators: Vec<String>,
    /// The matrice d'habilitation; absent: the default table (health professions read
    /// everything, others nothing).
    pub matrix: Option<Vec<MatrixRow>>,
}

impl Default for AccessConfig {
    fn default() -> Self {
        let defaults = AccessSettings::default();
        Self {
            policy: PolicyChoice::Profile,
            block_covers_feeding: defaults.block_covers_feeding,
            block_covers_emergency: defaults.block_covers_emergency,
            indirect_may_consult: defaults.indirect_may_consult,
            masked_visible_in_emergency: defaults.masked_visible_in_emergency,
            update_allows_reinforced: defaults.update_allows_reinforced,
            portals: Vec::new(),
            operators: Vec::new(),
            matrix: None,
        }
    }
}

impl AccessConfig {
    fn settings(&self, profile: &str, problems: &mut Vec<String>) -> AccessSettings {
        let enforce = match self.policy {
            PolicyChoice::Profile => profile == "fr-dmp",
            PolicyChoice::Dmp => true,
            PolicyChoice::Open => false,
        };
        for (what, list) in [
            ("access.portals", &self.portals),
            ("access.operators", &self.operators),
        ] {
            for dn in list {
                if xds::net::tls::parse_dn(dn).is_none() {
                    problems.push(format!("{what}: {dn:?} is not a distinguished name"));
                }
            }
        }
        let matrix = self
            .matrix
            .clone()
            .unwrap_or_else(AccessSettings::default_matrix);
        for row in &matrix {
            if row.role.is_empty() || row.read.is_empty() {
                problems.push("access.matrix: every row needs a role and a read list".to_owned());
            }
        }
        AccessSettings {
            enforce,
            block_covers_feeding: self.block_covers_feeding,
            block_covers_emergency: self.block_covers_emergency,
            indirect_may_consult: self.indirect_may_consult,
            masked_visible_in_emergency: self.masked_visible_in_emergency,
            update_allows_reinforced: self.update_allows_reinforced,
            portals: self.portals.clone(),
            operators: self.operators.clone(),
            matrix,
        }
    }
}

/// `[audit]`: where the audit trail is exported.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// The ATNA audit repository: `tls://HOST:PORT` (RFC 5425), `udp://`, `tcp://`, `relp://`,
    /// `relp+tls://`; absent: records stay in the registry (history) and are not exported.
    pub atna: Option<String>,
    /// AuditSourceID and syslog HOSTNAME.
    pub source_id: String,
    /// AuditEnterpriseSiteID.
    pub site: String,
    /// Private enterprise number of the syslog structured data carrying the record id.
    pub enterprise_number: u32,
    pub batch: usize,
    pub retry_seconds: u64,
    pub timeout_seconds: u64,
}

impl Default for AuditConfig {
    fn default() -> Self {
        let source = AuditSource::default();
        Self {
            atna: None,
            source_id: source.source_id,
            site: source.site,
            enterprise_number: source.enterprise_number,
            batch: 128,
            retry_seconds: 5,
            timeout_seconds: 10,
        }
    }
}

impl AuditConfig {
    fn settings(&self, insecure: bool, problems: &mut Vec<String>) -> Option<ExportSettings> {
        let url = self.atna.as_ref()?;
        let (transport, address, server_name) = match ExportSettings::parse(url) {
            Ok(parsed) => parsed,
            Err(problem) => {
                problems.push(problem);
                return None;
            }
        };
        if self.batch == 0 || self.retry_seconds == 0 || self.timeout_seconds == 0 {
            problems.push(
                "audit: batch, retry_seconds and timeout_seconds must be positive".to_owned(),
            );
        }
        let settings = ExportSettings {
            transport,
            address,
            server_name,
            source: AuditSource {
                source_id: self.source_id.clone(),
                site: self.site.clone(),
                app_name: "xds-registry".to_owned(),
                enterprise_number: self.enterprise_number,
            },
            batch: self.batch,
            retry: std::time::Duration::from_secs(self.retry_seconds),
            timeout: std::time::Duration::from_secs(self.timeout_seconds),
        };
        if settings.uses_tls() && insecure {
            problems.push(format!(
                "audit.atna {url:?} needs TLS: the daemon's [tls] files (not available with --insecure)"
            ));
        }
        Some(settings)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityConfig {
    /// Assigning authorities of the affinity domain's patient ids (XAD-PID): `ins` (the INS
    /// OIDs `ins_accept` allows), OIDs, or `any` (development).
    pub domains: Vec<String>,
    /// INS kinds accepted: `nir`, `nia`, `test`, `demo`.
    pub ins_accept: Vec<String>,
    /// Check the key of test and demo INS too.
    pub ins_check_fictitious_keys: bool,
    /// What a query by a subsumed (merged) id answers: `empty` or `error`.
    pub subsumed_query: UnknownPatientAnswer,
    /// PID-3.4 namespace ids sent without an OID, and their OIDs.
    pub namespaces: BTreeMap<String, String>,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            domains: vec!["ins".to_owned()],
            ins_accept: vec!["nir".to_owned(), "nia".to_owned()],
            ins_check_fictitious_keys: true,
            subsumed_query: UnknownPatientAnswer::Empty,
            namespaces: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct MllpConfig {
    /// Largest HL7 message.
    pub max_message_kib: usize,
    /// A connection silent this long between messages is closed.
    pub idle_timeout_seconds: u64,
    /// A message must arrive whole within this time once it started.
    pub message_timeout_seconds: u64,
    pub max_connections: usize,
    /// HL7 versions taken (MSH-12).
    pub versions: Vec<String>,
    /// MSH-3 and MSH-4 of the acknowledgements.
    pub application: String,
    pub facility: String,
}

impl Default for MllpConfig {
    fn default() -> Self {
        let feed = FeedSettings::default();
        let limits = FrameLimits::default();
        Self {
            max_message_kib: limits.max_bytes >> 10,
            idle_timeout_seconds: limits.idle.as_secs(),
            message_timeout_seconds: limits.message.as_secs(),
            max_connections: 256,
            versions: feed.versions,
            application: feed.application,
            facility: feed.facility,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// SOAP listener (`ADDR:PORT`; port 0 picks a free port).
    pub listen: String,
    /// Plain HTTP without client certificates (development and benchmarks only).
    pub insecure: bool,
    /// Path of the SOAP endpoint (ITI-42, ITI-18).
    pub soap_path: String,
    /// Extra paths answering like `soap_path`.
    pub soap_path_aliases: Vec<String>,
    /// Path of a SOAP endpoint that answers without doing anything: the transport floor the
    /// benchmark compares queries with. Off unless set.
    pub noop_path: Option<String>,
    /// gRPC listener (xds.v1 services, health, reflection); absent: none. Port 0 picks a free port.
    pub grpc_listen: Option<String>,
    /// MLLP listener of the identity feed (ITI-8); absent: none.
    pub mllp_listen: Option<String>,
    /// Admin listener (metrics, health, readiness, online backup); absent: none.
    pub admin_listen: Option<String>,
    /// Seconds granted to requests in flight at shutdown.
    pub shutdown_grace_seconds: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".to_owned(),
            insecure: false,
            soap_path: "/xds/registry".to_owned(),
            soap_path_aliases: Vec::new(),
            noop_path: None,
            grpc_listen: None,
            mllp_listen: None,
            admin_listen: None,
            shutdown_grace_seconds: 10,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    pub data_dir: PathBuf,
    /// Where `backup` writes checkpoints; empty: `DATA_DIR/backups` (the same file system, so
    /// table files are hard links until copied elsewhere).
    pub backup_dir: PathBuf,
    pub block_cache_mib: usize,
    pub write_buffer_mib: usize,
    pub background_jobs: i32,
}

impl Default for StorageConfig {
    fn default() -> Self {
        let rocks = RocksSettings::default();
        Self {
            data_dir: PathBuf::from("data/registry"),
            backup_dir: PathBuf::new(),
            block_cache_mib: rocks.block_cache_bytes >> 20,
            write_buffer_mib: rocks.write_buffer_bytes >> 20,
            background_jobs: rocks.background_jobs,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RegistryConfig {
    /// Refuse submissions for unknown patient ids (XDSUnknownPatientId).
    pub require_known_patient: bool,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            require_known_patient: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueryConfig {
    pub leaf_class_limit: usize,
    pub object_ref_limit: usize,
    pub unknown_patient: UnknownPatientAnswer,
}

impl Default for QueryConfig {
    fn default() -> Self {
        let settings = QuerySettings::default();
        Self {
            leaf_class_limit: settings.leaf_class_limit,
            object_ref_limit: settings.object_ref_limit,
            unknown_patient: settings.unknown_patient,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest HTTP request body accepted.
    pub max_message_mib: u64,
    pub max_depth: usize,
    pub max_text_kib: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_message_mib: 64,
            max_depth: 64,
            max_text_kib: 1024,
        }
    }
}

impl IdentityConfig {
    /// The policy these settings describe; problems are added to `problems`.
    fn policy(&self, problems: &mut Vec<String>) -> Arc<IdentityPolicy> {
        let mut accepted = Vec::new();
        for name in &self.ins_accept {
            match InsKind::from_config_name(name) {
                Some(InsKind::Computed) => problems.push(
                    "identity.ins_accept: ins-c (the computed INS) is withdrawn and cannot be accepted"
                        .to_owned(),
                ),
                Some(kind) => accepted.push(kind),
                None => problems.push(format!(
                    "identity.ins_accept: {name:?} is not an INS kind (nir, nia, test, demo)"
                )),
            }
        }
        let mut domains = Vec::new();
        for domain in &self.domains {
            match domain.as_str() {
                "ins" => domains.push(DomainRule::Ins),
                "any" => domains.push(DomainRule::Any),
                oid if Oid::is_valid(oid) => domains.push(DomainRule::Oid(oid.to_owned())),
                other => problems.push(format!(
                    "identity.domains: {other:?} is neither \"ins\", \"any\" nor an OID"
                )),
            }
        }
        if domains.is_empty() {
            problems.push("identity.domains is empty: no patient could be registered".to_owned());
        }
        for (namespace, oid) in &self.namespaces {
            if !Oid::is_valid(oid) {
                problems.push(format!(
                    "identity.namespaces.{namespace}: {oid:?} is not an OID"
                ));
            }
        }
        Arc::new(IdentityPolicy {
            domains,
            ins: InsPolicy {
                accepted,
                check_fictitious_keys: self.ins_check_fictitious_keys,
            },
            namespaces: self.namespaces.clone(),
        })
    }
}

/// A configuration problem, reported before anything starts.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// Settings after validation.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub insecure: bool,
    pub soap_paths: Vec<String>,
    pub noop_path: Option<String>,
    pub shutdown_grace: std::time::Duration,
    pub data_dir: PathBuf,
    pub rocks: RocksSettings,
    pub profile: ProfileConfig,
    pub register: RegisterSettings,
    pub query: QuerySettings,
    pub limits: xds::wire::Limits,
    pub mllp_listen: Option<SocketAddr>,
    /// The gRPC listener (None: no gRPC).
    pub grpc_listen: Option<SocketAddr>,
    /// The admin listener (None: none).
    pub admin_listen: Option<SocketAddr>,
    /// Where online backups are written.
    pub backup_dir: PathBuf,
    pub mllp: MllpSettings,
    pub identity: Arc<IdentityPolicy>,
    /// None with `insecure`.
    pub tls: Option<TlsFiles>,
    pub trust: TrustSettings,
    pub access: AccessSettings,
    /// None: the audit trail is not exported.
    pub export: Option<ExportSettings>,
}

impl Config {
    /// Reads a TOML configuration file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|error| ConfigError(format!("cannot read {}: {error}", path.display())))?;
        toml::from_str(&text).map_err(|error| ConfigError(format!("{}: {error}", path.display())))
    }

    /// Checks every value and derives the runtime settings. All problems are reported.
    pub fn validate(&self) -> Result<Settings, ConfigError> {
        let mut problems = Vec::new();
        let mut soap_paths = vec![self.server.soap_path.clone()];
        soap_paths.extend(self.server.soap_path_aliases.iter().cloned());
        let paths: Vec<&String> = soap_paths
            .iter()
            .chain(self.server.noop_path.iter())
            .collect();
        let listen = xds::net::daemon::check_server(&self.server.listen, &paths, &mut problems);
        let admin_listen = xds::net::daemon::optional_listen(
            "server.admin_listen (--admin-listen)",
            &self.server.admin_listen,
            &mut problems,
        );
        let grpc_listen = xds::net::daemon::optional_listen(
            "server.grpc_listen (--grpc-listen)",
            &self.server.grpc_listen,
            &mut problems,
        );
        let mllp_listen = xds::net::daemon::optional_listen(
            "server.mllp_listen (--mllp-listen)",
            &self.server.mllp_listen,
            &mut problems,
        );
        let identity = self.identity.policy(&mut problems);
        let tls = self.tls.files(self.server.insecure, &mut problems);
        let trust = self.trust.settings(&mut problems);
        let access = self.access.settings(&self.profile.name, &mut problems);
        let export = self.audit.settings(self.server.insecure, &mut problems);
        if self.mllp.max_message_kib == 0
            || self.mllp.idle_timeout_seconds == 0
            || self.mllp.message_timeout_seconds == 0
            || self.mllp.max_connections == 0
        {
            problems.push(
                "mllp: max_message_kib, idle_timeout_seconds, message_timeout_seconds and max_connections must be positive"
                    .to_owned(),
            );
        }
        if self.mllp.versions.is_empty() {
            problems.push("mllp.versions is empty: no HL7 version would be taken".to_owned());
        }
        if !xds_profiles::PROFILES.contains(&self.profile.name.as_str()) {
            problems.push(format!(
                "profile.name {:?} is unknown; available: {}",
                self.profile.name,
                xds_profiles::PROFILES.join(", ")
            ));
        }
        if self.storage.data_dir.as_os_str().is_empty() {
            problems.push("storage.data_dir is empty".to_owned());
        } else if self.storage.data_dir.exists() && !self.storage.data_dir.is_dir() {
            problems.push(format!(
                "storage.data_dir {} is not a directory",
                self.storage.data_dir.display()
            ));
        }
        if self.storage.block_cache_mib == 0 || self.storage.write_buffer_mib == 0 {
            problems.push(
                "storage.block_cache_mib and storage.write_buffer_mib must be positive".to_owned(),
            );
        }
        if self.storage.background_jobs < 1 {
            problems.push("storage.background_jobs must be at least 1".to_owned());
        }
        if self.query.leaf_class_limit == 0 || self.query.object_ref_limit == 0 {
            problems.push(
                "query.leaf_class_limit and query.object_ref_limit must be positive".to_owned(),
            );
        }
        if self.limits.max_message_mib == 0
            || self.limits.max_depth < 8
            || self.limits.max_text_kib == 0
        {
            problems.push(
                "limits: max_message_mib and max_text_kib must be positive, max_depth at least 8"
                    .to_owned(),
            );
        }
        if !problems.is_empty() {
            return Err(ConfigError(problems.join("; ")));
        }
        let Some(listen) = listen else {
            return Err(ConfigError("server.listen".to_owned()));
        };
        let message_bytes = self.limits.max_message_mib << 20;
        Ok(Settings {
            listen,
            grpc_listen,
            admin_listen,
            backup_dir: xds::net::backup::backup_dir(
                &self.storage.data_dir,
                &self.storage.backup_dir,
            ),
            insecure: self.server.insecure,
            soap_paths,
            noop_path: self.server.noop_path.clone(),
            shutdown_grace: std::time::Duration::from_secs(self.server.shutdown_grace_seconds),
            data_dir: self.storage.data_dir.clone(),
            rocks: RocksSettings {
                block_cache_bytes: self.storage.block_cache_mib << 20,
                write_buffer_bytes: self.storage.write_buffer_mib << 20,
                background_jobs: self.storage.background_jobs,
            },
            profile: self.profile.clone(),
            register: RegisterSettings {
                require_known_patient: self.registry.require_known_patient,
                identity: Arc::clone(&identity),
                ..RegisterSettings::default()
            },
            query: QuerySettings {
                leaf_class_limit: self.query.leaf_class_limit,
                object_ref_limit: self.query.object_ref_limit,
                unknown_patient: self.query.unknown_patient,
                subsumed_patient: self.identity.subsumed_query,
            },
            mllp_listen,
            mllp: MllpSettings {
                limits: FrameLimits {
                    max_bytes: self.mllp.max_message_kib << 10,
                    idle: std::time::Duration::from_secs(self.mllp.idle_timeout_seconds),
                    message: std::time::Duration::from_secs(self.mllp.message_timeout_seconds),
                },
                max_connections: self.mllp.max_connections,
                feed: FeedSettings {
                    versions: self.mllp.versions.clone(),
                    application: self.mllp.application.clone(),
                    facility: self.mllp.facility.clone(),
                },
            },
            identity,
            tls,
            trust,
            access,
            export,
            limits: xds::wire::Limits {
                max_envelope_bytes: message_bytes,
                max_attachment_bytes: message_bytes,
                max_message_bytes: message_bytes,
                max_depth: self.limits.max_depth,
                max_text_bytes: self.limits.max_text_kib << 10,
                ..xds::wire::Limits::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_need_only_the_insecure_switch() {
        let mut config = Config::default();
        assert!(config.validate().is_err());
        config.server.insecure = true;
        let settings = config.validate().expect("defaults are valid");
        assert_eq!(settings.soap_paths, vec!["/xds/registry".to_owned()]);
        assert_eq!(settings.listen.port(), 8080);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let config: Config = toml::from_str(
            "[server]\nlisten = 'nowhere'\ninsecure = true\nsoap_path = 'xds'\n[profile]\nname = 'x'\n",
        )
        .expect("parses");
        let message = config.validate().expect_err("invalid").to_string();
        for part in ["server.listen", "\"xds\"", "profile.name"] {
            assert!(message.contains(part), "{message} lacks {part}");
        }
    }

    #[test]
    fn the_sample_configuration_parses_validates_and_states_the_defaults() {
        let sample: Config = toml::from_str(include_str!("../registry.example.toml"))
            .expect("the sample parses with no unknown key");
        let settings = sample.validate().expect("the sample is valid");
        let mut defaults = Config {
            tls: sample.tls.clone(),
            ..Config::default()
        };
        defaults.trust.forwarders = sample.trust.forwarders.clone();
        assert_eq!(
            format!("{settings:?}"),
            format!("{:?}", defaults.validate().expect("defaults are valid")),
            "the sample states the defaults"
        );
        assert_eq!(settings.listen.port(), 8080);
    }

    #[test]
    fn the_configuration_reference_lists_every_key_with_its_default() {
        xds_conformance::support::check_configuration_reference::<Config>(
            include_str!("../../CONFIGURATION.md"),
            "xds-registry",
        );
    }

    #[test]
    fn the_deployment_configuration_validates_with_every_listener_on_tls() {
        let config: Config = toml::from_str(include_str!("../../deploy/registry.toml"))
            .expect("the docker-compose configuration parses with no unknown key");
        let settings = config
            .validate()
            .expect("the docker-compose configuration is valid");
        assert!(settings.tls.is_some() && !settings.insecure);
        assert!(settings.admin_listen.is_some());
        assert!(settings.mllp_listen.is_some() && settings.grpc_listen.is_some());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error =
            toml::from_str::<Config>("[server]\nlisten_port = 1\n").expect_err("unknown key");
        assert!(error.to_string().contains("listen_port"), "{error}");
    }
}
