//! Training: fine-tunes the cross-encoder on (text, target, label) rows with tch autograd.
//! CPU training takes hours, so a run checkpoints as it goes and an interrupted run continues
//! exactly where it stopped: batch order, dropout masks and optimiser state are all functions
//! of the seed and the step, and all of them are in the checkpoint.
//!
//! Also here: K-fold cross-validation of adaptation to a user's own tags (`stance eval --cv`),
//! where no row is ever scored by a model that trained on it.

use crate::eval::{metrics, Metrics};
use crate::model::{CrossEncoder, Pooling};
use crate::output::write_atomic;
use crate::split::collapse_whitespace;
use crate::table::{field, CsvFile};
use anyhow::{anyhow, bail, Context, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{Device, Kind, Tensor};

/// One training or evaluation row.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub text: String,
    pub target: String,
    pub label: usize,
}

/// Where a data file keeps its fields, and how its labels map to ours.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DataSpec {
    /// Text column (comma-separated candidates allowed: "post,Tweet"); default: the first of
    /// text, sentence, post, Tweet.
    pub text_col: Option<String>,
    /// Target column; default: the first of target, topic_str, topic, Target. Rows without one
    /// take `default_target`.
    pub target_col: Option<String>,
    /// Label column; default: the first of label, stance, Stance (or the task's name).
    pub label_col: Option<String>,
    /// Raw label → our label ("0" → "against"); labels not listed must be ours already.
    pub label_map: BTreeMap<String, String>,
    pub default_target: Option<String>,
    /// NewsMTSC files: which rows to make of each sentence.
    pub rows: NewsRows,
    /// NewsMTSC files: the target of sentence rows [default: [`SENTENCE_TARGET`]].
    pub sentence_target: Option<String>,
}

/// The rows a NewsMTSC sentence gives: one per annotated target (the mention as target), and
/// one for the sentence as a whole when all its targets share one polarity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum NewsRows {
    #[default]
    All,
    Targets,
    Sentences,
}

/// The first segment of a sentence-level sentiment pair: the sentiment model reads
/// (mention, sentence) for sentiment toward a mention and (this, sentence) for the sentence.
pub const SENTENCE_TARGET: &str = "overall tone";

/// NewsMTSC polarity codes and our sentiment labels.
const NEWSMTSC_POLARITY: [(&str, &str); 3] = [("2", "negative"), ("4", "neutral"), ("6", "positive")];

const TEXT_COLUMNS: [&str; 4] = ["text", "sentence", "post", "Tweet"];
/// VAST's `topic_str` and not `new_topic`: on its synthetic neutral rows (type 4) only
/// `topic_str` holds the unrelated topic the `none` label is about, while `new_topic` keeps the
/// post's own topic; VAST dev's `Target` is `topic_str` too.
const TARGET_COLUMNS: [&str; 4] = ["target", "topic_str", "topic", "Target"];
const LABEL_COLUMNS: [&str; 3] = ["label", "stance", "Stance"];

/// Parses "0=against,1=favor,2=none".
pub fn parse_label_map(text: &str) -> Result<BTreeMap<String, String>> {
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (raw, ours) = pair.split_once('=').with_context(|| format!("label map entry '{pair}' is not RAW=LABEL"))?;
            Ok((raw.trim().to_string(), ours.trim().to_string()))
        })
        .collect()
}

fn resolve_label(spec: &DataSpec, labels: &[&str], raw: &str, origin: &str, line: u64) -> Result<usize> {
    let raw = raw.trim();
    let mapped = spec.label_map.get(raw).map(String::as_str).unwrap_or(raw);
    let lower = mapped.to_lowercase();
    labels.iter().position(|l| *l == lower).with_context(|| {
        format!("{origin}: line {line}: unknown label '{raw}' (expected {}, or map it with --label-map)", labels.join(", "))
    })
}

/// Reads examples from a CSV file, or from JSON lines when the name ends in `.jsonl`.
pub fn read_examples(path: &Path, spec: &DataSpec, labels: &[&str], task: &str) -> Result<Vec<Example>> {
    let origin = path.display().to_string();
    let examples = if origin.ends_with(".jsonl") { read_jsonl(path, spec, labels, task)? } else { read_csv(path, spec, labels, task)? };
    if examples.is_empty() {
        bail!("{origin}: no examples");
    }
    Ok(examples)
}

/// The column to use: the first present of the given comma-separated names (or, when none is
/// present, the first given, so the error names it), else the first present default.
fn pick<'a>(given: &'a Option<String>, defaults: &'a [&'a str], present: impl Fn(&str) -> bool) -> Option<&'a str> {
    match given {
        Some(names) => {
            let mut candidates = names.split(',').map(str::trim).filter(|n| !n.is_empty());
            let first = candidates.clone().next();
            candidates.find(|c| present(c)).or(first)
        }
        None => defaults.iter().copied().find(|c| present(c)),
    }
}

fn read_csv(path: &Path, spec: &DataSpec, labels: &[&str], task: &str) -> Result<Vec<Example>> {
    let file = CsvFile::open(path, "training file")?;
    let origin = file.origin().to_string();
    let label_defaults: Vec<&str> = std::iter::once(task).chain(LABEL_COLUMNS).collect();
    let text_name = pick(&spec.text_col, &TEXT_COLUMNS, |c| file.column(c).is_some()).unwrap_or("text");
    let label_name = pick(&spec.label_col, &label_defaults, |c| file.column(c).is_some()).unwrap_or(task);
    let required = file.require(&[text_name, label_name])?;
    let target_index = match pick(&spec.target_col, &TARGET_COLUMNS, |c| file.column(c).is_some()) {
        Some(name) if spec.target_col.is_some() => Some(file.require(&[name])?[0]),
        Some(name) => file.column(name),
        None => None,
    };
    let mut out = Vec::new();
    for row in file.rows() {
        let (line, record) = row?;
        let text = field(&record, required[0]);
        if text.is_empty() {
            bail!("{origin}: line {line}: empty text");
        }
        let target =
            target_index.map(|k| field(&record, k)).filter(|t| !t.is_empty()).map(String::from).or_else(|| spec.default_target.clone());
        let target = target.with_context(|| format!("{origin}: line {line}: no target (add a target column or pass --target)"))?;
        let label = resolve_label(spec, labels, field(&record, required[1]), &origin, line)?;
        out.push(Example { text: collapse_whitespace(text), target, label });
    }
    Ok(out)
}

fn read_jsonl(path: &Path, spec: &DataSpec, labels: &[&str], task: &str) -> Result<Vec<Example>> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).with_context(|| format!("{origin}: cannot read training file"))?;
    let label_defaults: Vec<&str> = std::iter::once(task).chain(LABEL_COLUMNS).collect();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value = serde_json::from_str(line).with_context(|| format!("{origin}: line {line_no}: not JSON"))?;
        let object = value.as_object().with_context(|| format!("{origin}: line {line_no}: not a JSON object"))?;
        if object.contains_key("sentence_normalized") && object.contains_key("targets") {
            out.extend(newsmtsc_rows(object, spec, labels, &origin, line_no)?);
            continue;
        }
        let get = |name: &str| {
            object.get(name).and_then(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let text_name = pick(&spec.text_col, &TEXT_COLUMNS, |c| object.contains_key(c)).unwrap_or("text");
        let label_name = pick(&spec.label_col, &label_defaults, |c| object.contains_key(c)).unwrap_or("label");
        let text =
            get(text_name).filter(|t| !t.trim().is_empty()).with_context(|| format!("{origin}: line {line_no}: no '{text_name}'"))?;
        let raw_label = get(label_name).with_context(|| format!("{origin}: line {line_no}: no '{label_name}'"))?;
        let target = pick(&spec.target_col, &TARGET_COLUMNS, |c| object.contains_key(c))
            .and_then(get)
            .filter(|t| !t.trim().is_empty())
            .or_else(|| spec.default_target.clone())
            .with_context(|| format!("{origin}: line {line_no}: no target (add a target field or pass --target)"))?;
        let label = resolve_label(spec, labels, &raw_label, &origin, line_no)?;
        out.push(Example { text: collapse_whitespace(&text), target, label });
    }
    Ok(out)
}

/// The rows of one NewsMTSC line (see [`NewsRows`]); polarity 2/4/6 is negative/neutral/positive.
fn newsmtsc_rows(
    object: &serde_json::Map<String, serde_json::Value>,
    spec: &DataSpec,
    labels: &[&str],
    origin: &str,
    line: u64,
) -> Result<Vec<Example>> {
    if labels != crate::config::SENTIMENT_LABELS {
        bail!("{origin}: line {line}: a NewsMTSC file trains the sentiment task (pass --task sentiment)");
    }
    let text = object["sentence_normalized"].as_str().filter(|t| !t.trim().is_empty());
    let text = text.with_context(|| format!("{origin}: line {line}: empty 'sentence_normalized'"))?;
    let text = collapse_whitespace(text);
    let targets = object["targets"].as_array().filter(|t| !t.is_empty());
    let targets = targets.with_context(|| format!("{origin}: line {line}: 'targets' is not a non-empty list"))?;
    let mut rows = Vec::new();
    for target in targets {
        let mention = target.get("mention").and_then(|m| m.as_str()).filter(|m| !m.trim().is_empty());
        let mention = mention.with_context(|| format!("{origin}: line {line}: a target without 'mention'"))?;
        let polarity = target.get("polarity").and_then(|p| p.as_f64());
        let polarity = polarity.with_context(|| format!("{origin}: line {line}: target '{mention}' without numeric 'polarity'"))?;
        let code = format!("{polarity}");
        let label = NEWSMTSC_POLARITY.iter().find(|(c, _)| *c == code).map(|(_, l)| *l);
        let label = label.with_context(|| format!("{origin}: line {line}: unknown polarity {polarity} (expected 2, 4 or 6)"))?;
        let label = labels.iter().position(|l| *l == label).expect("sentiment labels");
        rows.push(Example { text: text.clone(), target: mention.trim().to_string(), label });
    }
    let agreed = rows.iter().all(|r| r.label == rows[0].label).then_some(rows[0].label);
    let sentence_row = agreed.map(|label| Example {
        text: text.clone(),
        target: spec.sentence_target.clone().unwrap_or_else(|| SENTENCE_TARGET.to_string()),
        label,
    });
    Ok(match spec.rows {
        NewsRows::All => rows.into_iter().chain(sentence_row).collect(),
        NewsRows::Targets => rows,
        NewsRows::Sentences => sentence_row.into_iter().collect(),
    })
}

/// Splits off a development set: the rows whose text hashes below `fraction`, so every row of
/// one sentence (or post) falls on the same side, and the split does not depend on row order.
pub fn hold_out(rows: Vec<Example>, fraction: f64) -> (Vec<Example>, Vec<Example>) {
    rows.into_iter().partition(|e| {
        let digest = Sha256::digest(e.text.as_bytes());
        let value = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        (value as f64 / u64::MAX as f64) >= fraction
    })
}

/// Optimisation settings, with the defaults `stance train` uses.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hyper {
    pub epochs: usize,
    pub batch_size: usize,
    /// Peak learning rate of the encoder.
    pub lr: f64,
    /// Peak learning rate of the head.
    pub head_lr: f64,
    pub weight_decay: f64,
    /// Share of all steps spent warming up linearly; then linear decay to zero.
    pub warmup: f64,
    pub max_grad_norm: f64,
    pub max_tokens: usize,
    pub seed: u64,
    /// Pooling of the model: chosen for a new one, the initial model's own when adapting.
    pub pooling: Pooling,
    /// Train the head only, leaving the encoder as it is (a head added to a trained model).
    #[serde(default)]
    pub freeze_encoder: bool,
}

impl Default for Hyper {
    fn default() -> Self {
        Self {
            epochs: 3,
            batch_size: 16,
            lr: 5e-5,
            head_lr: 1e-3,
            weight_decay: 0.01,
            warmup: 0.06,
            max_grad_norm: 1.0,
            max_tokens: 128,
            seed: 13,
            pooling: Pooling::Segments,
            freeze_encoder: false,
        }
    }
}

/// Everything `stance train` needs.
#[derive(Debug, Clone)]
pub struct TrainSettings {
    pub task: String,
    pub labels: Vec<&'static str>,
    pub train: Vec<Example>,
    pub dev: Vec<Example>,
    /// Files and row counts, for the report.
    pub sources: serde_json::Value,
    pub hyper: Hyper,
    pub base_dir: PathBuf,
    pub init: Option<PathBuf>,
    pub out: PathBuf,
    pub checkpoint_dir: PathBuf,
    /// Steps between checkpoints.
    pub checkpoint_every: usize,
    /// Stop (resumably) after this many steps in this invocation.
    pub max_steps: Option<usize>,
    pub device: Device,
    pub show_progress: bool,
    /// A second task trained alongside on the same encoder (a head of its own; batches of the
    /// two tasks interleaved), so one pass can serve both.
    pub aux: Option<AuxTask>,
}

impl TrainSettings {
    /// Optimiser steps in one epoch: every batch of the task, and of the auxiliary task.
    pub fn steps_per_epoch(&self) -> usize {
        let batches = |rows: &[Example]| rows.len().div_ceil(self.hyper.batch_size);
        batches(&self.train) + self.aux.as_ref().map_or(0, |a| batches(&a.train))
    }
}

/// The second task of a joint run.
#[derive(Debug, Clone)]
pub struct AuxTask {
    pub task: String,
    pub labels: Vec<&'static str>,
    pub train: Vec<Example>,
    pub dev: Vec<Example>,
}

/// One epoch's figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochReport {
    pub epoch: usize,
    pub train_loss: f64,
    pub dev_macro_f1: Option<f64>,
    pub dev_f1: Option<Vec<f64>>,
    pub dev_accuracy: Option<f64>,
    /// The auxiliary task's dev macro-F1 and per-class F1, in a joint run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux_dev_macro_f1: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux_dev_f1: Option<Vec<f64>>,
    pub seconds: f64,
}

/// Training progress, saved with every checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct State {
    fingerprint: String,
    epoch: usize,
    step_in_epoch: usize,
    global_step: usize,
    loss_sum: f64,
    loss_count: usize,
    best_macro_f1: Option<f64>,
    best_epoch: Option<usize>,
    epochs: Vec<EpochReport>,
    train_seconds: f64,
}

/// How a training invocation ended.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    pub finished: bool,
    pub global_step: usize,
    pub total_steps: usize,
    pub epochs: Vec<EpochReport>,
    pub best_epoch: Option<usize>,
    pub train_seconds: f64,
}

/// Hand-written AdamW (decoupled weight decay), so its state can be checkpointed.
struct AdamW {
    m: Vec<Tensor>,
    v: Vec<Tensor>,
}

impl AdamW {
    const B1: f64 = 0.9;
    const B2: f64 = 0.999;
    const EPS: f64 = 1e-6;

    fn new(params: &[(String, Tensor)]) -> Self {
        Self { m: params.iter().map(|(_, p)| p.zeros_like()).collect(), v: params.iter().map(|(_, p)| p.zeros_like()).collect() }
    }

    fn step(&mut self, params: &[(String, Tensor)], step: usize, lr: f64, head_lr: f64, weight_decay: f64) {
        let t = step as i32;
        let (c1, c2) = (1.0 - Self::B1.powi(t), 1.0 - Self::B2.powi(t));
        tch::no_grad(|| {
            for (i, (name, p)) in params.iter().enumerate() {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                let lr = if name.starts_with("head.") { head_lr } else { lr };
                let _ = self.m[i].g_mul_scalar_(Self::B1).g_add_(&(&g * (1.0 - Self::B1)));
                let _ = self.v[i].g_mul_scalar_(Self::B2).g_add_(&(&g * &g * (1.0 - Self::B2)));
                let update = (&self.m[i] / c1) / ((&self.v[i] / c2).sqrt() + Self::EPS);
                let mut p = p.shallow_clone();
                // No decay for biases and LayerNorm weights, as usual.
                if !(name.ends_with(".bias") || name.contains("LayerNorm")) {
                    let _ = p.g_mul_scalar_(1.0 - lr * weight_decay);
                }
                let _ = p.g_sub_(&(update * lr));
            }
        });
    }
}

/// Linear warm-up to the peak, then linear decay to zero.
fn schedule(step: usize, total: usize, warmup: f64) -> f64 {
    let warm = ((total as f64 * warmup).ceil() as usize).max(1);
    if step < warm {
        (step + 1) as f64 / warm as f64
    } else {
        ((total - step) as f64 / (total - warm).max(1) as f64).max(0.0)
    }
}

/// The batches of one epoch: a seeded shuffle, then rows of similar length grouped (within
/// windows of 50 batches) to cut padding, then the batches shuffled again.
fn epoch_batches(examples: &[Example], batch_size: usize, seed: u64, epoch: usize) -> Vec<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(epoch as u64));
    let mut order: Vec<usize> = (0..examples.len()).collect();
    order.shuffle(&mut rng);
    let mut batches = Vec::new();
    for window in order.chunks(batch_size * 50) {
        let mut window = window.to_vec();
        window.sort_by_key(|&i| examples[i].text.len() + examples[i].target.len());
        batches.extend(window.chunks(batch_size).map(<[usize]>::to_vec));
    }
    batches.shuffle(&mut rng);
    batches
}

/// The batches of one epoch of a (possibly joint) run: each task's batches as
/// [`epoch_batches`] makes them, tagged with the task's index; with more than one task,
/// interleaved by a seeded shuffle.
fn joint_batches(tasks: &[&[Example]], batch_size: usize, seed: u64, epoch: usize) -> Vec<(usize, Vec<usize>)> {
    let mut out: Vec<(usize, Vec<usize>)> = Vec::new();
    for (t, rows) in tasks.iter().enumerate() {
        out.extend(epoch_batches(rows, batch_size, seed.wrapping_add(t as u64 * 7919), epoch).into_iter().map(|b| (t, b)));
    }
    if tasks.len() > 1 {
        out.shuffle(&mut ChaCha8Rng::seed_from_u64(seed ^ 0x5eed ^ ((epoch as u64) << 32)));
    }
    out
}

fn fingerprint(settings: &TrainSettings) -> String {
    let mut h = Sha256::new();
    h.update(settings.task.as_bytes());
    h.update(serde_json::to_string(&settings.hyper).unwrap_or_default().as_bytes());
    h.update(settings.init.as_ref().map(|p| p.display().to_string()).unwrap_or_default().as_bytes());
    let aux_rows = settings.aux.iter().flat_map(|a| a.train.iter().chain(&a.dev));
    if let Some(aux) = &settings.aux {
        h.update(b"aux:");
        h.update(aux.task.as_bytes());
    }
    for e in settings.train.iter().chain(&settings.dev).chain(aux_rows) {
        h.update(e.text.as_bytes());
        h.update(e.target.as_bytes());
        h.update([e.label as u8, 0]);
    }
    format!("{:x}", h.finalize())
}

fn build_model(settings: &TrainSettings) -> Result<CrossEncoder> {
    let mut heads: BTreeMap<String, Vec<String>> =
        [(settings.task.clone(), settings.labels.iter().map(|l| l.to_string()).collect())].into();
    if let Some(aux) = &settings.aux {
        heads.insert(aux.task.clone(), aux.labels.iter().map(|l| l.to_string()).collect());
    }
    match &settings.init {
        Some(dir) => {
            let mut model = CrossEncoder::load(dir, &settings.base_dir, settings.device)?;
            model.config.max_tokens = settings.hyper.max_tokens;
            for (task, wanted) in &heads {
                match model.config.heads.get(task) {
                    // A trained model learns another task: a fresh head on its encoder.
                    None => model.add_head(task, wanted, settings.hyper.seed as i64),
                    Some(labels) if labels != wanted => {
                        bail!("{}: the model's '{task}' head has labels {}, not {}", dir.display(), labels.join(","), wanted.join(","))
                    }
                    Some(_) => {}
                }
            }
            Ok(model)
        }
        None => CrossEncoder::fresh(
            &settings.base_dir,
            heads,
            settings.hyper.max_tokens,
            settings.hyper.pooling,
            settings.device,
            settings.hyper.seed as i64,
        ),
    }
}

fn save_tensors(path: &Path, tensors: &[(String, Tensor)]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let cpu: Vec<(String, Tensor)> = tensors.iter().map(|(n, t)| (n.clone(), t.detach().to(Device::Cpu))).collect();
    Tensor::write_safetensors(&cpu, &tmp).map_err(|e| anyhow!("{}: cannot write: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot write", path.display()))
}

/// Copies tensors of a safetensors file, by name, into `targets` (read once).
fn load_into(path: &Path, targets: &[(String, Tensor)]) -> Result<()> {
    let stored: BTreeMap<String, Tensor> =
        Tensor::read_safetensors(path).map_err(|e| anyhow!("{}: cannot read checkpoint: {e}", path.display()))?.into_iter().collect();
    tch::no_grad(|| {
        for (key, tensor) in targets {
            let value = stored.get(key).with_context(|| format!("{}: checkpoint lacks '{key}'", path.display()))?;
            tensor.shallow_clone().copy_(value);
        }
        Ok(())
    })
}

fn save_checkpoint(dir: &Path, state: &State, params: &[(String, Tensor)], adam: &AdamW) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create checkpoint folder", dir.display()))?;
    let mut tensors: Vec<(String, Tensor)> = Vec::with_capacity(params.len() * 3);
    for (i, (name, p)) in params.iter().enumerate() {
        tensors.push((format!("param.{name}"), p.shallow_clone()));
        tensors.push((format!("m.{name}"), adam.m[i].shallow_clone()));
        tensors.push((format!("v.{name}"), adam.v[i].shallow_clone()));
    }
    save_tensors(&dir.join("state.safetensors"), &tensors)?;
    write_atomic(&dir.join("state.json"), serde_json::to_string_pretty(state)?.as_bytes())
}

/// Predicted label indices for `examples`.
pub fn predict_labels(model: &CrossEncoder, task: &str, examples: &[Example], batch_size: usize) -> Result<Vec<usize>> {
    let pairs: Vec<(&str, &str)> = examples.iter().map(|e| (e.target.as_str(), e.text.as_str())).collect();
    let probs = model.predict(task, &pairs, batch_size, &mut |_| {})?;
    Ok(probs.iter().map(|p| (0..p.len()).fold(0, |best, k| if p[k] > p[best] { k } else { best })).collect())
}

/// Metrics of predictions against the examples' labels.
pub fn score(task: &str, labels: &[&'static str], gold: &[Example], predicted: &[usize]) -> Metrics {
    let pairs: Vec<(usize, usize)> = gold.iter().zip(predicted).map(|(g, &p)| (g.label, p)).collect();
    let labels3 = [labels[0], labels[1], labels[2]];
    let polar = if task == "sentiment" { [0, 2] } else { [0, 1] };
    metrics(if task == "sentiment" { "sentiment" } else { "stance" }, labels3, polar, &pairs)
}

/// Trains (or resumes training) as `settings` says; writes the model into `settings.out` once
/// all epochs are done.
pub fn train(settings: &TrainSettings) -> Result<TrainReport> {
    if settings.labels.len() != 3 {
        bail!("training needs three labels");
    }
    let model = build_model(settings)?;
    let mut params = model.trainable();
    if settings.hyper.freeze_encoder {
        let heads: Vec<String> =
            std::iter::once(&settings.task).chain(settings.aux.as_ref().map(|a| &a.task)).map(|t| format!("head.{t}.")).collect();
        let trained = |n: &str| heads.iter().any(|h| n.starts_with(h.as_str()));
        for (_, tensor) in params.iter().filter(|(n, _)| !trained(n)) {
            let _ = tensor.set_requires_grad(false);
        }
        params.retain(|(n, _)| trained(n));
    }
    let mut adam = AdamW::new(&params);
    let hyper = &settings.hyper;
    let total_steps = settings.steps_per_epoch() * hyper.epochs;
    let fingerprint = fingerprint(settings);
    let state_path = settings.checkpoint_dir.join("state.json");
    let mut state = if state_path.is_file() {
        let state: State = serde_json::from_str(&std::fs::read_to_string(&state_path)?)
            .with_context(|| format!("{}: unreadable", state_path.display()))?;
        if state.fingerprint != fingerprint {
            bail!(
                "{}: this checkpoint belongs to a run with other data or settings; remove the folder or pass another --checkpoint",
                settings.checkpoint_dir.display()
            );
        }
        let mut targets = Vec::with_capacity(params.len() * 3);
        for (i, (name, p)) in params.iter().enumerate() {
            targets.push((format!("param.{name}"), p.shallow_clone()));
            targets.push((format!("m.{name}"), adam.m[i].shallow_clone()));
            targets.push((format!("v.{name}"), adam.v[i].shallow_clone()));
        }
        load_into(&settings.checkpoint_dir.join("state.safetensors"), &targets)?;
        eprintln!("resuming from {} at step {} of {total_steps}", settings.checkpoint_dir.display(), state.global_step);
        state
    } else {
        State {
            fingerprint,
            epoch: 0,
            step_in_epoch: 0,
            global_step: 0,
            loss_sum: 0.0,
            loss_count: 0,
            best_macro_f1: None,
            best_epoch: None,
            epochs: Vec::new(),
            train_seconds: 0.0,
        }
    };

    std::fs::create_dir_all(&settings.checkpoint_dir)
        .with_context(|| format!("{}: cannot create checkpoint folder", settings.checkpoint_dir.display()))?;
    // Balanced class weights: each label weighs as much in the loss as the others, so a rare
    // label in training (VAST's neutral: 19% of train, 34% of dev) is still learnt.
    let class_weights = |rows: &[Example], n_labels: usize| {
        let counts: Vec<usize> = (0..n_labels).map(|k| rows.iter().filter(|e| e.label == k).count()).collect();
        let weights: Vec<f32> = counts.iter().map(|&c| if c == 0 { 0.0 } else { rows.len() as f32 / (n_labels * c) as f32 }).collect();
        Tensor::from_slice(&weights).to(model.device())
    };
    // Per task (0: the task, 1: the auxiliary one): its name, rows and loss weights.
    let mut tasks = vec![(settings.task.as_str(), settings.train.as_slice(), class_weights(&settings.train, settings.labels.len()))];
    if let Some(aux) = &settings.aux {
        tasks.push((aux.task.as_str(), aux.train.as_slice(), class_weights(&aux.train, aux.labels.len())));
    }
    let bar = crate::pipeline::progress_bar(total_steps as u64, "steps", settings.show_progress);
    let say = |line: String| if bar.is_hidden() { eprintln!("{line}") } else { bar.println(line) };
    bar.set_position(state.global_step as u64);
    let mut steps_this_run = 0;
    let mut running = None::<f64>;
    let mut epoch_started = Instant::now();
    let mut run_started = Instant::now();
    while state.epoch < hyper.epochs {
        let batches = joint_batches(&tasks.iter().map(|t| t.1).collect::<Vec<_>>(), hyper.batch_size, hyper.seed, state.epoch);
        for (task, batch) in batches.iter().skip(state.step_in_epoch) {
            let (task_name, rows, weights) = &tasks[*task];
            if settings.max_steps.is_some_and(|m| steps_this_run >= m) {
                state.train_seconds += run_started.elapsed().as_secs_f64();
                save_checkpoint(&settings.checkpoint_dir, &state, &params, &adam)?;
                bar.abandon();
                return Ok(TrainReport {
                    finished: false,
                    global_step: state.global_step,
                    total_steps,
                    epochs: state.epochs,
                    best_epoch: state.best_epoch,
                    train_seconds: state.train_seconds,
                });
            }
            tch::manual_seed(hyper.seed as i64 + state.global_step as i64);
            let pairs: Vec<(&str, &str)> = batch.iter().map(|&i| (rows[i].target.as_str(), rows[i].text.as_str())).collect();
            let targets = Tensor::from_slice(&batch.iter().map(|&i| rows[i].label as i64).collect::<Vec<_>>()).to(model.device());
            let encoded = model.encode(&pairs);
            let logits = model.forward(&encoded, true)?.remove(*task_name).expect("model has the task head");
            let loss = logits.cross_entropy_loss(&targets, Some(weights), tch::Reduction::Mean, -100, 0.0);
            for (_, p) in &params {
                let mut p = p.shallow_clone();
                p.zero_grad();
            }
            loss.backward();
            clip_gradients(&params, hyper.max_grad_norm);
            let scale = schedule(state.global_step, total_steps, hyper.warmup);
            adam.step(&params, state.global_step + 1, hyper.lr * scale, hyper.head_lr * scale, hyper.weight_decay);
            let value = loss.double_value(&[]);
            state.loss_sum += value;
            state.loss_count += 1;
            running = Some(running.map_or(value, |r| 0.98 * r + 0.02 * value));
            state.global_step += 1;
            state.step_in_epoch += 1;
            steps_this_run += 1;
            bar.set_message(format!("epoch {}/{} loss {:.4}", state.epoch + 1, hyper.epochs, running.unwrap_or(value)));
            bar.inc(1);
            if state.global_step % settings.checkpoint_every.max(1) == 0 {
                state.train_seconds += run_started.elapsed().as_secs_f64();
                run_started = Instant::now();
                save_checkpoint(&settings.checkpoint_dir, &state, &params, &adam)?;
            }
        }
        // End of epoch: evaluate on dev, keep the best weights.
        let mut report = EpochReport {
            epoch: state.epoch + 1,
            train_loss: state.loss_sum / state.loss_count.max(1) as f64,
            dev_macro_f1: None,
            dev_f1: None,
            dev_accuracy: None,
            aux_dev_macro_f1: None,
            aux_dev_f1: None,
            seconds: epoch_started.elapsed().as_secs_f64(),
        };
        let mut aux_f1 = None;
        if let Some(aux) = settings.aux.as_ref().filter(|a| !a.dev.is_empty()) {
            let m = score(&aux.task, &aux.labels, &aux.dev, &predict_labels(&model, &aux.task, &aux.dev, 64)?);
            report.aux_dev_macro_f1 = Some(m.macro_f1);
            report.aux_dev_f1 = Some(m.per_class.iter().map(|c| c.2).collect());
            say(format!("epoch {}: {} dev macro-F1 {:.4}", report.epoch, aux.task, m.macro_f1));
            aux_f1 = Some(m.macro_f1);
        }
        if !settings.dev.is_empty() {
            let predicted = predict_labels(&model, &settings.task, &settings.dev, 64)?;
            let m = score(&settings.task, &settings.labels, &settings.dev, &predicted);
            report.dev_macro_f1 = Some(m.macro_f1);
            report.dev_f1 = Some(m.per_class.iter().map(|c| c.2).collect());
            report.dev_accuracy = Some(m.accuracy);
            say(format!(
                "epoch {}: train loss {:.4}, dev macro-F1 {:.4} (F1 {}), accuracy {:.4}",
                report.epoch,
                report.train_loss,
                m.macro_f1,
                m.per_class.iter().zip(&settings.labels).map(|(c, l)| format!("{l} {:.3}", c.2)).collect::<Vec<_>>().join(", "),
                m.accuracy
            ));
            // A joint run keeps the epoch with the best mean of the two tasks' macro-F1.
            let selection = aux_f1.map_or(m.macro_f1, |a| (m.macro_f1 + a) / 2.0);
            if state.best_macro_f1.is_none_or(|b| selection > b) {
                state.best_macro_f1 = Some(selection);
                state.best_epoch = Some(report.epoch);
                save_tensors(&settings.checkpoint_dir.join("best.safetensors"), &params)?;
            }
        } else {
            say(format!("epoch {}: train loss {:.4}", report.epoch, report.train_loss));
        }
        state.epochs.push(report);
        state.epoch += 1;
        state.step_in_epoch = 0;
        state.loss_sum = 0.0;
        state.loss_count = 0;
        state.train_seconds += run_started.elapsed().as_secs_f64();
        run_started = Instant::now();
        epoch_started = Instant::now();
        save_checkpoint(&settings.checkpoint_dir, &state, &params, &adam)?;
    }
    bar.finish_and_clear();
    let best = settings.checkpoint_dir.join("best.safetensors");
    if state.best_epoch.is_some() && best.is_file() {
        load_into(&best, &params)?;
    }
    model.save(&settings.out)?;
    let report = TrainReport {
        finished: true,
        global_step: state.global_step,
        total_steps,
        epochs: state.epochs.clone(),
        best_epoch: state.best_epoch,
        train_seconds: state.train_seconds,
    };
    let training = serde_json::json!({
        "task": settings.task,
        "labels": settings.labels,
        "aux_task": settings.aux.as_ref().map(|a| serde_json::json!({
            "task": a.task, "labels": a.labels, "train_rows": a.train.len(), "dev_rows": a.dev.len()
        })),
        "data": settings.sources,
        "hyper": settings.hyper,
        "init": settings.init,
        "device": format!("{:?}", settings.device),
        "threads": tch::get_num_threads(),
        "command": std::env::args().collect::<Vec<_>>(),
        "report": report,
    });
    write_atomic(&settings.out.join("training.json"), (serde_json::to_string_pretty(&training)? + "\n").as_bytes())?;
    Ok(report)
}

fn clip_gradients(params: &[(String, Tensor)], max_norm: f64) {
    tch::no_grad(|| {
        let grads: Vec<Tensor> = params.iter().map(|(_, p)| p.grad()).filter(Tensor::defined).collect();
        if grads.is_empty() {
            return;
        }
        let total =
            grads.iter().map(|g| g.pow_tensor_scalar(2).sum(Kind::Float)).fold(Tensor::from(0f32), |a, b| a + b).sqrt().double_value(&[]);
        if total > max_norm {
            for g in grads {
                let mut g = g;
                let _ = g.g_mul_scalar_(max_norm / (total + 1e-6));
            }
        }
    });
}

/// K-fold cross-validation of adaptation: for each fold, start from `settings.init`, train on
/// the other folds, and predict the held-out fold. Returns the out-of-fold predictions and the
/// unadapted model's predictions on the same rows.
pub fn cross_validate(settings: &TrainSettings, k: usize) -> Result<(Vec<usize>, Vec<usize>)> {
    if k < 2 || k > settings.train.len() {
        bail!("--cv needs 2 ≤ K ≤ the number of rows ({})", settings.train.len());
    }
    let rows = &settings.train;
    let fold_of = folds(rows.len(), k, settings.hyper.seed);
    let baseline = predict_labels(&build_model(settings)?, &settings.task, rows, 64)?;
    let mut predicted = vec![0; rows.len()];
    for fold in 0..k {
        let held: Vec<usize> = (0..rows.len()).filter(|&i| fold_of[i] == fold).collect();
        let train_rows: Vec<Example> = (0..rows.len()).filter(|&i| fold_of[i] != fold).map(|i| rows[i].clone()).collect();
        let scratch = tempfile::tempdir()?;
        let fold_settings = TrainSettings {
            train: train_rows,
            dev: Vec::new(),
            out: scratch.path().join("model"),
            checkpoint_dir: scratch.path().join("checkpoint"),
            max_steps: None,
            show_progress: false,
            ..settings.clone()
        };
        eprintln!("fold {}/{k}: training on {} rows, scoring {}", fold + 1, fold_settings.train.len(), held.len());
        train(&fold_settings)?;
        let adapted = CrossEncoder::load(&fold_settings.out, &settings.base_dir, settings.device)?;
        let held_rows: Vec<Example> = held.iter().map(|&i| rows[i].clone()).collect();
        for (&i, p) in held.iter().zip(predict_labels(&adapted, &settings.task, &held_rows, 64)?) {
            predicted[i] = p;
        }
    }
    Ok((predicted, baseline))
}

/// A seeded assignment of `n` rows to `k` folds of (nearly) equal size.
fn folds(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut fold_of = vec![0; n];
    for (rank, &i) in order.iter().enumerate() {
        fold_of[i] = rank % k;
    }
    fold_of
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays_to_zero() {
        let table = [(0, 0.25), (3, 1.0), (4, 1.0), (5, 15.0 / 16.0), (19, 1.0 / 16.0)];
        for (step, expected) in table {
            assert!((schedule(step, 20, 0.2) - expected).abs() < 1e-12, "step {step}: {}", schedule(step, 20, 0.2));
        }
    }

    #[test]
    fn epoch_batches_are_a_seeded_permutation() {
        let examples: Vec<Example> = (0..103).map(|i| Example { text: "x".repeat(i % 17), target: "t".into(), label: 0 }).collect();
        let a = epoch_batches(&examples, 8, 1, 0);
        assert_eq!(a, epoch_batches(&examples, 8, 1, 0));
        assert_ne!(a, epoch_batches(&examples, 8, 1, 1));
        let mut all: Vec<usize> = a.concat();
        all.sort();
        assert_eq!(all, (0..103).collect::<Vec<_>>());
    }

    #[test]
    fn reads_csv_and_jsonl_with_mapped_columns_and_labels() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("vast.csv");
        std::fs::write(&csv, "post,new_topic,topic_str,label\nGreat plan.,the plan,plan,1\nBad plan.,the plan,plan,0\n").unwrap();
        let spec = DataSpec { label_map: parse_label_map("0=against,1=favor,2=none").unwrap(), ..Default::default() };
        let labels = ["favor", "against", "none"];
        let rows = read_examples(&csv, &spec, &labels, "stance").unwrap();
        assert_eq!(rows[0], Example { text: "Great plan.".into(), target: "plan".into(), label: 0 });
        assert_eq!(rows[1].label, 1);
        let jsonl = dir.path().join("tags.jsonl");
        std::fs::write(&jsonl, "{\"sentence\": \"It helps.\", \"stance\": \"favor\"}\n\n{\"sentence\": \"No.\", \"stance\": \"none\"}\n")
            .unwrap();
        let spec = DataSpec { default_target: Some("Japan's rearmament".into()), ..Default::default() };
        let rows = read_examples(&jsonl, &spec, &labels, "stance").unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1], Example { text: "No.".into(), target: "Japan's rearmament".into(), label: 2 });
    }

    #[test]
    fn bad_training_files_say_where() {
        let dir = tempfile::tempdir().unwrap();
        let labels = ["favor", "against", "none"];
        let spec = DataSpec { default_target: Some("t".into()), ..Default::default() };
        let table: &[(&str, &str, &str)] = &[
            ("a.csv", "text,label\nFine.,favor\nOdd.,maybe\n", "a.csv: line 3: unknown label 'maybe'"),
            ("b.csv", "text\nFine.\n", "b.csv: line 1: missing column 'stance'"),
            ("c.csv", "text,label\n", "c.csv: no examples"),
            ("d.csv", "text,label\n,favor\n", "d.csv: line 2: empty text"),
            ("e.jsonl", "{\"text\": \"x\", \"label\": \"favor\"}\nnot json\n", "e.jsonl: line 2: not JSON"),
        ];
        for (name, content, expected) in table {
            let path = dir.path().join(name);
            std::fs::write(&path, content).unwrap();
            let err = format!("{:#}", read_examples(&path, &spec, &labels, "stance").unwrap_err());
            assert!(err.contains(expected), "{err}");
        }
        let no_target = DataSpec::default();
        let path = dir.path().join("f.csv");
        std::fs::write(&path, "text,label\nFine.,favor\n").unwrap();
        let err = format!("{:#}", read_examples(&path, &no_target, &labels, "stance").unwrap_err());
        assert!(err.contains("f.csv: line 2: no target"), "{err}");
    }

    #[test]
    fn newsmtsc_lines_give_target_rows_and_agreeing_sentence_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("news.jsonl");
        let line = |text: &str, targets: &[(&str, f64)]| {
            let targets: Vec<serde_json::Value> =
                targets.iter().map(|(m, p)| serde_json::json!({"mention": m, "polarity": p, "from": 0, "to": 1})).collect();
            serde_json::json!({"primary_gid": "x", "sentence_normalized": text, "targets": targets}).to_string()
        };
        let content = [
            line("Trump  praised Merkel.", &[("Trump", 4.0), ("Merkel", 6.0)]),
            line("Critics slammed the plan.", &[("Critics", 2.0), ("the plan", 2.0)]),
        ]
        .join("\n");
        std::fs::write(&path, content).unwrap();
        let labels = crate::config::SENTIMENT_LABELS;
        let (pos, neu, neg) = (0, 1, 2);
        let row = |text: &str, target: &str, label| Example { text: text.into(), target: target.into(), label };
        // rows → expected examples
        let table: &[(NewsRows, Vec<Example>)] = &[
            (
                NewsRows::All,
                vec![
                    row("Trump praised Merkel.", "Trump", neu),
                    row("Trump praised Merkel.", "Merkel", pos),
                    row("Critics slammed the plan.", "Critics", neg),
                    row("Critics slammed the plan.", "the plan", neg),
                    row("Critics slammed the plan.", SENTENCE_TARGET, neg),
                ],
            ),
            (NewsRows::Sentences, vec![row("Critics slammed the plan.", SENTENCE_TARGET, neg)]),
            (
                NewsRows::Targets,
                vec![
                    row("Trump praised Merkel.", "Trump", neu),
                    row("Trump praised Merkel.", "Merkel", pos),
                    row("Critics slammed the plan.", "Critics", neg),
                    row("Critics slammed the plan.", "the plan", neg),
                ],
            ),
        ];
        for (rows, expected) in table {
            let spec = DataSpec { rows: *rows, ..Default::default() };
            assert_eq!(&read_examples(&path, &spec, &labels, "sentiment").unwrap(), expected, "{rows:?}");
        }
        let spec = DataSpec { rows: NewsRows::Sentences, sentence_target: Some("Japan's rearmament".into()), ..Default::default() };
        assert_eq!(read_examples(&path, &spec, &labels, "sentiment").unwrap()[0].target, "Japan's rearmament");

        let bad: &[(&str, &str)] = &[
            (r#"{"sentence_normalized": "x", "targets": [{"mention": "x", "polarity": 5.0}]}"#, "line 1: unknown polarity 5"),
            (r#"{"sentence_normalized": "x", "targets": []}"#, "line 1: 'targets' is not a non-empty list"),
            (r#"{"sentence_normalized": "x", "targets": [{"polarity": 2.0}]}"#, "line 1: a target without 'mention'"),
        ];
        for (content, expected) in bad {
            std::fs::write(&path, content).unwrap();
            let err = format!("{:#}", read_examples(&path, &DataSpec::default(), &labels, "sentiment").unwrap_err());
            assert!(err.contains("news.jsonl: ") && err.contains(expected), "{err}");
        }
        let err = format!("{:#}", read_examples(&path, &DataSpec::default(), &["favor", "against", "none"], "stance").unwrap_err());
        assert!(err.contains("pass --task sentiment"), "{err}");
    }

    #[test]
    fn holdout_is_by_text_and_independent_of_order() {
        let rows: Vec<Example> =
            (0..400).map(|i| Example { text: format!("sentence {}", i / 2), target: format!("t{}", i % 2), label: 0 }).collect();
        let (train, dev) = hold_out(rows.clone(), 0.2);
        assert_eq!(train.len() + dev.len(), 400);
        assert!((60..=100).contains(&dev.len()), "{} dev rows", dev.len());
        assert!(dev.iter().all(|d| train.iter().all(|t| t.text != d.text)), "a sentence is on both sides");
        let mut reversed = rows;
        reversed.reverse();
        let (_, dev_again) = hold_out(reversed, 0.2);
        assert_eq!(dev_again.len(), dev.len());
        assert!(dev_again.iter().all(|d| dev.contains(d)));
    }

    #[test]
    fn joint_batches_cover_each_task_once_and_interleave() {
        let rows =
            |n: usize| -> Vec<Example> { (0..n).map(|i| Example { text: "x".repeat(i % 5), target: "t".into(), label: 0 }).collect() };
        let (a, b) = (rows(40), rows(24));
        let batches = joint_batches(&[&a, &b], 8, 3, 0);
        assert_eq!(batches, joint_batches(&[&a, &b], 8, 3, 0));
        for (task, n) in [(0, 40), (1, 24)] {
            let mut seen: Vec<usize> = batches.iter().filter(|(t, _)| *t == task).flat_map(|(_, b)| b.clone()).collect();
            seen.sort();
            assert_eq!(seen, (0..n).collect::<Vec<_>>(), "task {task}");
        }
        let first_half: Vec<usize> = batches[..4].iter().map(|(t, _)| *t).collect();
        assert!(first_half.contains(&0) || first_half.contains(&1));
        assert_ne!(batches.iter().map(|(t, _)| *t).collect::<Vec<_>>(), [0, 0, 0, 0, 0, 1, 1, 1], "not interleaved");
        // One task alone: exactly its own epoch batches.
        let alone: Vec<Vec<usize>> = joint_batches(&[&a], 8, 3, 0).into_iter().map(|(_, b)| b).collect();
        assert_eq!(alone, epoch_batches(&a, 8, 3, 0));
    }

    #[test]
    fn folds_partition_the_rows_evenly() {
        let f = folds(23, 5, 3);
        assert_eq!(f, folds(23, 5, 3));
        for k in 0..5 {
            let size = f.iter().filter(|&&x| x == k).count();
            assert!(size == 4 || size == 5, "fold {k} has {size} rows");
        }
    }

    /// Tiny training runs on the real base encoder (installed by scripts/setup.sh).
    mod tiny {
        use super::*;
        use std::sync::Mutex;

        /// libtorch's random generator is global: runs in parallel test threads would draw
        /// each other's dropout masks, so these tests take turns.
        static TORCH_RNG: Mutex<()> = Mutex::new(());

        fn base_dir() -> PathBuf {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("models/base/files")
        }

        fn rows() -> Vec<Example> {
            let t = "Japan's rearmament";
            let favor =
                ["Rearming is wise and makes Japan safer.", "A stronger defence deters aggression.", "More spending protects the region."];
            let against = [
                "Rearming is reckless and dangerous.",
                "Militarism threatens Japan's neighbours.",
                "The arms build-up fuels a dangerous race.",
            ];
            let none = ["The meeting was held on Tuesday.", "Tokyo has many train stations.", "The report has ten pages."];
            let mut out = Vec::new();
            for (label, texts) in [favor, against, none].iter().enumerate() {
                out.extend(texts.iter().map(|x| Example { text: x.to_string(), target: t.into(), label }));
            }
            out
        }

        fn settings(dir: &Path, name: &str) -> TrainSettings {
            TrainSettings {
                task: "stance".into(),
                labels: vec!["favor", "against", "none"],
                train: rows(),
                dev: rows(),
                sources: serde_json::Value::Null,
                hyper: Hyper { epochs: 4, batch_size: 3, lr: 2e-4, head_lr: 5e-3, max_tokens: 32, ..Hyper::default() },
                base_dir: base_dir(),
                init: None,
                out: dir.join(name),
                checkpoint_dir: dir.join(format!("{name}.checkpoint")),
                checkpoint_every: 2,
                max_steps: None,
                device: Device::Cpu,
                show_progress: false,
                aux: None,
            }
        }

        fn params(path: &Path) -> BTreeMap<String, Tensor> {
            Tensor::read_safetensors(path).unwrap().into_iter().filter(|(n, _)| n.starts_with("param.")).collect()
        }

        #[test]
        fn loss_falls_and_an_interrupted_run_resumes_to_the_same_weights() {
            let _turn = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
            let dir = tempfile::tempdir().unwrap();
            let straight = settings(dir.path(), "straight");
            let report = train(&straight).unwrap();
            assert!(report.finished && report.global_step == 12);
            let first = report.epochs.first().unwrap().train_loss;
            let last = report.epochs.last().unwrap().train_loss;
            assert!(last < first * 0.8, "loss did not fall: {first} → {last}");

            // The same run, interrupted twice.
            let mut sliced = settings(dir.path(), "sliced");
            sliced.max_steps = Some(5);
            assert!(!train(&sliced).unwrap().finished);
            assert!(!train(&sliced).unwrap().finished);
            sliced.max_steps = None;
            let resumed = train(&sliced).unwrap();
            assert!(resumed.finished && resumed.global_step == 12);
            let (a, b) =
                (params(&straight.checkpoint_dir.join("state.safetensors")), params(&sliced.checkpoint_dir.join("state.safetensors")));
            assert_eq!(a.len(), b.len());
            for (name, x) in &a {
                let diff = (x - &b[name]).abs().max().double_value(&[]);
                assert!(diff == 0.0, "{name} differs by {diff} after resuming");
            }

            // The saved model round-trips: loaded back, it scores as the dev report said.
            let model = CrossEncoder::load(&straight.out, &base_dir(), Device::Cpu).unwrap();
            let predicted = predict_labels(&model, "stance", &rows(), 8).unwrap();
            let m = score("stance", &straight.labels, &rows(), &predicted);
            let best = report.epochs.iter().filter_map(|e| e.dev_macro_f1).fold(0.0, f64::max);
            assert!((m.macro_f1 - best).abs() < 0.25, "reloaded model scores {} vs {best} in training", m.macro_f1);
            assert!(m.macro_f1 > 0.5, "the tiny model did not learn its own rows: {}", m.macro_f1);

            // A checkpoint from other settings is refused.
            let mut other = settings(dir.path(), "straight");
            other.hyper.seed = 99;
            let err = format!("{:#}", train(&other).unwrap_err());
            assert!(err.contains("belongs to a run with other data or settings"), "{err}");
        }

        #[test]
        fn a_frozen_encoder_learns_a_second_head_and_keeps_the_first() {
            let _turn = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
            let dir = tempfile::tempdir().unwrap();
            let mut stance = settings(dir.path(), "stance");
            stance.hyper.epochs = 1;
            train(&stance).unwrap();
            let sentiment_rows: Vec<Example> =
                rows().into_iter().map(|e| Example { target: SENTENCE_TARGET.into(), label: [0, 2, 1][e.label], ..e }).collect();
            let sentiment = TrainSettings {
                task: "sentiment".into(),
                labels: crate::config::SENTIMENT_LABELS.to_vec(),
                train: sentiment_rows.clone(),
                dev: sentiment_rows.clone(),
                init: Some(stance.out.clone()),
                hyper: Hyper { epochs: 6, freeze_encoder: true, head_lr: 2e-2, ..stance.hyper.clone() },
                ..settings(dir.path(), "both")
            };
            let report = train(&sentiment).unwrap();
            let (first, last) = (report.epochs[0].train_loss, report.epochs.last().unwrap().train_loss);
            assert!(last < first, "head-only loss did not fall: {first} → {last}");

            let before = CrossEncoder::load(&stance.out, &base_dir(), Device::Cpu).unwrap();
            let after = CrossEncoder::load(&sentiment.out, &base_dir(), Device::Cpu).unwrap();
            assert_eq!(after.config.heads.keys().collect::<Vec<_>>(), ["sentiment", "stance"]);
            let old: BTreeMap<String, Tensor> = before.trainable().into_iter().collect();
            for (name, tensor) in after.trainable() {
                if name.starts_with("head.sentiment.") {
                    continue;
                }
                let diff = (&tensor - &old[&name]).abs().max().double_value(&[]);
                assert!(diff == 0.0, "{name} changed by {diff} although the encoder was frozen");
            }
            let pairs: Vec<(&str, &str)> = sentiment_rows.iter().map(|e| (e.target.as_str(), e.text.as_str())).collect();
            let both = after.predict_heads(&["stance", "sentiment"], &pairs, 4, &mut |_| {}).unwrap();
            assert_eq!(both[0], before.predict("stance", &pairs, 4, &mut |_| {}).unwrap(), "the stance head's output moved");
            assert_eq!(both[1], after.predict("sentiment", &pairs, 4, &mut |_| {}).unwrap());
        }

        #[test]
        fn a_joint_run_trains_two_heads_on_one_encoder() {
            let _turn = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
            let dir = tempfile::tempdir().unwrap();
            let sentiment_rows: Vec<Example> =
                rows().into_iter().map(|e| Example { target: SENTENCE_TARGET.into(), label: [0, 2, 1][e.label], ..e }).collect();
            let mut joint = settings(dir.path(), "joint");
            joint.hyper.epochs = 2;
            joint.aux = Some(AuxTask {
                task: "sentiment".into(),
                labels: crate::config::SENTIMENT_LABELS.to_vec(),
                train: sentiment_rows.clone(),
                dev: sentiment_rows,
            });
            let report = train(&joint).unwrap();
            assert_eq!(report.global_step, 2 * (3 + 3), "both tasks' batches, every epoch");
            assert!(report.epochs.iter().all(|e| e.dev_macro_f1.is_some() && e.aux_dev_macro_f1.is_some()));
            let model = CrossEncoder::load(&joint.out, &base_dir(), Device::Cpu).unwrap();
            assert_eq!(model.config.heads.keys().collect::<Vec<_>>(), ["sentiment", "stance"]);
        }

        #[test]
        fn cross_validation_scores_every_row_once() {
            let _turn = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
            let dir = tempfile::tempdir().unwrap();
            let mut s = settings(dir.path(), "cv");
            s.hyper.epochs = 1;
            let (adapted, baseline) = cross_validate(&s, 3).unwrap();
            assert_eq!(adapted.len(), 9);
            assert_eq!(baseline.len(), 9);
            assert!(adapted.iter().chain(&baseline).all(|&p| p < 3));
            assert!(cross_validate(&s, 1).is_err() && cross_validate(&s, 10).is_err());
        }
    }
}
