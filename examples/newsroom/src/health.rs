//! Health endpoints for orchestrators, answered before every other layer
//! (a probe names the pod's address, not an allowed host, and is not
//! logged): `/healthz` says the process answers, `/readyz` that it should
//! get traffic (the database answers within [`READY_TIMEOUT`], every
//! migration is applied, and the process is not shutting down).

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{Request, Response, StatusCode, header};
use tack_http::Body;
use tack_orm::Database;
use tack_orm::migrations::Migrations;
use tower::{Layer, Service};

/// How long `/readyz` waits for the database.
pub const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether the process still takes traffic: the server marks it draining on
/// SIGTERM, `/readyz` answers 503 from then on, and what holds long-lived
/// connections (the websocket endpoint) closes them.
#[derive(Clone, Default)]
pub struct Readiness {
    draining: Arc<AtomicBool>,
    holders: Arc<Mutex<Vec<Holder>>>,
    finishers: Arc<Mutex<Vec<Finisher>>>,
}

/// What sends the last of the process's work away before it exits, given
/// the time left.
type Finisher = Box<dyn Fn(Duration) + Send + Sync>;

/// Something holding connections open: how to close them, and how many
/// are still open.
struct Holder {
    close: Box<dyn Fn() + Send + Sync>,
    open: Box<dyn Fn() -> usize + Send + Sync>,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Readiness")
            .field("draining", &self.is_draining())
            .finish_non_exhaustive()
    }
}

impl Readiness {
    /// Registers what to do on [`drain`](Self::drain) (`close`) and how many
    /// connections are still open (`open`), which [`open`](Self::open) sums.
    pub fn on_drain(
        &self,
        close: impl Fn() + Send + Sync + 'static,
        open: impl Fn() -> usize + Send + Sync + 'static,
    ) {
        let holder = Holder {
            close: Box::new(close),
            open: Box::new(open),
        };
        self.holders
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(holder);
    }

    /// Marks the process as shutting down and closes what holds
    /// connections open.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::SeqCst);
        let holders = self
            .holders
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for holder in holders.iter() {
            (holder.close)();
        }
    }

    /// Registers `finish`, called by [`finish`](Self::finish) once the
    /// requests in flight are done (the channel layer's flush).
    pub fn on_finish(&self, finish: impl Fn(Duration) + Send + Sync + 'static) {
        self.finishers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(Box::new(finish));
    }

    /// Runs what [`on_finish`](Self::on_finish) registered, each given at
    /// most `timeout`; blocks, so an async server calls it off its workers.
    pub fn finish(&self, timeout: Duration) {
        let finishers = self
            .finishers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for finish in finishers.iter() {
            finish(timeout);
        }
    }

    /// Whether [`drain`](Self::drain) was called.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    /// How many long-lived connections are still open.
    pub fn open(&self) -> usize {
        let holders = self
            .holders
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        holders.iter().map(|holder| (holder.open)()).sum()
    }
}

/// Answers `/healthz` and `/readyz`; passes every other request on.
#[derive(Clone)]
pub struct HealthLayer {
    db: Database,
    migrations: Arc<Migrations>,
    readiness: Readiness,
}

impl HealthLayer {
    /// Checks `db` against `migrations` and watches `readiness`.
    pub fn new(db: Database, migrations: Migrations, readiness: Readiness) -> Self {
        HealthLayer {
            db,
            migrations: Arc::new(migrations),
            readiness,
        }
    }
}

impl<S> Layer<S> for HealthLayer {
    type Service = Health<S>;
    fn layer(&self, inner: S) -> Health<S> {
        Health {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`HealthLayer`] makes.
#[derive(Clone)]
pub struct Health<S> {
    inner: S,
    layer: HealthLayer,
}

impl<S> Service<Request<Body>> for Health<S>
where
    S: Service<Request<Body>, Response = Response<Body>, Error = Infallible> + Send,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Response<Body>, Infallible>> + Send>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        match request.uri().path() {
            "/healthz" => Box::pin(async { Ok(answer(StatusCode::OK, &[])) }),
            "/readyz" => {
                let layer = self.layer.clone();
                Box::pin(async move {
                    let problems = layer.problems().await;
                    let status = if problems.is_empty() {
                        StatusCode::OK
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    };
                    Ok(answer(status, &problems))
                })
            }
            _ => Box::pin(self.inner.call(request)),
        }
    }
}

impl HealthLayer {
    /// Why the process should not get traffic now (none: ready).
    async fn problems(&self) -> Vec<String> {
        if self.readiness.is_draining() {
            return vec!["shutting down".to_owned()];
        }
        let (db, migrations) = (self.db.clone(), self.migrations.clone());
        // Read-only: no lock, no write, so probes never queue behind a
        // migration run or a writer.
        let check =
            tokio::task::spawn_blocking(move || tack_orm::migrations::unapplied(&db, &migrations));
        // The answer is public: the details go to the log only.
        match tokio::time::timeout(READY_TIMEOUT, check).await {
            Err(_) => vec![format!(
                "the database did not answer within {} s",
                READY_TIMEOUT.as_secs()
            )],
            Ok(Err(error)) => {
                tracing::error!(%error, "readiness: the database check panicked");
                vec!["the database check failed".to_owned()]
            }
            Ok(Ok(Err(error))) => {
                tracing::warn!(%error, "readiness: the database check failed");
                vec!["the database check failed".to_owned()]
            }
            Ok(Ok(Ok(pending))) if pending.is_empty() => Vec::new(),
            Ok(Ok(Ok(pending))) => {
                tracing::warn!(migrations = %pending.join(", "), "readiness: unapplied migrations");
                vec![match pending.len() {
                    1 => "1 unapplied migration".to_owned(),
                    n => format!("{n} unapplied migrations"),
                }]
            }
        }
    }
}

/// `{"status": "ok"}` or `{"status": "unavailable", "problems": [...]}`,
/// never cached.
fn answer(status: StatusCode, problems: &[String]) -> Response<Body> {
    let body = if problems.is_empty() {
        serde_json::json!({"status": "ok"})
    } else {
        serde_json::json!({"status": "unavailable", "problems": problems})
    };
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}
