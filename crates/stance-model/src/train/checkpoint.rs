//! Checkpoints: the training state, the weights and the optimiser's moments, written every
//! few steps, so an interrupted run continues exactly where it stopped; and the fingerprint
//! that keeps a checkpoint from being resumed by a run with other data or settings.

use super::optim::AdamW;
use super::{EpochReport, TrainSettings};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use stance_core::output::write_atomic;
use stance_core::IoContext;
use std::collections::BTreeMap;
use std::path::Path;
use tch::{Device, Tensor};

/// Training progress, saved with every checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct State {
    pub(super) fingerprint: String,
    pub(super) epoch: usize,
    pub(super) step_in_epoch: usize,
    pub(super) global_step: usize,
    pub(super) loss_sum: f64,
    pub(super) loss_count: usize,
    pub(super) best_macro_f1: Option<f64>,
    pub(super) best_epoch: Option<usize>,
    pub(super) epochs: Vec<EpochReport>,
    pub(super) train_seconds: f64,
}

/// A digest of everything that determines a run: task, settings, initial model and rows.
pub(super) fn fingerprint(settings: &TrainSettings) -> String {
    let mut h = Sha256::new();
    h.update(settings.task.name().as_bytes());
    h.update(serde_json::to_string(&settings.hyper).unwrap_or_default().as_bytes());
    h.update(settings.init.as_ref().map(|p| p.display().to_string()).unwrap_or_default().as_bytes());
    let aux_rows = settings.aux.iter().flat_map(|a| a.train.iter().chain(&a.dev));
    if let Some(aux) = &settings.aux {
        h.update(b"aux:");
        h.update(aux.task.name().as_bytes());
    }
    for e in settings.train.iter().chain(&settings.dev).chain(aux_rows) {
        h.update(e.text.as_bytes());
        h.update(e.target.as_bytes());
        h.update([e.label as u8, 0]);
    }
    format!("{:x}", h.finalize())
}

/// Writes tensors (on the CPU) to a safetensors file through a temporary file.
pub(super) fn save_tensors(path: &Path, tensors: &[(String, Tensor)]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let cpu: Vec<(String, Tensor)> = tensors.iter().map(|(n, t)| (n.clone(), t.detach().to(Device::Cpu))).collect();
    Tensor::write_safetensors(&cpu, &tmp).map_err(|e| Error::file(&tmp, format!("cannot write: {e}")))?;
    Ok(std::fs::rename(&tmp, path).at(path, "cannot write")?)
}

/// Copies tensors of a safetensors file, by name, into `targets` (read once).
pub(super) fn load_into(path: &Path, targets: &[(String, Tensor)]) -> Result<()> {
    let stored: BTreeMap<String, Tensor> =
        Tensor::read_safetensors(path).map_err(|e| Error::file(path, format!("cannot read checkpoint: {e}")))?.into_iter().collect();
    tch::no_grad(|| {
        for (key, tensor) in targets {
            let value = stored.get(key).ok_or_else(|| Error::file(path, format!("checkpoint lacks '{key}'")))?;
            tensor.shallow_clone().copy_(value);
        }
        Ok(())
    })
}

/// Writes the state, weights and optimiser moments into `dir`.
pub(super) fn save_checkpoint(dir: &Path, state: &State, params: &[(String, Tensor)], adam: &AdamW) -> Result<()> {
    std::fs::create_dir_all(dir).at(dir, "cannot create checkpoint folder")?;
    let mut tensors: Vec<(String, Tensor)> = Vec::with_capacity(params.len() * 3);
    for (i, (name, p)) in params.iter().enumerate() {
        tensors.push((format!("param.{name}"), p.shallow_clone()));
        tensors.push((format!("m.{name}"), adam.m[i].shallow_clone()));
        tensors.push((format!("v.{name}"), adam.v[i].shallow_clone()));
    }
    save_tensors(&dir.join("state.safetensors"), &tensors)?;
    Ok(write_atomic(&dir.join("state.json"), serde_json::to_string_pretty(state)?.as_bytes())?)
}
