//! Which driver flashes which platform: the one place the core dispatches a module's platform to
//! a driver. A platform joins by adding its driver to [`Registry::builtin`]; nothing else in the
//! core changes.

use super::driver::Driver;
use super::error::FlashError;
use crate::platform::Platform;

/// The drivers fwguard can flash with.
pub struct Registry {
    drivers: Vec<Box<dyn Driver>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.platforms()).finish()
    }
}

impl Registry {
    /// The drivers built into fwguard. (The platform drivers, `flash/qualcomm/`, `flash/asr/`
    /// and `flash/unisoc/`, each add one line here.)
    pub fn builtin() -> Registry {
        Registry {
            drivers: vec![
                Box::new(super::qualcomm::QualcommDriver::new()),
                Box::new(super::asr::AsrDriver::default()),
                Box::new(super::unisoc::UnisocDriver::default()),
            ],
        }
    }

    /// A registry of exactly these drivers (tests, and programs with drivers of their own).
    pub fn with(drivers: Vec<Box<dyn Driver>>) -> Registry {
        Registry { drivers }
    }

    /// The platforms that have a driver.
    pub fn platforms(&self) -> Vec<Platform> {
        self.drivers.iter().map(|d| d.platform()).collect()
    }

    /// The driver of `platform`, or [`FlashError::NoDriver`] naming the platforms there are.
    pub fn driver(&self, platform: Platform) -> Result<&dyn Driver, FlashError> {
        self.drivers.iter().find(|d| d.platform() == platform).map(|d| d.as_ref()).ok_or_else(|| {
            let have: Vec<&str> = self.drivers.iter().map(|d| d.platform().as_str()).collect();
            FlashError::NoDriver {
                platform,
                available: if have.is_empty() { "none yet".into() } else { have.join(", ") },
            }
        })
    }
}
