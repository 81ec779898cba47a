//! A small app for the behaviour tests.
#![allow(dead_code)]

use std::convert::Infallible;

use http::{Request, Response};
use http_body_util::BodyExt;
use tack_http::Body;
use tack_security::CsrfToken;

/// `/form` answers a masked token; `/rotate` rotates the secret; anything
/// else answers `ok:` and the body it received.
pub async fn app(request: Request<Body>) -> Result<Response<Body>, Infallible> {
    let token = request.extensions().get::<CsrfToken>().cloned();
    let text = match request.uri().path() {
        "/form" => token.expect("CSRF layer").masked(),
        "/rotate" => {
            let token = token.expect("CSRF layer");
            token.rotate();
            token.masked()
        }
        _ => {
            let bytes = request
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            format!("ok:{}", String::from_utf8_lossy(&bytes))
        }
    };
    Ok(Response::new(Body::from(text)))
}
