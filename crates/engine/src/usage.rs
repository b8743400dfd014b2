use codex_sdk_protocol::TokenUsageBreakdown;

/// A logical turn's token usage: the sum of its model responses. Each update carries one response
/// (`last`) and the thread's running total after it (`total`); the totals make the sum exact when
/// updates are missed or repeated, as around a dropped connection (a resumed thread is sent its
/// latest update again, and the ones sent during the gap never arrive).
///
/// What the totals cannot give is the start: when the run's first update is missed (a gap before
/// its first model response ended, or a run attached to after it began), the sum needs the thread's
/// total before the run, its *base*, from elsewhere ([`rebase`](Usage::rebase)).
#[derive(Debug, Default, Clone)]
pub struct Usage {
    sum: Option<TokenUsageBreakdown>,
    /// The thread's total at the last update taken.
    total: Option<TokenUsageBreakdown>,
    /// A gap came before any update was taken: updates may have been missed before the first one
    /// taken, and only a base makes the sum exact.
    needs_base: bool,
}

impl Usage {
    pub fn sum(&self) -> Option<&TokenUsageBreakdown> {
        self.sum.as_ref()
    }

    /// The connection dropped, or the run is attached to after it began.
    pub fn gap(&mut self) {
        if self.total.is_none() {
            self.needs_base = true;
        }
    }

    pub fn needs_base(&self) -> bool {
        self.needs_base
    }

    /// The thread's running total before the run's first model response: the sum becomes the
    /// thread's total now (or at the next update) less it.
    pub fn rebase(&mut self, base: &TokenUsageBreakdown) {
        self.needs_base = false;
        match &self.total {
            Some(now) => {
                if let Some(sum) = difference(now, base) {
                    self.sum = Some(sum);
                }
            }
            None => self.total = Some(base.clone()),
        }
    }

    pub fn update(&mut self, last: Option<&TokenUsageBreakdown>, total: Option<&TokenUsageBreakdown>) {
        let grown = match (total, &self.total) {
            // The same total again: an update already taken.
            (Some(now), Some(before)) if same(now, before) => return,
            // What the thread used since the last update taken, when the totals say so plainly;
            // otherwise (a total that shrank, say) only this response is known.
            (Some(now), Some(before)) => difference(now, before),
            _ => None,
        };
        if let Some(add) = grown.as_ref().or(last) {
            add_to(&mut self.sum, add);
        }
        if total.is_some() {
            self.total = total.cloned();
        }
    }
}

/// The modelled fields only: fields we do not model are not summed, since their meaning is unknown.
fn fields(u: &TokenUsageBreakdown) -> [i64; 6] {
    [
        u.total_tokens,
        u.input_tokens,
        u.cached_input_tokens,
        u.output_tokens,
        u.reasoning_output_tokens,
        u.cache_write_input_tokens.unwrap_or(0),
    ]
}

fn from_fields([total, input, cached, output, reasoning, cache_write]: [i64; 6]) -> TokenUsageBreakdown {
    TokenUsageBreakdown {
        total_tokens: total,
        input_tokens: input,
        cached_input_tokens: cached,
        output_tokens: output,
        reasoning_output_tokens: reasoning,
        cache_write_input_tokens: Some(cache_write),
        extra: Default::default(),
    }
}

fn same(a: &TokenUsageBreakdown, b: &TokenUsageBreakdown) -> bool {
    fields(a) == fields(b)
}

fn difference(now: &TokenUsageBreakdown, before: &TokenUsageBreakdown) -> Option<TokenUsageBreakdown> {
    let (now, before) = (fields(now), fields(before));
    let mut out = [0; 6];
    for i in 0..6 {
        out[i] = now[i].checked_sub(before[i]).filter(|d| *d >= 0)?;
    }
    Some(from_fields(out))
}

fn add_to(sum: &mut Option<TokenUsageBreakdown>, add: &TokenUsageBreakdown) {
    let before = sum.as_ref().map_or([0; 6], fields);
    let add = fields(add);
    let mut out = [0; 6];
    for i in 0..6 {
        out[i] = before[i].saturating_add(add[i]);
    }
    *sum = Some(from_fields(out));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u(total: i64, input: i64) -> TokenUsageBreakdown {
        from_fields([total, input, 0, total - input, 0, 0])
    }

    fn run(updates: &[(i64, i64)]) -> i64 {
        let mut usage = Usage::default();
        for &(last, total) in updates {
            usage.update(Some(&u(last, last - 1)), Some(&u(total, total - 1)));
        }
        usage.sum().map_or(0, |s| s.total_tokens)
    }

    #[test]
    fn sums_each_response_not_the_threads_total() {
        // The thread had used 1000 before this turn.
        assert_eq!(run(&[(100, 1100), (200, 1300)]), 300);
    }

    #[test]
    fn an_update_sent_again_is_taken_once() {
        assert_eq!(run(&[(100, 1100), (200, 1300), (200, 1300)]), 300);
    }

    #[test]
    fn updates_missed_in_a_gap_are_recovered_from_the_totals() {
        // The 200 and 300 responses were sent while disconnected; the 300 one is sent again later.
        assert_eq!(run(&[(100, 100), (300, 600)]), 600);
    }

    #[test]
    fn a_total_that_shrinks_falls_back_to_the_response() {
        assert_eq!(run(&[(100, 1100), (50, 500)]), 150);
    }

    #[test]
    fn a_base_recovers_what_a_gap_before_the_first_update_hid() {
        // The thread had used 1000; the run's 100 and 200 responses were sent while disconnected;
        // the resumed connection is sent the latest update again, then the run goes on.
        let mut usage = Usage::default();
        usage.gap();
        assert!(usage.needs_base());
        usage.rebase(&u(1000, 999));
        assert!(!usage.needs_base());
        usage.update(Some(&u(200, 199)), Some(&u(1300, 1299)));
        usage.update(Some(&u(50, 49)), Some(&u(1350, 1349)));
        assert_eq!(usage.sum().unwrap().total_tokens, 350);

        // The base can come after the updates taken since the gap, too.
        let mut usage = Usage::default();
        usage.gap();
        usage.update(Some(&u(200, 199)), Some(&u(1300, 1299)));
        assert_eq!(
            usage.sum().unwrap().total_tokens,
            200,
            "only what was seen, until the base is known"
        );
        usage.rebase(&u(1000, 999));
        assert_eq!(usage.sum().unwrap().total_tokens, 300);
    }

    #[test]
    fn a_gap_after_an_update_needs_no_base() {
        let mut usage = Usage::default();
        usage.update(Some(&u(100, 99)), Some(&u(1100, 1099)));
        usage.gap();
        assert!(!usage.needs_base());
    }

    #[test]
    fn without_totals_each_response_is_summed() {
        let mut usage = Usage::default();
        usage.update(Some(&u(10, 9)), None);
        usage.update(Some(&u(10, 9)), None);
        assert_eq!(usage.sum().unwrap().total_tokens, 20);
    }
}
