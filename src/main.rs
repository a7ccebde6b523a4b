//! The `mpcheck` command: parse arguments, dispatch, print the error, exit 0/1/2/130.

use clap::Parser;

fn main() {
    // First, before any thread: Ctrl-C / SIGTERM handling, the subreaper, the scratch root.
    if let Err(e) = mpcheck::util::interrupt::install() {
        eprintln!("mpcheck: error: could not set up signal handling: {e}");
        std::process::exit(mpcheck::util::error::exit::CONFIG);
    }
    let cli = match mpcheck::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            mpcheck::util::interrupt::finish();
            e.exit()
        }
    };
    let code = match mpcheck::cli::dispatch(cli) {
        Ok(code) => code,
        Err(e @ mpcheck::util::error::Error::Interrupted(_)) => {
            eprintln!("mpcheck: {e}");
            e.exit_code()
        }
        Err(e) => {
            eprintln!("mpcheck: error: {e}");
            e.exit_code()
        }
    };
    // Nothing outlives the command: no VM, no emulator, no scratch file.
    mpcheck::util::interrupt::finish();
    std::process::exit(code);
}
