//! The lexicon baseline for sentiment: VADER (Hutto & Gilbert 2014, via the `vader_sentiment`
//! crate). It needs no model, so it shows what the trained sentiment model buys on the same
//! rows. It reads the sentence only: toward-a-mention rows get the sentence's label.

use crate::labels::SENTIMENT_LABELS;
use vader_sentiment::SentimentIntensityAnalyzer;

/// VADER's usual cut-offs on the compound score: ≥ 0.05 positive, ≤ −0.05 negative.
pub const COMPOUND_CUTOFF: f64 = 0.05;

/// VADER's compound score of `text`, in [−1, 1].
pub fn compound(analyzer: &SentimentIntensityAnalyzer, text: &str) -> f64 {
    analyzer.polarity_scores(text).get("compound").copied().unwrap_or(0.0)
}

/// The sentiment label index (in [`SENTIMENT_LABELS`] order) of each text.
pub fn vader_labels(texts: &[&str]) -> Vec<usize> {
    let analyzer = SentimentIntensityAnalyzer::new();
    texts
        .iter()
        .map(|t| {
            let c = compound(&analyzer, t);
            let label = if c >= COMPOUND_CUTOFF {
                "positive"
            } else if c <= -COMPOUND_CUTOFF {
                "negative"
            } else {
                "neutral"
            };
            SENTIMENT_LABELS.iter().position(|l| *l == label).expect("a sentiment label")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vader_labels_table() {
        let table: &[(&str, &str)] = &[
            ("This is a wonderful, happy day.", "positive"),
            ("The attack was a horrible, tragic disaster.", "negative"),
            ("The ministry published the budget on Tuesday.", "neutral"),
            ("The plan is not good.", "negative"),
        ];
        let texts: Vec<&str> = table.iter().map(|r| r.0).collect();
        for ((text, expected), got) in table.iter().zip(vader_labels(&texts)) {
            assert_eq!(SENTIMENT_LABELS[got], *expected, "{text}");
        }
    }
}
