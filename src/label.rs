//! Sentence labelling: stance toward a target and overall sentiment, as probability triples.
//! Labelers sit behind [`Labeler`] so a trained model can replace the zero-shot one without
//! touching the pipeline or the reports.

use crate::config::{Config, SENTIMENT_LABELS, STANCE_LABELS};
use crate::encoder::Encoder;
use crate::model::CrossEncoder;
use crate::train::SENTENCE_TARGET;
use anyhow::Result;
use std::collections::HashMap;
use tch::{Kind, Tensor};

/// One sentence to label, the target its stance is taken toward, and the sentence's mention of
/// the study's entity, if it has one.
#[derive(Debug, Clone, Copy)]
pub struct LabelInput<'a> {
    pub text: &'a str,
    pub target: &'a str,
    pub mention: Option<&'a str>,
}

/// Label probabilities of one sentence, in [`STANCE_LABELS`] and [`SENTIMENT_LABELS`] order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Probs {
    pub stance: [f32; 3],
    pub sentiment: [f32; 3],
    /// Sentiment toward the sentence's mention of the entity (None: no mention, or a labeler
    /// that cannot tell).
    pub target_sentiment: Option<[f32; 3]>,
}

/// The index of the most probable label.
pub fn argmax(p: &[f32; 3]) -> usize {
    // Ties go to the earlier label; with continuous scores they practically never happen.
    (0..3).fold(0, |best, i| if p[i] > p[best] { i } else { best })
}

impl Probs {
    pub fn stance_label(&self) -> &'static str {
        STANCE_LABELS[argmax(&self.stance)]
    }
    pub fn sentiment_label(&self) -> &'static str {
        SENTIMENT_LABELS[argmax(&self.sentiment)]
    }
    pub fn target_sentiment_label(&self) -> Option<&'static str> {
        self.target_sentiment.map(|p| SENTIMENT_LABELS[argmax(&p)])
    }
}

/// Something that labels sentences. `progress` is told how many sentences each finished batch
/// held.
pub trait Labeler {
    /// A short name for reports (`run.json`).
    fn name(&self) -> &'static str;
    fn label(&mut self, items: &[LabelInput], progress: &mut dyn FnMut(u64)) -> Result<Vec<Probs>>;
    /// How many passes over the sentences `label` makes (progress counts each).
    fn passes(&self) -> u64 {
        1
    }
}

/// Zero-shot labeler: a sentence's label is the one whose describing sentences (from the
/// config, with `{target}` filled in) its embedding lies closest to, by mean cosine
/// similarity; probabilities are a softmax over those similarities divided by the temperature.
/// `none` (`neutral`) also wins when favor and against (positive and negative) are too close
/// to call (`none_margin`, `neutral_margin`).
///
/// It needs no training, but similarity measures topic more than stance: treat its labels as
/// a baseline.
pub struct ZeroShotLabeler {
    encoder: Encoder,
    config: Config,
    /// Per target, the stance descriptions' embeddings, one `[k, hidden]` tensor per label.
    stance_descriptions: HashMap<String, [Tensor; 3]>,
    sentiment_descriptions: Option<[Tensor; 3]>,
}

impl ZeroShotLabeler {
    pub fn new(encoder: Encoder, config: Config) -> Self {
        Self { encoder, config, stance_descriptions: HashMap::new(), sentiment_descriptions: None }
    }

    pub fn encoder(&self) -> &Encoder {
        &self.encoder
    }

    fn embed_descriptions(&self, lists: [&[String]; 3], target: &str) -> Result<[Tensor; 3]> {
        let embed = |list: &[String]| -> Result<Tensor> {
            let filled: Vec<String> = list.iter().filter(|d| !d.trim().is_empty()).map(|d| d.replace("{target}", target)).collect();
            self.encoder.embed(&filled.iter().map(String::as_str).collect::<Vec<_>>())
        };
        Ok([embed(lists[0])?, embed(lists[1])?, embed(lists[2])?])
    }

    /// Softmax over the mean similarity to each label's descriptions: `[n, 3]`. The score of
    /// the neutral label (`neutral` = its index) is at least the midpoint of the two polar
    /// labels' scores plus `margin`: a sentence leans one way only when it is closer to that
    /// side's descriptions by more than twice the margin.
    fn probabilities(&self, embeddings: &Tensor, descriptions: &[Tensor; 3], neutral: usize, margin: f64) -> Tensor {
        let mut scores: Vec<Tensor> =
            descriptions.iter().map(|d| embeddings.matmul(&d.tr()).mean_dim([1i64].as_slice(), false, Kind::Float)).collect();
        let polar: Vec<usize> = (0..3).filter(|&k| k != neutral).collect();
        let floor = (&scores[polar[0]] + &scores[polar[1]]) / 2.0 + margin;
        scores[neutral] = scores[neutral].maximum(&floor);
        (Tensor::stack(&scores, 1) / self.config.labeler.temperature).softmax(-1, Kind::Float)
    }
}

fn rows(t: &Tensor) -> Result<Vec<[f32; 3]>> {
    let flat: Vec<f32> = Vec::<f32>::try_from(t.contiguous().view([-1]))?;
    Ok(flat.chunks_exact(3).map(|c| [c[0], c[1], c[2]]).collect())
}

impl Labeler for ZeroShotLabeler {
    fn name(&self) -> &'static str {
        "zero-shot"
    }

    fn label(&mut self, items: &[LabelInput], progress: &mut dyn FnMut(u64)) -> Result<Vec<Probs>> {
        if self.sentiment_descriptions.is_none() {
            let lists = self.config.sentiment.by_label();
            self.sentiment_descriptions = Some(self.embed_descriptions(lists, &self.config.target.name)?);
        }
        for item in items {
            if !self.stance_descriptions.contains_key(item.target) {
                let embedded = self.embed_descriptions(self.config.stance.by_label(), item.target)?;
                self.stance_descriptions.insert(item.target.to_string(), embedded);
            }
        }
        // Similar lengths share a batch, so little compute goes to padding.
        let mut order: Vec<usize> = (0..items.len()).collect();
        order.sort_by_key(|&i| (items[i].text.len(), i));
        let mut out = vec![Probs { stance: [0.0; 3], sentiment: [0.0; 3], target_sentiment: None }; items.len()];
        for batch in order.chunks(self.config.labeler.batch_size) {
            let texts: Vec<&str> = batch.iter().map(|&i| items[i].text).collect();
            let embeddings = self.encoder.embed(&texts)?;
            let sentiment = rows(&self.probabilities(
                &embeddings,
                self.sentiment_descriptions.as_ref().expect("embedded above"),
                1,
                self.config.labeler.neutral_margin,
            ))?;
            // One matmul per distinct target in the batch (usually one).
            let mut stance: HashMap<&str, Vec<[f32; 3]>> = HashMap::new();
            for (row, &i) in batch.iter().enumerate() {
                let target = items[i].target;
                if !stance.contains_key(target) {
                    let margin = self.config.labeler.none_margin;
                    stance.insert(target, rows(&self.probabilities(&embeddings, &self.stance_descriptions[target], 2, margin))?);
                }
                out[i] = Probs { stance: stance[target][row], sentiment: sentiment[row], target_sentiment: None };
            }
            progress(batch.len() as u64);
        }
        Ok(out)
    }
}

/// Where the trained labeler's sentiment comes from.
pub enum SentimentSource {
    /// The stance model's own sentiment head, read from the stance pass: one pass in all.
    SharedHead,
    /// A separate sentiment cross-encoder, reading ([`SENTENCE_TARGET`], sentence): a second pass.
    Model(Box<CrossEncoder>),
    /// The zero-shot labeler over the base encoder: a second pass, and no sentiment toward
    /// mentions.
    ZeroShot(Box<ZeroShotLabeler>),
}

impl SentimentSource {
    pub fn name(&self) -> &'static str {
        match self {
            SentimentSource::SharedHead => "stance model's sentiment head",
            SentimentSource::Model(_) => "sentiment model",
            SentimentSource::ZeroShot(_) => "zero-shot",
        }
    }
}

/// Stance from a trained cross-encoder reading (target, sentence); sentiment as
/// [`SentimentSource`] says; sentiment toward a mention of the entity from (mention, sentence)
/// through whichever model has the sentiment head.
pub struct CrossEncoderLabeler {
    model: CrossEncoder,
    sentiment: SentimentSource,
    batch_size: usize,
}

impl CrossEncoderLabeler {
    pub fn new(model: CrossEncoder, sentiment: SentimentSource, batch_size: usize) -> Result<Self> {
        if !model.config.heads.contains_key("stance") {
            anyhow::bail!("the model has no stance head");
        }
        match &sentiment {
            SentimentSource::SharedHead if !model.config.heads.contains_key("sentiment") => {
                anyhow::bail!("the stance model has no sentiment head")
            }
            SentimentSource::Model(m) if !m.config.heads.contains_key("sentiment") => {
                anyhow::bail!("the sentiment model has no sentiment head")
            }
            _ => {}
        }
        Ok(Self { model, sentiment, batch_size })
    }
}

fn triple(p: &[f32]) -> [f32; 3] {
    [p[0], p[1], p[2]]
}

impl Labeler for CrossEncoderLabeler {
    fn name(&self) -> &'static str {
        "cross-encoder"
    }

    fn passes(&self) -> u64 {
        match self.sentiment {
            SentimentSource::SharedHead => 1,
            _ => 2,
        }
    }

    fn label(&mut self, items: &[LabelInput], progress: &mut dyn FnMut(u64)) -> Result<Vec<Probs>> {
        let pairs: Vec<(&str, &str)> = items.iter().map(|i| (i.target, i.text)).collect();
        let (stance, sentiment): (Vec<Vec<f32>>, Vec<[f32; 3]>) = match &mut self.sentiment {
            SentimentSource::SharedHead => {
                let mut both = self.model.predict_heads(&["stance", "sentiment"], &pairs, self.batch_size, progress)?;
                let sentiment = both.pop().expect("two heads").iter().map(|p| triple(p)).collect();
                (both.pop().expect("two heads"), sentiment)
            }
            SentimentSource::Model(model) => {
                let stance = self.model.predict("stance", &pairs, self.batch_size, progress)?;
                let sentence_pairs: Vec<(&str, &str)> = items.iter().map(|i| (SENTENCE_TARGET, i.text)).collect();
                let sentiment = model.predict("sentiment", &sentence_pairs, self.batch_size, progress)?;
                (stance, sentiment.iter().map(|p| triple(p)).collect())
            }
            SentimentSource::ZeroShot(zero_shot) => {
                let stance = self.model.predict("stance", &pairs, self.batch_size, progress)?;
                (stance, zero_shot.label(items, progress)?.into_iter().map(|p| p.sentiment).collect())
            }
        };
        // Sentiment toward the entity: one more (short) pass over the sentences that mention it.
        let (mentioned, mention_pairs): (Vec<usize>, Vec<(&str, &str)>) =
            items.iter().enumerate().filter_map(|(i, item)| item.mention.map(|m| (i, (m, item.text)))).unzip();
        let toward = match &self.sentiment {
            _ if mention_pairs.is_empty() => Vec::new(),
            SentimentSource::SharedHead => self.model.predict("sentiment", &mention_pairs, self.batch_size, &mut |_| {})?,
            SentimentSource::Model(model) => model.predict("sentiment", &mention_pairs, self.batch_size, &mut |_| {})?,
            SentimentSource::ZeroShot(_) => Vec::new(),
        };
        let mut out: Vec<Probs> =
            stance.iter().zip(sentiment).map(|(s, sentiment)| Probs { stance: triple(s), sentiment, target_sentiment: None }).collect();
        for (&i, p) in mentioned.iter().zip(&toward) {
            out[i].target_sentiment = Some(triple(p));
        }
        Ok(out)
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
