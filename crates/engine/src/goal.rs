use crate::accumulator::Accumulator;
use crate::result::TurnResult;
use crate::Emit;
use codex_sdk_protocol::{server_notification as m, thread_id_of, turn_id_of, ThreadGoal, ThreadGoalStatus};
use serde_json::{json, Value};

/// Follows one goal run on one thread and presents it as one logical turn.
///
/// Fed every notification of the thread in arrival order (from before the goal is set), it:
/// - fixes the logical id at the first `turn/started`, and passes that one on;
/// - hides later `turn/started` and every intermediate `turn/completed`;
/// - relabels every other notification of the run's physical turns to the logical id
///   (`thread/goal/updated` included, so progress reaches the stream);
/// - ends the run when a physical turn completes and the goal is no longer `active` (or was
///   cleared) — also when that news arrives after the completion — or when a physical turn is
///   interrupted; it then emits one `turn/completed` for the logical turn.
#[derive(Debug)]
pub struct GoalEngine<P> {
    thread_id: String,
    logical_id: Option<String>,
    /// The physical turn running now, if any.
    current: Option<String>,
    /// The last physical turn that started (steer and interrupt fall back to it).
    latest: Option<String>,
    /// Notifications of a turn not started yet (its `turn/started` is still to come).
    held: Vec<(String, Value, P)>,
    goal_status: Option<ThreadGoalStatus>,
    cleared: bool,
    /// A physical turn completed and no continuation has started yet.
    between_turns: bool,
    last_completed: Option<Value>,
    interrupt_requested: bool,
    acc: Accumulator,
    done: bool,
}

impl<P> GoalEngine<P> {
    pub fn new(thread_id: impl Into<String>) -> Self {
        Self {
            thread_id: thread_id.into(),
            logical_id: None,
            current: None,
            latest: None,
            held: Vec::new(),
            goal_status: None,
            cleared: false,
            between_turns: false,
            last_completed: None,
            interrupt_requested: false,
            acc: Accumulator::default(),
            done: false,
        }
    }

    pub fn thread_id(&self) -> &str {
        &self.thread_id
    }

    /// The logical id: the first physical turn's id, once it started.
    pub fn logical_turn_id(&self) -> Option<&str> {
        self.logical_id.as_deref()
    }

    /// The physical turn to steer or interrupt now: the running one, else the latest.
    pub fn current_turn_id(&self) -> Option<&str> {
        self.current.as_deref().or(self.latest.as_deref())
    }

    /// Whether a physical turn is running now.
    pub fn turn_active(&self) -> bool {
        self.current.is_some()
    }

    pub fn turn_ids(&self) -> &[String] {
        self.acc.turn_ids()
    }

    pub fn goal(&self) -> Option<&ThreadGoal> {
        self.acc.goal()
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Whether the goal (as last seen) still drives continuations.
    pub fn goal_active(&self) -> bool {
        !self.cleared && self.goal_status.is_none_or(|s| s == ThreadGoalStatus::Active)
    }

    /// The caller asked for an interrupt (or cancel) and the server took it: the run counts as
    /// interrupted however it ends.
    pub fn set_interrupt_requested(&mut self, requested: bool) {
        self.interrupt_requested = requested;
    }

    /// Takes the next notification of the thread, in arrival order.
    pub fn push(&mut self, method: &str, params: &Value, payload: P) -> Vec<Emit<P>> {
        let mut out = Vec::new();
        if self.done || thread_id_of(params).is_some_and(|t| t != self.thread_id) {
            return out;
        }
        match method {
            m::TURN_STARTED => self.on_turn_started(params, payload, &mut out),
            m::TURN_COMPLETED => self.on_turn_completed(params, payload, &mut out),
            m::THREAD_GOAL_UPDATED => self.on_goal_updated(params, payload, &mut out),
            m::THREAD_GOAL_CLEARED => {
                // A clear before our run started is the one that makes room for this goal.
                if self.logical_id.is_some() {
                    self.cleared = true;
                    out.push(Emit::Original(payload));
                    self.finish_if_settled(&mut out);
                }
            }
            _ => match turn_id_of(params) {
                Some(turn) if self.is_ours(turn) => {
                    self.acc.observe(method, params);
                    out.push(self.relabel(method, params, payload));
                }
                Some(_) if self.current.is_none() => self.held.push((method.to_owned(), params.clone(), payload)),
                _ => {}
            },
        }
        out
    }

    fn is_ours(&self, turn: &str) -> bool {
        self.current.as_deref() == Some(turn) || self.acc.turn_ids().iter().any(|t| t == turn)
    }

    fn on_turn_started(&mut self, params: &Value, payload: P, out: &mut Vec<Emit<P>>) {
        let Some(turn) = turn_id_of(params).map(str::to_owned) else {
            return;
        };
        self.acc.observe(m::TURN_STARTED, params);
        self.current = Some(turn.clone());
        self.latest = Some(turn.clone());
        self.between_turns = false;
        if self.logical_id.is_none() {
            self.logical_id = Some(turn.clone());
            out.push(Emit::Original(payload));
        }
        // Release what arrived for this turn before its start, in order.
        for (method, params, payload) in std::mem::take(&mut self.held) {
            if turn_id_of(&params) == Some(turn.as_str()) {
                self.acc.observe(&method, &params);
                out.push(self.relabel(&method, &params, payload));
            }
        }
    }

    fn on_turn_completed(&mut self, params: &Value, _payload: P, out: &mut Vec<Emit<P>>) {
        let Some(turn) = turn_id_of(params) else { return };
        if !self.is_ours(turn) {
            return;
        }
        self.acc.observe(m::TURN_COMPLETED, params);
        if self.current.as_deref() == Some(turn) {
            self.current = None;
        }
        self.between_turns = true;
        self.last_completed = Some(params.clone());
        self.finish_if_settled(out);
    }

    fn on_goal_updated(&mut self, params: &Value, payload: P, out: &mut Vec<Emit<P>>) {
        let status = params
            .get("goal")
            .and_then(|g| g.get("status"))
            .and_then(|s| serde_json::from_value(s.clone()).ok());
        if let Some(s) = status {
            self.goal_status = Some(s);
        }
        self.acc.observe(m::THREAD_GOAL_UPDATED, params);
        if self.logical_id.is_some() {
            out.push(self.relabel(m::THREAD_GOAL_UPDATED, params, payload));
            self.finish_if_settled(out);
        }
    }

    /// Ends the run once a physical turn has completed and nothing will continue it.
    fn finish_if_settled(&mut self, out: &mut Vec<Emit<P>>) {
        if self.done || !self.between_turns {
            return;
        }
        let interrupted = self
            .last_completed
            .as_ref()
            .and_then(|p| p.get("turn"))
            .and_then(|t| t.get("status"))
            .and_then(Value::as_str)
            == Some("interrupted");
        if !interrupted && self.goal_active() {
            return;
        }
        self.done = true;
        self.held.clear();
        let result = self.result();
        let mut params = self
            .last_completed
            .take()
            .unwrap_or_else(|| json!({"threadId": self.thread_id}));
        params["turn"] = json!({
            "id": result.id,
            "items": [],
            "itemsView": "notLoaded",
            "status": result.status,
            "error": result.error,
            "startedAt": result.started_at,
            "completedAt": result.completed_at,
            "durationMs": result.duration_ms,
        });
        out.push(Emit::Rewritten {
            method: m::TURN_COMPLETED.to_owned(),
            params,
        });
    }

    fn relabel(&self, method: &str, params: &Value, payload: P) -> Emit<P> {
        let logical = self.logical_id.as_deref().unwrap_or_default();
        match params.get("turnId") {
            Some(Value::String(t)) if t == logical => Emit::Original(payload),
            _ => {
                let mut params = params.clone();
                params["turnId"] = Value::String(logical.to_owned());
                Emit::Rewritten {
                    method: method.to_owned(),
                    params,
                }
            }
        }
    }

    /// The aggregated result; final once [`is_done`](Self::is_done).
    pub fn result(&self) -> TurnResult {
        let id = self.logical_id.as_deref().unwrap_or_default();
        self.acc.result(id, &self.thread_id, self.interrupt_requested)
    }
}
