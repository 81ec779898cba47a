//! A client over a real socket that keeps cookies and sends what a
//! browser's form submission sends (`Origin`, urlencoded bodies).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use bytes::Bytes;
use http::{Method, Request, Response};

/// A browser's view of a server on `addr`: every request carries the
/// cookies the server set (and dropped), `Host` names the server, and form
/// posts carry its `Origin`, as a browser's do.
#[derive(Debug)]
pub struct Browser {
    addr: SocketAddr,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl Browser {
    /// A browser with no cookies yet.
    pub fn new(addr: SocketAddr) -> Self {
        Browser {
            addr,
            cookies: Mutex::default(),
        }
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Response<Bytes> {
        self.send(Method::GET, path, "").await
    }

    /// `POST path` with `fields` as an urlencoded form.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response<Bytes> {
        let body = serde_urlencoded::to_string(fields).unwrap_or_default();
        self.send(Method::POST, path, &body).await
    }

    /// The cookie `name`, if the server set it.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar().get(name).cloned()
    }

    fn jar(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.cookies.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn send(&self, method: Method, path: &str, body: &str) -> Response<Bytes> {
        let cookies = self
            .jar()
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut request = Request::builder()
            .method(method.clone())
            .uri(path)
            .header("host", self.addr.to_string());
        if !cookies.is_empty() {
            request = request.header("cookie", cookies);
        }
        if method == Method::POST {
            request = request
                .header("origin", format!("http://{}", self.addr))
                .header("content-type", "application/x-www-form-urlencoded");
        }
        let request = request
            .body(Bytes::from(body.to_owned()))
            .expect("a path and headers make a request");
        let response = crate::send(self.addr, request).await;
        let mut jar = self.jar();
        for set in response.headers().get_all("set-cookie") {
            let Ok(set) = set.to_str() else { continue };
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if value.is_empty() || attributes.contains("Max-Age=0") {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_owned(), value.to_owned());
            }
        }
        response
    }
}

/// The value of the first `csrfmiddlewaretoken` field on a page.
///
/// # Panics
///
/// When the page has none: the test should see the page.
pub fn csrf_token(page: &str) -> String {
    let marker = r#"name="csrfmiddlewaretoken" value=""#;
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF field on the page: {page}"))
        + marker.len();
    page[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}
