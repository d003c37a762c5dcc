//! `stance average`: the mean of several trained models' weights (a "model soup").

use crate::cli::AverageArgs;
use crate::resolve;
use anyhow::Result;
use stance_model::train::average::average;

/// Runs `stance average`.
pub fn execute(a: AverageArgs) -> Result<()> {
    // Allowed (a model averaged with itself is a check of the tool), but rarely meant.
    let mut seen = std::collections::HashSet::new();
    for model in &a.models {
        if !seen.insert(model.canonicalize().unwrap_or_else(|_| model.clone())) {
            eprintln!("warning: {} is given more than once: it weighs that much more in the mean", model.display());
        }
    }
    let ingredients = average(&a.models, &resolve::base_model_dir(a.model_dir.as_deref()), &a.out)?;
    crate::say!("averaged {} models into {}", ingredients.len(), a.out.display());
    Ok(())
}
