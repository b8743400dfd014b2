//! The engines over raw JSON lines: the payload the native client routes, and a line-in, lines-out
//! aggregator for callers that have a stream of lines (the native test binding, the engine's own
//! tests). A relabel is a splice of the turn id into the line, not a parse and a re-encode.

use crate::{Aggregator, Emit, Event, TurnResult};
use codex_sdk_protocol::{relabel_line, Headline};
use serde::de::IgnoredAny;
use serde_json::Value;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

/// A raw notification line, and where its `params.turnId` value sits in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub text: Arc<str>,
    pub turn_id_span: Option<Range<usize>>,
}

impl Line {
    /// `text` holds the same bytes as `source`, the text `head` was read from (and borrows).
    pub fn new(text: Arc<str>, source: &str, head: &Headline<'_>) -> Line {
        debug_assert_eq!(&*text, source);
        Line {
            turn_id_span: head.turn_id_span(source),
            text,
        }
    }

    /// The line with `params.turnId` set to `turn_id`: a splice when the id sits in the line as a
    /// plain string (always, from the app-server), else a re-encode (an id with escapes, or
    /// `turnId: null` on a goal update).
    pub fn relabelled(&self, turn_id: &str) -> Arc<str> {
        if let Some(span) = &self.turn_id_span {
            return Arc::from(relabel_line(&self.text, span.clone(), turn_id));
        }
        let Ok(mut message) = serde_json::from_str::<Value>(&self.text) else {
            return self.text.clone();
        };
        if let Some(params) = message.get_mut("params").and_then(Value::as_object_mut) {
            params.insert("turnId".into(), Value::String(turn_id.to_owned()));
        }
        Arc::from(message.to_string())
    }
}

/// Why a line could not be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError(pub String);

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for LineError {}

/// Aggregates one run (a goal or a plain turn) from JSON lines into logical lines.
pub struct LineAggregator {
    inner: Aggregator<Line>,
    out: Vec<Emit<Line>>,
}

impl LineAggregator {
    pub fn goal(thread_id: &str) -> Self {
        Self {
            inner: Aggregator::goal(thread_id),
            out: Vec::new(),
        }
    }

    pub fn turn(thread_id: &str, turn_id: &str) -> Self {
        Self {
            inner: Aggregator::turn(thread_id, Some(turn_id)),
            out: Vec::new(),
        }
    }

    /// Takes one JSON line; returns the logical notifications it yields, as lines. Requests and
    /// responses are not part of a turn's stream and are skipped; anything that is not a JSON-RPC
    /// message is an error.
    pub fn push(&mut self, line: &str) -> Result<Vec<Arc<str>>, LineError> {
        let head = Headline::peek(line).ok_or_else(|| LineError(why_not_a_message(line)))?;
        let Some(event) = Event::from_headline(&head) else {
            return if head.has_id() {
                Ok(Vec::new())
            } else {
                Err(LineError("not a JSON-RPC message: no `method` and no `id`".into()))
            };
        };
        let payload = Line::new(Arc::from(line), line, &head);
        self.inner.push(event, payload, &mut self.out);
        let logical = self.inner.logical_turn_id().unwrap_or_default().to_owned();
        Ok(self
            .out
            .drain(..)
            .map(|e| match e {
                Emit::Pass(l) => l.text,
                Emit::Relabel(l) => l.relabelled(&logical),
                Emit::Completed(c) => Arc::from(c.to_line()),
                Emit::Made(n) => Arc::from(n.to_line()),
            })
            .collect())
    }

    pub fn aggregator(&self) -> &Aggregator<Line> {
        &self.inner
    }

    pub fn is_done(&self) -> bool {
        self.inner.is_done()
    }

    pub fn result(&self) -> Option<TurnResult> {
        self.inner.result()
    }
}

fn why_not_a_message(line: &str) -> String {
    match serde_json::from_str::<IgnoredAny>(line) {
        Err(e) => format!("not JSON: {e}"),
        Ok(_) if !line.trim_start().starts_with('{') => "a message must be a JSON object".into(),
        Ok(_) => "not a JSON-RPC message: `method` must be a string".into(),
    }
}
