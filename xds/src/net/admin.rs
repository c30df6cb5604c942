//! The admin listener (`--admin-listen`): `GET /metrics` (Prometheus text format), `GET
//! /healthz` (the process answers), `GET /readyz` (the daemon can serve: stores open, peers
//! reachable), `POST /backup` (an online RocksDB checkpoint into the configured backup folder).
//!
//! Like every listener it requires mutual TLS unless the daemon runs `--insecure`; professional
//! card certificates are refused (the admin port is for machines: monitoring, orchestrators,
//! operators' scripts). The answers carry no patient data.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

use super::daemon::Failure;
use super::http::{self, ResponseBody};
use super::metrics::{self, Gauge};
use crate::model::CertificateKind;

/// The Content-Type of the Prometheus text exposition format.
pub const METRICS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A boxed future of the admin hooks.
pub type Pending<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a daemon answers on its admin listener.
pub trait AdminHooks: Send + Sync + 'static {
    /// `xds-registry` or `xds-repository` (the `daemon` label of `xds_build_info`).
    fn daemon(&self) -> &'static str;
    /// Values read at scrape time (store sizes, outbox depths). May block briefly: called on a
    /// blocking thread.
    fn gauges(&self) -> Vec<Gauge>;
    /// Ok when the daemon can serve; otherwise what is missing.
    fn ready(&self) -> Pending<'_, Result<(), String>>;
    /// Writes a consistent checkpoint of every store and answers its folder. Called on a
    /// blocking thread.
    fn backup(&self) -> Result<PathBuf, String>;
}

/// Answers one admin request.
pub async fn route(
    hooks: Arc<dyn AdminHooks>,
    request: Request<Incoming>,
) -> Response<ResponseBody> {
    let peer = http::peer_of(&request);
    if peer
        .identity
        .as_ref()
        .is_some_and(|identity| identity.kind == CertificateKind::Professional)
    {
        return http::plain(
            StatusCode::FORBIDDEN,
            "the admin listener does not serve professional card certificates\n",
        );
    }
    let method = request.method().clone();
    match (request.uri().path(), method) {
        ("/healthz", Method::GET | Method::HEAD) => http::plain(StatusCode::OK, "ok\n"),
        ("/readyz", Method::GET | Method::HEAD) => match hooks.ready().await {
            Ok(()) => http::plain(StatusCode::OK, "ready\n"),
            Err(reason) => {
                tracing::warn!(%reason, "not ready");
                http::plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    &format!("not ready: {reason}\n"),
                )
            }
        },
        ("/metrics", Method::GET) => {
            let reader = Arc::clone(&hooks);
            let gauges = tokio::task::spawn_blocking(move || reader.gauges())
                .await
                .unwrap_or_default();
            let text = metrics::global().render(hooks.daemon(), &gauges);
            http::response(StatusCode::OK, METRICS_CONTENT_TYPE, http::full(text))
        }
        ("/backup", Method::POST) => {
            let writer = Arc::clone(&hooks);
            match tokio::task::spawn_blocking(move || writer.backup()).await {
                Ok(Ok(folder)) => {
                    tracing::info!(folder = %folder.display(), "backup written");
                    http::plain(StatusCode::OK, &format!("{}\n", folder.display()))
                }
                Ok(Err(reason)) => {
                    tracing::error!(%reason, "backup failed");
                    http::plain(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        &format!("backup failed: {reason}\n"),
                    )
                }
                Err(error) => http::plain(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("backup failed: {error}\n"),
                ),
            }
        }
        ("/healthz" | "/readyz" | "/metrics" | "/backup", _) => http::method_not_allowed(),
        _ => http::plain(
            StatusCode::NOT_FOUND,
            "admin paths: /metrics /healthz /readyz /backup (POST)\n",
        ),
    }
}

/// Serves the admin routes on `listener` (with `tls` unless the daemon runs `--insecure`)
/// until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<http::TlsListener>,
    hooks: Arc<dyn AdminHooks>,
    shutdown: impl Future<Output = ()>,
) {
    let handler = move |request| route(Arc::clone(&hooks), request);
    http::serve(
        listener,
        tls,
        handler,
        shutdown,
        std::time::Duration::from_secs(1),
    )
    .await;
}

/// Writes one backup: a fresh folder in `backup_dir`, the store's checkpoint by `checkpoint`
/// under `store`, then the manifest. A failed backup leaves no folder behind.
pub fn take_backup(
    backup_dir: &std::path::Path,
    daemon: &str,
    store: &str,
    checkpoint: impl FnOnce(&std::path::Path) -> Result<(), String>,
) -> Result<PathBuf, String> {
    let (folder, target) = super::backup::new_backup(backup_dir, store).map_err(|error| {
        format!(
            "cannot create a backup folder in {}: {error}",
            backup_dir.display()
        )
    })?;
    let written = checkpoint(&target).and_then(|()| {
        super::backup::finish_backup(&folder, daemon, store)
            .map_err(|error| format!("cannot write the backup manifest: {error}"))
    });
    match written {
        Ok(()) => Ok(folder),
        Err(reason) => {
            let _ = std::fs::remove_dir_all(&folder);
            Err(reason)
        }
    }
}

/// A client of a running daemon's admin listener (the `health` and `backup` commands).
#[derive(Debug)]
pub struct AdminClient {
    client: super::client::SoapClient,
    base: String,
}

impl AdminClient {
    /// A client of the listener at `address` (an unspecified address means this host), with
    /// the daemon's own certificate when `tls` is given.
    pub fn new(
        address: std::net::SocketAddr,
        tls: Option<&super::tls::TlsFiles>,
    ) -> Result<Self, String> {
        let host = match address.ip() {
            std::net::IpAddr::V4(ip) if ip.is_unspecified() => "127.0.0.1".to_owned(),
            std::net::IpAddr::V6(ip) if ip.is_unspecified() => "[::1]".to_owned(),
            std::net::IpAddr::V4(ip) => ip.to_string(),
            std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        };
        let config = match tls {
            Some(files) => Some(
                super::tls::client_config(
                    Some((&files.certificate, &files.private_key)),
                    &files.trust_anchors,
                )
                .map_err(|error| format!("admin client TLS: {error}"))?,
            ),
            None => None,
        };
        let scheme = if config.is_some() { "https" } else { "http" };
        Ok(Self {
            client: super::client::SoapClient::new(
                std::time::Duration::from_secs(600),
                1 << 20,
                config,
            ),
            base: format!("{scheme}://{host}:{}", address.port()),
        })
    }

    /// Sends one request; Ok((status, text)) whatever the status, Err when nothing answered
    /// (`connect` true when no daemon listens).
    pub async fn call(&self, method: Method, path: &str) -> Result<(u16, String), (bool, String)> {
        let url = self
            .client
            .url(&format!("{}{path}", self.base))
            .map_err(|error| (false, error.to_string()))?;
        match self
            .client
            .send(method, &url, "text/plain", Vec::new())
            .await
        {
            Ok(reply) => Ok((
                reply.status,
                String::from_utf8_lossy(&reply.body).trim_end().to_owned(),
            )),
            Err(error) => Err((
                matches!(error, super::client::ClientError::Connect { .. }),
                error.to_string(),
            )),
        }
    }
}

fn block_on<T>(work: impl Future<Output = T>) -> Result<T, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(|runtime| runtime.block_on(work))
        .map_err(|error| Failure::runtime(format!("cannot start the async runtime: {error}")))
}

/// The `health` command: exit 0 when the daemon's admin listener answers /readyz with 200
/// (container health checks), 1 with the reason otherwise.
pub fn health_command(
    admin: Option<std::net::SocketAddr>,
    tls: Option<&super::tls::TlsFiles>,
) -> Result<(), Failure> {
    let Some(address) = admin else {
        return Err(Failure::usage(
            "health needs the admin listener's address (server.admin_listen, --admin-listen)",
        ));
    };
    let client = AdminClient::new(address, tls).map_err(Failure::usage)?;
    match block_on(client.call(Method::GET, "/readyz"))? {
        Ok((200, text)) => {
            super::daemon::say(&text);
            Ok(())
        }
        Ok((_, text)) => Err(Failure::runtime(text)),
        Err((_, reason)) => Err(Failure::runtime(reason)),
    }
}

/// The `backup` command: asks the running daemon (its admin listener) for an online backup;
/// when no daemon listens there (or none is configured), `offline` writes it from the stopped
/// daemon's store. Prints `backup FOLDER`.
pub fn backup_command(
    admin: Option<std::net::SocketAddr>,
    tls: Option<&super::tls::TlsFiles>,
    offline: impl FnOnce() -> Result<PathBuf, Failure>,
) -> Result<(), Failure> {
    if let Some(address) = admin {
        let client = AdminClient::new(address, tls).map_err(Failure::usage)?;
        match block_on(client.call(Method::POST, "/backup"))? {
            Ok((200, folder)) => {
                super::daemon::say(&format!("backup {folder}"));
                return Ok(());
            }
            Ok((_, text)) => return Err(Failure::runtime(text)),
            // No daemon listens: the store is free, back it up directly.
            Err((true, _)) => {}
            Err((false, reason)) => return Err(Failure::runtime(reason)),
        }
    }
    let folder = offline()?;
    super::daemon::say(&format!("backup {}", folder.display()));
    Ok(())
}

/// The `restore FOLDER` command (the daemon stopped): the backup replaces the store of
/// `data_dir`, the current one is moved aside. When a store is there, `open` opens it first:
/// that fails while a daemon holds it, and nothing is touched.
pub fn restore_command(
    folder: &std::path::Path,
    daemon: &str,
    store: &str,
    data_dir: &std::path::Path,
    open: impl FnOnce() -> Result<(), Failure>,
) -> Result<(), Failure> {
    if data_dir.join(store).join("CURRENT").exists() {
        open()?;
    }
    let aside =
        super::backup::restore(folder, daemon, store, data_dir).map_err(Failure::runtime)?;
    if let Some(aside) = aside {
        super::daemon::say(&format!("previous store moved to {}", aside.display()));
    }
    super::daemon::say(&format!(
        "restored {} into {}",
        folder.display(),
        data_dir.display()
    ));
    Ok(())
}
