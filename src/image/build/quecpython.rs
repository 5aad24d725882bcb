//! Builds QuecPython firmware as QuecPython distributes it and its download tool reads it
//! (QuecPython/download_tool `qpy.py`): a `QPY_…_FW.zip` with `platform_config.json` at the
//! root beside one firmware entry: an ASR aboot zip as `QPY_…_FW.bin`, a Unisoc `.pac`, or for
//! Eigencomm a folder holding `at_command.binpkg`, `quec_download_config.ini` and the files it
//! burns (`ap_application.bin`, `ap_updater.bin`, `customer_fs.bin`, `customer_backup_fs.bin`).

use super::asr::AsrBuilder;
use super::binpkg::BinpkgBuilder;
use super::memory::MemoryPackage;
use super::pac::PacBuilder;
use crate::image::qpy_eigen::{self, BINPKG, DOWNLOAD_CONFIG, FLEX_FILES};

/// The Eigencomm firmware folder: the binpkg and the regions QuecPython burns beside it.
#[derive(Debug, Clone)]
pub struct EigenFolder {
    /// `at_command.binpkg`.
    pub binpkg: BinpkgBuilder,
    /// `[File_N]` START_ADDR and MAX_SIZE, in order (3 or 4).
    pub regions: Vec<(u64, u64)>,
    /// The files for the regions, in order; `None` leaves a file out.
    pub files: Vec<Option<Vec<u8>>>,
    /// Write `quec_download_config.ini` (else leave it out).
    pub config: bool,
}

impl EigenFolder {
    /// The EC600E-CN LC folder: the binpkg and four regions on the 4 MB AP flash, the first two
    /// at the addresses QuecPython's Eigencomm `config.ini` gives `flexfile2` and `flexfile3`
    /// (0x200000, 0x3B4000; QuecPython/thonny-quecpython `fw/exes/Eigen/config.ini`).
    pub fn ec600e_cn_lc() -> EigenFolder {
        EigenFolder {
            binpkg: BinpkgBuilder::ec600e_cn_lc(),
            regions: vec![(0x20_0000, 0x1B_4000), (0x3B_4000, 0x2_0000), (0x3D_4000, 0x1_C000), (0x3F_0000, 0x1_0000)],
            files: vec![
                Some(vec![0xA1; 0x3000]),
                Some(vec![0xA2; 0x800]),
                Some(vec![0xFF; 0x1000]),
                Some(vec![0xFF; 0x1000]),
            ],
            config: true,
        }
    }
}

/// The firmware inside.
#[derive(Debug, Clone)]
pub enum QpyInner {
    /// An ASR package, stored as a zip.
    Asr(Box<AsrBuilder>),
    /// A Unisoc PAC.
    Pac(PacBuilder),
    /// An Eigencomm folder.
    Eigen(EigenFolder),
}

/// Builds QuecPython firmware.
#[derive(Debug, Clone)]
pub struct QuecPythonBuilder {
    /// The package file name, `QPY_OCPU_V0004_EC800M_CNLF_FW.zip`.
    pub file_name: String,
    /// A folder inside the zip holding everything (`""`: at the root, as QPYcom builds them).
    pub folder: String,
    /// The `platform_config.json` value; `None` leaves the file out.
    pub platform: Option<String>,
    /// The firmware entry's name: the `.bin`, the `.pac`, or the Eigencomm folder.
    pub inner_name: String,
    /// The firmware.
    pub inner: QpyInner,
}

impl QuecPythonBuilder {
    /// `QPY_OCPU_V0004_EC800M_CNLF_FW`: an ASR1606 aboot zip with `customer_fs.bin`.
    pub fn ec800m_cn_lf() -> QuecPythonBuilder {
        let mut asr = AsrBuilder::ec800m_cn_lf();
        asr.file_name = "QPY_OCPU_V0004_EC800M_CNLF_FW.bin".into();
        asr.revision_member = Some("EC800MCNLFR01A01M04_OCPU_QPY.json".into());
        asr.images.push(("customer_fs.bin".into(), "user_fs".into(), vec![0xFF; 1024]));
        QuecPythonBuilder {
            file_name: "QPY_OCPU_V0004_EC800M_CNLF_FW.zip".into(),
            folder: String::new(),
            platform: Some("ASR1606".into()),
            inner_name: "QPY_OCPU_V0004_EC800M_CNLF_FW.bin".into(),
            inner: QpyInner::Asr(Box::new(asr)),
        }
    }

    /// `QPY_OCPU_V0006_EG915U_EUAB_FW`: a UIS8910 PAC named by its revision.
    pub fn eg915u_eu_ab() -> QuecPythonBuilder {
        let revision = "EG915UEUABR03A06M08_OCPU_QPY_01.300.01.300";
        QuecPythonBuilder {
            file_name: "QPY_OCPU_V0006_EG915U_EUAB_FW.zip".into(),
            folder: String::new(),
            platform: Some("unisoc8910".into()),
            inner_name: format!("8915DM_cat1_open_{revision}_merge.pac"),
            inner: QpyInner::Pac(PacBuilder::uis8910(revision)),
        }
    }

    /// `QPY_OCPU_V0001_EC600E_CNLC_FW`: an Eigencomm folder named by its revision.
    pub fn ec600e_cn_lc() -> QuecPythonBuilder {
        QuecPythonBuilder {
            file_name: "QPY_OCPU_V0001_EC600E_CNLC_FW.zip".into(),
            folder: String::new(),
            platform: Some("EIGEN".into()),
            inner_name: "EC600ECNLCR01A01M04_OCPU_QPY".into(),
            inner: QpyInner::Eigen(EigenFolder::ec600e_cn_lc()),
        }
    }

    /// The firmware's members, relative to the package folder: one entry, or for Eigencomm
    /// the folder's files.
    pub fn inner_members(&self) -> std::io::Result<Vec<(String, Vec<u8>)>> {
        Ok(match &self.inner {
            QpyInner::Asr(a) => vec![(self.inner_name.clone(), a.zip()?)],
            QpyInner::Pac(p) => vec![(self.inner_name.clone(), p.to_bytes())],
            QpyInner::Eigen(e) => {
                let dir = &self.inner_name;
                let mut out = vec![(format!("{dir}/{BINPKG}"), e.binpkg.to_bytes())];
                if e.config {
                    out.push((
                        format!("{dir}/{DOWNLOAD_CONFIG}"),
                        qpy_eigen::format_download_config(&e.regions).into_bytes(),
                    ));
                }
                for (name, data) in FLEX_FILES.iter().zip(&e.files) {
                    if let Some(data) = data {
                        out.push((format!("{dir}/{name}"), data.clone()));
                    }
                }
                out
            }
        })
    }

    /// The members, in zip order: `platform_config.json`, then the firmware.
    pub fn members(&self) -> std::io::Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        if let Some(p) = &self.platform {
            let json = serde_json::json!({ "platform": p }).to_string();
            out.push((format!("{}platform_config.json", self.folder), json.into_bytes()));
        }
        for (name, data) in self.inner_members()? {
            out.push((format!("{}{name}", self.folder), data));
        }
        Ok(out)
    }

    /// The package as an in-memory [`MemoryPackage`] named `file_name`.
    pub fn package(&self) -> std::io::Result<MemoryPackage> {
        Ok(MemoryPackage::new(&self.file_name, self.members()?))
    }

    /// The package as zip bytes.
    pub fn zip(&self) -> std::io::Result<Vec<u8>> {
        self.package()?.to_zip()
    }
}
