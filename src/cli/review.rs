//! `mpcheck review`: the golden changes staged by earlier runs, one at a time with their
//! diff and where they come from; accept (`a`), reject (`r`) or skip (`s`) each, accept
//! this and the rest (`A`) or quit (`q`), or `--accept`/`--reject` all (for scripts).
//! Entries of cases that no longer exist are dropped. Refuses to write in CI, like bless.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;

use crate::expect::golden::pending::{Pending, PendingStore};
use crate::plan::config::Project;
use crate::util::error::{Error, Result, exit};

#[derive(Args)]
pub struct ReviewArgs {
    /// Accept every pending change (the goldens become the staged results).
    #[arg(long, conflicts_with = "reject")]
    pub accept: bool,
    /// Reject every pending change (the goldens stay as they are).
    #[arg(long)]
    pub reject: bool,
    /// Only changes whose golden path contains this.
    pub filter: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Accept,
    Reject,
    Skip,
    /// Accept this one and every one after it.
    AcceptAll,
    /// Stop here; the rest stay pending.
    Quit,
}

/// The reviewer's answer; `None` for one that means nothing (asked again: a typo must
/// not silently skip).
fn parse_choice(answer: &str) -> Option<Choice> {
    match answer.trim() {
        "a" => Some(Choice::Accept),
        "r" => Some(Choice::Reject),
        "s" => Some(Choice::Skip),
        "A" => Some(Choice::AcceptAll),
        "q" => Some(Choice::Quit),
        _ => None,
    }
}

const PROMPT: &str = "a: accept, r: reject, s: skip, A: accept this and the rest, q: quit";

/// Asks until the answer means something; `None` at the end of input.
fn ask(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    out: &mut impl Write,
    at: &str,
) -> Result<Option<Choice>> {
    loop {
        let _ = write!(out, "[{at}] {PROMPT} > ");
        let _ = out.flush();
        let Some(line) = lines
            .next()
            .transpose()
            .map_err(|e| Error::io("stdin", e))?
        else {
            return Ok(None);
        };
        match parse_choice(&line) {
            Some(choice) => return Ok(Some(choice)),
            None => {
                let _ = writeln!(out, "unknown answer {:?}", line.trim());
            }
        }
    }
}

/// Drops the entries whose case no longer exists (nothing could confirm or redo them),
/// saying so; returns the others.
fn drop_orphans(
    project: &Project,
    store: &PendingStore,
    entries: Vec<(std::path::PathBuf, Pending)>,
) -> Result<Vec<(std::path::PathBuf, Pending)>> {
    let mut kept = Vec::new();
    for (file, entry) in entries {
        if project
            .cases_dir()
            .join(format!("{}.py", entry.case))
            .is_file()
        {
            kept.push((file, entry));
        } else {
            store.reject(&file)?;
            eprintln!(
                "review: dropped the pending change to {}: case {} no longer exists",
                entry.golden.display(),
                entry.case
            );
        }
    }
    Ok(kept)
}

pub fn review(project: &Project, args: &ReviewArgs) -> Result<i32> {
    let store = PendingStore::new(&project.root);
    let all = drop_orphans(project, &store, store.list()?)?;
    let pending = all.len();
    let entries: Vec<_> = all
        .into_iter()
        .filter(|(_, p)| {
            args.filter
                .as_deref()
                .is_none_or(|f| p.golden.to_string_lossy().contains(f))
        })
        .collect();
    if entries.is_empty() {
        match (&args.filter, pending) {
            (Some(f), 1..) => eprintln!(
                "review: no pending golden change matches `{f}` ({pending} pending in all)"
            ),
            _ => eprintln!("review: no pending golden changes"),
        }
        return Ok(exit::OK);
    }
    if args.accept || args.reject {
        crate::expect::golden::may_bless(false, std::env::var("CI").ok().as_deref())
            .map_err(Error::Usage)?;
    }
    let interactive = !args.accept && !args.reject;
    if interactive && !std::io::stdin().is_terminal() {
        // No one to ask: show what is pending and leave it.
        for (_, entry) in &entries {
            print!("{}", render(&store, entry)?);
        }
        eprintln!(
            "review: {} pending; run `mpcheck review` in a terminal, or with --accept / --reject",
            entries.len()
        );
        return Ok(exit::FAILURES);
    }
    let (mut accepted, mut rejected, mut skipped) = (0, 0, 0);
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut all = args.accept;
    for (i, (file, entry)) in entries.iter().enumerate() {
        print!("{}", render(&store, entry)?);
        let choice = if all {
            Choice::Accept
        } else if args.reject {
            Choice::Reject
        } else {
            let at = format!("{}/{}", i + 1, entries.len());
            match ask(&mut lines, &mut std::io::stdout(), &at)? {
                Some(choice) => choice,
                None => break,
            }
        };
        match choice {
            Choice::Quit => break,
            Choice::Accept | Choice::AcceptAll => {
                all |= choice == Choice::AcceptAll;
                store.accept(file, entry)?;
                println!("accepted {}", entry.golden.display());
                accepted += 1;
            }
            Choice::Reject => {
                store.reject(file)?;
                println!("rejected {}", entry.golden.display());
                rejected += 1;
            }
            Choice::Skip => skipped += 1,
        }
    }
    let left = entries.len() - accepted - rejected;
    eprintln!(
        "review: {accepted} accepted, {rejected} rejected, {skipped} skipped, {left} still pending"
    );
    Ok(exit::OK)
}

/// Diff lines shown per pending change: a reviewer reads them all, but a change of a
/// million lines is not read on a terminal.
const REVIEW_LINES: usize = 2000;

/// One pending change as a reviewer sees it: the golden, then a unified diff.
fn render(store: &PendingStore, entry: &crate::expect::golden::pending::Pending) -> Result<String> {
    let now = store.current(entry)?;
    let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
    let golden = entry.golden.display().to_string();
    let (old, new) = (text(now.as_deref()), text(entry.new_bytes().as_deref()));
    let what = match (&old, &new) {
        (None, Some(_)) => "new golden",
        (Some(_), None) => "remove golden",
        _ => "changed golden",
    };
    let diff = crate::util::diff::unified(
        old.as_deref().unwrap_or(""),
        new.as_deref().unwrap_or(""),
        &golden,
        &format!("{golden} (pending)"),
        REVIEW_LINES,
        None,
    );
    let origin = match &entry.staged {
        Some(origin) => origin.to_string(),
        None => "staged by an earlier mpcheck that did not record its run".to_string(),
    };
    let text = format!("{what} {golden} (case {}, {origin}):\n{diff}", entry.case);
    Ok(crate::util::escape::controls(&text).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_answer_is_asked_again() {
        let mut lines = ["x", "", "A"].map(|l| Ok(l.to_string())).into_iter();
        let mut out = Vec::new();
        let choice = ask(&mut lines, &mut out, "1/3").unwrap();
        assert_eq!(choice, Some(Choice::AcceptAll));
        let out = String::from_utf8_lossy(&out);
        assert_eq!(out.matches("[1/3]").count(), 3, "{out}");
        assert!(out.contains("unknown answer \"x\""), "{out}");
    }

    #[test]
    fn every_answer_has_its_meaning_and_the_end_of_input_stops() {
        assert_eq!(parse_choice("q"), Some(Choice::Quit));
        assert_eq!(parse_choice(" a\n"), Some(Choice::Accept));
        assert_eq!(parse_choice("r"), Some(Choice::Reject));
        assert_eq!(parse_choice("s"), Some(Choice::Skip));
        assert_eq!(parse_choice("yes"), None);
        let mut none = std::iter::empty();
        assert_eq!(ask(&mut none, &mut Vec::new(), "1/1").unwrap(), None);
    }
}
