//! The daemons' gRPC listener: tonic over the daemons' own rustls acceptor (the client
//! certificate verifier with CRLs of the SOAP listeners, ALPN h2), gRPC health checking
//! (grpc.health.v1) and server reflection (v1) next to the services, graceful shutdown with a
//! grace period for streams still running.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tonic::service::Routes;
use tonic::transport::Server;
use tonic::{Request, Status};
use xds::model::Caller;
use xds::net::http::TlsListener;
use xds::net::tls::Peer;
use xds::net::trust::Trust;
use xds::transaction::Transaction;
use xds::wire::RawXml;

/// Largest message accepted (metadata of a big submission; document chunks are smaller).
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;
/// HTTP/2 flow-control window of one stream (bytes a client may send ahead).
const WINDOW_BYTES: u32 = 2 * 1024 * 1024;
/// TLS handshakes in progress at most; further connections wait in the accept queue.
const HANDSHAKES: usize = 256;
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The services of a daemon plus health and reflection. `names` are the fully qualified
/// service names reported SERVING by the health service.
pub async fn routes(services: Routes, names: &[&str]) -> Result<Routes, String> {
    let (reporter, health) = tonic_health::server::health_reporter();
    for name in names {
        reporter
            .set_service_status(*name, tonic_health::ServingStatus::Serving)
            .await;
    }
    reporter
        .set_service_status("", tonic_health::ServingStatus::Serving)
        .await;
    let reflection = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(crate::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(|error| format!("reflection: {error}"))?;
    Ok(services.add_service(health).add_service(reflection))
}

/// Serves `routes` on `listener` until `shutdown` resolves, then lets running calls finish for
/// at most `grace`. With `tls` (the daemon's SOAP listener security), every connection
/// completes the same mutual TLS handshake, offering h2, first.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsListener>,
    routes: Routes,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let tls = tls.map(|tls| xds::net::tls::with_alpn(&tls.acceptor, &[b"h2"]));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let signal = {
        let mut stopped = stopped.clone();
        async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    };
    // Flow-control windows of a few chunks: uploads stream without waiting on every 64 KiB (the
    // HTTP/2 default) while a connection still buffers at most WINDOW_BYTES per stream.
    let mut builder = Server::builder()
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .initial_stream_window_size(Some(WINDOW_BYTES))
        .initial_connection_window_size(Some(2 * WINDOW_BYTES))
        .tcp_nodelay(true)
        .layer(crate::observe::ObserveLayer);
    let router = builder.add_routes(routes);
    let served = async move {
        let result = match tls {
            None => {
                use tokio_stream::StreamExt;
                // No Nagle: small answers go out at once (as on the TLS path below).
                let incoming =
                    tokio_stream::wrappers::TcpListenerStream::new(listener).map(|accepted| {
                        accepted.inspect(|stream| {
                            let _ = stream.set_nodelay(true);
                        })
                    });
                router.serve_with_incoming_shutdown(incoming, signal).await
            }
            Some(acceptor) => {
                let incoming = tls_incoming(listener, acceptor, stopped.clone());
                router.serve_with_incoming_shutdown(incoming, signal).await
            }
        };
        if let Err(error) = result {
            tracing::error!(%error, "gRPC listener failed");
        }
    };
    tokio::pin!(served);
    tokio::pin!(shutdown);
    tokio::select! {
        () = &mut served => return,
        () = &mut shutdown => {}
    }
    let _ = stop.send(true);
    tokio::select! {
        () = &mut served => tracing::info!("gRPC calls finished"),
        () = tokio::time::sleep(grace) => tracing::warn!(?grace, "grace period over; closing remaining gRPC calls"),
    }
}

/// Accepted connections after their TLS handshake (done concurrently, each bounded in time).
fn tls_incoming(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> tokio_stream::wrappers::ReceiverStream<
    Result<tokio_rustls::server::TlsStream<TcpStream>, std::io::Error>,
> {
    let (sender, receiver) = tokio::sync::mpsc::channel(HANDSHAKES);
    let permits = Arc::new(tokio::sync::Semaphore::new(HANDSHAKES));
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = stopped.wait_for(|stop| *stop) => return,
            };
            let (stream, address) = match accepted {
                Ok(pair) => pair,
                Err(error) => {
                    tracing::warn!(%error, "gRPC accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            let _ = stream.set_nodelay(true);
            let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let sender = sender.clone();
            tokio::spawn(async move {
                let _permit = permit;
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                    Ok(Ok(stream)) => {
                        let _ = sender.send(Ok(stream)).await;
                    }
                    Ok(Err(error)) => {
                        tracing::info!(peer = %address, %error, "gRPC TLS handshake refused")
                    }
                    Err(_) => tracing::info!(peer = %address, "gRPC TLS handshake timed out"),
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(receiver)
}

/// The caller of a request, authenticated as over SOAP: the connection's client certificate and
/// the VIHF assertion of [`crate::security::ASSERTION_KEY`]; also that assertion as the
/// security header to forward. A refusal is UNAUTHENTICATED with the WS-Security fault code.
pub fn authenticate<T>(
    trust: &Trust,
    request: &Request<T>,
) -> Result<(Caller, Option<RawXml>), Status> {
    let peer = peer_of(trust, request);
    let security =
        crate::security::security_of(request.metadata()).map_err(Status::invalid_argument)?;
    let caller = trust.caller(&peer, security.as_ref()).map_err(|refusal| {
        tracing::warn!(subject = ?peer.identity.as_ref().map(|identity| &identity.subject), fault = refusal.subcode, reason = %refusal.reason, "gRPC caller refused");
        Status::unauthenticated(format!("{}: {}", refusal.subcode, refusal.reason))
    })?;
    Ok((caller, security))
}

/// UNIMPLEMENTED unless the daemon's profile offers `transaction`.
pub fn offered(allowed: bool, transaction: Transaction) -> Result<(), Status> {
    if allowed {
        Ok(())
    } else {
        Err(Status::unimplemented(format!(
            "{transaction:?} is not offered under this daemon's profile"
        )))
    }
}

/// The connection's client certificate as the listeners' trust reads it (an empty peer on a
/// plain listener).
pub fn peer_of<T>(trust: &Trust, request: &Request<T>) -> Peer {
    let certificate = request
        .peer_certs()
        .and_then(|chain| chain.first().cloned())
        .map(|certificate| certificate.into_owned());
    trust.peer(certificate)
}
