use tack_orm::Model;

#[derive(Model, Clone)]
#[tack(display = "{headline} by {author}")]
struct Note {
    id: i64,
    title: String,
    author: String,
}

fn main() {}
