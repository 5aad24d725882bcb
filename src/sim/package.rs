//! A demo firmware package for a simulated module, built with [`crate::image::build`]: the
//! profile's own revision in its platform's real package format, so
//! `fwguard check --sim PROFILE --image PKG` can be tried without a vendor package (and, with a
//! changed `--revision`, a package of another build).

use std::path::{Path, PathBuf};

use super::error::SimError;
use super::profile::{Platform, Profile};
use crate::identity::{NandGeometry, normalise_model};
use crate::image::asr::download_json::ARELEASE_PRODUCTS;
use crate::image::asr::expected_chip;
use crate::image::asr::flashinfo::FlashChip;
use crate::image::build::asr::{AsrBuilder, flash_table, layout};
use crate::image::build::binpkg::BinpkgBuilder;
use crate::image::build::pac::PacBuilder;
use crate::image::build::qualcomm::QualcommBuilder;
use crate::image::build::quecpython::{QpyInner, QuecPythonBuilder};

/// Writes a package of `profile`'s revision for its platform into `dir` (created if needed) and
/// returns its path: a Qualcomm `.zip` with the profile's NAND geometry, an ASR `.zip` with its
/// flash size and chip, a Unisoc `.pac`, an Eigencomm `.binpkg`.
pub fn write_demo_package(profile: &Profile, dir: &Path) -> Result<PathBuf, SimError> {
    std::fs::create_dir_all(dir).map_err(|e| SimError::files(dir, e))?;
    let rev = profile.revision.as_str();
    let (path, written) = match profile.platform {
        Platform::Qualcomm => {
            let mut b = QualcommBuilder::ec25(rev);
            if let (Some(page), Some(block)) = (profile.flash.page, profile.flash.block) {
                b.geometry = NandGeometry { page_kib: page / 1024, block_kib: block / 1024 };
            }
            let path = dir.join(b.file_name(".zip"));
            let written = b.write_zip(&path);
            (path, written)
        }
        Platform::Asr => {
            let size = profile.flash.size;
            let chips: Vec<FlashChip> = profile.flash_id.iter().filter_map(asr_chip).collect();
            // The arelease PRODUCT of the module's ASR chip (EC800K: ASR1602, CRANELR).
            let chip = expected_chip(&normalise_model(&profile.model)).unwrap_or("ASR1606");
            let product = ARELEASE_PRODUCTS.iter().find(|(_, c)| *c == chip).map_or("CRANEL_QUEC_PRODUCT", |(p, _)| p);
            let variant = format!("QUEC_CRANEL_SS_{:02}MB_OPEN", size >> 20);
            // Its modem image carries the revision, which the module boots into once flashed.
            let asr = AsrBuilder {
                revision_member: Some(String::new()),
                arelease: Some((product.to_string(), variant)),
                flash: flash_table(size, &chips),
                partitions: layout(size),
                ..AsrBuilder::ec800m_cn_lf()
            }
            .revised(rev);
            if rev.starts_with(&normalise_model(&profile.model)) {
                let path = dir.join(&asr.file_name);
                let written = asr.zip().and_then(|bytes| std::fs::write(&path, bytes));
                (path, written)
            } else {
                // A revision that does not start with the module's product (the C-SDK build name
                // LTE01R06A04_VOLTE_C_SDK_A) names no package: the product takes QuecPython
                // firmware, named for it.
                let b = quecpython_for(profile, asr);
                let path = dir.join(&b.file_name);
                let written = b.zip().and_then(|bytes| std::fs::write(&path, bytes));
                (path, written)
            }
        }
        Platform::Unisoc => {
            let b = PacBuilder::uis8910(rev);
            let path = dir.join(format!("{}_{rev}_merge.pac", b.product_alias));
            let written = std::fs::write(&path, b.to_bytes());
            (path, written)
        }
        Platform::Eigencomm => {
            let path = dir.join(format!("{rev}.binpkg"));
            let written = std::fs::write(&path, BinpkgBuilder::ec600e_cn_lc().to_bytes());
            (path, written)
        }
        Platform::Mediatek => {
            return Err(SimError::files(dir, "no demo package format for MediaTek modules"));
        }
    };
    written.map_err(|e| SimError::files(&path, e))?;
    Ok(path)
}

/// QuecPython firmware for the module's product (`EC800MCN_LA`: `QPY_OCPU_V0004_EC800M_CNLA_FW`),
/// holding `asr` as its firmware image.
fn quecpython_for(profile: &Profile, asr: AsrBuilder) -> QuecPythonBuilder {
    let product = normalise_model(&profile.model);
    let (base, variant) = product.split_at(product.len().saturating_sub(4));
    let name = format!("QPY_OCPU_V0004_{base}_{variant}_FW");
    // The firmware's own revision, which its modem image carries and the module then reports.
    let revision = format!("{product}R01A01M{:02}_OCPU_QPY", profile.flash.size >> 20);
    let mut asr = asr.revised(&revision);
    asr.file_name = format!("{name}.bin");
    QuecPythonBuilder {
        file_name: format!("{name}.zip"),
        folder: format!("{name}/"),
        platform: Some("ASR1606".into()),
        inner_name: format!("{name}.bin"),
        inner: QpyInner::Asr(Box::new(asr)),
    }
}

/// The flash ID as an ASR flash-table entry: manufacturer, then the device id's two bytes.
fn asr_chip(id: &crate::identity::FlashId) -> Option<FlashChip> {
    match id.bytes() {
        [vendor, hi, lo] => Some(FlashChip {
            vendor: u16::from(*vendor),
            device: u16::from_be_bytes([*hi, *lo]),
            name: format!("{}-{}MB", id.hex(), id.nor_capacity_bytes().unwrap_or(0) >> 20),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Database;
    use crate::engine::{DeviceFacts, Verdict, judge};
    use crate::sim::builtin;

    /// Every profile's demo package is read back as its profile's revision and judged for the
    /// profile by its content without a block.
    #[test]
    fn every_profile_gets_a_package_its_module_accepts() {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::builtin();
        for p in builtin().unwrap() {
            let path = write_demo_package(p, dir.path()).unwrap();
            let ins = crate::image::inspect(&path).unwrap_or_else(|e| panic!("{}: {e}", p.name));
            let device = DeviceFacts {
                model: Some(p.model.clone()),
                revision: p.revision.clone(),
                flash_id: p.flash_id.clone(),
                ..DeviceFacts::default()
            };
            let report = judge(&device, &ins.facts(), &db);
            assert_ne!(report.verdict, Verdict::Block, "{}: {:?}", p.name, report.findings);
        }
    }
}
