//! The engine over JSON lines, for the suite that checks the native engine and the wasm build agree
//! (built only with the `testing` feature). Conversions only.

use codex_sdk_engine::LineAggregator;
use napi::bindgen_prelude::*;
use napi_derive::napi;

/// A goal run or plain turn aggregated from JSON lines, as the client's routes do it.
#[napi]
pub struct BindingAggregator {
    inner: LineAggregator,
}

#[napi]
impl BindingAggregator {
    #[napi(factory, catch_unwind)]
    pub fn goal(thread_id: String) -> Self {
        Self {
            inner: LineAggregator::goal(&thread_id),
        }
    }

    #[napi(factory, catch_unwind)]
    pub fn turn(thread_id: String, turn_id: String) -> Self {
        Self {
            inner: LineAggregator::turn(&thread_id, &turn_id),
        }
    }

    /// One JSON line in; the logical notifications it yields out, as JSON lines. Throws on a line
    /// that is not a JSON-RPC message, as the wasm build does.
    #[napi(catch_unwind)]
    pub fn push(&mut self, line: String) -> Result<Vec<String>> {
        let out = self
            .inner
            .push(&line)
            .map_err(|e| Error::new(Status::InvalidArg, e.0))?;
        Ok(out.iter().map(|l| l.to_string()).collect())
    }

    #[napi(getter, catch_unwind)]
    pub fn done(&self) -> bool {
        self.inner.is_done()
    }

    #[napi(getter, catch_unwind)]
    pub fn logical_turn_id(&self) -> Option<String> {
        self.inner.aggregator().logical_turn_id().map(str::to_owned)
    }

    #[napi(getter, catch_unwind)]
    pub fn current_turn_id(&self) -> Option<String> {
        self.inner.aggregator().active_turn_id().map(str::to_owned)
    }

    /// The result as JSON; throws until the run is over, as the wasm build does.
    #[napi(catch_unwind)]
    pub fn result(&self) -> Result<String> {
        let result = self.inner.result().ok_or_else(|| {
            Error::new(
                Status::GenericFailure,
                "the run is not over yet: result() is available once `done` is true",
            )
        })?;
        serde_json::to_string(&result).map_err(|e| Error::new(Status::GenericFailure, e.to_string()))
    }
}
