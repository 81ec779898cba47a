//! Connections, the pool behind [`Database`], and transactions.

use std::cell::{Cell, RefCell};
use std::ops::Deref;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use crate::dialect::Dialect;
use crate::error::{Error, Result};
use crate::row::Row;
use crate::value::Value;

enum Backend {
    #[cfg(feature = "sqlite")]
    Sqlite(rusqlite::Connection),
    #[cfg(feature = "postgres")]
    Postgres(Box<crate::postgres::PgConn>),
}

/// One open database connection. Obtained from [`Database::connection`] or
/// inside [`Database::atomic`]; every query method accepts it as an
/// [`Executor`].
pub struct Connection {
    backend: RefCell<Backend>,
    dialect: Dialect,
    depth: Cell<u32>,
    broken: Cell<bool>,
    counter: Arc<AtomicU64>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("dialect", &self.dialect)
            .finish()
    }
}

/// Something queries can run on: a [`Database`] (which takes a pooled
/// connection per call) or a [`Connection`] (a transaction's, say).
pub trait Executor {
    /// Runs `f` with a connection.
    fn with_connection<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R>;

    /// The dialect of the database behind this executor.
    fn dialect(&self) -> Dialect;
}

impl Executor for Connection {
    fn with_connection<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        f(self)
    }

    fn dialect(&self) -> Dialect {
        self.dialect
    }
}

impl<E: Executor + ?Sized> Executor for &E {
    fn with_connection<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        (**self).with_connection(f)
    }

    fn dialect(&self) -> Dialect {
        (**self).dialect()
    }
}

impl Connection {
    /// Opens one connection (no pool) to `url`: `sqlite://PATH`,
    /// `sqlite::memory:` or `postgres://...`.
    pub fn open(url: &str) -> Result<Connection> {
        Connection::open_counted(url, Arc::new(AtomicU64::new(0)))
    }

    fn open_counted(url: &str, counter: Arc<AtomicU64>) -> Result<Connection> {
        let (dialect, backend) = open_backend(url)?;
        Ok(Connection {
            backend: RefCell::new(backend),
            dialect,
            depth: Cell::new(0),
            broken: Cell::new(false),
            counter,
        })
    }

    /// How many statements this connection (or its pool) has run.
    pub fn queries_run(&self) -> u64 {
        self.counter.load(Ordering::Relaxed)
    }

    /// The connection's dialect.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn backend(&self) -> Result<std::cell::RefMut<'_, Backend>> {
        self.counter.fetch_add(1, Ordering::Relaxed);
        self.backend.try_borrow_mut().map_err(|_| {
            Error::query(
                "the connection is in use by a running query (run other queries after \
                 `iterator` finishes, or on another connection)",
            )
        })
    }

    fn note(&self, error: Error) -> Error {
        if matches!(error, Error::ConnectionLost { .. }) {
            self.broken.set(true);
        }
        error
    }

    /// Runs a statement, returning the number of rows changed.
    pub fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        let mut backend = self.backend()?;
        let result = match &mut *backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(conn) => {
                let mut stmt = conn
                    .prepare_cached(sql)
                    .map_err(|e| crate::sqlite::map_error(e, sql))?;
                stmt.execute(rusqlite::params_from_iter(params.iter()))
                    .map(|n| n as u64)
                    .map_err(|e| crate::sqlite::map_error(e, sql))
            }
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => {
                let stmt = pg.statement(sql).map_err(|e| self.note(e))?;
                let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|v| v as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                pg.client()
                    .execute(&stmt, &refs)
                    .map_err(|e| crate::postgres::map_error(e, sql))
            }
        };
        result.map_err(|e| self.note(e))
    }

    /// Runs a query, calling `f` for each row (SQLite steps rows as `f`
    /// takes them; PostgreSQL receives the result in one piece first).
    pub fn query(
        &self,
        sql: &str,
        params: &[Value],
        f: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        self.query_rows(sql, params, usize::MAX, false, f)
    }

    /// Like [`Connection::query`], streaming rows from the server as they
    /// arrive on PostgreSQL too (for results too large to hold at once;
    /// slower per row there).
    pub fn query_stream(
        &self,
        sql: &str,
        params: &[Value],
        f: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        self.query_rows(sql, params, usize::MAX, true, f)
    }

    /// Like [`Connection::query`], reading at most the first row.
    pub fn query_first(
        &self,
        sql: &str,
        params: &[Value],
        f: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        self.query_rows(sql, params, 1, false, f)
    }

    fn query_rows(
        &self,
        sql: &str,
        params: &[Value],
        max: usize,
        stream: bool,
        mut f: impl FnMut(&Row<'_>) -> Result<()>,
    ) -> Result<()> {
        #[cfg(not(feature = "postgres"))]
        let _ = stream;
        let mut backend = self.backend()?;
        let mut seen = 0;
        let result = match &mut *backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(conn) => (|| {
                let map = |e| crate::sqlite::map_error(e, sql);
                let mut stmt = conn.prepare_cached(sql).map_err(map)?;
                let mut rows = stmt
                    .query(rusqlite::params_from_iter(params.iter()))
                    .map_err(map)?;
                while seen < max
                    && let Some(row) = rows.next().map_err(map)?
                {
                    seen += 1;
                    f(&Row::sqlite(row))?;
                }
                Ok(())
            })(),
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => (|| {
                use postgres::fallible_iterator::FallibleIterator;
                let stmt = pg.statement(sql)?;
                let map = |e| crate::postgres::map_error(e, sql);
                if !stream {
                    // One round of the driver's runtime for the whole result:
                    // stepping a row stream costs a runtime turn per row.
                    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                        .iter()
                        .map(|v| v as &(dyn postgres::types::ToSql + Sync))
                        .collect();
                    for row in pg
                        .client()
                        .query(&stmt, &refs)
                        .map_err(map)?
                        .iter()
                        .take(max)
                    {
                        f(&Row::postgres(row))?;
                    }
                    return Ok(());
                }
                let mut rows = pg.client().query_raw(&stmt, params.iter()).map_err(map)?;
                while let Some(row) = rows.next().map_err(map)? {
                    if seen < max {
                        seen += 1;
                        f(&Row::postgres(&row))?;
                    }
                }
                Ok(())
            })(),
        };
        result.map_err(|e| self.note(e))
    }

    /// Runs an INSERT; with `returning_key`, answers the new primary key
    /// (SQLite's `last_insert_rowid()`, PostgreSQL's `RETURNING` column).
    pub(crate) fn insert(
        &self,
        sql: &str,
        params: &[Value],
        returning_key: bool,
    ) -> Result<Option<Value>> {
        match self.dialect {
            #[cfg(feature = "sqlite")]
            Dialect::Sqlite => {
                let mut backend = self.backend()?;
                let result = match &mut *backend {
                    Backend::Sqlite(conn) => conn
                        .prepare_cached(sql)
                        .and_then(|mut stmt| {
                            stmt.execute(rusqlite::params_from_iter(params.iter()))
                        })
                        .map(|_| returning_key.then(|| Value::I64(conn.last_insert_rowid())))
                        .map_err(|e| crate::sqlite::map_error(e, sql)),
                    #[cfg(feature = "postgres")]
                    Backend::Postgres(_) => Err(Error::query(
                        "a SQLite statement reached a PostgreSQL connection",
                    )),
                };
                result.map_err(|e| self.note(e))
            }
            _ => {
                let mut key = None;
                self.query(sql, params, |row| {
                    key = Some(row.value(0)?);
                    Ok(())
                })?;
                Ok(key.filter(|_| returning_key))
            }
        }
    }

    /// Runs one or more statements without parameters (DDL).
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        let mut backend = self.backend()?;
        let result = match &mut *backend {
            #[cfg(feature = "sqlite")]
            Backend::Sqlite(conn) => conn
                .execute_batch(sql)
                .map_err(|e| crate::sqlite::map_error(e, sql)),
            #[cfg(feature = "postgres")]
            Backend::Postgres(pg) => pg
                .client()
                .batch_execute(sql)
                .map_err(|e| crate::postgres::map_error(e, sql)),
        };
        result.map_err(|e| self.note(e))
    }

    /// Whether the connection is known to be unusable.
    pub fn is_broken(&self) -> bool {
        if self.broken.get() {
            return true;
        }
        match self.backend.try_borrow() {
            #[cfg(feature = "postgres")]
            Ok(backend) if matches!(&*backend, Backend::Postgres(_)) => match &*backend {
                Backend::Postgres(pg) => pg.is_closed(),
                #[cfg(feature = "sqlite")]
                Backend::Sqlite(_) => false,
            },
            _ => false,
        }
    }

    /// Whether a transaction is open on this connection.
    pub fn in_transaction(&self) -> bool {
        self.depth.get() > 0
    }

    /// Runs `f` in a transaction: committed when `f` returns `Ok`, rolled
    /// back when it returns `Err` or panics (the panic then continues).
    /// Nested calls use savepoints, so an inner failure undoes only the
    /// inner block.
    pub fn atomic<R, E: From<Error>>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, E>,
    ) -> Result<R, E> {
        let depth = self.depth.get();
        let (begin, commit, rollback) = if depth == 0 {
            (
                self.dialect.begin().to_owned(),
                "COMMIT".to_owned(),
                "ROLLBACK".to_owned(),
            )
        } else {
            let name = format!("tack_sp_{depth}");
            (
                format!("SAVEPOINT {name}"),
                format!("RELEASE SAVEPOINT {name}"),
                format!("ROLLBACK TO SAVEPOINT {name}; RELEASE SAVEPOINT {name}"),
            )
        };
        self.execute_batch(&begin)?;
        self.depth.set(depth + 1);
        let outcome = catch_unwind(AssertUnwindSafe(|| f(self)));
        self.depth.set(depth);
        match outcome {
            Ok(Ok(value)) => match self.execute_batch(&commit) {
                Ok(()) => Ok(value),
                Err(error) => {
                    let _ = self.execute_batch(&rollback);
                    Err(error.into())
                }
            },
            Ok(Err(error)) => {
                self.execute_batch(&rollback)?;
                Err(error)
            }
            Err(panic) => {
                if self.execute_batch(&rollback).is_err() {
                    self.broken.set(true);
                }
                resume_unwind(panic)
            }
        }
    }
}

fn is_sqlite_memory(url: &str) -> bool {
    matches!(
        url,
        "sqlite::memory:" | "sqlite://:memory:" | "sqlite:" | "sqlite://"
    )
}

fn open_backend(url: &str) -> Result<(Dialect, Backend)> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        #[cfg(feature = "sqlite")]
        {
            let path = if path == ":memory:" || path.is_empty() {
                ":memory:"
            } else {
                path
            };
            return Ok((Dialect::Sqlite, Backend::Sqlite(crate::sqlite::open(path)?)));
        }
        #[cfg(not(feature = "sqlite"))]
        {
            let _ = path;
            return Err(Error::InvalidUrl {
                url: url.to_owned(),
                reason: "built without the `sqlite` feature".into(),
            });
        }
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        #[cfg(feature = "postgres")]
        {
            return Ok((
                Dialect::Postgres,
                Backend::Postgres(Box::new(crate::postgres::PgConn::connect(url)?)),
            ));
        }
        #[cfg(not(feature = "postgres"))]
        {
            return Err(Error::InvalidUrl {
                url: url.to_owned(),
                reason: "built without the `postgres` feature".into(),
            });
        }
    }
    Err(Error::InvalidUrl {
        url: url.split('@').next_back().unwrap_or_default().to_owned(),
        reason: "use sqlite://PATH or postgres://USER@HOST:PORT/DB".into(),
    })
}

struct PoolState {
    idle: Vec<Connection>,
    open: usize,
}

struct Pool {
    url: String,
    dialect: Dialect,
    max: usize,
    timeout: Duration,
    state: Mutex<PoolState>,
    freed: Condvar,
    counter: Arc<AtomicU64>,
}

/// How a [`Database`]'s pool behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolOptions {
    /// The most connections open at once (default 8).
    pub max_connections: usize,
    /// How long `connection()` waits for a free connection before
    /// answering [`Error::Busy`] (default 30 s).
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            max_connections: 8,
            acquire_timeout: Duration::from_secs(30),
        }
    }
}

impl PoolOptions {
    /// Sets the most connections open at once.
    pub fn with_max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Sets how long to wait for a free connection.
    pub fn with_acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }
}

/// A database: a URL and a small pool of connections to it. Cheap to clone
/// (clones share the pool).
///
/// The pool is our own (a mutex, a condition variable and a vector): the
/// drivers are synchronous, so a blocking pool of a few dozen lines does the
/// whole job, with no runtime and no extra dependency. Connections that broke
/// are dropped instead of returned, and a new one is opened on demand.
#[derive(Clone)]
pub struct Database {
    pool: Arc<Pool>,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("dialect", &self.pool.dialect)
            .field("max", &self.pool.max)
            .finish()
    }
}

impl Database {
    /// Connects to `sqlite://PATH` or `postgres://USER@HOST:PORT/DB` with a
    /// pool of up to 8 connections; one connection is opened now, so a bad
    /// URL fails here.
    pub fn connect(url: &str) -> Result<Database> {
        Database::with_pool_size(url, 8)
    }

    /// Like [`Database::connect`], with at most `max` pooled connections.
    pub fn with_pool_size(url: &str, max: usize) -> Result<Database> {
        Database::connect_with(url, PoolOptions::default().with_max_connections(max))
    }

    /// Like [`Database::connect`], with pool options.
    pub fn connect_with(url: &str, options: PoolOptions) -> Result<Database> {
        let counter = Arc::new(AtomicU64::new(0));
        let first = Connection::open_counted(url, counter.clone())?;
        let pool = Pool {
            url: url.to_owned(),
            dialect: first.dialect,
            // Each connection to `:memory:` is a database of its own: share one.
            max: if is_sqlite_memory(url) {
                1
            } else {
                options.max_connections.max(1)
            },
            timeout: options.acquire_timeout,
            state: Mutex::new(PoolState {
                idle: vec![first],
                open: 1,
            }),
            freed: Condvar::new(),
            counter,
        };
        Ok(Database {
            pool: Arc::new(pool),
        })
    }

    /// How many statements have run through this database's connections
    /// (to check that a page costs the queries it should).
    pub fn queries_run(&self) -> u64 {
        self.pool.counter.load(Ordering::Relaxed)
    }

    /// The dialect.
    pub fn dialect(&self) -> Dialect {
        self.pool.dialect
    }

    /// Takes a connection from the pool (opening one if none is idle and the
    /// pool is not full), waiting up to the acquire timeout for one to be
    /// returned. Broken connections are dropped and replaced.
    pub fn connection(&self) -> Result<PooledConnection> {
        let pool = &self.pool;
        let mut state = pool.state.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            while let Some(conn) = state.idle.pop() {
                if conn.is_broken() {
                    state.open -= 1;
                    continue;
                }
                return Ok(PooledConnection {
                    conn: Some(conn),
                    pool: self.pool.clone(),
                });
            }
            if state.open < pool.max {
                state.open += 1;
                drop(state);
                return match Connection::open_counted(&pool.url, pool.counter.clone()) {
                    Ok(conn) => Ok(PooledConnection {
                        conn: Some(conn),
                        pool: self.pool.clone(),
                    }),
                    Err(error) => {
                        let mut state = pool.state.lock().unwrap_or_else(|p| p.into_inner());
                        state.open -= 1;
                        pool.freed.notify_one();
                        Err(error)
                    }
                };
            }
            let (next, timeout) = pool
                .freed
                .wait_timeout(state, pool.timeout)
                .unwrap_or_else(|p| p.into_inner());
            state = next;
            if timeout.timed_out() && state.idle.is_empty() && state.open >= pool.max {
                return Err(Error::Busy {
                    message: format!("no pooled connection became free within {:?}", pool.timeout),
                });
            }
        }
    }

    /// Runs `f` in a transaction on one pooled connection; see
    /// [`Connection::atomic`].
    pub fn atomic<R, E: From<Error>>(
        &self,
        f: impl FnOnce(&Connection) -> Result<R, E>,
    ) -> Result<R, E> {
        let conn = self.connection()?;
        conn.atomic(f)
    }
}

impl Executor for Database {
    fn with_connection<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        let conn = self.connection()?;
        f(&conn)
    }

    fn dialect(&self) -> Dialect {
        self.pool.dialect
    }
}

/// A connection borrowed from a [`Database`]'s pool, returned on drop.
pub struct PooledConnection {
    conn: Option<Connection>,
    pool: Arc<Pool>,
}

impl std::fmt::Debug for PooledConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PooledConnection").finish()
    }
}

impl Deref for PooledConnection {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        // Invariant: `conn` is only taken in `drop`.
        self.conn
            .as_ref()
            .expect("a pooled connection is present until dropped")
    }
}

impl Executor for PooledConnection {
    fn with_connection<R>(&self, f: impl FnOnce(&Connection) -> Result<R>) -> Result<R> {
        f(self)
    }

    fn dialect(&self) -> Dialect {
        self.pool.dialect
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else { return };
        let mut state = self.pool.state.lock().unwrap_or_else(|p| p.into_inner());
        if conn.is_broken() || conn.in_transaction() {
            state.open -= 1;
        } else {
            state.idle.push(conn);
        }
        self.pool.freed.notify_one();
    }
}
