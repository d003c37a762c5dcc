//! `stance report`: rebuild a run folder's report.html.

use crate::cli::ReportArgs;
use anyhow::{bail, Result};
use stance_core::output::write_atomic;

/// Runs `stance report`.
pub fn execute(a: ReportArgs) -> Result<()> {
    if !a.run.join("run.json").is_file() {
        bail!("{}: not a run folder (no run.json); give the --out folder of a `stance run`", a.run.display());
    }
    let out = a.out.unwrap_or_else(|| a.run.join("report.html"));
    // The page is rebuilt from the run's own files; report.html itself is the one it replaces.
    let read = ["sentences.csv", "profiles.csv", "comparison.csv", "run.json", "eval.csv", "cleaned"].map(|name| a.run.join(name));
    stance_core::output::refuse_to_overwrite_inputs(&out, &read.iter().map(|p| p.as_path()).collect::<Vec<_>>())?;
    let html = stance_report::page::render(&a.run)?;
    write_atomic(&out, html.as_bytes())?;
    crate::say!("report written to {}", out.display());
    Ok(())
}
