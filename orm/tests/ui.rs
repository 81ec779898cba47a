//! The messages a user gets for mistakes in `#[derive(Model)]` and
//! `#[derive(Choices)]` (the expected output is in `tests/ui/*.stderr`).

#[test]
fn derive_mistakes_explain_themselves() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
