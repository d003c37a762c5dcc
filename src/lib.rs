//! stance: sentence-level stance and sentiment profiles of a document corpus.
//!
//! This crate is the command line; the work is in two libraries, with arrows one way
//! (this crate → `stance-model` → `stance-core`):
//! - `stance-core` (no libtorch): text cleaning and splitting, the files users hand us,
//!   aggregation, evaluation, agreement and statistics;
//! - `stance-model` (tch / rust-bert): the encoder, the cross-encoder, labellers and training.
//!
//! Here: [`cli`] (arguments as clap parses them), [`resolve`] (options and environment →
//! settings), [`commands`] (one module per subcommand), [`pipeline`] (the stages of `run` and
//! `classify` strung together), [`report`] (CSV reports), [`html`] (report.html), [`tagger`] (the terminal tagger) and
//! [`progress`].
#![deny(missing_docs)]

pub mod cli;
pub mod commands;
pub mod html;
pub mod pipeline;
pub mod progress;
pub mod report;
pub mod resolve;
pub mod tagger;
