//! Guards: login required (302 for pages, 401 for APIs), permission
//! required (403), staff required; as layers and as handler checks.

mod common;

use std::convert::Infallible;

use common::{PASSWORD, app, auth, backend};
use http::{Request, Response};
use tack_auth::guard::{Requirement, login_redirect_url, require};
use tack_auth::{AuthLayer, GuardLayer, MemoryBackend, User};
use tack_http::Body;
use tack_sessions::{MemoryStore, SessionLayer};
use tack_test::TestClient;
use tower::Layer;

#[tokio::test]
async fn permission_required_redirects_refuses_and_admits() {
    let backend = backend();
    let ada = backend.add_user("ada", PASSWORD).unwrap();
    backend.add_user("bob", PASSWORD).unwrap();
    let client = TestClient::new(app(auth(backend.clone())));

    // Anonymous browser: to the login page, with where it was going.
    let page = client.get("/editor/drafts/?page=2&sort=new").send().await;
    assert_eq!(page.status(), 302);
    assert_eq!(
        page.location(),
        Some("/login?next=/editor/drafts/%3Fpage%3D2%26sort%3Dnew")
    );
    // Anonymous API client: 401 problem+json.
    let api = client
        .get("/editor/")
        .header("accept", "application/json")
        .send()
        .await;
    assert_eq!(api.status(), 401);
    assert_eq!(api.content_type(), Some("application/problem+json"));
    assert_eq!(api.header("www-authenticate"), Some("Bearer"));
    let problem: serde_json::Value = api.json();
    assert_eq!(problem["status"], 401);

    // Signed in without the permission: 403, as text or as problem+json.
    client
        .get(&format!("/login?u=bob&p={PASSWORD}"))
        .send()
        .await;
    let forbidden = client.get("/editor/").send().await;
    assert_eq!(forbidden.status(), 403);
    assert!(forbidden.text().contains("newsroom.change_article"));
    let forbidden_json = client
        .get("/editor/")
        .header("x-requested-with", "XMLHttpRequest")
        .send()
        .await;
    assert_eq!(forbidden_json.status(), 403);
    assert_eq!(
        forbidden_json.content_type(),
        Some("application/problem+json")
    );

    // With the permission (through a group): admitted.
    backend.add_group("editors", ["newsroom.change_article"]);
    backend.add_to_group(&ada.id, "editors");
    client
        .get(&format!("/login?u=ada&p={PASSWORD}"))
        .send()
        .await;
    let admitted = client.get("/editor/").send().await;
    assert_eq!(admitted.status(), 200);
    assert_eq!(admitted.text(), "ada");
}

fn staff_app(
    backend: MemoryBackend,
) -> TestClient<
    impl tower::Service<
        Request<Body>,
        Response = Response<Body>,
        Error = Infallible,
        Future = impl Send,
    > + Clone
    + Send
    + 'static,
> {
    let auth = auth(backend);
    let login_auth = auth.clone();
    let handler = tower::service_fn(move |request: Request<Body>| {
        let auth = login_auth.clone();
        async move {
            let session = request
                .extensions()
                .get::<tack_sessions::Session>()
                .cloned()
                .unwrap();
            if let Some(name) = request.uri().query() {
                let user = auth.backend().user_by_username(name).unwrap();
                auth.login(&session, &user).await.unwrap();
            }
            Ok::<_, Infallible>(Response::new(Body::from("admin")))
        }
    });
    let login = tower::service_fn(move |request: Request<Body>| {
        let mut handler = handler.clone();
        let mut staff_only =
            GuardLayer::<User>::staff_required("/admin/login/").layer(handler.clone());
        async move {
            if request.uri().path() == "/admin/login/" {
                tower::Service::call(&mut handler, request).await
            } else {
                tower::Service::call(&mut staff_only, request).await
            }
        }
    });
    TestClient::new(
        SessionLayer::new(MemoryStore::new())
            .with_secure(false)
            .layer(AuthLayer::new(auth).layer(login)),
    )
}

#[tokio::test]
async fn staff_required() {
    let backend = backend();
    let staff = backend.add_user("staff", PASSWORD).unwrap();
    backend.update(&staff.id, |u| u.is_staff = true);
    backend.add_user("plain", PASSWORD).unwrap();
    let client = staff_app(backend.clone());
    assert_eq!(client.get("/admin/").send().await.status(), 302);
    client.get("/admin/login/?plain").send().await;
    assert_eq!(client.get("/admin/").send().await.status(), 403);
    client.get("/admin/login/?staff").send().await;
    assert_eq!(client.get("/admin/").send().await.status(), 200);
    // Losing staff status (or being deactivated) closes the door again.
    backend.update(&staff.id, |u| u.is_staff = false);
    assert_eq!(client.get("/admin/").send().await.status(), 403);
}

#[test]
fn handler_checks_without_a_layer() {
    // No auth layer ran: nobody is signed in.
    let request = Request::builder()
        .uri("/comments/new/")
        .header("accept", "application/problem+json")
        .body(())
        .unwrap();
    let refused =
        require::<User, _, String>(&request, &Requirement::Login, "/accounts/login/").unwrap_err();
    assert_eq!(refused.status(), 401);
    assert_eq!(
        login_redirect_url("/accounts/login/?lang=en", "/a b/?x=1"),
        "/accounts/login/?lang=en&next=/a%20b/%3Fx%3D1"
    );
}
