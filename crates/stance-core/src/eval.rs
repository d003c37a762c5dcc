//! Evaluation against hand-tagged gold: how far the labels can be trusted. Gold rows are
//! matched to predictions by document and normalised sentence text (whitespace collapsed,
//! curly quotes straightened, as the annotation guide says), so a gold set survives small
//! splitter changes; gold rows that match nothing are reported, never dropped silently.

use crate::data::gold::{normalise, GoldRow, PredRow};
use crate::labels::Task;
use crate::stats::{metrics, ClassScore, Metrics};
use crate::Result;
use std::collections::HashMap;
use std::fmt::Write as _;

/// The result of matching a gold file to predictions.
#[derive(Debug, Clone)]
pub struct EvalReport {
    /// Rows in the gold file, matched or not.
    pub gold_rows: usize,
    /// Gold rows without a prediction: (line, doc_id, sentence).
    pub unmatched: Vec<(u64, String, String)>,
    /// Stance metrics over the matched rows.
    pub stance: Metrics,
    /// Sentiment metrics over the matched rows whose gold has a sentiment tag; `None` when no
    /// matched row has one (a stance-only gold file).
    pub sentiment: Option<Metrics>,
    /// Matched gold rows without a sentiment tag (left out of the sentiment figures).
    pub sentiment_untagged: usize,
    /// Per annotator (when the gold names them and there are several): stance and sentiment
    /// metrics on that annotator's matched rows (sentiment `None` when they tagged none).
    pub per_annotator: Vec<(String, Metrics, Option<Metrics>)>,
}

fn stance_metrics(pairs: &[(usize, usize)]) -> Metrics {
    metrics(Task::Stance, pairs)
}

fn sentiment_metrics(pairs: &[(usize, usize)]) -> Option<Metrics> {
    (!pairs.is_empty()).then(|| metrics(Task::Sentiment, pairs))
}

/// Scores predictions against gold, matching rows by doc_id and normalised sentence (the
/// first prediction of a repeated sentence counts).
pub fn evaluate(gold: &[GoldRow], predictions: &[PredRow]) -> EvalReport {
    let mut index: HashMap<(String, String), &PredRow> = HashMap::new();
    for p in predictions {
        index.entry((p.doc_id.clone(), normalise(&p.text))).or_insert(p);
    }
    let mut stance = Vec::new();
    let mut sentiment = Vec::new();
    let mut unmatched = Vec::new();
    let mut sentiment_untagged = 0;
    // Per annotator: (gold, predicted) pairs of stance, then of sentiment.
    type Pairs = Vec<(usize, usize)>;
    let mut by_annotator: std::collections::BTreeMap<&str, (Pairs, Pairs)> = Default::default();
    for g in gold {
        match index.get(&(g.doc_id.clone(), normalise(&g.sentence))) {
            Some(p) => {
                stance.push((g.stance, p.stance));
                match g.sentiment {
                    Some(tag) => sentiment.push((tag, p.sentiment)),
                    None => sentiment_untagged += 1,
                }
                if let Some(a) = &g.annotator {
                    let entry = by_annotator.entry(a.as_str()).or_default();
                    entry.0.push((g.stance, p.stance));
                    entry.1.extend(g.sentiment.map(|tag| (tag, p.sentiment)));
                }
            }
            None => unmatched.push((g.line, g.doc_id.clone(), g.sentence.clone())),
        }
    }
    let per_annotator = if by_annotator.len() > 1 {
        by_annotator.into_iter().map(|(a, (st, se))| (a.to_string(), stance_metrics(&st), sentiment_metrics(&se))).collect()
    } else {
        Vec::new()
    };
    EvalReport {
        gold_rows: gold.len(),
        unmatched,
        stance: stance_metrics(&stance),
        sentiment: sentiment_metrics(&sentiment),
        sentiment_untagged,
        per_annotator,
    }
}

impl EvalReport {
    /// The report as a long CSV: `task,metric,label,predicted,value`.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["task", "metric", "label", "predicted", "value"])?;
        w.write_record(["all", "gold_rows", "", "", &self.gold_rows.to_string()])?;
        w.write_record(["all", "unmatched_gold_rows", "", "", &self.unmatched.len().to_string()])?;
        w.write_record(["all", "sentiment_untagged_rows", "", "", &self.sentiment_untagged.to_string()])?;
        for m in std::iter::once(&self.stance).chain(&self.sentiment) {
            for (k, &ClassScore { precision: p, recall: r, f1: f, support }) in m.per_class.iter().enumerate() {
                let ci = m.f1_intervals[k];
                for (metric, value) in [
                    ("precision", fmt(p)),
                    ("recall", fmt(r)),
                    ("f1", fmt(f)),
                    ("f1_low", fmt(ci.low)),
                    ("f1_high", fmt(ci.high)),
                    ("support", support.to_string()),
                ] {
                    w.write_record([m.task.name(), metric, m.labels[k], "", &value])?;
                }
            }
            for (metric, value) in m.summary() {
                w.write_record([m.task.name(), metric, "", "", &fmt(value)])?;
            }
            w.write_record([m.task.name(), "n", "", "", &m.n.to_string()])?;
            for g in 0..3 {
                for p in 0..3 {
                    w.write_record([m.task.name(), "confusion", m.labels[g], m.labels[p], &m.confusion[[g, p]].to_string()])?;
                }
            }
        }
        for (annotator, st, se) in &self.per_annotator {
            for m in std::iter::once(st).chain(se) {
                let label = format!("annotator:{annotator}");
                w.write_record([m.task.name(), "macro_f1", &label, "", &fmt(m.macro_f1)])?;
                w.write_record([m.task.name(), "accuracy", &label, "", &fmt(m.accuracy)])?;
                w.write_record([m.task.name(), "n", &label, "", &m.n.to_string()])?;
            }
        }
        Ok(w.into_inner()?)
    }

    /// The report as text for a terminal.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let matched = self.gold_rows - self.unmatched.len();
        let _ = writeln!(s, "gold rows: {}, matched: {matched}, unmatched: {}", self.gold_rows, self.unmatched.len());
        for (line, doc, sentence) in &self.unmatched {
            let _ = writeln!(s, "  unmatched gold line {line} ({doc}): {}", normalise(sentence));
        }
        for m in std::iter::once(&self.stance).chain(&self.sentiment) {
            let _ = writeln!(s, "\n{} (n = {})", m.task, m.n);
            let _ = writeln!(s, "  {:<10} {:>9} {:>9} {:>9} {:>8}", "label", "precision", "recall", "f1", "support");
            for (k, &ClassScore { precision: p, recall: r, f1: f, support }) in m.per_class.iter().enumerate() {
                let _ = writeln!(s, "  {:<10} {:>9.3} {:>9.3} {:>9.3} {:>8}", m.labels[k], p, r, f, support);
            }
            let _ = writeln!(
                s,
                "  macro-F1 {:.3} (95% CI {})   F_avg {:.3}   accuracy {:.3}   kappa {:.3}",
                m.macro_f1,
                m.interval_text(),
                m.f_avg,
                m.accuracy,
                m.kappa
            );
            let _ = writeln!(
                s,
                "  gold {} called {} or {}: {:.3} (95% CI {:.3}–{:.3})",
                m.labels[3 - m.polar[0] - m.polar[1]],
                m.labels[m.polar[0]],
                m.labels[m.polar[1]],
                m.false_polar.value,
                m.false_polar.low,
                m.false_polar.high
            );
            let _ = writeln!(s, "  confusion (rows gold, columns predicted: {})", m.labels.join(" / "));
            for g in 0..3 {
                let _ =
                    writeln!(s, "  {:<10} {:>6} {:>6} {:>6}", m.labels[g], m.confusion[[g, 0]], m.confusion[[g, 1]], m.confusion[[g, 2]]);
            }
        }
        match (&self.sentiment, self.sentiment_untagged) {
            (None, _) => {
                let _ = writeln!(s, "\nsentiment: not tagged in the gold; sentiment figures left out");
            }
            (Some(_), 0) => {}
            (Some(_), n) => {
                let _ = writeln!(s, "\nsentiment: {n} matched gold rows have no sentiment tag and are left out of its figures");
            }
        }
        if !self.per_annotator.is_empty() {
            let _ = writeln!(s, "\nper annotator");
            for (annotator, st, se) in &self.per_annotator {
                let sentiment = match se {
                    Some(se) => format!("sentiment macro-F1 {:.3}, accuracy {:.3}", se.macro_f1, se.accuracy),
                    None => "sentiment not tagged".to_string(),
                };
                let _ = writeln!(
                    s,
                    "  {annotator}: n = {}; stance macro-F1 {:.3}, accuracy {:.3}; {sentiment}",
                    st.n, st.macro_f1, st.accuracy
                );
            }
        }
        s
    }
}

fn fmt(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x:.4}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::gold::read_gold;
    use crate::stats::wilson;

    #[test]
    fn metrics_match_a_hand_computed_case() {
        // gold favor ×4, against ×3, none ×3; predictions as listed.
        let pairs = [(0, 0), (0, 0), (0, 0), (0, 2), (1, 1), (1, 1), (1, 0), (2, 2), (2, 2), (2, 1)];
        let m = metrics(Task::Stance, &pairs);
        assert_eq!(m.confusion.row(0).to_vec(), [3, 0, 1]);
        let ClassScore { precision: p, recall: r, f1: f, support } = m.per_class[0];
        assert!((p - 0.75).abs() < 1e-12 && (r - 0.75).abs() < 1e-12 && (f - 0.75).abs() < 1e-12 && support == 4);
        assert!((m.accuracy - 0.7).abs() < 1e-12);
        // p_e = .4·.4 + .3·.3 + .3·.3 = .34; kappa = (.7 − .34)/(.66)
        assert!((m.kappa - 0.36 / 0.66).abs() < 1e-12, "{}", m.kappa);
        let f_against = 2.0 * (2.0 / 3.0) * (2.0 / 3.0) / (4.0 / 3.0);
        assert!((m.f_avg - (0.75 + f_against) / 2.0).abs() < 1e-12);
        assert!((m.macro_f1 - (0.75 + f_against + f_against) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn macro_f1_interval_brackets_the_figure_and_is_reproducible() {
        let pairs: Vec<(usize, usize)> = (0..60).map(|i| (i % 3, if i % 4 == 0 { (i + 1) % 3 } else { i % 3 })).collect();
        let m = metrics(Task::Stance, &pairs);
        for (k, class) in m.per_class.iter().enumerate() {
            let ci = m.f1_intervals[k];
            assert!(ci.low <= class.f1 && class.f1 <= ci.high && ci.low < ci.high, "class {k}: {ci:?} vs {}", class.f1);
        }
        let i = m.macro_f1_interval;
        assert!(i.low < m.macro_f1 && m.macro_f1 < i.high && i.value == m.macro_f1, "{i:?}");
        assert_eq!(metrics(Task::Stance, &pairs).macro_f1_interval, i);
        let perfect = metrics(Task::Stance, &[(0, 0), (1, 1), (2, 2), (2, 2)]);
        assert_eq!((perfect.macro_f1_interval.high, perfect.macro_f1), (1.0, 1.0));
        assert!(metrics(Task::Stance, &[]).macro_f1_interval.low.is_nan());
    }

    #[test]
    fn a_label_never_predicted_scores_zero_not_nan() {
        let m = metrics(Task::Stance, &[(0, 2), (1, 2), (2, 2)]);
        assert_eq!(m.per_class[0].f1, 0.0);
        assert!(m.macro_f1 > 0.0 && m.kappa.abs() < 1e-12);
    }

    #[test]
    fn matching_normalises_whitespace_and_quotes_and_reports_misses() {
        let gold = vec![
            GoldRow {
                line: 2,
                doc_id: "d".into(),
                sentence: "Japan’s  “spear”\nrole.".into(),
                stance: 0,
                sentiment: Some(1),
                annotator: None,
            },
            GoldRow { line: 3, doc_id: "d".into(), sentence: "Not predicted.".into(), stance: 2, sentiment: Some(1), annotator: None },
        ];
        let preds = vec![PredRow { doc_id: "d".into(), text: "Japan's \"spear\" role.".into(), stance: 0, sentiment: 2 }];
        let report = evaluate(&gold, &preds);
        assert_eq!(report.unmatched.len(), 1);
        assert_eq!(report.unmatched[0].0, 3);
        assert_eq!(report.stance.n, 1);
        assert_eq!(report.stance.accuracy, 1.0);
        assert_eq!(report.sentiment.as_ref().unwrap().accuracy, 0.0);
    }

    #[test]
    fn gold_errors_name_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let table: &[(&str, &str)] = &[
            ("doc_id,sentence,stance,sentiment\nd,Text.,pro,neutral\n", "line 2: unknown stance label 'pro'"),
            ("doc_id,sentence,stance,sentiment\nd,Text.,none,neutral\nd,More.,none,angry\n", "line 3: unknown sentiment label 'angry'"),
            ("doc_id,sentence\nd,Text.\n", "line 1: missing column 'stance'"),
            ("doc_id,sentence,stance,sentiment\n", "no rows"),
            ("doc_id,sentence,stance,sentiment\nd,\"open quote,none,neutral\n", "malformed CSV"),
            // A sentence tagged twice counts twice in every figure: refused, whatever its labels.
            (
                "doc_id,sentence,stance,sentiment\nd,Same  text.,none,neutral\nd,Other.,none,neutral\nd,Same text.,none,neutral\n",
                "line 4: tags line 2's sentence of document 'd' again:",
            ),
            (
                "doc_id,sentence,stance,sentiment\nd,Same.,none,neutral\nd,Same.,favor,neutral\n",
                "line 3: tags line 2's sentence of document 'd' again with other labels",
            ),
            // CRLF line ends count as one line each.
            (
                "doc_id,sentence,stance,sentiment\r\nd,Text.,none,neutral\r\nd,More.,none,angry\r\n",
                "line 3: unknown sentiment label 'angry'",
            ),
        ];
        for (content, expected) in table {
            let path = dir.path().join("gold.csv");
            std::fs::write(&path, content).unwrap();
            let err = format!("{:#}", read_gold(&path).unwrap_err());
            assert!(err.contains("gold.csv") && err.contains(expected), "{err}");
        }
    }

    #[test]
    fn stance_only_gold_leaves_sentiment_out_with_a_note() {
        let dir = tempfile::tempdir().unwrap();
        let preds: Vec<PredRow> = ["One.", "Two.", "Three."]
            .iter()
            .map(|t| PredRow { doc_id: "d".into(), text: t.to_string(), stance: 2, sentiment: 1 })
            .collect();
        // No sentiment column at all: no sentiment figures, and the report says why.
        let path = dir.path().join("stance-only.csv");
        std::fs::write(&path, "doc_id,sentence,stance\nd,One.,favor\nd,Two.,none\n").unwrap();
        let report = evaluate(&read_gold(&path).unwrap(), &preds);
        assert!(report.sentiment.is_none());
        assert_eq!((report.stance.n, report.sentiment_untagged), (2, 2));
        assert!(report.render().contains("sentiment: not tagged in the gold; sentiment figures left out"));
        let csv = String::from_utf8(report.to_csv().unwrap()).unwrap();
        assert!(!csv.contains("\nsentiment,") && csv.contains("all,sentiment_untagged_rows,,,2"), "{csv}");
        // Some cells empty: those rows are left out of sentiment only, and counted.
        std::fs::write(&path, "doc_id,sentence,stance,sentiment\nd,One.,favor,\nd,Two.,none,neutral\nd,Three.,none,negative\n").unwrap();
        let report = evaluate(&read_gold(&path).unwrap(), &preds);
        let sentiment = report.sentiment.as_ref().unwrap();
        assert_eq!((report.stance.n, sentiment.n, report.sentiment_untagged), (3, 2, 1));
        assert!(report.render().contains("1 matched gold rows have no sentiment tag"));
    }

    #[test]
    fn figures_per_annotator_when_the_gold_names_several() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gold.csv");
        std::fs::write(
            &path,
            "doc_id,sentence,stance,sentiment,annotator\nd,One.,favor,neutral,ann\nd,Two.,none,neutral,bo\nd,Three.,none,neutral,bo\n",
        )
        .unwrap();
        let gold = read_gold(&path).unwrap();
        assert_eq!(gold[0].annotator.as_deref(), Some("ann"));
        let preds: Vec<PredRow> = ["One.", "Two.", "Three."]
            .iter()
            .map(|t| PredRow { doc_id: "d".into(), text: t.to_string(), stance: 2, sentiment: 1 })
            .collect();
        let report = evaluate(&gold, &preds);
        let names: Vec<(&str, usize, f64)> = report.per_annotator.iter().map(|(a, st, _)| (a.as_str(), st.n, st.accuracy)).collect();
        assert_eq!(names, [("ann", 1, 0.0), ("bo", 2, 1.0)]);
        assert!(report.render().contains("bo: n = 2; stance macro-F1"));
        assert!(String::from_utf8(report.to_csv().unwrap()).unwrap().contains("stance,accuracy,annotator:bo,,1.0000"));
    }

    #[test]
    fn wilson_interval_matches_a_known_case_and_false_polar_counts_neutral_rows() {
        // 10 of 100: Wilson 95% interval 0.0552–0.1744.
        let e = wilson(10, 100);
        assert!((e.low - 0.0552).abs() < 1e-4 && (e.high - 0.1744).abs() < 1e-4, "{e:?}");
        assert!(wilson(0, 0).value.is_nan());
        let m = metrics(Task::Stance, &[(2, 0), (2, 1), (2, 2), (2, 2), (0, 2)]);
        assert_eq!(m.false_polar.value, 0.5);
        let m = metrics(Task::Sentiment, &[(1, 0), (1, 1), (0, 2)]);
        assert_eq!(m.false_polar.value, 0.5);
    }
}
