use tack_forms::Form;

#[derive(Form)]
struct Comment {
    #[form(widget = "wysiwyg")]
    body: String,
}

fn main() {}
