//! The login throttle in the `auth_throttle` table, shared by every process
//! on the database.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tack_orm::{AsyncDatabase, Connection, Dialect, Value};

use crate::Error;
use crate::backend::BackendFuture;
use crate::throttle::Limits;
use crate::throttle::{
    AllLimits, Clock, Entry, LoginThrottle, ThrottleKey, counted, succeeded, wait,
};

/// The PostgreSQL advisory lock key reservations take ("tackthr").
const LOCK_KEY: i64 = 0x0074_6163_6b74_6872;

/// Counts sign-in failures in the `auth_throttle` table (tack-auth's
/// migration `0002_throttle` makes it), so that every process behind a load
/// balancer sees the same counts and locks. The same rules as
/// [`MemoryThrottle`](crate::MemoryThrottle); a reservation reads, checks and
/// counts in one transaction that PostgreSQL serialises with an advisory
/// lock (SQLite's writers are serialised already), and entries older than
/// the longest window are deleted as it goes.
#[derive(Clone)]
pub struct DbThrottle {
    db: AsyncDatabase,
    limits: AllLimits,
    clock: Clock,
}

impl std::fmt::Debug for DbThrottle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DbThrottle")
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl DbThrottle {
    /// A throttle on `db` with the default [`Limits`].
    pub fn new(db: AsyncDatabase) -> Self {
        DbThrottle {
            db,
            limits: AllLimits::DEFAULT,
            clock: Arc::new(SystemTime::now),
        }
    }

    crate::throttle::throttle_builders!();

    /// Runs `step` on the keys of one attempt (with their stored entries)
    /// in one locked transaction.
    async fn locked<R: Send + 'static>(
        &self,
        username: &str,
        address: Option<IpAddr>,
        step: impl FnOnce(&Connection, Vec<Row>, SystemTime) -> tack_orm::Result<R> + Send + 'static,
    ) -> Result<R, Error> {
        let keys = self.limits.keys(username, address);
        let now = (self.clock)();
        let longest = self.limits.longest();
        let outcome = self
            .db
            .run(move |db| {
                db.atomic(|tx| {
                    if tx.dialect() == Dialect::Postgres {
                        tx.query(
                            &format!(
                                "SELECT 1 FROM (SELECT pg_advisory_xact_lock({LOCK_KEY})) AS l"
                            ),
                            &[],
                            |_| Ok(()),
                        )?;
                    }
                    let stale = micros(now.checked_sub(longest).unwrap_or(UNIX_EPOCH));
                    let mut sql = "DELETE FROM auth_throttle WHERE last_failure < ".to_owned();
                    tx.dialect().placeholder_into(&mut sql, 1);
                    sql.push_str(" AND (locked_until IS NULL OR locked_until < ");
                    tx.dialect().placeholder_into(&mut sql, 2);
                    sql.push(')');
                    tx.execute(&sql, &[Value::I64(stale), Value::I64(micros(now))])?;
                    let mut rows = Vec::with_capacity(keys.len());
                    for (key, limits) in keys {
                        let column = column_key(&key);
                        let entry = read(tx, &column)?;
                        rows.push(Row {
                            key,
                            column,
                            limits,
                            entry,
                        });
                    }
                    step(tx, rows, now)
                })
            })
            .await?;
        Ok(outcome)
    }
}

impl LoginThrottle for DbThrottle {
    fn reserve<'a>(
        &'a self,
        username: &'a str,
        address: Option<IpAddr>,
    ) -> BackendFuture<'a, Option<Duration>> {
        Box::pin(self.locked(username, address, |tx, rows, now| {
            let mut longest_wait = None;
            let mut kept = Vec::with_capacity(rows.len());
            for row in &rows {
                let (left, keep) = wait(row.entry, &row.limits, now);
                if keep.is_none() && row.entry.is_some() {
                    write(tx, &row.column, None)?;
                }
                longest_wait = longest_wait.max(left);
                kept.push(keep);
            }
            if longest_wait.is_some() {
                return Ok(longest_wait);
            }
            for (row, keep) in rows.iter().zip(kept) {
                write(tx, &row.column, Some(counted(keep, &row.limits, now)))?;
            }
            Ok(None)
        }))
    }

    fn record_success<'a>(
        &'a self,
        username: &'a str,
        address: Option<IpAddr>,
    ) -> BackendFuture<'a, ()> {
        Box::pin(self.locked(username, address, |tx, rows, _| {
            for row in rows {
                write(tx, &row.column, succeeded(&row.key, row.entry, &row.limits))?;
            }
            Ok(())
        }))
    }
}

/// One key of an attempt, as stored.
struct Row {
    key: ThrottleKey,
    column: String,
    limits: Limits,
    entry: Option<Entry>,
}

/// The table's text for a key.
fn column_key(key: &ThrottleKey) -> String {
    match key {
        ThrottleKey::Username(username) => format!("u:{username}"),
        ThrottleKey::Pair(username, address) => format!("p:{address}|{username}"),
        ThrottleKey::Address(address) => format!("a:{address}"),
    }
}

fn micros(time: SystemTime) -> i64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

fn time(micros: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_micros(u64::try_from(micros).unwrap_or_default())
}

fn read(tx: &Connection, key: &str) -> tack_orm::Result<Option<Entry>> {
    let mut sql =
        "SELECT failures, last_failure, locked_until FROM auth_throttle WHERE key = ".to_owned();
    tx.dialect().placeholder_into(&mut sql, 1);
    let mut entry = None;
    tx.query(&sql, &[Value::Text(key.to_owned())], |row| {
        entry = Some(Entry {
            failures: u32::try_from(row.get::<i64>(0)?).unwrap_or(u32::MAX),
            last_failure: time(row.get::<i64>(1)?),
            locked_until: row.get::<Option<i64>>(2)?.map(time),
        });
        Ok(())
    })?;
    Ok(entry)
}

/// Stores `entry` for `key`, or deletes the key's row.
fn write(tx: &Connection, key: &str, entry: Option<Entry>) -> tack_orm::Result<()> {
    let d = tx.dialect();
    let mut delete = "DELETE FROM auth_throttle WHERE key = ".to_owned();
    d.placeholder_into(&mut delete, 1);
    tx.execute(&delete, &[Value::Text(key.to_owned())])?;
    let Some(entry) = entry else {
        return Ok(());
    };
    let mut insert =
        "INSERT INTO auth_throttle (key, failures, last_failure, locked_until) VALUES (".to_owned();
    for i in 1..=4 {
        d.placeholder_into(&mut insert, i);
        insert.push_str(if i < 4 { ", " } else { ")" });
    }
    let locked = entry
        .locked_until
        .map_or(Value::Null, |until| Value::I64(micros(until)));
    tx.execute(
        &insert,
        &[
            Value::Text(key.to_owned()),
            Value::I64(i64::from(entry.failures)),
            Value::I64(micros(entry.last_failure)),
            locked,
        ],
    )?;
    Ok(())
}
