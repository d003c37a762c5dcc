//! The command line: raw arguments as clap parses them, kept apart from the settings they
//! resolve to (config file, model folder, device), and the dispatch to the pipeline.

use crate::config::Config;
use crate::encoder::{default_model_dir, parse_device};
use crate::eval;
use crate::output::write_atomic;
use crate::pipeline::{self, LabelerKind, ModelSettings, RunSettings};
use crate::split::{sentence_texts, RuleSplitter};
use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::PathBuf;

const EXAMPLES: &str = "\
Examples:
  stance run --manifest seeds/manifest.csv --out out/seeds
  stance split seeds/001-global-times-security-dilemma.txt
  echo \"Japan's rearmament makes the region safer.\" | stance classify
  stance classify --input sentences.csv --target \"nuclear power\" > labels.csv
  stance eval --gold eval/gold/seeds.csv --pred out/seeds/sentences.csv";

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
    /// Compare predicted labels with hand-tagged gold labels.
    #[command(after_help = "Example:\n  stance eval --gold eval/gold/seeds.csv --pred out/seeds/sentences.csv")]
    Eval(EvalArgs),
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
    /// Which labeler to use.
    #[arg(long, value_enum, default_value = "zero-shot")]
    pub labeler: LabelerKind,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Manifest CSV with columns doc_id,path,outlet,group,title,date,url (paths relative to it).
    #[arg(long, value_name = "FILE")]
    pub manifest: PathBuf,
    /// Output folder; its reports are replaced only when the whole run has succeeded.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
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
    #[arg(long, value_name = "FILE")]
    pub gold: PathBuf,
    /// Predictions: a sentences.csv written by `stance run`.
    #[arg(long, value_name = "FILE")]
    pub pred: PathBuf,
    /// Where to write the metrics as CSV [default: eval.csv beside --pred].
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

impl ModelArgs {
    /// Resolves the config file and model settings.
    fn resolve(&self) -> Result<(Config, String, ModelSettings)> {
        let config_path = self.config.clone().or_else(|| Some(PathBuf::from("stance.toml")).filter(|p| p.is_file()));
        let config = Config::load(config_path.as_deref())?;
        let origin = config_path.map_or_else(|| "built-in".to_string(), |p| p.display().to_string());
        let model = ModelSettings {
            labeler: self.labeler,
            model_dir: self.model_dir.clone().unwrap_or_else(default_model_dir),
            device: parse_device(&self.device)?,
        };
        Ok((config, origin, model))
    }
}

/// Runs a parsed command line.
pub fn execute(args: Args) -> Result<()> {
    match args.command {
        Command::Run(a) => {
            let (config, config_origin, model) = a.model.resolve()?;
            let settings = RunSettings { manifest: a.manifest, out: a.out, config, config_origin, model };
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
        Command::Eval(a) => {
            let gold = eval::read_gold(&a.gold)?;
            let predictions = eval::read_predictions(&a.pred)?;
            let report = eval::evaluate(&gold, &predictions);
            let out = a.out.unwrap_or_else(|| a.pred.with_file_name("eval.csv"));
            write_atomic(&out, &report.to_csv()?).with_context(|| "writing the evaluation")?;
            print!("{}", report.render());
            println!("\nmetrics written to {}", out.display());
        }
    }
    Ok(())
}
