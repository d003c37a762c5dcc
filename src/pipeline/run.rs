//! `stance run` and `stance merge`. A run labels one document at a time and keeps each
//! document's labels as a part (`parts/STEM.json` in its staging folder, exact probabilities),
//! so that
//! - memory holds one document's text at a time, whatever the corpus size (the reports are
//!   then written from the parts, sentence text streamed from the cleaned files);
//! - a killed run started again with `--resume` re-labels only the documents without a part
//!   (parts carry the sha256 of their document and a fingerprint of models and settings);
//! - a corpus can be labelled in shards (`--shard K/N`, on a scheduler's array tasks) whose
//!   parts `stance merge` turns into the reports a single run writes, byte for byte.
//!
//! Each document's sentences are batched among themselves, never with another document's:
//! a sentence's probabilities then do not depend on which documents share its run or shard.

use super::{load_labeler, prepare_entry, LoadedLabeler, ModelSettings, RUN_FILES};
use crate::progress::progress_bar;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use stance_core::aggregate::{aggregate, Calibration, SentenceRow};
use stance_core::config::Config;
use stance_core::data::corpus::{Corpus, JsonlFields, Shard};
use stance_core::data::gold::read_gold;
use stance_core::data::manifest::{file_stems, DocEntry};
use stance_core::digest::{sha256_file, sha256_hex};
use stance_core::labels::{Probs, SENTIMENT_LABELS, STANCE_LABELS};
use stance_core::output::{write_atomic, Staging};
use stance_core::stats::Bootstrap;
use stance_core::text::clean::Cleaned;
use stance_core::text::entity::EntityMatcher;
use stance_core::text::split::{RuleSplitter, SentenceSplitter, Span};
use stance_model::label::LabelInput;
use stance_report::tables;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Settings of `stance run`, resolved from the command line.
pub struct RunSettings {
    /// The corpus: a manifest CSV or a JSONL file.
    pub corpus: Corpus,
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
    /// Guard text cells against spreadsheet formulas ([`tables::text_cell`]).
    pub csv_safe: bool,
    /// Begin each CSV with a UTF-8 byte-order mark ([`tables::for_excel`]).
    pub excel: bool,
    /// Leave out (and record) documents that cannot be read instead of stopping.
    pub skip_bad: bool,
    /// Label only this shard's documents, and keep the parts for `stance merge`.
    pub shard: Option<Shard>,
    /// Take over a killed run's staging folder and re-label only what it had not finished.
    pub resume: bool,
}

/// What `stance run` tells the user at the end.
pub struct RunSummary {
    /// Documents labelled or taken from a killed run.
    pub documents: usize,
    /// Sentences, over all documents.
    pub sentences: usize,
    /// Documents whose labels were taken from a killed run (`--resume`).
    pub reused_documents: usize,
    /// Wall-clock seconds spent labelling (model load and calibration not included).
    pub label_seconds: f64,
    /// Sentences labelled in this process (not taken from a killed run).
    pub labelled_sentences: usize,
    /// Wall-clock seconds spent loading the models.
    pub load_seconds: f64,
}

/// One sentence of a part: its span and exact probabilities (f32 values written as f64, so
/// they read back bit for bit).
#[derive(Clone, Serialize, Deserialize)]
struct PartSentence {
    start: usize,
    end: usize,
    stance: [f64; 3],
    sentiment: [f64; 3],
    toward: Option<[f64; 3]>,
}

/// One document's labels, as a run keeps them (`parts/STEM.json`).
#[derive(Clone, Serialize, Deserialize)]
struct DocPart {
    doc_id: String,
    sha256: String,
    fingerprint: String,
    lines_total: usize,
    lines_kept: usize,
    lines_dropped: BTreeMap<String, usize>,
    cleaned_bytes: usize,
    mentions: usize,
    sentences: Vec<PartSentence>,
    /// The sha256 of the part's file as written with this field empty (it is the last field):
    /// an edited or damaged part is refused by merge and labelled again by a resume, never
    /// taken as it is. Computed over the bytes, not a re-serialization, which need not give
    /// the same float digits back.
    checksum: String,
}

const BLANK_CHECKSUM: &str = "\"checksum\":\"\"";

/// The part's file: its JSON with the checksum of that JSON written into its last field.
fn part_json(part: &DocPart) -> Result<String> {
    let blank = serde_json::to_string(&DocPart { checksum: String::new(), ..part.clone() })?;
    let at = blank.rfind(BLANK_CHECKSUM).expect("the checksum field is written");
    let sum = sha256_hex(blank.as_bytes());
    Ok(format!("{}\"checksum\":\"{sum}\"{}", &blank[..at], &blank[at + BLANK_CHECKSUM.len()..]))
}

fn to_f64(p: [f32; 3]) -> [f64; 3] {
    p.map(f64::from)
}

fn to_f32(p: [f64; 3]) -> [f32; 3] {
    p.map(|x| x as f32)
}

impl PartSentence {
    fn probs(&self) -> Probs {
        Probs { stance: to_f32(self.stance), sentiment: to_f32(self.sentiment), target_sentiment: self.toward.map(to_f32) }
    }
}

fn read_part(path: &Path) -> Result<DocPart> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let part: DocPart = serde_json::from_str(&text).with_context(|| format!("{}: not a document part", path.display()))?;
    let written = format!("\"checksum\":\"{}\"", part.checksum);
    let blank = text.rfind(&written).map(|at| format!("{}{BLANK_CHECKSUM}{}", &text[..at], &text[at + written.len()..]));
    if blank.is_none_or(|blank| sha256_hex(blank.as_bytes()) != part.checksum) {
        bail!("{}: edited or damaged since it was written (its checksum does not match): label that document again", path.display());
    }
    let probability = |p: &[f64; 3]| p.iter().all(|x| (0.0..=1.0).contains(x));
    if let Some(i) = part
        .sentences
        .iter()
        .position(|s| !(probability(&s.stance) && probability(&s.sentiment) && s.toward.as_ref().is_none_or(probability)))
    {
        bail!("{}: sentence {} has a probability outside 0-1", path.display(), i + 1);
    }
    Ok(part)
}

/// What makes two runs' labels the same: program version, labeler, every model file's sha256,
/// device and configuration. Parts and shards with another fingerprint are never mixed.
fn fingerprint(settings_model: &ModelSettings, config: &Config, loaded: &LoadedLabeler) -> Value {
    let value = json!({
        "stance_version": env!("CARGO_PKG_VERSION"),
        "labeler": settings_model.labeler,
        "sentiment": settings_model.sentiment,
        "labeler_model": loaded.labeler.name(),
        "model_files": loaded.files.iter().map(|f| json!({
            "file": f.path.file_name().map(|n| n.to_string_lossy().to_string()),
            "sha256": f.sha256,
        })).collect::<Vec<_>>(),
        "device": format!("{:?}", settings_model.device),
        "config": config,
    });
    json!({ "sha256": sha256_hex(value.to_string().as_bytes()), "of": value })
}

/// An error when `out/cleaned/` holds anything the previous result's run.json does not name
/// (a user's notes, a subfolder): a new result replaces the folder whole, and the top-level
/// check of the staging folder does not look inside it.
fn refuse_foreign_cleaned_files(out: &Path) -> Result<()> {
    let cleaned = out.join("cleaned");
    let Ok(entries) = std::fs::read_dir(&cleaned) else { return Ok(()) };
    let written: HashSet<String> = std::fs::read_to_string(out.join("run.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|run| {
            run["documents"].as_array().map(|docs| docs.iter().filter_map(|d| d["cleaned_file"].as_str().map(String::from)).collect())
        })
        .unwrap_or_default();
    for entry in entries {
        let entry = entry.with_context(|| format!("{}: cannot read folder", cleaned.display()))?;
        let name = format!("cleaned/{}", entry.file_name().to_string_lossy());
        let plain = entry.file_type().is_ok_and(|t| t.is_file());
        if !plain || !written.contains(&name) {
            bail!(
                "{}: --out holds '{name}', which the run there did not write; a result replaces the folder whole: move it, or choose another --out",
                out.display()
            );
        }
    }
    Ok(())
}

/// A document of the run: its corpus record, position and file stem.
struct Doc {
    index: usize,
    entry: DocEntry,
    stem: String,
    sha256: String,
}

fn jsonl_fields(corpus: &Corpus) -> Option<&JsonlFields> {
    match corpus {
        Corpus::Jsonl { fields, .. } => Some(fields),
        Corpus::Manifest { .. } => None,
    }
}

/// Calibration tags as labelled by the run's labeller: (true stance, predicted distribution)
/// per row, the files' digests and their names.
#[derive(Serialize, Deserialize, PartialEq)]
struct CalibrationRows {
    origin: String,
    files: Vec<Value>,
    rows: Vec<(usize, [f64; 3])>,
}

/// Calibration tags as read: the rows, the files' digests, their names.
type CalibrationGold = (Vec<stance_core::data::gold::GoldRow>, Vec<Value>, String);

/// Reads and checks the calibration files (before any labelling, so a bad file fails fast).
fn read_calibration(files: &[PathBuf]) -> Result<Option<CalibrationGold>> {
    if files.is_empty() {
        return Ok(None);
    }
    let mut gold = Vec::new();
    let mut digests = Vec::new();
    // A row given twice (the same file twice, a copy, or files that share sentences) would
    // count twice in the error rates: refused, naming both places.
    let mut seen_files: HashMap<String, &PathBuf> = HashMap::new();
    let mut seen_rows: HashMap<(String, String), (&PathBuf, u64)> = HashMap::new();
    for path in files {
        let sha256 = sha256_file(path)?;
        if let Some(first) = seen_files.insert(sha256.clone(), path) {
            bail!(
                "{}: the same contents as {} (given twice as --calibration): its rows would count twice",
                path.display(),
                first.display()
            );
        }
        for row in read_gold(path)? {
            // Sentences match as eval matches them.
            let key = (row.doc_id.clone(), stance_core::data::gold::normalise(&row.sentence));
            if let Some((first, line)) = seen_rows.insert(key, (path, row.line)) {
                bail!(
                    "{}: line {}: the same sentence of '{}' as {} line {line}: a calibration row may be given once",
                    path.display(),
                    row.line,
                    row.doc_id,
                    first.display()
                );
            }
            gold.push(row);
        }
        digests.push(json!({"path": path, "sha256": sha256}));
    }
    let origin = files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" + ");
    for (k, label) in STANCE_LABELS.iter().enumerate() {
        if !gold.iter().any(|g| g.stance == k) {
            bail!("{origin}: the calibration set has no '{label}' rows, so the labeller's errors on them cannot be measured");
        }
    }
    Ok(Some((gold, digests, origin)))
}

/// Runs `stance run`: reads, cleans and splits every document (checking all before the model
/// loads), labels them one by one into parts, and writes the reports, `cleaned/` and run.json
/// into `settings.out` (all or nothing).
pub fn run(settings: &RunSettings) -> Result<RunSummary> {
    let started = Instant::now();
    let fields = jsonl_fields(&settings.corpus);
    let entries = settings.corpus.entries(!settings.skip_bad)?;
    let corpus_documents = entries.len();
    let stems = file_stems(&entries, settings.corpus.path())?;
    let mut docs = Vec::new();
    let mut skipped = Vec::new();
    let mut total_sentences = 0u64;
    // Every document is read, cleaned and split before the model loads, so bad input fails
    // fast; only its digest is kept, and it is read again when its turn comes.
    for (index, (entry, stem)) in entries.into_iter().zip(stems).enumerate() {
        if settings.shard.is_some_and(|s| !s.holds(&entry.doc_id)) {
            continue;
        }
        match prepare_entry(&entry, fields) {
            Ok((_, spans, sha256)) => {
                if spans.is_empty() {
                    eprintln!("warning: {}: no prose sentences left after cleaning", document_origin(&entry));
                }
                total_sentences += spans.len() as u64;
                docs.push(Doc { index, entry, stem, sha256 });
            }
            // With --skip-bad a bad document is recorded and left out; by default it stops the run.
            Err(e) if settings.skip_bad => {
                let reason = format!("{e:#}");
                eprintln!("warning: skipped document '{}': {reason}", entry.doc_id);
                skipped.push(json!({"doc_id": entry.doc_id, "index": index, "path": entry.path, "reason": reason}));
            }
            Err(e) => return Err(e),
        }
    }
    let origin = settings.corpus.path().display();
    if docs.is_empty() {
        match settings.shard {
            // A small corpus over many array tasks: an empty shard is still a shard to merge.
            Some(shard) => {
                eprintln!("warning: shard {shard} labels none of the {corpus_documents} documents of {origin} ({} skipped)", skipped.len())
            }
            _ => bail!("{origin}: every document was skipped (see the warnings above)"),
        }
    }
    let calibration_gold = read_calibration(&settings.calibration)?;
    let prepare_seconds = started.elapsed().as_secs_f64();
    refuse_foreign_cleaned_files(&settings.out)?;
    let staging = if settings.resume { Staging::resume(&settings.out, &RUN_FILES)? } else { Staging::new(&settings.out, &RUN_FILES)? };
    for leftover in &staging.removed_leftovers {
        eprintln!("warning: removed {}, the staging folder of an interrupted run (--resume would have continued it)", leftover.display());
    }
    if let Some(aside) = &staging.restored {
        eprintln!(
            "warning: put back {} as {}: an interrupted run had set the previous result aside",
            aside.display(),
            settings.out.display()
        );
    }

    let mut loaded = load_labeler(&settings.config, &settings.model)?;
    let fingerprint = fingerprint(&settings.model, &settings.config, &loaded);
    let fingerprint_sha = fingerprint["sha256"].as_str().expect("a digest").to_string();
    let parts_dir = staging.path().join("parts");
    if let Some(dir) = &staging.resumed {
        let before = std::fs::read_to_string(parts_dir.join(FINGERPRINT)).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok());
        if before.as_ref().and_then(|b| b["sha256"].as_str()) == Some(fingerprint_sha.as_str()) {
            crate::say!("resuming the interrupted run in {}", dir.display());
        } else {
            eprintln!(
                "warning: the interrupted run in {} used other models or settings (or had not begun labelling): labelling from the start",
                dir.display()
            );
            for sub in ["parts", "cleaned"] {
                let path = staging.path().join(sub);
                if path.exists() {
                    std::fs::remove_dir_all(&path).with_context(|| format!("{}: cannot remove", path.display()))?;
                }
            }
        }
    }
    staging.write(&format!("parts/{FINGERPRINT}"), serde_json::to_string_pretty(&fingerprint)? + "\n")?;

    let target = settings.config.target.name.as_str();
    let entity = EntityMatcher::new(&settings.config.entity.aliases)?;
    let bar = progress_bar(total_sentences, "sentences", true);
    let passes = loaded.labeler.passes().max(1);
    let label_started = Instant::now();
    let (mut reused, mut labelled_sentences) = (0, 0);
    // Documents are labelled in rounds of at least four batches a worker, so the labeller's
    // workers share many short documents; each document still gets batches of its own, so its
    // labels do not depend on the round it fell in (or on a resume). A killed run loses at most
    // the round under way.
    let round_sentences_at_least = 4 * settings.model.threads.count * settings.config.labeler.batch_size;
    let mut round: Vec<(&Doc, Cleaned, Vec<Span>, String)> = Vec::new();
    let mut flush = |round: &mut Vec<(&Doc, Cleaned, Vec<Span>, String)>| -> Result<()> {
        let inputs: Vec<LabelInput> = round
            .iter()
            .flat_map(|(_, cleaned, spans, _)| spans.iter().map(|s| &cleaned.text[s.clone()]))
            .map(|text| LabelInput { text, target, mention: entity.first(text).map(|m| m.text) })
            .collect();
        let groups: Vec<usize> = round.iter().map(|(_, _, spans, _)| spans.len()).collect();
        let mut pending = 0;
        let probs = if inputs.is_empty() {
            Vec::new()
        } else {
            loaded.labeler.label_groups(&inputs, &groups, &mut |n| {
                pending += n;
                bar.inc(pending / passes);
                pending %= passes;
            })?
        };
        labelled_sentences += inputs.len();
        let mut at = 0;
        for (doc, cleaned, spans, sha256) in round.iter() {
            let (doc_inputs, doc_probs) = (&inputs[at..at + spans.len()], &probs[at..at + spans.len()]);
            at += spans.len();
            let part = DocPart {
                doc_id: doc.entry.doc_id.clone(),
                sha256: sha256.clone(),
                fingerprint: fingerprint_sha.clone(),
                lines_total: cleaned.lines_total,
                lines_kept: cleaned.lines_kept,
                lines_dropped: cleaned.dropped.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                cleaned_bytes: cleaned.text.len(),
                mentions: doc_inputs.iter().filter(|i| i.mention.is_some()).count(),
                checksum: String::new(),
                sentences: spans
                    .iter()
                    .zip(doc_probs)
                    .map(|(s, p)| PartSentence {
                        start: s.start,
                        end: s.end,
                        stance: to_f64(p.stance),
                        sentiment: to_f64(p.sentiment),
                        toward: p.target_sentiment.map(to_f64),
                    })
                    .collect(),
            };
            staging.write(&format!("cleaned/{}.txt", doc.stem), &cleaned.text)?;
            // The part last, and whole: a run killed before this line re-labels the document.
            write_atomic(&parts_dir.join(format!("{}.json", doc.stem)), part_json(&part)?.as_bytes())?;
        }
        drop(inputs);
        round.clear();
        Ok(())
    };
    let mut round_sentences = 0;
    for doc in &docs {
        let part_path = parts_dir.join(format!("{}.json", doc.stem));
        if staging.resumed.is_some() {
            if let Ok(part) = read_part(&part_path) {
                let cleaned = staging.path().join(format!("cleaned/{}.txt", doc.stem));
                // The cleaned file is written before its part; a crash can still leave it short.
                let whole = std::fs::metadata(&cleaned).is_ok_and(|m| m.is_file() && m.len() == part.cleaned_bytes as u64);
                if part.doc_id == doc.entry.doc_id && part.sha256 == doc.sha256 && part.fingerprint == fingerprint_sha && whole {
                    reused += 1;
                    bar.inc(part.sentences.len() as u64);
                    continue;
                }
            }
        }
        // Read again: only this round's texts are in memory.
        let (cleaned, spans, sha256) = prepare_entry(&doc.entry, fields)?;
        if sha256 != doc.sha256 {
            bail!("{}: changed while the run was under way", document_origin(&doc.entry));
        }
        round_sentences += spans.len();
        round.push((doc, cleaned, spans, sha256));
        if round_sentences >= round_sentences_at_least {
            flush(&mut round)?;
            round_sentences = 0;
        }
    }
    flush(&mut round)?;
    let label_seconds = label_started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    if staging.resumed.is_some() {
        remove_strays(staging.path(), &docs.iter().map(|d| d.stem.as_str()).collect())?;
    }

    let calibration_started = Instant::now();
    let calibration = match calibration_gold {
        None => None,
        Some((gold, files, origin)) => {
            // Only stance is calibrated, so no sentiment toward mentions is asked for.
            let inputs: Vec<LabelInput> = gold.iter().map(|g| LabelInput { text: g.sentence.as_str(), target, mention: None }).collect();
            let probs = loaded.labeler.label(&inputs, &mut |_| {})?;
            let rows = gold.iter().zip(&probs).map(|(g, p)| (g.stance, to_f64(p.stance))).collect();
            Some(CalibrationRows { origin, files, rows })
        }
    };
    let calibration_seconds = calibration_started.elapsed().as_secs_f64();
    // Whether the model was measured on this target, and its false-stance share on real
    // no-stance text of the nearest measured target (the model folder's measured.json).
    let measured = settings.model.trained.join("measured.json");
    let target_check = match settings.model.labeler == super::LabelerKind::Trained && measured.is_file() {
        true => Some(stance_core::measured::MeasuredTargets::read(&measured)?.check(target)),
        false => None,
    };

    let identity = json!({
        "corpus": settings.corpus,
        "manifest": matches!(settings.corpus, Corpus::Manifest { .. }).then(|| settings.corpus.path()),
        "config_origin": settings.config_origin,
        "config": settings.config,
        "labeler": settings.model.labeler,
        "labeler_model": loaded.labeler.name(),
        "sentiment_source": loaded.sentiment_source,
        "model": {
            "dir": settings.model.model_dir,
            "trained": (settings.model.labeler == super::LabelerKind::Trained).then_some(&settings.model.trained),
            "device": format!("{:?}", settings.model.device),
            "files": loaded.files,
        },
        "csv_safe": settings.csv_safe,
        "excel": settings.excel,
        "threads": {
            "count": settings.model.threads.count,
            "from": settings.model.threads.from,
            // Trained labeler: that many single-threaded workers; zero-shot: libtorch's threads.
            "workers": if settings.model.labeler == super::LabelerKind::Trained { settings.model.threads.count } else { 1 },
        },
        "target_check": target_check,
    });
    let timings = json!({
        "read_clean_split": prepare_seconds,
        "model_load": loaded.load_seconds,
        "labeling": label_seconds,
        "calibration": calibration_seconds,
    });
    let doc_refs: Vec<DocRef> =
        docs.iter().map(|d| DocRef { entry: &d.entry, stem: &d.stem, part: parts_dir.join(format!("{}.json", d.stem)) }).collect();
    let extra = json!({
        "shard": settings.shard.map(|s| s.to_string()),
        "resumed_documents": settings.resume.then_some(reused),
    });
    let written = finish(&staging, &doc_refs, &identity, calibration.as_ref(), &skipped, timings, labelled_sentences, extra, started)?;
    match settings.shard {
        Some(shard) => {
            let record = json!({
                "shard": shard,
                "corpus_sha256": sha256_file(settings.corpus.path())?,
                "corpus_documents": corpus_documents,
                "fingerprint": fingerprint_sha,
                "identity": identity,
                "calibration": calibration,
                "documents": docs.iter().map(|d| json!({"doc_id": d.entry.doc_id, "index": d.index, "stem": d.stem})).collect::<Vec<_>>(),
                "skipped_documents": skipped,
                "labeling_seconds": label_seconds,
                "labelled_sentences": labelled_sentences,
            });
            staging.write("shard.json", serde_json::to_string_pretty(&record)? + "\n")?;
        }
        None => std::fs::remove_dir_all(&parts_dir).with_context(|| format!("{}: cannot remove", parts_dir.display()))?,
    }
    staging.commit()?;
    Ok(RunSummary {
        documents: docs.len(),
        sentences: written,
        reused_documents: reused,
        label_seconds,
        labelled_sentences,
        load_seconds: loaded.load_seconds,
    })
}

/// The fingerprint's file in `parts/`: a dot name, which no document's file stem can be.
const FINGERPRINT: &str = ".fingerprint.json";

/// A document in a corpus or a JSONL record, for messages.
fn document_origin(entry: &DocEntry) -> String {
    match entry.record {
        Some(r) => format!("{}:{}", entry.path.display(), r.line),
        None => entry.path.display().to_string(),
    }
}

/// Removes parts and cleaned files a resumed staging folder holds for documents no longer in
/// the run (the corpus changed between the two runs).
fn remove_strays(root: &Path, stems: &HashSet<&str>) -> Result<()> {
    for (sub, ext) in [("parts", "json"), ("cleaned", "txt")] {
        let Ok(entries) = std::fs::read_dir(root.join(sub)) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
            let ours = path.extension().is_some_and(|e| e == ext) && stems.contains(stem.as_str());
            let fingerprint = sub == "parts" && path.file_name().is_some_and(|n| n == FINGERPRINT);
            if !(ours || fingerprint) {
                std::fs::remove_file(&path).with_context(|| format!("{}: cannot remove", path.display()))?;
            }
        }
    }
    Ok(())
}

/// A document to report: its record, file stem and part file.
struct DocRef<'a> {
    entry: &'a DocEntry,
    stem: &'a str,
    part: PathBuf,
}

/// Writes the reports from the documents' parts (in corpus order): sentences.csv streamed
/// document by document, profiles.csv, comparison.csv, run.json and report.html. The cleaned
/// files must already be staged. Returns the number of sentences.
#[allow(clippy::too_many_arguments)]
fn finish(
    staging: &Staging,
    docs: &[DocRef],
    identity: &Value,
    calibration: Option<&CalibrationRows>,
    skipped: &[Value],
    mut timings: Value,
    labelled_sentences: usize,
    extra: Value,
    started: Instant,
) -> Result<usize> {
    let config: Config = serde_json::from_value(identity["config"].clone()).context("run settings")?;
    let (csv_safe, excel) = (identity["csv_safe"].as_bool().unwrap_or(false), identity["excel"].as_bool().unwrap_or(false));
    let bootstrap = Bootstrap { resamples: config.aggregate.bootstrap_resamples, seed: config.aggregate.seed };
    let sentences_path = staging.path().join("sentences.csv");
    let file = std::fs::File::create(&sentences_path).with_context(|| format!("{}: cannot write", sentences_path.display()))?;
    let mut file = std::io::BufWriter::new(file);
    if excel {
        file.write_all("\u{feff}".as_bytes())?;
    }
    let mut w = csv::Writer::from_writer(file);
    w.write_record(tables::sentence_columns())?;
    // Only keys and probabilities stay in memory for the profiles; text is streamed.
    let mut rows: Vec<SentenceRow> = Vec::new();
    let mut documents_json = Vec::with_capacity(docs.len());
    let mut mentions = 0;
    for d in docs {
        let part = read_part(&d.part)?;
        if part.doc_id != d.entry.doc_id {
            bail!("{}: holds document '{}', expected '{}'", d.part.display(), part.doc_id, d.entry.doc_id);
        }
        let cleaned_path = staging.path().join(format!("cleaned/{}.txt", d.stem));
        let text = std::fs::read_to_string(&cleaned_path).with_context(|| format!("{}: cannot read", cleaned_path.display()))?;
        // The spans must be the sentences of the text, every one: a part that lost or shortened
        // one would lose text without a word.
        let spans: Vec<Span> = part.sentences.iter().map(|s| s.start..s.end).collect();
        if spans != RuleSplitter.split(&text) {
            bail!("{}: its sentences are not those of {}: label that document again", d.part.display(), cleaned_path.display());
        }
        for (i, s) in part.sentences.iter().enumerate() {
            let sentence =
                text.get(s.start..s.end).with_context(|| format!("{}: sentence {} is out of its text", d.part.display(), i + 1))?;
            // Kept for the profiles without its text: only keys and probabilities stay in memory.
            let kept = SentenceRow {
                doc_id: &d.entry.doc_id,
                outlet: &d.entry.outlet,
                group: &d.entry.group,
                sentence_id: i + 1,
                start: s.start,
                end: s.end,
                text: "",
                probs: s.probs(),
            };
            w.write_record(tables::sentence_record(&SentenceRow { text: sentence, ..kept }, csv_safe))?;
            rows.push(kept);
        }
        mentions += part.mentions;
        documents_json.push(json!({
            "doc_id": d.entry.doc_id,
            "path": d.entry.path,
            "line": d.entry.record.map(|r| r.line),
            "sha256": part.sha256,
            "outlet": d.entry.outlet,
            "group": d.entry.group,
            "title": d.entry.title,
            "date": d.entry.date,
            "url": d.entry.url,
            "cleaned_file": format!("cleaned/{}.txt", d.stem),
            "lines_total": part.lines_total,
            "lines_kept": part.lines_kept,
            "lines_dropped": part.lines_dropped,
            "cleaned_bytes": part.cleaned_bytes,
            "sentences": part.sentences.len(),
        }));
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{}: cannot write: {}", sentences_path.display(), e.error()))?.flush()?;

    let calibration_model = match calibration {
        Some(c) => Some(Calibration::new(c.origin.clone(), c.rows.clone(), bootstrap)?),
        None => None,
    };
    let aggregate_started = Instant::now();
    let keys: Vec<(&str, &str, &str)> =
        docs.iter().map(|d| (d.entry.doc_id.as_str(), d.entry.outlet.as_str(), d.entry.group.as_str())).collect();
    let (profiles, comparisons) = aggregate(&keys, &rows, bootstrap, calibration_model.as_ref());
    if comparisons.is_empty() && !keys.is_empty() {
        let group = keys.first().map_or("", |d| d.2);
        eprintln!("warning: every document is in one group ('{group}'), so comparison.csv has no rows: the corpus's group field names the groups to compare");
    }
    staging.write("profiles.csv", tables::for_excel(tables::profiles_csv(&profiles, csv_safe)?, excel))?;
    staging.write("comparison.csv", tables::for_excel(tables::comparison_csv(&comparisons, csv_safe)?, excel))?;
    timings["aggregate"] = json!(aggregate_started.elapsed().as_secs_f64());
    timings["total"] = json!(started.elapsed().as_secs_f64());
    let count = |labels: [&'static str; 3], pick: fn(&Probs) -> &'static str| -> BTreeMap<&'static str, usize> {
        labels.iter().map(|l| (*l, rows.iter().filter(|r| pick(&r.probs) == *l).count())).collect()
    };
    let mut run_json = identity.clone();
    let labeling = timings["labeling"].as_f64().unwrap_or(0.0);
    let more = json!({
        "stance_version": env!("CARGO_PKG_VERSION"),
        "command": std::env::args().collect::<Vec<_>>(),
        "versions": {
            "stance": env!("CARGO_PKG_VERSION"),
            "rust-bert": stance_model::versions::RUST_BERT,
            "tch": stance_model::versions::TCH,
            "libtorch": stance_model::versions::LIBTORCH,
        },
        "skipped_documents": skipped,
        "documents": documents_json,
        "counts": {
            "documents": docs.len(),
            "sentences": rows.len(),
            "stance": count(STANCE_LABELS, Probs::stance_label),
            "sentiment": count(SENTIMENT_LABELS, Probs::sentiment_label),
            "entity_mentions": mentions,
            // Sentences longer than the models read: labelled from their first 8 KiB.
            "sentences_cut_for_the_model": rows.iter().filter(|r| r.end - r.start > stance_model::encoder::MAX_TEXT_BYTES).count(),
            "target_sentiment": SENTIMENT_LABELS
                .iter()
                .map(|l| (*l, rows.iter().filter(|r| r.probs.target_sentiment_label() == Some(*l)).count()))
                .collect::<BTreeMap<_, _>>(),
        },
        "timings_seconds": timings,
        "labelled_sentences": labelled_sentences,
        "sentences_per_second": labelled_sentences as f64 / labeling.max(1e-9),
        "calibration": calibration.zip(calibration_model.as_ref()).map(|(rows, c)| json!({
            "files": rows.files,
            "rows_per_true_label": STANCE_LABELS.iter().zip(c.counts()).map(|(l, n)| (*l, n)).collect::<BTreeMap<_, _>>(),
            "mean_predicted_given_true": STANCE_LABELS.iter().zip(c.matrix).map(|(l, row)| (*l, row)).collect::<BTreeMap<_, _>>(),
            "method": "probabilistic adjusted classify-and-count, clipped to the simplex; intervals resample sentences and calibration rows",
        })),
    });
    for source in [more, extra] {
        if let Value::Object(map) = source {
            for (k, v) in map {
                if !v.is_null() {
                    run_json[k] = v;
                }
            }
        }
    }
    staging.write("run.json", serde_json::to_string_pretty(&run_json)? + "\n")?;
    staging.write("report.html", stance_report::page::render(staging.path())?)?;
    Ok(rows.len())
}

/// Settings of `stance merge`.
pub struct MergeSettings {
    /// The output folder, written as `stance run` writes one.
    pub out: PathBuf,
    /// The shard folders (`stance run --shard K/N --out PART`).
    pub parts: Vec<PathBuf>,
}

/// A shard folder's record, as read back.
struct ShardFolder {
    dir: PathBuf,
    record: Value,
}

/// Runs `stance merge`: checks that the shard folders were labelled alike and cover the corpus
/// once, then writes the reports a single run over the whole corpus writes.
pub fn merge(settings: &MergeSettings) -> Result<(usize, usize)> {
    let started = Instant::now();
    let mut shards = Vec::new();
    for dir in &settings.parts {
        let path = dir.join("shard.json");
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!("{}: cannot read: is {} a folder written by `stance run --shard K/N`?", path.display(), dir.display())
        })?;
        let record: Value = serde_json::from_str(&text).with_context(|| format!("{}: not a shard record", path.display()))?;
        shards.push(ShardFolder { dir: dir.clone(), record });
    }
    let first = &shards[0];
    // Everything that must agree, in the order a mismatch is reported.
    let agree = |r: &Value| -> Vec<(&'static str, Value)> {
        vec![
            ("shard count", r["shard"]["count"].clone()),
            ("corpus", r["identity"]["corpus"].clone()),
            ("corpus file (sha256)", r["corpus_sha256"].clone()),
            (
                "model files",
                r["identity"]["model"]["files"].as_array().map(|f| f.iter().map(|f| f["sha256"].clone()).collect()).unwrap_or_default(),
            ),
            ("models or settings (fingerprint)", r["fingerprint"].clone()),
            ("configuration", r["identity"]["config"].clone()),
            ("calibration", r["calibration"].clone()),
            ("output options (--csv-safe, --excel)", json!([r["identity"]["csv_safe"], r["identity"]["excel"]])),
        ]
    };
    let expected = agree(&first.record);
    let mut seen_shards: HashMap<u64, &Path> = HashMap::new();
    for shard in &shards {
        for ((what, a), (_, b)) in expected.iter().zip(agree(&shard.record)) {
            if *a != b {
                bail!(
                    "{}: other {what} than {}: {} vs {}",
                    shard.dir.join("shard.json").display(),
                    first.dir.join("shard.json").display(),
                    short(&b),
                    short(a)
                );
            }
        }
        let index = shard.record["shard"]["index"]
            .as_u64()
            .with_context(|| format!("{}: no shard index", shard.dir.join("shard.json").display()))?;
        if let Some(other) = seen_shards.insert(index, &shard.dir) {
            bail!("{} and {}: both are shard {index} of {}", other.display(), shard.dir.display(), first.record["shard"]["count"]);
        }
    }
    let corpus: Corpus = serde_json::from_value(first.record["identity"]["corpus"].clone())
        .with_context(|| format!("{}: no corpus", first.dir.join("shard.json").display()))?;
    let digest = sha256_file(corpus.path()).with_context(|| {
        format!(
            "{}: the shards' corpus is needed, at the path they recorded (run merge from the folder the shards ran in)",
            corpus.path().display()
        )
    })?;
    if Some(digest.as_str()) != first.record["corpus_sha256"].as_str() {
        bail!("{}: changed since the shards were labelled (its sha256 differs from shard.json's)", corpus.path().display());
    }
    let entries = corpus.entries(false)?;
    let stems = file_stems(&entries, corpus.path())?;
    // Where each document's part is; every document in exactly one shard.
    let mut found: HashMap<&str, (&Path, &str)> = HashMap::new();
    let mut skipped = Vec::new();
    for shard in &shards {
        for d in shard.record["documents"].as_array().into_iter().flatten() {
            let record = || shard.dir.join("shard.json").display().to_string();
            let id = d["doc_id"].as_str().with_context(|| format!("{}: a document without an id", record()))?;
            let stem = d["stem"].as_str().with_context(|| format!("{}: a document without a stem", record()))?;
            if let Some((other, _)) = found.insert(id, (&shard.dir, stem)) {
                bail!("document '{id}' is in two parts: {} and {}", other.display(), shard.dir.display());
            }
        }
        for s in shard.record["skipped_documents"].as_array().into_iter().flatten() {
            skipped.push(s.clone());
        }
    }
    let skipped_ids: HashSet<&str> = skipped.iter().filter_map(|s| s["doc_id"].as_str()).collect();
    let missing: Vec<&str> =
        entries.iter().map(|e| e.doc_id.as_str()).filter(|id| !found.contains_key(id) && !skipped_ids.contains(id)).collect();
    if !missing.is_empty() {
        let present: Vec<String> = {
            let mut k: Vec<u64> = seen_shards.keys().copied().collect();
            k.sort();
            k.iter().map(|k| k.to_string()).collect()
        };
        bail!(
            "{} of the corpus's {} documents are in no part ({}{}); the parts hold shards {} of {}",
            missing.len(),
            entries.len(),
            missing.iter().take(5).map(|m| format!("'{m}'")).collect::<Vec<_>>().join(", "),
            if missing.len() > 5 { ", …" } else { "" },
            present.join(", "),
            first.record["shard"]["count"]
        );
    }
    if found.len() + skipped_ids.len() != entries.len() {
        bail!("the parts hold documents that are not in {}", corpus.path().display());
    }
    skipped.sort_by_key(|s| s["index"].as_u64());

    refuse_foreign_cleaned_files(&settings.out)?;
    let staging = Staging::new(&settings.out, &RUN_FILES)?;
    let mut doc_refs = Vec::new();
    for (entry, stem) in entries.iter().zip(&stems) {
        let Some((dir, part_stem)) = found.get(entry.doc_id.as_str()) else { continue };
        if part_stem != stem {
            bail!("{}: document '{}' is filed as '{part_stem}', expected '{stem}'", dir.display(), entry.doc_id);
        }
        let part = dir.join(format!("parts/{stem}.json"));
        let labelled = read_part(&part)?;
        // A part dropped in from another run (another target, model or precision) is not this
        // shard's, whatever its folder.
        let shard_fingerprint = shards.iter().find(|s| &s.dir == dir).and_then(|s| s.record["fingerprint"].as_str()).unwrap_or_default();
        if labelled.fingerprint != shard_fingerprint {
            bail!(
                "{}: labelled with other models or settings than {} (fingerprint): label that shard again",
                part.display(),
                dir.display()
            );
        }
        // A JSONL corpus's sha256 covers its texts; a manifest's does not cover the files it lists.
        if entry.record.is_none() {
            let labelled = labelled.sha256;
            if sha256_file(&entry.path)? != labelled {
                bail!("{}: changed since {} labelled it: label that shard again", entry.path.display(), dir.display());
            }
        }
        let cleaned = dir.join(format!("cleaned/{stem}.txt"));
        let text = std::fs::read(&cleaned).with_context(|| format!("{}: cannot read", cleaned.display()))?;
        staging.write(&format!("cleaned/{stem}.txt"), text)?;
        doc_refs.push(DocRef { entry, stem, part });
    }
    let calibration: Option<CalibrationRows> = serde_json::from_value(first.record["calibration"].clone())
        .with_context(|| format!("{}: unreadable calibration", first.dir.join("shard.json").display()))?;
    let sum = |key: &str| shards.iter().map(|s| s.record[key].as_f64().unwrap_or(0.0)).sum::<f64>();
    let timings = json!({ "labeling": sum("labeling_seconds"), "merge": started.elapsed().as_secs_f64() });
    let extra = json!({
        "merged_from": shards.iter().map(|s| json!({
            "dir": s.dir,
            "shard": format!("{}/{}", s.record["shard"]["index"], s.record["shard"]["count"]),
            "documents": s.record["documents"].as_array().map_or(0, Vec::len),
            "labeling_seconds": s.record["labeling_seconds"],
        })).collect::<Vec<_>>(),
    });
    let labelled = sum("labelled_sentences") as usize;
    let identity = &first.record["identity"];
    let sentences = finish(&staging, &doc_refs, identity, calibration.as_ref(), &skipped, timings, labelled, extra, started)?;
    staging.commit()?;
    Ok((doc_refs.len(), sentences))
}

/// A JSON value cut for a one-line message.
fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small seeded generator (xorshift), so this crate needs no random-number dependency.
    struct Xorshift(u64);
    impl Xorshift {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    #[test]
    fn the_part_reader_never_takes_a_damaged_part_and_never_panics() {
        // Issue 31's fuzz bar: the part reader, fed parts cut, spliced and bit-flipped, and
        // pieces of JSON, fails with its file named, or reads a part whose checksum holds.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("d.json");
        let sentence = PartSentence { start: 0, end: 5, stance: [0.25, 0.25, 0.5], sentiment: [0.1, 0.8, 0.1], toward: None };
        let part = DocPart {
            doc_id: "d".into(),
            sha256: "ab".into(),
            fingerprint: "f".into(),
            lines_total: 1,
            lines_kept: 1,
            lines_dropped: BTreeMap::new(),
            cleaned_bytes: 6,
            mentions: 0,
            sentences: vec![sentence.clone(), PartSentence { start: 6, end: 9, ..sentence }],
            checksum: String::new(),
        };
        let good = part_json(&part).unwrap();
        std::fs::write(&path, &good).unwrap();
        assert_eq!(read_part(&path).unwrap().sentences.len(), 2, "a whole part reads back");
        let pieces = ["{", "}", "[", "]", ",", ":", "\"", "0.5", "-5", "1e400", "null", "\"checksum\":\"\"", "\u{feff}", "\n"];
        let mut rng = Xorshift(0x5eed);
        for case in 0..3000 {
            let mut bytes = good.clone().into_bytes();
            match case % 3 {
                0 => bytes.truncate(rng.below(bytes.len())),
                1 => {
                    let at = rng.below(bytes.len());
                    bytes[at] ^= 1 << rng.below(8);
                }
                _ => {
                    let at = rng.below(bytes.len());
                    let piece = pieces[rng.below(pieces.len())].as_bytes();
                    bytes.splice(at..at, piece.iter().copied());
                }
            }
            std::fs::write(&path, &bytes).unwrap();
            match read_part(&path) {
                Ok(_) => assert_eq!(bytes, good.as_bytes(), "case {case}: a changed part was taken"),
                Err(e) => {
                    let message = format!("{e:#}");
                    assert!(message.contains("d.json") && !message.contains('\n'), "case {case}: {message}");
                }
            }
        }
    }
}
