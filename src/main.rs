//! `stance`: the command-line entry point. All the work is in the library; this only parses
//! arguments and turns an error into one line on stderr and a non-zero exit.
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // `stance agree … | head`: a closed pipe ends the program quietly, as it does `cat`,
    // instead of a panic in print!.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of one signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let args = stance::cli::Args::parse();
    match stance::commands::execute(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let message = format!("{e:#}").replace('\n', " ");
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
