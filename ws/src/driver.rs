//! Running one connection: tungstenite's protocol over a poll-based stream.
//!
//! tungstenite speaks `std::io::Read + Write`; a hyper upgraded stream is
//! poll-based (`hyper::rt::Read + Write`, runtime-neutral). [`PollIo`]
//! bridges the two: a `Pending` poll becomes `WouldBlock`, and the stream has
//! registered the task's waker, so the task wakes when the socket is ready.

use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use hyper::rt::{Read, ReadBuf, Write};
use tungstenite::error::{CapacityError, Error as WsError, ProtocolError};
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocketContext};

use crate::connection::close_frame;
use crate::{Connection, Consumer, WsConfig};

/// `std::io` over a poll-based stream, for the duration of one poll.
struct PollIo<'a, 'b, S> {
    stream: &'a mut S,
    cx: &'a mut Context<'b>,
}

fn pending<T>(poll: Poll<io::Result<T>>) -> io::Result<T> {
    match poll {
        Poll::Ready(result) => result,
        Poll::Pending => Err(io::ErrorKind::WouldBlock.into()),
    }
}

impl<S: Read + Unpin> io::Read for PollIo<'_, '_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut buf = ReadBuf::new(buf);
        pending(Pin::new(&mut *self.stream).poll_read(self.cx, buf.unfilled()))?;
        Ok(buf.filled().len())
    }
}

impl<S: Write + Unpin> io::Write for PollIo<'_, '_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        pending(Pin::new(&mut *self.stream).poll_write(self.cx, buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        pending(Pin::new(&mut *self.stream).poll_flush(self.cx))
    }
}

enum Phase {
    Open,
    /// We closed because of an error: flush the close frame, shut the write
    /// side, then read and discard until the client hangs up (so it reads
    /// our close frame instead of a reset).
    Draining {
        shut: bool,
    },
    Done,
}

/// The future that runs one connection until it closes.
pub(crate) struct Driver<S, C> {
    stream: S,
    ws: WebSocketContext,
    connection: Connection,
    consumer: Box<C>,
    phase: Phase,
    /// Whether the last flush could not finish: take no new messages until it does.
    write_blocked: bool,
    code: CloseCode,
}

fn would_block(error: &WsError) -> bool {
    matches!(error, WsError::Io(error) if error.kind() == io::ErrorKind::WouldBlock)
}

impl<S, C> Driver<S, C>
where
    S: Read + Write + Unpin,
    C: Consumer,
{
    pub(crate) fn new(stream: S, connection: Connection, consumer: C, config: &WsConfig) -> Self {
        Driver {
            stream,
            ws: WebSocketContext::new(Role::Server, Some(config.tungstenite())),
            connection,
            consumer: Box::new(consumer),
            phase: Phase::Open,
            write_blocked: false,
            code: CloseCode::Abnormal,
        }
    }

    /// Closes with `frame` because of an error, then drains.
    fn fail(&mut self, cx: &mut Context<'_>, frame: CloseFrame) {
        self.code = frame.code;
        self.connection.mark_closing();
        let mut io = PollIo {
            stream: &mut self.stream,
            cx,
        };
        match self.ws.close(&mut io, Some(frame)) {
            Ok(()) => {}
            Err(error) if would_block(&error) => {}
            Err(_) => {
                self.phase = Phase::Done;
                return;
            }
        }
        self.phase = Phase::Draining { shut: false };
    }

    /// Runs a consumer callback; a panic closes the connection with 1011.
    fn call(&mut self, cx: &mut Context<'_>, f: impl FnOnce(&mut C, &Connection)) {
        let (consumer, connection) = (&mut self.consumer, &self.connection);
        if catch_unwind(AssertUnwindSafe(|| f(consumer, connection))).is_err() {
            tracing::error!(
                connection = connection.id(),
                "tack-ws: the consumer panicked"
            );
            self.fail(cx, close_frame(CloseCode::Error, "internal error"));
        }
    }

    /// Writes what the handle queued and flushes. Returns whether anything was written.
    fn poll_outgoing(&mut self, cx: &mut Context<'_>) -> bool {
        let outgoing = self.connection.take(cx.waker(), !self.write_blocked);
        if let Some(frame) = outgoing.abort {
            // Slow client or timeout: one attempt at the close frame, then hang up.
            self.code = frame.code;
            let mut io = PollIo {
                stream: &mut self.stream,
                cx,
            };
            let _ = self.ws.close(&mut io, Some(frame));
            self.phase = Phase::Done;
            return true;
        }
        let progress = !outgoing.messages.is_empty();
        let mut io = PollIo {
            stream: &mut self.stream,
            cx,
        };
        for message in outgoing.messages {
            if let tungstenite::Message::Close(Some(frame)) = &message {
                self.code = frame.code;
            }
            match self.ws.write(&mut io, message) {
                Ok(()) => {}
                Err(error) if would_block(&error) => {}
                Err(WsError::Protocol(ProtocolError::SendAfterClosing)) => {}
                Err(_) => {
                    self.phase = Phase::Done;
                    return true;
                }
            }
        }
        match self.ws.flush(&mut io) {
            Ok(()) => self.write_blocked = false,
            Err(error) if would_block(&error) => self.write_blocked = true,
            Err(WsError::ConnectionClosed) => self.phase = Phase::Done,
            Err(_) => self.phase = Phase::Done,
        }
        progress
    }

    /// Reads and dispatches up to a batch of messages. Returns whether any arrived.
    fn poll_incoming(&mut self, cx: &mut Context<'_>) -> bool {
        let mut progress = false;
        for _ in 0..32 {
            if !matches!(self.phase, Phase::Open) {
                return true;
            }
            let mut io = PollIo {
                stream: &mut self.stream,
                cx,
            };
            let message = match self.ws.read(&mut io) {
                Ok(message) => message,
                Err(error) if would_block(&error) => return progress,
                Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => {
                    self.phase = Phase::Done;
                    return true;
                }
                Err(WsError::Capacity(error)) => {
                    let reason = match error {
                        CapacityError::MessageTooLong { max_size, .. } => {
                            format!("message too big: the limit is {max_size} bytes")
                        }
                        CapacityError::TooManyHeaders => "too many headers".to_owned(),
                    };
                    self.fail(cx, close_frame(CloseCode::Size, &reason));
                    return true;
                }
                Err(WsError::Utf8(_)) => {
                    self.fail(
                        cx,
                        close_frame(CloseCode::Invalid, "text message is not UTF-8"),
                    );
                    return true;
                }
                Err(WsError::Protocol(ProtocolError::ResetWithoutClosingHandshake))
                | Err(WsError::Io(_)) => {
                    self.code = CloseCode::Abnormal;
                    self.phase = Phase::Done;
                    return true;
                }
                Err(error) => {
                    self.fail(cx, close_frame(CloseCode::Protocol, &error.to_string()));
                    return true;
                }
            };
            progress = true;
            self.connection.touch();
            match message {
                tungstenite::Message::Text(text) => {
                    self.call(cx, |consumer, connection| consumer.text(connection, &text))
                }
                tungstenite::Message::Binary(bytes) => self.call(cx, |consumer, connection| {
                    consumer.binary(connection, &bytes)
                }),
                tungstenite::Message::Close(frame) => {
                    self.connection.mark_closing();
                    if let Some(frame) = frame {
                        self.code = frame.code;
                    } else if self.code == CloseCode::Abnormal {
                        self.code = CloseCode::Status;
                    }
                }
                // Pings are answered by tungstenite; a pong only proves liveness.
                _ => {}
            }
        }
        progress
    }

    fn poll_draining(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.connection.take(cx.waker(), false).abort.is_some() {
            return Poll::Ready(()); // the close timeout ran out
        }
        let Phase::Draining { shut } = &mut self.phase else {
            return Poll::Ready(());
        };
        if !*shut {
            let mut io = PollIo {
                stream: &mut self.stream,
                cx,
            };
            match self.ws.flush(&mut io) {
                Err(error) if would_block(&error) => return Poll::Pending,
                _ => {}
            }
            match Pin::new(&mut self.stream).poll_shutdown(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(_) => *shut = true,
            }
        }
        let mut scratch = [0u8; 8192];
        loop {
            let mut buf = ReadBuf::new(&mut scratch);
            match Pin::new(&mut self.stream).poll_read(cx, buf.unfilled()) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Ok(())) if !buf.filled().is_empty() => {}
                Poll::Ready(_) => return Poll::Ready(()),
            }
        }
    }

    fn finish(&mut self) {
        if self.connection.is_finished() {
            return;
        }
        self.phase = Phase::Done;
        self.connection.finish();
        let code = self.code;
        let (consumer, connection) = (&mut self.consumer, &self.connection);
        if catch_unwind(AssertUnwindSafe(|| consumer.disconnect(connection, code))).is_err() {
            tracing::error!(
                connection = connection.id(),
                "tack-ws: the consumer panicked on disconnect"
            );
        }
    }
}

impl<S, C> Future for Driver<S, C>
where
    S: Read + Write + Unpin,
    C: Consumer,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // A few rounds, then yield so one busy connection cannot starve the others.
        for _ in 0..8 {
            match this.phase {
                Phase::Open => {
                    let wrote = this.poll_outgoing(cx);
                    if !matches!(this.phase, Phase::Open) {
                        continue;
                    }
                    let read = this.poll_incoming(cx);
                    if !wrote && !read {
                        return Poll::Pending;
                    }
                }
                Phase::Draining { .. } => {
                    if this.poll_draining(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.phase = Phase::Done;
                }
                Phase::Done => {
                    this.finish();
                    return Poll::Ready(());
                }
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

impl<S, C> Drop for Driver<S, C> {
    fn drop(&mut self) {
        // Dropped before the end (runtime shutdown): the groups still forget it.
        if !self.connection.is_finished() {
            self.connection.finish();
        }
    }
}
