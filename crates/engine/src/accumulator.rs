use crate::event::{Body, TurnHeader};
use crate::result::{TurnResult, TurnResultStatus};
use crate::usage::Usage;
use crate::{CompletedTurn, Completion};
use codex_sdk_protocol::{ThreadGoal, TurnError, TurnStatus};
use rustc_hash::FxHashSet;
use serde_json::Value;

/// What a logical turn gathers from the notifications of its physical turns: completed items,
/// usage, timing and outcome. Shared by the plain-turn and goal engines so both aggregate alike.
#[derive(Debug, Default, Clone)]
pub struct Accumulator {
    items: Vec<Value>,
    usage: Usage,
    turn_ids: Vec<String>,
    /// The same ids, for O(1) membership however many physical turns a goal runs. (Ids come from
    /// the server; FxHash is several times cheaper than SipHash on them.)
    known: FxHashSet<String>,
    /// Turns seen to complete, and the ids of the items taken: what arrives twice (a run resumed
    /// after a dropped connection is reconciled from the thread's history) is taken once.
    completed: FxHashSet<String>,
    item_ids: FxHashSet<String>,
    started_at: Option<i64>,
    completed_at: Option<i64>,
    duration_ms: Option<i64>,
    failed: Option<Option<TurnError>>,
    interrupted: bool,
    goal: Option<ThreadGoal>,
}

impl Accumulator {
    /// Whether this notification repeats one already taken: an item with an id already seen, or
    /// the completion of a turn already completed.
    pub fn is_repeat(&self, body: &Body, completed: bool) -> bool {
        match body {
            Body::Item(item) => item
                .get("id")
                .and_then(Value::as_str)
                .is_some_and(|id| self.item_ids.contains(id)),
            Body::Turn(turn) if completed => self.completed.contains(&turn.id),
            _ => false,
        }
    }

    pub fn has_item(&self, id: &str) -> bool {
        self.item_ids.contains(id)
    }

    pub fn has_completed(&self, turn: &str) -> bool {
        self.completed.contains(turn)
    }

    /// Takes what a notification of this logical turn carries (its body is consumed: items move in).
    pub fn observe(&mut self, body: Body, completed: bool) {
        match body {
            Body::Item(item) => {
                if let Some(id) = item.get("id").and_then(Value::as_str) {
                    self.item_ids.insert(id.to_owned());
                }
                self.items.push(item)
            }
            Body::Usage { last, total } => self.usage.update(last.as_ref(), total.as_ref()),
            Body::Turn(turn) if completed => self.turn_completed(turn),
            Body::Turn(turn) => {
                self.add_turn(&turn.id);
                if self.started_at.is_none() {
                    self.started_at = turn.started_at;
                }
            }
            Body::Goal { goal: Some(goal), .. } => self.goal = Some(goal),
            _ => {}
        }
    }

    fn turn_completed(&mut self, turn: TurnHeader) {
        self.add_turn(&turn.id);
        self.completed.insert(turn.id.clone());
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

    /// Records a physical turn of this logical turn (once).
    pub fn add_turn(&mut self, id: &str) {
        if !self.known.contains(id) {
            self.known.insert(id.to_owned());
            self.turn_ids.push(id.to_owned());
        }
    }

    pub fn has_turn(&self, id: &str) -> bool {
        self.known.contains(id)
    }

    pub fn turn_ids(&self) -> &[String] {
        &self.turn_ids
    }

    pub fn goal(&self) -> Option<&ThreadGoal> {
        self.goal.as_ref()
    }

    /// How the logical turn ended, as its `turn/completed` says it (no items: they are in the result).
    pub fn completion(&self, id: &str, thread_id: &str, interrupt_requested: bool) -> Completion {
        Completion {
            thread_id: thread_id.to_owned(),
            turn: CompletedTurn {
                id: id.to_owned(),
                items: Vec::new(),
                items_view: "notLoaded",
                status: self.status(interrupt_requested),
                error: self.failed.clone().flatten(),
                started_at: self.started_at,
                completed_at: self.completed_at,
                duration_ms: self.duration_ms,
            },
        }
    }

    fn status(&self, interrupt_requested: bool) -> TurnResultStatus {
        if self.failed.is_some() {
            TurnResultStatus::Failed
        } else if self.interrupted || interrupt_requested {
            TurnResultStatus::Interrupted
        } else {
            TurnResultStatus::Completed
        }
    }

    /// The result so far. `interrupt_requested` marks an interrupt asked for by the caller, which
    /// makes the logical turn `interrupted` even when the server reports the last turn otherwise.
    pub fn result(&self, id: &str, thread_id: &str, interrupt_requested: bool) -> TurnResult {
        TurnResult {
            id: id.to_owned(),
            thread_id: thread_id.to_owned(),
            status: self.status(interrupt_requested),
            error: self.failed.clone().flatten(),
            started_at: self.started_at,
            completed_at: self.completed_at,
            duration_ms: self.duration_ms,
            final_response: final_response(&self.items),
            items: self.items.clone(),
            usage: self.usage.sum().cloned(),
            turn_ids: self.turn_ids.clone(),
            goal: self.goal.clone(),
        }
    }
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
