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
    let args = match stance::cli::Args::try_parse() {
        Ok(args) => args,
        Err(e) if !e.use_stderr() || e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
        Err(e) => {
            // A usage error is one line and exit 1, like every other error; the usage block it
            // would print is what --help shows.
            let text = e.to_string();
            let message: Vec<&str> =
                text.lines().take_while(|l| !l.starts_with("Usage:")).map(str::trim).filter(|l| !l.is_empty()).collect();
            let mut line = String::new();
            for part in message {
                if !line.is_empty() {
                    line.push_str(if line.ends_with(':') { " " } else { "; " });
                }
                line.push_str(part);
            }
            eprintln!("{line} (--help lists the options)");
            return ExitCode::FAILURE;
        }
    };
    match stance::commands::execute(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let message = format!("{e:#}").replace('\n', " ");
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
