#![doc = include_str!("../README.md")]

mod site;

pub use site::{AdminSite, ModelAdmin, TEMPLATES, permission};
