//! Event streams handed to the embedder: raw lines, pulled in batches so that a consumer crosses
//! into the client once per batch rather than once per notification.

use crate::error::ClientError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, Mutex, Notify};

pub type StreamItem = Result<Arc<str>, ClientError>;

pub fn channel() -> (mpsc::UnboundedSender<StreamItem>, EventStream) {
    let (tx, rx) = mpsc::unbounded_channel();
    let stream = EventStream {
        inner: Mutex::new(Receiver { rx, deferred: None }),
        discarded: AtomicBool::new(false),
        wake: Notify::new(),
    };
    (tx, stream)
}

pub struct EventStream {
    inner: Mutex<Receiver>,
    /// Set by `discard`: a reader waiting right now must end too, not wait for a line that may
    /// never come (it holds the receiver, so `discard` cannot drain it).
    discarded: AtomicBool,
    wake: Notify,
}

struct Receiver {
    rx: mpsc::UnboundedReceiver<StreamItem>,
    /// An error met while filling a batch: the lines before it go out first.
    deferred: Option<ClientError>,
}

impl EventStream {
    /// Waits for at least one line and returns up to `max` of them; `None` once the stream ended.
    pub async fn next_batch(&self, max: usize) -> Result<Option<Vec<Arc<str>>>, ClientError> {
        let woken = self.wake.notified();
        if self.discarded.load(Ordering::Acquire) {
            return Ok(None);
        }
        let mut r = self.inner.lock().await;
        if let Some(e) = r.deferred.take() {
            return Err(e);
        }
        let first = tokio::select! {
            item = r.rx.recv() => match item {
                None => return Ok(None),
                Some(item) => item?,
            },
            _ = woken => return Ok(None),
        };
        let mut batch = vec![first];
        while batch.len() < max.max(1) {
            match r.rx.try_recv() {
                Ok(Ok(line)) => batch.push(line),
                Ok(Err(e)) => {
                    r.deferred = Some(e);
                    break;
                }
                Err(_) => break,
            }
        }
        Ok(Some(batch))
    }

    /// Drops whatever is buffered and everything still to come.
    pub fn discard(&self) {
        self.discarded.store(true, Ordering::Release);
        self.wake.notify_waiters();
        if let Ok(mut r) = self.inner.try_lock() {
            r.rx.close();
            while r.rx.try_recv().is_ok() {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::code;

    #[tokio::test]
    async fn batches_then_error_then_nothing() {
        let (tx, s) = channel();
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
        let (_tx, s) = channel();
        let s = Arc::new(s);
        let reader = tokio::spawn({
            let s = s.clone();
            async move { s.next_batch(10).await }
        });
        tokio::task::yield_now().await;
        s.discard();
        let ended = tokio::time::timeout(std::time::Duration::from_secs(5), reader).await;
        assert!(ended.expect("the waiting reader ended").unwrap().unwrap().is_none());
    }
}
