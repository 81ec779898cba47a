//! Matching benchmark over the GitHub REST API routes (filled in next).

fn main() {}
