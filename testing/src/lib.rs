#![doc = include_str!("../README.md")]

pub mod bench;
mod client;
pub mod db;
#[cfg(feature = "server")]
mod server;
#[cfg(feature = "server")]
mod socket;

pub use client::{TestClient, TestRequest, TestResponse};
#[cfg(feature = "server")]
pub use server::{Server, send, serve};
#[cfg(feature = "server")]
pub use socket::SocketClient;
