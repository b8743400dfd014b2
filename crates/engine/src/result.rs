use codex_sdk_protocol::{ThreadGoal, TokenUsageBreakdown, TurnError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a logical turn ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TurnResultStatus {
    Completed,
    Interrupted,
    Failed,
}

/// The outcome of one logical turn: a plain turn, or a goal across all its physical turns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnResult {
    pub id: String,
    pub thread_id: String,
    pub status: TurnResultStatus,
    pub error: Option<TurnError>,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
    pub duration_ms: Option<i64>,
    pub final_response: Option<String>,
    pub items: Vec<Value>,
    pub usage: Option<TokenUsageBreakdown>,
    pub turn_ids: Vec<String>,
    pub goal: Option<ThreadGoal>,
}
