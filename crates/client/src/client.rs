//! The client: spawns the app-server and its I/O tasks (stdio.rs, reader.rs), sends requests and
//! waits for their answers, keeps the table of running turns and goals (routes) and subscribers,
//! and settles everything when the connection ends.

use crate::error::{code, ClientError};
use crate::options::ClientOptions;
use crate::pending::Pending;
use crate::process::{self, Exit, KillSignal};
use crate::retry;
use crate::route::Route;
use crate::server_request::ServerRequestHandler;
use crate::stderr_tail::StderrTail;
use crate::stream::{self, EventStream};
use crate::{reader, stdio};
use codex_sdk_protocol::{
    encode_error_response, encode_notification, encode_request, encode_response, RequestId, RpcError,
};
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::BufReader;
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
    pub(crate) handler: Mutex<Option<ServerRequestHandler>>,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) pending: Pending,
    /// One running turn (or goal) per thread, keyed by thread id.
    pub(crate) routes: HashMap<String, Arc<Route>>,
    pub(crate) subscribers: Vec<stream::Sender>,
    /// Server requests handed to the embedder and not answered yet.
    pub(crate) server_requests: HashMap<RequestId, String>,
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
        tokio::spawn(stdio::write_lines(spawned.stdin, writer_rx));
        let stdout = BufReader::with_capacity(64 * 1024, spawned.stdout);
        let reader = tokio::spawn(reader::read_lines(Arc::downgrade(&inner), stdout));
        tokio::spawn(stdio::supervise(
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
        let (tx, stream) = stream::channel(self.inner.options.merge_deltas_after);
        let mut st = self.inner.state();
        match &st.closed {
            Some(e) => {
                let _ = tx.send(Err(e.clone()));
            }
            None => st.subscribers.push(tx),
        }
        stream
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
    pub(crate) fn state(&self) -> MutexGuard<'_, State> {
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

    pub(crate) fn answer(&self, id: &RequestId, answer: Result<Value, RpcError>) -> Result<(), ClientError> {
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
        drop(st);
        self.transport_error(self.exit.borrow().clone())
    }

    /// Why the connection ended: a close asked for, or how the process ended.
    pub(crate) fn transport_error(&self, exit: Option<Exit>) -> ClientError {
        let closing = self.state().closing;
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
    pub(crate) fn shutdown(&self, error: ClientError) {
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
}

fn server_version(user_agent: &str) -> Option<String> {
    let (_, rest) = user_agent.split_once('/')?;
    let v = rest.split_whitespace().next()?;
    (!v.is_empty()).then(|| v.to_owned())
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
