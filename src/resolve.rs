//! One place that turns what the user gave (options, environment variables, the working
//! directory) into concrete settings: the config file, the base encoder's folder, the shipped
//! models' folders and the device. Every environment variable the tool reads is read here.
//!
//! | variable | what it names | default |
//! |---|---|---|
//! | `STANCE_MODEL_DIR` | the base encoder's folder | `models/base/files`, else the setup cache |
//! | `STANCE_CACHE` | the setup script's cache | `~/.cache/stance` |
//! | `STANCE_MODEL` | the stance model | `models/stance-minilm-v7` |
//! | `STANCE_SENTIMENT_MODEL` | the sentiment model | `models/sentiment-minilm-real2` |
//! | `USER` | the annotator of `stance tag` | `unknown` |

use crate::cli::ModelArgs;
use crate::pipeline::{ModelSettings, Threads};
use anyhow::Result;
use stance_core::config::Config;
use stance_core::labels::Task;
use stance_model::encoder::MODEL_FILES;
use std::path::{Path, PathBuf};

/// The configuration: `--config`, else `./stance.toml` if present, else the built-in one;
/// with the name it is known by in run.json.
pub fn config(given: Option<&Path>) -> Result<(Config, String)> {
    let path = given.map(Path::to_path_buf).or_else(|| Some(PathBuf::from("stance.toml")).filter(|p| p.is_file()));
    let config = Config::load(path.as_deref())?;
    let origin = path.map_or_else(|| "built-in".to_string(), |p| p.display().to_string());
    Ok((config, origin))
}

/// The base encoder's folder: `--model-dir`, else `$STANCE_MODEL_DIR`, else
/// `models/base/files` under the working directory (linked by scripts/setup.sh), else the
/// setup script's cache (`$STANCE_CACHE` or `~/.cache/stance`).
pub fn base_model_dir(given: Option<&Path>) -> PathBuf {
    if let Some(dir) = given {
        return dir.to_path_buf();
    }
    if let Some(dir) = std::env::var_os("STANCE_MODEL_DIR") {
        return dir.into();
    }
    let local = PathBuf::from("models/base/files");
    if local.join(MODEL_FILES[0]).exists() {
        return local;
    }
    let cache = std::env::var_os("STANCE_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/stance")))
        .unwrap_or_else(|| PathBuf::from(".cache/stance"));
    cache.join("all-MiniLM-L6-v2")
}

/// The shipped model of `task` when no option names one: `$STANCE_MODEL` /
/// `$STANCE_SENTIMENT_MODEL`, else its folder here or beside the program.
pub fn shipped_model(task: Task) -> PathBuf {
    let (var, name) = match task {
        Task::Sentiment => ("STANCE_SENTIMENT_MODEL", "models/sentiment-minilm-real2"),
        Task::Stance => ("STANCE_MODEL", "models/stance-minilm-v7"),
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

/// A model option, else the shipped model of `task`.
pub fn model(given: Option<&Path>, task: Task) -> PathBuf {
    given.map(Path::to_path_buf).unwrap_or_else(|| shipped_model(task))
}

/// Who is tagging: `--annotator`, else `$USER`, else "unknown".
pub fn annotator(given: Option<&str>) -> String {
    given.map(str::to_string).or_else(|| std::env::var("USER").ok()).unwrap_or_else(|| "unknown".into())
}

/// Warns on stderr when the zero-shot labeller will label toward another target than its
/// descriptions were written for.
pub fn warn_about_descriptions(args: &ModelArgs, config: &Config, target: &str) {
    if args.labeler == crate::pipeline::LabelerKind::ZeroShot {
        if let Some(warning) = config.descriptions_warning(target) {
            eprintln!("warning: {warning}");
        }
    }
}

/// More threads than any machine this runs on has cores: a typo, refused rather than started.
pub const MAX_THREADS: usize = 1024;

/// The thread count: `--threads`, else `STANCE_THREADS`, else Slurm's `SLURM_CPUS_PER_TASK` (a
/// task should use the cores it was given, not every core of the node), else the CPUs this
/// process may use (its affinity mask and cgroup CPU quota, as the standard library reads
/// them), so a container or a `taskset` is respected.
pub fn threads(given: Option<usize>) -> Result<Threads> {
    if let Some(count) = given {
        anyhow::ensure!((1..=MAX_THREADS).contains(&count), "--threads {count}: expected 1 to {MAX_THREADS} threads");
        return Ok(Threads { count, from: "--threads" });
    }
    for var in ["STANCE_THREADS", "SLURM_CPUS_PER_TASK"] {
        if let Ok(value) = std::env::var(var) {
            match value.trim().parse::<usize>() {
                Ok(count) if (1..=MAX_THREADS).contains(&count) => return Ok(Threads { count, from: var }),
                Ok(count) if count > MAX_THREADS => anyhow::bail!("{var}={value}: expected at most {MAX_THREADS} threads"),
                _ => anyhow::bail!("{var}={value}: expected a whole number of threads"),
            }
        }
    }
    let count = std::thread::available_parallelism().map_or(1, |n| n.get());
    Ok(Threads { count, from: "the CPUs this process may use" })
}

/// `--target` as given, refused when empty or blank: a stance toward nothing would be labelled
/// and reported as if it meant something.
pub fn target(given: Option<&str>) -> Result<Option<&str>> {
    match given {
        Some(t) if t.trim().is_empty() => anyhow::bail!("--target: empty (name what stance is taken toward)"),
        other => Ok(other),
    }
}

/// The config (with its origin) and the model settings that the labelling options resolve to.
pub fn labelling(args: &ModelArgs) -> Result<(Config, String, ModelSettings)> {
    let threads = threads(args.threads)?;
    let (mut config, origin) = config(args.config.as_deref())?;
    if let Some(names) = &args.entity {
        config.set_entity(names)?;
    }
    if let Some(precision) = args.precision {
        config.labeler.precision = precision;
    }
    // `_int_mm` is measured (and, on CUDA, limited to batches of more than 16 rows) on the CPU
    // only: a GPU runs the f32 pass, and the config run.json records says so.
    if args.device.is_cuda() && config.labeler.precision == stance_core::config::Precision::Int8 {
        if args.precision.is_some() {
            anyhow::bail!("--precision int8 runs on the CPU only (give --device cpu, or --precision f32)");
        }
        config.labeler.precision = stance_core::config::Precision::F32;
    }
    let model = ModelSettings {
        labeler: args.labeler,
        sentiment: args.sentiment,
        model_dir: base_model_dir(args.model_dir.as_deref()),
        trained: model(args.model.as_deref(), Task::Stance),
        sentiment_model: model(args.sentiment_model.as_deref(), Task::Sentiment),
        device: args.device,
        threads,
    };
    Ok((config, origin, model))
}
