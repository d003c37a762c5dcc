//! What stance shows people, with no libtorch (its tests run in seconds): [`tables`] (the CSV
//! reports and their cells), [`page`] (report.html, rebuilt from a run folder's files alone)
//! and [`tagger`] (the terminal tagger and its sheet).
//!
//! Arrows: the binary → this crate → `stance-core`; nothing here knows the model.
#![deny(missing_docs)]

pub mod page;
pub mod tables;
pub mod tagger;

/// "1 sentence", "2 sentences".
pub fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
