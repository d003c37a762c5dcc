//! Gold files (hand-tagged sentences) and prediction files (`sentences.csv`), read with one
//! set of errors. Sentences are matched by document and normalised text, so a gold set
//! survives small splitter changes.

use crate::data::table::{field, unguard, CsvFile};
use crate::labels::{SENTIMENT_LABELS, STANCE_LABELS};
use crate::{Error, Result};
use std::path::Path;

/// One hand-tagged sentence.
#[derive(Debug, Clone)]
pub struct GoldRow {
    /// The row's line in the file (the header is line 1).
    pub line: u64,
    /// The sentence's document.
    pub doc_id: String,
    /// The sentence text as in the file (matching normalises it).
    pub sentence: String,
    /// Index of the gold stance label (favor, against, none).
    pub stance: usize,
    /// Index of the gold sentiment label (positive, neutral, negative); `None` where the file
    /// has no sentiment column or the cell is empty (a stance-only study: not tagged).
    pub sentiment: Option<usize>,
    /// Who tagged it, when the file has an `annotator` column.
    pub annotator: Option<String>,
}

/// One predicted sentence (from `sentences.csv`).
#[derive(Debug, Clone)]
pub struct PredRow {
    /// The sentence's document.
    pub doc_id: String,
    /// The sentence text as in the file (matching normalises it).
    pub text: String,
    /// Index of the predicted stance label (favor, against, none).
    pub stance: usize,
    /// Index of the predicted sentiment label (positive, neutral, negative).
    pub sentiment: usize,
}

/// Whitespace collapsed, curly quotes straightened.
pub fn normalise(text: &str) -> String {
    crate::text::split::collapse_whitespace(text).replace(['‘', '’', '‚', '′'], "'").replace(['“', '”', '„', '″'], "\"")
}

fn parse_label(labels: &[&str; 3], value: &str, what: &str, origin: &str, line: u64) -> Result<usize> {
    let v = value.trim().to_lowercase();
    labels
        .iter()
        .position(|l| *l == v)
        .ok_or_else(|| Error::line(origin, line, format!("unknown {what} label '{}' (expected {})", value.trim(), labels.join(", "))))
}

/// Reads a CSV with at least `columns`; yields (line, fields in `columns` order).
/// Optional columns follow the required ones in the fields, empty where the file lacks them.
fn read_columns(path: &Path, columns: &[&str], optional: &[&str], what: &'static str) -> Result<Vec<(u64, Vec<String>)>> {
    let file = CsvFile::open(path, what)?;
    let index: Vec<Option<usize>> =
        file.require(columns)?.into_iter().map(Some).chain(optional.iter().map(|name| file.column(name))).collect();
    file.rows()
        .map(|row| row.map(|(line, record)| (line, index.iter().map(|k| k.map_or("", |k| field(&record, k)).to_string()).collect())))
        .collect()
}

/// Reads a gold file: `doc_id,sentence,stance[,sentiment]` (extra columns allowed). Sentiment
/// is optional: an absent column or an empty cell is "not tagged".
pub fn read_gold(path: &Path) -> Result<Vec<GoldRow>> {
    let origin = path.display().to_string();
    let rows = read_columns(path, &["doc_id", "sentence", "stance"], &["annotator", "sentiment"], "gold file")?;
    if rows.is_empty() {
        return Err(Error::file(&origin, "the gold file has no rows".to_string()));
    }
    let gold = rows
        .into_iter()
        .map(|(line, f)| {
            if f[1].trim().is_empty() {
                return Err(Error::line(&origin, line, "empty sentence".to_string()));
            }
            Ok(GoldRow {
                line,
                stance: parse_label(&STANCE_LABELS, &f[2], "stance", &origin, line)?,
                sentiment: match f[4].trim() {
                    "" => None,
                    value => Some(parse_label(&SENTIMENT_LABELS, value, "sentiment", &origin, line)?),
                },
                doc_id: f[0].trim().to_string(),
                sentence: f[1].clone(),
                annotator: Some(f[3].trim().to_string()).filter(|a| !a.is_empty()),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    // A sentence tagged twice by one annotator would count twice in every figure.
    let mut seen: std::collections::HashMap<(&str, String, Option<&str>), &GoldRow> = std::collections::HashMap::new();
    for g in &gold {
        if let Some(first) = seen.insert((g.doc_id.as_str(), normalise(&g.sentence), g.annotator.as_deref()), g) {
            let how = if (first.stance, first.sentiment) == (g.stance, g.sentiment) { "again" } else { "again with other labels" };
            return Err(Error::line(
                &origin,
                g.line,
                format!("tags line {}'s sentence of document '{}' {how}: keep one row per sentence", first.line, g.doc_id),
            ));
        }
    }
    Ok(gold)
}

/// Reads predictions: a `sentences.csv` written by `stance run`.
pub fn read_predictions(path: &Path) -> Result<Vec<PredRow>> {
    let origin = path.display().to_string();
    // One sentence twice under different labels: which one a gold row meets would be chance.
    let mut labelled: std::collections::HashMap<(String, String), (u64, usize, usize)> = std::collections::HashMap::new();
    read_columns(path, &["doc_id", "text", "stance", "sentiment"], &[], "predictions file")?
        .into_iter()
        .map(|(line, f)| {
            let row = PredRow {
                stance: parse_label(&STANCE_LABELS, &f[2], "stance", &origin, line)?,
                sentiment: parse_label(&SENTIMENT_LABELS, &f[3], "sentiment", &origin, line)?,
                doc_id: unguard(f[0].trim()).to_string(),
                text: unguard(&f[1]).to_string(),
            };
            let key = (row.doc_id.clone(), normalise(&row.text));
            match labelled.get(&key) {
                Some(&(first, stance, sentiment)) if (stance, sentiment) != (row.stance, row.sentiment) => {
                    return Err(Error::line(
                        path,
                        line,
                        format!("the same sentence of '{}' as line {first}, with other labels: which one counts is not clear", row.doc_id),
                    ))
                }
                Some(_) => {}
                None => {
                    labelled.insert(key, (line, row.stance, row.sentiment));
                }
            }
            Ok(row)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_predicted_twice_under_other_labels_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sentences.csv");
        let head = "doc_id,text,stance,sentiment\n";
        // The same labels twice (a sentence a document repeats) are fine.
        std::fs::write(&path, format!("{head}d,Tokyo acts.,none,neutral\nd,Tokyo  acts.,none,neutral\ne,Tokyo acts.,favor,neutral\n"))
            .unwrap();
        assert_eq!(read_predictions(&path).unwrap().len(), 3);
        std::fs::write(&path, format!("{head}d,Tokyo acts.,none,neutral\nd,Other.,none,neutral\nd,Tokyo acts.,against,neutral\n")).unwrap();
        let err = read_predictions(&path).unwrap_err().to_string();
        assert!(err.contains("sentences.csv: line 4: the same sentence of 'd' as line 2, with other labels"), "{err}");
    }
}
