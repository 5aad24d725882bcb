//! The host side of Sahara: the boot ROM's greeting, its identity in command mode (chip serial,
//! MSM HW id, OEM public-key hash), and the programmer upload.
//!
//! The sequence follows linux-msm/qdl `src/sahara.c` and qualcomm/qdlrs `qdl/src/sahara.rs`:
//! the target sends HELLO; the host answers HELLO_RESP with the mode it wants. In command mode
//! the target sends CMD_READY, answers EXECUTE with EXECUTE_RESP (the answer's length) and
//! EXECUTE_DATA with the raw answer, and greets again after SWITCH_MODE. In image-transfer mode
//! it asks for the image piece by piece (READ_DATA, or READ_DATA_64 on newer parts), says
//! END_IMAGE_TX with a status, and answers the host's DONE with DONE_RESP.

use std::time::{Duration, Instant};

use super::error::QualcommError;
use super::link::Link;
use super::wire::mbn::ElfHeader;
use super::wire::sahara::{
    ClientCommand, Command, HEADER_LEN, MAX_PACKET_LEN, Mode, Packet, PacketError, Status, header,
};

/// The newest Sahara version fwguard speaks (it reads the chip id the version-3 way).
pub const HOST_VERSION: u32 = 3;
/// The oldest Sahara version fwguard speaks.
pub const HOST_COMPATIBLE: u32 = 1;
/// The longest command-mode answer accepted.
pub const MAX_EXECUTE_DATA: u32 = 1024;
/// Image ids whose DONE_RESP may say "more images pending" although only one image is sent:
/// QFirehose and fwupd (`QcFirehoseAllowedPendingImageIds = 7,13,21`) accept these.
pub const PENDING_OK_IMAGE_IDS: [u64; 3] = [7, 13, 21];

/// How long Sahara waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaharaOptions {
    /// For the first HELLO after the port is opened.
    pub hello_timeout: Duration,
    /// For each later packet, and for the module to take each piece of the image.
    pub timeout: Duration,
    /// Whether to write one byte when no HELLO came within a second, as QFirehose does to wake a
    /// target whose greeting was missed.
    pub nudge: bool,
}

impl Default for SaharaOptions {
    fn default() -> SaharaOptions {
        SaharaOptions { hello_timeout: Duration::from_secs(10), timeout: Duration::from_secs(5), nudge: true }
    }
}

/// The target's HELLO.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello {
    /// Its protocol version.
    pub version: u32,
    /// The oldest version it speaks.
    pub compatible: u32,
    /// The longest command packet it takes.
    pub max_command_len: u32,
    /// The mode it is in.
    pub mode: Mode,
}

/// The MSM HW id: which chip, for which OEM and model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HwId {
    /// The chip (`0x000480E1` on an EC25-E's MDM9607).
    pub msm_id: u32,
    /// The OEM.
    pub oem_id: u16,
    /// The model.
    pub model_id: u16,
}

impl HwId {
    /// From the 64-bit form `MSM_ID << 32 | OEM_ID << 16 | MODEL_ID`.
    pub fn from_u64(v: u64) -> HwId {
        HwId { msm_id: (v >> 32) as u32, oem_id: (v >> 16) as u16, model_id: v as u16 }
    }

    /// The 64-bit form.
    pub fn as_u64(self) -> u64 {
        (u64::from(self.msm_id) << 32) | (u64::from(self.oem_id) << 16) | u64::from(self.model_id)
    }
}

/// What command mode told about the chip: the only identity a module in EDL has.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChipInfo {
    /// The chip serial number (identifies the module when it has no IMEI to give).
    pub serial: Option<u32>,
    /// The MSM HW id.
    pub hw_id: Option<HwId>,
    /// The OEM public-key hash (a repeated or zero-padded answer trimmed to one digest).
    pub pk_hash: Option<Vec<u8>>,
    /// Client commands the target refused, with the status it gave.
    pub refused: Vec<(ClientCommand, Status)>,
}

/// What an upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// The image id the target asked for.
    pub image_id: u64,
    /// READ_DATA / READ_DATA_64 requests served.
    pub requests: u32,
    /// Bytes sent.
    pub bytes: u64,
    /// Whether 64-bit requests were used.
    pub read64: bool,
    /// DONE_RESP's status: 1 complete, 0 pending (accepted for ids 7, 13 and 21).
    pub done_status: u32,
}

/// A Sahara session with a boot ROM. It owns the link; [`into_link`](Self::into_link) hands it
/// on to Firehose after the upload.
pub struct SaharaSession<'t> {
    link: Link<'t>,
    options: SaharaOptions,
    hello: Hello,
    version: u32,
    log: Vec<String>,
}

impl<'t> SaharaSession<'t> {
    /// Waits for the target's HELLO and agrees on a protocol version.
    pub fn connect(mut link: Link<'t>, options: SaharaOptions) -> Result<SaharaSession<'t>, QualcommError> {
        let mut log = Vec::new();
        let started = Instant::now();
        if options.nudge {
            let first = (started + Duration::from_secs(1)).min(started + options.hello_timeout);
            if link.want(HEADER_LEN, first, "waiting for HELLO").is_err() && link.pending().is_empty() {
                log.push("no HELLO within 1 s: nudging the target with one byte".to_string());
                link.send(&[0], options.timeout, "nudging the target")?;
            }
        }
        let packet = read_packet(&mut link, started + options.hello_timeout, "waiting for the boot ROM's HELLO")?;
        let Packet::Hello { version, compatible, max_command_len, mode } = packet else {
            return Err(unexpected("HELLO", packet));
        };
        let hello = Hello { version, compatible, max_command_len, mode };
        log.push(format!(
            "HELLO: version {version}, compatible {compatible}, max command {max_command_len:#x}, {mode}"
        ));
        let agreed = version.min(HOST_VERSION);
        if agreed < compatible.max(HOST_COMPATIBLE) || version < HOST_COMPATIBLE {
            return Err(QualcommError::SaharaVersion {
                device_version: version,
                device_compatible: compatible,
                host_version: HOST_VERSION,
                host_compatible: HOST_COMPATIBLE,
            });
        }
        Ok(SaharaSession { link, options, hello, version: agreed, log })
    }

    /// The link, for the next stage (Firehose, once the programmer runs).
    pub fn into_link(self) -> Link<'t> {
        self.link
    }

    /// The target's latest HELLO.
    pub fn hello(&self) -> Hello {
        self.hello
    }

    /// The protocol version both sides speak.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// What happened, one line per exchange (for the journal).
    pub fn log(&self) -> &[String] {
        &self.log
    }

    fn send(&mut self, packet: Packet) -> Result<(), QualcommError> {
        let doing = format!("sending {}", packet.command().name());
        self.link.send(&packet.encode(), self.options.timeout, &doing)
    }

    fn receive(&mut self, doing: &str) -> Result<Packet, QualcommError> {
        read_packet(&mut self.link, Instant::now() + self.options.timeout, doing)
    }

    fn hello_resp(&mut self, mode: Mode) -> Result<(), QualcommError> {
        self.log.push(format!("HELLO_RESP: version {}, {mode}", self.version));
        self.send(Packet::HelloResp {
            version: self.version,
            compatible: HOST_COMPATIBLE,
            status: Status::SUCCESS,
            mode,
        })
    }

    /// Reads the chip's identity in command mode: serial number, MSM HW id (READ_CHIP_ID_V3 on
    /// version-3 targets) and OEM public-key hash; then leaves command mode. The target greets
    /// again, ready for [`upload`](Self::upload).
    pub fn read_chip_info(&mut self) -> Result<ChipInfo, QualcommError> {
        self.hello_resp(Mode::COMMAND)?;
        match self.receive("waiting for CMD_READY")? {
            Packet::CmdReady => {}
            Packet::EndImageTx { status, .. } => {
                return Err(QualcommError::SaharaRefused { what: "command mode".into(), status });
            }
            other => return Err(unexpected("CMD_READY", other)),
        }
        let mut info = ChipInfo::default();
        if let Some(b) = self.execute(ClientCommand::SERIAL_NUM_READ, &mut info)?
            && b.len() >= 4
        {
            info.serial = Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        }
        if self.version < 3 {
            if let Some(b) = self.execute(ClientCommand::MSM_HW_ID_READ, &mut info)?
                && let Ok(raw) = <[u8; 8]>::try_from(&b[..b.len().min(8)])
            {
                info.hw_id = Some(HwId::from_u64(u64::from_le_bytes(raw)));
            }
        } else if let Some(b) = self.execute(ClientCommand::READ_CHIP_ID_V3, &mut info)?
            && b.len() >= 44
        {
            let mut oem_id = u16::from_le_bytes([b[40], b[41]]);
            if oem_id == 0 && b.len() >= 46 {
                oem_id = u16::from_le_bytes([b[44], b[45]]);
            }
            let msm_id = u32::from_le_bytes([b[36], b[37], b[38], b[39]]);
            info.hw_id = Some(HwId { msm_id, oem_id, model_id: u16::from_le_bytes([b[42], b[43]]) });
        }
        if let Some(b) = self.execute(ClientCommand::OEM_PK_HASH_READ, &mut info)? {
            info.pk_hash = Some(trim_pk_hash(&b).to_vec());
        }
        self.send(Packet::SwitchMode { mode: Mode::IMAGE_TX_PENDING })?;
        let packet = self.receive("waiting for HELLO after SWITCH_MODE")?;
        let Packet::Hello { version, compatible, max_command_len, mode } = packet else {
            return Err(unexpected("HELLO after SWITCH_MODE", packet));
        };
        self.hello = Hello { version, compatible, max_command_len, mode };
        self.log.push(format!(
            "command mode: serial {}, HW id {}, OEM PK hash {} bytes",
            info.serial.map_or("-".into(), |s| format!("{s:#010x}")),
            info.hw_id.map_or("-".into(), |h| format!("{:#018x}", h.as_u64())),
            info.pk_hash.as_ref().map_or(0, Vec::len)
        ));
        Ok(info)
    }

    /// Runs one client command; `None` (and the refusal noted in `info`) when the target does not
    /// support it.
    fn execute(&mut self, command: ClientCommand, info: &mut ChipInfo) -> Result<Option<Vec<u8>>, QualcommError> {
        self.send(Packet::Execute { command })?;
        let length = match self.receive(&format!("waiting for EXECUTE_RESP to {command}"))? {
            Packet::ExecuteResp { command: c, length } if c == command => length,
            Packet::EndImageTx { status, .. } => {
                info.refused.push((command, status));
                self.log.push(format!("{command}: refused, {status}"));
                return Ok(None);
            }
            other => return Err(unexpected(&format!("EXECUTE_RESP to {command}"), other)),
        };
        if length > MAX_EXECUTE_DATA {
            return Err(QualcommError::SaharaUnexpected {
                expected: format!("an answer to {command} of at most {MAX_EXECUTE_DATA} bytes"),
                got: format!("EXECUTE_RESP announcing {length} bytes"),
            });
        }
        self.send(Packet::ExecuteData { command })?;
        let deadline = Instant::now() + self.options.timeout;
        let data = self.link.read_exact(length as usize, deadline, &format!("reading the answer to {command}"))?;
        Ok(Some(data))
    }

    /// Uploads `image` (the programmer) in image-transfer mode, serving every READ_DATA and
    /// READ_DATA_64 until END_IMAGE_TX, then DONE. `progress` gets the bytes served so far and
    /// the image's length. On success the programmer runs and the link carries Firehose: drop
    /// this session (after taking its [`log`](Self::log)) and open a `FirehoseSession`.
    pub fn upload(&mut self, image: &[u8], progress: &mut dyn FnMut(u64, u64)) -> Result<Upload, QualcommError> {
        ElfHeader::parse(image).map_err(QualcommError::Programmer)?;
        self.hello_resp(Mode::IMAGE_TX_PENDING)?;
        let total = image.len() as u64;
        let mut up = Upload { image_id: 0, requests: 0, bytes: 0, read64: false, done_status: 0 };
        loop {
            let (image_id, offset, length) = match self.receive("waiting for READ_DATA or END_IMAGE_TX")? {
                Packet::ReadData { image, offset, length } => (u64::from(image), u64::from(offset), u64::from(length)),
                Packet::ReadData64 { image, offset, length } => {
                    up.read64 = true;
                    (image, offset, length)
                }
                Packet::EndImageTx { image: id, status } => {
                    self.log.push(format!("END_IMAGE_TX: image {id}, {status}"));
                    if !status.is_success() {
                        return Err(QualcommError::SaharaRefused {
                            what: format!("the programmer (image {id})"),
                            status,
                        });
                    }
                    break;
                }
                other => return Err(unexpected("READ_DATA or END_IMAGE_TX", other)),
            };
            let end = offset.saturating_add(length);
            if end > total {
                return Err(QualcommError::SaharaRange { image: image_id, offset, end, len: total });
            }
            if up.requests == 0 {
                self.log.push(format!("image {image_id} requested, {total} bytes"));
            }
            up.image_id = image_id;
            up.requests += 1;
            let doing = format!("sending bytes {offset}..{end} of the programmer");
            self.link.send(&image[offset as usize..end as usize], self.options.timeout, &doing)?;
            up.bytes += length;
            progress(up.bytes, total);
        }
        self.send(Packet::Done)?;
        let status = match self.receive("waiting for DONE_RESP")? {
            Packet::DoneResp { status } => status,
            other => return Err(unexpected("DONE_RESP", other)),
        };
        self.log.push(format!("DONE_RESP: {}", if status == 1 { "complete" } else { "pending" }));
        if status != 1 && !PENDING_OK_IMAGE_IDS.contains(&up.image_id) {
            return Err(QualcommError::SaharaUnexpected {
                expected: "DONE_RESP saying the transfer is complete (1)".into(),
                got: format!("DONE_RESP status {status}: the target wants more images after image {}", up.image_id),
            });
        }
        up.done_status = status;
        Ok(up)
    }
}

/// Reads one packet: the header, then the rest of the length it gives.
fn read_packet(link: &mut Link<'_>, deadline: Instant, doing: &str) -> Result<Packet, QualcommError> {
    link.want(HEADER_LEN, deadline, doing)?;
    let (id, len) = header(link.pending()).unwrap_or_default();
    let bad = |source: PacketError| QualcommError::SaharaPacket { doing: doing.to_string(), source };
    let command = Command::from_id(id).ok_or_else(|| bad(PacketError::UnknownCommand(id)))?;
    let len = len as usize;
    if !(HEADER_LEN..=MAX_PACKET_LEN).contains(&len) || Some(len) != command.length() {
        let expected = command.length().unwrap_or(0);
        return Err(bad(PacketError::Length { command, expected, got: len as u32 }));
    }
    link.want(len, deadline, doing)?;
    let bytes = link.take(len);
    Packet::decode(&bytes).map_err(bad)
}

fn unexpected(expected: &str, got: Packet) -> QualcommError {
    let got = match got {
        Packet::EndImageTx { image, status } => format!("END_IMAGE_TX (image {image}, {status})"),
        other => format!("{}", other.command()),
    };
    QualcommError::SaharaUnexpected { expected: expected.to_string(), got }
}

/// Trims an OEM public-key hash answer to one digest: a repeat of the first bytes, then zero
/// padding, are cut, and the length is rounded up to 32, 48 or 64 bytes within what was read
/// (linux-msm/qdl `sahara_pkhash_trim` does the same).
pub fn trim_pk_hash(raw: &[u8]) -> &[u8] {
    let mut len = raw.len();
    for k in 4..=raw.len() / 2 {
        if raw[..k] == raw[k..2 * k] {
            len = k;
            break;
        }
    }
    while len > 0 && raw[len - 1] == 0 {
        len -= 1;
    }
    if let Some(size) = [32, 48, 64].into_iter().find(|s| len <= *s && *s <= raw.len()) {
        len = size;
    }
    &raw[..len.min(raw.len())]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pk_hash_answers_are_trimmed_to_one_digest() {
        let h: Vec<u8> = (1..=32).collect();
        assert_eq!(trim_pk_hash(&[h.clone(), h.clone()].concat()), &h[..]);
        let mut padded = h.clone();
        padded.resize(64, 0);
        assert_eq!(trim_pk_hash(&padded), &h[..]);
        assert_eq!(trim_pk_hash(&h), &h[..]);
        let mut tail_zero = h.clone();
        tail_zero[31] = 0;
        assert_eq!(trim_pk_hash(&tail_zero).len(), 32);
    }

    #[test]
    fn hw_id_packs_as_published() {
        // The EC25-E of defencore/tech_documentation 002: HWID 0x000480e100000000.
        let id = HwId::from_u64(0x0004_80e1_0000_0000);
        assert_eq!((id.msm_id, id.oem_id, id.model_id), (0x0004_80E1, 0, 0));
        assert_eq!(HwId { msm_id: 1, oem_id: 2, model_id: 3 }.as_u64(), 0x0000_0001_0002_0003);
    }
}
