//! Messages both ways, close codes and the message size limit, over a real socket.

mod common;

use common::*;
use tack_ws::{CloseCode, Groups, WsConfig};

#[test]
fn echoes_text_and_binary() {
    let (_server, events, mut client, id) = echo_client(WsConfig::default());

    client.send(tungstenite::Message::text("héllo")).unwrap();
    assert_eq!(read_text(&mut client), "héllo");
    assert_eq!(next_event(&events), Event::Text(id, "héllo".into()));

    client
        .send(tungstenite::Message::binary(vec![0u8, 1, 2]))
        .unwrap();
    match client.read().unwrap() {
        tungstenite::Message::Binary(bytes) => assert_eq!(&bytes[..], &[0, 1, 2]),
        other => panic!("expected the binary echo, got {other:?}"),
    }

    client.close(None).unwrap();
    while client.read().is_ok() {}
    assert_eq!(
        next_event(&events),
        Event::Disconnected(id, CloseCode::Status)
    );
}

#[test]
fn a_normal_close_reports_its_code() {
    let (_server, events, mut client, id) = echo_client(WsConfig::default());
    client
        .close(Some(tungstenite::protocol::CloseFrame {
            code: CloseCode::Normal,
            reason: "bye".into(),
        }))
        .unwrap();
    // The server answers the close frame, then hangs up.
    loop {
        match client.read() {
            Ok(_) => {}
            Err(tungstenite::Error::ConnectionClosed) => break,
            Err(error) => panic!("expected a clean close, got {error}"),
        }
    }
    assert_eq!(
        next_event(&events),
        Event::Disconnected(id, CloseCode::Normal)
    );
}

#[test]
fn oversize_message_is_closed_with_1009() {
    let config = WsConfig::default().with_max_message_size(64 * 1024);
    let (_server, events, mut client, id) = echo_client(config);

    // Just under the limit passes.
    let fits = "a".repeat(64 * 1024);
    client
        .send(tungstenite::Message::text(fits.clone()))
        .unwrap();
    assert_eq!(read_text(&mut client).len(), fits.len());
    assert!(matches!(next_event(&events), Event::Text(..)));

    // Over it (in one frame of 1 MiB) closes with 1009, and the client still
    // reads the close frame: the server drains what it sent.
    let _ = client.send(tungstenite::Message::text("b".repeat(1 << 20)));
    assert_eq!(read_close(&mut client), CloseCode::Size);
    drop(client);
    assert_eq!(
        next_event(&events),
        Event::Disconnected(id, CloseCode::Size)
    );
}

#[test]
fn oversize_fragmented_message_is_closed_with_1009() {
    let config = WsConfig::default()
        .with_max_message_size(64 * 1024)
        .with_max_frame_size(16 * 1024);
    let (_server, events, mut client, id) = echo_client(config);
    // Frames of 8 KiB each are fine; their sum passes the message limit.
    let chunk = bytes::Bytes::from(vec![b'c'; 8 * 1024]);
    use tungstenite::protocol::frame::{
        Frame,
        coding::{Data, OpCode},
    };
    let mut first = true;
    for _ in 0..10 {
        let opcode = if first {
            OpCode::Data(Data::Text)
        } else {
            OpCode::Data(Data::Continue)
        };
        first = false;
        let _ = client.write(tungstenite::Message::Frame(Frame::message(
            chunk.clone(),
            opcode,
            false,
        )));
    }
    let _ = client.flush();
    assert_eq!(read_close(&mut client), CloseCode::Size);
    drop(client);
    assert_eq!(
        next_event(&events),
        Event::Disconnected(id, CloseCode::Size)
    );
}

#[test]
fn a_panicking_consumer_closes_with_1011_and_the_server_keeps_serving() {
    let (server, events, mut client, id) = echo_client(WsConfig::default());
    client.send(tungstenite::Message::text("panic!")).unwrap();
    assert_eq!(read_close(&mut client), CloseCode::Error);
    drop(client);
    assert_eq!(
        next_event(&events),
        Event::Disconnected(id, CloseCode::Error)
    );

    let mut next = connect(server.addr(), "/ws/articles/hello/");
    connected(&events);
    next.send(tungstenite::Message::text("still here")).unwrap();
    assert_eq!(read_text(&mut next), "still here");
}

#[test]
fn shutting_down_closes_every_connection_with_1001() {
    let (endpoint, events) = echo_endpoint(WsConfig::default(), Groups::in_memory());
    let server = serve(endpoint.clone());
    let mut clients: Vec<Client> = (0..3)
        .map(|_| connect(server.addr(), "/ws/articles/hello/"))
        .collect();
    for _ in 0..3 {
        connected(&events);
    }
    assert_eq!(endpoint.open_connections(), 3);
    endpoint.close_all(CloseCode::Away, "server restarting");
    for client in &mut clients {
        assert_eq!(read_close(client), CloseCode::Away);
        // Answer the close handshake, as browsers do.
        let _ = client.flush();
    }
    for _ in 0..3 {
        assert!(matches!(
            next_event(&events),
            Event::Disconnected(_, CloseCode::Away)
        ));
    }
    assert_eq!(endpoint.open_connections(), 0);
}

#[test]
fn the_server_closes_with_1000_after_queued_messages() {
    let (_server, events, mut client, id) = echo_client(WsConfig::default());
    client.send(tungstenite::Message::text("bye")).unwrap();
    assert_eq!(read_close(&mut client), CloseCode::Normal);
    // The client answers the close frame; the server then hangs up.
    let _ = client.flush();
    assert_eq!(next_event(&events), Event::Text(id, "bye".into()));
    assert_eq!(
        next_event(&events),
        Event::Disconnected(id, CloseCode::Normal)
    );
}

#[test]
fn invalid_utf8_text_is_closed_with_1007() {
    use tungstenite::protocol::frame::{
        Frame,
        coding::{Data, OpCode},
    };
    let (_server, events, mut client, id) = echo_client(WsConfig::default());
    let bad = bytes::Bytes::from_static(&[0xff, 0xfe, 0xfd]);
    let frame = Frame::message(bad, OpCode::Data(Data::Text), true);
    client.send(tungstenite::Message::Frame(frame)).unwrap();
    assert_eq!(read_close(&mut client), CloseCode::Invalid);
    drop(client);
    assert_eq!(
        next_event(&events),
        Event::Disconnected(id, CloseCode::Invalid)
    );
}
