//! A websocket connection whose frames another library reads and writes
//! (actix-ws, a test harness): Tack's consumers, groups and channel layers
//! on any message stream and sink.

use std::collections::VecDeque;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::task::{Context, Poll};

use bytes::Bytes;
use tack_http::Problem;

use crate::{CloseCode, Connection, Consumer, Message, WsConfig};

/// What to send the client next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// A data message (a group's broadcast, a consumer's reply).
    Message(Message),
    /// A ping to send.
    Ping(Bytes),
    /// Close with this code and reason, then stop.
    Close(CloseCode, String),
}

/// One connection driven by someone else's socket: [`Attached::connect`]
/// runs the consumer's `connect` (a refusal is the `Problem` to answer
/// instead of upgrading), the driver hands each message the client sends to
/// [`text`](Attached::text) or [`binary`](Attached::binary), sends what
/// [`next_outgoing`](Attached::next_outgoing) gives, and calls
/// [`closed`](Attached::closed) when the socket ends. Groups, broadcasts
/// from any thread and the slow-client policy (a full send queue closes
/// with 1008) work as under [`WebSocketEndpoint`](crate::WebSocketEndpoint).
pub struct Attached<C: Consumer> {
    connection: Connection,
    consumer: C,
    pending: VecDeque<Outgoing>,
    finished: bool,
}

impl<C: Consumer> std::fmt::Debug for Attached<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attached")
            .field("connection", &self.connection)
            .finish_non_exhaustive()
    }
}

impl<C: Consumer> Attached<C> {
    /// A connection for `request`, with `config`'s send queue, accepted by
    /// `consumer` (or the problem it refused it with; a panic is a 500).
    #[allow(clippy::result_large_err)]
    pub fn connect(
        mut consumer: C,
        request: &http::request::Parts,
        config: &WsConfig,
    ) -> Result<Self, Problem> {
        let connection = Connection::new(config.send_queue, None);
        match catch_unwind(AssertUnwindSafe(|| consumer.connect(&connection, request))) {
            Ok(Ok(())) => Ok(Attached {
                connection,
                consumer,
                pending: VecDeque::new(),
                finished: false,
            }),
            Ok(Err(problem)) => {
                connection.finish();
                Err(problem)
            }
            Err(_) => {
                connection.finish();
                tracing::error!("tack-ws: the consumer panicked on connect");
                Err(Problem::new(http::StatusCode::INTERNAL_SERVER_ERROR))
            }
        }
    }

    /// The connection's handle (to join groups, or send from elsewhere).
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// A text message from the client.
    pub fn text(&mut self, text: &str) {
        self.call(|consumer, connection| consumer.text(connection, text));
    }

    /// A binary message from the client.
    pub fn binary(&mut self, bytes: &[u8]) {
        self.call(|consumer, connection| consumer.binary(connection, bytes));
    }

    /// Runs a consumer callback; a panic closes the connection with 1011.
    fn call(&mut self, f: impl FnOnce(&mut C, &Connection)) {
        let (consumer, connection) = (&mut self.consumer, &self.connection);
        if catch_unwind(AssertUnwindSafe(|| f(consumer, connection))).is_err() {
            tracing::error!(
                connection = connection.id(),
                "tack-ws: the consumer panicked"
            );
            connection.close(CloseCode::Error, "internal error");
        }
    }

    /// The next thing to send, once there is one; `None` after the close.
    pub async fn next_outgoing(&mut self) -> Option<Outgoing> {
        std::future::poll_fn(|cx| self.poll_outgoing(cx)).await
    }

    /// [`next_outgoing`](Self::next_outgoing) as a poll.
    pub fn poll_outgoing(&mut self, cx: &mut Context<'_>) -> Poll<Option<Outgoing>> {
        if self.finished {
            return Poll::Ready(None);
        }
        if self.pending.is_empty() {
            let outgoing = self.connection.take(cx.waker(), true);
            if let Some(frame) = outgoing.abort {
                // A slow client's queue was dropped: close at once.
                self.pending.clear();
                self.pending
                    .push_back(Outgoing::Close(frame.code, frame.reason.to_string()));
            } else {
                self.pending
                    .extend(
                        outgoing
                            .messages
                            .into_iter()
                            .filter_map(|message| match message {
                                tungstenite::Message::Text(text) => {
                                    Some(Outgoing::Message(Message::Text(text)))
                                }
                                tungstenite::Message::Binary(bytes) => {
                                    Some(Outgoing::Message(Message::Binary(bytes)))
                                }
                                tungstenite::Message::Ping(bytes) => Some(Outgoing::Ping(bytes)),
                                tungstenite::Message::Close(frame) => Some(frame.map_or(
                                    Outgoing::Close(CloseCode::Normal, String::new()),
                                    |frame| Outgoing::Close(frame.code, frame.reason.to_string()),
                                )),
                                tungstenite::Message::Pong(_) | tungstenite::Message::Frame(_) => {
                                    None
                                }
                            }),
                    );
            }
        }
        match self.pending.pop_front() {
            Some(Outgoing::Close(code, reason)) => {
                self.finished = true;
                Poll::Ready(Some(Outgoing::Close(code, reason)))
            }
            Some(other) => Poll::Ready(Some(other)),
            None => Poll::Pending,
        }
    }

    /// The socket ended with `code` (the client's close, or the driver's):
    /// the consumer's `disconnect` runs and the connection leaves its groups.
    pub fn closed(mut self, code: CloseCode) {
        let (consumer, connection) = (&mut self.consumer, &self.connection);
        if catch_unwind(AssertUnwindSafe(|| consumer.disconnect(connection, code))).is_err() {
            tracing::error!(
                connection = connection.id(),
                "tack-ws: the consumer panicked on disconnect"
            );
        }
        self.connection.finish();
        self.finished = true;
    }
}

impl<C: Consumer> Drop for Attached<C> {
    fn drop(&mut self) {
        // Dropped without `closed` (the driver's task ended): leave the groups.
        if !self.connection.is_finished() {
            self.connection.finish();
        }
    }
}
