//! stance-model: the transformer side of `stance`, over tch (libtorch) and rust-bert.
//!
//! - [`encoder`]: the base MiniLM encoder and its files (with sha256 for provenance);
//! - [`model`]: the cross-encoder with task heads, and the `config.json` that says how to
//!   read it back;
//! - [`fast`]: the inference forward pass on libtorch's fused kernels, over the same tensors;
//! - [`label`]: labellers behind one trait (trained cross-encoder, zero-shot baseline);
//! - [`train`]: fine-tuning with checkpoints, and cross-validation.
//!
//! Text, data and statistics come from `stance-core`; nothing here prints or parses
//! arguments (progress is reported through [`train::Progress`]).
#![deny(missing_docs)]

pub mod encoder;
mod error;
pub mod fast;
pub mod label;
pub mod model;
pub mod train;

pub(crate) use error::invalid;
pub use error::{Error, Result};

/// Versions this crate was built with, for run.json.
pub mod versions {
    /// rust-bert's version (from Cargo.lock).
    pub const RUST_BERT: &str = env!("STANCE_RUST_BERT_VERSION");
    /// tch's version (from Cargo.lock).
    pub const TCH: &str = env!("STANCE_TCH_VERSION");
    /// libtorch's version (from its version.py).
    pub const LIBTORCH: &str = env!("STANCE_LIBTORCH_VERSION");
}
