//! Replays transcripts recorded from the real pinned app-server (scripts/record-transcripts.mjs)
//! through the engines, and checks the logical turn each one must produce.

use codex_sdk_engine::{Aggregator, TurnResult, TurnResultStatus};
mod common;

use codex_sdk_protocol::{turn_id_of, ThreadGoalStatus};
use common::{feed, load, push, thread_of};
use serde_json::Value;

/// The logical stream (method, params) and the result of running a transcript through the goal engine.
fn run_goal(events: &[(String, Value)]) -> (Vec<(String, Value)>, TurnResult, Aggregator<usize>) {
    let mut engine = Aggregator::goal(&thread_of(events));
    let out = feed(&mut engine, events);
    let result = engine.result().unwrap_or_else(|| match &engine {
        Aggregator::Goal(e) => e.result(),
        Aggregator::Turn(e) => e.result(),
    });
    (out, result, engine)
}

/// The contract every goal stream keeps: one turn/started first, one turn/completed last, both
/// with the logical id, and every turn id in between relabelled to it.
fn assert_one_logical_turn(stream: &[(String, Value)], result: &TurnResult) {
    let starts: Vec<_> = stream.iter().filter(|(m, _)| m == "turn/started").collect();
    let ends: Vec<_> = stream.iter().filter(|(m, _)| m == "turn/completed").collect();
    assert_eq!(
        (starts.len(), ends.len()),
        (1, 1),
        "exactly one start and one completion"
    );
    assert_eq!(stream.first().unwrap().0, "turn/started");
    assert_eq!(stream.last().unwrap().0, "turn/completed");
    for (method, params) in stream {
        if let Some(t) = turn_id_of(params) {
            assert_eq!(t, result.id, "{method} carries the logical id");
        }
    }
    let end = &ends[0].1["turn"];
    assert_eq!(end["status"], serde_json::to_value(result.status).unwrap());
    assert_eq!(result.id, result.turn_ids[0]);
}

fn usage_total(r: &TurnResult) -> i64 {
    r.usage.as_ref().map(|u| u.total_tokens).unwrap_or(0)
}

#[test]
fn complete_after_a_continuation() {
    let (stream, r, engine) = run_goal(&load("goal-complete-after-continuation"));
    assert!(engine.is_done());
    assert_one_logical_turn(&stream, &r);
    assert_eq!(r.status, TurnResultStatus::Completed);
    assert_eq!(r.turn_ids.len(), 2);
    assert_eq!(r.final_response.as_deref(), Some("All done."));
    assert_eq!(usage_total(&r), 45, "three model responses of 15 tokens over two turns");
    assert_eq!(r.goal.as_ref().unwrap().status, ThreadGoalStatus::Complete);
    let texts: Vec<_> = r.items.iter().filter_map(|i| i["text"].as_str()).collect();
    assert_eq!(
        texts,
        ["Step one done.", "All done."],
        "items of both physical turns, in order"
    );
    assert!(
        stream
            .iter()
            .any(|(m, p)| m == "thread/goal/updated" && p["goal"]["status"] == "complete"),
        "goal progress reaches the stream"
    );
}

#[test]
fn blocked_by_the_model() {
    let (stream, r, engine) = run_goal(&load("goal-blocked"));
    assert!(engine.is_done());
    assert_one_logical_turn(&stream, &r);
    assert_eq!(r.status, TurnResultStatus::Completed);
    assert_eq!(r.turn_ids.len(), 1);
    assert_eq!(r.goal.unwrap().status, ThreadGoalStatus::Blocked);
}

#[test]
fn stops_at_the_token_budget() {
    let (stream, r, _) = run_goal(&load("goal-budget-limited"));
    assert_one_logical_turn(&stream, &r);
    assert_eq!(r.status, TurnResultStatus::Completed);
    assert_eq!(r.turn_ids.len(), 2);
    assert_eq!(usage_total(&r), 50);
    let goal = r.goal.unwrap();
    assert_eq!(goal.status, ThreadGoalStatus::BudgetLimited);
    assert_eq!(goal.token_budget, Some(40));
}

#[test]
fn a_failed_physical_turn_fails_the_run() {
    let (stream, r, _) = run_goal(&load("goal-failed"));
    assert_one_logical_turn(&stream, &r);
    assert_eq!(r.status, TurnResultStatus::Failed);
    assert!(r.error.as_ref().unwrap().message.contains("the model fell over"));
    assert_eq!(r.turn_ids.len(), 2);
    assert_eq!(r.goal.unwrap().status, ThreadGoalStatus::Blocked);
    assert_eq!(r.final_response.as_deref(), Some("Step one done."));
}

#[test]
fn pausing_mid_run_lets_the_turn_finish_and_ends_the_run() {
    let (stream, r, _) = run_goal(&load("goal-paused-mid-run"));
    assert_one_logical_turn(&stream, &r);
    assert_eq!(r.status, TurnResultStatus::Completed);
    assert_eq!(r.turn_ids.len(), 1);
    assert_eq!(r.goal.unwrap().status, ThreadGoalStatus::Paused);
    assert_eq!(r.final_response.as_deref(), Some("Working on step one."));
}

#[test]
fn clearing_mid_run_ends_the_run() {
    let (stream, r, engine) = run_goal(&load("goal-cleared-mid-run"));
    assert!(engine.is_done());
    assert_one_logical_turn(&stream, &r);
    assert!(stream.iter().any(|(m, _)| m == "thread/goal/cleared"));
    assert_eq!(r.turn_ids.len(), 1);
}

#[test]
fn an_interrupted_continuation_ends_the_run_interrupted() {
    let (stream, r, _) = run_goal(&load("goal-interrupted-in-continuation"));
    assert_one_logical_turn(&stream, &r);
    assert_eq!(r.status, TurnResultStatus::Interrupted);
    assert_eq!(r.turn_ids.len(), 2);
}

#[test]
fn an_interrupt_asked_for_marks_the_run_interrupted() {
    let events = load("goal-paused-mid-run");
    let mut engine = Aggregator::goal(&thread_of(&events));
    for (i, (m, _)) in events.iter().enumerate() {
        if m == "turn/started" {
            engine.set_interrupt_requested(true);
        }
        push(&mut engine, &events, i);
    }
    assert!(engine.is_done());
    assert_eq!(engine.result().unwrap().status, TurnResultStatus::Interrupted);
}

#[test]
fn a_status_arriving_after_the_completion_still_ends_the_run() {
    // Move the `blocked` update after the failed turn's completion.
    let mut events = load("goal-failed");
    let at = events
        .iter()
        .position(|(m, p)| m == "thread/goal/updated" && p["goal"]["status"] == "blocked")
        .unwrap();
    let update = events.remove(at);
    events.push(update);
    let mut engine = Aggregator::goal(&thread_of(&events));
    let mut ended_at = None;
    for i in 0..events.len() {
        if push(&mut engine, &events, i).iter().any(|(m, _)| m == "turn/completed") {
            ended_at = Some(i);
        }
    }
    assert_eq!(ended_at, Some(events.len() - 1), "the run ends when the status arrives");
    assert_eq!(engine.result().unwrap().status, TurnResultStatus::Failed);
}

#[test]
fn events_racing_ahead_of_their_turn_started_are_held_and_relabelled() {
    let mut events = load("goal-complete-after-continuation");
    // Swap the second turn/started with the item that follows it.
    let second = second_turn_started(&events);
    events.swap(second, second + 1);
    let (stream, r, _) = run_goal(&events);
    assert_one_logical_turn(&stream, &r);
    assert_eq!(
        r.items.len(),
        run_goal(&load("goal-complete-after-continuation")).1.items.len()
    );
}

#[test]
fn other_threads_are_ignored() {
    let events = load("goal-complete-after-continuation");
    let mut engine = Aggregator::goal("some-other-thread");
    for i in 0..events.len() {
        assert!(push(&mut engine, &events, i).is_empty());
    }
    assert!(!engine.is_done());
}

#[test]
fn a_recorded_plain_turn_aggregates() {
    let events = load("plain-turn");
    let mut agg = Aggregator::turn(&thread_of(&events), None);
    let emitted = feed(&mut agg, &events).len();
    assert!(agg.is_done());
    let r = agg.result().unwrap();
    assert_eq!(r.status, TurnResultStatus::Completed);
    assert_eq!(r.final_response.as_deref(), Some("Plain answer."));
    assert_eq!(usage_total(&r), 15);
    assert!(emitted >= 5);
}

#[test]
fn items_and_completions_arriving_twice_are_taken_once() {
    // As when a run resumed after a dropped connection is reconciled from the thread's history:
    // what the history repeats of what already arrived changes nothing.
    let events = load("goal-complete-after-continuation");
    let second = second_turn_started(&events);
    let mut doubled = events[..second].to_vec();
    doubled.extend(
        events[..second]
            .iter()
            .filter(|(m, _)| m == "item/completed" || m == "turn/completed")
            .cloned(),
    );
    doubled.extend_from_slice(&events[second..]);
    let (clean, r, _) = run_goal(&events);
    let (stream, again, _) = run_goal(&doubled);
    assert_eq!(again, r, "the same result");
    assert_eq!(stream, clean, "nothing repeated on the stream");
}

/// Where the transcript's second `turn/started` (the first continuation's) is.
fn second_turn_started(events: &[(String, Value)]) -> usize {
    let mut starts = events.iter().enumerate().filter(|(_, (m, _))| m == "turn/started");
    starts.nth(1).unwrap().0
}
