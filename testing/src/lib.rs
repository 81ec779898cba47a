#![doc = include_str!("../README.md")]

mod client;
pub mod db;

pub use client::{TestClient, TestRequest, TestResponse};
