//! `contents.xml` (Qualcomm build description; the elements `linux-msm/qdl:contents.c` reads)
//! and `update/partition_nand.xml`
//! (the streaming-download partition list). Both are read for what they list; contents.xml is a
//! file list, and a build id only when one of its values is a Quectel revision.

use std::collections::HashSet;

use super::xml::{Element, Tree};
use crate::identity::{ImageKind, ImageName};

/// A file contents.xml lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedFile {
    /// `file_path` joined with `file_name`, `/`-separated, as written (relative to the build).
    pub path: String,
    /// `file_name`.
    pub name: String,
}

/// What contents.xml says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Contents {
    /// Files named by `<file_name>` elements, with their `<file_path>`.
    pub files: Vec<ListedFile>,
    /// Values that are Quectel revisions (a build name or id), in document order.
    pub revisions: Vec<String>,
}

/// Parses contents.xml.
pub fn parse_contents(text: &str) -> Result<Contents, String> {
    let tree = Tree::parse(text)?;
    let mut out = Contents::default();
    let mut seen = HashSet::new();
    for (i, el) in tree.elements.iter().enumerate() {
        if let Some(name) = tree.child_text(i, "file_name") {
            let joined = match tree.child_text(i, "file_path") {
                Some(d) => format!("{}/{name}", d.replace('\\', "/").trim_end_matches('/')),
                None => name.to_string(),
            };
            out.files.push(ListedFile { path: joined.trim_start_matches("./").to_string(), name: name.to_string() });
        }
        if let Some(rev) = revision_in(el)
            && seen.insert(rev.clone())
        {
            out.revisions.push(rev);
        }
    }
    Ok(out)
}

fn revision_in(el: &Element) -> Option<String> {
    let t = el.text.trim();
    if t.is_empty() || t.len() > 128 || t.contains(['/', '\\', ' ']) {
        return None;
    }
    match ImageName::parse(t).ok()?.kind {
        ImageKind::Build(r) => Some(r.to_string()),
        _ => None,
    }
}

/// One partition of `partition_nand.xml`: its name (`sbl`, from `0:SBL`) and image file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NandPartition {
    /// Partition name, lower case, without the `0:` prefix.
    pub name: String,
    /// The image written there (`sbl1.mbn`), if any.
    pub image: Option<String>,
}

/// Parses `partition_nand.xml`: `<partition>` elements with `<name>` and `<img_name>` children.
pub fn parse_partition_nand(text: &str) -> Result<Vec<NandPartition>, String> {
    let tree = Tree::parse(text)?;
    let mut out = Vec::new();
    for (i, el) in tree.elements.iter().enumerate() {
        if !el.name.eq_ignore_ascii_case("partition") {
            continue;
        }
        let Some(name) = tree.child_text(i, "name") else {
            continue;
        };
        let name = name.rsplit(':').next().unwrap_or(name).trim().to_ascii_lowercase();
        let image = tree.child_text(i, "img_name").map(str::to_string);
        out.push(NandPartition { name, image });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_contents() {
        let text = r#"<contents><product_flavors><pf><name>asic</name></pf></product_flavors>
          <builds_flat><build><name>EC25EFAR06A17M4G_20.200.20.200</name>
            <download_file><file_name>sbl1.mbn</file_name><file_path>update/</file_path></download_file>
            <partition_file><file_name>partition_nand.xml</file_name><file_path>update\</file_path></partition_file>
          </build></builds_flat></contents>"#;
        let c = parse_contents(text).unwrap();
        assert_eq!(c.files.len(), 2);
        assert_eq!(c.files[0].path, "update/sbl1.mbn");
        assert_eq!(c.files[1].path, "update/partition_nand.xml");
        assert_eq!(c.revisions, vec!["EC25EFAR06A17M4G_20.200.20.200".to_string()]);
    }

    #[test]
    fn large_documents_are_read_in_one_pass() {
        // 3 elements per file: 60,003 elements. Finding children by scanning every element for
        // every element would take 3.6e9 steps; with the index it is linear.
        let n = 20_000;
        let mut text = String::from("<contents><builds_flat><build>");
        for i in 0..n {
            text.push_str(&format!(
                "<download_file><file_name>f{i}.mbn</file_name><file_path>update/d{i}</file_path></download_file>"
            ));
        }
        text.push_str("<name>EC25EFAR06A17M4G_20.200.20.200</name></build></builds_flat></contents>");
        let c = parse_contents(&text).unwrap();
        assert_eq!(c.files.len(), n);
        assert_eq!(c.files[0].path, "update/d0/f0.mbn");
        assert_eq!(
            c.files[n - 1],
            ListedFile { path: format!("update/d{}/f{}.mbn", n - 1, n - 1), name: format!("f{}.mbn", n - 1) }
        );
        assert_eq!(c.revisions, vec!["EC25EFAR06A17M4G_20.200.20.200".to_string()]);

        let mut text = String::from("<nandboot><partitions>");
        for i in 0..n {
            text.push_str(&format!("<partition><name>0:P{i}</name><img_name>p{i}.mbn</img_name></partition>"));
        }
        text.push_str("</partitions></nandboot>");
        let p = parse_partition_nand(&text).unwrap();
        assert_eq!(p.len(), n);
        assert_eq!(p[n - 1], NandPartition { name: format!("p{}", n - 1), image: Some(format!("p{}.mbn", n - 1)) });
    }

    #[test]
    fn reads_partition_nand() {
        let text = "<nandboot><partitions><partition><name>0:SBL</name><img_name>sbl1.mbn</img_name></partition>\
                    <partition><name>0:EFS2</name></partition></partitions></nandboot>";
        let p = parse_partition_nand(text).unwrap();
        assert_eq!(p[0], NandPartition { name: "sbl".into(), image: Some("sbl1.mbn".into()) });
        assert_eq!(p[1].image, None);
    }
}
