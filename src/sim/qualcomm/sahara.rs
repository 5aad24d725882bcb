//! The simulated boot ROM's Sahara: it greets with HELLO, answers command mode (chip serial, HW
//! id, OEM public-key hash), and loads a programmer piece by piece, checking it the way a boot
//! ROM does before running it: an ELF for its chip (class, machine), in the signed-image format
//! (a hash segment whose hashes match every segment), loading where the chip loads programmers,
//! and signed when secure boot is on. A refusal is END_IMAGE_TX with the status code a boot ROM
//! uses for it.
//!
//! It asks for the ELF header (0x34 bytes), the program headers, the hash segment, then each
//! loaded segment in pieces of at most 0x1000 bytes, as the real transfers in QFirehose's logs
//! do (`log/Ubuntu_remote.log.txt`, `log/MCU_local.log.txt`).

use std::collections::VecDeque;

use super::chip::Chip;
use crate::flash::qualcomm::wire::mbn::{
    EHDR32_LEN, EHDR64_LEN, ELF_MAGIC, ElfHeader, HashTable, Mbn, MbnError, ProgramHeader, parse_phdrs,
};
use crate::flash::qualcomm::wire::sahara::{
    ClientCommand, HEADER_LEN, MAX_PACKET_LEN, Mode, Packet, PacketError, Status, header,
};

/// The image id the boot ROM asks for (a Firehose programmer on Quectel modules).
pub const IMAGE_ID: u32 = 13;
/// The largest piece asked for at once.
pub const PIECE: u64 = 0x1000;
/// The largest image accepted (the on-chip memory a programmer loads into is smaller).
pub const MAX_IMAGE: u64 = 8 << 20;
/// The largest hash segment accepted.
pub const MAX_HASH_SEGMENT: u64 = 64 << 10;

/// What the boot ROM tells in command mode, and whether it enforces signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Chip serial number.
    pub serial: u32,
    /// OEM public-key hash (answered twice over, as many targets do).
    pub pk_hash: [u8; 32],
    /// Secure boot: only signed programmers load.
    pub secure_boot: bool,
}

/// What Sahara wants after some input.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SaharaStep {
    /// Bytes to send.
    pub output: Vec<u8>,
    /// The programmer was loaded and runs now (DONE_RESP sent).
    pub programmer_runs: bool,
    /// Input that arrived after the programmer started (it is the programmer's).
    pub rest: Vec<u8>,
}

#[derive(Debug, Clone)]
enum Stage {
    Header,
    Phdrs(ElfHeader),
    Hash(ElfHeader, Vec<ProgramHeader>),
    Segments(VecDeque<(u64, u64)>),
}

#[derive(Debug, Clone)]
struct Load {
    stage: Stage,
    /// The piece asked for: offset, length.
    asked: (u64, u64),
    /// Its bytes so far.
    got: Vec<u8>,
    /// Every piece received (offset, bytes).
    pieces: Vec<(u64, Vec<u8>)>,
}

#[derive(Debug, Clone)]
enum State {
    WaitHelloResp,
    Command,
    CommandData(ClientCommand),
    Image(Box<Load>),
    ImageDone,
    Failed,
    Running,
}

/// The boot ROM's side of Sahara.
#[derive(Debug, Clone)]
pub struct SaharaTarget {
    chip: Chip,
    identity: Identity,
    state: State,
    input: Vec<u8>,
    hello_mode: Mode,
}

impl SaharaTarget {
    /// A boot ROM of `chip`.
    pub fn new(chip: Chip, identity: Identity) -> SaharaTarget {
        SaharaTarget {
            chip,
            identity,
            state: State::WaitHelloResp,
            input: Vec::new(),
            hello_mode: Mode::IMAGE_TX_PENDING,
        }
    }

    /// The greeting sent when the module enumerates.
    pub fn hello(&mut self) -> Vec<u8> {
        self.state = State::WaitHelloResp;
        self.input.clear();
        Packet::Hello {
            version: self.chip.sahara_version,
            compatible: self.chip.sahara_compatible,
            max_command_len: 0x400,
            mode: self.hello_mode,
        }
        .encode()
    }

    /// Takes received bytes.
    pub fn feed(&mut self, input: &[u8]) -> SaharaStep {
        let mut step = SaharaStep::default();
        self.input.extend_from_slice(input);
        loop {
            if matches!(self.state, State::Running) {
                step.rest = std::mem::take(&mut self.input);
                return step;
            }
            if let State::Image(load) = &mut self.state {
                let want = (load.asked.1 as usize).saturating_sub(load.got.len());
                if want > 0 {
                    let n = want.min(self.input.len());
                    load.got.extend(self.input.drain(..n));
                    if load.got.len() < load.asked.1 as usize {
                        return step;
                    }
                    let out = self.piece_arrived();
                    step.output.extend(out);
                    continue;
                }
            }
            if matches!(self.state, State::WaitHelloResp) && self.stray_input() {
                // Not the start of a HELLO_RESP (QFirehose nudges a silent target with one
                // byte): greet again.
                step.output.extend(self.hello());
                return step;
            }
            let Some((id, len)) = header(&self.input) else { return step };
            let len = len as usize;
            if !(HEADER_LEN..=MAX_PACKET_LEN).contains(&len) {
                self.input.clear();
                step.output.extend(self.fail(0, Status::INVALID_PACKET_SIZE));
                return step;
            }
            if self.input.len() < len {
                return step;
            }
            let bytes: Vec<u8> = self.input.drain(..len).collect();
            let out = match Packet::decode(&bytes) {
                Ok(p) => self.packet(p, &mut step),
                Err(PacketError::Length { .. }) => self.fail(0, Status::INVALID_PACKET_SIZE),
                Err(_) => {
                    let _ = id;
                    self.fail(0, Status::INVALID_CMD)
                }
            };
            step.output.extend(out);
        }
    }

    fn stray_input(&self) -> bool {
        let expected = 2u32.to_le_bytes();
        let n = self.input.len().min(4);
        n > 0 && self.input[..n] != expected[..n]
    }

    fn fail(&mut self, image: u32, status: Status) -> Vec<u8> {
        self.state = State::Failed;
        Packet::EndImageTx { image, status }.encode()
    }

    fn packet(&mut self, p: Packet, step: &mut SaharaStep) -> Vec<u8> {
        match (&self.state, p) {
            (_, Packet::ResetStateMachine) => self.hello(),
            (_, Packet::Reset) => {
                // A real target resets and enumerates again; the new boot greets.
                let mut out = Packet::ResetResp.encode();
                out.extend(self.hello());
                out
            }
            (State::WaitHelloResp, Packet::HelloResp { version, status, mode, .. }) => {
                self.hello_resp(version, status, mode)
            }
            (State::Command, Packet::Execute { command }) => self.execute(command),
            (State::Command, Packet::SwitchMode { mode }) => {
                if mode == Mode::IMAGE_TX_PENDING || mode == Mode::COMMAND {
                    self.hello_mode = mode;
                    self.hello()
                } else {
                    self.fail(0, Status::INVALID_MODE_SWITCH)
                }
            }
            (State::CommandData(expected), Packet::ExecuteData { command }) => {
                if command == *expected {
                    self.state = State::Command;
                    self.answer(command).unwrap_or_default()
                } else {
                    self.fail(0, Status::EXEC_DATA_INVALID_CLIENT_CMD)
                }
            }
            (State::ImageDone, Packet::Done) => {
                self.state = State::Running;
                step.programmer_runs = true;
                Packet::DoneResp { status: 1 }.encode()
            }
            _ => self.fail(0, Status::INVALID_CMD),
        }
    }

    fn hello_resp(&mut self, version: u32, status: Status, mode: Mode) -> Vec<u8> {
        if version < self.chip.sahara_compatible {
            return self.fail(0, Status::PROTOCOL_MISMATCH);
        }
        if !status.is_success() {
            return self.fail(0, Status::UNKNOWN_HOST_ERROR);
        }
        match mode {
            Mode::IMAGE_TX_PENDING => {
                let load = Load { stage: Stage::Header, asked: (0, 0), got: Vec::new(), pieces: Vec::new() };
                self.state = State::Image(Box::new(load));
                let len = if self.chip.elf64 { EHDR64_LEN } else { EHDR32_LEN } as u64;
                self.ask(0, len)
            }
            Mode::COMMAND => {
                self.state = State::Command;
                Packet::CmdReady.encode()
            }
            Mode::MEMORY_DEBUG => self.fail(0, Status::MEMORY_DEBUG_NOT_SUPPORTED),
            _ => self.fail(0, Status::INVALID_HOST_MODE),
        }
    }

    /// The raw answer to a client command, when the target supports it.
    fn answer(&self, command: ClientCommand) -> Option<Vec<u8>> {
        Some(match command {
            ClientCommand::SERIAL_NUM_READ => self.identity.serial.to_le_bytes().to_vec(),
            ClientCommand::MSM_HW_ID_READ if self.chip.sahara_version < 3 => {
                (u64::from(self.chip.msm_id) << 32).to_le_bytes().to_vec()
            }
            ClientCommand::READ_CHIP_ID_V3 if self.chip.sahara_version >= 3 => {
                let mut v = vec![0u8; 48];
                v[36..40].copy_from_slice(&self.chip.msm_id.to_le_bytes());
                v
            }
            ClientCommand::OEM_PK_HASH_READ => [self.identity.pk_hash, self.identity.pk_hash].concat(),
            ClientCommand::GET_SOFTWARE_VERSION_SBL => 0u32.to_le_bytes().to_vec(),
            _ => return None,
        })
    }

    fn execute(&mut self, command: ClientCommand) -> Vec<u8> {
        match self.answer(command) {
            Some(data) => {
                self.state = State::CommandData(command);
                Packet::ExecuteResp { command, length: data.len() as u32 }.encode()
            }
            None => {
                // Unsupported: END_IMAGE_TX with the status, and the target stays in command mode.
                Packet::EndImageTx { image: 0, status: Status::EXEC_CMD_UNSUPPORTED }.encode()
            }
        }
    }

    fn ask(&mut self, offset: u64, len: u64) -> Vec<u8> {
        if let State::Image(load) = &mut self.state {
            load.asked = (offset, len);
            load.got.clear();
        }
        if self.chip.read64 {
            Packet::ReadData64 { image: u64::from(IMAGE_ID), offset, length: len }.encode()
        } else {
            Packet::ReadData { image: IMAGE_ID, offset: offset as u32, length: len as u32 }.encode()
        }
    }

    /// The piece asked for has arrived: check what it allows, then ask for the next or finish.
    fn piece_arrived(&mut self) -> Vec<u8> {
        let State::Image(load) = &mut self.state else { return Vec::new() };
        let piece = std::mem::take(&mut load.got);
        let offset = load.asked.0;
        load.pieces.push((offset, piece.clone()));
        let stage = std::mem::replace(&mut load.stage, Stage::Header);
        let next: Result<Option<(u64, u64)>, Status> = match stage {
            Stage::Header => self.check_header(&piece).map(|h| {
                let at = (h.phoff, h.phdrs_len() as u64);
                self.set_stage(Stage::Phdrs(h));
                Some(at)
            }),
            Stage::Phdrs(h) => self.check_phdrs(h, &piece).map(|(phdrs, hash)| {
                let at = (hash.offset, hash.filesz);
                self.set_stage(Stage::Hash(h, phdrs));
                Some(at)
            }),
            Stage::Hash(h, phdrs) => self.check_hash(h, &phdrs, &piece).map(|queue| {
                self.set_stage(Stage::Segments(queue));
                None
            }),
            Stage::Segments(queue) => {
                self.set_stage(Stage::Segments(queue));
                Ok(None)
            }
        };
        match next {
            Err(status) => self.fail(IMAGE_ID, status),
            Ok(Some((offset, len))) => self.ask(offset, len),
            Ok(None) => self.next_segment_piece(),
        }
    }

    fn set_stage(&mut self, stage: Stage) {
        if let State::Image(load) = &mut self.state {
            load.stage = stage;
        }
    }

    fn check_header(&self, bytes: &[u8]) -> Result<ElfHeader, Status> {
        let class = if self.chip.elf64 { 2 } else { 1 };
        if bytes.get(..4) != Some(&ELF_MAGIC[..]) || bytes.get(4) != Some(&class) {
            return Err(Status::INVALID_ELF_HDR);
        }
        let h = ElfHeader::parse(bytes).map_err(|e| status_of(&e))?;
        if h.class64 != self.chip.elf64 || h.machine != self.chip.machine {
            return Err(Status::INVALID_ELF_HDR);
        }
        within_image(h.phoff, h.phdrs_len() as u64)?;
        Ok(h)
    }

    fn check_phdrs(&self, h: ElfHeader, bytes: &[u8]) -> Result<(Vec<ProgramHeader>, ProgramHeader), Status> {
        let phdrs = parse_phdrs(&h, bytes).map_err(|e| status_of(&e))?;
        let hash = *phdrs.iter().find(|p| p.is_hash()).ok_or(Status::HASH_TABLE_NOT_FOUND)?;
        if hash.filesz == 0 || hash.filesz > MAX_HASH_SEGMENT {
            return Err(Status::INVALID_IMG_HASH_TABLE_SIZE);
        }
        within_image(hash.offset, hash.filesz)?;
        for p in phdrs.iter().filter(|p| p.is_loaded()) {
            let end = p.paddr.checked_add(p.memsz.max(p.filesz)).ok_or(Status::INVALID_DEST_ADDR)?;
            if p.paddr < self.chip.load_region.start || end > self.chip.load_region.end {
                return Err(Status::INVALID_DEST_ADDR);
            }
        }
        Ok((phdrs, hash))
    }

    /// The hash segment arrived: check it, and queue the segments to fetch.
    fn check_hash(&self, h: ElfHeader, phdrs: &[ProgramHeader], bytes: &[u8]) -> Result<VecDeque<(u64, u64)>, Status> {
        let table = HashTable::parse(bytes, h.phnum).map_err(|e| status_of(&e))?;
        if self.identity.secure_boot && !table.is_signed() {
            return Err(Status::IMAGE_AUTH_FAILURE);
        }
        let headers_end = h.phoff + h.phdrs_len() as u64;
        let mut queue = VecDeque::new();
        let mut total = 0u64;
        for p in phdrs.iter().filter(|p| !p.is_hash() && p.filesz > 0) {
            // The ELF and program headers (the first segment) are here already.
            if p.offset == 0 && p.filesz <= headers_end && h.phoff == h.len() as u64 {
                continue;
            }
            within_image(p.offset, p.filesz)?;
            total = total.saturating_add(p.filesz);
            if total > MAX_IMAGE {
                return Err(Status::INVALID_IMG_HDR_DATA_SIZE);
            }
            let mut at = 0;
            while at < p.filesz {
                let n = PIECE.min(p.filesz - at);
                queue.push_back((p.offset + at, n));
                at += n;
            }
        }
        Ok(queue)
    }

    fn next_segment_piece(&mut self) -> Vec<u8> {
        let State::Image(load) = &mut self.state else { return Vec::new() };
        let Stage::Segments(queue) = &mut load.stage else { return Vec::new() };
        if let Some((offset, len)) = queue.pop_front() {
            return self.ask(offset, len);
        }
        // Everything is here: verify the image as a whole.
        let end = load.pieces.iter().map(|(o, b)| o + b.len() as u64).max().unwrap_or(0);
        let mut image = vec![0u8; end as usize];
        for (o, b) in &load.pieces {
            image[*o as usize..*o as usize + b.len()].copy_from_slice(b);
        }
        let verdict = Mbn::parse(&image).and_then(|m| m.verify(&image));
        match verdict {
            Ok(()) => {
                self.state = State::ImageDone;
                Packet::EndImageTx { image: IMAGE_ID, status: Status::SUCCESS }.encode()
            }
            Err(e) => {
                let status = status_of(&e);
                self.fail(IMAGE_ID, status)
            }
        }
    }
}

/// Refuses a piece that would lie beyond the largest image accepted.
fn within_image(offset: u64, len: u64) -> Result<(), Status> {
    match offset.checked_add(len) {
        Some(end) if end <= MAX_IMAGE => Ok(()),
        _ => Err(Status::INVALID_IMG_HDR_DATA_SIZE),
    }
}

/// The status a boot ROM gives for an image problem.
pub fn status_of(e: &MbnError) -> Status {
    match e {
        MbnError::ElfHeader(_) => Status::INVALID_ELF_HDR,
        MbnError::TooManyPhdrs(_) => Status::UNSUPPORTED_NUM_PHDRS,
        MbnError::PhdrSize { .. } => Status::INVALID_PDHR_SIZE,
        MbnError::Truncated { .. } => Status::INVALID_IMG_HDR_DATA_SIZE,
        MbnError::NoHashSegment => Status::HASH_TABLE_NOT_FOUND,
        MbnError::HashTable(_) => Status::INVALID_IMG_HASH_TABLE_SIZE,
        MbnError::HashMismatch { .. } => Status::HASH_VERIFICATION_FAILURE,
    }
}
