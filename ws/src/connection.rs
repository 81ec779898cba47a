//! Messages and the handle that sends them to one client from anywhere.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Waker;
use std::time::Instant;

use bytes::Bytes;
use tungstenite::Utf8Bytes;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::frame::coding::CloseCode;

use crate::Error;

/// A websocket data message. Cloning is cheap (the bytes are shared), so one
/// broadcast costs one allocation whatever the number of clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// UTF-8 text.
    Text(Utf8Bytes),
    /// Raw bytes.
    Binary(Bytes),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<String>) -> Self {
        Message::Text(Utf8Bytes::from(text.into()))
    }

    /// A binary message.
    pub fn binary(bytes: impl Into<Bytes>) -> Self {
        Message::Binary(bytes.into())
    }

    /// A text message holding `value` as JSON.
    pub fn json<T: serde::Serialize + ?Sized>(value: &T) -> Result<Self, Error> {
        Ok(Message::text(serde_json::to_string(value)?))
    }

    /// The text, for a text message.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text.as_str()),
            Message::Binary(_) => None,
        }
    }

    /// The payload's length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Message::Text(text) => text.len(),
            Message::Binary(bytes) => bytes.len(),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl From<String> for Message {
    fn from(text: String) -> Self {
        Message::text(text)
    }
}

impl From<&str> for Message {
    fn from(text: &str) -> Self {
        Message::text(text)
    }
}

impl From<Bytes> for Message {
    fn from(bytes: Bytes) -> Self {
        Message::Binary(bytes)
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Message::binary(bytes)
    }
}

impl From<Message> for tungstenite::Message {
    fn from(message: Message) -> Self {
        match message {
            Message::Text(text) => tungstenite::Message::Text(text),
            Message::Binary(bytes) => tungstenite::Message::Binary(bytes),
        }
    }
}

/// A handle on one client connection: cloneable, `Send + Sync`, usable from
/// any thread or task to send messages or close the connection.
///
/// Sending never blocks and never waits for the network: messages join a
/// bounded queue that the connection's task writes out. When a send finds
/// that queue full, the client is reading too slowly: it is disconnected
/// with close code 1008 and the send returns [`Error::QueueFull`].
#[derive(Clone)]
pub struct Connection {
    pub(crate) shared: Arc<Shared>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.shared.id)
            .field("protocol", &self.shared.protocol)
            .field("closed", &self.is_closed())
            .finish()
    }
}

pub(crate) struct Shared {
    pub(crate) id: u64,
    protocol: Option<String>,
    capacity: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    queue: VecDeque<tungstenite::Message>,
    /// A close that skips the queue: the connection ends now (slow client,
    /// keepalive timeout, close timeout).
    abort: Option<CloseFrame>,
    /// A close frame was queued or sent: nothing more may be queued.
    closing: Option<Instant>,
    /// The connection's task has finished.
    closed: bool,
    waker: Option<Waker>,
    last_seen: Option<Instant>,
    last_ping: Option<Instant>,
    on_close: Vec<Box<dyn FnOnce(u64) + Send>>,
}

/// What the connection's task should do next, taken from the handle's state.
pub(crate) struct Outgoing {
    pub(crate) messages: Vec<tungstenite::Message>,
    pub(crate) abort: Option<CloseFrame>,
}

impl Connection {
    pub(crate) fn new(capacity: usize, protocol: Option<String>) -> Self {
        static NEXT_ID: AtomicU64 = AtomicU64::new(1);
        let now = Instant::now();
        Connection {
            shared: Arc::new(Shared {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                protocol,
                capacity,
                state: Mutex::new(State {
                    last_seen: Some(now),
                    last_ping: Some(now),
                    ..State::default()
                }),
            }),
        }
    }

    /// A number identifying this connection within the process.
    pub fn id(&self) -> u64 {
        self.shared.id
    }

    /// The subprotocol negotiated in the handshake.
    pub fn protocol(&self) -> Option<&str> {
        self.shared.protocol.as_deref()
    }

    /// Queues a message for the client.
    ///
    /// Fails with [`Error::Closed`] once the connection is closing, and with
    /// [`Error::QueueFull`] when the client is too slow (it is then disconnected).
    pub fn send(&self, message: impl Into<Message>) -> Result<(), Error> {
        self.push(message.into().into())
    }

    /// Queues `value` as a JSON text message.
    pub fn send_json<T: serde::Serialize + ?Sized>(&self, value: &T) -> Result<(), Error> {
        self.send(Message::json(value)?)
    }

    /// Closes the connection after the messages already queued, with `code`
    /// (1000 for a normal close) and a short reason (at most 123 bytes are kept).
    pub fn close(&self, code: CloseCode, reason: &str) {
        let mut state = self.shared.lock();
        if state.closing.is_some() || state.closed {
            return;
        }
        state.closing = Some(Instant::now());
        state
            .queue
            .push_back(tungstenite::Message::Close(Some(close_frame(code, reason))));
        wake(&mut state);
    }

    /// Whether the connection is closing or closed.
    pub fn is_closed(&self) -> bool {
        let state = self.shared.lock();
        state.closed || state.closing.is_some() || state.abort.is_some()
    }

    pub(crate) fn push(&self, message: tungstenite::Message) -> Result<(), Error> {
        let mut state = self.shared.lock();
        if state.closed || state.closing.is_some() || state.abort.is_some() {
            return Err(Error::Closed { id: self.shared.id });
        }
        if state.queue.len() >= self.shared.capacity {
            let capacity = self.shared.capacity;
            state.abort = Some(close_frame(
                CloseCode::Policy,
                "send queue full: client too slow",
            ));
            state.queue.clear();
            wake(&mut state);
            return Err(Error::QueueFull {
                id: self.shared.id,
                capacity,
            });
        }
        state.queue.push_back(message);
        wake(&mut state);
        Ok(())
    }

    /// Takes queued work (messages only when `drain`), and registers `waker`
    /// to hear about new work.
    pub(crate) fn take(&self, waker: &Waker, drain: bool) -> Outgoing {
        let mut state = self.shared.lock();
        let abort = state.abort.take();
        if abort.is_some() {
            state.closing.get_or_insert_with(Instant::now);
        }
        let messages = if drain {
            state.queue.drain(..).collect()
        } else {
            Vec::new()
        };
        match &mut state.waker {
            Some(current) if current.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
        Outgoing { messages, abort }
    }

    /// Records traffic from the client (any frame counts for keepalive).
    pub(crate) fn touch(&self) {
        self.shared.lock().last_seen = Some(Instant::now());
    }

    /// Marks the connection closing from the protocol side (a close frame
    /// was sent or received, or an error ends it).
    pub(crate) fn mark_closing(&self) {
        self.shared.lock().closing.get_or_insert_with(Instant::now);
    }

    /// Runs `callback` with the connection's id when the connection ends
    /// (at once if it has already ended).
    pub(crate) fn on_close(&self, callback: Box<dyn FnOnce(u64) + Send>) {
        let mut state = self.shared.lock();
        if state.closed {
            drop(state);
            callback(self.shared.id);
        } else {
            state.on_close.push(callback);
        }
    }

    /// Whether the connection's task has finished.
    pub(crate) fn is_finished(&self) -> bool {
        self.shared.lock().closed
    }

    /// Marks the connection finished and runs the close callbacks.
    pub(crate) fn finish(&self) {
        let callbacks = {
            let mut state = self.shared.lock();
            state.closed = true;
            state.queue.clear();
            state.waker = None;
            std::mem::take(&mut state.on_close)
        };
        for callback in callbacks {
            callback(self.shared.id);
        }
    }

    /// One keepalive check at `now`: ping when idle, abort when silent too
    /// long or closing too long. Returns `false` once the connection ended.
    pub(crate) fn keepalive(&self, now: Instant, config: &crate::WsConfig) -> bool {
        let mut state = self.shared.lock();
        if state.closed {
            return false;
        }
        let since = |at: Option<Instant>| {
            at.map_or(std::time::Duration::ZERO, |at| {
                now.saturating_duration_since(at)
            })
        };
        if let Some(closing) = state.closing {
            if since(Some(closing)) >= config.close_timeout && state.abort.is_none() {
                state.abort = Some(close_frame(CloseCode::Away, "close timeout"));
                wake(&mut state);
            }
            return true;
        }
        let silent = since(state.last_seen);
        if silent >= config.ping_interval + config.ping_timeout {
            state.abort = Some(close_frame(CloseCode::Away, "keepalive timeout"));
            state.queue.clear();
            wake(&mut state);
        } else if silent >= config.ping_interval && since(state.last_ping) >= config.ping_interval {
            state.last_ping = Some(now);
            state
                .queue
                .push_back(tungstenite::Message::Ping(Bytes::new()));
            wake(&mut state);
        }
        true
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent between statements, so a panic elsewhere
        // while holding the lock leaves nothing half-done: keep going.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn wake(state: &mut State) {
    if let Some(waker) = state.waker.take() {
        waker.wake();
    }
}

pub(crate) fn close_frame(code: CloseCode, reason: &str) -> CloseFrame {
    // A close reason fits in 123 bytes (125 minus the code); cut on a char boundary.
    let mut end = reason.len().min(123);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    CloseFrame {
        code,
        reason: Utf8Bytes::from(reason[..end].to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::task::Wake;

    struct Flag(std::sync::atomic::AtomicBool);
    impl Wake for Flag {
        fn wake(self: Arc<Self>) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    #[test]
    fn full_queue_aborts_with_policy_violation() {
        let connection = Connection::new(2, None);
        let flag = Arc::new(Flag(false.into()));
        let waker = Waker::from(flag.clone());
        assert!(connection.take(&waker, true).messages.is_empty());
        connection.send("one").unwrap();
        assert!(
            flag.0.load(Ordering::SeqCst),
            "a send wakes the connection task"
        );
        connection.send("two").unwrap();
        let error = connection.send("three").unwrap_err();
        assert!(
            matches!(error, Error::QueueFull { capacity: 2, .. }),
            "{error}"
        );
        assert!(matches!(connection.send("four"), Err(Error::Closed { .. })));
        let outgoing = connection.take(&waker, true);
        assert!(
            outgoing.messages.is_empty(),
            "queued messages are dropped for a slow client"
        );
        assert_eq!(outgoing.abort.unwrap().code, CloseCode::Policy);
    }

    #[test]
    fn close_callbacks_run_once_even_when_late() {
        let connection = Connection::new(4, None);
        let (tx, rx) = std::sync::mpsc::channel();
        let early = tx.clone();
        connection.on_close(Box::new(move |id| early.send(id).unwrap()));
        connection.finish();
        connection.on_close(Box::new(move |id| tx.send(id).unwrap()));
        assert_eq!(rx.try_iter().count(), 2);
        assert!(connection.is_closed());
    }

    #[test]
    fn close_reason_is_cut_on_a_char_boundary() {
        let frame = close_frame(CloseCode::Normal, &"é".repeat(100));
        assert!(frame.reason.len() <= 123);
    }
}
