//! AT framing and the response parser: a pure function from the bytes received after a command to
//! what they mean (echo, URCs, information lines, final result).
//!
//! The parser never fails and never panics: whatever arrives, it says what it could recognise, how
//! many bytes were noise, and whether a line was too long. The session decides what is an error.

use serde::Serialize;

/// The longest line the parser keeps whole, in bytes; longer lines are cut and flagged.
pub const MAX_LINE: usize = 512;

/// Unsolicited result codes that carry no `+NAME:` prefix.
const BARE_URCS: &[&str] = &["RDY", "APP RDY", "POWERED DOWN", "NORMAL POWER DOWN", "SMS DONE", "PB DONE"];

/// The final result code that ends an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FinalResult {
    /// `OK`.
    Ok,
    /// `ERROR`.
    Error,
    /// `+CME ERROR: n` (also the mangled `+CMEERROR:n`): `code` when numeric, else `text`.
    CmeError {
        /// The numeric code, when the module gave one.
        code: Option<u32>,
        /// The text after the colon, as given.
        text: String,
    },
    /// `+CMS ERROR: n`.
    CmsError {
        /// The numeric code, when the module gave one.
        code: Option<u32>,
        /// The text after the colon, as given.
        text: String,
    },
}

impl FinalResult {
    /// Whether the command succeeded.
    pub fn is_ok(&self) -> bool {
        matches!(self, FinalResult::Ok)
    }
}

impl std::fmt::Display for FinalResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FinalResult::Ok => f.write_str("OK"),
            FinalResult::Error => f.write_str("ERROR"),
            FinalResult::CmeError { text, .. } => write!(f, "+CME ERROR: {text}"),
            FinalResult::CmsError { text, .. } => write!(f, "+CMS ERROR: {text}"),
        }
    }
}

/// What the bytes received after one command contain, so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedResponse {
    /// Whether the module echoed the command.
    pub echo: bool,
    /// The information lines of the answer, trimmed, without echo, URCs and the final result.
    pub lines: Vec<String>,
    /// Unsolicited result codes seen before, inside or after the answer.
    pub urcs: Vec<String>,
    /// Lines that look like the echo of another command (left over from an earlier exchange).
    pub stray: Vec<String>,
    /// Every non-empty line in arrival order, non-printable bytes shown as `\xNN`.
    pub transcript: Vec<String>,
    /// The final result, once it has arrived.
    pub result: Option<FinalResult>,
    /// How many bytes belong to this answer: through the final result's line end, or through the
    /// last complete line when the answer is not finished. Bytes after it belong to what follows.
    pub consumed: usize,
    /// Length of an unterminated line at the end of the input.
    pub partial: usize,
    /// Bytes that are neither printable ASCII nor line framing.
    pub noise: usize,
    /// Whether some line was longer than [`MAX_LINE`].
    pub overlong: bool,
}

/// The name a command's answers carry: `+QSECBOOT` for `AT+QSECBOOT="status"`, `I` for `ATI`.
pub fn command_name(command: &str) -> String {
    let body = command.trim();
    let body = match body.get(..2) {
        Some(at) if at.eq_ignore_ascii_case("AT") => &body[2..],
        _ => body,
    };
    body.split(['=', '?']).next().unwrap_or("").trim().to_ascii_uppercase()
}

/// Parses what arrived after `command` was sent. `buf` holds every byte received since then.
///
/// Lines end at `\r` or `\n` (so `ATI\r\r\n` is the echo followed by an empty line); empty lines
/// are skipped. A line equal to the command (ignoring case) is its echo. `OK`, `ERROR`,
/// `+CME ERROR: n` and `+CMS ERROR: n` end the answer, spaces inside the error prefix optional. A
/// `+NAME: ...` line whose name is not the command's, and the bare codes `RDY`, `APP RDY`, ... are
/// URCs wherever they occur. Everything else is an information line.
pub fn parse_response(buf: &[u8], command: &str) -> ParsedResponse {
    let name = command_name(command);
    let command = command.trim();
    let mut out = ParsedResponse::default();
    let mut start = 0;
    let mut i = 0;
    while i < buf.len() {
        let b = buf[i];
        if b != b'\r' && b != b'\n' {
            i += 1;
            continue;
        }
        let raw = &buf[start..i];
        i += 1;
        // A `\r\n` pair ends one line, not two.
        if b == b'\r' && buf.get(i) == Some(&b'\n') {
            i += 1;
        }
        start = i;
        out.consumed = i;
        if classify_line(raw, command, &name, &mut out) {
            return out;
        }
    }
    out.partial = buf.len() - start;
    if out.partial > MAX_LINE {
        out.overlong = true;
    }
    out.noise += buf[start..].iter().filter(|b| !is_text(**b)).count();
    out
}

/// Files one complete line. Returns true when it was the final result.
fn classify_line(raw: &[u8], command: &str, name: &str, out: &mut ParsedResponse) -> bool {
    let (text, noise) = decode(raw, &mut out.overlong);
    out.noise += noise;
    let line = text.trim();
    if line.is_empty() {
        return false;
    }
    out.transcript.push(line.to_string());
    if noise > 0 {
        // A line with noise in it is never an answer; keep it in the transcript only.
        return false;
    }
    if !out.echo && !command.is_empty() && line.eq_ignore_ascii_case(command) {
        out.echo = true;
        return false;
    }
    if let Some(result) = final_result(line) {
        out.result = Some(result);
        return true;
    }
    if is_urc(line, name) {
        out.urcs.push(line.to_string());
    } else if looks_like_echo(line) {
        out.stray.push(line.to_string());
    } else {
        out.lines.push(line.to_string());
    }
    false
}

/// Printable ASCII or a tab.
fn is_text(b: u8) -> bool {
    b == b'\t' || (0x20..0x7f).contains(&b)
}

/// Decodes a line: printable ASCII as is, anything else as `\xNN`. Returns the text and the count
/// of noise bytes; cuts lines longer than [`MAX_LINE`].
fn decode(raw: &[u8], overlong: &mut bool) -> (String, usize) {
    let noise = raw.iter().filter(|b| !is_text(**b)).count();
    let kept = if raw.len() > MAX_LINE {
        *overlong = true;
        &raw[..MAX_LINE]
    } else {
        raw
    };
    let mut text = String::with_capacity(kept.len());
    for &b in kept {
        if is_text(b) {
            text.push(char::from(b));
        } else {
            text.push_str(&format!("\\x{b:02X}"));
        }
    }
    (text, noise)
}

/// Recognises a final result code, leniently: `+CMEERROR:0` and `+cme error: 3` count.
pub fn final_result(line: &str) -> Option<FinalResult> {
    let upper = line.trim().to_ascii_uppercase();
    match upper.as_str() {
        "OK" => return Some(FinalResult::Ok),
        "ERROR" => return Some(FinalResult::Error),
        _ => {}
    }
    let squeezed: String = upper.chars().filter(|c| *c != ' ').collect();
    for (prefix, cme) in [("+CMEERROR", true), ("+CMSERROR", false)] {
        let Some(rest) = squeezed.strip_prefix(prefix) else {
            continue;
        };
        if !(rest.is_empty() || rest.starts_with(':')) {
            continue;
        }
        // Keep the module's own spacing in the text part.
        let text = match line.find(':') {
            Some(i) => line[i + 1..].trim().to_string(),
            None => String::new(),
        };
        let code = text.parse::<u32>().ok();
        return Some(if cme { FinalResult::CmeError { code, text } } else { FinalResult::CmsError { code, text } });
    }
    None
}

/// Whether a line is an unsolicited result code rather than part of the answer to the command
/// whose name is `name`.
pub fn is_urc(line: &str, name: &str) -> bool {
    let upper = line.trim().to_ascii_uppercase();
    if BARE_URCS.contains(&upper.as_str()) {
        return true;
    }
    if !upper.starts_with('+') {
        return false;
    }
    let tag = upper.split(':').next().unwrap_or("").trim();
    // `+QGMR: ...` answers `AT+QGMR`; `+CPIN: READY` during `ATI` is a URC.
    tag != name
}

/// Whether a line looks like an echoed AT command (`AT`, `AT+...`, `ATI`, `ATE0`, ...).
fn looks_like_echo(line: &str) -> bool {
    let upper = line.to_ascii_uppercase();
    let Some(rest) = upper.strip_prefix("AT") else {
        return false;
    };
    rest.is_empty() || rest.starts_with(['+', '&', '^', '$', 'E', 'I', 'V', 'Q', 'Z'])
}

/// Strips an optional `+NAME:` prefix (`+CGMR: EC200U...`) and surrounding quotes and spaces.
pub fn strip_answer_prefix<'a>(line: &'a str, name: &str) -> &'a str {
    let trimmed = line.trim();
    let upper = trimmed.to_ascii_uppercase();
    let with_colon = format!("{}:", name.to_ascii_uppercase());
    let rest = if upper.starts_with(&with_colon) { &trimmed[with_colon.len()..] } else { trimmed };
    rest.trim().trim_matches('"').trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str, cmd: &str) -> ParsedResponse {
        parse_response(s.as_bytes(), cmd)
    }

    #[test]
    fn ati_with_echo_and_blank_line() {
        let r = parse("ATI\r\r\nQuectel\r\nEC25\r\nRevision: EC25EFAR06A17M4G\r\n\r\nOK\r\n", "ATI");
        assert!(r.echo);
        assert_eq!(r.lines, ["Quectel", "EC25", "Revision: EC25EFAR06A17M4G"]);
        assert_eq!(r.result, Some(FinalResult::Ok));
        assert_eq!(r.consumed, 55);
        assert_eq!(r.noise, 0);
    }

    #[test]
    fn echo_off() {
        let r = parse("\r\nEC25EFAR06A17M4G_20.200.20.200\r\n\r\nOK\r\n", "AT+QGMR");
        assert!(!r.echo);
        assert_eq!(r.lines, ["EC25EFAR06A17M4G_20.200.20.200"]);
        assert!(r.result.as_ref().is_some_and(FinalResult::is_ok));
    }

    #[test]
    fn urcs_before_between_and_inside() {
        let text = "\r\nRDY\r\n+CPIN: READY\r\nATI\r\r\n+QUSIM: 1\r\nQuectel\r\n+QIND: PB DONE\r\nEC25\r\n+CFUN: 1\r\n\
                    Revision: EC25EFAR06A17M4G\r\n\r\nOK\r\n+QIND: SMS DONE\r\n";
        let r = parse(text, "ATI");
        assert_eq!(r.lines, ["Quectel", "EC25", "Revision: EC25EFAR06A17M4G"]);
        assert_eq!(r.urcs, ["RDY", "+CPIN: READY", "+QUSIM: 1", "+QIND: PB DONE", "+CFUN: 1"]);
        assert_eq!(r.result, Some(FinalResult::Ok));
        // The trailing URC is not consumed: it belongs to what follows.
        assert_eq!(&text.as_bytes()[r.consumed..], b"+QIND: SMS DONE\r\n");
    }

    #[test]
    fn own_prefix_is_an_answer() {
        let r = parse("AT+QSECBOOT=\"status\"\r\r\n+QSECBOOT: \"status\",1\r\n\r\nOK\r\n", "AT+QSECBOOT=\"status\"");
        assert_eq!(r.lines, ["+QSECBOOT: \"status\",1"]);
        let r = parse("\r\n+CPIN: READY\r\n+CGMR: EC200UCNAAR03A03M08\r\nOK\r\n", "AT+CGMR");
        assert_eq!(r.lines, ["+CGMR: EC200UCNAAR03A03M08"]);
        assert_eq!(r.urcs, ["+CPIN: READY"]);
    }

    #[test]
    fn errors() {
        assert_eq!(parse("AT+QGMR\r\r\nERROR\r\n", "AT+QGMR").result, Some(FinalResult::Error));
        let cme = |code: Option<u32>, text: &str| Some(FinalResult::CmeError { code, text: text.into() });
        assert_eq!(parse("\r\n+CME ERROR: 3\r\n", "AT+CFUN=1").result, cme(Some(3), "3"));
        assert_eq!(parse("\r\n+CMEERROR:0\r\n", "AT+QGMR").result, cme(Some(0), "0"));
        assert_eq!(parse("\r\n+cme error: SIM not inserted\r\n", "AT+CPIN?").result, cme(None, "SIM not inserted"));
        assert_eq!(
            parse("\r\n+CMS ERROR: 500\r\n", "AT+CMGS").result,
            Some(FinalResult::CmsError { code: Some(500), text: "500".into() })
        );
        // `+CMEE: 1` is not an error.
        assert_eq!(final_result("+CMEE: 1"), None);
    }

    #[test]
    fn incomplete_answers() {
        let r = parse("ATI\r\r\nQuectel\r\nEC2", "ATI");
        assert_eq!(r.result, None);
        assert_eq!(r.lines, ["Quectel"]);
        assert_eq!(r.partial, 3);
        // OK without its line end is not yet final.
        assert_eq!(parse("\r\nOK", "AT").result, None);
        assert_eq!(parse("\r\nOK\r", "AT").result, Some(FinalResult::Ok));
    }

    #[test]
    fn stray_echo_and_old_firmware_transcript() {
        // Old EC20: AT / OK / AT+QGMR / ERROR / AT+CGMR / EC20EQAR02A04E2G / OK, seen from AT+CGMR.
        let r = parse("AT\r\r\nAT+CGMR\r\r\nEC20EQAR02A04E2G\r\n\r\nOK\r\n", "AT+CGMR");
        assert_eq!(r.stray, ["AT"]);
        assert_eq!(r.lines, ["EC20EQAR02A04E2G"]);
        assert!(r.echo);
    }

    #[test]
    fn noise_is_counted_not_answered() {
        let r = parse_response(b"\xff\xfe\x00junk\r\n\x80OK\r\n", "AT");
        assert_eq!(r.result, None);
        assert_eq!(r.noise, 4);
        assert!(r.lines.is_empty());
        assert_eq!(r.transcript, ["\\xFF\\xFE\\x00junk", "\\x80OK"]);
    }

    #[test]
    fn overlong_lines() {
        let long = vec![b'A'; MAX_LINE + 10];
        assert!(parse_response(&long, "AT").overlong);
        let mut with_end = long.clone();
        with_end.extend_from_slice(b"\r\nOK\r\n");
        let r = parse_response(&with_end, "AT");
        assert!(r.overlong);
        assert_eq!(r.lines[0].len(), MAX_LINE);
    }

    #[test]
    fn names_and_prefixes() {
        assert_eq!(command_name("AT+QSECBOOT=\"status\""), "+QSECBOOT");
        assert_eq!(command_name("ATI"), "I");
        assert_eq!(command_name("at+cpin?"), "+CPIN");
        assert_eq!(strip_answer_prefix("+CGMR: EC200UCNAAR03A03M08", "+CGMR"), "EC200UCNAAR03A03M08");
        assert_eq!(strip_answer_prefix("EC25EFAR06A17M4G", "+CGMR"), "EC25EFAR06A17M4G");
        assert_eq!(strip_answer_prefix("+GSN: \"861234567890123\"", "+GSN"), "861234567890123");
    }

    #[test]
    fn hostile_inputs_do_not_panic() {
        let inputs: Vec<Vec<u8>> = vec![
            vec![],
            b"\r\r\r\n\n\n".to_vec(),
            vec![0xff; 5000],
            b"+:\r\n+\r\n:\r\n+CME\r\n+CME ERROR\r\n".to_vec(),
            b"+CMEERROR:\xff\r\n".to_vec(),
            "\u{1F600}OK\r\n".as_bytes().to_vec(),
            b"AT\rAT\rAT\r".to_vec(),
            [b"A".repeat(MAX_LINE * 3), b"\r".to_vec()].concat(),
        ];
        for input in inputs {
            for cmd in ["", "AT", "ATI", "AT+CGMR", "\u{e9}", "a\u{e9}", "AT+="] {
                let r = parse_response(&input, cmd);
                assert!(r.consumed <= input.len());
                assert!(r.partial <= input.len());
            }
        }
    }

    proptest::proptest! {
        /// The fuzz target's promises, on stable: any bytes parse, and a complete answer parses the
        /// same from just the bytes it consumed.
        #[test]
        fn any_bytes_keep_the_promises(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048),
                                      framed in proptest::collection::vec("(OK|ERROR|\\+CME ERROR: [0-9]|RDY|\\+CPIN: READY|ATI|Quectel|[ -~]{0,20})\r\n", 0..12)) {
            for input in [bytes.clone(), framed.concat().into_bytes(), [framed.concat().into_bytes(), bytes].concat()] {
                let r = parse_response(&input, "ATI");
                proptest::prop_assert!(r.consumed <= input.len());
                for line in r.lines.iter().chain(&r.urcs) {
                    proptest::prop_assert!(line.len() <= MAX_LINE);
                }
                if r.result.is_some() {
                    let again = parse_response(&input[..r.consumed], "ATI");
                    proptest::prop_assert_eq!(again.result, r.result);
                    proptest::prop_assert_eq!(again.lines, r.lines);
                }
            }
        }
    }
}
