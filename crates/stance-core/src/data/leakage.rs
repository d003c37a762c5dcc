//! How close training rows come to evaluation sentences. A figure measured on sentences the
//! model (nearly) trained on is optimistic, so hand-written training rows are checked against
//! every gold and test set: the evaluation sentence sharing the most words with each row
//! (Jaccard over lower-cased word sets) and the longest run of words they share.

use std::collections::HashSet;

/// Lower-cased words (letters and digits), curly apostrophes straightened.
pub fn words(text: &str) -> Vec<String> {
    text.to_lowercase().replace('’', "'").split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()).map(String::from).collect()
}

/// Jaccard similarity of two word lists' sets (0 when both are empty).
pub fn jaccard(a: &[String], b: &[String]) -> f64 {
    let (a, b): (HashSet<&String>, HashSet<&String>) = (a.iter().collect(), b.iter().collect());
    let union = a.union(&b).count();
    if union == 0 {
        0.0
    } else {
        a.intersection(&b).count() as f64 / union as f64
    }
}

/// The longest run of consecutive words the two lists share.
pub fn longest_shared_run(a: &[String], b: &[String]) -> usize {
    let mut best = 0;
    let mut previous = vec![0usize; b.len() + 1];
    let mut current = vec![0usize; b.len() + 1];
    for x in a {
        for (j, y) in b.iter().enumerate() {
            current[j + 1] = if x == y { previous[j] + 1 } else { 0 };
            best = best.max(current[j + 1]);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    best
}

/// The closest an evaluation sentence comes to a training row.
#[derive(Debug, Clone, PartialEq)]
pub struct Closest {
    /// The highest word Jaccard with any evaluation sentence.
    pub jaccard: f64,
    /// That sentence's index in the evaluation list.
    pub jaccard_with: usize,
    /// The longest run of words shared with any evaluation sentence.
    pub run: usize,
    /// That sentence's index in the evaluation list.
    pub run_with: usize,
}

/// For one training row's words, the closest of the evaluation sentences' words.
pub fn closest(row: &[String], evaluation: &[Vec<String>]) -> Closest {
    let mut out = Closest { jaccard: 0.0, jaccard_with: 0, run: 0, run_with: 0 };
    for (i, sentence) in evaluation.iter().enumerate() {
        let j = jaccard(row, sentence);
        if j > out.jaccard {
            (out.jaccard, out.jaccard_with) = (j, i);
        }
        let r = longest_shared_run(row, sentence);
        if r > out.run {
            (out.run, out.run_with) = (r, i);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_overlap_measures_match_hand_counts() {
        let a = words("Japan’s cabinet approved the budget on Friday.");
        assert_eq!(a, ["japan", "s", "cabinet", "approved", "the", "budget", "on", "friday"]);
        let b = words("The cabinet approved the budget, officials said.");
        assert_eq!(longest_shared_run(&a, &b), 4); // "cabinet approved the budget"
                                                   // Shared: cabinet, approved, the, budget (4) of 10 distinct words.
        assert!((jaccard(&a, &b) - 0.4).abs() < 1e-12);
        let c = closest(&a, &[words("Nothing alike here."), b.clone()]);
        assert_eq!((c.jaccard_with, c.run, c.run_with), (1, 4, 1));
        assert_eq!(jaccard(&[], &[]), 0.0);
    }
}
