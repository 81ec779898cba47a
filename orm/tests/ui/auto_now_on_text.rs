use tack_orm::Model;

#[derive(Model, Clone)]
struct Note {
    id: i64,
    #[tack(auto_now)]
    title: String,
}

fn main() {}
