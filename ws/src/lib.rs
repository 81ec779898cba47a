#![doc = include_str!("../README.md")]

mod attached;
// Without `hyper` some of the connections' internals go unused.
#[cfg_attr(not(feature = "hyper"), allow(dead_code))]
mod config;
#[cfg_attr(not(feature = "hyper"), allow(dead_code))]
mod connection;
mod consumer;
#[cfg(feature = "hyper")]
mod driver;
#[cfg(feature = "hyper")]
mod endpoint;
mod error;
mod groups;
pub mod handshake;
#[cfg(feature = "hyper")]
mod keepalive;
#[cfg(feature = "postgres")]
mod postgres;
#[cfg(feature = "redis")]
mod redis;
#[cfg(any(feature = "postgres", feature = "redis"))]
mod remote;
#[cfg(any(feature = "postgres", feature = "redis"))]
mod wire;

pub use attached::{Attached, Outgoing};
pub use config::WsConfig;
pub use connection::{Connection, Message};
pub use consumer::Consumer;
#[cfg(feature = "hyper")]
pub use endpoint::{ConnectionTask, WebSocketEndpoint};
pub use error::Error;
pub use groups::{ChannelLayer, Deliver, Groups, InMemoryLayer};
#[cfg(feature = "postgres")]
pub use postgres::{PAYLOAD_TABLE, PAYLOAD_TTL_SECONDS, PostgresLayer};
#[cfg(feature = "redis")]
pub use redis::RedisLayer;
/// The shared UTF-8 bytes of a text [`Message`].
pub use tungstenite::Utf8Bytes;
/// Websocket close codes (1000 normal, 1001 going away, 1008 policy, 1009 too big, 1011 error).
pub use tungstenite::protocol::frame::coding::CloseCode;

#[cfg(feature = "axum")]
tack_http::impl_axum_response!(Error);
