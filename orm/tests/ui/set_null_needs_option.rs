use tack_orm::{ForeignKey, Model};

#[derive(Model, Clone)]
struct Author {
    id: i64,
}

#[derive(Model, Clone)]
struct Note {
    id: i64,
    #[tack(on_delete = "set_null")]
    author: ForeignKey<Author>,
}

fn main() {}
