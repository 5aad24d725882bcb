//! The ASR driver's reading of a package's recipe on arbitrary `download.json` bytes inside an
//! otherwise well-formed EC800M package: the order checks (probe before the partition table,
//! nothing written before it), member lookups and the layout of partitions and steps.
#![no_main]

use fwguard::flash::asr::recipe::FlashRecipe;
use fwguard::image::build::asr::AsrBuilder;
use fwguard::image::build::memory::MemoryPackage;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut members = AsrBuilder::ec800m_cn_la().members();
    for (name, bytes) in &mut members {
        if name == "download.json" {
            *bytes = data.to_vec();
        }
    }
    let mut package = MemoryPackage::new("fuzz.zip", members);
    if let Ok(recipe) = FlashRecipe::read(&mut package) {
        let _ = recipe.layout();
        let _ = recipe.table_bytes(&mut package);
    }
});
