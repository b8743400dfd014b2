//! The table of requests awaiting their response, keyed by id.

use crate::error::ClientError;
use codex_sdk_protocol::RequestId;
use serde_json::Value;
use std::collections::HashMap;
use tokio::sync::oneshot;

pub type Reply = Result<Value, ClientError>;

#[derive(Default)]
pub struct Pending {
    next_id: i64,
    waiting: HashMap<RequestId, (String, oneshot::Sender<Reply>)>,
}

impl Pending {
    pub fn insert(&mut self, method: &str) -> (RequestId, oneshot::Receiver<Reply>) {
        self.next_id += 1;
        let id = RequestId::Int(self.next_id);
        let (tx, rx) = oneshot::channel();
        self.waiting.insert(id.clone(), (method.to_owned(), tx));
        (id, rx)
    }

    /// Settles the request with this id. Returns false for an id nobody waits for (a duplicate
    /// or unknown response), which the caller reports and otherwise ignores.
    pub fn settle(&mut self, id: &RequestId, reply: impl FnOnce(&str) -> Reply) -> bool {
        match self.waiting.remove(id) {
            Some((method, tx)) => {
                let _ = tx.send(reply(&method));
                true
            }
            None => false,
        }
    }

    pub fn forget(&mut self, id: &RequestId) {
        self.waiting.remove(id);
    }

    pub fn fail_all(&mut self, error: &ClientError) {
        for (_, (method, tx)) in self.waiting.drain() {
            let mut e = error.clone();
            e.details.method = Some(method);
            let _ = tx.send(Err(e));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn settles_by_id_and_ignores_strangers() {
        let mut p = Pending::default();
        let (a, mut ra) = p.insert("x");
        let (b, mut rb) = p.insert("y");
        assert_ne!(a, b);
        assert!(p.settle(&b, |m| Ok(json!(m))));
        assert!(!p.settle(&b, |_| Ok(json!(null))), "a duplicate response finds nobody");
        assert!(!p.settle(&RequestId::Str("zz".into()), |_| Ok(json!(null))));
        assert_eq!(rb.try_recv().unwrap().unwrap(), json!("y"));
        p.fail_all(&ClientError::new(crate::error::code::TRANSPORT_CLOSED, "gone"));
        let e = ra.try_recv().unwrap().unwrap_err();
        assert_eq!(
            (e.code, e.details.method.as_deref()),
            ("ERR_TRANSPORT_CLOSED", Some("x"))
        );
    }
}
