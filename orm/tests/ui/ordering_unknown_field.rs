use tack_orm::Model;

#[derive(Model, Clone)]
#[tack(ordering = "title,-published")]
struct Note {
    id: i64,
    title: String,
}

fn main() {}
