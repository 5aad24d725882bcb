//! Reads a module's identity over AT: ATI, AT+QGMR (falling back to AT+CGMR, then ATI), AT+CGMM,
//! AT+GSN and the secure-boot state.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;

use super::at::{FinalResult, strip_answer_prefix};
use super::error::DeviceError;
use super::ports::{self, SysPaths};
use super::session::{Exchange, Reply, Session, SessionOptions};
use super::transport::Transport;
use super::usb::{Mode, Role};
use crate::engine::DeviceFacts;
use crate::identity::revision_from_at_text;
use crate::platform::Platform;

/// Which command gave the revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RevisionSource {
    /// `AT+QGMR`: the full revision with the app version.
    #[serde(rename = "AT+QGMR")]
    Qgmr,
    /// `AT+CGMR`, on firmware without AT+QGMR.
    #[serde(rename = "AT+CGMR")]
    Cgmr,
    /// The `Revision:` line of `ATI`, when neither answered.
    #[serde(rename = "ATI")]
    Ati,
}

impl RevisionSource {
    /// The command, e.g. `AT+QGMR`.
    pub fn command(self) -> &'static str {
        match self {
            RevisionSource::Qgmr => "AT+QGMR",
            RevisionSource::Cgmr => "AT+CGMR",
            RevisionSource::Ati => "ATI",
        }
    }
}

/// Where the port sits on USB, when discovery knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsbInfo {
    /// `2c7c:0125`.
    pub usb_id: String,
    /// Normal mode or which download mode.
    pub mode: Mode,
    /// The platform of the id; `None` (printed `other`) for a USB bridge chip.
    #[serde(serialize_with = "super::usb::serialize_usb_platform")]
    pub platform: Option<Platform>,
    /// The USB device's bus name, e.g. `1-1`.
    pub bus_id: String,
    /// The port's interface number.
    pub interface: u8,
    /// The port's role.
    pub role: Role,
}

/// What a module said about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceReport {
    /// The port that was queried.
    pub port: String,
    /// Its USB id and interface, when the port was found in sysfs.
    pub usb: Option<UsbInfo>,
    /// ATI's first line, `Quectel`.
    pub manufacturer: Option<String>,
    /// ATI's model line (`EC25`, `EC800MCN_LA`), or AT+CGMM's answer when ATI had none.
    pub model: Option<String>,
    /// What AT+CGMM answered.
    pub cgmm: Option<String>,
    /// The revision, as full as the module gives it.
    pub revision: String,
    /// The command the revision came from.
    pub revision_source: RevisionSource,
    /// ATI's `Revision:` line.
    pub ati_revision: Option<String>,
    /// The IMEI (AT+GSN), when it answered 14 to 17 digits.
    pub imei: Option<String>,
    /// Whether the module enforces signed images: AT+QSECBOOT, else AT+QCFG="secbootstat".
    pub secure_boot: Option<bool>,
    /// Every exchange, in order.
    pub exchanges: Vec<Exchange>,
    /// How long identification took, in milliseconds.
    pub ms: u64,
}

impl DeviceReport {
    /// The facts the engine judges.
    pub fn facts(&self) -> DeviceFacts {
        DeviceFacts {
            model: self.model.clone(),
            revision: self.revision.clone(),
            flash_id: None,
            secure_boot: self.secure_boot,
            imei: self.imei.clone(),
        }
    }
}

/// Opens the AT port at `path`, reads the module's identity and closes the port. The port's USB
/// id comes from sysfs (`$FWGUARD_SYSFS`, `$FWGUARD_DEV`).
pub fn identify(path: &Path, opts: &SessionOptions) -> Result<DeviceReport, DeviceError> {
    identify_with(path, opts, &SysPaths::from_env())
}

/// [`identify`] with sysfs and device paths given.
pub fn identify_with(path: &Path, opts: &SessionOptions, sys: &SysPaths) -> Result<DeviceReport, DeviceError> {
    let mut session = Session::open(path, opts)?;
    let mut report = identify_session(&mut session, opts)?;
    report.usb = ports::find_port_in(sys, path).map(|(module, port)| UsbInfo {
        usb_id: module.usb_id().to_string(),
        mode: module.mode,
        platform: module.platform,
        bus_id: module.bus_id,
        interface: port.interface,
        role: port.role,
    });
    Ok(report)
}

/// Reads the identity over an open session (any transport).
pub fn identify_session<T: Transport>(
    session: &mut Session<T>,
    opts: &SessionOptions,
) -> Result<DeviceReport, DeviceError> {
    let started = Instant::now();
    session.sync()?;
    if opts.echo_off {
        optional(session, "ATE0")?;
    }
    let ati = required(session, "ATI")?;
    let (manufacturer, ati_model, ati_revision) = parse_ati(&ati.lines);

    let mut found = None;
    let mut why = String::from("no answer");
    let mut last = "ATI";
    for (command, source) in [("AT+QGMR", RevisionSource::Qgmr), ("AT+CGMR", RevisionSource::Cgmr)] {
        last = command;
        match optional(session, command)? {
            Some(reply) if reply.result.is_ok() => match revision_from_at_text(&reply.lines.join("\r\n")) {
                Ok(rev) => {
                    found = Some((rev, source));
                    break;
                }
                Err(e) => why = e.to_string(),
            },
            Some(reply) => why = format!("{command} answered {}", reply.result),
            None => why = format!("{command} timed out"),
        }
    }
    let (revision, revision_source) = match (found, &ati_revision) {
        (Some(found), _) => found,
        (None, Some(rev)) => (rev.clone(), RevisionSource::Ati),
        (None, None) => {
            return Err(DeviceError::NoRevision {
                port: session.port().to_string(),
                command: last.into(),
                detail: why,
            });
        }
    };

    let cgmm = answer_line(optional(session, "AT+CGMM")?, "+CGMM");
    let imei = answer_line(optional(session, "AT+GSN")?, "+GSN")
        .map(|s| strip_answer_prefix(&s, "+CGSN").to_string())
        .filter(|s| (14..=17).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()));
    let mut secure_boot = secboot(optional(session, "AT+QSECBOOT=\"status\"")?, "+QSECBOOT", "status");
    if secure_boot.is_none() {
        secure_boot = secboot(optional(session, "AT+QCFG=\"secbootstat\"")?, "+QCFG", "secbootstat");
    }

    Ok(DeviceReport {
        port: session.port().to_string(),
        usb: None,
        manufacturer,
        model: ati_model.or_else(|| cgmm.clone()),
        cgmm,
        revision,
        revision_source,
        ati_revision,
        imei,
        secure_boot,
        exchanges: session.exchanges().to_vec(),
        ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// A command the identification cannot do without: anything but `OK` is an error.
fn required<T: Transport>(session: &mut Session<T>, command: &str) -> Result<Reply, DeviceError> {
    let reply = session.command(command)?;
    match reply.result {
        FinalResult::Ok => Ok(reply),
        other => Err(DeviceError::CommandFailed {
            port: session.port().to_string(),
            command: command.into(),
            result: other.to_string(),
        }),
    }
}

/// A command whose answer is welcome but not needed: a timeout gives `None`; a broken link, noise
/// or a flood are still errors.
fn optional<T: Transport>(session: &mut Session<T>, command: &str) -> Result<Option<Reply>, DeviceError> {
    match session.command(command) {
        Ok(reply) => Ok(Some(reply)),
        Err(DeviceError::Timeout { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Splits ATI's answer: manufacturer, model line, `Revision:` value.
fn parse_ati(lines: &[String]) -> (Option<String>, Option<String>, Option<String>) {
    let mut revision = None;
    let mut others = Vec::new();
    for line in lines {
        match line.get(..9) {
            Some(head) if head.eq_ignore_ascii_case("Revision:") => revision = Some(line[9..].trim().to_string()),
            _ => others.push(line.trim().to_string()),
        }
    }
    let mut others = others.into_iter().filter(|l| !l.is_empty());
    (others.next(), others.next(), revision.filter(|r| !r.is_empty()))
}

/// The first information line of a successful answer, without a `+NAME:` prefix.
fn answer_line(reply: Option<Reply>, name: &str) -> Option<String> {
    let reply = reply.filter(|r| r.result.is_ok())?;
    let line = reply.lines.first()?;
    Some(strip_answer_prefix(line, name).to_string()).filter(|s| !s.is_empty())
}

/// Reads `+QSECBOOT: "status",1` or `+QCFG: "secbootstat",0`.
fn secboot(reply: Option<Reply>, name: &str, key: &str) -> Option<bool> {
    let reply = reply.filter(|r| r.result.is_ok())?;
    reply.lines.iter().find_map(|line| {
        let (tag, rest) = line.split_once(':')?;
        if !tag.trim().eq_ignore_ascii_case(name) {
            return None;
        }
        let (k, v) = rest.split_once(',')?;
        if !k.trim().trim_matches('"').eq_ignore_ascii_case(key) {
            return None;
        }
        match v.trim() {
            "1" => Some(true),
            "0" => Some(false),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::script::{Script, fast};

    fn run(replies: &[Option<&str>]) -> Result<DeviceReport, DeviceError> {
        let opts = fast();
        let mut s = Session::new("test", Script::new(replies), opts.clone());
        identify_session(&mut s, &opts)
    }

    const ATI: &str = "ATI\r\r\nQuectel\r\nEC25\r\nRevision: EC25EFAR06A17M4G\r\n\r\nOK\r\n";

    #[test]
    fn full_identity() {
        let r = run(&[
            Some("\r\nRDY\r\nAT\r\r\nOK\r\n"),
            Some(ATI),
            Some("AT+QGMR\r\r\n+CPIN: READY\r\nEC25EFAR06A17M4G_20.200.20.200\r\n\r\nOK\r\n"),
            Some("AT+CGMM\r\r\nEC25\r\n\r\nOK\r\n"),
            Some("AT+GSN\r\r\n861234567890125\r\n\r\nOK\r\n"),
            Some("AT+QSECBOOT=\"status\"\r\r\nERROR\r\n"),
            Some("AT+QCFG=\"secbootstat\"\r\r\n+QCFG: \"secbootstat\",0\r\n\r\nOK\r\n"),
        ])
        .unwrap();
        assert_eq!(r.manufacturer.as_deref(), Some("Quectel"));
        assert_eq!(r.model.as_deref(), Some("EC25"));
        assert_eq!(r.revision, "EC25EFAR06A17M4G_20.200.20.200");
        assert_eq!(r.revision_source, RevisionSource::Qgmr);
        assert_eq!(r.ati_revision.as_deref(), Some("EC25EFAR06A17M4G"));
        assert_eq!(r.imei.as_deref(), Some("861234567890125"));
        assert_eq!(r.secure_boot, Some(false));
        assert_eq!(r.exchanges.len(), 7);
        let facts = r.facts();
        assert_eq!(facts.model.as_deref(), Some("EC25"));
        assert_eq!(facts.revision, "EC25EFAR06A17M4G_20.200.20.200");
    }

    #[test]
    fn old_firmware_falls_back_to_cgmr_then_ati() {
        let r = run(&[
            Some("\r\nOK\r\n"),
            Some("\r\nQuectel\r\nEC200U\r\nRevision: EC200UCNAAR03A03M08\r\n\r\nOK\r\n"),
            Some("\r\nERROR\r\n"),
            Some("\r\n+CGMR: EC200UCNAAR03A03M08\r\n\r\nOK\r\n"),
            Some("\r\n+CGMM: EC200U\r\nOK\r\n"),
            Some("\r\n+CME ERROR: 3\r\n"),
            Some("\r\n+QSECBOOT: \"status\",1\r\nOK\r\n"),
        ])
        .unwrap();
        assert_eq!((r.revision.as_str(), r.revision_source), ("EC200UCNAAR03A03M08", RevisionSource::Cgmr));
        assert_eq!(r.cgmm.as_deref(), Some("EC200U"));
        assert_eq!(r.imei, None);
        assert_eq!(r.secure_boot, Some(true));

        let r = run(&[
            Some("\r\nOK\r\n"),
            Some("\r\nQuectel\r\nEC20\r\nRevision: EC20EQAR02A04E2G\r\n\r\nOK\r\n"),
            Some("\r\nERROR\r\n"),
            Some("\r\n+CMEERROR:0\r\n"),
        ])
        .unwrap();
        assert_eq!((r.revision.as_str(), r.revision_source), ("EC20EQAR02A04E2G", RevisionSource::Ati));
        assert_eq!(r.secure_boot, None);
    }

    #[test]
    fn ati_refused_is_an_error() {
        let err = run(&[Some("\r\nOK\r\n"), Some("\r\nERROR\r\n")]).unwrap_err();
        assert!(matches!(err, DeviceError::CommandFailed { ref command, .. } if command == "ATI"), "{err}");
        assert!(!err.hint().is_empty());
    }

    #[test]
    fn no_revision_anywhere() {
        let err = run(&[
            Some("\r\nOK\r\n"),
            Some("\r\nQuectel\r\nEC25\r\nOK\r\n"),
            Some("\r\nERROR\r\n"),
            Some("\r\nERROR\r\n"),
        ])
        .unwrap_err();
        assert!(matches!(err, DeviceError::NoRevision { ref command, .. } if command == "AT+CGMR"), "{err}");
    }

    #[test]
    fn ati_parts() {
        let lines: Vec<String> =
            ["Quectel", "BG95-M3", "Revision: BG95M3LAR02A03"].iter().map(|s| s.to_string()).collect();
        assert_eq!(parse_ati(&lines), (Some("Quectel".into()), Some("BG95-M3".into()), Some("BG95M3LAR02A03".into())));
        assert_eq!(parse_ati(&[]), (None, None, None));
    }
}
