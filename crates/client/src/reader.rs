//! What comes from the app-server, as the transports deliver it: responses settle pending
//! requests, server requests go to the handler, and notifications go to the route of their thread
//! (through the engine's one dispatcher) and to every subscriber. Noise is reported, never fatal.
//! Also the news of the connection itself: a drop, a connection that came back, an end.

use crate::client::{Client, Inner, State};
use crate::error::ClientError;
use crate::transport::{Boxed, Delivery};
use codex_sdk_engine::{reads_params, Event, Line};
use codex_sdk_protocol::{server_notification as m, Headline, LineSplitter, Message};
use serde_json::json;
use std::sync::{Arc, MutexGuard};

impl Delivery for Inner {
    fn read(&self, splitter: &mut LineSplitter, chunk: &[u8]) {
        let mut table = Table::new(self);
        splitter.feed(chunk, |line| self.on_line(&text(line), &mut table));
    }

    fn read_end(&self, splitter: &mut LineSplitter) {
        splitter.finish(|line| self.on_line(&text(line), &mut Table::new(self)));
    }

    fn message(&self, text: &str) {
        self.on_line(text, &mut Table::new(self));
    }

    fn dropped(&self, error: &ClientError) {
        self.fail_pending(error);
        self.forget_server_requests();
        for (_, route) in self.running() {
            route.begin_sync();
        }
    }

    fn reopen(self: Arc<Self>) -> Boxed<'static, Result<(), ClientError>> {
        Box::pin(async move { Client { inner: self }.handshake().await })
    }

    fn resync(self: Arc<Self>) -> Boxed<'static, ()> {
        Box::pin(async move { Client { inner: self }.resync_runs().await })
    }

    fn ended(&self, error: Option<ClientError>) {
        self.shutdown(error.unwrap_or_else(|| self.closed_error()));
    }

    fn is_closing(&self) -> bool {
        self.state().closing
    }
}

/// The client's table (pending requests, routes, subscribers), locked once for the lines of one
/// read rather than once per line, and let go before the server-request paths (which lock it
/// themselves) and at the end of the read. A read is at most 64 KiB, so it is never held long.
pub(crate) struct Table<'a> {
    inner: &'a Inner,
    held: Option<MutexGuard<'a, State>>,
}

impl<'a> Table<'a> {
    pub(crate) fn new(inner: &'a Inner) -> Self {
        Self { inner, held: None }
    }

    fn get(&mut self) -> &mut State {
        self.held.get_or_insert_with(|| self.inner.state())
    }

    fn release(&mut self) {
        self.held = None;
    }
}

/// A line as text. `str::from_utf8` checks ASCII a word at a time, several times faster than the
/// lossy decoder on the lines the server sends; only a line that is not UTF-8 takes the slow path.
fn text(line: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(line) {
        Ok(s) => s.into(),
        Err(_) => String::from_utf8_lossy(line),
    }
}

impl Inner {
    fn on_line(&self, line: &str, table: &mut Table<'_>) {
        if line.trim().is_empty() {
            return;
        }
        // Hot path: a notification is routed on its headline, read once and borrowed; only a
        // route that reads a method's params gets them parsed.
        match Headline::scan(line) {
            Some(head) if head.is_notification() => {
                if head.method() == Some(m::SERVER_REQUEST_RESOLVED) {
                    table.release();
                    self.on_server_request_resolved(line);
                }
                return Self::route(table.get(), line, &head);
            }
            _ => {}
        }
        match Message::decode(line) {
            Ok(Message::Response { id, result }) => {
                table.get().pending.settle(&id, |_| Ok(result));
            }
            Ok(Message::Error { id: Some(id), error }) => {
                table
                    .get()
                    .pending
                    .settle(&id, |method| Err(ClientError::rpc(method, &error)));
            }
            Ok(Message::Error { id: None, .. }) => {}
            Ok(Message::Request { id, method, params }) => {
                table.release();
                self.on_server_request(id, method, params, Arc::from(line));
            }
            // A notification the headline could not read (its ids are not strings): no route can
            // own it, but subscribers see everything.
            Ok(Message::Notification { .. }) => broadcast(table.get(), line),
            Err(e) => {
                let warning = json!({"method": "sdk/warning", "params": {"message": format!("ignored a line from the app-server: {e}"), "line": truncate(line, 512)}});
                broadcast(table.get(), &warning.to_string());
            }
        }
    }

    /// Hands a notification to the route of its thread, if any, and to every subscriber. The line
    /// is copied out of the read buffer only where it is kept: into a route that holds it (a
    /// message before its turn is known) and into each stream's next batch.
    fn route(st: &mut State, line: &str, head: &Headline<'_>) {
        let thread = head.thread_id();
        let found = thread.and_then(|t| st.routes.get(t));
        if let (Some(route), Some(method)) = (found, head.method()) {
            route.note(method, line);
        }
        // A notification whose params no engine reads changes nothing but the stream: a run nobody
        // streams skips it outright (the cheap path of a result-only run's deltas), without so much
        // as a reference count.
        let route = found
            .filter(|r| r.is_streaming() || head.method().is_some_and(reads_params))
            .cloned();
        if let Some(route) = route {
            if let Some(event) = Event::from_headline(head) {
                if route.push(event, || Line::new(Arc::from(line), line, head)) {
                    let t = thread.unwrap_or_default();
                    if st.routes.get(t).is_some_and(|r| Arc::ptr_eq(r, &route)) {
                        st.routes.remove(t);
                    }
                }
            }
        }
        broadcast(st, line);
    }
}

/// Hands a line to every subscriber, forgetting those that went away.
fn broadcast(st: &mut State, line: &str) {
    if !st.subscribers.is_empty() {
        st.subscribers.retain(|s| s.send_line(line).is_ok());
    }
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
