//! Presentation: colour only on a terminal (and never with NO_COLOR), tables, errors with hints.

use std::io::IsTerminal;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

/// An error of the front end's own (a bad argument, a refusal) with a hint.
pub fn hinted(message: impl std::fmt::Display, hint: &str) -> anyhow::Error {
    anyhow::Error::new(fwguard::diagnostic::Hinted::new(message, hint))
}

/// Prints `error: ...` and `hint: ...` on stderr.
pub fn print_error(e: &anyhow::Error) {
    eprintln!("{} {}", paint("error:", Colour::Red, std::io::stderr().is_terminal()), message(e));
    if let Some(h) = hint(e) {
        eprintln!("{} {h}", paint("hint:", Colour::Cyan, std::io::stderr().is_terminal()));
    }
}

/// The error and its causes, each cause once: many library errors already name their cause.
fn message(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain().map(ToString::to_string) {
        if !text.contains(&cause) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&cause);
        }
    }
    text
}

/// The hint of the first error in the chain that has one (every library error does: see
/// `fwguard::diagnostic`).
pub fn hint(e: &anyhow::Error) -> Option<String> {
    e.chain().find_map(|cause| fwguard::diagnostic::find(cause).and_then(|d| d.hint()))
}

/// Logs go to stderr, off unless `FWGUARD_LOG` or `RUST_LOG` asks for them.
pub fn init_tracing() {
    let filter = std::env::var("FWGUARD_LOG").or_else(|_| std::env::var("RUST_LOG")).unwrap_or_else(|_| "off".into());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()))
        .try_init();
}

/// Colours used.
#[derive(Clone, Copy)]
pub enum Colour {
    /// block, errors
    Red,
    /// warn
    Yellow,
    /// allow
    Green,
    /// hints
    Cyan,
}

/// Whether stdout may be coloured.
pub fn colour_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Paints text when `on` (and NO_COLOR is not set).
pub fn paint(text: &str, colour: Colour, on: bool) -> String {
    if !on || std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return text.to_string();
    }
    let code = match colour {
        Colour::Red => 31,
        Colour::Yellow => 33,
        Colour::Green => 32,
        Colour::Cyan => 36,
    };
    format!("\x1b[1;{code}m{text}\x1b[0m")
}

/// A table that fits the terminal, or 120 columns when output is not a terminal.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
    if !std::io::stdout().is_terminal() {
        t.force_no_tty().set_width(120);
    }
    t.set_header(header.iter().copied());
    t
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
