//! The commands' work, stage after stage: manifest → cleaning → splitting → labelling →
//! aggregation → reports. Input is read and checked before the model is loaded, so bad input
//! fails fast, and nothing reaches the output folder before everything has succeeded.

use crate::progress::{plural, progress_bar};
use crate::report;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::json;
use stance_core::aggregate::{aggregate, Calibration, SentenceRow};
use stance_core::config::Config;
use stance_core::data::gold::{read_gold, GoldRow};
use stance_core::data::manifest::{file_stems, read_document, read_manifest_with, read_text, DocEntry};
use stance_core::data::table::{field, CsvFile};
use stance_core::labels::{Probs, SENTIMENT_LABELS, STANCE_LABELS};
use stance_core::output::Staging;
use stance_core::stats::Bootstrap;
use stance_core::text::clean::{Cleaned, Cleaner, LineRules};
use stance_core::text::entity::EntityMatcher;
use stance_core::text::split::{RuleSplitter, SentenceSplitter, Span};
use stance_model::encoder::{sha256_file, Encoder, FileDigest};
use stance_model::label::{CrossEncoderLabeler, LabelInput, Labeler, SentimentSource, ZeroShotLabeler};
use stance_model::model::CrossEncoder;
use std::collections::BTreeMap;
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
            let (labeler, files) = zero_shot()?;
            (Box::new(labeler), "zero-shot", files)
        }
        LabelerKind::Trained => {
            let cross = CrossEncoder::load(&model.trained, &model.model_dir, model.device)?;
            let mut files = cross.base_files.clone();
            files.extend(model_files(&model.trained)?);
            let sentiment = if model.sentiment == SentimentKind::ZeroShot {
                let (labeler, _) = zero_shot()?;
                SentimentSource::ZeroShot(Box::new(labeler))
            } else if cross.config.heads.contains_key("sentiment") {
                SentimentSource::SharedHead
            } else {
                let sentiment = CrossEncoder::load(&model.sentiment_model, &model.model_dir, model.device)?;
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
pub const RUN_FILES: [&str; 7] = ["sentences.csv", "profiles.csv", "comparison.csv", "run.json", "report.html", "eval.csv", "cleaned"];

/// A labeller's progress callback (items per finished batch, over all its passes) as a count
/// of sentences: a bar of 35 sentences reads 35/35 at the end of two passes, not 70/70.
fn sentence_progress(bar: &indicatif::ProgressBar, passes: u64) -> impl FnMut(u64) + '_ {
    let mut done = 0;
    move |n| {
        done += n;
        bar.set_position(done / passes.max(1));
    }
}

/// A document after cleaning and splitting.
pub struct Prepared {
    /// Its manifest record.
    pub entry: DocEntry,
    /// The name of its cleaned text, `cleaned/STEM.txt` (unique in the run).
    pub stem: String,
    /// The sha256 of its file as read, lowercase hex.
    pub sha256: String,
    /// Its cleaned text, with counts of the lines kept and dropped.
    pub cleaned: Cleaned,
    /// Its sentences, as byte ranges of `cleaned.text`, in order.
    pub spans: Vec<Span>,
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

/// Settings of `stance run`, resolved from the command line.
pub struct RunSettings {
    /// The manifest CSV listing the documents.
    pub manifest: PathBuf,
    /// The output folder; written only once everything has succeeded.
    pub out: PathBuf,
    /// The configuration: target, entity, labeler and aggregation settings.
    pub config: Config,
    /// Where the configuration came from, for run.json: its path, or "built-in".
    pub config_origin: String,
    /// The labeler to build.
    pub model: ModelSettings,
    /// Gold-format files that measure the labeller's errors, for the error-adjusted profiles
    /// (none: raw profiles only).
    pub calibration: Vec<PathBuf>,
    /// Guard text cells against spreadsheet formulas ([`report::text_cell`]).
    pub csv_safe: bool,
    /// Begin each CSV with a UTF-8 byte-order mark ([`report::for_excel`]).
    pub excel: bool,
    /// Leave out (and record) documents that cannot be read instead of stopping.
    pub skip_bad: bool,
}

/// What `stance run` tells the user at the end.
pub struct RunSummary {
    /// Documents in the manifest.
    pub documents: usize,
    /// Sentences labelled, over all documents.
    pub sentences: usize,
    /// Wall-clock seconds spent labelling the corpus (model load and calibration not included).
    pub label_seconds: f64,
    /// Wall-clock seconds spent loading the models.
    pub load_seconds: f64,
}

/// Runs `stance run`: reads, cleans and splits every document, labels the sentences, aggregates
/// the profiles, and writes the reports, `cleaned/` and run.json into `settings.out` (all or nothing).
pub fn run(settings: &RunSettings) -> Result<RunSummary> {
    let started = Instant::now();
    let entries = read_manifest_with(&settings.manifest, !settings.skip_bad)?;
    let stems = file_stems(&entries, &settings.manifest)?;
    let mut docs = Vec::with_capacity(entries.len());
    let mut skipped = Vec::new();
    for (entry, stem) in entries.into_iter().zip(stems) {
        let (cleaned, spans, sha256) = match prepare_file(&entry.path) {
            Ok(prepared) => prepared,
            // With --skip-bad a bad document is recorded and left out; by default it stops the run.
            Err(e) if settings.skip_bad => {
                let reason = format!("{e:#}");
                eprintln!("warning: skipped document '{}': {reason}", entry.doc_id);
                skipped.push(json!({"doc_id": entry.doc_id, "path": entry.path, "reason": reason}));
                continue;
            }
            Err(e) => return Err(e),
        };
        if spans.is_empty() {
            eprintln!("warning: {}: no prose sentences left after cleaning", entry.path.display());
        }
        docs.push(Prepared { entry, stem, sha256, cleaned, spans });
    }
    if docs.is_empty() {
        bail!("{}: every document was skipped (see the warnings above)", settings.manifest.display());
    }
    // Calibration tags are read and checked now, so a bad file fails before any labelling.
    let calibration_gold = read_calibration(&settings.calibration)?;
    let prepare_seconds = started.elapsed().as_secs_f64();
    let staging = Staging::new(&settings.out, &RUN_FILES)?;
    for leftover in &staging.removed_leftovers {
        eprintln!("warning: removed {}, the staging folder of an interrupted run", leftover.display());
    }
    if let Some(aside) = &staging.restored {
        eprintln!(
            "warning: put back {} as {}: an interrupted run had set the previous result aside",
            aside.display(),
            settings.out.display()
        );
    }

    let mut loaded = load_labeler(&settings.config, &settings.model)?;
    let target = settings.config.target.name.as_str();
    let entity = EntityMatcher::new(&settings.config.entity.aliases)?;
    let inputs: Vec<LabelInput> = docs
        .iter()
        .flat_map(|d| d.spans.iter().map(|s| &d.cleaned.text[s.clone()]))
        .map(|text| LabelInput { text, target, mention: entity.first(text).map(|m| m.text) })
        .collect();
    let bar = progress_bar(inputs.len() as u64, "sentences", true);
    let label_started = Instant::now();
    let probs = loaded.labeler.label(&inputs, &mut sentence_progress(&bar, loaded.labeler.passes()))?;
    let label_seconds = label_started.elapsed().as_secs_f64();
    bar.finish_and_clear();

    let mut rows = Vec::with_capacity(inputs.len());
    let mut probs_iter = probs.iter();
    for d in &docs {
        for (i, span) in d.spans.iter().enumerate() {
            rows.push(SentenceRow {
                doc_id: &d.entry.doc_id,
                outlet: &d.entry.outlet,
                group: &d.entry.group,
                sentence_id: i + 1,
                start: span.start,
                end: span.end,
                text: &d.cleaned.text[span.clone()],
                probs: *probs_iter.next().expect("one result per sentence"),
            });
        }
    }
    let bootstrap = Bootstrap { resamples: settings.config.aggregate.bootstrap_resamples, seed: settings.config.aggregate.seed };
    let calibration_started = Instant::now();
    let calibration = calibrate(calibration_gold, loaded.labeler.as_mut(), target, bootstrap)?;
    let calibration_seconds = calibration_started.elapsed().as_secs_f64();
    let aggregate_started = Instant::now();
    let documents: Vec<(&str, &str, &str)> =
        docs.iter().map(|d| (d.entry.doc_id.as_str(), d.entry.outlet.as_str(), d.entry.group.as_str())).collect();
    let (profiles, comparisons) = aggregate(&documents, &rows, bootstrap, calibration.as_ref().map(|c| &c.0));
    let aggregate_seconds = aggregate_started.elapsed().as_secs_f64();

    if comparisons.is_empty() {
        let group = documents.first().map_or("", |d| d.2);
        eprintln!("warning: every document is in one group ('{group}'), so comparison.csv has no rows: the manifest's group column names the groups to compare");
    }
    let (safe, excel) = (settings.csv_safe, settings.excel);
    staging.write("sentences.csv", report::for_excel(report::sentences_csv(&rows, safe)?, excel))?;
    staging.write("profiles.csv", report::for_excel(report::profiles_csv(&profiles)?, excel))?;
    staging.write("comparison.csv", report::for_excel(report::comparison_csv(&comparisons)?, excel))?;
    for d in &docs {
        staging.write(&format!("cleaned/{}.txt", d.stem), &d.cleaned.text)?;
    }
    let count = |labels: [&'static str; 3], pick: fn(&Probs) -> &'static str| -> BTreeMap<&'static str, usize> {
        labels.iter().map(|l| (*l, rows.iter().filter(|r| pick(&r.probs) == *l).count())).collect()
    };
    let run_json = json!({
        "stance_version": env!("CARGO_PKG_VERSION"),
        "command": std::env::args().collect::<Vec<_>>(),
        "manifest": settings.manifest,
        "config_origin": settings.config_origin,
        "config": settings.config,
        "labeler": settings.model.labeler,
        "labeler_model": loaded.labeler.name(),
        "sentiment_source": loaded.sentiment_source,
        "model": {
            "dir": settings.model.model_dir,
            "trained": (settings.model.labeler == LabelerKind::Trained).then_some(&settings.model.trained),
            "device": format!("{:?}", settings.model.device),
            "files": loaded.files,
        },
        "versions": {
            "stance": env!("CARGO_PKG_VERSION"),
            "rust-bert": stance_model::versions::RUST_BERT,
            "tch": stance_model::versions::TCH,
            "libtorch": stance_model::versions::LIBTORCH,
        },
        "skipped_documents": skipped,
        "documents": docs.iter().map(|d| json!({
            "doc_id": d.entry.doc_id,
            "path": d.entry.path,
            "sha256": d.sha256,
            "outlet": d.entry.outlet,
            "group": d.entry.group,
            "title": d.entry.title,
            "date": d.entry.date,
            "url": d.entry.url,
            "cleaned_file": format!("cleaned/{}.txt", d.stem),
            "lines_total": d.cleaned.lines_total,
            "lines_kept": d.cleaned.lines_kept,
            "lines_dropped": d.cleaned.dropped,
            "cleaned_bytes": d.cleaned.text.len(),
            "sentences": d.spans.len(),
        })).collect::<Vec<_>>(),
        "counts": {
            "documents": docs.len(),
            "sentences": rows.len(),
            "stance": count(STANCE_LABELS, Probs::stance_label),
            "sentiment": count(SENTIMENT_LABELS, Probs::sentiment_label),
            "entity_mentions": inputs.iter().filter(|i| i.mention.is_some()).count(),
            "target_sentiment": SENTIMENT_LABELS
                .iter()
                .map(|l| (*l, rows.iter().filter(|r| r.probs.target_sentiment_label() == Some(*l)).count()))
                .collect::<BTreeMap<_, _>>(),
        },
        "timings_seconds": {
            "read_clean_split": prepare_seconds,
            "model_load": loaded.load_seconds,
            "labeling": label_seconds,
            "calibration": calibration_seconds,
            "aggregate": aggregate_seconds,
            "total": started.elapsed().as_secs_f64(),
        },
        "sentences_per_second": rows.len() as f64 / label_seconds.max(1e-9),
        "calibration": calibration.as_ref().map(|(c, files)| json!({
            "files": files,
            "rows_per_true_label": STANCE_LABELS.iter().zip(c.counts()).map(|(l, n)| (*l, n)).collect::<BTreeMap<_, _>>(),
            "mean_predicted_given_true": STANCE_LABELS.iter().zip(c.matrix).map(|(l, row)| (*l, row)).collect::<BTreeMap<_, _>>(),
            "method": "probabilistic adjusted classify-and-count, clipped to the simplex; intervals resample sentences and calibration rows",
            "seconds": calibration_seconds,
        })),
    });
    staging.write("run.json", serde_json::to_string_pretty(&run_json)? + "\n")?;
    staging.write("report.html", crate::html::render(staging.path())?)?;
    staging.commit()?;
    Ok(RunSummary { documents: docs.len(), sentences: rows.len(), label_seconds, load_seconds: loaded.load_seconds })
}

/// The calibration files' tagged rows and digests, checked: every stance label needs rows, or
/// the labeller's errors on it cannot be measured. None when no file is given.
type CalibrationGold = Option<(Vec<GoldRow>, Vec<FileDigest>, String)>;

fn read_calibration(files: &[PathBuf]) -> Result<CalibrationGold> {
    if files.is_empty() {
        return Ok(None);
    }
    let mut gold = Vec::new();
    let mut digests = Vec::new();
    for path in files {
        gold.extend(read_gold(path)?);
        digests.push(FileDigest { sha256: sha256_file(path)?, path: path.clone() });
    }
    let origin = files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" + ");
    for (k, label) in STANCE_LABELS.iter().enumerate() {
        if !gold.iter().any(|g| g.stance == k) {
            bail!("{origin}: the calibration set has no '{label}' rows, so the labeller's errors on them cannot be measured");
        }
    }
    Ok(Some((gold, digests, origin)))
}

/// Labels the calibration sentences with the run's labeller and measures its errors against
/// their tags. Only stance is calibrated, so no sentiment toward mentions is asked for.
fn calibrate(
    gold: CalibrationGold,
    labeler: &mut dyn Labeler,
    target: &str,
    bootstrap: Bootstrap,
) -> Result<Option<(Calibration, Vec<FileDigest>)>> {
    let Some((gold, digests, origin)) = gold else { return Ok(None) };
    let inputs: Vec<LabelInput> = gold.iter().map(|g| LabelInput { text: g.sentence.as_str(), target, mention: None }).collect();
    let probs = labeler.label(&inputs, &mut |_| {})?;
    let rows = gold.iter().zip(&probs).map(|(g, p)| (g.stance, p.stance.map(|x| x as f64))).collect();
    Ok(Some((Calibration::new(origin, rows, bootstrap)?, digests)))
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
    let outputs: Vec<&str> = std::iter::once("target_used").chain(report::LABEL_COLUMNS).collect();
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
        let mut record: Vec<String> = item
            .cells
            .iter()
            .enumerate()
            .map(|(k, c)| if k == input.text_column { report::text_cell(c, csv_safe) } else { c.clone() })
            .collect();
        record.push(item.target.as_deref().unwrap_or(default_target).to_string());
        record.extend(report::label_cells(p));
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
