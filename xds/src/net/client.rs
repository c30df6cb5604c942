//! A SOAP-over-HTTP client with pooled keep-alive connections: the repository registering
//! with a registry (ITI-42) and asking it about a submission (ITI-18).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::{Method, Request, Uri};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// Why an exchange failed. [`ClientError::maybe_received`] says whether the server may have
/// acted on the request anyway (the outcome is then in doubt).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{url}: not an http:// or https:// URL (https needs the client's TLS configuration)")]
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

/// The ring provider supports the safe default protocol versions; this is never reached.
fn unreachable_config() -> rustls::ClientConfig {
    rustls::ClientConfig::builder()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth()
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
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
    tls: bool,
    max_answer_bytes: usize,
}

impl SoapClient {
    /// `timeout` bounds each whole exchange (connect, send, read the answer). With `tls`
    /// (mutual TLS: the client's own certificate, the servers' trust anchors) the client posts
    /// to `https://` URLs, reusing connections and TLS sessions.
    pub fn new(
        timeout: Duration,
        max_answer_bytes: usize,
        tls: Option<rustls::ClientConfig>,
    ) -> Self {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(timeout));
        http.enforce_http(false);
        let has_tls = tls.is_some();
        let config = tls.unwrap_or_else(|| {
            // Never used to connect (https URLs are refused without a configuration).
            rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .map(|builder| {
                builder
                    .with_root_certificates(rustls::RootCertStore::empty())
                    .with_no_client_auth()
            })
            .unwrap_or_else(|_| unreachable_config())
        });
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(60))
            .build(connector);
        Self {
            client,
            timeout,
            tls: has_tls,
            max_answer_bytes,
        }
    }

    /// Checks that `url` is something this client can post to.
    pub fn url(&self, url: &str) -> Result<Uri, ClientError> {
        let uri = Self::parse_url(url)?;
        if uri.scheme_str() == Some("https") && !self.tls {
            return Err(ClientError::Url {
                url: url.to_owned(),
            });
        }
        Ok(uri)
    }

    /// Checks that `url` is an http:// or https:// URL.
    pub fn parse_url(url: &str) -> Result<Uri, ClientError> {
        let uri: Uri = url.parse().map_err(|_| ClientError::Url {
            url: url.to_owned(),
        })?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
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
        self.send(Method::POST, url, content_type, body).await
    }

    /// GETs `url` and reads the whole answer, whatever its HTTP status (probes, admin calls).
    pub async fn get(&self, url: &Uri) -> Result<Reply, ClientError> {
        self.send(Method::GET, url, "text/plain", Vec::new()).await
    }

    /// Sends one request and reads the whole answer, whatever its HTTP status.
    pub async fn send(
        &self,
        method: Method,
        url: &Uri,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<Reply, ClientError> {
        let request = Request::builder()
            .method(method)
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
