//! The wasm binding's own tests, run in Node by wasm-bindgen-test-runner.
#![cfg(target_arch = "wasm32")]

use codex_sdk_wasm::{active_turn_id_from_error, decode_message, encode_request, GoalAggregator, TurnAggregator};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

const FIXTURE: &str = include_str!("../../engine/tests/fixtures/goal-complete-after-continuation.jsonl");
const PLAIN: &str = include_str!("../../engine/tests/fixtures/plain-turn.jsonl");

fn thread_id(fixture: &str) -> String {
    fixture
        .lines()
        .find_map(|l| {
            serde_json::from_str::<serde_json::Value>(l).ok()?["params"]["threadId"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap()
}

/// `v[key]`, read through serde (the crate has no js-sys dependency to do it directly).
fn field(v: &JsValue, key: &str) -> JsValue {
    let obj: serde_json::Value = serde_wasm_bindgen::from_value(v.clone()).unwrap();
    serde_wasm_bindgen::to_value(&obj[key]).unwrap()
}

#[wasm_bindgen_test]
fn a_goal_transcript_aggregates_to_one_logical_turn() {
    let mut agg = GoalAggregator::new(&thread_id(FIXTURE));
    assert!(agg.result().is_err(), "no result before the end");
    let mut events = 0;
    for line in FIXTURE.lines() {
        let out: Vec<serde_json::Value> =
            serde_wasm_bindgen::from_value(agg.push(JsValue::from_str(line)).unwrap()).unwrap();
        events += out.len();
    }
    assert!(agg.done());
    assert!(events > 2);
    let result = agg.result().unwrap();
    assert_eq!(field(&result, "status").as_string().as_deref(), Some("completed"));
    let ids: Vec<String> = serde_wasm_bindgen::from_value(field(&result, "turnIds")).unwrap();
    assert_eq!(ids.len(), 2);
    assert_eq!(agg.logical_turn_id().as_string(), Some(ids[0].clone()));
    assert!(agg.current_turn_id().is_null());
}

#[wasm_bindgen_test]
fn a_plain_transcript_aggregates() {
    let first_turn = PLAIN
        .lines()
        .find_map(|l| {
            serde_json::from_str::<serde_json::Value>(l).ok()?["params"]["turn"]["id"]
                .as_str()
                .map(str::to_owned)
        })
        .unwrap();
    let mut agg = TurnAggregator::new(&thread_id(PLAIN), &first_turn);
    for line in PLAIN.lines() {
        agg.push(JsValue::from_str(line)).unwrap();
    }
    assert!(agg.done());
    assert_eq!(
        field(&agg.result().unwrap(), "finalResponse").as_string().as_deref(),
        Some("Plain answer.")
    );
}

#[wasm_bindgen_test]
fn malformed_input_is_an_error() {
    let mut agg = GoalAggregator::new("t");
    assert!(agg.push(JsValue::from_str("{oops")).is_err());
    assert!(agg.push(JsValue::from_f64(3.0)).is_err());
    assert!(decode_message("").is_err());
}

#[wasm_bindgen_test]
fn protocol_helpers() {
    let line = encode_request(JsValue::from_f64(5.0), "thread/read", JsValue::NULL).unwrap();
    assert_eq!(line, r#"{"id":5,"method":"thread/read"}"#);
    let decoded = decode_message(&line).unwrap();
    assert_eq!(field(&decoded, "kind").as_string().as_deref(), Some("request"));
    assert_eq!(
        active_turn_id_from_error("expected active turn id a but found b")
            .as_string()
            .as_deref(),
        Some("b")
    );
    assert!(active_turn_id_from_error("nothing here").is_null());
}
