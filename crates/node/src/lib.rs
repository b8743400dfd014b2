//! The napi-rs binding: conversions between JS and `codex-sdk-client`, nothing else.
//!
//! JSON crosses the boundary as strings: V8's `JSON.parse` builds objects faster than we could
//! one property at a time, and objects nobody reads are never built. Errors cross as data: every
//! fallible export returns `Either<T, BindingError>`, a plain object with a stable `code`, which
//! the TypeScript layer turns into its error classes (as rolldown's `BindingResult` does). Every
//! async export runs its future as its own tokio task so that a panic becomes an `ERR_PANIC` error
//! instead of taking the Node process down; sync exports use `catch_unwind`.

#![deny(clippy::all)]

#[cfg(feature = "testing")]
mod engine;
mod options;

use codex_sdk_client::{
    code, Batch, CancelToken, Client, ClientError, EventStream, GoalResume, GoalStart, RequestId, RpcError,
    ServerRequestEvent, SplitBatch, Taken, TurnHandle, STRIDE,
};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use options::{BindingClientOptions, BindingConnectOptions};

/// An error as data: the `code` is stable; which other fields are set depends on it.
#[napi(object)]
pub struct BindingError {
    pub code: String,
    pub message: String,
    /// The request it concerns.
    pub method: Option<String>,
    /// `ERR_RPC`: the JSON-RPC error's code and data.
    pub rpc_code: Option<i64>,
    pub data: Option<Value>,
    /// `ERR_TRANSPORT_CLOSED`: how the app-server ended, and the last of its stderr.
    pub exit_code: Option<i32>,
    pub signal: Option<String>,
    pub stderr_tail: Option<String>,
}

impl From<ClientError> for BindingError {
    fn from(e: ClientError) -> Self {
        let d = *e.details;
        Self {
            code: e.code.to_owned(),
            message: e.message,
            method: d.method,
            rpc_code: d.rpc_code,
            data: d.data,
            exit_code: d.exit_code,
            signal: d.signal,
            stderr_tail: d.stderr_tail,
        }
    }
}

fn outcome<T>(r: std::result::Result<T, ClientError>) -> Either<T, BindingError> {
    match r {
        Ok(v) => Either::A(v),
        Err(e) => Either::B(e.into()),
    }
}

fn invalid<T>(message: String) -> Either<T, BindingError> {
    Either::B(ClientError::invalid(message).into())
}

fn parse_json(what: &str, text: Option<String>) -> std::result::Result<Option<Value>, ClientError> {
    text.map(|t| serde_json::from_str(&t).map_err(|e| ClientError::invalid(format!("{what} is not valid JSON: {e}"))))
        .transpose()
}

fn duration(what: &str, ms: Option<f64>) -> std::result::Result<Option<Duration>, ClientError> {
    options::millis(what, ms).map(|ms| ms.map(Duration::from_millis))
}

/// How long a goal's start may wait for its first turn (`startTimeoutMs`, 30 s unless given).
fn start_timeout(ms: Option<f64>) -> std::result::Result<Duration, ClientError> {
    duration("startTimeoutMs", ms).map(|t| t.unwrap_or(Duration::from_secs(30)))
}

/// Runs a client future on its own task: a panic in it becomes `ERR_PANIC` rather than an abort.
async fn guarded<T: Send + 'static>(
    fut: impl Future<Output = std::result::Result<T, ClientError>> + Send + 'static,
) -> Either<T, BindingError> {
    outcome(match tokio::spawn(fut).await {
        Ok(r) => r,
        Err(e) => Err(ClientError::new(
            code::PANIC,
            format!("internal error in codex-app-server-sdk (please report it): {e}"),
        )),
    })
}

/// A batch as it crosses: the hot deltas as fields (built in JavaScript from slices and interned
/// ids), the other lines as one JSON array text, one `JSON.parse` per batch (see `SplitBatch`).
#[napi(object)]
pub struct BindingBatch {
    pub cold: String,
    pub text: String,
    pub layout: Float64Array,
    pub ids: Vec<String>,
}

/// How a batch's deltas are laid out: a line's kind is 0 for one in `cold`, else 1 + its method's
/// place in `methods`; `index_fields[k]` is that method's integer field ("" for none); `stride`
/// numbers describe each line. Read once by JavaScript, so the table has one source (hot.rs).
#[napi(object)]
pub struct BindingHotLayout {
    pub methods: Vec<String>,
    pub index_fields: Vec<String>,
    pub stride: u32,
}

#[napi]
pub fn hot_layout() -> BindingHotLayout {
    let hot = codex_sdk_protocol::hot::HOT_METHODS;
    BindingHotLayout {
        methods: hot.iter().map(|(m, _)| m.to_string()).collect(),
        index_fields: hot.iter().map(|(_, f)| f.unwrap_or_default().to_string()).collect(),
        stride: STRIDE as u32,
    }
}

/// What is already waiting, without waiting, split here on the JS thread: the batch; `true`, the
/// stream ended; `false`, nothing yet (then `next()` waits for it). A consumer that keeps up with
/// a flood takes every batch this way, with no hop to a worker thread and back per batch.
fn now(taken: std::result::Result<Taken, ClientError>) -> Either3<BindingBatch, bool, BindingError> {
    match taken {
        Ok(Taken::Batch(b)) => Either3::A(convert(b)),
        Ok(Taken::Ended) => Either3::B(true),
        Ok(Taken::Nothing) => Either3::B(false),
        Err(e) => Either3::C(e.into()),
    }
}

fn split(batch: Option<Batch>) -> Option<BindingBatch> {
    batch.map(convert)
}

fn convert(batch: Batch) -> BindingBatch {
    let SplitBatch {
        cold,
        text,
        layout,
        ids,
    } = batch.split();
    BindingBatch {
        cold,
        text,
        layout: layout.into(),
        ids,
    }
}

/// Spawns the app-server and completes the handshake.
#[napi]
pub async fn start_client(options: BindingClientOptions) -> Either<BindingClient, BindingError> {
    let options = match options.into_client_options() {
        Ok(o) => o,
        Err(e) => return Either::B(e.into()),
    };
    match guarded(Client::start(options)).await {
        Either::A(client) => Either::A(BindingClient { client }),
        Either::B(e) => Either::B(e),
    }
}

/// Connects to a running app-server and completes the handshake.
#[napi]
pub async fn connect_client(options: BindingConnectOptions) -> Either<BindingClient, BindingError> {
    let (options, connect) = match options.into_connect_options() {
        Ok(o) => o,
        Err(e) => return Either::B(e.into()),
    };
    match guarded(Client::connect(options, connect)).await {
        Either::A(client) => Either::A(BindingClient { client }),
        Either::B(e) => Either::B(e),
    }
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
    pub async fn request(
        &self,
        method: String,
        params: Option<String>,
        timeout_ms: Option<f64>,
    ) -> Either<String, BindingError> {
        let (params, timeout) = match (parse_json("params", params), duration("timeoutMs", timeout_ms)) {
            (Ok(p), Ok(t)) => (p, t),
            (Err(e), _) | (_, Err(e)) => return Either::B(e.with_method(&method).into()),
        };
        let client = self.client.clone();
        let timeout = timeout.unwrap_or_else(|| client.request_timeout());
        guarded(async move {
            client
                .request_with(&method, params, Some(timeout))
                .await
                .map(|v| v.to_string())
        })
        .await
    }

    #[napi(catch_unwind)]
    pub fn notify(&self, method: String, params: Option<String>) -> Either<(), BindingError> {
        outcome(parse_json("params", params).and_then(|p| self.client.notify(&method, p)))
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
    ) {
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
    }

    /// Answers a server request with a result (JSON text) or an error. A result that is not valid
    /// JSON is answered with an error saying so. Resolves false when it was already answered.
    #[napi(catch_unwind)]
    pub fn respond(
        &self,
        id: String,
        result: Option<String>,
        error: Option<BindingRpcError>,
    ) -> Either<bool, BindingError> {
        let id: RequestId = match serde_json::from_str(&id) {
            Ok(id) => id,
            Err(e) => return invalid(format!("respond: the request id is not valid JSON: {e}")),
        };
        outcome(match error {
            Some(e) => self.client.respond(
                &id,
                Err(RpcError {
                    code: e.code,
                    message: e.message,
                    data: None,
                }),
            ),
            None => self.client.respond_json(&id, result.as_deref().unwrap_or("null")),
        })
    }

    /// `turn/start` with these params (JSON, naming `threadId`). `cancel` aborts the start.
    #[napi]
    pub fn start_turn(
        &self,
        env: Env,
        params: String,
        cancel: &BindingCancel,
    ) -> Result<AsyncBlock<Either<BindingTurn, BindingError>>> {
        let client = self.client.clone();
        let token = cancel.token.clone();
        AsyncBlockBuilder::new(async move {
            let params: Value = match serde_json::from_str(&params) {
                Ok(p) => p,
                Err(e) => return Ok(invalid(format!("turn/start: params are not valid JSON: {e}"))),
            };
            Ok(turn(
                guarded(async move { client.start_turn(params, token).await }).await,
            ))
        })
        .build(&env)
    }

    /// Starts a goal on `thread_id`; resolves once its first turn started. `cancel` aborts the start.
    #[napi]
    pub fn start_goal(
        &self,
        env: Env,
        thread_id: String,
        objective: String,
        token_budget: Option<i64>,
        start_timeout_ms: Option<f64>,
        cancel: &BindingCancel,
    ) -> Result<AsyncBlock<Either<BindingTurn, BindingError>>> {
        let client = self.client.clone();
        let token = cancel.token.clone();
        let start_timeout = start_timeout(start_timeout_ms);
        AsyncBlockBuilder::new(async move {
            let start_timeout = match start_timeout {
                Ok(t) => t,
                Err(e) => return Ok(Either::B(e.into())),
            };
            let start = GoalStart {
                objective,
                token_budget,
                start_timeout,
            };
            Ok(turn(
                guarded(async move { client.start_goal(&thread_id, start, token).await }).await,
            ))
        })
        .build(&env)
    }

    /// A handle on the thread's current goal run, whoever started it. `cancel` aborts the attach.
    #[napi]
    pub fn attach_goal(
        &self,
        env: Env,
        thread_id: String,
        cancel: &BindingCancel,
    ) -> Result<AsyncBlock<Either<BindingTurn, BindingError>>> {
        let client = self.client.clone();
        let token = cancel.token.clone();
        AsyncBlockBuilder::new(async move {
            Ok(turn(
                guarded(async move { client.attach_goal(&thread_id, token).await }).await,
            ))
        })
        .build(&env)
    }

    /// Sets the thread's paused or limited goal active again; resolves once the new run's first
    /// turn started. `token_budget`: a JSON number or `null` (no budget); absent: unchanged.
    #[napi]
    pub fn resume_goal(
        &self,
        env: Env,
        thread_id: String,
        token_budget: Option<String>,
        start_timeout_ms: Option<f64>,
        cancel: &BindingCancel,
    ) -> Result<AsyncBlock<Either<BindingTurn, BindingError>>> {
        let client = self.client.clone();
        let token = cancel.token.clone();
        let start_timeout = start_timeout(start_timeout_ms);
        AsyncBlockBuilder::new(async move {
            let start_timeout = match start_timeout {
                Ok(t) => t,
                Err(e) => return Ok(Either::B(e.into())),
            };
            let token_budget = match token_budget
                .map(|b| serde_json::from_str::<Option<i64>>(&b))
                .transpose()
            {
                Ok(b) => b,
                Err(e) => {
                    return Ok(invalid(format!(
                        "resumeGoal: tokenBudget must be an integer or null: {e}"
                    )))
                }
            };
            let resume = GoalResume {
                token_budget,
                start_timeout,
            };
            Ok(turn(
                guarded(async move { client.resume_goal(&thread_id, resume, token).await }).await,
            ))
        })
        .build(&env)
    }

    #[napi]
    pub async fn close(&self) -> Either<(), BindingError> {
        let client = self.client.clone();
        guarded(async move {
            client.close().await;
            Ok(())
        })
        .await
    }
}

fn turn(started: Either<TurnHandle, BindingError>) -> Either<BindingTurn, BindingError> {
    match started {
        Either::A(handle) => Either::A(BindingTurn {
            handle: Arc::new(handle),
        }),
        Either::B(e) => Either::B(e),
    }
}

/// A JSON-RPC error to answer a server request with.
#[napi(object)]
pub struct BindingRpcError {
    pub code: i64,
    pub message: String,
}

#[napi]
pub struct BindingStream {
    events: Arc<EventStream>,
}

#[napi]
impl BindingStream {
    /// Up to `max` notifications as a `BindingBatch`; `null` once the stream ended.
    #[napi]
    pub async fn next(&self, max: u32) -> Either<Option<BindingBatch>, BindingError> {
        let events = self.events.clone();
        guarded(async move { events.next_batch(max as usize).await.map(split) }).await
    }

    /// What is already waiting, without waiting (see `now`).
    #[napi(catch_unwind)]
    pub fn now(&self, max: u32) -> Either3<BindingBatch, bool, BindingError> {
        now(self.events.try_next_batch(max as usize))
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

    /// Up to `max` of this turn's notifications as a `BindingBatch`; `null` after `turn/completed`.
    #[napi]
    pub async fn next(&self, max: u32) -> Either<Option<BindingBatch>, BindingError> {
        let h = self.handle.clone();
        guarded(async move { h.next_batch(max as usize).await.map(split) }).await
    }

    /// What is already waiting of this turn's notifications, without waiting (see `now`).
    #[napi(catch_unwind)]
    pub fn now(&self, max: u32) -> Either3<BindingBatch, bool, BindingError> {
        now(self.handle.try_next_batch(max as usize))
    }

    #[napi(catch_unwind)]
    pub fn stop_streaming(&self) {
        self.handle.stop_streaming();
    }

    /// The `TurnResult` as JSON.
    #[napi]
    pub async fn result(&self) -> Either<String, BindingError> {
        let h = self.handle.clone();
        guarded(async move {
            let r = h.result().await?;
            serde_json::to_string(&r).map_err(|e| ClientError::new(code::PANIC, e.to_string()))
        })
        .await
    }

    #[napi]
    pub async fn steer(&self, input: String) -> Either<(), BindingError> {
        let input: Value = match serde_json::from_str(&input) {
            Ok(i) => i,
            Err(e) => return invalid(format!("turn/steer: input is not valid JSON: {e}")),
        };
        let h = self.handle.clone();
        guarded(async move { h.steer(input).await }).await
    }

    #[napi]
    pub async fn interrupt(&self) -> Either<(), BindingError> {
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
pub async fn panic_for_tests_async() -> Either<(), BindingError> {
    guarded(async {
        if std::hint::black_box(true) {
            panic!("deliberate panic (async)");
        }
        Ok(())
    })
    .await
}
