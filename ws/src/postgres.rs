//! A channel layer on PostgreSQL LISTEN/NOTIFY: broadcasts reach every app
//! server connected to the same database.
//!
//! The synchronous `postgres` client runs on two threads of the layer's own
//! (one publishes, one listens), never on the caller's: it cannot run on an
//! async runtime's worker thread, and a publish must not block a handler.

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

/// The wire form of one broadcast in a NOTIFY payload.
#[derive(Serialize, Deserialize)]
struct Envelope<'a> {
    /// The group.
    g: std::borrow::Cow<'a, str>,
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
/// `channel` sees every broadcast. A NOTIFY payload holds less than 8000
/// bytes: a bigger broadcast fails with [`Error::PayloadTooLarge`] (send an
/// id and let clients fetch the rest). Publishing queues the NOTIFY for the
/// layer's thread and returns at once; a lost database connection is
/// reconnected by both threads, with the error logged.
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
                t: Some(text.as_str().into()),
                b: None,
            },
            Message::Binary(bytes) => Envelope {
                g: group.into(),
                t: None,
                b: Some(STANDARD.encode(bytes)),
            },
        };
        let payload = serde_json::to_string(&envelope)?;
        if payload.len() > PAYLOAD_LIMIT {
            return Err(Error::PayloadTooLarge {
                group: group.to_owned(),
                size: payload.len(),
                limit: PAYLOAD_LIMIT,
            });
        }
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
    // Ends when every handle on the layer is dropped.
    for payload in payloads {
        for attempt in 0..2 {
            let connected = match client.take() {
                Some(client) => Ok(client),
                None => Client::connect(url, NoTls),
            };
            let result = connected.and_then(|mut connected| {
                let sent = connected.execute("SELECT pg_notify($1, $2)", &[&channel, &payload]);
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
        while !self.stop.load(Ordering::SeqCst) {
            let failure = {
                let mut notifications = client.notifications();
                let mut iter = notifications.timeout_iter(Duration::from_millis(250));
                loop {
                    match iter.next() {
                        Ok(Some(notification)) => self.deliver(notification.payload()),
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

    fn deliver(&self, payload: &str) {
        let Ok(envelope) = serde_json::from_str::<Envelope<'_>>(payload) else {
            tracing::warn!(channel = %self.channel, "tack-ws: ignoring a NOTIFY payload that is not a broadcast");
            return;
        };
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
