//! `stance classify`: label sentences from stdin or a CSV file.

use crate::cli::ClassifyArgs;
use crate::pipeline;
use crate::resolve;
use anyhow::Result;
use std::io::Write;

/// Runs `stance classify`.
pub fn execute(a: ClassifyArgs) -> Result<()> {
    resolve::target(a.target.as_deref())?;
    let (config, _, model) = resolve::labelling(&a.model)?;
    resolve::warn_about_descriptions(&a.model, &config, a.target.as_deref().unwrap_or(&config.target.name));
    let input = match &a.input {
        Some(path) => pipeline::read_classify_csv(path)?,
        None => pipeline::read_lines(std::io::stdin().lock())?,
    };
    let csv = pipeline::classify(&input, a.target.as_deref(), &config, &model, a.csv_safe)?;
    std::io::stdout().lock().write_all(&stance_report::tables::for_excel(csv, a.excel))?;
    Ok(())
}
