//! The last bytes the app-server wrote to stderr, kept for error messages.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncReadExt};

pub const STDERR_TAIL_BYTES: usize = 64 * 1024;

#[derive(Clone, Default)]
pub struct StderrTail(Arc<Mutex<VecDeque<u8>>>);

impl StderrTail {
    pub fn push(&self, bytes: &[u8]) {
        let mut buf = crate::lock(&self.0);
        buf.extend(bytes);
        let excess = buf.len().saturating_sub(STDERR_TAIL_BYTES);
        buf.drain(..excess);
    }

    pub fn text(&self) -> String {
        let buf = crate::lock(&self.0);
        let (a, b) = buf.as_slices();
        let mut bytes = Vec::with_capacity(buf.len());
        bytes.extend_from_slice(a);
        bytes.extend_from_slice(b);
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// The tail as a person should read it in an error: terminal escapes removed, and a Rust
    /// backtrace block (`Stack backtrace:` and its frames) dropped.
    pub fn readable(&self) -> String {
        readable(&self.text())
    }

    /// Drains a stream into the tail until it ends.
    pub async fn collect(self, mut stream: impl AsyncRead + Unpin) {
        let mut chunk = vec![0u8; 8192];
        while let Ok(n) = stream.read(&mut chunk).await {
            if n == 0 {
                break;
            }
            self.push(&chunk[..n]);
        }
    }
}

fn readable(text: &str) -> String {
    let plain = strip_ansi(text);
    let mut out = Vec::new();
    let mut in_backtrace = false;
    for line in plain.lines() {
        if line.trim_start().starts_with("Stack backtrace:") {
            in_backtrace = true;
            continue;
        }
        // Frames are indented (`   0: …`, `      at …`); the block ends at the first line that is not.
        if in_backtrace && (line.starts_with(char::is_whitespace) || line.is_empty()) {
            continue;
        }
        in_backtrace = false;
        out.push(line);
    }
    out.join("\n")
}

/// Removes ANSI escape sequences (colours, cursor moves, titles) from log text.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // CSI: parameters and intermediates, then one final byte in @..~.
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC: up to BEL or ESC \.
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' || (c == '\u{1b}' && chars.next_if_eq(&'\\').is_some()) {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_last_64_kib() {
        let t = StderrTail::default();
        t.push(&vec![b'a'; STDERR_TAIL_BYTES]);
        t.push(b"tail");
        let text = t.text();
        assert_eq!(text.len(), STDERR_TAIL_BYTES);
        assert!(text.ends_with("atail"));
    }

    #[test]
    fn readable_text_has_no_escapes_and_no_backtrace() {
        let raw = "\u{1b}[2m2026-01-01\u{1b}[0m \u{1b}[31mERROR\u{1b}[0m bad config\n\u{1b}]0;title\u{7}Error: invalid value\nStack backtrace:\n   0: std::backtrace\n      at /rustc/x\n   1: main\nafter\n";
        assert_eq!(
            readable(raw),
            "2026-01-01 ERROR bad config\nError: invalid value\nafter"
        );
    }
}
