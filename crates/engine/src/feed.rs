//! A message-level front for the engines, shared by the wasm build and the native binding: whole
//! JSON messages (text or parsed) in, logical notifications out.

use crate::{Emit, GoalEngine, TurnAggregator, TurnResult};
use serde_json::{json, Value};
use std::fmt;

/// Why a message could not be taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedError(pub String);

impl fmt::Display for FeedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FeedError {}

enum Engine {
    Goal(GoalEngine<Value>),
    Turn(TurnAggregator<Value>),
}

/// Aggregates one logical turn (a goal run or a plain turn) from a thread's messages.
pub struct Aggregator {
    engine: Engine,
}

impl Aggregator {
    pub fn goal(thread_id: &str) -> Self {
        Self {
            engine: Engine::Goal(GoalEngine::new(thread_id)),
        }
    }

    pub fn turn(thread_id: &str, turn_id: &str) -> Self {
        Self {
            engine: Engine::Turn(TurnAggregator::new(thread_id, Some(turn_id.to_owned()))),
        }
    }

    /// Takes one JSON line.
    pub fn push_json(&mut self, line: &str) -> Result<Vec<Value>, FeedError> {
        let value = serde_json::from_str(line).map_err(|e| FeedError(format!("not JSON: {e}")))?;
        self.push_value(value)
    }

    /// Takes one parsed message. Requests and responses are not part of a turn's stream and are
    /// skipped; anything that is not a JSON-RPC message is an error.
    pub fn push_value(&mut self, message: Value) -> Result<Vec<Value>, FeedError> {
        let Value::Object(obj) = &message else {
            return Err(FeedError("a message must be a JSON object".into()));
        };
        let method = match obj.get("method") {
            Some(Value::String(m)) => m.clone(),
            Some(_) => return Err(FeedError("`method` must be a string".into())),
            None if obj.contains_key("id") => return Ok(Vec::new()),
            None => return Err(FeedError("not a JSON-RPC message: no `method` and no `id`".into())),
        };
        if obj.contains_key("id") {
            return Ok(Vec::new());
        }
        let params = obj.get("params").cloned().unwrap_or(Value::Null);
        let emitted = match &mut self.engine {
            Engine::Goal(e) => e.push(&method, &params, message),
            Engine::Turn(e) => e.push(&method, &params, message),
        };
        Ok(emitted
            .into_iter()
            .map(|e| match e {
                Emit::Original(v) => v,
                Emit::Rewritten { method, params } => json!({"method": method, "params": params}),
            })
            .collect())
    }

    pub fn is_done(&self) -> bool {
        match &self.engine {
            Engine::Goal(e) => e.is_done(),
            Engine::Turn(e) => e.is_done(),
        }
    }

    /// The logical id: the goal's first physical turn, or the plain turn's id.
    pub fn logical_turn_id(&self) -> Option<&str> {
        match &self.engine {
            Engine::Goal(e) => e.logical_turn_id(),
            Engine::Turn(e) => e.turn_id(),
        }
    }

    /// The physical turn to steer or interrupt now.
    pub fn current_turn_id(&self) -> Option<&str> {
        match &self.engine {
            Engine::Goal(e) => e.current_turn_id().filter(|_| e.turn_active()),
            Engine::Turn(e) => e.turn_id().filter(|_| !e.is_done()),
        }
    }

    /// The result, once the run is over.
    pub fn result(&self) -> Option<TurnResult> {
        self.is_done().then(|| match &self.engine {
            Engine::Goal(e) => e.result(),
            Engine::Turn(e) => e.result(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skips_requests_and_responses_and_rejects_garbage() {
        let mut a = Aggregator::goal("t");
        assert_eq!(a.push_json(r#"{"id":1,"result":{}}"#).unwrap(), Vec::<Value>::new());
        assert_eq!(
            a.push_json(r#"{"id":1,"method":"item/tool/call","params":{}}"#)
                .unwrap(),
            Vec::<Value>::new()
        );
        assert!(a.push_json("nope").unwrap_err().0.contains("not JSON"));
        assert!(a.push_value(json!([1])).is_err());
        assert!(a.push_value(json!({"method": 3})).is_err());
        assert!(a.push_value(json!({"params": {}})).is_err());
        assert!(a.result().is_none(), "no result before the run ends");
    }
}
