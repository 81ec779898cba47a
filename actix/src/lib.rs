#![doc = include_str!("../README.md")]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodyStream, SizedStream};
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use futures_util::{FutureExt, SinkExt, Stream, StreamExt};
use http_body::Body as _;
use tack_http::{Body, BoxError, ClientInfo};
use tower_service::Service;

#[cfg(feature = "ws")]
mod ws;
#[cfg(feature = "ws")]
pub use ws::websocket;

/// How many request-body chunks may wait between actix's payload and the
/// Tack service before reading the payload pauses.
const CHUNKS_IN_FLIGHT: usize = 4;

/// A Tack service as an actix-web handler: mount it with
/// [`scope`], or with `web::to` wherever actix takes a handler.
#[derive(Clone, Debug)]
pub struct Handler<S> {
    service: S,
    nested: bool,
}

/// Wraps `service` (a `tower::Service` of `http` 1 requests with Tack's
/// [`Body`], such as the admin site, a CRUD controller or a router). The
/// service sees the whole path of the request.
pub fn handler<S>(service: S) -> Handler<S> {
    Handler {
        service,
        nested: false,
    }
}

impl<S> Handler<S> {
    /// The service sees the path under the actix scope it is mounted in
    /// (`/api/posts/7/` in the scope `/api/posts` reaches it as `/7/`), as a
    /// nested router or a CRUD controller expects.
    pub fn nested(mut self) -> Self {
        self.nested = true;
        self
    }
}

/// An actix scope at `prefix` whose every request (any method, any path
/// under it) goes to `handler`.
pub fn scope<S>(prefix: &str, handler: Handler<S>) -> actix_web::Scope
where
    Handler<S>: actix_web::Handler<(HttpRequest, web::Payload), Output = HttpResponse>,
{
    web::scope(prefix).default_service(web::to(handler))
}

impl<S> actix_web::Handler<(HttpRequest, web::Payload)> for Handler<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + 'static,
    S::Error: Into<BoxError>,
    S::Future: 'static,
{
    type Output = HttpResponse;
    type Future = Pin<Box<dyn Future<Output = HttpResponse>>>;

    fn call(&self, (request, payload): (HttpRequest, web::Payload)) -> Self::Future {
        let mut service = self.service.clone();
        let nested = self.nested;
        Box::pin(async move {
            let converted = match to_tack(&request, payload, nested) {
                Ok(converted) => converted,
                Err(reason) => {
                    return HttpResponse::BadRequest()
                        .content_type("text/plain; charset=utf-8")
                        .body(format!("400 Bad Request: {reason}\n"));
                }
            };
            let path = converted.uri().path().to_owned();
            let answered = std::panic::AssertUnwindSafe(async move {
                futures_util::future::poll_fn(|cx| service.poll_ready(cx)).await?;
                service.call(converted).await
            })
            .catch_unwind()
            .await;
            match answered {
                Ok(Ok(answer)) => response(answer),
                Ok(Err(error)) => {
                    let error: BoxError = error.into();
                    tracing::error!(path, %error, "tack-actix: the service failed");
                    server_error()
                }
                Err(_) => {
                    tracing::error!(path, "tack-actix: the service panicked");
                    server_error()
                }
            }
        })
    }
}

fn server_error() -> HttpResponse {
    HttpResponse::InternalServerError()
        .content_type("text/plain; charset=utf-8")
        .body("500 Internal Server Error\n")
}

/// actix's request as an `http` 1 request with a streamed Tack body.
fn to_tack(
    request: &HttpRequest,
    payload: web::Payload,
    nested: bool,
) -> Result<http::Request<Body>, String> {
    let parts = convert_head(request, nested)?;
    let body = if has_body(request) {
        streamed(payload)
    } else {
        Body::empty()
    };
    Ok(http::Request::from_parts(parts, body))
}

/// The head of actix's request as `http` 1 request parts (method, URI,
/// version, headers, and the peer as [`ClientInfo`]), for an actix handler
/// that calls Tack's framework-neutral steps itself: the sessions' `load_from`
/// and `save`, CSRF's `token`, `verify` and `finish`. A request `http` 1
/// cannot hold (a method or header it refuses) is the error's text, a 400.
pub fn request_parts(request: &HttpRequest) -> Result<http::request::Parts, String> {
    convert_head(request, false)
}

fn convert_head(request: &HttpRequest, nested: bool) -> Result<http::request::Parts, String> {
    let method = http::Method::from_bytes(request.method().as_str().as_bytes())
        .map_err(|_| format!("the method {} is not valid", request.method()))?;
    let uri = if nested {
        let rest = request.match_info().unprocessed();
        let query = request
            .uri()
            .query()
            .map_or(String::new(), |q| format!("?{q}"));
        let slash = if rest.starts_with('/') { "" } else { "/" };
        format!("{slash}{rest}{query}")
    } else {
        request.uri().to_string()
    };
    let uri: http::Uri = uri
        .parse()
        .map_err(|_| "the request target is not a valid URI".to_owned())?;
    let version = match request.version() {
        actix_web::http::Version::HTTP_10 => http::Version::HTTP_10,
        actix_web::http::Version::HTTP_2 => http::Version::HTTP_2,
        _ => http::Version::HTTP_11,
    };
    let mut builder = http::Request::builder()
        .method(method)
        .uri(uri)
        .version(version);
    for (name, value) in request.headers() {
        let name = http::HeaderName::from_bytes(name.as_str().as_bytes())
            .map_err(|_| format!("the header name {name} is not valid"))?;
        let value = http::HeaderValue::from_bytes(value.as_bytes())
            .map_err(|_| format!("the {name} header's value is not valid"))?;
        builder = builder.header(name, value);
    }
    let (mut parts, ()) = builder
        .body(())
        .map_err(|error| error.to_string())?
        .into_parts();
    if let Some(peer) = request.peer_addr() {
        let tls = request.connection_info().scheme() == "https";
        parts.extensions.insert(ClientInfo::direct(peer, tls));
    }
    Ok(parts)
}

/// Appends `headers` (`http` 1: a session's `Set-Cookie`, CSRF's `Vary`) to
/// actix's response.
pub fn append_headers(response: &mut HttpResponse, headers: &http::HeaderMap) {
    for (name, value) in headers {
        // Both crates accept the same bytes for names and values.
        if let (Ok(name), Ok(value)) = (
            actix_web::http::header::HeaderName::from_bytes(name.as_str().as_bytes()),
            actix_web::http::header::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            response.headers_mut().append(name, value);
        }
    }
}

fn has_body(request: &HttpRequest) -> bool {
    let headers = request.headers();
    headers.contains_key(actix_web::http::header::TRANSFER_ENCODING)
        || headers
            .get(actix_web::http::header::CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|length| length.trim() != "0")
}

/// actix's payload (not `Send`, read on this worker) forwarded to a `Send`
/// body through a bounded channel, read as the service reads.
fn streamed(mut payload: web::Payload) -> Body {
    let (mut sender, receiver) =
        futures_channel::mpsc::channel::<Result<Bytes, BoxError>>(CHUNKS_IN_FLIGHT);
    actix_web::rt::spawn(async move {
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|error| -> BoxError { Box::new(error) });
            let failed = chunk.is_err();
            // The service stopped reading: stop reading the payload too.
            if sender.send(chunk).await.is_err() || failed {
                break;
            }
        }
    });
    Body::new(http_body_util::StreamBody::new(
        receiver.map(|chunk| chunk.map(http_body::Frame::data)),
    ))
}

/// A Tack response (an `http` 1 response with Tack's body: a `Problem`, a
/// rendered page, an error's response) as actix's, its body streamed
/// (sized when the size is known).
pub fn response(response: http::Response<Body>) -> HttpResponse {
    let (mut parts, body) = response.into_parts();
    // actix frames the body itself: its length or chunking is its own.
    parts.headers.remove(http::header::CONTENT_LENGTH);
    parts.headers.remove(http::header::TRANSFER_ENCODING);
    let status = actix_web::http::StatusCode::from_u16(parts.status.as_u16())
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = HttpResponse::build(status);
    let size = body.size_hint().exact();
    let stream = DataStream(body);
    let mut converted = match size {
        Some(0) if body_is_empty(&stream) => builder.finish(),
        Some(size) => builder.body(SizedStream::new(size, stream)),
        None => builder.body(BodyStream::new(stream)),
    };
    append_headers(&mut converted, &parts.headers);
    converted
}

fn body_is_empty(stream: &DataStream) -> bool {
    stream.0.is_end_stream()
}

/// A Tack body's data frames as a stream (trailers are dropped: actix-web
/// 4 sends none).
struct DataStream(Body);

/// A response body's failure, as actix takes errors.
#[derive(Debug)]
struct BodyError(BoxError);

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the response body failed: {}", self.0)
    }
}

impl std::error::Error for BodyError {}

impl Stream for DataStream {
    type Item = Result<Bytes, BodyError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            return match Pin::new(&mut self.0).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => Poll::Ready(Some(Ok(data))),
                    Err(_) => continue,
                },
                Poll::Ready(Some(Err(error))) => Poll::Ready(Some(Err(BodyError(error)))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            };
        }
    }
}
