//! Sentence labelling: stance toward a target and overall sentiment, as probability triples.
//! Labelers sit behind [`Labeler`] so a trained model can replace the zero-shot one without
//! touching the pipeline or the reports.

use crate::encoder::Encoder;
use crate::model::CrossEncoder;
use crate::Result;
use stance_core::config::Config;
use stance_core::labels::Probs;

use std::collections::HashMap;
use tch::{Kind, Tensor};

/// One sentence to label, the target its stance is taken toward, and the sentence's mention of
/// the study's entity, if it has one.
#[derive(Debug, Clone, Copy)]
pub struct LabelInput<'a> {
    /// The sentence.
    pub text: &'a str,
    /// What its stance is taken toward (the first segment of the stance pair).
    pub target: &'a str,
    /// The words mentioning the entity, which sentiment toward the entity is read for; None
    /// when the sentence has no mention (or none is wanted).
    pub mention: Option<&'a str>,
}

/// Something that labels sentences. `progress` is told how many sentences each finished batch
/// held.
pub trait Labeler {
    /// A short name for reports (`run.json`).
    fn name(&self) -> &'static str;
    /// One [`Probs`] per item, in `items` order: stance (favor, against, none), sentiment
    /// (positive, neutral, negative) and, where the labeler can tell, sentiment toward the mention.
    fn label(&mut self, items: &[LabelInput], progress: &mut dyn FnMut(u64)) -> Result<Vec<Probs>>;
    /// [`Self::label`] over consecutive groups of items (`groups` holds their sizes), labelling
    /// each group as if alone: a document's labels do not depend on what else is in the call.
    /// One call lets a labeler spread many small documents over its workers.
    fn label_groups(&mut self, items: &[LabelInput], groups: &[usize], progress: &mut dyn FnMut(u64)) -> Result<Vec<Probs>> {
        let mut out = Vec::with_capacity(items.len());
        let mut start = 0;
        for &n in groups {
            out.extend(self.label(&items[start..start + n], progress)?);
            start += n;
        }
        Ok(out)
    }
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
    /// Labels with `encoder`, using the descriptions, temperature, margins and batch size in
    /// `config`; descriptions are embedded on first use.
    pub fn new(encoder: Encoder, config: Config) -> Self {
        Self { encoder, config, stance_descriptions: HashMap::new(), sentiment_descriptions: None }
    }

    /// The encoder it embeds sentences with (its files go into run.json).
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
    /// A separate sentiment cross-encoder, reading (its sentence target, sentence): a second pass.
    Model(Box<CrossEncoder>),
    /// The zero-shot labeler over the base encoder: a second pass, and no sentiment toward
    /// mentions.
    ZeroShot(Box<ZeroShotLabeler>),
}

impl SentimentSource {
    /// A short description for reports and messages.
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
    /// Stance from `model`'s stance head, `batch_size` pairs per forward pass. Fails when
    /// `model` has no stance head, or the sentiment source's model has no sentiment head.
    pub fn new(model: CrossEncoder, sentiment: SentimentSource, batch_size: usize) -> Result<Self> {
        if !model.config.heads.contains_key("stance") {
            crate::invalid!("the model has no stance head");
        }
        match &sentiment {
            SentimentSource::SharedHead if !model.config.heads.contains_key("sentiment") => {
                crate::invalid!("the stance model has no sentiment head")
            }
            SentimentSource::Model(m) if !m.config.heads.contains_key("sentiment") => {
                crate::invalid!("the sentiment model has no sentiment head")
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
        self.label_groups(items, &[items.len()], progress)
    }

    fn label_groups(&mut self, items: &[LabelInput], groups: &[usize], progress: &mut dyn FnMut(u64)) -> Result<Vec<Probs>> {
        let pairs: Vec<(&str, &str)> = items.iter().map(|i| (i.target, i.text)).collect();
        let batch = self.batch_size;
        let (stance, sentiment): (Vec<Vec<f32>>, Vec<[f32; 3]>) = match &mut self.sentiment {
            SentimentSource::SharedHead => {
                let mut both = self.model.predict_groups(&["stance", "sentiment"], &pairs, groups, batch, progress)?;
                let sentiment = both.pop().expect("two heads").iter().map(|p| triple(p)).collect();
                (both.pop().expect("two heads"), sentiment)
            }
            SentimentSource::Model(model) => {
                let stance = self.model.predict_groups(&["stance"], &pairs, groups, batch, progress)?.remove(0);
                let sentence_pairs: Vec<(&str, &str)> = items.iter().map(|i| (model.config.sentence_target(), i.text)).collect();
                let sentiment = model.predict_groups(&["sentiment"], &sentence_pairs, groups, batch, progress)?.remove(0);
                (stance, sentiment.iter().map(|p| triple(p)).collect())
            }
            SentimentSource::ZeroShot(zero_shot) => {
                let stance = self.model.predict_groups(&["stance"], &pairs, groups, batch, progress)?.remove(0);
                (stance, zero_shot.label_groups(items, groups, progress)?.into_iter().map(|p| p.sentiment).collect())
            }
        };
        // Sentiment toward the entity: one more (short) pass over the sentences that mention it,
        // grouped as the sentences are.
        let (mentioned, mention_pairs): (Vec<usize>, Vec<(&str, &str)>) =
            items.iter().enumerate().filter_map(|(i, item)| item.mention.map(|m| (i, (m, item.text)))).unzip();
        let mut mention_groups = Vec::with_capacity(groups.len());
        let mut start = 0;
        for &n in groups {
            mention_groups.push(items[start..start + n].iter().filter(|i| i.mention.is_some()).count());
            start += n;
        }
        let toward = match &self.sentiment {
            _ if mention_pairs.is_empty() => Vec::new(),
            SentimentSource::SharedHead => {
                self.model.predict_groups(&["sentiment"], &mention_pairs, &mention_groups, batch, &mut |_| {})?.remove(0)
            }
            SentimentSource::Model(model) => {
                model.predict_groups(&["sentiment"], &mention_pairs, &mention_groups, batch, &mut |_| {})?.remove(0)
            }
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
