//! A cheap first look at a line: what routing and the engines need (kind, method, thread and turn
//! ids, and borrowed spans of the few params the engines read), without building any value. Most
//! lines of a busy stream are deltas that only need routing.

use serde::de::IgnoredAny;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::ops::Range;

/// The routing view of one line. Fields nobody reads are skipped, not built; the ones the engines
/// read are kept as borrowed JSON text, parsed only by the engine that needs them.
#[derive(Debug, Deserialize)]
pub struct Headline<'a> {
    #[serde(default)]
    id: Option<IgnoredAny>,
    #[serde(borrow, default)]
    method: Option<Str<'a>>,
    #[serde(borrow, default)]
    params: Option<Fields<'a>>,
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
    turn: Option<&'a RawValue>,
    #[serde(borrow, default)]
    item: Option<&'a RawValue>,
    #[serde(borrow, default, rename = "tokenUsage")]
    token_usage: Option<&'a RawValue>,
    #[serde(borrow, default)]
    goal: Option<&'a RawValue>,
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
        serde_json::from_str::<Id>(turn.get()).ok()?.id
    }

    /// The JSON text of `params.turn`, `params.item`, `params.tokenUsage` and `params.goal`.
    pub fn turn(&self) -> Option<&'a str> {
        self.fields()?.turn.map(RawValue::get)
    }

    pub fn item(&self) -> Option<&'a str> {
        self.fields()?.item.map(RawValue::get)
    }

    pub fn token_usage(&self) -> Option<&'a str> {
        self.fields()?.token_usage.map(RawValue::get)
    }

    pub fn goal(&self) -> Option<&'a str> {
        self.fields()?.goal.map(RawValue::get)
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
