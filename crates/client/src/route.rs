//! A route: the client's view of one run (a plain turn or a goal) on one thread. The reader task
//! feeds it every notification of its thread; the engine's one dispatcher decides what reaches the
//! stream and when the run is over, and the route applies those decisions to the raw lines.

use crate::error::ClientError;
use crate::stream::{self, EventStream, Sender};
use codex_sdk_engine::{Aggregator, Emit, Event, HistoryTurn, Line, RunStart};
use codex_sdk_protocol::{server_notification as m, ThreadGoal, TokenUsageBreakdown};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

pub type Outcome = Option<Result<codex_sdk_engine::TurnResult, ClientError>>;

pub struct Route {
    state: Mutex<RouteState>,
    outcome: watch::Sender<Outcome>,
    /// Bumped whenever the route takes something in, so waiters can re-check its state.
    progress: watch::Sender<u64>,
    /// The run was told to stop (interrupted, cancelled, or its start aborted): the next run on the
    /// thread waits for it to end rather than being refused as busy.
    stopping: AtomicBool,
    /// Cleared once nobody reads the stream, so the reader can skip what only the stream needs.
    streaming: AtomicBool,
    is_goal: bool,
    /// While the server retries the model connection for this run: since when, and its last word.
    retrying: watch::Sender<Option<Retrying>>,
    /// Whether `retrying` is set: read on every notification of the run, so an atomic.
    is_retrying: AtomicBool,
    /// The error the run ends with, however the engine says it ended (a run being stopped for it).
    doomed: Mutex<Option<ClientError>>,
    /// Usage updates of the thread seen so far (see [`Route::usage_update_since`]).
    usage_updates: watch::Sender<u64>,
}

/// The server has been retrying the model connection since `since`; `message` is its last word.
#[derive(Debug, Clone)]
pub struct Retrying {
    pub since: tokio::time::Instant,
    pub message: String,
}

struct RouteState {
    engine: Aggregator<Line>,
    /// `None` once the stream ended or nobody wants it.
    events: Option<Sender>,
    /// The engine's decisions for the notification being taken, reused from one to the next.
    decided: Vec<Emit<Line>>,
}

/// The payload of a notification nobody will read: one shared empty line, no copy.
fn unread() -> Line {
    static UNREAD: LazyLock<Arc<str>> = LazyLock::new(|| Arc::from(""));
    Line {
        text: UNREAD.clone(),
        turn_id_span: None,
    }
}

/// What a waiter sees of a route.
pub struct View<'a>(MutexGuard<'a, RouteState>);

impl View<'_> {
    /// The logical id: a goal's first physical turn once it started, a plain turn's id once known.
    pub fn logical_turn_id(&self) -> Option<&str> {
        self.0.engine.logical_turn_id()
    }

    /// The physical turn running now, if any: the one to steer or interrupt.
    pub fn active_turn_id(&self) -> Option<&str> {
        self.0.engine.active_turn_id()
    }

    pub fn goal_active(&self) -> bool {
        self.0.engine.goal_active()
    }

    pub fn is_done(&self) -> bool {
        self.0.engine.is_done()
    }
}

impl Route {
    fn create(engine: Aggregator<Line>, merge_after: usize) -> (Arc<Route>, EventStream, watch::Receiver<Outcome>) {
        let (tx, stream) = stream::channel(merge_after);
        let (outcome, outcome_rx) = watch::channel(None);
        let route = Route {
            is_goal: engine.is_goal(),
            state: Mutex::new(RouteState {
                engine,
                events: Some(tx),
                decided: Vec::new(),
            }),
            outcome,
            progress: watch::channel(0).0,
            stopping: AtomicBool::new(false),
            streaming: AtomicBool::new(true),
            retrying: watch::channel(None).0,
            is_retrying: AtomicBool::new(false),
            doomed: Mutex::new(None),
            usage_updates: watch::channel(0).0,
        };
        (Arc::new(route), stream, outcome_rx)
    }

    pub fn new_turn(thread_id: &str, merge_after: usize) -> (Arc<Route>, EventStream, watch::Receiver<Outcome>) {
        Self::create(Aggregator::turn(thread_id, None), merge_after)
    }

    pub fn new_goal(thread_id: &str, merge_after: usize) -> (Arc<Route>, EventStream, watch::Receiver<Outcome>) {
        Self::create(Aggregator::goal(thread_id), merge_after)
    }

    /// The run of a goal found on its thread (active since the unix second `activated_at`), to be
    /// brought up to date from the history before anything else.
    pub fn attached_goal(
        thread_id: &str,
        activated_at: i64,
        merge_after: usize,
    ) -> (Arc<Route>, EventStream, watch::Receiver<Outcome>) {
        Self::create(Aggregator::attach_goal(thread_id, activated_at), merge_after)
    }

    fn lock(&self) -> MutexGuard<'_, RouteState> {
        // A panic elsewhere must not wedge every later call: the state stays usable.
        crate::lock(&self.state)
    }

    pub fn view(&self) -> View<'_> {
        View(self.lock())
    }

    /// Takes a notification of this route's thread; `line` makes its payload, called only when
    /// the stream is wanted (the engine's decisions about a line nobody reads are moot). Returns
    /// true when the run just ended.
    pub fn push(&self, event: Event<'_>, line: impl FnOnce() -> Line) -> bool {
        let mut st = self.lock();
        if st.engine.is_done() {
            return false;
        }
        let st = &mut *st;
        let line = if st.events.is_some() { line() } else { unread() };
        // Only these change what a waiter watches (the logical, running and goal state).
        let waited_on = matches!(
            event.method,
            m::TURN_STARTED | m::TURN_COMPLETED | m::THREAD_GOAL_UPDATED | m::THREAD_GOAL_CLEARED
        );
        st.engine.push(event, line, &mut st.decided);
        self.deliver(st, waited_on)
    }

    /// Fixes a plain turn's id from the `turn/start` response. Returns true when the run already ended.
    pub fn set_turn_id(&self, id: &str) -> bool {
        let mut st = self.lock();
        let st = &mut *st;
        st.engine.set_turn_id(id, &mut st.decided);
        self.deliver(st, true)
    }

    /// Passes on what the engine decided, relabelling lines to the logical turn where it said so,
    /// and wakes waiters when `changed` (or the run ended).
    fn deliver(&self, st: &mut RouteState, changed: bool) -> bool {
        let logical = st.engine.logical_turn_id().unwrap_or_default();
        for e in st.decided.drain(..) {
            let Some(tx) = &st.events else { continue };
            let sent = match e {
                Emit::Pass(line) => tx.send_line(&line.text),
                // The new id spliced in as the line is queued: no relabelled copy in between.
                Emit::Relabel(Line {
                    text,
                    turn_id_span: Some(span),
                }) => tx.send_parts(&[&text[..span.start], logical, &text[span.end..]]),
                Emit::Relabel(line) => tx.send_line(&line.relabelled(logical)),
                Emit::Completed(c) => tx.send_line(&c.to_line()),
                Emit::Made(n) => tx.send_line(&n.to_line()),
            };
            if sent.is_err() {
                st.events = None;
                self.streaming.store(false, Ordering::Release);
            }
        }
        if changed || st.engine.is_done() {
            self.progress.send_modify(|n| *n += 1);
        }
        if let Some(result) = st.engine.result().filter(|_| self.outcome.borrow().is_none()) {
            match crate::lock(&self.doomed).take() {
                Some(error) => {
                    if let Some(tx) = st.events.take() {
                        let _ = tx.fail(error.clone());
                    }
                    self.outcome.send_replace(Some(Err(error)));
                }
                None => {
                    st.events = None;
                    self.outcome.send_replace(Some(Ok(result)));
                }
            }
            return true;
        }
        false
    }

    /// The connection dropped: what arrives waits until [`reconcile`](Self::reconcile), and the
    /// run cannot end before.
    pub fn begin_sync(&self) {
        self.lock().engine.begin_sync();
    }

    pub fn is_syncing(&self) -> bool {
        self.lock().engine.is_syncing()
    }

    /// Whether its usage needs the thread's total from before the run to be exact.
    pub fn needs_usage_base(&self) -> bool {
        self.lock().engine.needs_usage_base()
    }

    /// How many usage updates of the thread arrived so far.
    pub fn usage_updates(&self) -> u64 {
        *self.usage_updates.borrow()
    }

    /// Waits until a usage update arrives after the first `seen`, for at most `bound`.
    pub async fn usage_update_since(&self, seen: u64, bound: Duration) {
        let mut rx = self.usage_updates.subscribe();
        let _ = tokio::time::timeout(bound, rx.wait_for(|n| *n > seen)).await;
    }

    /// Where the run begins, to find it in the thread's history.
    pub fn run_start(&self) -> Option<RunStart> {
        self.lock().engine.run_start()
    }

    /// The goal became active for this run at this unix second.
    pub fn set_activated_at(&self, at: i64) {
        self.lock().engine.set_activated_at(at);
    }

    /// Ends a gap with the thread's history (see `Aggregator::reconcile`). Returns true when the
    /// run ended on it.
    pub fn reconcile(
        &self,
        history: &[HistoryTurn],
        goal: Option<ThreadGoal>,
        base: Option<&TokenUsageBreakdown>,
    ) -> bool {
        let mut st = self.lock();
        let st = &mut *st;
        st.engine.reconcile(history, goal, base, &mut st.decided);
        self.deliver(st, true)
    }

    /// Takes what a notification of the run says of the model connection: an `error` the server
    /// will retry starts (or goes on with) a stretch of retries; model output (an item, a delta, a
    /// usage update, a turn) ends it. Cheap for every other line: one atomic load.
    pub fn note(&self, method: &str, line: &str) {
        if method == m::THREAD_TOKEN_USAGE_UPDATED {
            self.usage_updates.send_modify(|n| *n += 1);
        }
        if method == m::ERROR {
            #[derive(serde::Deserialize)]
            struct Note {
                params: NoteParams,
            }
            #[derive(serde::Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct NoteParams {
                #[serde(default)]
                will_retry: bool,
                #[serde(default)]
                error: Option<NoteError>,
            }
            #[derive(serde::Deserialize)]
            #[serde(rename_all = "camelCase")]
            struct NoteError {
                #[serde(default)]
                message: String,
                #[serde(default)]
                additional_details: Option<String>,
            }
            let Ok(note) = serde_json::from_str::<Note>(line) else {
                return;
            };
            if !note.params.will_retry {
                return self.retried_enough();
            }
            let message = note
                .params
                .error
                .map_or_else(String::new, |e| match e.additional_details {
                    Some(d) if !d.is_empty() => format!("{} ({d})", e.message),
                    _ => e.message,
                });
            self.retrying.send_modify(|r| match r {
                Some(r) => r.message = message,
                None => {
                    *r = Some(Retrying {
                        since: tokio::time::Instant::now(),
                        message,
                    })
                }
            });
            self.is_retrying.store(true, Ordering::Release);
        } else if self.is_retrying.load(Ordering::Acquire)
            && (method.starts_with("item/") || method.starts_with("turn/") || method == m::THREAD_TOKEN_USAGE_UPDATED)
        {
            self.retried_enough();
        }
    }

    fn retried_enough(&self) {
        self.is_retrying.store(false, Ordering::Release);
        self.retrying.send_replace(None);
    }

    /// Watches the retries of the model connection: waits for `limit` of them without model output
    /// in between, or for the run to end. Returns the server's last word then; `None` once the run ended.
    pub async fn unreachable_for(&self, limit: Duration) -> Option<String> {
        let mut retrying = self.retrying.subscribe();
        let mut outcome = self.outcome.subscribe();
        loop {
            let current = retrying.borrow_and_update().clone();
            let waited = async {
                match &current {
                    Some(r) => tokio::time::sleep_until(r.since + limit).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = outcome.wait_for(Option::is_some) => return None,
                changed = retrying.changed() => if changed.is_err() { return None },
                () = waited => {
                    let now = self.retrying.borrow().clone();
                    if let (Some(now), Some(then)) = (now, current) {
                        if now.since == then.since {
                            return Some(now.message);
                        }
                    }
                }
            }
        }
    }

    /// The run is being stopped because of `error`: it ends with it, once the engine says it ended.
    pub fn doom(&self, error: ClientError) {
        *crate::lock(&self.doomed) = Some(error);
    }

    /// Ends the run with an error: the stream and the result both see it.
    pub fn fail(&self, error: &ClientError) {
        let mut st = self.lock();
        if let Some(tx) = st.events.take() {
            let _ = tx.fail(error.clone());
        }
        if self.outcome.borrow().is_none() {
            self.outcome.send_replace(Some(Err(error.clone())));
        }
        self.progress.send_modify(|n| *n += 1);
    }

    /// Nobody will read the stream: stop buffering it. The result is still aggregated.
    pub fn stop_streaming(&self) {
        self.lock().events = None;
        self.streaming.store(false, Ordering::Release);
    }

    /// Whether someone may still read the stream (until it ended or was given up).
    pub fn is_streaming(&self) -> bool {
        self.streaming.load(Ordering::Acquire)
    }

    pub fn set_interrupt_requested(&self, requested: bool) {
        self.lock().engine.set_interrupt_requested(requested);
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

    pub fn is_goal(&self) -> bool {
        self.is_goal
    }

    pub fn turn_ids(&self) -> Vec<String> {
        self.lock().engine.turn_ids()
    }

    pub fn goal(&self) -> Option<ThreadGoal> {
        self.lock().engine.goal_snapshot().cloned()
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
