//! `stance merge`: the reports of a sharded run.

use crate::cli::MergeArgs;
use crate::pipeline::{self, MergeSettings};
use crate::progress::plural;
use anyhow::Result;

/// Runs `stance merge`.
pub fn execute(a: MergeArgs) -> Result<()> {
    let parts: Vec<&std::path::Path> = a.parts.iter().map(|p| p.as_path()).collect();
    stance_core::output::refuse_to_overwrite_inputs(&a.out, &parts)?;
    let settings = MergeSettings { out: a.out, parts: a.parts };
    let (documents, sentences) = pipeline::merge(&settings)?;
    crate::say!(
        "merged {} ({}) from {}; reports in {}",
        plural(documents, "document", "documents"),
        plural(sentences, "sentence", "sentences"),
        plural(settings.parts.len(), "shard folder", "shard folders"),
        settings.out.display()
    );
    Ok(())
}
