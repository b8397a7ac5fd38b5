//! Arbitrary bytes at the start of a connection: the PROXY header parser must never panic, and
//! what it accepts must be self-consistent (the header does not depend on the bytes after it,
//! and one byte less is an incomplete header, never another header).

#![no_main]

use gatehouse_net::proxy_protocol::{ProxyError, parse_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((header, used)) = parse_bytes(data) {
        assert!(used > 0 && used <= data.len());
        let again = parse_bytes(&data[..used]).expect("the header alone parses");
        assert_eq!(again, (header.clone(), used));
        assert!(matches!(
            parse_bytes(&data[..used - 1]),
            Err(ProxyError::Truncated)
        ));
        if header.local {
            assert!(header.source.is_none() && header.link_id.is_none());
        }
        assert!(header.version == 1 || header.version == 2);
    }
});
