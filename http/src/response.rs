//! Turning handler results into responses.

use bytes::Bytes;
use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde::Serialize;

use crate::{Body, Problem};

/// The response type every Tack service answers.
pub type Response<B = Body> = http::Response<B>;

/// Something a handler can return: it becomes a [`Response`].
///
/// Implemented for responses, status codes, strings and bytes (plain text),
/// [`Json`], [`Html`], [`Problem`], `(StatusCode, T)`, `Option`-free `()`
/// and `Result<T, E>` where both sides are `IntoResponse`, so a handler's
/// error type decides its own status in one place.
pub trait IntoResponse {
    /// Builds the response.
    fn into_response(self) -> Response;
}

impl<B> IntoResponse for http::Response<B>
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<crate::BoxError>,
{
    fn into_response(self) -> Response {
        self.map(Body::new)
    }
}

impl IntoResponse for Body {
    fn into_response(self) -> Response {
        Response::new(self)
    }
}

impl IntoResponse for () {
    fn into_response(self) -> Response {
        Response::new(Body::empty())
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Response {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = self;
        response
    }
}

impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Response {
        let mut response = self.1.into_response();
        *response.status_mut() = self.0;
        response
    }
}

impl<T: IntoResponse, E: IntoResponse> IntoResponse for Result<T, E> {
    fn into_response(self) -> Response {
        match self {
            Ok(value) => value.into_response(),
            Err(error) => error.into_response(),
        }
    }
}

fn with_content_type(body: Body, content_type: &'static str) -> Response {
    let mut response = Response::new(body);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

impl IntoResponse for String {
    fn into_response(self) -> Response {
        with_content_type(Body::from(self), "text/plain; charset=utf-8")
    }
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Response {
        with_content_type(Body::from(self), "text/plain; charset=utf-8")
    }
}

impl IntoResponse for Bytes {
    fn into_response(self) -> Response {
        with_content_type(Body::from(self), "application/octet-stream")
    }
}

impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response {
        Bytes::from(self).into_response()
    }
}

/// A JSON response (`application/json`) of any serde value.
///
/// A value that cannot be serialized (a map with non-string keys, say)
/// becomes a 500 problem response rather than a panic.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => with_content_type(Body::from(bytes), "application/json"),
            Err(error) => Problem::new(StatusCode::INTERNAL_SERVER_ERROR)
                .with_detail(format!(
                    "the response could not be encoded as JSON: {error}"
                ))
                .into_response(),
        }
    }
}

/// An HTML response (`text/html; charset=utf-8`); the text is sent as it is.
#[derive(Debug, Clone, Default)]
pub struct Html<T>(pub T);

impl<T: Into<Body>> IntoResponse for Html<T> {
    fn into_response(self) -> Response {
        with_content_type(self.0.into(), "text/html; charset=utf-8")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    fn text(response: Response) -> String {
        let bytes = futures_executor::block_on(response.into_body().collect())
            .unwrap()
            .to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn strings_are_plain_text() {
        let response = "hi".into_response();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            response.headers()[CONTENT_TYPE],
            "text/plain; charset=utf-8"
        );
        assert_eq!(text(response), "hi");
    }

    #[test]
    fn status_tuple_overrides_status() {
        let response = (StatusCode::CREATED, Json(vec![1, 2])).into_response();
        assert_eq!(response.status(), StatusCode::CREATED);
        assert_eq!(text(response), "[1,2]");
    }

    #[test]
    fn result_picks_its_side() {
        let err: Result<&'static str, StatusCode> = Err(StatusCode::NOT_FOUND);
        assert_eq!(err.into_response().status(), StatusCode::NOT_FOUND);
        let ok: Result<&'static str, StatusCode> = Ok("yes");
        assert_eq!(text(ok.into_response()), "yes");
    }

    #[test]
    fn unserializable_json_is_a_500_problem() {
        let mut map = std::collections::HashMap::new();
        map.insert(vec![1u8], 1);
        let response = Json(map).into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/problem+json");
    }

    #[test]
    fn html_has_html_content_type() {
        let response = Html("<p>x</p>").into_response();
        assert_eq!(response.headers()[CONTENT_TYPE], "text/html; charset=utf-8");
    }
}
