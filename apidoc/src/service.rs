//! Serving the document and the docs page as a tower service.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, StatusCode};
use tack_http::{Body, IntoResponse, Problem, Response};
use tower_service::Service;

use crate::openapi::OpenApi;
use crate::page::render_html;

/// A tower service answering the OpenAPI document (`GET /openapi.json`)
/// and the docs page (`GET /docs/`) at paths of your choosing; any other
/// path is a 404 problem. Both answers are rendered once, when the service
/// is configured, so serving them costs a clone of the bytes.
///
/// Mount it under `/api/` by nesting it (axum's `nest_service`) or by
/// giving it full paths (`/api/openapi.json`); the page links to the
/// document with a relative URL, so both work.
#[derive(Debug, Clone)]
pub struct DocsService {
    document: Arc<OpenApi>,
    json_path: String,
    page_path: String,
    viewer_url: Option<String>,
    json: Bytes,
    page: Bytes,
}

impl DocsService {
    /// Serves `document` at `/openapi.json` and its page at `/docs/`.
    pub fn new(document: OpenApi) -> Self {
        // The document holds only strings and JSON values: it serializes.
        let json = Bytes::from(serde_json::to_vec(&document).unwrap_or_default());
        let mut service = DocsService {
            document: Arc::new(document),
            json_path: "/openapi.json".to_owned(),
            page_path: "/docs/".to_owned(),
            viewer_url: None,
            json,
            page: Bytes::new(),
        };
        service.render();
        service
    }

    /// Serves the JSON document at `path` instead (`/api/openapi.json`).
    pub fn with_json_path(mut self, path: impl Into<String>) -> Self {
        self.json_path = path.into();
        self.render();
        self
    }

    /// Serves the docs page at `path` instead (`/api/docs/`).
    pub fn with_page_path(mut self, path: impl Into<String>) -> Self {
        self.page_path = path.into();
        self.render();
        self
    }

    /// Links the page to an external viewer at `url` (which you host or
    /// trust); the page itself never loads anything from elsewhere.
    pub fn with_viewer_url(mut self, url: impl Into<String>) -> Self {
        self.viewer_url = Some(url.into());
        self.render();
        self
    }

    /// The document served.
    pub fn document(&self) -> &OpenApi {
        &self.document
    }

    /// The docs page's HTML.
    pub fn page_html(&self) -> &str {
        // The page is built from a `String`.
        std::str::from_utf8(&self.page).unwrap_or_default()
    }

    fn render(&mut self) {
        let spec_url = relative_url(&self.page_path, &self.json_path);
        self.page = Bytes::from(render_html(
            &self.document,
            &spec_url,
            self.viewer_url.as_deref(),
        ));
    }

    fn answer(&self, method: &Method, path: &str) -> Response {
        let (bytes, content_type) = if path == self.json_path {
            (&self.json, "application/json")
        } else if path == self.page_path {
            (&self.page, "text/html; charset=utf-8")
        } else {
            return Problem::not_found(format!(
                "No API documentation at {path}; the document is at {} and the page at {}.",
                self.json_path, self.page_path
            ))
            .into_response();
        };
        if method != Method::GET && method != Method::HEAD {
            let mut response = Problem::new(StatusCode::METHOD_NOT_ALLOWED)
                .with_detail(format!("{path} answers GET and HEAD only."))
                .into_response();
            response
                .headers_mut()
                .insert(ALLOW, HeaderValue::from_static("GET, HEAD"));
            return response;
        }
        let body = if method == Method::HEAD {
            Body::empty()
        } else {
            Body::from(bytes.clone())
        };
        let mut response = Response::new(body);
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        response
    }
}

impl<B> Service<Request<B>> for DocsService {
    type Response = Response;
    type Error = Infallible;
    type Future = Ready<Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ready(Ok(self.answer(request.method(), request.uri().path())))
    }
}

/// The URL of `target` relative to the page at `from`, so the link works
/// wherever both are mounted (`/docs/` to `/openapi.json` is
/// `../openapi.json`).
fn relative_url(from: &str, target: &str) -> String {
    let from_dirs: Vec<&str> = from.trim_start_matches('/').split('/').collect();
    let from_dirs = &from_dirs[..from_dirs.len() - 1];
    let target: Vec<&str> = target.trim_start_matches('/').split('/').collect();
    let common = from_dirs
        .iter()
        .zip(&target[..target.len() - 1])
        .take_while(|(a, b)| a == b)
        .count();
    let url = format!(
        "{}{}",
        "../".repeat(from_dirs.len() - common),
        target[common..].join("/")
    );
    if url.is_empty() { "./".to_owned() } else { url }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_urls() {
        let cases = [
            ("/docs/", "/openapi.json", "../openapi.json"),
            ("/api/docs/", "/api/openapi.json", "../openapi.json"),
            ("/api/docs", "/api/openapi.json", "openapi.json"),
            ("/docs/", "/docs/openapi.json", "openapi.json"),
            ("/a/b/docs/", "/openapi.json", "../../../openapi.json"),
        ];
        for (from, target, expected) in cases {
            assert_eq!(relative_url(from, target), expected, "{from} -> {target}");
        }
    }
}
