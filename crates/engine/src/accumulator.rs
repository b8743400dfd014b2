use crate::result::{TurnResult, TurnResultStatus};
use crate::usage::add_usage;
use codex_sdk_protocol::{server_notification as m, ThreadGoal, TokenUsageBreakdown, TurnError, TurnStatus};
use serde_json::Value;

/// What a logical turn gathers from the notifications of its physical turns: completed items,
/// usage, timing and outcome. Shared by the plain-turn and goal engines so both aggregate alike.
#[derive(Debug, Default, Clone)]
pub struct Accumulator {
    items: Vec<Value>,
    usage: Option<TokenUsageBreakdown>,
    turn_ids: Vec<String>,
    started_at: Option<i64>,
    completed_at: Option<i64>,
    duration_ms: Option<i64>,
    failed: Option<Option<TurnError>>,
    interrupted: bool,
    goal: Option<ThreadGoal>,
}

impl Accumulator {
    /// Takes one notification that belongs to this logical turn.
    pub fn observe(&mut self, method: &str, params: &Value) {
        match method {
            m::ITEM_COMPLETED => {
                if let Some(item) = params.get("item") {
                    self.items.push(item.clone());
                }
            }
            m::THREAD_TOKEN_USAGE_UPDATED => {
                let last = params.get("tokenUsage").and_then(|u| u.get("last"));
                if let Some(last) = last.and_then(|l| serde_json::from_value::<TokenUsageBreakdown>(l.clone()).ok()) {
                    add_usage(&mut self.usage, &last);
                }
            }
            m::TURN_STARTED => {
                if let Some(turn) = turn_of(params) {
                    if !self.turn_ids.contains(&turn.id) {
                        self.turn_ids.push(turn.id);
                    }
                    if self.started_at.is_none() {
                        self.started_at = turn.started_at;
                    }
                }
            }
            m::TURN_COMPLETED => {
                if let Some(turn) = turn_of(params) {
                    if !self.turn_ids.contains(&turn.id) {
                        self.turn_ids.push(turn.id.clone());
                    }
                    self.started_at = self.started_at.or(turn.started_at);
                    self.completed_at = turn.completed_at.or(self.completed_at);
                    if let Some(d) = turn.duration_ms {
                        self.duration_ms = Some(self.duration_ms.unwrap_or(0) + d);
                    }
                    match turn.status {
                        Some(TurnStatus::Failed) => self.failed = Some(turn.error),
                        Some(TurnStatus::Interrupted) => self.interrupted = true,
                        _ => {}
                    }
                }
            }
            m::THREAD_GOAL_UPDATED => {
                if let Some(goal) = params.get("goal").and_then(|g| serde_json::from_value(g.clone()).ok()) {
                    self.goal = Some(goal);
                }
            }
            _ => {}
        }
    }

    pub fn turn_ids(&self) -> &[String] {
        &self.turn_ids
    }

    pub fn goal(&self) -> Option<&ThreadGoal> {
        self.goal.as_ref()
    }

    /// The result so far. `interrupt_requested` marks an interrupt asked for by the caller, which
    /// makes the logical turn `interrupted` even when the server reports the last turn otherwise.
    pub fn result(&self, id: &str, thread_id: &str, interrupt_requested: bool) -> TurnResult {
        let status = if self.failed.is_some() {
            TurnResultStatus::Failed
        } else if self.interrupted || interrupt_requested {
            TurnResultStatus::Interrupted
        } else {
            TurnResultStatus::Completed
        };
        TurnResult {
            id: id.to_owned(),
            thread_id: thread_id.to_owned(),
            status,
            error: self.failed.clone().flatten(),
            started_at: self.started_at,
            completed_at: self.completed_at,
            duration_ms: self.duration_ms,
            final_response: final_response(&self.items),
            items: self.items.clone(),
            usage: self.usage.clone(),
            turn_ids: self.turn_ids.clone(),
            goal: self.goal.clone(),
        }
    }
}

/// The turn header of `turn/started` / `turn/completed`, read without copying its items.
struct TurnHeader {
    id: String,
    status: Option<TurnStatus>,
    error: Option<TurnError>,
    started_at: Option<i64>,
    completed_at: Option<i64>,
    duration_ms: Option<i64>,
}

fn turn_of(params: &Value) -> Option<TurnHeader> {
    let t = params.get("turn")?;
    let int = |k: &str| t.get(k).and_then(Value::as_i64);
    Some(TurnHeader {
        id: t.get("id")?.as_str()?.to_owned(),
        status: t.get("status").and_then(|s| serde_json::from_value(s.clone()).ok()),
        error: t
            .get("error")
            .filter(|e| !e.is_null())
            .and_then(|e| serde_json::from_value(e.clone()).ok()),
        started_at: int("startedAt"),
        completed_at: int("completedAt"),
        duration_ms: int("durationMs"),
    })
}

/// The last agent message whose phase is `final_answer`, else the last one with no phase.
fn final_response(items: &[Value]) -> Option<String> {
    let agent = || {
        items
            .iter()
            .rev()
            .filter(|i| i.get("type").and_then(Value::as_str) == Some("agentMessage"))
    };
    let phase = |i: &&Value| i.get("phase").and_then(Value::as_str).map(str::to_owned);
    agent()
        .find(|i| phase(i).as_deref() == Some("final_answer"))
        .or_else(|| agent().find(|i| phase(i).is_none()))
        .and_then(|i| i.get("text").and_then(Value::as_str).map(str::to_owned))
}
