//! Matching the GitHub REST API's route table (`github_routes.txt`, several
//! hundred routes) with the router and with bare matchit, in the same run.
//!
//! Run with `cargo bench -p tack-routing --bench github`. It prints ns per
//! lookup for both and the ratio, then the cost of a full dispatch through
//! the router's tower service.

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use http::Request;
use tack_http::Body;
use tack_routing::{Router, get};
use tower::Service;

const ROUTES: &str = include_str!("github_routes.txt");

/// How long each timed round runs, and how many rounds (the best one counts).
const ROUND: Duration = Duration::from_millis(100);
const ROUNDS: usize = 25;

/// Our pattern in matchit's syntax: the converters dropped.
fn bare(pattern: &str) -> String {
    pattern.replace(":int}", "}")
}

/// A concrete path for a pattern: numbers for `int`, a file path for a
/// catch-all, a name otherwise.
fn sample_path(pattern: &str) -> String {
    let mut path = String::new();
    let mut rest = pattern;
    while let Some(start) = rest.find('{') {
        path.push_str(&rest[..start]);
        let end = start
            + rest[start..]
                .find('}')
                .expect("patterns close their braces");
        let param = &rest[start + 1..end];
        path.push_str(if param.ends_with(":int") {
            "1296269"
        } else if param.starts_with('*') {
            "src/lib/main.rs"
        } else {
            "octocat"
        });
        rest = &rest[end + 1..];
    }
    path.push_str(rest);
    path
}

/// ns per item of one timed round of `pass` (which handles `items` items).
fn round(items: usize, pass: &mut dyn FnMut()) -> f64 {
    let start = Instant::now();
    let mut passes = 0u32;
    while start.elapsed() < ROUND {
        pass();
        passes += 1;
    }
    start.elapsed().as_nanos() as f64 / (f64::from(passes) * items as f64)
}

/// Times each pass `ROUNDS` times, the passes taking turns round by round
/// so that neighbours see the same machine load. Returns each pass's best
/// ns per item, and the median over rounds of each pass's time divided by
/// the first pass's time in the same round (robust on a busy machine).
fn compare<const N: usize>(
    items: usize,
    mut passes: [&mut dyn FnMut(); N],
) -> ([f64; N], [f64; N]) {
    let mut best = [f64::INFINITY; N];
    let mut ratios: [Vec<f64>; N] = std::array::from_fn(|_| Vec::with_capacity(ROUNDS));
    for _ in 0..ROUNDS {
        let mut times = [0.0; N];
        for (i, pass) in passes.iter_mut().enumerate() {
            times[i] = round(items, *pass);
            best[i] = best[i].min(times[i]);
        }
        for i in 0..N {
            ratios[i].push(times[i] / times[0]);
        }
    }
    let medians = ratios.map(|mut r| {
        r.sort_by(f64::total_cmp);
        r[r.len() / 2]
    });
    (best, medians)
}

/// Polls a future that completes without waiting (every handler here does).
fn ready<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

async fn handler(_: Request<Body>) -> &'static str {
    "ok"
}

fn main() {
    let patterns: Vec<&str> = ROUTES
        .lines()
        .filter(|line| line.starts_with('/'))
        .collect();
    let paths: Vec<String> = patterns.iter().map(|p| sample_path(p)).collect();

    let mut matchit_router = matchit::Router::new();
    let mut router = Router::new();
    let mut untyped = Router::new();
    for (index, pattern) in patterns.iter().enumerate() {
        untyped = untyped.route(&bare(pattern), get(handler));
        matchit_router
            .insert(bare(pattern), index)
            .unwrap_or_else(|e| panic!("matchit rejects {pattern}: {e}"));
        router = router.route(pattern, get(handler));
    }
    for (pattern, path) in patterns.iter().zip(&paths) {
        let expected = *matchit_router.at(path).expect("matchit matches").value;
        assert_eq!(patterns[expected], *pattern, "matchit: {path}");
        let resolved = router.resolve(path).expect("the router matches");
        assert_eq!(resolved.pattern(), *pattern, "router: {path}");
    }

    let n = paths.len();
    let (
        [bare_ns, ours_ns, value_only_ns, untyped_ns],
        [_, ratio, value_only_ratio, untyped_ratio],
    ) = compare(
        n,
        [
            // What a router needs: the value and the captured parameters.
            &mut || {
                for path in &paths {
                    black_box(matchit_router.at(black_box(path)).ok());
                }
            },
            &mut || {
                for path in &paths {
                    black_box(router.resolve(black_box(path)));
                }
            },
            // The value alone: the compiler may then skip keeping the parameters.
            &mut || {
                for path in &paths {
                    black_box(matchit_router.at(black_box(path)).ok().map(|m| *m.value));
                }
            },
            // The same table without converters: the router's own overhead.
            &mut || {
                for path in &paths {
                    black_box(untyped.resolve(black_box(path)));
                }
            },
        ],
    );
    println!("{n} GitHub API routes, one lookup per route per pass, {ROUNDS} rounds");
    println!("bare matchit (value + params):  {bare_ns:6.1} ns/lookup (best round)");
    println!("tack-routing Router::resolve:   {ours_ns:6.1} ns/lookup (best round)");
    println!(
        "ratio ours / matchit:           {ratio:6.2}x (median of per-round ratios; target <= 1.20x)"
    );
    println!(
        "tack-routing, no converters:    {untyped_ns:6.1} ns/lookup (ratio {untyped_ratio:.2}x)"
    );
    println!(
        "bare matchit (value only):      {value_only_ns:6.1} ns/lookup (ratio ours / this: {:.2}x)",
        ratio / value_only_ratio
    );

    let requests = || {
        paths
            .iter()
            .map(|path| Request::get(path.as_str()).body(Body::empty()).unwrap())
            .collect::<Vec<_>>()
    };
    let mut service = router.clone();
    let ([build_ns, with_dispatch_ns], _) = compare(
        n,
        [
            &mut || {
                black_box(requests());
            },
            &mut || {
                for request in requests() {
                    let response = ready(service.call(request)).unwrap();
                    black_box(response.status());
                }
            },
        ],
    );
    let dispatch_ns = with_dispatch_ns - build_ns;
    println!(
        "full dispatch through the tower service: {dispatch_ns:7.1} ns/request \
         (resolve, PathParams, extensions, handler, response)"
    );
}
