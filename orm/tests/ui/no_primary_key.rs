use tack_orm::Model;

#[derive(Model, Clone)]
struct Note {
    title: String,
}

fn main() {}
