use crate::accumulator::Accumulator;
use crate::event::{Body, Event, Queued};
use crate::history::HistoryTurn;
use crate::result::TurnResult;
use crate::Emit;
use codex_sdk_protocol::{server_notification as m, TokenUsageBreakdown, TurnStatus};

/// Follows one plain turn of one thread: fed every notification of that thread, it passes on those
/// of its turn (from `turn/started` to `turn/completed`) and aggregates them.
///
/// The turn id may be unknown at first: `turn/started` can arrive before the `turn/start`
/// response. Until then, notifications that carry a turn id are held back, and released once the
/// id is known (from the response, or from the first `turn/started`).
#[derive(Debug)]
pub struct TurnAggregator<P> {
    thread_id: String,
    turn_id: Option<String>,
    held: Vec<(String, bool, Body, P)>,
    acc: Accumulator,
    interrupt_requested: bool,
    done: bool,
    /// Between a gap and the history that closes it: notifications wait here.
    queued: Option<Vec<Queued<P>>>,
    /// Its `turn/started` was passed on (a gap can hide it).
    announced: bool,
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
            queued: None,
            announced: false,
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
    pub fn set_turn_id(&mut self, id: &str, out: &mut Vec<Emit<P>>) {
        if self.turn_id.is_some() {
            return;
        }
        self.turn_id = Some(id.to_owned());
        for (turn, completed, body, payload) in std::mem::take(&mut self.held) {
            if turn == id {
                self.accept(completed, body, payload, out);
            }
        }
    }

    /// Whether the caller asked for an interrupt (and the server took it): the turn then counts as
    /// interrupted however it ends.
    pub fn set_interrupt_requested(&mut self, requested: bool) {
        self.interrupt_requested = requested;
    }

    /// Takes the next notification of the thread, in arrival order. Returns whether the engine
    /// kept the payload (held until the turn id is known).
    pub fn push(&mut self, event: Event<'_>, payload: P, out: &mut Vec<Emit<P>>) -> bool {
        if self.done || event.thread_id.is_some_and(|t| t != self.thread_id) {
            return false;
        }
        let Some(turn) = event.turn_id else { return false };
        if let Some(queued) = &mut self.queued {
            queued.push(Queued::new(event, payload));
            return true;
        }
        let completed = event.method == m::TURN_COMPLETED;
        match &self.turn_id {
            Some(id) if id == turn => self.accept(completed, event.body, payload, out),
            Some(_) => {}
            None if event.method == m::TURN_STARTED => {
                self.set_turn_id(turn, out);
                self.accept(completed, event.body, payload, out);
            }
            None => {
                self.held.push((turn.to_owned(), completed, event.body, payload));
                return true;
            }
        }
        false
    }

    fn accept(&mut self, completed: bool, body: Body, payload: P, out: &mut Vec<Emit<P>>) {
        let turn = self.turn_id.clone();
        if self.done || self.acc.is_repeat(turn.as_deref(), &body, completed) {
            return;
        }
        self.announced |= matches!(body, Body::Turn(_)) && !completed;
        self.acc.observe(turn.as_deref(), body, completed);
        out.push(Emit::Pass(payload));
        if completed {
            self.done = true;
            self.held.clear();
        }
    }

    /// The connection dropped: until [`reconcile`](Self::reconcile), what arrives waits.
    pub fn begin_sync(&mut self) {
        if !self.done && self.queued.is_none() {
            self.queued = Some(Vec::new());
            self.acc.gap();
        }
    }

    pub fn is_syncing(&self) -> bool {
        self.queued.is_some()
    }

    pub fn needs_usage_base(&self) -> bool {
        self.acc.needs_usage_base()
    }

    /// Ends a gap with the thread's history: the turn is what the history shows of it (the items
    /// the stream missed are passed on as `item/completed`, and a turn that ended meanwhile ends
    /// here), then what arrived during the gap is taken.
    pub fn reconcile(
        &mut self,
        history: &[HistoryTurn],
        usage_base: Option<&TokenUsageBreakdown>,
        out: &mut Vec<Emit<P>>,
    ) {
        let Some(queued) = self.queued.take() else { return };
        if self.done {
            return;
        }
        let id = self.turn_id.clone().unwrap_or_default();
        let turn = history.iter().find(|t| t.header.id == id);
        if let Some(t) = turn.filter(|_| !self.announced) {
            self.announced = true;
            self.acc.observe(None, Body::Turn(t.header.clone()), false);
            out.push(Emit::Made(Box::new(t.started_notification(&self.thread_id))));
        }
        for (turn_id, item) in turn
            .map(|t| self.acc.reconcile(std::slice::from_ref(t)))
            .unwrap_or_default()
        {
            out.push(Emit::Made(Box::new(HistoryTurn::item_notification(
                &self.thread_id,
                &turn_id,
                item,
            ))));
        }
        if let Some(base) = usage_base {
            self.acc.rebase_usage(base);
        }
        for q in queued {
            q.replay(|event, payload| {
                self.push(event, payload, out);
            });
        }
        // It ended during the gap: its `turn/completed` is not coming again.
        if !self.done && turn.is_some_and(|t| t.header.status.is_some_and(|s| s != TurnStatus::InProgress)) {
            self.done = true;
            self.held.clear();
            out.push(Emit::Completed(Box::new(self.acc.completion(
                &id,
                &self.thread_id,
                self.interrupt_requested,
            ))));
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
    use codex_sdk_protocol::Headline;
    use serde_json::{json, Value};

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

    /// Feeds `events[i]` as a line through its headline, as the client does.
    fn feed(agg: &mut TurnAggregator<usize>, events: &[(String, Value)], i: usize, out: &mut Vec<Emit<usize>>) -> bool {
        let (method, params) = &events[i];
        let line = json!({"method": method, "params": params}).to_string();
        let head = Headline::peek(&line).unwrap();
        agg.push(Event::from_headline(&head).unwrap(), i, out)
    }

    fn run(agg: &mut TurnAggregator<usize>, events: &[(String, Value)]) -> Vec<usize> {
        let mut out = Vec::new();
        for i in 0..events.len() {
            feed(agg, events, i, &mut out);
        }
        out.into_iter()
            .map(|e| match e {
                Emit::Pass(p) => p,
                other => panic!("plain turns pass notifications on as they are, got {other:?}"),
            })
            .collect()
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
        let mut out = Vec::new();
        assert!(feed(&mut agg, &events, 2, &mut out), "held");
        assert!(out.is_empty());
        agg.set_turn_id("t1", &mut out);
        assert_eq!(out, vec![Emit::Pass(2)]);
        assert_eq!(agg.result().items.len(), 1);
    }

    #[test]
    fn turn_started_fixes_the_id_when_it_comes_first() {
        let mut agg = TurnAggregator::new("th", None);
        let seen = run(&mut agg, &plain_turn());
        assert_eq!(seen, vec![1, 2, 3, 4, 5, 6, 7, 10]);
        assert_eq!(agg.turn_id(), Some("t1"));
        let mut out = Vec::new();
        agg.set_turn_id("t1", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn failure_and_interrupt_set_the_status() {
        let failed = {
            let mut t = turn("t1", "failed");
            t["error"] = json!({"message": "boom", "codexErrorInfo": null});
            t
        };
        let events = vec![n("turn/completed", json!({"threadId": "th", "turn": failed}))];
        let mut agg = TurnAggregator::<usize>::new("th", Some("t1".into()));
        run(&mut agg, &events);
        let r = agg.result();
        assert_eq!(r.status, TurnResultStatus::Failed);
        assert_eq!(r.error.unwrap().message, "boom");

        let events = vec![n(
            "turn/completed",
            json!({"threadId": "th", "turn": turn("t1", "completed")}),
        )];
        let mut agg = TurnAggregator::<usize>::new("th", Some("t1".into()));
        agg.set_interrupt_requested(true);
        run(&mut agg, &events);
        assert_eq!(agg.result().status, TurnResultStatus::Interrupted);
    }

    #[test]
    fn final_response_prefers_final_answer_phase() {
        let events: Vec<_> = [("fa", json!("final_answer")), ("none", Value::Null), ("c", json!("commentary"))]
            .into_iter()
            .map(|(text, phase)| {
                n(
                    "item/completed",
                    json!({"threadId": "th", "turnId": "t", "item": {"type": "agentMessage", "text": text, "phase": phase}}),
                )
            })
            .collect();
        let mut agg = TurnAggregator::<usize>::new("th", Some("t".into()));
        run(&mut agg, &events);
        assert_eq!(agg.result().final_response.as_deref(), Some("fa"));
    }
}
