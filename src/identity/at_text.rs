//! Picks the revision out of raw AT output as a user pastes it: echo, URCs, blank lines, `OK`.

use super::revision::find_release;

/// Why no revision could be taken from AT output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no revision in {input:?}: {reason}")]
pub struct AtTextError {
    /// The text as given (shortened).
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

/// Prefixes that some firmware puts before the revision, and the labels of fwupd's device list
/// (`fwupdmgr get-devices`: "Current version:", in German "Aktuelle Version:").
const ANSWER_PREFIXES: &[&str] =
    &["REVISION:", "+QGMR:", "+CGMR:", "+GMR:", "CURRENT VERSION:", "AKTUELLE VERSION:", "VERSION:"];

/// Drops what surrounds a revision in fwupd's output: the tree drawing before the label, and
/// the carrier configuration version fwupd appends (`EG25GGBR07A08M2G - 05010820`,
/// fwupd/fwupd pull request 4076).
fn strip_fwupd_decoration(line: &str) -> &str {
    let line = line.trim_start_matches(|c: char| c == '│' || c == '├' || c == '└' || c == '─' || c.is_whitespace());
    match line.rsplit_once(" - ") {
        Some((rev, carrier)) if !carrier.is_empty() && carrier.trim().bytes().all(|c| c.is_ascii_digit()) => {
            rev.trim_end()
        }
        _ => line,
    }
}

/// Known unsolicited result codes and status lines that are never the answer.
const NOISE: &[&str] = &["RDY", "APP RDY", "OK", "QUECTEL", "POWERED DOWN", "NORMAL POWER DOWN"];

/// Takes the revision from the text of an `AT+QGMR`, `AT+CGMR`, `AT+GMR` or `ATI` answer.
pub fn revision_from_at_text(raw: &str) -> Result<String, AtTextError> {
    let shown: String = raw.chars().take(200).collect();
    let err = |reason: &str| AtTextError { input: shown.clone(), reason: reason.to_string() };
    let mut answers = Vec::new();
    let mut tagged = Vec::new();
    for line in raw.split(['\r', '\n']).map(str::trim).map(strip_fwupd_decoration).filter(|l| !l.is_empty()) {
        let upper = line.to_ascii_uppercase();
        if upper == "ERROR" || upper.starts_with("+CME ERROR") || upper.starts_with("+CMEERROR") {
            return Err(err(&format!("the module answered {line:?}")));
        }
        if NOISE.contains(&upper.as_str()) {
            continue;
        }
        if let Some(p) = ANSWER_PREFIXES.iter().find(|p| upper.starts_with(*p)) {
            tagged.push(line[p.len()..].trim().to_string());
            continue;
        }
        let has_release = find_release(upper.as_bytes()).is_some();
        if (upper.starts_with("AT") || upper.starts_with('+')) && !has_release {
            continue; // an echoed command or a URC
        }
        answers.push((line.to_string(), has_release));
    }
    if let [one] = tagged.as_slice() {
        return Ok(one.clone());
    }
    if tagged.len() > 1 {
        return Err(err("it has several Revision lines"));
    }
    match answers.as_slice() {
        [] => Err(err("it has no answer line")),
        [(one, _)] => Ok(one.clone()),
        many => {
            let with: Vec<&String> = many.iter().filter(|(_, r)| *r).map(|(l, _)| l).collect();
            match with.as_slice() {
                [one] => Ok((*one).clone()),
                [] => Err(err("none of its lines looks like a revision (R<nn>A<nn>)")),
                _ => Err(err("several lines look like revisions")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_forms() {
        let cases = [
            ("EC25EFAR06A17M4G_20.200.20.200", "EC25EFAR06A17M4G_20.200.20.200"),
            ("AT+QGMR\r\r\nEG916QGLLGR01A03M04_01.001.01.001\r\n\r\nOK\r\n", "EG916QGLLGR01A03M04_01.001.01.001"),
            (
                "RDY\r\n+CPIN: READY\r\nAT+QGMR\r\n+QIND: PB DONE\r\nEC25EFAR06A17M4G_20.200.20.200\r\nOK",
                "EC25EFAR06A17M4G_20.200.20.200",
            ),
            ("ATI\r\r\nQuectel\r\nBG95-M3\r\nRevision: BG95M3LAR02A03\r\n\r\nOK\r\n", "BG95M3LAR02A03"),
            ("+CGMR: EC200UCNAAR03A03M08\r\nOK", "EC200UCNAAR03A03M08"),
            ("  LTE01R06A04_VOLTE_C_SDK_A \n", "LTE01R06A04_VOLTE_C_SDK_A"),
            ("│     Current version:    EM120RGLAPR02A07M4G_10.010.10.010", "EM120RGLAPR02A07M4G_10.010.10.010"),
            ("│     Aktuelle Version:   EM160RGLAPR02A10M4G_01.213.01.213", "EM160RGLAPR02A10M4G_01.213.01.213"),
            ("Version: EG25GGBR07A08M2G - 05010820", "EG25GGBR07A08M2G"),
        ];
        for (raw, want) in cases {
            assert_eq!(revision_from_at_text(raw).unwrap(), want, "{raw:?}");
        }
    }

    #[test]
    fn errors() {
        assert!(revision_from_at_text("AT+QGMR\r\nERROR\r\n").is_err());
        assert!(revision_from_at_text("+CME ERROR: 3").is_err());
        assert!(revision_from_at_text("\r\nOK\r\n").is_err());
        assert!(revision_from_at_text("EC25EFAR06A17M4G\nEC25EFAR08A01M4G").is_err());
    }
}
