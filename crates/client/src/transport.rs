//! What the client needs of whatever carries its messages to one app-server: the stdio of a process
//! it spawned (stdio.rs), or a WebSocket to a server it did not (socket.rs). Routing, pending
//! requests, server requests and the goal driver only ever see this.

use crate::client::lock;
use crate::error::ClientError;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
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

    /// What the transport can tell about a failed start (the process's stderr), for errors.
    fn start_failure_detail(&self) -> Option<String> {
        None
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
