//! The registry's HTTP routes: the SOAP endpoint paths (bodies bounded by the configured limit)
//! and the benchmark's no-op endpoint. The listener loop itself is `xds::net::http::serve`.

use std::sync::Arc;

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use xds::net::http::{self, ResponseBody};
use xds::net::soap::{SOAP_CONTENT_TYPE, fault};

use crate::soap::SoapEndpoint;

/// What the listener serves.
#[derive(Debug, Clone)]
pub struct Routes {
    pub soap: SoapEndpoint,
    pub soap_paths: Arc<Vec<String>>,
    pub noop_path: Option<String>,
}

const NOOP_ANSWER: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><soap:Envelope xmlns:soap=\"http://www.w3.org/2003/05/soap-envelope\" xmlns:wsa=\"http://www.w3.org/2005/08/addressing\"><soap:Header><wsa:Action soap:mustUnderstand=\"1\">urn:ihe:iti:2007:RegistryStoredQueryResponse</wsa:Action></soap:Header><soap:Body><query:AdhocQueryResponse xmlns:query=\"urn:oasis:names:tc:ebxml-regrep:xsd:query:3.0\" status=\"urn:oasis:names:tc:ebxml-regrep:ResponseStatusType:Success\"/></soap:Body></soap:Envelope>";

/// Answers one request.
pub async fn route(routes: Arc<Routes>, request: Request<Incoming>) -> Response<ResponseBody> {
    let peer = http::peer_of(&request);
    let path = request.uri().path();
    let is_soap = routes.soap_paths.iter().any(|soap_path| soap_path == path);
    let is_noop = routes.noop_path.as_deref() == Some(path);
    if !is_soap && !is_noop {
        return http::plain(StatusCode::NOT_FOUND, "no endpoint at this path\n");
    }
    if request.method() != Method::POST {
        return http::method_not_allowed();
    }
    let content_type = http::content_type(&request);
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
            return fault(xds::wire::FaultCode::Sender, None, reason, None).into_response();
        }
    };
    if is_noop {
        return http::response(
            StatusCode::OK,
            SOAP_CONTENT_TYPE,
            http::full(NOOP_ANSWER.as_bytes()),
        );
    }
    routes
        .soap
        .handle(&peer, &content_type, &body)
        .await
        .into_response()
}
