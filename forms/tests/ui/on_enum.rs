use tack_forms::Form;

#[derive(Form)]
enum Topic {
    News,
}

fn main() {}
