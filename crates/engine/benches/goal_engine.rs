//! The goal engine natively: events per second over a long goal transcript built from a recorded
//! one (the same input `npm run bench` gives the wasm build and the plain JS engine), on events
//! already parsed and on raw lines. Run by `npm run bench`, which prints the figures beside the
//! plain JS engine's.

use codex_sdk_engine::{Aggregator, Event, LineAggregator};
use codex_sdk_protocol::Headline;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
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
    let lines: Vec<String> = long_transcript(2_000)
        .into_iter()
        .map(|(method, params)| serde_json::json!({"method": method, "params": params}).to_string())
        .collect();
    let heads: Vec<Headline> = lines.iter().map(|l| Headline::peek(l).unwrap()).collect();
    let thread = heads.iter().find_map(|h| h.thread_id().map(str::to_owned)).unwrap();
    let mut group = c.benchmark_group("goal_engine");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.sample_size(20);
    // The engine's decisions on input already parsed into events (their bodies included).
    group.bench_function("events", |b| {
        b.iter_batched(
            || {
                heads
                    .iter()
                    .map(|h| Event::from_headline(h).unwrap())
                    .collect::<Vec<_>>()
            },
            |events| {
                let mut engine = Aggregator::goal(&thread);
                let mut out = Vec::with_capacity(8);
                let mut emitted = 0;
                for (i, event) in events.into_iter().enumerate() {
                    engine.push(event, i, &mut out);
                    emitted += out.len();
                    out.clear();
                }
                assert!(engine.is_done());
                // Returned, so criterion drops what the run gathered outside the timing.
                (engine, emitted)
            },
            BatchSize::LargeInput,
        )
    });
    // The whole native path per raw line: headline, event, decision, relabel splice.
    group.bench_function("lines", |b| {
        b.iter(|| {
            let mut agg = LineAggregator::goal(&thread);
            let mut emitted = 0;
            for l in &lines {
                emitted += agg.push(l).unwrap().len();
            }
            assert!(agg.is_done());
            emitted
        })
    });
    group.finish();
}

/// What a run pays per delta before any engine sees it: the headline scan of the line the flood
/// benchmark sends (`bench/flood-server.mjs`), over a batch of distinct lines.
fn headline(c: &mut Criterion) {
    let lines: Vec<String> = (0..10_000)
        .map(|i| {
            serde_json::json!({"method": "item/agentMessage/delta", "params": {
                "threadId": "019a0000-0000-7000-8000-000000000001", "turnId": "019a0000-0000-7000-8000-000000000002",
                "itemId": "msg_1", "delta": format!("token {i} ")}})
            .to_string()
        })
        .collect();
    let mut group = c.benchmark_group("headline");
    group.throughput(Throughput::Elements(lines.len() as u64));
    group.bench_function("delta", |b| {
        b.iter(|| {
            lines
                .iter()
                .filter(|l| Headline::scan(l).is_some_and(|h| h.thread_id().is_some()))
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench, headline);
criterion_main!(benches);
