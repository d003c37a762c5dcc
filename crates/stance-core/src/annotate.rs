//! Hand-tagging as part of the tool: choosing which sentences to tag (`stance sample`) and
//! measuring how far taggers agree (`stance agree`). Every figure a researcher reports rests on
//! a tagged set; choosing its rows by a named, seeded strategy and measuring its reliability
//! with the standard statistics (Cohen's and Fleiss' kappa, Krippendorff's alpha) makes that
//! set reproducible and its quality a number, not a claim.

use crate::data::gold::normalise;
use crate::data::table::{field, unguard, CsvFile};
use crate::stats::{bootstrap_statistic, Bootstrap, Estimate};
use crate::{Error, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::Path;

/// The columns of a tagging sheet, in order: the gold format's four, then context and
/// provenance. `model_*` columns are added only when asked (they can anchor a tagger).
pub const SHEET_COLUMNS: [&str; 12] =
    ["doc_id", "sentence_id", "sentence", "stance", "sentiment", "annotator", "tagged_at", "note", "outlet", "group", "title", "previous"];
/// The last context column, after `previous`.
pub const NEXT_COLUMN: &str = "next";

/// One sentence of a run, with what a tagger needs to see around it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The sentence's document.
    pub doc_id: String,
    /// The sentence's number within its document (the run's `sentence_id`).
    pub sentence_id: usize,
    /// The document's outlet; empty when the run has no `outlet` column.
    pub outlet: String,
    /// The document's source group; empty when the run has no `group` column.
    pub group: String,
    /// The sentence text.
    pub text: String,
    /// The model's stance probabilities (favor, against, none), when the run has them.
    pub p_stance: Option<[f64; 3]>,
    /// The run's stance label (favor, against or none); empty when the run has none.
    pub stance: String,
    /// The run's sentiment label (positive, neutral or negative); empty when the run has none.
    pub sentiment: String,
}

/// How `stance sample` chooses sentences.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Strategy {
    /// Uniformly at random.
    Random,
    /// The same number from each stratum (--by group, outlet or doc), at random within each.
    Stratified,
    /// The model's least certain stance labels first (highest entropy): the active-learning pick.
    Uncertain,
    /// Sentences whose stance label differs between this run and --other-run (e.g. the
    /// zero-shot labeler), at random.
    Disagree,
    /// Sentences the model labelled favor or against, at random: a check of the precision of
    /// its stance calls.
    Stance,
    /// Whole documents' relevant passages: documents drawn in turn from each stratum (--by), and
    /// in each every sentence matching --focus plus --window sentences either side.
    Documents,
}

/// What a stratum is, for `stratified` and `documents`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Stratum {
    /// Each source group of the manifest.
    Group,
    /// Each outlet.
    Outlet,
    /// Each document.
    Doc,
}

/// Everything `sample` needs besides the candidates.
#[derive(Debug, Clone)]
pub struct SampleSpec {
    /// How to choose the sentences.
    pub strategy: Strategy,
    /// How many sentences to choose: fewer when fewer are eligible; `documents` may take more
    /// to keep a document's passages whole.
    pub n: usize,
    /// Seed of the random choices: the same seed and input give the same sample.
    pub seed: u64,
    /// The strata of `stratified` and `documents`.
    pub by: Stratum,
    /// For `documents`: which sentences count as relevant (case-insensitive); none = all.
    pub focus: Option<regex::Regex>,
    /// For `documents`: sentences taken either side of each relevant one.
    pub window: usize,
}

/// Another run's sentences for `--strategy disagree`: (text, stance) per (doc_id, sentence_id).
pub type OtherRun = HashMap<(String, usize), (String, String)>;

/// The first 60 characters of `text`, for an error message.
fn short(text: &str) -> String {
    match text.char_indices().nth(60) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Reads a run's `sentences.csv` in file order.
pub fn read_candidates(path: &Path) -> Result<Vec<Candidate>> {
    let file = CsvFile::open(path, "sentences file")?;
    let origin = file.origin().to_string();
    let idx = file.require(&["doc_id", "sentence_id", "text"])?;
    let opt = |name: &str| file.column(name);
    let (outlet, group, stance, sentiment) = (opt("outlet"), opt("group"), opt("stance"), opt("sentiment"));
    let probs = [opt("p_favor"), opt("p_against"), opt("p_none")];
    let mut out = Vec::new();
    for row in file.rows() {
        let (line, r) = row?;
        let get = |i: Option<usize>| i.map(|i| field(&r, i).to_string()).unwrap_or_default();
        let sentence_id = field(&r, idx[1])
            .parse::<usize>()
            .ok()
            .ok_or_else(|| Error::line(&origin, line, format!("sentence_id '{}' is not a number", field(&r, idx[1]))))?;
        let p_stance = match probs {
            [Some(a), Some(b), Some(c)] => {
                let mut p = [0.0; 3];
                for (k, i) in [a, b, c].into_iter().enumerate() {
                    p[k] = field(&r, i)
                        .parse()
                        .ok()
                        .ok_or_else(|| Error::line(&origin, line, format!("probability '{}' is not a number", field(&r, i))))?;
                }
                Some(p)
            }
            _ => None,
        };
        out.push(Candidate {
            doc_id: unguard(field(&r, idx[0])).to_string(),
            sentence_id,
            outlet: unguard(&get(outlet)).to_string(),
            group: unguard(&get(group)).to_string(),
            text: unguard(field(&r, idx[2])).to_string(),
            p_stance,
            stance: get(stance),
            sentiment: get(sentiment),
        });
    }
    if out.is_empty() {
        return Err(Error::file(&origin, "no sentences".to_string()));
    }
    Ok(out)
}

/// Normalised sentence texts of gold-format files, to leave out of a sample.
pub fn read_excluded(paths: &[impl AsRef<Path>]) -> Result<HashSet<String>> {
    let mut set = HashSet::new();
    for path in paths {
        let file = CsvFile::open(path.as_ref(), "gold file")?;
        let k = file.require(&["sentence"])?[0];
        for row in file.rows() {
            set.insert(normalise(field(&row?.1, k)));
        }
    }
    Ok(set)
}

fn entropy(p: &[f64; 3]) -> f64 {
    -p.iter().filter(|&&x| x > 0.0).map(|&x| x * x.ln()).sum::<f64>()
}

fn stratum_of(c: &Candidate, by: Stratum) -> &str {
    match by {
        Stratum::Group => &c.group,
        Stratum::Outlet => &c.outlet,
        Stratum::Doc => &c.doc_id,
    }
}

/// Chooses up to `spec.n` sentences (indices into `candidates`, in corpus order) by the named
/// strategy. Excluded texts and repeated texts are never chosen, and with `within` only texts in
/// it are (e.g. re-tagging part of a gold set); `other` gives, for
/// `disagree`, the other labeler's sentence text and stance per (doc_id, sentence_id).
pub fn sample(
    candidates: &[Candidate],
    spec: &SampleSpec,
    excluded: &HashSet<String>,
    within: Option<&HashSet<String>>,
    other: Option<&OtherRun>,
) -> Result<Vec<usize>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(spec.seed);
    let mut seen = excluded.clone();
    // Eligible: not excluded, in `within` if given, and the first occurrence of its text (a
    // repeated headline is tagged once).
    let eligible: Vec<usize> = (0..candidates.len())
        .filter(|&i| {
            let text = normalise(&candidates[i].text);
            within.is_none_or(|w| w.contains(&text)) && seen.insert(text)
        })
        .collect();
    let mut chosen: Vec<usize> = match spec.strategy {
        Strategy::Random => random_prefix(eligible, spec.n, &mut rng),
        Strategy::Stratified => {
            let mut strata: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for &i in &eligible {
                strata.entry(stratum_of(&candidates[i], spec.by)).or_default().push(i);
            }
            for pool in strata.values_mut() {
                pool.shuffle(&mut rng);
                pool.reverse(); // pop() then takes them in shuffled order
            }
            round_robin(strata.into_values().collect(), spec.n, |pool| pool.pop().map(|i| vec![i]))
        }
        Strategy::Uncertain => {
            if eligible.iter().any(|&i| candidates[i].p_stance.is_none()) {
                crate::invalid!("--strategy uncertain needs the stance probabilities (p_favor, p_against, p_none) of a labelled run");
            }
            let mut pool = eligible;
            pool.shuffle(&mut rng); // ties broken at random, reproducibly
            pool.sort_by(|&a, &b| entropy(&candidates[b].p_stance.unwrap()).total_cmp(&entropy(&candidates[a].p_stance.unwrap())));
            pool.truncate(spec.n);
            pool
        }
        Strategy::Disagree => {
            let other = other
                .ok_or_else(|| Error::invalid("--strategy disagree needs --other-run DIR (a run of another labeler on the same corpus)"))?;
            // Sentences pair by (doc_id, sentence_id) only when they are the same sentence: a run
            // of another corpus, or of other cleaning, would pair unrelated sentences.
            let mut pool = Vec::new();
            for i in eligible {
                let c = &candidates[i];
                let Some((text, label)) = other.get(&(c.doc_id.clone(), c.sentence_id)) else { continue };
                if normalise(text) != normalise(&c.text) {
                    return Err(Error::invalid(format!(
                        "--other-run's sentence {} of '{}' is not this run's (\"{}\" vs \"{}\"): the runs must be of the same corpus, cleaned alike",
                        c.sentence_id,
                        c.doc_id,
                        short(text),
                        short(&c.text)
                    )));
                }
                if *label != c.stance {
                    pool.push(i);
                }
            }
            random_prefix(pool, spec.n, &mut rng)
        }
        Strategy::Stance => {
            let pool = eligible.into_iter().filter(|&i| matches!(candidates[i].stance.as_str(), "favor" | "against")).collect();
            random_prefix(pool, spec.n, &mut rng)
        }
        Strategy::Documents => {
            let eligible_set: HashSet<usize> = eligible.iter().copied().collect();
            // Per document, in corpus order: its eligible relevant sentences and their neighbours.
            let mut docs: BTreeMap<&str, (String, Vec<usize>)> = BTreeMap::new();
            let mut start = 0;
            while start < candidates.len() {
                let doc = &candidates[start].doc_id;
                let end = (start..candidates.len()).find(|&j| candidates[j].doc_id != *doc).unwrap_or(candidates.len());
                let mut keep = vec![false; end - start];
                for (j, candidate) in candidates.iter().enumerate().take(end).skip(start) {
                    if spec.focus.as_ref().is_none_or(|re| re.is_match(&candidate.text)) {
                        let lo = j.saturating_sub(spec.window).max(start);
                        let hi = (j + spec.window + 1).min(end);
                        keep[lo - start..hi - start].iter_mut().for_each(|k| *k = true);
                    }
                }
                let picked: Vec<usize> = (start..end).filter(|&j| keep[j - start] && eligible_set.contains(&j)).collect();
                if !picked.is_empty() {
                    docs.insert(doc.as_str(), (stratum_of(&candidates[start], spec.by).to_string(), picked));
                }
                start = end;
            }
            let mut strata: BTreeMap<String, Vec<Vec<usize>>> = BTreeMap::new();
            for (_, (stratum, picked)) in docs {
                strata.entry(stratum).or_default().push(picked);
            }
            for pool in strata.values_mut() {
                pool.shuffle(&mut rng);
                pool.reverse();
            }
            round_robin(strata.into_values().collect(), spec.n, |pool| pool.pop())
        }
    };
    chosen.sort_unstable();
    Ok(chosen)
}

/// The first `n` of `pool` in a seeded random order.
fn random_prefix(mut pool: Vec<usize>, n: usize, rng: &mut rand_chacha::ChaCha8Rng) -> Vec<usize> {
    pool.shuffle(rng);
    pool.truncate(n);
    pool
}

/// Takes items from each pool in turn until `n` are taken or all pools are empty; an item may
/// be a group (a document's passages), which is taken whole.
fn round_robin<P>(mut pools: Vec<P>, n: usize, mut take: impl FnMut(&mut P) -> Option<Vec<usize>>) -> Vec<usize> {
    let mut out = Vec::new();
    let mut live = vec![true; pools.len()];
    while out.len() < n && live.iter().any(|&l| l) {
        for (k, pool) in pools.iter_mut().enumerate() {
            if !live[k] || out.len() >= n {
                continue;
            }
            match take(pool) {
                Some(items) => out.extend(items),
                None => live[k] = false,
            }
        }
    }
    out
}

/// The tagging sheet for the chosen sentences: gold columns left empty, with the previous and
/// next sentence of the same document, its title and outlet; `with_model` adds the model's
/// labels (hidden from a tagger unless asked, so they cannot anchor the tags).
pub fn sheet_csv(candidates: &[Candidate], chosen: &[usize], titles: &HashMap<String, String>, with_model: bool) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<&str> = SHEET_COLUMNS.to_vec();
    header.push(NEXT_COLUMN);
    if with_model {
        header.extend(["model_stance", "model_sentiment", "p_favor", "p_against", "p_none"]);
    }
    w.write_record(&header)?;
    for &i in chosen {
        let c = &candidates[i];
        let neighbour = |j: Option<usize>| {
            j.and_then(|j| candidates.get(j)).filter(|n| n.doc_id == c.doc_id).map(|n| n.text.clone()).unwrap_or_default()
        };
        let mut row = vec![
            c.doc_id.clone(),
            c.sentence_id.to_string(),
            c.text.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            c.outlet.clone(),
            c.group.clone(),
            titles.get(&c.doc_id).cloned().unwrap_or_default(),
            neighbour(i.checked_sub(1)),
            neighbour(Some(i + 1)),
        ];
        if with_model {
            let p = c.p_stance.unwrap_or([f64::NAN; 3]);
            row.extend([c.stance.clone(), c.sentiment.clone()]);
            row.extend(p.iter().map(|x| if x.is_nan() { String::new() } else { format!("{x:.4}") }));
        }
        w.write_record(&row)?;
    }
    Ok(w.into_inner()?)
}

// ---------------------------------------------------------------------------------------------
// Agreement

/// One tagger's labels, keyed by (doc_id, normalised sentence); empty labels are missing.
#[derive(Debug, Clone)]
pub struct TaggerFile {
    /// The tagger's name: the file's stem.
    pub name: String,
    /// Lowercased label per (doc_id, normalised sentence); untagged sentences are absent.
    pub labels: HashMap<(String, String), String>,
    /// The sentence text as written, per key (for listing disagreements).
    pub texts: HashMap<(String, String), String>,
}

/// Reads one tagger's file: gold format; `column` is the label column (stance or sentiment).
/// A key tagged twice with different labels is an error naming both lines.
pub fn read_tagger(path: &Path, column: &str, allowed: &[&str]) -> Result<TaggerFile> {
    let file = CsvFile::open(path, "tagged file")?;
    let origin = file.origin().to_string();
    let idx = file.require(&["doc_id", "sentence", column])?;
    let mut labels = HashMap::new();
    let mut texts = HashMap::new();
    let mut lines: HashMap<(String, String), u64> = HashMap::new();
    for row in file.rows() {
        let (line, r) = row?;
        let key = (field(&r, idx[0]).to_string(), normalise(field(&r, idx[1])));
        let label = field(&r, idx[2]).to_lowercase();
        if label.is_empty() {
            continue;
        }
        if !allowed.contains(&label.as_str()) {
            return Err(Error::line(&origin, line, format!("unknown {column} label '{label}' (expected {})", allowed.join(", "))));
        }
        if let Some(previous) = labels.get(&key) {
            if *previous != label {
                return Err(Error::line(
                    &origin,
                    line,
                    format!("the sentence of line {} is tagged again with another label ({previous} vs {label})", lines[&key]),
                ));
            }
            continue;
        }
        lines.insert(key.clone(), line);
        texts.insert(key.clone(), field(&r, idx[1]).to_string());
        labels.insert(key, label);
    }
    let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| origin.clone());
    Ok(TaggerFile { name, labels, texts })
}

/// A sentence's text as a tagger wrote it (its key holds the normalised text, the fallback).
fn text_of<'t>(taggers: impl IntoIterator<Item = &'t TaggerFile>, key: &'t (String, String)) -> &'t str {
    taggers.into_iter().find_map(|t| t.texts.get(key)).map_or(key.1.as_str(), String::as_str)
}

/// Per unit, the category index each coder gave (None = missing); `units[u][c]`.
pub type Reliability = Vec<Vec<Option<usize>>>;

/// The reliability data of several taggers over the union of their sentences (sorted keys).
pub fn reliability(taggers: &[TaggerFile], categories: &[&str]) -> (Vec<(String, String)>, Reliability) {
    let mut keys: Vec<(String, String)> =
        taggers.iter().flat_map(|t| t.labels.keys().cloned()).collect::<HashSet<_>>().into_iter().collect();
    keys.sort();
    let data = keys
        .iter()
        .map(|k| taggers.iter().map(|t| t.labels.get(k).and_then(|l| categories.iter().position(|c| c == l))).collect())
        .collect();
    (keys, data)
}

/// Cohen's kappa of two coders over the units both coded: (p_o − p_e) / (1 − p_e), with p_e
/// from each coder's own marginals. NaN with no shared unit.
pub fn cohen_kappa(pairs: &[(usize, usize)], k: usize) -> f64 {
    let n = pairs.len() as f64;
    if pairs.is_empty() {
        return f64::NAN;
    }
    let mut a = vec![0.0; k];
    let mut b = vec![0.0; k];
    let mut same = 0.0;
    for &(x, y) in pairs {
        a[x] += 1.0;
        b[y] += 1.0;
        if x == y {
            same += 1.0;
        }
    }
    let po = same / n;
    let pe: f64 = (0..k).map(|c| a[c] * b[c]).sum::<f64>() / (n * n);
    if (1.0 - pe).abs() < 1e-12 {
        return f64::NAN; // both coders used one label only: chance agreement is total
    }
    (po - pe) / (1.0 - pe)
}

/// Fleiss' kappa from per-unit category counts; every unit must have the same number of
/// ratings (≥ 2), else NaN.
pub fn fleiss_kappa(counts: &[Vec<usize>]) -> f64 {
    let Some(first) = counts.first() else { return f64::NAN };
    let m: usize = first.iter().sum();
    if m < 2 || counts.iter().any(|c| c.iter().sum::<usize>() != m) {
        return f64::NAN;
    }
    let (n, m) = (counts.len() as f64, m as f64);
    let k = first.len();
    let p_j: Vec<f64> = (0..k).map(|j| counts.iter().map(|c| c[j] as f64).sum::<f64>() / (n * m)).collect();
    let p_bar = counts.iter().map(|c| (c.iter().map(|&x| (x * x) as f64).sum::<f64>() - m) / (m * (m - 1.0))).sum::<f64>() / n;
    let pe: f64 = p_j.iter().map(|p| p * p).sum();
    if (1.0 - pe).abs() < 1e-12 {
        return f64::NAN;
    }
    (p_bar - pe) / (1.0 - pe)
}

/// Krippendorff's coincidence matrix (nominal) from per-unit category counts: units with fewer
/// than two values are not pairable and add nothing.
pub fn coincidences<C: AsRef<[usize]>>(counts: &[C], k: usize) -> Vec<Vec<f64>> {
    let mut o = vec![vec![0.0; k]; k];
    for c in counts {
        let c = c.as_ref();
        let m: usize = c.iter().sum();
        if m < 2 {
            continue;
        }
        for a in 0..k {
            for b in 0..k {
                let pairs = if a == b { c[a] * c[a].saturating_sub(1) } else { c[a] * c[b] };
                o[a][b] += pairs as f64 / (m - 1) as f64;
            }
        }
    }
    o
}

/// Krippendorff's alpha for nominal data with missing values: 1 − D_o / D_e from the
/// coincidence matrix. NaN when fewer than two values are pairable or all are one category.
pub fn krippendorff_alpha<C: AsRef<[usize]>>(counts: &[C], k: usize) -> f64 {
    let o = coincidences(counts, k);
    let n_c: Vec<f64> = o.iter().map(|row| row.iter().sum()).collect();
    let n: f64 = n_c.iter().sum();
    if n < 2.0 {
        return f64::NAN;
    }
    let observed: f64 = (0..k).flat_map(|a| (0..k).map(move |b| (a, b))).filter(|(a, b)| a != b).map(|(a, b)| o[a][b]).sum();
    let expected: f64 =
        (0..k).flat_map(|a| (0..k).map(move |b| (a, b))).filter(|(a, b)| a != b).map(|(a, b)| n_c[a] * n_c[b]).sum::<f64>() / (n - 1.0);
    if expected == 0.0 {
        return f64::NAN;
    }
    1.0 - observed / expected
}

/// Per-unit category counts of reliability data.
pub fn unit_counts(data: &Reliability, k: usize) -> Vec<Vec<usize>> {
    data.iter()
        .map(|unit| {
            let mut c = vec![0; k];
            unit.iter().flatten().for_each(|&x| c[x] += 1);
            c
        })
        .collect()
}

/// A sentence the taggers labelled differently: (doc_id, sentence) and each tagger's label
/// index (None where that tagger did not tag it).
pub type Disagreement = ((String, String), Vec<Option<usize>>);

/// How far a set of taggers agree, with the rows to settle.
#[derive(Debug, Clone)]
pub struct Agreement {
    /// The labels, in index order (the indices in `pairs`, `per_class` and `disagreements`).
    pub categories: Vec<String>,
    /// Tagger names, in the order given (the indices `i` and `j` of `pairs`).
    pub taggers: Vec<String>,
    /// Units tagged by at least one tagger / by at least two / by all.
    pub units: usize,
    /// Units tagged by at least two taggers.
    pub pairable: usize,
    /// Units tagged by every tagger.
    pub complete: usize,
    /// Krippendorff's alpha (nominal), over all pairable units, with a bootstrap interval.
    pub alpha: Estimate,
    /// Fleiss' kappa over the units every tagger tagged.
    pub fleiss: f64,
    /// Per pair of taggers (i, j): Cohen's kappa with its interval, the units both tagged, the
    /// raw agreement, and their confusion (`[label of i][label of j]`).
    pub pairs: Vec<PairAgreement>,
    /// Per category: specific agreement, the share of the category's pairable values matched
    /// by another coder's same value (o_cc / n_c).
    pub per_class: Vec<f64>,
    /// Units whose taggers differ: key and each tagger's label (None = not tagged).
    pub disagreements: Vec<Disagreement>,
}

/// Agreement of taggers i and j.
#[derive(Debug, Clone)]
pub struct PairAgreement {
    /// The first tagger, as an index into `Agreement::taggers`.
    pub i: usize,
    /// The second tagger (an index after `i`).
    pub j: usize,
    /// Units both taggers tagged.
    pub n: usize,
    /// Raw agreement: the share of those units given the same label (NaN when there are none).
    pub observed: f64,
    /// Cohen's kappa on those units, with its 95% bootstrap interval.
    pub kappa: Estimate,
    /// Unit counts as `confusion[label of i][label of j]`, labels in `categories` order.
    pub confusion: Vec<Vec<usize>>,
}

/// Computes every agreement figure; intervals are percentile bootstraps over units.
pub fn agreement(taggers: &[TaggerFile], categories: &[&str], settings: Bootstrap) -> Agreement {
    let k = categories.len();
    let (keys, data) = reliability(taggers, categories);
    let counts = unit_counts(&data, k);
    let pairable_units: Vec<&Vec<usize>> = counts.iter().filter(|c| c.iter().sum::<usize>() >= 2).collect();
    let alpha = bootstrap_statistic(&pairable_units, settings, &["agree", "alpha"], |units| krippendorff_alpha(units, k));
    let complete: Vec<Vec<usize>> =
        data.iter().zip(&counts).filter(|(u, _)| u.iter().all(Option::is_some)).map(|(_, c)| c.clone()).collect();
    let mut pairs = Vec::new();
    for i in 0..taggers.len() {
        for j in i + 1..taggers.len() {
            let both: Vec<(usize, usize)> = data.iter().filter_map(|u| Some((u[i]?, u[j]?))).collect();
            let mut confusion = vec![vec![0; k]; k];
            both.iter().for_each(|&(a, b)| confusion[a][b] += 1);
            let observed = if both.is_empty() { f64::NAN } else { both.iter().filter(|(a, b)| a == b).count() as f64 / both.len() as f64 };
            let kappa = bootstrap_statistic(&both, settings, &["agree", "kappa", &i.to_string(), &j.to_string()], |s| cohen_kappa(s, k));
            pairs.push(PairAgreement { i, j, n: both.len(), observed, kappa, confusion });
        }
    }
    let o = coincidences(&counts, k);
    let per_class = (0..k).map(|c| o[c][c] / o[c].iter().sum::<f64>()).collect();
    let disagreements = keys
        .into_iter()
        .zip(&data)
        .filter(|(_, u)| {
            let given: HashSet<usize> = u.iter().flatten().copied().collect();
            given.len() > 1
        })
        .map(|(key, u)| (key, u.clone()))
        .collect();
    Agreement {
        categories: categories.iter().map(|c| c.to_string()).collect(),
        taggers: taggers.iter().map(|t| t.name.clone()).collect(),
        units: data.len(),
        pairable: pairable_units.len(),
        complete: complete.len(),
        alpha,
        fleiss: fleiss_kappa(&complete),
        pairs,
        per_class,
        disagreements,
    }
}

fn show(x: f64) -> String {
    if x.is_nan() {
        "n/a".into()
    } else {
        format!("{x:.3}")
    }
}

fn interval(e: &Estimate) -> String {
    format!("{} (95% CI {}–{})", show(e.value), show(e.low), show(e.high))
}

impl Agreement {
    /// The figures as text for a terminal.
    pub fn render(&self, taggers: &[TaggerFile]) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "taggers: {}", self.taggers.join(", "));
        let _ = writeln!(s, "sentences: {} tagged, {} by two or more, {} by all", self.units, self.pairable, self.complete);
        let _ = writeln!(s, "Krippendorff's alpha (nominal): {}", interval(&self.alpha));
        if self.taggers.len() > 2 {
            let _ = writeln!(s, "Fleiss' kappa (sentences tagged by all): {}", show(self.fleiss));
        }
        for p in &self.pairs {
            let _ = writeln!(
                s,
                "Cohen's kappa {} vs {}: {} on {} sentences (raw agreement {})",
                self.taggers[p.i],
                self.taggers[p.j],
                interval(&p.kappa),
                p.n,
                show(p.observed)
            );
            let _ = writeln!(s, "  confusion (rows {}, columns {}: {})", self.taggers[p.i], self.taggers[p.j], self.categories.join(" / "));
            for (a, row) in p.confusion.iter().enumerate() {
                let cells: Vec<String> = row.iter().map(|x| format!("{x:>6}")).collect();
                let _ = writeln!(s, "  {:<10}{}", self.categories[a], cells.join(""));
            }
        }
        let per: Vec<String> = self.categories.iter().zip(&self.per_class).map(|(c, a)| format!("{c} {}", show(*a))).collect();
        let _ = writeln!(s, "specific agreement per label: {}", per.join(", "));
        let _ = writeln!(s, "disagreements: {}", self.disagreements.len());
        for (key, labels) in &self.disagreements {
            let (doc, text) = (&key.0, text_of(taggers, key));
            let given: Vec<String> =
                labels.iter().zip(&self.taggers).map(|(l, t)| format!("{t}={}", l.map_or("-", |l| self.categories[l].as_str()))).collect();
            let _ = writeln!(s, "  [{doc}] {text}  ({})", given.join(", "));
        }
        s
    }

    /// The figures as a long CSV: `statistic,tagger_a,tagger_b,label,value,low,high,n`.
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["statistic", "tagger_a", "tagger_b", "label", "value", "low", "high", "n"])?;
        let f = |x: f64| if x.is_nan() { String::new() } else { format!("{x:.4}") };
        w.write_record([
            "krippendorff_alpha",
            "",
            "",
            "",
            &f(self.alpha.value),
            &f(self.alpha.low),
            &f(self.alpha.high),
            &self.pairable.to_string(),
        ])?;
        w.write_record(["fleiss_kappa", "", "", "", &f(self.fleiss), "", "", &self.complete.to_string()])?;
        for p in &self.pairs {
            let (a, b) = (&self.taggers[p.i], &self.taggers[p.j]);
            w.write_record(["cohen_kappa", a, b, "", &f(p.kappa.value), &f(p.kappa.low), &f(p.kappa.high), &p.n.to_string()])?;
            w.write_record(["raw_agreement", a, b, "", &f(p.observed), "", "", &p.n.to_string()])?;
        }
        for (c, a) in self.categories.iter().zip(&self.per_class) {
            w.write_record(["specific_agreement", "", "", c, &f(*a), "", "", ""])?;
        }
        Ok(w.into_inner()?)
    }

    /// The disagreements as CSV to settle: `doc_id,sentence,<one column per tagger>`.
    pub fn disagreements_csv(&self, taggers: &[TaggerFile]) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["doc_id".to_string(), "sentence".to_string()];
        header.extend(self.taggers.iter().cloned());
        w.write_record(&header)?;
        for (key, labels) in &self.disagreements {
            let mut row = vec![key.0.clone(), text_of(taggers, key).to_string()];
            row.extend(labels.iter().map(|l| l.map_or(String::new(), |l| self.categories[l].clone())));
            w.write_record(&row)?;
        }
        Ok(w.into_inner()?)
    }
}

/// One label column to adjudicate: its name, its labels, the neutral label that "when torn,
/// choose none" falls back to, and every tagger's tags in it.
pub struct LabelColumn<'a> {
    /// The column's name in the tagger files and the merged CSV (`stance` or `sentiment`).
    pub name: &'a str,
    /// The column's labels, in index order.
    pub categories: &'a [&'a str],
    /// The label a tie goes to when `ties_neutral` (none; neutral).
    pub neutral: &'a str,
    /// Every tagger's file, read for this column.
    pub taggers: Vec<TaggerFile>,
}

/// A merged gold set: per sentence and label column, the label most taggers gave; a tie goes
/// to `prefer` (a tagger's name) when that tagger tagged it, else to the column's neutral label
/// when `ties_neutral` (the guide's "when torn, choose none"), else the sentence is left out.
/// Returns the CSV (`doc_id,sentence,<one column per label column>,annotator`) and the number
/// of sentences left out.
pub fn adjudicate(columns: &[LabelColumn], prefer: Option<&str>, ties_neutral: bool) -> Result<(Vec<u8>, usize)> {
    let names: Vec<&str> = columns.first().map(|c| c.taggers.iter().map(|t| t.name.as_str()).collect()).unwrap_or_default();
    if let Some(name) = prefer {
        if !names.contains(&name) {
            crate::invalid!("--prefer {name}: no such tagger (taggers are named by file stem: {})", names.join(", "));
        }
    }
    let mut keys: Vec<(String, String)> =
        columns.iter().flat_map(|c| c.taggers.iter().flat_map(|t| t.labels.keys().cloned())).collect::<HashSet<_>>().into_iter().collect();
    keys.sort();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["doc_id", "sentence"];
    header.extend(columns.iter().map(|c| c.name));
    header.push("annotator");
    w.write_record(&header)?;
    let mut left_out = 0;
    'sentences: for key in &keys {
        let mut labels = Vec::new();
        let mut how = Vec::new();
        for column in columns {
            let given: Vec<(usize, &str)> = column
                .taggers
                .iter()
                .filter_map(|t| {
                    Some((column.categories.iter().position(|c| Some(*c) == t.labels.get(key).map(String::as_str))?, t.name.as_str()))
                })
                .collect();
            let mut counts = vec![0; column.categories.len()];
            given.iter().for_each(|&(label, _)| counts[label] += 1);
            let top = *counts.iter().max().unwrap_or(&0);
            let leaders: Vec<usize> = (0..counts.len()).filter(|&x| counts[x] == top && top > 0).collect();
            // The preferred tagger settles a tie only with one of the tied labels.
            let preferred = prefer
                .and_then(|p| given.iter().find(|(_, name)| *name == p).map(|&(label, _)| label))
                .filter(|label| leaders.contains(label));
            let decided = match (leaders.as_slice(), preferred) {
                ([], _) => None, // nobody tagged this column: nothing to decide, nothing invented
                ([only], _) => Some((*only, "majority".to_string())),
                (_, Some(label)) => Some((label, format!("tie to {}", prefer.unwrap_or_default()))),
                _ if ties_neutral => {
                    column.categories.iter().position(|c| *c == column.neutral).map(|l| (l, format!("tie to {}", column.neutral)))
                }
                _ => None,
            };
            let Some((label, rule)) = decided else {
                left_out += 1;
                continue 'sentences;
            };
            labels.push(column.categories[label]);
            how.push(format!("{}: {rule}", column.name));
        }
        let text = text_of(columns.iter().flat_map(|c| &c.taggers), key);
        let mut record = vec![key.0.as_str(), text];
        record.extend(labels);
        let provenance = format!("adjudicated ({})", how.join("; "));
        record.push(&provenance);
        w.write_record(&record)?;
    }
    Ok((w.into_inner()?, left_out))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: four
    /// observers, twelve units, values 1–5 with missing data; nominal alpha = 0.743.
    #[test]
    fn krippendorff_worked_example() {
        let rows: [[Option<usize>; 12]; 4] = [
            [Some(1), Some(2), Some(3), Some(3), Some(2), Some(1), Some(4), Some(1), Some(2), None, None, None],
            [Some(1), Some(2), Some(3), Some(3), Some(2), Some(2), Some(4), Some(1), Some(2), Some(5), None, Some(3)],
            [None, Some(3), Some(3), Some(3), Some(2), Some(3), Some(4), Some(2), Some(2), Some(5), Some(1), None],
            [Some(1), Some(2), Some(3), Some(3), Some(2), Some(4), Some(4), Some(1), Some(2), Some(5), Some(1), None],
        ];
        let data: Reliability = (0..12).map(|u| rows.iter().map(|r| r[u].map(|v| v - 1)).collect()).collect();
        let counts = unit_counts(&data, 5);
        let alpha = krippendorff_alpha(&counts, 5);
        assert!((alpha - 0.743).abs() < 5e-4, "{alpha}");
        // Unit 12 has one value: not pairable, so the coincidences total 40 values.
        let o = coincidences(&counts, 5);
        assert!((o.iter().flatten().sum::<f64>() - 40.0).abs() < 1e-9);
    }

    /// Fleiss (1971) as worked on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14 raters,
    /// 5 categories; kappa = 0.210.
    #[test]
    fn fleiss_worked_example() {
        let counts = vec![
            vec![0, 0, 0, 0, 14],
            vec![0, 2, 6, 4, 2],
            vec![0, 0, 3, 5, 6],
            vec![0, 3, 9, 2, 0],
            vec![2, 2, 8, 1, 1],
            vec![7, 7, 0, 0, 0],
            vec![3, 2, 6, 3, 0],
            vec![2, 5, 3, 2, 2],
            vec![6, 5, 2, 1, 0],
            vec![0, 2, 2, 3, 7],
        ];
        let kappa = fleiss_kappa(&counts);
        assert!((kappa - 0.210).abs() < 5e-4, "{kappa}");
        let mut uneven = counts.clone();
        uneven[0][0] = 1;
        assert!(fleiss_kappa(&uneven).is_nan());
    }

    /// Cohen's kappa as worked on Wikipedia: 50 proposals, yes/yes 20, yes/no 5, no/yes 10,
    /// no/no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4.
    #[test]
    fn cohen_worked_example() {
        let mut pairs = vec![(0, 0); 20];
        pairs.extend(vec![(0, 1); 5]);
        pairs.extend(vec![(1, 0); 10]);
        pairs.extend(vec![(1, 1); 15]);
        assert!((cohen_kappa(&pairs, 2) - 0.4).abs() < 1e-12);
        assert!(cohen_kappa(&[(1, 1), (1, 1)], 2).is_nan()); // no variation: undefined, not perfect
        assert!(cohen_kappa(&[], 2).is_nan());
        // Two coders and no missing values: Fleiss' kappa differs from Cohen's only in pooling
        // the marginals, and alpha approaches it (Krippendorff's small-sample correction).
        let counts: Vec<Vec<usize>> = pairs
            .iter()
            .map(|&(a, b)| {
                let mut c = vec![0, 0];
                c[a] += 1;
                c[b] += 1;
                c
            })
            .collect();
        let (fleiss, alpha) = (fleiss_kappa(&counts), krippendorff_alpha(&counts, 2));
        assert!(alpha > fleiss && alpha - fleiss < 0.01, "{fleiss} {alpha}");
    }

    fn tagger(name: &str, rows: &[(&str, &str)]) -> TaggerFile {
        let key = |s: &str| ("d".to_string(), normalise(s));
        TaggerFile {
            name: name.into(),
            labels: rows.iter().map(|(s, l)| (key(s), l.to_string())).collect(),
            texts: rows.iter().map(|(s, _)| (key(s), s.to_string())).collect(),
        }
    }

    #[test]
    fn agreement_lists_disagreements_and_adjudicates() {
        let a = tagger("a", &[("One.", "favor"), ("Two.", "none"), ("Three.", "against"), ("Four.", "none")]);
        let b = tagger("b", &[("One.", "favor"), ("Two.", "against"), ("Three.", "against")]);
        let c = tagger("c", &[("One.", "favor"), ("Two.", "favor"), ("Three.", "against"), ("Four.", "none")]);
        let cats = ["favor", "against", "none"];
        let all = [a, b, c];
        let ag = agreement(&all, &cats, Bootstrap { resamples: 200, seed: 1 });
        assert_eq!((ag.units, ag.pairable, ag.complete), (4, 4, 3));
        assert_eq!(ag.disagreements.len(), 1);
        assert_eq!(ag.disagreements[0].1, vec![Some(2), Some(1), Some(0)]);
        let ab = &ag.pairs[0];
        assert_eq!((ab.n, ab.confusion[2][1]), (3, 1));
        // "Two." is a three-way tie: left out without a rule, decided by --prefer or "none".
        let column =
            |taggers: &[TaggerFile]| vec![LabelColumn { name: "stance", categories: &cats, neutral: "none", taggers: taggers.to_vec() }];
        let (csv, left) = adjudicate(&column(&all), None, false).unwrap();
        assert_eq!(left, 1);
        assert!(!String::from_utf8(csv).unwrap().contains("Two."));
        let (csv, left) = adjudicate(&column(&all), Some("b"), false).unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(left, 0);
        assert!(text.contains("d,Two.,against,adjudicated (stance: tie to b)"), "{text}");
        let (csv, _) = adjudicate(&column(&all), None, true).unwrap();
        assert!(String::from_utf8(csv).unwrap().contains("d,Two.,none,adjudicated (stance: tie to none)"));
        assert!(adjudicate(&column(&all), Some("zed"), false).is_err());
        // Two columns: each decided on its own; a sentence is kept only when both are.
        let sentiment =
            [tagger("a", &[("One.", "positive"), ("Two.", "neutral")]), tagger("b", &[("One.", "positive"), ("Two.", "negative")])];
        let sentiment_cats = ["positive", "neutral", "negative"];
        let both = vec![
            LabelColumn { name: "stance", categories: &cats, neutral: "none", taggers: all[..2].to_vec() },
            LabelColumn { name: "sentiment", categories: &sentiment_cats, neutral: "neutral", taggers: sentiment.to_vec() },
        ];
        let (csv, left) = adjudicate(&both, None, false).unwrap();
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(left, 3, "{text}"); // Two. ties on both; Three. and Four. have no sentiment tags
                                       // Untagged columns are never filled in by --ties-neutral.
        let (_, left) = adjudicate(&both, None, true).unwrap();
        assert_eq!(left, 2, "Three. and Four. stay out: nobody tagged their sentiment");
        // --prefer settles only ties it is part of: 2 favor, 2 against, 1 none, preferring "none".
        let votes: Vec<TaggerFile> = ["favor", "favor", "against", "against", "none"]
            .iter()
            .enumerate()
            .map(|(k, l)| tagger(&format!("t{k}"), &[("X.", *l)]))
            .collect();
        let (_, left) = adjudicate(&column(&votes), Some("t4"), false).unwrap();
        assert_eq!(left, 1, "the preferred tagger's label was not among the tied ones");
        let (csv, _) = adjudicate(&column(&votes), Some("t0"), false).unwrap();
        assert!(String::from_utf8(csv).unwrap().contains("d,X.,favor,adjudicated (stance: tie to t0)"));
        assert!(text.starts_with("doc_id,sentence,stance,sentiment,annotator\nd,One.,favor,positive,"), "{text}");
    }

    fn cand(doc: &str, id: usize, group: &str, text: &str, p: [f64; 3]) -> Candidate {
        Candidate {
            doc_id: doc.into(),
            sentence_id: id,
            outlet: group.into(),
            group: group.into(),
            text: text.into(),
            p_stance: Some(p),
            stance: ["favor", "against", "none"][crate::labels::argmax(&[p[0] as f32, p[1] as f32, p[2] as f32])].into(),
            sentiment: "neutral".into(),
        }
    }

    fn corpus() -> Vec<Candidate> {
        let mut v = Vec::new();
        for (d, g) in [("a", "left"), ("b", "left"), ("c", "right"), ("d", "right"), ("e", "center")] {
            for i in 1..=6 {
                let text = if i % 3 == 0 { format!("Japan's defence {d}{i}.") } else { format!("Other news {d}{i}.") };
                let p = if i == 1 { [0.34, 0.33, 0.33] } else { [0.05, 0.05, 0.9] };
                v.push(cand(d, i, g, &text, p));
            }
        }
        v
    }

    fn spec(strategy: Strategy, n: usize) -> SampleSpec {
        SampleSpec { strategy, n, seed: 7, by: Stratum::Group, focus: None, window: 0 }
    }

    #[test]
    fn strategies_choose_as_named() {
        let c = corpus();
        let none = HashSet::new();
        // Random: n distinct, reproducible, changes with the seed.
        let r = sample(&c, &spec(Strategy::Random, 10), &none, None, None).unwrap();
        assert_eq!(r.len(), 10);
        assert_eq!(r, sample(&c, &spec(Strategy::Random, 10), &none, None, None).unwrap());
        assert_ne!(r, sample(&c, &SampleSpec { seed: 8, ..spec(Strategy::Random, 10) }, &none, None, None).unwrap());
        // Stratified: equal shares of the three groups.
        let s = sample(&c, &spec(Strategy::Stratified, 9), &none, None, None).unwrap();
        for g in ["left", "right", "center"] {
            assert_eq!(s.iter().filter(|&&i| c[i].group == g).count(), 3, "{g}");
        }
        // Uncertain: the five near-uniform sentences first.
        let u = sample(&c, &spec(Strategy::Uncertain, 5), &none, None, None).unwrap();
        assert!(u.iter().all(|&i| c[i].sentence_id == 1), "{u:?}");
        // Disagree: only where the other run's label differs.
        let mut other: OtherRun = c
            .iter()
            .map(|x| {
                (
                    (x.doc_id.clone(), x.sentence_id),
                    (x.text.clone(), if x.doc_id == "c" && x.sentence_id == 2 { "favor".to_string() } else { x.stance.clone() }),
                )
            })
            .collect();
        let d = sample(&c, &spec(Strategy::Disagree, 5), &none, None, Some(&other)).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!((c[d[0]].doc_id.as_str(), c[d[0]].sentence_id), ("c", 2));
        // A run of another corpus has other sentences under the same ids: refused, not paired.
        other.get_mut(&(c[0].doc_id.clone(), c[0].sentence_id)).unwrap().0 = "Something else entirely.".into();
        let err = sample(&c, &spec(Strategy::Disagree, 5), &none, None, Some(&other)).unwrap_err().to_string();
        assert!(err.contains("is not this run's") && err.contains("Something else entirely."), "{err}");
        assert!(sample(&c, &spec(Strategy::Disagree, 5), &none, None, None).is_err());
        // Documents: focus sentences and their neighbours, whole documents, groups in turn.
        let focus = SampleSpec { focus: Some(regex::Regex::new("(?i)defence").unwrap()), window: 1, ..spec(Strategy::Documents, 7) };
        let docs = sample(&c, &focus, &none, None, None).unwrap();
        let ids: HashSet<&str> = docs.iter().map(|&i| c[i].doc_id.as_str()).collect();
        assert_eq!(ids.len(), 2, "{docs:?}");
        for &i in &docs {
            assert!([2, 3, 4, 5, 6].contains(&c[i].sentence_id), "{:?}", c[i]);
        }
        assert_eq!(docs.len(), 10); // two documents of 5 sentences each: the second is taken whole
    }

    #[test]
    fn excluded_and_repeated_texts_are_never_chosen() {
        let mut c = corpus();
        c[1].text = c[0].text.clone();
        let excluded: HashSet<String> = [normalise(&c[2].text)].into();
        let all = sample(&c, &spec(Strategy::Random, 1000), &excluded, None, None).unwrap();
        assert_eq!(all.len(), c.len() - 2);
        assert!(!all.contains(&1) && !all.contains(&2));
        let within: HashSet<String> = [normalise(&c[3].text), normalise(&c[2].text)].into();
        assert_eq!(sample(&c, &spec(Strategy::Random, 1000), &excluded, Some(&within), None).unwrap(), [3]);
        // Stance: only the model's favor/against calls.
        let mut c = corpus();
        c.iter_mut().for_each(|x| x.stance = "none".into());
        c[4].stance = "against".into();
        c[9].stance = "favor".into();
        assert_eq!(sample(&c, &spec(Strategy::Stance, 10), &HashSet::new(), None, None).unwrap(), [4, 9]);
    }

    #[test]
    fn sheet_carries_context_and_hides_the_model_unless_asked() {
        let c = corpus();
        let titles: HashMap<String, String> = [("a".to_string(), "Title A".to_string())].into();
        let text = String::from_utf8(sheet_csv(&c, &[0, 1], &titles, false).unwrap()).unwrap();
        let mut lines = text.lines();
        assert_eq!(
            lines.next().unwrap(),
            "doc_id,sentence_id,sentence,stance,sentiment,annotator,tagged_at,note,outlet,group,title,previous,next"
        );
        assert_eq!(lines.next().unwrap(), "a,1,Other news a1.,,,,,,left,left,Title A,,Other news a2.");
        assert!(!text.contains("model_stance"));
        let with = String::from_utf8(sheet_csv(&c, &[5], &titles, true).unwrap()).unwrap();
        // The last sentence of a document has no next sentence from another document.
        assert!(with.lines().nth(1).unwrap().contains("Other news a5.,,none,neutral,0.0500"), "{with}");
    }
}
