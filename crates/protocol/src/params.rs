//! The few fields routing needs, read from a message's params without a full typed decode.

use serde_json::Value;

/// `params.threadId`, or `params.thread.id` for thread lifecycle notifications.
pub fn thread_id_of(params: &Value) -> Option<&str> {
    params
        .get("threadId")
        .and_then(Value::as_str)
        .or_else(|| params.get("thread").and_then(|t| t.get("id")).and_then(Value::as_str))
}

/// `params.turnId`, or `params.turn.id` for `turn/started` and `turn/completed`.
pub fn turn_id_of(params: &Value) -> Option<&str> {
    params
        .get("turnId")
        .and_then(Value::as_str)
        .or_else(|| params.get("turn").and_then(|t| t.get("id")).and_then(Value::as_str))
}

/// The active turn named by a steer or interrupt error: the X in "... but found X" (with or
/// without backticks), which is the turn to retry with.
pub fn active_turn_id_from_error(message: &str) -> Option<String> {
    let (_, rest) = message.rsplit_once("but found")?;
    let id = rest
        .trim()
        .trim_matches(|c: char| c == '`' || c == '\'' || c == '"' || c == '.')
        .trim();
    (!id.is_empty() && !id.contains(char::is_whitespace)).then(|| id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_from_flat_and_nested_params() {
        assert_eq!(thread_id_of(&json!({"threadId": "t1"})), Some("t1"));
        assert_eq!(thread_id_of(&json!({"thread": {"id": "t2"}})), Some("t2"));
        assert_eq!(turn_id_of(&json!({"turnId": "u1"})), Some("u1"));
        assert_eq!(turn_id_of(&json!({"turn": {"id": "u2"}})), Some("u2"));
        assert_eq!(turn_id_of(&json!({"turnId": null})), None);
    }

    #[test]
    fn active_turn_from_both_error_spellings() {
        assert_eq!(
            active_turn_id_from_error("expected active turn id `a1` but found `b2`").as_deref(),
            Some("b2")
        );
        assert_eq!(
            active_turn_id_from_error("expected active turn id a1 but found b2").as_deref(),
            Some("b2")
        );
        assert_eq!(active_turn_id_from_error("no active turn to steer"), None);
        assert_eq!(active_turn_id_from_error("but found "), None);
    }
}
