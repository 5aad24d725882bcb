//! Presentation: colour (`--color`, `NO_COLOR`), tables on a terminal and plain text for pipes,
//! errors with hints (and as JSON with `--json`), JSON output.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

use comfy_table::{Attribute, Cell, Color, ColumnConstraint, ContentArrangement, Table, Width};
use unicode_width::UnicodeWidthStr;

/// An error of the front end's own (a bad argument, a refusal) with a hint.
pub fn hinted(message: impl std::fmt::Display, hint: &str) -> anyhow::Error {
    anyhow::Error::new(fwguard::diagnostic::Hinted::new(message, hint))
}

/// When to colour output (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set (to anything but nothing).
    #[default]
    Auto,
    /// Always, on a terminal or not, whatever `NO_COLOR` says.
    Always,
    /// Never.
    Never,
}

static COLOR: OnceLock<ColorChoice> = OnceLock::new();

/// Records `--color` for the whole run (the first call wins).
pub fn set_color(choice: ColorChoice) {
    let _ = COLOR.set(choice);
}

fn no_color_env() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

/// Whether a stream that is (or is not) a terminal gets colour.
fn colour_for(is_terminal: bool) -> bool {
    match COLOR.get().copied().unwrap_or_default() {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => is_terminal && !no_color_env(),
    }
}

/// Whether stdout is coloured.
pub fn colour_stdout() -> bool {
    colour_for(std::io::stdout().is_terminal())
}

/// Whether stderr is coloured.
pub fn colour_stderr() -> bool {
    colour_for(std::io::stderr().is_terminal())
}

/// Whether stdout is a terminal: tables with box drawing, sized to it; else plain text.
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// The width of the terminal stdout is on (its window size), else `COLUMNS`, else 80.
pub fn terminal_width() -> u16 {
    nix::ioctl_read_bad!(window_size, nix::libc::TIOCGWINSZ, nix::libc::winsize);
    let mut ws = nix::libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCGWINSZ writes one `winsize` into the struct passed, which lives on this stack.
    let got = unsafe { window_size(nix::libc::STDOUT_FILENO, &mut ws) };
    if got.is_ok() && ws.ws_col > 0 {
        return ws.ws_col;
    }
    std::env::var("COLUMNS").ok().and_then(|c| c.trim().parse().ok()).filter(|&c: &u16| c > 0).unwrap_or(80)
}

/// Prints `error: ...` and `hint: ...` on stderr; with `json`, also `{"error": ..., "hint": ...}`
/// on stdout, so a script reading stdout learns why there is no result.
pub fn print_error(e: &anyhow::Error, json: bool) {
    let text = message(e);
    let hint = hint(e);
    let on = colour_stderr();
    eprintln!("{} {text}", paint("error:", Colour::Red, on));
    if let Some(h) = &hint {
        eprintln!("{} {h}", paint("hint:", Colour::Cyan, on));
    }
    if json {
        let _ = print_json(&serde_json::json!({ "error": text, "hint": hint }));
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

/// Logs go to stderr, off unless `FWGUARD_LOG` or `RUST_LOG` asks for them. With neither set no
/// subscriber is installed, so logging costs nothing (building the filter and the formatter is a
/// tenth of an offline check).
pub fn init_tracing() {
    let Ok(filter) = std::env::var("FWGUARD_LOG").or_else(|_| std::env::var("RUST_LOG")) else { return };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .with_ansi(colour_stderr())
        .try_init();
}

/// Colours used.
#[derive(Debug, Clone, Copy)]
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

impl Colour {
    fn table(self) -> Color {
        match self {
            Colour::Red => Color::Red,
            Colour::Yellow => Color::Yellow,
            Colour::Green => Color::Green,
            Colour::Cyan => Color::Cyan,
        }
    }
}

/// Paints text in bold `colour` when `on`. For text outside tables: a table cell is styled by
/// the table ([`Grid`]), which counts its width without the escape codes.
pub fn paint(text: &str, colour: Colour, on: bool) -> String {
    if !on {
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

/// One cell: text, optionally in bold colour.
#[derive(Debug, Clone)]
pub struct Field {
    text: String,
    colour: Option<Colour>,
}

impl Field {
    /// Plain text.
    pub fn plain(text: impl Into<String>) -> Field {
        Field { text: text.into(), colour: None }
    }

    /// Text in bold `colour` when colour is on.
    pub fn coloured(text: impl Into<String>, colour: Colour) -> Field {
        Field { text: text.into(), colour: Some(colour) }
    }
}

impl<T: Into<String>> From<T> for Field {
    fn from(text: T) -> Field {
        Field::plain(text)
    }
}

/// Rows for people. On a terminal: a table with box drawing, as wide as the terminal, whose
/// cells wrap between words only (a revision, a timestamp, a path or a URL is never broken).
/// Not on a terminal: plain columns separated by two spaces, one row per line, nothing
/// wrapped or cut, so it can be grepped and cut.
pub struct Grid {
    header: Vec<String>,
    rows: Vec<Vec<Field>>,
}

impl Grid {
    /// A grid with these column names.
    pub fn new(header: &[&str]) -> Grid {
        Grid { header: header.iter().map(|h| (*h).to_string()).collect(), rows: Vec::new() }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<Field>) {
        self.rows.push(cells);
    }

    /// The grid for stdout: a table on a terminal, plain text otherwise.
    pub fn render(&self) -> String {
        if stdout_is_terminal() { self.table(terminal_width(), colour_stdout()) } else { self.plain(colour_stdout()) }
    }

    /// The width of each column's longest word (header included): the narrowest the column can
    /// be without splitting a word.
    fn longest_words(&self) -> Vec<usize> {
        (0..self.header.len())
            .map(|i| {
                std::iter::once(self.header[i].as_str())
                    .chain(self.rows.iter().filter_map(|r| r.get(i).map(|f| f.text.as_str())))
                    .flat_map(str::split_whitespace)
                    .map(UnicodeWidthStr::width)
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    }

    /// A box-drawn table `width` columns wide. When its columns cannot fit the width without
    /// splitting a word, each row becomes a block of `name  value` lines instead ([`Grid::records`]):
    /// a table wider than the terminal would be wrapped by it into a broken box.
    pub fn table(&self, width: u16, colour: bool) -> String {
        let longest = self.longest_words();
        // Each column: its words, a space of padding on each side, and one border.
        let narrowest: usize = longest.iter().map(|w| w + 3).sum::<usize>() + 1;
        if narrowest > usize::from(width) {
            return self.records(usize::from(width), colour);
        }
        let mut t = Table::new();
        t.load_style(comfy_table::presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .force_no_tty()
            .set_width(width);
        if colour {
            t.enforce_styling();
        }
        t.set_header(self.header.iter().map(|h| Cell::new(h).add_attribute(Attribute::Bold)));
        for row in &self.rows {
            t.add_row(row.iter().map(|f| match f.colour {
                Some(c) => Cell::new(&f.text).fg(c.table()).add_attribute(Attribute::Bold),
                None => Cell::new(&f.text),
            }));
        }
        // Each column at least as wide as its longest word (plus the padding of one space on
        // each side), so words are never split across lines.
        for (column, words) in t.column_iter_mut().zip(&longest) {
            let min = u16::try_from(words + 2).unwrap_or(u16::MAX);
            column.set_constraint(ColumnConstraint::LowerBoundary(Width::Fixed(min)));
        }
        t.to_string()
    }

    /// Each row as a block for a narrow terminal: its first cell as a title, then one
    /// `name  value` line per other cell, wrapped between words to `width`; a blank line
    /// between blocks.
    pub fn records(&self, width: usize, colour: bool) -> String {
        let name_width = self.header.iter().skip(1).map(|h| h.width()).max().unwrap_or(0);
        let indent = " ".repeat(name_width + 4);
        let shown = |f: &Field, text: &str| f.colour.map_or_else(|| text.to_string(), |c| paint(text, c, colour));
        let mut blocks = Vec::new();
        for row in &self.rows {
            let mut block = String::new();
            if let Some(first) = row.first() {
                block.push_str(&shown(first, &first.text));
            }
            for (name, f) in self.header.iter().zip(row).skip(1) {
                let label = format!("\n  {name:<name_width$}  ");
                let text = fill("", f.text.split_whitespace(), " ", width.saturating_sub(indent.len()).max(1), "");
                let lines: Vec<String> = text.lines().map(|l| shown(f, l)).collect();
                block.push_str(&label);
                block.push_str(&lines.join(&format!("\n{indent}")));
            }
            blocks.push(block);
        }
        blocks.join("\n\n")
    }

    /// Plain columns: a header line, then one line a row, cells padded to their column's width
    /// and separated by two spaces; line breaks inside a cell become spaces.
    pub fn plain(&self, colour: bool) -> String {
        let flat = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
        let header: Vec<String> = self.header.iter().map(|h| flat(h)).collect();
        let rows: Vec<Vec<(String, Option<Colour>)>> =
            self.rows.iter().map(|r| r.iter().map(|f| (flat(&f.text), f.colour)).collect()).collect();
        let columns = header.len();
        let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
        for r in &rows {
            for (i, (text, _)) in r.iter().enumerate().take(columns) {
                widths[i] = widths[i].max(text.width());
            }
        }
        let mut out = String::new();
        let mut line = |cells: Vec<(&str, Option<Colour>)>| {
            let last = cells.len().saturating_sub(1);
            let mut text = String::new();
            for (i, (cell, c)) in cells.into_iter().enumerate() {
                let shown = c.map_or_else(|| cell.to_string(), |c| paint(cell, c, colour));
                text.push_str(&shown);
                if i < last {
                    text.push_str(&" ".repeat(widths[i].saturating_sub(cell.width()) + 2));
                }
            }
            out.push_str(text.trim_end());
            out.push('\n');
        };
        line(header.iter().map(|h| (h.as_str(), None)).collect());
        for r in &rows {
            line(r.iter().map(|(t, c)| (t.as_str(), *c)).collect());
        }
        out.pop();
        out
    }
}

/// Lays out `start` followed by `pieces` separated by `sep`, breaking lines only between pieces
/// so that lines fit `width` columns where they can; lines after the first start with `indent`.
/// `start` and each piece stay whole: one longer than a line gets a line of its own.
pub fn fill<'a>(
    start: &str,
    pieces: impl IntoIterator<Item = &'a str>,
    sep: &str,
    width: usize,
    indent: &str,
) -> String {
    let mut out = start.to_string();
    let mut line_len = start.width();
    for piece in pieces {
        let w = piece.width();
        if line_len > indent.width() && line_len + sep.width() + w > width {
            out.push('\n');
            out.push_str(indent);
            line_len = indent.width();
        } else if !out.is_empty() {
            out.push_str(sep);
            line_len += sep.width();
        }
        out.push_str(piece);
        line_len += w;
    }
    out
}

/// Prints a value as pretty JSON on stdout, written as it is serialised, never held whole as
/// text: an inspection of 100,000 files is 20 MB of JSON. A closed pipe is not an error.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut w = std::io::BufWriter::new(std::io::stdout().lock());
    let written = serde_json::to_writer_pretty(&mut w, value)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(w))
        .and_then(|()| w.flush());
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip_ansi(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for d in chars.by_ref() {
                    if d.is_ascii_alphabetic() {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    fn sample() -> Grid {
        let mut g = Grid::new(&["severity", "rule", "finding"]);
        g.row(vec![
            Field::coloured("block", Colour::Red),
            "cross-baseline".into(),
            "module runs baseline R06 (EC25EFAR06A17M4G_20.200.20.200); image is baseline R08 \
             (EC25EFAR08A01M4G_01.001.01.001)"
                .into(),
        ]);
        g.row(vec![Field::coloured("warn", Colour::Yellow), "downgrade".into(), "older build".into()]);
        g
    }

    #[test]
    fn coloured_tables_line_up_and_keep_words_whole() {
        for width in [70u16, 80, 200] {
            for colour in [false, true] {
                let text = sample().table(width, colour);
                assert_eq!(text.contains('\x1b'), colour, "{text}");
                let plain = strip_ansi(&text);
                let widths: Vec<usize> = plain.lines().map(UnicodeWidthStr::width).collect();
                assert!(widths.windows(2).all(|w| w[0] == w[1]), "{width} {colour}\n{plain}");
                // Narrower than its words need, a table grows rather than split one.
                assert!(width < 80 || widths[0] <= usize::from(width), "{width}\n{plain}");
                for word in ["(EC25EFAR06A17M4G_20.200.20.200);", "(EC25EFAR08A01M4G_01.001.01.001)"] {
                    assert!(plain.contains(word), "{width}: {word} broken\n{plain}");
                }
            }
        }
    }

    #[test]
    fn a_table_too_wide_for_the_terminal_becomes_blocks() {
        let text = sample().table(40, false);
        assert!(!text.contains('│'), "{text}");
        assert!(text.starts_with("block\n  rule     cross-baseline\n  finding  module runs baseline R06"), "{text}");
        assert!(text.lines().all(|l| l.width() <= 40 || !l.trim_start().contains(' ')), "{text}");
        assert!(text.contains("\n\nwarn\n"), "{text}");
    }

    #[test]
    fn plain_rows_are_one_line_each_without_box_drawing() {
        let text = sample().plain(false);
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(!text.contains('│') && !text.contains('─'), "{text}");
        assert!(text.lines().nth(1).unwrap().starts_with("block     cross-baseline  module runs"), "{text}");
    }

    #[test]
    fn lines_break_between_pieces_only() {
        let w = fill("module", ["EC25", "revision EC25EFAR06A17M4G_20.200.20.200", "product EC25EFA"], "  ", 40, "  ");
        assert_eq!(w, "module  EC25\n  revision EC25EFAR06A17M4G_20.200.20.200\n  product EC25EFA");
        let words = "https://example.com/a/very/long/path (\"a quote\")";
        assert_eq!(
            fill("[1]", words.split(' '), " ", 30, "    "),
            "[1] https://example.com/a/very/long/path\n    (\"a quote\")"
        );
    }
}
