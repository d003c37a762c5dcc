//! The files users hand us, read with one set of errors that name file and line: CSV tables,
//! the corpus manifest, gold and prediction files, and training rows.

pub mod compose;
pub mod corpus;
pub mod examples;
pub mod gold;
pub mod leakage;
pub mod manifest;
pub mod table;
