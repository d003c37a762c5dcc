//! stance: sentence-level stance and sentiment profiles of a document corpus.
//!
//! The pipeline, one module per stage: [`manifest`] (which documents) → [`clean`] (prose
//! only) → [`split`] (sentence spans) → [`label`] (a transformer labeler over [`encoder`]) →
//! [`aggregate`] (profiles and comparisons) → [`report`] (CSV files, written through
//! [`output`]); plus [`eval`] against hand-tagged gold. [`pipeline`] strings the stages
//! together for the commands in [`cli`].

pub mod aggregate;
pub mod annotate;
pub mod clean;
pub mod cli;
pub mod config;
pub mod encoder;
pub mod entity;
pub mod eval;
pub mod label;
pub mod lexicon;
pub mod manifest;
pub mod model;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod split;
pub mod table;
pub mod tagger;
pub mod train;
