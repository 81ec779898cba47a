use tack_orm::prelude::*;

#[derive(Model)]
#[tack(app = "shop")]
struct Product {
    id: i64,
    #[tack(file, upload_to = "photos/")]
    photo: i64,
}

fn main() {}
