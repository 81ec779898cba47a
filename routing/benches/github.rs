//! Matching the GitHub REST API's route table (`github_routes.txt`, several
//! hundred routes) with the router and with bare matchit, in the same run.
//!
//! Run with `cargo bench -p tack-routing --bench github`. It prints, for
//! bare matchit and for `Router::resolve` (both keep the captured
//! parameters), the wall time per lookup (best round, and the median of
//! per-round ratios with the sides taking turns, robust on a busy machine),
//! then the instructions per lookup counted by callgrind (when valgrind is
//! installed: this benchmark runs itself under it with `--count SIDE`,
//! collecting only `counted_passes`), then the cost of a full dispatch
//! through the router's tower service.

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

/// How long each timed round runs, and how many rounds.
const ROUND: Duration = Duration::from_millis(40);
const ROUNDS: usize = 61;

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
    mut passes: [Box<dyn FnMut() + '_>; N],
) -> ([f64; N], [f64; N]) {
    let mut best = [f64::INFINITY; N];
    let mut ratios: [Vec<f64>; N] = std::array::from_fn(|_| Vec::with_capacity(ROUNDS));
    for _ in 0..ROUNDS {
        let mut times = [0.0; N];
        for (i, pass) in passes.iter_mut().enumerate() {
            times[i] = round(items, pass.as_mut());
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

/// The route table built three ways, and one matching path per route.
struct Table {
    patterns: Vec<&'static str>,
    paths: Vec<String>,
    matchit: matchit::Router<usize>,
    /// Our router with the table's converters (`{id:int}`).
    router: Router,
    /// Our router with the converters dropped (every parameter `str`).
    untyped: Router,
}

impl Table {
    fn new() -> Table {
        let patterns: Vec<&str> = ROUTES
            .lines()
            .filter(|line| line.starts_with('/'))
            .collect();
        let paths = patterns.iter().map(|p| sample_path(p)).collect();
        let mut matchit = matchit::Router::new();
        let mut router = Router::new();
        let mut untyped = Router::new();
        for (index, pattern) in patterns.iter().enumerate() {
            untyped = untyped.route(&bare(pattern), get(handler));
            matchit
                .insert(bare(pattern), index)
                .unwrap_or_else(|e| panic!("matchit rejects {pattern}: {e}"));
            router = router.route(pattern, get(handler));
        }
        Table {
            patterns,
            paths,
            matchit,
            router,
            untyped,
        }
    }

    /// Every path resolves to its own route on every side, with the same
    /// parameter values.
    fn check(&self) {
        for (pattern, path) in self.patterns.iter().zip(&self.paths) {
            let expected = self.matchit.at(path).expect("matchit matches");
            assert_eq!(self.patterns[*expected.value], *pattern, "matchit: {path}");
            for router in [&self.router, &self.untyped] {
                let resolved = router.resolve(path).expect("the router matches");
                assert_eq!(bare(resolved.pattern()), bare(pattern), "router: {path}");
                for (name, value) in expected.params.iter() {
                    let name = name.trim_start_matches('*');
                    assert_eq!(resolved.raw_param(name), Some(value), "{path} {name}");
                }
            }
        }
    }

    /// One pass of a side over every path. Each side's loop is a function
    /// of its own, so that its code layout does not move with the rest of
    /// this file.
    fn pass(&self, side: Side) {
        match side {
            Side::Matchit => self.pass_matchit(),
            Side::MatchitValue => self.pass_matchit_value(),
            Side::Ours => Table::pass_router(&self.router, &self.paths),
            Side::Untyped => Table::pass_router(&self.untyped, &self.paths),
        }
    }

    /// The match with its captured parameters, as a router needs.
    #[inline(never)]
    fn pass_matchit(&self) {
        for path in &self.paths {
            black_box(self.matchit.at(black_box(path)).ok());
        }
    }

    /// The value alone: the compiler may skip keeping the parameters.
    #[inline(never)]
    fn pass_matchit_value(&self) {
        for path in &self.paths {
            black_box(self.matchit.at(black_box(path)).ok().map(|m| *m.value));
        }
    }

    #[inline(never)]
    fn pass_router(router: &Router, paths: &[String]) {
        for path in paths {
            black_box(router.resolve(black_box(path)));
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Matchit,
    MatchitValue,
    Ours,
    Untyped,
}

impl Side {
    const ALL: [Side; 4] = [Side::Matchit, Side::Ours, Side::Untyped, Side::MatchitValue];

    fn name(self) -> &'static str {
        match self {
            Side::Matchit => "matchit",
            Side::MatchitValue => "matchit-value",
            Side::Ours => "ours",
            Side::Untyped => "untyped",
        }
    }

    fn parse(name: &str) -> Option<Side> {
        Side::ALL.into_iter().find(|side| side.name() == name)
    }
}

/// Passes per side when counting instructions.
const COUNTED_PASSES: usize = 50;

/// The only code whose instructions the counting run collects
/// (`--toggle-collect`): `COUNTED_PASSES` passes of one side.
#[inline(never)]
fn counted_passes(table: &Table, side: Side) {
    for _ in 0..COUNTED_PASSES {
        table.pass(side);
    }
}

/// Instructions per lookup of a side, counted by callgrind running this
/// benchmark again with `--count SIDE`; `None` without valgrind.
fn instructions_per_lookup(side: Side, lookups: usize) -> Option<f64> {
    let exe = std::env::current_exe().ok()?;
    let out = std::env::temp_dir().join(format!(
        "tack-routing-github-{}-{}.callgrind",
        std::process::id(),
        side.name()
    ));
    let status = std::process::Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--toggle-collect=*counted_passes*")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&exe)
        .args(["--count", side.name()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .ok()?;
    let text = std::fs::read_to_string(&out).ok();
    let _ = std::fs::remove_file(&out);
    if !status.success() {
        return None;
    }
    let total: u64 = text?.lines().find_map(|line| {
        line.strip_prefix("summary:")
            .or_else(|| line.strip_prefix("totals:"))
            .and_then(|n| n.trim().parse().ok())
    })?;
    Some(total as f64 / (COUNTED_PASSES * lookups) as f64)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let table = Table::new();
    // The child run under callgrind: only the counted passes of one side.
    if let Some(at) = args.iter().position(|a| a == "--count") {
        let side = args
            .get(at + 1)
            .and_then(|name| Side::parse(name))
            .expect("--count takes matchit, matchit-value, ours or untyped");
        counted_passes(&table, side);
        return;
    }
    table.check();
    let n = table.paths.len();

    let with_int = table
        .patterns
        .iter()
        .filter(|p| p.contains(":int}"))
        .count();
    println!("{n} GitHub API routes, one sample path each ({with_int} with int parameters);");
    println!("every side gets the route and its captured (raw) parameter values:");
    println!("  matchit        bare matchit::Router::at, the value and its Params");
    println!("  ours           tack-routing Router::resolve: matchit, then the converters and");
    println!("                 the %-check on the values (a % takes the decoding path)");
    println!("  untyped        Router::resolve on the same table with every parameter `str`");
    println!("  matchit-value  bare matchit, keeping the value only (not like for like: the");
    println!("                 compiler may drop the params; shown for scale)");
    println!("ratio = side / matchit; target: ours <= 1.20x");
    println!();

    let ([matchit_ns, ours_ns, untyped_ns, value_ns], [_, ours_ratio, untyped_ratio, value_ratio]) =
        compare(
            n,
            Side::ALL.map(|side| -> Box<dyn FnMut()> {
                let table = &table;
                Box::new(move || table.pass(side))
            }),
        );
    println!(
        "wall time: {ROUNDS} rounds of {} ms per side, the sides taking turns",
        ROUND.as_millis()
    );
    println!("  side           best round      median of the per-round ratios | best / best");
    for (side, ns, ratio) in [
        (Side::Matchit, matchit_ns, 1.0),
        (Side::Ours, ours_ns, ours_ratio),
        (Side::Untyped, untyped_ns, untyped_ratio),
        (Side::MatchitValue, value_ns, value_ratio),
    ] {
        println!(
            "  {:<14} {ns:6.1} ns/lookup  {ratio:5.2}x | {:5.2}x",
            side.name(),
            ns / matchit_ns
        );
    }

    let counted =
        [Side::Matchit, Side::Ours, Side::Untyped].map(|side| instructions_per_lookup(side, n));
    match counted {
        [Some(matchit), Some(ours), Some(untyped)] => {
            println!(
                "instructions: callgrind over {COUNTED_PASSES} passes per side (setup not \
                 counted; the same on a loaded machine)"
            );
            for (side, count) in [
                (Side::Matchit, matchit),
                (Side::Ours, ours),
                (Side::Untyped, untyped),
            ] {
                println!(
                    "  {:<14} {count:6.1} instr/lookup  {:5.2}x",
                    side.name(),
                    count / matchit
                );
            }
        }
        _ => println!("instructions: not counted (needs valgrind on the PATH)"),
    }

    let requests = || {
        table
            .paths
            .iter()
            .map(|path| Request::get(path.as_str()).body(Body::empty()).unwrap())
            .collect::<Vec<_>>()
    };
    let mut service = table.router.clone();
    let ([build_ns, with_dispatch_ns], _) = compare(
        n,
        [
            Box::new(|| {
                black_box(requests());
            }) as Box<dyn FnMut()>,
            Box::new(|| {
                for request in requests() {
                    let response = ready(service.call(request)).unwrap();
                    black_box(response.status());
                }
            }),
        ],
    );
    let dispatch_ns = with_dispatch_ns - build_ns;
    println!(
        "full dispatch through the tower service: {dispatch_ns:7.1} ns/request \
         (resolve, PathParams, extensions, handler, response; request building subtracted)"
    );
}
