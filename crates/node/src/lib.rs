//! The napi-rs binding: conversions between JS and `codex-sdk-client`, nothing else.
//!
//! JSON crosses the boundary as strings: V8's `JSON.parse` builds objects faster than we could
//! one property at a time, and objects nobody reads are never built. Errors cross as JSON in the
//! error message (`{code, message, ...}`); the TypeScript layer turns them into error classes.
//! Every async entry point runs its future as its own tokio task so that a panic becomes a
//! rejected promise (`ERR_PANIC`) instead of taking the Node process down; sync entry points use
//! `catch_unwind`.

#![deny(clippy::all)]

#[cfg(feature = "testing")]
mod engine;

use codex_sdk_client::{
    CancelToken, Client, ClientError, ClientOptions, EventStream, GoalStart, RequestId, RpcError, ServerRequestEvent,
    TurnHandle,
};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;

fn to_napi(e: ClientError) -> Error {
    Error::new(Status::GenericFailure, e.to_json())
}

fn invalid(message: String) -> Error {
    to_napi(ClientError::invalid(message))
}

fn parse_json(what: &str, text: Option<String>) -> Result<Option<Value>> {
    text.map(|t| serde_json::from_str(&t).map_err(|e| invalid(format!("{what} is not valid JSON: {e}"))))
        .transpose()
}

/// Runs a client future on its own task: a panic in it rejects the promise rather than aborting.
async fn guarded<T: Send + 'static>(
    fut: impl Future<Output = std::result::Result<T, ClientError>> + Send + 'static,
) -> Result<T> {
    match tokio::spawn(fut).await {
        Ok(r) => r.map_err(to_napi),
        Err(e) => Err(to_napi(ClientError::new(
            "ERR_PANIC",
            format!("internal error in codex-app-server-sdk: {e}"),
        ))),
    }
}

/// A batch of raw lines as one JSON array text: one JS string and one `JSON.parse` per batch,
/// rather than one of each per notification.
fn joined(batch: Option<Vec<Arc<str>>>) -> Option<String> {
    batch.map(|lines| {
        let mut out = String::with_capacity(lines.iter().map(|l| l.len() + 1).sum::<usize>() + 2);
        out.push('[');
        for (i, l) in lines.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(l);
        }
        out.push(']');
        out
    })
}

/// Spawns the app-server and completes the handshake. `options` is the JSON of `ClientOptions`.
#[napi]
pub async fn start_client(options: String) -> Result<BindingClient> {
    let options: ClientOptions =
        serde_json::from_str(&options).map_err(|e| invalid(format!("invalid Codex options: {e}")))?;
    let client = guarded(Client::start(options)).await?;
    Ok(BindingClient { client })
}

#[napi]
pub struct BindingClient {
    client: Client,
}

/// Aborts a pending start (a JS promise cannot be dropped, so abort is its own call).
#[napi]
pub struct BindingCancel {
    token: Arc<CancelToken>,
}

#[napi]
impl BindingCancel {
    #[napi(constructor)]
    pub fn new() -> Self {
        Self {
            token: Arc::new(CancelToken::default()),
        }
    }

    #[napi(catch_unwind)]
    pub fn cancel(&self) {
        self.token.cancel();
    }
}

impl Default for BindingCancel {
    fn default() -> Self {
        Self::new()
    }
}

#[napi]
impl BindingClient {
    /// JSON of the `initialize` answer plus `serverVersion`.
    #[napi(catch_unwind)]
    pub fn metadata(&self) -> String {
        serde_json::to_string(&self.client.metadata()).unwrap_or_else(|_| "null".into())
    }

    #[napi(getter, catch_unwind)]
    pub fn pid(&self) -> Option<u32> {
        self.client.pid()
    }

    /// Sends a request; resolves with the result's JSON. `timeout_ms` overrides `requestTimeoutMs`.
    #[napi]
    pub async fn request(&self, method: String, params: Option<String>, timeout_ms: Option<f64>) -> Result<String> {
        let params = parse_json("params", params)?;
        let client = self.client.clone();
        let timeout = timeout_ms
            .filter(|t| t.is_finite() && *t > 0.0)
            .map(|t| std::time::Duration::from_millis(t as u64))
            .unwrap_or_else(|| client.request_timeout());
        guarded(async move {
            client
                .request_with(&method, params, Some(timeout))
                .await
                .map(|v| v.to_string())
        })
        .await
    }

    #[napi(catch_unwind)]
    pub fn notify(&self, method: String, params: Option<String>) -> Result<()> {
        let params = parse_json("params", params)?;
        self.client.notify(&method, params).map_err(to_napi)
    }

    /// Every notification from now on.
    #[napi(catch_unwind)]
    pub fn subscribe(&self) -> BindingStream {
        BindingStream {
            events: Arc::new(self.client.subscribe()),
        }
    }

    /// Server requests go to `handler(line)`; it must answer through `respond`. A line without an
    /// `id` is a `serverRequest/resolved` notification: that request needs no answer any more.
    /// The callback is weak: it never keeps the Node event loop alive on its own.
    #[napi(catch_unwind)]
    pub fn set_server_request_handler(
        &self,
        handler: Option<ThreadsafeFunction<String, (), String, Status, false, true>>,
    ) -> Result<()> {
        let handler = handler.map(|tsfn| {
            let tsfn = Arc::new(tsfn);
            Arc::new(move |event: ServerRequestEvent| {
                let raw = match event {
                    ServerRequestEvent::Request(req) => req.raw,
                    ServerRequestEvent::Resolved { raw, .. } => raw,
                };
                tsfn.call(raw.to_string(), ThreadsafeFunctionCallMode::NonBlocking);
            }) as codex_sdk_client::ServerRequestHandler
        });
        self.client.set_server_request_handler(handler);
        Ok(())
    }

    /// Answers a server request with a result (JSON) or an error (`{code, message, data?}` JSON).
    /// Returns false when it was already answered.
    #[napi(catch_unwind)]
    pub fn respond(&self, id: String, result: Option<String>, error: Option<String>) -> Result<bool> {
        let id: RequestId = serde_json::from_str(&id).map_err(|e| invalid(format!("request id: {e}")))?;
        let answer = match (parse_json("result", result)?, error) {
            (_, Some(err)) => Err(serde_json::from_str::<RpcError>(&err).map_err(|e| invalid(format!("error: {e}")))?),
            (result, None) => Ok(result.unwrap_or(Value::Null)),
        };
        self.client.respond(&id, answer).map_err(to_napi)
    }

    /// `turn/start` with these params (JSON, naming `threadId`).
    #[napi]
    pub async fn start_turn(&self, params: String) -> Result<BindingTurn> {
        let params: Value = serde_json::from_str(&params).map_err(|e| invalid(format!("turn params: {e}")))?;
        let client = self.client.clone();
        let handle = guarded(async move { client.start_turn(params).await }).await?;
        Ok(BindingTurn {
            handle: Arc::new(handle),
        })
    }

    /// Starts a goal on `thread_id`; resolves once its first turn started. `cancel` aborts the start.
    #[napi]
    pub fn start_goal(
        &self,
        env: Env,
        thread_id: String,
        objective: String,
        token_budget: Option<i64>,
        start_timeout_ms: f64,
        cancel: &BindingCancel,
    ) -> Result<AsyncBlock<BindingTurn>> {
        let client = self.client.clone();
        let token = cancel.token.clone();
        let start = GoalStart {
            objective,
            token_budget,
            start_timeout: std::time::Duration::from_millis(start_timeout_ms.max(0.0) as u64),
        };
        AsyncBlockBuilder::new(async move {
            let handle = guarded(async move { client.start_goal(&thread_id, start, token).await }).await?;
            Ok(BindingTurn {
                handle: Arc::new(handle),
            })
        })
        .build(&env)
    }

    #[napi]
    pub async fn close(&self) -> Result<()> {
        let client = self.client.clone();
        guarded(async move {
            client.close().await;
            Ok(())
        })
        .await
    }
}

#[napi]
pub struct BindingStream {
    events: Arc<EventStream>,
}

#[napi]
impl BindingStream {
    /// Up to `max` notifications as one JSON array text; `null` once the stream ended.
    #[napi]
    pub async fn next(&self, max: u32) -> Result<Option<String>> {
        let events = self.events.clone();
        guarded(async move { events.next_batch(max as usize).await.map(joined) }).await
    }

    #[napi(catch_unwind)]
    pub fn discard(&self) {
        self.events.discard();
    }
}

#[napi]
pub struct BindingTurn {
    handle: Arc<TurnHandle>,
}

#[napi]
impl BindingTurn {
    #[napi(getter, catch_unwind)]
    pub fn id(&self) -> String {
        self.handle.id().to_owned()
    }

    #[napi(getter, catch_unwind)]
    pub fn thread_id(&self) -> String {
        self.handle.thread_id().to_owned()
    }

    /// Physical turns so far (one for a plain turn).
    #[napi(catch_unwind)]
    pub fn turn_ids(&self) -> Vec<String> {
        self.handle.turn_ids()
    }

    /// JSON of the latest goal snapshot seen, `null` for a plain turn.
    #[napi(catch_unwind)]
    pub fn goal(&self) -> Option<String> {
        self.handle.goal().and_then(|g| serde_json::to_string(&g).ok())
    }

    /// Up to `max` of this turn's notifications as one JSON array text; `null` after `turn/completed`.
    #[napi]
    pub async fn next(&self, max: u32) -> Result<Option<String>> {
        let h = self.handle.clone();
        guarded(async move { h.next_batch(max as usize).await.map(joined) }).await
    }

    #[napi(catch_unwind)]
    pub fn stop_streaming(&self) {
        self.handle.stop_streaming();
    }

    /// The `TurnResult` as JSON.
    #[napi]
    pub async fn result(&self) -> Result<String> {
        let h = self.handle.clone();
        guarded(async move {
            let r = h.result().await?;
            serde_json::to_string(&r).map_err(|e| ClientError::new("ERR_PANIC", e.to_string()))
        })
        .await
    }

    #[napi]
    pub async fn steer(&self, input: String) -> Result<()> {
        let input: Value = serde_json::from_str(&input).map_err(|e| invalid(format!("input: {e}")))?;
        let h = self.handle.clone();
        guarded(async move { h.steer(input).await }).await
    }

    #[napi]
    pub async fn interrupt(&self) -> Result<()> {
        let h = self.handle.clone();
        guarded(async move { h.interrupt().await }).await
    }
}

/// Panics on purpose, for the test that proves a panic in the addon becomes a JS error instead of
/// aborting Node (the same `catch_unwind` every synchronous export has).
#[cfg(feature = "testing")]
#[napi(js_name = "__panicForTests", catch_unwind)]
pub fn panic_for_tests() -> Result<()> {
    if std::hint::black_box(true) {
        panic!("deliberate panic (sync)");
    }
    Ok(())
}

/// The async half of `__panicForTests`.
#[cfg(feature = "testing")]
#[napi(js_name = "__panicForTestsAsync")]
pub async fn panic_for_tests_async() -> Result<()> {
    guarded(async {
        if std::hint::black_box(true) {
            panic!("deliberate panic (async)");
        }
        Ok(())
    })
    .await
}
