//! Agreement of predicted with true labels: confusion, per-class precision/recall/F1 (a named
//! [`ClassScore`], not a tuple), macro-F1 with a bootstrap interval, SemEval's F_avg, kappa,
//! and the share of neutral rows called polar with its Wilson interval.

use super::bootstrap::{bootstrap_statistic, Bootstrap, Estimate};
use crate::labels::Task;
use ndarray::Array2;

/// Precision, recall and F1 of one label, and its support (gold count).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassScore {
    /// Of the rows predicted with the label, the share that truly has it.
    pub precision: f64,
    /// Of the rows that truly have the label, the share predicted with it.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Gold rows with the label.
    pub support: usize,
}

/// Agreement of predicted with gold labels for one task.
#[derive(Debug, Clone)]
pub struct Metrics {
    /// Which task the labels are of.
    pub task: Task,
    /// The task's labels, in index order.
    pub labels: [&'static str; 3],
    /// `confusion[[gold, predicted]]`.
    pub confusion: Array2<usize>,
    /// Per label, in `labels` order.
    pub per_class: Vec<ClassScore>,
    /// Mean F1 of the three labels.
    pub macro_f1: f64,
    /// Macro-F1 with its 95% percentile-bootstrap interval over the rows: with a few dozen
    /// favor or against rows, one row moves a class F1 by points, and a figure should say so.
    pub macro_f1_interval: Estimate,
    /// Each label's F1 with its 95% percentile-bootstrap interval over the rows, in `labels`
    /// order (a class with a handful of gold rows has a wide one).
    pub f1_intervals: Vec<Estimate>,
    /// The two polar labels' indices (favor/against; positive/negative); the third is neutral.
    pub polar: [usize; 2],
    /// Mean F1 of the two polar labels (favor/against; positive/negative) — SemEval's F_avg.
    pub f_avg: f64,
    /// Share of rows whose predicted label is the gold one.
    pub accuracy: f64,
    /// Cohen's kappa of predicted against gold labels; NaN with no rows or total chance agreement.
    pub kappa: f64,
    /// Rows scored.
    pub n: usize,
    /// Share of the gold-neutral rows (none; neutral) given a polar label, with its 95% Wilson
    /// interval: for stance, how often the labeller reads a stance into text that takes none.
    pub false_polar: Estimate,
}

/// A proportion k/n with its 95% Wilson score interval.
pub fn wilson(k: usize, n: usize) -> Estimate {
    if n == 0 {
        return Estimate { value: f64::NAN, low: f64::NAN, high: f64::NAN };
    }
    let (z, n, p) = (1.959_964, n as f64, k as f64 / n as f64);
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / (1.0 + z * z / n);
    Estimate { value: p, low: (centre - half).max(0.0), high: (centre + half).min(1.0) }
}

/// Metrics from (gold, predicted) label indices. Precision, recall or F1 with a zero
/// denominator count as 0 (scikit-learn's convention).
pub fn metrics(task: Task, pairs: &[(usize, usize)]) -> Metrics {
    let (labels, polar) = (*task.labels(), task.polar());
    let confusion = confusion_of(pairs);
    let n = pairs.len();
    let per_class = class_scores(&confusion);
    let correct: usize = (0..3).map(|k| confusion[[k, k]]).sum();
    let accuracy = ratio(correct as f64, n as f64);
    let chance: f64 =
        (0..3).map(|k| ratio(confusion.row(k).sum() as f64, n as f64) * ratio(confusion.column(k).sum() as f64, n as f64)).sum();
    let kappa = if n == 0 || chance >= 1.0 { f64::NAN } else { (accuracy - chance) / (1.0 - chance) };
    let macro_f1_of = |scores: &[ClassScore]| scores.iter().map(|c| c.f1).sum::<f64>() / 3.0;
    let neutral = 3 - polar[0] - polar[1];
    let false_polar = wilson(confusion[[neutral, polar[0]]] + confusion[[neutral, polar[1]]], confusion.row(neutral).sum());
    Metrics {
        false_polar,
        polar,
        task,
        labels,
        macro_f1: macro_f1_of(&per_class),
        f1_intervals: (0..3)
            .map(|k| {
                bootstrap_statistic(pairs, EVAL_BOOTSTRAP, &[task.name(), "f1", labels[k]], |sample| {
                    class_scores(&confusion_of(sample))[k].f1
                })
            })
            .collect(),
        macro_f1_interval: bootstrap_statistic(pairs, EVAL_BOOTSTRAP, &[task.name(), "macro_f1"], |sample| {
            macro_f1_of(&class_scores(&confusion_of(sample)))
        }),
        f_avg: (per_class[polar[0]].f1 + per_class[polar[1]].f1) / 2.0,
        confusion,
        per_class,
        accuracy,
        kappa,
        n,
    }
}

/// Resamples and seed of the macro-F1 interval (fixed: the same rows give the same interval).
const EVAL_BOOTSTRAP: Bootstrap = Bootstrap { resamples: 2000, seed: 7 };

/// `confusion[[gold, predicted]]` of label-index pairs.
fn confusion_of(pairs: &[(usize, usize)]) -> Array2<usize> {
    let mut confusion = Array2::<usize>::zeros((3, 3));
    for &(g, p) in pairs {
        confusion[[g, p]] += 1;
    }
    confusion
}

/// Per label: precision, recall, F1 and support; a zero denominator counts as 0.
fn class_scores(confusion: &Array2<usize>) -> Vec<ClassScore> {
    (0..3)
        .map(|k| {
            let tp = confusion[[k, k]] as f64;
            let predicted = confusion.column(k).sum() as f64;
            let support = confusion.row(k).sum();
            let (precision, recall) = (ratio(tp, predicted), ratio(tp, support as f64));
            ClassScore { precision, recall, f1: ratio(2.0 * precision * recall, precision + recall), support }
        })
        .collect()
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

impl Metrics {
    /// The summary figures by their CSV names, the macro-F1 interval's ends included.
    pub fn summary(&self) -> [(&'static str, f64); 9] {
        [
            ("macro_f1", self.macro_f1),
            ("macro_f1_low", self.macro_f1_interval.low),
            ("macro_f1_high", self.macro_f1_interval.high),
            ("f_avg", self.f_avg),
            ("accuracy", self.accuracy),
            ("kappa", self.kappa),
            ("neutral_called_polar", self.false_polar.value),
            ("neutral_called_polar_low", self.false_polar.low),
            ("neutral_called_polar_high", self.false_polar.high),
        ]
    }

    /// The macro-F1 interval as "0.400–0.671".
    pub fn interval_text(&self) -> String {
        format!("{:.3}–{:.3}", self.macro_f1_interval.low, self.macro_f1_interval.high)
    }
}
