//! `stance tag`: tag a sheet in the terminal.

use crate::cli::TagArgs;
use crate::resolve;
use anyhow::Result;

/// Runs `stance tag`.
pub fn execute(a: TagArgs) -> Result<()> {
    let annotator = resolve::annotator(a.annotator.as_deref());
    let target = match a.target {
        Some(target) => crate::resolve::target(Some(&target))?.expect("given").to_string(),
        None => resolve::config(None)?.0.target.name,
    };
    let options =
        stance_report::tagger::TagOptions { annotator: &annotator, show_model: a.show_model, target: &target, stance_only: a.stance_only };
    let (tagged, total) = stance_report::tagger::run(&a.sheet, &options)?;
    crate::say!("{tagged} of {total} rows of {} tagged", a.sheet.display());
    Ok(())
}
