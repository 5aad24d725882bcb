//! Firehose bytes: the host's message splitter and readers (responses, logs, storage info,
//! patches) on what a programmer sends, and the simulated NAND programmer on what a host sends.
#![no_main]

use fwguard::flash::qualcomm::firehose::StorageInfo;
use fwguard::flash::qualcomm::wire::firehose::{Message, Splitter, parse_message};
use fwguard::flash::qualcomm::wire::patch::parse_patches;
use fwguard::sim::qualcomm::chip;
use fwguard::sim::qualcomm::firehose::FirehoseTarget;
use fwguard::sim::qualcomm::firmware::Geometry;
use fwguard::sim::qualcomm::nand::Nand;
use fwguard::sim::{FlashStore, Faults};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut s = Splitter::new(4096);
    let mut logs = Vec::new();
    for piece in data.chunks(61) {
        s.push(piece);
        while let Some(Ok(m)) = s.next_message() {
            if let Ok(Message::Log(t)) = parse_message(&m) {
                logs.push(t);
            }
        }
    }
    let _ = StorageInfo::from_log(logs.iter().map(String::as_str)).map(|i| i.nand_id());
    let _ = parse_patches(&String::from_utf8_lossy(data));

    let geometry = Geometry { page: 2048, pages_per_block: 64, pages: 64 * 16 };
    let mut flash = FlashStore::in_memory(geometry.page * geometry.pages);
    let mut programmer = FirehoseTarget::new(chip::MDM9607, Nand { geometry }, None, 1);
    let faults = Faults::default();
    for piece in data.chunks(97) {
        let _ = programmer.feed(piece, &mut flash, &faults);
    }
});
