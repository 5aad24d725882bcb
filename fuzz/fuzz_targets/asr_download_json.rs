//! ASR `download.json` recipe reader, and the release-info scan of other JSON members, on
//! arbitrary bytes.
#![no_main]

use fwguard::image::asr::download_json::Recipe;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(mut recipe) = Recipe::parse(data, "fuzz.zip", &|name: &str| name.ends_with(".bin")) {
        recipe.note_release_info(data);
        let _ = recipe.chip();
        let _ = recipe.variant_flash_mb();
    }
});
