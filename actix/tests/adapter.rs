//! The adapter under a real actix-web server on loopback, driven by a raw
//! HTTP/1.1 client: what crosses (method, path, query, headers, the peer
//! address, status), bodies streamed both ways, and failures answered 500
//! without stopping the server.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use tack_http::{Body, BoxError, ClientInfo};

/// What the test service does, by path.
async fn service(request: Request<Body>) -> Result<Response<Body>, BoxError> {
    let path = request.uri().path().to_owned();
    match path.as_str() {
        "/fail" | "/nested/fail" => Err("the service failed on purpose".into()),
        "/panic" => panic!("the service panicked on purpose"),
        "/teapot" => Ok(Response::builder()
            .status(StatusCode::IM_A_TEAPOT)
            .header("x-kind", "teapot")
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .body(Body::from("short and stout"))?),
        "/empty" => Ok(Response::builder()
            .status(StatusCode::NO_CONTENT)
            .body(Body::empty())?),
        "/stream" => {
            // 100 chunks of unknown total size: sent chunked, as produced.
            let chunks = futures_util::stream::iter((0..100).map(|i| {
                Ok::<_, BoxError>(http_body::Frame::data(Bytes::from(format!(
                    "chunk {i:03}\n"
                ))))
            }));
            Ok(Response::new(Body::new(http_body_util::StreamBody::new(
                chunks,
            ))))
        }
        "/upload" => {
            // Counts the frames as they arrive: a streamed body comes in many.
            let mut body = request.into_body();
            let (mut frames, mut bytes, mut sum) = (0usize, 0usize, 0u64);
            while let Some(frame) = body.frame().await {
                if let Ok(data) = frame?.into_data() {
                    frames += 1;
                    bytes += data.len();
                    sum += data.iter().map(|b| u64::from(*b)).sum::<u64>();
                }
            }
            Ok(Response::new(Body::from(format!(
                "{bytes} bytes in {frames} frames, sum {sum}"
            ))))
        }
        _ => {
            let client = ClientInfo::of(&request)
                .addr
                .map(|a| a.to_string())
                .unwrap_or_default();
            let seen = format!(
                "{} {} x-test={} client={client}",
                request.method(),
                request.uri(),
                request
                    .headers()
                    .get("x-test")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-"),
            );
            Ok(Response::builder()
                .header("x-echo", "yes")
                .header("content-type", "text/plain")
                .body(Body::from(seen))?)
        }
    }
}

/// An actix-web server on a free loopback port, on a thread of its own.
fn actix_server() -> SocketAddr {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = actix_web::HttpServer::new(|| {
                let tack = tower::service_fn(service);
                actix_web::App::new()
                    .route(
                        "/actix",
                        actix_web::web::get().to(|| async { "actix's own route" }),
                    )
                    .service(tack_actix::scope(
                        "/nested",
                        tack_actix::handler(tack).nested(),
                    ))
                    .default_service(actix_web::web::to(tack_actix::handler(tack)))
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

/// The status, the headers (lowercased names) and the body, de-chunked.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn exchange(addr: SocketAddr, head: &str, body: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Answer {
        status,
        headers,
        body,
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..line_end]).unwrap().trim(), 16)
            .unwrap();
        raw = &raw[line_end + 2..];
        if size == 0 {
            return body;
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

fn get(addr: SocketAddr, target: &str, extra: &str) -> Answer {
    exchange(
        addr,
        &format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{extra}\r\n"),
        b"",
    )
}

#[test]
fn method_uri_headers_and_peer_cross_and_actix_keeps_its_routes() {
    let addr = actix_server();
    let echo = get(addr, "/articles/caf%C3%A9/?page=2&q=a+b", "X-Test: abc\r\n");
    assert_eq!(echo.status, 200, "{}", echo.text());
    assert_eq!(
        echo.text(),
        "GET /articles/caf%C3%A9/?page=2&q=a+b x-test=abc client=127.0.0.1"
    );
    assert_eq!(echo.header("x-echo"), Some("yes"));
    assert_eq!(
        echo.header("content-length"),
        Some(echo.body.len().to_string().as_str())
    );
    // Under a scope, `nested()` hands on the path below it.
    let nested = get(addr, "/nested/7/?q=2", "");
    assert_eq!(nested.text(), "GET /7/?q=2 x-test=- client=127.0.0.1");
    assert_eq!(get(addr, "/actix", "").text(), "actix's own route");
}

#[test]
fn status_headers_and_empty_bodies_come_back_as_they_were() {
    let addr = actix_server();
    let teapot = get(addr, "/teapot", "");
    assert_eq!(teapot.status, 418);
    assert_eq!(teapot.header("x-kind"), Some("teapot"));
    let cookies: Vec<&str> = teapot
        .headers
        .iter()
        .filter(|(n, _)| n == "set-cookie")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(cookies, ["a=1", "b=2"], "repeated headers stay repeated");
    assert_eq!(teapot.text(), "short and stout");
    let empty = get(addr, "/empty", "");
    assert_eq!(empty.status, 204);
    assert!(empty.body.is_empty());
    assert_eq!(
        empty.header("content-type"),
        None,
        "no content type is made up"
    );
}

#[test]
fn bodies_stream_both_ways() {
    let addr = actix_server();
    // 4 MiB uploaded in 64 KiB chunks reaches the service in many frames.
    let chunk: Vec<u8> = (0..65_536u32).map(|i| (i % 251) as u8).collect();
    let mut body = Vec::new();
    for _ in 0..64 {
        body.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        body.extend_from_slice(&chunk);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"0\r\n\r\n");
    let sum: u64 = 64 * chunk.iter().map(|b| u64::from(*b)).sum::<u64>();
    let upload = exchange(
        addr,
        "POST /upload HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n",
        &body,
    );
    assert_eq!(upload.status, 200, "{}", upload.text());
    let text = upload.text();
    assert!(
        text.starts_with(&format!("{} bytes in ", 64 * 65_536))
            && text.ends_with(&format!("sum {sum}")),
        "{text}"
    );
    let frames: usize = text
        .split(" in ")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(frames > 1, "streamed, not buffered into one frame: {text}");

    // A body of unknown size goes out chunked, whole.
    let streamed = get(addr, "/stream", "");
    assert_eq!(streamed.header("transfer-encoding"), Some("chunked"));
    let expected: String = (0..100).map(|i| format!("chunk {i:03}\n")).collect();
    assert_eq!(streamed.text(), expected);
}

#[test]
fn errors_and_panics_are_500s_and_the_server_keeps_serving() {
    let addr = actix_server();
    for path in ["/fail", "/panic", "/nested/fail", "/panic"] {
        let failed = get(addr, path, "");
        assert_eq!(failed.status, 500, "{path}: {}", failed.text());
        assert!(
            !failed.text().contains("on purpose"),
            "no details leak: {}",
            failed.text()
        );
    }
    assert_eq!(get(addr, "/still-here", "").status, 200);
}
