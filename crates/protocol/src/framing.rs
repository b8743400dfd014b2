//! JSONL framing: one message per line, over any reader.

use crate::envelope::{DecodeError, Message, RequestId, RpcError};
use serde_json::Value;
use std::io::BufRead;

/// Splits a byte stream into lines, with no I/O: feed it what a reader produced, in order, and it
/// hands out each complete line (its `\n` and a trailing `\r` removed). A line split across reads is
/// kept until its end arrives; a line inside one read is handed out in place, not copied. No line
/// length limit: a 20 MB line arrives whole. The native client's reader runs on this, over any
/// async reader, and so does [`JsonlReader`] over any [`BufRead`].
#[derive(Debug, Default)]
pub struct LineSplitter {
    partial: Vec<u8>,
}

impl LineSplitter {
    /// Takes the next bytes of the stream; calls `on_line` for each line they complete.
    pub fn feed(&mut self, bytes: &[u8], mut on_line: impl FnMut(&[u8])) {
        let mut rest = bytes;
        while let Some(end) = memchr::memchr(b'\n', rest) {
            let (line, tail) = rest.split_at(end);
            if self.partial.is_empty() {
                on_line(trim_cr(line));
            } else {
                self.partial.extend_from_slice(line);
                on_line(trim_cr(&self.partial));
                self.partial.clear();
            }
            rest = &tail[1..];
        }
        self.partial.extend_from_slice(rest);
    }

    /// At the end of the stream: the last line, if it had no newline.
    pub fn finish(&mut self, mut on_line: impl FnMut(&[u8])) {
        if !self.partial.is_empty() {
            on_line(trim_cr(&self.partial));
            self.partial.clear();
        }
    }
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Reads messages line by line from any [`BufRead`], on [`LineSplitter`]. Blank lines are skipped;
/// a line that is not a message is returned as an error together with its text so the caller can
/// report it and go on.
pub struct JsonlReader<R> {
    inner: R,
    splitter: LineSplitter,
    ready: std::collections::VecDeque<String>,
    ended: bool,
}

impl<R: BufRead> JsonlReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            splitter: LineSplitter::default(),
            ready: std::collections::VecDeque::new(),
            ended: false,
        }
    }
}

impl<R: BufRead> Iterator for JsonlReader<R> {
    type Item = std::io::Result<Result<Message, (DecodeError, String)>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(line) = self.ready.pop_front() {
                if line.trim().is_empty() {
                    continue;
                }
                return Some(Ok(Message::decode(&line).map_err(|e| (e, line))));
            }
            if self.ended {
                return None;
            }
            let ready = &mut self.ready;
            let take = |l: &[u8]| ready.push_back(String::from_utf8_lossy(l).into_owned());
            let buf = match self.inner.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Some(Err(e)),
            };
            if buf.is_empty() {
                self.ended = true;
                self.splitter.finish(take);
                continue;
            }
            let n = buf.len();
            self.splitter.feed(buf, take);
            self.inner.consume(n);
        }
    }
}

pub fn encode_request(id: &RequestId, method: &str, params: Option<&Value>) -> String {
    Message::Request {
        id: id.clone(),
        method: method.to_owned(),
        params: params.cloned(),
    }
    .encode()
}

pub fn encode_notification(method: &str, params: Option<&Value>) -> String {
    Message::Notification {
        method: method.to_owned(),
        params: params.cloned(),
    }
    .encode()
}

pub fn encode_response(id: &RequestId, result: Value) -> String {
    Message::Response { id: id.clone(), result }.encode()
}

pub fn encode_error_response(id: &RequestId, error: RpcError) -> String {
    Message::Error {
        id: Some(id.clone()),
        error,
    }
    .encode()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_messages_and_reports_noise_in_place() {
        let input = "npm banner\n{\"method\":\"a\"}\n\n{\"id\":1,\"result\":{}}\r\n{broken\n";
        let out: Vec<_> = JsonlReader::new(input.as_bytes()).map(|r| r.unwrap()).collect();
        assert_eq!(out.len(), 4);
        assert!(matches!(&out[0], Err((DecodeError::NotJson(_), l)) if l == "npm banner"));
        assert_eq!(out[1].as_ref().unwrap().method(), Some("a"));
        assert!(matches!(out[2], Ok(Message::Response { .. })));
        assert!(matches!(&out[3], Err((DecodeError::NotJson(_), l)) if l == "{broken"));
    }

    #[test]
    fn lines_split_anywhere_across_reads_arrive_whole_and_in_place_when_they_can() {
        let mut s = LineSplitter::default();
        let mut got: Vec<String> = Vec::new();
        let mut take = |l: &[u8]| got.push(String::from_utf8(l.to_vec()).unwrap());
        s.feed(b"one\r\ntw", &mut take);
        s.feed(b"o\n\nthr", &mut take);
        s.feed(b"ee", &mut take);
        s.finish(&mut take);
        assert_eq!(got, ["one", "two", "", "three"]);
    }

    #[test]
    fn a_long_line_arrives_whole() {
        let big = "x".repeat(5 << 20);
        let input = format!("{{\"method\":\"m\",\"params\":{{\"s\":\"{big}\"}}}}\n");
        let mut r = JsonlReader::new(std::io::BufReader::with_capacity(4096, input.as_bytes()));
        let Message::Notification { params: Some(p), .. } = r.next().unwrap().unwrap().unwrap() else {
            panic!("expected a notification")
        };
        assert_eq!(p["s"].as_str().unwrap().len(), big.len());
    }
}
