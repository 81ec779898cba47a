//! Ping/pong and close timeouts, without an async runtime.
//!
//! One thread per endpoint wakes a few times per timeout period, walks the
//! endpoint's open connections, queues a ping on idle ones and aborts those
//! that stayed silent or took too long to close. The connection's task does
//! the I/O as usual, so no timer futures (and no runtime) are needed. The
//! thread starts with the first connection and ends once the endpoint is
//! dropped and its last connection has closed.

use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::{Connection, WsConfig};

pub(crate) struct Keepalive {
    config: Arc<WsConfig>,
    sender: Mutex<Option<Sender<Connection>>>,
}

impl Keepalive {
    pub(crate) fn new(config: Arc<WsConfig>) -> Self {
        Keepalive {
            config,
            sender: Mutex::new(None),
        }
    }

    /// Watches `connection` until it closes.
    pub(crate) fn register(&self, connection: &Connection) {
        let mut sender = self.sender.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = sender.as_ref()
            && tx.send(connection.clone()).is_ok()
        {
            return;
        }
        let (tx, rx) = mpsc::channel();
        let _ = tx.send(connection.clone());
        let config = self.config.clone();
        let started = std::thread::Builder::new()
            .name("tack-ws-keepalive".into())
            .spawn(move || watch(rx, &config));
        match started {
            Ok(_) => *sender = Some(tx),
            Err(error) => tracing::error!("tack-ws: cannot start the keepalive thread: {error}"),
        }
    }
}

fn tick(config: &WsConfig) -> Duration {
    let shortest = config
        .ping_interval
        .min(config.ping_timeout)
        .min(config.close_timeout);
    (shortest / 4).clamp(Duration::from_millis(5), Duration::from_secs(1))
}

fn watch(rx: mpsc::Receiver<Connection>, config: &WsConfig) {
    let tick = tick(config);
    let mut connections: Vec<Connection> = Vec::new();
    let mut endpoint_gone = false;
    let mut next = Instant::now() + tick;
    loop {
        if endpoint_gone {
            std::thread::sleep(tick);
        } else {
            match rx.recv_timeout(next.saturating_duration_since(Instant::now())) {
                Ok(connection) => connections.push(connection),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => endpoint_gone = true,
            }
        }
        let now = Instant::now();
        if now >= next {
            connections.retain(|connection| connection.keepalive(now, config));
            next = now + tick;
        }
        if endpoint_gone && connections.is_empty() {
            return;
        }
    }
}
