#![doc = include_str!("../README.md")]

pub mod bench;
#[cfg(feature = "server")]
mod browser;
mod client;
pub mod db;
pub mod proxy;
#[cfg(feature = "server")]
mod server;
#[cfg(feature = "server")]
mod socket;

#[cfg(feature = "server")]
pub use browser::{Browser, csrf_token};
pub use client::{TestClient, TestRequest, TestResponse};
#[cfg(feature = "server")]
pub use server::{Server, send, serve};
#[cfg(feature = "server")]
pub use socket::SocketClient;

/// A `multipart/form-data` body of text fields, then files given as
/// (field, file name, content type, bytes), and its `Content-Type` value.
pub fn multipart(
    fields: &[(&str, &str)],
    files: &[(&str, &str, &str, &[u8])],
) -> (String, Vec<u8>) {
    const BOUNDARY: &str = "tack-test-boundary-5f1c";
    let mut body = Vec::new();
    for (name, value) in fields {
        let head =
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n");
        body.extend_from_slice(head.as_bytes());
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    for (name, file_name, content_type, bytes) in files {
        let head = format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
        );
        body.extend_from_slice(head.as_bytes());
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={BOUNDARY}"), body)
}
