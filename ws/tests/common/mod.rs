//! A real hyper server on loopback and real websocket clients, for the behaviour tests.
#![allow(dead_code)]

use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::Duration;

use tack_http::Problem;
use tack_ws::{CloseCode, Connection, Consumer, Groups, WebSocketEndpoint, WsConfig};
use tungstenite::client::IntoClientRequest;
use tungstenite::stream::MaybeTlsStream;

/// A guard against hangs: every blocking read in a test gives up after this.
pub const GUARD: Duration = Duration::from_secs(20);

pub type Client = tungstenite::WebSocket<MaybeTlsStream<TcpStream>>;

pub use tack_test::{Server, serve};

/// An endpoint spawning its connections on tokio.
pub fn endpoint<F, C>(factory: F, config: WsConfig) -> WebSocketEndpoint<F>
where
    F: Fn() -> C + Send + Sync + 'static,
    C: Consumer,
{
    WebSocketEndpoint::tokio(factory).with_config(config)
}

/// Opens a websocket to `path` with extra headers; the handshake's error
/// response comes back as `Err`.
pub fn try_connect(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Client, tungstenite::Error> {
    let mut request = format!("ws://{addr}{path}").into_client_request()?;
    for (name, value) in headers {
        request.headers_mut().append(
            http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
            http::HeaderValue::from_str(value).unwrap(),
        );
    }
    let (mut client, _response) = tungstenite::connect(request)?;
    if let MaybeTlsStream::Plain(stream) = client.get_mut() {
        stream.set_read_timeout(Some(GUARD)).unwrap();
    }
    Ok(client)
}

pub fn connect(addr: SocketAddr, path: &str) -> Client {
    try_connect(addr, path, &[]).expect("the websocket handshake succeeds")
}

/// Reads the next data message's text.
pub fn read_text(client: &mut Client) -> String {
    loop {
        match client.read().expect("a message before the guard timeout") {
            tungstenite::Message::Text(text) => return text.to_string(),
            tungstenite::Message::Binary(bytes) => {
                return String::from_utf8_lossy(&bytes).into_owned();
            }
            tungstenite::Message::Close(frame) => panic!("closed by the server: {frame:?}"),
            _ => {}
        }
    }
}

/// Reads until the server's close frame and returns its code.
pub fn read_close(client: &mut Client) -> CloseCode {
    loop {
        match client.read() {
            Ok(tungstenite::Message::Close(frame)) => {
                return frame.map_or(CloseCode::Status, |frame| frame.code);
            }
            Ok(_) => {}
            Err(error) => panic!("expected a close frame, got {error}"),
        }
    }
}

/// What the test consumer saw.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Connected(u64, String),
    Text(u64, String),
    Disconnected(u64, CloseCode),
}

/// Echoes messages, joins the group named by the last path segment, and
/// reports every event.
pub struct Echo {
    pub events: Sender<Event>,
    pub groups: Groups,
}

impl Consumer for Echo {
    fn connect(
        &mut self,
        connection: &Connection,
        request: &http::request::Parts,
    ) -> Result<(), Problem> {
        let path = request.uri.path().to_owned();
        if path.contains("forbidden") {
            return Err(Problem::forbidden("This article's comments are private."));
        }
        let group = path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        self.groups
            .join(&group, connection)
            .map_err(|error| error.to_problem())?;
        let _ = self.events.send(Event::Connected(connection.id(), path));
        Ok(())
    }

    fn text(&mut self, connection: &Connection, text: &str) {
        assert_ne!(text, "panic!", "the test asked the consumer to panic");
        let _ = self
            .events
            .send(Event::Text(connection.id(), text.to_owned()));
        if text == "bye" {
            return connection.close(CloseCode::Normal, "see you");
        }
        let _ = connection.send(text);
    }

    fn binary(&mut self, connection: &Connection, bytes: &[u8]) {
        let _ = connection.send(bytes.to_vec());
    }

    fn disconnect(&mut self, connection: &Connection, code: CloseCode) {
        let _ = self.events.send(Event::Disconnected(connection.id(), code));
    }
}

/// The echo endpoint and its events.
pub fn echo_endpoint(
    config: WsConfig,
    groups: Groups,
) -> (
    WebSocketEndpoint<impl Fn() -> Echo + Send + Sync + 'static>,
    Receiver<Event>,
) {
    let (events, received) = channel();
    let factory = move || Echo {
        events: events.clone(),
        groups: groups.clone(),
    };
    (endpoint(factory, config), received)
}

/// A server with the echo endpoint, and its events.
pub fn echo_server(config: WsConfig, groups: Groups) -> (Server, Receiver<Event>) {
    let (endpoint, events) = echo_endpoint(config, groups);
    (serve(endpoint), events)
}

/// An echo server with one client connected: the server, its events, the
/// client and its connection id.
pub fn echo_client(config: WsConfig) -> (Server, Receiver<Event>, Client, u64) {
    let (server, events) = echo_server(config, Groups::in_memory());
    let client = connect(server.addr(), "/ws/articles/hello/");
    let id = connected(&events);
    (server, events, client, id)
}

/// The next event, or a panic after the guard timeout.
pub fn next_event(events: &Receiver<Event>) -> Event {
    events
        .recv_timeout(GUARD)
        .expect("an event before the guard timeout")
}

/// Waits for the connected event and returns the connection id.
pub fn connected(events: &Receiver<Event>) -> u64 {
    match next_event(events) {
        Event::Connected(id, _) => id,
        other => panic!("expected a connection, got {other:?}"),
    }
}

pub mod layers;
