//! The HTTP listener: HTTP/1.1 on tokio with hyper, one task per connection, bodies bounded by
//! the configured limit, graceful shutdown (stop accepting, let requests in flight finish
//! within the grace period).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;

use crate::soap::{HttpAnswer, SoapEndpoint, fault};

/// What the listener serves.
#[derive(Debug, Clone)]
pub struct Routes {
    pub soap: SoapEndpoint,
    pub soap_paths: Arc<Vec<String>>,
    pub noop_path: Option<String>,
}

const NOOP_ANSWER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\"><soap:Header><wsa:Action soap:mustUnderstand=\"1\">urn:ihe:iti:2007:RegistryStoredQueryResponse</wsa:Action></soap:Header><soap:Body><query:AdhocQueryResponse xmlns:query=\"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0\" status=\"urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success\"/></soap:Body></soap:Envelope>";

fn plain(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = status;
    if let Ok(value) = "text/plain; charset=utf-8".parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

fn from_answer(answer: HttpAnswer) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(answer.body)));
    *response.status_mut() =
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = answer.content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

async fn route(
    routes: Arc<Routes>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let is_soap = routes.soap_paths.contains(&path);
    let is_noop = routes.noop_path.as_deref() == Some(path.as_str());
    if !is_soap && !is_noop {
        return Ok(plain(StatusCode::NOT_FOUND, "no endpoint at this path\n"));
    }
    if request.method() != Method::POST {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "SOAP endpoints take POST\n");
        if let Ok(value) = "POST".parse() {
            response.headers_mut().insert(hyper::header::ALLOW, value);
        }
        return Ok(response);
    }
    let content_type = request
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let limit = usize::try_from(routes.soap.limits().max_message_bytes).unwrap_or(usize::MAX);
    let body = match Limited::new(request.into_body(), limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            let reason = if error
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                format!("message larger than {limit} bytes")
            } else {
                format!("reading the request body failed: {error}")
            };
            return Ok(from_answer(fault(
                xds::wire::FaultCode::Sender,
                None,
                reason,
                None,
            )));
        }
    };
    if is_noop {
        let mut response = Response::new(Full::new(Bytes::from_static(NOOP_ANSWER.as_bytes())));
        if let Ok(value) = "application/soap+xml; charset=UTF-8".parse() {
            response
                .headers_mut()
                .insert(hyper::header::CONTENT_TYPE, value);
        }
        return Ok(response);
    }
    Ok(from_answer(routes.soap.handle(&content_type, &body).await))
}

/// Serves until `shutdown` resolves, then drains connections for at most `grace`.
pub async fn serve(
    listener: TcpListener,
    routes: Routes,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let routes = Arc::new(routes);
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(error) => {
                        // Out of file descriptors and the like: wait a little, keep serving.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let routes = Arc::clone(&routes);
                let service = hyper::service::service_fn(move |request| route(Arc::clone(&routes), request));
                let connection = builder.serve_connection(TokioIo::new(stream), service);
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!(%peer, %error, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(grace) => tracing::warn!(?grace, "grace period over; closing remaining connections"),
    }
}

/// Binds the listener (port 0 picks a free port).
pub async fn bind(address: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(address).await
}
