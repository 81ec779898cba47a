#![doc = include_str!("../README.md")]

mod cookie_store;
#[cfg(feature = "orm")]
mod db_store;
mod error;
mod layer;
mod memory;
mod messages;
mod session;
pub mod signing;
mod store;

pub use cookie_store::{CookieStore, DEFAULT_MAX_COOKIE_SIZE};
#[cfg(feature = "orm")]
pub use db_store::{DbStore, MIGRATIONS, StoredSession, models};
pub use error::{BoxError, Error};
pub use layer::{ResponseFuture, Saved, SessionLayer, SessionService};
pub use memory::MemoryStore;
pub use messages::{Level, Message, Messages};
pub use session::{Expiry, Session};
pub use signing::SecretKey;
pub use store::{Record, SessionId, SessionStore, StoreFuture};

#[cfg(feature = "axum")]
tack_http::impl_axum_extension!(Session, "tack_sessions::SessionLayer");
#[cfg(feature = "axum")]
tack_http::impl_axum_extension!(Messages, "tack_sessions::SessionLayer");
#[cfg(feature = "axum")]
tack_http::impl_axum_response!(Error);
