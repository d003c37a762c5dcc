//! `stance average`: the mean of several trained models' weights (a "model soup").

use crate::cli::AverageArgs;
use crate::resolve;
use anyhow::{bail, Result};
use stance_model::train::average::average;

/// Runs `stance average`.
pub fn execute(a: AverageArgs) -> Result<()> {
    // Writing over an ingredient would replace it before it is read back for the record.
    if let Ok(out) = a.out.canonicalize() {
        if let Some(model) = a.models.iter().find(|m| m.canonicalize().is_ok_and(|m| m == out)) {
            bail!("{}: --out is one of the averaged models; write the mean to another folder", model.display());
        }
    }
    let ingredients = average(&a.models, &resolve::base_model_dir(a.model_dir.as_deref()), &a.out)?;
    crate::say!("averaged {} models into {}", ingredients.len(), a.out.display());
    Ok(())
}
