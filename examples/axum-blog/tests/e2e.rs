//! The axum blog over a real socket, as a browser uses it: the public
//! pages, signing in through axum's handler (with the CSRF token the form
//! carries and the session cookie), the tack admin mounted with
//! `nest_service` writing a post, the tack CRUD API reading it back, and
//! signing out.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Mutex;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};

const PASSWORD: &str = "a long password for the blog's tests";
const SECRET: &str = "axum-blog-test-secret-key-long-enough-0123456789";

/// A client that keeps cookies, as a browser does.
struct Browser {
    addr: SocketAddr,
    cookies: Mutex<BTreeMap<String, String>>,
}

impl Browser {
    async fn get(&self, path: &str) -> Response<Bytes> {
        self.send(Method::GET, path, "").await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response<Bytes> {
        let body = serde_urlencoded::to_string(fields).unwrap();
        self.send(Method::POST, path, &body).await
    }

    async fn send(&self, method: Method, path: &str, body: &str) -> Response<Bytes> {
        let cookies = self
            .cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
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
        let response = tack_test::send(
            self.addr,
            request.body(Bytes::from(body.to_owned())).unwrap(),
        )
        .await;
        let mut jar = self.cookies.lock().unwrap();
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (pair, attributes) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || attributes.contains("Max-Age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
        response
    }
}

fn text(response: &Response<Bytes>) -> String {
    String::from_utf8_lossy(response.body()).into_owned()
}

fn location(response: &Response<Bytes>) -> &str {
    response.headers()["location"].to_str().unwrap()
}

/// The CSRF token of the first form on a page.
fn csrf_token(page: &str) -> String {
    let marker = r#"name="csrfmiddlewaretoken" value=""#;
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("no CSRF field in {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_an_editor_and_the_api_over_a_real_socket() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("blog.sqlite3").display());
    let db = axum_blog::open(&url).unwrap();
    axum_blog::create_superuser(&db, "editor", PASSWORD).unwrap();
    let app = axum_blog::app(db, SECRET).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    let browser = Browser {
        addr,
        cookies: Mutex::default(),
    };

    // A visitor: the empty blog, and the admin sends them to sign in.
    let home = browser.get("/").await;
    assert_eq!(home.status(), StatusCode::OK);
    assert!(text(&home).contains("No posts yet"), "{}", text(&home));
    let admin = browser.get("/admin/").await;
    assert!(admin.status().is_redirection(), "{:?}", admin.status());
    assert!(
        location(&admin).starts_with("/login/?next="),
        "{}",
        location(&admin)
    );

    // Signing in through axum's handler: a wrong password is refused on the
    // page, a form without its token is refused by the CSRF layer.
    let login = browser.get("/login/?next=/admin/").await;
    let token = csrf_token(&text(&login));
    let forged = browser
        .post("/login/", &[("username", "editor"), ("password", PASSWORD)])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let wrong = browser
        .post(
            "/login/",
            &[
                ("csrfmiddlewaretoken", &token),
                ("username", "editor"),
                ("password", "nope"),
            ],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(text(&wrong).contains("Sign in"), "{}", text(&wrong));
    let token = csrf_token(&text(&wrong));
    let signed_in = browser
        .post(
            "/login/",
            &[
                ("csrfmiddlewaretoken", &token),
                ("username", "editor"),
                ("password", PASSWORD),
                ("next", "/admin/"),
            ],
        )
        .await;
    assert_eq!(
        signed_in.status(),
        StatusCode::SEE_OTHER,
        "{}",
        text(&signed_in)
    );
    assert_eq!(location(&signed_in), "/admin/");

    // The tack admin, nested in axum, writes a post.
    let index = browser.get("/admin/").await;
    assert!(
        text(&index).contains(r#"href="/admin/blog/post/""#),
        "{}",
        text(&index)
    );
    let form = browser.get("/admin/blog/post/new/").await;
    assert_eq!(form.status(), StatusCode::OK, "{}", text(&form));
    let token = csrf_token(&text(&form));
    let added = browser
        .post(
            "/admin/blog/post/new/",
            &[
                ("csrfmiddlewaretoken", &token),
                ("title", "Hello from the admin"),
                ("slug", "hello"),
                ("body", "Written in tack's admin, read through axum."),
                ("published", "on"),
            ],
        )
        .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER, "{}", text(&added));

    // axum's pages and the tack API read it back.
    let home = text(&browser.get("/").await);
    assert!(
        home.contains("Hello from the admin") && home.contains("Signed in as editor"),
        "{home}"
    );
    assert!(
        home.contains("Welcome back, editor."),
        "the flash message is shown once: {home}"
    );
    assert!(
        !text(&browser.get("/").await).contains("Welcome back"),
        "and only once"
    );
    let post = browser.get("/posts/hello/").await;
    assert_eq!(post.status(), StatusCode::OK);
    assert!(text(&post).contains("read through axum"), "{}", text(&post));
    assert_eq!(
        browser.get("/posts/nothing/").await.status(),
        StatusCode::NOT_FOUND
    );
    let api: serde_json::Value =
        serde_json::from_slice(browser.get("/api/posts/?search=admin").await.body()).unwrap();
    assert_eq!(api["count"], 1, "{api}");
    assert_eq!(api["results"][0]["slug"], "hello", "{api}");

    // Signing out ends the session: the admin asks to sign in again.
    let page = text(&browser.get("/").await);
    let token = csrf_token(&page);
    let out = browser
        .post("/logout/", &[("csrfmiddlewaretoken", &token)])
        .await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    let admin = browser.get("/admin/").await;
    assert!(admin.status().is_redirection(), "{:?}", admin.status());
}

/// An extractor on a route without its layer says which layer to add.
#[tokio::test]
async fn an_extractor_without_its_layer_says_which_layer_to_add() {
    use tower::ServiceExt;
    let app = axum::Router::new().route(
        "/",
        axum::routing::get(|_session: tack_sessions::Session| async { "never" }),
    );
    let response = app
        .oneshot(Request::get("/").body(axum::body::Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("tack_sessions::SessionLayer"), "{text}");
}
