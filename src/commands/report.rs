//! `stance report`: rebuild a run folder's report.html.

use crate::cli::ReportArgs;
use anyhow::{bail, Result};
use stance_core::output::write_atomic;

/// Runs `stance report`.
pub fn execute(a: ReportArgs) -> Result<()> {
    if !a.run.join("run.json").is_file() {
        bail!("{}: not a run folder (no run.json); give the --out folder of a `stance run`", a.run.display());
    }
    let html = crate::html::render(&a.run)?;
    let out = a.out.unwrap_or_else(|| a.run.join("report.html"));
    write_atomic(&out, html.as_bytes())?;
    crate::say!("report written to {}", out.display());
    Ok(())
}
