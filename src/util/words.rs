//! How messages word counts: one place for "1 trial" and "2 trials", so no message
//! says "1 trials". A leaf: every module may use it.

/// `n` and its noun, singular for one: "1 trial", "2 trials", "0 trials".
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_is_singular_and_the_rest_plural() {
        assert_eq!(super::count(1, "trial", "trials"), "1 trial");
        assert_eq!(super::count(0, "trial", "trials"), "0 trials");
        assert_eq!(super::count(2, "entry", "entries"), "2 entries");
    }
}
