//! Property tests of the framing: however the bytes are split, the same messages come out; no
//! input, however broken, makes decoding panic. `JsonlReader` runs on `LineSplitter`, the splitter
//! the native client's reader runs on, so these exercise what ships.

use codex_sdk_protocol::{Headline, JsonlReader, Message, RequestId, RpcError};
use proptest::prelude::*;
use serde_json::json;
use std::io::{BufReader, Read};

/// A reader that hands out its bytes in the given chunk sizes, as a pipe might.
struct Chunked {
    data: Vec<u8>,
    pos: usize,
    sizes: Vec<usize>,
    turn: usize,
}

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos >= self.data.len() {
            return Ok(0);
        }
        let want = self.sizes[self.turn % self.sizes.len()].max(1);
        self.turn += 1;
        let n = want.min(buf.len()).min(self.data.len() - self.pos);
        buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

fn message() -> impl Strategy<Value = Message> {
    let text = "[a-zA-Z0-9 /_\\-é✓\"\\\\]{0,40}";
    prop_oneof![
        (any::<i64>(), text, text).prop_map(|(id, m, p)| Message::Request {
            id: RequestId::Int(id),
            method: m,
            params: Some(json!({"p": p}))
        }),
        (text, text).prop_map(|(m, p)| Message::Notification {
            method: m,
            params: Some(json!({"threadId": p, "n": [1, 2]}))
        }),
        (text, any::<i32>()).prop_map(|(id, v)| Message::Response {
            id: RequestId::Str(id),
            result: json!({"v": v})
        }),
        (any::<i64>(), any::<i64>(), text).prop_map(|(id, code, m)| Message::Error {
            id: Some(RequestId::Int(id)),
            error: RpcError {
                code,
                message: m,
                data: None
            }
        }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_split_of_the_stream_yields_the_same_messages(
        messages in prop::collection::vec(message(), 1..20),
        sizes in prop::collection::vec(1usize..64, 1..8),
        capacity in 1usize..128,
    ) {
        let data: String = messages.iter().map(|m| m.encode() + "\n").collect();
        let reader = BufReader::with_capacity(capacity, Chunked { data: data.into_bytes(), pos: 0, sizes, turn: 0 });
        let out: Vec<Message> = JsonlReader::new(reader).map(|r| r.unwrap().unwrap()).collect();
        prop_assert_eq!(out, messages);
    }

    #[test]
    fn truncated_messages_are_errors_never_panics(m in message(), cut in 0usize..200) {
        let line = m.encode();
        let cut = cut.min(line.len().saturating_sub(1));
        if line.is_char_boundary(cut) {
            prop_assert!(Message::decode(&line[..cut]).is_err());
        }
    }

    #[test]
    fn arbitrary_text_never_panics(s in ".{0,200}") {
        let _ = Message::decode(&s);
    }

    #[test]
    fn arbitrary_json_never_panics(v in arbitrary_json()) {
        let _ = Message::decode(&v.to_string());
    }

    /// The reader's fast scan reads what the full parse reads, on any line the full parse takes;
    /// and it never panics, whatever the text.
    #[test]
    fn the_fast_scan_agrees_with_the_full_parse(v in arbitrary_json(), text in ".{0,120}") {
        for line in [v.to_string(), text] {
            if let Some(parsed) = Headline::peek(&line) {
                let scanned = Headline::scan(&line);
                prop_assert!(scanned.is_some(), "scan refused {}", line);
                prop_assert_eq!(format!("{:?}", scanned.unwrap()), format!("{parsed:?}"), "{}", line);
            } else {
                let _ = Headline::scan(&line);
            }
        }
    }
}

fn arbitrary_json() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "[a-z\"\\\\ {}\\[\\]]{0,8}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::hash_map(
                prop_oneof![
                    Just("id".to_owned()),
                    Just("method".to_owned()),
                    Just("result".to_owned()),
                    Just("error".to_owned()),
                    Just("params".to_owned()),
                    Just("threadId".to_owned()),
                    Just("turnId".to_owned()),
                    Just("turn".to_owned()),
                    Just("item".to_owned()),
                    Just("goal".to_owned()),
                    "[a-z]{1,4}"
                ],
                inner,
                0..5
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}
