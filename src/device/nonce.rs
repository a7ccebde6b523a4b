//! Nonces that mark the harness's own lines in a board's output: a case cannot print one
//! it was never shown, so it cannot forge the end of its run or its heap report.

use std::hash::{BuildHasher, Hasher};

/// A fresh, unguessable nonce (64 random bits from the OS-seeded hasher, and time).
pub(crate) fn nonce() -> Vec<u8> {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("@{:016x}@", h.finish()).into_bytes()
}

#[cfg(test)]
mod tests {
    #[test]
    fn nonces_differ() {
        assert_ne!(super::nonce(), super::nonce());
    }
}
