//! A channel layer on PostgreSQL LISTEN/NOTIFY: broadcasts reach every app
//! server connected to the same database.
//!
//! The synchronous `postgres` client runs on two threads of the layer's own
//! (one publishes, one listens), never on the caller's: it cannot run on an
//! async runtime's worker thread, and a publish must not block a handler.
//!
//! A NOTIFY payload holds less than 8000 bytes. A bigger broadcast is
//! stored in the table [`PAYLOAD_TABLE`] (created on first use, under an
//! advisory lock so that servers starting together do not race) and its
//! row id is notified in the same transaction; listeners read the row.
//! Rows older than [`PAYLOAD_TTL_SECONDS`] are deleted by later large
//! broadcasts.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};

use crate::Error;
use crate::remote::{Link, Listening, Remote};
use crate::wire::{self, Received};

/// PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
const PAYLOAD_LIMIT: usize = 7999;

/// The table holding broadcasts too big for a NOTIFY payload.
pub const PAYLOAD_TABLE: &str = "tack_ws_payload";

/// How long a stored broadcast is kept for the listeners to read.
pub const PAYLOAD_TTL_SECONDS: u32 = 300;

/// The advisory lock key taken while the payload table is created.
const TABLE_LOCK: i64 = 0x0074_6163_6b5f_7773; // "tack_ws"

/// The PostgreSQL LISTEN/NOTIFY channel layer. Clones share the layer.
///
/// Every instance (one per app server) connected to the same database and
/// `channel` sees every broadcast, of any size: one over the NOTIFY limit
/// travels through the table [`PAYLOAD_TABLE`] (so the database user needs
/// the right to create it, or it must exist). Publishing queues the NOTIFY
/// for the layer's thread and returns at once; a lost database connection
/// is reconnected by both threads, with the error logged.
#[derive(Clone)]
pub struct PostgresLayer {
    inner: Arc<Remote>,
}

impl PostgresLayer {
    /// Connects to `url` and listens on `channel` (a name of at most 63
    /// bytes shared by all app servers, such as `"tack_ws"`). Returns once
    /// the listener is ready, so broadcasts made afterwards are seen.
    pub fn connect(url: &str, channel: &str) -> Result<Self, Error> {
        if channel.is_empty() || channel.len() > 63 || channel.contains('\0') {
            return Err(Error::InvalidName {
                name: channel.to_owned(),
                reason: "a PostgreSQL channel name has 1 to 63 bytes and no NUL",
            });
        }
        let listen = {
            let (url, channel) = (url.to_owned(), channel.to_owned());
            move |listening| {
                Listener {
                    url,
                    channel,
                    listening,
                }
                .run()
            }
        };
        let notify = Notify {
            url: url.to_owned(),
            channel: channel.to_owned(),
            table_ready: false,
        };
        let names = ("tack-ws-pg-listen", "tack-ws-pg-notify");
        let inner = Remote::start(names, url, channel, listen, notify)?;
        Ok(PostgresLayer {
            inner: Arc::new(inner),
        })
    }
}

crate::remote::remote_layer!(PostgresLayer);

fn quote(channel: &str) -> String {
    format!("\"{}\"", channel.replace('"', "\"\""))
}

/// Creates [`PAYLOAD_TABLE`] if it is missing, under an advisory lock: two
/// servers doing it at once would otherwise race on the catalog.
fn create_payload_table(client: &mut Client) -> Result<(), postgres::Error> {
    let mut transaction = client.transaction()?;
    transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&TABLE_LOCK])?;
    transaction.batch_execute(&format!(
        "CREATE TABLE IF NOT EXISTS {PAYLOAD_TABLE} (
             id BIGSERIAL PRIMARY KEY,
             channel TEXT NOT NULL,
             payload TEXT NOT NULL,
             created_at TIMESTAMPTZ NOT NULL DEFAULT now()
         )"
    ))?;
    transaction.commit()
}

/// Sends one broadcast: in the NOTIFY payload when it fits, otherwise
/// stored and notified by id in one transaction (listeners are woken only
/// once the row is committed).
fn notify(client: &mut Client, channel: &str, payload: &str) -> Result<(), postgres::Error> {
    if payload.len() <= PAYLOAD_LIMIT {
        return client
            .execute("SELECT pg_notify($1, $2)", &[&channel, &payload])
            .map(drop);
    }
    let mut transaction = client.transaction()?;
    let id: i64 = transaction
        .query_one(
            &format!("INSERT INTO {PAYLOAD_TABLE} (channel, payload) VALUES ($1, $2) RETURNING id"),
            &[&channel, &payload],
        )?
        .get(0);
    let reference = wire::encode_stored(id);
    transaction.execute("SELECT pg_notify($1, $2)", &[&channel, &reference])?;
    transaction.execute(
        &format!(
            "DELETE FROM {PAYLOAD_TABLE} WHERE created_at < now() - interval '{PAYLOAD_TTL_SECONDS} seconds'"
        ),
        &[],
    )?;
    transaction.commit()
}

/// The publishing connection: one NOTIFY per broadcast.
struct Notify {
    url: String,
    channel: String,
    /// Whether [`PAYLOAD_TABLE`] is known to exist.
    table_ready: bool,
}

impl Link for Notify {
    type Connection = Client;
    type Error = postgres::Error;

    fn connect(&mut self) -> Result<Client, postgres::Error> {
        Client::connect(&self.url, NoTls)
    }

    fn send(&mut self, client: &mut Client, payload: &str) -> Result<(), postgres::Error> {
        if payload.len() > PAYLOAD_LIMIT && !self.table_ready {
            create_payload_table(client)?;
            self.table_ready = true;
        }
        notify(client, &self.channel, payload)
    }
}

struct Listener {
    url: String,
    channel: String,
    listening: Listening<postgres::Error>,
}

impl Listener {
    fn connect(&self) -> Result<Client, postgres::Error> {
        let mut client = Client::connect(&self.url, NoTls)?;
        client.batch_execute(&format!("LISTEN {}", quote(&self.channel)))?;
        Ok(client)
    }

    fn run(self) {
        let ready = &self.listening.ready;
        let mut client = match self.connect() {
            Ok(client) => {
                let _ = ready.send(Ok(()));
                client
            }
            Err(error) => {
                let _ = ready.send(Err(error));
                return;
            }
        };
        // A second connection reads stored broadcasts: the first is busy
        // listening. Opened on the first large broadcast.
        let mut reader: Option<Client> = None;
        while !self.listening.stop.load(Ordering::SeqCst) {
            let failure = {
                let mut notifications = client.notifications();
                let mut iter = notifications.timeout_iter(Duration::from_millis(250));
                loop {
                    match iter.next() {
                        Ok(Some(notification)) => self.deliver(notification.payload(), &mut reader),
                        Ok(None) => break None,
                        Err(error) => break Some(error),
                    }
                }
            };
            if let Some(error) = failure {
                tracing::error!(channel = %self.channel, "tack-ws: the channel layer lost its listener: {error}");
                client = loop {
                    if self.listening.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    std::thread::sleep(Duration::from_secs(1));
                    match self.connect() {
                        Ok(client) => break client,
                        Err(error) => {
                            tracing::error!("tack-ws: reconnecting the channel layer: {error}")
                        }
                    }
                };
            }
        }
    }

    /// Reads the stored envelope `id`, connecting `reader` if needed.
    fn fetch(&self, id: i64, reader: &mut Option<Client>) -> Result<String, postgres::Error> {
        let mut client = match reader.take() {
            Some(client) => client,
            None => Client::connect(&self.url, NoTls)?,
        };
        let row = client.query_one(
            &format!("SELECT payload FROM {PAYLOAD_TABLE} WHERE id = $1"),
            &[&id],
        )?;
        *reader = Some(client);
        Ok(row.get(0))
    }

    fn deliver(&self, payload: &str, reader: &mut Option<Client>) {
        match wire::decode(payload.as_bytes()) {
            Received::Broadcast(group, message) => {
                self.listening.subscribers.deliver(&group, &message)
            }
            Received::Stored(id) => match self.fetch(id, reader) {
                // A stored payload is a broadcast itself, never another id.
                Ok(stored) => match wire::decode(stored.as_bytes()) {
                    Received::Broadcast(group, message) => {
                        self.listening.subscribers.deliver(&group, &message)
                    }
                    _ => tracing::warn!(
                        channel = %self.channel,
                        "tack-ws: ignoring a stored payload that is not a broadcast"
                    ),
                },
                Err(error) => tracing::error!(
                    channel = %self.channel,
                    "tack-ws: a large broadcast was lost: reading row {id} of {PAYLOAD_TABLE} failed: {error}"
                ),
            },
            Received::Foreign => tracing::warn!(
                channel = %self.channel,
                "tack-ws: ignoring a NOTIFY payload that is not a broadcast"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_channel_names() {
        assert_eq!(quote("tack\"ws"), "\"tack\"\"ws\"");
    }
}
