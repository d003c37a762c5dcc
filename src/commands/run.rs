//! `stance run`: label a corpus and write its reports.

use crate::cli::RunArgs;
use crate::pipeline::{self, RunSettings};
use crate::progress::plural;
use crate::resolve;
use anyhow::Result;

/// Runs `stance run`.
pub fn execute(a: RunArgs) -> Result<()> {
    let (mut config, config_origin, model) = resolve::labelling(&a.model)?;
    if let Some(target) = &a.target {
        config.target.name = target.clone();
    }
    resolve::warn_about_descriptions(&a.model, &config, &config.target.name);
    let settings = RunSettings {
        manifest: a.manifest,
        out: a.out,
        config,
        config_origin,
        model,
        calibration: a.calibration,
        csv_safe: a.csv_safe,
        excel: a.excel,
        skip_bad: a.skip_bad,
    };
    let summary = pipeline::run(&settings)?;
    crate::say!(
        "labelled {} of {} in {:.1} s ({:.1} sentences/s; model load {:.1} s); reports in {}",
        plural(summary.sentences, "sentence", "sentences"),
        plural(summary.documents, "document", "documents"),
        summary.label_seconds,
        summary.sentences as f64 / summary.label_seconds.max(1e-9),
        summary.load_seconds,
        settings.out.display()
    );
    if !settings.calibration.is_empty() {
        let files: Vec<String> = settings.calibration.iter().map(|f| f.display().to_string()).collect();
        crate::say!("profiles also error-adjusted by the labeller's errors on {} (run.json: calibration)", files.join(" + "));
    }
    Ok(())
}
