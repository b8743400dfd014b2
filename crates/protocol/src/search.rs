//! Finding the bytes that end or complicate a JSON string, eight at a time. Most strings of a
//! protocol line (keys, ids, a delta's few words) are shorter than what memchr's dispatch and setup
//! pay for; only a long rest is handed to memchr.

const ONES: u64 = u64::from_ne_bytes([1; 8]);
const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);

/// Flags the bytes of `w` below `n` (bytes of 0x80 and up never are). The lowest flag is exact: a
/// false flag can only sit above a true one, so the lowest of several such tests is exact too.
fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGH
}

/// The first `"` or `\` of `bytes` (what a scan that does not validate stops at).
pub(crate) fn quote_or_escape(bytes: &[u8]) -> Option<usize> {
    first::<false>(bytes)
}

/// The first `"`, `\` or control character (below 0x20) of `bytes`: one pass finds a string's end
/// and says whether it needs decoding or is no JSON at all.
pub(crate) fn quote_escape_or_control(bytes: &[u8]) -> Option<usize> {
    first::<true>(bytes)
}

fn first<const CONTROL: bool>(bytes: &[u8]) -> Option<usize> {
    let special = |b: u8| b == b'"' || b == b'\\' || (CONTROL && b < 0x20);
    let mut i = 0;
    while let Some(word) = bytes.get(i..i + 8) {
        let w = u64::from_le_bytes(word.try_into().ok()?);
        let mut hits = below(w ^ (ONES * u64::from(b'"')), 1) | below(w ^ (ONES * u64::from(b'\\')), 1);
        if CONTROL {
            hits |= below(w, 0x20);
        }
        if hits != 0 {
            return Some(i + hits.trailing_zeros() as usize / 8);
        }
        i += 8;
        // memchr finds two bytes, not a range: control characters are searched here to the end.
        if !CONTROL && i == 40 {
            return memchr::memchr2(b'"', b'\\', &bytes[i..]).map(|j| i + j);
        }
    }
    bytes[i..].iter().position(|&b| special(b)).map(|j| i + j)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_word_at_a_time_search_finds_what_a_plain_search_finds() {
        // Every length across the word and memchr boundaries, the target at every place, with
        // bytes around it that a word test could mistake (0x01 after a hit, high bytes, near misses).
        for len in 0..100 {
            for fill in [b'a', 0x01, 0xa2, b'"' ^ 0x80, b'\\' + 1] {
                for at in (0..len).map(Some).chain([None]) {
                    for target in [b'"', b'\\'] {
                        let mut bytes = vec![fill; len];
                        if let Some(at) = at {
                            bytes[at] = target;
                            if at + 1 < len {
                                bytes[at + 1] = if fill == b'a' { b'"' } else { 0x01 };
                            }
                        }
                        let plain = bytes.iter().position(|&b| b == b'"' || b == b'\\');
                        assert_eq!(quote_or_escape(&bytes), plain, "{bytes:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn control_characters_are_found_as_a_plain_search_finds_them() {
        // Every length up to three words, a special byte (or none) at every place, bytes of every
        // kind around it: the ones next to each special value, and UTF-8's high bytes.
        let fillers = [b'a', b'!', b'#', b'[', b']', 0x20, 0x7f, 0x80, 0xc3, 0xff];
        let specials = [b'"', b'\\', 0x00, 0x1f, 0x0a];
        for len in 0..24 {
            for filler in fillers {
                for at in 0..=len {
                    for special in specials {
                        let mut bytes = vec![filler; len];
                        if at < len {
                            bytes[at] = special;
                        }
                        for tail in [None, Some(b'"')] {
                            let mut b = bytes.clone();
                            b.extend(tail);
                            let want = b.iter().position(|&x| x == b'"' || x == b'\\' || x < 0x20);
                            assert_eq!(quote_escape_or_control(&b), want, "{b:?}");
                        }
                    }
                }
            }
        }
    }
}
