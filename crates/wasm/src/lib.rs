//! The wasm-bindgen binding: the very engine the native addon uses, with no I/O, for browsers,
//! Electron renderers and workers. Conversions only, and only of strings and numbers: no JS value
//! is walked from Rust (a cycle, a throwing getter or deep nesting cannot reach the engine, and a
//! failure is a thrown `Error`, never a trap). The public classes are a thin JavaScript layer over
//! these exports (`src/wasm/api.ts`): it parses each message once, hands the engine the ids it
//! routes on (or the text of the few methods whose params it reads), and applies the engine's
//! decisions (pass, relabel, hold, complete) to the objects it already has.

use codex_sdk_engine::{Aggregator, Emit, Event};
use codex_sdk_protocol::{active_turn_id_from_error as active_turn, Headline, Message, RequestId};
use serde::Serialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, JsError> {
    serde_json::to_string(value).map_err(|e| JsError::new(&format!("could not encode the result: {e}")))
}

/// One run (a goal or a plain turn) over the engines' one dispatcher. The JS layer keeps the
/// messages; the engine sees their ids (or, for the methods whose params it reads, their text) and
/// answers with decisions about them, by sequence number.
#[wasm_bindgen]
pub struct RawAggregator {
    inner: Aggregator<u32>,
    decided: Vec<Emit<u32>>,
    /// Strings the JS layer passes by number (methods, thread and turn ids), so the hot path
    /// crosses the boundary with integers only. Index 0 is "none".
    interned: Vec<String>,
}

/// What `push_*` answers: the common cases as a code, anything else through `take()`.
const DROPPED: u32 = 0;
const PASS: u32 = 1;
const RELABEL: u32 = 2;
const HELD: u32 = 3;
const SEE_TAKE: u32 = 4;
const COMPLETED: u32 = 5;
const MADE: u32 = 6;
/// Set on a `push_ids` answer that the JS layer may reuse for the next notification with the same
/// method, thread and turn, without asking again, until a push that is not so marked: the
/// decision depends on nothing else, and this push changed nothing it depends on.
const REUSABLE: u32 = 0x100;

#[wasm_bindgen]
impl RawAggregator {
    pub fn goal(thread_id: &str) -> RawAggregator {
        Self::new(Aggregator::goal(thread_id))
    }

    pub fn turn(thread_id: &str, turn_id: &str) -> RawAggregator {
        Self::new(Aggregator::turn(thread_id, Some(turn_id)))
    }

    fn new(inner: Aggregator<u32>) -> RawAggregator {
        RawAggregator {
            inner,
            decided: Vec::new(),
            interned: vec![String::new()],
        }
    }

    /// Registers a string (a method, a thread or turn id); returns the number to pass it by.
    pub fn intern(&mut self, s: &str) -> u32 {
        self.interned.push(s.to_owned());
        (self.interned.len() - 1) as u32
    }

    /// A notification whose params no engine reads, by its interned method and ids (0: none;
    /// a number never interned reads as none too). Infallible, so the call returns a plain number.
    pub fn push_ids(&mut self, seq: u32, method: u32, thread_id: u32, turn_id: u32) -> u32 {
        let get = |i: u32| self.interned.get(i as usize).filter(|_| i != 0).map(String::as_str);
        let method = get(method).unwrap_or_default();
        // Of the methods whose params no engine reads, only a clear changes the engine's state.
        let stateless = method != codex_sdk_protocol::server_notification::THREAD_GOAL_CLEARED;
        let held = self
            .inner
            .push(Event::ids(method, get(thread_id), get(turn_id)), seq, &mut self.decided);
        match self.code(seq, held) {
            code @ (DROPPED | PASS | RELABEL) if stateless => code | REUSABLE,
            code => code,
        }
    }

    /// A notification as one JSON line (for the methods whose params an engine reads).
    pub fn push_line(&mut self, seq: u32, line: &str) -> Result<u32, JsError> {
        let head = Headline::peek(line).ok_or_else(|| JsError::new(&why_not_a_message(line)))?;
        let Some(event) = Event::from_headline(&head) else {
            return Ok(DROPPED);
        };
        let held = self.inner.push(event, seq, &mut self.decided);
        Ok(self.code(seq, held))
    }

    fn code(&mut self, seq: u32, held: bool) -> u32 {
        let code = match (held, self.decided.as_slice()) {
            (true, []) => HELD,
            (false, []) => DROPPED,
            (false, [Emit::Pass(s)]) if *s == seq => PASS,
            (false, [Emit::Relabel(s)]) if *s == seq => RELABEL,
            _ => return SEE_TAKE,
        };
        self.decided.clear();
        code
    }

    /// The decisions of the last push, in order, as JSON: `[code, seq]`, or `[5, params]` for the
    /// logical `turn/completed`.
    pub fn take(&mut self) -> Result<String, JsError> {
        let decided: Vec<Value> = self
            .decided
            .drain(..)
            .map(|e| match e {
                Emit::Pass(seq) => json!([PASS, seq]),
                Emit::Relabel(seq) => json!([RELABEL, seq]),
                Emit::Completed(c) => json!([COMPLETED, c]),
                Emit::Made(n) => json!([MADE, n]),
            })
            .collect();
        to_json(&decided)
    }

    pub fn done(&self) -> bool {
        self.inner.is_done()
    }

    pub fn logical_turn_id(&self) -> Option<String> {
        self.inner.logical_turn_id().map(str::to_owned)
    }

    /// The physical turn running now, to steer or interrupt.
    pub fn active_turn_id(&self) -> Option<String> {
        self.inner.active_turn_id().map(str::to_owned)
    }

    /// The result as JSON; throws until the run is over.
    pub fn result(&self) -> Result<String, JsError> {
        match self.inner.result() {
            Some(r) => to_json(&r),
            None => Err(JsError::new(
                "the run is not over yet: result() is available once `done` is true",
            )),
        }
    }
}

/// Whether an engine reads this method's params (then push the message with `push_line`).
#[wasm_bindgen(js_name = readsParams)]
pub fn reads_params(method: &str) -> bool {
    codex_sdk_engine::reads_params(method)
}

fn why_not_a_message(line: &str) -> String {
    match serde_json::from_str::<serde::de::IgnoredAny>(line) {
        Err(e) => format!("not JSON: {e}"),
        Ok(_) => "not a JSON-RPC message".into(),
    }
}

/// Classifies one JSON line: `{kind: "request" | "notification" | "response" | "error", ...}` as JSON.
#[wasm_bindgen(js_name = decodeMessage)]
pub fn decode_message(line: &str) -> Result<String, JsError> {
    let message = Message::decode(line).map_err(|e| JsError::new(&e.to_string()))?;
    let shape = match message {
        Message::Request { id, method, params } => {
            json!({"kind": "request", "id": id, "method": method, "params": params})
        }
        Message::Notification { method, params } => json!({"kind": "notification", "method": method, "params": params}),
        Message::Response { id, result } => json!({"kind": "response", "id": id, "result": result}),
        Message::Error { id, error } => json!({"kind": "error", "id": id, "error": error}),
    };
    to_json(&shape)
}

/// One request as a JSON line (no newline), in the app-server's dialect (no `"jsonrpc"` field).
/// `id` and `params` come as JSON text.
#[wasm_bindgen(js_name = encodeRequest)]
pub fn encode_request(id: &str, method: &str, params: Option<String>) -> Result<String, JsError> {
    let id: RequestId =
        serde_json::from_str(id).map_err(|_| JsError::new("encodeRequest: id must be a string or an integer"))?;
    let params: Option<Value> = params
        .map(|p| serde_json::from_str(&p).map_err(|e| JsError::new(&format!("encodeRequest: params: {e}"))))
        .transpose()?;
    Ok(codex_sdk_protocol::encode_request(&id, method, params.as_ref()))
}

/// The turn named by a steer or interrupt error ("... but found X"), to retry with.
#[wasm_bindgen(js_name = activeTurnIdFromError)]
pub fn active_turn_id_from_error(message: &str) -> Option<String> {
    active_turn(message)
}

/// The hot methods and the index field each has (`null`: none), as JSON, in the order of
/// `HOT_METHODS`: the JS layer reads lines of exactly that shape from slices, as the native
/// reader does (crates/protocol/src/hot.rs), so the table has one source.
#[wasm_bindgen(js_name = hotMethods)]
pub fn hot_methods() -> String {
    serde_json::to_string(&codex_sdk_protocol::hot::HOT_METHODS).unwrap_or_default()
}
