use tack_orm::Choices;

#[derive(Choices, Clone, Copy)]
enum Priority {
    Low = 1,
    High,
}

fn main() {}
