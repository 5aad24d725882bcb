//! Finding the module again when it changes mode: in its download mode after the switch, and in
//! normal mode after the reset, where it is identified over AT. Every wait is bounded.

use std::path::PathBuf;
use std::thread::sleep;
use std::time::{Duration, Instant};

use super::error::FlashError;
use crate::device::{self, Module, SessionOptions, SysPaths, UsbTable, describe, discover_in};
use crate::platform::Mode;

/// What the module says after the flash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reidentified {
    /// Its revision (AT+QGMR or its fallbacks).
    pub revision: String,
    /// Its IMEI.
    pub imei: Option<String>,
    /// The AT port it answered on.
    pub port: String,
}

/// How the core finds the module between modes.
pub trait Finder {
    /// Waits until the module is in one of `modes`; returns the port its download mode speaks on.
    fn download_port(&mut self, modes: &[Mode], timeout: Duration) -> Result<PathBuf, FlashError>;

    /// Waits until the module is back in normal mode and reads its identity over AT.
    fn reidentify(&mut self, timeout: Duration) -> Result<Reidentified, FlashError>;
}

/// Port discovery through sysfs (`$FWGUARD_SYSFS`, `$FWGUARD_DEV`): follows one module by its USB
/// bus position, which survives re-enumeration, or takes the only module attached.
#[derive(Debug, Clone)]
pub struct Discovery {
    sys: SysPaths,
    table: UsbTable,
    bus_id: Option<String>,
    session: SessionOptions,
    poll: Duration,
}

impl Discovery {
    /// Follows the module at `bus_id` (else the only one attached) under `sys`.
    pub fn new(sys: SysPaths, table: UsbTable, bus_id: Option<String>, session: SessionOptions) -> Discovery {
        Discovery { sys, table, bus_id, session, poll: Duration::from_millis(100) }
    }

    /// The module, if exactly one matches.
    fn find(&self) -> Result<Option<Module>, FlashError> {
        let modules = discover_in(&self.sys, &self.table).map_err(|e| FlashError::Lost(e.to_string()))?;
        let mut mine: Vec<Module> = match &self.bus_id {
            Some(bus) => modules.into_iter().filter(|m| &m.bus_id == bus).collect(),
            None => modules,
        };
        match mine.len() {
            0 => Ok(None),
            1 => Ok(mine.pop()),
            _ => Err(FlashError::Lost(format!(
                "several modules attached, fwguard will not guess which one it is flashing:\n{}",
                mine.iter().map(describe).collect::<Vec<_>>().join("\n")
            ))),
        }
    }

    fn seen(last: &Option<Module>) -> String {
        last.as_ref().map(|m| describe(m).trim().to_string()).unwrap_or_else(|| "no module".into())
    }
}

impl Finder for Discovery {
    fn download_port(&mut self, modes: &[Mode], timeout: Duration) -> Result<PathBuf, FlashError> {
        let deadline = Instant::now() + timeout;
        let mut last = None;
        loop {
            let found = self.find()?;
            if let Some(m) = &found
                && modes.contains(&m.mode)
                && let Some(port) = m.download_port()
            {
                self.bus_id.get_or_insert_with(|| m.bus_id.clone());
                return Ok(port.path.clone());
            }
            last = found.or(last);
            if Instant::now() >= deadline {
                let want: Vec<&str> = modes.iter().map(|m| m.as_str()).collect();
                return Err(FlashError::Lost(format!(
                    "the module did not appear in its download mode ({}) within {} s; last seen: {}",
                    want.join(" or "),
                    timeout.as_secs(),
                    Discovery::seen(&last)
                )));
            }
            sleep(self.poll);
        }
    }

    fn reidentify(&mut self, timeout: Duration) -> Result<Reidentified, FlashError> {
        let deadline = Instant::now() + timeout;
        let mut last = None;
        let mut why = String::from("it was not seen");
        loop {
            let found = self.find()?;
            if let Some(m) = &found
                && m.mode == Mode::At
                && let Some(port) = m.at_port()
            {
                match device::identify_with(&port.path, &self.session, &self.sys) {
                    Ok(r) => {
                        return Ok(Reidentified { revision: r.revision, imei: r.imei, port: r.port });
                    }
                    Err(e) => why = format!("{} did not identify: {e}", port.path.display()),
                }
            } else if let Some(m) = &found {
                why = format!("it is in {} mode", m.mode);
            }
            last = found.or(last);
            if Instant::now() >= deadline {
                return Err(FlashError::Lost(format!(
                    "the module did not come back in normal mode within {} s ({why}); last seen: {}",
                    timeout.as_secs(),
                    Discovery::seen(&last)
                )));
            }
            sleep(self.poll);
        }
    }
}
