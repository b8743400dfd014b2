//! The goal driver: starts a goal so that its whole run is one logical turn, and carries out what
//! the engine decides (which physical turn to steer or interrupt) as RPCs.

use crate::attach::no_goal;
use crate::cancel::CancelToken;
use crate::client::Client;
use crate::error::{code, ClientError};
use crate::route::Route;
use crate::turn::{aborted, TurnHandle};
use codex_sdk_protocol::{goal_objective, ThreadGoal, ThreadGoalStatus};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

const SET: &str = "thread/goal/set";

/// How to start a goal.
#[derive(Debug, Clone)]
pub struct GoalStart {
    pub objective: String,
    pub token_budget: Option<i64>,
    /// How long to wait for the server's first goal turn.
    pub start_timeout: Duration,
}

/// How to resume a paused or limited goal.
#[derive(Debug, Clone)]
pub struct GoalResume {
    /// `Some(Some(n))`: a new budget; `Some(None)`: no budget; `None`: the budget as it is.
    pub token_budget: Option<Option<i64>>,
    /// How long to wait for the server's first turn of the new run.
    pub start_timeout: Duration,
}

impl Client {
    /// Starts a goal on a persisted, idle thread: clears its stored goal, sets this one `active`
    /// and resolves once the server started the first goal turn. On timeout, cancellation or an
    /// error after the goal was set, it pauses the goal, interrupts whatever turn started, and
    /// rejects only then: a rejection means nothing of the start can still act.
    pub async fn start_goal(
        &self,
        thread_id: &str,
        start: GoalStart,
        cancel: Arc<CancelToken>,
    ) -> Result<TurnHandle, ClientError> {
        let objective = goal_objective(&start.objective)
            .map_err(|e| ClientError::invalid(format!("goal: {e}")).with_method(SET))?
            .to_owned();
        let step = self
            .clone()
            .replace_goal(thread_id.to_owned(), objective, start.token_budget);
        // A new goal's run begins at its creation.
        self.launch(thread_id, step, |g| g.created_at, start.start_timeout, cancel)
            .await
    }

    /// Sets a paused, blocked or limited goal `active` again (with a new budget when given) and
    /// resolves once the server started the new run's first turn, as [`start_goal`](Self::start_goal)
    /// does. An active goal is attached to as it runs; `ERR_NO_GOAL` without a goal,
    /// `ERR_GOAL_COMPLETE` for one that is complete.
    pub async fn resume_goal(
        &self,
        thread_id: &str,
        resume: GoalResume,
        cancel: Arc<CancelToken>,
    ) -> Result<TurnHandle, ClientError> {
        let goal = tokio::select! {
            g = self.current_goal(thread_id) => g?,
            _ = cancel.cancelled() => return Err(aborted(SET)),
        };
        let goal = goal.ok_or_else(|| no_goal(thread_id, SET))?;
        match goal.status {
            ThreadGoalStatus::Complete => {
                return Err(ClientError::new(
                    code::GOAL_COMPLETE,
                    format!(
                    "the goal of thread {thread_id} is complete: there is nothing to resume (start a new goal instead)"
                ),
                )
                .with_method(SET))
            }
            ThreadGoalStatus::Active => return self.attach_run(thread_id, goal.created_at, cancel).await,
            _ => {}
        }
        let mut params = json!({"threadId": thread_id, "status": "active"});
        if let Some(budget) = resume.token_budget {
            params["tokenBudget"] = json!(budget);
        }
        let client = self.clone();
        let step = async move { client.set_goal(params).await };
        // A resumed goal's run begins at the resume: the moment the answer says it was updated.
        self.launch(thread_id, step, |g| g.updated_at, resume.start_timeout, cancel)
            .await
    }

    /// Runs `step` (the requests that make the thread's goal active) and waits for the server to
    /// start the run's first turn, within `start_timeout` of the call. A step in flight is never
    /// dropped (the server would apply it after we gave up): on abort it is awaited, then the goal
    /// is stopped, and only then does the call reject.
    async fn launch(
        &self,
        thread_id: &str,
        step: impl std::future::Future<Output = Result<ThreadGoal, ClientError>> + Send + 'static,
        activated: fn(&ThreadGoal) -> i64,
        start_timeout: Duration,
        cancel: Arc<CancelToken>,
    ) -> Result<TurnHandle, ClientError> {
        let (route, events, outcome) = Route::new_goal(thread_id, self.inner.options.merge_deltas_after);
        self.reserve(thread_id, route.clone()).await?;
        let checked = tokio::select! {
            r = self.check_goal_thread(thread_id) => r,
            _ = cancel.cancelled() => Err(aborted(SET)),
        };
        if let Err(e) = checked {
            self.release(thread_id, &route);
            return Err(e);
        }
        let deadline = tokio::time::Instant::now() + start_timeout;
        let timed_out = || {
            ClientError::new(
                code::TIMEOUT,
                format!(
                    "the first goal turn did not start within {} ms",
                    start_timeout.as_millis()
                ),
            )
            .with_method(SET)
        };
        let mut set = tokio::spawn(step);
        let settled = |r: Result<Result<ThreadGoal, ClientError>, tokio::task::JoinError>| {
            r.unwrap_or_else(|e| Err(ClientError::new(code::PANIC, format!("{SET}: {e}"))))
        };
        let result = tokio::select! {
            r = &mut set => match settled(r) {
                Err(e) => Err((e, false)),
                Ok(goal) => {
                    route.set_activated_at(activated(&goal));
                    let limit = deadline.saturating_duration_since(tokio::time::Instant::now());
                    tokio::select! {
                        _ = route.wait_until(limit, |v| v.logical_turn_id().is_some() || v.is_done()) => {
                            if let Some(Err(e)) = &*outcome.borrow() {
                                Err((e.clone(), true))
                            } else {
                                route.view().logical_turn_id().map(str::to_owned).ok_or_else(|| (timed_out(), true))
                            }
                        }
                        _ = cancel.cancelled() => Err((aborted(SET), true)),
                    }
                }
            },
            _ = cancel.cancelled() => {
                // The set may land yet: wait for it (it is bounded by the request timeout), so the
                // goal can be stopped before this rejects.
                route.set_stopping(true);
                let landed = settled(set.await).is_ok();
                Err((aborted(SET), landed))
            }
        };
        match result {
            Ok(id) => {
                self.watch_model(thread_id, &route);
                Ok(TurnHandle::new(
                    self.clone(),
                    route,
                    thread_id.to_owned(),
                    id,
                    events,
                    outcome,
                ))
            }
            Err((e, set)) => {
                route.set_stopping(true);
                if set {
                    self.abandon_goal(thread_id, &route).await;
                }
                route.fail(&e);
                self.release(thread_id, &route);
                Err(e)
            }
        }
    }

    /// Goals need a persisted thread that is not running a turn.
    async fn check_goal_thread(&self, thread_id: &str) -> Result<(), ClientError> {
        const METHOD: &str = SET;
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
    ) -> Result<ThreadGoal, ClientError> {
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
        self.set_goal(params).await.map_err(|mut e| {
            if cleared["cleared"] == true {
                e.message
                    .push_str(" (the thread's previous goal had already been cleared to make room for this one)");
            }
            e
        })
    }

    /// `thread/goal/set`; resolves with the goal as the server answers it.
    async fn set_goal(&self, params: Value) -> Result<ThreadGoal, ClientError> {
        let mut answer = self.request(SET, Some(params)).await?;
        serde_json::from_value(answer["goal"].take()).map_err(|e| {
            ClientError::new(code::PROTOCOL, format!("{SET}: the answer's goal cannot be read: {e}")).with_method(SET)
        })
    }

    /// Best effort, bounded: pause the goal so nothing continues, and interrupt a turn it started
    /// (a goal set a moment ago starts its first turn right after the set's response).
    async fn abandon_goal(&self, thread_id: &str, route: &Arc<Route>) {
        let _ = self.halt_goal(thread_id, route, Some(Duration::from_secs(5))).await;
    }
}
