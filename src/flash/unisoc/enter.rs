//! Entering the download mode from normal mode: `AT+QDOWNLOAD=1` on the AT port, after which
//! the module resets and re-enumerates with its chip's download USB id (IharRusak/QDloader
//! `main.c`; QuecPython `fw_config.json`). Finding the new port is discovery's job.

use super::fdl::Chip;
use crate::device::{DeviceError, Session, Transport, UsbId};

/// The command.
pub const QDOWNLOAD: &str = "AT+QDOWNLOAD=1";

/// The USB ids a module of `chip` comes back with in download mode: the UIS8910 ROM as 0525:a4a7
/// (QDloader, QPYcom), and 1782:4d00 which a forum thread names for the EC200U; the UIS8850 as
/// 1782:4d16.
pub fn download_ids(chip: Chip) -> &'static [UsbId] {
    const UIS8910: [UsbId; 2] = [UsbId::new(0x0525, 0xA4A7), UsbId::new(0x1782, 0x4D00)];
    const UIS8850: [UsbId; 1] = [UsbId::new(0x1782, 0x4D16)];
    match chip {
        Chip::Uis8910 => &UIS8910,
        Chip::Uis8850 => &UIS8850,
    }
}

/// The chip of a module model (`EC200U` → UIS8910), when it is one fwguard can flash.
pub fn chip_of_model(model: &str) -> Option<Chip> {
    match crate::image::pac::describe::chip_of_model(model) {
        Some("8910") => Some(Chip::Uis8910),
        Some("8850") => Some(Chip::Uis8850),
        _ => None,
    }
}

/// Sends `AT+QDOWNLOAD=1`; the module answers OK and then leaves. An answer other than OK is an
/// error naming it.
pub fn request_download_mode<T: Transport>(session: &mut Session<T>) -> Result<(), DeviceError> {
    let reply = session.command(QDOWNLOAD)?;
    if reply.result.is_ok() {
        Ok(())
    } else {
        Err(DeviceError::CommandFailed {
            port: session.port().to_string(),
            command: QDOWNLOAD.into(),
            result: reply.result.to_string(),
        })
    }
}
