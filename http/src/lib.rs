#![doc = include_str!("../README.md")]

#[cfg(feature = "axum")]
pub mod axum;
mod body;
mod client;
mod logged;
mod problem;
mod response;

pub use body::{Body, BoxError, RequestBody};
pub use client::ClientInfo;
pub use logged::LoggedUser;
pub use problem::{PROBLEM_JSON, Problem};
pub use response::{Html, IntoResponse, Json, Response};
