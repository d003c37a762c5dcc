//! `stance sample`: a tagging sheet chosen from a run by a named, seeded strategy.

use crate::cli::SampleArgs;
use anyhow::{Context, Result};
use stance_core::annotate::{read_candidates, read_excluded, sample, sheet_csv, SampleSpec};
use stance_core::output::write_atomic;
use std::path::Path;

/// Runs `stance sample`.
pub fn execute(a: SampleArgs) -> Result<()> {
    let sentences = a.run.join("sentences.csv");
    let other = a.other_run.as_ref().map(|dir| dir.join("sentences.csv"));
    let inputs: Vec<&Path> = [&sentences].into_iter().chain(&other).chain(&a.exclude).chain(&a.within).map(|p| p.as_path()).collect();
    stance_core::output::refuse_to_overwrite_inputs(&a.out, &inputs)?;
    let candidates = read_candidates(&a.run.join("sentences.csv"))?;
    let focus = a
        .focus
        .as_deref()
        .map(|f| {
            regex::RegexBuilder::new(f).case_insensitive(true).build().with_context(|| format!("--focus '{f}' is not a regular expression"))
        })
        .transpose()?;
    let spec = SampleSpec { strategy: a.strategy, n: a.n, seed: a.seed, by: a.by, focus, window: a.window };
    let excluded = read_excluded(&a.exclude)?;
    let other = match &a.other_run {
        Some(dir) => Some(
            read_candidates(&dir.join("sentences.csv"))?
                .into_iter()
                .map(|c| ((c.doc_id, c.sentence_id), (c.text, c.stance)))
                .collect::<std::collections::HashMap<_, _>>(),
        ),
        None => None,
    };
    let within = if a.within.is_empty() { None } else { Some(read_excluded(&a.within)?) };
    let chosen = sample(&candidates, &spec, &excluded, within.as_ref(), other.as_ref())?;
    if chosen.is_empty() {
        anyhow::bail!(
            "{}: no sentence fits --strategy {} with these options (after --exclude and --within): no sheet written",
            a.run.display(),
            format!("{:?}", a.strategy).to_lowercase()
        );
    }
    let titles = run_titles(&a.run)?;
    write_atomic(&a.out, &sheet_csv(&candidates, &chosen, &titles, a.with_model)?)?;
    let docs: std::collections::HashSet<&str> = chosen.iter().map(|&i| candidates[i].doc_id.as_str()).collect();
    crate::say!(
        "{} sentences of {} documents chosen ({:?}, seed {}; {} excluded texts) into {}",
        chosen.len(),
        docs.len(),
        a.strategy,
        a.seed,
        excluded.len(),
        a.out.display()
    );
    Ok(())
}

/// Document titles of a run, from its run.json's documents (which a manifest and a JSONL
/// corpus both fill); empty when the folder has no run.json.
fn run_titles(run: &Path) -> Result<std::collections::HashMap<String, String>> {
    let path = run.join("run.json");
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(Default::default()) };
    let json: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    Ok(json["documents"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| Some((d["doc_id"].as_str()?.to_string(), d["title"].as_str().unwrap_or_default().to_string())))
        .collect())
}
