//! `stance average`: the mean of several trained models' weights (a "model soup").

use crate::cli::AverageArgs;
use crate::resolve;
use anyhow::Result;
use stance_model::train::average::average;

/// Runs `stance average`.
pub fn execute(a: AverageArgs) -> Result<()> {
    let ingredients = average(&a.models, &resolve::base_model_dir(a.model_dir.as_deref()), &a.out)?;
    crate::say!("averaged {} models into {}", ingredients.len(), a.out.display());
    Ok(())
}
