//! `fwguard inspect IMAGE [--json]`: what a package claims, read from its content.

use std::path::PathBuf;
use std::process::ExitCode;

use comfy_table::{Cell, Table};
use fwguard::image::{INSPECTION_FORMAT_VERSION, Inspection, inspect_with};

/// Arguments of `fwguard inspect`.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// The package: a folder, .zip, .7z, .pac, .bin or .binpkg.
    pub image: PathBuf,
    /// Print the inspection as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `inspect --json`: the inspection's keys (all of them, `null` when unknown) after the version
/// of this form.
#[derive(serde::Serialize)]
struct Versioned<'a> {
    format_version: u32,
    #[serde(flatten)]
    inspection: &'a Inspection,
}

/// Runs the command: exit 0 with the inspection. When the package cannot be read, the error
/// (with its hint) goes back to `main`, which prints it and exits 2.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let ins = inspect_with(&args.image, crate::progress::Line::stderr().as_ref())?;
    if args.json {
        crate::output::print_json(&Versioned { format_version: INSPECTION_FORMAT_VERSION, inspection: &ins })?;
    } else {
        print!("{}", render(&ins));
    }
    Ok(ExitCode::SUCCESS)
}

fn or_dash(v: Option<&str>) -> String {
    v.unwrap_or("-").to_string()
}

/// The inspection as tables for people.
fn render(ins: &Inspection) -> String {
    let mut out = String::new();
    let mut id = Table::new();
    id.set_header(["Package", &ins.path]);
    let rows: Vec<(&str, String)> = vec![
        ("Format", ins.format.clone()),
        ("Platform", or_dash(ins.platform.map(|p| p.as_str()))),
        ("Revision", or_dash(ins.revision.as_deref())),
        ("Product", or_dash(ins.product.as_deref())),
        ("Applies to", or_dash(ins.source_revision.as_deref())),
        ("Chip", or_dash(ins.chip.as_deref())),
        ("Programmer", or_dash(ins.programmer.as_deref())),
        ("NAND", ins.nand.map_or_else(|| "-".to_string(), |g| g.to_string())),
        ("Signed", ins.signed.map_or_else(|| "unknown".to_string(), |s| if s { "yes" } else { "no" }.to_string())),
        ("Name claims", or_dash(ins.name_conflict.as_deref())),
    ];
    for (k, v) in rows {
        if k == "Applies to" && ins.source_revision.is_none() || k == "Name claims" && ins.name_conflict.is_none() {
            continue;
        }
        id.add_row([k.to_string(), v]);
    }
    out.push_str(&format!("{id}\n"));

    let mut files = Table::new();
    files.set_header(["File", "Size", "SHA-256"]);
    for f in &ins.files {
        files.add_row([Cell::new(&f.path), Cell::new(f.size), Cell::new(f.sha256.get(..16).unwrap_or(&f.sha256))]);
    }
    out.push_str(&format!("\n{} file(s)\n{files}\n", ins.files.len()));

    if !ins.flash_chips.is_empty() {
        let mut chips = Table::new();
        chips.set_header(["Flash chip (JEDEC)", "Name"]);
        for c in &ins.flash_chips {
            chips.add_row([c.jedec.clone(), or_dash(c.name.as_deref())]);
        }
        out.push_str(&format!("\n{chips}\n"));
    }
    if !ins.partitions.is_empty() {
        let mut parts = Table::new();
        parts.set_header(["Partition", "Start", "Size", "File", "Erased"]);
        let num = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |n| format!("{n:#x}"));
        for p in &ins.partitions {
            parts.add_row([
                p.name.clone(),
                num(p.start),
                num(p.size),
                or_dash(p.file.as_deref()),
                if p.erase { "yes" } else { "" }.to_string(),
            ]);
        }
        out.push_str(&format!("\n{parts}\n"));
    }
    if let Some(claim) = &ins.name_conflict {
        out.push_str(&format!("\nconflict: {claim}\n"));
    }
    for e in &ins.erases {
        out.push_str(&format!("\nerases: {e}\n"));
    }
    for p in &ins.problems {
        out.push_str(&format!("\nproblem: {p}\n"));
    }
    out
}
