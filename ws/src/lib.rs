//! Tack's websockets: handshake, consumers, groups and channel layers on tungstenite.
//!
//! Work in progress: this crate is being built (see the project issues).
