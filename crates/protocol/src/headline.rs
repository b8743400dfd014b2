//! A cheap first look at a line: what routing needs (kind, method, thread and turn ids), read
//! without building the params. Most lines in a busy stream are deltas that only need routing.

use serde::de::IgnoredAny;
use serde::Deserialize;
use std::borrow::Cow;

/// The routing view of one line. Fields the SDK does not route on are skipped, not built.
#[derive(Debug, Deserialize)]
pub struct Headline<'a> {
    #[serde(default)]
    id: Option<IgnoredAny>,
    #[serde(borrow, default)]
    pub method: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    params: Option<RouteFields<'a>>,
}

#[derive(Debug, Default, Deserialize)]
struct RouteFields<'a> {
    #[serde(borrow, default, rename = "threadId")]
    thread_id: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "turnId")]
    turn_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    turn: Option<IdOnly<'a>>,
    #[serde(borrow, default)]
    thread: Option<IdOnly<'a>>,
}

#[derive(Debug, Deserialize)]
struct IdOnly<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
}

impl<'a> Headline<'a> {
    /// Reads the headline of a line; `None` when it is not a JSON object.
    pub fn peek(line: &'a str) -> Option<Headline<'a>> {
        // serde would read a struct from an array too; a message is always an object.
        if !line.trim_start().starts_with('{') {
            return None;
        }
        serde_json::from_str(line).ok()
    }

    /// A notification: a method and no id.
    pub fn is_notification(&self) -> bool {
        self.method.is_some() && self.id.is_none()
    }

    /// `params.threadId`, or `params.thread.id`.
    pub fn thread_id(&self) -> Option<&str> {
        let p = self.params.as_ref()?;
        p.thread_id.as_deref().or_else(|| p.thread.as_ref()?.id.as_deref())
    }

    /// `params.turnId`, or `params.turn.id`.
    pub fn turn_id(&self) -> Option<&str> {
        let p = self.params.as_ref()?;
        p.turn_id.as_deref().or_else(|| p.turn.as_ref()?.id.as_deref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_routing_fields_and_skips_the_rest() {
        let h = Headline::peek(r#"{"method":"item/agentMessage/delta","params":{"threadId":"t","turnId":"u","delta":"x","big":{"a":[1,2,{"b":null}]}},"emittedAtMs":1}"#).unwrap();
        assert!(h.is_notification());
        assert_eq!(
            (h.method.as_deref(), h.thread_id(), h.turn_id()),
            (Some("item/agentMessage/delta"), Some("t"), Some("u"))
        );
        let h = Headline::peek(r#"{"method":"turn/started","params":{"threadId":"t","turn":{"id":"u","items":[]}}}"#)
            .unwrap();
        assert_eq!(h.turn_id(), Some("u"));
        let h = Headline::peek(r#"{"method":"thread/started","params":{"thread":{"id":"t"}}}"#).unwrap();
        assert_eq!(h.thread_id(), Some("t"));
        let h = Headline::peek(r#"{"method":"thread/goal/updated","params":{"threadId":"t","turnId":null}}"#).unwrap();
        assert_eq!(h.turn_id(), None);
        assert!(!Headline::peek(r#"{"id":1,"result":null}"#).unwrap().is_notification());
        assert!(!Headline::peek(r#"{"id":"a","method":"x"}"#).unwrap().is_notification());
        let escaped = Headline::peek(r#"{"method":"m","params":{"threadId":"a\"b"}}"#).unwrap();
        assert_eq!(escaped.thread_id(), Some("a\"b"));
        assert!(Headline::peek("[1]").is_none());
        assert!(Headline::peek("noise").is_none());
    }
}
