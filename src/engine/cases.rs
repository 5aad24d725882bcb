//! The engine as the judge of rule test cases (`fwguard rules test`).

use std::collections::BTreeSet;

use super::{DeviceFacts, ImageFacts, judge};
use crate::db::Database;
use crate::identity::FlashId;
use crate::rules::CaseJudge;
use crate::rules::model::TestCase;

impl CaseJudge for Database {
    fn judge_case(&self, case: &TestCase) -> Result<(String, BTreeSet<String>), String> {
        let flash_id = case.flash_id.as_deref().map(FlashId::parse).transpose().map_err(|e| e.to_string())?;
        let device = DeviceFacts {
            model: case.model.clone(),
            revision: case.revision.clone(),
            flash_id,
            secure_boot: case.secure_boot,
            imei: None,
        };
        let image = ImageFacts { name: case.to.clone(), ..ImageFacts::default() };
        let report = judge(&device, &image, self);
        Ok((report.verdict.to_string(), report.findings.iter().map(|f| f.rule.clone()).collect()))
    }
}
