//! The fuzz targets of Tack's parsers: each takes arbitrary bytes and
//! panics only when an invariant breaks (a panic inside a battery, a 5xx
//! answer to bad input, a forged signature that verifies).
//!
//! The same functions are driven two ways: by `cargo fuzz` (the crate in
//! `fuzz/`, nightly, unbounded) and by proptest in this crate's tests
//! (stable, a bounded number of cases, in every CI run).
//!
//! ```
//! tack_fuzz::route_path(b"/articles/%E2%82%AC/");
//! tack_fuzz::signed_value(b"value:forged");
//! ```

use std::sync::OnceLock;

use bytes::Bytes;
use http::{HeaderValue, StatusCode, Uri};
use tack_crud::Crud;
use tack_orm::prelude::*;
use tack_routing::{RequestExt, Router, get};
use tack_sessions::signing::{SecretKey, Signer};
use tack_sessions::{CookieStore, SessionLayer};
use tack_test::TestClient;
use tower::Layer;

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// Route matching, converters and path decoding: any request target the
/// HTTP layer accepts gets an answer below 500 from a router. Answers the
/// status, `None` for bytes that are no request target.
pub fn route_path(data: &[u8]) -> Option<StatusCode> {
    let uri = Uri::try_from(data).ok()?;
    let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    if !path.starts_with('/') {
        return None;
    }
    static ROUTER: OnceLock<TestClient<Router>> = OnceLock::new();
    let client = ROUTER.get_or_init(|| {
        let echo = |request: http::Request<tack_http::Body>| async move {
            let params = request
                .extensions()
                .get::<tack_routing::PathParams>()
                .cloned();
            let _ = request.query::<std::collections::HashMap<String, String>>();
            format!("{params:?}")
        };
        TestClient::new(
            Router::new()
                .route("/articles/{slug:slug}/", get(echo))
                .route("/users/{id:int}/", get(echo))
                .route("/keys/{key:uuid}/", get(echo))
                .route("/files/{*rest}", get(echo))
                .route("/{year:int}/{month:int}/{title}/", get(echo))
                .append_slash(true),
        )
    });
    let response = block_on(client.get(&path).send());
    assert!(
        !response.status().is_server_error(),
        "{path:?}: {}",
        response.status()
    );
    Some(response.status())
}

/// Cookie parsing in the session layer (signed cookie store): any `Cookie`
/// header is an anonymous session, never an error.
pub fn cookie_header(data: &[u8]) {
    let Ok(value) = HeaderValue::from_bytes(data) else {
        return;
    };
    let Ok(value) = value.to_str() else {
        return;
    };
    static CLIENT: OnceLock<TestClient<tack_sessions::SessionService<Echo, CookieStore>>> =
        OnceLock::new();
    let client = CLIENT.get_or_init(|| {
        let layer = SessionLayer::new(CookieStore::new(SecretKey::from("fuzz-key")));
        TestClient::new(layer.layer(Echo))
    });
    let response = block_on(client.get("/").header("cookie", value).send());
    assert_eq!(response.status(), StatusCode::OK, "{value:?}");
    assert_eq!(response.text(), "anonymous", "{value:?}");
}

/// An inner service that says whether the session holds a user.
#[derive(Clone, Debug)]
pub struct Echo;

impl tower::Service<http::Request<tack_http::Body>> for Echo {
    type Response = http::Response<tack_http::Body>;
    type Error = std::convert::Infallible;
    type Future = std::future::Ready<Result<Self::Response, Self::Error>>;

    fn poll_ready(
        &mut self,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<tack_http::Body>) -> Self::Future {
        let user = request
            .extensions()
            .get::<tack_sessions::Session>()
            .and_then(|session| session.get::<String>("user").ok().flatten());
        let body = user.unwrap_or_else(|| "anonymous".to_owned());
        std::future::ready(Ok(http::Response::new(body.into())))
    }
}

/// Signature checks: arbitrary text never verifies, and signing then
/// verifying gives the value back.
pub fn signed_value(data: &[u8]) {
    let signer = Signer::new(SecretKey::from("fuzz-key"));
    let text = text(data);
    assert!(signer.unsign(&text).is_err(), "{text:?} verified");
    let signed = signer.sign(&text);
    assert_eq!(signer.unsign(&signed).ok(), Some(text.as_str()));
}

/// Urlencoded form decoding: any bytes decode, and what decodes
/// re-encodes to the same pairs.
pub fn urlencoded_form(data: &[u8]) {
    let form = tack_forms::FormData::from_urlencoded(data);
    let mut again = tack_forms::FormData::new();
    for name in form.names() {
        for value in form.values(name) {
            again.push(name, value.as_str());
        }
    }
    for name in form.names() {
        assert_eq!(form.values(name), again.values(name));
    }
}

/// Multipart parsing: any body under a fixed boundary is data or a clear
/// error with a 4xx status.
pub fn multipart_body(data: &[u8]) {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("multipart/form-data; boundary=fuzzboundary"),
    );
    let body = tack_http::Body::from(Bytes::copy_from_slice(data));
    let limits = tack_forms::Limits {
        max_body: 64 * 1024,
        ..tack_forms::Limits::default()
    };
    if let Err(error) = block_on(tack_forms::FormData::from_body(&headers, body, &limits)) {
        assert!(
            error.status().is_client_error(),
            "{error}: {}",
            error.status()
        );
    }
}

/// The model the JSON target writes.
#[derive(Model, Clone, Debug)]
#[tack(app = "fuzz")]
pub struct Note {
    /// Primary key.
    pub id: i64,
    /// A short title.
    #[tack(max_length = 40)]
    pub title: String,
    /// A count.
    pub count: i32,
    /// Whether it is done.
    pub done: bool,
    /// When it is due.
    pub due: Option<chrono::DateTime<chrono::Utc>>,
}

/// JSON bodies into models: any body posted to a CRUD collection is a
/// 201 or a 4xx, never a 5xx. Answers the status.
pub fn json_body(data: &[u8]) -> StatusCode {
    static CLIENT: OnceLock<(tack_test::db::TempSqlite, TestClient<Crud<Note>>)> = OnceLock::new();
    let (_, client) = CLIENT.get_or_init(|| {
        let file = tack_test::db::sqlite();
        let db = Database::connect(&file.url()).expect("the SQLite file opens");
        db.create_tables(&[Note::meta()])
            .expect("the table is made");
        let crud =
            Crud::<Note>::new(tack_orm::AsyncDatabase::new(db, 1)).permission(tack_crud::AllowAll);
        (file, TestClient::new(crud))
    });
    let response = block_on(
        client
            .post("/")
            .header("content-type", "application/json")
            .body(Bytes::copy_from_slice(data))
            .send(),
    );
    assert!(
        !response.status().is_server_error(),
        "{:?}: {} {}",
        text(data),
        response.status(),
        response.text()
    );
    response.status()
}

/// The filter expressions [`template_filters`] renders, one template each
/// (a filter that refuses its input must not hide the others).
pub const FILTER_EXPRESSIONS: &[&str] = &[
    "{{ v|date('Y-m-d') }}",
    "{{ v|time('H:i') }}",
    "{{ v|timesince }}",
    "{{ v|timeuntil }}",
    "{{ v|naturaltime }}",
    "{{ v|pluralize }}",
    "{{ v|truncatewords(3) }}",
    "{{ v|truncatechars(5) }}",
    "{{ v|linebreaks }}",
    "{{ v|linebreaksbr }}",
    "{{ v|yesno('a,b,c') }}",
    "{{ v|default_if_none('x') }}",
    "{{ v|slugify }}",
    "{{ v|urlize }}",
    "{{ v|intcomma }}",
    "{{ v|filesizeformat }}",
    "{{ d|date(v) }}",
    "{{ d|time(v) }}",
    "{{ 3|pluralize(v) }}",
    "{{ true|yesno(v) }}",
    "{{ 'a b c d'|truncatewords(v) }}",
];

/// Template filter inputs: every Django filter, given any text as its
/// value or argument, renders or fails with an error, never a panic.
/// Answers how many of [`FILTER_EXPRESSIONS`] rendered.
pub fn template_filters(data: &[u8]) -> usize {
    static TEMPLATES: OnceLock<tack_templates::Templates> = OnceLock::new();
    let templates = TEMPLATES.get_or_init(|| {
        let names: Vec<String> = (0..FILTER_EXPRESSIONS.len())
            .map(|i| i.to_string())
            .collect();
        let sources: Vec<(&str, &str)> = names
            .iter()
            .map(String::as_str)
            .zip(FILTER_EXPRESSIONS.iter().copied())
            .collect();
        tack_templates::Templates::builder()
            .add_embedded(&sources)
            .build()
            .expect("the filter templates compile")
    });
    let context = serde_json::json!({"v": text(data), "d": "2026-01-02T03:04:05Z"});
    (0..FILTER_EXPRESSIONS.len())
        .filter(|i| {
            templates
                .render(&i.to_string(), tack_templates::Serde(&context))
                .is_ok()
        })
        .count()
}
