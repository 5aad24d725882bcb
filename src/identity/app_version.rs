//! The app version suffix of a revision (`20.200.20.200`, `01.001.02`, `A0.004.A0.004`,
//! `01.001V03.01.001V03`, and the short `01.004` fwupd reports for EM05-G) and its stream
//! (`20.2xx`).

use std::cmp::Ordering;
use std::fmt;

/// An app version: two to four dot-separated fields, `MM.mmm.AA.aaa` (modem, AP).
///
/// A field is two or three letters or digits, optionally followed by a `V<nn>` test-build marker.
/// The two-field form (`EM05GFAR07A03M1G_01.004`) is the short version fwupd shows for USB data
/// cards (fwupd/fwupd pull request 4227); it names the modem part only.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AppVersion {
    fields: Vec<String>,
}

impl AppVersion {
    /// Parses an app version; `None` when the text is not one.
    pub fn parse(text: &str) -> Option<AppVersion> {
        let fields: Vec<&str> = text.split('.').collect();
        if !(2..=4).contains(&fields.len()) || !fields.iter().all(|f| valid_field(f)) {
            return None;
        }
        // The first field is two characters and the second has three digits, as in every real string.
        if fields[0].len() != 2 || !fields[1].starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        let core = |f: &str| f.split('V').next().unwrap_or("").len();
        if core(fields[1]) != 3 {
            return None;
        }
        Some(AppVersion { fields: fields.iter().map(|f| f.to_string()).collect() })
    }

    /// The fields as written.
    pub fn fields(&self) -> &[String] {
        &self.fields
    }

    /// The stream: the first field and the hundreds digit of the second, e.g. `20.2xx`.
    ///
    /// Quectel support: "EC25EFAR06A17M4G_20.200.20.200 can only upgrade to version like
    /// EC25EFAR06AxxM4G_20.2xx.20.2xx".
    pub fn stream(&self) -> String {
        let hundreds = self.fields[1].chars().next().unwrap_or('0');
        format!("{}.{}xx", self.fields[0], hundreds)
    }

    /// Compares the fields both versions carry, in order; a short form (`01.004`) equals the full
    /// form it abbreviates (`01.004.01.004`). Use this to order builds; [`Ord`] stays total.
    pub fn cmp_shared(&self, other: &AppVersion) -> Ordering {
        for (a, b) in self.fields.iter().zip(&other.fields) {
            match field_cmp(a, b) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        Ordering::Equal
    }

    /// Whether the two name the same app version on every field both carry.
    pub fn same_as(&self, other: &AppVersion) -> bool {
        self.cmp_shared(other) == Ordering::Equal
    }

    /// ModemManager's "abnormal" marker: a four-field version whose AP part reads `00.000`.
    pub fn is_abnormal(&self) -> bool {
        self.fields.len() == 4 && self.fields[2] == "00" && self.fields[3] == "000"
    }
}

fn valid_field(f: &str) -> bool {
    let (core, test) = match f.find('V') {
        Some(i) => (&f[..i], Some(&f[i + 1..])),
        None => (f, None),
    };
    let core_ok = (2..=3).contains(&core.len()) && core.chars().all(|c| c.is_ascii_alphanumeric());
    let test_ok = test.is_none_or(|t| t.len() == 2 && t.chars().all(|c| c.is_ascii_digit()));
    core_ok && test_ok
}

/// Compares two fields: numbers numerically, anything else as text, shorter first.
fn field_cmp(a: &str, b: &str) -> Ordering {
    match (a.parse::<u32>(), b.parse::<u32>()) {
        (Ok(x), Ok(y)) => x.cmp(&y).then_with(|| a.cmp(b)),
        _ => a.len().cmp(&b.len()).then_with(|| a.cmp(b)),
    }
}

impl Ord for AppVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.fields.iter().zip(&other.fields) {
            match field_cmp(a, b) {
                Ordering::Equal => continue,
                o => return o,
            }
        }
        self.fields.len().cmp(&other.fields.len())
    }
}

impl PartialOrd for AppVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for AppVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fields.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_forms_parse() {
        for s in ["20.200.20.200", "01.001.02", "A0.004.A0.004", "01.001V03.01.001V03", "30.005.30.005", "01.004"] {
            let v = AppVersion::parse(s).unwrap_or_else(|| panic!("{s}"));
            assert_eq!(v.to_string(), s);
        }
    }

    #[test]
    fn streams() {
        assert_eq!(AppVersion::parse("20.200.20.200").unwrap().stream(), "20.2xx");
        assert_eq!(AppVersion::parse("01.001.01.001").unwrap().stream(), "01.0xx");
        assert_eq!(AppVersion::parse("01.204.01.204").unwrap().stream(), "01.2xx");
        assert_eq!(AppVersion::parse("A0.300.A0.300").unwrap().stream(), "A0.3xx");
        assert_eq!(AppVersion::parse("01.001V03.01.001V03").unwrap().stream(), "01.0xx");
    }

    #[test]
    fn rejects_non_versions() {
        for s in ["1.0.8.12", "20.2", "1.004", "OCPU", "20.200.20.200.1", "20.2000.20.200", "", "20..20.200"] {
            assert!(AppVersion::parse(s).is_none(), "{s}");
        }
    }

    #[test]
    fn abnormal_marker() {
        assert!(AppVersion::parse("01.016.00.000").unwrap().is_abnormal());
        assert!(!AppVersion::parse("01.016.01.016").unwrap().is_abnormal());
    }

    #[test]
    fn short_form_equals_the_full_form_on_shared_fields() {
        let short = AppVersion::parse("01.004").unwrap();
        let full = AppVersion::parse("01.004.01.004").unwrap();
        assert!(short.same_as(&full));
        assert_ne!(short, full);
        assert_eq!(short.cmp_shared(&AppVersion::parse("01.005.01.005").unwrap()), Ordering::Less);
        assert_eq!(short.stream(), "01.0xx");
    }

    #[test]
    fn ordering_is_numeric() {
        let a = AppVersion::parse("20.200.20.200").unwrap();
        let b = AppVersion::parse("20.201.20.201").unwrap();
        assert!(a < b);
    }
}
