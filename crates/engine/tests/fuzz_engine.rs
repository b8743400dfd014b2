//! Property tests of the engines over recorded transcripts: interleaved traffic of other threads
//! changes nothing; reordered or cut-short transcripts never panic and never break the contract
//! of one logical turn.

use codex_sdk_engine::Aggregator;
mod common;

use codex_sdk_protocol::turn_id_of;
use common::{feed, load, push, thread_of};
use proptest::prelude::*;
use serde_json::Value;

const GOAL_FIXTURES: &[&str] = &[
    "goal-complete-after-continuation",
    "goal-blocked",
    "goal-budget-limited",
    "goal-failed",
    "goal-paused-mid-run",
    "goal-cleared-mid-run",
    "goal-interrupted-in-continuation",
];

/// Runs the goal engine; returns the logical stream and whether it finished.
fn run(thread: &str, events: &[(String, Value)]) -> (Vec<(String, Value)>, bool, String) {
    let mut engine = Aggregator::goal(thread);
    let out = feed(&mut engine, events);
    let id = engine.logical_turn_id().unwrap_or_default().to_owned();
    (out, engine.is_done(), id)
}

/// The contract, whatever the input: at most one start and one completion; a completion only
/// as the last event and only when done; every turn id is the logical one.
fn check_contract(stream: &[(String, Value)], done: bool, id: &str) -> Result<(), TestCaseError> {
    let starts = stream.iter().filter(|(m, _)| m == "turn/started").count();
    let ends = stream.iter().filter(|(m, _)| m == "turn/completed").count();
    prop_assert!(starts <= 1 && ends <= 1);
    prop_assert_eq!(ends == 1, done);
    if ends == 1 {
        prop_assert_eq!(stream.last().unwrap().0.as_str(), "turn/completed");
    }
    for (_, p) in stream {
        if let Some(t) = turn_id_of(p) {
            prop_assert_eq!(t, id);
        }
    }
    Ok(())
}

/// The same notification as if from another thread, and another turn.
fn foreign((m, p): &(String, Value)) -> (String, Value) {
    let mut p = p.clone();
    if p.get("threadId").is_some() {
        p["threadId"] = "another-thread".into();
    }
    if let Some(t) = p.get_mut("thread") {
        t["id"] = "another-thread".into();
    }
    if p.get("turnId").is_some_and(Value::is_string) {
        p["turnId"] = "another-turn".into();
    }
    if let Some(t) = p.get_mut("turn") {
        t["id"] = "another-turn".into();
    }
    (m.clone(), p)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn other_threads_interleaved_change_nothing(fixture in prop::sample::select(GOAL_FIXTURES), seed in any::<u64>()) {
        let events = load(fixture);
        let noise: Vec<_> = events.iter().map(foreign).collect();
        // Deterministic interleaving from the seed: keep each list's own order.
        let (mut mixed, mut a, mut b, mut s) = (Vec::new(), 0, 0, seed);
        while a < events.len() || b < noise.len() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            if b >= noise.len() || (a < events.len() && s >> 63 == 0) {
                mixed.push(events[a].clone());
                a += 1;
            } else {
                mixed.push(noise[b].clone());
                b += 1;
            }
        }
        let thread = thread_of(&events);
        let (clean, clean_done, clean_id) = run(&thread, &events);
        let (noisy, noisy_done, noisy_id) = run(&thread, &mixed);
        prop_assert_eq!(clean, noisy);
        prop_assert_eq!(clean_done, noisy_done);
        prop_assert_eq!(clean_id, noisy_id);
    }

    #[test]
    fn reordered_goal_events_keep_the_contract(fixture in prop::sample::select(GOAL_FIXTURES), order in Just(()).prop_perturb(|_, mut rng| rng.next_u64())) {
        let mut events = load(fixture);
        // A random permutation, seeded.
        let mut s = order;
        for i in (1..events.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            events.swap(i, (s >> 33) as usize % (i + 1));
        }
        let (stream, done, id) = run(&thread_of(&events), &events);
        check_contract(&stream, done, &id)?;
    }

    #[test]
    fn cut_short_transcripts_keep_the_contract(fixture in prop::sample::select(GOAL_FIXTURES), cut in 0usize..40) {
        let events = load(fixture);
        let cut = cut.min(events.len());
        let (stream, done, id) = run(&thread_of(&events), &events[..cut]);
        check_contract(&stream, done, &id)?;
    }

    #[test]
    fn a_plain_turn_never_panics_on_reordered_input(seed in any::<u64>()) {
        let mut events = load("plain-turn");
        let mut s = seed;
        for i in (1..events.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            events.swap(i, (s >> 33) as usize % (i + 1));
        }
        let mut agg = Aggregator::turn(&thread_of(&events), None);
        let mut completions = 0;
        for i in 0..events.len() {
            completions += push(&mut agg, &events, i).iter().filter(|(m, _)| m == "turn/completed").count();
        }
        prop_assert!(completions <= 1);
        prop_assert_eq!(completions == 1, agg.is_done());
    }
}
