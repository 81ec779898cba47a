//! Per-request overhead of the session layer against a bare service, in one run.
//!
//! `cargo bench -p tack-sessions --bench overhead` (add `--features orm`
//! for the SQLite database store).

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Instant;

use http::{Request, Response};
use tack_sessions::{CookieStore, MemoryStore, SecretKey, Session, SessionLayer, SessionStore};
use tower::{Layer, Service, ServiceExt};

const REQUESTS: u32 = 100_000;

/// Reads `user` from the session when there is one; writes when asked.
async fn handler(request: Request<String>) -> Result<Response<String>, Infallible> {
    if let Some(session) = request.extensions().get::<Session>() {
        let user: Option<String> = session.get("user").unwrap_or(None);
        if request.uri().path() == "/write" {
            session.insert("hits", 1u32).unwrap_or(());
        }
        return Ok(Response::new(user.unwrap_or_default()));
    }
    Ok(Response::new(String::new()))
}

/// Nanoseconds per request, after a warm-up.
fn time<S>(service: S, path: &str, cookie: Option<&str>) -> f64
where
    S: Service<Request<String>, Response = Response<String>, Error = Infallible> + Clone,
{
    let request = || {
        let mut builder = Request::builder().uri(path);
        if let Some(cookie) = cookie {
            builder = builder.header("cookie", cookie);
        }
        builder.body(String::new()).expect("a valid request")
    };
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

fn cookie_for<St: SessionStore>(store: &St) -> String {
    let record = tack_sessions::Record {
        id: tack_sessions::SessionId::generate(),
        data: serde_json::Map::from_iter([("user".to_owned(), serde_json::json!("alice"))]),
        expires_at: u64::MAX / 2,
    };
    let value = futures_executor::block_on(store.save(&record)).expect("a store that saves");
    format!("sessionid={value}")
}

fn main() {
    let bare = tower::service_fn(handler);
    let memory = MemoryStore::new();
    let memory_cookie = cookie_for(&memory);
    let signed = CookieStore::new(SecretKey::from("benchmark key"));
    let signed_cookie = cookie_for(&signed);
    let with_memory = SessionLayer::new(memory).layer(tower::service_fn(handler));
    let with_signed = SessionLayer::new(signed).layer(tower::service_fn(handler));

    let baseline = time(bare, "/read", Some(&memory_cookie));
    println!("{REQUESTS} requests each, block_on per request");
    println!("{:<44} {:>9.0} ns/request", "bare service", baseline);
    let cases = [
        (
            "memory store, read a value",
            time(with_memory.clone(), "/read", Some(&memory_cookie)),
        ),
        (
            "memory store, write a value",
            time(with_memory.clone(), "/write", Some(&memory_cookie)),
        ),
        (
            "memory store, no cookie, untouched",
            time(with_memory, "/read", None),
        ),
        (
            "signed-cookie store, read a value",
            time(with_signed.clone(), "/read", Some(&signed_cookie)),
        ),
        (
            "signed-cookie store, write a value",
            time(with_signed, "/write", Some(&signed_cookie)),
        ),
    ];
    #[cfg(feature = "orm")]
    let cases = {
        let dir = std::env::temp_dir().join(format!("tack-sessions-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary directory");
        let url = format!("sqlite://{}", dir.join("sessions.sqlite3").display());
        let db = tack_orm::Database::connect(&url).expect("a SQLite file");
        let store = tack_sessions::DbStore::new(tack_orm::AsyncDatabase::new(db, 1));
        store.create_table().expect("the session table");
        let sqlite_cookie = cookie_for(&store);
        let with_sqlite = SessionLayer::new(store).layer(tower::service_fn(handler));
        let mut cases = cases.to_vec();
        cases.push((
            "SQLite store, read a value",
            time(with_sqlite.clone(), "/read", Some(&sqlite_cookie)),
        ));
        cases.push((
            "SQLite store, write a value",
            time(with_sqlite, "/write", Some(&sqlite_cookie)),
        ));
        let _ = std::fs::remove_dir_all(&dir);
        cases
    };
    for (name, ns) in cases {
        println!(
            "{name:<44} {ns:>9.0} ns/request  overhead {:>7.0} ns  ratio {:>5.1}x",
            ns - baseline,
            ns / baseline
        );
    }
}
