//! Builds QuecPython firmware: a `QPY_…_FW.zip` with `platform_config.json` and the firmware
//! inside (an ASR aboot zip as `QPY_…_FW.bin`, a Unisoc `.pac`, or an Eigencomm `.binpkg`).

use super::asr::AsrBuilder;
use super::binpkg::BinpkgBuilder;
use super::memory::MemoryPackage;
use super::pac::PacBuilder;

/// The firmware inside.
#[derive(Debug, Clone)]
pub enum QpyInner {
    /// An ASR package, stored as a zip.
    Asr(AsrBuilder),
    /// A Unisoc PAC.
    Pac(PacBuilder),
    /// An Eigencomm binpkg.
    Binpkg(BinpkgBuilder),
}

/// Builds QuecPython firmware.
#[derive(Debug, Clone)]
pub struct QuecPythonBuilder {
    /// The package file name, `QPY_OCPU_V0004_EC800M_CNLF_FW.zip`.
    pub file_name: String,
    /// The folder inside the zip (`""` for none, else ending in `/`).
    pub folder: String,
    /// The `platform_config.json` value; `None` leaves the file out.
    pub platform: Option<String>,
    /// The firmware member's name.
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
            folder: "QPY_OCPU_V0004_EC800M_CNLF_FW/".into(),
            platform: Some("ASR1606".into()),
            inner_name: "QPY_OCPU_V0004_EC800M_CNLF_FW.bin".into(),
            inner: QpyInner::Asr(asr),
        }
    }

    /// `QPY_OCPU_V0006_EG915U_EUAB_FW`: a UIS8910 PAC named by its revision.
    pub fn eg915u_eu_ab() -> QuecPythonBuilder {
        let revision = "EG915UEUABR03A06M08_OCPU_QPY_01.300.01.300";
        QuecPythonBuilder {
            file_name: "QPY_OCPU_V0006_EG915U_EUAB_FW.zip".into(),
            folder: "QPY_OCPU_V0006_EG915U_EUAB_FW/".into(),
            platform: Some("unisoc8910".into()),
            inner_name: format!("8915DM_cat1_open_{revision}_merge.pac"),
            inner: QpyInner::Pac(PacBuilder::uis8910(revision)),
        }
    }

    /// `QPY_OCPU_V0001_EC600E_CNLC_FW`: an Eigencomm binpkg.
    pub fn ec600e_cn_lc() -> QuecPythonBuilder {
        QuecPythonBuilder {
            file_name: "QPY_OCPU_V0001_EC600E_CNLC_FW.zip".into(),
            folder: String::new(),
            platform: Some("EIGEN".into()),
            inner_name: "EC600ECNLCR01A01M04_OCPU_QPY.binpkg".into(),
            inner: QpyInner::Binpkg(BinpkgBuilder::ec600e_cn_lc()),
        }
    }

    /// The firmware member's bytes.
    pub fn inner_bytes(&self) -> std::io::Result<Vec<u8>> {
        Ok(match &self.inner {
            QpyInner::Asr(a) => a.zip()?,
            QpyInner::Pac(p) => p.to_bytes(),
            QpyInner::Binpkg(b) => b.to_bytes(),
        })
    }

    /// The members, in zip order.
    pub fn members(&self) -> std::io::Result<Vec<(String, Vec<u8>)>> {
        let mut out = Vec::new();
        if let Some(p) = &self.platform {
            let json = serde_json::json!({ "platform": p }).to_string();
            out.push((format!("{}platform_config.json", self.folder), json.into_bytes()));
        }
        out.push((format!("{}{}", self.folder, self.inner_name), self.inner_bytes()?));
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
