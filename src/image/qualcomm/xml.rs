//! A small element tree built with `quick-xml`, enough for Firehose and Qualcomm build XML.

use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, XmlVersion};

/// Largest XML file fwguard reads from a package: 4 MiB (a rawprogram file is a few KiB).
pub const MAX_XML_SIZE: u64 = 4 << 20;

/// One element: its local name, attributes, direct text and parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    /// Local name, as written.
    pub name: String,
    /// Attributes in document order, values unescaped.
    pub attrs: Vec<(String, String)>,
    /// The element's own text, trimmed.
    pub text: String,
    /// Index of the parent element, if any.
    pub parent: Option<usize>,
}

impl Element {
    /// The value of attribute `key`, compared without regard to ASCII case.
    pub fn attr(&self, key: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }
}

/// Parses `text` into its elements, in document order. The error says what and where.
pub fn elements(text: &str) -> Result<Vec<Element>, String> {
    let mut reader = Reader::from_str(text);
    let mut out: Vec<Element> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    loop {
        let at = reader.buffer_position();
        let event = reader.read_event().map_err(|e| format!("XML error at byte {at}: {e}"))?;
        match event {
            Event::Start(e) => {
                let el = element(&e, open.last().copied(), at)?;
                out.push(el);
                open.push(out.len() - 1);
            }
            Event::Empty(e) => out.push(element(&e, open.last().copied(), at)?),
            Event::End(_) => {
                open.pop();
            }
            Event::Text(t) => append(&mut out, &open, &t.xml10_content()),
            Event::CData(c) => append(&mut out, &open, &c.xml10_content()),
            Event::GeneralRef(r) => {
                let name = r.xml10_content();
                let resolved = match r.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    _ => resolve_predefined_entity(&name).map(str::to_string).unwrap_or_default(),
                };
                append(&mut out, &open, &resolved);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !open.is_empty() {
        return Err("XML ends before its elements are closed".into());
    }
    for el in &mut out {
        el.text = el.text.trim().to_string();
    }
    Ok(out)
}

fn append(out: &mut [Element], open: &[usize], text: &str) {
    if let Some(el) = open.last().and_then(|&i| out.get_mut(i)) {
        el.text.push_str(text);
    }
}

fn element(e: &BytesStart<'_>, parent: Option<usize>, at: u64) -> Result<Element, String> {
    let name = e.local_name().as_ref().to_string();
    let mut attrs = Vec::new();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| format!("XML error in <{name}> at byte {at}: {err}"))?;
        let key = attr.key.local_name().as_ref().to_string();
        let value = attr
            .normalized_value(XmlVersion::Implicit1_0)
            .map_err(|err| format!("XML error in <{name}> at byte {at}: {err}"))?;
        attrs.push((key, value.into_owned()));
    }
    Ok(Element { name, attrs, text: String::new(), parent })
}

/// A parsed document: its elements in document order, with each element's children indexed in
/// one pass, so finding the children of every element is linear in the document's size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tree {
    /// The elements, in document order.
    pub elements: Vec<Element>,
    /// For each element, the indices of its children, in document order.
    children: Vec<Vec<usize>>,
}

impl Tree {
    /// Parses `text` and indexes it. The error says what and where.
    pub fn parse(text: &str) -> Result<Tree, String> {
        let elements = elements(text)?;
        let mut children = vec![Vec::new(); elements.len()];
        for (i, el) in elements.iter().enumerate() {
            if let Some(list) = el.parent.and_then(|p| children.get_mut(p)) {
                list.push(i);
            }
        }
        Ok(Tree { elements, children })
    }

    /// The child elements of element `parent` named `name` (ASCII case ignored).
    pub fn children<'a>(&'a self, parent: usize, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children
            .get(parent)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .filter_map(|&i| self.elements.get(i))
            .filter(move |e| e.name.eq_ignore_ascii_case(name))
    }

    /// The text of the first child of `parent` named `name` that has any.
    pub fn child_text<'a>(&'a self, parent: usize, name: &'a str) -> Option<&'a str> {
        self.children(parent, name).map(|e| e.text.as_str()).find(|t| !t.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_are_indexed_by_parent() {
        let t = Tree::parse("<a><b>1</b><c><b>2</b></c><B>3</B><b/></a>").unwrap();
        let texts: Vec<&str> = t.children(0, "b").map(|e| e.text.as_str()).collect();
        assert_eq!(texts, ["1", "3", ""]);
        assert_eq!(t.child_text(2, "b"), Some("2"));
        assert_eq!(t.child_text(0, "c"), None);
        assert_eq!(t.children(99, "b").count(), 0);
    }
}
