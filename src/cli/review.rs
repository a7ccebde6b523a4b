//! `mpcheck review`: the golden changes staged by earlier runs, one at a time with their
//! diff; accept (`a`), reject (`r`) or skip (`s`) each, or `--accept`/`--reject` all
//! (for scripts). Refuses to write in CI, like bless.

use std::io::{BufRead, IsTerminal, Write};

use clap::Args;

use crate::config::Project;
use crate::error::{Error, Result, exit};
use crate::golden::pending::PendingStore;

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

enum Choice {
    Accept,
    Reject,
    Skip,
}

pub fn review(project: &Project, args: &ReviewArgs) -> Result<i32> {
    let store = PendingStore::new(&project.root);
    let entries: Vec<_> = store
        .list()?
        .into_iter()
        .filter(|(_, p)| {
            args.filter
                .as_deref()
                .is_none_or(|f| p.golden.to_string_lossy().contains(f))
        })
        .collect();
    if entries.is_empty() {
        eprintln!("review: no pending golden changes");
        return Ok(exit::OK);
    }
    if args.accept || args.reject {
        crate::golden::may_bless(false, std::env::var("CI").ok().as_deref())
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
    for (i, (file, entry)) in entries.iter().enumerate() {
        print!("{}", render(&store, entry)?);
        let choice = if args.accept {
            Choice::Accept
        } else if args.reject {
            Choice::Reject
        } else {
            print!(
                "[{}/{}] a: accept, r: reject, s: skip > ",
                i + 1,
                entries.len()
            );
            let _ = std::io::stdout().flush();
            match lines
                .next()
                .transpose()
                .map_err(|e| Error::io("stdin", e))?
            {
                Some(l) if l.trim() == "a" => Choice::Accept,
                Some(l) if l.trim() == "r" => Choice::Reject,
                Some(_) => Choice::Skip,
                None => break,
            }
        };
        match choice {
            Choice::Accept => {
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
    eprintln!("review: {accepted} accepted, {rejected} rejected, {skipped} skipped");
    Ok(exit::OK)
}

/// Diff lines shown per pending change: a reviewer reads them all, but a change of a
/// million lines is not read on a terminal.
const REVIEW_LINES: usize = 2000;

/// One pending change as a reviewer sees it: the golden, then a unified diff.
fn render(store: &PendingStore, entry: &crate::golden::pending::Pending) -> Result<String> {
    let now = store.current(entry)?;
    let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
    let golden = entry.golden.display().to_string();
    let (old, new) = (text(now.as_deref()), text(entry.new_bytes().as_deref()));
    let what = match (&old, &new) {
        (None, Some(_)) => "new golden",
        (Some(_), None) => "remove golden",
        _ => "changed golden",
    };
    let diff = crate::report::diff::unified(
        old.as_deref().unwrap_or(""),
        new.as_deref().unwrap_or(""),
        &golden,
        &format!("{golden} (pending)"),
        REVIEW_LINES,
        None,
    );
    let text = format!("{what} {golden} (case {}):\n{diff}", entry.case);
    Ok(crate::report::escape::controls(&text).into_owned())
}
