//! The one dispatcher over the two engines, used alike by the native client, the wasm build and
//! the native test binding: a run that is either a plain turn or a goal.

use crate::{Emit, Event, GoalEngine, HistoryTurn, TurnAggregator, TurnResult};
use codex_sdk_protocol::{ThreadGoal, TokenUsageBreakdown};

#[derive(Debug)]
pub enum Aggregator<P> {
    Goal(Box<GoalEngine<P>>),
    Turn(Box<TurnAggregator<P>>),
}

impl<P> Aggregator<P> {
    pub fn goal(thread_id: &str) -> Self {
        Aggregator::Goal(Box::new(GoalEngine::new(thread_id)))
    }

    /// A plain turn; its id may be unknown until the `turn/start` response (see `set_turn_id`).
    pub fn turn(thread_id: &str, turn_id: Option<&str>) -> Self {
        Aggregator::Turn(Box::new(TurnAggregator::new(thread_id, turn_id.map(str::to_owned))))
    }

    /// Takes the next notification of the thread; decisions go to `out`. Returns whether the
    /// engine kept the payload (held until its turn is known).
    pub fn push(&mut self, event: Event<'_>, payload: P, out: &mut Vec<Emit<P>>) -> bool {
        match self {
            Aggregator::Goal(e) => e.push(event, payload, out),
            Aggregator::Turn(e) => e.push(event, payload, out),
        }
    }

    /// A goal run found on its thread by its goal (active since the unix second `activated_at`)
    /// rather than started here: it starts synced from the history (see [`GoalEngine::attach`]).
    pub fn attach_goal(thread_id: &str, activated_at: i64) -> Self {
        Aggregator::Goal(Box::new(GoalEngine::attach(thread_id, activated_at)))
    }

    /// The unix second the goal became active for this run (from the `goal/set` answer), to find
    /// its first turn in the history if a gap hides its start.
    pub fn set_activated_at(&mut self, at: i64) {
        if let Aggregator::Goal(e) = self {
            e.set_activated_at(at);
        }
    }

    /// Fixes a plain turn's id (from the `turn/start` response), releasing what was held for it.
    pub fn set_turn_id(&mut self, id: &str, out: &mut Vec<Emit<P>>) {
        if let Aggregator::Turn(e) = self {
            e.set_turn_id(id, out);
        }
    }

    pub fn is_goal(&self) -> bool {
        matches!(self, Aggregator::Goal(_))
    }

    pub fn is_done(&self) -> bool {
        match self {
            Aggregator::Goal(e) => e.is_done(),
            Aggregator::Turn(e) => e.is_done(),
        }
    }

    /// The logical id: the goal's first physical turn, or the plain turn's id.
    pub fn logical_turn_id(&self) -> Option<&str> {
        match self {
            Aggregator::Goal(e) => e.logical_turn_id(),
            Aggregator::Turn(e) => e.turn_id(),
        }
    }

    /// The physical turn running now, the one to steer or interrupt; `None` when none is.
    pub fn active_turn_id(&self) -> Option<&str> {
        match self {
            Aggregator::Goal(e) => e.active_turn_id(),
            Aggregator::Turn(e) => e.turn_id().filter(|_| !e.is_done()),
        }
    }

    /// Physical turns so far, in order.
    pub fn turn_ids(&self) -> Vec<String> {
        match self {
            Aggregator::Goal(e) => e.turn_ids(),
            Aggregator::Turn(e) => e.turn_id().map(|t| vec![t.to_owned()]).unwrap_or_default(),
        }
    }

    /// The latest goal snapshot seen; `None` for a plain turn.
    pub fn goal_snapshot(&self) -> Option<&ThreadGoal> {
        match self {
            Aggregator::Goal(e) => e.goal(),
            Aggregator::Turn(_) => None,
        }
    }

    /// Whether a goal (as last seen) still drives continuations; false for a plain turn.
    pub fn goal_active(&self) -> bool {
        matches!(self, Aggregator::Goal(e) if e.goal_active())
    }

    pub fn set_interrupt_requested(&mut self, requested: bool) {
        match self {
            Aggregator::Goal(e) => e.set_interrupt_requested(requested),
            Aggregator::Turn(e) => e.set_interrupt_requested(requested),
        }
    }

    /// The connection dropped: until [`reconcile`](Self::reconcile), what arrives waits and the
    /// run cannot end.
    pub fn begin_sync(&mut self) {
        match self {
            Aggregator::Goal(e) => e.begin_sync(),
            Aggregator::Turn(e) => e.begin_sync(),
        }
    }

    pub fn is_syncing(&self) -> bool {
        match self {
            Aggregator::Goal(e) => e.is_syncing(),
            Aggregator::Turn(e) => e.is_syncing(),
        }
    }

    /// Whether the usage needs the thread's running total from before the run to be exact.
    pub fn needs_usage_base(&self) -> bool {
        match self {
            Aggregator::Goal(e) => e.needs_usage_base(),
            Aggregator::Turn(e) => e.needs_usage_base(),
        }
    }

    /// Where the run begins, to find it in the thread's history.
    pub fn run_start(&self) -> Option<crate::RunStart> {
        match self {
            Aggregator::Goal(e) => e.run_start(),
            Aggregator::Turn(e) => e.turn_id().map(|t| crate::RunStart::Turn(t.to_owned())),
        }
    }

    /// Ends a gap with the thread's history and (for a goal) the goal as it is now; see
    /// [`GoalEngine::reconcile`] and [`TurnAggregator::reconcile`].
    pub fn reconcile(
        &mut self,
        history: &[HistoryTurn],
        goal: Option<ThreadGoal>,
        usage_base: Option<&TokenUsageBreakdown>,
        out: &mut Vec<Emit<P>>,
    ) {
        match self {
            Aggregator::Goal(e) => e.reconcile(history, goal, usage_base, out),
            Aggregator::Turn(e) => e.reconcile(history, usage_base, out),
        }
    }

    /// The result, once the run is over.
    pub fn result(&self) -> Option<TurnResult> {
        self.is_done().then(|| match self {
            Aggregator::Goal(e) => e.result(),
            Aggregator::Turn(e) => e.result(),
        })
    }
}
