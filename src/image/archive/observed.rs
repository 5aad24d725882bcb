//! A package whose reads are reported to a [`Progress`]: every byte a reader streams from it
//! (hashing, parsing) counts, so a large package shows how far its reading has come.

use std::io::{self, Read};

use crate::image::package::Visitor;
use crate::image::{FileEntry, ImageError, Member, Package};
use crate::progress::{Event, Progress};

/// Wraps a package and reports the bytes read from it.
pub struct Observed<'p> {
    inner: Box<dyn Package>,
    progress: &'p dyn Progress,
    done: u64,
}

impl<'p> Observed<'p> {
    /// Wraps `inner`; reports [`Event::Reading`] with the members' total size at once.
    pub fn new(inner: Box<dyn Package>, progress: &'p dyn Progress) -> Observed<'p> {
        let total = inner.members().iter().map(|m| m.size).fold(0u64, u64::saturating_add);
        progress.event(&Event::Reading { package: inner.path(), bytes: Some(total) });
        Observed { inner, progress, done: 0 }
    }
}

impl Drop for Observed<'_> {
    fn drop(&mut self) {
        self.progress.event(&Event::ReadDone);
    }
}

/// Counts the bytes going through a member's reader.
struct Counting<'r> {
    inner: &'r mut dyn Read,
    done: &'r mut u64,
    progress: &'r dyn Progress,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            *self.done = self.done.saturating_add(n as u64);
            self.progress.event(&Event::Read { done: *self.done });
        }
        Ok(n)
    }
}

impl Package for Observed<'_> {
    fn path(&self) -> &str {
        self.inner.path()
    }

    fn members(&self) -> &[Member] {
        self.inner.members()
    }

    fn read(&mut self, member: &str, limit: u64) -> Result<Vec<u8>, ImageError> {
        let data = self.inner.read(member, limit)?;
        self.done = self.done.saturating_add(data.len() as u64);
        self.progress.event(&Event::Read { done: self.done });
        Ok(data)
    }

    fn hash(&mut self, member: &str) -> Result<FileEntry, ImageError> {
        let entry = self.inner.hash(member)?;
        self.done = self.done.saturating_add(entry.size);
        self.progress.event(&Event::Read { done: self.done });
        Ok(entry)
    }

    fn for_each(&mut self, visit: &mut Visitor<'_>) -> Result<(), ImageError> {
        let progress = self.progress;
        let done = &mut self.done;
        self.inner.for_each(&mut |member, reader| {
            let mut counting = Counting { inner: reader, done, progress };
            visit(member, &mut counting)
        })
    }

    fn contains(&self, path: &str) -> bool {
        self.inner.contains(path)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::image::build::memory::MemoryPackage;

    #[derive(Default)]
    struct Record(Mutex<Vec<String>>);

    impl Progress for Record {
        fn event(&self, event: &Event<'_>) {
            self.0.lock().unwrap().push(format!("{event:?}"));
        }
    }

    #[test]
    fn reports_the_total_then_each_read_then_the_end() {
        let record = Record::default();
        let inner = MemoryPackage::new("p.zip", vec![("a".into(), vec![1; 10]), ("b".into(), vec![2; 5])]);
        let mut pkg = Observed::new(Box::new(inner), &record);
        pkg.for_each(&mut |_, r| {
            std::io::copy(r, &mut std::io::sink()).unwrap();
            Ok(())
        })
        .unwrap();
        drop(pkg);
        let events = record.0.into_inner().unwrap();
        assert_eq!(events.first().unwrap(), "Reading { package: \"p.zip\", bytes: Some(15) }");
        assert!(events.contains(&"Read { done: 15 }".to_string()), "{events:?}");
        assert_eq!(events.last().unwrap(), "ReadDone");
    }
}
