//! Tower layers on the router, on routes, and mounted services.

mod common;

use std::convert::Infallible;

use common::{echo, run};
use http::header::HeaderValue;
use http::{Request, Response};
use tack_http::Body;
use tack_routing::{Router, get};
use tack_test::TestClient;
use tower::ServiceExt;
use tower::util::MapResponseLayer;

/// A layer that appends `name` to the `x-layers` response header.
fn mark(name: &'static str) -> MapResponseLayer<impl Fn(Response<Body>) -> Response<Body> + Clone> {
    MapResponseLayer::new(move |mut response: Response<Body>| {
        let before = response
            .headers()
            .get("x-layers")
            .and_then(|v| v.to_str().ok())
            .map_or(String::new(), |v| format!("{v},"));
        let value = HeaderValue::from_str(&format!("{before}{name}")).unwrap();
        response.headers_mut().insert("x-layers", value);
        response
    })
}

fn layers_of(router: &Router, path: &str) -> Option<String> {
    let response = run(TestClient::new(router.clone()).get(path).send());
    response.header("x-layers").map(str::to_owned)
}

#[test]
fn router_and_route_layers_wrap_what_they_should() {
    let admin = Router::new().route("/", get(echo)).layer(mark("admin"));
    let router = Router::new()
        .route("/plain", get(echo))
        .route("/marked", get(echo).layer(mark("route")))
        .route_layer(mark("route-layer"))
        .route("/late", get(echo))
        .nest("/admin", "admin", admin)
        .layer(mark("outer"))
        .layer(mark("outermost"));
    let cases = [
        ("/plain", Some("route-layer,outer,outermost")),
        ("/marked", Some("route,route-layer,outer,outermost")),
        ("/late", Some("outer,outermost")),
        ("/admin/", Some("admin,outer,outermost")),
        // The router-wide layers see 404s and redirects too.
        ("/missing", Some("outer,outermost")),
        ("/admin", Some("outer,outermost")),
    ];
    for (path, expected) in cases {
        assert_eq!(layers_of(&router, path).as_deref(), expected, "{path}");
    }
    assert_eq!(layers_of(&Router::new().route("/x", get(echo)), "/x"), None);
}

#[test]
fn any_tower_service_mounts() {
    let service = tower::service_fn(|request: Request<Body>| async move {
        Ok::<_, Infallible>(Response::new(Body::from(format!(
            "service saw {} {}",
            request.method(),
            request.uri()
        ))))
    });
    let router = Router::new()
        .route_service("/svc/{id:int}", service)
        .nest_service("/mounted", service)
        .nest("/inner", "", Router::new().nest_service("/deep", service));
    let client = TestClient::new(router.clone());
    let cases = [
        ("/svc/3", "service saw GET /svc/3"),
        ("/mounted", "service saw GET /"),
        ("/mounted/", "service saw GET /"),
        ("/mounted/a/b?c=d", "service saw GET /a/b?c=d"),
        ("/inner/deep/x", "service saw GET /x"),
    ];
    for (path, expected) in cases {
        assert_eq!(run(client.get(path).send()).text(), expected, "{path}");
    }
    assert_eq!(run(client.get("/svc/x").send()).status().as_u16(), 404);
    // A router is itself a service other routers and tower can drive.
    let response = run(router.oneshot(Request::new(Body::empty()))).unwrap();
    assert_eq!(response.status().as_u16(), 404);
}

#[test]
fn failing_services_answer_500() {
    let failing = tower::service_fn(|_: Request<Body>| async {
        Err::<Response<Body>, _>(std::io::Error::other("disk on fire"))
    });
    let router = Router::new().route_service("/fail", failing);
    let response = run(TestClient::new(router.clone()).get("/fail").send());
    assert_eq!(response.status().as_u16(), 500);
    assert!(!response.text().contains("disk on fire"));
    let response = run(TestClient::new(router.debug(true)).get("/fail").send());
    assert!(response.text().contains("the service failed: disk on fire"));
}

#[test]
fn router_layers_can_reverse_urls() {
    async fn show(request: Request<Body>) -> String {
        let header = request.headers().get("x-home").unwrap();
        header.to_str().unwrap().to_owned()
    }
    let layer = tower::util::MapRequestLayer::new(|mut request: Request<Body>| {
        let urls = request.extensions().get::<tack_routing::Urls>().cloned();
        let home = urls.map_or("no urls".to_owned(), |urls| {
            urls.reverse("home", &[]).unwrap()
        });
        request
            .headers_mut()
            .insert("x-home", HeaderValue::from_str(&home).unwrap());
        request
    });
    let router = Router::new()
        .route("/show", get(show))
        .layer(layer)
        .route("/home/", get(echo))
        .name("home");
    assert_eq!(
        run(TestClient::new(router).get("/show").send()).text(),
        "/home/"
    );
}
