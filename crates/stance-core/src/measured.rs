//! What a stance model's quality was measured on, per target (`measured.json` in the model
//! folder, written by `eval/real_dev.py --measured`), and the check a run makes against it: is
//! the run's target one the model was measured on, and how often does the model call real
//! no-stance sentences of the nearest measured target favor or against? A group's lean smaller
//! than that share can be labeller error alone.

use crate::{Error, IoContext, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::Path;

/// A figure with its 95% interval: [value, low, high].
pub type Figure = [f64; 3];

/// One target's figures on the measuring set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetFigures {
    /// The target as tagged.
    pub target: String,
    /// Tagged rows of this target.
    pub rows: usize,
    /// Rows tagged `none`.
    pub none_rows: usize,
    /// Share of the `none` rows the model calls favor or against.
    pub none_called_stance: Figure,
    /// Stance macro-F1.
    pub stance_macro_f1: Figure,
}

/// `measured.json`: the set a model was measured on and its figures per target and overall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MeasuredTargets {
    /// The tagged set (a path in the repository) and what it is.
    pub set: String,
    /// How the intervals were made.
    pub intervals: String,
    /// Every target of the set together.
    pub overall: TargetFigures,
    /// Per target.
    pub targets: Vec<TargetFigures>,
}

/// The run's target against the measured ones (recorded in run.json as `target_check`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetCheck {
    /// The run's target.
    pub target: String,
    /// Whether the model was measured on this very target.
    pub measured: bool,
    /// The measured target whose figures apply (the same, the most similar by words, or
    /// `None` for the figures over every measured target).
    pub nearest: Option<String>,
    /// Share of real `none` sentences called favor or against, for `nearest` (or overall).
    pub none_called_stance: Figure,
    /// The set the figure comes from.
    pub set: String,
}

/// Lower-case content words (stop words and one-letter tokens dropped).
fn words(text: &str) -> BTreeSet<String> {
    const STOP: &[&str] = &["the", "of", "on", "to", "a", "an", "and", "or", "in", "for", "with", "s", "its", "it"];
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1 && !STOP.contains(w))
        .map(|w| w.strip_suffix('s').filter(|s| s.len() > 2).unwrap_or(w).to_string())
        .collect()
}

fn normal(text: &str) -> String {
    words(text).into_iter().collect::<Vec<_>>().join(" ")
}

impl MeasuredTargets {
    /// Reads `measured.json`.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).at(path, "cannot read")?;
        serde_json::from_str(&text).map_err(|e| Error::line(path, e.line() as u64, e.to_string()))
    }

    /// The check of `target`: measured if a measured target has the same content words; else
    /// the measured target sharing the most words (Jaccard), else the overall figure.
    pub fn check(&self, target: &str) -> TargetCheck {
        let want = words(target);
        let exact = self.targets.iter().find(|t| normal(&t.target) == normal(target) && !want.is_empty());
        let nearest = exact.or_else(|| {
            self.targets
                .iter()
                .map(|t| {
                    let have = words(&t.target);
                    let shared = want.intersection(&have).count() as f64;
                    (shared / want.union(&have).count().max(1) as f64, t)
                })
                .filter(|(score, _)| *score > 0.0)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, t)| t)
        });
        TargetCheck {
            target: target.to_string(),
            measured: exact.is_some(),
            nearest: nearest.map(|t| t.target.clone()),
            none_called_stance: nearest.unwrap_or(&self.overall).none_called_stance,
            set: self.set.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(target: &str, share: f64) -> TargetFigures {
        TargetFigures {
            target: target.into(),
            rows: 100,
            none_rows: 80,
            none_called_stance: [share, share / 2.0, share * 2.0],
            stance_macro_f1: [0.7, 0.6, 0.8],
        }
    }

    #[test]
    fn a_target_is_measured_nearest_or_overall() {
        let m = MeasuredTargets {
            set: "eval/gold/real-dev.csv".into(),
            intervals: "documents resampled".into(),
            overall: figures("all", 0.10),
            targets: vec![figures("Japan's rearmament", 0.04), figures("stricter gun control", 0.12), figures("tax cuts", 0.2)],
        };
        let table: &[(&str, bool, Option<&str>, f64)] = &[
            ("Japan's rearmament", true, Some("Japan's rearmament"), 0.04),
            ("japans  REARMAMENT", true, Some("Japan's rearmament"), 0.04),
            ("Germany's rearmament", false, Some("Japan's rearmament"), 0.04),
            ("gun control", false, Some("stricter gun control"), 0.12),
            ("tax increases", false, Some("tax cuts"), 0.2),
            ("negotiations with North Korea", false, None, 0.10),
            ("", false, None, 0.10),
        ];
        for &(target, measured, nearest, share) in table {
            let c = m.check(target);
            assert_eq!((c.measured, c.nearest.as_deref(), c.none_called_stance[0]), (measured, nearest, share), "{target}");
        }
    }

    #[test]
    fn a_damaged_file_names_itself() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("measured.json");
        std::fs::write(&path, "{\"set\": 3}").unwrap();
        let err = MeasuredTargets::read(&path).unwrap_err().to_string();
        assert!(err.contains("measured.json") && err.contains("line 1"), "{err}");
    }
}
