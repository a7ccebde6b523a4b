//! "Did you mean": the names nearest a misspelt one, for error messages.

/// The candidates within typing distance of `word` (a third of its length, at least
/// two edits), nearest first, at most three.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    let lower = word.to_lowercase();
    let mut near: Vec<(usize, &str)> = candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&lower, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .collect();
    near.sort();
    near.dedup_by(|a, b| a.1 == b.1);
    near.into_iter().take(3).map(|(_, c)| c).collect()
}

/// `"; did you mean `x`?"` for the nearest candidates, or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    let near = nearest(word, candidates);
    if near.is_empty() {
        return String::new();
    }
    let names: Vec<String> = near.iter().map(|n| format!("`{n}`")).collect();
    format!("; did you mean {}?", names.join(" or "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_is_suggested_and_a_stranger_is_not() {
        let boards = ["unix", "webassembly", "cpython", "mps2-an385-qemu"];
        assert_eq!(did_you_mean("unx", boards), "; did you mean `unix`?");
        assert_eq!(
            did_you_mean("mps2-an386-qemu", boards),
            "; did you mean `mps2-an385-qemu`?"
        );
        assert_eq!(did_you_mean("pyboard", boards), "");
        assert_eq!(nearest("timout", ["timeout", "modes", "kind"]), ["timeout"]);
    }
}
