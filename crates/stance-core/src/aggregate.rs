//! Aggregation: sentence labels become stance profiles per document, outlet and source group,
//! and pairs of groups are compared. These are the numbers a study cites, so each comes with
//! its uncertainty: a percentile bootstrap over sentences with a fixed seed (the same input
//! always gives the same interval).
//!
//! Sentences of one document are not independent, so sentence-level intervals are narrower
//! than a document-level analysis would give; with few documents per group, read them as a
//! lower bound on the uncertainty.

use crate::labels::Probs;
use crate::stats::bootstrap::{fnv1a, interval};
use crate::stats::{bootstrap_difference, bootstrap_mean, js_distance, Bootstrap, Estimate};
use ndarray::Array1;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::{HashMap, HashSet};

/// One labelled sentence of a document: a row of `sentences.csv`, and what aggregation reads.
#[derive(Debug, Clone)]
pub struct SentenceRow<'a> {
    /// Its document's id, from the manifest.
    pub doc_id: &'a str,
    /// Its document's outlet.
    pub outlet: &'a str,
    /// Its document's group.
    pub group: &'a str,
    /// 1-based position within its document.
    pub sentence_id: usize,
    /// Byte span in the document's cleaned text (`cleaned/DOC_ID.txt`).
    pub start: usize,
    /// End of that span (exclusive).
    pub end: usize,
    /// The sentence, as in the cleaned text.
    pub text: &'a str,
    /// Its probabilities: stance (favor, against, none), sentiment (positive, neutral,
    /// negative), and sentiment toward the entity's mention if it has one.
    pub probs: Probs,
}

/// Label counts and indices of one document, outlet or group.
#[derive(Debug, Clone)]
pub struct Profile {
    /// "document", "outlet" or "group".
    pub level: &'static str,
    /// The unit's name: its doc_id, outlet or group, as `level` says.
    pub key: String,
    /// Documents in the unit, counting those without sentences.
    pub n_documents: usize,
    /// Labelled sentences in the unit.
    pub n_sentences: usize,
    /// Sentences per stance label, in `STANCE_LABELS` order.
    pub stance_counts: [usize; 3],
    /// Sentences per sentiment label, in `SENTIMENT_LABELS` order.
    pub sentiment_counts: [usize; 3],
    /// Mean of p_favor − p_against.
    pub stance_index: Estimate,
    /// Mean of p_positive − p_negative.
    pub sentiment_index: Estimate,
    /// Sentences that mention the entity and have a sentiment toward it.
    pub n_mentions: usize,
    /// Those sentences per target-sentiment label, in `SENTIMENT_LABELS` order.
    pub target_sentiment_counts: [usize; 3],
    /// Mean of p_target_positive − p_target_negative over those sentences.
    pub target_sentiment_index: Estimate,
    /// Stance shares and index corrected for the labeller's measured errors, when a
    /// calibration set was given.
    pub adjusted: Option<Adjusted>,
}

/// Error-adjusted stance shares (favor, against, none) and index (favor − against), each with a
/// 95% interval that resamples both the unit's sentences and the calibration rows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adjusted {
    /// Adjusted shares of favor, against and none, each in [0, 1].
    pub shares: [Estimate; 3],
    /// Adjusted stance index (favor share − against share), in [−1, 1].
    pub index: Estimate,
}

/// Two groups side by side.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// The first group, earlier in manifest order.
    pub group_a: String,
    /// The second group.
    pub group_b: String,
    /// Sentences in group a.
    pub n_a: usize,
    /// Sentences in group b.
    pub n_b: usize,
    /// Stance index of group a (its profile's value, without the interval).
    pub index_a: f64,
    /// Stance index of group b.
    pub index_b: f64,
    /// Stance index of a minus that of b.
    pub index_difference: Estimate,
    /// Jensen–Shannon distance (base 2, in [0, 1]) between the stance-label distributions.
    pub js_distance: f64,
    /// Documents on each side: with fewer than two a side, the comparison describes
    /// documents, not groups.
    pub docs_a: usize,
    /// Documents in group b (see `docs_a`).
    pub docs_b: usize,
    /// Error-adjusted index of a minus that of b, when a calibration set was given.
    pub adjusted_difference: Option<Estimate>,
}

impl Comparison {
    /// Whether each side has at least two documents, so the comparison is about groups.
    pub fn describes_groups(&self) -> bool {
        self.docs_a >= 2 && self.docs_b >= 2
    }
}

fn stance_value(p: &Probs) -> f64 {
    p.stance[0] as f64 - p.stance[1] as f64
}
fn sentiment_value(p: &Probs) -> f64 {
    p.sentiment[0] as f64 - p.sentiment[2] as f64
}

/// The labeller's measured errors, for adjusting label shares: probabilistic adjusted
/// classify-and-count (Bella et al. 2010). Row t of the matrix is the mean predicted stance
/// distribution of the calibration sentences whose true label is t; a unit's observed mean
/// distribution q is then explained as π·M, and π (clipped to the simplex) is its adjusted
/// share of each label. Raw shares move with how often the labeller errs on a unit's kind of
/// text; adjusted ones remove the part of that which the calibration set measures.
#[derive(Debug, Clone)]
pub struct Calibration {
    /// Where it came from, for run.json.
    pub origin: String,
    /// (true label, predicted distribution) per calibration row.
    rows: Vec<(usize, [f64; 3])>,
    /// M from all rows.
    pub matrix: [[f64; 3]; 3],
    /// M from each bootstrap resample of the rows (one per resample, shared by all units).
    draws: Vec<[[f64; 3]; 3]>,
}

/// The mean-distribution matrix of calibration rows; a label without rows keeps `fallback`'s row.
fn calibration_matrix(rows: &[(usize, [f64; 3])], fallback: Option<&[[f64; 3]; 3]>) -> [[f64; 3]; 3] {
    let mut sum = [[0.0; 3]; 3];
    let mut n = [0usize; 3];
    for (t, p) in rows {
        n[*t] += 1;
        (0..3).for_each(|k| sum[*t][k] += p[k]);
    }
    for t in 0..3 {
        if n[t] > 0 {
            (0..3).for_each(|k| sum[t][k] /= n[t] as f64);
        } else if let Some(f) = fallback {
            sum[t] = f[t];
        }
    }
    sum
}

impl Calibration {
    /// From (true label, predicted distribution) rows; every label needs at least one row.
    pub fn new(origin: String, rows: Vec<(usize, [f64; 3])>, settings: Bootstrap) -> crate::Result<Self> {
        for (t, label) in crate::labels::STANCE_LABELS.iter().enumerate() {
            if !rows.iter().any(|r| r.0 == t) {
                return Err(crate::Error::file(
                    &origin,
                    format!("the calibration set has no '{label}' rows, so the labeller's errors on them cannot be measured"),
                ));
            }
        }
        let matrix = calibration_matrix(&rows, None);
        let mut rng = ChaCha8Rng::seed_from_u64(settings.seed ^ fnv1a(&["calibration"]));
        let n = rows.len();
        let draws = (0..settings.resamples)
            .map(|_| {
                let sample: Vec<(usize, [f64; 3])> = (0..n).map(|_| rows[rng.gen_range(0..n)]).collect();
                calibration_matrix(&sample, Some(&matrix))
            })
            .collect();
        Ok(Self { origin, rows, matrix, draws })
    }

    /// Calibration rows per true label.
    pub fn counts(&self) -> [usize; 3] {
        let mut c = [0; 3];
        self.rows.iter().for_each(|r| c[r.0] += 1);
        c
    }

    fn adjust(&self, distributions: &[[f64; 3]], settings: Bootstrap, stream: &[&str]) -> Option<Adjusted> {
        if distributions.is_empty() {
            return None;
        }
        let value = solve_simplex(&self.matrix, &mean3(distributions.iter()));
        let mut rng = ChaCha8Rng::seed_from_u64(settings.seed ^ fnv1a(stream));
        let n = distributions.len();
        let draws: Vec<[f64; 3]> =
            self.draws.iter().map(|m| solve_simplex(m, &mean3((0..n).map(|_| &distributions[rng.gen_range(0..n)])))).collect();
        let est = |f: &dyn Fn(&[f64; 3]) -> f64| interval(draws.iter().map(f).collect(), f(&value));
        Some(Adjusted { shares: [est(&|p| p[0]), est(&|p| p[1]), est(&|p| p[2])], index: est(&|p| p[0] - p[1]) })
    }

    fn adjusted_difference(&self, a: &[[f64; 3]], b: &[[f64; 3]], settings: Bootstrap, stream: &[&str]) -> Option<Estimate> {
        if a.is_empty() || b.is_empty() {
            return None;
        }
        let index = |m: &[[f64; 3]; 3], q: [f64; 3]| {
            let p = solve_simplex(m, &q);
            p[0] - p[1]
        };
        let value = index(&self.matrix, mean3(a.iter())) - index(&self.matrix, mean3(b.iter()));
        let mut rng = ChaCha8Rng::seed_from_u64(settings.seed ^ fnv1a(stream));
        let draws = self
            .draws
            .iter()
            .map(|m| {
                let qa = mean3((0..a.len()).map(|_| &a[rng.gen_range(0..a.len())]));
                let qb = mean3((0..b.len()).map(|_| &b[rng.gen_range(0..b.len())]));
                index(m, qa) - index(m, qb)
            })
            .collect();
        Some(interval(draws, value))
    }
}

fn mean3<'a>(items: impl Iterator<Item = &'a [f64; 3]>) -> [f64; 3] {
    let mut sum = [0.0; 3];
    let mut n = 0.0;
    for p in items {
        (0..3).for_each(|k| sum[k] += p[k]);
        n += 1.0;
    }
    sum.map(|x| x / n)
}

/// The π on the probability simplex that minimises ‖πM − q‖²: every face of the simplex is
/// tried (equality-constrained least squares on its labels), and the best feasible one kept.
pub fn solve_simplex(m: &[[f64; 3]; 3], q: &[f64; 3]) -> [f64; 3] {
    let mut best = ([0.0, 0.0, 1.0], f64::INFINITY);
    for mask in 1u8..8 {
        let support: Vec<usize> = (0..3).filter(|k| mask & (1 << k) != 0).collect();
        let s = support.len();
        // KKT system: [2 A Aᵀ 1; 1ᵀ 0] [π_S; λ] = [2 A q; 1], A = the rows of M in the support.
        let mut a = vec![vec![0.0; s + 2]; s + 1];
        for (i, &ti) in support.iter().enumerate() {
            for (j, &tj) in support.iter().enumerate() {
                a[i][j] = 2.0 * (0..3).map(|k| m[ti][k] * m[tj][k]).sum::<f64>();
            }
            a[i][s] = 1.0;
            a[i][s + 1] = 2.0 * (0..3).map(|k| m[ti][k] * q[k]).sum::<f64>();
            a[s][i] = 1.0;
        }
        a[s][s + 1] = 1.0;
        let Some(x) = gauss(a) else { continue };
        if x[..s].iter().any(|&v| v < -1e-12) {
            continue;
        }
        let mut pi = [0.0; 3];
        support.iter().enumerate().for_each(|(i, &t)| pi[t] = x[i].max(0.0));
        let total: f64 = pi.iter().sum();
        pi.iter_mut().for_each(|v| *v /= total);
        let residual: f64 = (0..3).map(|k| ((0..3).map(|t| pi[t] * m[t][k]).sum::<f64>() - q[k]).powi(2)).sum();
        if residual < best.1 - 1e-15 {
            best = (pi, residual);
        }
    }
    best.0
}

/// Solves an augmented linear system by Gaussian elimination with partial pivoting; None when
/// singular.
fn gauss(mut a: Vec<Vec<f64>>) -> Option<Vec<f64>> {
    let n = a.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        for row in 0..n {
            if row != col {
                let f = a[row][col] / a[col][col];
                let pivot_row = a[col].clone();
                for (x, p) in a[row][col..=n].iter_mut().zip(&pivot_row[col..=n]) {
                    *x -= f * p;
                }
            }
        }
    }
    Some((0..n).map(|i| a[i][n] / a[i][i]).collect())
}

fn distribution(p: &Probs) -> [f64; 3] {
    p.stance.map(|x| x as f64)
}

fn profile(
    level: &'static str,
    key: &str,
    n_documents: usize,
    sentences: &[&SentenceRow],
    settings: Bootstrap,
    calibration: Option<&Calibration>,
) -> Profile {
    let mut stance_counts = [0; 3];
    let mut sentiment_counts = [0; 3];
    for s in sentences {
        stance_counts[crate::labels::STANCE_LABELS.iter().position(|l| *l == s.probs.stance_label()).unwrap_or(2)] += 1;
        sentiment_counts[crate::labels::SENTIMENT_LABELS.iter().position(|l| *l == s.probs.sentiment_label()).unwrap_or(1)] += 1;
    }
    let stance: Array1<f64> = sentences.iter().map(|s| stance_value(&s.probs)).collect();
    let sentiment: Array1<f64> = sentences.iter().map(|s| sentiment_value(&s.probs)).collect();
    let mut target_sentiment_counts = [0; 3];
    let mut toward = Vec::new();
    for p in sentences.iter().filter_map(|s| s.probs.target_sentiment) {
        target_sentiment_counts[crate::labels::argmax(&p)] += 1;
        toward.push(p[0] as f64 - p[2] as f64);
    }
    Profile {
        level,
        key: key.to_string(),
        n_documents,
        n_sentences: sentences.len(),
        stance_counts,
        sentiment_counts,
        stance_index: bootstrap_mean(&stance, settings, &[level, key, "stance"]),
        sentiment_index: bootstrap_mean(&sentiment, settings, &[level, key, "sentiment"]),
        n_mentions: toward.len(),
        target_sentiment_counts,
        target_sentiment_index: bootstrap_mean(&Array1::from(toward), settings, &[level, key, "target_sentiment"]),
        adjusted: calibration.and_then(|c| {
            let d: Vec<[f64; 3]> = sentences.iter().map(|s| distribution(&s.probs)).collect();
            c.adjust(&d, settings, &[level, key, "adjusted"])
        }),
    }
}

fn first_seen<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = HashSet::new();
    keys.filter(|k| seen.insert(*k)).collect()
}

/// Profiles per document, outlet and group (in that order; each in manifest order), and the
/// comparison of every pair of groups. `documents` lists (doc_id, outlet, group) for every
/// document, so one without sentences still gets a (empty) profile. With a calibration set,
/// profiles and comparisons also carry error-adjusted figures.
pub fn aggregate<'a>(
    documents: &[(&'a str, &'a str, &'a str)],
    sentences: &[SentenceRow<'a>],
    settings: Bootstrap,
    calibration: Option<&Calibration>,
) -> (Vec<Profile>, Vec<Comparison>) {
    let mut profiles = Vec::new();
    #[allow(clippy::type_complexity)]
    let levels: [(&'static str, fn(&(&'a str, &'a str, &'a str)) -> &'a str, fn(&SentenceRow<'a>) -> &'a str); 3] =
        [("document", |d| d.0, |s| s.doc_id), ("outlet", |d| d.1, |s| s.outlet), ("group", |d| d.2, |s| s.group)];
    for (level, doc_key, sentence_key) in levels {
        // Grouped in one pass each: a corpus of many documents must not cost documents × sentences.
        let mut n_documents: HashMap<&str, usize> = HashMap::new();
        documents.iter().for_each(|d| *n_documents.entry(doc_key(d)).or_default() += 1);
        let mut members: HashMap<&str, Vec<&SentenceRow>> = HashMap::new();
        sentences.iter().for_each(|s| members.entry(sentence_key(s)).or_default().push(s));
        for key in first_seen(documents.iter().map(doc_key)) {
            let rows = members.get(key).map_or(&[][..], Vec::as_slice);
            profiles.push(profile(level, key, n_documents[key], rows, settings, calibration));
        }
    }
    let groups: Vec<&Profile> = profiles.iter().filter(|p| p.level == "group").collect();
    let values = |group: &str| -> Array1<f64> { sentences.iter().filter(|s| s.group == group).map(|s| stance_value(&s.probs)).collect() };
    let mut comparisons = Vec::new();
    for (i, a) in groups.iter().enumerate() {
        for b in &groups[i + 1..] {
            comparisons.push(Comparison {
                group_a: a.key.clone(),
                group_b: b.key.clone(),
                n_a: a.n_sentences,
                n_b: b.n_sentences,
                index_a: a.stance_index.value,
                index_b: b.stance_index.value,
                index_difference: bootstrap_difference(&values(&a.key), &values(&b.key), settings, &["compare", &a.key, &b.key]),
                js_distance: js_distance(&a.stance_counts, &b.stance_counts),
                docs_a: a.n_documents,
                docs_b: b.n_documents,
                adjusted_difference: calibration.and_then(|c| {
                    let dist =
                        |g: &str| -> Vec<[f64; 3]> { sentences.iter().filter(|s| s.group == g).map(|s| distribution(&s.probs)).collect() };
                    c.adjusted_difference(&dist(&a.key), &dist(&b.key), settings, &["compare-adjusted", &a.key, &b.key])
                }),
            });
        }
    }
    (profiles, comparisons)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SETTINGS: Bootstrap = Bootstrap { resamples: 2000, seed: 7 };

    fn probs(favor: f32, against: f32) -> Probs {
        Probs { stance: [favor, against, 1.0 - favor - against], sentiment: [0.2, 0.6, 0.2], target_sentiment: None }
    }

    #[test]
    fn js_distance_matches_known_values() {
        let table: &[(&[usize], &[usize], f64)] = &[
            (&[1, 0, 0], &[1, 0, 0], 0.0),
            (&[1, 0, 0], &[0, 1, 0], 1.0),
            (&[5, 5, 0], &[10, 10, 0], 0.0),
            // JSD([.5,.5],[1,0]) = 1 − 0.75·log2(4/3)... = 0.3112781 bits; distance = its root.
            (&[1, 1, 0], &[1, 0, 0], 0.311_278_124_459_132_8f64.sqrt()),
        ];
        for (p, q, expected) in table {
            assert!((js_distance(p, q) - expected).abs() < 1e-9, "{p:?} {q:?}: {}", js_distance(p, q));
        }
        assert!(js_distance(&[0, 0, 0], &[1, 0, 0]).is_nan());
    }

    #[test]
    fn bootstrap_is_reproducible_and_brackets_the_mean() {
        let values: Array1<f64> = (0..50).map(|i| (i % 7) as f64 / 7.0 - 0.3).collect();
        let a = bootstrap_mean(&values, SETTINGS, &["group", "x"]);
        let b = bootstrap_mean(&values, SETTINGS, &["group", "x"]);
        assert_eq!(a, b);
        assert!(a.low < a.value && a.value < a.high, "{a:?}");
        assert!(a.high - a.low < 0.25);
        let other_seed = bootstrap_mean(&values, Bootstrap { seed: 8, ..SETTINGS }, &["group", "x"]);
        assert_ne!(a.low, other_seed.low);
        let constant = bootstrap_mean(&Array1::from_elem(5, 0.4), SETTINGS, &["c"]);
        assert!((constant.low - 0.4).abs() < 1e-12 && (constant.high - 0.4).abs() < 1e-12);
    }

    #[test]
    fn profiles_count_labels_per_unit_and_compare_groups() {
        let docs = [("d1", "GT", "Global Times"), ("d2", "Blog", "Western"), ("d3", "Blog", "Western")];
        let s = |doc_id, outlet, group, p| SentenceRow { doc_id, outlet, group, sentence_id: 1, start: 0, end: 0, text: "", probs: p };
        let sentences = vec![
            s("d1", "GT", "Global Times", probs(0.1, 0.8)),
            s("d1", "GT", "Global Times", probs(0.1, 0.7)),
            s("d2", "Blog", "Western", probs(0.8, 0.1)),
            s("d3", "Blog", "Western", probs(0.2, 0.1)),
        ];
        let (profiles, comparisons) = aggregate(&docs, &sentences, SETTINGS, None);
        let keys: Vec<_> = profiles.iter().map(|p| (p.level, p.key.as_str(), p.n_documents, p.n_sentences)).collect();
        assert_eq!(
            keys,
            [
                ("document", "d1", 1, 2),
                ("document", "d2", 1, 1),
                ("document", "d3", 1, 1),
                ("outlet", "GT", 1, 2),
                ("outlet", "Blog", 2, 2),
                ("group", "Global Times", 1, 2),
                ("group", "Western", 2, 2)
            ]
        );
        let gt = &profiles[5];
        assert_eq!(gt.stance_counts, [0, 2, 0]);
        assert!((gt.stance_index.value - (-0.65)).abs() < 1e-6);
        let western = &profiles[6];
        assert_eq!(western.stance_counts, [1, 0, 1]);
        assert_eq!(comparisons.len(), 1);
        let c = &comparisons[0];
        assert!((c.index_difference.value - (-0.65 - 0.4)).abs() < 1e-6);
        assert!(c.index_difference.high < 0.0, "{c:?}");
        assert!((c.js_distance - 1.0).abs() < 1e-9);
    }

    #[test]
    fn simplex_solution_inverts_a_known_confusion() {
        // A labeller that calls 30% of true none favor: observed shares from true (0.1, 0.1, 0.8).
        let m = [[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.3, 0.02, 0.68]];
        let truth = [0.1, 0.1, 0.8];
        let q: [f64; 3] = std::array::from_fn(|k| (0..3).map(|t| truth[t] * m[t][k]).sum());
        let pi = solve_simplex(&m, &q);
        for k in 0..3 {
            assert!((pi[k] - truth[k]).abs() < 1e-9, "{pi:?}");
        }
        // Observed shares no true mixture explains are clipped to the simplex, not negative.
        let pi = solve_simplex(&m, &[0.0, 0.0, 1.0]);
        assert!(pi.iter().all(|&p| p >= 0.0) && (pi.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{pi:?}");
        assert!(pi[2] > 0.99, "{pi:?}");
    }

    #[test]
    fn adjusted_profiles_remove_a_measured_bias_with_intervals() {
        // The labeller calls every true-none sentence favor 0.6 / none 0.4; true stances exactly.
        let mut rows = Vec::new();
        for _ in 0..40 {
            rows.push((2, [0.6, 0.0, 0.4]));
        }
        for _ in 0..10 {
            rows.push((0, [1.0, 0.0, 0.0]));
            rows.push((1, [0.0, 1.0, 0.0]));
        }
        let calibration = Calibration::new("cal".into(), rows, SETTINGS).unwrap();
        assert_eq!(calibration.counts(), [10, 10, 40]);
        // A document of pure none text: raw index 0.6, adjusted 0.
        let docs = [("d1", "o", "g1"), ("d2", "o", "g2"), ("d3", "o", "g2")];
        let s = |doc_id, group, p| SentenceRow { doc_id, outlet: "o", group, sentence_id: 1, start: 0, end: 0, text: "", probs: p };
        let sentences: Vec<SentenceRow> = (0..30)
            .map(|_| s("d1", "g1", Probs { stance: [0.6, 0.0, 0.4], sentiment: [0.0, 1.0, 0.0], target_sentiment: None }))
            .chain((0..30).map(|i| s(if i % 2 == 0 { "d2" } else { "d3" }, "g2", probs(0.0, 1.0))))
            .collect();
        let (profiles, comparisons) = aggregate(&docs, &sentences, SETTINGS, Some(&calibration));
        let g1 = profiles.iter().find(|p| p.key == "g1").unwrap();
        assert!((g1.stance_index.value - 0.6).abs() < 1e-6);
        let adj = g1.adjusted.unwrap();
        assert!(adj.index.value.abs() < 1e-6 && (adj.shares[2].value - 1.0).abs() < 1e-6, "{adj:?}");
        assert!(adj.index.low <= adj.index.value && adj.index.value <= adj.index.high + 1e-12);
        let c = &comparisons[0];
        assert_eq!((c.docs_a, c.docs_b, c.describes_groups()), (1, 2, false));
        let d = c.adjusted_difference.unwrap();
        assert!((d.value - 1.0).abs() < 1e-6, "{d:?}");
        assert!(Calibration::new("cal".into(), vec![(0, [1.0, 0.0, 0.0])], SETTINGS).is_err());
    }
}
