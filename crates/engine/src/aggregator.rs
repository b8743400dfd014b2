//! The one dispatcher over the two engines, used alike by the native client, the wasm build and
//! the native test binding: a run that is either a plain turn or a goal.

use crate::{Emit, Event, GoalEngine, TurnAggregator, TurnResult};
use codex_sdk_protocol::ThreadGoal;

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

    /// What the run has gathered so far (for reconciling it with the thread's history).
    pub fn accumulator(&self) -> &crate::Accumulator {
        match self {
            Aggregator::Goal(e) => e.accumulator(),
            Aggregator::Turn(e) => e.accumulator(),
        }
    }

    /// Physical turns so far, in order.
    pub fn turn_ids(&self) -> Vec<String> {
        match self {
            Aggregator::Goal(e) => e.turn_ids().to_vec(),
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

    /// The result, once the run is over.
    pub fn result(&self) -> Option<TurnResult> {
        self.is_done().then(|| match self {
            Aggregator::Goal(e) => e.result(),
            Aggregator::Turn(e) => e.result(),
        })
    }
}
