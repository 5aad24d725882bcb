//! Semantic checks on parsed rules: duplicate ids, missing sources, unparseable patterns, rules
//! that can never match. Each problem names its file and line.

use std::collections::{HashMap, HashSet};

use super::citation::parse_source;
use super::ids::{OVERRIDABLE_RULES, RULE_IDS};
use super::model::{Chip, FamilyFile, PolicyRule, TestFile, UsbId};
use super::pattern::RevisionPattern;
use super::source::RuleSource;
use crate::identity::{FlashId, MemoryCode, NandGeometry, Revision, normalise_model};
use crate::platform::{Mode, OTHER_PLATFORM, Platform, parse_usb_platform};

/// One problem in a rule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LintIssue {
    /// The file, relative to the rules directory.
    pub file: String,
    /// The 1-based line.
    pub line: usize,
    /// What is wrong.
    pub reason: String,
}

impl LintIssue {
    pub(crate) fn new(src: &RuleSource, line: usize, reason: String) -> LintIssue {
        LintIssue { file: src.name.clone(), line, reason }
    }
}

impl std::fmt::Display for LintIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

const FLAVOURS: &[&str] = &["standard", "opencpu", "quecpython"];
const CHIP_LISTS: &[&str] = &["vendor", "third-party", "teardown"];

/// Collects issues, finding the line of a quoted value in its file.
struct Issues<'a> {
    out: Vec<LintIssue>,
    seen: HashMap<(&'a str, String), usize>,
}

impl<'a> Issues<'a> {
    /// Reports a problem at the `n`th time `value` was reported in `src` (so duplicates point at the copy).
    /// Reports a duplicate at the last place `value` stands in `src`: the copy, not the original.
    fn dup(&mut self, src: &'a RuleSource, value: &str, reason: String) {
        let needle = format!("\"{value}\"");
        let count = src.text.matches(&needle).count();
        self.out.push(LintIssue::new(src, src.line_of(&needle, count.saturating_sub(1)), reason));
    }

    fn at(&mut self, src: &'a RuleSource, value: &str, reason: String) {
        let needle = format!("\"{value}\"");
        let n = self.seen.entry((src.name.as_str(), needle.clone())).or_insert(0);
        let line = src.line_of(&needle, *n);
        *n += 1;
        self.out.push(LintIssue::new(src, line, reason));
    }
}

fn source_of<'a>(sources: &'a [RuleSource], name: &str) -> &'a RuleSource {
    static EMPTY: std::sync::OnceLock<RuleSource> = std::sync::OnceLock::new();
    sources
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| EMPTY.get_or_init(|| RuleSource { name: String::new(), text: String::new() }))
}

/// Runs every semantic check.
pub fn check(
    sources: &[RuleSource],
    policy: &[PolicyRule],
    chips: &[Chip],
    usb: &[UsbId],
    families: &[(RuleSource, FamilyFile)],
) -> Vec<LintIssue> {
    let mut is = Issues { out: Vec::new(), seen: HashMap::new() };
    check_policy(source_of(sources, "policy.toml"), policy, &mut is);
    let chip_ids = check_chips(source_of(sources, "flash-chips.toml"), chips, &mut is);
    check_usb(source_of(sources, "usb.toml"), usb, &mut is);
    check_families(families, &chip_ids, &mut is);
    check_sources(sources, policy, chips, usb, families, &mut is);
    is.out
}

/// The line where a source value stands: where its first plain words are.
fn source_line(src: &RuleSource, source: &str) -> usize {
    let probe: String = source.chars().take_while(|c| !matches!(c, '"' | '\\' | '\n')).take(40).collect();
    if probe.trim().is_empty() { 1 } else { src.line_of(&probe, 0) }
}

fn cite(is: &mut Issues<'_>, src: &RuleSource, what: &str, source: &str) {
    if let Err(e) = parse_source(source) {
        is.out.push(LintIssue::new(src, source_line(src, source), format!("{what}: source {e}")));
    }
}

/// Every `source` must be something a user can open ([`parse_source`]).
fn check_sources(
    sources: &[RuleSource],
    policy: &[PolicyRule],
    chips: &[Chip],
    usb: &[UsbId],
    families: &[(RuleSource, FamilyFile)],
    is: &mut Issues<'_>,
) {
    let policy_src = source_of(sources, "policy.toml");
    for r in policy {
        cite(is, policy_src, &format!("rule {:?}", r.id), &r.source);
    }
    let chips_src = source_of(sources, "flash-chips.toml");
    for c in chips {
        cite(is, chips_src, &format!("chip {:?}", c.jedec), &c.source);
    }
    let usb_src = source_of(sources, "usb.toml");
    for u in usb {
        cite(is, usb_src, &format!("USB id {}:{}", u.vid, u.pid), &u.source);
    }
    for (src, f) in families {
        cite(is, src, &format!("family {:?}", f.family.id), &f.family.source);
        for p in &f.products {
            cite(is, src, &format!("product {:?}", p.code), &p.source);
        }
        let entries = f
            .shared_images
            .iter()
            .map(|x| (&x.id, &x.source))
            .chain(f.steps.iter().map(|x| (&x.id, &x.source)))
            .chain(f.known_bad.iter().map(|x| (&x.id, &x.source)))
            .chain(f.anti_rollback.iter().chain(&f.signed).map(|x| (&x.id, &x.source)))
            .chain(f.streams.iter().map(|x| (&x.id, &x.source)));
        for (id, source) in entries {
            cite(is, src, &format!("rule {id:?}"), source);
        }
    }
}

/// Test cases: a known verdict, and a source a user can open where one is given.
pub fn check_tests(tests: &[(RuleSource, TestFile)]) -> Vec<LintIssue> {
    let mut is = Issues { out: Vec::new(), seen: HashMap::new() };
    for (src, file) in tests {
        for case in &file.cases {
            if !["allow", "warn", "block"].contains(&case.verdict.as_str()) {
                is.at(
                    src,
                    &case.verdict,
                    format!("case {:?}: verdict {:?} is not allow, warn or block", case.name, case.verdict),
                );
            }
            if let Some(source) = &case.source {
                cite(&mut is, src, &format!("case {:?}", case.name), source);
            }
        }
    }
    is.out
}

fn check_policy<'a>(src: &'a RuleSource, policy: &[PolicyRule], is: &mut Issues<'a>) {
    let mut ids = HashSet::new();
    for r in policy {
        if !ids.insert(r.id.as_str()) {
            is.dup(src, &r.id, format!("duplicate rule id {:?}", r.id));
        }
        if !RULE_IDS.contains(&r.id.as_str()) {
            is.at(src, &r.id, format!("{:?} is not a rule id the engine knows ({})", r.id, RULE_IDS.join(", ")));
        }
        if r.source.trim().is_empty() {
            is.at(src, &r.id, format!("rule {:?} has an empty source", r.id));
        }
    }
    for id in RULE_IDS {
        if !ids.contains(id) {
            is.out.push(LintIssue::new(
                src,
                1,
                format!("rule id {id:?} has no entry: the engine needs its source and hint"),
            ));
        }
    }
}

fn check_chips<'a>(src: &'a RuleSource, chips: &[Chip], is: &mut Issues<'a>) -> HashSet<String> {
    let mut ids = HashSet::new();
    for c in chips {
        match FlashId::parse(&c.jedec) {
            Ok(id) if id.hex() == c.jedec => {}
            _ => is.at(src, &c.jedec, format!("JEDEC id {:?} must be upper-case hex without separators", c.jedec)),
        }
        if !ids.insert(c.jedec.clone()) {
            is.dup(src, &c.jedec, format!("duplicate chip {:?}", c.jedec));
        }
        if !["nor", "nand"].contains(&c.kind.as_str()) {
            is.at(src, &c.jedec, format!("chip {:?}: kind {:?} is neither nor nor nand", c.jedec, c.kind));
        }
        if let Some(g) = &c.nand
            && NandGeometry::parse(g).is_none()
        {
            is.at(src, g, format!("chip {:?}: NAND geometry {g:?} is not like p4K_b256K", c.jedec));
        }
        if c.source.trim().is_empty() {
            is.at(src, &c.jedec, format!("chip {:?} has an empty source", c.jedec));
        }
    }
    ids
}

fn check_usb<'a>(src: &'a RuleSource, usb: &[UsbId], is: &mut Issues<'a>) {
    let mut seen = HashSet::new();
    let hex4 = |s: &str| s.len() == 4 && s.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
    for u in usb {
        if !hex4(&u.vid) || !hex4(&u.pid) {
            is.at(src, &u.pid, format!("USB id {}:{} must be 4 lower-case hex digits each", u.vid, u.pid));
        }
        if !seen.insert((u.vid.clone(), u.pid.clone(), u.mode.clone())) {
            is.dup(src, &u.pid, format!("duplicate USB id {}:{} in mode {}", u.vid, u.pid, u.mode));
        }
        if Mode::parse(&u.mode).is_none() {
            is.at(src, &u.mode, format!("USB mode {:?} is not one of {}", u.mode, Mode::names()));
        }
        // USB ids may also name a bridge chip that is no module platform (`other`).
        if parse_usb_platform(&u.platform).is_none() {
            let known = format!("{}, {OTHER_PLATFORM}", Platform::names());
            is.at(src, &u.platform, format!("platform {:?} is not one of {known}", u.platform));
        }
        if u.source.trim().is_empty() {
            is.at(src, &u.pid, format!("USB id {}:{} has an empty source", u.vid, u.pid));
        }
    }
}

/// `20.2xx`, `A0.3xx`: a stream as the engine writes it.
fn is_stream(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 6
        && b[0].is_ascii_alphanumeric()
        && b[1].is_ascii_alphanumeric()
        && b[2] == b'.'
        && b[3].is_ascii_digit()
        && &b[4..] == b"xx"
}

fn check_families<'a>(families: &'a [(RuleSource, FamilyFile)], chips: &HashSet<String>, is: &mut Issues<'a>) {
    // Global tables first: models, products, rule ids.
    let mut models: HashMap<String, &str> = HashMap::new();
    let mut family_ids = HashSet::new();
    for (src, f) in families {
        if !family_ids.insert(f.family.id.as_str()) {
            is.dup(src, &f.family.id, format!("duplicate family id {:?}", f.family.id));
        }
        for m in &f.family.models {
            let n = normalise_model(m);
            if n.is_empty() {
                is.at(src, m, format!("model {m:?} has no letters or digits"));
            } else if let Some(other) = models.insert(n.clone(), &f.family.id) {
                is.at(src, m, format!("model {m:?} ({n}) is also a model of family {other:?}"));
            }
        }
    }
    let family_of = |code: &str| -> Option<&str> {
        (1..=code.len()).rev().find_map(|l| code.get(..l).and_then(|p| models.get(p).copied()))
    };
    let mut products: HashMap<&str, &str> = HashMap::new();
    let mut rule_ids = HashSet::new();
    for (src, f) in families {
        let fam = f.family.id.as_str();
        if f.family.id.is_empty()
            || !f.family.id.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        {
            is.at(src, fam, format!("family id {fam:?} must be lower-case letters, digits and '-'"));
        }
        // `other`: a chipset fwguard has no flashing path for (Altair, HiSilicon); `chipset` names it.
        if parse_usb_platform(&f.family.platform).is_none() {
            is.at(
                src,
                &f.family.platform,
                format!("platform {:?} is not one of {}, {OTHER_PLATFORM}", f.family.platform, Platform::names()),
            );
        }
        if f.family.source.trim().is_empty() {
            is.at(src, fam, format!("family {fam:?} has an empty source"));
        }
        for p in &f.products {
            let code = p.code.as_str();
            if code.is_empty() || !code.bytes().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
                is.at(src, code, format!("product code {code:?} must be upper-case letters and digits"));
            }
            if let Some(other) = products.insert(code, fam) {
                is.dup(src, code, format!("duplicate product code {code:?} (also in family {other:?})"));
            }
            match family_of(code) {
                Some(owner) if owner == fam => {}
                Some(owner) => is.at(src, code, format!("product {code:?} can never match this family: its longest model prefix belongs to family {owner:?}")),
                None => is.at(src, code, format!("product {code:?} can never match: no model of family {fam:?} is a prefix of it")),
            }
            if !code.ends_with(&format!("{}{}", p.variant, p.feature)) {
                is.at(
                    src,
                    code,
                    format!(
                        "product {code:?} does not end with its variant {:?} and feature {:?}",
                        p.variant, p.feature
                    ),
                );
            }
            if let Some(m) = &p.memory
                && MemoryCode::parse(m).is_none()
            {
                is.at(src, m, format!("product {code:?}: memory code {m:?} is not like M4G or M08"));
            }
            if let Some(g) = &p.nand
                && NandGeometry::parse(g).is_none()
            {
                is.at(src, g, format!("product {code:?}: NAND geometry {g:?} is not like p4K_b256K"));
            }
            match (&p.chip_list, p.flash_chips.is_empty()) {
                (Some(k), _) if !CHIP_LISTS.contains(&k.as_str()) => {
                    is.at(src, k, format!("product {code:?}: chip_list {k:?} is not one of {}", CHIP_LISTS.join(", ")))
                }
                (None, false) => is.at(
                    src,
                    code,
                    format!("product {code:?} lists flash chips but not where the list comes from (chip_list = vendor, third-party or teardown)"),
                ),
                (Some(k), true) => is.at(src, k, format!("product {code:?} has chip_list {k:?} but no flash_chips")),
                _ => {}
            }
            for c in &p.flash_chips {
                if !chips.contains(c) {
                    is.at(
                        src,
                        c,
                        format!("product {code:?} names flash chip {c:?}, which flash-chips.toml does not list"),
                    );
                }
            }
            if p.source.trim().is_empty() {
                is.at(src, code, format!("product {code:?} has an empty source"));
            }
        }
        let mut new_id = |is: &mut Issues<'a>, id: &str, source: &str| {
            if !rule_ids.insert(id.to_string()) {
                is.dup(src, id, format!("duplicate rule id {id:?}"));
            }
            if source.trim().is_empty() {
                is.at(src, id, format!("rule {id:?} has an empty source"));
            }
        };
        let own = |code: &str| f.products.iter().any(|p| p.code == code);
        for s in &f.shared_images {
            new_id(is, &s.id, &s.source);
            for code in std::iter::once(&s.image).chain(&s.serves) {
                if !own(code) {
                    is.at(src, code, format!("shared image {:?} names product {code:?}, which is not in family {fam:?}: it can never match", s.id));
                }
            }
            if let Some(fl) = &s.flavour
                && !FLAVOURS.contains(&fl.as_str())
            {
                is.at(src, fl, format!("flavour {fl:?} is not one of {}", FLAVOURS.join(", ")));
            }
        }
        let pattern = |is: &mut Issues<'a>, id: &str, p: &str| -> Option<RevisionPattern> {
            match RevisionPattern::parse(p) {
                Ok(pat) if own(pat.product()) => Some(pat),
                Ok(pat) => {
                    is.at(src, p, format!("rule {id:?}: pattern {p:?} is for product {:?}, which is not in family {fam:?}: it can never match", pat.product()));
                    None
                }
                Err(e) => {
                    is.at(src, p, format!("rule {id:?}: {e}"));
                    None
                }
            }
        };
        let revision_of = |is: &mut Issues<'a>, id: &str, text: &str, of: Option<&str>| match Revision::parse(text) {
            Ok(r) if of.is_some_and(|p| p != r.product()) => is.at(
                src,
                text,
                format!(
                    "rule {id:?}: {text:?} is for product {:?}, not {:?}: it can never apply",
                    r.product(),
                    of.unwrap_or("")
                ),
            ),
            Ok(r) if !own(r.product()) => is.at(
                src,
                text,
                format!("rule {id:?}: product {:?} is not in family {fam:?}: it can never match", r.product()),
            ),
            Ok(_) => {}
            Err(e) => is.at(src, text, format!("rule {id:?}: {e}")),
        };
        for line in &f.streams {
            new_id(is, &line.id, &line.source);
            if line.products.is_empty() {
                is.at(src, &line.id, format!("stream line {:?} names no products: it can never apply", line.id));
            }
            for p in &line.products {
                if !own(p) {
                    is.at(
                        src,
                        p,
                        format!("stream line {:?} names product {p:?}, which is not in family {fam:?}", line.id),
                    );
                }
            }
            if line.order.len() < 2 {
                is.at(
                    src,
                    &line.id,
                    format!("stream line {:?} orders fewer than two streams: it can never apply", line.id),
                );
            }
            let mut seen_streams = HashSet::new();
            for st in &line.order {
                if !is_stream(st) {
                    is.at(
                        src,
                        st,
                        format!(
                            "stream line {:?}: {st:?} is not a stream like 20.2xx (first field, hundreds digit)",
                            line.id
                        ),
                    );
                } else if !seen_streams.insert(st.as_str()) {
                    is.dup(src, st, format!("stream line {:?} lists {st:?} twice", line.id));
                }
            }
        }
        for s in &f.steps {
            new_id(is, &s.id, &s.source);
            let (from, to) = (pattern(is, &s.id, &s.from), pattern(is, &s.id, &s.to));
            if let Some(floor) = &s.floor {
                revision_of(is, &s.id, floor, from.as_ref().map(RevisionPattern::product));
            }
            if s.hazard.as_deref().is_some_and(|h| h.trim().is_empty()) {
                is.at(src, &s.id, format!("step {:?} has an empty hazard", s.id));
            }
            if from.is_some() && from == to {
                is.at(
                    src,
                    &s.id,
                    format!("step {:?} goes from {:?} to the same pattern: it can never allow anything", s.id, s.from),
                );
            }
            for a in &s.allows {
                if !OVERRIDABLE_RULES.contains(&a.as_str()) {
                    is.at(
                        src,
                        a,
                        format!("step {:?} allows {a:?}; a step can only allow {}", s.id, OVERRIDABLE_RULES.join(", ")),
                    );
                }
            }
            if s.allows.is_empty() {
                is.at(src, &s.id, format!("step {:?} allows nothing", s.id));
            }
        }
        for k in &f.known_bad {
            new_id(is, &k.id, &k.source);
            if k.revisions.is_empty() {
                is.at(src, &k.id, format!("known-bad {:?} lists no revisions: it can never match", k.id));
            }
            for r in &k.revisions {
                pattern(is, &k.id, r);
            }
        }
        for t in f.anti_rollback.iter().chain(&f.signed) {
            if let Some(floor) = &t.floor {
                let product = Revision::parse(&t.since).ok().map(|r| r.product().to_string());
                revision_of(is, &t.id, floor, product.as_deref());
            }
            new_id(is, &t.id, &t.source);
            match Revision::parse(&t.since) {
                Ok(r) if own(r.product()) => {}
                Ok(r) => is.at(
                    src,
                    &t.since,
                    format!("rule {:?}: product {:?} is not in family {fam:?}: it can never match", t.id, r.product()),
                ),
                Err(e) => is.at(src, &t.since, format!("rule {:?}: {e}", t.id)),
            }
        }
    }
}
