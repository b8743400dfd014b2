//! The wasm-bindgen binding: the very engine the native addon uses, with no I/O, for browsers,
//! Electron renderers and workers. Conversions only: values cross as plain JSON-compatible
//! objects (never `Map`s), and malformed input throws an `Error` instead of yielding garbage.

use codex_sdk_engine::Aggregator;
use codex_sdk_protocol::{active_turn_id_from_error as active_turn, Message, RequestId};
use serde::Serialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

fn to_js<T: Serialize + ?Sized>(value: &T) -> Result<JsValue, JsError> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| JsError::new(&format!("could not convert to a JS value: {e}")))
}

/// A message given as one JSON line or as an already-parsed object.
fn message_from_js(message: JsValue) -> Result<Value, JsError> {
    match message.as_string() {
        Some(line) => serde_json::from_str(&line).map_err(|e| JsError::new(&format!("not JSON: {e}"))),
        None => serde_wasm_bindgen::from_value(message)
            .map_err(|e| JsError::new(&format!("not a JSON-compatible message: {e}"))),
    }
}

/// Shared body of both aggregator classes.
fn push(agg: &mut Aggregator, message: JsValue) -> Result<JsValue, JsError> {
    let emitted = agg
        .push_value(message_from_js(message)?)
        .map_err(|e| JsError::new(&e.0))?;
    to_js(&emitted)
}

/// `null` rather than `undefined` for "none", as the typed API promises.
fn nullable(s: Option<&str>) -> JsValue {
    s.map_or(JsValue::NULL, JsValue::from_str)
}

fn result(agg: &Aggregator) -> Result<JsValue, JsError> {
    match agg.result() {
        Some(r) => to_js(&r),
        None => Err(JsError::new(
            "the run is not over yet: result() is available once `done` is true",
        )),
    }
}

/// Follows a goal run on one thread; feed it every notification of that thread, in order.
#[wasm_bindgen]
pub struct GoalAggregator {
    inner: Aggregator,
}

#[wasm_bindgen]
impl GoalAggregator {
    #[wasm_bindgen(constructor)]
    pub fn new(thread_id: &str) -> GoalAggregator {
        GoalAggregator {
            inner: Aggregator::goal(thread_id),
        }
    }

    /// Takes a parsed message or one JSON line; returns the logical notifications it yields.
    pub fn push(&mut self, message: JsValue) -> Result<JsValue, JsError> {
        push(&mut self.inner, message)
    }

    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.inner.is_done()
    }

    #[wasm_bindgen(getter, js_name = logicalTurnId)]
    pub fn logical_turn_id(&self) -> JsValue {
        nullable(self.inner.logical_turn_id())
    }

    /// The physical turn to steer or interrupt now.
    #[wasm_bindgen(getter, js_name = currentTurnId)]
    pub fn current_turn_id(&self) -> JsValue {
        nullable(self.inner.current_turn_id())
    }

    /// The aggregated result; throws until `done`. A failed run is returned, not thrown.
    pub fn result(&self) -> Result<JsValue, JsError> {
        result(&self.inner)
    }
}

/// Follows one plain turn; feed it every notification of its thread, in order.
#[wasm_bindgen]
pub struct TurnAggregator {
    inner: Aggregator,
}

#[wasm_bindgen]
impl TurnAggregator {
    #[wasm_bindgen(constructor)]
    pub fn new(thread_id: &str, turn_id: &str) -> TurnAggregator {
        TurnAggregator {
            inner: Aggregator::turn(thread_id, turn_id),
        }
    }

    pub fn push(&mut self, message: JsValue) -> Result<JsValue, JsError> {
        push(&mut self.inner, message)
    }

    #[wasm_bindgen(getter)]
    pub fn done(&self) -> bool {
        self.inner.is_done()
    }

    pub fn result(&self) -> Result<JsValue, JsError> {
        result(&self.inner)
    }
}

/// Classifies one JSON line: `{kind: "request" | "notification" | "response" | "error", ...}`.
#[wasm_bindgen(js_name = decodeMessage)]
pub fn decode_message(line: &str) -> Result<JsValue, JsError> {
    let message = Message::decode(line).map_err(|e| JsError::new(&e.to_string()))?;
    let shape = match message {
        Message::Request { id, method, params } => {
            json!({"kind": "request", "id": id, "method": method, "params": params})
        }
        Message::Notification { method, params } => json!({"kind": "notification", "method": method, "params": params}),
        Message::Response { id, result } => json!({"kind": "response", "id": id, "result": result}),
        Message::Error { id, error } => json!({"kind": "error", "id": id, "error": error}),
    };
    to_js(&shape)
}

/// One request as a JSON line (no newline), in the app-server's dialect (no `"jsonrpc"` field).
#[wasm_bindgen(js_name = encodeRequest)]
pub fn encode_request(id: JsValue, method: &str, params: JsValue) -> Result<String, JsError> {
    let id: RequestId = serde_wasm_bindgen::from_value(id)
        .map_err(|_| JsError::new("encodeRequest: id must be a string or an integer"))?;
    let params: Option<Value> = if params.is_undefined() || params.is_null() {
        None
    } else {
        Some(serde_wasm_bindgen::from_value(params).map_err(|e| JsError::new(&format!("encodeRequest: params: {e}")))?)
    };
    Ok(codex_sdk_protocol::encode_request(&id, method, params.as_ref()))
}

/// The turn named by a steer or interrupt error ("... but found X"), to retry with.
#[wasm_bindgen(js_name = activeTurnIdFromError)]
pub fn active_turn_id_from_error(message: &str) -> JsValue {
    nullable(active_turn(message).as_deref())
}
