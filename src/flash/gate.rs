//! The gate: before anything is erased, the storage the boot loader or programmer reports (NAND
//! id and geometry, JEDEC id, size) is compared with the storage the plan expects, and any
//! difference stops the flash naming both values.

use serde::Serialize;

use super::driver::StorageInfo;
use super::error::FlashError;
use super::plan::ExpectedStorage;
use crate::identity::FlashId;

/// What the gate compared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GateReport {
    /// Each value compared and found equal, as a sentence.
    pub matched: Vec<String>,
    /// Each value the plan expects that the device's protocol does not report.
    pub unchecked: Vec<String>,
}

/// Compares what the device reports with what the plan expects. `Err` names every difference.
pub fn check(expected: &ExpectedStorage, reported: &StorageInfo) -> Result<GateReport, FlashError> {
    let mut report = GateReport::default();
    let mut wrong = Vec::new();
    let device_id =
        reported.flash_id.as_deref().map(|h| FlashId::parse(h).map(|f| f.hex()).unwrap_or(h.to_uppercase()));
    if !expected.flash_ids.is_empty() {
        let listed = expected.flash_ids.iter().map(|c| label(&c.id, c.name.as_deref())).collect::<Vec<_>>().join(", ");
        match &device_id {
            Some(id) if expected.flash_ids.iter().any(|c| &c.id == id) => {
                report.matched.push(format!("flash id {} is one the {} accepts", spaced(id), expected.flash_ids_from));
            }
            Some(id) => wrong.push(format!(
                "the module reports flash id {}, the {} accepts {listed}{}",
                spaced(id),
                expected.flash_ids_from,
                family_rule(expected, id)
            )),
            None => report.unchecked.push(format!("flash id (expected one of {listed})")),
        }
    } else if device_id.is_none() {
        report.unchecked.push(format!(
            "flash id (the module's loader does not report it, and the {} names no chip to compare it with)",
            if expected.flash_ids_from == "none" { "package or database" } else { expected.flash_ids_from.as_str() }
        ));
    }
    match (expected.size, reported.total_size) {
        (Some(size), Some(total)) if size == total => {
            report.matched.push(format!("flash size {} is the size {} names", mib(total), expected.size_from));
        }
        (Some(size), Some(total)) => wrong.push(format!(
            "the module's flash is {} ({total} bytes), but {} names {}",
            mib(total),
            expected.size_from,
            mib(size)
        )),
        (Some(size), None) => {
            report.unchecked.push(format!("flash size (expected {}, {})", mib(size), expected.size_from))
        }
        (None, _) => {}
    }
    compare("page size", expected.page_size.map(u64::from), reported.page_size.map(u64::from), &mut report, &mut wrong);
    compare(
        "block size",
        expected.block_size.map(u64::from),
        reported.block_size.map(u64::from),
        &mut report,
        &mut wrong,
    );
    if let (Some(need), Some(total)) = (expected.min_size, reported.total_size) {
        if total < need {
            wrong.push(format!("the module reports {total} bytes of storage, the package's layout needs {need} bytes"));
        } else {
            report.matched.push(format!("storage of {total} bytes holds the layout's {need} bytes"));
        }
    }
    let chip_size = device_id
        .as_ref()
        .and_then(|id| expected.flash_ids.iter().find(|c| &c.id == id))
        .and_then(|c| c.size_mib.map(|m| (u64::from(m) << 20, c)));
    if let (Some((size, chip)), Some(total)) = (chip_size, reported.total_size)
        && size != total
    {
        wrong.push(format!(
            "the module reports {total} bytes of storage, but its chip {} holds {size} bytes",
            label(&chip.id, chip.name.as_deref())
        ));
    }
    if wrong.is_empty() { Ok(report) } else { Err(FlashError::Gate(wrong)) }
}

/// What the database's family rule says about the chip, as a clause for the gate's message.
fn family_rule(expected: &ExpectedStorage, id: &str) -> String {
    let Some(f) = &expected.family else {
        return String::new();
    };
    let says = if f.ids.is_empty() {
        format!("lists no chips for {}", f.product)
    } else if f.ids.iter().any(|c| c == id) {
        format!("lists {} among the chips of {}", spaced(id), f.product)
    } else {
        let ids: Vec<String> = f.ids.iter().map(|c| spaced(c)).collect();
        format!("lists {} for {}, not {}", ids.join(", "), f.product, spaced(id))
    };
    format!("; the database's {} rule {says} (source: {})", f.family, f.source)
}

fn compare(what: &str, expected: Option<u64>, reported: Option<u64>, report: &mut GateReport, wrong: &mut Vec<String>) {
    match (expected, reported) {
        (Some(e), Some(r)) if e == r => report.matched.push(format!("{what} {r} bytes")),
        (Some(e), Some(r)) => {
            wrong.push(format!("the module reports a {what} of {r} bytes, the package is laid out for {e} bytes"))
        }
        (Some(e), None) => report.unchecked.push(format!("{what} (expected {e} bytes)")),
        _ => {}
    }
}

fn spaced(hex: &str) -> String {
    FlashId::parse(hex).map(|f| f.to_string()).unwrap_or_else(|_| hex.to_string())
}

fn label(hex: &str, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("{} ({n})", spaced(hex)),
        None => spaced(hex),
    }
}

/// `8 MiB`, or bytes when not a whole number of MiB.
fn mib(bytes: u64) -> String {
    if bytes.is_multiple_of(1 << 20) { format!("{} MiB", bytes >> 20) } else { format!("{bytes} bytes") }
}
