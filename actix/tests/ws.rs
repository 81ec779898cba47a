//! Tack's websocket consumers and groups under actix-ws, with real
//! websocket clients on a real actix server: echo, group broadcasts from
//! another thread, a refusal before the upgrade, a panicking consumer
//! closed with 1011, an oversized message with 1009, and members leaving
//! their groups when they close.

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use actix_web::{HttpRequest, web};
use tack_ws::{CloseCode, Connection, Consumer, Groups, WsConfig};
use tungstenite::stream::MaybeTlsStream;

type Client = tungstenite::WebSocket<MaybeTlsStream<TcpStream>>;

struct Chat {
    groups: Groups,
}

impl Consumer for Chat {
    fn connect(
        &mut self,
        connection: &Connection,
        request: &http::request::Parts,
    ) -> Result<(), tack_http::Problem> {
        if request.uri.path().ends_with("/private") {
            return Err(
                tack_http::Problem::new(http::StatusCode::FORBIDDEN).with_detail("not for you")
            );
        }
        self.groups
            .join("room", connection)
            .map_err(|e| e.to_problem())
    }

    fn text(&mut self, connection: &Connection, text: &str) {
        if text == "panic" {
            panic!("the consumer panicked on purpose");
        }
        let _ = connection.send(format!("echo: {text}"));
    }
}

fn server(groups: Groups) -> SocketAddr {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = actix_web::HttpServer::new(move || {
                let groups = groups.clone();
                actix_web::App::new().route(
                    "/ws/{name}",
                    web::get().to(move |request: HttpRequest, body: web::Payload| {
                        let chat = Chat {
                            groups: groups.clone(),
                        };
                        async move {
                            tack_actix::websocket(
                                &request,
                                body,
                                chat,
                                &WsConfig::new().with_max_message_size(1024),
                            )
                        }
                    }),
                )
            })
            .workers(1)
            .bind(("127.0.0.1", 0))
            .unwrap();
            sender.send(server.addrs()[0]).unwrap();
            server.run().await.unwrap();
        });
    });
    receiver.recv().unwrap()
}

fn connect(addr: SocketAddr, path: &str) -> Result<Client, tungstenite::Error> {
    let (mut client, _) = tungstenite::connect(format!("ws://{addr}{path}"))?;
    if let MaybeTlsStream::Plain(stream) = client.get_mut() {
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
    }
    Ok(client)
}

fn read_text(client: &mut Client) -> String {
    loop {
        match client.read().expect("a message") {
            tungstenite::Message::Text(text) => return text.to_string(),
            tungstenite::Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => {}
        }
    }
}

fn read_close(client: &mut Client) -> u16 {
    loop {
        match client.read() {
            Ok(tungstenite::Message::Close(frame)) => {
                return frame.map_or(1005, |f| u16::from(f.code));
            }
            Ok(_) => {}
            Err(error) => panic!("no close frame: {error}"),
        }
    }
}

fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn consumers_and_groups_work_under_actix_ws() {
    let groups = Groups::in_memory();
    let addr = server(groups.clone());
    let mut alice = connect(addr, "/ws/alice").unwrap();
    let mut bob = connect(addr, "/ws/bob").unwrap();
    wait_for("both joined the room", || groups.local_len("room") == 2);

    alice.send(tungstenite::Message::text("hello")).unwrap();
    assert_eq!(read_text(&mut alice), "echo: hello");
    // A broadcast from another thread reaches every member.
    groups.broadcast("room", "news for the room").unwrap();
    assert_eq!(read_text(&mut alice), "news for the room");
    assert_eq!(read_text(&mut bob), "news for the room");

    // A client that closes leaves the room.
    bob.close(None).unwrap();
    let _ = read_close(&mut bob);
    wait_for("bob left the room", || groups.local_len("room") == 1);

    // A message over the limit closes with 1009; a panic with 1011.
    alice
        .send(tungstenite::Message::text("x".repeat(4096)))
        .unwrap();
    assert_eq!(read_close(&mut alice), 1009);
    let mut carol = connect(addr, "/ws/carol").unwrap();
    carol.send(tungstenite::Message::text("panic")).unwrap();
    assert_eq!(read_close(&mut carol), u16::from(CloseCode::Error));
    wait_for("everyone left", || groups.local_len("room") == 0);

    // The consumer's refusal is answered before the upgrade.
    match connect(addr, "/ws/private") {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 403),
        other => panic!(
            "expected a refusal, got {:?}",
            other.map(|_| "a connection")
        ),
    }
}
