//! A batch split for a consumer that builds the hot notifications itself (the Node binding): the
//! deltas' decoded texts joined into one string, a table of numbers per line saying where each
//! field is, the ids each once, and the other lines as the JSON array text they always cross as.
//! Building a delta from a slice and an interned id costs a fraction of parsing its line, and
//! deltas are most of a busy stream (BENCHMARKS.md).

use crate::stream::{Batch, SEPARATOR};
use codex_sdk_protocol::hot;
use rustc_hash::FxHashMap;

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
        let mut s = Splitter::default();
        s.out.layout.reserve(self.len() * STRIDE);
        self.lines().for_each(|line| s.line(line));
        s.finish()
    }
}

/// A [`SplitBatch`] built a line at a time.
#[derive(Debug, Default)]
struct Splitter {
    out: SplitBatch,
    /// The length of `out.text` in UTF-16 units.
    utf16: usize,
    /// Ids by number: a stream's deltas carry the same few.
    index: FxHashMap<Box<str>, usize>,
    /// The number of each line's thread, turn and item id on the line before: most often the
    /// same again, found by one compare before any hashing.
    last: [Option<usize>; 3],
}

impl Splitter {
    fn line(&mut self, line: &str) {
        let Some(hot::HotLine { shape: h, delta }) = hot::scan(line) else {
            let cold = &mut self.out.cold;
            cold.push_str(if cold.is_empty() { "[" } else { SEPARATOR });
            cold.push_str(line);
            self.out.layout.extend([0.0; STRIDE]);
            return;
        };
        let start = self.utf16;
        self.utf16 += if delta.is_ascii() {
            delta.len()
        } else {
            delta.encode_utf16().count()
        };
        self.out.text.push_str(&delta);
        let ids = [self.id(0, h.thread_id), self.id(1, h.turn_id), self.id(2, h.item_id)];
        self.out.layout.extend([
            (h.method + 1) as f64,
            ids[0],
            ids[1],
            ids[2],
            start as f64,
            self.utf16 as f64,
            h.index.map_or(-1.0, f64::from),
            h.emitted_at_ms.map_or(-1.0, |ms| ms as f64),
        ]);
    }

    /// The number of `id`, the `slot`th id of its line (thread, turn, item).
    fn id(&mut self, slot: usize, id: &str) -> f64 {
        let ids = &mut self.out.ids;
        let n = match self.last[slot] {
            Some(n) if ids[n] == id => n,
            _ => *self.index.entry(id.into()).or_insert_with(|| {
                ids.push(id.to_owned());
                ids.len() - 1
            }),
        };
        self.last[slot] = Some(n);
        n as f64
    }

    fn finish(mut self) -> SplitBatch {
        if !self.out.cold.is_empty() {
            self.out.cold.push(']');
        }
        self.out
    }
}
