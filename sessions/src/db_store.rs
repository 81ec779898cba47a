//! Sessions in a database table, through tack-orm (feature `orm`).

use std::time::SystemTime;

use tack_orm::{AsyncDatabase, Database, Dialect, Executor, Value};

use crate::Error;
use crate::store::{Record, SessionId, SessionStore, StoreFuture, unix_secs};

/// The default table, as Django names it.
const DEFAULT_TABLE: &str = "tack_session";

/// A row of the session table, as a model: list [`models`] with the
/// project's models so that `checkmigrations` and `makemigrations` know the
/// table [`MIGRATIONS`] makes. The store itself reads and writes the table
/// with its own statements.
#[derive(Clone, Debug, tack_orm::Model)]
#[tack(
    app = "sessions",
    table = "tack_session",
    index(fields = "expires_at", name = "tack_session_expires_at")
)]
pub struct StoredSession {
    /// The session's id.
    #[tack(primary_key, max_length = 64)]
    pub session_key: String,
    /// The session's values, as JSON.
    pub session_data: String,
    /// When it expires, in seconds since the Unix epoch.
    pub expires_at: i64,
}

/// The session table's model (for `migrations::check` beside the
/// project's models).
pub fn models() -> Vec<&'static tack_orm::ModelMeta> {
    vec![<StoredSession as tack_orm::Model>::meta()]
}

/// The migration that makes the session table (`tack_session`, the default
/// [`DbStore`] table), under the app label `sessions`: add it to a
/// project's set with `Migrations::with(tack_sessions::MIGRATIONS)` instead
/// of calling [`DbStore::create_table`] at start-up. A store
/// [`with_table`](DbStore::with_table) makes its own table with
/// `create_table`.
pub const MIGRATIONS: tack_orm::migrations::AppMigrations = tack_orm::migrations::AppMigrations {
    app: "sessions",
    files: tack_orm::migrations::embed_migrations!("migrations"),
};

/// Keeps sessions in a table (`tack_session` by default) on SQLite or
/// PostgreSQL: one row per session with its key, its data as JSON text and
/// its expiry in Unix seconds. Queries run on the ORM's worker threads
/// ([`AsyncDatabase`]), so the executor never blocks.
///
/// Create the table once at startup with [`DbStore::create_table`] (or add
/// [`DbStore::create_table_sql`] to your migrations), and call
/// [`SessionStore::clear_expired`] from a periodic job.
#[derive(Clone, Debug)]
pub struct DbStore {
    db: AsyncDatabase,
    table: String,
}

impl DbStore {
    /// A store on this database, in the table `tack_session`.
    pub fn new(db: AsyncDatabase) -> Self {
        DbStore {
            db,
            table: DEFAULT_TABLE.to_owned(),
        }
    }

    /// Uses another table name.
    pub fn with_table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// The `CREATE TABLE IF NOT EXISTS` statements for the table and its
    /// expiry index, in the database's dialect.
    pub fn create_table_sql(&self, dialect: Dialect) -> String {
        let table = dialect.quote(&self.table);
        let index = dialect.quote(&format!("{}_expires_at", self.table));
        format!(
            "CREATE TABLE IF NOT EXISTS {table} (\
             session_key VARCHAR(64) NOT NULL PRIMARY KEY, \
             session_data TEXT NOT NULL, \
             expires_at BIGINT NOT NULL);\n\
             CREATE INDEX IF NOT EXISTS {index} ON {table} (expires_at);"
        )
    }

    /// Creates the table if it does not exist (blocking: call it at startup).
    pub fn create_table(&self) -> Result<(), Error> {
        let db: &Database = self.db.database();
        let sql = self.create_table_sql(db.dialect());
        db.with_connection(|conn| conn.execute_batch(&sql))
            .map_err(|e| Error::store("create the session table", e))
    }

    /// `SELECT`/`DELETE`/... text with `{t}` for the quoted table and `{1}`,
    /// `{2}`, `{3}` for placeholders, in the database's dialect.
    fn sql(&self, template: &str) -> String {
        let dialect = self.db.database().dialect();
        let mut out = String::with_capacity(template.len() + 16);
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let end = start + rest[start..].find('}').unwrap_or(0);
            match &rest[start + 1..end] {
                "t" => dialect.quote_into(&mut out, &self.table),
                n => dialect.placeholder_into(&mut out, n.parse().unwrap_or(1)),
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        out
    }
}

fn secs(at: SystemTime) -> i64 {
    i64::try_from(unix_secs(at)).unwrap_or(i64::MAX)
}

impl DbStore {
    /// Runs `sql` with the record's key, data and expiry as `{1}`, `{2}`
    /// and `{3}`; answers the rows changed.
    async fn write(
        &self,
        action: &'static str,
        sql: String,
        record: &Record,
    ) -> Result<u64, Error> {
        let data = serde_json::to_string(&record.data).map_err(|source| Error::Json {
            key: "session data".to_owned(),
            source,
        })?;
        let params = [
            Value::Text(record.id.as_str().to_owned()),
            Value::Text(data),
            Value::I64(i64::try_from(record.expires_at).unwrap_or(i64::MAX)),
        ];
        self.db
            .run(move |db| db.with_connection(|conn| conn.execute(&sql, &params)))
            .await
            .map_err(|e| Error::store(action, e))
    }
}

impl SessionStore for DbStore {
    fn load<'a>(&'a self, cookie_value: &'a str) -> StoreFuture<'a, Option<Record>> {
        Box::pin(async move {
            // Junk never reaches the database.
            if !SessionId::is_well_formed(cookie_value) {
                return Ok(None);
            }
            let sql = self.sql(
                "SELECT session_data, expires_at FROM {t} WHERE session_key = {1} AND expires_at > {2}",
            );
            let key = cookie_value.to_owned();
            let now = secs(SystemTime::now());
            let row = self
                .db
                .run(move |db| {
                    let mut found = None;
                    db.with_connection(|conn| {
                        conn.query(&sql, &[Value::Text(key), Value::I64(now)], |row| {
                            found = Some((row.get::<String>(0)?, row.get::<i64>(1)?));
                            Ok(())
                        })
                    })?;
                    Ok(found)
                })
                .await
                .map_err(|e| Error::store("load", e))?;
            let Some((data, expires_at)) = row else {
                return Ok(None);
            };
            // A row whose data is not a JSON object was not written by
            // this store: treat it as no session.
            let Ok(data) = serde_json::from_str(&data) else {
                return Ok(None);
            };
            Ok(Some(Record {
                id: SessionId::from_stored(cookie_value),
                data,
                expires_at: u64::try_from(expires_at).unwrap_or(0),
            }))
        })
    }

    fn save<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, String> {
        Box::pin(async move {
            let sql = self.sql(
                "INSERT INTO {t} (session_key, session_data, expires_at) VALUES ({1}, {2}, {3}) \
                 ON CONFLICT (session_key) DO UPDATE SET \
                 session_data = excluded.session_data, expires_at = excluded.expires_at",
            );
            self.write("save", sql, record).await?;
            Ok(record.id.as_str().to_owned())
        })
    }

    fn update<'a>(&'a self, record: &'a Record) -> StoreFuture<'a, Option<String>> {
        Box::pin(async move {
            // Only a row that is still there: a concurrent logout deleted it.
            let sql = self
                .sql("UPDATE {t} SET session_data = {2}, expires_at = {3} WHERE session_key = {1}");
            let changed = self.write("update", sql, record).await?;
            Ok((changed > 0).then(|| record.id.as_str().to_owned()))
        })
    }

    fn delete<'a>(&'a self, cookie_value: &'a str) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            if !SessionId::is_well_formed(cookie_value) {
                return Ok(());
            }
            let sql = self.sql("DELETE FROM {t} WHERE session_key = {1}");
            let key = cookie_value.to_owned();
            self.db
                .run(move |db| db.with_connection(|conn| conn.execute(&sql, &[Value::Text(key)])))
                .await
                .map_err(|e| Error::store("delete", e))?;
            Ok(())
        })
    }

    fn clear_expired(&self) -> StoreFuture<'_, usize> {
        Box::pin(async move {
            let sql = self.sql("DELETE FROM {t} WHERE expires_at <= {1}");
            let now = secs(SystemTime::now());
            let removed = self
                .db
                .run(move |db| db.with_connection(|conn| conn.execute(&sql, &[Value::I64(now)])))
                .await
                .map_err(|e| Error::store("clear expired", e))?;
            Ok(usize::try_from(removed).unwrap_or(usize::MAX))
        })
    }
}
