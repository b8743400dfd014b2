//! The notifications a busy stream is made of — text deltas — recognised in the exact shape the
//! app-server writes them, so that a consumer can build them from their fields instead of parsing
//! the line. Whatever is not exactly that shape (other key orders, whitespace, extra fields, a
//! lone surrogate, raw control characters) is not recognised, and takes the full parse: the fields
//! of a recognised line are exactly what a JSON parser would give.

use crate::search::quote_escape_or_control;
use std::borrow::Cow;

/// The hot methods, and the integer field that follows the delta where the method has one. The
/// wire order of every one is `threadId, turnId, itemId, delta[, index]` (the protocol's struct
/// order, as the app-server serialises it).
pub const HOT_METHODS: [(&str, Option<&str>); 6] = [
    ("item/agentMessage/delta", None),
    ("item/reasoning/textDelta", Some("contentIndex")),
    ("item/reasoning/summaryTextDelta", Some("summaryIndex")),
    ("item/plan/delta", None),
    ("item/commandExecution/outputDelta", None),
    ("item/fileChange/outputDelta", None),
];

/// A recognised line's fields, its delta's text decoded.
#[derive(Debug, Clone, PartialEq)]
pub struct HotLine<'a> {
    pub shape: Shape<'a>,
    /// Decoded: borrowed when the text had no escapes.
    pub delta: Cow<'a, str>,
}

/// The line's fields when it is a hot notification in the exact wire shape, else `None`.
pub fn scan(line: &str) -> Option<HotLine<'_>> {
    let shape = shape(line)?;
    let delta = if shape.escaped {
        // The escapes are JSON's: its own decoder, from the quoted text (`None` for a lone
        // surrogate, which a Rust string cannot hold, or an escape JSON does not have).
        Cow::Owned(serde_json::from_str::<String>(&line[shape.delta.start - 1..=shape.delta.end]).ok()?)
    } else {
        Cow::Borrowed(&line[shape.delta.clone()])
    };
    Some(HotLine { shape, delta })
}

/// A line in the exact wire shape of a hot method, its delta's text not yet decoded: what routing
/// needs of it ([`crate::Headline::scan`] reads a delta this way, one pass, no allocation).
#[derive(Debug, Clone, PartialEq)]
pub struct Shape<'a> {
    /// Index into [`HOT_METHODS`].
    pub method: usize,
    pub thread_id: &'a str,
    pub turn_id: &'a str,
    pub item_id: &'a str,
    /// The delta's text as written, quotes excluded, as a range of the line.
    pub delta: std::ops::Range<usize>,
    /// Whether that text has escapes (else it is the text itself).
    pub escaped: bool,
    /// The method's integer field, when it has one.
    pub index: Option<u32>,
    /// The line's `emittedAtMs`, when it has one.
    pub emitted_at_ms: Option<u64>,
}

/// The line's shape when it is a hot notification exactly as the app-server writes one (escapes
/// in the delta not checked beyond their first character: [`scan`] decodes them).
pub fn shape(line: &str) -> Option<Shape<'_>> {
    let mut c = Cursor(line);
    c.lit("{\"method\":\"")?;
    let method = HOT_METHODS
        .iter()
        .position(|(m, _)| c.0.starts_with(m) && c.0[m.len()..].starts_with('"'))?;
    let (name, index_field) = HOT_METHODS[method];
    c.0 = &c.0[name.len()..];
    c.lit("\",\"params\":{\"threadId\":\"")?;
    let thread_id = c.plain()?;
    c.lit(",\"turnId\":\"")?;
    let turn_id = c.plain()?;
    c.lit(",\"itemId\":\"")?;
    let item_id = c.plain()?;
    c.lit(",\"delta\":\"")?;
    let start = line.len() - c.0.len();
    let (len, escaped) = c.text()?;
    let index = match index_field {
        Some(field) => {
            c.lit(",\"")?;
            c.lit(field)?;
            c.lit("\":")?;
            Some(u32::try_from(c.integer(9)?).ok()?)
        }
        None => None,
    };
    c.lit("}")?;
    let emitted_at_ms = match c.0.strip_prefix(",\"emittedAtMs\":") {
        Some(rest) => {
            c.0 = rest;
            // Up to 15 digits: exactly representable as a JS number, as a parser would give it.
            Some(c.integer(15)?)
        }
        None => None,
    };
    (c.0 == "}").then_some(Shape {
        method,
        thread_id,
        turn_id,
        item_id,
        delta: start..start + len,
        escaped,
        index,
        emitted_at_ms,
    })
}

struct Cursor<'a>(&'a str);

impl<'a> Cursor<'a> {
    fn lit(&mut self, s: &str) -> Option<()> {
        self.0 = self.0.strip_prefix(s)?;
        Some(())
    }

    /// The rest of a string whose opening quote was read, when it holds no escape and no control
    /// character (an id); the cursor moves past the closing quote.
    fn plain(&mut self) -> Option<&'a str> {
        let end = quote_escape_or_control(self.0.as_bytes())?;
        let s = self.0.get(..end).filter(|_| self.0.as_bytes()[end] == b'"')?;
        self.0 = &self.0[end + 1..];
        Some(s)
    }

    /// The length of the rest of a string whose opening quote was read, and whether it has
    /// escapes; `None` for a raw control character (not JSON). The cursor moves past the closing
    /// quote.
    fn text(&mut self) -> Option<(usize, bool)> {
        let bytes = self.0.as_bytes();
        let mut at = 0;
        let mut escaped = false;
        loop {
            at += quote_escape_or_control(bytes.get(at..)?)?;
            match bytes[at] {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    at += 2; // the backslash and the character it escapes (a `\uXXXX` goes on as text)
                }
                _ => return None,
            }
        }
        // `get`: a backslash before a multi-byte character (not JSON) leaves `at` inside it.
        self.0.get(..at)?;
        self.0 = &self.0[at + 1..];
        Some((at, escaped))
    }

    /// A non-negative integer of at most `digits` digits, without a leading zero or a fraction.
    fn integer(&mut self, digits: usize) -> Option<u64> {
        let n = self.0.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 || n > digits || (n > 1 && self.0.starts_with('0')) {
            return None;
        }
        let value = self.0[..n].parse().ok()?;
        self.0 = &self.0[n..];
        Some(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const LINE: &str = r#"{"method":"item/agentMessage/delta","params":{"threadId":"th","turnId":"tu","itemId":"msg_2","delta":"Plain an"},"emittedAtMs":1795552677372}"#;

    #[test]
    fn the_wire_shape_is_recognised() {
        let HotLine { shape: h, delta } = scan(LINE).unwrap();
        assert_eq!((h.method, h.thread_id, h.turn_id, h.item_id), (0, "th", "tu", "msg_2"));
        assert_eq!(
            (delta.as_ref(), &LINE[h.delta], h.escaped),
            ("Plain an", "Plain an", false)
        );
        assert_eq!((h.index, h.emitted_at_ms), (None, Some(1795552677372)));
        let bare = r#"{"method":"item/plan/delta","params":{"threadId":"a","turnId":"b","itemId":"c","delta":""}}"#;
        assert_eq!(scan(bare).unwrap().shape.emitted_at_ms, None);
        let indexed = r#"{"method":"item/reasoning/summaryTextDelta","params":{"threadId":"a","turnId":"b","itemId":"c","delta":"x","summaryIndex":3}}"#;
        assert_eq!(scan(indexed).unwrap().shape.index, Some(3));
    }

    #[test]
    fn escapes_decode_as_json_does() {
        let line = r#"{"method":"item/agentMessage/delta","params":{"threadId":"a","turnId":"b","itemId":"c","delta":"q\"\\\n\u00e9\ud83d\ude00/\/"}}"#;
        let parsed: Value = serde_json::from_str(line).unwrap();
        assert_eq!(scan(line).unwrap().delta, parsed["params"]["delta"].as_str().unwrap());
    }

    #[test]
    fn anything_else_takes_the_full_parse() {
        for line in [
            LINE.replace(
                "\"threadId\":\"th\",\"turnId\":\"tu\"",
                "\"turnId\":\"tu\",\"threadId\":\"th\"",
            ),
            LINE.replace("{\"method\"", "{ \"method\""),
            LINE.replace("\"Plain an\"", "\"Plain an\",\"extra\":1"),
            LINE.replace("\"Plain an\"", "\"\\ud800\""),
            LINE.replace("\"Plain an\"", "\"tab\there\""),
            LINE.replace("\"th\"", "\"t\\u0068\""),
            LINE.replace("1795552677372", "1.5"),
            LINE.replace("1795552677372", "01"),
            LINE.replace("1795552677372", "1234567890123456"),
            LINE.replace("agentMessage/delta", "agentMessage/deltas"),
            LINE.replace("agentMessage/delta", "reasoning/textDelta"),
            format!("{LINE} "),
            LINE[..LINE.len() - 1].to_string(),
            r#"{"method":"item/agentMessage/delta","params":{"threadId":"a","turnId":"b","itemId":"c","delta":"\"#
                .to_string(),
            LINE.replace("\"Plain an\"", "\"\\é\""),
        ] {
            assert_eq!(scan(&line), None, "{line}");
        }
    }
}
