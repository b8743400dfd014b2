//! A run rebuilt from its thread's history plus the live stream: the one way a run is brought up to
//! date, used by a connection that came back (every run in progress), by `attach_goal` (a run
//! another process started, or this one before it restarted) and by `resume_goal`.
//!
//! The thread is resumed on this connection (the server then sends it the thread's live
//! notifications, which wait in the run's engine); the answer holds the thread's history, and the
//! server follows it with its latest usage update (whose running total recovers the usage of what
//! the gap hid). Then the goal is read, and the engine takes the run's turns from the history (see
//! `GoalEngine::reconcile`). The resume asks for the whole history: with `excludeTurns` (and the
//! history paged through `thread/turns/list`) the pinned server sends no usage update, and a gap's
//! usage could not be recovered.

use crate::cancel::CancelToken;
use crate::client::Client;
use crate::error::{code, ClientError};
use crate::rollout;
use crate::route::Route;
use crate::turn::{aborted, TurnHandle};
use codex_sdk_engine::{run_span, HistoryTurn, RunStart};
use codex_sdk_protocol::{ThreadGoal, TokenUsageBreakdown};
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The waits before reading again a history whose last turn is in doubt: the server settles it
/// within milliseconds (it was seen to), so about two seconds in all is plenty.
const SETTLE_WAITS_MS: [u64; 7] = [20, 40, 80, 160, 320, 640, 1_000];

/// How long the usage update that follows a resume is waited for (it comes within milliseconds).
const USAGE_WAIT: Duration = Duration::from_secs(2);

impl Client {
    /// After a reconnect: brings every run that waits for its history up to date. A run whose
    /// thread cannot be read fails, saying its goal may still be running; a connection that drops
    /// meanwhile leaves the runs waiting for the next one.
    pub(crate) async fn resync_runs(&self) {
        for (thread_id, route) in self.inner.running() {
            if !route.is_syncing() {
                continue;
            }
            match self.sync_run(&thread_id, &route).await {
                Ok(()) => {}
                Err(e) if e.code == code::TRANSPORT_CLOSED => return,
                Err(e) => {
                    let goal = if route.is_goal() {
                        "; the goal may still be running on the server: attach to it again with thread.attachGoal()"
                    } else {
                        ""
                    };
                    let mut e = ClientError::new(
                        code::TRANSPORT_CLOSED,
                        format!(
                            "the connection came back, but the run on thread {thread_id} could not be brought up to date: {}{goal}",
                            e.message
                        ),
                    );
                    e.details.method = Some("thread/resume".into());
                    route.fail(&e);
                    self.release(&thread_id, &route);
                }
            }
        }
    }

    /// Resumes the thread on this connection, reads its history and goal, and reconciles the run
    /// with them.
    pub(crate) async fn sync_run(&self, thread_id: &str, route: &Arc<Route>) -> Result<(), ClientError> {
        let usage_seen = route.usage_updates();
        let mut resumed = self
            .request("thread/resume", Some(json!({"threadId": thread_id})))
            .await?;
        let start = route.run_start();
        let history = self
            .settled(thread_id, HistoryTurn::list(&resumed["thread"]["turns"].take()))
            .await?;
        let goal = if route.is_goal() {
            Some(self.current_goal(thread_id).await?)
        } else {
            None
        };
        let base = match (route.needs_usage_base(), resumed["thread"]["path"].as_str()) {
            (true, Some(path)) => usage_base(path, thread_id, &history, start.as_ref()).await,
            _ => None,
        };
        // The server sends the thread's latest usage update beside its answer to the resume, not
        // always before it (measured on 0.169.0: a few ms either side, more under load). A run that
        // ends in this reconcile would miss what it holds: a gap's last tokens. A thread with a
        // finished turn has one to send; it is waited for, within a bound.
        if history.iter().any(|t| t.header.completed_at.is_some()) {
            route.usage_update_since(usage_seen, USAGE_WAIT).await;
        }
        if route.reconcile(&history, goal.flatten(), base.as_ref()) {
            self.release(thread_id, route);
        }
        Ok(())
    }

    /// The history once its last turn is no longer in doubt (see `HistoryTurn::in_doubt`): read again
    /// after a short while, a few times; a turn still in doubt after that was cut short by a server
    /// that stopped, and is taken as it is.
    async fn settled(&self, thread_id: &str, mut history: Vec<HistoryTurn>) -> Result<Vec<HistoryTurn>, ClientError> {
        for wait_ms in SETTLE_WAITS_MS {
            if !history.last().is_some_and(HistoryTurn::in_doubt) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(wait_ms)).await;
            let mut read = self
                .request(
                    "thread/read",
                    Some(json!({"threadId": thread_id, "includeTurns": true})),
                )
                .await?;
            history = HistoryTurn::list(&read["thread"]["turns"].take());
        }
        Ok(history)
    }

    /// The thread's stored goal, if any.
    pub(crate) async fn current_goal(&self, thread_id: &str) -> Result<Option<ThreadGoal>, ClientError> {
        let mut answer = self
            .request("thread/goal/get", Some(json!({"threadId": thread_id})))
            .await?;
        match answer["goal"].take() {
            Value::Null => Ok(None),
            goal => serde_json::from_value(goal).map(Some).map_err(|e| {
                ClientError::new(code::PROTOCOL, format!("thread/goal/get: the goal cannot be read: {e}"))
                    .with_method("thread/goal/get")
            }),
        }
    }

    /// A handle on the thread's current goal run, whoever started it: the turns it ran before now
    /// come from the history, the rest live. A goal no longer active gives a handle already settled
    /// with its last run's result. `ERR_NO_GOAL` when the thread has no goal.
    pub async fn attach_goal(&self, thread_id: &str, cancel: Arc<CancelToken>) -> Result<TurnHandle, ClientError> {
        const METHOD: &str = "thread/goal/get";
        let goal = tokio::select! {
            g = self.current_goal(thread_id) => g?,
            _ = cancel.cancelled() => return Err(aborted(METHOD)),
        };
        let goal = goal.ok_or_else(|| no_goal(thread_id, METHOD))?;
        self.attach_run(thread_id, goal.created_at, cancel).await
    }

    /// Attaches to the run of the thread's goal that became active at the unix second `since`.
    pub(crate) async fn attach_run(
        &self,
        thread_id: &str,
        since: i64,
        cancel: Arc<CancelToken>,
    ) -> Result<TurnHandle, ClientError> {
        const METHOD: &str = "thread/resume";
        let (route, events, outcome) = Route::attached_goal(thread_id, since, self.inner.options.merge_deltas_after);
        self.reserve(thread_id, route.clone()).await?;
        let synced = tokio::select! {
            r = self.sync_run(thread_id, &route) => r,
            _ = cancel.cancelled() => Err(aborted(METHOD)),
        };
        // A goal set a moment ago may not have started its first turn yet: the handle needs its id.
        let started = async {
            synced?;
            let limit = self.request_timeout();
            let ready = |v: &crate::route::View<'_>| v.logical_turn_id().is_some() || v.is_done();
            tokio::select! {
                _ = route.wait_until(limit, ready) => {}
                _ = cancel.cancelled() => return Err(aborted(METHOD)),
            }
            if let Some(Err(e)) = &*outcome.borrow() {
                return Err(e.clone());
            }
            route.view().logical_turn_id().map(str::to_owned).map_or_else(
                || match route.is_done() {
                    true => Ok(String::new()),
                    false => Err(ClientError::new(
                        code::TIMEOUT,
                        format!(
                            "the goal of thread {thread_id} did not start a turn within {} ms",
                            limit.as_millis()
                        ),
                    )
                    .with_method(METHOD)),
                },
                Ok,
            )
        };
        match started.await {
            Ok(id) => Ok(TurnHandle::new(
                self.clone(),
                route,
                thread_id.to_owned(),
                id,
                events,
                outcome,
            )),
            Err(e) => {
                route.fail(&e);
                self.release(thread_id, &route);
                Err(e)
            }
        }
    }
}

pub(crate) fn no_goal(thread_id: &str, method: &str) -> ClientError {
    ClientError::new(code::NO_GOAL, format!("thread {thread_id} has no goal")).with_method(method)
}

/// The thread's total before the run, from the server's own records (see rollout.rs).
async fn usage_base(
    path: &str,
    thread_id: &str,
    history: &[HistoryTurn],
    start: Option<&RunStart>,
) -> Option<TokenUsageBreakdown> {
    let first = start
        .and_then(|s| run_span(history, s, None))
        .map_or(history.len(), |r| r.start);
    let run: HashSet<String> = history[first..].iter().map(|t| t.header.id.clone()).collect();
    let (path, thread_id) = (PathBuf::from(path), thread_id.to_owned());
    tokio::task::spawn_blocking(move || rollout::usage_before(&path, &thread_id, &run))
        .await
        .ok()
        .flatten()
}
