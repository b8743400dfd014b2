//! Shared by the engine's integration tests: the transcripts recorded from the real app-server.

use codex_sdk_protocol::thread_id_of;
use serde_json::Value;

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
