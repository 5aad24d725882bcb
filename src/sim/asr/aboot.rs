//! The simulated module's aboot command layer: the boot ROM and `preboot.img` (getvar,
//! download, verify, call/nop), with `flasher.img`'s own commands passed to [`Flasher`].
//!
//! Replies follow amitv87/asr_aboot `aboot.c`: `OKAY<value>`, `FAIL<reason>`, `DATA<8 hex digits>`, `INFO<text>`.
//! The ROM answers `call` with an `INFO` line and `OKAY`, then the verified stage runs, prints
//! its banner on the console ("Executing preboot application..." / "Executing flasher
//! application...", then its version: strings of waybyte/logicromsdk
//! `lib/asr160x/pack/ASR1601/preboot.img` and `flasher.img`) and waits for a new handshake
//! (taking commands without one too). The 2019.01.15 ROM has no `call`: the published tools send
//! `nop` in its place, which reads as "the stage runs once verified"; the simulated 2019.01.15 ROM
//! does that, and answers `nop` with `OKAY` as every stage does.

use std::time::Duration;

use super::flasher::{Flasher, Out};
use super::smux::DeviceLink;
use crate::flash::asr::wire::aboot::{CRANE_BOOTROM, Command, Reply};
use crate::image::asr::fip::{Fip, UUID_BL2};
use crate::sim::Profile;
use crate::sim::download::DownloadContext;

/// How long after `reboot` the module resets when no `disconnect` comes first. The flasher
/// waits some seconds ("progress is 100, wait %d seconds to reboot...", flasher.img); the
/// simulator is quicker.
pub const REBOOT_DELAY: Duration = Duration::from_millis(500);

/// The largest download a stage takes before the flasher runs (the simulator's value; the real
/// one is not recorded).
pub const ROM_MAX_DOWNLOAD: u32 = 0x4_0000;
/// The flasher's `max-download-size`: 0x1c0000, "the stock flasher" per annkirin/asr-flash
/// `main.go`.
pub const FLASHER_MAX_DOWNLOAD: u32 = 0x1C_0000;

/// What the boot ROM says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RomIdentity {
    /// `getvar:version`.
    pub version: String,
    /// `getvar:version-bootrom`.
    pub version_bootrom: String,
    /// `getvar:product`.
    pub product: String,
    /// `getvar:platform` (the chip's codename; what the real ROM says is not recorded).
    pub platform: String,
}

impl RomIdentity {
    /// The ROM of `profile`'s chip: ASR1601 (Crane) "2019.01.15" (amitv87/asr_aboot), ASR1603
    /// (CraneG/CraneM) "2020.07.30" with version 0.5 (waybyte/logicromsdk
    /// `lib/asr160x/pack/download.json`), and otherwise the CraneL template "2022.11.06", version
    /// 0.6 (which string an EC800M's ROM really returns is not confirmed by a public source). The
    /// ASR1601's product is "arom" (waybyte/platform-logicrom `asrutils.py` accepts
    /// "arom|arom-tiny"); the version of its ROM is not recorded.
    pub fn for_profile(profile: &Profile) -> RomIdentity {
        let chip = profile.chipset.to_ascii_uppercase();
        let (version, bootrom, product, platform) = if chip.contains("1601") {
            ("0.5", CRANE_BOOTROM, "arom", "CRANE")
        } else if chip.contains("1603") {
            ("0.5", "2020.07.30", "arom-tiny", "CRANEM")
        } else {
            ("0.6", "2022.11.06", "arom-tiny", "CRANEL")
        };
        RomIdentity {
            version: version.into(),
            version_bootrom: bootrom.into(),
            product: product.into(),
            platform: platform.into(),
        }
    }
}

/// Which program answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The boot ROM.
    Rom,
    /// `preboot.img`.
    Preboot,
    /// `flasher.img`.
    Flasher,
}

/// What the link layer must do after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Nothing.
    None,
    /// A new stage runs: its handshake is still to come.
    NewStage,
    /// Reset after a while.
    RebootLater,
    /// Reset now.
    RebootNow,
}

/// The aboot command layer of the simulated module.
#[derive(Debug, Clone)]
pub struct AbootDevice {
    rom: RomIdentity,
    stage: Stage,
    commands: u64,
    expecting: Option<(u32, Vec<u8>)>,
    download: Option<Vec<u8>>,
    verified: Option<Stage>,
    reboot_pending: bool,
    flasher: Flasher,
}

impl AbootDevice {
    /// The boot ROM of `profile`, waiting for the host.
    pub fn new(profile: &Profile) -> AbootDevice {
        AbootDevice {
            rom: RomIdentity::for_profile(profile),
            stage: Stage::Rom,
            commands: 0,
            expecting: None,
            download: None,
            verified: None,
            reboot_pending: false,
            flasher: Flasher::default(),
        }
    }

    /// The stage that answers.
    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// The flasher's state.
    pub fn flasher(&self) -> &Flasher {
        &self.flasher
    }

    fn max_download(&self) -> u32 {
        if self.stage == Stage::Flasher { FLASHER_MAX_DOWNLOAD } else { ROM_MAX_DOWNLOAD }
    }

    /// An ABOOT_DATA frame: part of the transfer `download` announced (ignored when none is).
    pub fn on_data(&mut self, data: &[u8], link: &DeviceLink, out: &mut Vec<u8>) {
        let Some((want, buf)) = self.expecting.as_mut() else { return };
        let room = (*want as usize).saturating_sub(buf.len());
        buf.extend_from_slice(&data[..data.len().min(room)]);
        if buf.len() == *want as usize {
            let (_, done) = self.expecting.take().unwrap_or_default();
            self.download = Some(done);
            self.verified = None;
            link.reply(&Reply::Okay(String::new()), out);
        }
    }

    /// An ABOOT_CMD frame.
    pub fn on_command(
        &mut self,
        line: &[u8],
        link: &DeviceLink,
        ctx: &mut DownloadContext<'_>,
        out: &mut Vec<u8>,
    ) -> Effect {
        self.commands += 1;
        self.expecting = None;
        let command = Command::parse(line);
        if ctx.faults.nak_at == Some(self.commands) {
            let reason = format!("{command} refused (fault nak-at={})", self.commands);
            link.reply(&Reply::Fail(reason), out);
            return Effect::None;
        }
        let mut o = Out { link, bytes: out };
        let reply = |o: &mut Out<'_>, r: Reply| o.link.reply(&r, o.bytes);
        match command {
            Command::GetVar(key) => reply(&mut o, self.getvar(&key)),
            Command::Download(n) if n == 0 || n > self.max_download() => {
                reply(&mut o, Reply::Fail(format!("data too large: {n:#x} bytes, at most {:#x}", self.max_download())))
            }
            Command::Download(n) => {
                self.expecting = Some((n, Vec::with_capacity(n as usize)));
                reply(&mut o, Reply::Data(n));
            }
            Command::Verify if self.stage != Stage::Flasher => return self.verify(&mut o),
            Command::Call if self.stage != Stage::Flasher && self.rom.version_bootrom != CRANE_BOOTROM => {
                return self.call(&mut o);
            }
            Command::Nop | Command::Progress(_) | Command::Enable | Command::Complete => {
                reply(&mut o, Reply::Okay(String::new()));
            }
            Command::Reboot => {
                self.reboot_pending = true;
                reply(&mut o, Reply::Okay(String::new()));
                return Effect::RebootLater;
            }
            Command::Disconnect => {
                reply(&mut o, Reply::Okay(String::new()));
                if self.reboot_pending {
                    return Effect::RebootNow;
                }
            }
            flasher_command if self.stage == Stage::Flasher => self.flasher_command(flasher_command, ctx, &mut o),
            other => reply(&mut o, Reply::Fail(format!("unknown command: {other}"))),
        }
        Effect::None
    }

    fn getvar(&self, key: &str) -> Reply {
        let value = match key {
            "version-bootrom" => self.rom.version_bootrom.clone(),
            "max-download-size" => format!("0x{:08x}", self.max_download()),
            _ if self.stage != Stage::Rom => {
                return self.flasher.getvar(key).unwrap_or_else(|| Reply::Fail(format!("unknown variable: {key}")));
            }
            "version" => self.rom.version.clone(),
            "product" => self.rom.product.clone(),
            "platform" => self.rom.platform.clone(),
            "boardid" => String::new(),
            _ => return Reply::Fail(format!("unknown variable: {key}")),
        };
        Reply::Okay(value)
    }

    /// `verify`: the last download must be a FIP container with a BL2 image.
    fn verify(&mut self, o: &mut Out<'_>) -> Effect {
        let Some(image) = self.download.as_deref() else {
            o.link.reply(&Reply::Fail("verify: nothing downloaded".into()), o.bytes);
            return Effect::None;
        };
        let bl2 = Fip::parse(image, "download", "stage").ok().and_then(|fip| {
            fip.entries.into_iter().find(|e| e.uuid == UUID_BL2).map(|e| (e.offset as usize, e.size as usize))
        });
        let Some((at, len)) = bl2 else {
            o.link.reply(&Reply::Fail("verify failed: not a FIP image with a BL2".into()), o.bytes);
            return Effect::None;
        };
        let body = image.get(at..at.saturating_add(len)).unwrap_or_default();
        let text = String::from_utf8_lossy(body);
        let next = if text.contains("Flasher") || text.contains("flasher") {
            Stage::Flasher
        } else if text.contains("Preboot") || text.contains("preboot") || self.stage == Stage::Rom {
            Stage::Preboot
        } else {
            Stage::Flasher
        };
        self.verified = Some(next);
        o.link.reply(&Reply::Okay(String::new()), o.bytes);
        if self.rom.version_bootrom == CRANE_BOOTROM {
            // The 2019.01.15 ROM has no `call`: the image runs once verified.
            return self.run_verified(o);
        }
        Effect::None
    }

    /// `call`: the ROM says so and the verified stage runs.
    fn call(&mut self, o: &mut Out<'_>) -> Effect {
        if self.verified.is_none() {
            o.link.reply(&Reply::Fail("call: no verified image".into()), o.bytes);
            return Effect::None;
        }
        o.link.reply(&Reply::Info("calling the verified image".into()), o.bytes);
        o.link.reply(&Reply::Okay(String::new()), o.bytes);
        self.run_verified(o)
    }

    fn run_verified(&mut self, o: &mut Out<'_>) -> Effect {
        let Some(next) = self.verified.take() else { return Effect::None };
        let version = self.download.as_deref().and_then(stage_version).unwrap_or_else(|| "unknown".into());
        self.stage = next;
        self.download = None;
        let banner = match next {
            Stage::Flasher => format!("Executing flasher application...\nFlasher version: {version}\n"),
            _ => format!("Executing preboot application...\nPreboot version: {version}\n"),
        };
        o.link.console(&banner, o.bytes);
        Effect::NewStage
    }

    fn flasher_command(&mut self, command: Command, ctx: &mut DownloadContext<'_>, o: &mut Out<'_>) {
        let download = self.download.as_deref();
        match command {
            Command::Partition => self.flasher.partition(download, ctx, o),
            Command::Flash(name) => self.flasher.flash(&name, download, ctx, o),
            Command::Erase(name) => self.flasher.erase(&name, ctx, o),
            Command::LoadPt => self.flasher.loadpt(ctx, o),
            Command::UseFlash(device) => self.flasher.useflash(&device, o),
            Command::UlStage { start, size } => self.flasher.ulstage(start, size, ctx, o),
            Command::Upload(name) => self.flasher.upload(&name, ctx, o),
            other => o.link.reply(&Reply::Fail(format!("unknown command: {other}")), o.bytes),
        }
    }
}

/// The version a stage image carries after "version: " (the fixture images carry it in plain
/// text; a compressed real image does not).
fn stage_version(image: &[u8]) -> Option<String> {
    let at = image.windows(9).position(|w| w == b"version: ")? + 9;
    let text: String =
        image[at..].iter().take(32).take_while(|b| b.is_ascii_graphic()).map(|b| char::from(*b)).collect();
    (!text.is_empty()).then_some(text)
}
