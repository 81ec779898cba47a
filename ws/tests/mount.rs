//! Mounting the endpoint: request extensions reach the consumer, messages
//! sent on connect arrive first, and the endpoint works as an axum route.

mod common;

use std::sync::mpsc::{Sender, channel};

use common::*;
use tack_http::Problem;
use tack_ws::{Connection, Consumer, Groups, WsConfig};
use tower_service::Service;

/// What a session or auth layer would put in the request's extensions.
#[derive(Clone)]
struct User(&'static str);

struct Greeter {
    seen: Sender<(Option<&'static str>, Option<String>)>,
}

impl Consumer for Greeter {
    fn connect(
        &mut self,
        connection: &Connection,
        request: &http::request::Parts,
    ) -> Result<(), Problem> {
        let user = request.extensions.get::<User>().map(|user| user.0);
        let _ = self
            .seen
            .send((user, connection.protocol().map(str::to_owned)));
        let Some(user) = user else {
            return Err(Problem::forbidden("Sign in to follow the comments."));
        };
        connection
            .send(format!("hello {user}"))
            .map_err(|error| error.to_problem())
    }
}

#[test]
fn the_consumer_sees_extensions_and_greets_first() {
    let (seen, saw) = channel();
    let config = WsConfig::default().with_protocol("news.v1");
    let endpoint = endpoint(move || Greeter { seen: seen.clone() }, config);
    // A layer in front of the endpoint, as a session or auth layer would be.
    let service = tower::service_fn(move |mut request: http::Request<tack_http::Body>| {
        if request.headers().contains_key("x-test-user") {
            request.extensions_mut().insert(User("ada"));
        }
        endpoint.clone().call(request)
    });
    let server = serve(service);

    let mut client = try_connect(
        server.addr(),
        "/ws/articles/hello/",
        &[
            ("x-test-user", "1"),
            ("sec-websocket-protocol", "chat, news.v1"),
        ],
    )
    .expect("a signed-in user is accepted");
    assert_eq!(read_text(&mut client), "hello ada");
    assert_eq!(
        saw.recv_timeout(GUARD).unwrap(),
        (Some("ada"), Some("news.v1".to_owned()))
    );

    let refused = try_connect(server.addr(), "/ws/articles/hello/", &[]).map(drop);
    assert!(
        matches!(&refused, Err(tungstenite::Error::Http(response)) if response.status() == 403),
        "{refused:?}"
    );
    assert_eq!(saw.recv_timeout(GUARD).unwrap(), (None, None));
}

#[test]
fn works_as_an_axum_route() {
    let groups = Groups::in_memory();
    let (endpoint, events) = echo_endpoint(WsConfig::default(), groups.clone());
    let app = axum::Router::new().route_service("/ws/articles/{slug}/", endpoint);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move { axum::serve(listener, app).await });

    let mut client = connect(addr, "/ws/articles/axum-news/");
    connected(&events);
    groups.broadcast("axum-news", "live from axum").unwrap();
    assert_eq!(read_text(&mut client), "live from axum");
    client.send(tungstenite::Message::text("echo")).unwrap();
    assert_eq!(read_text(&mut client), "echo");
}
