use crate::accumulator::Accumulator;
use crate::event::{Body, Event, Queued, TurnHeader};
use crate::history::{run_span, HistoryTurn, RunEnd, RunStart};
use crate::result::TurnResult;
use crate::Emit;
use codex_sdk_protocol::{server_notification as m, ThreadGoal, ThreadGoalStatus, TokenUsageBreakdown, TurnStatus};

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
///
/// After a gap ([`begin_sync`](Self::begin_sync) .. [`reconcile`](Self::reconcile)) the run is
/// rebuilt from the thread's history; what arrives meanwhile waits, and the run cannot end on it.
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
    /// Between a gap and the history that closes it: notifications wait in `queued`.
    syncing: bool,
    queued: Vec<Queued<P>>,
    /// The unix second the goal became active for this run, to find its first turn in the history
    /// when it was not seen live.
    activated_at: Option<i64>,
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
            syncing: false,
            queued: Vec::new(),
            activated_at: None,
        }
    }

    /// A run already under way, or over, found on the thread by its goal, which became active at
    /// the unix second `activated_at`: it starts synced from the history ([`reconcile`](Self::reconcile)).
    pub fn attach(thread_id: impl Into<String>, activated_at: i64) -> Self {
        let mut engine = Self::new(thread_id);
        engine.activated_at = Some(activated_at);
        engine.begin_sync();
        engine
    }

    /// Where the run begins, to find it in the history: its first turn once seen, else the second
    /// its goal became active.
    pub fn run_start(&self) -> Option<RunStart> {
        match (&self.logical_id, self.activated_at) {
            (Some(id), _) => Some(RunStart::Turn(id.clone())),
            (None, Some(at)) => Some(RunStart::Since(at)),
            (None, None) => None,
        }
    }

    /// The goal became active for this run at this unix second (the `goal/set` answer's).
    pub fn set_activated_at(&mut self, at: i64) {
        self.activated_at.get_or_insert(at);
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

    pub fn turn_ids(&self) -> Vec<String> {
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

    /// Takes the next notification of the thread, in arrival order. Returns whether the engine
    /// kept the payload (held until its turn starts).
    pub fn push(&mut self, event: Event<'_>, payload: P, out: &mut Vec<Emit<P>>) -> bool {
        if self.done || event.thread_id.is_some_and(|t| t != self.thread_id) {
            return false;
        }
        if self.syncing {
            self.queued.push(Queued::new(event, payload));
            return true;
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
                _ if self.acc.is_repeat(event.turn_id, &event.body, false) => {}
                Some(turn) if self.is_ours(turn) => {
                    let emit = self.relabel(Some(turn), payload);
                    self.acc.observe(Some(turn), event.body, false);
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
            self.acc.observe(None, Body::Turn(header), false);
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
            if held_turn == turn && !self.acc.is_repeat(Some(&turn), &body, false) {
                let emit = self.relabel(Some(&held_turn), payload);
                self.acc.observe(Some(&turn), body, false);
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
        self.acc.observe(None, Body::Turn(header), true);
        self.between_turns = true;
        self.finish_if_settled(out);
    }

    fn on_goal_updated(&mut self, event: Event<'_>, payload: P, out: &mut Vec<Emit<P>>) {
        if let Body::Goal { status: Some(s), .. } = &event.body {
            self.goal_status = Some(*s);
        }
        let emit = self.relabel(event.turn_id, payload);
        self.acc.observe(event.turn_id, event.body, false);
        if self.logical_id.is_some() {
            out.push(emit);
            self.finish_if_settled(out);
        }
    }

    /// Ends the run once a physical turn has completed and nothing will continue it.
    fn finish_if_settled(&mut self, out: &mut Vec<Emit<P>>) {
        if self.done || self.syncing || !self.between_turns {
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

    /// The connection dropped: until [`reconcile`](Self::reconcile) brings the history in, what
    /// arrives waits, and the run cannot end.
    pub fn begin_sync(&mut self) {
        if !self.done {
            self.syncing = true;
            self.acc.gap();
        }
    }

    pub fn is_syncing(&self) -> bool {
        self.syncing
    }

    /// Whether the usage needs the thread's total before the run (see [`Accumulator::rebase_usage`]).
    pub fn needs_usage_base(&self) -> bool {
        self.acc.needs_usage_base()
    }

    /// Ends a gap: takes the run's turns from the thread's `history` (oldest first; from the run's
    /// first turn on at least) and the goal as `thread/goal/get` shows it now (`None`: cleared),
    /// passes on what the stream missed (each item that completed meanwhile as an `item/completed`,
    /// and the run's `turn/started` when it was never seen), then what arrived during the gap,
    /// and ends the run if it is over. `usage_base`: the thread's total before the run, when
    /// [`needs_usage_base`](Self::needs_usage_base) and the caller could find it.
    pub fn reconcile(
        &mut self,
        history: &[HistoryTurn],
        goal: Option<ThreadGoal>,
        usage_base: Option<&TokenUsageBreakdown>,
        out: &mut Vec<Emit<P>>,
    ) {
        if self.done || !self.syncing {
            return;
        }
        // The same goal, or one that replaced it (cleared and set again) while we were away.
        let ours = |g: &ThreadGoal| self.acc.goal().is_none_or(|seen| seen.created_at == g.created_at);
        let end = match &goal {
            Some(g) if ours(g) => {
                self.goal_status = Some(g.status);
                (g.status != ThreadGoalStatus::Active).then_some(RunEnd::At(g.updated_at))
            }
            other => {
                self.cleared = true;
                other.as_ref().map(|g| RunEnd::Before(g.created_at))
            }
        };
        if let Some(g) = goal.filter(|g| ours(g)) {
            self.acc.set_goal(Some(g));
        }
        let span = self.run_start().and_then(|s| run_span(history, &s, end));
        if let Some(run) = span.map(|r| &history[r]) {
            let first = &run[0];
            if self.logical_id.is_none() {
                self.logical_id = Some(first.header.id.clone());
                out.push(Emit::Made(Box::new(first.started_notification(&self.thread_id))));
            }
            let logical = self.logical_id.clone().unwrap_or_default();
            for (_, item) in self.acc.reconcile(run) {
                out.push(Emit::Made(Box::new(HistoryTurn::item_notification(
                    &self.thread_id,
                    &logical,
                    item,
                ))));
            }
            let last = &run[run.len() - 1];
            if last.header.status.is_some_and(|s| s != TurnStatus::InProgress) {
                self.running = None;
                self.between_turns = true;
                self.last_completed = Some(last.header.clone());
            } else {
                self.running = Some(last.header.id.clone());
                self.between_turns = false;
            }
            // Held notifications of a turn the history now places in the run are its own.
            for (turn, body, payload) in std::mem::take(&mut self.held) {
                if self.acc.has_turn(&turn) && !self.acc.is_repeat(Some(&turn), &body, false) {
                    out.push(self.relabel(Some(&turn), payload));
                    self.acc.observe(Some(&turn), body, false);
                } else if !self.acc.has_turn(&turn) {
                    self.held.push((turn, body, payload));
                }
            }
        }
        if let Some(base) = usage_base {
            self.acc.rebase_usage(base);
        }
        self.syncing = false;
        for q in std::mem::take(&mut self.queued) {
            q.replay(|event, payload| {
                self.push(event, payload, out);
            });
        }
        self.finish_if_settled(out);
    }

    /// The aggregated result; final once [`is_done`](Self::is_done).
    pub fn result(&self) -> TurnResult {
        let id = self.logical_id.as_deref().unwrap_or_default();
        self.acc.result(id, &self.thread_id, self.interrupt_requested)
    }
}
