//! A SOAP-over-HTTP client with pooled keep-alive connections: the repository registering
//! with a registry (ITI-42) and asking it about a submission (ITI-18).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Why an exchange failed. [`ClientError::maybe_received`] says whether the server may have
/// acted on the request anyway (the outcome is then in doubt).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{url}: not an http:// URL")]
    Url { url: String },
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("no complete answer from {url} within {timeout:?}")]
    Timeout { url: String, timeout: Duration },
    #[error("the exchange with {url} failed: {reason}")]
    Exchange { url: String, reason: String },
    #[error("the answer from {url} is larger than {limit} bytes")]
    TooLarge { url: String, limit: usize },
}

impl ClientError {
    /// False only when the request certainly never reached the server.
    pub fn maybe_received(&self) -> bool {
        !matches!(self, Self::Url { .. } | Self::Connect { .. })
    }
}

/// An HTTP answer, read whole.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub content_type: String,
    pub body: Bytes,
}

/// A pooled HTTP/1.1 client for SOAP exchanges.
#[derive(Debug, Clone)]
pub struct SoapClient {
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
    max_answer_bytes: usize,
}

impl SoapClient {
    /// `timeout` bounds each whole exchange (connect, send, read the answer).
    pub fn new(timeout: Duration, max_answer_bytes: usize) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        Self {
            client,
            timeout,
            max_answer_bytes,
        }
    }

    /// Checks that `url` is something this client can post to.
    pub fn parse_url(url: &str) -> Result<Uri, ClientError> {
        let uri: Uri = url.parse().map_err(|_| ClientError::Url {
            url: url.to_owned(),
        })?;
        if uri.scheme_str() != Some("http") || uri.host().is_none() {
            return Err(ClientError::Url {
                url: url.to_owned(),
            });
        }
        Ok(uri)
    }

    /// POSTs `body` and reads the whole answer, whatever its HTTP status.
    pub async fn post(
        &self,
        url: &Uri,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Reply, ClientError> {
        let request = Request::builder()
            .method(Method::POST)
            .uri(url.clone())
            .header(hyper::header::CONTENT_TYPE, content_type)
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| ClientError::Exchange {
                url: url.to_string(),
                reason: error.to_string(),
            })?;
        let exchange = async {
            let answer = self.client.request(request).await.map_err(|error| {
                if error.is_connect() {
                    ClientError::Connect {
                        url: url.to_string(),
                        reason: error.to_string(),
                    }
                } else {
                    ClientError::Exchange {
                        url: url.to_string(),
                        reason: error.to_string(),
                    }
                }
            })?;
            let status = answer.status().as_u16();
            let content_type = answer
                .headers()
                .get(hyper::header::CONTENT_TYPE)
                .and_then(|value| value.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let body = Limited::new(answer.into_body(), self.max_answer_bytes)
                .collect()
                .await
                .map_err(|error| {
                    if error
                        .downcast_ref::<http_body_util::LengthLimitError>()
                        .is_some()
                    {
                        ClientError::TooLarge {
                            url: url.to_string(),
                            limit: self.max_answer_bytes,
                        }
                    } else {
                        ClientError::Exchange {
                            url: url.to_string(),
                            reason: error.to_string(),
                        }
                    }
                })?
                .to_bytes();
            Ok(Reply {
                status,
                content_type,
                body,
            })
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(ClientError::Timeout {
                url: url.to_string(),
                timeout: self.timeout,
            }),
        }
    }
}
