//! The report files: `sentences.csv` (one row per labelled sentence), `profiles.csv` (per
//! document, outlet and group), `comparison.csv` (per pair of groups). Numbers are written
//! with fixed precision so that the same input gives byte-identical files.

use anyhow::Result;
use stance_core::aggregate::{Comparison, Profile, SentenceRow};
use stance_core::labels::{Probs, SENTIMENT_LABELS, STANCE_LABELS};
use stance_core::stats::Estimate;

/// The label and probability columns of `sentences.csv` and of `stance classify` output.
pub const LABEL_COLUMNS: [&str; 12] = [
    "stance",
    "p_favor",
    "p_against",
    "p_none",
    "sentiment",
    "p_positive",
    "p_neutral",
    "p_negative",
    "target_sentiment",
    "p_target_positive",
    "p_target_neutral",
    "p_target_negative",
];

/// The columns of `sentences.csv`, in order.
pub fn sentence_columns() -> Vec<&'static str> {
    ["doc_id", "outlet", "group", "sentence_id", "start", "end", "text"].into_iter().chain(LABEL_COLUMNS).collect()
}

/// A probability as the reports write it: four decimals.
pub fn prob(p: f32) -> String {
    format!("{p:.4}")
}

fn num(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x:.4}")
    }
}

fn share(count: usize, total: usize) -> String {
    if total == 0 {
        String::new()
    } else {
        format!("{:.4}", count as f64 / total as f64)
    }
}

/// The label and probability cells of one sentence: stance, p×3, sentiment, p×3, and target
/// sentiment, p×3 (empty when the sentence does not mention the entity).
pub fn label_cells(p: &Probs) -> Vec<String> {
    let mut cells = vec![p.stance_label().to_string()];
    cells.extend(p.stance.iter().map(|&x| prob(x)));
    cells.push(p.sentiment_label().to_string());
    cells.extend(p.sentiment.iter().map(|&x| prob(x)));
    cells.push(p.target_sentiment_label().unwrap_or_default().to_string());
    match p.target_sentiment {
        Some(t) => cells.extend(t.iter().map(|&x| prob(x))),
        None => cells.extend(std::iter::repeat_n(String::new(), 3)),
    }
    cells
}

/// A text cell as written: as it is, or with `safe` (`--csv-safe`) a cell a spreadsheet would
/// read as a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a
/// leading `'`. Off by default because it changes the text. Keys (ids, outlets, groups) are
/// guarded too; this tool's readers take the `'` off again
/// ([`stance_core::data::table::unguard`]), so eval, sample and report still match them.
pub fn text_cell(text: &str, safe: bool) -> String {
    if safe && text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// With `excel`, `csv` with a UTF-8 byte-order mark in front: Excel then reads the file as
/// UTF-8 instead of the system code page (other tools read it either way). Off by default.
pub fn for_excel(csv: Vec<u8>, excel: bool) -> Vec<u8> {
    if excel {
        [&b"\xef\xbb\xbf"[..], &csv].concat()
    } else {
        csv
    }
}

/// `sentences.csv`: the [`sentence_columns`] header, then one line per row, in order.
pub fn sentences_csv(rows: &[SentenceRow], safe: bool) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(sentence_columns())?;
    for r in rows {
        w.write_record(sentence_record(r, safe))?;
    }
    Ok(w.into_inner()?)
}

/// One line of `sentences.csv`.
pub fn sentence_record(r: &SentenceRow, safe: bool) -> Vec<String> {
    let mut record = vec![
        // Readers unguard keys, so eval, sample and the page still match documents by them.
        text_cell(r.doc_id, safe),
        text_cell(r.outlet, safe),
        text_cell(r.group, safe),
        r.sentence_id.to_string(),
        r.start.to_string(),
        r.end.to_string(),
        text_cell(r.text, safe),
    ];
    record.extend(label_cells(&r.probs));
    record
}

/// `profiles.csv`: one line per profile with its label counts and shares and its indices with
/// their intervals; cells are empty where a value is undefined or there is no calibration.
pub fn profiles_csv(profiles: &[Profile], safe: bool) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["level", "key", "n_documents", "n_sentences"].map(String::from).to_vec();
    let estimate_cols = |name: &str| [name.to_string(), format!("{name}_low"), format!("{name}_high")];
    for (labels, index) in [(STANCE_LABELS, "stance_index"), (SENTIMENT_LABELS, "sentiment_index")] {
        header.extend(labels.iter().map(|l| format!("n_{l}")));
        header.extend(labels.iter().map(|l| format!("share_{l}")));
        header.extend(estimate_cols(index));
    }
    header.push("n_mentions".into());
    header.extend(SENTIMENT_LABELS.iter().map(|l| format!("n_target_{l}")));
    header.extend(SENTIMENT_LABELS.iter().map(|l| format!("share_target_{l}")));
    header.extend(estimate_cols("target_sentiment_index"));
    for l in STANCE_LABELS {
        header.extend(estimate_cols(&format!("adjusted_share_{l}")));
    }
    header.extend(estimate_cols("adjusted_stance_index"));
    w.write_record(&header)?;
    let estimate = |e: &Estimate| [num(e.value), num(e.low), num(e.high)];
    for p in profiles {
        let mut record = vec![p.level.to_string(), text_cell(&p.key, safe), p.n_documents.to_string(), p.n_sentences.to_string()];
        for (counts, index) in [(&p.stance_counts, &p.stance_index), (&p.sentiment_counts, &p.sentiment_index)] {
            record.extend(counts.iter().map(|c| c.to_string()));
            record.extend(counts.iter().map(|&c| share(c, p.n_sentences)));
            record.extend(estimate(index));
        }
        record.push(p.n_mentions.to_string());
        record.extend(p.target_sentiment_counts.iter().map(|c| c.to_string()));
        record.extend(p.target_sentiment_counts.iter().map(|&c| share(c, p.n_mentions)));
        record.extend(estimate(&p.target_sentiment_index));
        match &p.adjusted {
            Some(adj) => {
                adj.shares.iter().for_each(|e| record.extend(estimate(e)));
                record.extend(estimate(&adj.index));
            }
            None => record.extend(std::iter::repeat_n(String::new(), 12)),
        }
        w.write_record(&record)?;
    }
    Ok(w.into_inner()?)
}

/// `comparison.csv`: one line per pair of groups, with their stance indices, the difference
/// and its interval, the JS distance, and the error-adjusted difference when calibrated.
pub fn comparison_csv(comparisons: &[Comparison], safe: bool) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "group_a",
        "group_b",
        "n_a",
        "n_b",
        "stance_index_a",
        "stance_index_b",
        "index_difference",
        "difference_low",
        "difference_high",
        "js_distance",
        "docs_a",
        "docs_b",
        "describes",
        "adjusted_difference",
        "adjusted_difference_low",
        "adjusted_difference_high",
    ])?;
    for c in comparisons {
        let d = &c.index_difference;
        w.write_record([
            text_cell(&c.group_a, safe),
            text_cell(&c.group_b, safe),
            c.n_a.to_string(),
            c.n_b.to_string(),
            num(c.index_a),
            num(c.index_b),
            num(d.value),
            num(d.low),
            num(d.high),
            num(c.js_distance),
            c.docs_a.to_string(),
            c.docs_b.to_string(),
            if c.describes_groups() { "groups".to_string() } else { "documents (fewer than 2 a side)".to_string() },
            c.adjusted_difference.map_or(String::new(), |d| num(d.value)),
            c.adjusted_difference.map_or(String::new(), |d| num(d.low)),
            c.adjusted_difference.map_or(String::new(), |d| num(d.high)),
        ])?;
    }
    Ok(w.into_inner()?)
}
