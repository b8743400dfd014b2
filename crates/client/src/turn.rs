//! Running turns (plain or goal runs): stream, steer, interrupt, result.

use crate::cancel::CancelToken;
use crate::client::Client;
use crate::error::{code, ClientError};
use crate::route::{Outcome, Route};
use crate::stream::{Batch, EventStream, Taken};
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
    ///
    /// `cancel` aborts the start: the call rejects `ERR_ABORTED` at once, and the turn, if the
    /// server starts it anyway, is interrupted in the background; the next run on the thread waits
    /// for that (bounded) instead of being refused as busy.
    pub async fn start_turn(&self, params: Value, cancel: Arc<CancelToken>) -> Result<TurnHandle, ClientError> {
        const METHOD: &str = "turn/start";
        let thread_id = params
            .get("threadId")
            .and_then(Value::as_str)
            .ok_or_else(|| ClientError::invalid("turn/start: params.threadId must be a string").with_method(METHOD))?
            .to_owned();
        let (route, events, outcome) = Route::new_turn(&thread_id, self.inner.options.merge_deltas_after);
        self.reserve(&thread_id, route.clone()).await?;
        if cancel.is_cancelled() {
            self.release(&thread_id, &route);
            return Err(aborted(METHOD));
        }
        // Its own task, so that an abort can stop waiting without dropping a request the server
        // may act on: the task carries on, and the turn it starts is stopped.
        let client = self.clone();
        let mut request = tokio::spawn(async move { client.request(METHOD, Some(params)).await });
        let response = tokio::select! {
            r = &mut request => r.unwrap_or_else(|e| Err(ClientError::new(code::PANIC, format!("turn/start: {e}")))),
            _ = cancel.cancelled() => {
                route.set_stopping(true);
                let (client, thread_id, route) = (self.clone(), thread_id.clone(), route.clone());
                tokio::spawn(async move {
                    if let Ok(Ok(response)) = request.await {
                        if let Some(id) = turn_id_of_response(&response) {
                            route.set_turn_id(id);
                            let params = json!({"threadId": thread_id, "turnId": id});
                            let _ = client.request("turn/interrupt", Some(params)).await;
                            route.wait_done(client.request_timeout()).await;
                        }
                    }
                    route.fail(&aborted(METHOD));
                    client.release(&thread_id, &route);
                });
                return Err(aborted(METHOD));
            }
        };
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                self.release(&thread_id, &route);
                return Err(e);
            }
        };
        let Some(id) = turn_id_of_response(&response) else {
            self.release(&thread_id, &route);
            return Err(
                ClientError::new(code::PROTOCOL, "turn/start: the response has no turn.id").with_method(METHOD),
            );
        };
        if route.set_turn_id(id) {
            self.release(&thread_id, &route);
        }
        self.watch_model(&thread_id, &route);
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

impl Client {
    /// Stops a run the server cannot find the model for: after `modelUnreachableTimeoutMs` of its
    /// retries with no model output in between, the run fails `ERR_MODEL_UNREACHABLE` with the
    /// server's last word, and its turn is interrupted (a goal paused first, so nothing continues).
    pub(crate) fn watch_model(&self, thread_id: &str, route: &Arc<Route>) {
        let limit = std::time::Duration::from_millis(self.inner.options.model_unreachable_timeout_ms);
        // Weak: a client nobody holds any more is not kept alive by a run it started.
        let inner = self.inner.me.clone();
        let (thread_id, route) = (thread_id.to_owned(), route.clone());
        tokio::spawn(async move {
            let Some(last) = route.unreachable_for(limit).await else {
                return;
            };
            let Some(inner) = inner.upgrade() else { return };
            let client = Client { inner };
            let stopped = if route.is_goal() {
                "its turn was interrupted and the goal paused (resume it with resumeGoal())"
            } else {
                "the turn was interrupted"
            };
            let error = ClientError::new(
                code::MODEL_UNREACHABLE,
                format!(
                    "the app-server could not reach the model for {} s (its last word: {last}); {stopped}",
                    limit.as_secs_f64()
                ),
            );
            // Settled once the turn is stopped: a rejection means nothing of the run goes on.
            route.set_stopping(true);
            route.doom(error.clone());
            let turn = route.view().logical_turn_id().map(str::to_owned);
            if route.is_goal() {
                let _ = client.halt_goal(&thread_id, &route, None).await;
            } else if let Some(turn) = turn {
                let params = json!({"threadId": thread_id, "turnId": turn});
                let _ = client.request("turn/interrupt", Some(params)).await;
            }
            route.wait_done(client.request_timeout()).await;
            route.fail(&error);
            client.release(&thread_id, &route);
        });
    }
}

fn turn_id_of_response(response: &Value) -> Option<&str> {
    response.get("turn")?.get("id")?.as_str()
}

pub(crate) fn aborted(method: &str) -> ClientError {
    ClientError::new(code::ABORTED, format!("{method} was aborted")).with_method(method)
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

    /// The next batch of this run's notifications; `None` after its `turn/completed`.
    pub async fn next_batch(&self, max: usize) -> Result<Option<Batch>, ClientError> {
        self.events.next_batch(max).await
    }

    /// What is waiting of this run's notifications, without waiting (see
    /// [`EventStream::try_next_batch`]).
    pub fn try_next_batch(&self, max: usize) -> Result<Taken, ClientError> {
        self.events.try_next_batch(max)
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
    /// with the turn the server names, and a steer between turns waits for the next one. After the
    /// run ended: `ERR_NO_ACTIVE_TURN`, for a plain turn and a goal alike.
    pub async fn steer(&self, input: Value) -> Result<(), ClientError> {
        const METHOD: &str = "turn/steer";
        let goal = self.route.is_goal();
        let mut named: Option<String> = None;
        // The turn the server last refused as not active: the next try must wait for another.
        let mut refused: Option<String> = None;
        for _ in 0..ATTEMPTS {
            if self.route.is_done() {
                return Err(self.no_active_turn(METHOD));
            }
            let turn = match named.take() {
                Some(t) => t,
                None if goal => match self.next_active_turn(refused.as_deref()).await {
                    Some(t) => t,
                    None => return Err(self.no_active_turn(METHOD)),
                },
                None => self.id.clone(),
            };
            let params = json!({"threadId": self.thread_id, "expectedTurnId": turn, "input": input});
            match self.client.request(METHOD, Some(params)).await {
                Ok(_) => return Ok(()),
                Err(e) => match e.rpc_message() {
                    Some(m) if m.contains("no active turn") && !goal => return Err(self.no_active_turn(METHOD)),
                    Some(m) if m.contains("no active turn") => refused = Some(turn),
                    Some(m) if goal && active_turn_id_from_error(m).is_some() => named = active_turn_id_from_error(m),
                    _ => return Err(e),
                },
            }
        }
        Err(self.no_active_turn(METHOD))
    }

    /// Interrupts the run; resolves once the server has aborted the running turn. A goal is paused
    /// first, and a continuation the server had already decided on is interrupted too, so nothing
    /// of the run goes on once this resolves. After the run ended: no effect.
    pub async fn interrupt(&self) -> Result<(), ClientError> {
        if self.route.is_done() {
            return Ok(());
        }
        self.route.set_interrupt_requested(true);
        self.route.set_stopping(true);
        let outcome = if self.route.is_goal() {
            self.client.halt_goal(&self.thread_id, &self.route, None).await
        } else {
            self.interrupt_plain().await
        };
        if outcome.is_err() && !self.route.is_done() {
            self.route.set_interrupt_requested(false);
            self.route.set_stopping(false);
        }
        outcome
    }

    async fn interrupt_plain(&self) -> Result<(), ClientError> {
        let turn = &self.id;
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
