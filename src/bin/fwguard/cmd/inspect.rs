//! `fwguard inspect IMAGE [--json]`: what a package claims, read from its content.

use std::path::PathBuf;
use std::process::ExitCode;

use fwguard::image::{INSPECTION_FORMAT_VERSION, Inspection, inspect_with};

use crate::output::Grid;

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

/// The inspection for people: on a terminal as tables, otherwise as plain columns that can be
/// grepped and cut (see [`Grid`]).
fn render(ins: &Inspection) -> String {
    let mut out = String::new();
    let mut id = Grid::new(&["Package", &ins.path]);
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
        id.row(vec![k.into(), v.into()]);
    }
    out.push_str(&format!("{}\n", id.render().trim_end()));

    let mut files = Grid::new(&["File", "Size", "SHA-256"]);
    for f in &ins.files {
        files.row(vec![
            f.path.clone().into(),
            f.size.to_string().into(),
            f.sha256.get(..16).unwrap_or(&f.sha256).into(),
        ]);
    }
    out.push_str(&format!("\n{} file(s)\n{}\n", ins.files.len(), files.render().trim_end()));

    if !ins.flash_chips.is_empty() {
        let mut chips = Grid::new(&["Flash chip (JEDEC)", "Name"]);
        for c in &ins.flash_chips {
            chips.row(vec![c.jedec.clone().into(), or_dash(c.name.as_deref()).into()]);
        }
        out.push_str(&format!("\n{}\n", chips.render().trim_end()));
    }
    if !ins.partitions.is_empty() {
        let mut parts = Grid::new(&["Partition", "Start", "Size", "File", "Erased"]);
        let num = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |n| format!("{n:#x}"));
        for p in &ins.partitions {
            parts.row(vec![
                p.name.clone().into(),
                num(p.start).into(),
                num(p.size).into(),
                or_dash(p.file.as_deref()).into(),
                if p.erase { "yes" } else { "" }.into(),
            ]);
        }
        out.push_str(&format!("\n{}\n", parts.render().trim_end()));
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
