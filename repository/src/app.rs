//! The binary's commands: `serve` (the default). Exit codes: 0 done, 64 bad usage or
//! configuration (nothing was started), 1 runtime failure.

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use xds::net::daemon::{Failure, LogFormat, say};
use xds::net::http;
use xds::net::signal::Shutdown;

use crate::config::{Config, ConfigError, Settings};
use crate::grpc::GrpcEndpoint;
use crate::registry_client::SoapRegistryClient;
use crate::service::Repository;
use crate::soap::{self, NoopAnswer, Routes, SoapEndpoint};
use crate::store::DocumentStore;
use crate::store::rocks::RocksDocumentStore;

/// Command line (architecture.md, "Command-line contract").
#[derive(Debug, Parser)]
#[command(
    name = "xds-repository",
    version,
    about = "XDS.b Document Repository (ITI-41, ITI-43, ITI-86)"
)]
pub struct Cli {
    /// Configuration file (TOML).
    #[arg(
        long,
        global = true,
        env = "XDS_REPOSITORY_CONFIG",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,
    /// Data directory (embedded RocksDB).
    #[arg(
        long,
        global = true,
        env = "XDS_REPOSITORY_DATA_DIR",
        value_name = "DIR"
    )]
    pub data_dir: Option<PathBuf>,
    /// SOAP listener address; port 0 picks a free port.
    #[arg(
        long,
        global = true,
        env = "XDS_REPOSITORY_LISTEN",
        value_name = "ADDR:PORT"
    )]
    pub listen: Option<String>,
    /// The registry's ITI-42 endpoint.
    #[arg(
        long,
        global = true,
        env = "XDS_REPOSITORY_REGISTRY_URL",
        value_name = "URL"
    )]
    pub registry_url: Option<String>,
    /// This repository's repositoryUniqueId (OID).
    #[arg(long, global = true, env = "XDS_REPOSITORY_ID", value_name = "OID")]
    pub repository_id: Option<String>,
    /// Plain HTTP without client certificates: development and benchmarks only.
    #[arg(long, global = true, env = "XDS_REPOSITORY_INSECURE")]
    pub insecure: bool,
    /// gRPC listener (xds.v1 Repository; health, reflection); port 0 picks a free port.
    #[arg(
        long,
        global = true,
        env = "XDS_REPOSITORY_GRPC_LISTEN",
        value_name = "ADDR:PORT"
    )]
    pub grpc_listen: Option<String>,
    /// Admin listener: /metrics (Prometheus), /healthz, /readyz, POST /backup; port 0 picks a
    /// free port.
    #[arg(
        long,
        global = true,
        env = "XDS_REPOSITORY_ADMIN_LISTEN",
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
    if let Some(url) = &cli.registry_url {
        config.repository.registry_url = url.clone();
    }
    if let Some(id) = &cli.repository_id {
        config.repository.repository_unique_id = id.clone();
    }
    if cli.insecure {
        config.server.insecure = true;
    }
    if cli.grpc_listen.is_some() {
        config.server.grpc_listen = cli.grpc_listen.clone();
    }
    if cli.admin_listen.is_some() {
        config.server.admin_listen = cli.admin_listen.clone();
    }
    Ok(config)
}

/// Runs the command line.
pub fn run(cli: Cli) -> Result<(), Failure> {
    let mut config = configuration(&cli)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(&config.validate()?),
        Command::Backup => {
            let settings = config.validate()?;
            xds::net::admin::backup_command(settings.admin_listen, settings.tls.as_ref(), || {
                let store = open_store(&settings)?;
                crate::admin::backup(&*store, &settings.backup_dir).map_err(runtime)
            })
        }
        Command::Restore { folder } => {
            config.server.insecure = true;
            config.repository.registry_url = "http://127.0.0.1:9/".to_owned();
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
    }
}

/// Opens the store of a data directory.
pub fn open_store(settings: &Settings) -> Result<Arc<dyn DocumentStore>, Failure> {
    std::fs::create_dir_all(&settings.data_dir).map_err(|error| {
        runtime(format!(
            "cannot create data directory {}: {error}",
            settings.data_dir.display()
        ))
    })?;
    let store = RocksDocumentStore::open(&settings.data_dir.join("documents"), settings.rocks)
        .map_err(|error| {
            runtime(format!(
                "cannot open the store in {}: {}",
                settings.data_dir.display(),
                error.message
            ))
        })?;
    Ok(Arc::new(store))
}

fn serve(settings: &Settings) -> Result<(), Failure> {
    let runtime_handle = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("xds-repository")
        .build()
        .map_err(|error| runtime(format!("cannot start the async runtime: {error}")))?;
    // Configuration files first (profile, TLS): a bad one stops us before the store opens.
    let profile = xds_profiles::load(&settings.profile).map_err(|error| Failure {
        code: 64,
        message: format!("configuration: {error}"),
    })?;
    let security = xds::net::security::ListenerSecurity::load(
        settings.tls.as_ref(),
        settings.trust.clone(),
        Arc::clone(&profile),
    )
    .map_err(|message| Failure::usage(format!("configuration: {message}")))?;
    // The repository calls the registry with its own certificate (the listener's).
    let client_tls = settings
        .tls
        .as_ref()
        .map(|files| {
            xds::net::tls::client_config(
                Some((&files.certificate, &files.private_key)),
                &files.trust_anchors,
            )
        })
        .transpose()
        .map_err(|error| Failure::usage(format!("configuration: {error}")))?;
    let store = open_store(settings)?;
    let served = runtime_handle.block_on(async {
        // The client's connection pool needs the runtime.
        let registry = SoapRegistryClient::new(&settings.registry_url, settings.registry_timeout, client_tls)
            .map_err(|error| Failure {
                code: 64,
                message: error.to_string(),
            })?;
        let registry: Arc<dyn crate::registry_client::RegistryClient> = Arc::new(registry);
        let repository = Repository::with_profile(
            Arc::clone(&store),
            Arc::clone(&registry),
            settings.service.clone(),
            profile,
        );
        let abandoned = repository
            .remove_abandoned_uploads()
            .map_err(|error| runtime(format!("cannot clean up abandoned uploads: {error}")))?;
        let (documents, pending, _) = store.counts().map_err(|error| runtime(error.message))?;
        let listener = http::bind(settings.listen)
            .await
            .map_err(|error| runtime(format!("cannot listen on {}: {error}", settings.listen)))?;
        let address = listener
            .local_addr()
            .map_err(|error| runtime(error.to_string()))?;
        if settings.insecure {
            tracing::warn!("--insecure: plain HTTP without client certificates or assertions; development and benchmarks only");
        }
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            tls = !settings.insecure,
            soap = %address,
            paths = ?settings.soap_paths,
            repository_unique_id = %settings.service.repository_unique_id,
            registry = %settings.registry_url,
            data_dir = %settings.data_dir.display(),
            documents,
            pending_submissions = pending,
            abandoned_uploads_removed = abandoned,
            "xds-repository started"
        );
        let (stop_settling, settling_stopped) = tokio::sync::oneshot::channel::<()>();
        let settler = {
            let repository = repository.clone();
            tokio::spawn(async move {
                repository
                    .settle_forever(async {
                        let _ = settling_stopped.await;
                    })
                    .await;
            })
        };
        let admin_listener = http::bind_optional(settings.admin_listen).await.map_err(runtime)?;
        let grpc = match settings.grpc_listen {
            Some(grpc) => {
                let listener = http::bind(grpc)
                    .await
                    .map_err(|error| runtime(format!("cannot listen on {grpc}: {error}")))?;
                let address = listener.local_addr().map_err(|error| runtime(error.to_string()))?;
                let routes = GrpcEndpoint::new(repository.clone(), settings.limits.clone(), security.trust.clone())
                    .routes()
                    .await
                    .map_err(runtime)?;
                Some((listener, address, routes))
            }
            None => None,
        };
        let routes = Arc::new(Routes {
            soap: SoapEndpoint::new(repository, settings.limits.clone(), security.trust.clone()),
            soap_paths: Arc::new(settings.soap_paths.clone()),
            noop: settings.noop.as_ref().map(|(path, size)| {
                (
                    path.clone(),
                    NoopAnswer::new(settings.service.repository_unique_id.as_str(), *size),
                )
            }),
        });
        say(&format!("listening on {address} (soap)"));
        let shutdown = Shutdown::on_signal();
        let grpc = grpc.map(|(listener, address, routes)| {
            say(&format!("listening on {address} (grpc)"));
            tokio::spawn(xds_proto::server::serve(
                listener,
                security.tls.clone(),
                routes,
                shutdown.requested(),
                settings.shutdown_grace,
            ))
        });
        let admin = admin_listener.map(|(listener, address)| {
            say(&format!("listening on {address} (admin)"));
            let hooks = Arc::new(crate::admin::RepositoryAdmin {
                store: Arc::clone(&store),
                registry,
                backup_dir: settings.backup_dir.clone(),
            });
            tokio::spawn(xds::net::admin::serve(
                listener,
                security.tls.clone(),
                hooks,
                shutdown.requested(),
            ))
        });
        let handler = move |request| soap::route(Arc::clone(&routes), request);
        http::serve(listener, security.tls.clone(), handler, shutdown.requested(), settings.shutdown_grace).await;
        if let Some(grpc) = grpc {
            let _ = grpc.await;
        }
        if let Some(admin) = admin {
            let _ = admin.await;
        }
        let _ = stop_settling.send(());
        let _ = settler.await;
        Ok::<(), Failure>(())
    });
    runtime_handle.shutdown_timeout(settings.shutdown_grace);
    let synced = store.sync().map_err(|error| runtime(error.message));
    drop(store);
    served?;
    synced?;
    tracing::info!("xds-repository stopped");
    Ok(())
}
