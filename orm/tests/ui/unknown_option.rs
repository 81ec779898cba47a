use tack_orm::Model;

#[derive(Model, Clone)]
struct Note {
    id: i64,
    #[tack(maxlength = 20)]
    title: String,
}

fn main() {}
