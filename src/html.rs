//! `report.html`: one self-contained page per run (inline SVG and CSS, no script, no network)
//! that answers the study's question at a glance — which group leans which way, by how much,
//! and which sentences show it — with the caveats that apply. It is built from the run
//! folder's files only (run.json, sentences.csv, profiles.csv, comparison.csv, cleaned/ and,
//! when present, eval.csv), so `stance report DIR` rebuilds it for any finished run and
//! `stance eval` adds the gold evaluation to it.
//!
//! The page is a minijinja template (`src/report.html.j2`); the two small charts (a forest
//! plot and stacked share bars) are drawn as SVG here, which is simpler than a charting
//! crate for two plots of a few rows each.

use crate::progress::plural;
use anyhow::{Context, Result};
use serde::Serialize;
use stance_core::output::write_atomic;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

type Row = HashMap<String, String>;

const TEMPLATE: &str = include_str!("report.html.j2");

/// The least pull toward one side (p(favor) − p(against)) that makes a sentence evidence.
const EVIDENCE_MIN: f64 = 0.05;

fn read_rows(path: &Path) -> Result<Vec<Row>> {
    let mut reader = csv::Reader::from_path(path).with_context(|| format!("{}: cannot read", path.display()))?;
    let headers = reader.headers().with_context(|| format!("{}: cannot read the header", path.display()))?.clone();
    reader
        .records()
        .enumerate()
        .map(|(i, r)| {
            let r = r.with_context(|| format!("{}: record {}: malformed CSV", path.display(), i + 1))?;
            Ok(headers.iter().map(String::from).zip(r.iter().map(String::from)).collect())
        })
        .collect()
}

/// A cell of a row by column name; empty when the file lacks the column (checked up front).
fn cell<'a>(row: &'a Row, key: &str) -> &'a str {
    row.get(key).map_or("", String::as_str)
}

/// An error unless the file's rows have every one of `columns`.
fn require(rows: &[Row], path: &Path, columns: &[&str]) -> Result<()> {
    if let Some(first) = rows.first() {
        if let Some(missing) = columns.iter().find(|c| !first.contains_key(**c)) {
            anyhow::bail!("{}: no '{missing}' column: not a run folder this version of stance wrote", path.display());
        }
    }
    Ok(())
}

fn num(row: &Row, key: &str) -> Option<f64> {
    row.get(key).and_then(|v| v.parse::<f64>().ok()).filter(|v| v.is_finite())
}

fn signed(x: f64) -> String {
    format!("{}{:.3}", if x >= 0.0 { "+" } else { "−" }, x.abs())
}

/// A stance index with its interval, for the template and the plot.
#[derive(Debug, Clone, Serialize)]
struct Interval {
    value: f64,
    low: f64,
    high: f64,
    text: String,
    excludes_zero: bool,
}

fn interval(row: &Row, key: &str) -> Option<Interval> {
    let (value, low, high) = (num(row, key)?, num(row, &format!("{key}_low"))?, num(row, &format!("{key}_high"))?);
    Some(Interval {
        value,
        low,
        high,
        text: format!("{} ({} to {})", signed(value), signed(low), signed(high)),
        excludes_zero: low > 0.0 || high < 0.0,
    })
}

#[derive(Debug, Serialize)]
struct Evidence {
    text: String,
    doc_id: String,
    outlet: String,
    anchor: String,
    label: String,
    p_favor: String,
    p_against: String,
}

#[derive(Debug, Serialize)]
struct Unit {
    key: String,
    level: String,
    n_documents: usize,
    n_sentences: usize,
    index: Option<Interval>,
    adjusted: Option<Interval>,
    toward_favor: Vec<Evidence>,
    toward_against: Vec<Evidence>,
}

#[derive(Debug, Serialize)]
struct Piece {
    text: String,
    /// favor / against / none for a sentence; empty between sentences.
    label: String,
    anchor: String,
    tip: String,
}

#[derive(Debug, Serialize)]
struct Document {
    doc_id: String,
    anchor: String,
    title: String,
    outlet: String,
    group: String,
    index: Option<Interval>,
    pieces: Vec<Piece>,
}

#[derive(Debug, Serialize)]
struct EvalTable {
    task: String,
    rows: Vec<(String, String, String, String, String, String)>,
    macro_f1: String,
    labels: Vec<String>,
    confusion: Vec<(String, Vec<String>)>,
    neutral_called_polar: String,
}

fn anchor(kind: &str, doc_index: usize, sentence: &str) -> String {
    format!("{kind}-{doc_index}-{sentence}")
}

/// The page for the run in `dir`.
pub fn render(dir: &Path) -> Result<String> {
    let run_path = dir.join("run.json");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&run_path).with_context(|| format!("{}: cannot read", run_path.display()))?)
            .with_context(|| format!("{}: not JSON", run_path.display()))?;
    let sentences = read_rows(&dir.join("sentences.csv"))?;
    require(
        &sentences,
        &dir.join("sentences.csv"),
        &["doc_id", "outlet", "group", "sentence_id", "start", "end", "text", "stance", "p_favor", "p_against", "p_none", "sentiment"],
    )?;
    let profiles = read_rows(&dir.join("profiles.csv"))?;
    require(&profiles, &dir.join("profiles.csv"), &["level", "key", "n_documents", "n_sentences", "stance_index"])?;
    let comparisons = read_rows(&dir.join("comparison.csv"))?;
    if run["documents"].as_array().is_some_and(|d| d.iter().any(|d| d["cleaned_file"].is_null())) {
        anyhow::bail!("{}: the run predates report.html (run.json names no cleaned files): run it again", run_path.display());
    }
    let eval_path = dir.join("eval.csv");
    let eval = if eval_path.is_file() { Some(read_rows(&eval_path)?) } else { None };
    let target = run["config"]["target"]["name"].as_str().unwrap_or("the target").to_string();
    let docs_json = run["documents"].as_array().cloned().unwrap_or_default();
    let doc_index: HashMap<String, usize> =
        docs_json.iter().enumerate().filter_map(|(i, d)| Some((d["doc_id"].as_str()?.to_string(), i))).collect();

    // Evidence: the sentences that pull a group's index most toward favor and toward against.
    let value = |r: &Row| num(r, "p_favor").unwrap_or(0.0) - num(r, "p_against").unwrap_or(0.0);
    let evidence = |r: &Row| {
        let i = doc_index.get(cell(r, "doc_id")).copied().unwrap_or(usize::MAX);
        Evidence {
            text: cell(r, "text").to_string(),
            doc_id: cell(r, "doc_id").to_string(),
            outlet: cell(r, "outlet").to_string(),
            anchor: anchor("s", i, cell(r, "sentence_id")),
            label: cell(r, "stance").to_string(),
            p_favor: cell(r, "p_favor").to_string(),
            p_against: cell(r, "p_against").to_string(),
        }
    };
    let mut groups = Vec::new();
    let mut documents_plot = Vec::new();
    for p in &profiles {
        let unit = |with_evidence: bool| {
            let mut members: Vec<&Row> = sentences.iter().filter(|s| cell(s, "group") == cell(p, "key")).collect();
            members.sort_by(|a, b| value(b).total_cmp(&value(a)));
            Unit {
                key: cell(p, "key").to_string(),
                level: cell(p, "level").to_string(),
                n_documents: cell(p, "n_documents").parse().unwrap_or(0),
                n_sentences: cell(p, "n_sentences").parse().unwrap_or(0),
                index: interval(p, "stance_index"),
                adjusted: interval(p, "adjusted_stance_index"),
                toward_favor: if with_evidence {
                    members.iter().filter(|r| value(r) >= EVIDENCE_MIN).take(5).map(|r| evidence(r)).collect()
                } else {
                    Vec::new()
                },
                toward_against: if with_evidence {
                    members.iter().rev().filter(|r| value(r) <= -EVIDENCE_MIN).take(5).map(|r| evidence(r)).collect()
                } else {
                    Vec::new()
                },
            }
        };
        match cell(p, "level") {
            "group" => groups.push(unit(true)),
            "document" => documents_plot.push(unit(false)),
            _ => {}
        }
    }

    // Documents, their cleaned text coloured sentence by sentence.
    let mut documents = Vec::new();
    for (i, d) in docs_json.iter().enumerate() {
        let doc_id = d["doc_id"].as_str().unwrap_or_default().to_string();
        let cleaned_path = dir.join(d["cleaned_file"].as_str().unwrap_or_default());
        let cleaned = std::fs::read_to_string(&cleaned_path).with_context(|| format!("{}: cannot read", cleaned_path.display()))?;
        let mut pieces = Vec::new();
        let mut at = 0;
        for s in sentences.iter().filter(|s| cell(s, "doc_id") == doc_id) {
            let (start, end): (usize, usize) = (cell(s, "start").parse().unwrap_or(at), cell(s, "end").parse().unwrap_or(at));
            if start < at || end > cleaned.len() || !cleaned.is_char_boundary(start) || !cleaned.is_char_boundary(end) {
                anyhow::bail!(
                    "{}: sentence {} of '{doc_id}' does not point into {}",
                    dir.join("sentences.csv").display(),
                    cell(s, "sentence_id"),
                    cleaned_path.display()
                );
            }
            pieces.push(Piece { text: cleaned[at..start].to_string(), label: String::new(), anchor: String::new(), tip: String::new() });
            pieces.push(Piece {
                text: cleaned[start..end].to_string(),
                label: cell(s, "stance").to_string(),
                anchor: anchor("s", i, cell(s, "sentence_id")),
                tip: format!(
                    "{}: favor {} · against {} · none {}; sentiment {}",
                    cell(s, "stance"),
                    cell(s, "p_favor"),
                    cell(s, "p_against"),
                    cell(s, "p_none"),
                    cell(s, "sentiment")
                ),
            });
            at = end;
        }
        pieces.push(Piece { text: cleaned[at..].to_string(), label: String::new(), anchor: String::new(), tip: String::new() });
        let index =
            profiles.iter().find(|p| cell(p, "level") == "document" && cell(p, "key") == doc_id).and_then(|p| interval(p, "stance_index"));
        documents.push(Document {
            anchor: format!("d-{i}"),
            title: d["title"].as_str().unwrap_or_default().to_string(),
            outlet: d["outlet"].as_str().unwrap_or_default().to_string(),
            group: d["group"].as_str().unwrap_or_default().to_string(),
            doc_id,
            index,
            pieces,
        });
    }

    let evaluation = eval.as_ref().map(|rows| eval_tables(rows));
    let summary = summary(&run, &target, &groups, &sentences, evaluation.as_deref());
    let mut forest_rows: Vec<&Unit> = groups.iter().collect();
    forest_rows.extend(documents_plot.iter());
    let forest = forest_svg(&forest_rows);
    let shares = shares_svg(&profiles);
    let timings = run["timings_seconds"]
        .as_object()
        .map(|t| t.iter().map(|(k, v)| format!("{k} {:.2}", v.as_f64().unwrap_or(f64::NAN))).collect::<Vec<_>>().join(" · "))
        .unwrap_or_default();

    let mut env = minijinja::Environment::new();
    env.add_template("report.html", TEMPLATE).context("the report template")?;
    let html = env.get_template("report.html")?.render(minijinja::context! {
        target => target,
        run => run,
        summary => summary,
        groups => groups,
        documents => documents,
        comparisons => comparisons,
        evaluation => evaluation,
        forest_svg => forest,
        shares_svg => shares,
        timings => timings,
    })?;
    Ok(html)
}

/// Writes `report.html` into the run folder `dir`.
pub fn write(dir: &Path) -> Result<()> {
    let html = render(dir)?;
    Ok(write_atomic(&dir.join("report.html"), html.as_bytes())?)
}

fn eval_tables(rows: &[Row]) -> Vec<EvalTable> {
    // eval.csv's value for (task, metric, label, predicted): empty when absent.
    let value = |task: &str, metric: &str, label: &str, predicted: &str| {
        rows.iter()
            .find(|r| {
                cell(r, "task") == task && cell(r, "metric") == metric && cell(r, "label") == label && cell(r, "predicted") == predicted
            })
            .map(|r| cell(r, "value").to_string())
            .unwrap_or_default()
    };
    let get = |task: &str, metric: &str, label: &str| value(task, metric, label, "");
    // "0.473 (95% CI 0.374–0.580)" from a metric and its _low/_high rows.
    let with_interval = |task: &str, metric: &str| {
        format!(
            "{} (95% CI {}–{})",
            get(task, metric, ""),
            get(task, &format!("{metric}_low"), ""),
            get(task, &format!("{metric}_high"), "")
        )
    };
    ["stance", "sentiment"]
        .iter()
        .map(|&task| {
            let labels: Vec<String> = rows
                .iter()
                .filter(|r| cell(r, "task") == task && cell(r, "metric") == "f1")
                .map(|r| cell(r, "label").to_string())
                .collect();
            EvalTable {
                task: task.to_string(),
                rows: labels
                    .iter()
                    .map(|l| {
                        let ci = format!("{}–{}", get(task, "f1_low", l), get(task, "f1_high", l));
                        (l.clone(), get(task, "precision", l), get(task, "recall", l), get(task, "f1", l), ci, get(task, "support", l))
                    })
                    .collect(),
                macro_f1: with_interval(task, "macro_f1"),
                confusion: labels
                    .iter()
                    .map(|g| {
                        let cells = labels.iter().map(|p| value(task, "confusion", g, p)).collect();
                        (g.clone(), cells)
                    })
                    .collect(),
                neutral_called_polar: with_interval(task, "neutral_called_polar"),
                labels,
            }
        })
        .collect()
}

/// The plain-language summary, from the figures.
fn summary(run: &serde_json::Value, target: &str, groups: &[Unit], sentences: &[Row], evaluation: Option<&[EvalTable]>) -> Vec<String> {
    let mut out = Vec::new();
    let n = sentences.len();
    let count = |label: &str| sentences.iter().filter(|s| cell(s, "stance") == label).count();
    let docs = run["documents"].as_array().map_or(0, Vec::len);
    out.push(format!(
        "Across {} ({}), the labeller calls {} favor and {} against {target}; the rest take no stance.",
        plural(docs, "document", "documents"),
        plural(n, "sentence", "sentences"),
        plural(count("favor"), "sentence", "sentences"),
        count("against"),
    ));
    let mut leans = String::new();
    for g in groups {
        let Some(i) = &g.index else { continue };
        let way = if i.value > 0.0 {
            "toward favor"
        } else if i.value < 0.0 {
            "toward against"
        } else {
            "neither way"
        };
        let _ = write!(
            leans,
            "{} leans {way} (stance index {}; {}). ",
            g.key,
            i.text,
            if i.excludes_zero {
                "the 95% interval excludes zero"
            } else {
                "the 95% interval includes zero, so the lean is not distinguishable from none"
            }
        );
        if g.n_documents < 2 {
            let _ = write!(leans, "{} is a single document, so its figure describes that document, not a group. ", g.key);
        }
        if let Some(a) = &g.adjusted {
            let _ = write!(leans, "Corrected for the labeller's measured errors, its index is {}. ", a.text);
        }
    }
    if !leans.is_empty() {
        out.push(leans.trim_end().to_string());
    }
    let quality = match evaluation.and_then(|e| e.iter().find(|t| t.task == "stance")) {
        Some(t) => format!(
            "Against this run's hand-tagged gold, stance macro-F1 is {}, and {} of the gold's no-stance sentences are called favor or against: read small differences between groups with care.",
            t.macro_f1, t.neutral_called_polar
        ),
        None => format!(
            "The labeller ({}) is imperfect: its measured quality is in its model card (models/…/README.md), and `stance eval` against hand-tagged gold adds it to this page.",
            run["model"]["trained"].as_str().unwrap_or("the zero-shot baseline")
        ),
    };
    out.push(quality);
    if run["calibration"].is_null() {
        out.push("No calibration set was given, so the indices are raw: they count the labeller's errors as stance. `stance run --calibration GOLD.csv` adds error-adjusted indices.".to_string());
    }
    out.push("Intervals resample sentences; sentences of one document are not independent, so with few documents a group's interval is a lower bound on its uncertainty.".to_string());
    out
}

const FAVOR: &str = "#2166ac";
const AGAINST: &str = "#d6604d";
const NONE: &str = "#bdbdbd";

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Stance index per group, then per document, with 95% intervals (raw, and adjusted where
/// there is a calibration), on one shared axis through zero.
fn forest_svg(units: &[&Unit]) -> String {
    let (label_w, plot_w, row_h, top) = (330.0, 440.0, 26.0, 30.0);
    let extent = units
        .iter()
        .flat_map(|u| u.index.iter().chain(u.adjusted.iter()))
        .flat_map(|i| [i.low.abs(), i.high.abs()])
        .fold(0.25f64, f64::max)
        .min(1.0);
    let extent = (extent * 10.0).ceil() / 10.0;
    let x = |v: f64| label_w + (v.clamp(-extent, extent) + extent) / (2.0 * extent) * plot_w;
    let height = top + row_h * units.len() as f64 + 40.0;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Stance index with 95% intervals" viewBox="0 0 {w} {height}" width="{w}" height="{height}" font-family="sans-serif" font-size="12">"#,
        w = label_w + plot_w + 20.0
    );
    let _ = write!(
        svg,
        r##"<line x1="{z}" y1="{t}" x2="{z}" y2="{b}" stroke="#555" stroke-dasharray="3,3"/>"##,
        z = x(0.0),
        t = top - 10.0,
        b = height - 30.0
    );
    for k in -2..=2 {
        let v = extent * k as f64 / 2.0;
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="middle" fill="#555">{}</text>"##,
            x(v),
            height - 12.0,
            if v == 0.0 { "0".to_string() } else { signed(v) }
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{}" y="14" fill="{AGAINST}">← against</text><text x="{}" y="14" text-anchor="end" fill="{FAVOR}">favor →</text>"##,
        label_w,
        label_w + plot_w
    );
    for (row, u) in units.iter().enumerate() {
        let y = top + row_h * row as f64 + row_h / 2.0;
        let name =
            if u.level == "group" { format!("{} ({})", u.key, plural(u.n_documents, "doc", "docs")) } else { format!("  {}", u.key) };
        let weight = if u.level == "group" { "bold" } else { "normal" };
        let _ = write!(
            svg,
            r#"<text x="{}" y="{}" text-anchor="end" font-weight="{weight}" xml:space="preserve">{}</text>"#,
            label_w - 8.0,
            y + 4.0,
            esc(&name)
        );
        for (interval, offset, color) in [(&u.index, -3.0, "#222"), (&u.adjusted, 4.0, "#7b3294")] {
            if let Some(i) = interval {
                let yy = y + offset;
                let _ = write!(
                    svg,
                    r#"<line x1="{}" y1="{yy}" x2="{}" y2="{yy}" stroke="{color}" stroke-width="2"/><circle cx="{}" cy="{yy}" r="4" fill="{color}"><title>{}</title></circle>"#,
                    x(i.low),
                    x(i.high),
                    x(i.value),
                    esc(&i.text)
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// Label shares per group, three stacked bars each: stance, sentiment, sentiment toward the
/// entity's mentions.
fn shares_svg(profiles: &[Row]) -> String {
    let groups: Vec<&Row> = profiles.iter().filter(|p| cell(p, "level") == "group").collect();
    let (label_w, bar_w, bar_h, gap) = (330.0, 440.0, 14.0, 4.0);
    let sets: [(&str, [(&str, &str); 3]); 3] = [
        ("stance", [("share_favor", FAVOR), ("share_against", AGAINST), ("share_none", NONE)]),
        ("sentiment", [("share_positive", "#1a9850"), ("share_negative", "#d73027"), ("share_neutral", NONE)]),
        ("toward the entity", [("share_target_positive", "#1a9850"), ("share_target_negative", "#d73027"), ("share_target_neutral", NONE)]),
    ];
    let block = 3.0 * (bar_h + gap) + 14.0;
    let height = 30.0 + block * groups.len() as f64;
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Label shares per group" viewBox="0 0 {w} {height}" width="{w}" height="{height}" font-family="sans-serif" font-size="12">"#,
        w = label_w + bar_w + 20.0
    );
    let legend = [("favor", FAVOR), ("against", AGAINST), ("none / neutral", NONE), ("positive", "#1a9850"), ("negative", "#d73027")];
    for (k, (name, color)) in legend.iter().enumerate() {
        let lx = label_w + k as f64 * 90.0;
        let _ = write!(svg, r#"<rect x="{lx}" y="4" width="10" height="10" fill="{color}"/><text x="{}" y="13">{name}</text>"#, lx + 14.0);
    }
    for (gi, g) in groups.iter().enumerate() {
        let y0 = 26.0 + block * gi as f64;
        for (si, (set, parts)) in sets.iter().enumerate() {
            let y = y0 + si as f64 * (bar_h + gap);
            let label =
                if si == 0 { format!(r#"<tspan font-weight="bold">{}</tspan> · {set}"#, esc(cell(g, "key"))) } else { set.to_string() };
            let _ = write!(svg, r#"<text x="{}" y="{}" text-anchor="end">{label}</text>"#, label_w - 8.0, y + bar_h - 3.0);
            let mut x = label_w;
            for (column, color) in parts {
                let share = num(g, column).unwrap_or(0.0);
                let w = share * bar_w;
                if w > 0.0 {
                    let _ = write!(
                        svg,
                        r#"<rect x="{x}" y="{y}" width="{w}" height="{bar_h}" fill="{color}"><title>{set} {}: {:.1}%</title></rect>"#,
                        column.trim_start_matches("share_").trim_start_matches("target_"),
                        share * 100.0
                    );
                }
                x += w;
            }
        }
    }
    svg.push_str("</svg>");
    svg
}
