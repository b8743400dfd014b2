use crate::accumulator::Accumulator;
use crate::result::TurnResult;
use crate::Emit;
use codex_sdk_protocol::{server_notification as m, thread_id_of, turn_id_of};
use serde_json::Value;

/// Follows one plain turn of one thread: fed every notification of that thread, it passes on those
/// of its turn (from `turn/started` to `turn/completed`) and aggregates them.
///
/// The turn id may be unknown at first: `turn/started` can arrive before the `turn/start`
/// response. Until then, notifications that carry a turn id are held back, and replayed once the
/// id is known (from the response, or from the first `turn/started`).
#[derive(Debug)]
pub struct TurnAggregator<P> {
    thread_id: String,
    turn_id: Option<String>,
    held: Vec<(String, Value, P)>,
    acc: Accumulator,
    interrupt_requested: bool,
    done: bool,
}

impl<P> TurnAggregator<P> {
    pub fn new(thread_id: impl Into<String>, turn_id: Option<String>) -> Self {
        Self {
            thread_id: thread_id.into(),
            turn_id,
            held: Vec::new(),
            acc: Accumulator::default(),
            interrupt_requested: false,
            done: false,
        }
    }

    pub fn thread_id(&self) -> &str {
        &self.thread_id
    }

    pub fn turn_id(&self) -> Option<&str> {
        self.turn_id.as_deref()
    }

    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Fixes the turn id (from the `turn/start` response) and releases what was held for it.
    pub fn set_turn_id(&mut self, id: &str) -> Vec<Emit<P>> {
        if self.turn_id.is_some() {
            return Vec::new();
        }
        self.turn_id = Some(id.to_owned());
        let mut out = Vec::new();
        for (method, params, payload) in std::mem::take(&mut self.held) {
            self.accept(&method, &params, payload, &mut out);
        }
        out
    }

    /// Whether the caller asked for an interrupt (and the server took it): the turn then counts as
    /// interrupted however it ends.
    pub fn set_interrupt_requested(&mut self, requested: bool) {
        self.interrupt_requested = requested;
    }

    /// Takes a notification whose params the aggregator does not read (see
    /// [`reads_params`](crate::reads_params)), known only by its ids: the cheap path for deltas.
    /// Returns the payload when it belongs to this turn's stream.
    pub fn pass(&mut self, thread_id: Option<&str>, turn_id: Option<&str>, payload: P) -> Option<P> {
        let ours = !self.done
            && thread_id.is_none_or(|t| t == self.thread_id)
            && turn_id.is_some()
            && turn_id == self.turn_id.as_deref();
        ours.then_some(payload)
    }

    /// Takes the next notification of the thread, in arrival order.
    pub fn push(&mut self, method: &str, params: &Value, payload: P) -> Vec<Emit<P>> {
        let mut out = Vec::new();
        if self.done || thread_id_of(params).is_some_and(|t| t != self.thread_id) {
            return out;
        }
        let Some(turn) = turn_id_of(params) else { return out };
        match &self.turn_id {
            Some(_) => self.accept(method, params, payload, &mut out),
            None if method == m::TURN_STARTED => {
                let turn = turn.to_owned();
                out = self.set_turn_id(&turn);
                self.accept(method, params, payload, &mut out);
            }
            None => self.held.push((method.to_owned(), params.clone(), payload)),
        }
        out
    }

    fn accept(&mut self, method: &str, params: &Value, payload: P, out: &mut Vec<Emit<P>>) {
        if self.done || turn_id_of(params) != self.turn_id.as_deref() {
            return;
        }
        self.acc.observe(method, params);
        out.push(Emit::Original(payload));
        if method == m::TURN_COMPLETED {
            self.done = true;
            self.held.clear();
        }
    }

    /// The aggregated result; meaningful once [`is_done`](Self::is_done).
    pub fn result(&self) -> TurnResult {
        let id = self.turn_id.as_deref().unwrap_or_default();
        self.acc.result(id, &self.thread_id, self.interrupt_requested)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TurnResultStatus;
    use serde_json::json;

    fn n(method: &str, params: Value) -> (String, Value) {
        (method.to_owned(), params)
    }

    fn turn(id: &str, status: &str) -> Value {
        json!({"id": id, "status": status, "items": [], "error": null, "startedAt": 100, "completedAt": 103, "durationMs": 2500})
    }

    fn usage(total: i64) -> Value {
        let b = json!({"totalTokens": total, "inputTokens": total - 1, "cachedInputTokens": 0, "outputTokens": 1, "reasoningOutputTokens": 0});
        json!({"total": b, "last": b})
    }

    fn plain_turn() -> Vec<(String, Value)> {
        vec![
            n(
                "thread/status/changed",
                json!({"threadId": "th", "status": {"type": "active"}}),
            ),
            n(
                "turn/started",
                json!({"threadId": "th", "turn": turn("t1", "inProgress")}),
            ),
            n(
                "item/completed",
                json!({"threadId": "th", "turnId": "t1", "item": {"type": "userMessage", "id": "u"}}),
            ),
            n(
                "item/agentMessage/delta",
                json!({"threadId": "th", "turnId": "t1", "itemId": "a", "delta": "hi"}),
            ),
            n(
                "item/completed",
                json!({"threadId": "th", "turnId": "t1", "item": {"type": "agentMessage", "id": "a", "text": "commentary", "phase": "commentary"}}),
            ),
            n(
                "item/completed",
                json!({"threadId": "th", "turnId": "t1", "item": {"type": "agentMessage", "id": "b", "text": "answer", "phase": null}}),
            ),
            n(
                "thread/tokenUsage/updated",
                json!({"threadId": "th", "turnId": "t1", "tokenUsage": usage(10)}),
            ),
            n(
                "thread/tokenUsage/updated",
                json!({"threadId": "th", "turnId": "t1", "tokenUsage": usage(5)}),
            ),
            n(
                "item/completed",
                json!({"threadId": "other", "turnId": "t9", "item": {"type": "agentMessage", "id": "z"}}),
            ),
            n(
                "thread/status/changed",
                json!({"threadId": "th", "status": {"type": "idle"}}),
            ),
            n(
                "turn/completed",
                json!({"threadId": "th", "turn": turn("t1", "completed")}),
            ),
            n(
                "item/completed",
                json!({"threadId": "th", "turnId": "t1", "item": {"type": "late"}}),
            ),
        ]
    }

    fn run(agg: &mut TurnAggregator<usize>, events: &[(String, Value)]) -> Vec<usize> {
        let mut seen = Vec::new();
        for (i, (method, params)) in events.iter().enumerate() {
            for e in agg.push(method, params, i) {
                match e {
                    Emit::Original(p) => seen.push(p),
                    Emit::Rewritten { .. } => panic!("plain turns pass notifications on as they are"),
                }
            }
        }
        seen
    }

    #[test]
    fn streams_its_turn_and_aggregates_it() {
        let mut agg = TurnAggregator::new("th", Some("t1".into()));
        let seen = run(&mut agg, &plain_turn());
        assert_eq!(seen, vec![1, 2, 3, 4, 5, 6, 7, 10]);
        assert!(agg.is_done());
        let r = agg.result();
        assert_eq!(r.status, TurnResultStatus::Completed);
        assert_eq!(r.id, "t1");
        assert_eq!(r.items.len(), 3);
        assert_eq!(r.final_response.as_deref(), Some("answer"));
        assert_eq!(r.usage.as_ref().map(|u| u.total_tokens), Some(15));
        assert_eq!(
            (r.started_at, r.completed_at, r.duration_ms),
            (Some(100), Some(103), Some(2500))
        );
        assert_eq!(r.turn_ids, vec!["t1".to_owned()]);
    }

    #[test]
    fn holds_events_until_the_turn_id_is_known() {
        let events = plain_turn();
        let mut agg = TurnAggregator::new("th", None);
        // Deliver the item before turn/started, as if the response and the stream raced.
        let early = agg.push(&events[2].0, &events[2].1, 2);
        assert!(early.is_empty());
        let released = agg.set_turn_id("t1");
        assert_eq!(released, vec![Emit::Original(2)]);
        assert_eq!(agg.result().items.len(), 1);
    }

    #[test]
    fn turn_started_fixes_the_id_when_it_comes_first() {
        let mut agg = TurnAggregator::new("th", None);
        let seen = run(&mut agg, &plain_turn());
        assert_eq!(seen, vec![1, 2, 3, 4, 5, 6, 7, 10]);
        assert_eq!(agg.turn_id(), Some("t1"));
        assert!(agg.set_turn_id("t1").is_empty());
    }

    #[test]
    fn pass_forwards_only_this_turns_notifications() {
        let mut agg = TurnAggregator::new("th", Some("t1".into()));
        assert_eq!(agg.pass(Some("th"), Some("t1"), 1), Some(1));
        assert_eq!(agg.pass(Some("th"), Some("t2"), 2), None);
        assert_eq!(agg.pass(Some("other"), Some("t1"), 3), None);
        assert_eq!(agg.pass(Some("th"), None, 4), None);
        agg.push(
            "turn/completed",
            &json!({"threadId": "th", "turn": turn("t1", "completed")}),
            5,
        );
        assert_eq!(agg.pass(Some("th"), Some("t1"), 6), None, "nothing after the end");
        let mut unknown = TurnAggregator::new("th", None);
        assert_eq!(
            unknown.pass(Some("th"), Some("t1"), 7),
            None,
            "before the id is known, deltas need push() to be held"
        );
    }

    #[test]
    fn failure_and_interrupt_set_the_status() {
        let mut agg = TurnAggregator::<()>::new("th", Some("t1".into()));
        let mut failed = turn("t1", "failed");
        failed["error"] = json!({"message": "boom", "codexErrorInfo": null});
        agg.push("turn/completed", &json!({"threadId": "th", "turn": failed}), ());
        let r = agg.result();
        assert_eq!(r.status, TurnResultStatus::Failed);
        assert_eq!(r.error.unwrap().message, "boom");

        let mut agg = TurnAggregator::<()>::new("th", Some("t1".into()));
        agg.set_interrupt_requested(true);
        agg.push(
            "turn/completed",
            &json!({"threadId": "th", "turn": turn("t1", "completed")}),
            (),
        );
        assert_eq!(agg.result().status, TurnResultStatus::Interrupted);
    }

    #[test]
    fn final_response_prefers_final_answer_phase() {
        let mut agg = TurnAggregator::<()>::new("th", Some("t".into()));
        for (text, phase) in [
            ("fa", json!("final_answer")),
            ("none", Value::Null),
            ("c", json!("commentary")),
        ] {
            agg.push(
                "item/completed",
                &json!({"threadId": "th", "turnId": "t", "item": {"type": "agentMessage", "text": text, "phase": phase}}),
                (),
            );
        }
        assert_eq!(agg.result().final_response.as_deref(), Some("fa"));
    }
}
