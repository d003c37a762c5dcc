//! `stance run`: label a corpus and write its reports.

use crate::cli::RunArgs;
use crate::pipeline::{self, RunSettings};
use crate::progress::plural;
use crate::resolve;
use anyhow::Result;
use stance_core::data::corpus::{Corpus, JsonlFields};

/// Runs `stance run`.
pub fn execute(a: RunArgs) -> Result<()> {
    let (mut config, config_origin, model) = resolve::labelling(&a.model)?;
    if let Some(target) = resolve::target(a.target.as_deref())? {
        config.target.name = target.to_string();
    }
    resolve::warn_about_descriptions(&a.model, &config, &config.target.name);
    let corpus = match (a.manifest, a.corpus) {
        (Some(path), _) => Corpus::Manifest { path },
        (None, Some(path)) => {
            let mut fields = JsonlFields::default();
            for mapping in &a.field {
                fields.set(mapping).map_err(|e| anyhow::anyhow!("--field {e}"))?;
            }
            Corpus::Jsonl { path, fields }
        }
        (None, None) => anyhow::bail!("name the corpus: --manifest FILE.csv or --corpus FILE.jsonl"),
    };
    let settings = RunSettings {
        corpus,
        shard: a.shard,
        resume: a.resume,
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
    if summary.reused_documents > 0 {
        crate::say!(
            "{} taken from the interrupted run; {} labelled now",
            plural(summary.reused_documents, "document was", "documents were"),
            plural(summary.labelled_sentences, "sentence", "sentences")
        );
    }
    crate::say!(
        "labelled {} of {} in {:.1} s ({:.1} sentences/s; model load {:.1} s); reports in {}",
        plural(summary.sentences, "sentence", "sentences"),
        plural(summary.documents, "document", "documents"),
        summary.label_seconds,
        summary.labelled_sentences as f64 / summary.label_seconds.max(1e-9),
        summary.load_seconds,
        settings.out.display()
    );
    if let Some(shard) = settings.shard {
        crate::say!("shard {shard}: combine the shards' folders with `stance merge --out DIR PART_DIR...`");
    }
    if !settings.calibration.is_empty() {
        let files: Vec<String> = settings.calibration.iter().map(|f| f.display().to_string()).collect();
        crate::say!("profiles also error-adjusted by the labeller's errors on {} (run.json: calibration)", files.join(" + "));
    }
    Ok(())
}
