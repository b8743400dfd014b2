//! Event streams handed to the embedder: raw lines, pulled in batches so that a consumer crosses
//! into the client once per batch rather than once per notification.
//!
//! Memory policy for a consumer slower than the app-server: nothing changes until the backlog
//! reaches the stream's `merge_after` notifications (`mergeDeltasAfter`, default
//! [`MERGE_DELTAS_AFTER`]); past it, consecutive `item/agentMessage/delta`s of one item are merged
//! into one delta carrying their concatenated text. The backlog then grows
//! with the text (which the turn's result keeps anyway), not with the number of notifications,
//! and no notification's content is lost. The reader is never paused: pausing it would also hold
//! back responses, such as the answer to an `interrupt()` meant to stop the flood.

use crate::error::ClientError;
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

pub type StreamItem = Result<Arc<str>, ClientError>;

/// Notifications held for a consumer before deltas start to be merged, unless configured.
pub const MERGE_DELTAS_AFTER: usize = 8192;

const DELTA: &str = "item/agentMessage/delta";

enum Entry {
    Line(Arc<str>),
    Error(ClientError),
    /// Merged deltas of one item: the first one's params, and all their text.
    Delta {
        item_id: String,
        params: Value,
        text: String,
    },
}

/// What merging reads of a line, borrowed: its method, and a delta's item and text.
#[derive(Deserialize)]
struct DeltaLine<'a> {
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(borrow)]
    params: DeltaParams<'a>,
}

#[derive(Deserialize)]
struct DeltaParams<'a> {
    #[serde(borrow, rename = "itemId")]
    item_id: Cow<'a, str>,
    #[serde(borrow)]
    delta: Cow<'a, str>,
}

#[derive(Default)]
struct Queue {
    entries: VecDeque<Entry>,
    /// The sender is gone: once drained, the stream has ended.
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    /// The backlog past which deltas merge (`usize::MAX`: never).
    merge_after: usize,
    wake: Notify,
    /// The receiver is gone or discarded: sending fails, so senders can forget the stream.
    discarded: AtomicBool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub fn channel(merge_after: usize) -> (Sender, EventStream) {
    let shared = Arc::new(Shared {
        queue: Mutex::default(),
        merge_after,
        wake: Notify::new(),
        discarded: AtomicBool::new(false),
    });
    (
        Sender { shared: shared.clone() },
        EventStream {
            shared,
            reading: tokio::sync::Mutex::new(()),
        },
    )
}

/// The producing end: one per stream. Dropping it ends the stream once drained.
pub struct Sender {
    shared: Arc<Shared>,
}

/// The stream was discarded by its reader.
#[derive(Debug)]
pub struct Discarded;

impl Sender {
    pub fn send(&self, item: StreamItem) -> Result<(), Discarded> {
        let entry = match item {
            Ok(line) => Entry::Line(line),
            Err(e) => Entry::Error(e),
        };
        self.with_queue(|q| q.entries.push_back(entry))
    }

    /// Sends a notification line, merging it into the previous one if the backlog is over its
    /// limit and both are deltas of the same item.
    pub fn send_line(&self, line: Arc<str>) -> Result<(), Discarded> {
        // One lock for the common case: under the limit, the line is queued as it is.
        let limit = self.shared.merge_after;
        let mut over_limit = None;
        self.with_queue(|q| {
            if q.entries.len() < limit {
                q.entries.push_back(Entry::Line(line));
            } else {
                over_limit = Some(line);
            }
        })?;
        let Some(line) = over_limit else { return Ok(()) };
        // Read outside the lock: the consumer is behind, and must not wait for our parsing.
        let delta = serde_json::from_str::<DeltaLine>(&line)
            .ok()
            .filter(|d| d.method == DELTA);
        let Some(delta) = delta else {
            return self.with_queue(|q| q.entries.push_back(Entry::Line(line)));
        };
        self.with_queue(|q| match q.entries.back_mut() {
            Some(Entry::Delta { item_id, text, .. }) if *item_id == delta.params.item_id => {
                text.push_str(&delta.params.delta);
            }
            _ => {
                // The first of a run: its params (less the text) stand for the merged delta.
                let mut params = serde_json::from_str::<Value>(&line)
                    .ok()
                    .and_then(|mut v| v.get_mut("params").map(Value::take))
                    .unwrap_or_default();
                if let Some(p) = params.as_object_mut() {
                    p.remove("delta");
                }
                let (item_id, text) = (delta.params.item_id.into_owned(), delta.params.delta.into_owned());
                q.entries.push_back(Entry::Delta { item_id, params, text });
            }
        })
    }

    /// The one way into the queue: refused once the reader discarded the stream, and the reader
    /// is woken after every change.
    fn with_queue(&self, change: impl FnOnce(&mut Queue)) -> Result<(), Discarded> {
        if self.shared.discarded.load(Ordering::Acquire) {
            return Err(Discarded);
        }
        change(&mut self.shared.lock());
        self.shared.wake.notify_one();
        Ok(())
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
    }
}

/// The consuming end.
pub struct EventStream {
    shared: Arc<Shared>,
    /// One reader at a time, so batches keep their order.
    reading: tokio::sync::Mutex<()>,
}

impl EventStream {
    /// Waits for at least one line and returns up to `max` of them; `None` once the stream ended
    /// or was discarded. An error is returned after the lines before it.
    pub async fn next_batch(&self, max: usize) -> Result<Option<Vec<Arc<str>>>, ClientError> {
        let _turn = self.reading.lock().await;
        loop {
            let woken = self.shared.wake.notified();
            if self.shared.discarded.load(Ordering::Acquire) {
                return Ok(None);
            }
            {
                let mut q = self.shared.lock();
                let mut batch = Vec::new();
                while batch.len() < max.max(1) {
                    match q.entries.pop_front() {
                        Some(Entry::Line(line)) => batch.push(line),
                        Some(Entry::Delta { mut params, text, .. }) => {
                            if let Some(p) = params.as_object_mut() {
                                p.insert("delta".into(), Value::String(text));
                            }
                            let line = serde_json::json!({"method": DELTA, "params": params}).to_string();
                            batch.push(Arc::from(line));
                        }
                        Some(Entry::Error(e)) if batch.is_empty() => return Err(e),
                        Some(Entry::Error(e)) => {
                            q.entries.push_front(Entry::Error(e));
                            break;
                        }
                        None => break,
                    }
                }
                if !batch.is_empty() {
                    return Ok(Some(batch));
                }
                if q.closed {
                    return Ok(None);
                }
            }
            woken.await;
        }
    }

    /// Drops whatever is buffered and everything still to come; a waiting reader ends at once.
    pub fn discard(&self) {
        self.shared.discarded.store(true, Ordering::Release);
        self.shared.lock().entries.clear();
        self.shared.wake.notify_waiters();
        self.shared.wake.notify_one();
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.discard();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::code;
    use serde_json::json;

    #[tokio::test]
    async fn batches_then_error_then_nothing() {
        let (tx, s) = channel(MERGE_DELTAS_AFTER);
        for i in 0..5 {
            tx.send(Ok(Arc::from(i.to_string()))).unwrap();
        }
        tx.send(Err(ClientError::new(code::TRANSPORT_CLOSED, "gone"))).unwrap();
        drop(tx);
        assert_eq!(s.next_batch(3).await.unwrap().unwrap().len(), 3);
        assert_eq!(s.next_batch(10).await.unwrap().unwrap().len(), 2);
        assert_eq!(s.next_batch(10).await.unwrap_err().code, code::TRANSPORT_CLOSED);
        assert!(s.next_batch(10).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn discard_ends_a_reader_that_is_waiting() {
        let (tx, s) = channel(MERGE_DELTAS_AFTER);
        let s = Arc::new(s);
        let reader = tokio::spawn({
            let s = s.clone();
            async move { s.next_batch(10).await }
        });
        tokio::task::yield_now().await;
        s.discard();
        let ended = tokio::time::timeout(std::time::Duration::from_secs(5), reader).await;
        assert!(ended.expect("the waiting reader ended").unwrap().unwrap().is_none());
        assert!(
            tx.send(Ok(Arc::from("late"))).is_err(),
            "a discarded stream refuses more"
        );
    }

    fn delta(item: &str, text: &str) -> Arc<str> {
        Arc::from(
            json!({"method": DELTA, "params": {"threadId": "t", "turnId": "u", "itemId": item, "delta": text}})
                .to_string(),
        )
    }

    #[tokio::test]
    async fn with_merging_off_every_delta_arrives_as_sent() {
        let (tx, s) = channel(usize::MAX);
        for i in 0..MERGE_DELTAS_AFTER * 2 {
            tx.send_line(delta("a", &i.to_string())).unwrap();
        }
        drop(tx);
        let mut n = 0;
        while let Some(batch) = s.next_batch(1000).await.unwrap() {
            n += batch.len();
        }
        assert_eq!(n, MERGE_DELTAS_AFTER * 2);
    }

    #[tokio::test]
    async fn past_the_backlog_limit_deltas_of_one_item_merge_and_lose_nothing() {
        let (tx, s) = channel(MERGE_DELTAS_AFTER);
        let mut expected = String::new();
        for i in 0..MERGE_DELTAS_AFTER + 1000 {
            let text = format!("{i},");
            expected.push_str(&text);
            tx.send_line(delta("a", &text)).unwrap();
        }
        tx.send_line(Arc::from(r#"{"method":"item/completed","params":{}}"#))
            .unwrap();
        tx.send_line(delta("b", "x")).unwrap();
        drop(tx);
        let mut lines = Vec::new();
        while let Some(batch) = s.next_batch(1000).await.unwrap() {
            lines.extend(batch);
        }
        assert_eq!(
            lines.len(),
            MERGE_DELTAS_AFTER + 3,
            "the backlog stopped growing by notification"
        );
        let parsed: Vec<Value> = lines.iter().map(|l| serde_json::from_str(l).unwrap()).collect();
        let text: String = parsed
            .iter()
            .filter(|v| v["params"]["itemId"] == "a")
            .map(|v| v["params"]["delta"].as_str().unwrap())
            .collect();
        assert_eq!(text, expected);
        assert_eq!(
            parsed[MERGE_DELTAS_AFTER + 1]["method"],
            "item/completed",
            "order is kept"
        );
        assert_eq!(parsed[MERGE_DELTAS_AFTER + 2]["params"]["delta"], "x");
    }
}
