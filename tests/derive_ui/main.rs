//! Compile-fail tests of `#[derive(Module)]`: what it refuses, and that the
//! errors are readable and point at the user's code. One trybuild run (each
//! run type-checks neurite again, in `<target>/tests/trybuild`); the expected
//! compiler output is in `cases/*.stderr` (regenerate with `TRYBUILD=overwrite`
//! after a compiler upgrade, and read the result).

#[test]
fn derive_module_compile_errors() {
    let cases = trybuild::TestCases::new();
    // Relative to the package root; trybuild keeps line numbers only for this exact path.
    cases.compile_fail("tests/derive_ui/cases/*.rs");
}
