//! The `mpcheck` command: parse arguments, dispatch, print the error, exit 0/1/2.

use clap::Parser;

fn main() {
    let cli = mpcheck::cli::Cli::parse();
    let code = match mpcheck::cli::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("mpcheck: error: {e}");
            mpcheck::error::exit::CONFIG
        }
    };
    std::process::exit(code);
}
