//! A route: the client's view of one running turn on one thread. The reader task feeds it every
//! notification of its thread; the engine decides what reaches the stream and when it is over.

use crate::error::ClientError;
use crate::stream::{self, EventStream, StreamItem};
use codex_sdk_engine::{Emit, TurnAggregator, TurnResult};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{mpsc, watch};

pub type Outcome = Option<Result<TurnResult, ClientError>>;

pub struct Route {
    state: Mutex<RouteState>,
    outcome: watch::Sender<Outcome>,
}

struct RouteState {
    engine: TurnAggregator<Arc<str>>,
    /// `None` once the stream ended or nobody wants it.
    events: Option<mpsc::UnboundedSender<StreamItem>>,
}

impl Route {
    pub fn new_turn(thread_id: &str) -> (Arc<Route>, EventStream, watch::Receiver<Outcome>) {
        let (tx, stream) = stream::channel();
        let (outcome, outcome_rx) = watch::channel(None);
        let route = Route {
            state: Mutex::new(RouteState {
                engine: TurnAggregator::new(thread_id, None),
                events: Some(tx),
            }),
            outcome,
        };
        (Arc::new(route), stream, outcome_rx)
    }

    fn lock(&self) -> MutexGuard<'_, RouteState> {
        // A panic elsewhere must not wedge every later call: the state stays usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a notification of this route's thread. Returns true when the run just ended.
    pub fn push(&self, method: &str, params: &Value, raw: &Arc<str>) -> bool {
        let mut st = self.lock();
        if st.engine.is_done() {
            return false;
        }
        let emitted = st.engine.push(method, params, raw.clone());
        self.deliver(&mut st, emitted)
    }

    /// Fixes the turn id from the `turn/start` response. Returns true when the run already ended.
    pub fn set_turn_id(&self, id: &str) -> bool {
        let mut st = self.lock();
        let emitted = st.engine.set_turn_id(id);
        self.deliver(&mut st, emitted)
    }

    fn deliver(&self, st: &mut RouteState, emitted: Vec<Emit<Arc<str>>>) -> bool {
        if let Some(tx) = &st.events {
            for e in emitted {
                let line: Arc<str> = match e {
                    Emit::Original(raw) => raw,
                    Emit::Rewritten { method, params } => {
                        Arc::from(json!({"method": method, "params": params}).to_string())
                    }
                };
                if tx.send(Ok(line)).is_err() {
                    st.events = None;
                    break;
                }
            }
        }
        if st.engine.is_done() && self.outcome.borrow().is_none() {
            st.events = None;
            self.outcome.send_replace(Some(Ok(st.engine.result())));
            return true;
        }
        false
    }

    /// Ends the run with an error (the transport closed): the stream and the result both see it.
    pub fn fail(&self, error: &ClientError) {
        let mut st = self.lock();
        if let Some(tx) = st.events.take() {
            let _ = tx.send(Err(error.clone()));
        }
        if self.outcome.borrow().is_none() {
            self.outcome.send_replace(Some(Err(error.clone())));
        }
    }

    /// Nobody will read the stream: stop buffering it. The result is still aggregated.
    pub fn stop_streaming(&self) {
        self.lock().events = None;
    }

    pub fn set_interrupt_requested(&self, requested: bool) {
        self.lock().engine.set_interrupt_requested(requested);
    }

    pub fn is_done(&self) -> bool {
        self.outcome.borrow().is_some()
    }

    /// The physical turn to steer or interrupt now.
    pub fn current_turn_id(&self) -> Option<String> {
        self.lock().engine.turn_id().map(str::to_owned)
    }
}
