//! Fuzzes the AT response parser: any bytes, after any command, must parse without panicking and
//! keep the parser's promises.
#![no_main]

use fwguard::device::at::{MAX_LINE, parse_response};
use libfuzzer_sys::fuzz_target;

/// Commands fwguard sends; the first input byte picks one.
const COMMANDS: &[&str] = &[
    "AT",
    "ATI",
    "AT+QGMR",
    "AT+CGMR",
    "AT+CGMM",
    "AT+GSN",
    "AT+QSECBOOT=\"status\"",
    "AT+QCFG=\"secbootstat\"",
    "",
];

fuzz_target!(|data: &[u8]| {
    let (command, bytes) = match data.split_first() {
        Some((pick, rest)) => (COMMANDS[usize::from(*pick) % COMMANDS.len()], rest),
        None => ("AT", data),
    };
    let r = parse_response(bytes, command);
    assert!(r.consumed <= bytes.len());
    assert!(r.partial <= bytes.len());
    assert!(r.noise <= bytes.len());
    for line in r.lines.iter().chain(&r.urcs).chain(&r.stray) {
        assert!(line.len() <= MAX_LINE);
        assert!(
            line.bytes()
                .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
        );
    }
    if r.result.is_some() {
        // The answer is complete within what was consumed.
        let again = parse_response(&bytes[..r.consumed], command);
        assert_eq!(again.result, r.result);
        assert_eq!(again.lines, r.lines);
    }
});
