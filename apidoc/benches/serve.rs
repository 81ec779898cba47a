//! What serving the docs costs: a handler that serializes the document on
//! every request (the baseline) against `DocsService`, which answers bytes
//! rendered once. Also times building the document and rendering the page.
//!
//! Run with `cargo bench -p tack-apidoc --bench serve`.

#[path = "../tests/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use http::Request;
use tack_apidoc::DocsService;
use tower_service::Service;

const REQUESTS: u32 = 20_000;

fn time(label: &str, runs: u32, mut f: impl FnMut()) -> Duration {
    f();
    let start = Instant::now();
    for _ in 0..runs {
        f();
    }
    let total = start.elapsed();
    println!(
        "{label:<48} {runs:>6} runs  {:>10.2} µs/run",
        total.as_secs_f64() * 1e6 / f64::from(runs)
    );
    total
}

fn main() {
    time(
        "build the newsroom document (builder + schemars)",
        200,
        || {
            black_box(common::routed());
        },
    );
    let document = common::routed();
    time("render the docs page", 200, || {
        black_box(tack_apidoc::render_html(&document, "../openapi.json", None));
    });

    let baseline = time(
        "baseline: serialize openapi.json per request",
        REQUESTS,
        || {
            black_box(serde_json::to_vec(black_box(&document)).unwrap());
        },
    );
    let mut service = DocsService::new(document.clone());
    let ours = time("DocsService: GET /openapi.json", REQUESTS, || {
        let request = Request::get("/openapi.json").body(()).unwrap();
        let response = service.call(request).into_inner().unwrap();
        black_box(response);
    });
    println!(
        "serving openapi.json: DocsService takes {:.4}x the baseline's time ({:.0}x faster)",
        ours.as_secs_f64() / baseline.as_secs_f64(),
        baseline.as_secs_f64() / ours.as_secs_f64()
    );
}
