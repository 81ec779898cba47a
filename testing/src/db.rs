//! Temporary databases for tests: a SQLite file always, a PostgreSQL schema
//! when `TACK_TEST_POSTGRES` names a server; the Redis server named by
//! `TACK_TEST_REDIS`.

use std::path::{Path, PathBuf};

/// The environment variable naming the PostgreSQL server tests may use.
pub const POSTGRES_ENV: &str = "TACK_TEST_POSTGRES";

/// A SQLite database file in a fresh temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempSqlite {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl TempSqlite {
    /// The database file's path (the file itself is not created).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file as a `sqlite://PATH` URL.
    pub fn url(&self) -> String {
        format!("sqlite://{}", self.path.display())
    }
}

/// A fresh temporary SQLite file path.
pub fn sqlite() -> TempSqlite {
    let dir = tempfile::tempdir().expect("a temporary directory for the test database");
    let path = dir.path().join("test.sqlite3");
    TempSqlite { _dir: dir, path }
}

/// The PostgreSQL URL from `TACK_TEST_POSTGRES`, or `None` after printing
/// that `test` is skipped. Under `CI=true` a missing URL fails the test
/// instead: CI must not pass by skipping.
pub fn postgres_url(test: &str) -> Option<String> {
    server_url(POSTGRES_ENV, "PostgreSQL", test)
}

/// The environment variable naming the Redis server tests may use.
pub const REDIS_ENV: &str = "TACK_TEST_REDIS";

/// The Redis URL from `TACK_TEST_REDIS`, or `None` after printing that
/// `test` is skipped (a failure under `CI=true`, as [`postgres_url`]).
pub fn redis_url(test: &str) -> Option<String> {
    server_url(REDIS_ENV, "Redis", test)
}

fn server_url(variable: &str, server: &str, test: &str) -> Option<String> {
    match std::env::var(variable) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{test} needs {server}: set {variable} (CI=true, so it cannot be skipped)"
            );
            println!("skipping {test} on {server}: {variable} is unset");
            None
        }
    }
}

#[cfg(feature = "postgres")]
pub use pg::{PgSchema, postgres};

#[cfg(feature = "postgres")]
mod pg {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::postgres_url;

    /// A schema of its own on the test server, dropped (with everything in
    /// it) when this value is dropped.
    ///
    /// [`PgSchema::url`] sets the connection's `search_path` to the schema,
    /// so code under test needs no schema name: tests run in parallel
    /// without seeing each other's tables.
    #[derive(Debug)]
    pub struct PgSchema {
        server: String,
        schema: String,
        url: String,
    }

    impl PgSchema {
        /// A URL whose connections use this schema.
        pub fn url(&self) -> &str {
            &self.url
        }

        /// The schema's name.
        pub fn schema(&self) -> &str {
            &self.schema
        }

        /// The server's URL as given in `TACK_TEST_POSTGRES`.
        pub fn server_url(&self) -> &str {
            &self.server
        }
    }

    /// Runs `f` on a plain thread: the synchronous `postgres` client starts a
    /// runtime of its own, which panics on an async runtime's worker thread.
    fn off_runtime<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::spawn(f)
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }

    fn execute(server: String, sql: String) -> Result<(), postgres::Error> {
        off_runtime(move || {
            let mut client = postgres::Client::connect(&server, postgres::NoTls)?;
            client.batch_execute(&sql)
        })
    }

    /// A fresh schema for `test`, or `None` (after printing why) when
    /// `TACK_TEST_POSTGRES` is unset. Panics when the variable is set but the
    /// server cannot be reached: CI must not pass by skipping.
    pub fn postgres(test: &str) -> Option<PgSchema> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let server = postgres_url(test)?;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let schema = format!(
            "tack_test_{}_{}_{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        if let Err(error) = execute(server.clone(), format!("CREATE SCHEMA \"{schema}\"")) {
            panic!("{test}: cannot create a schema on {server} (TACK_TEST_POSTGRES): {error}");
        }
        let separator = if server.contains('?') { '&' } else { '?' };
        let url = format!("{server}{separator}options=-c%20search_path%3D{schema}");
        Some(PgSchema {
            server,
            schema,
            url,
        })
    }

    impl Drop for PgSchema {
        fn drop(&mut self) {
            let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema);
            if let Err(error) = execute(self.server.clone(), sql) {
                eprintln!("could not drop test schema {}: {error}", self.schema);
            }
        }
    }
}

/// Defines each listed test twice: `sqlite::NAME` on a fresh temporary SQLite
/// file and `postgres::NAME` on a fresh schema (feature `postgres`; skipped
/// with a printed line when `TACK_TEST_POSTGRES` is unset).
///
/// Both call `OPEN(url, super::NAME)`, where `OPEN` is an absolute path to the
/// test crate's own function that opens the database at `url`, prepares it
/// (tables, fixtures) and runs the test function on it. So this crate knows
/// URLs only, never an ORM. The database is removed when the test returns.
///
/// ```ignore
/// // tests/common/mod.rs
/// pub fn run_on(url: &str, test: fn(&tack_orm::Database)) {
///     let db = tack_orm::Database::connect(url).unwrap();
///     db.create_tables(&all_models()).unwrap();
///     test(&db);
/// }
///
/// // tests/queries.rs
/// fn filters_by_status(db: &tack_orm::Database) { /* ... */ }
/// tack_test::on_both_databases!(crate::common::run_on; filters_by_status);
/// ```
#[cfg(feature = "postgres")]
#[macro_export]
macro_rules! on_both_databases {
    ($open:path; $($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    let file = $crate::db::sqlite();
                    $open(&file.url(), super::$name);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    let test = ::std::format!("{}::{}", ::std::module_path!(), ::std::stringify!($name));
                    let Some(schema) = $crate::db::postgres(&test) else { return };
                    $open(schema.url(), super::$name);
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    #[test]
    fn sqlite_files_are_apart() {
        let a = super::sqlite();
        let b = super::sqlite();
        assert_ne!(a.path(), b.path());
        assert!(a.url().starts_with("sqlite://"));
        assert!(a.path().parent().unwrap().exists());
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn postgres_schema_isolates_tables() {
        let Some(schema) = super::postgres("postgres_schema_isolates_tables") else {
            return;
        };
        let mut client = postgres::Client::connect(schema.url(), postgres::NoTls).unwrap();
        client.batch_execute("CREATE TABLE t (id int)").unwrap();
        let row = client
            .query_one("SELECT table_schema FROM information_schema.tables WHERE table_name = 't' AND table_schema = current_schema()", &[])
            .unwrap();
        let found: String = row.get(0);
        assert_eq!(found, schema.schema());
    }

    /// The macro's two tests, each checking the URL it was given.
    #[cfg(feature = "postgres")]
    mod both {
        pub fn open(url: &str, test: fn(&str)) {
            test(url);
        }

        fn gets_its_own_database(url: &str) {
            let sqlite = url.starts_with("sqlite://") && url.ends_with("test.sqlite3");
            assert!(sqlite || url.contains("search_path%3Dtack_test_"), "{url}");
        }

        crate::on_both_databases!(crate::db::tests::both::open; gets_its_own_database);
    }
}
