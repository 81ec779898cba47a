//! Static files for development.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{SystemTime, UNIX_EPOCH};

use http::header::{
    CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, ETAG, HeaderMap, HeaderValue, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, LAST_MODIFIED,
};
use http::{Method, Request, StatusCode};
use percent_encoding::percent_decode_str;
use tack_http::{Body, IntoResponse, Response};
use tower::Service;

use crate::Error;

/// Serves the files under a directory: for development.
///
/// Mount it under a prefix with [`Router::nest_service`](crate::Router::nest_service)
/// (or axum's `nest_service`): it serves the request path as seen below the
/// prefix. It answers GET and HEAD with the file's content type (guessed
/// from its extension), `ETag`, `Last-Modified` and `Cache-Control:
/// no-cache`, and `304 Not Modified` to `If-None-Match` /
/// `If-Modified-Since` requests that already have it.
///
/// Nothing outside the root is reachable: `..` and `.` segments, encoded
/// slashes or backslashes, backslashes, NUL bytes, empty segments (so no
/// absolute paths) are 404; the file's canonical path (symlinks resolved)
/// must be inside the root's. Directories are 404: there is no listing.
///
/// Files are read with blocking `std::fs` calls on the calling task, which
/// is fine for a development server and not meant for production traffic
/// (serve static files from a web server or CDN there).
#[derive(Debug, Clone)]
pub struct ServeDir {
    root: Arc<PathBuf>,
}

impl ServeDir {
    /// Serves the files under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ServeDir {
            root: Arc::new(root.into()),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Answers one request (the path is the URI's path).
    pub fn serve(&self, method: &Method, path: &str, headers: &HeaderMap) -> Response {
        if *method != Method::GET && *method != Method::HEAD {
            return Error::MethodNotAllowed {
                method: method.clone(),
                path: path.to_owned(),
                allow: "GET, HEAD".to_owned(),
            }
            .into_response();
        }
        let not_found = || {
            Error::NotFound {
                path: path.to_owned(),
            }
            .into_response()
        };
        let Some(file) = self.resolve(path) else {
            return not_found();
        };
        match self.respond(&file, *method == Method::HEAD, headers) {
            Ok(response) => response,
            Err(error) if error.kind() == ErrorKind::NotFound => not_found(),
            Err(error) => Error::Service(Box::new(error)).into_response(),
        }
    }

    /// The file a request path names, if it is a regular file inside the root.
    fn resolve(&self, path: &str) -> Option<PathBuf> {
        let relative = safe_relative_path(path)?;
        let root = self.root.canonicalize().ok()?;
        let file = root.join(relative).canonicalize().ok()?;
        (file.starts_with(&root) && file.is_file()).then_some(file)
    }

    fn respond(&self, file: &Path, head: bool, headers: &HeaderMap) -> std::io::Result<Response> {
        let metadata = std::fs::metadata(file)?;
        let modified = metadata.modified().unwrap_or(UNIX_EPOCH);
        let since_epoch = modified.duration_since(UNIX_EPOCH).unwrap_or_default();
        let etag = format!("W/\"{:x}-{:x}\"", metadata.len(), since_epoch.as_nanos());
        let last_modified = httpdate::fmt_http_date(modified);

        let mut response = if not_modified(headers, &etag, modified) {
            StatusCode::NOT_MODIFIED.into_response()
        } else {
            let mime = mime_guess::from_path(file).first_or_octet_stream();
            let content_type = match mime.type_() {
                mime::TEXT => format!("{mime}; charset=utf-8"),
                _ if mime.subtype() == mime::JAVASCRIPT => format!("{mime}; charset=utf-8"),
                _ => mime.to_string(),
            };
            let mut response = if head {
                Response::new(Body::empty())
            } else {
                Response::new(Body::from(std::fs::read(file)?))
            };
            let headers = response.headers_mut();
            if let Ok(value) = HeaderValue::from_str(&content_type) {
                headers.insert(CONTENT_TYPE, value);
            }
            headers.insert(CONTENT_LENGTH, HeaderValue::from(metadata.len()));
            response
        };
        let headers = response.headers_mut();
        // Both values are ASCII built above.
        if let Ok(value) = HeaderValue::from_str(&etag) {
            headers.insert(ETAG, value);
        }
        if let Ok(value) = HeaderValue::from_str(&last_modified) {
            headers.insert(LAST_MODIFIED, value);
        }
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        Ok(response)
    }
}

use mime_guess::mime;

/// The relative path a URL path names, or `None` if it could leave the root.
fn safe_relative_path(path: &str) -> Option<PathBuf> {
    let path = path.strip_prefix('/').unwrap_or(path);
    if path.is_empty() {
        return None;
    }
    let mut relative = PathBuf::new();
    for raw in path.split('/') {
        let segment = percent_decode_str(raw).decode_utf8().ok()?;
        let unsafe_segment = segment.is_empty()
            || segment == "."
            || segment == ".."
            || segment.contains(['/', '\\', '\0', ':']);
        if unsafe_segment {
            return None;
        }
        relative.push(&*segment);
    }
    // Every segment is a plain name, so the path is relative and has no
    // parent components; checked again here so a platform quirk cannot slip by.
    relative
        .components()
        .all(|c| matches!(c, std::path::Component::Normal(_)))
        .then_some(relative)
}

fn not_modified(headers: &HeaderMap, etag: &str, modified: SystemTime) -> bool {
    if let Some(value) = headers.get(IF_NONE_MATCH) {
        let Ok(text) = value.to_str() else {
            return false;
        };
        let bare = |tag: &str| tag.trim().trim_start_matches("W/").to_owned();
        return text
            .split(',')
            .any(|tag| tag.trim() == "*" || bare(tag) == bare(etag));
    }
    let Some(since) = headers
        .get(IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
    else {
        return false;
    };
    // HTTP dates have whole seconds.
    let modified_secs = modified
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let since_secs = since.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    modified_secs <= since_secs
}

impl<B> Service<Request<B>> for ServeDir {
    type Response = Response;
    type Error = Infallible;
    type Future = Ready<Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        ready(Ok(self.serve(
            request.method(),
            request.uri().path(),
            request.headers(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        let cases = [
            ("/a.css", Some("a.css")),
            ("/css/a%20b.css", Some("css/a b.css")),
            ("/", None),
            ("/../x", None),
            ("/a/../../x", None),
            ("/%2e%2e/x", None),
            ("/%2E%2E/x", None),
            ("/a%2f..%2f..%2fx", None),
            ("/a%5c..%5cx", None),
            ("/a\\..\\x", None),
            ("//etc/passwd", None),
            ("/a/./b", None),
            ("/a%00b", None),
            ("/C:/x", None),
            ("/%ff", None),
        ];
        for (path, expected) in cases {
            assert_eq!(
                safe_relative_path(path),
                expected.map(PathBuf::from),
                "{path}"
            );
        }
    }
}
