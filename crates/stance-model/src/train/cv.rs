//! Scoring and K-fold cross-validation of adaptation to a user's own tags (`stance eval --cv`),
//! where no row is ever scored by a model that trained on it.

use super::{build_model, train, Progress, Quiet, TrainSettings};
use crate::model::CrossEncoder;
use crate::Result;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use stance_core::data::examples::Example;
use stance_core::labels::Task;
use stance_core::stats::{metrics, Metrics};

/// Predicted label indices for `examples`.
pub fn predict_labels(model: &CrossEncoder, task: Task, examples: &[Example], batch_size: usize) -> Result<Vec<usize>> {
    predict_labels_with(model, task, examples, batch_size, &mut |_| {})
}

/// [`predict_labels`], telling `progress` how many rows each finished batch held.
pub fn predict_labels_with(
    model: &CrossEncoder,
    task: Task,
    examples: &[Example],
    batch_size: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<Vec<usize>> {
    let pairs: Vec<(&str, &str)> = examples.iter().map(|e| (e.target.as_str(), e.text.as_str())).collect();
    let probs = model.predict(task.name(), &pairs, batch_size, progress)?;
    Ok(probs.iter().map(|p| (0..p.len()).fold(0, |best, k| if p[k] > p[best] { k } else { best })).collect())
}

/// Metrics of predictions against the examples' labels.
pub fn score(task: Task, gold: &[Example], predicted: &[usize]) -> Metrics {
    let pairs: Vec<(usize, usize)> = gold.iter().zip(predicted).map(|(g, &p)| (g.label, p)).collect();
    metrics(task, &pairs)
}

/// K-fold cross-validation of adaptation: for each fold, start from `settings.init`, train on
/// the other folds, and predict the held-out fold. Returns the out-of-fold predictions and the
/// unadapted model's predictions on the same rows.
pub fn cross_validate(settings: &TrainSettings, k: usize, progress: &dyn Progress) -> Result<(Vec<usize>, Vec<usize>)> {
    if k < 2 || k > settings.train.len() {
        crate::invalid!("--cv needs 2 ≤ K ≤ the number of rows ({})", settings.train.len());
    }
    let rows = &settings.train;
    let fold_of = folds(rows.len(), k, settings.hyper.seed);
    let baseline = predict_labels(&build_model(settings)?, settings.task, rows, 64)?;
    let mut predicted = vec![0; rows.len()];
    for fold in 0..k {
        let held: Vec<usize> = (0..rows.len()).filter(|&i| fold_of[i] == fold).collect();
        let train_rows: Vec<Example> = (0..rows.len()).filter(|&i| fold_of[i] != fold).map(|i| rows[i].clone()).collect();
        let scratch = tempfile::tempdir().map_err(|e| crate::Error::invalid(format!("cannot create a scratch folder: {e}")))?;
        let fold_settings = TrainSettings {
            train: train_rows,
            dev: Vec::new(),
            out: scratch.path().join("model"),
            checkpoint_dir: scratch.path().join("checkpoint"),
            max_steps: None,
            ..settings.clone()
        };
        progress.say(&format!("fold {}/{k}: training on {} rows, scoring {}", fold + 1, fold_settings.train.len(), held.len()));
        train(&fold_settings, &Quiet)?;
        let adapted = CrossEncoder::load(&fold_settings.out, &settings.base_dir, settings.device)?;
        let held_rows: Vec<Example> = held.iter().map(|&i| rows[i].clone()).collect();
        for (&i, p) in held.iter().zip(predict_labels(&adapted, settings.task, &held_rows, 64)?) {
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
    fn folds_partition_the_rows_evenly() {
        let f = folds(23, 5, 3);
        assert_eq!(f, folds(23, 5, 3));
        for k in 0..5 {
            let size = f.iter().filter(|&&x| x == k).count();
            assert!(size == 4 || size == 5, "fold {k} has {size} rows");
        }
    }
}
