//! A tokio client for the Codex app-server: spawns and supervises `codex app-server`, speaks its
//! JSON-RPC over stdio, routes notifications to the turns that own them, and answers the server's
//! own requests. Usable from Rust on its own; the napi binding is a thin layer over it.

mod attach;
mod cancel;
mod client;
mod error;
mod goal;
mod halt;
mod options;
mod pending;
mod process;
mod reader;
mod retry;
mod rollout;
mod route;
mod server_request;
mod socket;
mod split;
mod stderr_tail;
mod stdio;
mod stream;
mod toml;
mod transport;
mod tree;
mod turn;

pub use cancel::CancelToken;
pub use client::{Client, Metadata};
pub use codex_sdk_engine::{TurnResult, TurnResultStatus};
pub use codex_sdk_protocol::{RequestId, RpcError};
pub use error::{code, ClientError, ErrorDetails};
pub use goal::{GoalResume, GoalStart};
pub use options::{ClientInfo, ClientOptions};
pub use server_request::{default_answer, ServerRequest, ServerRequestEvent, ServerRequestHandler};
pub use socket::{ConnectOptions, Reconnect};
pub use split::{SplitBatch, STRIDE};
pub use stream::{Batch, EventStream, Taken};
pub use turn::TurnHandle;

/// Locks a mutex whose data stays usable after a panic elsewhere: one bug must not wedge every
/// later call.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
