//! `stance tag`: tag a sheet in the terminal.

use crate::cli::TagArgs;
use crate::resolve;
use anyhow::Result;

/// Runs `stance tag`.
pub fn execute(a: TagArgs) -> Result<()> {
    let annotator = resolve::annotator(a.annotator.as_deref());
    let (tagged, total) = crate::tagger::run(&a.sheet, &annotator, a.show_model)?;
    crate::say!("{tagged} of {total} rows of {} tagged", a.sheet.display());
    Ok(())
}
