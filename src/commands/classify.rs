//! `stance classify`: label sentences from stdin or a CSV file.

use crate::cli::ClassifyArgs;
use crate::pipeline;
use crate::resolve;
use anyhow::Result;
use std::io::Write;

/// Runs `stance classify`.
pub fn execute(a: ClassifyArgs) -> Result<()> {
    let (config, _, model) = resolve::labelling(&a.model)?;
    let items = match &a.input {
        Some(path) => pipeline::read_classify_csv(path)?,
        None => pipeline::read_lines(std::io::stdin().lock())?,
    };
    let csv = pipeline::classify(&items, a.target.as_deref(), &config, &model, a.csv_safe)?;
    std::io::stdout().lock().write_all(&csv)?;
    Ok(())
}
