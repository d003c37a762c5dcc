//! stance: sentence-level stance and sentiment profiles of a document corpus.
//!
//! This crate is the command line; the work is in three libraries, with arrows one way
//! (this crate → `stance-report` / `stance-model` → `stance-core`):
//! - `stance-core` (no libtorch): text cleaning and splitting, the files users hand us,
//!   aggregation, evaluation, agreement and statistics;
//! - `stance-model` (tch / rust-bert): the encoder, the cross-encoder, labellers and training;
//! - `stance-report` (no libtorch): the CSV reports, report.html and the terminal tagger.
//!
//! Here only arguments and wiring: [`cli`] (arguments as clap parses them), [`resolve`]
//! (options and environment → settings), [`commands`] (one module per subcommand),
//! [`pipeline`] (the stages of `run` and `classify` strung together) and [`progress`]. What
//! is shown to people (CSV reports, report.html, the tagger) is `stance-report`, torch-free.
#![deny(missing_docs)]

pub mod cli;
pub mod commands;
pub mod pipeline;
pub mod progress;
pub mod resolve;
