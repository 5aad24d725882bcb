//! Where things are in a Quectel Qualcomm package (a real tree:
//! `defencore/tech_documentation:002-quectel-ec25-firmware-flashing.md`): a top folder named like the
//! revision, `update/` with the images and `update/firehose/` with the programmer, the
//! rawprogram and patch XML and the MIBIB.

use crate::image::Member;

/// Programmer names in the order QFirehose searches `update/firehose`
/// (`nippynetworks/qfirehose:qfirehose.c`, `find_firehose_mbn`).
pub const PROGRAMMER_PATTERNS: &[&str] = &[
    "prog_nand_firehose_*.mbn",
    "prog_emmc_firehose_*.mbn",
    "prog_firehose_*.mbn",
    "prog_firehose_*.elf",
    "firehose-prog*.mbn",
    "prog_*.mbn",
    "xbl_s_devprg_ns_SA52X*.melf",
];

/// Name fragments of programmers (and streaming loaders) and the platform they name.
const CHIP_HINTS: &[(&str, &str)] = &[
    ("9x07", "MDM9x07"),
    ("9x55", "MDM9x55"),
    ("sdx24", "SDX24"),
    ("sdx55", "SDX55"),
    ("sdx6x", "SDX6x"),
    ("sdx7x", "SDX7x"),
    ("sdx35", "SDX35"),
];

/// The folders of one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The package root inside the storage: `EC25EFAR06A17M4G_20.200.20.200`, or empty when
    /// the members sit at the top.
    pub root: String,
    /// `<root>/update`.
    pub update: String,
    /// `<root>/update/firehose`.
    pub firehose: String,
}

impl Layout {
    /// `<root>/<rest>`.
    pub fn join(&self, rest: &str) -> String {
        if self.root.is_empty() { rest.to_string() } else { format!("{}/{rest}", self.root) }
    }

    /// The member path relative to the root.
    pub fn relative<'a>(&self, path: &'a str) -> &'a str {
        if self.root.is_empty() {
            return path;
        }
        path.strip_prefix(&self.root).and_then(|p| p.strip_prefix('/')).unwrap_or(path)
    }

    /// Names of the direct members of `update/firehose/`.
    pub fn firehose_files<'m>(&self, members: &'m [Member]) -> Vec<&'m str> {
        let prefix = format!("{}/", self.firehose);
        members.iter().filter_map(|m| m.path.strip_prefix(&prefix)).filter(|n| !n.contains('/')).collect()
    }
}

/// Finds the package layout: the folder holding `update/` with a `firehose/` folder, or with
/// streaming loaders (`NPRG*.mbn`). `Ok(None)` when there is none; `Err` when the storage holds
/// two packages (two roots).
pub fn find_layout(members: &[Member]) -> Result<Option<Layout>, String> {
    let mut roots: Vec<String> = Vec::new();
    for m in members {
        let parts: Vec<&str> = m.path.split('/').collect();
        let Some(at) = parts.iter().position(|p| p.eq_ignore_ascii_case("update")) else {
            continue;
        };
        let rest = &parts[at + 1..];
        let firehose = rest.len() == 2 && rest[0].eq_ignore_ascii_case("firehose");
        let loader = rest.len() == 1 && rest[0].to_ascii_lowercase().contains("nprg");
        if firehose || loader {
            let root = parts[..at].join("/");
            if !roots.contains(&root) {
                roots.push(root);
            }
        }
    }
    match roots.as_slice() {
        [] => Ok(None),
        [root] => {
            let update_name = members
                .iter()
                .find_map(|m| {
                    let rel = if root.is_empty() {
                        m.path.as_str()
                    } else {
                        m.path.strip_prefix(root.as_str())?.strip_prefix('/')?
                    };
                    rel.split('/').next().filter(|p| p.eq_ignore_ascii_case("update"))
                })
                .unwrap_or("update");
            let update = if root.is_empty() { update_name.to_string() } else { format!("{root}/{update_name}") };
            let firehose_name = members
                .iter()
                .find_map(|m| {
                    m.path
                        .strip_prefix(&format!("{update}/"))?
                        .split('/')
                        .next()
                        .filter(|p| p.eq_ignore_ascii_case("firehose"))
                        .map(str::to_string)
                })
                .unwrap_or_else(|| "firehose".to_string());
            let firehose = format!("{update}/{firehose_name}");
            Ok(Some(Layout { root: root.clone(), update, firehose }))
        }
        many => Err(format!("it holds {} packages: {}", many.len(), many.join(", "))),
    }
}

/// Whether `name` matches `pattern`, which has at most one `*` (ASCII case ignored).
pub fn matches(pattern: &str, name: &str) -> bool {
    let (p, n) = (pattern.to_ascii_lowercase(), name.to_ascii_lowercase());
    match p.split_once('*') {
        Some((head, tail)) => n.len() >= head.len() + tail.len() && n.starts_with(head) && n.ends_with(tail),
        None => p == n,
    }
}

/// The programmer among `names` (the files of `update/firehose/`), by the search order.
pub fn find_programmer<'a>(names: &[&'a str]) -> Option<&'a str> {
    PROGRAMMER_PATTERNS.iter().find_map(|p| {
        let mut hits: Vec<&str> = names.iter().copied().filter(|n| matches(p, n)).collect();
        hits.sort_unstable();
        hits.first().copied()
    })
}

/// The platform a programmer or loader name gives: `prog_nand_firehose_9x07.mbn` -> `MDM9x07`.
pub fn chip_hint(name: &str) -> Option<&'static str> {
    let lower = name.to_ascii_lowercase();
    CHIP_HINTS.iter().find(|(frag, _)| lower.contains(frag)).map(|(_, chip)| *chip)
}

/// Whether a firehose file is a rawprogram XML.
pub fn is_rawprogram(name: &str) -> bool {
    matches("rawprogram*.xml", name) || matches("firehose-rawprogram*.xml", name)
}

/// Whether a firehose file is a patch XML.
pub fn is_patch(name: &str) -> bool {
    matches("patch*.xml", name)
}

/// Whether a firehose file is the MIBIB image.
pub fn is_mibib(name: &str) -> bool {
    matches("partition_complete_*.mbn", name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(paths: &[&str]) -> Vec<Member> {
        paths.iter().map(|p| Member { path: p.to_string(), size: 1 }).collect()
    }

    #[test]
    fn finds_root() {
        let m =
            members(&["EC25X/md5.txt", "EC25X/update/sbl1.mbn", "EC25X/update/firehose/prog_nand_firehose_9x07.mbn"]);
        let l = find_layout(&m).unwrap().unwrap();
        assert_eq!(l.root, "EC25X");
        assert_eq!(l.firehose, "EC25X/update/firehose");
        assert_eq!(l.firehose_files(&m), vec!["prog_nand_firehose_9x07.mbn"]);
        let top = members(&["update/firehose/rawprogram_nand_p4K_b256K_update.xml"]);
        assert_eq!(find_layout(&top).unwrap().unwrap().root, "");
        assert!(find_layout(&members(&["a/update/firehose/x", "b/update/firehose/y"])).is_err());
        assert!(find_layout(&members(&["a/readme.txt"])).unwrap().is_none());
    }

    #[test]
    fn programmer_order_and_chip() {
        let names = ["prog_firehose_sdx55.mbn", "prog_nand_firehose_9x07.mbn", "patch_p4K_b256K.xml"];
        assert_eq!(find_programmer(&names), Some("prog_nand_firehose_9x07.mbn"));
        assert_eq!(chip_hint("prog_nand_firehose_9x07.mbn"), Some("MDM9x07"));
        assert_eq!(chip_hint("prog_firehose_sdx6x.elf"), Some("SDX6x"));
        assert_eq!(find_programmer(&["readme.txt"]), None);
        assert!(is_rawprogram("rawprogram_nand_p4K_b256K_update.xml"));
        assert!(!matches("prog_*.mbn", "prog.mbn"));
    }
}
