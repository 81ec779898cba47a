//! Limits, liveness and handshake policy for an endpoint.

use std::time::Duration;

/// How an endpoint accepts and runs connections.
///
/// The defaults suit a web app: messages and frames up to 1 MiB (tungstenite
/// allows 64 MiB), 256 queued outgoing messages per connection, a ping after
/// 30 s of silence and a disconnect when nothing arrives for 10 s more, and
/// same-origin browsers only.
#[derive(Debug, Clone)]
pub struct WsConfig {
    pub(crate) max_message_size: usize,
    pub(crate) max_frame_size: usize,
    pub(crate) send_queue: usize,
    pub(crate) ping_interval: Duration,
    pub(crate) ping_timeout: Duration,
    pub(crate) close_timeout: Duration,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) protocols: Vec<String>,
}

impl Default for WsConfig {
    fn default() -> Self {
        WsConfig {
            max_message_size: 1 << 20,
            max_frame_size: 1 << 20,
            send_queue: 256,
            ping_interval: Duration::from_secs(30),
            ping_timeout: Duration::from_secs(10),
            close_timeout: Duration::from_secs(5),
            allowed_origins: Vec::new(),
            protocols: Vec::new(),
        }
    }
}

impl WsConfig {
    /// The default configuration.
    pub fn new() -> Self {
        WsConfig::default()
    }

    /// The largest incoming message, in bytes; a bigger one closes the
    /// connection with code 1009. Frames are capped at the same size unless
    /// [`WsConfig::with_max_frame_size`] says otherwise.
    pub fn with_max_message_size(mut self, bytes: usize) -> Self {
        self.max_message_size = bytes;
        self.max_frame_size = self.max_frame_size.min(bytes);
        self
    }

    /// The largest incoming frame payload, in bytes.
    pub fn with_max_frame_size(mut self, bytes: usize) -> Self {
        self.max_frame_size = bytes;
        self
    }

    /// How many outgoing messages may wait for one client. When a send finds
    /// the queue full, the client is too slow: it is disconnected with 1008.
    pub fn with_send_queue(mut self, messages: usize) -> Self {
        self.send_queue = messages.max(1);
        self
    }

    /// Ping a connection after `interval` without traffic from it, and close it
    /// (code 1001) when nothing arrives within `timeout` after that.
    pub fn with_keepalive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.ping_interval = interval;
        self.ping_timeout = timeout;
        self
    }

    /// How long a closing connection may wait for the client's close frame
    /// (or drain its input) before it is dropped.
    pub fn with_close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Accepts browsers whose `Origin` is exactly `origin`
    /// (`"https://news.example"`), or any origin with `"*"`.
    ///
    /// With no allowed origin configured, only same-origin browsers are
    /// accepted: the `Origin`'s host must equal the request's `Host`.
    /// Requests without `Origin` (non-browser clients) are always accepted:
    /// the check guards against cross-site websocket hijacking, which only
    /// browsers can be tricked into.
    pub fn with_allowed_origin(mut self, origin: impl Into<String>) -> Self {
        self.allowed_origins.push(origin.into());
        self
    }

    /// A subprotocol this endpoint speaks, in order of preference. The first
    /// one the client also offers is chosen ([`crate::Connection::protocol`]).
    pub fn with_protocol(mut self, protocol: impl Into<String>) -> Self {
        self.protocols.push(protocol.into());
        self
    }

    /// The largest message accepted, in bytes (for a driver of its own:
    /// [`Attached`](crate::Attached)).
    pub fn max_message_size(&self) -> usize {
        self.max_message_size
    }

    pub(crate) fn tungstenite(&self) -> tungstenite::protocol::WebSocketConfig {
        tungstenite::protocol::WebSocketConfig::default()
            .max_message_size(Some(self.max_message_size))
            .max_frame_size(Some(self.max_frame_size))
            .read_buffer_size(16 * 1024)
            .write_buffer_size(32 * 1024)
    }
}
