//! The wasm binding's own tests, run in Node by wasm-bindgen-test-runner: the engine compiled to
//! wasm32 gives the same answers through the raw string exports.
#![cfg(target_arch = "wasm32")]

use codex_sdk_wasm::{active_turn_id_from_error, decode_message, encode_request, RawAggregator};
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

#[wasm_bindgen_test]
fn a_goal_transcript_aggregates_to_one_logical_turn() {
    let mut agg = RawAggregator::goal(&first(FIXTURE, "/params/threadId"));
    assert!(agg.result().is_err(), "no result before the end");
    let mut events = 0;
    for line in FIXTURE.lines() {
        let out: Vec<Value> = serde_json::from_str(&agg.push(line).unwrap()).unwrap();
        events += out.len();
    }
    assert!(agg.done());
    assert!(events > 2);
    let result: Value = serde_json::from_str(&agg.result().unwrap()).unwrap();
    assert_eq!(result["status"], "completed");
    assert_eq!(result["turnIds"].as_array().unwrap().len(), 2);
    assert_eq!(
        agg.logical_turn_id().as_ref(),
        result["turnIds"][0].as_str().map(str::to_owned).as_ref()
    );
    assert!(agg.current_turn_id().is_none());
}

#[wasm_bindgen_test]
fn a_plain_transcript_aggregates() {
    let mut agg = RawAggregator::turn(&first(PLAIN, "/params/threadId"), &first(PLAIN, "/params/turn/id"));
    for line in PLAIN.lines() {
        agg.push(line).unwrap();
    }
    assert!(agg.done());
    let result: Value = serde_json::from_str(&agg.result().unwrap()).unwrap();
    assert_eq!(result["finalResponse"], "Plain answer.");
}

#[wasm_bindgen_test]
fn malformed_and_hostile_input_is_an_error_not_a_trap() {
    let mut agg = RawAggregator::goal("t");
    assert!(agg.push("{oops").is_err());
    assert!(agg.push("3").is_err());
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    assert!(agg.push(&format!(r#"{{"method":"m","params":{deep}}}"#)).is_err());
    assert!(decode_message("").is_err());
    assert!(decode_message(&deep).is_err());
    // Still usable afterwards.
    assert!(agg
        .push(r#"{"method":"turn/started","params":{"threadId":"t","turn":{"id":"u"}}}"#)
        .is_ok());
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
