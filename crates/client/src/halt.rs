//! Stopping a goal run so that nothing continues: pause the goal, interrupt the running physical
//! turn, and catch a continuation the server had already decided on before the pause landed.
//!
//! The race: when a physical turn completes while the goal is `active`, the server decides at once
//! to start a continuation. A pause that arrives in the few milliseconds between that decision and
//! the new turn's start is applied (`thread/goal/updated paused`), yet the continuation still starts
//! (~1 ms later here) and would run a full model call on a paused goal. By then the run's engine has
//! ended on the pause, so only a watch on the thread itself sees that turn.

use crate::client::Client;
use crate::error::{code, ClientError};
use crate::route::Route;
use crate::stream::EventStream;
use codex_sdk_protocol::{active_turn_id_from_error, server_notification as m, Headline};
use serde_json::json;
use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long after the pause a late continuation may still start. Measured on the pinned server
/// (goal-controls sweep, 1 200 trials): the late `turn/started` follows the pause's
/// `thread/goal/updated` by 0-27 ms (median 0-1 ms) with four goals rolling over at once on two busy
/// cores; 250 ms leaves a margin of ~9x for scheduling jitter.
pub(crate) const LATE_TURN_GRACE: Duration = Duration::from_millis(250);

/// Tries per interrupt: a continuation can start between reading the current turn and the server
/// handling the call, so a try may name a turn that just ended.
const ATTEMPTS: usize = 3;

/// Every `turn/started` on one thread from the moment it is created. Created before the pause is
/// sent, so no turn the pause could race with is missed.
pub(crate) struct TurnWatch {
    thread_id: String,
    events: EventStream,
    seen: VecDeque<String>,
}

impl TurnWatch {
    pub(crate) fn new(client: &Client, thread_id: &str) -> Self {
        Self {
            thread_id: thread_id.to_owned(),
            events: client.subscribe(),
            seen: VecDeque::new(),
        }
    }

    /// The next turn that started on the thread, waiting until `until` at the latest.
    async fn next_started(&mut self, until: Instant) -> Option<String> {
        loop {
            if let Some(t) = self.seen.pop_front() {
                return Some(t);
            }
            let batch = tokio::time::timeout_at(until, self.events.next_batch(256)).await;
            let Ok(Ok(Some(batch))) = batch else { return None };
            for line in batch.lines() {
                let Some(head) = Headline::scan(line) else { continue };
                if head.method() == Some(m::TURN_STARTED) && head.thread_id() == Some(&self.thread_id) {
                    if let Some(turn) = head.turn_id() {
                        self.seen.push_back(turn.to_owned());
                    }
                }
            }
        }
    }
}

impl Client {
    /// Pauses the goal of `route`'s thread and interrupts its running turn, then interrupts any
    /// turn that starts on the thread within [`LATE_TURN_GRACE`] of the pause. Resolves once
    /// nothing of the run can go on. `bound` limits each request (`None`: the request timeout).
    pub(crate) async fn halt_goal(
        &self,
        thread_id: &str,
        route: &Arc<Route>,
        bound: Option<Duration>,
    ) -> Result<(), ClientError> {
        let mut watch = TurnWatch::new(self, thread_id);
        let timeout = bound.unwrap_or_else(|| self.request_timeout());
        let pause = json!({"threadId": thread_id, "status": "paused"});
        if let Err(e) = self.request_with("thread/goal/set", Some(pause), Some(timeout)).await {
            // A goal cleared meanwhile has nothing to pause; anything else is the caller's news.
            if e.code != code::RPC {
                return Err(e);
            }
        }
        let paused_at = Instant::now();
        let mut stopped = HashSet::new();
        let running = route.view().active_turn_id().map(str::to_owned);
        let mut caught_running = false;
        if let Some(turn) = running {
            caught_running = self.interrupt_turn(thread_id, &turn, timeout, &mut stopped).await?;
        }
        // A turn interrupted after the pause completes on a paused goal: nothing can follow it.
        // Otherwise the server may have decided on a continuation just before the pause.
        let until = if caught_running {
            Instant::now()
        } else {
            paused_at + LATE_TURN_GRACE
        };
        while let Some(turn) = watch.next_started(until).await {
            if !stopped.contains(&turn) {
                self.interrupt_turn(thread_id, &turn, timeout, &mut stopped).await?;
            }
        }
        Ok(())
    }

    /// Interrupts `turn`, following the server to the turn it names as active instead. Returns
    /// whether a running turn was interrupted (false: nothing was running).
    async fn interrupt_turn(
        &self,
        thread_id: &str,
        turn: &str,
        timeout: Duration,
        stopped: &mut HashSet<String>,
    ) -> Result<bool, ClientError> {
        let mut turn = turn.to_owned();
        for _ in 0..ATTEMPTS {
            let params = json!({"threadId": thread_id, "turnId": turn});
            match self.request_with("turn/interrupt", Some(params), Some(timeout)).await {
                Ok(_) => {
                    stopped.insert(turn);
                    return Ok(true);
                }
                Err(e) => match e.rpc_message() {
                    Some(msg) if msg.contains("no active turn") => return Ok(false),
                    Some(msg) => match active_turn_id_from_error(msg) {
                        Some(named) => turn = named,
                        None => return Err(e),
                    },
                    None => return Err(e),
                },
            }
        }
        Ok(false)
    }
}
