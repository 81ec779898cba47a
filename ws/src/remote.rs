//! What the channel layers that talk to a server (PostgreSQL, Redis) share:
//! a listening thread of the layer's own delivers what arrives to the
//! process's subscribers, and a publishing thread sends the queue of
//! broadcasts in order on a connection of its own (a handler's broadcast
//! returns at once), reconnecting when the connection is lost and
//! answering a flush once everything queued before it is sent.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::groups::{Subscribers, validate_group};
use crate::{Deliver, Error, Message, wire};

/// A running layer: its channel, its publishing queue, the subscribers its
/// listener delivers to, and the flag that stops the listener when the
/// last handle is dropped.
pub(crate) struct Remote {
    channel: String,
    outbox: Outbox,
    subscribers: Arc<Subscribers>,
    stop: Arc<AtomicBool>,
}

/// What a listening thread gets: the subscribers to deliver to, the flag
/// that says the layer was dropped, and where to report its first
/// connection (`Ok` once it listens).
pub(crate) struct Listening<E> {
    pub(crate) subscribers: Arc<Subscribers>,
    pub(crate) stop: Arc<AtomicBool>,
    pub(crate) ready: Sender<Result<(), E>>,
}

impl Remote {
    /// Starts the listening thread `names.0` running `listen`, waits until
    /// it listens, then starts the publishing thread `names.1` on `link`:
    /// the layer on `channel` of the server at `url` (named, without its
    /// password, in a failure to connect).
    pub(crate) fn start<E: std::error::Error + Send + Sync + 'static>(
        names: (&str, &str),
        url: &str,
        channel: &str,
        listen: impl FnOnce(Listening<E>) + Send + 'static,
        link: impl Link,
    ) -> Result<Remote, Error> {
        let subscribers: Arc<Subscribers> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (ready, started) = mpsc::channel();
        let listening = Listening {
            subscribers: subscribers.clone(),
            stop: stop.clone(),
            ready,
        };
        spawn(names.0, move || listen(listening))?;
        let started = wait_started(started, url).and_then(|()| Outbox::start(names.1, url, link));
        match started {
            Ok(outbox) => Ok(Remote {
                channel: channel.to_owned(),
                outbox,
                subscribers,
                stop,
            }),
            Err(error) => {
                stop.store(true, Ordering::SeqCst);
                Err(error)
            }
        }
    }

    /// The channel the layer publishes and listens on.
    pub(crate) fn channel(&self) -> &str {
        &self.channel
    }

    /// Queues a broadcast of `message` to `group`.
    pub(crate) fn publish(&self, group: &str, message: &Message) -> Result<(), Error> {
        validate_group(group)?;
        self.outbox.send(wire::encode(group, message)?)
    }

    /// Adds a subscriber.
    pub(crate) fn subscribe(&self, deliver: Deliver) {
        self.subscribers.add(deliver);
    }

    /// Waits for the queue (see [`Outbox::flush`]).
    pub(crate) fn flush(&self, timeout: Duration) -> Result<(), Error> {
        self.outbox.flush(timeout)
    }
}

/// The public face of a layer type holding `inner: Arc<Remote>`: its
/// `Debug`, its `channel()`, and its [`ChannelLayer`](crate::ChannelLayer).
macro_rules! remote_layer {
    ($layer:ident) => {
        impl std::fmt::Debug for $layer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($layer))
                    .field("channel", &self.inner.channel())
                    .finish_non_exhaustive()
            }
        }

        impl $layer {
            /// The channel this layer publishes and listens on.
            pub fn channel(&self) -> &str {
                self.inner.channel()
            }
        }

        impl $crate::ChannelLayer for $layer {
            fn publish(&self, group: &str, message: &$crate::Message) -> Result<(), $crate::Error> {
                self.inner.publish(group, message)
            }

            fn subscribe(&self, deliver: $crate::Deliver) -> Result<(), $crate::Error> {
                self.inner.subscribe(deliver);
                Ok(())
            }

            fn flush(&self, timeout: std::time::Duration) -> Result<(), $crate::Error> {
                self.inner.flush(timeout)
            }
        }
    };
}
pub(crate) use remote_layer;

impl Drop for Remote {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

enum Job {
    Send(String),
    Flush(Sender<()>),
}

/// The queue of a layer's publishing thread. The thread ends when the
/// outbox is dropped, after sending what was queued.
pub(crate) struct Outbox {
    jobs: Mutex<Sender<Job>>,
}

/// How a layer's thread reaches its server.
pub(crate) trait Link: Send + 'static {
    /// The connection.
    type Connection;
    /// What goes wrong.
    type Error: std::error::Error + Send + Sync + 'static;
    /// Opens a connection.
    fn connect(&mut self) -> Result<Self::Connection, Self::Error>;
    /// Sends one payload.
    fn send(&mut self, connection: &mut Self::Connection, payload: &str)
    -> Result<(), Self::Error>;
}

impl Outbox {
    /// Starts the thread `name` on `link`, returning once its first
    /// connection is open (or the error of opening it, as "cannot connect
    /// the channel layer to `server`").
    pub(crate) fn start(name: &str, server: &str, mut link: impl Link) -> Result<Outbox, Error> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, started) = mpsc::channel();
        spawn(name, move || {
            let connection = match link.connect() {
                Ok(connection) => {
                    let _ = ready.send(Ok(()));
                    connection
                }
                Err(error) => {
                    let _ = ready.send(Err(error));
                    return;
                }
            };
            drain(link, connection, queue);
        })?;
        wait_started(started, server)?;
        Ok(Outbox {
            jobs: Mutex::new(jobs),
        })
    }

    /// Queues `payload` for the thread.
    pub(crate) fn send(&self, payload: String) -> Result<(), Error> {
        self.queue(Job::Send(payload))
    }

    /// Waits until everything queued so far is sent (or given up on), for
    /// at most `timeout`.
    pub(crate) fn flush(&self, timeout: Duration) -> Result<(), Error> {
        let (done, flushed) = mpsc::channel();
        self.queue(Job::Flush(done))?;
        flushed.recv_timeout(timeout).map_err(|_| Error::Layer {
            message: format!(
                "the channel layer did not send its queued broadcasts within {} ms",
                timeout.as_millis()
            ),
            source: None,
        })
    }

    fn queue(&self, job: Job) -> Result<(), Error> {
        let jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        jobs.send(job).map_err(|_| Error::Layer {
            message: "the channel layer's publisher thread stopped".into(),
            source: None,
        })
    }
}

/// Sends each queued payload, trying a fresh connection once when the
/// current one fails; ends when the outbox is dropped.
fn drain<L: Link>(mut link: L, connection: L::Connection, queue: Receiver<Job>) {
    let mut connection = Some(connection);
    for job in queue {
        let payload = match job {
            Job::Send(payload) => payload,
            Job::Flush(done) => {
                let _ = done.send(());
                continue;
            }
        };
        for attempt in 0..2 {
            let result = match connection.take() {
                Some(open) => Ok(open),
                None => link.connect(),
            }
            .and_then(|mut open| {
                let sent = link.send(&mut open, &payload);
                connection = Some(open);
                sent
            });
            match result {
                Ok(()) => break,
                Err(error) => {
                    connection = None;
                    if attempt == 1 {
                        tracing::error!("tack-ws: a broadcast was lost: {error}");
                    }
                }
            }
        }
    }
}

/// Starts a named thread of the layer's.
fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<(), Error> {
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(f)
        .map(drop)
        .map_err(|error| layer_error("cannot start the channel layer's thread".into(), error))
}

/// Waits for a thread's first connection: `Ok` once it is open, else the
/// error of opening it, naming `server`.
fn wait_started<E: std::error::Error + Send + Sync + 'static>(
    started: Receiver<Result<(), E>>,
    server: &str,
) -> Result<(), Error> {
    match started.recv() {
        Ok(Ok(())) => Ok(()),
        Ok(Err(error)) => Err(layer_error(
            format!("cannot connect the channel layer to {}", redact(server)),
            error,
        )),
        Err(_) => Err(Error::Layer {
            message: "the channel layer's thread stopped".into(),
            source: None,
        }),
    }
}

/// A layer error with its cause.
pub(crate) fn layer_error(
    message: String,
    source: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    Error::Layer {
        message,
        source: Some(Box::new(source)),
    }
}

/// The URL without its password, for messages.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => match url[scheme + 3..at].split_once(':') {
            Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
            None => url.to_owned(),
        },
        _ => url.to_owned(),
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
        assert_eq!(
            redact("redis://:secret@cache:6379/0"),
            "redis://:***@cache:6379/0"
        );
    }
}
