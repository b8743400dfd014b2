use codex_sdk_protocol::TokenUsageBreakdown;

/// Adds one response's usage to a running sum. Fields we do not model are not summed: their
/// meaning is unknown, so a sum could be wrong.
pub fn add_usage(sum: &mut Option<TokenUsageBreakdown>, last: &TokenUsageBreakdown) {
    let s = sum.get_or_insert_with(|| TokenUsageBreakdown {
        cache_write_input_tokens: Some(0),
        cached_input_tokens: 0,
        input_tokens: 0,
        output_tokens: 0,
        reasoning_output_tokens: 0,
        total_tokens: 0,
        extra: Default::default(),
    });
    s.total_tokens += last.total_tokens;
    s.input_tokens += last.input_tokens;
    s.cached_input_tokens += last.cached_input_tokens;
    s.output_tokens += last.output_tokens;
    s.reasoning_output_tokens += last.reasoning_output_tokens;
    s.cache_write_input_tokens =
        Some(s.cache_write_input_tokens.unwrap_or(0) + last.cache_write_input_tokens.unwrap_or(0));
}
