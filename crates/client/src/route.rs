//! A route: the client's view of one run (a plain turn or a goal) on one thread. The reader task
//! feeds it every notification of its thread; the engine decides what reaches the stream and when
//! the run is over.

use crate::error::ClientError;
use crate::stream::{self, EventStream, Sender};
use codex_sdk_engine::{Emit, GoalEngine, TurnAggregator, TurnResult};
use codex_sdk_protocol::ThreadGoal;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

pub type Outcome = Option<Result<TurnResult, ClientError>>;

enum Engine {
    Turn(TurnAggregator<Arc<str>>),
    Goal(GoalEngine<Arc<str>>),
}

impl Engine {
    fn push(&mut self, method: &str, params: &Value, raw: Arc<str>) -> Vec<Emit<Arc<str>>> {
        match self {
            Engine::Turn(e) => e.push(method, params, raw),
            Engine::Goal(e) => e.push(method, params, raw),
        }
    }

    fn is_done(&self) -> bool {
        match self {
            Engine::Turn(e) => e.is_done(),
            Engine::Goal(e) => e.is_done(),
        }
    }

    fn result(&self) -> TurnResult {
        match self {
            Engine::Turn(e) => e.result(),
            Engine::Goal(e) => e.result(),
        }
    }
}

pub struct Route {
    state: Mutex<RouteState>,
    /// The run was told to stop (interrupted, cancelled, or its start aborted): the next run on the
    /// thread waits for it to end rather than being refused as busy.
    stopping: AtomicBool,
    outcome: watch::Sender<Outcome>,
    /// Bumped whenever the route takes something in, so waiters can re-check its state.
    progress: watch::Sender<u64>,
}

struct RouteState {
    engine: Engine,
    /// `None` once the stream ended or nobody wants it.
    events: Option<Sender>,
}

/// What a waiter sees of a route.
pub struct View<'a>(MutexGuard<'a, RouteState>);

impl View<'_> {
    /// The logical id of a goal run, once its first turn started.
    pub fn logical_turn_id(&self) -> Option<&str> {
        match &self.0.engine {
            Engine::Turn(e) => e.turn_id(),
            Engine::Goal(e) => e.logical_turn_id(),
        }
    }

    /// The physical turn running now, if any.
    pub fn active_turn_id(&self) -> Option<&str> {
        match &self.0.engine {
            Engine::Turn(e) => e.turn_id().filter(|_| !e.is_done()),
            Engine::Goal(e) => e.current_turn_id().filter(|_| e.turn_active()),
        }
    }

    pub fn goal_active(&self) -> bool {
        matches!(&self.0.engine, Engine::Goal(e) if e.goal_active())
    }

    pub fn is_done(&self) -> bool {
        self.0.engine.is_done()
    }
}

impl Route {
    fn create(engine: Engine) -> (Arc<Route>, EventStream, watch::Receiver<Outcome>) {
        let (tx, stream) = stream::channel();
        let (outcome, outcome_rx) = watch::channel(None);
        let route = Route {
            state: Mutex::new(RouteState {
                engine,
                events: Some(tx),
            }),
            outcome,
            progress: watch::channel(0).0,
            stopping: AtomicBool::new(false),
        };
        (Arc::new(route), stream, outcome_rx)
    }

    pub fn new_turn(thread_id: &str) -> (Arc<Route>, EventStream, watch::Receiver<Outcome>) {
        Self::create(Engine::Turn(TurnAggregator::new(thread_id, None)))
    }

    pub fn new_goal(thread_id: &str) -> (Arc<Route>, EventStream, watch::Receiver<Outcome>) {
        Self::create(Engine::Goal(GoalEngine::new(thread_id)))
    }

    fn lock(&self) -> MutexGuard<'_, RouteState> {
        // A panic elsewhere must not wedge every later call: the state stays usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn view(&self) -> View<'_> {
        View(self.lock())
    }

    /// Takes a notification of this route's thread. Returns true when the run just ended.
    pub fn push(&self, method: &str, params: &Value, raw: &Arc<str>) -> bool {
        let mut st = self.lock();
        if st.engine.is_done() {
            return false;
        }
        let emitted = st.engine.push(method, params, raw.clone());
        self.deliver(&mut st, emitted, method)
    }

    /// The cheap path for a notification no engine reads the params of (a delta): a plain turn
    /// whose id is known forwards it by its ids alone. Returns false when the caller must `push`
    /// it with params instead (a goal, or a turn whose id is not known yet and must hold it).
    pub fn pass(&self, method: &str, thread_id: Option<&str>, turn_id: Option<&str>, raw: &Arc<str>) -> bool {
        let mut st = self.lock();
        let Engine::Turn(e) = &mut st.engine else { return false };
        if e.turn_id().is_none() {
            return false;
        }
        if let (Some(line), Some(tx)) = (e.pass(thread_id, turn_id, raw.clone()), &st.events) {
            if tx.send_notification(method, line).is_err() {
                st.events = None;
            }
        }
        true
    }

    /// Fixes a plain turn's id from the `turn/start` response. Returns true when the run already ended.
    pub fn set_turn_id(&self, id: &str) -> bool {
        let mut st = self.lock();
        let emitted = match &mut st.engine {
            Engine::Turn(e) => e.set_turn_id(id),
            Engine::Goal(_) => Vec::new(),
        };
        self.deliver(&mut st, emitted, "")
    }

    /// Passes on what the engine emitted for a notification of `pushed` (its method).
    fn deliver(&self, st: &mut RouteState, emitted: Vec<Emit<Arc<str>>>, pushed: &str) -> bool {
        if let Some(tx) = &st.events {
            for e in emitted {
                let sent = match e {
                    Emit::Original(raw) => tx.send_notification(pushed, raw),
                    Emit::Rewritten { method, params } => {
                        let line = Arc::from(json!({"method": method, "params": params}).to_string());
                        tx.send_notification(&method, line)
                    }
                };
                if sent.is_err() {
                    st.events = None;
                    break;
                }
            }
        }
        self.progress.send_modify(|n| *n += 1);
        if st.engine.is_done() && self.outcome.borrow().is_none() {
            st.events = None;
            self.outcome.send_replace(Some(Ok(st.engine.result())));
            return true;
        }
        false
    }

    /// Ends the run with an error: the stream and the result both see it.
    pub fn fail(&self, error: &ClientError) {
        let mut st = self.lock();
        if let Some(tx) = st.events.take() {
            let _ = tx.send(Err(error.clone()));
        }
        if self.outcome.borrow().is_none() {
            self.outcome.send_replace(Some(Err(error.clone())));
        }
        self.progress.send_modify(|n| *n += 1);
    }

    /// Nobody will read the stream: stop buffering it. The result is still aggregated.
    pub fn stop_streaming(&self) {
        self.lock().events = None;
    }

    pub fn set_interrupt_requested(&self, requested: bool) {
        match &mut self.lock().engine {
            Engine::Turn(e) => e.set_interrupt_requested(requested),
            Engine::Goal(e) => e.set_interrupt_requested(requested),
        }
    }

    pub fn is_done(&self) -> bool {
        self.outcome.borrow().is_some()
    }

    pub fn set_stopping(&self, stopping: bool) {
        self.stopping.store(stopping, Ordering::Release);
    }

    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::Acquire)
    }

    /// Waits until the run ended, up to `limit`. Returns whether it did.
    pub async fn wait_done(&self, limit: Duration) -> bool {
        let mut rx = self.outcome.subscribe();
        tokio::time::timeout(limit, rx.wait_for(Option::is_some)).await.is_ok() || self.is_done()
    }

    /// Whether `push` needs this method's full params: a goal relabels what it passes on, so it
    /// needs them all; a plain turn forwards raw lines and reads only what it aggregates.
    pub fn needs_params(&self, method: &str) -> bool {
        self.is_goal() || codex_sdk_engine::reads_params(method)
    }

    pub fn is_goal(&self) -> bool {
        matches!(self.lock().engine, Engine::Goal(_))
    }

    /// The physical turn to steer or interrupt now (the running one, else the latest).
    pub fn current_turn_id(&self) -> Option<String> {
        match &self.lock().engine {
            Engine::Turn(e) => e.turn_id().map(str::to_owned),
            Engine::Goal(e) => e.current_turn_id().map(str::to_owned),
        }
    }

    pub fn turn_ids(&self) -> Vec<String> {
        match &self.lock().engine {
            Engine::Turn(e) => e.turn_id().map(|t| vec![t.to_owned()]).unwrap_or_default(),
            Engine::Goal(e) => e.turn_ids().to_vec(),
        }
    }

    pub fn goal(&self) -> Option<ThreadGoal> {
        match &self.lock().engine {
            Engine::Turn(_) => None,
            Engine::Goal(e) => e.goal().cloned(),
        }
    }

    /// Waits until `ready` holds of the route, up to `limit`. Returns whether it did.
    pub async fn wait_until(&self, limit: Duration, ready: impl Fn(&View<'_>) -> bool) -> bool {
        let mut rx = self.progress.subscribe();
        let check = async {
            loop {
                if ready(&self.view()) {
                    return true;
                }
                if self.is_done() || rx.changed().await.is_err() {
                    return ready(&self.view());
                }
            }
        };
        tokio::time::timeout(limit, check).await.unwrap_or(false)
    }
}
