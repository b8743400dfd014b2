//! Sans-IO state machines that turn the app-server's notification stream into logical turns.
//!
//! Callers feed notifications in the order they arrived, each as an [`Event`] (what the engines
//! read of it) with an opaque payload of their own (the raw line natively, a JS object in wasm);
//! the engine decides which to pass on, which to pass on relabelled to the logical turn, when the
//! run is over, and what its [`TurnResult`] is. The caller applies those decisions to its own
//! payload, so nothing is cloned to relabel it. No clocks, threads or I/O, so the very same code
//! decides outcomes natively and in wasm.

mod accumulator;
mod aggregator;
mod event;
mod goal;
mod history;
mod lines;
mod result;
mod turn;
mod usage;

pub use accumulator::Accumulator;
pub use aggregator::Aggregator;
pub use event::{reads_params, Body, Event, TurnHeader};
pub use goal::GoalEngine;
pub use history::{run_span, HistoryTurn, RunEnd, RunStart};
pub use lines::{Line, LineAggregator, LineError};
pub use result::{TurnResult, TurnResultStatus};
pub use turn::TurnAggregator;

use codex_sdk_protocol::{server_notification as m, TurnError};
use serde::Serialize;
use serde_json::Value;

/// What the engine decides for an incoming notification (or one it held).
#[derive(Debug, Clone, PartialEq)]
pub enum Emit<P> {
    /// Pass the caller's payload on as it arrived.
    Pass(P),
    /// Pass it on with `params.turnId` set to the logical turn's id.
    Relabel(P),
    /// The logical turn ended: pass on a `turn/completed` with these params.
    Completed(Box<Completion>),
    /// A notification the engine made from the thread's history (what a gap hid from the stream):
    /// pass this one on.
    Made(Box<Made>),
}

/// A notification made by the engine, not received: an `item/completed` a gap hid, or the
/// `turn/started` of a run attached to after it began.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Made {
    pub method: &'static str,
    pub params: Value,
}

impl Made {
    /// The whole notification as one JSON line.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The params of the logical `turn/completed` a goal run ends with. Its `turn` has no items (they
/// are in the result), as `itemsView: "notLoaded"` says.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Completion {
    pub thread_id: String,
    pub turn: CompletedTurn,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletedTurn {
    pub id: String,
    pub items: Vec<Value>,
    pub items_view: &'static str,
    pub status: TurnResultStatus,
    pub error: Option<TurnError>,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub duration_ms: Option<i64>,
}

impl Completion {
    /// The whole notification as one JSON line.
    pub fn to_line(&self) -> String {
        #[derive(Serialize)]
        struct Notification<'a> {
            method: &'static str,
            params: &'a Completion,
        }
        serde_json::to_string(&Notification {
            method: m::TURN_COMPLETED,
            params: self,
        })
        .unwrap_or_default()
    }
}
