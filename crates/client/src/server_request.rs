//! Requests the app-server sends to the client (approvals, user input, ...). Every one gets an
//! answer: the embedder's, or this default when there is no handler or it does not answer in time.

use codex_sdk_protocol::{server_request as m, RequestId, RpcError};
use serde_json::{json, Value};

/// One server-initiated request, as handed to the embedder.
#[derive(Debug, Clone)]
pub struct ServerRequest {
    pub id: RequestId,
    pub method: String,
    pub params: Option<Value>,
    /// The line as it arrived, for embedders that parse it themselves (the JS layer does).
    pub raw: std::sync::Arc<str>,
}

/// What the embedder's handler is told.
#[derive(Debug, Clone)]
pub enum ServerRequestEvent {
    /// A request to answer (through `Client::respond`).
    Request(ServerRequest),
    /// A request that needs no answer any more: the server resolved it itself (its turn ended),
    /// or it went unanswered too long and got the default. `raw` is the line to hand on.
    Resolved { id: RequestId, raw: std::sync::Arc<str> },
}

pub const METHOD_NOT_FOUND: i64 = -32601;

/// The safe answer: decline what asks for approval, refuse everything else.
pub fn default_answer(method: &str) -> Result<Value, RpcError> {
    match method {
        m::ITEM_COMMAND_EXECUTION_REQUEST_APPROVAL | m::ITEM_FILE_CHANGE_REQUEST_APPROVAL => {
            Ok(json!({"decision": "decline"}))
        }
        m::EXEC_COMMAND_APPROVAL | m::APPLY_PATCH_APPROVAL => {
            Ok(json!({"decision": {"denied": {"rejection": "declined by the client's default policy"}}}))
        }
        m::MCP_SERVER_ELICITATION_REQUEST => Ok(json!({"action": "decline", "content": null})),
        _ => Err(RpcError {
            code: METHOD_NOT_FOUND,
            message: format!("{method}: this client has no handler for it"),
            data: None,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approvals_are_declined_and_the_rest_refused() {
        assert_eq!(
            default_answer("item/commandExecution/requestApproval").unwrap()["decision"],
            "decline"
        );
        assert_eq!(
            default_answer("item/fileChange/requestApproval").unwrap()["decision"],
            "decline"
        );
        assert!(default_answer("execCommandApproval").unwrap()["decision"]["denied"].is_object());
        assert_eq!(
            default_answer("mcpServer/elicitation/request").unwrap()["action"],
            "decline"
        );
        let e = default_answer("item/tool/requestUserInput").unwrap_err();
        assert_eq!(e.code, METHOD_NOT_FOUND);
        assert!(default_answer("some/new/method").is_err());
    }
}
