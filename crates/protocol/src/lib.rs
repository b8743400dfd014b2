//! Wire types of the Codex app-server protocol, its JSON-RPC envelope and its JSONL framing.
//!
//! No I/O runtime lives here: framing works over any [`std::io::BufRead`], and everything else is
//! plain data, so the same crate serves the tokio client and the wasm build.

mod envelope;
mod framing;
pub mod generated;
mod headline;
pub mod hot;
mod params;
mod search;

pub use envelope::{DecodeError, Message, RequestId, RpcError};
pub use framing::{
    encode_error_response, encode_notification, encode_request, encode_response, JsonlReader, LineSplitter,
};
pub use generated::*;
pub use headline::{relabel_line, Headline};
pub use params::{active_turn_id_from_error, goal_objective, thread_id_of, turn_id_of, GOAL_OBJECTIVE_MAX_CHARS};
