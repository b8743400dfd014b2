//! The wasm-bindgen binding: the very engine the native addon uses, with no I/O, for browsers,
//! Electron renderers and workers. Conversions only, and only of strings: messages come in as JSON
//! text and logical events go out as one JSON array text, so no JS value is walked from Rust (a
//! cycle, a throwing getter or deep nesting cannot reach the engine, and a failure is a thrown
//! `Error`, never a trap). The public classes are a thin JavaScript layer over these exports
//! (`src/wasm/api.ts`), which checks arguments and turns objects into text safely first.

use codex_sdk_engine::Aggregator;
use codex_sdk_protocol::{active_turn_id_from_error as active_turn, Message, RequestId};
use serde::Serialize;
use serde_json::{json, Value};
use wasm_bindgen::prelude::*;

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, JsError> {
    serde_json::to_string(value).map_err(|e| JsError::new(&format!("could not encode the result: {e}")))
}

/// One run (a goal or a plain turn) aggregated from a thread's messages, as JSON text.
#[wasm_bindgen]
pub struct RawAggregator {
    inner: Aggregator,
}

#[wasm_bindgen]
impl RawAggregator {
    pub fn goal(thread_id: &str) -> RawAggregator {
        RawAggregator {
            inner: Aggregator::goal(thread_id),
        }
    }

    pub fn turn(thread_id: &str, turn_id: &str) -> RawAggregator {
        RawAggregator {
            inner: Aggregator::turn(thread_id, turn_id),
        }
    }

    /// One message (a JSON line) in; the logical notifications it yields out, as a JSON array.
    pub fn push(&mut self, line: &str) -> Result<String, JsError> {
        let emitted = self.inner.push_json(line).map_err(|e| JsError::new(&e.0))?;
        to_json(&emitted)
    }

    pub fn done(&self) -> bool {
        self.inner.is_done()
    }

    pub fn logical_turn_id(&self) -> Option<String> {
        self.inner.logical_turn_id().map(str::to_owned)
    }

    pub fn current_turn_id(&self) -> Option<String> {
        self.inner.current_turn_id().map(str::to_owned)
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
