//! Resolves each side: the module's revision and product, the image's name and product.
//! What cannot be identified becomes a blocking finding here.

use super::Ctx;
use super::facts::{DeviceFacts, ImageFacts};
use super::report::{DeviceSummary, FlashIdSource, ImageSummary};
use crate::identity::{ImageName, Revision, normalise_model, revision_from_at_text};
use crate::rules::model::{FamilyFile, Product};

/// The module, identified.
pub(crate) struct DeviceSide<'a> {
    /// The installed build; `None` when the revision is a non-standard stock string.
    pub revision: Option<Revision>,
    /// The revision text as read.
    pub text: String,
    /// The module's family.
    pub family: &'a FamilyFile,
    /// The module's product code entry.
    pub product: &'a Product,
}

/// The image, identified.
pub(crate) struct ImageSide<'a> {
    /// What the image's name (or content revision) says.
    pub name: ImageName,
    /// The family of the product the image is built for.
    pub family: &'a FamilyFile,
    /// The product code entry the image is built for.
    pub product: &'a Product,
}

/// What the database knows about a product code it does not list: its family, when a model of one
/// is a prefix of the code, or nothing.
fn unlisted(ctx: &Ctx<'_>, code: &str) -> String {
    match ctx.db.family_for(code) {
        Some(f) => format!(
            "is not a listed product of family {} ({}, {}): the family is known, but no public evidence for this \
             product code was recorded, so nothing about its memory, layout or streams can be checked",
            f.family.name, f.family.platform, f.family.chipset
        ),
        None => format!("is in no family of database v{}", ctx.db.version()),
    }
}

fn did_you_mean(ctx: &Ctx<'_>, code: &str) -> String {
    let s = ctx.db.suggest(code);
    if s.is_empty() { String::new() } else { format!(" (did you mean {}?)", s.join(" or ")) }
}

pub(crate) fn device<'a>(ctx: &mut Ctx<'a>, facts: &DeviceFacts) -> (DeviceSummary, Option<DeviceSide<'a>>) {
    let mut summary = DeviceSummary {
        model: facts.model.clone(),
        revision: None,
        product: None,
        flash_id: facts.flash_id.as_ref().map(|f| f.hex()),
        flash_id_source: facts.flash_id.as_ref().map(|_| FlashIdSource::Argument),
    };
    let text = match revision_from_at_text(&facts.revision) {
        Ok(t) => t,
        Err(e) => {
            ctx.add_policy("malformed-revision", format!("the module's revision could not be read: {e}"));
            return (summary, None);
        }
    };
    summary.revision = Some(text.clone());
    let revision = match Revision::parse(&text) {
        Ok(r) => r,
        Err(e) => {
            ctx.add_policy("malformed-revision", format!("the module's {e}"));
            return (summary, None);
        }
    };
    if let Some((family, product)) = ctx.db.product(revision.product()) {
        summary.product = Some(product.code.clone());
        return (summary, Some(DeviceSide { revision: Some(revision), text, family, product }));
    }
    // A non-standard stock string: the ATI model line may name the product.
    let from_model = facts.model.as_deref().map(normalise_model).and_then(|m| ctx.db.product(&m));
    if let Some((family, product)) = from_model {
        summary.product = Some(product.code.clone());
        return (summary, Some(DeviceSide { revision: None, text, family, product }));
    }
    let code = revision.product().to_string();
    ctx.add_policy(
        "unknown-device",
        format!(
            "the module's product code {code:?} (from revision {text}) {}{}",
            unlisted(ctx, &code),
            did_you_mean(ctx, &code)
        ),
    );
    (summary, None)
}

pub(crate) fn image<'a>(ctx: &mut Ctx<'a>, facts: &ImageFacts) -> (ImageSummary, Option<ImageSide<'a>>) {
    let mut summary = ImageSummary { revision: None, product: None, path: facts.path.clone() };
    let mut name = match ImageName::parse(&facts.name) {
        Ok(n) => n,
        Err(e) => {
            ctx.add_policy("malformed-revision", format!("the image's {e}"));
            return (summary, None);
        }
    };
    if facts.nand.is_some() {
        name.nand = facts.nand;
    }
    summary.revision = Some(name.revision().map(|r| r.to_string()).unwrap_or_else(|| name.raw.clone()));
    let code = name.product().to_string();
    match ctx.db.product(&code) {
        Some((family, product)) => {
            summary.product = Some(product.code.clone());
            (summary, Some(ImageSide { name, family, product }))
        }
        None => {
            ctx.add_policy(
                "unknown-image",
                format!(
                    "the image's product code {code:?} (from {}) {}{}",
                    name.raw,
                    unlisted(ctx, &code),
                    did_you_mean(ctx, &code)
                ),
            );
            (summary, None)
        }
    }
}
