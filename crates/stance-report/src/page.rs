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

use crate::plural;
use anyhow::{Context, Result};
use serde::Serialize;
use stance_core::data::table::unguard;
use stance_core::measured::TargetCheck;
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
            // Cells a --csv-safe run guarded are read as they were.
            Ok(headers.iter().map(String::from).zip(r.iter().map(|c| unguard(c).to_string())).collect())
        })
        .collect()
}

/// A cell of a row by column name; empty when the file lacks the column (checked up front).
fn cell<'a>(row: &'a Row, key: &str) -> &'a str {
    row.get(key).map_or("", String::as_str)
}

/// An error unless the file's rows have every one of `columns`.
fn require(rows: &[Row], path: &Path, columns: &[&str]) -> Result<()> {
    match rows.first() {
        Some(first) => require_columns(first.keys().map(String::as_str), path, columns),
        None => Ok(()),
    }
}

/// An error unless `header` names every one of `columns`.
fn require_columns<'a>(header: impl Iterator<Item = &'a str> + Clone, path: &Path, columns: &[&str]) -> Result<()> {
    if let Some(missing) = columns.iter().find(|c| !header.clone().any(|h| h == **c)) {
        anyhow::bail!("{}: no '{missing}' column: not a run folder this version of stance wrote", path.display());
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

/// Documents whose text the page shows in full, in run.json's order; the rest are counted, with
/// a pointer to `cleaned/` and `sentences.csv`. A page of 1,890 articles was 33 MB and held
/// every sentence in memory; this keeps the page readable and the run's memory flat.
pub const DOCUMENTS_SHOWN: usize = 100;

/// Documents drawn one row each in the forest plot; past this the plot shows groups only.
pub const DOCUMENTS_PLOTTED: usize = 60;

/// Sentences kept per group and direction as evidence.
const EVIDENCE_PER_SIDE: usize = 5;

/// The sentences.csv columns the page reads.
#[derive(Debug, serde::Deserialize)]
struct SentenceRow {
    doc_id: String,
    outlet: String,
    group: String,
    sentence_id: String,
    start: String,
    end: String,
    text: String,
    stance: String,
    p_favor: String,
    p_against: String,
    p_none: String,
    sentiment: String,
}

impl SentenceRow {
    /// The pull toward one side: p(favor) − p(against).
    fn pull(&self) -> f64 {
        let p = |v: &str| v.parse::<f64>().ok().filter(|v| v.is_finite()).unwrap_or(0.0);
        p(&self.p_favor) - p(&self.p_against)
    }
}

/// The strongest `EVIDENCE_PER_SIDE` sentences one way, kept as the file streams past, in
/// descending order of `rank`: (pull, tie-break), the tie-break putting earlier rows first for
/// favor and later rows first for against, as a reversed stable sort puts them.
#[derive(Default)]
struct Strongest {
    kept: Vec<((f64, i64), Evidence)>,
}

impl Strongest {
    fn offer(&mut self, rank: (f64, i64), evidence: impl FnOnce() -> Evidence) {
        let outranks = |k: &(f64, i64)| rank.0.total_cmp(&k.0).then(rank.1.cmp(&k.1)).is_gt();
        let at = self.kept.iter().position(|(k, _)| outranks(k)).unwrap_or(self.kept.len());
        if at < EVIDENCE_PER_SIDE {
            self.kept.insert(at, (rank, evidence()));
            self.kept.truncate(EVIDENCE_PER_SIDE);
        }
    }

    fn into_evidence(self) -> Vec<Evidence> {
        self.kept.into_iter().map(|(_, e)| e).collect()
    }
}

/// A labelled sentence of a shown document: where it sits in the cleaned text.
struct Span {
    start: usize,
    end: usize,
    sentence_id: String,
    label: String,
    tip: String,
}

/// The page for the run in `dir`. It streams `sentences.csv` once and keeps only counts, each
/// group's strongest sentences and the spans of the shown documents, so its memory does not
/// grow with the corpus.
pub fn render(dir: &Path) -> Result<String> {
    let run_path = dir.join("run.json");
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&run_path).with_context(|| format!("{}: cannot read", run_path.display()))?)
            .with_context(|| format!("{}: not JSON", run_path.display()))?;
    let profiles = read_rows(&dir.join("profiles.csv"))?;
    require(&profiles, &dir.join("profiles.csv"), &["level", "key", "n_documents", "n_sentences", "stance_index"])?;
    let comparisons = read_rows(&dir.join("comparison.csv"))?;
    if run["documents"].as_array().is_some_and(|d| d.iter().any(|d| d["cleaned_file"].is_null())) {
        anyhow::bail!("{}: the run predates report.html (run.json names no cleaned files): run it again", run_path.display());
    }
    let eval_path = dir.join("eval.csv");
    let eval = if eval_path.is_file() { Some(read_rows(&eval_path)?) } else { None };
    if let Some(rows) = &eval {
        // A damaged eval.csv would print blank or wrong figures: every value is a number, or
        // empty where a figure is undefined.
        require(rows, &eval_path, &["task", "metric", "label", "predicted", "value"])?;
        for (i, r) in rows.iter().enumerate() {
            let v = cell(r, "value");
            if !v.is_empty() && !v.parse::<f64>().is_ok_and(f64::is_finite) {
                anyhow::bail!("{}: record {}: value '{v}' is not a number", eval_path.display(), i + 1);
            }
        }
    }
    let target = run["config"]["target"]["name"].as_str().unwrap_or("the target").to_string();
    let docs_json = run["documents"].as_array().cloned().unwrap_or_default();
    let doc_index: HashMap<String, usize> =
        docs_json.iter().enumerate().filter_map(|(i, d)| Some((d["doc_id"].as_str()?.to_string(), i))).collect();
    let shown = docs_json.len().min(DOCUMENTS_SHOWN);

    // One pass over the sentences.
    let sentences_path = dir.join("sentences.csv");
    let mut reader = csv::Reader::from_path(&sentences_path).with_context(|| format!("{}: cannot read", sentences_path.display()))?;
    let headers = reader.headers().with_context(|| format!("{}: cannot read the header", sentences_path.display()))?;
    require_columns(
        headers.iter(),
        &sentences_path,
        &["doc_id", "outlet", "group", "sentence_id", "start", "end", "text", "stance", "p_favor", "p_against", "p_none", "sentiment"],
    )?;
    let (mut n_sentences, mut n_favor, mut n_against) = (0usize, 0usize, 0usize);
    let mut toward: HashMap<String, (Strongest, Strongest)> = HashMap::new();
    let mut spans: Vec<Vec<Span>> = (0..shown).map(|_| Vec::new()).collect();
    for (row, record) in reader.deserialize::<SentenceRow>().enumerate() {
        let mut s: SentenceRow = record.with_context(|| format!("{}: record {}: malformed", sentences_path.display(), row + 1))?;
        for key in [&mut s.doc_id, &mut s.outlet, &mut s.group, &mut s.text] {
            *key = unguard(key).to_string();
        }
        // A damaged probability would drop the sentence from the evidence without a word.
        for (name, v) in [("p_favor", &s.p_favor), ("p_against", &s.p_against), ("p_none", &s.p_none)] {
            if !v.parse::<f64>().is_ok_and(|p| (0.0..=1.0).contains(&p)) {
                anyhow::bail!("{}: record {}: {name} '{v}' is not a probability", sentences_path.display(), row + 1);
            }
        }
        n_sentences += 1;
        match s.stance.as_str() {
            "favor" => n_favor += 1,
            "against" => n_against += 1,
            _ => {}
        }
        // The document's index when the page shows it (only those sentences get an anchor).
        let shown_at = doc_index.get(&s.doc_id).copied().filter(|i| *i < shown);
        let pull = s.pull();
        let evidence = |s: &SentenceRow| Evidence {
            text: s.text.clone(),
            doc_id: s.doc_id.clone(),
            outlet: s.outlet.clone(),
            anchor: shown_at.map(|i| anchor("s", i, &s.sentence_id)).unwrap_or_default(),
            label: s.stance.clone(),
            p_favor: s.p_favor.clone(),
            p_against: s.p_against.clone(),
        };
        if pull >= EVIDENCE_MIN || pull <= -EVIDENCE_MIN {
            let (favor, against) = toward.entry(s.group.clone()).or_default();
            if pull >= EVIDENCE_MIN {
                favor.offer((pull, -(row as i64)), || evidence(&s));
            } else {
                against.offer((-pull, row as i64), || evidence(&s));
            }
        }
        if let Some(i) = shown_at {
            let bound = |v: &str| {
                v.parse::<usize>().with_context(|| format!("{}: record {}: '{v}' is not an offset", sentences_path.display(), row + 1))
            };
            spans[i].push(Span {
                start: bound(&s.start)?,
                end: bound(&s.end)?,
                tip: format!("{}: favor {} · against {} · none {}; sentiment {}", s.stance, s.p_favor, s.p_against, s.p_none, s.sentiment),
                sentence_id: s.sentence_id,
                label: s.stance,
            });
        }
    }

    let profiles_path = dir.join("profiles.csv");
    let count = |p: &Row, column: &str| -> Result<usize> {
        let v = cell(p, column);
        v.parse().with_context(|| {
            format!("{}: {} '{}': {column} '{v}' is not a count", profiles_path.display(), cell(p, "level"), cell(p, "key"))
        })
    };
    let mut groups = Vec::new();
    let mut documents_plot = Vec::new();
    for p in &profiles {
        let mut unit = Unit {
            key: cell(p, "key").to_string(),
            level: cell(p, "level").to_string(),
            n_documents: count(p, "n_documents")?,
            n_sentences: count(p, "n_sentences")?,
            index: interval(p, "stance_index"),
            adjusted: interval(p, "adjusted_stance_index"),
            toward_favor: Vec::new(),
            toward_against: Vec::new(),
        };
        match cell(p, "level") {
            "group" => {
                if let Some((favor, against)) = toward.remove(&unit.key) {
                    unit.toward_favor = favor.into_evidence();
                    unit.toward_against = against.into_evidence();
                }
                groups.push(unit)
            }
            "document" => documents_plot.push(unit),
            _ => {}
        }
    }

    // The shown documents, their cleaned text coloured sentence by sentence.
    let mut documents = Vec::new();
    for (i, (d, spans)) in docs_json.iter().zip(spans).enumerate() {
        let doc_id = d["doc_id"].as_str().unwrap_or_default().to_string();
        let cleaned_path = dir.join(d["cleaned_file"].as_str().unwrap_or_default());
        let cleaned = std::fs::read_to_string(&cleaned_path).with_context(|| format!("{}: cannot read", cleaned_path.display()))?;
        let mut pieces = Vec::new();
        let mut at = 0;
        for s in spans {
            if s.start < at
                || s.end < s.start
                || s.end > cleaned.len()
                || !cleaned.is_char_boundary(s.start)
                || !cleaned.is_char_boundary(s.end)
            {
                anyhow::bail!(
                    "{}: sentence {} of '{doc_id}' does not point into {}",
                    sentences_path.display(),
                    s.sentence_id,
                    cleaned_path.display()
                );
            }
            pieces.push(Piece { text: cleaned[at..s.start].to_string(), label: String::new(), anchor: String::new(), tip: String::new() });
            pieces.push(Piece {
                text: cleaned[s.start..s.end].to_string(),
                label: s.label,
                anchor: anchor("s", i, &s.sentence_id),
                tip: s.tip,
            });
            at = s.end;
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
    let counts = Counts { sentences: n_sentences, favor: n_favor, against: n_against };
    let summary = summary(&run, &target, &groups, &counts, evaluation.as_deref());
    let mut forest_rows: Vec<&Unit> = groups.iter().collect();
    let documents_in_plot = documents_plot.len() <= DOCUMENTS_PLOTTED;
    if documents_in_plot {
        forest_rows.extend(documents_plot.iter());
    }
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
        documents_total => docs_json.len(),
        documents_in_plot => documents_in_plot,
        comparisons => comparisons,
        evaluation => evaluation,
        forest_svg => forest,
        shares_svg => shares,
        timings => timings,
    })?;
    Ok(html)
}

/// Sentence counts over the whole run, for the summary.
struct Counts {
    sentences: usize,
    favor: usize,
    against: usize,
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
        // A stance-only gold has no sentiment rows in eval.csv: no empty table for it.
        .filter(|t| !t.labels.is_empty())
        .collect()
}

/// The plain-language summary, from the figures.
fn summary(run: &serde_json::Value, target: &str, groups: &[Unit], counts: &Counts, evaluation: Option<&[EvalTable]>) -> Vec<String> {
    let mut out = Vec::new();
    let docs = run["documents"].as_array().map_or(0, Vec::len);
    out.push(format!(
        "Across {} ({}), the labeller calls {} favor and {} against {target}; the rest take no stance.",
        plural(docs, "document", "documents"),
        plural(counts.sentences, "sentence", "sentences"),
        plural(counts.favor, "sentence", "sentences"),
        counts.against,
    ));
    // The labeller's false-stance share on real no-stance text of the nearest measured target:
    // a raw lean smaller than this can be labeller error alone.
    let check: Option<TargetCheck> = serde_json::from_value(run["target_check"].clone()).ok();
    let error_share = check.as_ref().map(|c| c.none_called_stance[0]);
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
        if let Some(share) = error_share.filter(|share| i.value.abs() < *share) {
            let _ = write!(
                leans,
                "That lean is smaller than the labeller's error on real no-stance text ({:.0}% of such sentences called favor or against), so it cannot be told apart from labeller error. ",
                share * 100.0
            );
        }
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
    out.push(match &check {
        Some(c) => {
            let [share, low, high] = c.none_called_stance.map(|x| x * 100.0);
            let figure = format!("{share:.0}% (95% CI {low:.0}–{high:.0}%) of real sentences that take no stance");
            match (c.measured, c.nearest.as_deref()) {
                (true, _) => format!("The model was measured on this target ({}): it called {figure} favor or against.", c.set),
                (false, nearest) => format!(
                    "The model was not measured on {target}. Toward {} ({}), it called {figure} favor or against; expect at least as much on a new target, and tag a random sample of this corpus (`stance sample --strategy random`) to know.",
                    nearest.unwrap_or("the targets it was measured on"),
                    c.set
                ),
            }
        }
        None => "The model folder records no measured figures per target (measured.json), so this page cannot say how often it reads a stance into neutral text on this target.".to_string(),
    });
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A run folder of `docs` documents with three sentences each, as `stance run` lays it out.
    fn synthetic_run(dir: &Path, docs: usize) {
        std::fs::create_dir_all(dir.join("cleaned")).unwrap();
        let header = "doc_id,outlet,group,sentence_id,start,end,text,stance,p_favor,p_against,p_none,sentiment";
        let mut sentences = format!("{header}\n");
        let mut profiles = String::from("level,key,n_documents,n_sentences,stance_index,stance_index_low,stance_index_high\n");
        let mut documents = Vec::new();
        for d in 0..docs {
            let id = format!("doc-{d:03}");
            let texts = [format!("First sentence of {id}."), format!("Second sentence of {id}."), format!("Third sentence of {id}.")];
            let cleaned = texts.join(" ");
            std::fs::write(dir.join(format!("cleaned/{id}.txt")), &cleaned).unwrap();
            let mut at = 0;
            for (k, t) in texts.iter().enumerate() {
                // Pulls from -0.9 to +0.9 with many ties, so the evidence order tests tie-breaks.
                let pull = ((d * 3 + k) % 7) as f64 * 0.3 - 0.9;
                let (pf, pa) = if pull >= 0.0 { (pull, 0.0) } else { (0.0, -pull) };
                let label = if pull > 0.3 {
                    "favor"
                } else if pull < -0.3 {
                    "against"
                } else {
                    "none"
                };
                sentences += &format!(
                    "{id},outlet-{},g{},{},{at},{},{t},{label},{pf:.4},{pa:.4},{:.4},neutral\n",
                    d % 4,
                    d % 2,
                    k + 1,
                    at + t.len(),
                    1.0 - pf - pa
                );
                at += t.len() + 1;
            }
            profiles += &format!("document,{id},1,3,0.0,-0.1,0.1\n");
            documents.push(serde_json::json!({"doc_id": id, "title": format!("Title {d}"), "outlet": format!("outlet-{}", d % 4),
                "group": format!("g{}", d % 2), "cleaned_file": format!("cleaned/{id}.txt")}));
        }
        for g in 0..2 {
            profiles += &format!("group,g{g},{},{},0.0,-0.1,0.1\n", docs / 2, docs / 2 * 3);
        }
        std::fs::write(dir.join("sentences.csv"), sentences).unwrap();
        std::fs::write(dir.join("profiles.csv"), profiles).unwrap();
        std::fs::write(dir.join("comparison.csv"), "group_a,group_b\n").unwrap();
        let run = serde_json::json!({"documents": documents, "config": {"target": {"name": "the target"}}, "counts": {"sentences": docs * 3},
            "labeler": "test", "model": {"trained": "test", "device": "cpu", "files": []}, "manifest": "m.csv", "sentiment_source": "test",
            "config_origin": "built-in", "versions": {"stance": "0", "rust-bert": "0", "tch": "0", "libtorch": "0"}, "command": ["stance"],
            "calibration": null});
        std::fs::write(dir.join("run.json"), run.to_string()).unwrap();
    }

    #[test]
    fn a_large_run_shows_a_bounded_page_with_every_group_and_its_strongest_sentences() {
        let dir = tempfile::tempdir().unwrap();
        let docs = DOCUMENTS_SHOWN + 50;
        synthetic_run(dir.path(), docs);
        let html = render(dir.path()).map_err(|e| format!("{e:#}")).unwrap();
        assert_eq!(html.matches(r#"<article class="doc""#).count(), DOCUMENTS_SHOWN);
        assert!(html.contains(&format!("The first {DOCUMENTS_SHOWN} of the run's {docs} documents are shown here")));
        assert!(html.contains(&format!("The run's {docs} documents are too many to draw one row each")));
        assert!(!html.contains(&format!("doc-{:03}.", DOCUMENTS_SHOWN)), "a document past the cap is not shown");
        assert!(html.contains(&format!("Across {docs} documents ({} sentences)", docs * 3)));

        // Each group's evidence is the strongest five each way, ties in file order (favor) or
        // reversed file order (against), exactly as a full sort of every sentence would give.
        let rows: Vec<(String, String, f64, usize)> = csv::Reader::from_path(dir.path().join("sentences.csv"))
            .unwrap()
            .deserialize::<SentenceRow>()
            .enumerate()
            .map(|(i, r)| {
                let r = r.unwrap();
                let pull = r.pull();
                (r.group, r.text, pull, i)
            })
            .collect();
        for g in ["g0", "g1"] {
            let mut members: Vec<&(String, String, f64, usize)> = rows.iter().filter(|r| r.0 == g).collect();
            members.sort_by(|a, b| b.2.total_cmp(&a.2));
            let favor: Vec<&str> = members.iter().filter(|r| r.2 >= EVIDENCE_MIN).take(5).map(|r| r.1.as_str()).collect();
            let against: Vec<&str> = members.iter().rev().filter(|r| r.2 <= -EVIDENCE_MIN).take(5).map(|r| r.1.as_str()).collect();
            let section = &html[html.find(&format!("<h3>{g}</h3>\n<h4>Toward favor")).unwrap()..];
            let (favor_html, rest) = section.split_once("<h4>Toward against</h4>").unwrap();
            let against_html = rest.split("<h3>").next().unwrap();
            let order = |part: &str, expected: &[&str]| {
                let found: Vec<usize> = expected.iter().map(|t| part.find(t).unwrap_or_else(|| panic!("{g}: {t} missing"))).collect();
                assert!(found.windows(2).all(|w| w[0] < w[1]), "{g}: evidence out of order: {expected:?}");
                assert_eq!(part.matches("<li>").count(), expected.len());
            };
            order(favor_html, &favor);
            order(against_html, &against);
        }
        // Evidence from a shown document links to it; from a document past the cap it is text.
        let links: Vec<usize> =
            html.split(r##"<a href="#s-"##).skip(1).map(|rest| rest.split('-').next().unwrap().parse().unwrap()).collect();
        assert!(!links.is_empty() && links.iter().all(|d| *d < DOCUMENTS_SHOWN), "{links:?}");
        let unlinked = html.split("<li>").skip(1).filter(|li| !li.starts_with("<a ")).count();
        assert!(unlinked > 0, "evidence from documents past the cap is shown as text");
    }

    #[test]
    fn a_small_run_shows_every_document_and_plots_each() {
        let dir = tempfile::tempdir().unwrap();
        synthetic_run(dir.path(), 6);
        let html = render(dir.path()).map_err(|e| format!("{e:#}")).unwrap();
        assert_eq!(html.matches(r#"<article class="doc""#).count(), 6);
        assert!(!html.contains("are shown here"));
        assert!(!html.contains("too many to draw"));
        assert!(html.contains("  doc-005"), "each document has a row in the forest plot");
    }

    #[test]
    fn a_sentence_that_points_outside_its_document_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        synthetic_run(dir.path(), 2);
        let path = dir.path().join("sentences.csv");
        let text = std::fs::read_to_string(&path).unwrap().replacen(",0,26,", ",0,9999,", 1);
        std::fs::write(&path, text).unwrap();
        let error = render(dir.path()).unwrap_err().to_string();
        assert!(error.contains("sentence 1 of 'doc-000' does not point into"), "{error}");
    }
}
