use tack_orm::Model;

#[derive(Model, Clone)]
enum Note {
    A,
}

fn main() {}
