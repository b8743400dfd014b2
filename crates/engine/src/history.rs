//! The thread's history (`thread/turns/list`, or `thread/read` with turns) as the source of truth for
//! a run, and the rule that finds a run's physical turns in it.
//!
//! The live stream is for progress; after a gap (a dropped connection, a process that attached to a
//! run already under way) the run is rebuilt from the turns the server persisted. History marks no
//! run boundaries, so a run is found by time: it begins when its goal became active (the goal's
//! `createdAt`, or the `updatedAt` a resume answered with) and ends when the goal stopped being active
//! (a non-active goal's `updatedAt`: its accounting stops with it). Timestamps are whole seconds; for
//! a turn of that very second, its first item decides: a turn started by `turn/start` begins with the
//! user's message, while one the server started for a goal begins with the model's output.

use crate::event::TurnHeader;
use crate::Made;
use codex_sdk_protocol::{server_notification as m, TurnStatus};
use serde::Deserialize;
use serde_json::{json, Value};
use std::ops::Range;

/// One turn of the thread's history, with its items.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct HistoryTurn {
    #[serde(flatten)]
    pub header: TurnHeader,
    #[serde(default)]
    pub items: Vec<Value>,
}

impl HistoryTurn {
    /// The history's turns (a JSON array of the protocol's `Turn`), those that cannot be read skipped.
    pub fn list(turns: &Value) -> Vec<HistoryTurn> {
        turns
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| HistoryTurn::deserialize(t).ok())
            .filter(|t| !t.header.id.is_empty())
            .collect()
    }

    /// The `turn/started` of this turn as it started, for a stream that did not see it.
    pub fn started_notification(&self, thread_id: &str) -> Made {
        let h = &self.header;
        Made {
            method: m::TURN_STARTED,
            params: json!({"threadId": thread_id, "turn": {
                "id": h.id, "items": [], "itemsView": "notLoaded", "status": "inProgress",
                "error": null, "startedAt": h.started_at, "completedAt": null, "durationMs": null,
            }}),
        }
    }

    /// An item of this run the stream did not see, as its `item/completed` (with `turn_id`, the
    /// logical turn's).
    pub fn item_notification(thread_id: &str, turn_id: &str, item: Value) -> Made {
        Made {
            method: m::ITEM_COMPLETED,
            params: json!({"threadId": thread_id, "turnId": turn_id, "item": item}),
        }
    }

    /// Whether the server has not settled this turn's end yet. The app-server shows a turn whose end
    /// it has not recorded as `interrupted` whenever its status watcher says the thread is not
    /// running, and that watcher lags the turn's own record for a moment as a turn starts and ends:
    /// read then, a turn running or just completed looks interrupted. A real interrupt is recorded
    /// with its `completedAt`; this one has none. Read again a moment later, it settles (or stays so,
    /// when the server stopped in the middle of the turn).
    pub fn in_doubt(&self) -> bool {
        self.header.status == Some(TurnStatus::Interrupted) && self.header.completed_at.is_none()
    }

    fn begins_with_user_message(&self) -> bool {
        self.items
            .first()
            .is_some_and(|i| i.get("type").and_then(Value::as_str) == Some("userMessage"))
    }

    fn started(&self) -> Option<i64> {
        self.header.started_at
    }
}

/// Where a run begins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStart {
    /// Its first physical turn is known.
    Turn(String),
    /// It began when its goal became active, at this unix second.
    Since(i64),
}

/// Where a run ends, when its goal is no longer active.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunEnd {
    /// The goal stopped at this unix second (a non-active goal's `updatedAt`): turns the server
    /// started up to then are the run's.
    At(i64),
    /// A new goal replaced it at this unix second: the turns from then on are the new goal's.
    Before(i64),
}

/// The run's physical turns in `turns` (the thread's history, oldest first); `None` when its first
/// turn is not there (not started yet, or not in this part of the history). `end`: `None` while the
/// goal is active (every later turn is the run's).
pub fn run_span(turns: &[HistoryTurn], start: &RunStart, end: Option<RunEnd>) -> Option<Range<usize>> {
    let first = match start {
        RunStart::Turn(id) => turns.iter().position(|t| t.header.id == *id)?,
        // A turn with no start time (older history) cannot be placed: it is taken.
        RunStart::Since(at) => turns.iter().position(|t| match t.started() {
            Some(s) if s == *at => !t.begins_with_user_message(),
            Some(s) => s > *at,
            None => true,
        })?,
    };
    let after = &turns[first + 1..];
    let more = match end {
        None => after.len(),
        Some(RunEnd::At(at)) => after
            .iter()
            .take_while(|t| match t.started() {
                Some(s) if s == at => !t.begins_with_user_message(),
                Some(s) => s < at,
                None => true,
            })
            .count(),
        Some(RunEnd::Before(at)) => after.iter().take_while(|t| t.started().is_none_or(|s| s < at)).count(),
    };
    Some(first..first + 1 + more)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn turn(id: &str, started: i64, first_item: &str) -> Value {
        json!({"id": id, "status": "completed", "startedAt": started, "completedAt": started, "items": [{"type": first_item, "id": "i"}]})
    }

    fn history(turns: &[Value]) -> Vec<HistoryTurn> {
        HistoryTurn::list(&Value::Array(turns.to_vec()))
    }

    fn ids(turns: &[HistoryTurn], span: Option<Range<usize>>) -> Vec<&str> {
        span.map(|r| turns[r].iter().map(|t| t.header.id.as_str()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_run_starts_at_its_goal_and_a_users_turn_of_that_second_is_not_its() {
        let h = history(&[
            turn("plain-before", 99, "userMessage"),
            turn("plain-same-second", 100, "userMessage"),
            turn("g1", 100, "agentMessage"),
            turn("g2", 101, "agentMessage"),
        ]);
        assert_eq!(ids(&h, run_span(&h, &RunStart::Since(100), None)), ["g1", "g2"]);
        assert_eq!(ids(&h, run_span(&h, &RunStart::Turn("g2".into()), None)), ["g2"]);
        assert_eq!(run_span(&h, &RunStart::Since(102), None), None, "not started yet");
        assert_eq!(run_span(&h, &RunStart::Turn("nope".into()), None), None);
    }

    #[test]
    fn a_run_ends_when_its_goal_stopped() {
        let h = history(&[
            turn("g1", 100, "agentMessage"),
            turn("g2", 105, "agentMessage"),
            // The late continuation a pause raced with, and a user's turn in the same second.
            turn("late", 105, "agentMessage"),
            turn("plain-after", 105, "userMessage"),
            turn("plain-later", 107, "userMessage"),
        ]);
        let start = RunStart::Turn("g1".into());
        assert_eq!(
            ids(&h, run_span(&h, &start, Some(RunEnd::At(105)))),
            ["g1", "g2", "late"]
        );
        assert_eq!(ids(&h, run_span(&h, &start, Some(RunEnd::Before(105)))), ["g1"]);
        assert_eq!(ids(&h, run_span(&h, &start, None)).len(), 5);
    }

    #[test]
    fn unreadable_turns_are_skipped() {
        let h = HistoryTurn::list(
            &json!([{"id": "a", "status": "completed", "items": []}, 5, {"status": "completed"}, {"id": "b", "status": "someday"}, {"id": "c", "items": 5}]),
        );
        assert_eq!(h.iter().map(|t| t.header.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(
            h[1].header.status, None,
            "a status this version does not know is not fatal"
        );
    }

    #[test]
    fn an_interrupted_turn_without_its_end_recorded_is_in_doubt() {
        let h = HistoryTurn::list(&json!([
            {"id": "stale", "status": "interrupted", "startedAt": 100, "completedAt": null, "items": []},
            {"id": "real", "status": "interrupted", "startedAt": 100, "completedAt": 101, "durationMs": 588, "items": []},
            {"id": "done", "status": "completed", "startedAt": 100, "completedAt": 101, "items": []},
            {"id": "running", "status": "inProgress", "startedAt": 100, "items": []},
        ]));
        let doubt: Vec<bool> = h.iter().map(HistoryTurn::in_doubt).collect();
        assert_eq!(doubt, [true, false, false, false]);
    }
}
