//! Retrying requests the server turned away as overloaded (`-32001`, "retry later").

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

/// The JSON-RPC code of "Server overloaded; retry later.".
pub const OVERLOADED: i64 = -32001;

/// Tries in all, the first included.
pub const MAX_ATTEMPTS: u32 = 5;

const BASE: Duration = Duration::from_millis(50);

/// Whether a method may be sent again after an overload answer. Only reads: an overloaded server
/// should not have acted on the request, but a write repeated by mistake is not ours to risk.
pub fn safe_to_retry(method: &str) -> bool {
    method.ends_with("/read") || method.ends_with("/list") || method.ends_with("/get")
}

/// The wait before retry `attempt` (1-based): exponential, with full jitter so that many clients
/// turned away at once do not come back at once.
pub fn backoff(attempt: u32) -> Duration {
    let ceiling = BASE * 2u32.saturating_pow(attempt.saturating_sub(1).min(10));
    let random = RandomState::new().build_hasher().finish();
    // Between half the ceiling and the ceiling: never zero, so a retry always yields.
    let fraction = 0.5 + (random % 1_000) as f64 / 2_000.0;
    ceiling.mul_f64(fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_reads_are_retried() {
        assert!(safe_to_retry("thread/read"));
        assert!(safe_to_retry("thread/list"));
        assert!(safe_to_retry("thread/goal/get"));
        assert!(safe_to_retry("model/list"));
        assert!(!safe_to_retry("turn/start"));
        assert!(!safe_to_retry("thread/goal/set"));
    }

    #[test]
    fn backoff_grows_and_jitters_within_bounds() {
        for attempt in 1..=4 {
            let ceiling = BASE * 2u32.pow(attempt - 1);
            for _ in 0..50 {
                let d = backoff(attempt);
                assert!(d >= ceiling / 2 && d <= ceiling, "attempt {attempt}: {d:?}");
            }
        }
        let spread: std::collections::HashSet<_> = (0..50).map(|_| backoff(3)).collect();
        assert!(spread.len() > 1, "jittered");
    }
}
