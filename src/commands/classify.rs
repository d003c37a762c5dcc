//! `stance classify`: label sentences from stdin or a CSV file.

use crate::cli::ClassifyArgs;
use crate::pipeline;
use crate::resolve;
use anyhow::Result;
use std::io::Write;

/// Runs `stance classify`.
pub fn execute(a: ClassifyArgs) -> Result<()> {
    let (config, _, model) = resolve::labelling(&a.model)?;
    if a.model.labeler == crate::pipeline::LabelerKind::ZeroShot {
        let mut toward = config.clone();
        toward.target.name = a.target.clone().unwrap_or(toward.target.name);
        if let Some(warning) = toward.descriptions_warning() {
            eprintln!("warning: {warning}");
        }
    }
    let input = match &a.input {
        Some(path) => pipeline::read_classify_csv(path)?,
        None => pipeline::read_lines(std::io::stdin().lock())?,
    };
    let csv = pipeline::classify(&input, a.target.as_deref(), &config, &model, a.csv_safe)?;
    std::io::stdout().lock().write_all(&crate::report::for_excel(csv, a.excel))?;
    Ok(())
}
