//! JSONL framing: one message per line, over any reader.

use crate::envelope::{DecodeError, Message, RequestId, RpcError};
use serde_json::Value;
use std::io::BufRead;

/// Reads messages line by line from any [`BufRead`]. Blank lines are skipped; a line that is not a
/// message is returned as an error together with its text so the caller can report it and go on.
pub struct JsonlReader<R> {
    inner: R,
    buf: String,
}

impl<R: BufRead> JsonlReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            buf: String::new(),
        }
    }
}

impl<R: BufRead> Iterator for JsonlReader<R> {
    type Item = std::io::Result<Result<Message, (DecodeError, String)>>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            self.buf.clear();
            match self.inner.read_line(&mut self.buf) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => return Some(Err(e)),
            }
            let line = self.buf.trim_end_matches(['\n', '\r']);
            if line.trim().is_empty() {
                continue;
            }
            return Some(Ok(Message::decode(line).map_err(|e| (e, line.to_owned()))));
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
