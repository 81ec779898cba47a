//! The session layer behind a real hyper server on a loopback socket.

mod common;

use bytes::Bytes;
use http::Request;
use tack_sessions::{MemoryStore, SessionLayer};
use tower::Layer;

#[tokio::test]
async fn sessions_survive_a_round_trip_over_tcp() {
    let service = SessionLayer::new(MemoryStore::new())
        .with_secure(false)
        .layer(tower::service_fn(common::app));
    let server = tack_test::serve(service);
    let address = server.addr();

    async fn get(
        address: std::net::SocketAddr,
        path: &str,
        cookie: Option<&str>,
    ) -> (Option<String>, String) {
        let mut request = Request::builder().uri(path).header("host", "localhost");
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let response = tack_test::send(address, request.body(Bytes::new()).unwrap()).await;
        let set_cookie = response
            .headers()
            .get("set-cookie")
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
        (
            set_cookie,
            String::from_utf8(response.into_body().to_vec()).unwrap(),
        )
    }

    let run = async {
        let (cookie, _) = get(address, "/set?name=ada", None).await;
        let cookie = cookie.expect("the first write sets the cookie");
        assert_eq!(
            get(address, "/get?name", Some(&cookie)).await,
            (None, "ada".to_owned())
        );
        assert_eq!(get(address, "/get?name", None).await.1, "none");
    };
    tokio::time::timeout(common::GUARD, run)
        .await
        .expect("the server answers");
}
