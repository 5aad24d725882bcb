//! The normal-mode AT state machine of a simulated module: echo, framing, boot URCs, answers and
//! errors as real Quectel modules give them. Pure: bytes in, bytes out, no clock.

use std::sync::Arc;

use super::profile::{Profile, Quirk, SecbootQuery};

/// The longest command line the module keeps; longer ones answer `ERROR`.
const MAX_COMMAND: usize = 1024;

/// What the machine wants sent, or done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AtEvent {
    /// Echo of received characters: sent at once.
    Echo(Vec<u8>),
    /// An answer (with any URCs around it): subject to the `slow` fault.
    Reply(Vec<u8>),
    /// The module leaves normal mode for its download mode (after `AT+QDOWNLOAD=1` was answered).
    EnterDownload,
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
        }
    }

    /// What the port says when the module has booted.
    pub fn boot_output(&self) -> Vec<u8> {
        if self.urcs { b"\r\nRDY\r\n".to_vec() } else { Vec::new() }
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
        if self.urcs && self.commands == 3 {
            reply.extend_from_slice(b"\r\n+QIND: SMS DONE\r\n\r\n+QIND: PB DONE\r\n");
        }
        let (answer, download) = self.answer(&body);
        reply.extend_from_slice(&answer);
        if self.urcs && self.commands == 1 {
            reply.extend_from_slice(format!("\r\n+CFUN: {}\r\n", self.cfun).as_bytes());
            if !self.profile.has(Quirk::NoSim) {
                reply.extend_from_slice(b"\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n");
            }
        }
        let mut events = vec![AtEvent::Reply(reply)];
        if download {
            events.push(AtEvent::EnterDownload);
        }
        Some(events)
    }

    /// The answer to one command (the text after `AT`), and whether it enters download mode.
    pub fn answer(&mut self, body: &str) -> (Vec<u8>, bool) {
        let p = Arc::clone(&self.profile);
        let upper = body.to_ascii_uppercase();
        let lines = |ls: &[String]| ok(ls);
        let one = |l: &str| ok(&[l.to_string()]);
        let answer = match upper.as_str() {
            "" | "&W" | "Z" | "V1" | "Q0" | "&F" => ok(&[]),
            "E0" | "E" => {
                self.echo = false;
                ok(&[])
            }
            "E1" => {
                self.echo = true;
                ok(&[])
            }
            "I" | "I0" => lines(&[p.manufacturer.clone(), p.model.clone(), format!("Revision: {}", p.ati_revision)]),
            "+GMR" => one(&p.ati_revision),
            "+CGMR" if p.has(Quirk::CgmrPrefix) => one(&format!("+CGMR: {}", p.ati_revision)),
            "+CGMR" => one(&p.ati_revision),
            "+QGMR" if p.has(Quirk::NoQgmr) => error(),
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
            "+CPIN?" if p.has(Quirk::NoSim) => self.cme(10, "SIM not inserted"),
            "+CPIN?" => one("+CPIN: READY"),
            "+CFUN?" => one(&format!("+CFUN: {}", self.cfun)),
            "+CMEE?" => one(&format!("+CMEE: {}", self.cmee)),
            "+CSQ" => one("+CSQ: 24,99"),
            "+QDOWNLOAD=1" if p.platform.has_qdownload() => return (ok(&[]), true),
            _ => {
                if let Some(v) = upper.strip_prefix("+CFUN=") {
                    self.set_cfun(v)
                } else if let Some(v) = upper.strip_prefix("+CMEE=") {
                    match v.trim() {
                        "0" | "1" | "2" => {
                            self.cmee = v.trim().parse().unwrap_or(1);
                            ok(&[])
                        }
                        _ => error(),
                    }
                } else {
                    error()
                }
            }
        };
        (answer, false)
    }

    fn set_cfun(&mut self, value: &str) -> Vec<u8> {
        let fun = value.split(',').next().unwrap_or("").trim();
        if self.profile.has(Quirk::Ftm) {
            return self.cme(3, "operation not allowed");
        }
        match fun {
            "0" | "1" | "4" => {
                self.cfun = fun.parse().unwrap_or(1);
                ok(&[])
            }
            _ => error(),
        }
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

/// Information lines, then a blank line and `OK`, as Quectel modules frame them.
fn ok(lines: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    if !lines.is_empty() {
        out.extend_from_slice(b"\r\n");
        for l in lines {
            out.extend_from_slice(l.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
    }
    out.extend_from_slice(b"\r\nOK\r\n");
    out
}

fn error() -> Vec<u8> {
    b"\r\nERROR\r\n".to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::profile::find;

    fn machine(name: &str) -> AtMachine {
        AtMachine::new(Arc::new(find(name).unwrap()), true)
    }

    /// A machine past its boot URCs, with echo off.
    fn quiet(name: &str) -> AtMachine {
        let mut m = machine(name);
        for c in ["ATE0\r", "AT\r", "AT\r"] {
            run(&mut m, c);
        }
        m
    }

    fn run(m: &mut AtMachine, input: &str) -> String {
        let mut out = Vec::new();
        for e in m.feed(input.as_bytes()) {
            match e {
                AtEvent::Echo(b) | AtEvent::Reply(b) => out.extend(b),
                AtEvent::EnterDownload => out.extend_from_slice(b"<download>"),
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn echo_framing_and_urcs() {
        let mut m = machine("ec25-e");
        assert_eq!(m.boot_output(), b"\r\nRDY\r\n");
        assert_eq!(run(&mut m, "AT\r"), "AT\r\r\nOK\r\n\r\n+CFUN: 1\r\n\r\n+CPIN: READY\r\n\r\n+QUSIM: 1\r\n");
        assert_eq!(run(&mut m, "ATI\r"), "ATI\r\r\nQuectel\r\nEC25\r\nRevision: EC25EFAR06A17M4G\r\n\r\nOK\r\n");
        assert_eq!(
            run(&mut m, "AT+QGMR\r"),
            "AT+QGMR\r\r\n+QIND: SMS DONE\r\n\r\n+QIND: PB DONE\r\n\r\nEC25EFAR06A17M4G_20.200.20.200\r\n\r\nOK\r\n"
        );
        assert_eq!(run(&mut m, "ATE0\r"), "ATE0\r\r\nOK\r\n");
        assert_eq!(run(&mut m, "at+gsn\r"), "\r\n861234000000011\r\n\r\nOK\r\n");
        assert_eq!(run(&mut m, "AT+BOGUS\r"), "\r\nERROR\r\n");
        assert_eq!(run(&mut m, "hello\r"), "");
        assert_eq!(run(&mut m, "AT+QSECBOOT=\"status\"\r"), "\r\nERROR\r\n");
        assert_eq!(run(&mut m, "AT+QCFG=\"secbootstat\"\r"), "\r\n+QCFG: \"secbootstat\",0\r\n\r\nOK\r\n");
        assert_eq!(run(&mut m, "AT+QDOWNLOAD=1\r"), "\r\nERROR\r\n");
    }

    #[test]
    fn quirks() {
        let mut m = quiet("ec20-old");
        assert_eq!(run(&mut m, "AT+QGMR\r"), "\r\nERROR\r\n");
        assert_eq!(run(&mut m, "AT+CGMR\r"), "\r\nEC20EQAR02A04E2G\r\n\r\nOK\r\n");
        let mut u = quiet("ec200u-cn");
        assert_eq!(run(&mut u, "AT+CGMR\r"), "\r\n+CGMR: EC200UCNAAR03A03M08\r\n\r\nOK\r\n");
        assert_eq!(run(&mut u, "AT+QDOWNLOAD=1\r"), "\r\nOK\r\n<download>");
        let mut f = quiet("ec25-eux-ftm");
        assert_eq!(run(&mut f, "AT+CFUN?\r"), "\r\n+CFUN: 5\r\n\r\nOK\r\n");
        assert_eq!(run(&mut f, "AT+CFUN=1\r"), "\r\n+CME ERROR: 3\r\n");
        run(&mut f, "AT+CMEE=2\r");
        assert_eq!(run(&mut f, "AT+CFUN=1\r"), "\r\n+CME ERROR: operation not allowed\r\n");
    }

    #[test]
    fn split_input_and_long_lines() {
        let mut m = quiet("ec25-e");
        assert_eq!(run(&mut m, "AT+CG"), "");
        assert_eq!(run(&mut m, "MM\r\n"), "\r\nEC25\r\n\r\nOK\r\n");
        let long = format!("AT{}\r", "X".repeat(2000));
        assert_eq!(run(&mut m, &long), "\r\nERROR\r\n");
        assert_eq!(run(&mut m, "AT\r"), "\r\nOK\r\n");
    }
}
