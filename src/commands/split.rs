//! `stance split`: a document's cleaned sentences, one per line.

use crate::cli::SplitArgs;
use crate::pipeline;
use anyhow::Result;
use stance_core::text::split::{sentence_texts, RuleSplitter};
use std::io::Write;

/// Runs `stance split`.
pub fn execute(a: SplitArgs) -> Result<()> {
    let cleaned = if a.file.as_os_str() == "-" { pipeline::prepare_stdin()?.0 } else { pipeline::prepare_file(&a.file)?.0 };
    let mut out = std::io::stdout().lock();
    if a.cleaned {
        writeln!(out, "{}", cleaned.text)?;
    } else {
        for sentence in sentence_texts(&RuleSplitter, &cleaned.text) {
            writeln!(out, "{sentence}")?;
        }
    }
    Ok(())
}
