//! Per-request overhead of the security layers against a bare service, in one run.
//!
//! `cargo bench -p tack-security --bench overhead`

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Instant;

use http::{Request, Response};
use tack_http::Body;
use tack_security::{AllowedHostsLayer, CsrfLayer, CsrfToken, SecurityHeadersLayer};
use tower::{Layer, Service, ServiceBuilder, ServiceExt};

const REQUESTS: u32 = 100_000;

async fn handler(request: Request<Body>) -> Result<Response<Body>, Infallible> {
    let token = request
        .extensions()
        .get::<CsrfToken>()
        .map(CsrfToken::masked);
    Ok(Response::new(Body::from(token.unwrap_or_default())))
}

/// Nanoseconds per request, after a warm-up.
fn time<S>(service: S, request: impl Fn() -> Request<Body>) -> f64
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Clone,
{
    let run = |n: u32| {
        for _ in 0..n {
            let response = futures_executor::block_on(service.clone().oneshot(request()));
            black_box(response.expect("infallible"));
        }
    };
    run(REQUESTS / 10);
    let start = Instant::now();
    run(REQUESTS);
    start.elapsed().as_nanos() as f64 / f64::from(REQUESTS)
}

fn main() {
    let secret = "abcdefghijklmnopqrstuvwxyzABCDEF";
    let cookie = format!("csrftoken={secret}");
    let get = || {
        Request::get("/")
            .header("host", "example.com")
            .header("cookie", &cookie)
            .body(Body::empty())
            .expect("a valid request")
    };
    let post_header = || {
        Request::post("/")
            .header("host", "example.com")
            .header("cookie", &cookie)
            .header("x-csrftoken", secret)
            .body(Body::empty())
            .expect("a valid request")
    };
    let form = format!("title=Hello&body=Some+text&csrfmiddlewaretoken={secret}");
    let post_form = || {
        Request::post("/")
            .header("host", "example.com")
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(form.clone()))
            .expect("a valid request")
    };

    let bare = tower::service_fn(handler);
    let csrf = CsrfLayer::new().layer(tower::service_fn(handler));
    let stack = ServiceBuilder::new()
        .layer(AllowedHostsLayer::new(["example.com"]))
        .layer(SecurityHeadersLayer::new())
        .layer(CsrfLayer::new())
        .service_fn(handler);

    let baseline = time(bare, get);
    let form_baseline = time(bare, post_form);
    println!("{REQUESTS} requests each, block_on per request");
    println!("{:<46} {:>8.0} ns/request", "bare service, GET", baseline);
    println!(
        "{:<46} {:>8.0} ns/request",
        "bare service, POST form", form_baseline
    );
    let cases = [
        (
            "CSRF, GET rendering a token",
            time(csrf.clone(), get),
            baseline,
        ),
        (
            "CSRF, POST with X-CSRFToken",
            time(csrf.clone(), post_header),
            baseline,
        ),
        (
            "CSRF, POST form (body read and handed on)",
            time(csrf, post_form),
            form_baseline,
        ),
        ("hosts + headers + CSRF, GET", time(stack, get), baseline),
    ];
    for (name, ns, base) in cases {
        println!(
            "{name:<46} {ns:>8.0} ns/request  overhead {:>6.0} ns  ratio {:>4.1}x",
            ns - base,
            ns / base
        );
    }
}
