//! After a dropped connection came back: every run in progress is resumed (`thread/resume`, after
//! which the server sends the rest of its notifications) and reconciled with the thread's history
//! (`thread/read`), so what completed during the gap (items, turns, a continuation that started, the
//! goal's status) reaches the run's result and its stream. Deltas and token-usage updates sent
//! during the gap are not in the history and are not recovered.

use crate::client::Client;
use crate::error::{code, ClientError};
use crate::route::Route;
use codex_sdk_engine::{Event, Line};
use codex_sdk_protocol::{server_notification as m, Headline};
use serde_json::{json, Value};
use std::sync::Arc;

impl Client {
    pub(crate) async fn resume_runs(&self) {
        for (thread_id, route) in self.inner.running() {
            if let Err(e) = self.resume_run(&thread_id, &route).await {
                let mut e = ClientError::new(
                    code::TRANSPORT_CLOSED,
                    format!(
                        "the connection came back, but thread {thread_id} could not be resumed: {}",
                        e.message
                    ),
                );
                e.details.method = Some("thread/resume".into());
                route.fail(&e);
                self.release(&thread_id, &route);
            }
        }
    }

    async fn resume_run(&self, thread_id: &str, route: &Arc<Route>) -> Result<(), ClientError> {
        self.request("thread/resume", Some(json!({"threadId": thread_id})))
            .await?;
        let mut read = self
            .request(
                "thread/read",
                Some(json!({"threadId": thread_id, "includeTurns": true})),
            )
            .await?;
        let goal = if route.is_goal() {
            Some(
                self.request("thread/goal/get", Some(json!({"threadId": thread_id})))
                    .await?["goal"]
                    .take(),
            )
        } else {
            None
        };
        let turns = read["thread"]["turns"].take();
        let turns = turns.as_array().map(Vec::as_slice).unwrap_or_default();
        if route.reconcile(thread_id, turns, goal.as_ref()) {
            self.release(thread_id, route);
        }
        Ok(())
    }
}

impl Route {
    /// Feeds the run what the thread's history shows and the run has not seen, as notifications:
    /// a turn started, its completed items, its completion, the goal's status. Returns true when
    /// the run ended on them.
    pub(crate) fn reconcile(&self, thread_id: &str, turns: &[Value], goal: Option<&Value>) -> bool {
        let missed = self.missed(thread_id, turns, goal);
        let mut ended = false;
        for message in missed {
            let text = message.to_string();
            let Some(head) = Headline::peek(&text) else { continue };
            let Some(event) = Event::from_headline(&head) else {
                continue;
            };
            ended |= self.push(event, || Line::new(Arc::from(text.as_str()), &text, &head));
        }
        ended
    }

    fn missed(&self, thread_id: &str, turns: &[Value], goal: Option<&Value>) -> Vec<Value> {
        let view = self.view();
        // A run whose first turn was not seen yet has nothing in the history to reconcile with.
        let Some(logical) = view.logical_turn_id().map(str::to_owned) else {
            return Vec::new();
        };
        let acc = view.accumulator();
        let Some(first) = turns.iter().position(|t| t["id"] == logical.as_str()) else {
            return Vec::new();
        };
        let run = if self.is_goal() {
            &turns[first..]
        } else {
            &turns[first..=first]
        };
        let mut out = Vec::new();
        let header = |turn: &Value| {
            let mut t = turn.clone();
            if let Some(t) = t.as_object_mut() {
                t.insert("items".into(), json!([]));
            }
            t
        };
        for turn in run {
            let Some(id) = turn["id"].as_str() else { continue };
            if !acc.has_turn(id) {
                out.push(json!({"method": m::TURN_STARTED, "params": {"threadId": thread_id, "turn": header(turn)}}));
            }
            for item in turn["items"].as_array().into_iter().flatten() {
                if item["id"].as_str().is_some_and(|i| !acc.has_item(i)) {
                    out.push(json!({"method": m::ITEM_COMPLETED, "params": {"threadId": thread_id, "turnId": id, "item": item}}));
                }
            }
            if turn["status"] != "inProgress" && !acc.has_completed(id) {
                if let Some(goal) = goal.filter(|_| Some(turn) == run.last()) {
                    out.push(json!({"method": m::THREAD_GOAL_UPDATED, "params": {"threadId": thread_id, "turnId": null, "goal": goal}}));
                }
                out.push(json!({"method": m::TURN_COMPLETED, "params": {"threadId": thread_id, "turn": header(turn)}}));
            }
        }
        if let Some(goal) = goal.filter(|g| !g.is_null()) {
            // The status may have changed with no turn completing in the gap (a pause, say).
            if out.iter().all(|m| m["method"] != m::THREAD_GOAL_UPDATED) {
                out.push(json!({"method": m::THREAD_GOAL_UPDATED, "params": {"threadId": thread_id, "turnId": null, "goal": goal}}));
            }
        }
        out
    }
}
