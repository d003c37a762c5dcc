//! Weight averaging ("model soup", Wortsman et al., 2022): the mean of the trainable tensors
//! of models fine-tuned from the same starting model on the same rows with different seeds.
//!
//! Why: one training seed's figure is partly luck. On the seed gold, three seeds of one recipe
//! have scored 0.605, 0.613 and 0.668 macro-F1, and one of them pointed a group index the
//! wrong way. Shipping the best seed would be choosing on the test; the mean of the seeds'
//! weights is one model, exactly as fast as each, that does not hang on one draw. It only
//! makes sense for models that share their start (`--init`): models trained apart from fresh
//! heads do not lie in one basin, and their mean is not a model of either.

use crate::model::CrossEncoder;
use crate::{Error, Result};
use serde::Serialize;
use stance_core::digest::sha256_file;
use stance_core::output::Staging;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

/// The files an averaged model's folder holds.
pub const AVERAGE_FILES: [&str; 3] = ["config.json", "model.safetensors", "training.json"];

/// One of the averaged models, as recorded in the result's training.json.
#[derive(Debug, Clone, Serialize)]
pub struct Ingredient {
    /// Its folder, as given.
    pub dir: PathBuf,
    /// The sha256 of its `model.safetensors`.
    pub sha256: String,
    /// Its own training.json (None when it has none).
    pub training: Option<serde_json::Value>,
}

/// Averages the models in `dirs` (at least two, with identical config.json) over the base
/// encoder in `base_dir`, and writes the mean into `out` (config.json, model.safetensors,
/// training.json with every ingredient's sha256 and training record), atomically: a failure
/// leaves `out` as it was.
pub fn average(dirs: &[PathBuf], base_dir: &Path, out: &Path) -> Result<Vec<Ingredient>> {
    if dirs.len() < 2 {
        crate::invalid!("averaging needs at least two models, got {}", dirs.len());
    }
    // Writing the mean over an ingredient would destroy it (and its training record).
    if let Ok(target) = out.canonicalize() {
        if let Some(dir) = dirs.iter().find(|d| d.canonicalize().is_ok_and(|d| d == target)) {
            return Err(Error::file(dir, "is the --out folder too; write the mean to another folder"));
        }
    }
    let first = CrossEncoder::load(&dirs[0], base_dir, Device::Cpu)?;
    let config = serde_json::to_value(&first.config)?;
    let params = first.trainable();
    let mut sums: Vec<(String, Tensor)> = params.iter().map(|(n, t)| (n.clone(), t.detach().to_kind(Kind::Float).copy())).collect();
    let mut ingredients = vec![ingredient(&dirs[0])?];
    for dir in &dirs[1..] {
        let model = CrossEncoder::load(dir, base_dir, Device::Cpu)?;
        let theirs = serde_json::to_value(&model.config)?;
        if theirs != config {
            // Both are objects of the same struct: the fields whose values differ.
            let (mine, other) = (config.as_object(), theirs.as_object());
            let keys = mine.into_iter().chain(other).flat_map(|o| o.keys()).collect::<std::collections::BTreeSet<_>>();
            let differing: Vec<&str> = keys.into_iter().filter(|k| config.get(k) != theirs.get(k)).map(String::as_str).collect();
            return Err(Error::file(
                dir.join("config.json"),
                format!(
                    "differs from {} in {}: averaged models must share base, heads, pooling and pair length",
                    dirs[0].join("config.json").display(),
                    differing.join(", ")
                ),
            ));
        }
        // Equal configs give the same tensors by name and shape (load checked them); checked
        // anyway, since a misaligned sum would be a silent nonsense model.
        let tensors = model.trainable();
        if tensors.len() != sums.len() {
            return Err(Error::file(dir.join("model.safetensors"), "holds another set of tensors than the first model"));
        }
        for ((name, sum), (other, tensor)) in sums.iter_mut().zip(tensors) {
            if *name != other || sum.size() != tensor.size() {
                return Err(Error::file(
                    dir.join("model.safetensors"),
                    format!("tensor '{other}' does not match the first model's '{name}'"),
                ));
            }
            *sum += tensor.detach().to_kind(Kind::Float);
        }
        ingredients.push(ingredient(dir)?);
    }
    let n = dirs.len() as f64;
    tch::no_grad(|| {
        for ((_, target), (_, sum)) in params.iter().zip(&sums) {
            target.shallow_clone().copy_(&(sum / n));
        }
    });
    let staging = Staging::new(out, &AVERAGE_FILES)?;
    first.save(staging.path())?;
    let training = serde_json::json!({
        "average_of": ingredients,
        "method": "uniform mean of the trainable tensors (f32), saved in fp16",
        "command": std::env::args().collect::<Vec<_>>(),
    });
    staging.write("training.json", serde_json::to_string_pretty(&training)? + "\n")?;
    staging.commit()?;
    Ok(ingredients)
}

fn ingredient(dir: &Path) -> Result<Ingredient> {
    let weights = dir.join("model.safetensors");
    let sha256 = sha256_file(&weights)?;
    let path = dir.join("training.json");
    let training = if path.is_file() {
        let text = std::fs::read_to_string(&path).map_err(|e| Error::file(&path, format!("cannot read: {e}")))?;
        Some(serde_json::from_str(&text).map_err(|e| Error::file(&path, format!("not JSON: {e}")))?)
    } else {
        None
    };
    Ok(Ingredient { dir: dir.to_path_buf(), sha256, training })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn repo(path: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").join(path)
    }

    fn weights(dir: &Path) -> BTreeMap<String, Tensor> {
        Tensor::read_safetensors(dir.join("model.safetensors")).unwrap().into_iter().collect()
    }

    #[test]
    fn the_mean_of_two_models_is_their_tensors_mean_and_of_one_model_itself() {
        let (v5, v6) = (repo("models/stance-minilm-v5"), repo("models/stance-minilm-v6"));
        let base = repo("models/base/files");
        let tmp = tempfile::tempdir().unwrap();

        let same = tmp.path().join("same");
        average(&[v6.clone(), v6.clone()], &base, &same).unwrap();
        let (a, b) = (weights(&v6), weights(&same));
        assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for (name, t) in &a {
            assert!(t.equal(&b[name]), "{name} changed when a model was averaged with itself");
        }

        let mixed = tmp.path().join("mixed");
        let ingredients = average(&[v5.clone(), v6.clone()], &base, &mixed).unwrap();
        assert_eq!(ingredients.len(), 2);
        let (w5, mean) = (weights(&v5), weights(&mixed));
        let mut moved = 0;
        for (name, t6) in &a {
            let expected = (w5[name].to_kind(Kind::Float) + t6.to_kind(Kind::Float)) / 2.0;
            let got = mean[name].to_kind(Kind::Float);
            // fp16 on disk: half a unit in the last place of the mean, relative.
            let tolerance = expected.abs() * 1e-3 + 1e-6;
            assert!(bool::try_from((got - &expected).abs().le_tensor(&tolerance).all()).unwrap(), "{name} is not the mean");
            moved += usize::from(!mean[name].equal(t6));
        }
        assert!(moved > 0, "the mean of two different models equals one of them");
        let record: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(mixed.join("training.json")).unwrap()).unwrap();
        assert_eq!(record["average_of"][1]["sha256"].as_str().unwrap(), sha256_file(&v6.join("model.safetensors")).unwrap());
        assert_eq!(std::fs::read_to_string(mixed.join("config.json")).unwrap(), std::fs::read_to_string(v6.join("config.json")).unwrap());
    }

    #[test]
    fn models_that_differ_in_shape_or_are_too_few_are_refused_and_nothing_is_written() {
        let base = repo("models/base/files");
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        // Another pooling: the heads' widths differ.
        let err = average(&[repo("models/stance-minilm-v6"), repo("models/stance-minilm-vast")], &base, &out).unwrap_err().to_string();
        assert!(err.contains("stance-minilm-vast/config.json") && err.contains("differs from"), "{err}");
        assert!(!err.contains('\n'), "not one line: {err}");
        // Another pair length only.
        let other = tmp.path().join("other");
        std::fs::create_dir(&other).unwrap();
        let v6 = repo("models/stance-minilm-v6");
        std::fs::copy(v6.join("model.safetensors"), other.join("model.safetensors")).unwrap();
        let config = std::fs::read_to_string(v6.join("config.json")).unwrap().replace("\"max_tokens\": 112", "\"max_tokens\": 64");
        std::fs::write(other.join("config.json"), config).unwrap();
        let err = average(&[v6.clone(), other.clone()], &base, &out).unwrap_err().to_string();
        assert!(err.contains("other/config.json") && err.contains("in max_tokens"), "{err}");
        let err = average(std::slice::from_ref(&v6), &base, &out).unwrap_err().to_string();
        assert!(err.contains("at least two"), "{err}");
        assert!(!out.exists(), "a refused average left {}", out.display());
        // The mean is never written over one of its ingredients.
        let err = average(&[v6.clone(), other.clone()], &base, &other).unwrap_err().to_string();
        assert!(err.contains("is the --out folder too"), "{err}");
        // A previous result in --out stays whole when an average is refused after the models
        // are read (--out now holds a file an average does not write).
        average(&[v6.clone(), v6.clone()], &base, &out).unwrap();
        let before = std::fs::read(out.join("model.safetensors")).unwrap();
        std::fs::write(out.join("notes.txt"), "mine").unwrap();
        let err = average(&[repo("models/stance-minilm-v5"), v6.clone()], &base, &out).unwrap_err().to_string();
        assert!(err.contains("notes.txt"), "{err}");
        assert_eq!(std::fs::read(out.join("model.safetensors")).unwrap(), before, "the previous result changed");
        let entries = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect::<Vec<_>>();
        assert!(entries.iter().all(|e| !e.contains("staging")), "staging left behind: {entries:?}");
    }
}
