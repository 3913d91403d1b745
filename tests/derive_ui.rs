//! The compile-fail cases of `#[derive(Reduce)]` and `#[derive(Reconstruct)]`: every refusal of the derive, one program
//! per mistake in `tests/ui/`, with the exact diagnostic it must give in the `.stderr` beside it.
//! Regenerate the expected output with `TRYBUILD=overwrite cargo test --test derive_ui`.

#[test]
fn compile_fail() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}
