//! Requests the app-server sends to the client (approvals, user input, ...). Every one gets an
//! answer: the embedder's, or the default when there is no handler or it does not answer in time;
//! one the server resolves itself is forgotten, so no late answer is sent.

use crate::client::{Client, Inner};
use crate::error::ClientError;
use crate::lock;
use codex_sdk_protocol::{server_request as m, RequestId, RpcError};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

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

pub type ServerRequestHandler = Arc<dyn Fn(ServerRequestEvent) + Send + Sync>;

impl Client {
    /// Installs the handler for server requests. It must lead to [`respond`](Self::respond) for each
    /// request; one left unanswered for `serverRequestTimeoutMs` gets the default answer.
    pub fn set_server_request_handler(&self, handler: Option<ServerRequestHandler>) {
        *lock(&self.inner.handler) = handler;
    }

    /// Answers a server request with the embedder's JSON text. An answer that is not valid JSON
    /// (a lone surrogate, say) is replaced by a JSON-RPC error saying so: the server is never left
    /// waiting for an answer that cannot be sent.
    pub fn respond_json(&self, id: &RequestId, result: &str) -> Result<bool, ClientError> {
        let answer = serde_json::from_str(result).map_err(|e| RpcError {
            code: -32603,
            message: format!("the client's answer could not be sent: it is not valid JSON ({e})"),
            data: None,
        });
        self.respond(id, answer)
    }

    /// Answers a server request. Returns false when it was already answered (or never asked).
    pub fn respond(&self, id: &RequestId, answer: Result<Value, RpcError>) -> Result<bool, ClientError> {
        if self.inner.state().server_requests.remove(id).is_none() {
            return Ok(false);
        }
        self.inner.answer(id, answer)?;
        Ok(true)
    }
}

impl Inner {
    pub(crate) fn on_server_request(&self, id: RequestId, method: String, params: Option<Value>, raw: Arc<str>) {
        let handler = lock(&self.handler).clone();
        let Some(handler) = handler else {
            let _ = self.answer(&id, default_answer(&method));
            return;
        };
        self.state().server_requests.insert(id.clone(), method.clone());
        let deadline = Duration::from_millis(self.options.server_request_timeout_ms);
        let weak = self.me.clone();
        let (tid, tmethod) = (id.clone(), method.clone());
        tokio::spawn(async move {
            tokio::time::sleep(deadline).await;
            if let Some(inner) = weak.upgrade() {
                if inner.state().server_requests.remove(&tid).is_some() {
                    let _ = inner.answer(&tid, default_answer(&tmethod));
                    let raw =
                        json!({"method": "serverRequest/resolved", "params": {"requestId": tid, "reason": "timeout"}});
                    inner.tell_handler(ServerRequestEvent::Resolved {
                        id: tid,
                        raw: Arc::from(raw.to_string()),
                    });
                }
            }
        });
        handler(ServerRequestEvent::Request(ServerRequest {
            id,
            method,
            params,
            raw,
        }));
    }

    /// The server no longer waits for this request: forget it, so no late answer is sent, and
    /// tell the handler so it can stop.
    pub(crate) fn on_server_request_resolved(&self, line: &str) {
        #[derive(Deserialize)]
        struct Resolved {
            params: ResolvedParams,
        }
        #[derive(Deserialize)]
        struct ResolvedParams {
            #[serde(rename = "requestId")]
            request_id: RequestId,
        }
        let Ok(resolved) = serde_json::from_str::<Resolved>(line) else {
            return;
        };
        let id = resolved.params.request_id;
        if self.state().server_requests.remove(&id).is_some() {
            self.tell_handler(ServerRequestEvent::Resolved {
                id,
                raw: Arc::from(line),
            });
        }
    }

    /// The connection they were asked on dropped: an answer could not reach the server on another
    /// connection, so each is forgotten and its handler told, as if the server had resolved it.
    pub(crate) fn forget_server_requests(&self) {
        let ids: Vec<RequestId> = self.state().server_requests.drain().map(|(id, _)| id).collect();
        for id in ids {
            let raw =
                json!({"method": "serverRequest/resolved", "params": {"requestId": id, "reason": "connectionLost"}});
            self.tell_handler(ServerRequestEvent::Resolved {
                id,
                raw: Arc::from(raw.to_string()),
            });
        }
    }

    fn tell_handler(&self, event: ServerRequestEvent) {
        let handler = lock(&self.handler).clone();
        if let Some(h) = handler {
            h(event);
        }
    }
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
