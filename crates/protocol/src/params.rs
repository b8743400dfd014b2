//! The few fields routing needs, read from a message's params without a full typed decode.

use serde_json::Value;

/// The longest goal objective the app-server takes, in Unicode scalar values after trimming
/// (`-32600 goal objective must be at most 4000 characters`; the schema does not state it).
pub const GOAL_OBJECTIVE_MAX_CHARS: usize = 4000;

/// The objective as the app-server will store it (trimmed), or why it would refuse it. Checked
/// before anything is sent, so a refused objective never costs the thread its stored goal.
pub fn goal_objective(objective: &str) -> Result<&str, String> {
    let trimmed = objective.trim();
    if trimmed.is_empty() {
        return Err("the objective is empty".into());
    }
    let chars = trimmed.chars().count();
    if chars > GOAL_OBJECTIVE_MAX_CHARS {
        return Err(format!(
            "the objective has {chars} characters; the app-server takes at most {GOAL_OBJECTIVE_MAX_CHARS}"
        ));
    }
    Ok(trimmed)
}

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
    fn objectives_are_checked_as_the_server_counts() {
        assert_eq!(goal_objective("  ship it \n").unwrap(), "ship it");
        assert!(goal_objective(" \t\n").is_err());
        let at_limit = "😀".repeat(GOAL_OBJECTIVE_MAX_CHARS);
        assert_eq!(goal_objective(&format!(" {at_limit} ")).unwrap(), at_limit);
        let over = "é".repeat(GOAL_OBJECTIVE_MAX_CHARS + 1);
        assert!(goal_objective(&over).unwrap_err().contains("4001 characters"));
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
