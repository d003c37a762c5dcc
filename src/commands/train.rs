//! `stance train`: fine-tune a cross-encoder, or adapt a trained one; and the settings that
//! `train` and `eval --cv`/`--data` share (data files read, defaults resolved).

use crate::cli::{TrainArgs, TrainingArgs};
use crate::progress::{plural, Bar};
use crate::resolve;
use anyhow::{bail, Context, Result};
use stance_core::data::examples::{hold_out, parse_label_map, read_examples, sample_rows, DataSpec};
use stance_core::labels::{Task, SENTENCE_TARGET};
use stance_model::model::{ModelConfig, Pooling};
use stance_model::train::{train, AuxTask, Hyper, TrainSettings};
use std::path::{Path, PathBuf};

/// Runs `stance train`.
pub fn execute(a: TrainArgs) -> Result<()> {
    // STANCE_THREADS / SLURM_CPUS_PER_TASK bound training's threads as they bound labelling's:
    // two trainings that each take every core run many times slower than one thread each.
    let threads = crate::resolve::threads(a.training.threads)?;
    tch::set_num_threads(threads.count as i32);
    let checkpoint = a.checkpoint.clone().unwrap_or_else(|| {
        let mut name = a.out.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(".checkpoint");
        a.out.with_file_name(name)
    });
    let mut settings = training_settings(&a.training, &a.data, a.dev.as_deref(), a.holdout, a.out.clone(), checkpoint)?;
    settings.checkpoint_every = a.checkpoint_every;
    settings.max_steps = a.max_steps;
    if let (Some(task), Some(data)) = (a.aux_task, &a.aux_data) {
        if task == settings.task {
            bail!("--aux-task must differ from --task");
        }
        let scratch = PathBuf::new();
        let aux_args = TrainingArgs { task, max_rows: None, ..a.training.clone() };
        let holdout = if a.aux_dev.is_some() { None } else { a.aux_holdout.or(a.holdout) };
        let aux = training_settings(&aux_args, data, a.aux_dev.as_deref(), holdout, scratch.clone(), scratch)?;
        settings.sources["aux"] = aux.sources.clone();
        settings.aux = Some(AuxTask { task: aux.task, train: aux.train, dev: aux.dev });
    }
    crate::say!(
        "training {} on {} ({} dev rows){}, {} of {} steps, on {:?} with {} threads",
        settings.task,
        plural(settings.train.len(), "row", "rows"),
        settings.dev.len(),
        settings.aux.as_ref().map_or(String::new(), |a| format!(
            " and {} on {} ({} dev rows)",
            a.task,
            plural(a.train.len(), "row", "rows"),
            a.dev.len()
        )),
        plural(settings.hyper.epochs, "epoch", "epochs"),
        settings.steps_per_epoch(),
        settings.device,
        tch::get_num_threads()
    );
    let report = train(&settings, &Bar::steps())?;
    if report.finished {
        crate::say!("done in {:.0} s of training; model written to {}", report.train_seconds, a.out.display());
        // The checkpoint is only for resuming: a finished run removes it unless asked to keep it.
        // Only the files training wrote go, and the folder only when nothing else is left in it
        // (`--checkpoint` may name any folder).
        if !a.keep_checkpoint {
            let dir = &settings.checkpoint_dir;
            for name in stance_model::train::CHECKPOINT_FILES {
                let path = dir.join(name);
                if path.is_file() {
                    std::fs::remove_file(&path).with_context(|| format!("{}: cannot remove", path.display()))?;
                }
            }
            if std::fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none()) {
                std::fs::remove_dir(dir).with_context(|| format!("{}: cannot remove the checkpoint folder", dir.display()))?;
            }
        }
    } else {
        crate::say!(
            "stopped at step {} of {} (--max-steps); run the same command again to continue",
            report.global_step,
            report.total_steps
        );
    }
    Ok(())
}

/// Reads the data files and resolves the settings of `train` and `eval --cv`/`--data`.
pub fn training_settings(
    args: &TrainingArgs,
    data: &Path,
    dev: Option<&Path>,
    holdout: Option<f64>,
    out: PathBuf,
    checkpoint_dir: PathBuf,
) -> Result<TrainSettings> {
    let spec = data_spec(args)?;
    let mut train = read_examples(data, &spec, args.task)?;
    let rows_in_file = train.len();
    let mut held_out = Vec::new();
    if let Some(share) = holdout {
        if !(share > 0.0 && share < 1.0) {
            bail!("--holdout must be between 0 and 1, not {share}");
        }
        (train, held_out) = hold_out(train, share);
    }
    let defaults = if args.init.is_some() { Hyper::adapting() } else { Hyper::default() };
    // An adapted model keeps its pooling (its head's width depends on it) and, unless told
    // otherwise, its pair length; resolving them here makes training.json say what was used.
    let init = args.init.as_deref().map(|dir| ModelConfig::read(dir).map(|config| (dir, config))).transpose()?;
    let pooling = match (&init, args.pooling) {
        (Some((dir, config)), Some(asked)) if asked != config.pooling => bail!(
            "--pooling {}: {} pools by {}, and an adapted model keeps its pooling",
            asked.name(),
            dir.display(),
            config.pooling.name()
        ),
        (Some((_, config)), _) => config.pooling,
        (None, asked) => asked.unwrap_or(Pooling::Segments),
    };
    let hyper = Hyper {
        epochs: args.epochs.unwrap_or(defaults.epochs),
        batch_size: args.batch_size.unwrap_or(defaults.batch_size),
        lr: args.lr.unwrap_or(defaults.lr),
        head_lr: args.head_lr.unwrap_or(defaults.head_lr),
        max_tokens: args.max_tokens.or(init.as_ref().map(|(_, c)| c.max_tokens)).unwrap_or(defaults.max_tokens),
        seed: args.seed.unwrap_or(defaults.seed),
        pooling,
        freeze_encoder: args.freeze_encoder,
        ..defaults
    };
    if hyper.epochs == 0 || hyper.batch_size == 0 || !(8..=512).contains(&hyper.max_tokens) {
        bail!("--epochs and --batch-size must be ≥ 1 and --max-tokens between 8 and 512 (the encoder's positions)");
    }
    // A NaN, negative or huge rate trains a model of NaNs that labels every sentence favor.
    for (flag, rate) in [("--lr", hyper.lr), ("--head-lr", hyper.head_lr)] {
        if !(rate > 0.0 && rate <= 1.0) {
            bail!("{flag} {rate}: must be above 0 and at most 1");
        }
    }
    if let Some(n) = args.max_rows {
        train = sample_rows(train, n, hyper.seed);
    }
    if train.is_empty() {
        let why = if holdout.is_some() { " (--holdout took every row for development)" } else { "" };
        bail!("{}: no training rows left{why}", data.display());
    }
    let dev_rows = match dev {
        Some(path) => read_examples(path, &spec, args.task)?,
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
        task: args.task,
        // Sentence rows of sentiment data: --sentence-target (NewsMTSC), else the target rows
        // without one were given.
        sentence_target: args
            .sentence_target
            .clone()
            .or_else(|| args.target.clone().filter(|_| args.task == Task::Sentiment))
            .unwrap_or_else(|| SENTENCE_TARGET.to_string()),
        train,
        dev: dev_rows,
        sources,
        hyper,
        base_dir: resolve::base_model_dir(args.model_dir.as_deref()),
        init: args.init.clone(),
        out,
        checkpoint_dir,
        checkpoint_every: 200,
        max_steps: None,
        device: args.device,
        aux: None,
    })
}

/// Where the data files keep their fields, from the column and label options; rows without a
/// target take `--target`, else the config's target (stance) or the sentence target (sentiment).
fn data_spec(args: &TrainingArgs) -> Result<DataSpec> {
    resolve::target(args.target.as_deref())?;
    let (config, _) = resolve::config(args.config.as_deref())?;
    let spec = DataSpec {
        text_col: args.text_col.clone(),
        target_col: args.target_col.clone(),
        label_col: args.label_col.clone(),
        label_map: args.label_map.as_deref().map(parse_label_map).transpose()?.unwrap_or_default(),
        // Sentence sentiment is asked for with the sentiment model's fixed first segment.
        default_target: Some(args.target.clone().unwrap_or_else(|| match args.task {
            Task::Sentiment => SENTENCE_TARGET.to_string(),
            Task::Stance => config.target.name.clone(),
        })),
        rows: args.rows,
        sentence_target: args.sentence_target.clone(),
    };
    Ok(match args.format {
        Some(format) => format.apply(spec, args.task),
        None => spec,
    })
}

/// The tagged rows of `data`, read as `--task` and the column options say (for scoring).
pub fn tagged_rows(args: &TrainingArgs, data: &Path) -> Result<Vec<stance_core::data::examples::Example>> {
    Ok(read_examples(data, &data_spec(args)?, args.task)?)
}
