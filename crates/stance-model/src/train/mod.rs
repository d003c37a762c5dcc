//! Training: fine-tunes the cross-encoder on (text, target, label) rows with tch autograd.
//! CPU training takes hours, so a run checkpoints as it goes and an interrupted run continues
//! exactly where it stopped: batch order, dropout masks and optimiser state are all functions
//! of the seed and the step, and all of them are in the checkpoint.
//!
//! The parts: `optim` (AdamW, schedule, clipping), `batches` (the seeded order of rows),
//! `checkpoint` (state on disk, fingerprint), and [`cv`] (scoring and K-fold
//! cross-validation of adaptation to a user's own tags, `stance eval --cv`), and [`average`]
//! (the mean of several seeds' weights, `stance average`). This module holds the settings and
//! the loop.

pub mod average;
mod batches;
mod checkpoint;
pub mod cv;
mod optim;

use crate::model::{CrossEncoder, Pooling};
use crate::{Error, Result};
use batches::joint_batches;
use checkpoint::{fingerprint, load_into, save_checkpoint, save_tensors, State};
use cv::{predict_labels, score};
use optim::{clip_gradients, schedule, AdamW};
use serde::{Deserialize, Serialize};
use stance_core::data::examples::Example;
use stance_core::labels::Task;
use stance_core::output::write_atomic;
use stance_core::IoContext;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;
use tch::{Device, Tensor};

pub use cv::cross_validate;

/// The files a checkpoint folder holds (and all that a finished run removes from it).
pub const CHECKPOINT_FILES: [&str; 5] = ["state.json", "state.safetensors", "best.safetensors", "state.tmp", "best.tmp"];

/// Where training reports how it goes: the command line draws a progress bar; tests and
/// cross-validation folds stay quiet.
pub trait Progress {
    /// Training of `total` steps begins, `done` of them already done (a resumed run).
    fn start(&self, _total: u64, _done: u64) {}
    /// One more step, with a short status ("epoch 2/3 loss 0.4123").
    fn step(&self, _status: &str) {}
    /// A line for the user: an epoch's figures, a resumed checkpoint.
    fn say(&self, line: &str) {
        eprintln!("{line}");
    }
    /// Training stopped, finished or paused.
    fn finish(&self) {}
}

/// Progress that tells nothing.
pub struct Quiet;

impl Progress for Quiet {
    fn say(&self, _line: &str) {}
}

/// Optimisation settings, with the defaults `stance train` uses.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hyper {
    /// Passes over the training rows.
    pub epochs: usize,
    /// Rows per optimiser step (one task's rows per batch in a joint run).
    pub batch_size: usize,
    /// Peak learning rate of the encoder.
    pub lr: f64,
    /// Peak learning rate of the head.
    pub head_lr: f64,
    /// AdamW's decoupled weight decay (biases and LayerNorm weights are not decayed).
    pub weight_decay: f64,
    /// Share of all steps spent warming up linearly; then linear decay to zero.
    pub warmup: f64,
    /// Before each step, gradients are scaled down to at most this joint L2 norm.
    pub max_grad_norm: f64,
    /// Word pieces per (target, text) pair; longer pairs are truncated.
    pub max_tokens: usize,
    /// Seeds new heads, the batch order, dropout masks and cross-validation folds.
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

impl Hyper {
    /// The defaults for adapting a trained model (`--init`) to a few hundred rows: more
    /// epochs of smaller batches at lower learning rates, so the model moves without
    /// forgetting what it knew.
    pub fn adapting() -> Self {
        Self { epochs: 4, batch_size: 8, lr: 2e-5, head_lr: 1e-4, ..Self::default() }
    }
}

/// Everything `stance train` needs.
#[derive(Debug, Clone)]
pub struct TrainSettings {
    /// The task the model's main head learns.
    pub task: Task,
    /// The first segment sentence-level sentiment rows were given (recorded in config.json
    /// when the model has a sentiment head).
    pub sentence_target: String,
    /// Training rows.
    pub train: Vec<Example>,
    /// Rows scored after each epoch to keep the best epoch's weights; empty: the last epoch's
    /// weights are kept.
    pub dev: Vec<Example>,
    /// Files and row counts, for the report.
    pub sources: serde_json::Value,
    /// Optimisation settings.
    pub hyper: Hyper,
    /// The base encoder's folder.
    pub base_dir: PathBuf,
    /// A trained model's folder to adapt; None starts from the base encoder with fresh heads.
    pub init: Option<PathBuf>,
    /// The folder the finished model and its training.json are written to.
    pub out: PathBuf,
    /// Where checkpoints go; a run that finds one there from the same data and settings resumes it.
    pub checkpoint_dir: PathBuf,
    /// Steps between checkpoints.
    pub checkpoint_every: usize,
    /// Stop (resumably) after this many steps in this invocation.
    pub max_steps: Option<usize>,
    /// Where the model trains.
    pub device: Device,
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
    /// The second task (its own head).
    pub task: Task,
    /// Its training rows.
    pub train: Vec<Example>,
    /// Its dev rows, scored after each epoch (may be empty).
    pub dev: Vec<Example>,
}

/// One epoch's figures.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochReport {
    /// The epoch's number, from 1.
    pub epoch: usize,
    /// Mean class-weighted cross-entropy over the epoch's steps (both tasks' in a joint run).
    pub train_loss: f64,
    /// Macro-F1 on the dev rows, 0 to 1; None without dev rows.
    pub dev_macro_f1: Option<f64>,
    /// F1 per class on the dev rows, in the task's label order; None without dev rows.
    pub dev_f1: Option<Vec<f64>>,
    /// Share of dev rows labelled right, 0 to 1; None without dev rows.
    pub dev_accuracy: Option<f64>,
    /// The auxiliary task's dev macro-F1 and per-class F1, in a joint run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux_dev_macro_f1: Option<f64>,
    /// The auxiliary task's per-class dev F1, in its label order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aux_dev_f1: Option<Vec<f64>>,
    /// Wall-clock seconds of the epoch, dev scoring included (for a resumed epoch, since the resume).
    pub seconds: f64,
}

/// How a training invocation ended.
#[derive(Debug, Clone, Serialize)]
pub struct TrainReport {
    /// All epochs are done and the model is written; false when `max_steps` paused the run.
    pub finished: bool,
    /// Optimiser steps done so far, earlier invocations included.
    pub global_step: usize,
    /// Steps in the whole run: steps per epoch × epochs.
    pub total_steps: usize,
    /// The figures of every finished epoch, earlier invocations included.
    pub epochs: Vec<EpochReport>,
    /// The epoch (from 1) whose weights are kept: best dev macro-F1 (in a joint run, the best
    /// mean of both tasks'); None without dev rows.
    pub best_epoch: Option<usize>,
    /// Seconds spent training, summed over invocations.
    pub train_seconds: f64,
}

fn build_model(settings: &TrainSettings) -> Result<CrossEncoder> {
    let labels = |task: Task| task.labels().iter().map(|l| l.to_string()).collect::<Vec<_>>();
    let mut heads: BTreeMap<String, Vec<String>> = [(settings.task.name().to_string(), labels(settings.task))].into();
    if let Some(aux) = &settings.aux {
        heads.insert(aux.task.name().to_string(), labels(aux.task));
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
                        return Err(Error::file(
                            dir,
                            format!("the model's '{task}' head has labels {}, not {}", labels.join(","), wanted.join(",")),
                        ));
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

/// Trains (or resumes training) as `settings` says; writes the model into `settings.out` once
/// all epochs are done.
pub fn train(settings: &TrainSettings, progress: &dyn Progress) -> Result<TrainReport> {
    let mut model = build_model(settings)?;
    if settings.task == Task::Sentiment || settings.aux.as_ref().is_some_and(|a| a.task == Task::Sentiment) {
        // Recorded, so the labeller asks for sentence sentiment the way it was trained.
        model.config.sentence_target = Some(settings.sentence_target.clone());
    }
    let mut params = model.trainable();
    if settings.hyper.freeze_encoder {
        let heads: Vec<String> =
            std::iter::once(settings.task).chain(settings.aux.as_ref().map(|a| a.task)).map(|t| format!("head.{t}.")).collect();
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
        let text = std::fs::read_to_string(&state_path).at(&state_path, "cannot read")?;
        let state: State = serde_json::from_str(&text).map_err(|e| Error::file(&state_path, format!("unreadable: {e}")))?;
        if state.fingerprint != fingerprint {
            crate::invalid!(
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
        progress.say(&format!("resuming from {} at step {} of {total_steps}", settings.checkpoint_dir.display(), state.global_step));
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

    std::fs::create_dir_all(&settings.checkpoint_dir).at(&settings.checkpoint_dir, "cannot create checkpoint folder")?;
    // Balanced class weights: each label weighs as much in the loss as the others, so a rare
    // label in training (VAST's neutral: 19% of train, 34% of dev) is still learnt.
    let class_weights = |rows: &[Example], n_labels: usize| {
        let counts: Vec<usize> = (0..n_labels).map(|k| rows.iter().filter(|e| e.label == k).count()).collect();
        let weights: Vec<f32> = counts.iter().map(|&c| if c == 0 { 0.0 } else { rows.len() as f32 / (n_labels * c) as f32 }).collect();
        Tensor::from_slice(&weights).to(model.device())
    };
    // Per task (0: the task, 1: the auxiliary one): its name, rows and loss weights.
    let mut tasks = vec![(settings.task.name(), settings.train.as_slice(), class_weights(&settings.train, 3))];
    if let Some(aux) = &settings.aux {
        tasks.push((aux.task.name(), aux.train.as_slice(), class_weights(&aux.train, 3)));
    }
    progress.start(total_steps as u64, state.global_step as u64);
    let say = |line: String| progress.say(&line);
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
                progress.finish();
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
            progress.step(&format!("epoch {}/{} loss {:.4}", state.epoch + 1, hyper.epochs, running.unwrap_or(value)));
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
            let m = score(aux.task, &aux.dev, &predict_labels(&model, aux.task, &aux.dev, 64)?);
            report.aux_dev_macro_f1 = Some(m.macro_f1);
            report.aux_dev_f1 = Some(m.per_class.iter().map(|c| c.f1).collect());
            say(format!("epoch {}: {} dev macro-F1 {:.4}", report.epoch, aux.task, m.macro_f1));
            aux_f1 = Some(m.macro_f1);
        }
        if !settings.dev.is_empty() {
            let predicted = predict_labels(&model, settings.task, &settings.dev, 64)?;
            let m = score(settings.task, &settings.dev, &predicted);
            report.dev_macro_f1 = Some(m.macro_f1);
            report.dev_f1 = Some(m.per_class.iter().map(|c| c.f1).collect());
            report.dev_accuracy = Some(m.accuracy);
            say(format!(
                "epoch {}: train loss {:.4}, dev macro-F1 {:.4} (F1 {}), accuracy {:.4}",
                report.epoch,
                report.train_loss,
                m.macro_f1,
                m.per_class.iter().zip(m.labels).map(|(c, l)| format!("{l} {:.3}", c.f1)).collect::<Vec<_>>().join(", "),
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
    progress.finish();
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
        "labels": settings.task.labels(),
        "aux_task": settings.aux.as_ref().map(|a| serde_json::json!({
            "task": a.task, "labels": a.task.labels(), "train_rows": a.train.len(), "dev_rows": a.dev.len()
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

#[cfg(test)]
mod tests {
    use super::cv::{cross_validate, predict_labels, score};
    use super::*;
    use crate::model::CrossEncoder;
    use stance_core::labels::SENTENCE_TARGET;
    use std::path::Path;
    use tch::Device;

    /// Tiny training runs on the real base encoder (installed by scripts/setup.sh).
    mod tiny {
        use super::*;
        use std::sync::Mutex;

        /// libtorch's random generator is global: runs in parallel test threads would draw
        /// each other's dropout masks, so these tests take turns.
        static TORCH_RNG: Mutex<()> = Mutex::new(());

        fn base_dir() -> PathBuf {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/base/files")
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
                task: Task::Stance,
                sentence_target: SENTENCE_TARGET.into(),
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
            let report = train(&straight, &Quiet).unwrap();
            assert!(report.finished && report.global_step == 12);
            let first = report.epochs.first().unwrap().train_loss;
            let last = report.epochs.last().unwrap().train_loss;
            assert!(last < first * 0.8, "loss did not fall: {first} → {last}");

            // The same run, interrupted twice.
            let mut sliced = settings(dir.path(), "sliced");
            sliced.max_steps = Some(5);
            assert!(!train(&sliced, &Quiet).unwrap().finished);
            assert!(!train(&sliced, &Quiet).unwrap().finished);
            sliced.max_steps = None;
            let resumed = train(&sliced, &Quiet).unwrap();
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
            let predicted = predict_labels(&model, Task::Stance, &rows(), 8).unwrap();
            let m = score(Task::Stance, &rows(), &predicted);
            let best = report.epochs.iter().filter_map(|e| e.dev_macro_f1).fold(0.0, f64::max);
            assert!((m.macro_f1 - best).abs() < 0.25, "reloaded model scores {} vs {best} in training", m.macro_f1);
            assert!(m.macro_f1 > 0.5, "the tiny model did not learn its own rows: {}", m.macro_f1);

            // A checkpoint from other settings is refused.
            let mut other = settings(dir.path(), "straight");
            other.hyper.seed = 99;
            let err = format!("{:#}", train(&other, &Quiet).unwrap_err());
            assert!(err.contains("belongs to a run with other data or settings"), "{err}");
        }

        #[test]
        fn a_frozen_encoder_learns_a_second_head_and_keeps_the_first() {
            let _turn = TORCH_RNG.lock().unwrap_or_else(|e| e.into_inner());
            let dir = tempfile::tempdir().unwrap();
            let mut stance = settings(dir.path(), "stance");
            stance.hyper.epochs = 1;
            train(&stance, &Quiet).unwrap();
            let sentiment_rows: Vec<Example> =
                rows().into_iter().map(|e| Example { target: SENTENCE_TARGET.into(), label: [0, 2, 1][e.label], ..e }).collect();
            let sentiment = TrainSettings {
                task: Task::Sentiment,
                train: sentiment_rows.clone(),
                dev: sentiment_rows.clone(),
                init: Some(stance.out.clone()),
                hyper: Hyper { epochs: 6, freeze_encoder: true, head_lr: 2e-2, ..stance.hyper.clone() },
                ..settings(dir.path(), "both")
            };
            let report = train(&sentiment, &Quiet).unwrap();
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
            joint.aux = Some(AuxTask { task: Task::Sentiment, train: sentiment_rows.clone(), dev: sentiment_rows });
            let report = train(&joint, &Quiet).unwrap();
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
            let (adapted, baseline) = cross_validate(&s, 3, &Quiet).unwrap();
            assert_eq!(adapted.len(), 9);
            assert_eq!(baseline.len(), 9);
            assert!(adapted.iter().chain(&baseline).all(|&p| p < 3));
            assert!(cross_validate(&s, 1, &Quiet).is_err() && cross_validate(&s, 10, &Quiet).is_err());
        }
    }
}
