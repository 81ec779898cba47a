//! Ping/pong and close timeouts, without an async runtime.
//!
//! One thread per endpoint wakes a few times per timeout period, walks the
//! endpoint's open connections, queues a ping on idle ones and aborts those
//! that stayed silent or took too long to close. The connection's task does
//! the I/O as usual, so no timer futures (and no runtime) are needed. The
//! thread runs only while the endpoint has open connections.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::{CloseCode, Connection, WsConfig};

/// The open connections of one endpoint, watched by the keepalive thread.
pub(crate) struct Keepalive {
    config: Arc<WsConfig>,
    connections: Arc<Mutex<Watched>>,
}

#[derive(Default)]
struct Watched {
    connections: Vec<Connection>,
    thread_running: bool,
}

impl Keepalive {
    pub(crate) fn new(config: Arc<WsConfig>) -> Self {
        Keepalive {
            config,
            connections: Arc::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Watched> {
        // A Vec push or retain cannot leave the list half-changed.
        self.connections.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Watches `connection` until it closes.
    pub(crate) fn register(&self, connection: &Connection) {
        let mut watched = self.lock();
        watched.connections.push(connection.clone());
        if watched.thread_running {
            return;
        }
        let (list, config) = (self.connections.clone(), self.config.clone());
        let started = std::thread::Builder::new()
            .name("tack-ws-keepalive".into())
            .spawn(move || watch(&list, &config));
        match started {
            Ok(_) => watched.thread_running = true,
            Err(error) => tracing::error!("tack-ws: cannot start the keepalive thread: {error}"),
        }
    }

    /// Closes every open connection with `code` (1001 `Away` when the
    /// server shuts down), after the messages already queued.
    pub(crate) fn close_all(&self, code: CloseCode, reason: &str) {
        let connections = self.lock().connections.clone();
        for connection in connections {
            connection.close(code, reason);
        }
    }

    /// How many connections are open.
    pub(crate) fn len(&self) -> usize {
        self.lock()
            .connections
            .iter()
            .filter(|c| !c.is_finished())
            .count()
    }
}

fn tick(config: &WsConfig) -> Duration {
    let shortest = config
        .ping_interval
        .min(config.ping_timeout)
        .min(config.close_timeout);
    (shortest / 4).clamp(Duration::from_millis(5), Duration::from_secs(1))
}

/// The thread's loop; it ends when no connection is left (the next
/// registration starts a new one).
fn watch(list: &Arc<Mutex<Watched>>, config: &WsConfig) {
    let tick = tick(config);
    loop {
        std::thread::sleep(tick);
        let mut watched = list.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        watched
            .connections
            .retain(|connection| connection.keepalive(now, config));
        if watched.connections.is_empty() {
            watched.thread_running = false;
            return;
        }
    }
}
