//! The Qualcomm planner (rawprogram, patch XML and MIBIB to a flash layout) on an EC25 fixture
//! package whose rawprogram (first byte 0), patch XML (1) or MIBIB (2) is the rest of the input.
#![no_main]

use std::io::Read as _;

use fwguard::flash::qualcomm::planner;
use fwguard::image::Inspection;
use fwguard::image::build::memory::MemoryPackage;
use fwguard::image::build::qualcomm::QualcommBuilder;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else { return };
    let builder = QualcommBuilder::ec25("EC25EFAR06A18M4G_20.201.20.201");
    let replaced = match which % 3 {
        0 => builder.rawprogram_name(),
        1 => builder.patch_name(),
        _ => builder.mibib_name(),
    };
    let mut members = Vec::new();
    for (path, content) in builder.files().expect("fixture") {
        let mut bytes = Vec::new();
        if path.ends_with(&replaced) {
            bytes = rest.to_vec();
        } else {
            content.reader().read_to_end(&mut bytes).expect("fixture bytes");
        }
        members.push((path, bytes));
    }
    let mut package = MemoryPackage::new("fuzz", members);
    let _ = planner::plan(&mut package, &Inspection::default());
});
