//! The XML download scheme embedded in a PAC (as `amitv87/unisoc_dloader` reads it):
//! `<BMAConfig><ProductList><Product name>` (scheme name, flash type, NV backup items,
//! partitions) and `<SchemeList><Scheme><File>` (ID, IDAlias, Type, Block/Base, Size, Flag,
//! CheckFlag, Description).

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

/// Most XML bytes read.
pub const MAX_XML: u64 = 4 << 20;
/// Most `<File>` elements read.
pub const MAX_FILES: usize = 4096;
/// Deepest element nesting accepted.
pub const MAX_DEPTH: usize = 64;
/// Longest text kept from one element.
const MAX_TEXT: usize = 64 << 10;

/// An NV item the scheme backs up before writing NV.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NvItem {
    /// `name` attribute: `Calibration`, `IMEI`, ...
    pub name: String,
    /// `backup` attribute is 1.
    pub backup: bool,
    /// `<ID>`.
    pub id: Option<String>,
}

/// One `<File>` of the scheme: a download or erase step.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemeFile {
    /// `<ID>`, matching a PAC entry's `szFileID`.
    pub id: String,
    /// `<IDAlias>`.
    pub id_alias: Option<String>,
    /// `<Type>`: FDL, FDL2, HOST_FDL, CODE, NV, EraseFlash, ...
    pub kind: String,
    /// `<Block id>`.
    pub block_id: Option<String>,
    /// `<Block><Base>`.
    pub base: Option<u64>,
    /// `<Block><Size>`.
    pub size: Option<u64>,
    /// `<Flag>`.
    pub flag: Option<String>,
    /// `<CheckFlag>`.
    pub check_flag: Option<String>,
    /// `<Description>`.
    pub description: Option<String>,
}

/// The parsed scheme.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scheme {
    /// `<Product name>`.
    pub product: Option<String>,
    /// `<SchemeName>`.
    pub scheme_name: Option<String>,
    /// `<FlashTypeID>`.
    pub flash_type_id: Option<String>,
    /// `<NVBackup backup>` is 1.
    pub nv_backup: bool,
    /// The `<NVItem>`s.
    pub nv_items: Vec<NvItem>,
    /// `<Partitions><Partition id size>`.
    pub partitions: Vec<(String, String)>,
    /// The `<File>`s of the chosen scheme (the one `<SchemeName>` names, else the first).
    pub files: Vec<SchemeFile>,
}

/// Parses a number written as `0x…` hex or decimal.
pub fn parse_number(text: &str) -> Option<u64> {
    let t = text.trim();
    match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => t.parse().ok(),
    }
}

/// Decodes the XML bytes: UTF-16LE with a BOM, or UTF-8 (with or without BOM; invalid bytes
/// replaced).
pub fn decode(bytes: &[u8]) -> String {
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        let units: Vec<u16> = rest.chunks_exact(2).map(|p| u16::from_le_bytes([p[0], p[1]])).collect();
        return String::from_utf16_lossy(&units);
    }
    let rest = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    String::from_utf8_lossy(rest).into_owned()
}

/// Parses the scheme. The error is a sentence for `ImageError::Malformed`.
pub fn parse_scheme(bytes: &[u8]) -> Result<Scheme, String> {
    let text = decode(bytes);
    let mut reader = Reader::from_str(&text);
    reader.config_mut().trim_text(false);
    let mut p = Parser::default();
    loop {
        let event = reader.read_event().map_err(|e| format!("XML error at byte {}: {e}", reader.buffer_position()))?;
        match event {
            Event::Start(e) => {
                if p.stack.len() >= MAX_DEPTH {
                    return Err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
                p.open(&e)?;
                p.stack.push(e.local_name().into_inner().to_string());
                p.text.clear();
            }
            Event::Empty(e) => {
                p.open(&e)?;
                p.stack.push(e.local_name().into_inner().to_string());
                p.text.clear();
                p.close()?;
            }
            Event::End(_) => p.close()?,
            Event::Text(t) => p.push_text(&t),
            Event::CData(t) => p.push_text(&t),
            Event::GeneralRef(r) => {
                let resolved = if r.is_char_ref() {
                    r.resolve_char_ref().ok().flatten().map(String::from)
                } else {
                    quick_xml::escape::resolve_predefined_entity(&r).map(String::from)
                };
                p.push_text(&resolved.ok_or_else(|| format!("unknown entity &{};", &*r))?);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !p.stack.is_empty() {
        return Err(format!("the XML ends inside <{}>", p.stack.join("><")));
    }
    if !p.seen_root {
        return Err("no <BMAConfig> element".into());
    }
    Ok(p.finish())
}

#[derive(Default)]
struct Parser {
    stack: Vec<String>,
    text: String,
    seen_root: bool,
    scheme: Scheme,
    schemes: Vec<(Option<String>, Vec<SchemeFile>)>,
    file: Option<SchemeFile>,
    nv_item: Option<NvItem>,
    file_count: usize,
}

fn attr(e: &BytesStart<'_>, name: &str) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| format!("bad attribute: {err}"))?;
        if a.key.local_name().into_inner() == name {
            let value = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| format!("bad attribute value: {err}"))?;
            return Ok(Some(value.into_owned()));
        }
    }
    Ok(None)
}

fn is_one(v: Option<String>) -> bool {
    v.is_some_and(|s| s.trim() == "1" || s.trim().eq_ignore_ascii_case("true"))
}

impl Parser {
    fn parent(&self) -> Option<&str> {
        self.stack.last().map(String::as_str)
    }

    fn push_text(&mut self, t: &str) {
        if self.text.len() + t.len() <= MAX_TEXT {
            self.text.push_str(t);
        }
    }

    fn open(&mut self, e: &BytesStart<'_>) -> Result<(), String> {
        match e.local_name().into_inner() {
            "BMAConfig" => self.seen_root = true,
            "Product" if self.scheme.product.is_none() => self.scheme.product = attr(e, "name")?,
            "NVBackup" => self.scheme.nv_backup = is_one(attr(e, "backup")?),
            "NVItem" => {
                self.nv_item = Some(NvItem {
                    name: attr(e, "name")?.unwrap_or_default(),
                    backup: is_one(attr(e, "backup")?),
                    id: None,
                })
            }
            "Partition" if self.scheme.partitions.len() < MAX_FILES => {
                let id = attr(e, "id")?.unwrap_or_default();
                let size = attr(e, "size")?.unwrap_or_default();
                self.scheme.partitions.push((id, size));
            }
            "Scheme" => self.schemes.push((attr(e, "name")?, Vec::new())),
            "File" if self.stack.iter().any(|s| s == "Scheme") => {
                self.file_count += 1;
                if self.file_count > MAX_FILES {
                    return Err(format!("more than {MAX_FILES} <File> elements"));
                }
                self.file = Some(SchemeFile::default());
            }
            "Block" => {
                if let Some(f) = self.file.as_mut() {
                    f.block_id = attr(e, "id")?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn close(&mut self) -> Result<(), String> {
        let name = self.stack.pop().ok_or("an end tag with no start tag")?;
        let text = std::mem::take(&mut self.text).trim().to_string();
        let parent = self.parent().unwrap_or("").to_string();
        let number = |what: &str| parse_number(&text).ok_or_else(|| format!("<{what}> {text:?} is not a number"));
        match (name.as_str(), parent.as_str()) {
            ("SchemeName", "Product") => self.scheme.scheme_name = Some(text),
            ("FlashTypeID", "Product") => self.scheme.flash_type_id = Some(text),
            ("ID", "NVItem") => {
                if let Some(item) = self.nv_item.as_mut() {
                    item.id = Some(text);
                }
            }
            ("NVItem", _) => {
                if let Some(item) = self.nv_item.take()
                    && self.scheme.nv_items.len() < MAX_FILES
                {
                    self.scheme.nv_items.push(item);
                }
            }
            ("Base", "Block") => {
                let n = number("Base")?;
                if let Some(f) = self.file.as_mut() {
                    f.base = Some(n);
                }
            }
            ("Size", "Block") => {
                let n = number("Size")?;
                if let Some(f) = self.file.as_mut() {
                    f.size = Some(n);
                }
            }
            (field, "File") => {
                if let Some(f) = self.file.as_mut() {
                    match field {
                        "ID" => f.id = text,
                        "IDAlias" => f.id_alias = Some(text),
                        "Type" => f.kind = text,
                        "Flag" => f.flag = Some(text),
                        "CheckFlag" => f.check_flag = Some(text),
                        "Description" => f.description = Some(text),
                        _ => {}
                    }
                }
            }
            ("File", _) => {
                if let (Some(f), Some((_, files))) = (self.file.take(), self.schemes.last_mut()) {
                    files.push(f);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish(mut self) -> Scheme {
        let wanted = self.scheme.scheme_name.clone();
        let pick = self.schemes.iter().position(|(n, _)| n.is_some() && *n == wanted).unwrap_or(0);
        if pick < self.schemes.len() {
            self.scheme.files = self.schemes.swap_remove(pick).1;
        }
        self.scheme
    }
}
