//! The goal engine natively: events per second over a long goal transcript built from a recorded
//! one (the same input `npm run bench` gives the wasm build and the plain JS engine). Run by
//! `npm run bench`, which prints the result as a ratio against the plain JS engine.

use codex_sdk_engine::GoalEngine;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use serde_json::Value;

/// The recorded complete-after-continuation run with its first turn repeated `turns` times.
fn long_transcript(turns: usize) -> Vec<(String, Value)> {
    let path = format!(
        "{}/tests/fixtures/goal-complete-after-continuation.jsonl",
        env!("CARGO_MANIFEST_DIR")
    );
    let lines: Vec<Value> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, m)| m["method"] == "turn/started")
        .map(|(i, _)| i)
        .collect();
    let first_id = lines[starts[0]]["params"]["turn"]["id"].as_str().unwrap().to_owned();
    let mut out: Vec<Value> = lines[..starts[0]].to_vec();
    for t in 0..turns {
        for m in &lines[starts[0]..starts[1]] {
            let text = m.to_string().replace(&first_id, &format!("turn-{t}"));
            out.push(serde_json::from_str(&text).unwrap());
        }
    }
    out.extend_from_slice(&lines[starts[1]..]);
    out.into_iter()
        .map(|mut m| (m["method"].as_str().unwrap().to_owned(), m["params"].take()))
        .collect()
}

fn bench(c: &mut Criterion) {
    let events = long_transcript(2_000);
    let thread = events
        .iter()
        .find_map(|(_, p)| p["threadId"].as_str().map(str::to_owned))
        .unwrap();
    let mut group = c.benchmark_group("goal_engine");
    group.throughput(Throughput::Elements(events.len() as u64));
    group.sample_size(20);
    group.bench_function("push", |b| {
        b.iter(|| {
            let mut engine = GoalEngine::new(thread.as_str());
            let mut emitted = 0;
            for (i, (method, params)) in events.iter().enumerate() {
                emitted += engine.push(method, params, i).len();
            }
            assert!(engine.is_done());
            emitted
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
