//! Plain turns: start, stream, steer, interrupt, result.

use crate::client::Client;
use crate::error::{code, ClientError};
use crate::route::{Outcome, Route};
use crate::stream::EventStream;
use codex_sdk_engine::TurnResult;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::watch;

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
        Ok(TurnHandle {
            client: self.clone(),
            route,
            thread_id,
            id: id.to_owned(),
            events,
            outcome,
        })
    }
}

impl TurnHandle {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub fn thread_id(&self) -> &str {
        &self.thread_id
    }

    /// The next batch of this turn's notifications (raw lines); `None` after `turn/completed`.
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
        outcome.clone().expect("wait_for returned a settled outcome")
    }

    pub async fn steer(&self, input: Value) -> Result<(), ClientError> {
        let turn_id = self.route.current_turn_id().unwrap_or_else(|| self.id.clone());
        let params = json!({"threadId": self.thread_id, "expectedTurnId": turn_id, "input": input});
        self.client.request("turn/steer", Some(params)).await.map(drop)
    }

    /// Interrupts the turn; resolves once the server has aborted it. An interrupt after the turn
    /// ended resolves without effect.
    pub async fn interrupt(&self) -> Result<(), ClientError> {
        if self.route.is_done() {
            return Ok(());
        }
        self.route.set_interrupt_requested(true);
        let turn_id = self.route.current_turn_id().unwrap_or_else(|| self.id.clone());
        let params = json!({"threadId": self.thread_id, "turnId": turn_id});
        match self.client.request("turn/interrupt", Some(params)).await {
            Ok(_) => Ok(()),
            Err(e) if e.rpc_message().is_some_and(|m| m.contains("no active turn")) => Ok(()),
            Err(e) => {
                if !self.route.is_done() {
                    self.route.set_interrupt_requested(false);
                }
                Err(e)
            }
        }
    }
}
