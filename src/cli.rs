//! The command line: raw arguments as clap parses them, kept apart from the settings they
//! resolve to (config file, model folder, device), and the dispatch to the pipeline.

use crate::config::{Config, SENTIMENT_LABELS, STANCE_LABELS};
use crate::encoder::{default_model_dir, parse_device};
use crate::eval::{self, Metrics};
use crate::model::{CrossEncoder, ModelConfig, Pooling};
use crate::output::write_atomic;
use crate::pipeline::{self, LabelerKind, ModelSettings, RunSettings, SentimentKind};
use crate::split::{sentence_texts, RuleSplitter};
use crate::train::{
    cross_validate, hold_out, parse_label_map, predict_labels, read_examples, score, train, AuxTask, DataSpec, Hyper, NewsRows,
    TrainSettings, SENTENCE_TARGET,
};
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

const EXAMPLES: &str = "\
Examples:
  stance run --manifest seeds/manifest.csv --out out/seeds
  stance split seeds/globaltimes-2025-security-dilemma.txt
  echo \"Japan's rearmament makes the region safer.\" | stance classify
  stance classify --input sentences.csv --target \"nuclear power\" > labels.csv
  stance eval --gold eval/gold/seeds.csv --pred out/seeds/sentences.csv
  stance eval --task sentiment --data ../shared/datasets/newsmtsc/devtest_rw.jsonl --rows targets [--lexicon]
  stance sample --run out/seeds --strategy stratified --by group --n 60 --out sheet.csv
  stance tag sheet.csv --annotator jz
  stance agree eval/gold/seeds.csv eval/gold/retag-d.csv";

/// Sentence-level stance and sentiment profiles of a corpus of articles and papers.
///
/// Splits documents into sentences, labels each sentence's stance toward a target and its
/// sentiment with a transformer, aggregates stance profiles per document, outlet and source
/// group, compares groups, and evaluates labels against hand-tagged gold.
#[derive(Debug, Parser)]
#[command(name = "stance", version, after_help = EXAMPLES)]
pub struct Args {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Label every sentence of the manifest's documents and write the reports into --out:
    /// sentences.csv, profiles.csv, comparison.csv, run.json and cleaned/ (the cleaned text the
    /// sentence spans point into).
    #[command(after_help = "Example:\n  stance run --manifest seeds/manifest.csv --out out/seeds")]
    Run(RunArgs),
    /// Print a document's cleaned sentences, one per line.
    #[command(after_help = "Examples:\n  stance split seeds/calder-2025-alliance-shift.txt\n  stance split --cleaned notes.md")]
    Split(SplitArgs),
    /// Label sentences from stdin (one per line) or from a CSV file; CSV on stdout.
    #[command(
        after_help = "Examples:\n  echo \"Japan's rearmament makes the region safer.\" | stance classify\n  stance classify --input rows.csv --target \"nuclear power\" > labels.csv"
    )]
    Classify(ClassifyArgs),
    /// Train a stance (or sentiment) cross-encoder on (text, target, label) rows, or adapt a
    /// trained one to your own tags (--init). Checkpoints as it goes; run the same command again
    /// to continue an interrupted run.
    #[command(after_help = TRAIN_EXAMPLES)]
    Train(TrainArgs),
    /// Compare predicted labels with hand-tagged gold labels (--gold, --pred), or measure what
    /// adapting a model to your tags buys, by K-fold cross-validation (--cv K --data FILE).
    #[command(
        after_help = "Examples:\n  stance eval --gold eval/gold/seeds.csv --pred out/seeds/sentences.csv\n  stance eval --cv 5 --data eval/gold/seeds.csv --init models/stance-minilm-v4"
    )]
    Eval(EvalArgs),
    /// Write a tagging sheet: sentences of a run chosen by a named, seeded strategy (random,
    /// stratified, uncertain, disagree, documents), with their context and empty label columns.
    #[command(after_help = SAMPLE_EXAMPLES)]
    Sample(SampleArgs),
    /// How far taggers agree: Cohen's kappa per pair, Fleiss' kappa, Krippendorff's alpha
    /// (nominal, missing values allowed) with 95% intervals, per-label agreement, the confusion
    /// between taggers and the sentences to settle; --adjudicate writes a merged gold file.
    #[command(
        after_help = "Examples:\n  stance agree tags-a.csv tags-b.csv\n  stance agree a.csv b.csv c.csv --adjudicate gold.csv --ties-neutral"
    )]
    Agree(AgreeArgs),
    /// Tag a sheet interactively in the terminal: one sentence at a time with its context, one
    /// key per label, undo, skip, comments, the guide on '?'; saved after every answer and
    /// resumed at the first untagged row.
    #[command(after_help = "Example:\n  stance tag sheet.csv --annotator jz")]
    Tag(TagArgs),
}

#[derive(Debug, clap::Args)]
pub struct TagArgs {
    /// A tagging sheet (from `stance sample`, or any CSV with doc_id, sentence, stance, sentiment).
    pub sheet: PathBuf,
    /// Your name or initials, written into the annotator column [default: $USER].
    #[arg(long)]
    pub annotator: Option<String>,
    /// Show the model's labels (off by default: a suggestion seen first anchors the tag).
    #[arg(long)]
    pub show_model: bool,
}

const SAMPLE_EXAMPLES: &str = "\
Examples:
  stance sample --run out/seeds --strategy stratified --by group --n 60 --out sheet.csv
  stance sample --run out/corpus --strategy uncertain --n 100 --exclude eval/gold/seeds.csv --out sheet.csv
  stance sample --run out/corpus --strategy documents --focus 'japan|defen[cs]e|military' --window 1 --n 600 --out sheet.csv";

#[derive(Debug, clap::Args)]
pub struct SampleArgs {
    /// A run folder written by `stance run` (its sentences.csv and run.json are read).
    #[arg(long, value_name = "DIR")]
    pub run: PathBuf,
    /// How to choose sentences.
    #[arg(long, value_enum, default_value = "random")]
    pub strategy: crate::annotate::Strategy,
    /// How many sentences (documents are taken whole with --strategy documents, so the last may
    /// overshoot).
    #[arg(long, default_value_t = 100)]
    pub n: usize,
    /// Seed of the random choices.
    #[arg(long, default_value_t = 13)]
    pub seed: u64,
    /// The strata of --strategy stratified and documents.
    #[arg(long, value_enum, default_value = "group")]
    pub by: crate::annotate::Stratum,
    /// --strategy documents: a regular expression (case-insensitive) for the sentences that
    /// matter; the others are taken only as neighbours [default: every sentence].
    #[arg(long, value_name = "REGEX")]
    pub focus: Option<String>,
    /// --strategy documents: neighbours taken either side of each focus sentence.
    #[arg(long, default_value_t = 1)]
    pub window: usize,
    /// Gold-format files whose sentences must not be chosen again (repeatable).
    #[arg(long, value_name = "FILE")]
    pub exclude: Vec<PathBuf>,
    /// Choose only among the sentences of these gold-format files (e.g. a re-tag of part of a
    /// tagged set; repeatable).
    #[arg(long, value_name = "FILE")]
    pub within: Vec<PathBuf>,
    /// --strategy disagree: a run of another labeler over the same corpus.
    #[arg(long, value_name = "DIR")]
    pub other_run: Option<PathBuf>,
    /// Add the model's labels and probabilities to the sheet (off by default: they anchor a
    /// tagger; `stance tag --show-model` shows them only when asked).
    #[arg(long)]
    pub with_model: bool,
    /// The sheet to write (CSV).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct AgreeArgs {
    /// Two or more tagged files in the gold format (doc_id, sentence and the label column);
    /// each tagger is named by its file's stem. Empty labels count as not tagged.
    #[arg(required = true, num_args = 2.., value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Which label to compare.
    #[arg(long, default_value = "stance", value_parser = ["stance", "sentiment"])]
    pub column: String,
    /// Write the figures as CSV here.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Write the disagreements (doc_id, sentence, each tagger's label) as CSV here.
    #[arg(long, value_name = "FILE")]
    pub disagreements: Option<PathBuf>,
    /// Write a merged gold file here: per sentence, the majority label of every label column
    /// the files share (stance and sentiment), ready for `stance eval --gold`.
    #[arg(long, value_name = "FILE")]
    pub adjudicate: Option<PathBuf>,
    /// With --adjudicate: a tie goes to this tagger (a file stem).
    #[arg(long, value_name = "NAME", requires = "adjudicate")]
    pub prefer: Option<String>,
    /// With --adjudicate: a tie the preferred tagger does not settle gets the neutral label
    /// (stance none, sentiment neutral: the guide's "when torn, choose none"); otherwise the
    /// sentence is left out.
    #[arg(long, requires = "adjudicate")]
    pub ties_neutral: bool,
}

/// Model and configuration options shared by the commands that label.
#[derive(Debug, clap::Args)]
pub struct ModelArgs {
    /// Configuration file (target, label descriptions, settings).
    /// [default: ./stance.toml if present, else the built-in one]
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Folder with the base encoder (model.safetensors, config.json, vocab.txt).
    /// [default: $STANCE_MODEL_DIR, else models/base/files, else ~/.cache/stance/all-MiniLM-L6-v2]
    #[arg(long, value_name = "DIR")]
    pub model_dir: Option<PathBuf>,
    /// Where to run the model: auto (CUDA when present), cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// Which labeler to use: our trained stance model, or zero-shot from the config's label
    /// descriptions (the baseline).
    #[arg(long, value_enum, default_value = "trained")]
    pub labeler: LabelerKind,
    /// Where sentence sentiment comes from with --labeler trained.
    #[arg(long, value_enum, default_value = "trained")]
    pub sentiment: SentimentKind,
    /// The trained model's folder, for --labeler trained.
    /// [default: $STANCE_MODEL, else models/stance-minilm-v4 here or beside the program]
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// The trained sentiment model's folder, for --labeler trained when the stance model has
    /// no sentiment head of its own.
    /// [default: $STANCE_SENTIMENT_MODEL, else models/sentiment-minilm-newsmtsc here or beside
    /// the program]
    #[arg(long, value_name = "DIR")]
    pub sentiment_model: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Manifest CSV with columns doc_id,path,outlet,group,title,date,url (paths relative to it).
    #[arg(long, value_name = "FILE")]
    pub manifest: PathBuf,
    /// Output folder; its reports are replaced only when the whole run has succeeded.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Hand-tagged gold files (gold format; repeatable) that measure the labeller's errors, for
    /// the error-adjusted shares and index in profiles.csv and comparison.csv. Use tags of the
    /// same kind of text as the corpus, on sentences the model was never trained on: errors
    /// measured on other text mis-correct (README, "Error-adjusted profiles").
    #[arg(long, value_name = "FILE")]
    pub calibration: Vec<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, clap::Args)]
pub struct SplitArgs {
    /// A UTF-8 text or Markdown document.
    pub file: PathBuf,
    /// Print the cleaned text instead of its sentences.
    #[arg(long)]
    pub cleaned: bool,
}

#[derive(Debug, clap::Args)]
pub struct ClassifyArgs {
    /// CSV file with a `text` column and an optional `target` column (a per-row target).
    /// Without it, sentences are read from stdin, one per line.
    #[arg(long, value_name = "FILE.csv")]
    pub input: Option<PathBuf>,
    /// Target phrase for rows without their own target (default: the config's target).
    #[arg(long, value_name = "TEXT")]
    pub target: Option<String>,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// Gold CSV: doc_id,sentence,stance,sentiment (extra columns allowed).
    #[arg(long, value_name = "FILE", requires = "pred", conflicts_with = "cv")]
    pub gold: Option<PathBuf>,
    /// Predictions: a sentences.csv written by `stance run`.
    #[arg(long, value_name = "FILE", requires = "gold")]
    pub pred: Option<PathBuf>,
    /// Where to write the metrics as CSV [default: eval.csv beside --pred, or beside --data].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Cross-validate adaptation with K folds: every row is scored by a model adapted on the
    /// other folds only. Needs --data.
    #[arg(long, value_name = "K", requires = "data")]
    pub cv: Option<usize>,
    /// Tagged rows: with --cv, to adapt on; alone, to score a trained model (--model) or the
    /// lexicon baseline (--lexicon) on. A gold-format CSV works (its sentence column and the
    /// task's column), and so does a NewsMTSC .jsonl file (see --rows).
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// The trained model to score on --data [default: the shipped model of --task].
    #[arg(long, value_name = "DIR", conflicts_with_all = ["cv", "lexicon"])]
    pub model: Option<PathBuf>,
    /// Score the VADER lexicon baseline on --data instead of a model (sentiment only).
    #[arg(long, conflicts_with = "cv")]
    pub lexicon: bool,
    #[command(flatten)]
    pub training: TrainingArgs,
}

/// Data and optimisation options shared by `train` and `eval --cv`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainingArgs {
    /// Which head to train: stance (favor/against/none) or sentiment (positive/neutral/negative).
    #[arg(long, default_value = "stance", value_parser = ["stance", "sentiment"])]
    pub task: String,
    /// Start from this trained model instead of the bare base encoder (adaptation).
    #[arg(long, value_name = "DIR")]
    pub init: Option<PathBuf>,
    /// Text column(s), comma-separated candidates [default: text, sentence, post, Tweet].
    #[arg(long, value_name = "NAMES")]
    pub text_col: Option<String>,
    /// Target column(s) [default: target, topic_str, topic, Target].
    #[arg(long, value_name = "NAMES")]
    pub target_col: Option<String>,
    /// Label column(s) [default: the task's name, label, stance, Stance].
    #[arg(long, value_name = "NAMES")]
    pub label_col: Option<String>,
    /// Map raw labels to ours, e.g. "0=against,1=favor,2=none" (VAST).
    #[arg(long, value_name = "MAP")]
    pub label_map: Option<String>,
    /// Target for rows without one [default: the config's target; for sentiment, "overall tone"].
    #[arg(long, value_name = "TEXT")]
    pub target: Option<String>,
    /// Epochs [default: 3; 4 with --init].
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Rows per step [default: 16; 8 with --init].
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// Peak learning rate of the encoder [default: 5e-5; 2e-5 with --init].
    #[arg(long)]
    pub lr: Option<f64>,
    /// Peak learning rate of the head [default: 1e-3; 1e-4 with --init].
    #[arg(long)]
    pub head_lr: Option<f64>,
    /// Word pieces per (target, text) pair [default: 128; with --init, the model's own].
    #[arg(long)]
    pub max_tokens: Option<usize>,
    /// How a new model pools token states: segments (target and text apart, then joined),
    /// interact (those two, their distance and product: relatedness is visible to the head) or
    /// mean (over the whole pair) [default: segments; with --init, the model's own, which
    /// cannot change].
    #[arg(long, value_enum)]
    pub pooling: Option<Pooling>,
    /// Seed of initialisation, shuffling and dropout [default: 13].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Train only the task's head and leave the encoder as it is, e.g. a sentiment head added
    /// to the stance model so both come from one pass.
    #[arg(long)]
    pub freeze_encoder: bool,
    /// NewsMTSC files: rows per target mention, per sentence (when its targets agree), or all.
    #[arg(long, value_enum, default_value_t = NewsRows::All)]
    pub rows: NewsRows,
    /// NewsMTSC files: the target text of sentence rows [default: "overall tone"].
    #[arg(long, value_name = "TEXT")]
    pub sentence_target: Option<String>,
    /// Train on a seeded random sample of this many rows.
    #[arg(long, value_name = "N")]
    pub max_rows: Option<usize>,
    /// Folder with the base encoder [default: as for run].
    #[arg(long, value_name = "DIR")]
    pub model_dir: Option<PathBuf>,
    /// Where to train: auto (CUDA when present), cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// Configuration file, for the default target [default: ./stance.toml if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Training rows: CSV, or JSON lines (.jsonl).
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Development rows, scored after every epoch; the best epoch's weights are kept.
    #[arg(long, value_name = "FILE", conflicts_with = "holdout")]
    pub dev: Option<PathBuf>,
    /// Hold out this share of the training rows as the development set instead (split by a
    /// hash of the text, so all rows of one sentence fall on the same side).
    #[arg(long, value_name = "SHARE")]
    pub holdout: Option<f64>,
    /// Output model folder (model.safetensors, config.json, training.json).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Checkpoint folder; an existing one from the same run is resumed [default: OUT.checkpoint].
    #[arg(long, value_name = "DIR")]
    pub checkpoint: Option<PathBuf>,
    /// Steps between checkpoints.
    #[arg(long, default_value_t = 200)]
    pub checkpoint_every: usize,
    /// Stop after this many steps (resumable), e.g. to train in slices.
    #[arg(long, value_name = "N")]
    pub max_steps: Option<usize>,
    /// Train a second task alongside, on the same encoder with a head of its own (batches of
    /// the two interleaved): stance or sentiment. Needs --aux-data.
    #[arg(long, value_parser = ["stance", "sentiment"], requires = "aux_data")]
    pub aux_task: Option<String>,
    /// The second task's training rows (read with the same column options).
    #[arg(long, value_name = "FILE", requires = "aux_task")]
    pub aux_data: Option<PathBuf>,
    /// The second task's development rows.
    #[arg(long, value_name = "FILE", requires = "aux_task", conflicts_with = "aux_holdout")]
    pub aux_dev: Option<PathBuf>,
    /// Hold out this share of the second task's rows as its development set [default: --holdout].
    #[arg(long, value_name = "SHARE", requires = "aux_task")]
    pub aux_holdout: Option<f64>,
    #[command(flatten)]
    pub training: TrainingArgs,
}

const TRAIN_EXAMPLES: &str = "\
Examples:
  # the shipped stance model: VAST, then hand-written rows, then news and analysis rows with the
  # AllSides gold of fold 0 (see models/stance-minilm-v4/README.md)
  stance train --data ../shared/datasets/vast/vast_train.csv --dev ../shared/datasets/vast/vast_dev.compact.csv \\
      --text-col post,Tweet --label-map 0=against,1=favor,2=none --epochs 2 --max-tokens 112 \\
      --pooling interact --out models/stance-minilm-vast-v2
  python3 scripts/written_rows.py rows
  stance train --init models/stance-minilm-vast-v2 --data rows/train.csv --dev rows/dev.csv --epochs 5 \\
      --out models/stance-minilm-v3
  python3 scripts/written_rows.py rows4 --extra data/written_news.csv --extra data/written_analysis.csv \\
      --gold eval/gold/allsides-dev.csv --gold-fold 0/2
  stance train --init models/stance-minilm-v3 --data rows4/train.csv --dev rows4/dev.csv --epochs 3 \\
      --out models/stance-minilm-v4
  # the shipped sentiment model (NewsMTSC; see models/sentiment-minilm-newsmtsc/README.md)
  stance train --task sentiment --data ../shared/datasets/newsmtsc/train.jsonl --holdout 0.1 \\
      --max-tokens 96 --out models/sentiment-minilm-newsmtsc
  # adapt the stance model to your own hand-tagged sentences (gold-format CSV)
  stance train --init models/stance-minilm-v4 --data my_tags.csv --out models/stance-mine";

impl ModelArgs {
    /// Resolves the config file and model settings.
    fn resolve(&self) -> Result<(Config, String, ModelSettings)> {
        let config_path = self.config.clone().or_else(|| Some(PathBuf::from("stance.toml")).filter(|p| p.is_file()));
        let config = Config::load(config_path.as_deref())?;
        let origin = config_path.map_or_else(|| "built-in".to_string(), |p| p.display().to_string());
        let model = ModelSettings {
            labeler: self.labeler,
            sentiment: self.sentiment,
            model_dir: self.model_dir.clone().unwrap_or_else(default_model_dir),
            trained: self.model.clone().unwrap_or_else(|| shipped_model("stance")),
            sentiment_model: self.sentiment_model.clone().unwrap_or_else(|| shipped_model("sentiment")),
            device: parse_device(&self.device)?,
        };
        Ok((config, origin, model))
    }
}

/// Where the shipped model of `task` (stance or sentiment) is when no option names it:
/// `$STANCE_MODEL` / `$STANCE_SENTIMENT_MODEL`, else its folder here or beside the program.
fn shipped_model(task: &str) -> PathBuf {
    let (var, name) = match task {
        "sentiment" => ("STANCE_SENTIMENT_MODEL", "models/sentiment-minilm-newsmtsc"),
        _ => ("STANCE_MODEL", "models/stance-minilm-v4"),
    };
    if let Some(dir) = std::env::var_os(var) {
        return dir.into();
    }
    let local = PathBuf::from(name);
    if local.is_dir() {
        return local;
    }
    // target/release/stance → the repository's models/.
    std::env::current_exe().ok().and_then(|exe| Some(exe.parent()?.parent()?.parent()?.join(name))).filter(|p| p.is_dir()).unwrap_or(local)
}

impl TrainingArgs {
    /// Reads the data files and resolves the settings; `adapting` picks the --init defaults.
    fn settings(
        &self,
        data: &Path,
        dev: Option<&Path>,
        holdout: Option<f64>,
        out: PathBuf,
        checkpoint_dir: PathBuf,
    ) -> Result<TrainSettings> {
        let config_path = self.config.clone().or_else(|| Some(PathBuf::from("stance.toml")).filter(|p| p.is_file()));
        let config = Config::load(config_path.as_deref())?;
        let labels: Vec<&'static str> = if self.task == "sentiment" { SENTIMENT_LABELS.to_vec() } else { STANCE_LABELS.to_vec() };
        let spec = DataSpec {
            text_col: self.text_col.clone(),
            target_col: self.target_col.clone(),
            label_col: self.label_col.clone(),
            label_map: self.label_map.as_deref().map(parse_label_map).transpose()?.unwrap_or_default(),
            // Sentence sentiment is asked for with the sentiment model's fixed first segment.
            default_target: Some(self.target.clone().unwrap_or_else(|| match self.task.as_str() {
                "sentiment" => SENTENCE_TARGET.to_string(),
                _ => config.target.name.clone(),
            })),
            rows: self.rows,
            sentence_target: self.sentence_target.clone(),
        };
        let mut train = read_examples(data, &spec, &labels, &self.task)?;
        let rows_in_file = train.len();
        let mut held_out = Vec::new();
        if let Some(share) = holdout {
            if !(share > 0.0 && share < 1.0) {
                anyhow::bail!("--holdout must be between 0 and 1, not {share}");
            }
            (train, held_out) = hold_out(train, share);
        }
        let defaults = Hyper::default();
        let adapting = self.init.is_some();
        // An adapted model keeps its pooling (its head's width depends on it) and, unless told
        // otherwise, its pair length; resolving them here makes training.json say what was used.
        let init = self.init.as_deref().map(|dir| ModelConfig::read(dir).map(|config| (dir, config))).transpose()?;
        let pooling = match (&init, self.pooling) {
            (Some((dir, config)), Some(asked)) if asked != config.pooling => anyhow::bail!(
                "--pooling {}: {} pools by {}, and an adapted model keeps its pooling",
                asked.name(),
                dir.display(),
                config.pooling.name()
            ),
            (Some((_, config)), _) => config.pooling,
            (None, asked) => asked.unwrap_or(Pooling::Segments),
        };
        let hyper = Hyper {
            epochs: self.epochs.unwrap_or(if adapting { 4 } else { defaults.epochs }),
            batch_size: self.batch_size.unwrap_or(if adapting { 8 } else { defaults.batch_size }),
            lr: self.lr.unwrap_or(if adapting { 2e-5 } else { defaults.lr }),
            head_lr: self.head_lr.unwrap_or(if adapting { 1e-4 } else { defaults.head_lr }),
            max_tokens: self.max_tokens.or(init.as_ref().map(|(_, c)| c.max_tokens)).unwrap_or(defaults.max_tokens),
            seed: self.seed.unwrap_or(defaults.seed),
            pooling,
            freeze_encoder: self.freeze_encoder,
            ..defaults
        };
        if hyper.epochs == 0 || hyper.batch_size == 0 || hyper.max_tokens < 8 {
            anyhow::bail!("--epochs and --batch-size must be ≥ 1 and --max-tokens ≥ 8");
        }
        if let Some(n) = self.max_rows.filter(|&n| n < train.len()) {
            use rand::seq::SliceRandom;
            use rand::SeedableRng;
            train.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(hyper.seed));
            train.truncate(n);
        }
        let dev_rows = match dev {
            Some(path) => read_examples(path, &spec, &labels, &self.task)?,
            None => held_out,
        };
        let sources = serde_json::json!({
            "train": {"path": data, "rows_in_file": rows_in_file, "rows_used": train.len()},
            "dev": match (dev, holdout) {
                (Some(p), _) => serde_json::json!({"path": p, "rows": dev_rows.len()}),
                (None, Some(share)) => serde_json::json!({
                    "holdout_of_train": share,
                    "rule": "rows whose text's SHA-256 (first 8 bytes, big-endian, over u64::MAX) is below the share",
                    "rows": dev_rows.len()
                }),
                (None, None) => serde_json::Value::Null,
            },
            "spec": spec,
        });
        Ok(TrainSettings {
            task: self.task.clone(),
            labels,
            train,
            dev: dev_rows,
            sources,
            hyper,
            base_dir: self.model_dir.clone().unwrap_or_else(default_model_dir),
            init: self.init.clone(),
            out,
            checkpoint_dir,
            checkpoint_every: 200,
            max_steps: None,
            device: parse_device(&self.device)?,
            show_progress: true,
            aux: None,
        })
    }
}

/// Runs a parsed command line.
pub fn execute(args: Args) -> Result<()> {
    match args.command {
        Command::Run(a) => {
            let (config, config_origin, model) = a.model.resolve()?;
            let settings = RunSettings { manifest: a.manifest, out: a.out, config, config_origin, model, calibration: a.calibration };
            let summary = pipeline::run(&settings)?;
            eprintln!(
                "labelled {} sentences of {} documents in {:.1} s ({:.1} sentences/s; model load {:.1} s); reports in {}",
                summary.sentences,
                summary.documents,
                summary.label_seconds,
                summary.sentences as f64 / summary.label_seconds.max(1e-9),
                summary.load_seconds,
                settings.out.display()
            );
            if !settings.calibration.is_empty() {
                let files: Vec<String> = settings.calibration.iter().map(|f| f.display().to_string()).collect();
                eprintln!("profiles also error-adjusted by the labeller's errors on {} (run.json: calibration)", files.join(" + "));
            }
        }
        Command::Split(a) => {
            let (cleaned, _) = pipeline::prepare_file(&a.file)?;
            let mut out = std::io::stdout().lock();
            if a.cleaned {
                writeln!(out, "{}", cleaned.text)?;
            } else {
                for sentence in sentence_texts(&RuleSplitter, &cleaned.text) {
                    writeln!(out, "{sentence}")?;
                }
            }
        }
        Command::Classify(a) => {
            let (config, _, model) = a.model.resolve()?;
            let items = match &a.input {
                Some(path) => pipeline::read_classify_csv(path)?,
                None => pipeline::read_lines(std::io::stdin().lock())?,
            };
            let csv = pipeline::classify(&items, a.target.as_deref(), &config, &model)?;
            std::io::stdout().lock().write_all(&csv)?;
        }
        Command::Train(a) => {
            let checkpoint = a.checkpoint.clone().unwrap_or_else(|| {
                let mut name = a.out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
                name.push(".checkpoint");
                a.out.with_file_name(name)
            });
            let mut settings = a.training.settings(&a.data, a.dev.as_deref(), a.holdout, a.out.clone(), checkpoint)?;
            settings.checkpoint_every = a.checkpoint_every;
            settings.max_steps = a.max_steps;
            if let (Some(task), Some(data)) = (&a.aux_task, &a.aux_data) {
                if *task == settings.task {
                    anyhow::bail!("--aux-task must differ from --task");
                }
                let scratch = PathBuf::new();
                let aux_args = TrainingArgs { task: task.clone(), max_rows: None, ..a.training.clone() };
                let holdout = if a.aux_dev.is_some() { None } else { a.aux_holdout.or(a.holdout) };
                let aux = aux_args.settings(data, a.aux_dev.as_deref(), holdout, scratch.clone(), scratch)?;
                settings.sources["aux"] = aux.sources.clone();
                settings.aux = Some(AuxTask { task: aux.task, labels: aux.labels, train: aux.train, dev: aux.dev });
            }
            eprintln!(
                "training {} on {} rows ({} dev rows){}, {} epochs of {} steps, on {:?} with {} threads",
                settings.task,
                settings.train.len(),
                settings.dev.len(),
                settings.aux.as_ref().map_or(String::new(), |a| format!(
                    " and {} on {} rows ({} dev rows)",
                    a.task,
                    a.train.len(),
                    a.dev.len()
                )),
                settings.hyper.epochs,
                settings.steps_per_epoch(),
                settings.device,
                tch::get_num_threads()
            );
            let report = train(&settings)?;
            if report.finished {
                eprintln!("done in {:.0} s of training; model written to {}", report.train_seconds, a.out.display());
            } else {
                eprintln!(
                    "stopped at step {} of {} (--max-steps); run the same command again to continue",
                    report.global_step, report.total_steps
                );
            }
        }
        Command::Eval(a) => match (&a.gold, &a.pred, a.cv, &a.data) {
            (Some(gold), Some(pred), None, _) => {
                let gold = eval::read_gold(gold)?;
                let predictions = eval::read_predictions(pred)?;
                let report = eval::evaluate(&gold, &predictions);
                let out = a.out.clone().unwrap_or_else(|| pred.with_file_name("eval.csv"));
                write_atomic(&out, &report.to_csv()?).with_context(|| "writing the evaluation")?;
                print!("{}", report.render());
                println!("\nmetrics written to {}", out.display());
            }
            (None, None, Some(k), Some(data)) => {
                let scratch = PathBuf::new();
                let settings = a.training.settings(data, None, None, scratch.clone(), scratch)?;
                let (adapted, baseline) = cross_validate(&settings, k)?;
                let adapted_metrics = score(&settings.task, &settings.labels, &settings.train, &adapted);
                let baseline_metrics = score(&settings.task, &settings.labels, &settings.train, &baseline);
                let out = a.out.clone().unwrap_or_else(|| data.with_file_name(format!("cv{k}-{}.csv", settings.task)));
                let scored = [("unadapted", &baseline_metrics), ("adapted (out-of-fold)", &adapted_metrics)];
                write_atomic(&out, &metrics_csv(&[("unadapted", &baseline_metrics), ("adapted", &adapted_metrics)])?)?;
                println!("{k}-fold cross-validation on {} rows of {}", settings.train.len(), data.display());
                for (name, m) in scored {
                    println!("  {name:<22} {}", metrics_line(m));
                }
                println!("metrics written to {}", out.display());
            }
            (None, None, None, Some(data)) => {
                let scratch = PathBuf::new();
                let settings = a.training.settings(data, None, None, scratch.clone(), scratch)?;
                let (name, predicted) = if a.lexicon {
                    if settings.task != "sentiment" {
                        anyhow::bail!("--lexicon scores sentiment only (pass --task sentiment)");
                    }
                    let texts: Vec<&str> = settings.train.iter().map(|e| e.text.as_str()).collect();
                    ("vader".to_string(), crate::lexicon::vader_labels(&texts))
                } else {
                    let dir = a.model.clone().unwrap_or_else(|| shipped_model(&settings.task));
                    let model = CrossEncoder::load(&dir, &settings.base_dir, settings.device)?;
                    (dir.display().to_string(), predict_labels(&model, &settings.task, &settings.train, 64)?)
                };
                let m = score(&settings.task, &settings.labels, &settings.train, &predicted);
                let out = a.out.clone().unwrap_or_else(|| data.with_file_name(format!("scores-{}.csv", settings.task)));
                write_atomic(&out, &metrics_csv(&[(name.as_str(), &m)])?)?;
                println!("{} on {} rows of {}", settings.task, settings.train.len(), data.display());
                println!("  {name}: {}", metrics_line(&m));
                println!("metrics written to {}", out.display());
            }
            _ => anyhow::bail!("eval needs --gold and --pred, or --data FILE (with --cv K to cross-validate adaptation)"),
        },
        Command::Sample(a) => sample_command(&a)?,
        Command::Agree(a) => agree_command(&a)?,
        Command::Tag(a) => {
            let annotator = a.annotator.clone().or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".into());
            let (tagged, total) = crate::tagger::run(&a.sheet, &annotator, a.show_model)?;
            eprintln!("{tagged} of {total} rows of {} tagged", a.sheet.display());
        }
    }
    Ok(())
}

fn sample_command(a: &SampleArgs) -> Result<()> {
    use crate::annotate::{read_candidates, read_excluded, sample, sheet_csv, SampleSpec};
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
                .map(|c| ((c.doc_id, c.sentence_id), c.stance))
                .collect::<std::collections::HashMap<_, _>>(),
        ),
        None => None,
    };
    let within = if a.within.is_empty() { None } else { Some(read_excluded(&a.within)?) };
    let chosen = sample(&candidates, &spec, &excluded, within.as_ref(), other.as_ref())?;
    let titles = run_titles(&a.run)?;
    write_atomic(&a.out, &sheet_csv(&candidates, &chosen, &titles, a.with_model)?)?;
    let docs: std::collections::HashSet<&str> = chosen.iter().map(|&i| candidates[i].doc_id.as_str()).collect();
    eprintln!(
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

/// Document titles of a run, from the manifest its run.json names (empty when there is none).
fn run_titles(run: &Path) -> Result<std::collections::HashMap<String, String>> {
    let path = run.join("run.json");
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(Default::default()) };
    let json: serde_json::Value = serde_json::from_str(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let Some(manifest) = json["manifest"].as_str().map(PathBuf::from) else { return Ok(Default::default()) };
    if !manifest.is_file() {
        return Ok(Default::default());
    }
    Ok(crate::manifest::read_manifest(&manifest)?.into_iter().map(|d| (d.doc_id, d.title)).collect())
}

fn agree_command(a: &AgreeArgs) -> Result<()> {
    use crate::annotate::{adjudicate, agreement, read_tagger, LabelColumn};
    // The compared column, and with --adjudicate every other label column all files have (so
    // the merged file is a complete gold file); each read once.
    let mut columns = Vec::new();
    for (name, labels, neutral) in [("stance", &STANCE_LABELS, "none"), ("sentiment", &SENTIMENT_LABELS, "neutral")] {
        let wanted = name == a.column
            || (a.adjudicate.is_some()
                && a.files
                    .iter()
                    .map(|f| Ok(crate::table::CsvFile::open(f, "tagged file")?.column(name).is_some()))
                    .collect::<Result<Vec<bool>>>()?
                    .into_iter()
                    .all(|has| has));
        if wanted {
            let taggers = a.files.iter().map(|f| read_tagger(f, name, labels)).collect::<Result<Vec<_>>>()?;
            columns.push(LabelColumn { name, categories: labels, neutral, taggers });
        }
    }
    let compared = columns.iter().find(|c| c.name == a.column).expect("the compared column is always read");
    let (taggers, categories) = (&compared.taggers, compared.categories);
    let mut names = std::collections::HashSet::new();
    for t in taggers {
        if !names.insert(t.name.clone()) {
            anyhow::bail!("two tagged files share the name '{}' (taggers are named by file stem): rename one", t.name);
        }
    }
    let agreement = agreement(taggers, categories, crate::aggregate::Bootstrap { resamples: 2000, seed: 13 });
    if agreement.pairable == 0 {
        anyhow::bail!("no sentence was tagged by two of the files: check that they share doc_id and sentence text");
    }
    print!("{}", agreement.render(taggers));
    if let Some(out) = &a.out {
        write_atomic(out, &agreement.to_csv()?)?;
    }
    if let Some(out) = &a.disagreements {
        write_atomic(out, &agreement.disagreements_csv(taggers)?)?;
    }
    if let Some(out) = &a.adjudicate {
        let (csv, left_out) = adjudicate(&columns, a.prefer.as_deref(), a.ties_neutral)?;
        write_atomic(out, &csv)?;
        let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
        println!(
            "merged gold ({}) written to {} ({left_out} sentences left out: a tie not settled, or a label missing)",
            names.join(", "),
            out.display()
        );
    }
    Ok(())
}

/// Per-model metrics as CSV: model,metric,label,value (per-class F1, then the summary figures).
fn metrics_csv(scored: &[(&str, &Metrics)]) -> Result<Vec<u8>> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(["model", "metric", "label", "value"])?;
    for &(name, m) in scored {
        for (k, c) in m.per_class.iter().enumerate() {
            csv.write_record([name, "f1", m.labels[k], &format!("{:.4}", c.2)])?;
        }
        for (metric, value) in m.summary() {
            csv.write_record([name, metric, "", &format!("{value:.4}")])?;
        }
    }
    Ok(csv.into_inner()?)
}

/// One line of summary figures and per-class F1.
fn metrics_line(m: &Metrics) -> String {
    let f1: Vec<String> = m.per_class.iter().zip(m.labels).map(|(c, l)| format!("{l} {:.3}", c.2)).collect();
    format!(
        "macro-F1 {:.3} (95% CI {})  F_avg {:.3}  accuracy {:.3}  kappa {:.3}  ({})  neutral called polar {:.3} ({:.3}–{:.3})",
        m.macro_f1,
        m.interval_text(),
        m.f_avg,
        m.accuracy,
        m.kappa,
        f1.join(", "),
        m.false_polar.value,
        m.false_polar.low,
        m.false_polar.high
    )
}
