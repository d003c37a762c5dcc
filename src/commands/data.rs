//! `stance data compose`: a model's training rows from a recipe.

use crate::cli::ComposeArgs;
use anyhow::Result;
use serde_json::json;
use stance_core::data::compose::{compose as compose_rows, records_csv, rows_csv, Recipe};
use stance_core::output::Staging;

/// Runs `stance data compose`: everything is staged and moved into --out only when complete.
pub fn compose(a: ComposeArgs) -> Result<()> {
    let recipe = Recipe::read(&a.recipe)?;
    let base = a.recipe.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let composed = compose_rows(&recipe, base)?;
    let mut known = vec!["train.csv", "dev.csv", "compose.json"];
    known.extend(composed.heldout.keys().map(String::as_str));
    let staging = Staging::new(&a.out, &known)?;
    staging.write("train.csv", rows_csv(&composed.train)?)?;
    staging.write("dev.csv", rows_csv(&composed.dev)?)?;
    for (name, (header, records)) in &composed.heldout {
        staging.write(name, records_csv(header, records)?)?;
    }
    let record = json!({
        "recipe": a.recipe,
        "recipe_sha256": stance_core::digest::sha256_file(&a.recipe)?,
        "resolved": recipe,
        "sources": composed.sources.iter().map(|(file, sha, rows)| json!({"file": file, "sha256": sha, "rows_taken": rows})).collect::<Vec<_>>(),
        "rows": {
            "train": composed.train.len(),
            "dev": composed.dev.len(),
            "heldout": composed.heldout.iter().map(|(name, (_, records))| (name.clone(), records.len())).collect::<std::collections::BTreeMap<_, _>>(),
        },
        "rng": "ChaCha8, seeded with the recipe's seed: samples in source order, then one shuffle of the training rows",
    });
    staging.write("compose.json", serde_json::to_string_pretty(&record)? + "\n")?;
    staging.commit()?;
    crate::say!(
        "{} training rows, {} development rows{} written to {}",
        composed.train.len(),
        composed.dev.len(),
        composed.heldout.iter().map(|(name, (_, r))| format!(", {} held-out rows in {name}", r.len())).collect::<String>(),
        a.out.display()
    );
    Ok(())
}
