//! `stance eval`: predictions against gold, a model or the lexicon on tagged rows, or K-fold
//! cross-validation of adaptation.

use super::train::{tagged_rows, training_settings};
use crate::cli::EvalArgs;
use crate::progress::Bar;
use crate::resolve;
use anyhow::{bail, Result};
use stance_core::data::gold::{read_gold, read_predictions};
use stance_core::eval::evaluate;
use stance_core::labels::Task;
use stance_core::lexicon::vader_labels;
use stance_core::output::write_atomic;
use stance_core::stats::Metrics;
use stance_model::model::CrossEncoder;
use stance_model::train::cv::{cross_validate, predict_labels_with, score};
use std::path::{Path, PathBuf};

/// Runs `stance eval`.
pub fn execute(a: EvalArgs) -> Result<()> {
    // Scoring a model runs side-by-side workers of one libtorch thread each, as labelling does;
    // cross-validation trains, with libtorch's threads.
    let threads = resolve::threads(a.training.threads)?;
    tch::set_num_threads(if a.cv.is_some() { threads.count as i32 } else { 1 });
    match (&a.gold, &a.pred, a.cv, &a.data) {
        (Some(gold), Some(pred), None, _) => {
            let gold_path = gold;
            let gold = read_gold(gold_path)?;
            let predictions = read_predictions(pred)?;
            let report = evaluate(&gold, &predictions);
            if report.unmatched.len() == report.gold_rows {
                let example = |ids: &mut dyn Iterator<Item = &str>| ids.next().map_or("none".to_string(), |id| format!("'{id}'"));
                bail!(
                    "{}: none of its {} rows matched a sentence of {}: check that the doc_id values agree (gold has {}, predictions {}) and that both come from the same cleaning and splitting",
                    gold_path.display(),
                    report.gold_rows,
                    pred.display(),
                    example(&mut gold.iter().map(|g| g.doc_id.as_str())),
                    example(&mut predictions.iter().map(|p| p.doc_id.as_str()))
                );
            }
            let out = a.out.clone().unwrap_or_else(|| pred.with_file_name("eval.csv"));
            stance_core::output::refuse_to_overwrite_inputs(&out, &[gold_path, pred])?;
            write_atomic(&out, &report.to_csv()?)?;
            print!("{}", report.render());
            println!("\nmetrics written to {}", out.display());
            // A run folder's report gains the evaluation (when eval.csv is written there).
            let run_dir = pred.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
            if run_dir.join("run.json").is_file() && out.parent() == pred.parent() {
                stance_report::page::write(run_dir)?;
                println!("{} updated with the evaluation", run_dir.join("report.html").display());
            }
        }
        (None, None, Some(k), Some(data)) => {
            let scratch = PathBuf::new();
            let settings = training_settings(&a.training, data, None, None, scratch.clone(), scratch)?;
            let (adapted, baseline) = cross_validate(&settings, k, &Bar::steps())?;
            let adapted_metrics = score(settings.task, &settings.train, &adapted);
            let baseline_metrics = score(settings.task, &settings.train, &baseline);
            let scored = [("unadapted", &baseline_metrics), ("adapted (out-of-fold)", &adapted_metrics)];
            println!("{k}-fold cross-validation on {} rows of {}", settings.train.len(), data.display());
            for (name, m) in scored {
                println!("  {name:<22} {}", metrics_line(m));
            }
            write_if_asked(a.out.as_deref(), &[("unadapted", &baseline_metrics), ("adapted", &adapted_metrics)])?;
        }
        (None, None, None, Some(data)) => {
            let (task, rows) = (a.training.task, tagged_rows(&a.training, data)?);
            let (name, predicted) = if a.lexicon {
                if task != Task::Sentiment {
                    bail!("--lexicon scores sentiment only (pass --task sentiment)");
                }
                let texts: Vec<&str> = rows.iter().map(|e| e.text.as_str()).collect();
                ("vader".to_string(), vader_labels(&texts))
            } else {
                let dir = resolve::model(a.model.as_deref(), task);
                let mut model = CrossEncoder::load(&dir, &resolve::base_model_dir(a.training.model_dir.as_deref()), a.training.device)?;
                model.set_precision(a.precision);
                model.set_workers(threads.count);
                let bar = crate::progress::progress_bar(rows.len() as u64, "rows", true);
                let predicted = predict_labels_with(&model, task, &rows, 64, &mut |n| bar.inc(n))?;
                bar.finish_and_clear();
                let name = format!("{} ({})", dir.display(), a.precision.name());
                (name, predicted)
            };
            let m = score(task, &rows, &predicted);
            println!("{} on {} rows of {}", task, rows.len(), data.display());
            println!("  {name}: {}", metrics_line(&m));
            write_if_asked(a.out.as_deref(), &[(name.as_str(), &m)])?;
        }
        _ => bail!("eval needs --gold and --pred, or --data FILE (with --cv K to cross-validate adaptation)"),
    }
    Ok(())
}

/// Writes the metrics of --data and --cv to `out` when one is given. Tagged rows usually sit in a
/// folder that is not ours to write into (a shared dataset, or eval/ in this repository), so
/// without --out they are only printed.
fn write_if_asked(out: Option<&Path>, scored: &[(&str, &Metrics)]) -> Result<()> {
    if let Some(out) = out {
        write_atomic(out, &metrics_csv(scored)?)?;
        println!("metrics written to {}", out.display());
    }
    Ok(())
}

/// Per-model metrics as CSV: model,metric,label,value (per-class F1, then the summary figures).
fn metrics_csv(scored: &[(&str, &Metrics)]) -> Result<Vec<u8>> {
    let mut csv = csv::Writer::from_writer(Vec::new());
    csv.write_record(["model", "metric", "label", "value"])?;
    for &(name, m) in scored {
        for (k, c) in m.per_class.iter().enumerate() {
            csv.write_record([name, "f1", m.labels[k], &format!("{:.4}", c.f1)])?;
        }
        for (metric, value) in m.summary() {
            csv.write_record([name, metric, "", &format!("{value:.4}")])?;
        }
    }
    Ok(csv.into_inner()?)
}

/// One line of summary figures and per-class F1.
fn metrics_line(m: &Metrics) -> String {
    let f1: Vec<String> = m.per_class.iter().zip(m.labels).map(|(c, l)| format!("{l} {:.3}", c.f1)).collect();
    format!(
        "macro-F1 {:.3} (95% CI {})  F_avg {:.3}  accuracy {:.3}  kappa {:.3}  ({})  neutral called polar {:.3} ({:.3}–{:.3})",
        m.macro_f1,
        m.interval_text(),
        m.f_avg,
        m.accuracy,
        m.kappa,
        f1.join(", "),
        m.false_polar.value,
        m.false_polar.low,
        m.false_polar.high
    )
}
