//! One rule file as text, with the line lookups lint messages need. (`build.rs` compiles this
//! file with the loader and linter, so it depends on nothing else of the library.)

/// One rule file: its path below the rules directory and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSource {
    /// Path below the rules directory, `/`-separated: `families/ec25.toml`.
    pub name: String,
    /// The file's text.
    pub text: String,
}

impl RuleSource {
    /// The 1-based line of the `nth` (0-based) occurrence of `needle`, or 1.
    pub fn line_of(&self, needle: &str, nth: usize) -> usize {
        self.text.match_indices(needle).nth(nth).map(|(i, _)| self.line_at(i)).unwrap_or(1)
    }

    /// The 1-based line of a byte offset.
    pub fn line_at(&self, offset: usize) -> usize {
        self.text[..offset.min(self.text.len())].matches('\n').count() + 1
    }
}
