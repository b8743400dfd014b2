//! A cheap first look at a line: what routing and the engines need (kind, method, thread and turn
//! ids, and borrowed spans of the few params the engines read), without building any value. Most
//! lines of a busy stream are deltas that only need routing.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

/// The routing view of one line. Fields nobody reads are skipped, not built; the ones the engines
/// read are kept as borrowed JSON text, parsed only by the engine that needs them.
#[derive(Default, Deserialize)]
pub struct Headline<'a> {
    #[serde(default)]
    id: Option<IgnoredAny>,
    #[serde(borrow, default)]
    method: Option<Str<'a>>,
    #[serde(borrow, default)]
    params: Option<Fields<'a>>,
}

/// What the headline reads, as its accessors give it: two headlines that print alike route alike,
/// however each was read (the tests compare the scan with the full parse this way).
impl fmt::Debug for Headline<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Headline")
            .field("has_id", &self.has_id())
            .field("method", &self.method())
            .field("thread_id", &self.thread_id())
            .field("turn_id", &self.turn_id())
            .field("turn", &self.turn())
            .field("item", &self.item())
            .field("token_usage", &self.token_usage())
            .field("goal", &self.goal())
            .finish()
    }
}

/// A string borrowed from the line when it has no escapes. (`Option<Cow<str>>` with
/// `#[serde(borrow)]` always copies; the newtype makes serde borrow.)
#[derive(Debug, Deserialize)]
struct Str<'a>(#[serde(borrow)] Cow<'a, str>);

impl Str<'_> {
    fn get(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Default, Deserialize)]
struct Fields<'a> {
    #[serde(borrow, default, rename = "threadId")]
    thread_id: Option<Str<'a>>,
    #[serde(borrow, default, rename = "turnId")]
    turn_id: Option<Str<'a>>,
    #[serde(borrow, default)]
    thread: Option<IdOnly<'a>>,
    #[serde(borrow, default)]
    turn: Option<Raw<'a>>,
    #[serde(borrow, default)]
    item: Option<Raw<'a>>,
    #[serde(borrow, default, rename = "tokenUsage")]
    token_usage: Option<Raw<'a>>,
    #[serde(borrow, default)]
    goal: Option<Raw<'a>>,
}

/// A value kept as its JSON text, borrowed from the line.
#[derive(Debug, Clone, Copy)]
struct Raw<'a>(&'a str);

impl<'de: 'a, 'a> Deserialize<'de> for Raw<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'de RawValue>::deserialize(d).map(|r| Raw(r.get()))
    }
}

#[derive(Debug, Deserialize)]
struct IdOnly<'a> {
    #[serde(borrow, default)]
    id: Option<Str<'a>>,
}

impl<'a> Headline<'a> {
    /// Reads the headline of a line; `None` when it is not a JSON object (or nests deeper than the
    /// parser's limit).
    pub fn peek(line: &'a str) -> Option<Headline<'a>> {
        // serde would read a struct from an array too; a message is always an object.
        if !line.trim_start().starts_with('{') {
            return None;
        }
        serde_json::from_str(line).ok()
    }

    pub fn method(&self) -> Option<&str> {
        self.method.as_ref().map(Str::get)
    }

    /// The fast path for a stream of lines from the app-server: a structural scan that reads what a
    /// headline holds and skips the rest without validating it; a line it cannot make sense of (an
    /// escape in an id, an unexpected shape) is read by [`peek`](Self::peek) instead. What it skips is
    /// checked by whoever parses it later: the JS layer's `JSON.parse` of a forwarded line (which
    /// reports a bad one as `sdk/warning`), the engine's parse of the params it reads.
    pub fn scan(line: &'a str) -> Option<Headline<'a>> {
        if let Some(hot) = crate::hot::shape(line) {
            return Some(Self::hot(&hot));
        }
        Scan { s: line, i: 0 }.headline().or_else(|| Self::peek(line))
    }

    /// The headline of a delta in its wire shape (most lines of a busy stream), read in one pass.
    fn hot(shape: &crate::hot::Shape<'a>) -> Headline<'a> {
        Headline {
            id: None,
            method: Some(Str(Cow::Borrowed(crate::hot::HOT_METHODS[shape.method].0))),
            params: Some(Fields {
                thread_id: Some(Str(Cow::Borrowed(shape.thread_id))),
                turn_id: Some(Str(Cow::Borrowed(shape.turn_id))),
                ..Fields::default()
            }),
        }
    }

    /// A request, response or error: it has an id.
    pub fn has_id(&self) -> bool {
        self.id.is_some()
    }

    /// A notification: a method and no id.
    pub fn is_notification(&self) -> bool {
        self.method.is_some() && self.id.is_none()
    }

    fn fields(&self) -> Option<&Fields<'a>> {
        self.params.as_ref()
    }

    /// `params.threadId`, or `params.thread.id`.
    pub fn thread_id(&self) -> Option<&str> {
        let p = self.fields()?;
        p.thread_id
            .as_ref()
            .map(Str::get)
            .or_else(|| p.thread.as_ref()?.id.as_ref().map(Str::get))
    }

    /// `params.turnId`, or `params.turn.id`.
    pub fn turn_id(&self) -> Option<&str> {
        let p = self.fields()?;
        p.turn_id.as_ref().map(Str::get).or_else(|| self.turn_object_id())
    }

    fn turn_object_id(&self) -> Option<&str> {
        let turn = self.fields()?.turn?;
        // `turn` is a small header plus its items; only the id is read here, borrowed.
        #[derive(Deserialize)]
        struct Id<'b> {
            #[serde(borrow, default)]
            id: Option<&'b str>,
        }
        serde_json::from_str::<Id>(turn.0).ok()?.id
    }

    /// The JSON text of `params.turn`, `params.item`, `params.tokenUsage` and `params.goal`.
    pub fn turn(&self) -> Option<&'a str> {
        Some(self.fields()?.turn?.0)
    }

    pub fn item(&self) -> Option<&'a str> {
        Some(self.fields()?.item?.0)
    }

    pub fn token_usage(&self) -> Option<&'a str> {
        Some(self.fields()?.token_usage?.0)
    }

    pub fn goal(&self) -> Option<&'a str> {
        Some(self.fields()?.goal?.0)
    }

    /// Where the value of `params.turnId` sits in `line` (the text this headline was read from),
    /// quotes excluded, so it can be replaced in place. `None` when there is no such string, or
    /// when it had escapes (then it was not borrowed from the line).
    pub fn turn_id_span(&self, line: &str) -> Option<Range<usize>> {
        let Some(Str(Cow::Borrowed(id))) = self.fields()?.turn_id.as_ref() else {
            return None;
        };
        let start = (id.as_ptr() as usize).checked_sub(line.as_ptr() as usize)?;
        (start + id.len() <= line.len()).then(|| start..start + id.len())
    }
}

/// A non-validating JSON scanner over one line, for [`Headline::scan`]. Strings are skipped with
/// memchr; nothing it skips is allocated or decoded.
struct Scan<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Scan<'a> {
    fn bytes(&self) -> &'a [u8] {
        self.s.as_bytes()
    }

    /// The next byte that is not whitespace, without taking it.
    fn peek(&mut self) -> Option<u8> {
        while let Some(b' ' | b'\t' | b'\r' | b'\n') = self.bytes().get(self.i) {
            self.i += 1;
        }
        self.bytes().get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Skips a string; returns its contents when it has no escapes (`None` for the text otherwise).
    fn string(&mut self) -> Option<Option<&'a str>> {
        self.eat(b'"')?;
        let start = self.i;
        let mut plain = true;
        loop {
            let j = self.i + crate::search::quote_or_escape(&self.bytes()[self.i..])?;
            if self.bytes()[j] == b'"' {
                self.i = j + 1;
                return Some(plain.then(|| &self.s[start..j]));
            }
            plain = false;
            self.i = j + 2;
        }
    }

    fn skip(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(drop),
            b'{' | b'[' => {
                let mut depth = 0usize;
                loop {
                    match *self.bytes().get(self.i)? {
                        b'"' => {
                            self.string()?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth = depth.checked_sub(1)?;
                            if depth == 0 {
                                self.i += 1;
                                return Some(());
                            }
                        }
                        _ => {}
                    }
                    self.i += 1;
                }
            }
            _ => {
                let start = self.i;
                while !matches!(
                    self.bytes().get(self.i),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\r' | b'\n')
                ) {
                    self.i += 1;
                }
                (self.i > start).then_some(())
            }
        }
    }

    /// The JSON text of the value at the cursor.
    fn raw(&mut self) -> Option<Raw<'a>> {
        self.peek()?;
        let start = self.i;
        self.skip()?;
        Some(Raw(&self.s[start..self.i]))
    }

    /// A string without escapes, or null (`None`); anything else makes the scan give up.
    fn id(&mut self) -> Option<Option<Str<'a>>> {
        match self.peek()? {
            b'"' => Some(Some(Str(Cow::Borrowed(self.string()??)))),
            b'n' => self.skip().map(|()| None),
            _ => None,
        }
    }

    /// The members of an object, each handed to `member(scan, key)`.
    fn object(&mut self, mut member: impl FnMut(&mut Self, &'a str) -> Option<()>) -> Option<()> {
        self.eat(b'{')?;
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(());
        }
        loop {
            let key = self.string()??;
            self.eat(b':')?;
            member(self, key)?;
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn headline(mut self) -> Option<Headline<'a>> {
        let mut h = Headline::default();
        self.object(|scan, key| {
            match key {
                "id" => {
                    // As serde reads an `Option`: `"id": null` is no id.
                    if scan.peek()? != b'n' {
                        h.id = Some(IgnoredAny);
                    }
                    scan.skip()?;
                }
                "method" => h.method = Some(scan.id()??),
                "params" if scan.peek()? == b'{' => {
                    // Filled where it lies: the headline is large enough for moves to show.
                    let f = h.params.insert(Fields::default());
                    scan.object(|scan, key| {
                        match key {
                            "threadId" => f.thread_id = scan.id()?,
                            "turnId" => f.turn_id = scan.id()?,
                            // Thread lifecycle notifications are rare: let the full parse read them.
                            "thread" => return None,
                            "turn" => f.turn = Some(scan.raw()?),
                            "item" => f.item = Some(scan.raw()?),
                            "tokenUsage" => f.token_usage = Some(scan.raw()?),
                            "goal" => f.goal = Some(scan.raw()?),
                            _ => scan.skip()?,
                        }
                        Some(())
                    })?;
                }
                // Params that are neither an object nor null are read as serde reads them (a
                // struct from an array, positionally): the full parse decides, so both agree.
                "params" if scan.peek()? != b'n' => return None,
                _ => scan.skip()?,
            }
            Some(())
        })?;
        (self.peek().is_none()).then_some(h)
    }
}

/// `line` with the text at `span` (a `turn_id_span`) replaced by `turn_id`.
pub fn relabel_line(line: &str, span: Range<usize>, turn_id: &str) -> String {
    let mut out = String::with_capacity(line.len() + turn_id.len());
    out.push_str(&line[..span.start]);
    out.push_str(turn_id);
    out.push_str(&line[span.end..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_that_are_not_an_object_read_as_the_full_parse_reads_them() {
        for line in [
            r#"{"params":[""]}"#,
            r#"{"method":"m","params":["t","u"]}"#,
            r#"{"params":null}"#,
        ] {
            let (scanned, parsed) = (Headline::scan(line).unwrap(), Headline::peek(line).unwrap());
            assert_eq!(scanned.thread_id(), parsed.thread_id(), "{line}");
            assert_eq!(scanned.turn_id(), parsed.turn_id(), "{line}");
        }
    }

    #[test]
    fn borrows_what_has_no_escapes() {
        let line = r#"{"method":"m","params":{"threadId":"t","turnId":"u"}}"#;
        let h = Headline::peek(line).unwrap();
        let inside = |s: &str| line.as_bytes().as_ptr_range().contains(&s.as_ptr());
        assert!(inside(h.method().unwrap()) && inside(h.thread_id().unwrap()) && inside(h.turn_id().unwrap()));
    }

    #[test]
    fn reads_routing_fields_and_skips_the_rest() {
        let h = Headline::peek(r#"{"method":"item/agentMessage/delta","params":{"threadId":"t","turnId":"u","delta":"x","big":{"a":[1,2,{"b":null}]}},"emittedAtMs":1}"#).unwrap();
        assert!(h.is_notification());
        assert_eq!(
            (h.method(), h.thread_id(), h.turn_id()),
            (Some("item/agentMessage/delta"), Some("t"), Some("u"))
        );
        let h = Headline::peek(
            r#"{"method":"turn/started","params":{"threadId":"t","turn":{"id":"u","items":[{"id":"x"}]}}}"#,
        )
        .unwrap();
        assert_eq!(h.turn_id(), Some("u"));
        assert_eq!(h.turn(), Some(r#"{"id":"u","items":[{"id":"x"}]}"#));
        let h = Headline::peek(r#"{"method":"thread/started","params":{"thread":{"id":"t"}}}"#).unwrap();
        assert_eq!(h.thread_id(), Some("t"));
        let h = Headline::peek(
            r#"{"method":"thread/goal/updated","params":{"threadId":"t","turnId":null,"goal":{"status":"active"}}}"#,
        )
        .unwrap();
        assert_eq!(h.turn_id(), None);
        assert_eq!(h.goal(), Some(r#"{"status":"active"}"#));
        assert!(!Headline::peek(r#"{"id":1,"result":null}"#).unwrap().is_notification());
        assert!(!Headline::peek(r#"{"id":"a","method":"x"}"#).unwrap().is_notification());
        let escaped = Headline::peek(r#"{"method":"m","params":{"threadId":"a\"b"}}"#).unwrap();
        assert_eq!(escaped.thread_id(), Some("a\"b"));
        assert!(Headline::peek("[1]").is_none());
        assert!(Headline::peek("noise").is_none());
    }

    #[test]
    fn the_scan_reads_what_the_full_parse_reads() {
        for line in [
            r#"{"method":"item/agentMessage/delta","params":{"threadId":"t","turnId":"u","itemId":"i","delta":"say \"hi\" {[ok]}"},"emittedAtMs":1}"#,
            r#"{"method":"turn/completed","params":{"threadId":"t","turn":{"id":"u","items":[{"text":"]}"}],"status":"completed"}}}"#,
            r#"{ "method" : "thread/goal/updated" , "params" : { "threadId" : "t" , "turnId" : null , "goal" : { "status" : "active" } } }"#,
            r#"{"method":"thread/tokenUsage/updated","params":{"threadId":"t","turnId":"u","tokenUsage":{"last":{"totalTokens":3}}}}"#,
            r#"{"method":"item/completed","params":{"item":{"type":"agentMessage","text":"a\nb"},"threadId":"t","turnId":"u"}}"#,
            r#"{"id":7,"method":"item/tool/call","params":{}}"#,
            r#"{"id":null,"method":"m"}"#,
            r#"{"id":"x","result":{"turn":{"id":"u"}}}"#,
            r#"{"method":"m"}"#,
            r#"{}"#,
        ] {
            let scanned = Scan { s: line, i: 0 }
                .headline()
                .unwrap_or_else(|| panic!("scan gave up on {line}"));
            let parsed = Headline::peek(line).unwrap_or_else(|| panic!("parse failed on {line}"));
            assert_eq!(format!("{scanned:?}"), format!("{parsed:?}"), "{line}");
        }
    }

    #[test]
    fn a_delta_in_its_wire_shape_reads_in_one_pass_as_the_full_parse_reads_it() {
        let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine/tests/fixtures");
        let mut lines: Vec<String> = std::fs::read_dir(fixtures)
            .unwrap()
            .flat_map(|f| {
                std::fs::read_to_string(f.unwrap().path())
                    .unwrap()
                    .lines()
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .filter(|l| crate::hot::shape(l).is_some())
            .collect();
        assert!(lines.len() >= 20, "the transcripts hold deltas");
        for (method, index) in crate::hot::HOT_METHODS {
            let index = index.map_or(String::new(), |f| format!(",\"{f}\":2"));
            for delta in [r#"plain"#, r#"q\"\\\n\ud800 é"#, ""] {
                lines.push(format!(
                    r#"{{"method":"{method}","params":{{"threadId":"t-1","turnId":"u-2","itemId":"i","delta":"{delta}"{index}}},"emittedAtMs":1}}"#
                ));
            }
        }
        for line in &lines {
            let shape = crate::hot::shape(line).unwrap_or_else(|| panic!("not hot: {line}"));
            let scanned = Headline::scan(line).unwrap();
            let parsed = Headline::peek(line).unwrap();
            assert_eq!(format!("{scanned:?}"), format!("{parsed:?}"), "{line}");
            let span = scanned.turn_id_span(line).unwrap();
            assert_eq!(
                (span.clone(), &line[span]),
                (parsed.turn_id_span(line).unwrap(), shape.turn_id)
            );
        }
    }

    #[test]
    fn the_scan_gives_up_where_the_full_parse_should_decide() {
        for line in [
            r#"{"method":"m","params":{"threadId":"a\"b"}}"#,
            r#"{"method":"thread/started","params":{"thread":{"id":"t"}}}"#,
            r#"{"method":5}"#,
            r#"{"method":"m"} trailing"#,
            r#"{"method":"m""#,
            "[1]",
            "noise",
            "",
        ] {
            assert!(Scan { s: line, i: 0 }.headline().is_none(), "{line}");
            assert_eq!(
                Headline::scan(line).map(|h| format!("{h:?}")),
                Headline::peek(line).map(|h| format!("{h:?}")),
                "{line}"
            );
        }
    }

    #[test]
    fn relabels_the_turn_id_in_place_and_nothing_else() {
        let line =
            r#"{"method":"item/agentMessage/delta","params":{"threadId":"t","delta":"turn u1 said u1","turnId":"u1"}}"#;
        let h = Headline::peek(line).unwrap();
        let span = h.turn_id_span(line).unwrap();
        assert_eq!(
            relabel_line(line, span, "logical"),
            r#"{"method":"item/agentMessage/delta","params":{"threadId":"t","delta":"turn u1 said u1","turnId":"logical"}}"#
        );
        let escaped = r#"{"method":"m","params":{"turnId":"u\u0031"}}"#;
        assert_eq!(Headline::peek(escaped).unwrap().turn_id_span(escaped), None);
        let none = r#"{"method":"turn/started","params":{"turn":{"id":"u"}}}"#;
        assert_eq!(Headline::peek(none).unwrap().turn_id_span(none), None);
    }
}
