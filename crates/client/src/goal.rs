//! The goal driver: starts a goal so that its whole run is one logical turn, and carries out what
//! the engine decides (which physical turn to steer or interrupt) as RPCs.

use crate::cancel::CancelToken;
use crate::client::Client;
use crate::error::{code, ClientError};
use crate::route::Route;
use crate::turn::TurnHandle;
use codex_sdk_protocol::goal_objective;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

/// How to start a goal.
#[derive(Debug, Clone)]
pub struct GoalStart {
    pub objective: String,
    pub token_budget: Option<i64>,
    /// How long to wait for the server's first goal turn.
    pub start_timeout: Duration,
}

impl Client {
    /// Starts a goal on a persisted, idle thread: clears its stored goal, sets this one `active`
    /// and resolves once the server started the first goal turn. On timeout, cancellation or an
    /// error after the goal was set, it pauses the goal, interrupts whatever turn started, and
    /// rejects.
    pub async fn start_goal(
        &self,
        thread_id: &str,
        start: GoalStart,
        cancel: Arc<CancelToken>,
    ) -> Result<TurnHandle, ClientError> {
        const METHOD: &str = "thread/goal/set";
        let objective = goal_objective(&start.objective)
            .map_err(|e| ClientError::invalid(format!("goal: {e}")).with_method(METHOD))?;
        let info = self
            .request(
                "thread/read",
                Some(json!({"threadId": thread_id, "includeTurns": false})),
            )
            .await?;
        let thread = &info["thread"];
        if thread["ephemeral"] == Value::Bool(true) {
            return Err(ClientError::new(
                code::EPHEMERAL_THREAD,
                format!("thread {thread_id} is ephemeral: goals need a persisted thread"),
            )
            .with_method(METHOD));
        }
        if thread["status"]["type"] == "active" {
            return Err(
                ClientError::new(code::THREAD_BUSY, format!("thread {thread_id} is running a turn"))
                    .with_method(METHOD),
            );
        }
        let (route, events, outcome) = Route::new_goal(thread_id);
        self.reserve(thread_id, route.clone())?;

        // The deadline covers the whole start, but a clear or set in flight is never dropped: the
        // server would apply it after we gave up. Each is bounded by the request timeout instead.
        let deadline = tokio::time::Instant::now() + start.start_timeout;
        let timed_out = || {
            ClientError::new(
                code::TIMEOUT,
                format!(
                    "the first goal turn did not start within {} ms",
                    start.start_timeout.as_millis()
                ),
            )
            .with_method(METHOD)
        };
        let aborted = || ClientError::new(code::ABORTED, "goal start was aborted").with_method(METHOD);
        let set = async {
            let cleared = self
                .request("thread/goal/clear", Some(json!({"threadId": thread_id})))
                .await?;
            let mut params = json!({"threadId": thread_id, "objective": objective, "status": "active"});
            if let Some(budget) = start.token_budget {
                params["tokenBudget"] = json!(budget);
            }
            self.request(METHOD, Some(params)).await.map(drop).map_err(|mut e| {
                if cleared["cleared"] == true {
                    e.message
                        .push_str(" (the thread's previous goal had already been cleared to make room for this one)");
                }
                e
            })
        };
        let result = match set.await {
            Err(e) => Err(e),
            Ok(()) if cancel.is_cancelled() => Err(aborted()),
            Ok(()) => {
                let limit = deadline.saturating_duration_since(tokio::time::Instant::now());
                tokio::select! {
                    _ = route.wait_until(limit, |v| v.logical_turn_id().is_some() || v.is_done()) => {
                        if let Some(Err(e)) = &*outcome.borrow() {
                            Err(e.clone())
                        } else {
                            route.view().logical_turn_id().map(str::to_owned).ok_or_else(timed_out)
                        }
                    }
                    _ = cancel.cancelled() => Err(aborted()),
                }
            }
        };
        match result {
            Ok(id) => Ok(TurnHandle::new(
                self.clone(),
                route,
                thread_id.to_owned(),
                id,
                events,
                outcome,
            )),
            Err(e) => {
                self.abandon_goal(thread_id, &route).await;
                route.fail(&e);
                self.release(thread_id, &route);
                Err(e)
            }
        }
    }

    /// Best effort, bounded: pause the goal so nothing continues, and interrupt a turn it started
    /// (a goal set a moment ago starts its first turn right after the set's response).
    async fn abandon_goal(&self, thread_id: &str, route: &Arc<Route>) {
        let _ = self.halt_goal(thread_id, route, Some(Duration::from_secs(5))).await;
    }
}
