use crate::accumulator::Accumulator;
use crate::event::{Body, Event, TurnHeader};
use crate::result::TurnResult;
use crate::Emit;
use codex_sdk_protocol::{server_notification as m, ThreadGoal, ThreadGoalStatus, TurnStatus};

/// Follows one goal run on one thread and presents it as one logical turn.
///
/// Fed every notification of the thread in arrival order (from before the goal is set), it:
/// - fixes the logical id at the first `turn/started`, and passes that one on;
/// - hides later `turn/started` and every intermediate `turn/completed`;
/// - has every other notification of the run's physical turns relabelled to the logical id
///   (`thread/goal/updated` included, so progress reaches the stream);
/// - ends the run when a physical turn completes and the goal is no longer `active` (or was
///   cleared) — also when that news arrives after the completion — or when a physical turn is
///   interrupted; it then emits one `turn/completed` for the logical turn.
///
/// It decides; the caller patches its own payload (a textual splice of the raw line natively, a
/// property set in JS), so nothing is cloned to relabel it.
#[derive(Debug)]
pub struct GoalEngine<P> {
    thread_id: String,
    logical_id: Option<String>,
    /// The physical turn running now, if any.
    running: Option<String>,
    /// Notifications of a turn not started yet (its `turn/started` is still to come).
    held: Vec<(String, Body, P)>,
    goal_status: Option<ThreadGoalStatus>,
    cleared: bool,
    /// A physical turn completed and no continuation has started yet.
    between_turns: bool,
    last_completed: Option<TurnHeader>,
    interrupt_requested: bool,
    acc: Accumulator,
    done: bool,
}

impl<P> GoalEngine<P> {
    pub fn new(thread_id: impl Into<String>) -> Self {
        Self {
            thread_id: thread_id.into(),
            logical_id: None,
            running: None,
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

    /// The physical turn running now, the one to steer or interrupt; `None` between turns.
    pub fn active_turn_id(&self) -> Option<&str> {
        self.running.as_deref()
    }

    pub fn turn_ids(&self) -> &[String] {
        self.acc.turn_ids()
    }

    pub fn accumulator(&self) -> &Accumulator {
        &self.acc
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

    /// Takes the next notification of the thread, in arrival order. Returns whether the engine
    /// kept the payload (held until its turn starts).
    pub fn push(&mut self, event: Event<'_>, payload: P, out: &mut Vec<Emit<P>>) -> bool {
        if self.done || event.thread_id.is_some_and(|t| t != self.thread_id) {
            return false;
        }
        match event.method {
            m::TURN_STARTED => self.on_turn_started(event, payload, out),
            m::TURN_COMPLETED => self.on_turn_completed(event, out),
            m::THREAD_GOAL_UPDATED => self.on_goal_updated(event, payload, out),
            m::THREAD_GOAL_CLEARED => {
                // A clear before our run started is the one that makes room for this goal.
                if self.logical_id.is_some() {
                    self.cleared = true;
                    out.push(Emit::Pass(payload));
                    self.finish_if_settled(out);
                }
            }
            _ => match event.turn_id {
                _ if self.acc.is_repeat(&event.body, false) => {}
                Some(turn) if self.is_ours(turn) => {
                    let emit = self.relabel(Some(turn), payload);
                    self.acc.observe(event.body, false);
                    out.push(emit);
                }
                Some(turn) if self.running.is_none() => {
                    self.held.push((turn.to_owned(), event.body, payload));
                    return true;
                }
                _ => {}
            },
        }
        false
    }

    fn is_ours(&self, turn: &str) -> bool {
        self.running.as_deref() == Some(turn) || self.acc.has_turn(turn)
    }

    fn on_turn_started(&mut self, event: Event<'_>, payload: P, out: &mut Vec<Emit<P>>) {
        let Some(turn) = event.turn_id.map(str::to_owned) else {
            return;
        };
        if self.acc.has_completed(&turn) {
            return;
        }
        if let Body::Turn(header) = event.body {
            self.acc.observe(Body::Turn(header), false);
        }
        self.acc.add_turn(&turn);
        self.running = Some(turn.clone());
        self.between_turns = false;
        if self.logical_id.is_none() {
            self.logical_id = Some(turn.clone());
            out.push(Emit::Pass(payload));
        }
        // Release what arrived for this turn before its start, in order.
        for (held_turn, body, payload) in std::mem::take(&mut self.held) {
            if held_turn == turn {
                let emit = self.relabel(Some(&held_turn), payload);
                self.acc.observe(body, false);
                out.push(emit);
            }
        }
    }

    fn on_turn_completed(&mut self, event: Event<'_>, out: &mut Vec<Emit<P>>) {
        let Some(turn) = event.turn_id else { return };
        if !self.is_ours(turn) || self.acc.has_completed(turn) {
            return;
        }
        if self.running.as_deref() == Some(turn) {
            self.running = None;
        }
        let header = match event.body {
            Body::Turn(h) => h,
            _ => TurnHeader {
                id: turn.to_owned(),
                ..TurnHeader::default()
            },
        };
        self.last_completed = Some(header.clone());
        self.acc.observe(Body::Turn(header), true);
        self.between_turns = true;
        self.finish_if_settled(out);
    }

    fn on_goal_updated(&mut self, event: Event<'_>, payload: P, out: &mut Vec<Emit<P>>) {
        if let Body::Goal { status: Some(s), .. } = &event.body {
            self.goal_status = Some(*s);
        }
        let emit = self.relabel(event.turn_id, payload);
        self.acc.observe(event.body, false);
        if self.logical_id.is_some() {
            out.push(emit);
            self.finish_if_settled(out);
        }
    }

    /// Ends the run once a physical turn has completed and nothing will continue it.
    fn finish_if_settled(&mut self, out: &mut Vec<Emit<P>>) {
        if self.done || !self.between_turns {
            return;
        }
        let interrupted = self.last_completed.as_ref().and_then(|t| t.status) == Some(TurnStatus::Interrupted);
        if !interrupted && self.goal_active() {
            return;
        }
        self.done = true;
        self.held.clear();
        let id = self.logical_id.as_deref().unwrap_or_default();
        let completion = self.acc.completion(id, &self.thread_id, self.interrupt_requested);
        out.push(Emit::Completed(Box::new(completion)));
    }

    /// A notification of the run as it goes on: as it is when it already names the logical turn,
    /// else relabelled to it.
    fn relabel(&self, turn: Option<&str>, payload: P) -> Emit<P> {
        if turn.is_some() && turn == self.logical_id.as_deref() {
            Emit::Pass(payload)
        } else {
            Emit::Relabel(payload)
        }
    }

    /// The aggregated result; final once [`is_done`](Self::is_done).
    pub fn result(&self) -> TurnResult {
        let id = self.logical_id.as_deref().unwrap_or_default();
        self.acc.result(id, &self.thread_id, self.interrupt_requested)
    }
}
