//! The two tasks and their labels, in the order of every probability triple, CSV column and
//! model head; and a sentence's label probabilities. One place, so a label map or a column
//! order cannot drift between the readers, the models and the reports.

use serde::{Deserialize, Serialize};

/// The stance labels, in the order of every probability triple.
pub const STANCE_LABELS: [&str; 3] = ["favor", "against", "none"];
/// The sentiment labels, in the order of every probability triple.
pub const SENTIMENT_LABELS: [&str; 3] = ["positive", "neutral", "negative"];

/// The first segment of a sentence-level sentiment pair by default: the sentiment model reads
/// (mention, sentence) for sentiment toward a mention and (this, sentence) for the sentence.
/// A model records the segment it was trained with in its `config.json`.
pub const SENTENCE_TARGET: &str = "overall tone";

/// What a model or a data file labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Task {
    /// Favor / against / none toward a target.
    #[default]
    Stance,
    /// Positive / neutral / negative, of the sentence or toward a mention.
    Sentiment,
}

impl Task {
    /// Both tasks, stance first.
    pub const ALL: [Task; 2] = [Task::Stance, Task::Sentiment];

    /// The task's name as written in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Task::Stance => "stance",
            Task::Sentiment => "sentiment",
        }
    }

    /// The task's labels, in probability order.
    pub fn labels(self) -> &'static [&'static str; 3] {
        match self {
            Task::Stance => &STANCE_LABELS,
            Task::Sentiment => &SENTIMENT_LABELS,
        }
    }

    /// The label that takes no side (none; neutral).
    pub fn neutral(self) -> &'static str {
        match self {
            Task::Stance => "none",
            Task::Sentiment => "neutral",
        }
    }

    /// The indices of the two polar labels (favor/against; positive/negative).
    pub fn polar(self) -> [usize; 2] {
        match self {
            Task::Stance => [0, 1],
            Task::Sentiment => [0, 2],
        }
    }

    /// The task named `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Task> {
        Task::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl std::fmt::Display for Task {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The index of the most probable label.
pub fn argmax(p: &[f32; 3]) -> usize {
    // Ties go to the earlier label; with continuous scores they practically never happen.
    (0..3).fold(0, |best, i| if p[i] > p[best] { i } else { best })
}

/// Label probabilities of one sentence, in [`STANCE_LABELS`] and [`SENTIMENT_LABELS`] order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probs {
    /// favor, against, none.
    pub stance: [f32; 3],
    /// positive, neutral, negative.
    pub sentiment: [f32; 3],
    /// Sentiment toward the sentence's mention of the entity (None: no mention, or a labeler
    /// that cannot tell).
    pub target_sentiment: Option<[f32; 3]>,
}

impl Probs {
    /// The most probable stance label.
    pub fn stance_label(&self) -> &'static str {
        STANCE_LABELS[argmax(&self.stance)]
    }
    /// The most probable sentiment label.
    pub fn sentiment_label(&self) -> &'static str {
        SENTIMENT_LABELS[argmax(&self.sentiment)]
    }
    /// The most probable sentiment toward the mention, if there is one.
    pub fn target_sentiment_label(&self) -> Option<&'static str> {
        self.target_sentiment.map(|p| SENTIMENT_LABELS[argmax(&p)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_the_most_probable_with_ties_to_the_first() {
        let table: &[([f32; 3], &str)] = &[([0.2, 0.5, 0.3], "against"), ([0.4, 0.2, 0.4], "favor"), ([0.1, 0.1, 0.8], "none")];
        for (p, expected) in table {
            let probs = Probs { stance: *p, sentiment: *p, target_sentiment: Some(*p) };
            assert_eq!(probs.stance_label(), *expected);
            assert_eq!(probs.sentiment_label(), SENTIMENT_LABELS[STANCE_LABELS.iter().position(|l| l == expected).unwrap()]);
            assert_eq!(probs.target_sentiment_label(), Some(probs.sentiment_label()));
        }
    }
}
