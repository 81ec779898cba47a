//! An in-process HTTP client for tower services.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::Mutex;

use bytes::Bytes;
use http::header::{CONTENT_TYPE, COOKIE, HOST, LOCATION, SET_COOKIE};
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode, Uri};
use http_body_util::BodyExt;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tack_http::Body;
use tower::{Service, ServiceExt};

/// How many redirects [`TestRequest::follow_redirects`] follows before giving up.
const MAX_REDIRECTS: usize = 10;

/// Drives a tower service in process, keeping cookies across requests.
///
/// Every request gets `Host: localhost` unless it sets its own. A service
/// error or a body error panics with its message: this is a test tool.
pub struct TestClient<S> {
    service: S,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl<S> TestClient<S> {
    /// A client for `service`, with an empty cookie jar.
    pub fn new(service: S) -> Self {
        TestClient {
            service,
            cookies: Mutex::new(BTreeMap::new()),
        }
    }

    /// A GET request.
    pub fn get(&self, uri: &str) -> TestRequest<'_, S> {
        self.request(Method::GET, uri)
    }

    /// A POST request.
    pub fn post(&self, uri: &str) -> TestRequest<'_, S> {
        self.request(Method::POST, uri)
    }

    /// A PUT request.
    pub fn put(&self, uri: &str) -> TestRequest<'_, S> {
        self.request(Method::PUT, uri)
    }

    /// A PATCH request.
    pub fn patch(&self, uri: &str) -> TestRequest<'_, S> {
        self.request(Method::PATCH, uri)
    }

    /// A DELETE request.
    pub fn delete(&self, uri: &str) -> TestRequest<'_, S> {
        self.request(Method::DELETE, uri)
    }

    /// A HEAD request.
    pub fn head(&self, uri: &str) -> TestRequest<'_, S> {
        self.request(Method::HEAD, uri)
    }

    /// An OPTIONS request.
    pub fn options(&self, uri: &str) -> TestRequest<'_, S> {
        self.request(Method::OPTIONS, uri)
    }

    /// A request with any method.
    pub fn request(&self, method: Method, uri: &str) -> TestRequest<'_, S> {
        TestRequest {
            client: self,
            method,
            uri: uri.to_owned(),
            headers: HeaderMap::new(),
            body: Bytes::new(),
            follow_redirects: false,
        }
    }

    /// The value of a cookie in the jar.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.jar().get(name).cloned()
    }

    /// Puts a cookie in the jar, as if a response had set it.
    pub fn set_cookie(&self, name: &str, value: &str) {
        self.jar().insert(name.to_owned(), value.to_owned());
    }

    /// Empties the cookie jar.
    pub fn clear_cookies(&self) {
        self.jar().clear();
    }

    fn jar(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        // A panic while the jar was held can only come from a failing test;
        // the map itself is always consistent.
        self.cookies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn store_cookies(&self, headers: &HeaderMap) {
        let mut jar = self.jar();
        for value in headers.get_all(SET_COOKIE) {
            let Some(parsed) = value
                .to_str()
                .ok()
                .and_then(|v| cookie::Cookie::parse(v).ok())
            else {
                continue;
            };
            let expired = parsed
                .max_age()
                .is_some_and(|age| age.is_zero() || age.is_negative())
                || parsed
                    .expires_datetime()
                    .is_some_and(|at| at <= cookie::time::OffsetDateTime::now_utc());
            if expired {
                jar.remove(parsed.name());
            } else {
                jar.insert(parsed.name().to_owned(), parsed.value().to_owned());
            }
        }
    }

    fn cookie_header(&self) -> Option<HeaderValue> {
        let jar = self.jar();
        if jar.is_empty() {
            return None;
        }
        let joined = jar
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        HeaderValue::from_str(&joined).ok()
    }
}

/// A request being built; [`TestRequest::send`] runs it.
pub struct TestRequest<'a, S> {
    client: &'a TestClient<S>,
    method: Method,
    uri: String,
    headers: HeaderMap,
    body: Bytes,
    follow_redirects: bool,
}

impl<S, B> TestRequest<'_, S>
where
    S: Service<Request<Body>, Response = Response<B>> + Clone,
    S::Error: Debug,
    B: http_body::Body,
    B::Error: Debug,
{
    /// Adds a header. Panics on a name or value that is not valid HTTP.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        let name = HeaderName::try_from(name).expect("test header name must be valid");
        let value = HeaderValue::try_from(value).expect("test header value must be valid");
        self.headers.append(name, value);
        self
    }

    /// Sends `value` as a JSON body with `Content-Type: application/json`.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let bytes = serde_json::to_vec(value).expect("test JSON body must serialize");
        self.body(bytes).header("content-type", "application/json")
    }

    /// Sends `value` as an urlencoded form.
    pub fn form<T: Serialize + ?Sized>(self, value: &T) -> Self {
        let text = serde_urlencoded::to_string(value).expect("test form body must serialize");
        self.body(text)
            .header("content-type", "application/x-www-form-urlencoded")
    }

    /// Sets the raw body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Self {
        self.body = body.into();
        self
    }

    /// Follows redirects (up to ten), as a browser would: 301, 302 and 303
    /// turn into a GET without a body, 307 and 308 repeat the request.
    pub fn follow_redirects(mut self) -> Self {
        self.follow_redirects = true;
        self
    }

    /// Sends the request and reads the whole response.
    pub async fn send(self) -> TestResponse {
        let TestRequest {
            client,
            mut method,
            mut uri,
            headers,
            mut body,
            follow_redirects,
        } = self;
        let mut redirects = 0;
        loop {
            let response = send_once(client, &method, &uri, &headers, body.clone()).await;
            let location = response.header("location").map(str::to_owned);
            match location {
                Some(next) if follow_redirects && response.status.is_redirection() => {
                    redirects += 1;
                    assert!(
                        redirects <= MAX_REDIRECTS,
                        "more than {MAX_REDIRECTS} redirects, the last to {next}"
                    );
                    if !matches!(
                        response.status,
                        StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
                    ) {
                        method = Method::GET;
                        body = Bytes::new();
                    }
                    uri = resolve(&uri, &next);
                }
                _ => return response,
            }
        }
    }
}

async fn send_once<S, B>(
    client: &TestClient<S>,
    method: &Method,
    uri: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> TestResponse
where
    S: Service<Request<Body>, Response = Response<B>> + Clone,
    S::Error: Debug,
    B: http_body::Body,
    B::Error: Debug,
{
    let uri: Uri = uri
        .parse()
        .unwrap_or_else(|e| panic!("bad test URI {uri:?}: {e}"));
    let mut request = Request::new(Body::from(body));
    *request.method_mut() = method.clone();
    *request.uri_mut() = uri;
    *request.headers_mut() = headers.clone();
    if !request.headers().contains_key(HOST) {
        request
            .headers_mut()
            .insert(HOST, HeaderValue::from_static("localhost"));
    }
    if let Some(cookies) = client.cookie_header() {
        request.headers_mut().entry(COOKIE).or_insert(cookies);
    }
    let response = client
        .service
        .clone()
        .oneshot(request)
        .await
        .unwrap_or_else(|e| panic!("the service failed: {e:?}"));
    let (parts, body) = response.into_parts();
    client.store_cookies(&parts.headers);
    let body = body
        .collect()
        .await
        .unwrap_or_else(|e| panic!("the response body failed: {e:?}"))
        .to_bytes();
    TestResponse {
        status: parts.status,
        headers: parts.headers,
        extensions: parts.extensions,
        body,
    }
}

/// Resolves a `Location` against the URI that answered it (path-absolute,
/// relative or absolute URLs; an absolute URL keeps only its path and query).
fn resolve(current: &str, location: &str) -> String {
    if let Ok(uri) = location.parse::<Uri>()
        && uri.scheme().is_some()
    {
        return uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), ToString::to_string);
    }
    if location.starts_with('/') {
        return location.to_owned();
    }
    let path = current.split('?').next().unwrap_or("/");
    let base = &path[..path.rfind('/').map_or(0, |i| i + 1)];
    format!("{base}{location}")
}

/// A whole response, its body read.
#[derive(Debug)]
pub struct TestResponse {
    status: StatusCode,
    headers: HeaderMap,
    extensions: http::Extensions,
    body: Bytes,
}

impl TestResponse {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// All headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The response's extensions.
    pub fn extensions(&self) -> &http::Extensions {
        &self.extensions
    }

    /// One header as text, if present and visible ASCII.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `Content-Type` header, if any.
    pub fn content_type(&self) -> Option<&str> {
        self.header(CONTENT_TYPE.as_str())
    }

    /// The `Location` header, if any.
    pub fn location(&self) -> Option<&str> {
        self.header(LOCATION.as_str())
    }

    /// The body's bytes.
    pub fn bytes(&self) -> &Bytes {
        &self.body
    }

    /// The body as UTF-8 text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON; panics with the body when it is not.
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "the response ({}) is not the JSON expected: {e}\nbody: {}",
                self.status,
                self.text()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::convert::Infallible;

    /// A service that sets a cookie on /login, echoes the Cookie header on
    /// /whoami, clears it on /logout and redirects /old to /new.
    fn app()
    -> impl Service<Request<Body>, Response = Response<Body>, Error = Infallible, Future = impl Send>
    + Clone {
        tower::service_fn(|req: Request<Body>| async move {
            let mut response = Response::new(Body::empty());
            match req.uri().path() {
                "/login" => {
                    response.headers_mut().insert(
                        SET_COOKIE,
                        HeaderValue::from_static("sid=abc; Path=/; HttpOnly"),
                    );
                }
                "/logout" => {
                    response.headers_mut().insert(
                        SET_COOKIE,
                        HeaderValue::from_static("sid=; Max-Age=0; Path=/"),
                    );
                }
                "/whoami" => {
                    let cookie = req
                        .headers()
                        .get(COOKIE)
                        .map(|v| v.to_str().unwrap().to_owned())
                        .unwrap_or_default();
                    *response.body_mut() = Body::from(cookie);
                }
                "/old" => {
                    *response.status_mut() = StatusCode::FOUND;
                    response
                        .headers_mut()
                        .insert(LOCATION, HeaderValue::from_static("new?x=1"));
                }
                "/echo" => {
                    let method = req.method().to_string();
                    let bytes = req.into_body().collect().await.unwrap().to_bytes();
                    let text = format!("{method} {}", String::from_utf8_lossy(&bytes));
                    *response.body_mut() = Body::from(text);
                }
                other => *response.body_mut() = Body::from(other.to_owned()),
            }
            Ok::<_, Infallible>(response)
        })
    }

    #[test]
    fn cookie_jar_follows_set_cookie() {
        futures_executor::block_on(async {
            let client = TestClient::new(app());
            assert_eq!(client.get("/whoami").send().await.text(), "");
            client.get("/login").send().await;
            assert_eq!(client.cookie("sid").as_deref(), Some("abc"));
            assert_eq!(client.get("/whoami").send().await.text(), "sid=abc");
            client.get("/logout").send().await;
            assert_eq!(client.cookie("sid"), None);
        });
    }

    #[test]
    fn redirects_only_followed_on_request() {
        futures_executor::block_on(async {
            let client = TestClient::new(app());
            let response = client.get("/old").send().await;
            assert_eq!(response.status(), StatusCode::FOUND);
            assert_eq!(response.location(), Some("new?x=1"));
            let response = client
                .post("/old")
                .body("x")
                .follow_redirects()
                .send()
                .await;
            assert_eq!(response.status(), StatusCode::OK);
            assert_eq!(response.text(), "/new");
        });
    }

    #[test]
    fn form_and_json_bodies() {
        futures_executor::block_on(async {
            let client = TestClient::new(app());
            let sent = client.post("/echo").form(&[("a", "1 2")]).send().await;
            assert_eq!(sent.text(), "POST a=1+2");
            let sent = client
                .put("/echo")
                .json(&serde_json::json!({"k": 1}))
                .send()
                .await;
            assert_eq!(sent.text(), r#"PUT {"k":1}"#);
        });
    }

    #[test]
    fn resolves_locations() {
        assert_eq!(resolve("/a/b?q", "c"), "/a/c");
        assert_eq!(resolve("/a/b", "/x"), "/x");
        assert_eq!(resolve("/a/b", "http://localhost/y?z=1"), "/y?z=1");
    }
}
