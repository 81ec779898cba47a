//! ORM against raw drivers (filled in below).

fn main() {}
