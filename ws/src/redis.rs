//! A channel layer on Redis pub/sub, the usual choice of Django Channels:
//! broadcasts reach every app server subscribed to the same channel on
//! the same Redis server.
//!
//! The synchronous `redis` client runs on two threads of the layer's own
//! (one publishes, one listens), never on the caller's, so no async
//! runtime is needed and a publish never blocks a handler. A Redis message
//! holds up to 512 MB, so a broadcast of any size a websocket carries
//! travels in one PUBLISH.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use redis::{Client, Connection, RedisError};

use crate::Error;
use crate::remote::{Link, Listening, Remote, layer_error, redact};
use crate::wire::{self, Received};

/// How long connecting, and each command of the publisher, may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// How often the listener looks up from its socket to see whether the
/// layer was dropped.
const POLL: Duration = Duration::from_millis(250);

/// The Redis pub/sub channel layer. Clones share the layer.
///
/// Every instance (one per app server) connected to the same Redis server
/// and `channel` sees every broadcast, of any size. Publishing queues the
/// PUBLISH for the layer's thread and returns at once; a lost connection
/// is reconnected by both threads, with the error logged (broadcasts made
/// while the listener is away are not replayed: pub/sub keeps nothing).
///
/// ```no_run
/// use tack_ws::{Groups, RedisLayer};
///
/// let groups = Groups::new(RedisLayer::connect("redis://127.0.0.1:6379/", "newsroom")?)?;
/// groups.broadcast("article-1", "hello, every server")?;
/// # Ok::<(), tack_ws::Error>(())
/// ```
#[derive(Clone)]
pub struct RedisLayer {
    inner: Arc<Remote>,
}

impl RedisLayer {
    /// Connects to the Redis server at `url` (`redis://[:password@]host[:port][/db]`,
    /// or `rediss://` where the client has TLS) and subscribes to
    /// `channel`, a name shared by all app servers such as `"tack_ws"`.
    /// Returns once the subscription is made, so broadcasts made
    /// afterwards are seen.
    pub fn connect(url: &str, channel: &str) -> Result<Self, Error> {
        if channel.is_empty() || channel.len() > 200 || channel.chars().any(char::is_control) {
            return Err(Error::InvalidName {
                name: channel.to_owned(),
                reason: "a Redis channel name for the layer has 1 to 200 bytes and no control characters",
            });
        }
        let client = Client::open(url).map_err(|error| {
            layer_error(format!("the Redis URL {} is not valid", redact(url)), error)
        })?;
        let listen = {
            let (client, channel) = (client.clone(), channel.to_owned());
            move |listening| {
                Listener {
                    client,
                    channel,
                    listening,
                }
                .run()
            }
        };
        let publish = Publish {
            client,
            channel: channel.to_owned(),
        };
        let names = ("tack-ws-redis-listen", "tack-ws-redis-publish");
        let inner = Remote::start(names, url, channel, listen, publish)?;
        Ok(RedisLayer {
            inner: Arc::new(inner),
        })
    }
}

crate::remote::remote_layer!(RedisLayer);

/// The publishing connection: one PUBLISH per broadcast.
struct Publish {
    client: Client,
    channel: String,
}

impl Link for Publish {
    type Connection = Connection;
    type Error = RedisError;

    fn connect(&mut self) -> Result<Connection, RedisError> {
        let mut connection = self.client.get_connection_with_timeout(TIMEOUT)?;
        connection.set_read_timeout(Some(TIMEOUT))?;
        connection.set_write_timeout(Some(TIMEOUT))?;
        name_connection(&mut connection, "publish", &self.channel);
        Ok(connection)
    }

    fn send(&mut self, connection: &mut Connection, payload: &str) -> Result<(), RedisError> {
        redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(payload)
            .query::<i64>(connection)
            .map(drop)
    }
}

/// Names `connection` `tack-ws-ROLE:CHANNEL` for `CLIENT LIST`, so an
/// operator sees whose it is (a server that refuses CLIENT is left be).
fn name_connection(connection: &mut Connection, role: &str, channel: &str) {
    let channel: String = channel
        .chars()
        .map(|c| if c.is_ascii_graphic() { c } else { '_' })
        .collect();
    let _ = redis::cmd("CLIENT")
        .arg("SETNAME")
        .arg(format!("tack-ws-{role}:{channel}"))
        .query::<()>(connection);
}

struct Listener {
    client: Client,
    channel: String,
    listening: Listening<RedisError>,
}

impl Listener {
    /// Listens until the layer is dropped, reconnecting after a failure;
    /// the first attempt's outcome goes to the layer, which waits for it.
    fn run(self) {
        let mut ready = Some(self.listening.ready.clone());
        loop {
            let failure = match self.client.get_connection_with_timeout(TIMEOUT) {
                Ok(mut connection) => match self.listen(&mut connection, &mut ready) {
                    Some(error) => error,
                    None => return,
                },
                Err(error) => error,
            };
            if let Some(ready) = ready.take() {
                let _ = ready.send(Err(failure));
                return;
            }
            tracing::error!(
                channel = %self.channel,
                "tack-ws: the Redis channel layer's listener failed (reconnecting in 1 s): {failure}"
            );
            std::thread::sleep(Duration::from_secs(1));
            if self.listening.stop.load(Ordering::SeqCst) {
                return;
            }
        }
    }

    /// Subscribes on `connection` and delivers what arrives: `None` once
    /// the layer is dropped, or the error that ended the connection.
    fn listen(
        &self,
        connection: &mut Connection,
        ready: &mut Option<std::sync::mpsc::Sender<Result<(), RedisError>>>,
    ) -> Option<RedisError> {
        name_connection(connection, "listen", &self.channel);
        let mut pubsub = connection.as_pubsub();
        if let Err(error) = pubsub
            .set_read_timeout(Some(POLL))
            .and_then(|()| pubsub.subscribe(&self.channel))
        {
            return Some(error);
        }
        if let Some(ready) = ready.take() {
            let _ = ready.send(Ok(()));
        }
        loop {
            match pubsub.get_message() {
                Ok(message) => self.deliver(message.get_payload_bytes()),
                Err(error) if error.is_timeout() => {
                    if self.listening.stop.load(Ordering::SeqCst) {
                        return None;
                    }
                }
                Err(error) => return Some(error),
            }
        }
    }

    fn deliver(&self, payload: &[u8]) {
        match wire::decode(payload) {
            Received::Broadcast(group, message) => {
                self.listening.subscribers.deliver(&group, &message)
            }
            Received::Stored(_) | Received::Foreign => tracing::warn!(
                channel = %self.channel,
                "tack-ws: ignoring a Redis message that is not a broadcast"
            ),
        }
    }
}
