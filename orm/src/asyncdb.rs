//! Running blocking database work from async code, on any executor.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use futures_channel::oneshot;

use crate::connection::Database;
use crate::error::{Error, Result};

/// Runs a blocking job somewhere other than the async executor's threads.
/// Implement it with your runtime (`tokio::task::spawn_blocking`, a thread
/// pool) or use the ORM's own worker threads ([`AsyncDatabase::new`]).
pub trait Spawn: Send + Sync + 'static {
    /// Runs `job` on a thread where blocking is fine.
    fn spawn(&self, job: Box<dyn FnOnce() + Send>);
}

type Job = Box<dyn FnOnce() + Send>;

/// A fixed set of worker threads fed by a channel.
struct Workers {
    sender: Mutex<mpsc::Sender<Job>>,
}

impl Workers {
    fn new(threads: usize) -> Workers {
        let (sender, receiver) = mpsc::channel::<Job>();
        let receiver = Arc::new(Mutex::new(receiver));
        for n in 0..threads.max(1) {
            let receiver = receiver.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("tack-orm-{n}"))
                .spawn(move || {
                    loop {
                        let job = {
                            let guard = receiver.lock().unwrap_or_else(|p| p.into_inner());
                            guard.recv()
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => break,
                        }
                    }
                });
            // A thread that cannot start leaves fewer workers; the others still serve.
            drop(spawned);
        }
        Workers {
            sender: Mutex::new(sender),
        }
    }
}

impl Spawn for Workers {
    fn spawn(&self, job: Job) {
        let sender = self.sender.lock().unwrap_or_else(|p| p.into_inner());
        // The receiver lives as long as any worker thread; if all are gone the
        // job is dropped and its caller sees the cancelled channel.
        let _ = sender.send(job);
    }
}

/// A [`Database`] for async code: each call runs a closure on a worker
/// thread and hands the result back through a oneshot channel, so the
/// executor never blocks. No async runtime is required: it works under
/// tokio, async-std, smol or a plain `block_on`.
#[derive(Clone)]
pub struct AsyncDatabase {
    db: Database,
    spawner: Arc<dyn Spawn>,
}

impl std::fmt::Debug for AsyncDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncDatabase")
            .field("db", &self.db)
            .finish()
    }
}

impl AsyncDatabase {
    /// Wraps `db` with `threads` worker threads of its own.
    pub fn new(db: Database, threads: usize) -> AsyncDatabase {
        AsyncDatabase {
            db,
            spawner: Arc::new(Workers::new(threads)),
        }
    }

    /// Wraps `db`, running jobs through `spawner`.
    pub fn with_spawner(db: Database, spawner: impl Spawn) -> AsyncDatabase {
        AsyncDatabase {
            db,
            spawner: Arc::new(spawner),
        }
    }

    /// The wrapped synchronous database.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Runs `f` with the database on a worker thread and awaits its result.
    /// A panic in `f` becomes an error.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Database) -> Result<R> + Send + 'static,
    ) -> Result<R> {
        let (tx, rx) = oneshot::channel();
        let db = self.db.clone();
        self.spawner.spawn(Box::new(move || {
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&db)));
            let _ =
                tx.send(outcome.unwrap_or_else(|_| Err(Error::query("the database job panicked"))));
        }));
        rx.await
            .map_err(|_| Error::query("the database worker stopped before answering"))?
    }
}
