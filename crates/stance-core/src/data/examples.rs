//! Training and evaluation rows from the data files users and public datasets come in: CSV
//! (gold sheets, VAST, SemEval-style files), JSON lines, and NewsMTSC. Column names and label
//! maps are resolved here, once, for training, cross-validation and `eval --data` alike.

use crate::data::table::{field, CsvFile};
use crate::labels::{Task, SENTENCE_TARGET};
use crate::text::split::collapse_whitespace;
use crate::{Error, IoContext, Result};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// One training or evaluation row.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    /// The text, whitespace collapsed.
    pub text: String,
    /// What the label is toward: the row's target, `default_target`, or for NewsMTSC a mention
    /// or the sentence target.
    pub target: String,
    /// Index of the label in the task's labels (`STANCE_LABELS` or `SENTIMENT_LABELS` order).
    pub label: usize,
}

/// The public datasets and file kinds this tool reads, by name: where each keeps its fields
/// and how its labels map to ours, in one place (the command line's `--format`, a recipe's
/// `format`). SNLI is not here: its entailment labels are neither stance nor sentiment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// VAST (Allaway & McKeown 2020): `post` (dev: `Tweet`), target `topic_str` (dev:
    /// `Target`), `label` (dev: `Stance`) 0/1/2 = against/favor/none.
    Vast,
    /// A gold file or tagging sheet: `sentence`, and the task's own column.
    Gold,
    /// NewsMTSC JSON lines (`sentence_normalized`, `targets` with polarity 2/4/6), read by
    /// their shape whatever the format says; named for clarity.
    Newsmtsc,
}

impl Format {
    /// The raw → stance label map VAST uses.
    pub const VAST_LABELS: [(&'static str, &'static str); 3] = [("0", "against"), ("1", "favor"), ("2", "none")];

    /// `spec` with this format's columns and label map filled in where `spec` leaves them
    /// open (an explicit column or map wins).
    pub fn apply(self, mut spec: DataSpec, task: Task) -> DataSpec {
        let set = |slot: &mut Option<String>, value: &str| {
            slot.get_or_insert_with(|| value.to_string());
        };
        match self {
            Format::Vast => {
                set(&mut spec.text_col, "post,Tweet");
                set(&mut spec.target_col, "topic_str,Target");
                set(&mut spec.label_col, "label,Stance");
                if spec.label_map.is_empty() {
                    spec.label_map = Self::VAST_LABELS.iter().map(|(r, o)| (r.to_string(), o.to_string())).collect();
                }
            }
            Format::Gold => {
                set(&mut spec.text_col, "sentence");
                set(&mut spec.label_col, task.name());
            }
            Format::Newsmtsc => {}
        }
        spec
    }
}

/// Where a data file keeps its fields, and how its labels map to ours.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DataSpec {
    /// Text column (comma-separated candidates allowed: "post,Tweet"); default: the first of
    /// text, sentence, post, Tweet.
    pub text_col: Option<String>,
    /// Target column; default: the first of target, topic_str, topic, Target. Rows without one
    /// take `default_target`.
    pub target_col: Option<String>,
    /// Label column; default: the first of label, stance, Stance (or the task's name).
    pub label_col: Option<String>,
    /// Raw label → our label ("0" → "against"); labels not listed must be ours already.
    pub label_map: BTreeMap<String, String>,
    /// Target of rows without one (no target column, or an empty field).
    pub default_target: Option<String>,
    /// NewsMTSC files: which rows to make of each sentence.
    pub rows: NewsRows,
    /// NewsMTSC files: the target of sentence rows [default: [`SENTENCE_TARGET`]].
    pub sentence_target: Option<String>,
}

/// The rows a NewsMTSC sentence gives: one per annotated target (the mention as target), and
/// one for the sentence as a whole when all its targets share one polarity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum NewsRows {
    /// Both: the target rows and, when its targets agree, the sentence row.
    #[default]
    All,
    /// Only the rows of the annotated targets.
    Targets,
    /// Only the sentence rows, of sentences whose targets agree.
    Sentences,
}

/// NewsMTSC polarity codes and our sentiment labels.
const NEWSMTSC_POLARITY: [(&str, &str); 3] = [("2", "negative"), ("4", "neutral"), ("6", "positive")];

const TEXT_COLUMNS: [&str; 4] = ["text", "sentence", "post", "Tweet"];
/// VAST's `topic_str` and not `new_topic`: on its synthetic neutral rows (type 4) only
/// `topic_str` holds the unrelated topic the `none` label is about, while `new_topic` keeps the
/// post's own topic; VAST dev's `Target` is `topic_str` too.
const TARGET_COLUMNS: [&str; 4] = ["target", "topic_str", "topic", "Target"];
const LABEL_COLUMNS: [&str; 3] = ["label", "stance", "Stance"];

/// Parses "0=against,1=favor,2=none".
pub fn parse_label_map(text: &str) -> Result<BTreeMap<String, String>> {
    text.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|pair| {
            let (raw, ours) = pair.split_once('=').ok_or_else(|| Error::invalid(format!("label map entry '{pair}' is not RAW=LABEL")))?;
            Ok((raw.trim().to_string(), ours.trim().to_string()))
        })
        .collect()
}

fn resolve_label(spec: &DataSpec, labels: &[&str], raw: &str, origin: &str, line: u64) -> Result<usize> {
    let raw = raw.trim();
    let mapped = spec.label_map.get(raw).map(String::as_str).unwrap_or(raw);
    let lower = mapped.to_lowercase();
    labels.iter().position(|l| *l == lower).ok_or_else(|| {
        Error::line(origin, line, format!("unknown label '{raw}' (expected {}, or map it with --label-map)", labels.join(", ")))
    })
}

/// Reads examples from a CSV file, or from JSON lines when the name ends in `.jsonl`.
pub fn read_examples(path: &Path, spec: &DataSpec, task: Task) -> Result<Vec<Example>> {
    let (labels, task) = (&task.labels()[..], task.name());
    let origin = path.display().to_string();
    let examples = if origin.ends_with(".jsonl") { read_jsonl(path, spec, labels, task)? } else { read_csv(path, spec, labels, task)? };
    if examples.is_empty() {
        return Err(Error::file(&origin, "no examples".to_string()));
    }
    Ok(examples)
}

/// The column to use: the first present of the given comma-separated names (or, when none is
/// present, the first given, so the error names it), else the first present default.
fn pick<'a>(given: &'a Option<String>, defaults: &'a [&'a str], present: impl Fn(&str) -> bool) -> Option<&'a str> {
    match given {
        Some(names) => {
            let mut candidates = names.split(',').map(str::trim).filter(|n| !n.is_empty());
            let first = candidates.clone().next();
            candidates.find(|c| present(c)).or(first)
        }
        None => defaults.iter().copied().find(|c| present(c)),
    }
}

fn read_csv(path: &Path, spec: &DataSpec, labels: &[&str], task: &str) -> Result<Vec<Example>> {
    let file = CsvFile::open(path, "training file")?;
    let origin = file.origin().to_string();
    let label_defaults: Vec<&str> = std::iter::once(task).chain(LABEL_COLUMNS).collect();
    let text_name = pick(&spec.text_col, &TEXT_COLUMNS, |c| file.column(c).is_some()).unwrap_or("text");
    let label_name = pick(&spec.label_col, &label_defaults, |c| file.column(c).is_some()).unwrap_or(task);
    let required = file.require(&[text_name, label_name])?;
    let target_index = match pick(&spec.target_col, &TARGET_COLUMNS, |c| file.column(c).is_some()) {
        Some(name) if spec.target_col.is_some() => Some(file.require(&[name])?[0]),
        Some(name) => file.column(name),
        None => None,
    };
    let mut out = Vec::new();
    for row in file.rows() {
        let (line, record) = row?;
        let text = field(&record, required[0]);
        if text.is_empty() {
            return Err(Error::line(&origin, line, "empty text".to_string()));
        }
        let target =
            target_index.map(|k| field(&record, k)).filter(|t| !t.is_empty()).map(String::from).or_else(|| spec.default_target.clone());
        let target = target.ok_or_else(|| Error::line(&origin, line, "no target (add a target column or pass --target)".to_string()))?;
        let label = resolve_label(spec, labels, field(&record, required[1]), &origin, line)?;
        out.push(Example { text: collapse_whitespace(text), target, label });
    }
    Ok(out)
}

fn read_jsonl(path: &Path, spec: &DataSpec, labels: &[&str], task: &str) -> Result<Vec<Example>> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).at(path, "cannot read training file")?;
    let label_defaults: Vec<&str> = std::iter::once(task).chain(LABEL_COLUMNS).collect();
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i as u64 + 1;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(line).ok().ok_or_else(|| Error::line(&origin, line_no, "not JSON".to_string()))?;
        let object = value.as_object().ok_or_else(|| Error::line(&origin, line_no, "not a JSON object".to_string()))?;
        if object.contains_key("sentence_normalized") && object.contains_key("targets") {
            out.extend(newsmtsc_rows(object, spec, labels, &origin, line_no)?);
            continue;
        }
        let get = |name: &str| {
            object.get(name).and_then(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        let text_name = pick(&spec.text_col, &TEXT_COLUMNS, |c| object.contains_key(c)).unwrap_or("text");
        let label_name = pick(&spec.label_col, &label_defaults, |c| object.contains_key(c)).unwrap_or("label");
        let text =
            get(text_name).filter(|t| !t.trim().is_empty()).ok_or_else(|| Error::line(&origin, line_no, format!("no '{text_name}'")))?;
        let raw_label = get(label_name).ok_or_else(|| Error::line(&origin, line_no, format!("no '{label_name}'")))?;
        let target = pick(&spec.target_col, &TARGET_COLUMNS, |c| object.contains_key(c))
            .and_then(get)
            .filter(|t| !t.trim().is_empty())
            .or_else(|| spec.default_target.clone())
            .ok_or_else(|| Error::line(&origin, line_no, "no target (add a target field or pass --target)".to_string()))?;
        let label = resolve_label(spec, labels, &raw_label, &origin, line_no)?;
        out.push(Example { text: collapse_whitespace(&text), target, label });
    }
    Ok(out)
}

/// The rows of one NewsMTSC line (see [`NewsRows`]); polarity 2/4/6 is negative/neutral/positive.
fn newsmtsc_rows(
    object: &serde_json::Map<String, serde_json::Value>,
    spec: &DataSpec,
    labels: &[&str],
    origin: &str,
    line: u64,
) -> Result<Vec<Example>> {
    if labels != crate::labels::SENTIMENT_LABELS {
        return Err(Error::line(origin, line, "a NewsMTSC file trains the sentiment task (pass --task sentiment)".to_string()));
    }
    let text = object["sentence_normalized"].as_str().filter(|t| !t.trim().is_empty());
    let text = text.ok_or_else(|| Error::line(origin, line, "empty 'sentence_normalized'".to_string()))?;
    let text = collapse_whitespace(text);
    let targets = object["targets"].as_array().filter(|t| !t.is_empty());
    let targets = targets.ok_or_else(|| Error::line(origin, line, "'targets' is not a non-empty list".to_string()))?;
    let mut rows = Vec::new();
    for target in targets {
        let mention = target.get("mention").and_then(|m| m.as_str()).filter(|m| !m.trim().is_empty());
        let mention = mention.ok_or_else(|| Error::line(origin, line, "a target without 'mention'".to_string()))?;
        let polarity = target.get("polarity").and_then(|p| p.as_f64());
        let polarity = polarity.ok_or_else(|| Error::line(origin, line, format!("target '{mention}' without numeric 'polarity'")))?;
        let code = format!("{polarity}");
        let label = NEWSMTSC_POLARITY.iter().find(|(c, _)| *c == code).map(|(_, l)| *l);
        let label = label.ok_or_else(|| Error::line(origin, line, format!("unknown polarity {polarity} (expected 2, 4 or 6)")))?;
        let label = labels.iter().position(|l| *l == label).expect("sentiment labels");
        rows.push(Example { text: text.clone(), target: mention.trim().to_string(), label });
    }
    let agreed = rows.iter().all(|r| r.label == rows[0].label).then_some(rows[0].label);
    let sentence_row = agreed.map(|label| Example {
        text: text.clone(),
        target: spec.sentence_target.clone().unwrap_or_else(|| SENTENCE_TARGET.to_string()),
        label,
    });
    Ok(match spec.rows {
        NewsRows::All => rows.into_iter().chain(sentence_row).collect(),
        NewsRows::Targets => rows,
        NewsRows::Sentences => sentence_row.into_iter().collect(),
    })
}

/// Splits off a development set: the rows whose text hashes below `fraction`, so every row of
/// one sentence (or post) falls on the same side, and the split does not depend on row order.
pub fn hold_out(rows: Vec<Example>, fraction: f64) -> (Vec<Example>, Vec<Example>) {
    rows.into_iter().partition(|e| {
        let digest = Sha256::digest(e.text.as_bytes());
        let value = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes"));
        (value as f64 / u64::MAX as f64) >= fraction
    })
}

/// A seeded random sample of `n` rows (all of them, in file order, when there are no more).
pub fn sample_rows(mut rows: Vec<Example>, n: usize, seed: u64) -> Vec<Example> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    if n < rows.len() {
        rows.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
        rows.truncate(n);
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_fill_what_the_spec_leaves_open() {
        let vast = Format::Vast.apply(DataSpec::default(), Task::Stance);
        assert_eq!(
            (vast.text_col.as_deref(), vast.target_col.as_deref(), vast.label_col.as_deref()),
            (Some("post,Tweet"), Some("topic_str,Target"), Some("label,Stance"))
        );
        assert_eq!(vast.label_map["0"], "against");
        let mine = Format::Vast.apply(DataSpec { label_col: Some("y".into()), ..Default::default() }, Task::Stance);
        assert_eq!(mine.label_col.as_deref(), Some("y"), "an explicit column wins");
        let gold = Format::Gold.apply(DataSpec::default(), Task::Sentiment);
        assert_eq!((gold.text_col.as_deref(), gold.label_col.as_deref()), (Some("sentence"), Some("sentiment")));
    }

    #[test]
    fn reads_csv_and_jsonl_with_mapped_columns_and_labels() {
        let dir = tempfile::tempdir().unwrap();
        let csv = dir.path().join("vast.csv");
        std::fs::write(&csv, "post,new_topic,topic_str,label\nGreat plan.,the plan,plan,1\nBad plan.,the plan,plan,0\n").unwrap();
        let spec = DataSpec { label_map: parse_label_map("0=against,1=favor,2=none").unwrap(), ..Default::default() };
        let rows = read_examples(&csv, &spec, Task::Stance).unwrap();
        assert_eq!(rows[0], Example { text: "Great plan.".into(), target: "plan".into(), label: 0 });
        assert_eq!(rows[1].label, 1);
        let jsonl = dir.path().join("tags.jsonl");
        std::fs::write(&jsonl, "{\"sentence\": \"It helps.\", \"stance\": \"favor\"}\n\n{\"sentence\": \"No.\", \"stance\": \"none\"}\n")
            .unwrap();
        let spec = DataSpec { default_target: Some("Japan's rearmament".into()), ..Default::default() };
        let rows = read_examples(&jsonl, &spec, Task::Stance).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1], Example { text: "No.".into(), target: "Japan's rearmament".into(), label: 2 });
    }

    #[test]
    fn bad_training_files_say_where() {
        let dir = tempfile::tempdir().unwrap();
        let spec = DataSpec { default_target: Some("t".into()), ..Default::default() };
        let table: &[(&str, &str, &str)] = &[
            ("a.csv", "text,label\nFine.,favor\nOdd.,maybe\n", "a.csv: line 3: unknown label 'maybe'"),
            ("b.csv", "text\nFine.\n", "b.csv: line 1: missing column 'stance'"),
            ("c.csv", "text,label\n", "c.csv: no examples"),
            ("d.csv", "text,label\n,favor\n", "d.csv: line 2: empty text"),
            ("e.jsonl", "{\"text\": \"x\", \"label\": \"favor\"}\nnot json\n", "e.jsonl: line 2: not JSON"),
        ];
        for (name, content, expected) in table {
            let path = dir.path().join(name);
            std::fs::write(&path, content).unwrap();
            let err = format!("{:#}", read_examples(&path, &spec, Task::Stance).unwrap_err());
            assert!(err.contains(expected), "{err}");
        }
        let no_target = DataSpec::default();
        let path = dir.path().join("f.csv");
        std::fs::write(&path, "text,label\nFine.,favor\n").unwrap();
        let err = format!("{:#}", read_examples(&path, &no_target, Task::Stance).unwrap_err());
        assert!(err.contains("f.csv: line 2: no target"), "{err}");
    }

    #[test]
    fn newsmtsc_lines_give_target_rows_and_agreeing_sentence_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("news.jsonl");
        let line = |text: &str, targets: &[(&str, f64)]| {
            let targets: Vec<serde_json::Value> =
                targets.iter().map(|(m, p)| serde_json::json!({"mention": m, "polarity": p, "from": 0, "to": 1})).collect();
            serde_json::json!({"primary_gid": "x", "sentence_normalized": text, "targets": targets}).to_string()
        };
        let content = [
            line("Trump  praised Merkel.", &[("Trump", 4.0), ("Merkel", 6.0)]),
            line("Critics slammed the plan.", &[("Critics", 2.0), ("the plan", 2.0)]),
        ]
        .join("\n");
        std::fs::write(&path, content).unwrap();
        let (pos, neu, neg) = (0, 1, 2);
        let row = |text: &str, target: &str, label| Example { text: text.into(), target: target.into(), label };
        // rows → expected examples
        let table: &[(NewsRows, Vec<Example>)] = &[
            (
                NewsRows::All,
                vec![
                    row("Trump praised Merkel.", "Trump", neu),
                    row("Trump praised Merkel.", "Merkel", pos),
                    row("Critics slammed the plan.", "Critics", neg),
                    row("Critics slammed the plan.", "the plan", neg),
                    row("Critics slammed the plan.", SENTENCE_TARGET, neg),
                ],
            ),
            (NewsRows::Sentences, vec![row("Critics slammed the plan.", SENTENCE_TARGET, neg)]),
            (
                NewsRows::Targets,
                vec![
                    row("Trump praised Merkel.", "Trump", neu),
                    row("Trump praised Merkel.", "Merkel", pos),
                    row("Critics slammed the plan.", "Critics", neg),
                    row("Critics slammed the plan.", "the plan", neg),
                ],
            ),
        ];
        for (rows, expected) in table {
            let spec = DataSpec { rows: *rows, ..Default::default() };
            assert_eq!(&read_examples(&path, &spec, Task::Sentiment).unwrap(), expected, "{rows:?}");
        }
        let spec = DataSpec { rows: NewsRows::Sentences, sentence_target: Some("Japan's rearmament".into()), ..Default::default() };
        assert_eq!(read_examples(&path, &spec, Task::Sentiment).unwrap()[0].target, "Japan's rearmament");

        let bad: &[(&str, &str)] = &[
            (r#"{"sentence_normalized": "x", "targets": [{"mention": "x", "polarity": 5.0}]}"#, "line 1: unknown polarity 5"),
            (r#"{"sentence_normalized": "x", "targets": []}"#, "line 1: 'targets' is not a non-empty list"),
            (r#"{"sentence_normalized": "x", "targets": [{"polarity": 2.0}]}"#, "line 1: a target without 'mention'"),
        ];
        for (content, expected) in bad {
            std::fs::write(&path, content).unwrap();
            let err = format!("{:#}", read_examples(&path, &DataSpec::default(), Task::Sentiment).unwrap_err());
            assert!(err.contains("news.jsonl: ") && err.contains(expected), "{err}");
        }
        let err = format!("{:#}", read_examples(&path, &DataSpec::default(), Task::Stance).unwrap_err());
        assert!(err.contains("pass --task sentiment"), "{err}");
    }

    #[test]
    fn holdout_is_by_text_and_independent_of_order() {
        let rows: Vec<Example> =
            (0..400).map(|i| Example { text: format!("sentence {}", i / 2), target: format!("t{}", i % 2), label: 0 }).collect();
        let (train, dev) = hold_out(rows.clone(), 0.2);
        assert_eq!(train.len() + dev.len(), 400);
        assert!((60..=100).contains(&dev.len()), "{} dev rows", dev.len());
        assert!(dev.iter().all(|d| train.iter().all(|t| t.text != d.text)), "a sentence is on both sides");
        let mut reversed = rows;
        reversed.reverse();
        let (_, dev_again) = hold_out(reversed, 0.2);
        assert_eq!(dev_again.len(), dev.len());
        assert!(dev_again.iter().all(|d| dev.contains(d)));
    }
}
