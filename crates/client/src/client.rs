//! The connection: spawns the app-server, runs its reader, writer and supervisor tasks, and routes
//! what comes back to pending requests, running turns, subscribers and the server-request handler.

use crate::error::{code, ClientError};
use crate::options::ClientOptions;
use crate::pending::Pending;
use crate::process::{self, Exit, KillSignal};
use crate::retry;
use crate::route::Route;
use crate::server_request::{default_answer, ServerRequest, ServerRequestEvent};
use crate::stderr_tail::StderrTail;
use crate::stream::{self, EventStream};
use codex_sdk_protocol::{
    encode_error_response, encode_notification, encode_request, encode_response, thread_id_of, turn_id_of, Headline,
    Message, RequestId, RpcError,
};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::{mpsc, watch};

/// What the `initialize` response told us about the server.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Metadata {
    pub user_agent: String,
    pub codex_home: String,
    pub platform_family: String,
    pub platform_os: String,
    pub server_version: Option<String>,
}

pub type ServerRequestHandler = Arc<dyn Fn(ServerRequestEvent) + Send + Sync>;

/// A connection to one app-server process. Cheap to clone; all clones share the process.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) options: ClientOptions,
    writer: Mutex<Option<mpsc::UnboundedSender<String>>>,
    state: Mutex<State>,
    pid: Option<u32>,
    stderr: StderrTail,
    kill: mpsc::UnboundedSender<KillSignal>,
    exit: watch::Receiver<Option<Exit>>,
    metadata: Mutex<Option<Metadata>>,
    handler: Mutex<Option<ServerRequestHandler>>,
}

#[derive(Default)]
struct State {
    pending: Pending,
    /// One running turn (or goal) per thread, keyed by thread id.
    routes: HashMap<String, Arc<Route>>,
    subscribers: Vec<stream::Sender>,
    /// Server requests handed to the embedder and not answered yet.
    server_requests: HashMap<RequestId, String>,
    /// Set once: why the connection is gone.
    closed: Option<ClientError>,
    closing: bool,
}

impl Client {
    /// Spawns `codex app-server` and completes the handshake within `startup_timeout_ms`.
    pub async fn start(options: ClientOptions) -> Result<Client, ClientError> {
        let startup = options.startup_timeout();
        let args = options.args().map_err(ClientError::invalid)?;
        let spawned = process::spawn(&options, &args)?;
        let (writer_tx, writer_rx) = mpsc::unbounded_channel::<String>();
        let (kill_tx, kill_rx) = mpsc::unbounded_channel();
        let (exit_tx, exit_rx) = watch::channel(None);
        let stderr = StderrTail::default();
        let inner = Arc::new(Inner {
            options,
            writer: Mutex::new(Some(writer_tx)),
            state: Mutex::new(State::default()),
            pid: spawned.pid,
            stderr: stderr.clone(),
            kill: kill_tx,
            exit: exit_rx,
            metadata: Mutex::new(None),
            handler: Mutex::new(None),
        });
        tokio::spawn(stderr.collect(spawned.stderr));
        tokio::spawn(write_lines(spawned.stdin, writer_rx));
        let reader = tokio::spawn(read_lines(Arc::downgrade(&inner), spawned.stdout));
        tokio::spawn(supervise(
            Arc::downgrade(&inner),
            spawned.child,
            spawned.tree,
            kill_rx,
            exit_tx,
            reader,
        ));

        let client = Client { inner };
        match tokio::time::timeout(startup, client.handshake()).await {
            Ok(Ok(())) => Ok(client),
            Ok(Err(e)) => {
                client.close().await;
                Err(e)
            }
            Err(_) => {
                client.close().await;
                let mut e = ClientError::new(
                    code::TIMEOUT,
                    format!(
                        "the app-server did not complete its handshake within {} ms",
                        startup.as_millis()
                    ),
                )
                .with_method("initialize");
                e.details.stderr_tail = Some(client.inner.stderr.readable());
                Err(e)
            }
        }
    }

    async fn handshake(&self) -> Result<(), ClientError> {
        let o = &self.inner.options;
        let params = json!({
            "clientInfo": { "name": o.client_info.name, "title": o.client_info.title, "version": o.client_info.version },
            "capabilities": { "experimentalApi": o.experimental_api },
        });
        let result = self.request_with("initialize", Some(params), None).await?;
        let text = |k: &str| result.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
        let user_agent = text("userAgent");
        let server_version = server_version(&user_agent);
        *lock(&self.inner.metadata) = Some(Metadata {
            user_agent,
            codex_home: text("codexHome"),
            platform_family: text("platformFamily"),
            platform_os: text("platformOs"),
            server_version,
        });
        self.notify("initialized", None)
    }

    pub fn metadata(&self) -> Option<Metadata> {
        lock(&self.inner.metadata).clone()
    }

    /// The default bound on one request (`requestTimeoutMs`).
    pub fn request_timeout(&self) -> Duration {
        self.inner.options.request_timeout()
    }

    pub fn pid(&self) -> Option<u32> {
        self.inner.pid
    }

    /// Sends a request and waits for its answer, within `requestTimeoutMs`.
    pub async fn request(&self, method: &str, params: Option<Value>) -> Result<Value, ClientError> {
        self.request_with(method, params, Some(self.inner.options.request_timeout()))
            .await
    }

    /// Sends a request; `timeout` of `None` waits as long as the connection lives. A read the
    /// server turns away as overloaded is retried with backoff, within the same `timeout`.
    pub async fn request_with(
        &self,
        method: &str,
        params: Option<Value>,
        timeout: Option<Duration>,
    ) -> Result<Value, ClientError> {
        let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
        let mut attempt = 1;
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(tokio::time::Instant::now()));
            let error = match self.send_once(method, params.clone(), left, timeout).await {
                Err(e) if e.details.rpc_code == Some(retry::OVERLOADED) => e,
                other => return other,
            };
            let wait = retry::backoff(attempt);
            let in_time = left.is_none_or(|l| l > wait);
            if attempt >= retry::MAX_ATTEMPTS || !retry::safe_to_retry(method) || !in_time {
                return Err(error);
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }

    async fn send_once(
        &self,
        method: &str,
        params: Option<Value>,
        left: Option<Duration>,
        timeout: Option<Duration>,
    ) -> Result<Value, ClientError> {
        let (id, rx) = {
            let mut st = self.inner.state();
            if let Some(e) = &st.closed {
                return Err(e.clone().with_method(method));
            }
            st.pending.insert(method)
        };
        self.inner.write(encode_request(&id, method, params.as_ref()))?;
        let answer = match left {
            Some(t) => match tokio::time::timeout(t, rx).await {
                Ok(answer) => answer,
                Err(_) => {
                    self.inner.state().pending.forget(&id);
                    let ms = timeout.unwrap_or(t).as_millis() as u64;
                    return Err(ClientError::timeout(method, ms));
                }
            },
            None => rx.await,
        };
        answer.unwrap_or_else(|_| Err(self.inner.closed_error().with_method(method)))
    }

    pub fn notify(&self, method: &str, params: Option<Value>) -> Result<(), ClientError> {
        self.inner.write(encode_notification(method, params.as_ref()))
    }

    /// Every notification from now on, as raw lines.
    pub fn subscribe(&self) -> EventStream {
        let (tx, stream) = stream::channel();
        let mut st = self.inner.state();
        match &st.closed {
            Some(e) => {
                let _ = tx.send(Err(e.clone()));
            }
            None => st.subscribers.push(tx),
        }
        stream
    }

    /// Installs the handler for server requests. It must lead to [`respond`](Self::respond) for each
    /// request; one left unanswered for `serverRequestTimeoutMs` gets the default answer.
    pub fn set_server_request_handler(&self, handler: Option<ServerRequestHandler>) {
        *lock(&self.inner.handler) = handler;
    }

    /// Answers a server request with the embedder's JSON text. An answer that is not valid JSON
    /// (a lone surrogate, say) is replaced by a JSON-RPC error saying so: the server is never left
    /// waiting for an answer that cannot be sent.
    pub fn respond_json(&self, id: &RequestId, result: &str) -> Result<bool, ClientError> {
        let answer = serde_json::from_str(result).map_err(|e| RpcError {
            code: -32603,
            message: format!("the client's answer could not be sent: it is not valid JSON ({e})"),
            data: None,
        });
        self.respond(id, answer)
    }

    /// Answers a server request. Returns false when it was already answered (or never asked).
    pub fn respond(&self, id: &RequestId, answer: Result<Value, RpcError>) -> Result<bool, ClientError> {
        if self.inner.state().server_requests.remove(id).is_none() {
            return Ok(false);
        }
        self.inner.answer(id, answer)?;
        Ok(true)
    }

    /// Ends the app-server: close its stdin, wait, then TERM, then KILL, and reap it. Everything
    /// still pending fails with `ERR_TRANSPORT_CLOSED`. Idempotent.
    pub async fn close(&self) {
        self.inner.state().closing = true;
        lock(&self.inner.writer).take();
        let mut exit = self.inner.exit.clone();
        for (signal, grace) in [
            (None, 2_000),
            (Some(KillSignal::Term), 2_000),
            (Some(KillSignal::Kill), 5_000),
        ] {
            if let Some(s) = signal {
                let _ = self.inner.kill.send(s);
            }
            let waited = tokio::time::timeout(Duration::from_millis(grace), exit.wait_for(Option::is_some)).await;
            if waited.is_ok() {
                break;
            }
        }
        // The supervisor settles everything once the process is reaped; make sure it has, even if
        // the process could not be reaped in time.
        self.inner.shutdown(self.inner.closed_error());
    }

    /// Makes `route` the thread's run. A run that was told to stop is waited for (bounded by the
    /// request timeout), so a turn started right after an interrupt or an aborted start is not
    /// refused; a run still going refuses with `ERR_THREAD_BUSY`.
    pub(crate) async fn reserve(&self, thread_id: &str, route: Arc<Route>) -> Result<(), ClientError> {
        let busy = || {
            ClientError::new(
                code::THREAD_BUSY,
                format!("thread {thread_id} is already running a turn or goal started by this client"),
            )
        };
        let mut waited = false;
        loop {
            let stopping = {
                let mut st = self.inner.state();
                if let Some(e) = &st.closed {
                    return Err(e.clone());
                }
                match st.routes.get(thread_id) {
                    Some(r) if !r.is_done() && r.is_stopping() && !waited => r.clone(),
                    Some(r) if !r.is_done() => return Err(busy()),
                    _ => {
                        st.routes.insert(thread_id.to_owned(), route);
                        return Ok(());
                    }
                }
            };
            stopping.wait_done(self.request_timeout()).await;
            waited = true;
        }
    }

    pub(crate) fn release(&self, thread_id: &str, route: &Arc<Route>) {
        let mut st = self.inner.state();
        if st.routes.get(thread_id).is_some_and(|r| Arc::ptr_eq(r, route)) {
            st.routes.remove(thread_id);
        }
    }
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    fn write(&self, line: String) -> Result<(), ClientError> {
        let sent = lock(&self.writer)
            .as_ref()
            .map(|w| w.send(line).is_ok())
            .unwrap_or(false);
        if sent {
            Ok(())
        } else {
            Err(self.closed_error())
        }
    }

    fn answer(&self, id: &RequestId, answer: Result<Value, RpcError>) -> Result<(), ClientError> {
        self.write(match answer {
            Ok(v) => encode_response(id, v),
            Err(e) => encode_error_response(id, e),
        })
    }

    /// Why the connection is (about to be) unusable.
    fn closed_error(&self) -> ClientError {
        let st = self.state();
        if let Some(e) = &st.closed {
            return e.clone();
        }
        let closing = st.closing;
        drop(st);
        self.transport_error(closing, self.exit.borrow().clone())
    }

    fn transport_error(&self, closing: bool, exit: Option<Exit>) -> ClientError {
        let message = match (&exit, closing) {
            (_, true) => "the client was closed".to_owned(),
            (Some(Exit { code: Some(c), .. }), _) => format!("the app-server exited with code {c}"),
            (Some(Exit { signal: Some(s), .. }), _) => format!("the app-server was killed by {s}"),
            _ => "the app-server closed its output".to_owned(),
        };
        let mut e = ClientError::new(code::TRANSPORT_CLOSED, message);
        if let Some(x) = exit {
            e.details.exit_code = x.code;
            e.details.signal = x.signal;
        }
        // What the process logged explains a death, not a close the caller asked for.
        if !closing {
            e.details.stderr_tail = Some(self.stderr.readable());
        }
        e
    }

    /// Settles everything with `error`, once.
    fn shutdown(&self, error: ClientError) {
        let (routes, subscribers) = {
            let mut st = self.state();
            if st.closed.is_some() {
                return;
            }
            st.closed = Some(error.clone());
            st.pending.fail_all(&error);
            st.server_requests.clear();
            (std::mem::take(&mut st.routes), std::mem::take(&mut st.subscribers))
        };
        lock(&self.writer).take();
        for route in routes.values() {
            route.fail(&error);
        }
        for s in subscribers {
            let _ = s.send(Err(error.clone()));
        }
    }

    fn on_line(self: &Arc<Self>, line: &str) {
        if line.trim().is_empty() {
            return;
        }
        // Hot path: a notification is routed on its headline; its params are parsed only when
        // the route that takes it reads them.
        if let Some(head) = Headline::peek(line).filter(Headline::is_notification) {
            let method = head.method.as_deref().unwrap_or_default();
            let raw: Arc<str> = Arc::from(line);
            let full = || {
                serde_json::from_str::<Value>(line)
                    .map(|mut v| v["params"].take())
                    .unwrap_or(Value::Null)
            };
            if method == "serverRequest/resolved" {
                self.on_server_request_resolved(&full(), &raw);
            }
            let (thread, turn) = (head.thread_id(), head.turn_id());
            self.broadcast(thread, turn, method, &raw, |needs_all| {
                if needs_all {
                    full()
                } else {
                    json!({"threadId": thread, "turnId": turn})
                }
            });
            return;
        }
        let msg = match Message::decode(line) {
            Ok(m) => m,
            Err(e) => {
                // Noise on stdout (a shell banner, a stray log line) is reported, never fatal.
                let warning = json!({"method": "sdk/warning", "params": {"message": format!("ignored a line from the app-server: {e}"), "line": truncate(line, 512)}});
                self.broadcast(None, None, "sdk/warning", &Arc::from(warning.to_string()), |_| {
                    warning["params"].clone()
                });
                return;
            }
        };
        match msg {
            Message::Response { id, result } => {
                self.state().pending.settle(&id, |_| Ok(result));
            }
            Message::Error { id: Some(id), error } => {
                self.state()
                    .pending
                    .settle(&id, |method| Err(ClientError::rpc(method, &error)));
            }
            Message::Error { id: None, .. } => {}
            // A notification the headline could not read: route it whole.
            Message::Notification { method, params } => {
                let params = params.unwrap_or(Value::Null);
                let thread = thread_id_of(&params).map(str::to_owned);
                self.broadcast(
                    thread.as_deref(),
                    turn_id_of(&params),
                    &method,
                    &Arc::from(line),
                    |_| params.clone(),
                );
            }
            Message::Request { id, method, params } => self.on_server_request(id, method, params, Arc::from(line)),
        }
    }

    /// Hands a notification to the route of its thread and to every subscriber. `params` builds
    /// what the route reads: all the params when asked for (`true`), else just the ids.
    fn broadcast(
        &self,
        thread_id: Option<&str>,
        turn_id: Option<&str>,
        method: &str,
        raw: &Arc<str>,
        params: impl FnOnce(bool) -> Value,
    ) {
        let mut st = self.state();
        if let Some(route) = thread_id.and_then(|t| st.routes.get(t)).cloned() {
            // A delta of a plain turn goes by its ids alone (`pass` refuses goals, which relabel
            // and so need the params); anything else is pushed with what its route reads.
            let passed = !codex_sdk_engine::reads_params(method) && route.pass(method, thread_id, turn_id, raw);
            if !passed && route.push(method, &params(route.needs_params(method)), raw) {
                let t = thread_id.unwrap_or_default();
                if st.routes.get(t).is_some_and(|r| Arc::ptr_eq(r, &route)) {
                    st.routes.remove(t);
                }
            }
        }
        st.subscribers
            .retain(|s| s.send_notification(method, raw.clone()).is_ok());
    }

    fn on_server_request(self: &Arc<Self>, id: RequestId, method: String, params: Option<Value>, raw: Arc<str>) {
        let handler = lock(&self.handler).clone();
        let Some(handler) = handler else {
            let _ = self.answer(&id, default_answer(&method));
            return;
        };
        self.state().server_requests.insert(id.clone(), method.clone());
        let deadline = Duration::from_millis(self.options.server_request_timeout_ms);
        let weak = Arc::downgrade(self);
        let (tid, tmethod) = (id.clone(), method.clone());
        tokio::spawn(async move {
            tokio::time::sleep(deadline).await;
            if let Some(inner) = weak.upgrade() {
                if inner.state().server_requests.remove(&tid).is_some() {
                    let _ = inner.answer(&tid, default_answer(&tmethod));
                    let raw =
                        json!({"method": "serverRequest/resolved", "params": {"requestId": tid, "reason": "timeout"}});
                    inner.tell_handler(ServerRequestEvent::Resolved {
                        id: tid,
                        raw: Arc::from(raw.to_string()),
                    });
                }
            }
        });
        handler(ServerRequestEvent::Request(ServerRequest {
            id,
            method,
            params,
            raw,
        }));
    }

    /// The server no longer waits for this request: forget it, so no late answer is sent, and
    /// tell the handler so it can stop.
    fn on_server_request_resolved(&self, params: &Value, raw: &Arc<str>) {
        let Some(id) = params
            .get("requestId")
            .and_then(|v| serde_json::from_value::<RequestId>(v.clone()).ok())
        else {
            return;
        };
        if self.state().server_requests.remove(&id).is_some() {
            self.tell_handler(ServerRequestEvent::Resolved { id, raw: raw.clone() });
        }
    }

    fn tell_handler(&self, event: ServerRequestEvent) {
        let handler = lock(&self.handler).clone();
        if let Some(h) = handler {
            h(event);
        }
    }
}

async fn write_lines(mut stdin: tokio::process::ChildStdin, mut rx: mpsc::UnboundedReceiver<String>) {
    while let Some(mut line) = rx.recv().await {
        line.push('\n');
        if stdin.write_all(line.as_bytes()).await.is_err() {
            break;
        }
        // Flush only when nothing else is queued, so bursts go out in one write.
        if rx.is_empty() && stdin.flush().await.is_err() {
            break;
        }
    }
    // Dropping stdin closes the pipe: the app-server exits when its stdin closes.
}

async fn read_lines(inner: std::sync::Weak<Inner>, stdout: tokio::process::ChildStdout) {
    let mut reader = BufReader::with_capacity(64 * 1024, stdout);
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let Some(inner) = inner.upgrade() else { break };
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        inner.on_line(&String::from_utf8_lossy(&buf));
    }
}

async fn supervise(
    inner: std::sync::Weak<Inner>,
    child: tokio::process::Child,
    tree: process::ProcessTree,
    kill: mpsc::UnboundedReceiver<KillSignal>,
    exit_tx: watch::Sender<Option<Exit>>,
    reader: tokio::task::JoinHandle<()>,
) {
    let exit = process::wait(child, tree, kill).await;
    exit_tx.send_replace(Some(exit.clone()));
    // Let the reader deliver what the process wrote before it died, but not forever: a grandchild
    // could keep the pipe open.
    let _ = tokio::time::timeout(Duration::from_millis(500), reader).await;
    if let Some(inner) = inner.upgrade() {
        let closing = inner.state().closing;
        let error = inner.transport_error(closing, Some(exit));
        inner.shutdown(error);
    }
}

fn server_version(user_agent: &str) -> Option<String> {
    let (_, rest) = user_agent.split_once('/')?;
    let v = rest.split_whitespace().next()?;
    (!v.is_empty()).then(|| v.to_owned())
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_is_the_token_after_the_first_slash() {
        assert_eq!(
            server_version("probe/0.169.0 (Debian 12; x86_64) xterm").as_deref(),
            Some("0.169.0")
        );
        assert_eq!(server_version("no-slash"), None);
    }
}
