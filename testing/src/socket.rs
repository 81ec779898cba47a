//! A client over a real socket that keeps cookies, as a browser does, for
//! flows (sign in, then post forms) against [`serve`](crate::serve).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use bytes::Bytes;
use http::{Request, Response};

/// Sends each request on a fresh HTTP/1 connection to a server on
/// loopback, with the cookies the server set so far and `Host: localhost`.
/// Like the cookie jars of browsers and HTTP libraries, it never sends a
/// `Secure` cookie back over plain HTTP (so it keeps none).
#[derive(Debug)]
pub struct SocketClient {
    addr: SocketAddr,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl SocketClient {
    /// A client of the server at `addr`, with an empty cookie jar.
    pub fn new(addr: SocketAddr) -> Self {
        SocketClient {
            addr,
            cookies: Mutex::new(BTreeMap::new()),
        }
    }

    /// A cookie the server set, if it is still there.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar().get(name).cloned()
    }

    fn jar(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.cookies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> Response<Bytes> {
        self.send(Request::get(path), Bytes::new()).await
    }

    /// `POST path` with an urlencoded form.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response<Bytes> {
        let body = serde_urlencoded::to_string(fields).expect("pairs of strings encode");
        let request =
            Request::post(path).header("content-type", "application/x-www-form-urlencoded");
        self.send(request, Bytes::from(body)).await
    }

    /// `POST path` with a multipart form: text fields, then files as
    /// (field, file name, content type, bytes).
    pub async fn post_multipart(
        &self,
        path: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> Response<Bytes> {
        let (content_type, body) = crate::multipart(fields, files);
        let request = Request::post(path).header("content-type", content_type);
        self.send(request, Bytes::from(body)).await
    }

    async fn send(&self, request: http::request::Builder, body: Bytes) -> Response<Bytes> {
        let cookies: Vec<String> = self.jar().iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut request = request.header("host", "localhost");
        if !cookies.is_empty() {
            request = request.header("cookie", cookies.join("; "));
        }
        let request = request
            .body(body)
            .expect("a request from a path and headers");
        let response = crate::send(self.addr, request).await;
        let mut jar = self.jar();
        for value in response.headers().get_all("set-cookie") {
            let Ok(text) = value.to_str() else { continue };
            let Ok(cookie) = cookie::Cookie::parse(text.to_owned()) else {
                continue;
            };
            let expired = cookie
                .max_age()
                .is_some_and(|age| age.is_zero() || age.is_negative());
            if expired || cookie.value().is_empty() || cookie.secure() == Some(true) {
                jar.remove(cookie.name());
            } else {
                jar.insert(cookie.name().to_owned(), cookie.value().to_owned());
            }
        }
        response
    }
}
