//! Sans-IO state machines that turn the app-server's notification stream into logical turns.
//!
//! Callers feed notifications in the order they arrived, each with an opaque payload of their own
//! (the raw line in the native client, a JS value in wasm); the engine says which to pass on, which
//! to pass on relabelled, when the run is over, and what its [`TurnResult`] is. No clocks, threads or
//! I/O, so the very same code decides outcomes natively and in wasm.

mod accumulator;
mod feed;
mod goal;
mod result;
mod turn;
mod usage;

pub use accumulator::Accumulator;
pub use feed::{Aggregator, FeedError};
pub use goal::GoalEngine;
pub use result::{TurnResult, TurnResultStatus};
pub use turn::TurnAggregator;
pub use usage::add_usage;

use serde_json::Value;

/// What the engine passes on for one incoming notification.
#[derive(Debug, Clone, PartialEq)]
pub enum Emit<P> {
    /// The notification as it arrived: forward the caller's own payload.
    Original(P),
    /// The notification with its params rewritten (e.g. a turn id relabelled to the logical id).
    Rewritten { method: String, params: Value },
}

/// Whether an engine reads more of this method's params than its thread and turn ids. A plain
/// turn passes other notifications on as they arrived, so a caller can route those without
/// parsing their params at all.
pub fn reads_params(method: &str) -> bool {
    use codex_sdk_protocol::server_notification as m;
    matches!(
        method,
        m::TURN_STARTED
            | m::TURN_COMPLETED
            | m::ITEM_COMPLETED
            | m::THREAD_TOKEN_USAGE_UPDATED
            | m::THREAD_GOAL_UPDATED
            | m::THREAD_GOAL_CLEARED
    )
}
