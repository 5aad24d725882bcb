//! DIAG commands on the normal-mode DM port (payloads; [`super::hdlc`] frames them).
//!
//! Two commands matter before a flash, both as QFirehose sends them
//! (`stream_download_protocol.c` `retrieve_soft_revision`, `usb_linux.c`) and fwupd
//! (`plugins/modem-manager/fu-mm-qcdm-device.c`):
//! - extended build id, `7C`: the answer is `7C`, a version byte, two reserved bytes, the MSM id
//!   (u32 LE), the model id (u32 LE), the NUL-terminated software revision, the model string;
//! - the download switch, subsystem command `4B 65 01 00`: the module echoes the command and
//!   resets into emergency download (05c6:9008).
//!
//! A command the module does not know is answered with `13` (`DIAG_BAD_CMD_F`) followed by the
//! request, as Qualcomm's DIAG service does.

/// Extended build id request.
pub const EXT_BUILD_ID: u8 = 0x7C;
/// Subsystem dispatch.
pub const SUBSYS_CMD: u8 = 0x4B;
/// "Bad command": the reply to a command the module does not know.
pub const BAD_CMD: u8 = 0x13;
/// "Bad parameters".
pub const BAD_PARM: u8 = 0x14;
/// "Bad length".
pub const BAD_LEN: u8 = 0x15;
/// The download switch: subsystem `0x65`, command `0x0001`.
pub const DOWNLOAD_SWITCH: [u8; 4] = [SUBSYS_CMD, 0x65, 0x01, 0x00];
/// The longest revision or model string accepted in a build-id answer.
pub const MAX_STRING: usize = 256;

/// The answer to the extended build-id query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildId {
    /// The version byte.
    pub version: u8,
    /// The MSM (chip) id.
    pub msm: u32,
    /// The mobile model id.
    pub model: u32,
    /// The software revision the module runs, e.g. `EC25EFAR06A17M4G`.
    pub software_revision: String,
    /// The model string (may be empty).
    pub model_name: String,
}

impl BuildId {
    /// The DIAG payload of this answer (before framing).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![EXT_BUILD_ID, self.version, 0, 0];
        out.extend(self.msm.to_le_bytes());
        out.extend(self.model.to_le_bytes());
        out.extend(self.software_revision.as_bytes());
        out.push(0);
        out.extend(self.model_name.as_bytes());
        out.push(0);
        out
    }

    /// Reads an answer payload. The error says what is wrong with it.
    pub fn decode(payload: &[u8]) -> Result<BuildId, String> {
        match payload.first() {
            Some(&EXT_BUILD_ID) => {}
            Some(&BAD_CMD) => return Err("the module answered \"bad command\" (13): it has no build-id query".into()),
            Some(other) => return Err(format!("the answer starts with {other:02X}, not 7C")),
            None => return Err("the answer is empty".into()),
        }
        if payload.len() < 12 {
            return Err(format!("the answer has {} bytes; a build id has at least 12", payload.len()));
        }
        let u32_at = |i: usize| u32::from_le_bytes([payload[i], payload[i + 1], payload[i + 2], payload[i + 3]]);
        let mut strings = payload[12..].split(|b| *b == 0);
        let mut text = |what: &str| -> Result<String, String> {
            let raw = strings.next().unwrap_or_default();
            if raw.len() > MAX_STRING {
                return Err(format!("the {what} is {} bytes long; at most {MAX_STRING} are expected", raw.len()));
            }
            Ok(String::from_utf8_lossy(raw).into_owned())
        };
        let software_revision = text("software revision")?;
        let model_name = text("model string")?;
        Ok(BuildId { version: payload[1], msm: u32_at(4), model: u32_at(8), software_revision, model_name })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_id_round_trips_and_bad_answers_are_named() {
        let id = BuildId {
            version: 2,
            msm: 0x0004_80E1,
            model: 0,
            software_revision: "EC25EFAR06A17M4G".into(),
            model_name: "EC25".into(),
        };
        assert_eq!(BuildId::decode(&id.encode()).unwrap(), id);
        assert!(BuildId::decode(&[]).unwrap_err().contains("empty"));
        assert!(BuildId::decode(&[0x13, 0x7C]).unwrap_err().contains("bad command"));
        assert!(BuildId::decode(&[0x7C, 1, 0]).unwrap_err().contains("at least 12"));
        let mut long = id.encode()[..12].to_vec();
        long.extend(vec![b'A'; MAX_STRING + 1]);
        assert!(BuildId::decode(&long).unwrap_err().contains("software revision"));
    }
}
