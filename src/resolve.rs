//! One place that turns what the user gave (options, environment variables, the working
//! directory) into concrete settings: the config file, the base encoder's folder, the shipped
//! models' folders and the device. Every environment variable the tool reads is read here.
//!
//! | variable | what it names | default |
//! |---|---|---|
//! | `STANCE_MODEL_DIR` | the base encoder's folder | `models/base/files`, else the setup cache |
//! | `STANCE_CACHE` | the setup script's cache | `~/.cache/stance` |
//! | `STANCE_MODEL` | the stance model | `models/stance-minilm-v7` |
//! | `STANCE_SENTIMENT_MODEL` | the sentiment model | `models/sentiment-minilm-newsmtsc` |
//! | `USER` | the annotator of `stance tag` | `unknown` |

use crate::cli::ModelArgs;
use crate::pipeline::ModelSettings;
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
        Task::Sentiment => ("STANCE_SENTIMENT_MODEL", "models/sentiment-minilm-newsmtsc"),
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

/// Sets libtorch's intra-op threads from `STANCE_THREADS`, else from Slurm's
/// `SLURM_CPUS_PER_TASK` (a task should use the cores it was given, not every core of the
/// node); otherwise libtorch's default (the machine's cores). run.json records the count.
pub fn threads() -> Result<()> {
    for var in ["STANCE_THREADS", "SLURM_CPUS_PER_TASK"] {
        if let Ok(value) = std::env::var(var) {
            match value.trim().parse::<i32>() {
                Ok(n) if n > 0 => {
                    tch::set_num_threads(n);
                    return Ok(());
                }
                _ => anyhow::bail!("{var}={value}: expected a whole number of threads"),
            }
        }
    }
    Ok(())
}

/// The config (with its origin) and the model settings that the labelling options resolve to.
pub fn labelling(args: &ModelArgs) -> Result<(Config, String, ModelSettings)> {
    threads()?;
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
    };
    Ok((config, origin, model))
}
