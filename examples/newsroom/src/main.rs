//! The newsroom example app (first skeleton: the batteries are wired in as they land).

use std::convert::Infallible;
use std::net::SocketAddr;

use http::{Request, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use tack_http::{Html, IntoResponse, Response};

async fn handle(request: Request<Incoming>) -> Result<Response, Infallible> {
    Ok(match request.uri().path() {
        "/" => Html("<!doctype html><title>Newsroom</title><h1>Newsroom</h1>").into_response(),
        _ => (StatusCode::NOT_FOUND, Html("<h1>Not found</h1>")).into_response(),
    })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::var("NEWSROOM_ADDR")
        .unwrap_or_else(|_| "127.0.0.1:8000".to_owned())
        .parse()
        .map_err(|e| std::io::Error::other(format!("NEWSROOM_ADDR: {e}")))?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("newsroom listening on http://{addr}");
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            let service = hyper::service::service_fn(handle);
            let _ = Builder::new(TokioExecutor::new())
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
