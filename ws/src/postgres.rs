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

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use postgres::fallible_iterator::FallibleIterator;
use postgres::{Client, NoTls};
use serde::{Deserialize, Serialize};

use crate::groups::{Subscribers, validate_group};
use crate::{ChannelLayer, Deliver, Error, Message};

/// PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
const PAYLOAD_LIMIT: usize = 7999;

/// The table holding broadcasts too big for a NOTIFY payload.
pub const PAYLOAD_TABLE: &str = "tack_ws_payload";

/// How long a stored broadcast is kept for the listeners to read.
pub const PAYLOAD_TTL_SECONDS: u32 = 300;

/// The advisory lock key taken while the payload table is created.
const TABLE_LOCK: i64 = 0x0074_6163_6b5f_7773; // "tack_ws"

/// The wire form of one broadcast in a NOTIFY payload: the broadcast
/// itself, or the id of its row in [`PAYLOAD_TABLE`].
#[derive(Serialize, Deserialize)]
struct Envelope<'a> {
    /// The group.
    #[serde(default)]
    g: std::borrow::Cow<'a, str>,
    /// The id of the stored envelope, for a broadcast too big to notify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    r: Option<i64>,
    /// Text payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    t: Option<std::borrow::Cow<'a, str>>,
    /// Binary payload, base64.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    b: Option<String>,
}

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
    inner: Arc<Inner>,
}

struct Inner {
    channel: String,
    publisher: Mutex<Sender<String>>,
    subscribers: Arc<Subscribers>,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for PostgresLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresLayer")
            .field("channel", &self.inner.channel)
            .finish_non_exhaustive()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
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
        let subscribers: Arc<Subscribers> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));

        let (ready_tx, ready_rx) = mpsc::channel();
        let listener = Listener {
            url: url.to_owned(),
            channel: channel.to_owned(),
            subscribers: subscribers.clone(),
            stop: stop.clone(),
        };
        spawn("tack-ws-pg-listen", move || listener.run(ready_tx))?;

        let (publish_tx, publish_rx) = mpsc::channel::<String>();
        let (pub_ready_tx, pub_ready_rx) = mpsc::channel();
        let (url_owned, channel_owned) = (url.to_owned(), channel.to_owned());
        spawn("tack-ws-pg-notify", move || {
            publish(&url_owned, &channel_owned, publish_rx, pub_ready_tx)
        })?;

        for ready in [ready_rx, pub_ready_rx] {
            match ready.recv() {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    stop.store(true, Ordering::SeqCst);
                    return Err(layer_error(
                        format!("cannot connect the channel layer to {}", redact(url)),
                        error,
                    ));
                }
                Err(_) => {
                    return Err(Error::Layer {
                        message: "the channel layer's thread stopped".into(),
                        source: None,
                    });
                }
            }
        }
        Ok(PostgresLayer {
            inner: Arc::new(Inner {
                channel: channel.to_owned(),
                publisher: Mutex::new(publish_tx),
                subscribers,
                stop,
            }),
        })
    }

    /// The channel this layer listens on.
    pub fn channel(&self) -> &str {
        &self.inner.channel
    }
}

impl ChannelLayer for PostgresLayer {
    fn publish(&self, group: &str, message: &Message) -> Result<(), Error> {
        validate_group(group)?;
        let envelope = match message {
            Message::Text(text) => Envelope {
                g: group.into(),
                r: None,
                t: Some(text.as_str().into()),
                b: None,
            },
            Message::Binary(bytes) => Envelope {
                g: group.into(),
                r: None,
                t: None,
                b: Some(STANDARD.encode(bytes)),
            },
        };
        let payload = serde_json::to_string(&envelope)?;
        let publisher = self
            .inner
            .publisher
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        publisher.send(payload).map_err(|_| Error::Layer {
            message: "the channel layer's publisher thread stopped".into(),
            source: None,
        })
    }

    fn subscribe(&self, deliver: Deliver) -> Result<(), Error> {
        self.inner.subscribers.add(deliver);
        Ok(())
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<(), Error> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .map(drop)
        .map_err(|error| layer_error("cannot start the channel layer's thread".into(), error))
}

fn layer_error(message: String, source: impl std::error::Error + Send + Sync + 'static) -> Error {
    Error::Layer {
        message,
        source: Some(Box::new(source)),
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => match url[scheme + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
    }
}

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
    let reference = format!("{{\"r\":{id}}}");
    transaction.execute("SELECT pg_notify($1, $2)", &[&channel, &reference])?;
    transaction.execute(
        &format!(
            "DELETE FROM {PAYLOAD_TABLE} WHERE created_at < now() - interval '{PAYLOAD_TTL_SECONDS} seconds'"
        ),
        &[],
    )?;
    transaction.commit()
}

/// The publisher thread: one NOTIFY per queued payload, reconnecting on failure.
fn publish(
    url: &str,
    channel: &str,
    payloads: Receiver<String>,
    ready: Sender<Result<(), postgres::Error>>,
) {
    let mut client = match Client::connect(url, NoTls) {
        Ok(client) => {
            let _ = ready.send(Ok(()));
            Some(client)
        }
        Err(error) => {
            let _ = ready.send(Err(error));
            return;
        }
    };
    let mut table_ready = false;
    // Ends when every handle on the layer is dropped.
    for payload in payloads {
        for attempt in 0..2 {
            let connected = match client.take() {
                Some(client) => Ok(client),
                None => Client::connect(url, NoTls),
            };
            let result = connected.and_then(|mut connected| {
                let mut sent = Ok(());
                if payload.len() > PAYLOAD_LIMIT && !table_ready {
                    sent = create_payload_table(&mut connected);
                    table_ready = sent.is_ok();
                }
                let sent = sent.and_then(|()| notify(&mut connected, channel, &payload));
                client = Some(connected);
                sent
            });
            match result {
                Ok(_) => break,
                Err(error) => {
                    client = None;
                    if attempt == 1 {
                        tracing::error!(
                            channel,
                            "tack-ws: a broadcast was lost: NOTIFY failed: {error}"
                        );
                    }
                }
            }
        }
    }
}

struct Listener {
    url: String,
    channel: String,
    subscribers: Arc<Subscribers>,
    stop: Arc<AtomicBool>,
}

impl Listener {
    fn connect(&self) -> Result<Client, postgres::Error> {
        let mut client = Client::connect(&self.url, NoTls)?;
        client.batch_execute(&format!("LISTEN {}", quote(&self.channel)))?;
        Ok(client)
    }

    fn run(self, ready: Sender<Result<(), postgres::Error>>) {
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
        while !self.stop.load(Ordering::SeqCst) {
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
                    if self.stop.load(Ordering::SeqCst) {
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
        let Ok(envelope) = serde_json::from_str::<Envelope<'_>>(payload) else {
            tracing::warn!(channel = %self.channel, "tack-ws: ignoring a NOTIFY payload that is not a broadcast");
            return;
        };
        if let Some(id) = envelope.r {
            match self.fetch(id, reader) {
                Ok(stored) => self.deliver_envelope(&stored),
                Err(error) => tracing::error!(
                    channel = %self.channel,
                    "tack-ws: a large broadcast was lost: reading row {id} of {PAYLOAD_TABLE} failed: {error}"
                ),
            }
            return;
        }
        self.deliver_parsed(envelope);
    }

    /// Delivers a stored envelope: a broadcast itself, never another id.
    fn deliver_envelope(&self, payload: &str) {
        match serde_json::from_str::<Envelope<'_>>(payload) {
            Ok(envelope) if envelope.r.is_none() => self.deliver_parsed(envelope),
            _ => {
                tracing::warn!(channel = %self.channel, "tack-ws: ignoring a stored payload that is not a broadcast")
            }
        }
    }

    fn deliver_parsed(&self, envelope: Envelope<'_>) {
        let message = match (envelope.t, envelope.b) {
            (Some(text), _) => Message::text(text.into_owned()),
            (None, Some(b64)) => match STANDARD.decode(b64) {
                Ok(bytes) => Message::binary(bytes),
                Err(_) => return,
            },
            (None, None) => return,
        };
        self.subscribers.deliver(&envelope.g, &message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://app:secret@db/news"),
            "postgres://app:***@db/news"
        );
        assert_eq!(
            redact("postgres://postgres@db/news"),
            "postgres://postgres@db/news"
        );
    }

    #[test]
    fn quotes_channel_names() {
        assert_eq!(quote("tack\"ws"), "\"tack\"\"ws\"");
    }
}
