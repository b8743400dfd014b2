//! The client's one error type. It crosses into JS as data (a stable `code` plus fields) and the
//! TypeScript layer turns it into the matching error class.

use serde::Serialize;
use serde_json::Value;
use std::fmt;

/// Stable, machine-readable error codes.
pub mod code {
    /// The app-server answered a request with a JSON-RPC error.
    pub const RPC: &str = "ERR_RPC";
    /// The app-server exited, its pipes closed, or the client was closed.
    pub const TRANSPORT_CLOSED: &str = "ERR_TRANSPORT_CLOSED";
    /// A bounded wait ran out.
    pub const TIMEOUT: &str = "ERR_TIMEOUT";
    /// The codex binary could not be started.
    pub const SPAWN: &str = "ERR_SPAWN";
    /// The thread already runs a turn or goal started by this client.
    pub const THREAD_BUSY: &str = "ERR_THREAD_BUSY";
    /// An argument was malformed.
    pub const INVALID_ARGUMENT: &str = "ERR_INVALID_ARGUMENT";
    /// The app-server sent something the protocol does not allow here.
    pub const PROTOCOL: &str = "ERR_PROTOCOL";
    /// Goals need a persisted thread.
    pub const EPHEMERAL_THREAD: &str = "ERR_EPHEMERAL_THREAD";
    /// The caller aborted the wait.
    pub const ABORTED: &str = "ERR_ABORTED";
    /// A steer found no turn to act on.
    pub const NO_ACTIVE_TURN: &str = "ERR_NO_ACTIVE_TURN";
    /// The server refused the connection's token (or its absence).
    pub const AUTH: &str = "ERR_AUTH";
    /// Nothing to connect to at that address (refused, unreachable, no socket, TLS failed).
    pub const CONNECT: &str = "ERR_CONNECT";
    /// The server could not reach the model for `modelUnreachableTimeoutMs`: the run was stopped.
    pub const MODEL_UNREACHABLE: &str = "ERR_MODEL_UNREACHABLE";
    /// The thread has no goal (to attach to or resume).
    pub const NO_GOAL: &str = "ERR_NO_GOAL";
    /// The goal is complete: there is nothing to resume. Start a new one.
    pub const GOAL_COMPLETE: &str = "ERR_GOAL_COMPLETE";
    /// A bug in the SDK (a panic caught at the boundary): please report it.
    pub const PANIC: &str = "ERR_PANIC";
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientError {
    pub code: &'static str,
    pub message: String,
    /// Boxed so that `Result<_, ClientError>` stays small on the happy path.
    #[serde(flatten)]
    pub details: Box<ErrorDetails>,
}

/// What an error knows beyond its code and message; which fields are set depends on the code.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetails {
    /// The request it concerns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `ERR_RPC`: the JSON-RPC error code and data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpc_code: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// `ERR_TRANSPORT_CLOSED`: how the process ended, and the last of its stderr.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr_tail: Option<String>,
}

impl ClientError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            details: Box::default(),
        }
    }

    pub fn with_method(mut self, method: &str) -> Self {
        self.details.method = Some(method.to_owned());
        self
    }

    pub fn rpc(method: &str, error: &codex_sdk_protocol::RpcError) -> Self {
        let mut e = Self::new(code::RPC, format!("{method}: {}", error.message)).with_method(method);
        e.details.rpc_code = Some(error.code);
        e.details.data = error.data.clone();
        e
    }

    pub fn timeout(method: &str, ms: u64) -> Self {
        Self::new(code::TIMEOUT, format!("{method}: no answer within {ms} ms")).with_method(method)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(code::INVALID_ARGUMENT, message)
    }

    /// The JSON-RPC error message, for errors that came from the server.
    pub fn rpc_message(&self) -> Option<&str> {
        (self.code == code::RPC).then(|| self.message.split_once(": ").map_or(self.message.as_str(), |(_, m)| m))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| format!("{{\"code\":\"{}\"}}", self.code))
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ClientError {}
