//! One way for every error of the library to say what it is and what to do: a stable code
//! (`fwguard::device::timeout`) and a hint, the way espflash's errors carry a code and help
//! (<https://github.com/esp-rs/espflash>, `espflash/src/error.rs`, through miette's
//! `Diagnostic`).
//!
//! Every error type of the library implements [`Diagnostic`]; [`find`] recovers it from any
//! `&dyn Error` (for example one cause of an `anyhow` chain), so a front end walks the source chain
//! and prints the first hint without knowing the library's error types. The list [`find`] searches
//! is the one place a type becomes a diagnostic: [`Diagnostic`] is sealed to it, so an error type
//! that is not on the list cannot implement the trait, and one on the list must.
//!
//! Codes are stable: scripts may match on them. They name the module and the case in snake case;
//! the catalogue is below, beside the type each belongs to.

use std::error::Error;

/// An error that names itself by a stable code and says what to do.
pub trait Diagnostic: Error + Send + Sync + 'static + sealed::Listed {
    /// A stable identifier, `fwguard::<module>::<case>`, e.g. `fwguard::device::timeout`.
    fn code(&self) -> &'static str;
    /// What the person at the terminal can do about it, when there is something to say.
    fn hint(&self) -> Option<String>;
}

mod sealed {
    /// Implemented only by the [`super::diagnostics!`] list.
    pub trait Listed {}
}

/// A message with a hint and a code, for errors that are no library type (a front end's own
/// refusals, a bad argument).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hinted {
    /// What went wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
    /// The stable code.
    pub code: &'static str,
}

impl Hinted {
    /// A message and its hint, with the code `fwguard::usage`.
    pub fn new(message: impl std::fmt::Display, hint: impl Into<String>) -> Hinted {
        Hinted { message: message.to_string(), hint: hint.into(), code: "fwguard::usage" }
    }
}

impl std::fmt::Display for Hinted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for Hinted {}

impl Diagnostic for Hinted {
    fn code(&self) -> &'static str {
        self.code
    }
    fn hint(&self) -> Option<String> {
        Some(self.hint.clone())
    }
}

/// The diagnostic an error is, if it is one of the library's error types.
pub fn find<'e>(error: &'e (dyn Error + 'static)) -> Option<&'e dyn Diagnostic> {
    listed(error)
}

/// The first diagnostic in `error` and its sources, outermost first.
pub fn first_in_chain<'e>(error: &'e (dyn Error + 'static)) -> Option<&'e dyn Diagnostic> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(d) = find(e) {
            return Some(d);
        }
        next = e.source();
    }
    None
}

/// The first hint in `error` and its sources: the innermost error that knows what to do is not
/// searched past the outermost one that does.
pub fn hint_in_chain(error: &(dyn Error + 'static)) -> Option<String> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(h) = find(e).and_then(Diagnostic::hint) {
            return Some(h);
        }
        next = e.source();
    }
    None
}

/// Declares the library's diagnostic types: seals [`Diagnostic`] to them and lets [`find`]
/// recover each from `&dyn Error`.
macro_rules! diagnostics {
    ($($ty:ty),* $(,)?) => {
        $(impl sealed::Listed for $ty {})*

        fn listed<'e>(error: &'e (dyn Error + 'static)) -> Option<&'e dyn Diagnostic> {
            $(
                if let Some(d) = error.downcast_ref::<$ty>() {
                    return Some(d);
                }
            )*
            None
        }
    };
}

diagnostics![
    Hinted,
    crate::acquire::AcquireError,
    crate::device::DeviceError,
    crate::device::PortsError,
    crate::device::LocateError,
    crate::device::usb::UsbTableError,
    crate::identity::FlashIdError,
    crate::identity::RevisionError,
    crate::identity::AtTextError,
    crate::image::ImageError,
    crate::image::qualcomm::mibib::MibibError,
    crate::rules::RulesError,
    crate::rules::PatternError,
    crate::db::DbError,
    crate::db::MigrationError,
    crate::history::HistoryError,
    crate::sim::SimError,
    crate::flash::FlashError,
    crate::flash::DriverError,
    crate::flash::JournalError,
    crate::flash::qualcomm::QualcommError,
    crate::flash::qualcomm::wire::sahara::PacketError,
    crate::flash::qualcomm::wire::mbn::MbnError,
    crate::flash::qualcomm::wire::firehose::SplitError,
    crate::flash::asr::AsrError,
    crate::flash::unisoc::UnisocError,
];

/// Implements [`Diagnostic`] from the type's own `hint()` and a code per case.
macro_rules! with_hint {
    ($ty:ty, |$e:ident| $code:expr) => {
        impl Diagnostic for $ty {
            fn code(&self) -> &'static str {
                let $e = self;
                $code
            }
            fn hint(&self) -> Option<String> {
                Some(<$ty>::hint(self).to_string())
            }
        }
    };
}

with_hint!(crate::device::DeviceError, |e| {
    use crate::device::DeviceError as E;
    match e {
        E::NotUtf8 { .. } => "fwguard::device::not_utf8",
        E::Open { .. } => "fwguard::device::open",
        E::Io { .. } => "fwguard::device::io",
        E::Disconnected { .. } => "fwguard::device::disconnected",
        E::NotResponding { .. } => "fwguard::device::not_responding",
        E::Timeout { .. } => "fwguard::device::timeout",
        E::Deadline { .. } => "fwguard::device::deadline",
        E::Garbage { .. } => "fwguard::device::garbage",
        E::TooLong { .. } => "fwguard::device::too_long",
        E::LineTooLong { .. } => "fwguard::device::line_too_long",
        E::CommandFailed { .. } => "fwguard::device::command_failed",
        E::NoRevision { .. } => "fwguard::device::no_revision",
    }
});

with_hint!(crate::flash::asr::AsrError, |e| {
    use crate::flash::asr::AsrError as E;
    match e {
        E::Io { .. } => "fwguard::asr::io",
        E::Disconnected { .. } => "fwguard::asr::disconnected",
        E::Input { .. } => "fwguard::asr::input",
        E::NoSync { .. } => "fwguard::asr::no_sync",
        E::Ethos { .. } => "fwguard::asr::ethos",
        E::Timeout { .. } => "fwguard::asr::timeout",
        E::Refused { .. } => "fwguard::asr::refused",
        E::Unexpected { .. } => "fwguard::asr::unexpected",
        E::Requirement { .. } => "fwguard::asr::requirement",
        E::ChipRejected { .. } => "fwguard::asr::chip_rejected",
        E::WrongStage { .. } => "fwguard::asr::wrong_stage",
        E::Invalid { .. } => "fwguard::asr::invalid",
    }
});

with_hint!(crate::device::PortsError, |e| {
    use crate::device::PortsError as E;
    match e {
        E::Sysfs { .. } => "fwguard::ports::sysfs",
        E::Table(_) => "fwguard::ports::usb_table",
    }
});

with_hint!(crate::device::LocateError, |e| {
    use crate::device::LocateError as E;
    match e {
        E::Ports(p) => Diagnostic::code(p),
        E::None { .. } => "fwguard::ports::no_module",
        E::Several(_) => "fwguard::ports::several_modules",
        E::InDownloadMode { .. } => "fwguard::ports::in_download_mode",
        E::NoAtPort { .. } => "fwguard::ports::no_at_port",
    }
});

impl Diagnostic for crate::device::usb::UsbTableError {
    fn code(&self) -> &'static str {
        "fwguard::ports::usb_table"
    }
    fn hint(&self) -> Option<String> {
        Some("fix the USB table (rules/usb.toml), or reinstall fwguard if it is the built-in one".into())
    }
}

impl Diagnostic for crate::identity::FlashIdError {
    fn code(&self) -> &'static str {
        "fwguard::identity::flash_id"
    }
    fn hint(&self) -> Option<String> {
        Some("write the ID as hex bytes, e.g. --flash-id \"20 41 17\" or 98AC9026".into())
    }
}

impl Diagnostic for crate::identity::RevisionError {
    fn code(&self) -> &'static str {
        "fwguard::identity::revision"
    }
    fn hint(&self) -> Option<String> {
        Some("copy the revision exactly as AT+QGMR (or AT+CGMR, then ATI) prints it".into())
    }
}

impl Diagnostic for crate::identity::AtTextError {
    fn code(&self) -> &'static str {
        "fwguard::identity::at_text"
    }
    fn hint(&self) -> Option<String> {
        Some("paste what AT+QGMR answered, e.g. EC25EFAR06A17M4G_20.200.20.200".into())
    }
}

with_hint!(crate::image::ImageError, |e| {
    use crate::image::ImageError as E;
    match e {
        E::Io { .. } => "fwguard::image::io",
        E::Malformed { .. } => "fwguard::image::malformed",
        E::Unsafe { .. } => "fwguard::image::unsafe",
        E::UnknownFormat { .. } => "fwguard::image::unknown_format",
        E::NotAFile { .. } => "fwguard::image::not_a_file",
    }
});

impl Diagnostic for crate::image::qualcomm::mibib::MibibError {
    fn code(&self) -> &'static str {
        "fwguard::image::mibib"
    }
    fn hint(&self) -> Option<String> {
        Some("the package's partition table is damaged: download the package again from the vendor".into())
    }
}

impl Diagnostic for crate::rules::RulesError {
    fn code(&self) -> &'static str {
        use crate::rules::RulesError as E;
        match self {
            E::Io { .. } => "fwguard::rules::io",
            E::Empty { .. } => "fwguard::rules::empty",
            E::Invalid(_) => "fwguard::rules::invalid",
        }
    }
    fn hint(&self) -> Option<String> {
        use crate::rules::RulesError as E;
        Some(
            match self {
                E::Io { .. } => "check the path",
                E::Empty { .. } => "give the rules directory, the one holding database.toml",
                E::Invalid(_) => "fix each problem at the file and line it names; `fwguard rules lint` lists them",
            }
            .into(),
        )
    }
}

impl Diagnostic for crate::rules::PatternError {
    fn code(&self) -> &'static str {
        "fwguard::rules::pattern"
    }
    fn hint(&self) -> Option<String> {
        Some("write a revision with `x` for any digit, e.g. EC25EFAR06A0xM4G".into())
    }
}

with_hint!(crate::db::DbError, |e| {
    use crate::db::DbError as E;
    match e {
        E::Rules(r) => Diagnostic::code(r),
        E::Sqlite { .. } => "fwguard::db::sqlite",
        E::Io { .. } => "fwguard::db::io",
        E::Invalid { .. } => "fwguard::db::invalid",
        E::Replace(_) => "fwguard::db::replace",
        E::Requires { .. } => "fwguard::db::requires",
        E::Unsigned { .. } => "fwguard::db::unsigned",
        E::BadSignature { .. } => "fwguard::db::bad_signature",
        E::UnknownKey { .. } => "fwguard::db::unknown_key",
        E::Altered { .. } => "fwguard::db::altered",
        E::Rollback { .. } => "fwguard::db::rollback",
        E::Conflict { .. } => "fwguard::db::conflict",
        E::Key { .. } => "fwguard::db::key",
        E::Fetch { .. } => "fwguard::db::fetch",
        E::Home(_) => "fwguard::db::home",
    }
});

impl Diagnostic for crate::db::MigrationError {
    fn code(&self) -> &'static str {
        match self {
            crate::db::MigrationError::TooNew { .. } => "fwguard::db::schema_too_new",
            crate::db::MigrationError::Sqlite(_) => "fwguard::db::sqlite",
        }
    }
    fn hint(&self) -> Option<String> {
        Some(match self {
            crate::db::MigrationError::TooNew { .. } => "upgrade fwguard".into(),
            crate::db::MigrationError::Sqlite(_) => "check that the file is a SQLite database and writable".into(),
        })
    }
}

with_hint!(crate::history::HistoryError, |e| {
    use crate::history::HistoryError as E;
    match e {
        E::NoHome => "fwguard::history::no_home",
        E::Dir { .. } => "fwguard::history::dir",
        E::Sqlite { .. } => "fwguard::history::sqlite",
        E::TooNew { .. } => "fwguard::history::schema_too_new",
        E::Invalid(_) => "fwguard::history::invalid",
        E::Pending { .. } => "fwguard::history::pending",
    }
});

with_hint!(crate::sim::SimError, |e| {
    use crate::sim::SimError as E;
    match e {
        E::UnknownProfile { .. } => "fwguard::sim::unknown_profile",
        E::Profile(_) => "fwguard::sim::profile",
        E::Fault { .. } => "fwguard::sim::fault",
        E::NotSimulated { .. } => "fwguard::sim::not_simulated",
        E::Pty(_) => "fwguard::sim::pty",
        E::Crashed(_) => "fwguard::sim::crashed",
        E::Files { .. } => "fwguard::sim::files",
        E::PortBusy { .. } => "fwguard::sim::port_busy",
    }
});

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] crate::image::ImageError);

    #[test]
    fn the_chain_is_searched_for_the_first_diagnostic() {
        let inner = crate::image::ImageError::Io {
            path: "/x.zip".into(),
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        };
        let outer = Outer(inner);
        assert!(find(&outer).is_none());
        let d = first_in_chain(&outer).expect("the image error is found behind the outer one");
        assert_eq!(d.code(), "fwguard::image::io");
        assert_eq!(hint_in_chain(&outer).as_deref(), Some("check the path and its permissions"));
    }

    #[test]
    fn codes_are_namespaced_snake_case() {
        let samples: Vec<Box<dyn Diagnostic>> = vec![
            Box::new(Hinted::new("m", "h")),
            Box::new(crate::history::HistoryError::NoHome),
            Box::new(crate::sim::SimError::Pty("x".into())),
            Box::new(crate::device::LocateError::Several(vec![])),
            Box::new(crate::identity::FlashId::parse("zz").unwrap_err()),
            Box::new(crate::flash::qualcomm::QualcommError::Invalid("x".into())),
            Box::new(crate::flash::qualcomm::wire::mbn::MbnError::NoHashSegment),
        ];
        for d in samples {
            let code = d.code();
            assert!(code.starts_with("fwguard::"), "{code}");
            assert!(code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_' || b == b':'), "{code}");
            assert!(d.hint().is_some_and(|h| !h.is_empty()), "{code}");
        }
    }
}
