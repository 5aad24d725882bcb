//! Presentation: colour only on a terminal (and never with NO_COLOR), tables, errors with hints.

use std::io::IsTerminal;

use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};

/// An error with a hint for the person at the terminal.
#[derive(Debug)]
pub struct Hinted {
    /// What went wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

impl std::fmt::Display for Hinted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Hinted {}

/// Wraps a library error that has a hint.
pub fn hinted(message: impl std::fmt::Display, hint: &str) -> anyhow::Error {
    anyhow::Error::new(Hinted { message: message.to_string(), hint: hint.to_string() })
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

/// The hint of the first error in the chain that has one.
pub fn hint(e: &anyhow::Error) -> Option<String> {
    use fwguard::{device, history, sim};
    e.chain().find_map(|cause| {
        if let Some(h) = cause.downcast_ref::<Hinted>() {
            Some(h.hint.clone())
        } else if let Some(e) = cause.downcast_ref::<device::DeviceError>() {
            Some(e.hint().to_string())
        } else if let Some(e) = cause.downcast_ref::<sim::SimError>() {
            Some(e.hint().to_string())
        } else if let Some(e) = cause.downcast_ref::<device::PortsError>() {
            Some(e.hint().to_string())
        } else if let Some(e) = cause.downcast_ref::<fwguard::image::ImageError>() {
            Some(e.hint().to_string())
        } else {
            cause.downcast_ref::<history::HistoryError>().map(|e| e.hint().to_string())
        }
    })
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
