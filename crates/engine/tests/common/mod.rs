//! Shared by the engine's integration tests: the transcripts recorded from the real app-server,
//! and a driver that feeds them through the same path the client takes (a line, its headline, an
//! event) and applies the engine's decisions.
#![allow(dead_code)]

use codex_sdk_engine::{Aggregator, Emit, Event};
use codex_sdk_protocol::{thread_id_of, Headline};
use serde_json::{json, Value};

/// A recorded transcript, as (method, params) in arrival order.
pub fn load(name: &str) -> Vec<(String, Value)> {
    let path = format!("{}/tests/fixtures/{name}.jsonl", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["method"].as_str().unwrap().to_owned(), v["params"].clone())
        })
        .collect()
}

/// The thread a transcript belongs to.
pub fn thread_of(events: &[(String, Value)]) -> String {
    events
        .iter()
        .find_map(|(_, p)| thread_id_of(p).map(str::to_owned))
        .unwrap()
}

/// Feeds one notification; returns the logical notifications it yields, decisions applied.
pub fn push(agg: &mut Aggregator<usize>, events: &[(String, Value)], i: usize) -> Vec<(String, Value)> {
    let (method, params) = &events[i];
    let line = json!({"method": method, "params": params}).to_string();
    let head = Headline::peek(&line).unwrap();
    let mut out = Vec::new();
    agg.push(Event::from_headline(&head).unwrap(), i, &mut out);
    let logical = agg.logical_turn_id().unwrap_or_default().to_owned();
    out.into_iter()
        .map(|e| match e {
            Emit::Pass(j) => events[j].clone(),
            Emit::Relabel(j) => {
                let (m, mut p) = events[j].clone();
                p["turnId"] = Value::String(logical.clone());
                (m, p)
            }
            Emit::Completed(c) => ("turn/completed".to_owned(), serde_json::to_value(c).unwrap()),
            Emit::Made(n) => (n.method.to_owned(), n.params),
        })
        .collect()
}

/// Feeds a whole transcript; returns the logical stream.
pub fn feed(agg: &mut Aggregator<usize>, events: &[(String, Value)]) -> Vec<(String, Value)> {
    (0..events.len()).flat_map(|i| push(agg, events, i)).collect()
}
