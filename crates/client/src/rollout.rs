//! The usage the server recorded for each model response, in the thread's rollout file (the `path`
//! that `thread/resume` answers with, on the server's machine).
//!
//! The protocol reports usage as each response's own and the thread's running total after it;
//! differences of totals recover every response a gap hid, but not where a run began when its first
//! update was missed (a gap before its first model response ended, or a run attached to after it
//! began). The server's records can say: the thread's total before the run is the sum of the
//! records of the turns before it (the running total is that sum; a test pins it on the pinned
//! server). They are read only then, and only where the file is readable: a server on this machine,
//! run by this user. Elsewhere the run's usage covers what this client saw (docs/reliability.md).

use codex_sdk_protocol::TokenUsageBreakdown;
use serde::Deserialize;
use std::collections::HashSet;
use std::path::Path;

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "type")]
    kind: String,
    payload: Payload,
}

#[derive(Deserialize)]
struct Payload {
    turn_id: String,
    usage: Usage,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Usage {
    input_tokens: i64,
    cached_input_tokens: i64,
    cache_write_input_tokens: i64,
    output_tokens: i64,
    reasoning_output_tokens: i64,
    total_tokens: i64,
}

/// The thread's running total before the first of `run` (the run's turns and every later one):
/// the sum of the recorded responses of all other turns. `None` when the file cannot be read or is
/// not the thread's.
pub(crate) fn usage_before(path: &Path, thread_id: &str, run: &HashSet<String>) -> Option<TokenUsageBreakdown> {
    let name = path.file_name()?.to_str()?;
    if !name.contains(thread_id) {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let mut sum = Usage::default();
    for line in text.lines().filter(|l| l.contains("\"token_usage_record\"")) {
        let Ok(record) = serde_json::from_str::<Record>(line) else {
            continue;
        };
        if record.kind != "token_usage_record" || run.contains(&record.payload.turn_id) {
            continue;
        }
        let u = record.payload.usage;
        sum.input_tokens += u.input_tokens;
        sum.cached_input_tokens += u.cached_input_tokens;
        sum.cache_write_input_tokens += u.cache_write_input_tokens;
        sum.output_tokens += u.output_tokens;
        sum.reasoning_output_tokens += u.reasoning_output_tokens;
        sum.total_tokens += u.total_tokens;
    }
    Some(TokenUsageBreakdown {
        cache_write_input_tokens: Some(sum.cache_write_input_tokens),
        cached_input_tokens: sum.cached_input_tokens,
        input_tokens: sum.input_tokens,
        output_tokens: sum.output_tokens,
        reasoning_output_tokens: sum.reasoning_output_tokens,
        total_tokens: sum.total_tokens,
        extra: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_the_records_of_the_turns_before_the_run() {
        let dir = std::env::temp_dir().join(format!("codex-sdk-rollout-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rollout-2026-01-01T00-00-00-th1.jsonl");
        let record = |turn: &str, total: i64| {
            format!(
                r#"{{"type":"token_usage_record","payload":{{"turn_id":"{turn}","usage":{{"input_tokens":{},"cached_input_tokens":0,"output_tokens":5,"reasoning_output_tokens":0,"total_tokens":{total}}}}}}}"#,
                total - 5
            )
        };
        let lines = [
            r#"{"type":"session_meta","payload":{}}"#.to_owned(),
            record("plain", 50),
            r#"{"type":"event_msg","payload":{"type":"token_count","note":"token_usage_record"}}"#.to_owned(),
            record("g1", 100),
            record("g2", 200),
        ];
        std::fs::write(&path, lines.join("\n")).unwrap();
        let run: HashSet<String> = ["g1".to_owned(), "g2".to_owned()].into();
        let base = usage_before(&path, "th1", &run).unwrap();
        assert_eq!((base.total_tokens, base.input_tokens, base.output_tokens), (50, 45, 5));
        assert_eq!(usage_before(&path, "th1", &HashSet::new()).unwrap().total_tokens, 350);
        assert!(
            usage_before(&path, "other-thread", &run).is_none(),
            "not the thread's file"
        );
        assert!(usage_before(&dir.join("missing-th1.jsonl"), "th1", &run).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
