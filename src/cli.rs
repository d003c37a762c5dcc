//! The command line: raw arguments as clap parses them, kept apart from the settings they
//! resolve to (config file, model folder, device), and the dispatch to the pipeline.
// Doc comments here are clap's help text: an item without one is meant to have none.
#![allow(missing_docs)]

use crate::pipeline::{LabelerKind, SentimentKind};
use clap::{Parser, Subcommand};
use stance_core::annotate::{Strategy, Stratum};
use stance_core::data::examples::NewsRows;
use stance_core::labels::Task;
use stance_model::model::Pooling;
use std::path::PathBuf;
use tch::Device;

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
    /// No progress bars or progress lines on stderr (warnings and errors still appear).
    #[arg(long, short, global = true)]
    pub quiet: bool,
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
    /// Combine the folders of a sharded run (`stance run --shard K/N`) into the reports one run
    /// over the whole corpus writes, after checking that they used the same models and settings
    /// and hold every document once.
    #[command(
        after_help = "Example:\n  for k in 0 1 2 3; do stance run --manifest m.csv --shard $k/4 --out parts/$k; done\n  stance merge --out out/all parts/0 parts/1 parts/2 parts/3"
    )]
    Merge(MergeArgs),
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
    /// Average the weights of models trained from the same start with different seeds (a
    /// "model soup"): one model that does not hang on one seed's luck, as fast as each.
    #[command(after_help = AVERAGE_EXAMPLES)]
    Average(AverageArgs),
    /// Compare predicted labels with hand-tagged gold labels (--gold, --pred), or measure what
    /// adapting a model to your tags buys, by K-fold cross-validation (--cv K --data FILE).
    #[command(
        after_help = "Examples:\n  stance eval --gold eval/gold/seeds.csv --pred out/seeds/sentences.csv\n  stance eval --cv 5 --data eval/gold/seeds.csv --init models/stance-minilm-v7"
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
    /// Rebuild report.html of a finished run folder (every run writes one; eval adds the gold
    /// evaluation to it).
    #[command(after_help = "Example:\n  stance report out/seeds")]
    Report(ReportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    #[command(after_help = "Example:\n  stance completions bash > ~/.local/share/bash-completion/completions/stance")]
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(after_help = "Example:\n  stance man > ~/.local/share/man/man1/stance.1")]
    Man,
    /// Training data: compose a model's rows from a recipe (files, sets, samples, repeats,
    /// held-out document folds), reproducibly.
    #[command(subcommand)]
    Data(DataCommand),
}

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// A run folder written by `stance run`.
    pub run: PathBuf,
    /// Where to write the page [default: RUN/report.html].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Write train.csv, dev.csv, any held-out files and compose.json (recipe, sources' sha256,
    /// counts) into --out, from a recipe whose paths are relative to its own folder.
    #[command(after_help = "Example:\n  stance data compose data/recipes/stance-v4-stage3.toml --out /tmp/rows")]
    Compose(ComposeArgs),
}

#[derive(Debug, clap::Args)]
pub struct ComposeArgs {
    /// The recipe (TOML; see data/recipes/).
    pub recipe: PathBuf,
    /// Output folder.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
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
    /// The target stance is tagged toward, for rows without a `target` column [default: the
    /// config's target]. Shown above each sentence and in the guide (`?`).
    #[arg(long, value_name = "TEXT")]
    pub target: Option<String>,
    /// Tag stance only: sentiment is not asked, and the sheet needs no sentiment column (`stance
    /// eval` then leaves sentiment out, with a note).
    #[arg(long)]
    pub stance_only: bool,
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
    pub strategy: Strategy,
    /// How many sentences (documents are taken whole with --strategy documents, so the last may
    /// overshoot).
    #[arg(long, default_value_t = 100)]
    pub n: usize,
    /// Seed of the random choices.
    #[arg(long, default_value_t = 13)]
    pub seed: u64,
    /// The strata of --strategy stratified and documents.
    #[arg(long, value_enum, default_value = "group")]
    pub by: Stratum,
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
pub struct AverageArgs {
    /// Folder the averaged model is written to (config.json, model.safetensors, training.json
    /// naming every ingredient and its sha256); replaced whole, atomically.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Folder with the base encoder [default: as for run].
    #[arg(long, value_name = "DIR")]
    pub model_dir: Option<PathBuf>,
    /// The trained models to average: at least two, with the same config.json, best trained
    /// from the same --init on the same rows with different --seed.
    #[arg(value_name = "MODEL", num_args = 2.., required = true)]
    pub models: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct AgreeArgs {
    /// Two or more tagged files in the gold format (doc_id, sentence and the label column);
    /// each tagger is named by its file's stem. Empty labels count as not tagged.
    #[arg(required = true, num_args = 2.., value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Which label to compare.
    #[arg(long, value_enum, default_value_t = Task::Stance)]
    pub column: Task,
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
    #[arg(long, default_value = "auto", value_parser = parse_device)]
    pub device: Device,
    /// Which labeler to use: our trained stance model, or zero-shot from the config's label
    /// descriptions (the baseline).
    #[arg(long, value_enum, default_value = "trained")]
    pub labeler: LabelerKind,
    /// The entity whose mentions get sentiment toward them, and its aliases: NAME[,ALIAS...]
    /// (matched as whole words) [default: the config's [entity]].
    #[arg(long, value_name = "NAME[,ALIAS...]")]
    pub entity: Option<String>,
    /// Where sentence sentiment comes from with --labeler trained.
    #[arg(long, value_enum, default_value = "trained")]
    pub sentiment: SentimentKind,
    /// The trained model's folder, for --labeler trained.
    /// [default: $STANCE_MODEL, else models/stance-minilm-v7 here or beside the program]
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// The trained sentiment model's folder, for --labeler trained when the stance model has
    /// no sentiment head of its own.
    /// [default: $STANCE_SENTIMENT_MODEL, else models/sentiment-minilm-real2 here or beside
    /// the program]
    #[arg(long, value_name = "DIR")]
    pub sentiment_model: Option<PathBuf>,
    /// The trained models' encoder arithmetic: int8 (dynamic int8 linear layers, 2.5× as fast)
    /// or f32 (labels differ slightly; every quality figure within its interval: README,
    /// "Speed") [default: the config's [labeler] precision, else int8].
    #[arg(long, value_enum)]
    pub precision: Option<stance_core::config::Precision>,
    /// CPU threads. The trained labeler runs this many workers side by side, each a
    /// single-threaded pass over its own batches, which keeps its speed when other work shares
    /// the cores; the zero-shot labeler gives them to libtorch.
    /// [default: $STANCE_THREADS, else $SLURM_CPUS_PER_TASK, else the CPUs this process may use]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Manifest CSV with columns doc_id,path,outlet,group,title,date,url (paths relative to it).
    #[arg(long, value_name = "FILE", required_unless_present = "corpus", conflicts_with = "corpus")]
    pub manifest: Option<PathBuf>,
    /// A JSONL corpus instead of a manifest: one JSON object per line, with fields id, text,
    /// outlet, group and optionally title, date, url (other names mapped with --field).
    #[arg(long, value_name = "FILE.jsonl")]
    pub corpus: Option<PathBuf>,
    /// Which JSONL field holds a document property, as PROPERTY=FIELD (repeatable), e.g.
    /// --field id=ID --field text=content_original --field outlet=source --field group=bias_text.
    #[arg(long, value_name = "PROPERTY=FIELD", requires = "corpus")]
    pub field: Vec<String>,
    /// Label only shard K of N (0-based): the documents whose doc_id hashes to K. The folder
    /// also keeps each document's labels (parts/, shard.json) for `stance merge`.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<stance_core::data::corpus::Shard>,
    /// Continue a killed run into the same --out: documents it had finished (with the same
    /// models, settings and document text) are not labelled again; the result is the same.
    #[arg(long)]
    pub resume: bool,
    /// Output folder; its reports are replaced only when the whole run has succeeded.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The target stance is taken toward [default: the config's [target] name].
    #[arg(long, value_name = "TEXT")]
    pub target: Option<String>,
    /// Hand-tagged gold files (gold format; repeatable) that measure the labeller's errors, for
    /// the error-adjusted shares and index in profiles.csv and comparison.csv. Use tags of the
    /// same kind of text as the corpus, on sentences the model was never trained on: errors
    /// measured on other text mis-correct (README, "Error-adjusted profiles").
    #[arg(long, value_name = "FILE")]
    pub calibration: Vec<PathBuf>,
    /// Prefix text cells that a spreadsheet would run as a formula (starting with = + - @) with
    /// an apostrophe. Off by default: it changes the text (README, "Reliability").
    #[arg(long)]
    pub csv_safe: bool,
    /// Begin each CSV with a UTF-8 byte-order mark, so spreadsheet software reads it as UTF-8.
    #[arg(long)]
    pub excel: bool,
    /// Leave out a document that cannot be read (not UTF-8, empty, too large), with a warning
    /// and its reason in run.json (skipped_documents), instead of stopping the run. Manifest
    /// errors still stop it.
    #[arg(long)]
    pub skip_bad: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Output folder, written as `stance run` writes one.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The shard folders, one per shard.
    #[arg(required = true, value_name = "PART_DIR")]
    pub parts: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct SplitArgs {
    /// A UTF-8 text or Markdown document; `-` reads standard input (as plain text).
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
    /// Prefix text cells that a spreadsheet would run as a formula with an apostrophe.
    #[arg(long)]
    pub csv_safe: bool,
    /// Begin the CSV with a UTF-8 byte-order mark, for spreadsheet software.
    #[arg(long)]
    pub excel: bool,
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
    /// Where to write the metrics as CSV [default: eval.csv beside --pred; with --data or --cv,
    /// only printed unless --out is given, so nothing is written into a data folder].
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
    /// The model's encoder arithmetic on --data: int8 or f32 (see `stance run --precision`;
    /// this one does not read the config). Cross-validation and training score in f32.
    #[arg(long, value_enum, default_value = "int8", conflicts_with_all = ["cv", "lexicon"])]
    pub precision: stance_core::config::Precision,
    #[command(flatten)]
    pub training: TrainingArgs,
}

/// Data and optimisation options shared by `train` and `eval --cv`.
#[derive(Debug, Clone, clap::Args)]
pub struct TrainingArgs {
    /// Which head to train: stance (favor/against/none) or sentiment (positive/neutral/negative).
    #[arg(long, value_enum, default_value_t = Task::Stance)]
    pub task: Task,
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
    /// A named data format, whose columns and label map fill what the options above leave
    /// open: vast, gold, newsmtsc.
    #[arg(long, value_enum)]
    pub format: Option<stance_core::data::examples::Format>,
    /// Map raw labels to ours, e.g. "0=against,1=favor,2=none" (VAST; `--format vast` says it).
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
    #[arg(long, default_value = "auto", value_parser = parse_device)]
    pub device: Device,
    /// Configuration file, for the default target [default: ./stance.toml if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// CPU threads: libtorch's threads in training; side-by-side workers when scoring a model
    /// [default: $STANCE_THREADS, else $SLURM_CPUS_PER_TASK, else the CPUs this process may use]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
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
    /// Keep the checkpoint folder after training finishes (it is removed by default).
    #[arg(long)]
    pub keep_checkpoint: bool,
    /// Train a second task alongside, on the same encoder with a head of its own (batches of
    /// the two interleaved): stance or sentiment. Needs --aux-data.
    #[arg(long, value_enum, requires = "aux_data")]
    pub aux_task: Option<Task>,
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

const AVERAGE_EXAMPLES: &str = "\
Example (three seeds of one recipe, then their mean):
  for s in 13 29 41; do
    stance train --init models/stance-minilm-v6 --data rows/train.csv --dev rows/dev.csv --epochs 2 --seed $s --out seed-$s
  done
  stance average --out soup seed-13 seed-29 seed-41";

const TRAIN_EXAMPLES: &str = "\
Examples:
  # the shipped stance model: VAST, then hand-written rows, then news and analysis rows with the
  # AllSides gold of fold 0, then implicit-evaluation and analysis-register rows, then
  # analysis-prose rows, then target-contrast rows in three seeds, averaged
  # (see models/stance-minilm-v7/README.md)
  stance train --data ../shared/datasets/vast/vast_train.csv --dev ../shared/datasets/vast/vast_dev.compact.csv \\
      --format vast --epochs 2 --max-tokens 112 \\
      --pooling interact --out models/stance-minilm-vast-v2
  stance data compose data/recipes/stance-v3-stage2.toml --out rows
  stance train --init models/stance-minilm-vast-v2 --data rows/train.csv --dev rows/dev.csv --epochs 5 \\
      --out models/stance-minilm-v3
  stance data compose data/recipes/stance-v4-stage3.toml --out rows4
  stance train --init models/stance-minilm-v3 --data rows4/train.csv --dev rows4/dev.csv --epochs 3 \\
      --out models/stance-minilm-v4
  stance data compose data/recipes/stance-v5-stage4.toml --out rows5
  stance train --init models/stance-minilm-v4 --data rows5/train.csv --dev rows5/dev.csv --epochs 2 \\
      --out models/stance-minilm-v5
  stance data compose data/recipes/stance-v6-stage5.toml --out rows6
  stance train --init models/stance-minilm-v5 --data rows6/train.csv --dev rows6/dev.csv --epochs 2 \\
      --out models/stance-minilm-v6
  stance data compose data/recipes/stance-v7-stage6.toml --out rows7
  for s in 13 29 41; do
    stance train --init models/stance-minilm-v6 --data rows7/train.csv --dev rows7/dev.csv --epochs 2 \\
        --seed $s --out v7-seed-$s
  done
  stance average --out models/stance-minilm-v7 v7-seed-13 v7-seed-29 v7-seed-41
  # the shipped sentiment model: NewsMTSC plus real tagged sentences and SST-2 (see
  # models/sentiment-minilm-real2/README.md for the rows and the full commands)
  python3 scripts/sentiment_rows.py sent-rows.csv --no-descriptive --real2
  stance train --task sentiment --init models/sentiment-minilm-newsmtsc --data sent-rows.csv \\
      --holdout 0.05 --epochs 1 --out models/sentiment-minilm-real2
  # adapt the stance model to your own hand-tagged sentences (gold-format CSV)
  stance train --init models/stance-minilm-v7 --data my_tags.csv --out models/stance-mine";

/// Parses `--device`: `auto` (CUDA when present), `cpu`, `cuda` or `cuda:N`.
pub fn parse_device(name: &str) -> Result<Device, String> {
    Ok(match name {
        "auto" => Device::cuda_if_available(),
        "cpu" => Device::Cpu,
        "cuda" => Device::Cuda(0),
        other => match other.strip_prefix("cuda:").and_then(|n| n.parse().ok()) {
            Some(n) => Device::Cuda(n),
            None => return Err(format!("unknown device '{other}' (expected auto, cpu, cuda or cuda:N)")),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_parse_and_unknown_ones_are_named() {
        assert_eq!(parse_device("cpu"), Ok(Device::Cpu));
        assert_eq!(parse_device("cuda:1"), Ok(Device::Cuda(1)));
        assert!(parse_device("tpu").unwrap_err().contains("unknown device 'tpu'"));
    }
}
