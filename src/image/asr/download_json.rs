//! `download.json`: the ASR download recipe (a real one: `waybyte/logicromsdk:lib/asr160x/pack/download.json`;
//! its steps on the wire: `annkirin/asr-flash`): `require name=value`, `progress`,
//! `call X`, `partition X`, `flash X → p`, `erase p`, grouped, with `productionOnly` groups and a
//! per-`call` `version-bootrom`.
//!
//! No public source gives the JSON schema around the steps, so the reader is
//! tolerant: it walks the whole document and takes as a step either a string such as
//! `"flash app.bin user_app"`, or an object with a `command` (`cmd`, `action`, `op`) naming a
//! verb and its arguments in fields (`image`/`file`, `partition`, `key`/`value`, `args`).
//! `productionOnly: true` on an object applies to every step inside it. String values that look
//! like arelease PRODUCT / VARIANT names (`QUEC_CRANEL_SS_08MB_OPEN`) are collected wherever they
//! appear.

use serde_json::{Map, Value};

use crate::image::ImageError;
use crate::image::fields::malformed;

/// Most steps read; more is refused as absurd.
pub const MAX_STEPS: usize = 4096;

/// arelease PRODUCT names and the ASR chip each builds for.
pub const ARELEASE_PRODUCTS: &[(&str, &str)] = &[
    ("CRANEL_QUEC_PRODUCT", "ASR1606"),
    ("CRANELRH", "ASR1605"),
    ("CRANELR", "ASR1602"),
    ("CRANELG", "ASR1607"),
    ("CRANELS", "ASR1609"),
    ("CRANEM", "ASR1603"),
];

/// What one step does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepKind {
    /// `require name=value`: `getvar:name` must answer `value` (alternatives split by `|`).
    Require {
        /// The variable.
        key: String,
        /// The accepted value(s).
        value: String,
    },
    /// `progress`.
    Progress,
    /// `call X`: download, verify and run a stage (preboot, flasher).
    Call {
        /// The image.
        image: String,
    },
    /// `partition X`: load `flashinfo.bin` or `partition.bin`.
    Partition {
        /// The image.
        image: String,
    },
    /// `flash X → p`.
    Flash {
        /// The image.
        image: String,
        /// The partition written.
        partition: String,
    },
    /// `erase p`.
    Erase {
        /// The partition erased.
        partition: String,
    },
}

/// One step of the recipe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// What it does.
    pub kind: StepKind,
    /// Skipped in upgrade mode.
    pub production_only: bool,
    /// For `call`: the ROM version whose image set (`<version>/<image>`) it uses.
    pub version_bootrom: Option<String>,
}

/// A parsed `download.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipe {
    /// The steps, in document order (object keys in sorted order).
    pub steps: Vec<Step>,
    /// An arelease PRODUCT named in the file (`CRANEL_QUEC_PRODUCT`).
    pub arelease_product: Option<String>,
    /// An arelease VARIANT named in the file (`QUEC_CRANEL_SS_04MB_OPEN`).
    pub arelease_variant: Option<String>,
    /// Oddities that do not stop reading.
    pub problems: Vec<String>,
}

const VERBS: &[&str] = &["require", "progress", "call", "partition", "flash", "erase"];
const COMMAND_KEYS: &[&str] = &["command", "cmd", "action", "op"];
const IMAGE_KEYS: &[&str] = &["image", "file", "filename", "path", "bin", "source", "src"];
const PARTITION_KEYS: &[&str] = &["partition", "part", "target"];
const BOOTROM_KEYS: &[&str] = &["version-bootrom", "version_bootrom", "versionBootrom"];

impl Recipe {
    /// Parses `download.json`. `is_member` says whether a name is a file of the package, to
    /// tell the image from the partition in `flash` steps.
    pub fn parse(bytes: &[u8], path: &str, is_member: &dyn Fn(&str) -> bool) -> Result<Recipe, ImageError> {
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| malformed(path, "download.json", format!("not valid JSON: {e}")))?;
        let mut recipe = Recipe::default();
        let mut walker = Walker { recipe: &mut recipe, is_member, path };
        walker.walk(&value, false)?;
        if recipe.steps.is_empty() {
            recipe.problems.push("download.json: no download steps found in it".into());
        }
        Ok(recipe)
    }

    /// The images the recipe loads, with the partition each `flash` step writes.
    pub fn images(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.steps.iter().filter_map(|s| match &s.kind {
            StepKind::Call { image } | StepKind::Partition { image } => Some((image.as_str(), None)),
            StepKind::Flash { image, partition } => Some((image.as_str(), Some(partition.as_str()))),
            _ => None,
        })
    }

    /// The ASR chip the arelease PRODUCT builds for (`ASR1606`).
    pub fn chip(&self) -> Option<&'static str> {
        let p = self.arelease_product.as_deref()?;
        ARELEASE_PRODUCTS.iter().find(|(name, _)| *name == p).map(|(_, chip)| *chip)
    }

    /// The flash size in MB the arelease VARIANT names (`..._04MB_...` is 4).
    pub fn variant_flash_mb(&self) -> Option<u64> {
        let v = self.arelease_variant.as_deref()?;
        let b = v.as_bytes();
        (0..b.len().saturating_sub(3)).find_map(|i| {
            let digits = &b[i..i + 2];
            let boundary = i == 0 || !b[i - 1].is_ascii_digit();
            (boundary && digits.iter().all(u8::is_ascii_digit) && &b[i + 2..i + 4] == b"MB")
                .then(|| u64::from(digits[0] - b'0') * 10 + u64::from(digits[1] - b'0'))
        })
    }
}

struct Walker<'a> {
    recipe: &'a mut Recipe,
    is_member: &'a dyn Fn(&str) -> bool,
    path: &'a str,
}

impl Walker<'_> {
    fn walk(&mut self, value: &Value, production_only: bool) -> Result<(), ImageError> {
        match value {
            Value::String(s) => {
                if let Some(kind) = self.text_step(s) {
                    self.push(Step { kind, production_only, version_bootrom: None })?;
                } else {
                    self.note_arelease(s);
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.walk(item, production_only)?;
                }
            }
            Value::Object(map) => {
                let production_only = production_only || is_true(map, &["productionOnly", "production_only"]);
                if let Some(step) = self.object_step(map, production_only) {
                    self.push(step)?;
                } else {
                    for item in map.values() {
                        self.walk(item, production_only)?;
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn push(&mut self, step: Step) -> Result<(), ImageError> {
        if self.recipe.steps.len() >= MAX_STEPS {
            return Err(malformed(self.path, "download.json", format!("more than {MAX_STEPS} steps")));
        }
        self.recipe.steps.push(step);
        Ok(())
    }

    fn note_arelease(&mut self, s: &str) {
        let plain =
            s.len() < 96 && s.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || b"_+()".contains(&c));
        if !plain {
            return;
        }
        if s.starts_with("QUEC_CRANE") {
            self.recipe.arelease_variant.get_or_insert_with(|| s.to_string());
        } else if ARELEASE_PRODUCTS.iter().any(|(p, _)| *p == s) {
            self.recipe.arelease_product.get_or_insert_with(|| s.to_string());
        }
    }

    /// `"flash app.bin user_app"` and the like.
    fn text_step(&self, s: &str) -> Option<StepKind> {
        if s.len() > 512 {
            return None;
        }
        let mut words = s.split_whitespace();
        let verb = words.next()?.to_ascii_lowercase();
        if !VERBS.contains(&verb.as_str()) {
            return None;
        }
        let args: Vec<&str> = words
            .filter(|w| !matches!(w.to_ascii_lowercase().as_str(), "->" | "→" | "=>" | "to" | "partition"))
            .collect();
        self.build(&verb, &args, None, None)
    }

    fn object_step(&mut self, map: &Map<String, Value>, production_only: bool) -> Option<Step> {
        let command = COMMAND_KEYS.iter().find_map(|k| map.get(*k).and_then(Value::as_str))?;
        let version_bootrom = BOOTROM_KEYS.iter().find_map(|k| map.get(*k).and_then(Value::as_str)).map(String::from);
        let mut words = command.split_whitespace();
        let verb = words.next()?.to_ascii_lowercase();
        if !VERBS.contains(&verb.as_str()) {
            return None;
        }
        let mut args: Vec<String> = words.map(String::from).collect();
        match map.get("args") {
            Some(Value::String(s)) => args.extend(s.split_whitespace().map(String::from)),
            Some(Value::Array(items)) => args.extend(items.iter().filter_map(Value::as_str).map(String::from)),
            _ => {}
        }
        let image = first_str(map, IMAGE_KEYS);
        let partition = first_str(map, PARTITION_KEYS);
        let kind = if verb == "require" {
            match (first_str(map, &["key", "name", "var"]), first_str(map, &["value", "expect"])) {
                (Some(k), Some(v)) => Some(StepKind::Require { key: k.into(), value: v.into() }),
                _ => self.build(&verb, &args.iter().map(String::as_str).collect::<Vec<_>>(), None, None),
            }
        } else {
            self.build(&verb, &args.iter().map(String::as_str).collect::<Vec<_>>(), image, partition)
        };
        match kind {
            Some(kind) => Some(Step { kind, production_only, version_bootrom }),
            None => {
                self.recipe.problems.push(format!("download.json: step {command:?} lacks its arguments"));
                None
            }
        }
    }

    fn build(&self, verb: &str, args: &[&str], image: Option<&str>, partition: Option<&str>) -> Option<StepKind> {
        let own = |s: &str| s.to_string();
        Some(match verb {
            "progress" => StepKind::Progress,
            "require" => {
                let joined = args.join(" ");
                let (k, v) = joined.split_once('=').or_else(|| joined.split_once(' '))?;
                StepKind::Require { key: k.trim().into(), value: v.trim().into() }
            }
            "call" => StepKind::Call { image: own(image.or_else(|| args.first().copied())?) },
            "partition" => StepKind::Partition { image: own(image.or_else(|| args.first().copied())?) },
            "erase" => StepKind::Erase { partition: own(partition.or_else(|| args.first().copied())?) },
            "flash" => {
                let (img, part) = match (image, partition, args) {
                    (Some(i), Some(p), _) => (i, p),
                    (Some(i), None, [p, ..]) => (i, *p),
                    (None, Some(p), [i, ..]) => (*i, p),
                    (None, None, [a, b, ..]) if (self.is_member)(b) && !(self.is_member)(a) => (*b, *a),
                    (None, None, [a, b, ..]) => (*a, *b),
                    _ => return None,
                };
                StepKind::Flash { image: own(img), partition: own(part) }
            }
            _ => return None,
        })
    }
}

fn first_str<'m>(map: &'m Map<String, Value>, keys: &[&str]) -> Option<&'m str> {
    keys.iter().find_map(|k| map.get(*k).and_then(Value::as_str))
}

fn is_true(map: &Map<String, Value>, keys: &[&str]) -> bool {
    keys.iter().any(|k| matches!(map.get(*k), Some(Value::Bool(true))))
}
