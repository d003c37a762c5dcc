//! Training-data composition from a recipe (`stance data compose RECIPE.toml`): which files,
//! which of their rows, how often, and which documents of a tagged set are held out. A
//! recipe in the repository and a seeded ChaCha RNG make a model's rows reproducible by
//! `stance` alone; `compose.json` beside the rows records the recipe and every source's
//! sha256.
//!
//! ```toml
//! seed = 7
//! [[train]]                       # hand-written rows, train set, twice
//! file = "data/written_stance.csv"
//! set = "train"
//! repeat = 2
//! [[train]]                       # a seeded sample of VAST, labels mapped
//! file = "../shared/datasets/vast/vast_train.csv"
//! text = "post"
//! target = "topic_str"
//! label = "label"
//! label_map = { "0" = "against", "1" = "favor", "2" = "none" }
//! sample = 2000
//! [[train]]                       # the tagged documents of fold 0 of 2; the rest held out
//! file = "eval/gold/allsides-dev.csv"
//! text = "sentence"
//! label = "stance"
//! target_value = "Japan's rearmament"
//! fold = "0/2"
//! [[dev]]
//! file = "data/written_stance.csv"
//! set = "dev"
//! ```

use crate::data::examples::DataSpec;
use crate::data::table::{field, CsvFile};
use crate::labels::{Task, STANCE_LABELS};
use crate::{Error, IoContext, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A composition recipe (see the module docs).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recipe {
    /// Seed of the samples and of the final shuffle of the training rows.
    pub seed: u64,
    /// Sources of training rows, in order.
    pub train: Vec<Source>,
    /// Sources of development rows (not shuffled).
    #[serde(default)]
    pub dev: Vec<Source>,
}

/// The most times one source's rows may be repeated.
pub const MAX_REPEAT: usize = 100;

/// One file's contribution.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    /// The CSV file, relative to the recipe's folder.
    pub file: PathBuf,
    /// A named format (`vast`): its text, target and label columns and label map, for the
    /// fields this source leaves at their defaults.
    #[serde(default)]
    pub format: Option<crate::data::examples::Format>,
    /// Text column.
    #[serde(default = "default_text")]
    pub text: String,
    /// Target column (ignored when `target_value` is set).
    #[serde(default = "default_target")]
    pub target: String,
    /// One target for every row of this file, instead of a column.
    #[serde(default)]
    pub target_value: Option<String>,
    /// Label column.
    #[serde(default = "default_label")]
    pub label: String,
    /// Raw label → stance label ("0" → "against"); labels not listed must be stance labels.
    #[serde(default)]
    pub label_map: BTreeMap<String, String>,
    /// Keep only rows whose `set` column has this value.
    #[serde(default)]
    pub set: Option<String>,
    /// Keep only rows whose columns have one of the listed values
    /// (`keep = { split = ["train"], topic = ["abortion", "gun control"] }`).
    #[serde(default)]
    pub keep: BTreeMap<String, Vec<String>>,
    /// Drop rows with this target.
    #[serde(default)]
    pub leave_out: Option<String>,
    /// A seeded sample of this many rows (all when there are fewer).
    #[serde(default)]
    pub sample: Option<usize>,
    /// How many times each row is taken.
    #[serde(default = "one")]
    pub repeat: usize,
    /// "K/N": only the rows of the documents in fold K of N (by SHA-256 of `doc_id`); the other
    /// folds' rows are written, whole, to `heldout`.
    #[serde(default)]
    pub fold: Option<String>,
    /// Where the held-out folds' rows go, relative to the output folder.
    #[serde(default = "default_heldout")]
    pub heldout: String,
}

fn default_text() -> String {
    "text".into()
}
fn default_target() -> String {
    "target".into()
}
fn default_label() -> String {
    "stance".into()
}
fn default_heldout() -> String {
    "gold-heldout.csv".into()
}
fn one() -> usize {
    1
}

/// A composed row: (text, target, stance label).
pub type Row = (String, String, String);

/// Tagged records kept out of training: the file's header and the records, as read.
pub type Records = (Vec<String>, Vec<Vec<String>>);

/// What a recipe composed.
#[derive(Debug, Clone)]
pub struct Composed {
    /// Training rows, shuffled.
    pub train: Vec<Row>,
    /// Development rows, in recipe order.
    pub dev: Vec<Row>,
    /// Held-out files: name → (header, records) of the tagged rows not trained on.
    pub heldout: BTreeMap<String, Records>,
    /// Per source: file, sha256, rows taken (after sampling, before repeating).
    pub sources: Vec<(PathBuf, String, usize)>,
}

impl Recipe {
    /// Reads and checks a recipe file.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).at(path, "cannot read recipe")?;
        let recipe: Recipe = toml::from_str(&text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start].matches('\n').count() as u64 + 1);
            match line {
                Some(line) => Error::line(path, line, e.message().trim()),
                None => Error::file(path, e.message().trim()),
            }
        })?;
        if recipe.train.is_empty() {
            return Err(Error::file(path, "the recipe has no [[train]] source"));
        }
        let mut heldout_names = std::collections::HashSet::new();
        for source in recipe.train.iter().chain(&recipe.dev) {
            if source.fold.is_some() {
                let name = source.heldout.as_str();
                let plain = !name.is_empty() && !name.starts_with('.') && !name.contains(['/', '\\']);
                if !plain || ["train.csv", "dev.csv", "compose.json"].contains(&name) || !heldout_names.insert(name) {
                    return Err(Error::file(
                        path,
                        format!("heldout '{name}': needs a plain file name, not train.csv, dev.csv or compose.json, and one per source"),
                    ));
                }
            }
            // A source repeated more than this is a typo, and would fill memory before failing.
            if !(1..=MAX_REPEAT).contains(&source.repeat) {
                return Err(Error::file(
                    path,
                    format!("{}: repeat = {}: must be between 1 and {MAX_REPEAT}", source.file.display(), source.repeat),
                ));
            }
            if let Some(fold) = &source.fold {
                parse_fold(fold).ok_or_else(|| Error::file(path, format!("fold '{fold}': expected K/N with 0 ≤ K < N and N ≥ 2")))?;
            }
        }
        Ok(recipe)
    }
}

fn parse_fold(text: &str) -> Option<(u64, u64)> {
    let (k, n) = text.split_once('/')?;
    let (k, n): (u64, u64) = (k.trim().parse().ok()?, n.trim().parse().ok()?);
    (n >= 2 && k < n).then_some((k, n))
}

/// The fold of a document: the first 8 bytes of SHA-256(doc_id), big-endian, modulo `n`.
pub fn fold_of(doc_id: &str, n: u64) -> u64 {
    let digest = Sha256::digest(doc_id.as_bytes());
    u64::from_be_bytes(digest[..8].try_into().expect("8 bytes")) % n
}

/// One source's rows (sampled, not repeated), and its held-out records when it has a fold.
fn read_source(source: &Source, base: &Path, rng: &mut ChaCha8Rng) -> Result<(Vec<Row>, Option<Records>)> {
    // A named format fills the columns and label map this source leaves at their defaults;
    // a column may name candidates ("post,Tweet"), the first present one is read.
    let open = |value: &str, default: String| (value != default).then(|| value.to_string());
    let given = DataSpec {
        text_col: open(&source.text, default_text()),
        target_col: open(&source.target, default_target()),
        label_col: open(&source.label, default_label()),
        label_map: source.label_map.clone(),
        ..Default::default()
    };
    let spec = match source.format {
        Some(format) => format.apply(given, Task::Stance),
        None => given,
    };
    let path = base.join(&source.file);
    let file = CsvFile::open(&path, "source file")?;
    let header: Vec<String> = file.headers().map(String::from).collect();
    let column = |names: Option<String>, default: String| -> Result<usize> {
        let names = names.unwrap_or(default);
        let mut candidates = names.split(',').map(str::trim);
        match candidates.clone().find_map(|name| file.column(name)) {
            Some(index) => Ok(index),
            None => Ok(file.require(&[candidates.next().unwrap_or_default()])?[0]),
        }
    };
    let text_col = column(spec.text_col, default_text())?;
    let label_col = column(spec.label_col, default_label())?;
    let target_col = match source.target_value {
        Some(_) => None,
        None => Some(column(spec.target_col, default_target())?),
    };
    let label_map = spec.label_map;
    let set_col = source.set.as_ref().map(|_| file.require(&["set"]).map(|c| c[0])).transpose()?;
    let keep: Vec<(usize, &Vec<String>)> =
        source.keep.iter().map(|(name, values)| Ok((file.require(&[name.as_str()])?[0], values))).collect::<Result<_>>()?;
    let fold = source.fold.as_deref().and_then(parse_fold);
    let doc_col = fold.map(|_| file.require(&["doc_id"]).map(|c| c[0])).transpose()?;
    let mut rows = Vec::new();
    let mut heldout = Vec::new();
    for record in file.rows() {
        let (line, record) = record?;
        if let (Some(col), Some(want)) = (set_col, &source.set) {
            if field(&record, col) != want {
                continue;
            }
        }
        if !keep.iter().all(|(col, values)| values.iter().any(|v| v == field(&record, *col))) {
            continue;
        }
        if let (Some((k, n)), Some(col)) = (fold, doc_col) {
            if fold_of(field(&record, col), n) != k {
                heldout.push(record.iter().map(String::from).collect());
                continue;
            }
        }
        let target = match (&source.target_value, target_col) {
            (Some(value), _) => value.clone(),
            (None, Some(col)) => field(&record, col).to_string(),
            (None, None) => unreachable!("a target column or value"),
        };
        if source.leave_out.as_deref() == Some(target.as_str()) {
            continue;
        }
        let raw = field(&record, label_col);
        let label = label_map.get(raw).map(String::as_str).unwrap_or(raw).to_lowercase();
        if !STANCE_LABELS.contains(&label.as_str()) {
            return Err(Error::line(&path, line, format!("unknown label '{raw}' (expected {}, or map it)", STANCE_LABELS.join(", "))));
        }
        // The text as written (no whitespace collapsing): training reads it the same way.
        let text = record.get(text_col).unwrap_or("").to_string();
        if text.trim().is_empty() {
            return Err(Error::line(&path, line, "empty text"));
        }
        rows.push((text, target, label));
    }
    if let Some(n) = source.sample {
        rows.shuffle(rng);
        rows.truncate(n);
    }
    Ok((rows, fold.map(|_| (header, heldout))))
}

/// Composes the rows `recipe` describes; file paths are relative to `base` (the recipe's
/// folder).
pub fn compose(recipe: &Recipe, base: &Path) -> Result<Composed> {
    let mut rng = ChaCha8Rng::seed_from_u64(recipe.seed);
    let mut composed = Composed { train: Vec::new(), dev: Vec::new(), heldout: BTreeMap::new(), sources: Vec::new() };
    for (sources, is_train) in [(&recipe.train, true), (&recipe.dev, false)] {
        for source in sources {
            let (rows, heldout) = read_source(source, base, &mut rng)?;
            let path = base.join(&source.file);
            composed.sources.push((source.file.clone(), crate::digest::sha256_file(&path)?, rows.len()));
            let out = if is_train { &mut composed.train } else { &mut composed.dev };
            for _ in 0..source.repeat {
                out.extend(rows.iter().cloned());
            }
            if let Some(heldout) = heldout {
                composed.heldout.insert(source.heldout.clone(), heldout);
            }
        }
    }
    composed.train.shuffle(&mut rng);
    Ok(composed)
}

/// `text,target,stance` rows as CSV.
pub fn rows_csv(rows: &[Row]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(["text", "target", "stance"])?;
    for (text, target, label) in rows {
        w.write_record([text, target, label])?;
    }
    Ok(w.into_inner()?)
}

/// Records under a header, as CSV.
pub fn records_csv(header: &[String], records: &[Vec<String>]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for record in records {
        w.write_record(record)?;
    }
    Ok(w.into_inner()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    #[test]
    fn a_recipe_takes_sets_samples_repeats_maps_and_folds() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "written.csv", "text,target,stance,set\nA.,t,favor,train\nB.,t,none,dev\nC.,u,against,train\n");
        write(d, "vast.csv", "post,topic_str,label\nP1,x,0\nP2,x,1\nP3,x,2\nP4,x,1\n");
        write(d, "gold.csv", "doc_id,sentence,stance\nd1,G1.,none\nd2,G2.,favor\nd3,G3.,against\nd1,G4.,none\n");
        write(
            d,
            "recipe.toml",
            r#"seed = 3
[[train]]
file = "written.csv"
set = "train"
repeat = 2
leave_out = "u"
[[train]]
file = "vast.csv"
text = "post"
target = "topic_str"
label = "label"
label_map = { "0" = "against", "1" = "favor", "2" = "none" }
sample = 2
[[train]]
file = "gold.csv"
text = "sentence"
target_value = "T"
fold = "0/2"
[[train]]
file = "written.csv"
keep = { set = ["dev"], target = ["t", "w"] }
label_map = { none = "against" }
[[dev]]
file = "written.csv"
set = "dev"
"#,
        );
        let recipe = Recipe::read(&d.join("recipe.toml")).unwrap();
        let a = compose(&recipe, d).unwrap();
        assert_eq!(a.train.iter().filter(|r| r.0 == "A.").count(), 2, "repeated");
        assert!(!a.train.iter().any(|r| r.0 == "C."), "left out");
        let kept: Vec<&Row> = a.train.iter().filter(|r| r.0 == "B.").collect();
        assert_eq!(kept, vec![&("B.".to_string(), "t".to_string(), "against".to_string())], "kept by columns, label mapped");
        assert_eq!(a.train.iter().filter(|r| r.0.starts_with('P')).count(), 2, "sampled");
        assert!(a.train.iter().filter(|r| r.0.starts_with('P')).all(|r| r.1 == "x" && STANCE_LABELS.contains(&r.2.as_str())));
        let in_fold: Vec<&str> = ["d1", "d2", "d3"].into_iter().filter(|d| fold_of(d, 2) == 0).collect();
        let gold_rows: Vec<&Row> = a.train.iter().filter(|r| r.0.starts_with('G')).collect();
        assert!(gold_rows.iter().all(|r| r.1 == "T"));
        let (_, held) = &a.heldout["gold-heldout.csv"];
        assert_eq!(gold_rows.len() + held.len(), 4, "every gold row trained on or held out");
        assert!(held.iter().all(|r| !in_fold.contains(&r[0].as_str())), "held-out rows come from the other fold");
        assert_eq!(a.dev, vec![("B.".to_string(), "t".to_string(), "none".to_string())]);
        // The same recipe composes the same rows; another seed shuffles otherwise.
        assert_eq!(compose(&recipe, d).unwrap().train, a.train);
        let other = Recipe { seed: 4, ..recipe.clone() };
        assert_ne!(compose(&other, d).unwrap().train, a.train);
    }

    #[test]
    fn bad_recipes_and_sources_say_where() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "rows.csv", "text,target,stance\nA.,t,maybe\n");
        let table: &[(&str, &str)] = &[
            ("seed = 1\ntrain = []\n", "has no [[train]] source"),
            ("seed = 1\n[[train]]\nfile = \"rows.csv\"\nfold = \"2/2\"\n", "fold '2/2'"),
            ("seed = 1\n[[train]]\nfile = \"rows.csv\"\nbogus = 1\n", "line 4"),
            ("seed = 1\n[[train]]\nfile = \"rows.csv\"\nfold = \"0/2\"\nheldout = \"../x.csv\"\n", "heldout '../x.csv'"),
            ("seed = 1\n[[train]]\nfile = \"rows.csv\"\nfold = \"0/2\"\nheldout = \"train.csv\"\n", "heldout 'train.csv'"),
            (
                "seed = 1\n[[train]]\nfile = \"rows.csv\"\nrepeat = 100000000000\n",
                "rows.csv: repeat = 100000000000: must be between 1 and 100",
            ),
            ("seed = 1\n[[train]]\nfile = \"rows.csv\"\nrepeat = 0\n", "repeat = 0: must be between 1 and 100"),
        ];
        for (text, expected) in table {
            write(d, "r.toml", text);
            let err = Recipe::read(&d.join("r.toml")).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}");
        }
        write(d, "r.toml", "seed = 1\n[[train]]\nfile = \"rows.csv\"\n");
        let err = compose(&Recipe::read(&d.join("r.toml")).unwrap(), d).unwrap_err().to_string();
        assert!(err.ends_with("rows.csv: line 2: unknown label 'maybe' (expected favor, against, none, or map it)"), "{err}");
    }
}
