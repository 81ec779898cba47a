#![doc = include_str!("../README.md")]

mod client;
pub mod db;
#[cfg(feature = "server")]
mod server;

pub use client::{TestClient, TestRequest, TestResponse};
#[cfg(feature = "server")]
pub use server::{Server, send, serve};
