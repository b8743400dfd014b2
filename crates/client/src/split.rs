//! A batch split for a consumer that builds the hot notifications itself (the Node binding): the
//! deltas' decoded texts joined into one string, a table of numbers per line saying where each
//! field is, the ids each once, and the other lines as the JSON array text they always cross as.
//! Building a delta from a slice and an interned id costs a fraction of parsing its line, and
//! deltas are most of a busy stream (BENCHMARKS.md).

use crate::stream::{Batch, SEPARATOR};
use codex_sdk_protocol::hot;
use std::collections::HashMap;

/// Numbers per line in [`SplitBatch::layout`]: `[kind, thread, turn, item, start, end, index,
/// emittedAtMs]`. `kind` 0 is the next line of `cold`; otherwise `kind - 1` indexes
/// [`hot::HOT_METHODS`], the ids index `ids`, `start..end` is the delta in `text` (UTF-16 units,
/// as JavaScript slices), and `index` and `emittedAtMs` are -1 when the line has none.
pub const STRIDE: usize = 8;

#[derive(Debug, Default)]
pub struct SplitBatch {
    /// The lines that are not hot, as a JSON array text (`[l\n,l]`); empty when there are none.
    pub cold: String,
    pub text: String,
    pub layout: Vec<f64>,
    pub ids: Vec<String>,
}

impl Batch {
    pub fn split(&self) -> SplitBatch {
        let mut out = SplitBatch {
            layout: Vec::with_capacity(self.len() * STRIDE),
            ..SplitBatch::default()
        };
        let mut ids = Ids::default();
        let mut utf16 = 0usize;
        for line in self.lines() {
            let Some(h) = hot::scan(line) else {
                out.cold.push_str(if out.cold.is_empty() { "[" } else { SEPARATOR });
                out.cold.push_str(line);
                out.layout.extend([0.0; STRIDE]);
                continue;
            };
            let (start, delta) = (utf16, &h.delta);
            utf16 += if delta.is_ascii() {
                delta.len()
            } else {
                delta.encode_utf16().count()
            };
            out.text.push_str(delta);
            out.layout.extend([
                (h.method + 1) as f64,
                ids.of(h.thread_id, &mut out.ids),
                ids.of(h.turn_id, &mut out.ids),
                ids.of(h.item_id, &mut out.ids),
                start as f64,
                utf16 as f64,
                h.index.map_or(-1.0, f64::from),
                h.emitted_at_ms.map_or(-1.0, |ms| ms as f64),
            ]);
        }
        if !out.cold.is_empty() {
            out.cold.push(']');
        }
        out
    }
}

/// Ids interned per batch: a stream's deltas carry the same few.
#[derive(Default)]
struct Ids<'a> {
    index: HashMap<&'a str, f64>,
}

impl<'a> Ids<'a> {
    fn of(&mut self, id: &'a str, ids: &mut Vec<String>) -> f64 {
        *self.index.entry(id).or_insert_with(|| {
            ids.push(id.to_owned());
            (ids.len() - 1) as f64
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::stream::channel;

    #[tokio::test]
    async fn hot_lines_become_fields_and_the_rest_stays_json() {
        let (tx, s) = channel(usize::MAX);
        let delta = |d: &str| {
            format!(
                r#"{{"method":"item/agentMessage/delta","params":{{"threadId":"th","turnId":"tu","itemId":"m","delta":"{d}"}}}}"#
            )
        };
        tx.send_line(r#"{"method":"turn/started","params":{}}"#).unwrap();
        tx.send_line(&delta("é😀")).unwrap();
        tx.send_line(&delta("x")).unwrap();
        let batch = s.next_batch(10).await.unwrap().unwrap().split();
        assert_eq!(batch.cold, r#"[{"method":"turn/started","params":{}}]"#);
        assert_eq!(batch.text, "é😀x");
        assert_eq!(batch.ids, ["th", "tu", "m"]);
        assert_eq!(batch.layout[..8], [0.0; 8]);
        assert_eq!(
            batch.layout[8..],
            [1.0, 0.0, 1.0, 2.0, 0.0, 3.0, -1.0, -1.0, 1.0, 0.0, 1.0, 2.0, 3.0, 4.0, -1.0, -1.0]
        );
    }
}
