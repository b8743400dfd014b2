//! Running turns (plain or goal runs): stream, steer, interrupt, result.

use crate::client::Client;
use crate::error::{code, ClientError};
use crate::route::{Outcome, Route};
use crate::stream::EventStream;
use codex_sdk_engine::TurnResult;
use codex_sdk_protocol::{active_turn_id_from_error, ThreadGoal};
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::watch;

/// Tries per steer: a continuation can start between reading the current turn and the server
/// handling the call, so the first try may name a turn that just ended.
const ATTEMPTS: usize = 3;

/// One logical turn: a plain turn, or a whole goal run.
pub struct TurnHandle {
    client: Client,
    route: Arc<Route>,
    thread_id: String,
    id: String,
    events: EventStream,
    outcome: watch::Receiver<Outcome>,
}

impl Client {
    /// Starts a turn (`turn/start` with these params, which must name `threadId`). Notifications
    /// that race ahead of the response are held and replayed, so the stream misses nothing.
    pub async fn start_turn(&self, params: Value) -> Result<TurnHandle, ClientError> {
        let thread_id = params
            .get("threadId")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ClientError::invalid("turn/start: params.threadId must be a string").with_method("turn/start")
            })?
            .to_owned();
        let (route, events, outcome) = Route::new_turn(&thread_id);
        self.reserve(&thread_id, route.clone())?;
        let response = match self.request("turn/start", Some(params)).await {
            Ok(r) => r,
            Err(e) => {
                self.release(&thread_id, &route);
                return Err(e);
            }
        };
        let Some(id) = response.get("turn").and_then(|t| t.get("id")).and_then(Value::as_str) else {
            self.release(&thread_id, &route);
            return Err(
                ClientError::new(code::PROTOCOL, "turn/start: the response has no turn.id").with_method("turn/start"),
            );
        };
        if route.set_turn_id(id) {
            self.release(&thread_id, &route);
        }
        Ok(TurnHandle::new(
            self.clone(),
            route,
            thread_id,
            id.to_owned(),
            events,
            outcome,
        ))
    }
}

impl TurnHandle {
    pub(crate) fn new(
        client: Client,
        route: Arc<Route>,
        thread_id: String,
        id: String,
        events: EventStream,
        outcome: watch::Receiver<Outcome>,
    ) -> Self {
        Self {
            client,
            route,
            thread_id,
            id,
            events,
            outcome,
        }
    }

    /// The logical id (a goal's first physical turn).
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn thread_id(&self) -> &str {
        &self.thread_id
    }

    /// Physical turns so far.
    pub fn turn_ids(&self) -> Vec<String> {
        self.route.turn_ids()
    }

    /// The latest goal snapshot seen; `None` for a plain turn.
    pub fn goal(&self) -> Option<ThreadGoal> {
        self.route.goal()
    }

    /// The next batch of this run's notifications (raw lines); `None` after its `turn/completed`.
    pub async fn next_batch(&self, max: usize) -> Result<Option<Vec<Arc<str>>>, ClientError> {
        self.events.next_batch(max).await
    }

    /// The caller will not read the stream (any more): stop buffering it.
    pub fn stop_streaming(&self) {
        self.route.stop_streaming();
        self.events.discard();
    }

    pub async fn result(&self) -> Result<TurnResult, ClientError> {
        let mut rx = self.outcome.clone();
        let outcome = rx
            .wait_for(Option::is_some)
            .await
            .map_err(|_| ClientError::new(code::TRANSPORT_CLOSED, "the client is gone"))?;
        outcome
            .clone()
            .unwrap_or_else(|| Err(ClientError::new(code::PROTOCOL, "the run settled without a result")))
    }

    /// Adds input to the running physical turn. In a goal run, a rollover in between is retried
    /// with the turn the server names, and a steer between turns waits for the next one.
    pub async fn steer(&self, input: Value) -> Result<(), ClientError> {
        let goal = self.route.is_goal();
        let mut named: Option<String> = None;
        // The turn the server last refused as not active: the next try must wait for another.
        let mut refused: Option<String> = None;
        for _ in 0..ATTEMPTS {
            let turn = match named.take() {
                Some(t) => t,
                None if goal => match self.next_active_turn(refused.as_deref()).await {
                    Some(t) => t,
                    None => return Err(self.no_active_turn("turn/steer")),
                },
                None => self.route.current_turn_id().unwrap_or_else(|| self.id.clone()),
            };
            let params = json!({"threadId": self.thread_id, "expectedTurnId": turn, "input": input});
            match self.client.request("turn/steer", Some(params)).await {
                Ok(_) => return Ok(()),
                Err(e) if goal => match e.rpc_message() {
                    Some(m) if active_turn_id_from_error(m).is_some() => named = active_turn_id_from_error(m),
                    Some(m) if m.contains("no active turn") => refused = Some(turn),
                    _ => return Err(e),
                },
                Err(e) => return Err(e),
            }
        }
        Err(self.no_active_turn("turn/steer"))
    }

    /// Interrupts the run; resolves once the server has aborted the running turn. A goal is paused
    /// first, and a continuation the server had already decided on is interrupted too, so nothing
    /// of the run goes on once this resolves. After the run ended: no effect.
    pub async fn interrupt(&self) -> Result<(), ClientError> {
        if self.route.is_done() {
            return Ok(());
        }
        self.route.set_interrupt_requested(true);
        let outcome = if self.route.is_goal() {
            self.client.halt_goal(&self.thread_id, &self.route, None).await
        } else {
            self.interrupt_plain().await
        };
        if outcome.is_err() && !self.route.is_done() {
            self.route.set_interrupt_requested(false);
        }
        outcome
    }

    async fn interrupt_plain(&self) -> Result<(), ClientError> {
        let turn = self.route.current_turn_id().unwrap_or_else(|| self.id.clone());
        let params = json!({"threadId": self.thread_id, "turnId": turn});
        match self.client.request("turn/interrupt", Some(params)).await {
            Err(e) if !e.rpc_message().is_some_and(|m| m.contains("no active turn")) => Err(e),
            _ => Ok(()),
        }
    }

    /// The running physical turn of a goal run other than `not`, waiting (bounded) across a
    /// rollover; `None` when the run is over or its goal no longer drives turns.
    async fn next_active_turn(&self, not: Option<&str>) -> Option<String> {
        let limit = self.client.request_timeout();
        let fresh = |t: Option<&str>| t.is_some() && t != not;
        self.route
            .wait_until(limit, |v| fresh(v.active_turn_id()) || v.is_done() || !v.goal_active())
            .await;
        self.route
            .view()
            .active_turn_id()
            .filter(|t| fresh(Some(t)))
            .map(str::to_owned)
    }

    fn no_active_turn(&self, method: &str) -> ClientError {
        ClientError::new(
            code::NO_ACTIVE_TURN,
            format!("{method}: the run on thread {} has no active turn", self.thread_id),
        )
        .with_method(method)
    }
}
