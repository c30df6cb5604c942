//! The HTTP/1.1 listener and streamed bodies.
//!
//! [`serve`] runs one task per connection and drains connections at shutdown within a grace
//! period. Request bodies can be read as a blocking [`Read`] ([`BodyReader`], for decoders that
//! run on a blocking thread) and response bodies written as a blocking [`Write`]
//! ([`channel_body`]); both pass through a small bounded channel, so memory stays flat whatever
//! the size of the message.

use std::convert::Infallible;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::tls::{IdentityRules, Peer, identity_of};

/// The body type of every answer: whole (`full`) or streamed (`channel_body`).
pub type ResponseBody = BoxBody<Bytes, io::Error>;

/// A body that is already complete.
pub fn full(bytes: impl Into<Bytes>) -> ResponseBody {
    Full::new(bytes.into())
        .map_err(|never: Infallible| match never {})
        .boxed()
}

/// A body made of frames that are all at hand (headers, documents already read): each goes out
/// as it is, without being copied into one buffer.
pub fn frames(frames: Vec<Bytes>) -> ResponseBody {
    FramesBody {
        frames: frames.into(),
    }
    .boxed()
}

#[derive(Debug)]
struct FramesBody {
    frames: std::collections::VecDeque<Bytes>,
}

impl Body for FramesBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        Poll::Ready(self.frames.pop_front().map(|bytes| Ok(Frame::data(bytes))))
    }

    fn is_end_stream(&self) -> bool {
        self.frames.is_empty()
    }
}

/// A response with a status, a Content-Type and a body.
pub fn response(
    status: StatusCode,
    content_type: &str,
    body: ResponseBody,
) -> Response<ResponseBody> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    if let Ok(value) = content_type.parse() {
        response
            .headers_mut()
            .insert(hyper::header::CONTENT_TYPE, value);
    }
    response
}

/// A short plain-text answer (wrong path, wrong method).
pub fn plain(status: StatusCode, text: &str) -> Response<ResponseBody> {
    response(status, "text/plain; charset=utf-8", full(text.to_owned()))
}

/// The answer to anything but POST on a SOAP endpoint.
pub fn method_not_allowed() -> Response<ResponseBody> {
    let mut answer = plain(StatusCode::METHOD_NOT_ALLOWED, "SOAP endpoints take POST\n");
    if let Ok(value) = "POST".parse() {
        answer.headers_mut().insert(hyper::header::ALLOW, value);
    }
    answer
}

/// The request's Content-Type, or "" when absent or not text.
pub fn content_type(request: &Request<Incoming>) -> String {
    request
        .headers()
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

/// Binds a listener (port 0 picks a free port).
pub async fn bind(address: SocketAddr) -> io::Result<TcpListener> {
    TcpListener::bind(address).await
}

/// Binds an optional listener; answers it with the address it got.
pub async fn bind_optional(
    address: Option<SocketAddr>,
) -> Result<Option<(TcpListener, SocketAddr)>, String> {
    let Some(address) = address else {
        return Ok(None);
    };
    let listener = bind(address)
        .await
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    let bound = listener
        .local_addr()
        .map_err(|error| format!("cannot listen on {address}: {error}"))?;
    Ok(Some((listener, bound)))
}

/// Mutual TLS of a listener: the acceptor and how client certificates are read.
#[derive(Clone)]
pub struct TlsListener {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub rules: IdentityRules,
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TlsListener")
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

/// Longest TLS handshake accepted.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Completes a server handshake and reads the client certificate; a failure is logged with
/// the peer's address and the connection dropped.
pub async fn accept_tls(
    tls: &TlsListener,
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
) -> Option<(tokio_rustls::server::TlsStream<tokio::net::TcpStream>, Peer)> {
    let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.acceptor.accept(stream)).await;
    let stream = match handshake {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            tracing::info!(%peer, %error, "TLS handshake refused");
            return None;
        }
        Err(_) => {
            tracing::info!(%peer, "TLS handshake timed out");
            return None;
        }
    };
    let certificate = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .map(|certificate| certificate.clone().into_owned());
    let identity = certificate
        .as_ref()
        .and_then(|der| identity_of(der, &tls.rules).ok());
    Some((
        stream,
        Peer {
            certificate,
            identity,
        },
    ))
}

/// Serves `handler` until `shutdown` resolves, then drains connections for at most `grace`.
/// With `tls`, every connection completes a mutual TLS handshake first; each request carries
/// the connection's [`Peer`] as an extension (an empty one on a plain listener).
pub async fn serve<H, F>(
    listener: TcpListener,
    tls: Option<TlsListener>,
    handler: H,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) where
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Response<ResponseBody>> + Send + 'static,
{
    let handler = Arc::new(handler);
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(30))
        .keep_alive(true);
    let builder = Arc::new(builder);
    let tls = tls.map(Arc::new);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, address) = match accepted {
                    Ok(pair) => pair,
                    Err(error) => {
                        // Out of file descriptors and the like: wait a little, keep serving.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let handler = Arc::clone(&handler);
                let builder = Arc::clone(&builder);
                let watcher = graceful.watcher();
                let tls = tls.clone();
                tokio::spawn(async move {
                    match tls {
                        None => {
                            serve_connection(&builder, watcher, TokioIo::new(stream), Peer::default(), handler, address).await;
                        }
                        Some(tls) => {
                            if let Some((stream, peer)) = accept_tls(&tls, stream, address).await {
                                serve_connection(&builder, watcher, TokioIo::new(stream), peer, handler, address).await;
                            }
                        }
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

async fn serve_connection<IO, H, F>(
    builder: &http1::Builder,
    watcher: hyper_util::server::graceful::Watcher,
    io: IO,
    peer: Peer,
    handler: Arc<H>,
    address: SocketAddr,
) where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    H: Fn(Request<Incoming>) -> F + Send + Sync + 'static,
    F: Future<Output = Response<ResponseBody>> + Send + 'static,
{
    let peer = Arc::new(peer);
    let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
        request.extensions_mut().insert(Arc::clone(&peer));
        let answer = handler(request);
        async move { Ok::<_, Infallible>(answer.await) }
    });
    let connection = watcher.watch(builder.serve_connection(io, service));
    if let Err(error) = connection.await {
        tracing::debug!(peer = %address, %error, "connection ended with an error");
    }
}

/// The peer of the connection a request came on.
pub fn peer_of(request: &Request<Incoming>) -> Arc<Peer> {
    request
        .extensions()
        .get::<Arc<Peer>>()
        .cloned()
        .unwrap_or_default()
}

/// Bytes in flight between the network and a blocking reader or writer, per message.
const CHANNEL_FRAMES: usize = 8;
/// Size of the frames a [`ChannelWriter`] sends.
const WRITE_FRAME: usize = 64 * 1024;

/// Reads an incoming body from a blocking thread. A task pumps the body's frames through a
/// bounded channel; a transport error (a client that hangs up, a body shorter than its
/// Content-Length) surfaces as an `io::Error` from `read`. Dropping the reader stops the pump.
#[derive(Debug)]
pub struct BodyReader {
    receiver: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl BodyReader {
    /// Starts pumping `body`; must be called inside a tokio runtime. `read` must then be called
    /// from a blocking context (`spawn_blocking`), never on an async worker.
    pub fn new(body: Incoming) -> Self {
        let (sender, receiver) = mpsc::channel(CHANNEL_FRAMES);
        tokio::spawn(async move {
            let mut body = body;
            loop {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        let Ok(data) = frame.into_data() else {
                            continue;
                        };
                        if !data.is_empty() && sender.send(Ok(data)).await.is_err() {
                            break;
                        }
                    }
                    Some(Err(error)) => {
                        let error = io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            format!("the request body ended early: {error}"),
                        );
                        let _ = sender.send(Err(error)).await;
                        break;
                    }
                    None => break,
                }
            }
        });
        Self {
            receiver,
            current: Bytes::new(),
        }
    }
}

impl Read for BodyReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        while self.current.is_empty() {
            match self.receiver.blocking_recv() {
                Some(Ok(data)) => self.current = data,
                Some(Err(error)) => return Err(error),
                None => return Ok(0),
            }
        }
        let count = out.len().min(self.current.len());
        out[..count].copy_from_slice(&self.current.split_to(count));
        Ok(count)
    }
}

/// A response body fed by a [`ChannelWriter`].
#[derive(Debug)]
pub struct ChannelBody {
    receiver: mpsc::Receiver<io::Result<Bytes>>,
    finished: Arc<AtomicBool>,
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, io::Error>>> {
        match self.receiver.poll_recv(context) {
            Poll::Ready(Some(result)) => Poll::Ready(Some(result.map(Frame::data))),
            // The writer went away: a clean end only if it said so.
            Poll::Ready(None) if self.finished.load(Ordering::Acquire) => Poll::Ready(None),
            Poll::Ready(None) => Poll::Ready(Some(Err(io::Error::other(
                "the response was abandoned part-way",
            )))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Writes a response body from a blocking thread, in frames of 64 KiB through a bounded
/// channel. Call [`ChannelWriter::finish`] at the end: a writer dropped without it aborts the
/// body, so the client sees a broken message rather than a short one that looks complete.
#[derive(Debug)]
pub struct ChannelWriter {
    sender: Option<mpsc::Sender<io::Result<Bytes>>>,
    buffer: Vec<u8>,
    finished: Arc<AtomicBool>,
}

/// A streamed response body and the writer that feeds it.
pub fn channel_body() -> (ChannelWriter, ChannelBody) {
    let (sender, receiver) = mpsc::channel(CHANNEL_FRAMES);
    let finished = Arc::new(AtomicBool::new(false));
    (
        ChannelWriter {
            sender: Some(sender),
            buffer: Vec::with_capacity(WRITE_FRAME),
            finished: Arc::clone(&finished),
        },
        ChannelBody { receiver, finished },
    )
}

impl ChannelWriter {
    fn send(&mut self, frame: Bytes) -> io::Result<()> {
        let Some(sender) = &self.sender else {
            return Err(io::Error::new(io::ErrorKind::BrokenPipe, "body finished"));
        };
        sender.blocking_send(Ok(frame)).map_err(|_| {
            io::Error::new(io::ErrorKind::BrokenPipe, "the client is no longer reading")
        })
    }

    /// Sends what is buffered, then `bytes` as frames of their own, without copying them (a
    /// document chunk read from storage goes out as it is).
    pub fn write_bytes(&mut self, bytes: Bytes) -> io::Result<()> {
        self.flush()?;
        if bytes.is_empty() {
            return Ok(());
        }
        self.send(bytes)
    }

    /// Sends what is buffered and ends the body cleanly.
    pub fn finish(mut self) -> io::Result<()> {
        self.flush()?;
        self.finished.store(true, Ordering::Release);
        self.sender = None;
        Ok(())
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.buffer.is_empty() && data.len() >= WRITE_FRAME {
            self.send(Bytes::copy_from_slice(data))?;
            return Ok(data.len());
        }
        let room = WRITE_FRAME - self.buffer.len();
        let count = room.min(data.len());
        self.buffer.extend_from_slice(&data[..count]);
        if self.buffer.len() == WRITE_FRAME {
            self.flush()?;
        }
        Ok(count)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let frame = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(WRITE_FRAME),
        ));
        self.send(frame)
    }
}
