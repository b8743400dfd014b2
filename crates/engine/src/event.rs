//! What the engines read of one notification: its method, thread and turn ids, and, for the few
//! methods whose params they aggregate, those params parsed. Everything else of a notification is
//! the caller's payload, passed on untouched or relabelled by the caller.

use codex_sdk_protocol::{
    server_notification as m, Headline, ThreadGoal, ThreadGoalStatus, TokenUsageBreakdown, TurnError, TurnStatus,
};
use serde::Deserialize;
use serde_json::Value;

/// One notification as the engines see it.
#[derive(Debug)]
pub struct Event<'a> {
    pub method: &'a str,
    pub thread_id: Option<&'a str>,
    pub turn_id: Option<&'a str>,
    pub body: Body,
}

/// The params an engine reads, for the methods it reads them of.
#[derive(Debug, Default)]
pub enum Body {
    /// A method whose params no engine reads (deltas, item starts, status changes, ...).
    #[default]
    None,
    /// `turn/started`, `turn/completed`: the turn's header (its items are not read).
    Turn(TurnHeader),
    /// `item/completed`: the item, owned, for the result.
    Item(Value),
    /// `thread/tokenUsage/updated`: that model response's usage (`tokenUsage.last`).
    /// A model response's usage (`last`) and the thread's running total after it (`total`).
    Usage {
        last: Option<TokenUsageBreakdown>,
        total: Option<TokenUsageBreakdown>,
    },
    /// `thread/goal/updated`: the goal's status, and the whole snapshot when it reads as one.
    Goal {
        status: Option<ThreadGoalStatus>,
        goal: Option<ThreadGoal>,
    },
}

/// `turn` of `turn/started` and `turn/completed`, read without its items.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TurnHeader {
    #[serde(default)]
    pub id: String,
    /// A status this version does not know reads as none, so the turn is not lost with it.
    #[serde(default, deserialize_with = "lenient")]
    pub status: Option<TurnStatus>,
    #[serde(default)]
    pub error: Option<TurnError>,
    #[serde(default)]
    pub started_at: Option<i64>,
    #[serde(default)]
    pub completed_at: Option<i64>,
    #[serde(default)]
    pub duration_ms: Option<i64>,
}

fn lenient<'de, D: serde::Deserializer<'de>, T: serde::de::DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    Ok(Value::deserialize(d).ok().and_then(|v| serde_json::from_value(v).ok()))
}

#[derive(Deserialize)]
struct StatusOnly {
    #[serde(default)]
    status: Option<ThreadGoalStatus>,
}

#[derive(Deserialize)]
struct UsageUpdate {
    #[serde(default)]
    last: Option<TokenUsageBreakdown>,
    #[serde(default)]
    total: Option<TokenUsageBreakdown>,
}

/// Whether an engine reads more of this method's params than its thread and turn ids. A caller
/// can route every other notification on its ids alone, without parsing its params.
pub fn reads_params(method: &str) -> bool {
    matches!(
        method,
        m::TURN_STARTED
            | m::TURN_COMPLETED
            | m::ITEM_COMPLETED
            | m::THREAD_TOKEN_USAGE_UPDATED
            | m::THREAD_GOAL_UPDATED
    )
}

impl<'a> Event<'a> {
    /// The event of a notification line's headline; `None` for requests and responses. The params
    /// an engine reads are parsed here, from the borrowed text the headline kept; a malformed
    /// part reads as absent (the engines tolerate a notification they cannot use).
    pub fn from_headline(head: &'a Headline<'a>) -> Option<Event<'a>> {
        if !head.is_notification() {
            return None;
        }
        let method = head.method()?;
        let body = match method {
            m::TURN_STARTED | m::TURN_COMPLETED => {
                head.turn().and_then(|t| serde_json::from_str(t).ok()).map(Body::Turn)
            }
            m::ITEM_COMPLETED => head.item().and_then(|i| serde_json::from_str(i).ok()).map(Body::Item),
            m::THREAD_TOKEN_USAGE_UPDATED => head
                .token_usage()
                .and_then(|u| serde_json::from_str::<UsageUpdate>(u).ok())
                .map(|u| Body::Usage {
                    last: u.last,
                    total: u.total,
                }),
            m::THREAD_GOAL_UPDATED => head.goal().map(|g| Body::Goal {
                status: serde_json::from_str::<StatusOnly>(g).ok().and_then(|s| s.status),
                goal: serde_json::from_str(g).ok(),
            }),
            _ => None,
        };
        Some(Event {
            method,
            thread_id: head.thread_id(),
            turn_id: head.turn_id(),
            body: body.unwrap_or_default(),
        })
    }

    /// The event of a notification whose params no engine reads, from its ids alone.
    pub fn ids(method: &'a str, thread_id: Option<&'a str>, turn_id: Option<&'a str>) -> Event<'a> {
        Event {
            method,
            thread_id,
            turn_id,
            body: Body::None,
        }
    }
}

/// A notification taken while a run waits for its history, replayed once the history is in.
#[derive(Debug)]
pub(crate) struct Queued<P> {
    method: String,
    turn: Option<String>,
    body: Body,
    payload: P,
}

impl<P> Queued<P> {
    pub(crate) fn new(event: Event<'_>, payload: P) -> Self {
        Self {
            method: event.method.to_owned(),
            turn: event.turn_id.map(str::to_owned),
            body: event.body,
            payload,
        }
    }

    /// Hands the notification to `push` again (its thread was checked when it was queued).
    pub(crate) fn replay(self, push: impl FnOnce(Event<'_>, P)) {
        let event = Event {
            method: &self.method,
            thread_id: None,
            turn_id: self.turn.as_deref(),
            body: self.body,
        };
        push(event, self.payload);
    }
}
