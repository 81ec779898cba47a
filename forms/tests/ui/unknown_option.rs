use tack_forms::Form;

#[derive(Form)]
struct Comment {
    #[form(maxlength = 10)]
    body: String,
}

fn main() {}
