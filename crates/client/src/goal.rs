//! The goal driver: starts a goal so that its whole run is one logical turn, and carries out what
//! the engine decides (which physical turn to steer or interrupt) as RPCs.

use crate::cancel::CancelToken;
use crate::client::Client;
use crate::error::{code, ClientError};
use crate::route::Route;
use crate::turn::{aborted, TurnHandle};
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
    /// rejects. A cancel while the clear or set is in flight rejects at once; they complete in the
    /// background and the goal is then stopped, while the next run on the thread waits for it.
    pub async fn start_goal(
        &self,
        thread_id: &str,
        start: GoalStart,
        cancel: Arc<CancelToken>,
    ) -> Result<TurnHandle, ClientError> {
        const METHOD: &str = "thread/goal/set";
        let objective = goal_objective(&start.objective)
            .map_err(|e| ClientError::invalid(format!("goal: {e}")).with_method(METHOD))?
            .to_owned();
        let (route, events, outcome) = Route::new_goal(thread_id, self.inner.options.merge_deltas_after);
        self.reserve(thread_id, route.clone()).await?;
        let checked = tokio::select! {
            r = self.check_goal_thread(thread_id) => r,
            _ = cancel.cancelled() => Err(aborted(METHOD)),
        };
        if let Err(e) = checked {
            self.release(thread_id, &route);
            return Err(e);
        }

        // The deadline covers the whole start, but a clear or set in flight is never dropped: the
        // server would apply it after we gave up. They run as their own task, bounded by the
        // request timeout, and the start deadline is checked after them.
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
        let mut set = tokio::spawn(
            self.clone()
                .replace_goal(thread_id.to_owned(), objective, start.token_budget),
        );
        let set_result = tokio::select! {
            r = &mut set => r.unwrap_or_else(|e| Err(ClientError::new(code::PANIC, format!("{METHOD}: {e}")))),
            _ = cancel.cancelled() => {
                route.set_stopping(true);
                let (client, thread_id, route) = (self.clone(), thread_id.to_owned(), route.clone());
                tokio::spawn(async move {
                    if let Ok(Ok(())) = set.await {
                        client.abandon_goal(&thread_id, &route).await;
                    }
                    route.fail(&aborted(METHOD));
                    client.release(&thread_id, &route);
                });
                return Err(aborted(METHOD));
            }
        };
        let result = match set_result {
            Err(e) => Err(e),
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
                    _ = cancel.cancelled() => Err(aborted(METHOD)),
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
                route.set_stopping(true);
                self.abandon_goal(thread_id, &route).await;
                route.fail(&e);
                self.release(thread_id, &route);
                Err(e)
            }
        }
    }

    /// Goals need a persisted thread that is not running a turn.
    async fn check_goal_thread(&self, thread_id: &str) -> Result<(), ClientError> {
        const METHOD: &str = "thread/goal/set";
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
        Ok(())
    }

    /// Clears the stored goal and sets this one `active`: `thread/goal/set` on a thread that has a
    /// goal would update that goal (same accounting) instead of starting a fresh one.
    async fn replace_goal(
        self,
        thread_id: String,
        objective: String,
        token_budget: Option<i64>,
    ) -> Result<(), ClientError> {
        const METHOD: &str = "thread/goal/set";
        let cleared = self
            .request("thread/goal/clear", Some(json!({"threadId": thread_id})))
            .await
            .map_err(|mut e| {
                if e.rpc_message().is_some_and(|m| m.contains("goals feature is disabled")) {
                    e.message
                        .push_str(" (the app-server runs with `features.goals = false`: enable goals in its config)");
                }
                e
            })?;
        let mut params = json!({"threadId": thread_id, "objective": objective, "status": "active"});
        if let Some(budget) = token_budget {
            params["tokenBudget"] = json!(budget);
        }
        self.request(METHOD, Some(params)).await.map(drop).map_err(|mut e| {
            if cleared["cleared"] == true {
                e.message
                    .push_str(" (the thread's previous goal had already been cleared to make room for this one)");
            }
            e
        })
    }

    /// Best effort, bounded: pause the goal so nothing continues, and interrupt a turn it started
    /// (a goal set a moment ago starts its first turn right after the set's response).
    async fn abandon_goal(&self, thread_id: &str, route: &Arc<Route>) {
        let _ = self.halt_goal(thread_id, route, Some(Duration::from_secs(5))).await;
    }
}
