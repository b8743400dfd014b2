use crate::event::{Body, TurnHeader};
use crate::history::HistoryTurn;
use crate::result::{TurnResult, TurnResultStatus};
use crate::usage::Usage;
use crate::{CompletedTurn, Completion};
use codex_sdk_protocol::{ThreadGoal, TokenUsageBreakdown, TurnError, TurnStatus};
use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::Value;

/// What a logical turn gathers from the notifications of its physical turns: completed items,
/// usage, timing and outcome, turn by turn. Shared by the plain-turn and goal engines so both
/// aggregate alike, and rebuilt from the thread's history after a gap (see [`reconcile`]).
///
/// [`reconcile`]: Accumulator::reconcile
#[derive(Debug, Default, Clone)]
pub struct Accumulator {
    turns: Vec<TurnRecord>,
    /// Turn id → position in `turns`, for O(1) lookups however many physical turns a goal runs.
    /// (Ids come from the server; FxHash is several times cheaper than SipHash on them.)
    index: FxHashMap<String, usize>,
    usage: Usage,
    goal: Option<ThreadGoal>,
}

/// One physical turn as gathered so far.
#[derive(Debug, Default, Clone)]
struct TurnRecord {
    id: String,
    items: Vec<Value>,
    /// Ids of the items taken. Item ids come from the model provider and are unique only within a
    /// turn, so a repeat (a resumed connection sending an item again) is the same id in the same turn.
    item_ids: FxHashSet<String>,
    started_at: Option<i64>,
    /// Set once the turn completed: how it ended.
    completed: Option<TurnHeader>,
}

fn item_id(item: &Value) -> Option<&str> {
    item.get("id").and_then(Value::as_str)
}

impl TurnRecord {
    fn push_item(&mut self, item: Value) {
        if let Some(id) = item_id(&item) {
            self.item_ids.insert(id.to_owned());
        }
        self.items.push(item);
    }
}

impl Accumulator {
    /// Whether this notification of `turn` repeats one already taken: an item of that turn with an
    /// id already seen, or the completion of a turn already completed.
    pub fn is_repeat(&self, turn: Option<&str>, body: &Body, completed: bool) -> bool {
        match body {
            Body::Item(item) => match (turn, item_id(item)) {
                (Some(turn), Some(id)) => self.has_item(turn, id),
                _ => false,
            },
            Body::Turn(header) if completed => self.has_completed(&header.id),
            _ => false,
        }
    }

    fn record(&self, turn: &str) -> Option<&TurnRecord> {
        self.index.get(turn).map(|&i| &self.turns[i])
    }

    /// The record of `turn`, added (last) when new.
    fn record_mut(&mut self, turn: &str) -> &mut TurnRecord {
        let i = match self.index.get(turn) {
            Some(&i) => i,
            None => {
                self.index.insert(turn.to_owned(), self.turns.len());
                self.turns.push(TurnRecord {
                    id: turn.to_owned(),
                    ..TurnRecord::default()
                });
                self.turns.len() - 1
            }
        };
        &mut self.turns[i]
    }

    pub fn has_item(&self, turn: &str, id: &str) -> bool {
        self.record(turn).is_some_and(|r| r.item_ids.contains(id))
    }

    pub fn has_completed(&self, turn: &str) -> bool {
        self.record(turn).is_some_and(|r| r.completed.is_some())
    }

    /// Takes what a notification of `turn` carries (its body is consumed: items move in).
    pub fn observe(&mut self, turn: Option<&str>, body: Body, completed: bool) {
        match body {
            Body::Item(item) => {
                if let Some(turn) = turn {
                    self.record_mut(turn).push_item(item);
                }
            }
            Body::Usage { last, total } => self.usage.update(last.as_ref(), total.as_ref()),
            Body::Turn(header) if completed => {
                let record = self.record_mut(&header.id);
                record.started_at = record.started_at.or(header.started_at);
                record.completed = Some(header);
            }
            Body::Turn(header) => {
                let record = self.record_mut(&header.id);
                record.started_at = record.started_at.or(header.started_at);
            }
            Body::Goal { goal: Some(goal), .. } => self.goal = Some(goal),
            _ => {}
        }
    }

    /// Records a physical turn of this logical turn (once, in the order first seen).
    pub fn add_turn(&mut self, id: &str) {
        self.record_mut(id);
    }

    pub fn has_turn(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    pub fn turn_ids(&self) -> Vec<String> {
        self.turns.iter().map(|t| t.id.clone()).collect()
    }

    pub fn turn_count(&self) -> usize {
        self.turns.len()
    }

    pub fn goal(&self) -> Option<&ThreadGoal> {
        self.goal.as_ref()
    }

    pub fn set_goal(&mut self, goal: Option<ThreadGoal>) {
        self.goal = goal;
    }

    /// The connection is about to have a gap: see [`Usage::gap`].
    pub fn gap(&mut self) {
        self.usage.gap();
    }

    /// Whether usage needs the thread's running total before the run to be exact (see [`Usage`]).
    pub fn needs_usage_base(&self) -> bool {
        self.usage.needs_base()
    }

    pub fn rebase_usage(&mut self, base: &TokenUsageBreakdown) {
        self.usage.rebase(base);
    }

    /// Makes the run's turns what the thread's history says they are: `run` is every physical turn
    /// of the run, in order, from the first. A turn the history shows completed is taken whole
    /// (items, status, timing); the one still running keeps the items seen live that the history
    /// does not have yet. Returns the items that were not taken before, with their turn, in order:
    /// what a stream missed.
    pub fn reconcile(&mut self, run: &[HistoryTurn]) -> Vec<(String, Value)> {
        let mut missed = Vec::new();
        let mut turns = Vec::with_capacity(run.len().max(self.turns.len()));
        let mut before = std::mem::take(&mut self.turns);
        let mut index = std::mem::take(&mut self.index);
        for h in run {
            let live = index.remove(&h.header.id).map(|i| std::mem::take(&mut before[i]));
            let mut record = TurnRecord {
                id: h.header.id.clone(),
                started_at: h.header.started_at,
                ..TurnRecord::default()
            };
            for item in &h.items {
                let seen = live
                    .as_ref()
                    .zip(item_id(item))
                    .is_some_and(|(l, id)| l.item_ids.contains(id));
                if !seen {
                    missed.push((record.id.clone(), item.clone()));
                }
                record.push_item(item.clone());
            }
            if let Some(live) = live {
                record.started_at = record.started_at.or(live.started_at);
                // Completed live after the history was read: keep what only the live stream has.
                for item in live.items {
                    if item_id(&item).is_none_or(|id| !record.item_ids.contains(id)) {
                        record.push_item(item);
                    }
                }
                record.completed = live.completed;
            }
            if h.header.status.is_some_and(|s| s != TurnStatus::InProgress) {
                record.completed = Some(h.header.clone());
            }
            turns.push(record);
        }
        // Turns seen live that the history does not show yet (it is read before they were
        // written) stay, after the history's.
        let mut rest: Vec<_> = index.into_values().collect();
        rest.sort_unstable();
        turns.extend(rest.into_iter().map(|i| std::mem::take(&mut before[i])));
        self.index = turns.iter().enumerate().map(|(i, t)| (t.id.clone(), i)).collect();
        self.turns = turns;
        missed
    }

    fn completed(&self) -> impl DoubleEndedIterator<Item = &TurnHeader> {
        self.turns.iter().filter_map(|t| t.completed.as_ref())
    }

    fn failure(&self) -> Option<Option<TurnError>> {
        self.completed()
            .rev()
            .find(|t| t.status == Some(TurnStatus::Failed))
            .map(|t| t.error.clone())
    }

    fn timing(&self) -> (Option<i64>, Option<i64>, Option<i64>) {
        let started = self.turns.iter().find_map(|t| t.started_at);
        let completed = self.completed().rev().find_map(|t| t.completed_at);
        let duration = self
            .completed()
            .filter_map(|t| t.duration_ms)
            .fold(None, |sum: Option<i64>, d| Some(sum.unwrap_or(0) + d));
        (started, completed, duration)
    }

    fn status(&self, interrupt_requested: bool) -> TurnResultStatus {
        if self.failure().is_some() {
            TurnResultStatus::Failed
        } else if interrupt_requested || self.completed().any(|t| t.status == Some(TurnStatus::Interrupted)) {
            TurnResultStatus::Interrupted
        } else {
            TurnResultStatus::Completed
        }
    }

    /// How the logical turn ended, as its `turn/completed` says it (no items: they are in the result).
    pub fn completion(&self, id: &str, thread_id: &str, interrupt_requested: bool) -> Completion {
        let (started_at, completed_at, duration_ms) = self.timing();
        Completion {
            thread_id: thread_id.to_owned(),
            turn: CompletedTurn {
                id: id.to_owned(),
                items: Vec::new(),
                items_view: "notLoaded",
                status: self.status(interrupt_requested),
                error: self.failure().flatten(),
                started_at,
                completed_at,
                duration_ms,
            },
        }
    }

    /// The result so far. `interrupt_requested` marks an interrupt asked for by the caller, which
    /// makes the logical turn `interrupted` even when the server reports the last turn otherwise.
    pub fn result(&self, id: &str, thread_id: &str, interrupt_requested: bool) -> TurnResult {
        let (started_at, completed_at, duration_ms) = self.timing();
        let items: Vec<Value> = self.turns.iter().flat_map(|t| t.items.iter().cloned()).collect();
        TurnResult {
            id: id.to_owned(),
            thread_id: thread_id.to_owned(),
            status: self.status(interrupt_requested),
            error: self.failure().flatten(),
            started_at,
            completed_at,
            duration_ms,
            final_response: final_response(&items),
            items,
            usage: self.usage.sum().cloned(),
            turn_ids: self.turn_ids(),
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
