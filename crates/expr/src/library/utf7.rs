//! UTF-7 as .NET's `UTF7Encoding` (`Encoding.UTF7`, optional direct characters not allowed)
//! writes and reads it: RFC 2152 with every shifted run closed by '-', '+' written "+-", and a
//! byte above 0x7F read as U+FFFD.

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const DIRECT: &[u8] =
    b"\t\n\r '(),-./0123456789:?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

fn b64_value(b: u8) -> Option<u32> {
    B64.iter().position(|&x| x == b).map(|p| p as u32)
}

pub(super) fn encode(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let (mut bits, mut count) = (0u32, -1i32);
    let close = |out: &mut Vec<u8>, bits: u32, count: &mut i32| {
        if *count > 0 {
            out.push(B64[((bits << (6 - *count)) & 0x3F) as usize]);
        }
        out.push(b'-');
        *count = -1;
    };
    for u in s.encode_utf16() {
        if u < 0x80 && DIRECT.contains(&(u as u8)) {
            if count >= 0 {
                close(&mut out, bits, &mut count);
            }
            out.push(u as u8);
        } else if count < 0 && u == u16::from(b'+') {
            out.extend_from_slice(b"+-");
        } else {
            if count < 0 {
                out.push(b'+');
                count = 0;
            }
            bits = (bits << 16) | u32::from(u);
            count += 16;
            while count >= 6 {
                count -= 6;
                out.push(B64[((bits >> count) & 0x3F) as usize]);
            }
        }
    }
    if count >= 0 {
        close(&mut out, bits, &mut count);
    }
    out
}

pub(super) fn decode(b: &[u8]) -> String {
    let mut units: Vec<u16> = Vec::with_capacity(b.len());
    let (mut bits, mut count, mut first) = (0u32, -1i32, false);
    for &x in b {
        if count >= 0 {
            if let Some(v) = b64_value(x) {
                first = false;
                bits = (bits << 6) | v;
                count += 6;
                if count >= 16 {
                    units.push(((bits >> (count - 16)) & 0xFFFF) as u16);
                    count -= 16;
                }
                continue;
            }
            // Any other byte ends the shifted run; a '-' there is absorbed ("+-" is '+').
            count = -1;
            if x == b'-' {
                if first {
                    units.push(u16::from(b'+'));
                }
                continue;
            }
        } else if x == b'+' {
            count = 0;
            first = true;
            bits = 0;
            continue;
        }
        units.push(if x < 0x80 { u16::from(x) } else { 0xFFFD });
    }
    char::decode_utf16(units)
        .map(|r| r.unwrap_or('\u{fffd}'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_as_dotnet_writes() {
        assert_eq!(encode("Hi Mom -☺-!"), b"Hi Mom -+Jjo--+ACE-");
        assert_eq!(encode("a+b"), b"a+-b");
        assert_eq!(encode("é"), b"+AOk-");
        assert_eq!(decode(b"Hi Mom -+Jjo--+ACE-"), "Hi Mom -☺-!");
        assert_eq!(decode(b"a+-b"), "a+b");
        assert_eq!(decode(b"+AOk"), "é");
    }
}
