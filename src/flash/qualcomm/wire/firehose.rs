//! Firehose, the programmer's protocol: one small XML document per message,
//! `<?xml ...?><data>ONE ELEMENT</data>`, and raw bytes between `rawmode="true"` and
//! `rawmode="false"` responses. Both directions are built and read here, for the host session and
//! the simulated programmer.
//!
//! Message boundaries: a reader splits the stream on `</data>`, as linux-msm/qdl does for
//! stream-oriented transports (`src/firehose.c`) and qualcomm/qdlrs does on serial
//! (`qdl/src/lib.rs` `firehose_read`): one read may carry several documents, or half of one.
//! A host message must not be a multiple of 512 bytes long (a USB transfer of that size would
//! need a zero-length packet to end it); qdlrs `firehose_write` appends a newline, and so does
//! [`command`].

use crate::image::qualcomm::xml;

/// The largest XML message a target takes when it has not said otherwise
/// (`MaxXMLSizeInBytes="4096"` on every 9x07/SDX target seen).
pub const DEFAULT_MAX_XML: usize = 4096;
/// The end of every message.
pub const DOCUMENT_END: &[u8] = b"</data>";
/// The XML declaration every message starts with.
pub const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>";

/// Escapes an attribute value.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn document(tag: &str, attrs: &[(&str, String)]) -> Vec<u8> {
    let mut x = format!("{DECLARATION}\n<data>\n<{tag}");
    for (k, v) in attrs {
        x.push_str(&format!(" {k}=\"{}\"", escape(v)));
    }
    x.push_str(" />\n</data>");
    x.into_bytes()
}

/// A host command: `<data><TAG k="v" .../></data>`, never a multiple of 512 bytes long.
pub fn command(tag: &str, attrs: &[(&str, String)]) -> Vec<u8> {
    let mut x = document(tag, attrs);
    if x.len().is_multiple_of(512) {
        x.push(b'\n');
    }
    x
}

/// A target `<log value="..."/>` message.
pub fn log(text: &str) -> Vec<u8> {
    document("log", &[("value", text.to_string())])
}

/// A target `<response value="ACK|NAK" [rawmode=...] .../>` message.
pub fn response(ack: bool, rawmode: Option<bool>, attrs: &[(&str, String)]) -> Vec<u8> {
    let mut all = vec![("value", if ack { "ACK" } else { "NAK" }.to_string())];
    if let Some(raw) = rawmode {
        all.push(("rawmode", raw.to_string()));
    }
    all.extend(attrs.iter().cloned());
    document("response", &all)
}

/// The element a message carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Its name, as written (`program`, `response`, ...).
    pub tag: String,
    /// Its attributes, in document order, values unescaped.
    pub attrs: Vec<(String, String)>,
}

impl Element {
    /// The value of `key` (ASCII case ignored: hosts write both `ZlpAwareHost` and
    /// `ZLPAwareHost`).
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }

    /// Whether the element is named `tag` (ASCII case ignored).
    pub fn is(&self, tag: &str) -> bool {
        self.tag.eq_ignore_ascii_case(tag)
    }
}

/// What a target sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// `<log value="..."/>`.
    Log(String),
    /// `<response value="ACK|NAK" .../>`.
    Response(Response),
    /// Anything else (kept, so nothing the target says is lost).
    Other(Element),
}

/// A target's `<response>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// `value="ACK"` (anything else is a NAK).
    pub ack: bool,
    /// `rawmode`, when given.
    pub rawmode: Option<bool>,
    /// Every attribute.
    pub element: Element,
}

/// Parses one message (`<?xml?><data>ELEMENT</data>`) into its element. The error says what is
/// wrong.
pub fn parse_document(bytes: &[u8]) -> Result<Element, String> {
    let text = String::from_utf8_lossy(bytes);
    let elements = xml::elements(&text)?;
    let root = elements.first().ok_or("no element in the message")?;
    if !root.name.eq_ignore_ascii_case("data") {
        return Err(format!("the message's root is <{}>, not <data>", root.name));
    }
    let child = elements.iter().find(|e| e.parent == Some(0)).ok_or("<data> holds no element")?;
    Ok(Element { tag: child.name.clone(), attrs: child.attrs.clone() })
}

/// Parses a target message.
pub fn parse_message(bytes: &[u8]) -> Result<Message, String> {
    let element = parse_document(bytes)?;
    Ok(if element.is("log") {
        Message::Log(element.attr("value").unwrap_or_default().to_string())
    } else if element.is("response") {
        let ack = element.attr("value").is_some_and(|v| v.trim().eq_ignore_ascii_case("ACK"));
        let rawmode = element.attr("rawmode").map(|v| v.trim().eq_ignore_ascii_case("true"));
        Message::Response(Response { ack, rawmode, element })
    } else {
        Message::Other(element)
    })
}

/// Why a byte stream could not be split into messages.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// More than the limit arrived without `</data>`.
    #[error("{got} bytes arrived without the end of a Firehose message (</data>); at most {limit} were expected")]
    TooLong {
        /// Bytes held.
        got: usize,
        /// The limit.
        limit: usize,
    },
}

/// Splits a byte stream into messages at `</data>`. Bytes after the last complete message stay
/// for the next call (or for [`Splitter::take_rest`], when raw data follows a message).
#[derive(Debug, Clone)]
pub struct Splitter {
    buf: Vec<u8>,
    limit: usize,
}

impl Splitter {
    /// A splitter that refuses messages longer than `limit` bytes.
    pub fn new(limit: usize) -> Splitter {
        Splitter { buf: Vec::new(), limit }
    }

    /// Adds received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete message, if one has arrived; an error (and the bytes dropped) when more
    /// than the limit arrived without one.
    pub fn next_message(&mut self) -> Option<Result<Vec<u8>, SplitError>> {
        let start = self.buf.iter().position(|b| !b.is_ascii_whitespace() && *b != 0).unwrap_or(self.buf.len());
        let end = find(&self.buf[start..], DOCUMENT_END).map(|i| start + i + DOCUMENT_END.len());
        match end {
            Some(end) if end - start <= self.limit => {
                let doc = self.buf[start..end].to_vec();
                self.buf.drain(..end);
                Some(Ok(doc))
            }
            Some(end) => {
                self.buf.drain(..end);
                Some(Err(SplitError::TooLong { got: end - start, limit: self.limit }))
            }
            None if self.buf.len() - start > self.limit => {
                let got = self.buf.len() - start;
                self.buf.clear();
                Some(Err(SplitError::TooLong { got, limit: self.limit }))
            }
            None => None,
        }
    }

    /// Bytes held that are not (yet) a complete message.
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }

    /// Takes every byte held.
    pub fn take_rest(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

/// The position of `needle` in `hay`.
pub fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parses a number as a Firehose target does: decimal, or hexadecimal after `0x` (Qualcomm's
/// device programmer `convert_atoi`).
pub fn number(text: &str) -> Option<u64> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) if !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit()) => u64::from_str_radix(hex, 16).ok(),
        Some(_) => None,
        None if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => t.parse().ok(),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_well_formed_and_never_512_multiples() {
        let c = command("program", &[("filename", "a\"<&>b".into()), ("start_sector", "0".into())]);
        let e = parse_document(&c).unwrap();
        assert_eq!((e.tag.as_str(), e.attr("FILENAME")), ("program", Some("a\"<&>b")));
        for n in 0..600 {
            let c = command("nop", &[("value", "x".repeat(n))]);
            assert!(!c.len().is_multiple_of(512), "{n}");
        }
    }

    #[test]
    fn target_messages_parse() {
        let log = parse_message(&log("INFO: Calling handler for program")).unwrap();
        assert_eq!(log, Message::Log("INFO: Calling handler for program".into()));
        match parse_message(&response(false, Some(true), &[("MaxPayloadSizeToTargetInBytes", "8192".into())])).unwrap()
        {
            Message::Response(r) => {
                assert!(!r.ack);
                assert_eq!(r.rawmode, Some(true));
                assert_eq!(r.element.attr("MaxPayloadSizeToTargetInBytes"), Some("8192"));
            }
            other => panic!("{other:?}"),
        }
        // The real 9x07 configure answer, verbatim.
        let real = br#"<?xml version="1.0" encoding="UTF-8" ?><data><response value="ACK" MemoryName="nand" MinVersionSupported="1" Version="1" MaxPayloadSizeToTargetInBytes="8192" MaxPayloadSizeToTargetInBytesSupported="8192" MaxXMLSizeInBytes="4096" DateTime="Dec 19 2018 - 17:50:04"/></data>"#;
        assert!(matches!(parse_message(real).unwrap(), Message::Response(r) if r.ack && r.rawmode.is_none()));
        assert!(parse_document(b"<foo/>").unwrap_err().contains("<foo>"));
        assert!(parse_document(b"<data></data>").unwrap_err().contains("no element"));
    }

    #[test]
    fn splitter_finds_messages_across_reads_and_keeps_raw_bytes() {
        let mut stream = log("one");
        stream.extend(response(true, Some(true), &[]));
        stream.extend(b"RAW\x00\x01");
        let mut s = Splitter::new(DEFAULT_MAX_XML);
        let mut got = Vec::new();
        for piece in stream.chunks(7) {
            s.push(piece);
            while let Some(m) = s.next_message() {
                got.push(parse_message(&m.unwrap()).unwrap());
            }
        }
        assert_eq!(got.len(), 2);
        assert_eq!(s.take_rest(), b"RAW\x00\x01");
        let mut s = Splitter::new(64);
        s.push(&[b'x'; 65]);
        assert!(matches!(s.next_message(), Some(Err(SplitError::TooLong { got: 65, limit: 64 }))));
        assert!(s.pending().is_empty());
    }

    #[test]
    fn numbers_as_targets_read_them() {
        assert_eq!(number("640"), Some(640));
        assert_eq!(number(" 0x280 "), Some(640));
        for bad in ["", "0x", "-1", "1.", "NUM_DISK_SECTORS-1.", "12a"] {
            assert_eq!(number(bad), None, "{bad}");
        }
    }
}
