//! The normal-mode AT state machine of a simulated module: echo, framing, boot URCs, answers and
//! errors as real Quectel modules give them. Pure: bytes in, bytes out, no clock (the boot
//! URCs come with their delays; the server keeps the time).
//!
//! - A command line may carry several commands separated by `;`, only the first with `AT`
//!   (ITU-T V.250 §5.2.1, as Quectel's AT manuals describe it): the information lines of each
//!   come in order, then one final `OK`; the first command that fails ends the line with its
//!   `ERROR` / `+CME ERROR: n`, and the rest are not run.
//! - After boot the AT port says `RDY`, then on its own time `+CFUN: 1`, `+CPIN: READY`,
//!   `+QUSIM: 1`, `+QIND: SMS DONE`, `+QIND: PB DONE` ([`AtMachine::boot_urcs`]). The fault
//!   `glue-urcs` glues them to answers instead, as modules under load do.
//! - `AT+CFUN=1,1` answers `OK` and resets the module ([`AtEvent::Reset`]).
//! - `AT+QCFG="usbnet"` and `AT+QCFG="usbcfg"` answer as EC25/EG25 modules do:
//!   `+QCFG: "usbnet",0` (0 RmNet/QMI, 1 ECM, 2 MBIM, 3 RNDIS) and
//!   `+QCFG: "usbcfg",0x2C7C,0x0125,1,1,1,1,1,0,0` (VID, PID, then DIAG, NMEA, AT, modem,
//!   RmNet, ADB, UAC), the default composition public EG25/EC25 tools read back
//!   (forumschinese.quectel.com/t/topic/6420 sets `…,1,1,1,1,1,0,1` to add UAC). A new value
//!   is kept across resets, as the module keeps it in NV.

use std::sync::Arc;
use std::time::Duration;

use super::profile::{Platform, Profile, Quirk, SecbootQuery};
use crate::device::Role;

/// The longest command line the module keeps; longer ones answer `ERROR`.
const MAX_COMMAND: usize = 1024;

/// The boot URCs of the AT port and when each comes after `RDY`.
const BOOT_URCS: &[(u64, &str)] =
    &[(200, "+CFUN"), (250, "+CPIN: READY"), (250, "+QUSIM: 1"), (1000, "+QIND: SMS DONE"), (1100, "+QIND: PB DONE")];

/// What the machine wants sent, or done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AtEvent {
    /// Echo of received characters: sent at once.
    Echo(Vec<u8>),
    /// An answer (with any URCs around it): subject to the `slow` fault.
    Reply(Vec<u8>),
    /// The module leaves normal mode for its download mode (after `AT+QDOWNLOAD=1` was answered).
    EnterDownload,
    /// The module resets (after `AT+CFUN=1,1` was answered): its ports go away and come back.
    Reset,
}

/// What one command did.
enum Outcome {
    /// Information lines (maybe none); the line goes on.
    Ok(Vec<String>),
    /// The final result that ends the line: `ERROR` or `+CME ERROR: n`.
    Fail(Vec<u8>),
    /// `OK`, then the module leaves for its download mode.
    Download,
    /// `OK`, then the module resets.
    Reset,
}

/// One AT port of a simulated module in normal mode.
#[derive(Debug, Clone)]
pub struct AtMachine {
    profile: Arc<Profile>,
    echo: bool,
    line: Vec<u8>,
    overflow: bool,
    commands: u32,
    cfun: u8,
    cmee: u8,
    urcs: bool,
    glue_urcs: bool,
    usbnet: u8,
    usbcfg: Option<String>,
}

impl AtMachine {
    /// A port of `profile`; `urcs` says whether unsolicited codes come out here (the AT port).
    pub fn new(profile: Arc<Profile>, urcs: bool) -> AtMachine {
        let cfun = if profile.has(Quirk::Ftm) { 5 } else { 1 };
        AtMachine {
            echo: !profile.has(Quirk::EchoOff),
            profile,
            line: Vec::new(),
            overflow: false,
            commands: 0,
            cfun,
            cmee: 1,
            urcs,
            glue_urcs: false,
            usbnet: 0,
            usbcfg: None,
        }
    }

    /// Glues the boot URCs to the first answers instead of sending them on their own time
    /// (the `glue-urcs` fault): `+CFUN`, `+CPIN`, `+QUSIM` after the first answer, the `+QIND`
    /// lines before the third.
    pub fn set_glued_urcs(&mut self, glued: bool) {
        self.glue_urcs = glued;
    }

    /// The same port after the module reset: power-up state again, but settings the module
    /// keeps in NV (`usbnet`, `usbcfg`) are kept.
    pub fn rebooted(&self) -> AtMachine {
        AtMachine {
            usbnet: self.usbnet,
            usbcfg: self.usbcfg.clone(),
            glue_urcs: self.glue_urcs,
            ..AtMachine::new(Arc::clone(&self.profile), self.urcs)
        }
    }

    /// What the port says when the module has booted.
    pub fn boot_output(&self) -> Vec<u8> {
        if self.urcs { b"\r\nRDY\r\n".to_vec() } else { Vec::new() }
    }

    /// The URCs the port sends after [`AtMachine::boot_output`], each with its delay after it;
    /// none on a port without URCs or when they are glued to answers.
    pub fn boot_urcs(&self) -> Vec<(Duration, Vec<u8>)> {
        if !self.urcs || self.glue_urcs {
            return Vec::new();
        }
        BOOT_URCS
            .iter()
            .filter(|(_, text)| !(self.profile.has(Quirk::NoSim) && matches!(*text, "+CPIN: READY" | "+QUSIM: 1")))
            .map(|(ms, text)| {
                let text = if *text == "+CFUN" { format!("+CFUN: {}", self.cfun) } else { (*text).to_string() };
                (Duration::from_millis(*ms), format!("\r\n{text}\r\n").into_bytes())
            })
            .collect()
    }

    /// Takes received bytes; returns what to send. A command runs when its `\r` arrives.
    pub fn feed(&mut self, input: &[u8]) -> Vec<AtEvent> {
        let mut events = Vec::new();
        let mut echoed = Vec::new();
        for &b in input {
            if self.echo {
                echoed.push(b);
            }
            match b {
                b'\r' => {
                    if !echoed.is_empty() {
                        events.push(AtEvent::Echo(std::mem::take(&mut echoed)));
                    }
                    let line = std::mem::take(&mut self.line);
                    let overflow = std::mem::replace(&mut self.overflow, false);
                    if overflow {
                        events.push(AtEvent::Reply(b"\r\nERROR\r\n".to_vec()));
                    } else if let Some(evs) = self.run_line(&line) {
                        events.extend(evs);
                    }
                }
                b'\n' => {}
                // Backspace edits the line as on a terminal.
                0x08 | 0x7f => {
                    self.line.pop();
                }
                _ if self.line.len() >= MAX_COMMAND => self.overflow = true,
                _ => self.line.push(b),
            }
        }
        if !echoed.is_empty() {
            events.push(AtEvent::Echo(echoed));
        }
        events
    }

    /// Runs one command line. Lines that do not start with `AT` are ignored, as modules do.
    fn run_line(&mut self, line: &[u8]) -> Option<Vec<AtEvent>> {
        let text = String::from_utf8_lossy(line).trim().to_string();
        let body = match text.get(..2) {
            Some(at) if at.eq_ignore_ascii_case("AT") => text[2..].trim().to_string(),
            _ => return None,
        };
        self.commands += 1;
        let mut reply = Vec::new();
        if self.glue_urcs && self.urcs && self.commands == 3 {
            reply.extend_from_slice(b"\r\n+QIND: SMS DONE\r\n\r\n+QIND: PB DONE\r\n");
        }
        let (answer, then) = self.run_commands(&body);
        reply.extend_from_slice(&answer);
        if self.glue_urcs && self.urcs && self.commands == 1 {
            reply.extend_from_slice(format!("\r\n+CFUN: {}\r\n", self.cfun).as_bytes());
            if !self.profile.has(Quirk::NoSim) {
                reply.extend_from_slice(b"\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n");
            }
        }
        let mut events = vec![AtEvent::Reply(reply)];
        events.extend(then);
        Some(events)
    }

    /// Runs the `;`-separated commands of one line: their information lines in order, then one
    /// `OK`; the first failure ends the line with its result.
    fn run_commands(&mut self, body: &str) -> (Vec<u8>, Option<AtEvent>) {
        let mut out = Vec::new();
        let mut then = None;
        for command in split_commands(body) {
            match self.command(command.trim()) {
                Outcome::Ok(lines) => out.extend(info(&lines)),
                Outcome::Fail(result) => {
                    out.extend_from_slice(&result);
                    return (out, None);
                }
                Outcome::Download => {
                    then = Some(AtEvent::EnterDownload);
                    break;
                }
                Outcome::Reset => {
                    then = Some(AtEvent::Reset);
                    break;
                }
            }
        }
        out.extend_from_slice(b"\r\nOK\r\n");
        (out, then)
    }

    /// The answer to one command (the text after `AT`, or after a `;`), and whether it enters
    /// download mode. The whole answer, with its final `OK` or error.
    pub fn answer(&mut self, body: &str) -> (Vec<u8>, bool) {
        match self.command(body) {
            Outcome::Ok(lines) => (ok(&lines), false),
            Outcome::Fail(result) => (result, false),
            Outcome::Download => (ok(&[]), true),
            Outcome::Reset => (ok(&[]), false),
        }
    }

    fn command(&mut self, body: &str) -> Outcome {
        let p = Arc::clone(&self.profile);
        let upper = body.to_ascii_uppercase();
        let one = |l: &str| Outcome::Ok(vec![l.to_string()]);
        match upper.as_str() {
            "" | "&W" | "Z" | "V1" | "Q0" | "&F" => Outcome::Ok(Vec::new()),
            "E0" | "E" => {
                self.echo = false;
                Outcome::Ok(Vec::new())
            }
            "E1" => {
                self.echo = true;
                Outcome::Ok(Vec::new())
            }
            "I" | "I0" => {
                Outcome::Ok(vec![p.manufacturer.clone(), p.model.clone(), format!("Revision: {}", p.ati_revision)])
            }
            "+GMR" => one(&p.ati_revision),
            "+CGMR" if p.has(Quirk::CgmrPrefix) => one(&format!("+CGMR: {}", p.ati_revision)),
            "+CGMR" => one(&p.ati_revision),
            "+QGMR" if p.has(Quirk::NoQgmr) => Outcome::Fail(error()),
            "+QGMR" => one(&p.revision),
            "+CGMI" | "+GMI" => one(&p.manufacturer),
            "+CGMM" | "+GMM" => one(&p.cgmm),
            "+GSN" | "+CGSN" => one(&p.imei),
            "+QSECBOOT=\"STATUS\"" if p.secboot_query == SecbootQuery::Qsecboot => {
                one(&format!("+QSECBOOT: \"status\",{}", u8::from(p.secure_boot)))
            }
            "+QCFG=\"SECBOOTSTAT\"" if p.secboot_query == SecbootQuery::Qcfg => {
                one(&format!("+QCFG: \"secbootstat\",{}", u8::from(p.secure_boot)))
            }
            "+CPIN?" if p.has(Quirk::NoSim) => Outcome::Fail(self.cme(10, "SIM not inserted")),
            "+CPIN?" => one("+CPIN: READY"),
            "+CFUN?" => one(&format!("+CFUN: {}", self.cfun)),
            "+CMEE?" => one(&format!("+CMEE: {}", self.cmee)),
            "+CSQ" => one("+CSQ: 24,99"),
            "+QDOWNLOAD=1" if p.platform.has_qdownload() => Outcome::Download,
            _ => {
                if let Some(v) = upper.strip_prefix("+CFUN=") {
                    self.set_cfun(v)
                } else if let Some(v) = upper.strip_prefix("+CMEE=") {
                    match v.trim() {
                        "0" | "1" | "2" => {
                            self.cmee = v.trim().parse().unwrap_or(1);
                            Outcome::Ok(Vec::new())
                        }
                        _ => Outcome::Fail(error()),
                    }
                } else if let Some(rest) = upper.strip_prefix("+QCFG=\"USBNET\"") {
                    self.usbnet(rest)
                } else if let Some(rest) = upper.strip_prefix("+QCFG=\"USBCFG\"") {
                    self.usbcfg(rest)
                } else {
                    Outcome::Fail(error())
                }
            }
        }
    }

    fn set_cfun(&mut self, value: &str) -> Outcome {
        let mut args = value.split(',').map(str::trim);
        let fun = args.next().unwrap_or("");
        let reset = args.next();
        if self.profile.has(Quirk::Ftm) {
            return Outcome::Fail(self.cme(3, "operation not allowed"));
        }
        match (fun, reset) {
            ("0" | "1" | "4", None | Some("0")) => {
                self.cfun = fun.parse().unwrap_or(1);
                Outcome::Ok(Vec::new())
            }
            ("1", Some("1")) => Outcome::Reset,
            _ => Outcome::Fail(error()),
        }
    }

    /// `AT+QCFG="usbnet"[,<net>]` on the Qualcomm modules: 0 RmNet, 1 ECM, 2 MBIM, 3 RNDIS.
    fn usbnet(&mut self, rest: &str) -> Outcome {
        if self.profile.platform != Platform::Qualcomm {
            return Outcome::Fail(error());
        }
        match rest.trim().strip_prefix(',').map(str::trim) {
            None if rest.trim().is_empty() => Outcome::Ok(vec![format!("+QCFG: \"usbnet\",{}", self.usbnet)]),
            Some(v @ ("0" | "1" | "2" | "3")) => {
                self.usbnet = v.parse().unwrap_or(0);
                Outcome::Ok(Vec::new())
            }
            _ => Outcome::Fail(error()),
        }
    }

    /// `AT+QCFG="usbcfg"[,<vid>,<pid>,<diag>,<nmea>,<at>,<modem>,<rmnet>,<adb>,<uac>]`.
    fn usbcfg(&mut self, rest: &str) -> Outcome {
        if self.profile.platform != Platform::Qualcomm {
            return Outcome::Fail(error());
        }
        let rest = rest.trim();
        if rest.is_empty() {
            let value = self.usbcfg.clone().unwrap_or_else(|| self.default_usbcfg());
            return Outcome::Ok(vec![format!("+QCFG: \"usbcfg\",{value}")]);
        }
        let fields: Vec<&str> = rest.strip_prefix(',').unwrap_or("").split(',').map(str::trim).collect();
        let hex = |f: &str| f.strip_prefix("0X").and_then(|h| u16::from_str_radix(h, 16).ok());
        let valid = fields.len() == 9
            && hex(fields[0]).is_some()
            && hex(fields[1]).is_some()
            && fields[2..].iter().all(|f| matches!(*f, "0" | "1"));
        if !valid {
            return Outcome::Fail(error());
        }
        let (vid, pid) = (hex(fields[0]).unwrap_or(0), hex(fields[1]).unwrap_or(0));
        self.usbcfg = Some(format!("0x{vid:04X},0x{pid:04X},{}", fields[2..].join(",")));
        Outcome::Ok(Vec::new())
    }

    /// The composition the profile's interfaces give: DIAG, NMEA, AT, modem, RmNet (the
    /// network interface, which has no tty), ADB and UAC off.
    fn default_usbcfg(&self) -> String {
        let has = |role| u8::from(self.profile.interfaces.iter().any(|(_, r)| *r == role));
        let usb = self.profile.usb;
        format!(
            "0x{:04X},0x{:04X},{},{},{},{},1,0,0",
            usb.vid,
            usb.pid,
            has(Role::Diag),
            has(Role::Nmea),
            has(Role::At),
            has(Role::Modem)
        )
    }

    /// `+CME ERROR: n` in the form AT+CMEE selects.
    fn cme(&self, code: u32, text: &str) -> Vec<u8> {
        match self.cmee {
            0 => error(),
            2 => format!("\r\n+CME ERROR: {text}\r\n").into_bytes(),
            _ => format!("\r\n+CME ERROR: {code}\r\n").into_bytes(),
        }
    }
}

/// The commands of a line body, split at `;` outside double quotes; an empty last command
/// (a trailing `;`) is dropped.
fn split_commands(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in body.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => {
                out.push(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = &body[start..];
    if out.is_empty() || !last.trim().is_empty() {
        out.push(last);
    }
    out
}

/// The information lines of one command, framed as Quectel modules frame them: a blank line,
/// then each line.
fn info(lines: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    if !lines.is_empty() {
        out.extend_from_slice(b"\r\n");
        for l in lines {
            out.extend_from_slice(l.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    out
}

/// Information lines, then a blank line and `OK`.
fn ok(lines: &[String]) -> Vec<u8> {
    let mut out = info(lines);
    out.extend_from_slice(b"\r\nOK\r\n");
    out
}

fn error() -> Vec<u8> {
    b"\r\nERROR\r\n".to_vec()
}

#[cfg(test)]
mod tests;
