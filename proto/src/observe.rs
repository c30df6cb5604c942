//! Every gRPC call of the daemons' listener runs in a `grpc` span carrying its correlation id
//! (the caller's `x-request-id` metadata, or a fresh one, echoed in the answer's headers) and
//! is counted in the daemon's metrics by method and status code.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use tonic::codegen::http;
use tracing::Instrument;
use xds::net::daemon::correlation_id;

/// The metadata key of the correlation id.
pub const REQUEST_ID_KEY: &str = "x-request-id";

/// The tower layer wrapping the listener's routes.
#[derive(Debug, Clone, Copy, Default)]
pub struct ObserveLayer;

impl<S> tower::Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe { inner }
    }
}

/// See [`ObserveLayer`].
#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
}

/// `xds.v1.Registry/FindDocuments` from `/xds.v1.Registry/FindDocuments`; `unknown` for paths
/// that are not a gRPC method (never a caller's free text in a label).
fn method_label(path: &str) -> String {
    let method = path.trim_start_matches('/');
    let well_formed = method.len() <= 128
        && method.split('/').count() == 2
        && method
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'/' | b'_'));
    if well_formed {
        method.to_owned()
    } else {
        "unknown".to_owned()
    }
}

/// The name of a grpc-status code (`OK`, `INVALID_ARGUMENT`, ...).
fn code_name(status: Option<&http::HeaderValue>) -> &'static str {
    let code = status
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<i32>().ok())
        .map_or(tonic::Code::Ok, tonic::Code::from_i32);
    match code {
        tonic::Code::Ok => "OK",
        tonic::Code::Cancelled => "CANCELLED",
        tonic::Code::Unknown => "UNKNOWN",
        tonic::Code::InvalidArgument => "INVALID_ARGUMENT",
        tonic::Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        tonic::Code::NotFound => "NOT_FOUND",
        tonic::Code::AlreadyExists => "ALREADY_EXISTS",
        tonic::Code::PermissionDenied => "PERMISSION_DENIED",
        tonic::Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        tonic::Code::FailedPrecondition => "FAILED_PRECONDITION",
        tonic::Code::Aborted => "ABORTED",
        tonic::Code::OutOfRange => "OUT_OF_RANGE",
        tonic::Code::Unimplemented => "UNIMPLEMENTED",
        tonic::Code::Internal => "INTERNAL",
        tonic::Code::Unavailable => "UNAVAILABLE",
        tonic::Code::DataLoss => "DATA_LOSS",
        tonic::Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

impl<S, B, R> tower::Service<http::Request<B>> for Observe<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let started = Instant::now();
        let method = method_label(request.uri().path());
        let correlation_id = correlation_id(
            request
                .headers()
                .get(REQUEST_ID_KEY)
                .and_then(|value| value.to_str().ok()),
        );
        let span = tracing::info_span!("grpc", %correlation_id, %method);
        let answer = span.in_scope(|| self.inner.call(request));
        Box::pin(
            async move {
                let mut response = answer.await?;
                let code = code_name(response.headers().get("grpc-status"));
                if code == "UNAUTHENTICATED" {
                    xds::net::metrics::global().refusal("UNAUTHENTICATED");
                }
                let elapsed = started.elapsed();
                xds::net::metrics::global().request("grpc", &method, code, elapsed);
                tracing::info!(
                    protocol = "grpc",
                    code,
                    ms = elapsed.as_secs_f64() * 1000.0,
                    "answered"
                );
                if let Ok(value) = http::HeaderValue::from_str(&correlation_id) {
                    response.headers_mut().insert(REQUEST_ID_KEY, value);
                }
                Ok(response)
            }
            .instrument(span),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_methods_or_unknown() {
        assert_eq!(
            method_label("/xds.v1.Registry/FindDocuments"),
            "xds.v1.Registry/FindDocuments"
        );
        assert_eq!(method_label("/x/y/z"), "unknown");
        assert_eq!(method_label("/a b/c"), "unknown");
        assert_eq!(code_name(None), "OK");
        assert_eq!(
            code_name(Some(&http::HeaderValue::from_static("7"))),
            "PERMISSION_DENIED"
        );
    }
}
