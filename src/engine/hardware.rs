//! Checks that the image fits the module's hardware: identity, product, memory, flash chip.

use super::Ctx;
use super::facts::{DeviceFacts, ImageFacts};
use super::resolve::{DeviceSide, ImageSide};
use crate::identity::{FlashId, normalise_model};

/// `identity-conflict`: the ATI model line and the revision disagree, or the package content and its name.
pub(crate) fn identity(ctx: &mut Ctx<'_>, facts: &DeviceFacts, image: &ImageFacts, dev: Option<&DeviceSide<'_>>) {
    if let (Some(model), Some(dev)) = (facts.model.as_deref(), dev) {
        let norm = normalise_model(model);
        let same_family = ctx.db.family_for(&norm).is_some_and(|f| f.family.id == dev.family.family.id);
        if !same_family || !dev.product.code.starts_with(&norm) {
            ctx.add_policy(
                "identity-conflict",
                format!(
                    "ATI says the model is {model:?}, but the revision {} is for product {} ({})",
                    dev.text, dev.product.code, dev.family.family.name
                ),
            );
        }
    }
    if let Some(claimed) = &image.name_conflict {
        ctx.add_policy("identity-conflict", format!("the package's name and content disagree: {claimed}"));
    }
}

/// `product-mismatch`: the image is built for another product and no rule says they share images.
pub(crate) fn product(ctx: &mut Ctx<'_>, dev: &DeviceSide<'_>, img: &ImageSide<'_>) -> bool {
    let (d, i) = (&dev.product.code, &img.product.code);
    if d == i {
        return true;
    }
    let flavour = img.name.flavour().to_string().to_ascii_lowercase();
    let shared = img
        .family
        .shared_images
        .iter()
        .find(|s| s.image == *i && s.serves.contains(d) && s.flavour.as_deref().is_none_or(|f| f == flavour));
    if shared.is_some() {
        return true;
    }
    let alternative = dev.family.shared_images.iter().find(|s| s.serves.contains(d) && s.image != *d);
    let hint = match alternative {
        Some(s) if img.name.flavour().to_string() == "QuecPython" => {
            format!("use an image built for {d}; for QuecPython that is the {} image ({})", s.image, s.source)
        }
        _ => format!("use an image built for {d}"),
    };
    let df = &dev.product;
    ctx.add(
        "product-mismatch",
        format!(
            "the module is {d} ({} variant {}, feature {}); the image is built for {i} ({} variant {}, feature {})",
            dev.family.family.name,
            df.variant,
            df.feature,
            img.family.family.name,
            img.product.variant,
            img.product.feature
        ),
        hint,
    );
    false
}

/// The image's memory code: from its revision, else its product.
fn image_memory(img: &ImageSide<'_>) -> Option<String> {
    img.name.revision().and_then(|r| r.memory()).map(|m| m.to_string()).or_else(|| img.product.memory.clone())
}

/// `memory-mismatch`: memory codes or NAND geometry differ.
pub(crate) fn memory(ctx: &mut Ctx<'_>, dev: &DeviceSide<'_>, img: &ImageSide<'_>) {
    let dev_mem =
        dev.revision.as_ref().and_then(|r| r.memory()).map(|m| m.to_string()).or_else(|| dev.product.memory.clone());
    if let (Some(d), Some(i)) = (dev_mem, image_memory(img))
        && d != i
    {
        ctx.add(
            "memory-mismatch",
            format!(
                "the module's memory code is {d} ({}); the image's is {i} ({})",
                dev.product.code, img.product.code
            ),
            format!("use an image with memory code {d}"),
        );
    }
    if let (Some(want), Some(got)) = (dev.product.nand.as_deref(), img.name.nand)
        && want != got.to_string()
    {
        ctx.add(
            "memory-mismatch",
            format!("the module's NAND is {want} ({}); the image's layout is {got}", dev.product.code),
            format!("use the image's {want} layout files (rawprogram_nand_{want}_update.xml)"),
        );
    }
}

fn chip_label(ctx: &Ctx<'_>, id: &FlashId) -> String {
    match ctx.db.chip(&id.hex()) {
        Some(c) => format!("{id} ({}, {} MiB)", c.name, c.size_mib),
        None => id.to_string(),
    }
}

/// `flash-chip-mismatch` and `flash-id-unverified`. Returns whether the flash ID proves the image fits.
pub(crate) fn flash(
    ctx: &mut Ctx<'_>,
    facts: &DeviceFacts,
    image: &ImageFacts,
    dev: &DeviceSide<'_>,
    img: &ImageSide<'_>,
) -> bool {
    let Some(id) = &facts.flash_id else {
        if dev.family.family.flash_id_distinguishes {
            ctx.add_policy(
                "flash-id-unverified",
                format!(
                    "{} variants differ in their flash chip and the module's flash ID is unknown",
                    dev.family.family.name
                ),
            );
        }
        return false;
    };
    let accepted: Vec<String> = match &image.flash_chips {
        Some(list) => list.iter().map(FlashId::hex).collect(),
        None => img.product.flash_chips.clone(),
    };
    let from = if image.flash_chips.is_some() { "the package's flash table" } else { "the database" };
    if !accepted.is_empty() && !accepted.contains(&id.hex()) {
        let listed: Vec<String> =
            accepted.iter().map(|h| FlashId::parse(h).map(|f| chip_label(ctx, &f)).unwrap_or(h.clone())).collect();
        // A list from a third-party table or a teardown may simply lack a chip the vendor fits.
        let incomplete = match (image.flash_chips.is_some(), img.product.chip_list.as_deref()) {
            (false, Some(kind)) if kind != "vendor" => format!(
                "; the database's list for {} comes from {} and may be incomplete, so the chip may still be one the image accepts: check the package's own flash table",
                img.product.code,
                if kind == "teardown" { "a teardown of a few modules" } else { "a third-party table" }
            ),
            _ => String::new(),
        };
        ctx.add(
            "flash-chip-mismatch",
            format!(
                "the module's flash is {}; the image for {} accepts only {} (per {from}){incomplete}",
                chip_label(ctx, id),
                img.product.code,
                listed.join(", ")
            ),
            format!("use an image whose flash table lists {}", id.hex()),
        );
        return false;
    }
    let module_mib =
        id.nor_capacity_bytes().map(|b| b >> 20).or_else(|| ctx.db.chip(&id.hex()).map(|c| u64::from(c.size_mib)));
    let image_mib =
        image_memory(img).and_then(|m| crate::identity::MemoryCode::parse(&m)).map(|m| u64::from(m.size_mib()));
    match (module_mib, image_mib) {
        (Some(m), Some(i)) if m != i => {
            ctx.add(
                "flash-chip-mismatch",
                format!(
                    "the module's flash {} holds {m} MiB; the image for {} is laid out for {i} MiB",
                    chip_label(ctx, id),
                    img.product.code
                ),
                format!("use an image for a {m} MiB flash"),
            );
            false
        }
        (Some(_), Some(_)) => true,
        _ => !accepted.is_empty(),
    }
}
