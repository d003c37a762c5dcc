//! One module per subcommand: each turns its parsed arguments into settings (through
//! [`crate::resolve`]), calls the library, and tells the user what happened.

pub mod agree;
pub mod average;
pub mod classify;
pub mod data;
pub mod eval;
pub mod merge;
pub mod report;
pub mod run;
pub mod sample;
pub mod split;
pub mod tag;
pub mod train;

/// Runs a parsed command line.
pub fn execute(args: crate::cli::Args) -> anyhow::Result<()> {
    use crate::cli::Command;
    if args.quiet {
        crate::progress::set_quiet();
    }
    match args.command {
        Command::Run(a) => run::execute(a),
        Command::Merge(a) => merge::execute(a),
        Command::Split(a) => split::execute(a),
        Command::Classify(a) => classify::execute(a),
        Command::Train(a) => train::execute(a),
        Command::Eval(a) => eval::execute(a),
        Command::Average(a) => average::execute(a),
        Command::Sample(a) => sample::execute(a),
        Command::Agree(a) => agree::execute(a),
        Command::Tag(a) => tag::execute(a),
        Command::Data(crate::cli::DataCommand::Compose(a)) => data::compose(a),
        Command::Report(a) => report::execute(a),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut crate::cli::Args::command(), "stance", &mut std::io::stdout());
            Ok(())
        }
        Command::Man => {
            use clap::CommandFactory;
            clap_mangen::Man::new(crate::cli::Args::command()).render(&mut std::io::stdout())?;
            Ok(())
        }
    }
}
