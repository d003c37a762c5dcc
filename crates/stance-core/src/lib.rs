//! stance-core: everything of `stance` that needs no neural network, so it builds and tests in
//! seconds without libtorch.
//!
//! - [`text`]: cleaning documents to prose, splitting sentences, finding the entity's mentions;
//! - [`data`]: the files users hand us (manifests, gold sets, training rows), read with errors
//!   that name file and line;
//! - [`stats`]: bootstrap intervals, label metrics, distances;
//! - [`labels`]: the tasks and their labels, and a sentence's label probabilities;
//! - [`aggregate`] (profiles and comparisons), [`eval`] (against gold), [`annotate`] (tagging
//!   sheets and agreement), [`config`], [`lexicon`], [`output`] (atomic writes).
//!
//! The model crate builds on this one, and the binary on both; nothing here knows either.
#![deny(missing_docs)]

pub mod aggregate;
pub mod annotate;
pub mod config;
pub mod data;
pub mod digest;
mod error;
pub mod eval;
pub mod labels;
pub mod lexicon;
pub mod measured;
pub mod output;
pub mod stats;
pub mod text;

pub use error::{Error, IoContext, Result};
