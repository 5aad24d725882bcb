//! Drawing a flash's events: the plan and one line per step on stdout, a progress bar per step
//! on a terminal (indicatif), or one JSON object per event with `--json`.

use std::io::Write;

use fwguard::flash::{Event, Operation, Phase, Plan, Progress};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Draws events for people or for programs.
pub struct Drawer {
    json: bool,
    terminal: bool,
    bar: Option<ProgressBar>,
    steps: usize,
}

impl Drawer {
    /// JSON lines, or text with bars when stderr is a terminal.
    pub fn new(json: bool, terminal: bool) -> Drawer {
        Drawer { json, terminal, bar: None, steps: 0 }
    }

    fn line(&self, text: &str) {
        if let Some(bar) = &self.bar {
            bar.suspend(|| out(text));
        } else {
            out(text);
        }
    }

    fn bar(&mut self, total: u64, message: String) {
        if !self.terminal {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{msg:28} [{bar:32}] {bytes}/{total_bytes} {bytes_per_sec} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(message);
        self.bar = Some(bar);
    }

    fn clear_bar(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// Prints a line on stdout; a closed pipe is not an error.
fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{text}").and_then(|()| stdout.flush());
}

impl Progress for Drawer {
    fn event(&mut self, event: &Event<'_>) {
        if self.json {
            // Byte counts within a step are for bars; the JSON stream has begin and end.
            if !matches!(event, Event::StepProgress { .. } | Event::BackupProgress { .. })
                && let Ok(text) = serde_json::to_string(event)
            {
                out(&text);
            }
            return;
        }
        match event {
            Event::Plan { plan } => {
                self.steps = plan.steps.len();
                out(&render_plan(plan));
            }
            Event::Phase { phase, detail } => self.line(&format!("{}{}", phase_text(*phase), suffix(detail))),
            Event::Connected { target, storage } => self.line(&format!(
                "connected: serial {}, flash {}, page {} B, block {} B, size {} B",
                target.serial.as_deref().unwrap_or("unknown"),
                storage.flash_id.as_deref().unwrap_or("not reported"),
                or_dash(storage.page_size.map(u64::from)),
                or_dash(storage.block_size.map(u64::from)),
                or_dash(storage.total_size)
            )),
            Event::Gate { report } => {
                self.line(&format!("gate passed: {}", report.matched.join("; ")));
                if !report.unchecked.is_empty() {
                    self.line(&format!("  not reported by the device, not compared: {}", report.unchecked.join("; ")));
                }
            }
            Event::BackupProgress { partition, done, total } => {
                if self.bar.is_none() {
                    self.bar(*total, format!("backup {partition}"));
                }
                if let Some(bar) = &self.bar {
                    bar.set_position(*done);
                }
            }
            Event::Backup { dir, areas } => {
                self.clear_bar();
                self.line(&format!("backup of {areas} protected area(s) verified in {dir}"));
            }
            Event::StepBegin { index, operation, partition, bytes, .. } => {
                self.clear_bar();
                if *operation == Operation::Write {
                    self.bar(*bytes, format!("{}/{} write {partition}", index + 1, self.steps));
                }
            }
            Event::StepProgress { done, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(*done);
                }
            }
            Event::StepEnd { index, bytes, skipped } => {
                self.clear_bar();
                let what = if *skipped {
                    "skipped (already holds the planned bytes)".into()
                } else {
                    format!("done, {bytes} B")
                };
                self.line(&format!("  step {}/{}: {what}", index + 1, self.steps));
            }
            Event::Verify { index, partition, ok, sha256, method } => self.line(&format!(
                "  step {}/{}: {partition} {} ({method}, sha256 {})",
                index + 1,
                self.steps,
                if *ok { "verified" } else { "DOES NOT VERIFY" },
                &sha256[..16.min(sha256.len())]
            )),
            Event::Result { exit_code: 0, outcome: Some(o), .. } => {
                self.clear_bar();
                if o.dry_run {
                    self.line("dry run: nothing was sent past identification");
                } else {
                    self.line(&format!(
                        "FLASHED  {} -> {}  ({} steps, {} skipped, {} B written; journal run {})",
                        o.revision_before.as_deref().unwrap_or("?"),
                        o.revision_after.as_deref().unwrap_or("?"),
                        o.steps_done,
                        o.steps_skipped,
                        o.bytes_written,
                        o.run.map(|r| r.to_string()).unwrap_or_default()
                    ));
                }
            }
            Event::Result { .. } => self.clear_bar(),
        }
    }
}

fn phase_text(phase: Phase) -> &'static str {
    match phase {
        Phase::ReadFlashId => "reading the flash ID from the boot loader",
        Phase::EnterDownload => "entering the download mode",
        Phase::WaitDownload => "waiting for the module in its download mode",
        Phase::Connect => "connecting",
        Phase::Backup => "backing up the protected areas",
        Phase::Reset => "resetting the module",
        Phase::Reidentify => "waiting for the module to boot and answer AT",
    }
}

fn suffix(detail: &str) -> String {
    if detail.is_empty() { String::new() } else { format!(": {detail}") }
}

fn or_dash(v: Option<u64>) -> String {
    v.map_or_else(|| "-".into(), |v| v.to_string())
}

/// The plan for people: identities, verdict, storage, protected areas, steps.
pub fn render_plan(plan: &Plan) -> String {
    let mut s = String::new();
    let m = &plan.module;
    let p = &plan.package;
    let line = |s: &mut String, t: String| {
        s.push_str(&t);
        s.push('\n');
    };
    line(
        &mut s,
        format!(
            "PLAN  {} -> {}  ({})",
            m.revision.as_deref().unwrap_or("unknown"),
            p.revision.as_deref().unwrap_or("unknown"),
            plan.platform
        ),
    );
    line(&mut s, format!("module    {}  model {}  product {}", m.describe(), or(&m.model), or(&m.product)));
    line(&mut s, format!("package   {}  ({})", p.path, p.format));
    line(&mut s, format!("          sha256 {}", p.sha256));
    line(&mut s, format!("verdict   {} (database v{})", plan.verdict, plan.database.version));
    for f in &plan.findings {
        line(&mut s, format!("          {} {}: {}", f.severity, f.rule, f.message));
    }
    let st = &plan.storage;
    let chips: Vec<String> = st
        .flash_ids
        .iter()
        .map(|c| match &c.name {
            Some(n) => format!("{} ({n})", c.id),
            None => c.id.clone(),
        })
        .collect();
    let mut storage = Vec::new();
    if let Some(p) = st.page_size {
        storage.push(format!("page {p} B"));
    }
    if let Some(b) = st.block_size {
        storage.push(format!("block {b} B"));
    }
    if let Some(m) = st.min_size {
        storage.push(format!("at least {m} B"));
    }
    if let Some(size) = st.size {
        storage.push(format!("{size} B flash ({})", st.size_from));
    }
    storage.push(if chips.is_empty() {
        "no flash chip list in the package or the database".into()
    } else {
        format!("flash {} (from the {})", chips.join(", "), st.flash_ids_from)
    });
    line(&mut s, format!("storage   {}", storage.join(", ")));
    for a in &plan.protected {
        let changed = if a.changed_by.is_empty() {
            "not changed".to_string()
        } else {
            format!("changed by step(s) {:?}", a.changed_by)
        };
        line(&mut s, format!("protected {} {}: {}; backed up before the first write", a.region, a.holds, changed));
    }
    for note in &plan.notes {
        line(&mut s, format!("note      {note}"));
    }
    line(&mut s, format!("steps     {} ({} B to write)", plan.steps.len(), plan.write_bytes()));
    let place = |r: &fwguard::flash::Region| if r.is_logical() { r.place() } else { format!("{:#012x}", r.offset) };
    // A logical address (`logical 0xfe000003`) is wider than a flash offset: the column grows.
    let width = plan.steps.iter().map(|s| place(&s.region).len()).max().unwrap_or(0).max(12);
    for step in &plan.steps {
        let r = &step.region;
        let mut text = format!(
            "  {:>3}  {:<5}  {:<14} {:>width$}  {:>10} B",
            step.index + 1,
            step.operation,
            r.partition,
            place(r),
            r.length
        );
        if let (Some(sha), Some(src)) = (&step.sha256, &step.source) {
            text.push_str(&format!("  sha256 {sha}  from {}", src.member));
        }
        if let Some(area) = &step.protected {
            text.push_str(&format!("  PROTECTED ({area})"));
        }
        line(&mut s, text);
    }
    s.pop();
    s
}

fn or(v: &Option<String>) -> &str {
    v.as_deref().unwrap_or("unknown")
}

#[cfg(test)]
mod tests {
    use super::*;
    use fwguard::engine::{DatabaseSummary, Verdict};
    use fwguard::flash::{
        ExpectedStorage, ModuleIdentity, PackageRef, Permissions, ProtectedArea, Region, Source, Step,
    };
    use fwguard::platform::Platform;

    fn plan() -> Plan {
        Plan {
            platform: Platform::Qualcomm,
            module: ModuleIdentity {
                imei: Some("861234000000011".into()),
                revision: Some("EC25EFAR06A17M4G_20.200.20.200".into()),
                ..ModuleIdentity::default()
            },
            package: PackageRef {
                path: "p".into(),
                sha256: "ab".repeat(32),
                format: "qualcomm-folder".into(),
                revision: Some("EC25EFAR06A18M4G_20.201.20.201".into()),
                product: Some("EC25EFA".into()),
            },
            verdict: Verdict::Allow,
            findings: Vec::new(),
            database: DatabaseSummary {
                version: 7,
                sha256: "cd".repeat(32),
                origin: "built-in".into(),
                trust: fwguard::db::Trust::BuiltIn,
                signer: None,
                allow_unsigned: false,
                untrusted_because: None,
            },
            storage: ExpectedStorage {
                page_size: Some(4096),
                flash_ids_from: "none".into(),
                ..ExpectedStorage::default()
            },
            steps: vec![
                Step {
                    index: 0,
                    operation: Operation::Erase,
                    region: Region::new("sbl", 0, 0x40000),
                    sha256: None,
                    source: None,
                    patch: None,
                    protected: None,
                },
                Step {
                    index: 1,
                    operation: Operation::Write,
                    region: Region::new("modem", 0x5dc0000, 0x10000),
                    sha256: Some("ef".repeat(32)),
                    source: Some(Source { member: "update/NON-HLOS.ubi".into(), offset: 0, length: 10, pad: 0xFF }),
                    patch: None,
                    protected: None,
                },
            ],
            protected: vec![ProtectedArea {
                region: Region::new("efs2", 0x500000, 0x1600000),
                holds: "EFS: RF calibration and NV".into(),
                changed_by: Vec::new(),
            }],
            permissions: Permissions::default(),
            notes: vec!["a note from the platform".into()],
        }
    }

    #[test]
    fn the_plan_names_every_step_and_the_protected_areas() {
        let text = render_plan(&plan());
        assert!(text.starts_with("PLAN  EC25EFAR06A17M4G_20.200.20.200 -> EC25EFAR06A18M4G_20.201.20.201  (qualcomm)"));
        assert!(text.contains("IMEI 861234000000011"), "{text}");
        assert!(text.contains("storage   page 4096 B, no flash chip list"), "{text}");
        assert!(
            text.contains("protected efs2 [0x500000, +0x1600000) EFS: RF calibration and NV: not changed"),
            "{text}"
        );
        let steps: Vec<&str> =
            text.lines().filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit())).collect();
        assert_eq!(steps.len(), 2, "{text}");
        assert!(steps[1].contains("write") && steps[1].contains("0x0005dc0000") && steps[1].contains(&"ef".repeat(32)));
        assert!(steps[1].contains("from update/NON-HLOS.ubi"), "{text}");
        assert!(text.contains("note      a note from the platform"), "{text}");
    }
}
