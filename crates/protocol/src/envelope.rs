//! The JSON-RPC 2.0 envelope as the app-server speaks it: no `"jsonrpc"` field, one object per line.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// A request id: the protocol allows strings and integers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    Int(i64),
    Str(String),
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RequestId::Int(n) => write!(f, "{n}"),
            RequestId::Str(s) => f.write_str(s),
        }
    }
}

/// The `error` member of an error response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// One decoded line. `params` and `result` stay as JSON values: routing only needs the envelope
/// and a few ids, and unknown methods and fields must pass through untouched.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    Request {
        id: RequestId,
        method: String,
        params: Option<Value>,
    },
    Notification {
        method: String,
        params: Option<Value>,
    },
    Response {
        id: RequestId,
        result: Value,
    },
    Error {
        id: Option<RequestId>,
        error: RpcError,
    },
}

/// Why a line is not a protocol message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// Not JSON at all (a shell banner, a log line on stdout, a truncated frame).
    NotJson(String),
    /// JSON, but no request, notification, response or error.
    NotAMessage(String),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::NotJson(e) => write!(f, "not JSON: {e}"),
            DecodeError::NotAMessage(e) => write!(f, "not a JSON-RPC message: {e}"),
        }
    }
}

impl std::error::Error for DecodeError {}

impl Message {
    /// Decodes one line (without its newline).
    pub fn decode(line: &str) -> Result<Message, DecodeError> {
        let value: Value = serde_json::from_str(line).map_err(|e| DecodeError::NotJson(e.to_string()))?;
        Message::from_value(value)
    }

    /// Classifies an already-parsed JSON value.
    pub fn from_value(value: Value) -> Result<Message, DecodeError> {
        let Value::Object(mut obj) = value else {
            return Err(DecodeError::NotAMessage("expected a JSON object".into()));
        };
        let id = match obj.remove("id") {
            None | Some(Value::Null) => None,
            Some(v) => Some(
                serde_json::from_value::<RequestId>(v)
                    .map_err(|_| DecodeError::NotAMessage("`id` must be a string or an integer".into()))?,
            ),
        };
        let params = obj.remove("params");
        match (obj.remove("method"), id) {
            (Some(Value::String(method)), Some(id)) => Ok(Message::Request { id, method, params }),
            (Some(Value::String(method)), None) => Ok(Message::Notification { method, params }),
            (Some(_), _) => Err(DecodeError::NotAMessage("`method` must be a string".into())),
            (None, id) => {
                if let Some(err) = obj.remove("error") {
                    let error = serde_json::from_value::<RpcError>(err)
                        .map_err(|e| DecodeError::NotAMessage(format!("malformed `error`: {e}")))?;
                    Ok(Message::Error { id, error })
                } else if let (Some(result), Some(id)) = (obj.remove("result"), id) {
                    Ok(Message::Response { id, result })
                } else {
                    Err(DecodeError::NotAMessage("no `method`, `result` or `error`".into()))
                }
            }
        }
    }

    /// The method of a request or notification.
    pub fn method(&self) -> Option<&str> {
        match self {
            Message::Request { method, .. } | Message::Notification { method, .. } => Some(method),
            _ => None,
        }
    }

    /// Encodes the message as one line, without the newline.
    pub fn encode(&self) -> String {
        use serde_json::json;
        let v = match self {
            Message::Request { id, method, params } => match params {
                Some(p) => json!({ "id": id, "method": method, "params": p }),
                None => json!({ "id": id, "method": method }),
            },
            Message::Notification { method, params } => match params {
                Some(p) => json!({ "method": method, "params": p }),
                None => json!({ "method": method }),
            },
            Message::Response { id, result } => json!({ "id": id, "result": result }),
            Message::Error { id, error } => json!({ "id": id, "error": error }),
        };
        v.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn classifies_every_kind() {
        assert_eq!(
            Message::decode(r#"{"id":1,"method":"thread/start","params":{}}"#).unwrap(),
            Message::Request {
                id: RequestId::Int(1),
                method: "thread/start".into(),
                params: Some(json!({}))
            }
        );
        assert_eq!(
            Message::decode(r#"{"method":"initialized"}"#).unwrap(),
            Message::Notification {
                method: "initialized".into(),
                params: None
            }
        );
        assert_eq!(
            Message::decode(r#"{"id":"a","result":{"ok":true}}"#).unwrap(),
            Message::Response {
                id: RequestId::Str("a".into()),
                result: json!({"ok": true})
            }
        );
        assert_eq!(
            Message::decode(r#"{"id":2,"error":{"code":-32600,"message":"Not initialized"}}"#).unwrap(),
            Message::Error {
                id: Some(RequestId::Int(2)),
                error: RpcError {
                    code: -32600,
                    message: "Not initialized".into(),
                    data: None
                }
            }
        );
    }

    #[test]
    fn round_trips_through_encode() {
        for line in [
            r#"{"id":7,"method":"turn/start","params":{"threadId":"t"}}"#,
            r#"{"method":"turn/completed","params":{"x":[1,2]}}"#,
            r#"{"id":"s","result":null}"#,
            r#"{"id":3,"error":{"code":-32001,"message":"Server overloaded; retry later.","data":{"a":1}}}"#,
        ] {
            let m = Message::decode(line).unwrap();
            assert_eq!(Message::decode(&m.encode()).unwrap(), m);
        }
    }

    #[test]
    fn rejects_noise_with_a_reason() {
        assert!(matches!(
            Message::decode("Welcome to bash"),
            Err(DecodeError::NotJson(_))
        ));
        assert!(matches!(Message::decode("[1,2]"), Err(DecodeError::NotAMessage(_))));
        assert!(matches!(
            Message::decode(r#"{"id":1}"#),
            Err(DecodeError::NotAMessage(_))
        ));
        assert!(matches!(
            Message::decode(r#"{"id":[1],"method":"x"}"#),
            Err(DecodeError::NotAMessage(_))
        ));
        assert!(matches!(
            Message::decode(r#"{"id":1,"result":1"#),
            Err(DecodeError::NotJson(_))
        ));
    }
}
