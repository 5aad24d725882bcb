//! `fwguard db diff OLD NEW [--json]`: what a rule change does, family by family.

use std::path::Path;
use std::process::ExitCode;

use fwguard::db::Database;
use fwguard::db::diff::{ChangeKind, EntryChange, describe_field, diff};

use super::db_error;
use crate::output::print_json;

/// A database file, or the rules in a directory compiled on the spot. No trust decision: a diff
/// is for reviewing, not for judging modules.
pub fn open_any(path: &Path) -> anyhow::Result<Database> {
    if path.is_dir() { Database::from_dir(path) } else { Database::open(path) }.map_err(db_error)
}

/// Runs the diff.
pub fn run(old: &Path, new: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let (a, b) = (open_any(old)?, open_any(new)?);
    let d = diff(&a, &b);
    if json {
        print_json(&d)?;
        return Ok(ExitCode::SUCCESS);
    }
    for (label, s) in [("old", &d.old), ("new", &d.new)] {
        println!("{label}  v{}  sha256 {}  ({})", s.version, &s.sha256[..16.min(s.sha256.len())], s.origin);
    }
    if d.is_empty() {
        println!("no differences: the same rules");
        return Ok(ExitCode::SUCCESS);
    }
    for f in &d.database {
        println!("database: {}", describe_field(f));
    }
    for f in &d.families {
        println!("family {}: {}", f.family, f.change);
        for e in &f.entries {
            print_entry(e);
        }
    }
    for (title, entries) in [("policy", &d.policy), ("flash chips", &d.flash_chips), ("USB ids", &d.usb_ids)] {
        if !entries.is_empty() {
            println!("{title}:");
            entries.iter().for_each(print_entry);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn print_entry(e: &EntryChange) {
    match e.change {
        ChangeKind::Changed => {
            println!("  {} {}: changed", e.kind, e.key);
            for f in &e.fields {
                println!("    {}", describe_field(f));
            }
        }
        _ => println!("  {} {}: {} {}", e.kind, e.key, e.change, e.entry),
    }
}
