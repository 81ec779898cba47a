//! The RFC 6455 opening handshake, from an `http::Request`.

use http::header::{
    CONNECTION, HOST, HeaderMap, HeaderValue, ORIGIN, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL,
    SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{Method, Request, Response, StatusCode};
use tack_http::{Body, IntoResponse};

use crate::{Error, WsConfig};

/// An accepted opening handshake: the `101 Switching Protocols` answer and
/// the subprotocol chosen, if any.
#[derive(Debug)]
pub struct Handshake {
    /// The response to send before the connection switches to websocket frames.
    pub response: Response<Body>,
    /// The subprotocol both sides speak, when one was negotiated.
    pub protocol: Option<String>,
}

/// Validates an upgrade request and builds the `101` response.
///
/// Checks the method (`GET`), the `Upgrade: websocket` and `Connection: upgrade`
/// tokens, `Sec-WebSocket-Version: 13`, the key (16 bytes in base64), and the
/// `Origin` against [`WsConfig::with_allowed_origin`]. Errors say which
/// header is wrong; [`handshake_error_response`] turns them into 400 or 403.
pub fn handshake<B>(request: &Request<B>, config: &WsConfig) -> Result<Handshake, Error> {
    let headers = request.headers();
    if request.method() != Method::GET {
        return Err(Error::Handshake(format!(
            "a websocket upgrade must use GET, not {}",
            request.method()
        )));
    }
    if request.version() < http::Version::HTTP_11 {
        return Err(Error::Handshake(
            "a websocket upgrade needs HTTP/1.1".into(),
        ));
    }
    if !has_token(headers, UPGRADE, "websocket") {
        return Err(Error::Handshake(
            "the Upgrade header must name `websocket`".into(),
        ));
    }
    if !has_token(headers, CONNECTION, "upgrade") {
        return Err(Error::Handshake(
            "the Connection header must contain `upgrade`".into(),
        ));
    }
    match headers.get(SEC_WEBSOCKET_VERSION) {
        Some(version) if version == "13" => {}
        Some(version) => {
            let version = String::from_utf8_lossy(version.as_bytes()).into_owned();
            return Err(Error::UnsupportedVersion { version });
        }
        None => {
            return Err(Error::Handshake(
                "the Sec-WebSocket-Version header is missing".into(),
            ));
        }
    }
    if headers.get(SEC_WEBSOCKET_KEY).is_none() {
        return Err(Error::Handshake(
            "the Sec-WebSocket-Key header is missing".into(),
        ));
    }
    check_origin(request, config)?;

    // Our checks passed; tungstenite validates the key and derives the accept hash.
    let mut response =
        tungstenite::handshake::server::create_response_with_body(request, Body::empty).map_err(
            |error| {
                Error::Handshake(format!(
                    "{error}: Sec-WebSocket-Key must be 16 bytes in base64"
                ))
            },
        )?;
    let protocol = choose_protocol(headers, &config.protocols);
    if let Some(chosen) = &protocol {
        // A protocol we chose from the client's header is a valid header value.
        if let Ok(value) = HeaderValue::from_str(chosen) {
            response.headers_mut().insert(SEC_WEBSOCKET_PROTOCOL, value);
        }
    }
    debug_assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    Ok(Handshake { response, protocol })
}

/// The response for a failed handshake: `application/problem+json` with the
/// error's status (400, or 403 for a refused origin), plus
/// `Sec-WebSocket-Version: 13` as RFC 6455 asks when the version was wrong.
pub fn handshake_error_response(error: Error) -> Response<Body> {
    let wrong_version = matches!(error, Error::UnsupportedVersion { .. });
    let mut response = error.into_response();
    if wrong_version {
        response
            .headers_mut()
            .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("13"));
    }
    response
}

/// Whether a comma-separated header contains `token` (case-insensitive).
fn has_token(headers: &HeaderMap, name: http::header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|part| part.trim().eq_ignore_ascii_case(token))
}

fn check_origin<B>(request: &Request<B>, config: &WsConfig) -> Result<(), Error> {
    let Some(origin) = request.headers().get(ORIGIN) else {
        return Ok(());
    };
    let origin = String::from_utf8_lossy(origin.as_bytes()).into_owned();
    let allowed = if config.allowed_origins.is_empty() {
        same_origin(request, &origin)
    } else {
        config.allowed_origins.iter().any(|allowed| {
            allowed == "*" || allowed.trim_end_matches('/').eq_ignore_ascii_case(&origin)
        })
    };
    if allowed {
        Ok(())
    } else {
        Err(Error::OriginNotAllowed { origin })
    }
}

/// Whether the origin is the request's own: its scheme is this request's
/// (`https` when the request came over TLS, as its
/// [`ClientInfo`](tack_http::ClientInfo) says, else `http`) and its
/// `host[:port]` the request's host.
fn same_origin<B>(request: &Request<B>, origin: &str) -> bool {
    let Some((scheme, origin_host)) = origin.split_once("://") else {
        return false; // "null" and other opaque origins never match.
    };
    let own_scheme = if tack_http::ClientInfo::of(request).secure {
        "https"
    } else {
        "http"
    };
    if !scheme.eq_ignore_ascii_case(own_scheme) {
        return false;
    }
    let host = request
        .headers()
        .get(HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| {
            request
                .uri()
                .authority()
                .map(|authority| authority.as_str())
        });
    host.is_some_and(|host| host.eq_ignore_ascii_case(origin_host))
}

fn choose_protocol(headers: &HeaderMap, ours: &[String]) -> Option<String> {
    let offered: Vec<&str> = headers
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    ours.iter()
        .find(|protocol| offered.contains(&protocol.as_str()))
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upgrade() -> http::request::Builder {
        Request::get("/ws/")
            .header(HOST, "news.example")
            .header(UPGRADE, "websocket")
            .header(CONNECTION, "keep-alive, Upgrade")
            .header(SEC_WEBSOCKET_VERSION, "13")
            .header(SEC_WEBSOCKET_KEY, "dGhlIHNhbXBsZSBub25jZQ==")
    }

    #[test]
    fn accept_key_follows_rfc_example() {
        let accepted = handshake(&upgrade().body(()).unwrap(), &WsConfig::default()).unwrap();
        assert_eq!(accepted.response.status(), StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(
            accepted.response.headers()["sec-websocket-accept"],
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(accepted.protocol, None);
    }

    #[test]
    fn origins() {
        let cases: &[(&[&str], Option<&str>, bool)] = &[
            (&[], None, true),
            // The request came over plain http: only an http origin is its own.
            (&[], Some("https://news.example"), false),
            (&[], Some("http://NEWS.example"), true),
            (&[], Some("https://evil.example"), false),
            (&[], Some("null"), false),
            (&["https://app.example"], Some("https://app.example"), true),
            (&["https://app.example/"], Some("https://app.example"), true),
            (
                &["https://app.example"],
                Some("https://news.example"),
                false,
            ),
            (&["*"], Some("https://evil.example"), true),
        ];
        for (allowed, origin, ok) in cases {
            let config = allowed
                .iter()
                .fold(WsConfig::default(), |c, o| c.with_allowed_origin(*o));
            let mut request = upgrade();
            if let Some(origin) = origin {
                request = request.header(ORIGIN, *origin);
            }
            let result = handshake(&request.body(()).unwrap(), &config);
            assert_eq!(
                result.is_ok(),
                *ok,
                "allowed {allowed:?}, origin {origin:?}"
            );
            if let Err(error) = result {
                assert_eq!(error.status(), StatusCode::FORBIDDEN);
            }
        }
        // Over TLS (or behind a trusted TLS proxy), the https origin is its own.
        let mut request = upgrade()
            .header(ORIGIN, "https://news.example")
            .body(())
            .unwrap();
        let peer = "192.0.2.1:1".parse().unwrap();
        request
            .extensions_mut()
            .insert(tack_http::ClientInfo::direct(peer, true));
        assert!(handshake(&request, &WsConfig::default()).is_ok());
        request
            .headers_mut()
            .insert(ORIGIN, "http://news.example".parse().unwrap());
        assert!(handshake(&request, &WsConfig::default()).is_err());
    }

    #[test]
    fn protocol_negotiation() {
        let config = WsConfig::default()
            .with_protocol("news.v2")
            .with_protocol("news.v1");
        let request = upgrade()
            .header(SEC_WEBSOCKET_PROTOCOL, "chat, news.v1")
            .header(SEC_WEBSOCKET_PROTOCOL, "news.v2")
            .body(())
            .unwrap();
        let accepted = handshake(&request, &config).unwrap();
        assert_eq!(accepted.protocol.as_deref(), Some("news.v2"));
        assert_eq!(
            accepted.response.headers()[SEC_WEBSOCKET_PROTOCOL],
            "news.v2"
        );

        let request = upgrade()
            .header(SEC_WEBSOCKET_PROTOCOL, "chat")
            .body(())
            .unwrap();
        let accepted = handshake(&request, &config).unwrap();
        assert_eq!(accepted.protocol, None);
        assert!(
            accepted
                .response
                .headers()
                .get(SEC_WEBSOCKET_PROTOCOL)
                .is_none()
        );
    }

    #[test]
    fn wrong_version_answers_supported_version() {
        let mut request = upgrade().body(()).unwrap();
        request
            .headers_mut()
            .insert(SEC_WEBSOCKET_VERSION, HeaderValue::from_static("8"));
        let error = handshake(&request, &WsConfig::default()).unwrap_err();
        assert!(
            matches!(&error, Error::UnsupportedVersion { version } if version == "8"),
            "{error}"
        );
        let response = handshake_error_response(error);
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[SEC_WEBSOCKET_VERSION], "13");
    }
}
