//! The binary's commands: `serve` (default), `patient add|show|merge`, `import`. Exit codes:
//! 0 done, 64 bad usage or configuration (nothing was started), 1 runtime failure (2 for
//! `patient show` of an unknown id, 3 for an identity change the registry refused).

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use xds::net::daemon::{Failure, LogFormat, say};
use xds::net::http;
use xds::net::signal::Shutdown;
use xds::validate::Profile;
use xds_profiles::ProfileConfig;

use crate::config::{Config, ConfigError, Settings};
use crate::grpc::GrpcEndpoint;
use crate::server::{self, Routes};
use crate::service::Registry;
use crate::soap::SoapEndpoint;
use crate::store::MetadataStore;
use crate::store::kv::KvMetadataStore;
use crate::store::rocks::RocksEngine;

/// Command line (architecture.md, "Command-line contract").
#[derive(Debug, Parser)]
#[command(
    name = "xds-registry",
    version,
    about = "XDS.b Document Registry (ITI-42, ITI-18, ITI-8 patient identity feed)"
)]
pub struct Cli {
    /// Configuration file (TOML).
    #[arg(long, global = true, env = "XDS_REGISTRY_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data directory (embedded RocksDB).
    #[arg(long, global = true, env = "XDS_REGISTRY_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// SOAP listener address; port 0 picks a free port.
    #[arg(
        long,
        global = true,
        env = "XDS_REGISTRY_LISTEN",
        value_name = "ADDR:PORT"
    )]
    pub listen: Option<String>,
    /// Plain HTTP without client certificates: development and benchmarks only.
    #[arg(long, global = true, env = "XDS_REGISTRY_INSECURE")]
    pub insecure: bool,
    /// gRPC listener (xds.v1 Registry, Identity, Policy, AccessHistory; health, reflection);
    /// port 0 picks a free port.
    #[arg(
        long,
        global = true,
        env = "XDS_REGISTRY_GRPC_LISTEN",
        value_name = "ADDR:PORT"
    )]
    pub grpc_listen: Option<String>,
    /// MLLP listener of the patient identity feed (ITI-8, HL7 v2 ADT); port 0 picks a free port.
    #[arg(
        long,
        global = true,
        env = "XDS_REGISTRY_MLLP_LISTEN",
        value_name = "ADDR:PORT"
    )]
    pub mllp_listen: Option<String>,
    /// Admin listener: /metrics (Prometheus), /healthz, /readyz, POST /backup; port 0 picks a
    /// free port.
    #[arg(
        long,
        global = true,
        env = "XDS_REGISTRY_ADMIN_LISTEN",
        value_name = "ADDR:PORT"
    )]
    pub admin_listen: Option<String>,
    /// Log lines on standard error: `text` or `json` (filter: XDS_LOG, default info).
    #[arg(
        long,
        global = true,
        env = "XDS_LOG_FORMAT",
        value_name = "FORMAT",
        default_value = "text"
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon (the default).
    Serve,
    /// The identity store, offline (the daemon stopped): create, look up and merge patients.
    Patient {
        #[command(subcommand)]
        command: PatientCommand,
    },
    /// A patient's DMP, offline (the daemon stopped): open, close, authorisations, blocks,
    /// oppositions, médecin traitant, access history.
    Dmp {
        #[command(subcommand)]
        command: DmpCli,
    },
    /// Bulk-load SubmitObjectsRequest files (bare or SOAP; directories are searched for *.xml)
    /// through the registry's validation. Resumable: run it again after an interruption.
    Import {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Register the patient id of each submission if unknown (migrations from a registry
        /// whose identity feed is not replayed).
        #[arg(long)]
        register_patients: bool,
    },
    /// Online backup: the running daemon (its admin listener) writes a checkpoint of the store
    /// into storage.backup_dir; with no daemon running, the command writes it itself. Prints
    /// `backup FOLDER`.
    Backup,
    /// Restores a backup folder into the data directory (the daemon stopped); the current
    /// store is moved aside, never deleted.
    Restore {
        #[arg(value_name = "FOLDER")]
        folder: PathBuf,
    },
    /// Asks the running daemon's admin listener whether it is ready (/readyz): exit 0 when it
    /// is (container health checks), 1 otherwise.
    Health,
}

/// `xds-registry dmp ...`: the DMP of a patient (operators; the daemon stopped).
#[derive(Debug, Subcommand)]
pub enum DmpCli {
    /// Open a patient's DMP (registering the patient id if new), or reopen a closed one.
    Open {
        id: String,
    },
    /// Close a DMP: no professional access any more; reopening restores it.
    Close {
        id: String,
        #[arg(long)]
        reason_code: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Record a professional's authorisation (the consent its software collected).
    Authorise {
        id: String,
        professional: String,
    },
    /// Withdraw a professional's authorisation.
    Revoke {
        id: String,
        professional: String,
    },
    /// Block a professional: no access at all, whatever the mode.
    Block {
        id: String,
        professional: String,
    },
    Unblock {
        id: String,
        professional: String,
    },
    /// Record the patient's oppositions (each flag absent means no opposition).
    Oppose {
        id: String,
        /// Opposes bris_de_glace access.
        #[arg(long)]
        emergency: bool,
        /// Opposes centre_15 (SAMU regulator) access.
        #[arg(long)]
        regulator: bool,
    },
    /// Name the médecin traitant DMP (no PROFESSIONAL: none).
    MedecinTraitant {
        id: String,
        professional: Option<String>,
    },
    /// Give a professional the médecin traitant's rights (masked documents), or take them back.
    FullRights {
        id: String,
        professional: String,
        #[arg(long)]
        revoke: bool,
    },
    /// Show a DMP's state.
    Show {
        id: String,
    },
    /// The patient's access history, newest first.
    History {
        id: String,
        /// Only records older than this record id (the previous page's last).
        #[arg(long)]
        before: Option<u64>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum PatientCommand {
    /// Register patient identifiers of the affinity domain (CX, e.g. `ID^^^&1.2.3&ISO`); an
    /// INS is checked (key, accepted OIDs). Registering a known id changes nothing.
    Add {
        #[arg(required = true, value_name = "ID")]
        ids: Vec<String>,
        /// Local identifier (another assigning authority, e.g. an IPP) to link to the one ID.
        #[arg(long = "local", value_name = "CX")]
        locals: Vec<String>,
    },
    /// Show what the registry knows of a patient, by its id or a linked local id.
    Show {
        #[arg(value_name = "ID")]
        id: String,
    },
    /// Merge SUBSUMED into SURVIVING (as an ITI-8 A40 would): the subsumed id's documents
    /// answer under the surviving id. There is no un-merge.
    Merge {
        #[arg(value_name = "SURVIVING")]
        surviving: String,
        #[arg(value_name = "SUBSUMED")]
        subsumed: String,
    },
}

impl From<ConfigError> for Failure {
    fn from(error: ConfigError) -> Self {
        Failure::usage(error.to_string())
    }
}

fn runtime(message: impl Into<String>) -> Failure {
    Failure::runtime(message)
}

/// The configuration after file, environment and flags.
pub fn configuration(cli: &Cli) -> Result<Config, Failure> {
    let mut config = match &cli.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(dir) = &cli.data_dir {
        config.storage.data_dir = dir.clone();
    }
    if let Some(listen) = &cli.listen {
        config.server.listen = listen.clone();
    }
    if cli.insecure {
        config.server.insecure = true;
    }
    if cli.grpc_listen.is_some() {
        config.server.grpc_listen = cli.grpc_listen.clone();
    }
    if cli.mllp_listen.is_some() {
        config.server.mllp_listen = cli.mllp_listen.clone();
    }
    if cli.admin_listen.is_some() {
        config.server.admin_listen = cli.admin_listen.clone();
    }
    Ok(config)
}

/// The configured validation profile, its value sets read (a file problem is a configuration
/// error: exit 64 before any port is bound).
fn profile(config: &ProfileConfig) -> Result<Arc<dyn Profile>, Failure> {
    xds_profiles::load(config).map_err(|error| Failure {
        code: 64,
        message: format!("configuration: {error}"),
    })
}

/// Opens the store of a data directory.
pub fn open_store(settings: &Settings) -> Result<Arc<dyn MetadataStore>, Failure> {
    std::fs::create_dir_all(&settings.data_dir).map_err(|error| {
        runtime(format!(
            "cannot create data directory {}: {error}",
            settings.data_dir.display()
        ))
    })?;
    let engine = RocksEngine::open(&settings.data_dir.join("metadata"), settings.rocks).map_err(
        |error| {
            let hint = if error.message.contains("lock") {
                " (is an xds-registry daemon using this data directory? offline commands need it stopped; send feeds to its MLLP listener instead)"
            } else {
                ""
            };
            runtime(format!(
                "cannot open the store in {}: {}{hint}",
                settings.data_dir.display(),
                error.message
            ))
        },
    )?;
    let store = KvMetadataStore::new(engine).map_err(|error| runtime(error.message))?;
    Ok(Arc::new(store))
}

pub(crate) fn start_registry(
    settings: &Settings,
    store: Arc<dyn MetadataStore>,
) -> Result<Registry, Failure> {
    start_registry_with(settings, store, profile(&settings.profile)?)
}

fn start_registry_with(
    settings: &Settings,
    store: Arc<dyn MetadataStore>,
    profile: Arc<dyn Profile>,
) -> Result<Registry, Failure> {
    Registry::start(
        store,
        profile,
        settings.register.clone(),
        settings.query.clone(),
    )
    .map(|registry| registry.with_access(settings.access.clone()))
    .map_err(|error| runtime(format!("cannot start the writer thread: {error}")))
}

/// Runs the command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    let mut config = configuration(&cli)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&config),
        Command::Patient { command } => {
            // Offline command: TLS settings do not matter.
            config.server.insecure = true;
            let settings = config.validate()?;
            crate::patients::run(&settings, command)
        }
        Command::Dmp { command } => {
            config.server.insecure = true;
            config.audit.atna = None;
            let settings = config.validate()?;
            crate::dmp_cli::run(&settings, command)
        }
        Command::Backup => {
            let settings = config.validate()?;
            xds::net::admin::backup_command(settings.admin_listen, settings.tls.as_ref(), || {
                let store = open_store(&settings)?;
                crate::admin::backup(&*store, &settings.backup_dir).map_err(runtime)
            })
        }
        Command::Restore { folder } => {
            config.server.insecure = true;
            let settings = config.validate()?;
            xds::net::admin::restore_command(
                &folder,
                crate::admin::DAEMON,
                crate::admin::STORE,
                &settings.data_dir,
                || open_store(&settings).map(drop),
            )
        }
        Command::Health => {
            let settings = config.validate()?;
            xds::net::admin::health_command(settings.admin_listen, settings.tls.as_ref())
        }
        Command::Import {
            files,
            register_patients,
        } => {
            config.server.insecure = true;
            if register_patients {
                config.registry.require_known_patient = false;
            }
            let settings = config.validate()?;
            let files = crate::import::expand(&files).map_err(|error| Failure {
                code: 64,
                message: error.to_string(),
            })?;
            let store = open_store(&settings)?;
            let registry = start_registry(&settings, Arc::clone(&store))?;
            let report = crate::import::import_files(&registry, &settings.data_dir, &files)
                .map_err(|error| runtime(error.to_string()));
            registry.close();
            drop(store);
            let report = report?;
            say(&format!(
                "imported {} file(s): {} registered, {} rejected, {} skipped (already imported), {} DocumentEntries, {:.1} s",
                report.files,
                report.registered,
                report.rejected,
                report.skipped_files,
                report.document_entries,
                report.elapsed.as_secs_f64()
            ));
            if report.rejected > 0 {
                return Err(Failure {
                    code: 1,
                    message: format!("{} submission(s) rejected", report.rejected),
                });
            }
            Ok(())
        }
    }
}

fn serve(config: &Config) -> Result<(), Failure> {
    let settings = config.validate()?;
    let runtime_handle = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("xds-registry")
        .build()
        .map_err(|error| runtime(format!("cannot start the async runtime: {error}")))?;
    // Configuration files first (profile, TLS): a bad one stops us before the store opens.
    let profile = profile(&settings.profile)?;
    let security = xds::net::security::ListenerSecurity::load(
        settings.tls.as_ref(),
        settings.trust.clone(),
        Arc::clone(&profile),
    )
    .map_err(|message| Failure::usage(format!("configuration: {message}")))?;
    let export_tls = match (&settings.export, &settings.tls) {
        (Some(export), Some(files)) if export.uses_tls() => Some(Arc::new(
            xds::net::tls::client_config(
                Some((&files.certificate, &files.private_key)),
                &files.trust_anchors,
            )
            .map_err(|error| Failure::usage(format!("configuration: audit TLS: {error}")))?,
        )),
        _ => None,
    };
    let store = open_store(&settings)?;
    let registry = start_registry_with(&settings, Arc::clone(&store), profile)?;
    let routes = Routes {
        soap: SoapEndpoint::new(
            registry.clone(),
            settings.limits.clone(),
            security.trust.clone(),
        ),
        soap_paths: Arc::new(settings.soap_paths.clone()),
        noop_path: settings.noop_path.clone(),
    };
    let served = runtime_handle.block_on(async {
        let listener = http::bind(settings.listen)
            .await
            .map_err(|error| runtime(format!("cannot listen on {}: {error}", settings.listen)))?;
        let address = listener.local_addr().map_err(|error| runtime(error.to_string()))?;
        let mllp_listener = http::bind_optional(settings.mllp_listen).await.map_err(runtime)?;
        let grpc_listener = http::bind_optional(settings.grpc_listen).await.map_err(runtime)?;
        let admin_listener = http::bind_optional(settings.admin_listen).await.map_err(runtime)?;
        let grpc_routes = match grpc_listener {
            Some(_) => Some(
                GrpcEndpoint::new(registry.clone(), security.trust.clone())
                    .routes()
                    .await
                    .map_err(runtime)?,
            ),
            None => None,
        };
        let mllp_address = mllp_listener.as_ref().map(|(_, address)| *address);
        let grpc_address = grpc_listener.as_ref().map(|(_, address)| *address);
        let admin_address = admin_listener.as_ref().map(|(_, address)| *address);
        if settings.insecure {
            tracing::warn!("--insecure: plain HTTP and MLLP without client certificates or assertions; development and benchmarks only");
        }
        let stats = store.stats().map_err(|error| runtime(error.message))?;
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            soap = %address,
            paths = ?settings.soap_paths,
            profile = %settings.profile.name,
            tls = !settings.insecure,
            data_dir = %settings.data_dir.display(),
            patients = stats.patients,
            access_policy = if settings.access.enforce { "dmp" } else { "open" },
            atna = ?settings.export.as_ref().map(|export| &export.address),
            mllp = ?mllp_address,
            grpc = ?grpc_address,
            admin = ?admin_address,
            ins = ?settings.identity.ins.accepted,
            "xds-registry started"
        );
        say(&format!("listening on {address} (soap)"));
        if let Some(mllp) = mllp_address {
            say(&format!("listening on {mllp} (mllp)"));
        }
        if let Some(grpc) = grpc_address {
            say(&format!("listening on {grpc} (grpc)"));
        }
        if let Some(admin) = admin_address {
            say(&format!("listening on {admin} (admin)"));
        }
        let shutdown = Shutdown::on_signal();
        let admin = admin_listener.map(|(listener, _)| {
            let hooks = Arc::new(crate::admin::RegistryAdmin {
                store: Arc::clone(&store),
                backup_dir: settings.backup_dir.clone(),
            });
            tokio::spawn(xds::net::admin::serve(
                listener,
                security.tls.clone(),
                hooks,
                shutdown.requested(),
            ))
        });
        let feed = mllp_listener.map(|(listener, _)| {
            tokio::spawn(crate::mllp::serve(
                listener,
                security.tls.clone(),
                registry.clone(),
                settings.mllp.clone(),
                shutdown.requested(),
                settings.shutdown_grace,
            ))
        });
        let grpc = grpc_listener.zip(grpc_routes).map(|((listener, _), routes)| {
            tokio::spawn(xds_proto::server::serve(
                listener,
                security.tls.clone(),
                routes,
                shutdown.requested(),
                settings.shutdown_grace,
            ))
        });
        let export = settings.export.clone().map(|export| {
            tokio::spawn(crate::audit::export::run(
                registry.clone(),
                export,
                export_tls.clone(),
                shutdown.requested(),
            ))
        });
        let routes = Arc::new(routes);
        let handler = move |request| server::route(Arc::clone(&routes), request);
        http::serve(listener, security.tls.clone(), handler, shutdown.requested(), settings.shutdown_grace).await;
        if let Some(feed) = feed {
            let _ = feed.await;
        }
        if let Some(grpc) = grpc {
            let _ = grpc.await;
        }
        if let Some(export) = export {
            let _ = export.await;
        }
        if let Some(admin) = admin {
            let _ = admin.await;
        }
        Ok::<(), Failure>(())
    });
    // Queries still running finish (or are abandoned) before the store closes.
    runtime_handle.shutdown_timeout(settings.shutdown_grace);
    registry.close();
    let synced = store.sync().map_err(|error| runtime(error.message));
    drop(store);
    served?;
    synced?;
    tracing::info!("xds-registry stopped");
    Ok(())
}
