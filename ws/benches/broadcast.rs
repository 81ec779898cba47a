//! Broadcast benchmark (being written).
fn main() {}
