//! One plan step: journaled before and after, its bytes streamed from the package through the
//! guard, checked against the plan's hash as they are sent, and every write verified by the
//! device's digest or a read back (a patch is checked by its driver, which knows the value the
//! device worked out).

use super::driver::{Connection, Source};
use super::error::FlashError;
use super::hashing::WriteReader;
use super::journal::{Kind, Outcome as Ended};
use super::permissions::Guard;
use super::plan::{Operation, Step};
use super::progress::Event;
use super::resume;
use super::run::Flasher;
use crate::image::Package;

impl Flasher<'_> {
    pub(super) fn skip(&mut self, run: i64, step: &Step) -> Result<(), FlashError> {
        let row =
            self.journal.begin(run, Some(step.index), kind_of(step), Some(&step.region), step.sha256.as_deref())?;
        self.journal.end(row, Ended::Skipped, "the module already holds the planned bytes", &[])?;
        self.progress.event(&Event::StepBegin {
            index: step.index,
            operation: step.operation,
            partition: &step.region.partition,
            offset: step.region.offset,
            bytes: step.region.length,
        });
        self.progress.event(&Event::StepEnd { index: step.index, bytes: 0, skipped: true });
        Ok(())
    }

    /// One erase or write, journaled before and after.
    pub(super) fn step(
        &mut self,
        run: i64,
        step: &Step,
        guard: &mut Guard<'_>,
        package: &mut dyn Package,
    ) -> Result<(), FlashError> {
        let row =
            self.journal.begin(run, Some(step.index), kind_of(step), Some(&step.region), step.sha256.as_deref())?;
        self.progress.event(&Event::StepBegin {
            index: step.index,
            operation: step.operation,
            partition: &step.region.partition,
            offset: step.region.offset,
            bytes: step.region.length,
        });
        let result = match (&step.operation, &step.source) {
            (Operation::Erase, _) => guard.erase(step).map(|()| "erased".to_string()),
            (Operation::Write, Some(source)) => self.write(step, source, guard, package),
            (Operation::Write, None) => Err(FlashError::Plan(format!("step {} writes without a source", step.index))),
            (Operation::Patch, _) => guard
                .patch(step)
                .map(|()| format!("patched and checked: {}", step.patch.as_ref().map_or("", |p| p.what.as_str()))),
        };
        let log = guard.conn().take_log();
        match result {
            Ok(detail) => {
                self.journal.end(row, Ended::Done, &detail, &log)?;
                let bytes = if step.operation == Operation::Write { step.region.length } else { 0 };
                self.progress.event(&Event::StepEnd { index: step.index, bytes, skipped: false });
                Ok(())
            }
            Err(e) => {
                self.journal.end(row, Ended::Failed, &e.to_string(), &log)?;
                Err(e)
            }
        }
    }

    /// Streams the step's bytes from the package to the module, checking they hash as planned.
    fn write(
        &mut self,
        step: &Step,
        source: &Source,
        guard: &mut Guard<'_>,
        package: &mut dyn Package,
    ) -> Result<String, FlashError> {
        let progress = &mut *self.progress;
        let mut failure: Option<FlashError> = None;
        let mut sent_sha = None;
        let streamed = package.stream_member(&source.member, source.offset, &mut |_, reader| {
            let mut data = WriteReader::new(reader, source.length, step.region.length, source.pad);
            let total = step.region.length;
            let mut report = |done: u64| progress.event(&Event::StepProgress { index: step.index, done, total });
            match guard.write(step, &mut data, &mut report) {
                Ok(()) => sent_sha = Some((data.sent(), data.sha256())),
                Err(e) => failure = Some(e),
            }
            Ok(())
        });
        if let Some(e) = failure {
            return Err(e);
        }
        streamed?;
        let (sent, sha) = sent_sha.unwrap_or_default();
        let expected = step.sha256.clone().unwrap_or_default();
        if sent != step.region.length {
            return Err(FlashError::Driver {
                operation: format!("step {} ({})", step.index, step.describe()),
                source: super::driver::DriverError::Device {
                    operation: "write".into(),
                    message: format!(
                        "the driver took {sent} of the region's {} bytes and reported success",
                        step.region.length
                    ),
                },
            });
        }
        if sha != expected {
            return Err(FlashError::PackageChanged {
                member: source.member.clone(),
                region: step.region.to_string(),
                expected,
                actual: format!("{sha} ({sent} bytes)"),
            });
        }
        Ok(format!("sent {sent} bytes, sha256 {sha}"))
    }

    /// Checks that a written range holds the planned bytes.
    pub(super) fn verify(&mut self, run: i64, step: &Step, conn: &mut dyn Connection) -> Result<(), FlashError> {
        let row =
            self.journal.begin(run, Some(step.index), Kind::Verify, Some(&step.region), step.sha256.as_deref())?;
        let (held, method) = match resume::holds(conn, step) {
            Ok(h) => h,
            Err(e) => {
                self.journal.end(row, Ended::Failed, &e.to_string(), &[])?;
                return Err(e);
            }
        };
        // A platform that stores other bytes than the package's (NV merged with the module's own
        // items) says what it stored; the plan's hash was checked against what it was given.
        let stored = match conn.stored_sha256(&step.region) {
            Ok(s) => s.map(|d| crate::image::archive::hex(&d)),
            Err(source) => {
                let e = FlashError::Driver { operation: format!("verifying {}", step.region), source };
                self.journal.end(row, Ended::Failed, &e.to_string(), &[])?;
                return Err(e);
            }
        };
        let expected = stored.clone().or_else(|| step.sha256.clone()).unwrap_or_default();
        let ok = held == expected;
        self.progress.event(&Event::Verify {
            index: step.index,
            partition: &step.region.partition,
            ok,
            sha256: held.clone(),
            method,
        });
        if ok {
            let detail = match &stored {
                Some(_) => format!(
                    "{method} sha256 {held}: what the driver stored from the package's bytes (sha256 {})",
                    step.sha256.as_deref().unwrap_or("?")
                ),
                None => format!("{method} sha256 {held}"),
            };
            self.journal.end(row, Ended::Done, &detail, &[])?;
            return Ok(());
        }
        let e = FlashError::Verify { region: step.region.to_string(), expected, actual: held };
        self.journal.end(row, Ended::Failed, &e.to_string(), &[])?;
        Err(e)
    }
}

fn kind_of(step: &Step) -> Kind {
    match step.operation {
        Operation::Erase => Kind::Erase,
        Operation::Write => Kind::Write,
        Operation::Patch => Kind::Patch,
    }
}
