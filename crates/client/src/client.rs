//! The client: spawns the app-server (stdio.rs) or connects to one (socket.rs), sends requests and
//! waits for their answers, keeps the table of running turns and goals (routes) and subscribers,
//! and settles everything when the connection ends. What arrives is handled in reader.rs.

use crate::error::{code, ClientError};
use crate::lock;
use crate::options::ClientOptions;
use crate::pending::Pending;
use crate::retry;
use crate::route::Route;
use crate::server_request::ServerRequestHandler;
use crate::socket::{ConnectOptions, Socket};
use crate::stdio;
use crate::stream::{self, EventStream};
use crate::transport::{Delivery, Link, Transport};
use codex_sdk_protocol::{
    encode_error_response, encode_notification, encode_request, encode_response, RequestId, RpcError,
};
use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

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

/// A connection to one app-server: a process it spawned, or one it connected to. Cheap to clone;
/// all clones share the connection.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    /// Itself, for the tasks it starts (a server request's deadline) to hold weakly.
    pub(crate) me: Weak<Inner>,
    pub(crate) options: ClientOptions,
    pub(crate) transport: Arc<dyn Transport>,
    state: Mutex<State>,
    metadata: Mutex<Option<Metadata>>,
    pub(crate) handler: Mutex<Option<ServerRequestHandler>>,
}

#[derive(Default)]
pub(crate) struct State {
    pub(crate) pending: Pending,
    /// One running turn (or goal) per thread, keyed by thread id: looked up for every line of a
    /// stream, so with a hash made for short keys (ids come from the server, not from an attacker).
    pub(crate) routes: FxHashMap<String, Arc<Route>>,
    pub(crate) subscribers: Vec<stream::Sender>,
    /// Server requests handed to the embedder and not answered yet.
    pub(crate) server_requests: HashMap<RequestId, String>,
    /// Set once: why the connection is gone.
    closed: Option<ClientError>,
    pub(crate) closing: bool,
}

impl Client {
    /// Spawns `codex app-server` and completes the handshake within `startup_timeout_ms`.
    pub async fn start(options: ClientOptions) -> Result<Client, ClientError> {
        let startup = options.startup_timeout();
        let (stdio, parts) = stdio::spawn(&options)?;
        let stdio = Arc::new(stdio);
        let client = Client::with_transport(options, stdio.clone());
        stdio.run(client.delivery(), parts);
        client
            .open(startup, "the app-server did not complete its handshake")
            .await?;
        Ok(client)
    }

    /// Connects to a running app-server and completes the handshake; a dropped connection is
    /// re-dialled (when `reconnect` allows), and the runs in progress brought up to date.
    pub async fn connect(options: ClientOptions, connect: ConnectOptions) -> Result<Client, ClientError> {
        let limit = connect.connect_timeout;
        let (socket, first) = Socket::dial_first(connect).await?;
        let client = Client::with_transport(options, socket.clone());
        socket.carry(client.delivery(), first);
        // A server that closes right after the upgrade (a policy refusal, a crash) is reported at
        // once, with its reason, rather than when the handshake times out.
        tokio::select! {
            opened = client.open(limit, "the app-server did not answer `initialize`") => opened?,
            why = socket.ended() => {
                client.close().await;
                return Err(ClientError::new(
                    code::CONNECT,
                    format!("{} took the WebSocket upgrade, then {why}", socket.address()),
                )
                .with_method("initialize"));
            }
        }
        socket.supervise(client.delivery());
        Ok(client)
    }

    fn with_transport(options: ClientOptions, transport: Arc<dyn Transport>) -> Client {
        Client {
            inner: Arc::new_cyclic(|me| Inner {
                me: me.clone(),
                options,
                transport,
                state: Mutex::new(State::default()),
                metadata: Mutex::new(None),
                handler: Mutex::new(None),
            }),
        }
    }

    /// How the transport reaches this client: weakly, so a client nobody holds goes away.
    fn delivery(&self) -> Weak<dyn Delivery> {
        let weak: Weak<Inner> = Arc::downgrade(&self.inner);
        weak
    }

    /// Completes the handshake within `limit`, or closes and fails.
    async fn open(&self, limit: Duration, late: &str) -> Result<(), ClientError> {
        match tokio::time::timeout(limit, self.handshake()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => {
                self.close().await;
                Err(e)
            }
            Err(_) => {
                self.close().await;
                let mut e = ClientError::new(code::TIMEOUT, format!("{late} within {} ms", limit.as_millis()))
                    .with_method("initialize");
                e.details.stderr_tail = self.inner.transport.start_failure_detail();
                Err(e)
            }
        }
    }

    pub(crate) async fn handshake(&self) -> Result<(), ClientError> {
        let o = &self.inner.options;
        let params = json!({
            "clientInfo": { "name": o.client_info.name, "title": o.client_info.title, "version": o.client_info.version },
            "capabilities": { "experimentalApi": o.experimental_api },
        });
        let result = self.send_once("initialize", Some(params), None, None, false).await?;
        if !result.is_object() {
            return Err(ClientError::new(
                code::PROTOCOL,
                format!("initialize: the app-server's answer is not an object (it is {result}): this is not a Codex app-server, or not one this SDK can talk to"),
            )
            .with_method("initialize"));
        }
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
        self.inner.transport.pid()
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
            let error = match self.send_once(method, params.clone(), left, timeout, true).await {
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

    /// One request. `gated`: while a connection that can come back is down, wait for it (within
    /// the request's time) instead of failing; the client's own reconnection requests are not. A
    /// request that could not be written because the connection was dropping was never sent, so it
    /// waits for the next connection too.
    pub(crate) async fn send_once(
        &self,
        method: &str,
        params: Option<Value>,
        left: Option<Duration>,
        timeout: Option<Duration>,
        gated: bool,
    ) -> Result<Value, ClientError> {
        let deadline = left.map(|l| tokio::time::Instant::now() + l);
        let ms = timeout.or(left).unwrap_or_default().as_millis() as u64;
        let (id, rx) = loop {
            let mut link = self.inner.transport.link().filter(|_| gated);
            if let Some(link) = &mut link {
                if within(deadline, link.wait_for(|l| *l != Link::Down)).await.is_none() {
                    return Err(ClientError::new(
                        code::TIMEOUT,
                        format!("{method}: the connection did not come back within {ms} ms"),
                    )
                    .with_method(method));
                }
            }
            let (id, rx) = {
                let mut st = self.inner.state();
                if let Some(e) = &st.closed {
                    return Err(e.clone().with_method(method));
                }
                st.pending.insert(method)
            };
            match self.inner.write(encode_request(&id, method, params.as_ref())) {
                Ok(()) => break (id, rx),
                Err(e) => {
                    self.inner.state().pending.forget(&id);
                    let Some(mut link) = link else {
                        return Err(e.with_method(method));
                    };
                    // The write lost a race with the drop: wait for the link to move on from what
                    // it was before the write, then go round again unless it is gone for good.
                    let moved = async {
                        if !link.has_changed().unwrap_or(true) {
                            let _ = link.changed().await;
                        }
                        *link.borrow_and_update()
                    };
                    if !matches!(within(deadline, moved).await, Some(Link::Down | Link::Up)) {
                        return Err(e.with_method(method));
                    }
                }
            }
        };
        let Some(answer) = within(deadline, rx).await else {
            self.inner.state().pending.forget(&id);
            return Err(ClientError::timeout(method, ms));
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
                let _ = tx.fail(e.clone());
            }
            None => st.subscribers.push(tx),
        }
        stream
    }

    /// Ends the connection: a spawned app-server is ended too (stdin closed, then TERM, then KILL,
    /// to its whole process group, and reaped); a running one is left running. Everything still
    /// pending fails with `ERR_TRANSPORT_CLOSED`. Idempotent.
    pub async fn close(&self) {
        self.inner.state().closing = true;
        self.inner.transport.close().await;
        // The transport settles everything once it ended; make sure it has, even if it could not
        // end in time.
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
        if self.transport.send(line) {
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
    pub(crate) fn closed_error(&self) -> ClientError {
        let st = self.state();
        if let Some(e) = &st.closed {
            return e.clone();
        }
        let closing = st.closing;
        drop(st);
        self.transport.ended(closing)
    }

    /// Fails every request in flight with `error` (a connection that dropped and may come back).
    pub(crate) fn fail_pending(&self, error: &ClientError) {
        self.state().pending.fail_all(error);
    }

    /// The runs in progress, for a reconnection to resume.
    pub(crate) fn running(&self) -> Vec<(String, Arc<Route>)> {
        let st = self.state();
        st.routes
            .iter()
            .filter(|(_, r)| !r.is_done())
            .map(|(t, r)| (t.clone(), r.clone()))
            .collect()
    }

    /// Settles everything with `error`, once. A goal on a server that outlives this client goes on
    /// there: its error says so, and how to follow it again.
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
        let outlives = self.transport.server_outlives();
        for (thread_id, route) in &routes {
            if outlives && route.is_goal() {
                let mut e = error.clone();
                e.message.push_str(&format!(
                    "; the goal may still be running on the server: attach to it again with \
                     thread.attachGoal() on thread {thread_id}"
                ));
                route.fail(&e);
            } else {
                route.fail(&error);
            }
        }
        for s in subscribers {
            let _ = s.fail(error.clone());
        }
    }
}

/// `work`, bounded by `deadline` when there is one; `None` when the deadline passed first.
async fn within<F: std::future::Future>(deadline: Option<tokio::time::Instant>, work: F) -> Option<F::Output> {
    match deadline {
        Some(d) => tokio::time::timeout_at(d, work).await.ok(),
        None => Some(work.await),
    }
}

fn server_version(user_agent: &str) -> Option<String> {
    let (_, rest) = user_agent.split_once('/')?;
    let v = rest.split_whitespace().next()?;
    (!v.is_empty()).then(|| v.to_owned())
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
