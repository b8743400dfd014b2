//! The sans-IO engine for Node callers that have their own message stream (and for the suite
//! that checks native and wasm agree). Conversions only.

use codex_sdk_engine::Aggregator;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// A goal run or plain turn aggregated from JSON lines.
#[napi]
pub struct BindingAggregator {
    inner: Aggregator,
}

#[napi]
impl BindingAggregator {
    #[napi(factory, catch_unwind)]
    pub fn goal(thread_id: String) -> Self {
        Self {
            inner: Aggregator::goal(&thread_id),
        }
    }

    #[napi(factory, catch_unwind)]
    pub fn turn(thread_id: String, turn_id: String) -> Self {
        Self {
            inner: Aggregator::turn(&thread_id, &turn_id),
        }
    }

    /// One JSON line in; the logical notifications it yields out, as JSON lines.
    #[napi(catch_unwind)]
    pub fn push(&mut self, line: String) -> Result<Vec<String>> {
        let out = self
            .inner
            .push_json(&line)
            .map_err(|e| Error::new(Status::InvalidArg, e.0))?;
        Ok(out.iter().map(|v| v.to_string()).collect())
    }

    #[napi(getter, catch_unwind)]
    pub fn done(&self) -> bool {
        self.inner.is_done()
    }

    #[napi(getter, catch_unwind)]
    pub fn logical_turn_id(&self) -> Option<String> {
        self.inner.logical_turn_id().map(str::to_owned)
    }

    #[napi(getter, catch_unwind)]
    pub fn current_turn_id(&self) -> Option<String> {
        self.inner.current_turn_id().map(str::to_owned)
    }

    /// The result as JSON, once the run is over.
    #[napi(catch_unwind)]
    pub fn result(&self) -> Option<String> {
        self.inner.result().and_then(|r| serde_json::to_string(&r).ok())
    }
}
