//! A tokio client for the Codex app-server: spawns and supervises `codex app-server`, speaks its
//! JSON-RPC over stdio, routes notifications to the turns that own them, and answers the server's
//! own requests. Usable from Rust on its own; the napi binding is a thin layer over it.

mod cancel;
mod client;
mod error;
mod goal;
mod halt;
mod options;
mod pending;
mod process;
mod reader;
mod resume;
mod retry;
mod route;
mod server_request;
mod socket;
mod stderr_tail;
mod stdio;
mod stream;
mod toml;
mod transport;
mod turn;

pub use cancel::CancelToken;
pub use client::{Client, Metadata};
pub use codex_sdk_engine::{TurnResult, TurnResultStatus};
pub use codex_sdk_protocol::{RequestId, RpcError};
pub use error::{code, ClientError, ErrorDetails};
pub use goal::GoalStart;
pub use options::{ClientInfo, ClientOptions};
pub use server_request::{default_answer, ServerRequest, ServerRequestEvent, ServerRequestHandler};
pub use socket::{ConnectOptions, Reconnect};
pub use stream::{Batch, EventStream};
pub use turn::TurnHandle;
