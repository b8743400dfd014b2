//! A gap anywhere in a recorded run: the connection drops before notification `cut`, everything up
//! to `back` is lost, the thread's history and goal are read as they stand at `back` (built here
//! from the transcript, as the server persists them), the server re-sends its latest usage and
//! goal updates as it does on `thread/resume`, and the run goes on. Whatever the gap, the result is
//! the one an observer that never left gets, and the stream still shows each item once. The same
//! for a run attached to at any point, by a client that saw none of it.

use codex_sdk_engine::{Aggregator, Emit, HistoryTurn, TurnResult};
mod common;

use codex_sdk_protocol::TokenUsageBreakdown;
use common::{load, push, thread_of};
use serde_json::{json, Value};

const GOALS: [&str; 7] = [
    "goal-blocked",
    "goal-budget-limited",
    "goal-cleared-mid-run",
    "goal-complete-after-continuation",
    "goal-failed",
    "goal-interrupted-in-continuation",
    "goal-paused-mid-run",
];

type Events = [(String, Value)];

/// The thread's turns as the history shows them once `events[..at]` happened.
fn history(events: &Events, at: usize) -> Vec<HistoryTurn> {
    let mut turns: Vec<Value> = Vec::new();
    for (m, p) in &events[..at] {
        let find = |turns: &mut Vec<Value>, id: &Value| turns.iter().position(|t| t["id"] == *id);
        match m.as_str() {
            "turn/started" => {
                let mut t = p["turn"].clone();
                t["items"] = json!([]);
                turns.push(t);
            }
            "item/completed" => {
                if let Some(i) = find(&mut turns, &p["turnId"]) {
                    turns[i]["items"].as_array_mut().unwrap().push(p["item"].clone());
                }
            }
            "turn/completed" => {
                if let Some(i) = find(&mut turns, &p["turn"]["id"]) {
                    let items = turns[i]["items"].take();
                    turns[i] = p["turn"].clone();
                    turns[i]["items"] = items;
                }
            }
            _ => {}
        }
    }
    HistoryTurn::list(&Value::Array(turns))
}

/// The goal as `thread/goal/get` answers once `events[..at]` happened.
fn goal_at(events: &Events, at: usize) -> Option<Value> {
    let mut goal = None;
    for (m, p) in &events[..at] {
        match m.as_str() {
            "thread/goal/updated" => goal = Some(p["goal"].clone()),
            "thread/goal/cleared" => goal = None,
            _ => {}
        }
    }
    goal
}

/// What the server sends a connection that resumes the thread after `events[..at]`: its latest
/// usage update and its goal.
fn resumed(events: &Events, at: usize) -> Vec<(String, Value)> {
    let thread = thread_of(events);
    let mut out = Vec::new();
    if let Some(u) = events[..at]
        .iter()
        .rev()
        .find(|(m, _)| m == "thread/tokenUsage/updated")
    {
        out.push(u.clone());
    }
    if let Some(goal) = goal_at(events, at) {
        out.push((
            "thread/goal/updated".into(),
            json!({"threadId": thread, "turnId": null, "goal": goal}),
        ));
    }
    out
}

/// The thread's total before the run's first model response, as the server's own records give it.
fn base(events: &Events) -> Option<TokenUsageBreakdown> {
    let (_, p) = events.iter().find(|(m, _)| m == "thread/tokenUsage/updated")?;
    let total: TokenUsageBreakdown = serde_json::from_value(p["tokenUsage"]["total"].clone()).ok()?;
    let last: TokenUsageBreakdown = serde_json::from_value(p["tokenUsage"]["last"].clone()).ok()?;
    let mut b = total.clone();
    b.total_tokens -= last.total_tokens;
    b.input_tokens -= last.input_tokens;
    b.cached_input_tokens -= last.cached_input_tokens;
    b.output_tokens -= last.output_tokens;
    b.reasoning_output_tokens -= last.reasoning_output_tokens;
    b.cache_write_input_tokens =
        Some(total.cache_write_input_tokens.unwrap_or(0) - last.cache_write_input_tokens.unwrap_or(0));
    Some(b)
}

fn push_all(
    engine: &mut Aggregator<usize>,
    events: &Events,
    range: std::ops::Range<usize>,
    out: &mut Vec<(String, Value)>,
) {
    for i in range {
        out.extend(push(engine, events, i));
    }
}

/// Feeds extra notifications (not from the transcript), keeping the payloads in `extra`.
fn push_extra(engine: &mut Aggregator<usize>, extra: &Events, out: &mut Vec<(String, Value)>) {
    for i in 0..extra.len() {
        out.extend(push(engine, extra, i));
    }
}

/// Applies the decisions of a reconcile (payloads of queued events index `queued`).
fn reconcile(
    engine: &mut Aggregator<usize>,
    events: &Events,
    back: usize,
    queued: &Events,
    out: &mut Vec<(String, Value)>,
) {
    let goal = goal_at(events, back).map(|g| serde_json::from_value(g).unwrap());
    let base = base(events).filter(|_| engine.needs_usage_base());
    let mut decided = Vec::new();
    engine.reconcile(&history(events, back), goal, base.as_ref(), &mut decided);
    let logical = engine.logical_turn_id().unwrap_or_default().to_owned();
    for e in decided {
        out.push(match e {
            Emit::Pass(j) => queued[j].clone(),
            Emit::Relabel(j) => {
                let (m, mut p) = queued[j].clone();
                p["turnId"] = Value::String(logical.clone());
                (m, p)
            }
            Emit::Completed(c) => ("turn/completed".to_owned(), serde_json::to_value(c).unwrap()),
            Emit::Made(n) => (n.method.to_owned(), n.params),
        });
    }
}

fn uninterrupted(name: &str, goal: bool) -> (TurnResult, usize) {
    let events = load(name);
    let mut engine = engine(&events, goal);
    let mut out = Vec::new();
    push_all(&mut engine, &events, 0..events.len(), &mut out);
    (engine.result().expect("the run ends"), items_on(&out))
}

fn engine(events: &Events, goal: bool) -> Aggregator<usize> {
    let thread = thread_of(events);
    if goal {
        let mut e = Aggregator::goal(&thread);
        e.set_activated_at(goal_at(events, events.len()).map_or(0, |g| g["createdAt"].as_i64().unwrap()));
        if let Some((_, p)) = events.iter().find(|(m, _)| m == "thread/goal/updated") {
            e.set_activated_at(p["goal"]["createdAt"].as_i64().unwrap());
        }
        e
    } else {
        let turn = events.iter().find(|(m, _)| m == "turn/started").unwrap().1["turn"]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        Aggregator::turn(&thread, Some(&turn))
    }
}

fn first_goal(events: &Events) -> usize {
    events.iter().position(|(m, _)| m == "thread/goal/updated").unwrap()
}

fn items_on(stream: &[(String, Value)]) -> usize {
    stream.iter().filter(|(m, _)| m == "item/completed").count()
}

/// The stream's contract: one `turn/started` first, one `turn/completed` last.
fn assert_one_turn(name: &str, at: &str, stream: &[(String, Value)]) {
    let count = |method: &str| stream.iter().filter(|(m, _)| m == method).count();
    assert_eq!((count("turn/started"), count("turn/completed")), (1, 1), "{name} {at}");
    assert_eq!(stream.first().unwrap().0, "turn/started", "{name} {at}");
    assert_eq!(stream.last().unwrap().0, "turn/completed", "{name} {at}");
}

fn check_gaps(name: &str, goal: bool) {
    let (expected, items) = uninterrupted(name, goal);
    let events = load(name);
    let n = events.len();
    let mut trials = 0;
    // A goal's run is followed from its `goal/set` on: a drop before that fails the start instead.
    let set = if goal { first_goal(&events) + 1 } else { 0 };
    for cut in set..n {
        for back in cut..=n {
            let mut engine = engine(&events, goal);
            let mut out = Vec::new();
            push_all(&mut engine, &events, 0..cut, &mut out);
            if engine.is_done() {
                continue;
            }
            engine.begin_sync();
            let again = resumed(&events, back);
            push_extra(&mut engine, &again, &mut out);
            reconcile(&mut engine, &events, back, &again, &mut out);
            push_all(&mut engine, &events, back..n, &mut out);
            let at = format!("cut at {cut}, back at {back}");
            let r = engine.result().unwrap_or_else(|| panic!("{name} {at}: the run ends"));
            assert_eq!(r, expected, "{name} {at}");
            assert_one_turn(name, &at, &out);
            assert_eq!(items_on(&out), items, "{name} {at}: every item once on the stream");
            trials += 1;
        }
    }
    assert!(trials > n * n / 3, "{name}: {trials} gaps tried");
}

#[test]
fn a_gap_anywhere_in_a_goal_gives_the_result_of_no_gap() {
    for name in GOALS {
        check_gaps(name, true);
    }
}

#[test]
fn a_gap_anywhere_in_a_plain_turn_gives_the_result_of_no_gap() {
    check_gaps("plain-turn", false);
}

#[test]
fn attaching_at_any_point_gives_the_result_of_an_observer_that_never_left() {
    for name in GOALS {
        let (expected, items) = uninterrupted(name, true);
        let events = load(name);
        let created = goal_at(&events, events.len())
            .or_else(|| {
                events
                    .iter()
                    .find(|(m, _)| m == "thread/goal/updated")
                    .map(|(_, p)| p["goal"].clone())
            })
            .unwrap()["createdAt"]
            .as_i64()
            .unwrap();
        for at in first_goal(&events) + 1..=events.len() {
            let mut engine = Aggregator::attach_goal(&thread_of(&events), created);
            let mut out = Vec::new();
            let again = resumed(&events, at);
            push_extra(&mut engine, &again, &mut out);
            reconcile(&mut engine, &events, at, &again, &mut out);
            // What arrives after the attach; a cleared goal is no goal to attach to.
            if goal_at(&events, at).is_none() && at > 0 && name == "goal-cleared-mid-run" {
                continue;
            }
            push_all(&mut engine, &events, at..events.len(), &mut out);
            let r = engine
                .result()
                .unwrap_or_else(|| panic!("{name} attached at {at}: the run ends"));
            assert_eq!(r, expected, "{name} attached at {at}");
            assert_one_turn(name, &format!("attached at {at}"), &out);
            assert_eq!(items_on(&out), items, "{name} attached at {at}");
        }
    }
}

#[test]
fn a_provider_that_repeats_item_ids_across_turns_loses_no_message() {
    // The model provider reuses `msg_4` in the continuation: a different item of a different turn.
    let mut events = load("goal-complete-after-continuation");
    for (m, p) in &mut events {
        if m == "item/completed" && p["item"]["id"] == "msg_8" {
            p["item"]["id"] = json!("msg_4");
        }
    }
    let mut engine = Aggregator::goal(&thread_of(&events));
    let mut out = Vec::new();
    push_all(&mut engine, &events, 0..events.len(), &mut out);
    let r = engine.result().unwrap();
    assert_eq!(r.final_response.as_deref(), Some("All done."));
    let texts: Vec<_> = r.items.iter().filter_map(|i| i["text"].as_str()).collect();
    assert_eq!(texts, ["Step one done.", "All done."]);
    assert_eq!(items_on(&out), 2);
}
