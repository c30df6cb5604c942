//! Configuration: a TOML file, then environment variables and command-line flags (which win),
//! validated as a whole before any port is bound. Every key has a default; `serve --insecure`
//! with no configuration runs a development repository in `./data/repository` that registers
//! with a development registry on 127.0.0.1:8080.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use xds::model::Oid;
use xds::net::security::{TlsConfig, TrustConfig};
use xds::net::tls::TlsFiles;
use xds::net::trust::TrustSettings;

use crate::service::ServiceSettings;
use crate::store::rocks::RocksSettings;

/// The whole configuration file.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub storage: StorageConfig,
    pub repository: RepositoryConfig,
    pub limits: LimitsConfig,
    /// Validation profile (`ihe-xds-b`, `fr-dmp`) and its files; the registry's `[profile]`.
    pub profile: xds_profiles::ProfileConfig,
    /// Mutual TLS of the listener and of the calls to the registry (the repository's own
    /// certificate); required unless `server.insecure`.
    pub tls: TlsConfig,
    /// How callers are authenticated (VIHF assertion checks), as the registry's `[trust]`.
    pub trust: TrustConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// SOAP listener (`ADDR:PORT`; port 0 picks a free port).
    pub listen: String,
    /// Plain HTTP without client certificates (development and benchmarks only).
    pub insecure: bool,
    /// Path of the SOAP endpoint (ITI-41, ITI-43, ITI-86).
    pub soap_path: String,
    /// Extra paths answering like `soap_path`.
    pub soap_path_aliases: Vec<String>,
    /// Path of an endpoint that answers every POST with an ITI-43 answer carrying one
    /// document held in memory: the transport floor the benchmark compares retrieves with.
    /// Off unless set.
    pub noop_path: Option<String>,
    /// Size of that in-memory document, in KiB.
    pub noop_document_kib: usize,
    /// gRPC listener (xds.v1 services, health, reflection); absent: none. Port 0 picks a free port.
    pub grpc_listen: Option<String>,
    /// Admin listener (metrics, health, readiness, online backup); absent: none.
    pub admin_listen: Option<String>,
    /// Seconds granted to requests in flight at shutdown.
    pub shutdown_grace_seconds: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8081".to_owned(),
            insecure: false,
            soap_path: "/xds/repository".to_owned(),
            soap_path_aliases: Vec::new(),
            noop_path: None,
            noop_document_kib: 1024,
            grpc_listen: None,
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
    /// table and blob files are hard links until copied elsewhere).
    pub backup_dir: PathBuf,
    pub block_cache_mib: usize,
    /// Document bytes buffered in memory before they are written to a blob file.
    pub chunk_write_buffer_mib: usize,
    pub background_jobs: i32,
}

impl Default for StorageConfig {
    fn default() -> Self {
        let rocks = RocksSettings::default();
        Self {
            data_dir: PathBuf::from("data/repository"),
            backup_dir: PathBuf::new(),
            block_cache_mib: rocks.block_cache_bytes >> 20,
            chunk_write_buffer_mib: rocks.chunk_write_buffer_bytes >> 20,
            background_jobs: rocks.background_jobs,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepositoryConfig {
    /// This repository's repositoryUniqueId (an OID). The default is a development value.
    pub repository_unique_id: String,
    /// The registry's ITI-42 endpoint (ITI-18 is asked at the same address).
    pub registry_url: String,
    /// Seconds one exchange with the registry may take.
    pub registry_timeout_seconds: u64,
    /// Seconds after which a pending submission not in flight is settled with the registry;
    /// default: the registry timeout plus 5.
    pub in_doubt_after_seconds: Option<u64>,
    /// Seconds between two looks at pending submissions.
    pub settle_interval_seconds: u64,
    /// Check the SHA-1 of every retrieved document while it streams out (end to end, about
    /// 0.5 ms of CPU per MiB). Off, RocksDB checks each chunk's CRC32C as it is read.
    pub verify_on_read: bool,
    /// Ask the registry, with the caller's assertion, which requested documents the caller
    /// may read before any is returned (ITI-43 under the registry's access policy).
    pub retrieve_check: bool,
}

impl Default for RepositoryConfig {
    fn default() -> Self {
        Self {
            repository_unique_id: "1.3.6.1.4.1.21367.13.80.1".to_owned(),
            registry_url: "http://127.0.0.1:8080/xds/registry".to_owned(),
            registry_timeout_seconds: 30,
            in_doubt_after_seconds: None,
            settle_interval_seconds: 5,
            verify_on_read: false,
            retrieve_check: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest document accepted (one MTOM part or one inline document).
    pub max_document_mib: u64,
    /// Largest HTTP request body accepted.
    pub max_message_mib: u64,
    /// Largest SOAP envelope (metadata), documents not counted.
    pub max_envelope_mib: u64,
    pub max_depth: usize,
    pub max_text_kib: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_document_mib: 2048,
            max_message_mib: 4096,
            max_envelope_mib: 64,
            max_depth: 64,
            max_text_kib: 1024,
        }
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
    /// The gRPC listener (None: no gRPC).
    pub grpc_listen: Option<SocketAddr>,
    /// The admin listener (None: none).
    pub admin_listen: Option<SocketAddr>,
    /// Where online backups are written.
    pub backup_dir: PathBuf,
    pub insecure: bool,
    pub soap_paths: Vec<String>,
    /// The floor endpoint: path and document size in bytes.
    pub noop: Option<(String, usize)>,
    pub shutdown_grace: Duration,
    pub data_dir: PathBuf,
    pub rocks: RocksSettings,
    pub registry_url: String,
    pub registry_timeout: Duration,
    pub service: ServiceSettings,
    pub limits: xds::wire::Limits,
    pub profile: xds_profiles::ProfileConfig,
    /// None with `insecure`.
    pub tls: Option<TlsFiles>,
    pub trust: TrustSettings,
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
        let repository_unique_id = Oid::parse(&self.repository.repository_unique_id).ok();
        if repository_unique_id.is_none() {
            problems.push(format!(
                "repository.repository_unique_id {:?} is not an OID",
                self.repository.repository_unique_id
            ));
        }
        let tls = self.tls.files(self.server.insecure, &mut problems);
        let trust = self.trust.settings(&mut problems);
        match xds::net::client::SoapClient::parse_url(&self.repository.registry_url) {
            Err(error) => problems.push(format!("repository.registry_url: {error}")),
            Ok(url) if url.scheme_str() == Some("https") && self.server.insecure => problems.push(
                "repository.registry_url is https but the repository runs --insecure (no certificate to present)"
                    .to_owned(),
            ),
            Ok(_) => {}
        }
        if self.repository.registry_timeout_seconds == 0
            || self.repository.settle_interval_seconds == 0
        {
            problems.push(
                "repository.registry_timeout_seconds and settle_interval_seconds must be positive"
                    .to_owned(),
            );
        }
        if self.storage.data_dir.as_os_str().is_empty() {
            problems.push("storage.data_dir is empty".to_owned());
        } else if self.storage.data_dir.exists() && !self.storage.data_dir.is_dir() {
            problems.push(format!(
                "storage.data_dir {} is not a directory",
                self.storage.data_dir.display()
            ));
        }
        if self.storage.block_cache_mib == 0 || self.storage.chunk_write_buffer_mib == 0 {
            problems.push(
                "storage.block_cache_mib and storage.chunk_write_buffer_mib must be positive"
                    .to_owned(),
            );
        }
        if self.storage.background_jobs < 1 {
            problems.push("storage.background_jobs must be at least 1".to_owned());
        }
        let limits = &self.limits;
        if limits.max_document_mib == 0
            || limits.max_message_mib == 0
            || limits.max_envelope_mib == 0
            || limits.max_depth < 8
            || limits.max_text_kib == 0
        {
            problems.push("limits: sizes must be positive and max_depth at least 8".to_owned());
        }
        if !xds_profiles::PROFILES.contains(&self.profile.name.as_str()) {
            problems.push(format!(
                "profile.name {:?} is unknown; available: {}",
                self.profile.name,
                xds_profiles::PROFILES.join(", ")
            ));
        }
        let (Some(listen), Some(repository_unique_id), true) =
            (listen, repository_unique_id, problems.is_empty())
        else {
            return Err(ConfigError(problems.join("; ")));
        };
        let registry_timeout = Duration::from_secs(self.repository.registry_timeout_seconds);
        let in_doubt_after = Duration::from_secs(
            self.repository
                .in_doubt_after_seconds
                .unwrap_or(self.repository.registry_timeout_seconds + 5),
        );
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
            noop: self
                .server
                .noop_path
                .clone()
                .map(|path| (path, self.server.noop_document_kib << 10)),
            shutdown_grace: Duration::from_secs(self.server.shutdown_grace_seconds),
            data_dir: self.storage.data_dir.clone(),
            rocks: RocksSettings {
                block_cache_bytes: self.storage.block_cache_mib << 20,
                chunk_write_buffer_bytes: self.storage.chunk_write_buffer_mib << 20,
                background_jobs: self.storage.background_jobs,
                verify_chunk_checksums: !self.repository.verify_on_read,
            },
            registry_url: self.repository.registry_url.clone(),
            registry_timeout,
            profile: self.profile.clone(),
            tls,
            trust,
            service: ServiceSettings {
                repository_unique_id,
                in_doubt_after,
                settle_interval: Duration::from_secs(self.repository.settle_interval_seconds),
                verify_on_read: self.repository.verify_on_read,
                retrieve_check: self.repository.retrieve_check,
            },
            limits: xds::wire::Limits {
                max_envelope_bytes: limits.max_envelope_mib << 20,
                max_attachment_bytes: limits.max_document_mib << 20,
                max_message_bytes: limits.max_message_mib << 20,
                max_depth: limits.max_depth,
                max_text_bytes: limits.max_text_kib << 10,
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
        assert_eq!(settings.soap_paths, vec!["/xds/repository".to_owned()]);
        assert_eq!(settings.listen.port(), 8081);
        assert_eq!(settings.service.in_doubt_after, Duration::from_secs(35));
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let config: Config = toml::from_str(
            "[server]\nlisten = 'nowhere'\ninsecure = true\n[repository]\nrepository_unique_id = 'not-an-oid'\nregistry_url = 'ftp://x'\n[limits]\nmax_document_mib = 0\n",
        )
        .expect("parses");
        let message = config.validate().expect_err("invalid").to_string();
        for part in [
            "server.listen",
            "repository_unique_id",
            "registry_url",
            "limits",
        ] {
            assert!(message.contains(part), "{message} lacks {part}");
        }
    }

    #[test]
    fn the_sample_configuration_parses_validates_and_states_the_defaults() {
        let sample: Config = toml::from_str(include_str!("../repository.example.toml"))
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
        assert_eq!(settings.listen.port(), 8081);
    }

    #[test]
    fn the_configuration_reference_lists_every_key_with_its_default() {
        xds_conformance::support::check_configuration_reference::<Config>(
            include_str!("../../CONFIGURATION.md"),
            "xds-repository",
        );
    }

    #[test]
    fn the_deployment_configuration_validates_with_every_listener_on_tls() {
        let config: Config = toml::from_str(include_str!("../../deploy/repository.toml"))
            .expect("the docker-compose configuration parses with no unknown key");
        let settings = config
            .validate()
            .expect("the docker-compose configuration is valid");
        assert!(settings.tls.is_some() && !settings.insecure);
        assert!(settings.admin_listen.is_some());
        assert!(settings.registry_url.starts_with("https://registry:"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let error =
            toml::from_str::<Config>("[repository]\nregistry = 'x'\n").expect_err("unknown key");
        assert!(error.to_string().contains("registry"), "{error}");
    }
}
