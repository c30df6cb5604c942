//! The MLLP listener of the patient identity feed (ITI-8). One task per connection; messages of
//! a connection are answered in order, each once its effect is durable. A connection is closed,
//! with a log line, when its framing breaks, a message is larger than the limit, or the peer
//! stalls; the listener itself never stops for a client's fault.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use xds::hl7v2::Message;
use xds::model::CertificateKind;
use xds::net::http::{TlsListener, accept_tls};
use xds::net::mllp::{FrameError, FrameLimits, FrameReader, write_frame};
use xds::net::tls::Peer;

use crate::identity::IdentityOutcome;
use crate::identity::feed::{self, AckCode, ErrorCondition, FeedError, FeedSettings};
use crate::service::{Provenance, Registry};

/// Settings of the listener.
#[derive(Debug, Clone)]
pub struct MllpSettings {
    pub limits: FrameLimits,
    pub max_connections: usize,
    pub feed: FeedSettings,
}

impl Default for MllpSettings {
    fn default() -> Self {
        Self {
            limits: FrameLimits::default(),
            max_connections: 256,
            feed: FeedSettings::default(),
        }
    }
}

/// Shared state of the connections.
#[derive(Debug)]
struct Feed {
    registry: Registry,
    settings: MllpSettings,
    acks: AtomicU64,
}

/// HL7 DTM of now, UTC, to the second.
fn now() -> String {
    xds::model::Dtm::now().to_string()
}

/// Serves the feed until `shutdown` resolves; connections then get `grace` to finish the
/// message they are on. With `tls`, each connection completes a mutual TLS handshake first.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsListener>,
    registry: Registry,
    settings: MllpSettings,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) {
    let permits = Arc::new(Semaphore::new(settings.max_connections));
    let feed = Arc::new(Feed {
        registry,
        settings,
        acks: AtomicU64::new(0),
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: wait a little, keep serving.
                        tracing::warn!(%error, "MLLP accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let Ok(permit) = Arc::clone(&permits).try_acquire_owned() else {
                    tracing::warn!(%peer, limit = feed.settings.max_connections, "MLLP connection refused: too many connections");
                    drop(stream);
                    continue;
                };
                let feed = Arc::clone(&feed);
                let stopped = stopped.clone();
                let tls = tls.clone();
                tasks.spawn(async move {
                    let _ = stream.set_nodelay(true);
                    match tls {
                        None => connection(feed, stream, peer, Peer::default(), stopped).await,
                        Some(tls) => {
                            if let Some((stream, certificate)) = accept_tls(&tls, stream, peer).await {
                                connection(feed, stream, peer, certificate, stopped).await;
                            }
                        }
                    }
                    drop(permit);
                });
            }
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
    let _ = stop.send(true);
    let _ = tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    tasks.abort_all();
}

async fn connection<S: AsyncRead + AsyncWrite + Unpin>(
    feed: Arc<Feed>,
    stream: S,
    peer: SocketAddr,
    certificate: Peer,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let mut frames = FrameReader::new(stream, feed.settings.limits);
    tracing::debug!(%peer, "MLLP connection");
    loop {
        let next = tokio::select! {
            next = frames.next() => next,
            _ = stopped.changed() => {
                tracing::debug!(%peer, "MLLP connection closed at shutdown");
                return;
            }
        };
        let bytes = match next {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                tracing::debug!(%peer, "MLLP connection closed by the peer");
                return;
            }
            Err(FrameError::Idle(idle)) => {
                tracing::info!(%peer, ?idle, "MLLP connection closed: idle");
                return;
            }
            Err(error) => {
                tracing::warn!(%peer, %error, "MLLP connection closed");
                return;
            }
        };
        let ack = handle(&feed, &bytes, peer, &certificate).await;
        if let Err(error) = write_frame(frames.get_mut(), ack.as_bytes()).await {
            tracing::warn!(%peer, %error, "MLLP acknowledgement not sent; connection closed");
            return;
        }
    }
}

/// One message to its acknowledgement.
async fn handle(feed: &Feed, bytes: &[u8], peer: SocketAddr, certificate: &Peer) -> String {
    let settings = &feed.settings.feed;
    let control_id = format!(
        "XDSACK{}-{}",
        now(),
        feed.acks.fetch_add(1, Ordering::Relaxed)
    );
    let message = match Message::parse(bytes) {
        Ok(message) => message,
        Err(error) => {
            tracing::warn!(%peer, %error, bytes = bytes.len(), "ITI-8: not an HL7 v2 message (AR)");
            xds::net::metrics::global().mllp("unknown", AckCode::Reject.code());
            let error = FeedError {
                ack: AckCode::Reject,
                condition: ErrorCondition::SegmentSequence,
                location: None,
                text: error.to_string(),
            };
            return feed::acknowledge(None, Err(&error), settings, &control_id, &now());
        }
    };
    let msh = message.msh();
    // Identity feeds come from a structure's systems, never from a professional's own card.
    if let Some(identity) = certificate
        .identity
        .as_ref()
        .filter(|identity| identity.kind == CertificateKind::Professional)
    {
        tracing::warn!(%peer, subject = %identity.subject, "ITI-8 refused (AR): a professional card certificate");
        xds::net::metrics::global().mllp(&message.value(msh, 9, 2), AckCode::Reject.code());
        let error = FeedError {
            ack: AckCode::Reject,
            condition: ErrorCondition::ApplicationInternal,
            location: None,
            text: format!(
                "patient identity feeds are accepted from structure certificates only, not from {}",
                identity.subject
            ),
        };
        return feed::acknowledge(Some(&message), Err(&error), settings, &control_id, &now());
    }
    let their_id = message.value(msh, 10, 1);
    let sender = format!("{}/{}", message.value(msh, 3, 1), message.value(msh, 4, 1));
    let answer = match feed::interpret(&message, feed.registry.identity_policy(), settings) {
        Err(error) => Err(error),
        Ok(interpreted) => {
            let provenance = Provenance {
                source: format!("ITI-8 {} {their_id} from {sender}", interpreted.event),
                at: now(),
            };
            match feed
                .registry
                .identity(interpreted.command, Some(interpreted.message), provenance)
                .await
            {
                Ok(IdentityOutcome::Refused(refusal)) => Err(feed::refusal_error(&refusal)),
                Ok(outcome) => Ok(outcome),
                Err(error) => {
                    tracing::error!(%peer, error = %error.message, "ITI-8: the identity store failed");
                    Err(FeedError {
                        ack: AckCode::Error,
                        condition: ErrorCondition::ApplicationInternal,
                        location: None,
                        text: "the registry could not store the change; nothing was applied, send it again".to_owned(),
                    })
                }
            }
        }
    };
    let event = message.value(msh, 9, 2);
    xds::net::metrics::global().mllp(
        &event,
        match &answer {
            Ok(_) => AckCode::Accept.code(),
            Err(error) => error.ack.code(),
        },
    );
    match &answer {
        Ok(outcome) => {
            tracing::info!(%peer, %sender, control_id = %their_id, %event, ?outcome, "ITI-8 applied (AA)")
        }
        Err(error) => tracing::warn!(
            %peer,
            %sender,
            control_id = %their_id,
            %event,
            ack = error.ack.code(),
            location = error.location.as_ref().map(|location| location.describe()).unwrap_or_default(),
            reason = %error.text,
            "ITI-8 not applied"
        ),
    }
    feed::acknowledge(
        Some(&message),
        answer.as_ref(),
        settings,
        &control_id,
        &now(),
    )
}
