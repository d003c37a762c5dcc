//! The hand-written training rows (data/written_*.csv) and the real tagged ones (data/real_tagged.csv, data/real_tagged_2.csv) against every evaluation set the
//! model cards cite (eval/gold/*.csv, eval/written/*.csv): no row may be a copy or a near copy
//! of a sentence a figure is measured on. Measured on 2026-11-22: the closest pair has word
//! Jaccard 0.522 and the longest shared run is 9 words (news formulae such as "the cabinet
//! approved a draft defense budget"), written by different hands.

use stance_core::data::leakage::{closest, words};
use std::path::Path;

fn root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn column(path: &Path, name: &str) -> Vec<String> {
    let mut reader = csv::Reader::from_path(path).unwrap();
    let index = reader.headers().unwrap().iter().position(|h| h == name).unwrap_or_else(|| panic!("{}: no {name}", path.display()));
    reader.records().map(|r| r.unwrap()[index].to_string()).collect()
}

fn csv_files(dir: &str) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    files
}

#[test]
fn written_training_rows_are_not_copies_of_evaluation_sentences() {
    let mut evaluation: Vec<String> = Vec::new();
    for file in csv_files("eval/gold") {
        evaluation.extend(column(&file, "sentence"));
    }
    for file in csv_files("eval/written") {
        evaluation.extend(column(&file, "text"));
    }
    evaluation.sort();
    evaluation.dedup();
    assert!(evaluation.len() > 1000, "evaluation sets not found: {}", evaluation.len());
    let evaluation_words: Vec<Vec<String>> = evaluation.iter().map(|s| words(s)).collect();

    let mut written: Vec<(std::path::PathBuf, &str)> = csv_files("data")
        .into_iter()
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("written_"))
        .map(|p| (p, "text"))
        .collect();
    assert!(written.len() >= 3, "written rows not found");
    // The real tagged training sentences: other documents than the real development set's, and
    // no wire copy of one of its sentences either.
    written.push((root().join("data/real_tagged.csv"), "sentence"));
    written.push((root().join("data/real_tagged_2.csv"), "sentence"));
    let mut failures = Vec::new();
    let mut rows = 0;
    for (file, text_column) in &written {
        for text in column(file, text_column) {
            rows += 1;
            let c = closest(&words(&text), &evaluation_words);
            if c.jaccard >= 0.6 || c.run >= 12 {
                failures.push(format!(
                    "{}: {text:?}\n  Jaccard {:.3} with {:?}\n  {} shared words in a row with {:?}",
                    file.display(),
                    c.jaccard,
                    evaluation[c.jaccard_with],
                    c.run,
                    evaluation[c.run_with]
                ));
            }
        }
    }
    assert!(rows > 600, "{rows} written rows");
    assert!(failures.is_empty(), "{} written rows come too close to evaluation sentences:\n{}", failures.len(), failures.join("\n"));
}
