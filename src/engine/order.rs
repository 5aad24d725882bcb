//! Which of two builds of one product line is newer, judged on the fields both carry, with the
//! fields only one side names reported rather than assumed equal.
//!
//! Fields in order of weight: baseline, minor, `V<nn>` infix, app version. Where a family
//! declares a stream line (`[[stream]]`), two app versions of different streams on that line
//! compare by their place on it; otherwise app versions compare field by field on the fields
//! both carry ([`AppVersion::cmp_shared`]).

use std::cmp::Ordering;

use crate::identity::Revision;
use crate::rules::model::{FamilyFile, StreamLine, Threshold};

/// The comparison of a candidate with a reference build.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Order {
    /// `candidate.cmp(reference)` where the fields both carry decide it; `None` when every field
    /// both carry is equal and a field only one side names could decide it.
    pub ord: Option<Ordering>,
    /// What decided: `baseline`, `minor`, `V<nn> infix`, `app version`, `stream line <id>`.
    pub by: Option<String>,
    /// Sentences naming the fields only one side carries ("the image names no app version").
    pub one_sided: Vec<String>,
}

impl Order {
    /// The one-sided fields as a clause for messages: ` (the image names no app version)`.
    pub fn caveat(&self) -> String {
        if self.one_sided.is_empty() { String::new() } else { format!(" ({})", self.one_sided.join("; ")) }
    }
}

/// The stream line of `family` that covers `product` and both streams, if any.
pub(crate) fn line_for<'a>(family: &'a FamilyFile, product: &str, a: &str, b: &str) -> Option<&'a StreamLine> {
    family.streams.iter().find(|l| {
        l.products.iter().any(|p| p == product) && l.order.iter().any(|s| s == a) && l.order.iter().any(|s| s == b)
    })
}

/// Compares `candidate` with `reference` (same product line). `names` says how to call the two
/// sides in the sentences ("the image", "the module").
pub(crate) fn order(family: &FamilyFile, candidate: &Revision, reference: &Revision, names: (&str, &str)) -> Order {
    let mut one_sided = Vec::new();
    let mut decided: Option<(Ordering, String)> = None;
    let mut decide = |o: Ordering, by: String| {
        if decided.is_none() && o != Ordering::Equal {
            decided = Some((o, by));
        }
    };
    decide(candidate.baseline().cmp(&reference.baseline()), "baseline".into());
    decide(candidate.minor().cmp(&reference.minor()), "minor".into());
    match (candidate.infix(), reference.infix()) {
        (Some(a), Some(b)) => decide(a.cmp(&b), "V<nn> infix".into()),
        (None, Some(v)) => one_sided.push(format!("{} names no V<nn> infix, {} has V{v:02}", names.0, names.1)),
        (Some(v), None) => one_sided.push(format!("{} has V{v:02}, {} names no V<nn> infix", names.0, names.1)),
        (None, None) => {}
    }
    match (candidate.app_version(), reference.app_version()) {
        (Some(a), Some(b)) => {
            let (sa, sb) = (a.stream(), b.stream());
            match line_for(family, candidate.product(), &sa, &sb).filter(|_| sa != sb) {
                Some(line) => {
                    let pos = |s: &str| line.order.iter().position(|x| x == s);
                    decide(pos(&sa).cmp(&pos(&sb)), format!("stream line {}", line.id));
                }
                None => decide(a.cmp_shared(b), "app version".into()),
            }
        }
        (None, Some(v)) => one_sided.push(format!("{} names no app version, {} has {v}", names.0, names.1)),
        (Some(v), None) => one_sided.push(format!("{} has app version {v}, {} names none", names.0, names.1)),
        (None, None) => {}
    }
    match decided {
        Some((o, by)) => Order { ord: Some(o), by: Some(by), one_sided },
        None if one_sided.is_empty() => Order { ord: Some(Ordering::Equal), by: None, one_sided },
        None => Order { ord: None, by: None, one_sided },
    }
}

/// Whether a build is at or above a threshold revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reach {
    /// It is.
    Yes,
    /// The fields both carry are equal and one side lacks a deciding field: it may be.
    Maybe,
    /// It is not.
    No,
}

/// Where `r` stands against the threshold revision `since` of the same product. A threshold
/// that names no app version (`RM520NGLAAR01A07M4G`) covers every app version of its minor.
pub(crate) fn reach(family: &FamilyFile, r: &Revision, since: &Revision) -> Reach {
    if r.product() != since.product() {
        return Reach::No;
    }
    if since.app_version().is_none() && r.baseline() == since.baseline() && r.minor() == since.minor() {
        return Reach::Yes;
    }
    match order(family, r, since, ("the build", "the threshold")).ord {
        Some(Ordering::Less) => Reach::No,
        Some(_) => Reach::Yes,
        None => Reach::Maybe,
    }
}

/// The first threshold of `r`'s product that `r` reaches, and how surely.
pub(crate) fn threshold_reached<'a>(
    family: &FamilyFile,
    thresholds: &'a [Threshold],
    r: &Revision,
    parse: impl Fn(&str) -> Option<Revision>,
) -> Option<(&'a Threshold, Reach)> {
    let mut maybe = None;
    for t in thresholds {
        let Some(since) = parse(&t.since) else { continue };
        match reach(family, r, &since) {
            Reach::Yes => return Some((t, Reach::Yes)),
            Reach::Maybe if maybe.is_none() => maybe = Some((t, Reach::Maybe)),
            _ => {}
        }
    }
    maybe
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::model::{Family, FamilyFile, StreamLine};

    fn family(lines: Vec<StreamLine>) -> FamilyFile {
        FamilyFile {
            family: Family {
                id: "t".into(),
                name: "T".into(),
                platform: "qualcomm".into(),
                chipset: "x".into(),
                models: vec!["EM120R".into()],
                anti_rollback: false,
                flash_id_distinguishes: false,
                source: "https://example.org/".into(),
            },
            products: Vec::new(),
            shared_images: Vec::new(),
            steps: Vec::new(),
            known_bad: Vec::new(),
            anti_rollback: Vec::new(),
            signed: Vec::new(),
            streams: lines,
        }
    }

    fn r(s: &str) -> Revision {
        Revision::parse(s).unwrap()
    }

    #[test]
    fn a_lower_minor_decides_even_without_an_app_version() {
        let o = order(&family(vec![]), &r("EC25EUGAR06A04M4G"), &r("EC25EUGAR06A05M4G_01.002.01.002"), ("a", "b"));
        assert_eq!(o.ord, Some(Ordering::Less));
        assert_eq!(o.by.as_deref(), Some("minor"));
        assert_eq!(o.one_sided.len(), 1, "{o:?}");
    }

    #[test]
    fn equal_fields_and_a_missing_app_version_leave_the_order_open() {
        let o = order(&family(vec![]), &r("EC25EUGAR06A05M4G"), &r("EC25EUGAR06A05M4G_01.002.01.002"), ("a", "b"));
        assert_eq!(o.ord, None);
        let same = order(&family(vec![]), &r("EC25EUGAR06A05M4G"), &r("EC25EUGAR06A05M4G"), ("a", "b"));
        assert_eq!(same.ord, Some(Ordering::Equal));
    }

    #[test]
    fn a_stream_line_orders_streams() {
        let line = StreamLine {
            id: "em120r-lvfs".into(),
            products: vec!["EM120RGLAP".into()],
            order: vec!["10.0xx".into(), "16.0xx".into(), "20.0xx".into(), "25.0xx".into()],
            note: None,
            source: "https://example.org/".into(),
        };
        let f = family(vec![line]);
        let up =
            order(&f, &r("EM120RGLAPR02A07M4G_20.020.20.020"), &r("EM120RGLAPR02A07M4G_10.010.10.010"), ("a", "b"));
        assert_eq!(up.ord, Some(Ordering::Greater));
        assert_eq!(up.by.as_deref(), Some("stream line em120r-lvfs"));
        let down =
            order(&f, &r("EM120RGLAPR02A07M4G_16.016.16.016"), &r("EM120RGLAPR02A07M4G_25.025.25.025"), ("a", "b"));
        assert_eq!(down.ord, Some(Ordering::Less));
    }

    #[test]
    fn thresholds_without_an_app_version_cover_their_minor() {
        let f = family(vec![]);
        assert_eq!(reach(&f, &r("RM520NGLAAR01A07M4G_01.201.01.201"), &r("RM520NGLAAR01A07M4G")), Reach::Yes);
        assert_eq!(reach(&f, &r("RM520NGLAAR01A06M4G_01.200.01.200"), &r("RM520NGLAAR01A07M4G")), Reach::No);
        assert_eq!(reach(&f, &r("EG25GGBR07A08M2G"), &r("EG25GGBR07A08M2G_30.200.30.200")), Reach::Maybe);
        assert_eq!(reach(&f, &r("EG25GGBR07A08M2G_30.007.30.007"), &r("EG25GGBR07A08M2G_30.200.30.200")), Reach::No);
    }
}
