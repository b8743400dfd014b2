//! The wasm binding's own tests, run in Node by wasm-bindgen-test-runner: the engine compiled to
//! wasm32 gives the same answers through the raw exports the JS layer drives.
#![cfg(target_arch = "wasm32")]

use codex_sdk_wasm::{active_turn_id_from_error, decode_message, encode_request, reads_params, RawAggregator};
use serde_json::Value;
use wasm_bindgen_test::wasm_bindgen_test;

const FIXTURE: &str = include_str!("../../engine/tests/fixtures/goal-complete-after-continuation.jsonl");
const PLAIN: &str = include_str!("../../engine/tests/fixtures/plain-turn.jsonl");

fn first(fixture: &str, pointer: &str) -> String {
    fixture
        .lines()
        .find_map(|l| {
            serde_json::from_str::<Value>(l)
                .ok()?
                .pointer(pointer)?
                .as_str()
                .map(str::to_owned)
        })
        .unwrap()
}

/// Feeds every line (by text: `push_line` takes any notification); returns how many logical
/// events came out.
fn feed(agg: &mut RawAggregator, fixture: &str) -> usize {
    let mut events = 0;
    for (seq, line) in fixture.lines().enumerate() {
        events += match agg.push_line(seq as u32, line).unwrap() {
            0 | 3 => 0,
            1 | 2 => 1,
            _ => serde_json::from_str::<Vec<Value>>(&agg.take().unwrap()).unwrap().len(),
        };
    }
    events
}

#[wasm_bindgen_test]
fn a_goal_transcript_aggregates_to_one_logical_turn() {
    let mut agg = RawAggregator::goal(&first(FIXTURE, "/params/threadId"));
    assert!(agg.result().is_err(), "no result before the end");
    assert!(feed(&mut agg, FIXTURE) > 2);
    assert!(agg.done());
    let result: Value = serde_json::from_str(&agg.result().unwrap()).unwrap();
    assert_eq!(result["status"], "completed");
    assert_eq!(result["turnIds"].as_array().unwrap().len(), 2);
    assert_eq!(
        agg.logical_turn_id().as_ref(),
        result["turnIds"][0].as_str().map(str::to_owned).as_ref()
    );
    assert!(agg.active_turn_id().is_none());
}

#[wasm_bindgen_test]
fn a_plain_transcript_aggregates() {
    let mut agg = RawAggregator::turn(&first(PLAIN, "/params/threadId"), &first(PLAIN, "/params/turn/id"));
    feed(&mut agg, PLAIN);
    assert!(agg.done());
    let result: Value = serde_json::from_str(&agg.result().unwrap()).unwrap();
    assert_eq!(result["finalResponse"], "Plain answer.");
}

#[wasm_bindgen_test]
fn deltas_go_by_interned_ids_and_come_back_as_decisions() {
    let mut agg = RawAggregator::goal("t");
    let started = r#"{"method":"turn/started","params":{"threadId":"t","turn":{"id":"u1"}}}"#;
    assert_eq!(agg.push_line(0, started).unwrap(), 1, "the first turn/started passes");
    let (delta, t, u1, u2) = (
        agg.intern("item/agentMessage/delta"),
        agg.intern("t"),
        agg.intern("u1"),
        agg.intern("u2"),
    );
    assert!(!reads_params("item/agentMessage/delta") && reads_params("turn/started"));
    // 0x100 marks an answer the JS layer may reuse for the same method, thread and turn.
    assert_eq!(
        agg.push_ids(1, delta, t, u1),
        0x100 | 1,
        "a delta of the logical turn passes"
    );
    assert_eq!(
        agg.push_ids(2, delta, t, u2),
        0x100,
        "a delta of another turn is dropped"
    );
    assert_eq!(
        agg.push_ids(3, delta, t, 999),
        0x100,
        "an id never interned reads as none"
    );
    let cleared = agg.intern("thread/goal/cleared");
    assert_eq!(
        agg.push_ids(4, cleared, t, 0) & 0x100,
        0,
        "a clear changes the run: never reused"
    );
}

#[wasm_bindgen_test]
fn malformed_and_hostile_input_is_an_error_not_a_trap() {
    let mut agg = RawAggregator::goal("t");
    assert!(agg.push_line(0, "{oops").is_err());
    assert!(agg.push_line(1, "3").is_err());
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert!(agg
        .push_line(2, &format!(r#"{{"method":"m","params":{deep}}}"#))
        .is_err());
    assert!(decode_message("").is_err());
    assert!(decode_message(&deep).is_err());
    // Still usable afterwards.
    let started = r#"{"method":"turn/started","params":{"threadId":"t","turn":{"id":"u"}}}"#;
    assert_eq!(agg.push_line(3, started).unwrap(), 1);
    assert_eq!(agg.logical_turn_id().as_deref(), Some("u"));
}

#[wasm_bindgen_test]
fn protocol_helpers() {
    let line = encode_request("5", "thread/read", None).unwrap();
    assert_eq!(line, r#"{"id":5,"method":"thread/read"}"#);
    assert!(encode_request("[1]", "x", None).is_err());
    let decoded: Value = serde_json::from_str(&decode_message(&line).unwrap()).unwrap();
    assert_eq!(decoded["kind"], "request");
    assert_eq!(
        active_turn_id_from_error("expected active turn id a but found b").as_deref(),
        Some("b")
    );
    assert!(active_turn_id_from_error("nothing here").is_none());
}
