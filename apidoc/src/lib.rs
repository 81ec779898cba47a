#![doc = include_str!("../README.md")]

mod api_doc;
mod error;
mod example;
pub mod openapi;
mod operation;
mod page;
mod pattern;
mod schema;
mod service;

pub use api_doc::ApiDoc;
pub use error::Error;
pub use example::example;
pub use openapi::{Method, OpenApi, Operation, Parameter, SecurityScheme};
pub use page::render_html;
pub use schema::{PROBLEM_SCHEMA, schema_ref};
pub use service::DocsService;
