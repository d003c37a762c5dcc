//! The commands' work, stage after stage: manifest → cleaning → splitting → labelling →
//! aggregation → reports. Input is read and checked before the model is loaded, so bad input
//! fails fast, and nothing reaches the output folder before everything has succeeded.

mod run;

pub use run::{merge, run, MergeSettings, RunSettings, RunSummary};

use crate::progress::{plural, progress_bar};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use stance_core::config::Config;
use stance_core::data::corpus::{read_entry, JsonlFields};
use stance_core::data::manifest::{read_document, read_text, DocEntry};
use stance_core::data::table::{field, CsvFile};
use stance_core::text::clean::{Cleaned, Cleaner, LineRules};
use stance_core::text::entity::EntityMatcher;
use stance_core::text::split::{RuleSplitter, SentenceSplitter, Span};
use stance_model::encoder::{sha256_file, Encoder, FileDigest};
use stance_model::label::{CrossEncoderLabeler, LabelInput, Labeler, SentimentSource, ZeroShotLabeler};
use stance_model::model::CrossEncoder;
use stance_report::tables;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::Device;

/// Which labeler to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum LabelerKind {
    /// Our trained cross-encoders: the stance model (--model) and the sentiment model
    /// (--sentiment-model), or the stance model's own sentiment head when it has one.
    Trained,
    /// Similarity of sentence embeddings to the label descriptions in the config.
    ZeroShot,
}

/// Where sentence sentiment comes from with the trained labeler.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum SentimentKind {
    /// The stance model's own sentiment head when it has one, else the sentiment model
    /// (--sentiment-model); either also gives the sentiment toward the entity's mentions.
    Trained,
    /// The zero-shot labeler (the baseline); no sentiment toward mentions.
    ZeroShot,
}

/// How many CPU threads a command uses, and what set the number (run.json and training.json
/// record both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Threads {
    /// The number of threads.
    pub count: usize,
    /// What set it: `--threads`, an environment variable, or the CPUs this process may use.
    pub from: &'static str,
}

/// What is needed to build a labeler.
#[derive(Debug, Clone)]
pub struct ModelSettings {
    /// Which labeler to build.
    pub labeler: LabelerKind,
    /// Sentence sentiment with the trained labeler: the sentiment model, or zero-shot.
    pub sentiment: SentimentKind,
    /// The base encoder's folder.
    pub model_dir: PathBuf,
    /// The trained model's folder (for `LabelerKind::Trained`).
    pub trained: PathBuf,
    /// The trained sentiment model's folder, used when the stance model has no sentiment head.
    pub sentiment_model: PathBuf,
    /// Where the models run.
    pub device: Device,
    /// CPU threads (the trained labeler's workers, or the zero-shot labeler's libtorch threads).
    pub threads: Threads,
}

/// A loaded labeler, with what run.json records about it.
pub struct LoadedLabeler {
    /// The labeler, ready to use.
    pub labeler: Box<dyn Labeler>,
    /// Where sentiment comes from, in words.
    pub sentiment_source: &'static str,
    /// The model files it was loaded from, with their sha256: the base encoder's, then each
    /// trained model's `model.safetensors` and `config.json`.
    pub files: Vec<FileDigest>,
    /// Wall-clock seconds spent loading (and hashing) the models.
    pub load_seconds: f64,
}

/// Loads the labeler `model` asks for, tuned by `config` (descriptions, margins, batch size,
/// pair length).
pub fn load_labeler(config: &Config, model: &ModelSettings) -> Result<LoadedLabeler> {
    let started = Instant::now();
    let zero_shot = || -> Result<(ZeroShotLabeler, Vec<FileDigest>)> {
        let encoder = Encoder::load(&model.model_dir, model.device, config.labeler.max_tokens)?;
        let files = encoder.files.clone();
        Ok((ZeroShotLabeler::new(encoder, config.clone()), files))
    };
    let model_files = |dir: &Path| -> Result<Vec<FileDigest>> {
        ["model.safetensors", "config.json"]
            .iter()
            .map(|name| Ok(FileDigest { sha256: sha256_file(&dir.join(name))?, path: dir.join(name) }))
            .collect()
    };
    let (labeler, sentiment_source, files): (Box<dyn Labeler>, &'static str, Vec<FileDigest>) = match model.labeler {
        LabelerKind::ZeroShot => {
            tch::set_num_threads(model.threads.count as i32);
            let (labeler, files) = zero_shot()?;
            (Box::new(labeler), "zero-shot", files)
        }
        LabelerKind::Trained => {
            // Workers of one intra-op thread each (see CrossEncoder::set_workers).
            tch::set_num_threads(1);
            let mut cross = CrossEncoder::load(&model.trained, &model.model_dir, model.device)?;
            cross.set_precision(config.labeler.precision);
            cross.set_workers(model.threads.count);
            let mut files = cross.base_files.clone();
            files.extend(model_files(&model.trained)?);
            let sentiment = if model.sentiment == SentimentKind::ZeroShot {
                let (labeler, _) = zero_shot()?;
                SentimentSource::ZeroShot(Box::new(labeler))
            } else if cross.config.heads.contains_key("sentiment") {
                SentimentSource::SharedHead
            } else {
                let mut sentiment = CrossEncoder::load(&model.sentiment_model, &model.model_dir, model.device)?;
                sentiment.set_precision(config.labeler.precision);
                sentiment.share_frozen_with(&cross);
                sentiment.set_workers(model.threads.count);
                files.extend(model_files(&model.sentiment_model)?);
                SentimentSource::Model(Box::new(sentiment))
            };
            let source = sentiment.name();
            (Box::new(CrossEncoderLabeler::new(cross, sentiment, config.labeler.batch_size)?), source, files)
        }
    };
    Ok(LoadedLabeler { labeler, sentiment_source, files, load_seconds: started.elapsed().as_secs_f64() })
}

/// The entries of a run folder (all a run writes, and eval.csv, which `stance eval` adds).
/// A shard's folder also keeps `parts/` (each document's labels) and `shard.json` for
/// `stance merge`.
pub const RUN_FILES: [&str; 9] =
    ["sentences.csv", "profiles.csv", "comparison.csv", "run.json", "report.html", "eval.csv", "cleaned", "parts", "shard.json"];

/// A labeller's progress callback (items per finished batch, over all its passes) as a count
/// of sentences: a bar of 35 sentences reads 35/35 at the end of two passes, not 70/70.
fn sentence_progress(bar: &indicatif::ProgressBar, passes: u64) -> impl FnMut(u64) + '_ {
    let mut done = 0;
    move |n| {
        done += n;
        bar.set_position(done / passes.max(1));
    }
}

/// Reads, cleans and splits standard input (plain text, the same size limit as a document).
pub fn prepare_stdin() -> Result<(Cleaned, Vec<Span>)> {
    let document = read_text(std::io::stdin().lock(), Path::new("<stdin>"))?;
    let cleaned = LineRules::plain().clean(&document.text);
    let spans = RuleSplitter.split(&cleaned.text);
    Ok((cleaned, spans))
}

/// Reads, cleans and splits one file; also returns the sha256 of its bytes (read once).
pub fn prepare_file(path: &Path) -> Result<(Cleaned, Vec<Span>, String)> {
    let document = read_document(path)?;
    let cleaned = LineRules::for_path(path).clean(&document.text);
    let spans = RuleSplitter.split(&cleaned.text);
    Ok((cleaned, spans, document.sha256))
}

/// Reads, cleans and splits one corpus document (a file of a manifest, a record of a JSONL
/// corpus, read as plain text).
pub fn prepare_entry(entry: &DocEntry, fields: Option<&JsonlFields>) -> Result<(Cleaned, Vec<Span>, String)> {
    if entry.record.is_none() {
        return prepare_file(&entry.path);
    }
    let document = read_entry(entry, fields)?;
    let cleaned = LineRules::plain().clean(&document.text);
    let spans = RuleSplitter.split(&cleaned.text);
    Ok((cleaned, spans, document.sha256))
}

/// One sentence for `stance classify`, with its optional own target.
pub struct ClassifyItem {
    /// The sentence.
    pub text: String,
    /// Its own stance target; None: `--target`, else the configured target.
    pub target: Option<String>,
    /// Every cell of its input row (ids and all), echoed in the output.
    pub cells: Vec<String>,
}

/// `stance classify` input: the input's column names and its rows.
pub struct ClassifyInput {
    /// The input's header (`text` for stdin lines).
    pub header: Vec<String>,
    /// The sentences, in input order.
    pub items: Vec<ClassifyItem>,
    /// Which of the header's columns holds the sentence.
    pub text_column: usize,
}

/// Reads `classify` input: one sentence per non-blank line of `reader`.
pub fn read_lines(reader: impl std::io::BufRead) -> Result<ClassifyInput> {
    let mut items = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("<stdin>: line {}: not valid UTF-8", i + 1))?;
        if !line.trim().is_empty() {
            let text = line.trim().to_string();
            items.push(ClassifyItem { cells: vec![text.clone()], text, target: None });
        }
    }
    Ok(ClassifyInput { header: vec!["text".into()], items, text_column: 0 })
}

/// Reads `classify --input FILE.csv`: a `text` column and an optional `target` column.
pub fn read_classify_csv(path: &Path) -> Result<ClassifyInput> {
    let file = CsvFile::open(path, "classify input")?;
    let header: Vec<String> = file.headers().map(String::from).collect();
    // A `sentence` column (gold files, tagging sheets) serves as well as `text`.
    let text_col = match file.column("sentence").filter(|_| file.column("text").is_none()) {
        Some(c) => c,
        None => file.require(&["text"])?[0], // the error names `text`: a classify input needs text or sentence
    };
    let target_col = file.column("target");
    let origin = file.origin().to_string();
    let mut items = Vec::new();
    for row in file.rows() {
        let (line, record) = row?;
        let text = field(&record, text_col);
        if text.is_empty() {
            bail!("{origin}: line {line}: empty text");
        }
        let target = target_col.map(|c| field(&record, c)).filter(|t| !t.is_empty()).map(String::from);
        let cells = (0..header.len()).map(|k| record.get(k).unwrap_or("").to_string()).collect();
        items.push(ClassifyItem { text: text.to_string(), target, cells });
    }
    Ok(ClassifyInput { header, items, text_column: text_col })
}

/// Labels `items` and returns the classify CSV. A row's own target wins over `target_override`,
/// which wins over the configured target.
pub fn classify(
    input: &ClassifyInput,
    target_override: Option<&str>,
    config: &Config,
    model: &ModelSettings,
    csv_safe: bool,
) -> Result<Vec<u8>> {
    let items = &input.items;
    let mut w = csv::Writer::from_writer(Vec::new());
    // An input column named like an output column keeps its cells under `input_NAME`.
    let outputs: Vec<&str> = std::iter::once("target_used").chain(tables::LABEL_COLUMNS).collect();
    let mut header: Vec<String> =
        input.header.iter().map(|h| if outputs.contains(&h.as_str()) { format!("input_{h}") } else { h.clone() }).collect();
    header.extend(outputs.iter().map(|c| c.to_string()));
    w.write_record(&header)?;
    if items.is_empty() {
        return Ok(w.into_inner()?);
    }
    let mut loaded = load_labeler(config, model)?;
    let started = Instant::now();
    let default_target = target_override.unwrap_or(&config.target.name);
    let entity = EntityMatcher::new(&config.entity.aliases)?;
    let inputs: Vec<LabelInput> = items
        .iter()
        .map(|i| LabelInput {
            text: &i.text,
            target: i.target.as_deref().unwrap_or(default_target),
            mention: entity.first(&i.text).map(|m| m.text),
        })
        .collect();
    let bar = progress_bar(inputs.len() as u64, "sentences", true);
    let probs = loaded.labeler.label(&inputs, &mut sentence_progress(&bar, loaded.labeler.passes()))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    crate::say!(
        "labelled {} in {seconds:.2} s ({:.1} sentences/s; {} labeler; model load {:.2} s)",
        plural(items.len(), "sentence", "sentences"),
        items.len() as f64 / seconds.max(1e-9),
        loaded.labeler.name(),
        loaded.load_seconds
    );
    for (item, p) in items.iter().zip(&probs) {
        let mut record: Vec<String> = item.cells.iter().map(|c| tables::text_cell(c, csv_safe)).collect();
        record.push(tables::text_cell(item.target.as_deref().unwrap_or(default_target), csv_safe));
        record.extend(tables::label_cells(p));
        w.write_record(&record)?;
    }
    Ok(w.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_counts_sentences_whatever_the_passes() {
        let bar = indicatif::ProgressBar::hidden();
        bar.set_length(35);
        let mut progress = sentence_progress(&bar, 2);
        for batch in [16, 16, 3, 16, 16, 3] {
            progress(batch);
        }
        assert_eq!(bar.position(), 35, "two passes over 35 sentences read 35/35, not 70/70");
    }
}
