//! The two interfaces between the client and whatever carries its messages to one app-server (the
//! stdio of a process it spawned, stdio.rs, or a WebSocket to one it did not, socket.rs):
//! [`Transport`], what the client asks of a transport, and [`Delivery`], what a transport hands to
//! the client. Neither side sees more of the other: routing, pending requests, server requests and
//! the goal driver only ever see `Transport`; the transports only ever see `Delivery`.

use crate::error::ClientError;
use crate::lock;
use codex_sdk_protocol::LineSplitter;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, Weak};
use tokio::io::{AsyncBufRead, AsyncBufReadExt};
use tokio::sync::{mpsc, watch};

pub(crate) type Boxed<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The state of a connection that can drop and come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Link {
    Up,
    /// Dropped; reconnecting.
    Down,
    /// Closed, or reconnecting gave up: for good.
    Gone,
}

pub(crate) trait Transport: Send + Sync {
    /// Queues one message for the server; false when the connection cannot take it.
    fn send(&self, line: String) -> bool;

    /// `Some` for a connection that can drop and come back. Requests wait for it to be `Up` again
    /// (within their own timeout) rather than fail while it reconnects.
    fn link(&self) -> Option<watch::Receiver<Link>>;

    /// Ends the connection. A spawned app-server ends with it; a running one is left running.
    fn close(&self) -> Boxed<'_, ()>;

    /// Why the connection is unusable: `closing` when the caller closed it, else how it ended.
    fn ended(&self, closing: bool) -> ClientError;

    /// The app-server's pid, when this client spawned it.
    fn pid(&self) -> Option<u32>;

    /// Whether the app-server goes on when this client closes (one it connected to): its goals then
    /// keep running there, to be attached to later.
    fn server_outlives(&self) -> bool {
        self.pid().is_none()
    }

    /// What the transport can tell about a failed start (the process's stderr), for errors.
    fn start_failure_detail(&self) -> Option<String> {
        None
    }
}

/// What a transport hands to the client: what arrived, and what became of the connection.
pub(crate) trait Delivery: Send + Sync {
    /// One read of a byte stream (stdio): the lines in it, split across reads by `splitter`.
    fn read(&self, splitter: &mut LineSplitter, chunk: &[u8]);

    /// The byte stream ended: its last line, if it had no line break.
    fn read_end(&self, splitter: &mut LineSplitter);

    /// One whole message (a WebSocket frame).
    fn message(&self, text: &str);

    /// The connection dropped and may come back: what was in flight fails with `error`, and every
    /// run waits for the history of the gap.
    fn dropped(&self, error: &ClientError);

    /// A new connection is up: `initialize` it.
    fn reopen(self: Arc<Self>) -> Boxed<'static, Result<(), ClientError>>;

    /// Brings every run that waits for its history up to date on the connection that came back.
    /// Dropped unfinished when that connection drops too: the runs wait for the next one.
    fn resync(self: Arc<Self>) -> Boxed<'static, ()>;

    /// The connection is gone for good: everything pending settles, with `error` or, when `None`,
    /// with what the transport says of how it ended.
    fn ended(&self, error: Option<ClientError>);

    /// The caller is closing the client.
    fn is_closing(&self) -> bool;
}

/// Reads a byte stream to its end (or until the client is gone), a read at a time: a line inside
/// one read reaches the client where it lies, without a copy.
pub(crate) async fn read_lines(to: Weak<dyn Delivery>, mut source: impl AsyncBufRead + Unpin) {
    let mut splitter = LineSplitter::default();
    loop {
        let chunk = match source.fill_buf().await {
            Ok(chunk) if !chunk.is_empty() => chunk,
            _ => break,
        };
        let Some(to) = to.upgrade() else { return };
        let n = chunk.len();
        to.read(&mut splitter, chunk);
        source.consume(n);
    }
    if let Some(to) = to.upgrade() {
        to.read_end(&mut splitter);
    }
}

/// Where a transport's outgoing lines are queued for its writing task; empty while there is no
/// connection to write to (closed, or dropped and not yet re-dialled).
#[derive(Default)]
pub(crate) struct Outbox(Mutex<Option<mpsc::UnboundedSender<String>>>);

impl Outbox {
    /// Queues a line; false when there is no connection to take it.
    pub(crate) fn send(&self, line: String) -> bool {
        lock(&self.0).as_ref().is_some_and(|w| w.send(line).is_ok())
    }

    /// Points the outbox at a (new) connection's writing task, which drains the receiver.
    pub(crate) fn open(&self) -> mpsc::UnboundedReceiver<String> {
        let (tx, rx) = mpsc::unbounded_channel();
        *lock(&self.0) = Some(tx);
        rx
    }

    /// Stops taking lines; the writing task ends once it has written what was queued.
    pub(crate) fn shut(&self) {
        lock(&self.0).take();
    }
}
