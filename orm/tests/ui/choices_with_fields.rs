use tack_orm::Choices;

#[derive(Choices, Clone, Copy)]
enum Status {
    Draft,
    Scheduled(u32),
}

fn main() {}
