//! Our own classifier: the MiniLM encoder (rust-bert's BERT) reading a (target, text) pair,
//! pooling ([`Pooling`]), and one linear head per task. A shipped model stores only what training changed
//! (every encoder tensor but the word-piece embeddings, which stay frozen, plus the heads) in
//! fp16; the rest comes from the base encoder, whose sha256 the model's config pins.

use crate::encoder::{mean_pool, model_text, BaseFiles, FileDigest};
use crate::fast::{FastBert, Precision};
use crate::{Error, Result};
use rust_bert::bert::{BertEmbeddings, BertModel};
use rust_tokenizers::tokenizer::{BertTokenizer, Tokenizer, TruncationStrategy};
use serde::{Deserialize, Serialize};
use stance_core::labels::{Task, SENTENCE_TARGET};
use stance_core::IoContext;
use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use tch::{nn, nn::Module, Device, Kind, Tensor};

/// Tensors that training leaves alone: the 30,522 × 384 word-piece embeddings are half the
/// model's parameters, and freezing them keeps a shipped model under 25 MB.
pub const FROZEN_PREFIXES: [&str; 2] = ["embeddings.word_embeddings", "pooler."];

/// What a model folder's `config.json` says.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// Always "cross-encoder".
    pub kind: String,
    /// The base encoder's name and the sha256 of its weights file.
    pub base: String,
    /// The sha256 (hex) of the base weights it was trained on; loading over other weights fails.
    pub base_sha256: String,
    /// Word pieces per (target, text) pair.
    pub max_tokens: usize,
    /// Per head (task), its labels in output order.
    pub heads: BTreeMap<String, Vec<String>>,
    /// How token states become the heads' input.
    #[serde(default)]
    pub pooling: Pooling,
    /// The first segment the sentiment head reads a whole sentence with (sentiment toward a
    /// mention reads the mention there instead). Models from before it was recorded were
    /// trained with [`SENTENCE_TARGET`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sentence_target: Option<String>,
}

impl ModelConfig {
    /// The first segment for sentence-level sentiment: as recorded, else the default.
    pub fn sentence_target(&self) -> &str {
        self.sentence_target.as_deref().unwrap_or(SENTENCE_TARGET)
    }

    /// The `config.json` of the trained model in `model_dir`.
    pub fn read(model_dir: &Path) -> Result<Self> {
        let path = model_dir.join("config.json");
        if !path.is_file() {
            return Err(Error::file(path, "model file missing".to_string()));
        }
        let text = std::fs::read_to_string(&path).at(&path, "cannot read")?;
        let config: Self = serde_json::from_str(&text).map_err(|e| Error::file(&path, format!("not a stance model config: {e}")))?;
        config.check(&path)?;
        Ok(config)
    }

    /// Refuses what would be misread or would panic later: another kind of model, a pair
    /// length outside 8..=512, a head of a known task whose labels are not that task's labels
    /// in their order (its outputs would be misassigned).
    pub fn check(&self, path: &Path) -> Result<()> {
        if self.kind != "cross-encoder" {
            return Err(Error::file(path, format!("kind '{}': only \"cross-encoder\" models are read", self.kind)));
        }
        if !(8..=512).contains(&self.max_tokens) {
            return Err(Error::file(path, format!("max_tokens {} is outside 8..=512 (the encoder's positions)", self.max_tokens)));
        }
        if self.heads.is_empty() {
            return Err(Error::file(path, "the model has no heads"));
        }
        for (head, labels) in &self.heads {
            if let Some(task) = Task::from_name(head) {
                if labels.iter().map(String::as_str).ne(task.labels().iter().copied()) {
                    return Err(Error::file(
                        path,
                        format!("the '{head}' head's labels are {}, not {} in that order", labels.join(","), task.labels().join(",")),
                    ));
                }
            }
        }
        Ok(())
    }
}

/// How token states become the heads' input.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "lowercase")]
pub enum Pooling {
    /// The mean over the whole pair (models from before the target/text split).
    #[default]
    Mean,
    /// The mean over the target's tokens next to the mean over the text's tokens.
    Segments,
    /// Those two means t and x, then |t − x| and t ∗ x, as in Sentence-BERT's NLI classifier,
    /// so that a linear head sees how closely the text relates to the target.
    Interact,
}

impl Pooling {
    /// Its spelling in config.json and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Pooling::Mean => "mean",
            Pooling::Segments => "segments",
            Pooling::Interact => "interact",
        }
    }

    /// The width of the heads' input: one hidden vector, two (target and text), or four (those
    /// two, their distance and their product).
    fn width(self, hidden: i64) -> i64 {
        match self {
            Pooling::Mean => hidden,
            Pooling::Segments => 2 * hidden,
            Pooling::Interact => 4 * hidden,
        }
    }

    /// The heads' input from token states `[batch, tokens, hidden]`. Target tokens are segment
    /// 0 (with [CLS] and the first [SEP]), text tokens segment 1.
    fn pool(self, states: &Tensor, mask: &Tensor, types: &Tensor) -> Tensor {
        if self == Pooling::Mean {
            return mean_pool(states, mask);
        }
        let text_mask = mask * types;
        let target_mask = mask - &text_mask;
        let (target, text) = (mean_pool(states, &target_mask), mean_pool(states, &text_mask));
        if self == Pooling::Interact {
            let (distance, product) = ((&target - &text).abs(), &target * &text);
            Tensor::cat(&[target, text, distance, product], 1)
        } else {
            Tensor::cat(&[target, text], 1)
        }
    }
}

/// Which encoder forward pass to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// rust-bert's `BertModel::forward_t` (composite GELU and attention); used for training.
    RustBert,
    /// [`FastBert`]: libtorch's fused attention, GELU and layer norm; inference only.
    Fused,
}

/// A tokenized batch on the model's device.
pub struct Batch {
    /// Word-piece ids, `[batch, tokens]`, padded with 0.
    pub ids: Tensor,
    /// 1 for real tokens, 0 for padding, `[batch, tokens]`.
    pub mask: Tensor,
    /// Segment ids, `[batch, tokens]`: 0 for the target (with `[CLS]` and the first `[SEP]`), 1 for the text.
    pub types: Tensor,
}

/// The cross-encoder: the encoder reads a (target, text) pair, and each head gives logits over
/// its task's labels.
pub struct CrossEncoder {
    /// All its tensors (encoder and heads), on its device.
    pub vs: nn::VarStore,
    bert: BertModel<BertEmbeddings>,
    /// The same encoder tensors, for inference on fused kernels.
    fast: FastBert,
    heads: BTreeMap<String, nn::Linear>,
    tokenizer: BertTokenizer,
    /// What its `config.json` says (or will say when saved).
    pub config: ModelConfig,
    /// The base encoder's files and their sha256, in [`MODEL_FILES`](crate::encoder::MODEL_FILES) order.
    pub base_files: Vec<FileDigest>,
    hidden: i64,
    /// How many threads label batches side by side on the CPU (see [`Self::set_workers`]).
    workers: usize,
}

/// Lets scoped worker threads share one model for inference.
struct SharedForInference<'a>(&'a CrossEncoder);
// SAFETY: the workers only run inference passes (under no_grad), which read the model's
// tensors and never write them; libtorch's CPU kernels may read one tensor from several
// threads at once. The tokenizer is plain data. Nothing is moved or mutated while they run.
unsafe impl Sync for SharedForInference<'_> {}

impl CrossEncoder {
    /// The base encoder with freshly initialised heads (seeded by `seed`).
    pub fn fresh(
        base_dir: &Path,
        heads: BTreeMap<String, Vec<String>>,
        max_tokens: usize,
        pooling: Pooling,
        device: Device,
        seed: i64,
    ) -> Result<Self> {
        let base = BaseFiles::read(base_dir, device)?;
        let config = ModelConfig {
            kind: "cross-encoder".into(),
            base: "all-MiniLM-L6-v2".into(),
            base_sha256: base.weights().sha256.clone(),
            max_tokens,
            heads,
            pooling,
            sentence_target: None,
        };
        Self::build(base, config, device, seed)
    }

    /// A trained model from `model_dir` on top of the base encoder in `base_dir`.
    pub fn load(model_dir: &Path, base_dir: &Path, device: Device) -> Result<Self> {
        let config = ModelConfig::read(model_dir)?;
        let weights_path = model_dir.join("model.safetensors");
        if !weights_path.is_file() {
            return Err(Error::file(weights_path, "model file missing".to_string()));
        }
        let base = BaseFiles::read(base_dir, device)?;
        if config.max_tokens as i64 > base.config.max_position_embeddings {
            return Err(Error::file(
                model_dir.join("config.json"),
                format!("max_tokens {} exceeds the base encoder's {} positions", config.max_tokens, base.config.max_position_embeddings),
            ));
        }
        let weights = base.weights();
        if weights.sha256 != config.base_sha256 {
            crate::invalid!(
                "{}: the model was trained on base weights {}, but {} has {}",
                model_dir.join("config.json").display(),
                config.base_sha256,
                weights.path.display(),
                weights.sha256
            );
        }
        let model = Self::build(base, config, device, 0)?;
        model.load_trained(&weights_path)?;
        Ok(model)
    }

    fn build(base: BaseFiles, config: ModelConfig, device: Device, seed: i64) -> Result<Self> {
        let BaseFiles { files: base_files, config: bert_config, tokenizer } = base;
        tch::manual_seed(seed);
        let mut vs = nn::VarStore::new(device);
        let bert = BertModel::<BertEmbeddings>::new_with_optional_pooler(vs.root(), &bert_config, false);
        let hidden = bert_config.hidden_size;
        let width = config.pooling.width(hidden);
        let heads = config
            .heads
            .iter()
            .map(|(name, labels)| {
                (name.clone(), nn::linear(vs.root() / "head" / name.as_str(), width, labels.len() as i64, Default::default()))
            })
            .collect();
        let weights = &base_files[0].path;
        let missing = vs
            .load_partial(weights)
            .map_err(|e| Error::file(weights, format!("cannot load weights: {}", crate::error::first_line(&e.to_string()))))?;
        if let Some(name) = missing.iter().find(|n| !n.starts_with("head.")) {
            return Err(Error::file(weights, format!("weights file has no tensor '{name}'")));
        }
        let fast = FastBert::from_store(&vs, &bert_config)?;
        let model = Self { vs, bert, fast, heads, tokenizer, config, base_files, hidden, workers: 1 };
        for (name, tensor) in model.vs.variables() {
            if FROZEN_PREFIXES.iter().any(|p| name.starts_with(p)) {
                let _ = tensor.set_requires_grad(false);
            }
        }
        Ok(model)
    }

    /// Copies the tensors of a trained model's weights file over the base encoder's.
    fn load_trained(&self, path: &Path) -> Result<()> {
        let tensors = Tensor::read_safetensors(path)
            .map_err(|e| Error::file(path, format!("cannot read weights: {}", crate::error::first_line(&e.to_string()))))?;
        let variables = self.vs.variables();
        let mut loaded = 0;
        tch::no_grad(|| -> Result<()> {
            for (name, tensor) in &tensors {
                // Frozen tensors come from the base encoder only (whose sha256 the config pins),
                // so models loaded side by side can share them.
                if FROZEN_PREFIXES.iter().any(|p| name.starts_with(p)) {
                    return Err(Error::file(path, format!("tensor '{name}' belongs to the frozen base encoder, not to a trained model")));
                }
                let target = variables.get(name).ok_or_else(|| Error::file(path, format!("unexpected tensor '{name}'")))?;
                if target.size() != tensor.size() {
                    return Err(Error::file(path, format!("tensor '{name}' has shape {:?}, expected {:?}", tensor.size(), target.size())));
                }
                target.shallow_clone().copy_(tensor);
                loaded += 1;
            }
            Ok(())
        })?;
        let heads_present = self.config.heads.keys().all(|h| tensors.iter().any(|(n, _)| n == &format!("head.{h}.weight")));
        if loaded == 0 || !heads_present {
            return Err(Error::file(path, "weights file lacks the model's heads".to_string()));
        }
        Ok(())
    }

    /// Adds a freshly initialised head (seeded by `seed`) for another task.
    pub fn add_head(&mut self, name: &str, labels: &[String], seed: i64) {
        tch::manual_seed(seed);
        let width = self.config.pooling.width(self.hidden);
        let head = nn::linear(self.vs.root() / "head" / name, width, labels.len() as i64, Default::default());
        self.heads.insert(name.to_string(), head);
        self.config.heads.insert(name.to_string(), labels.to_vec());
    }

    /// The tensors training updates, by name (sorted, so optimiser state lines up).
    pub fn trainable(&self) -> Vec<(String, Tensor)> {
        let mut vars: Vec<(String, Tensor)> =
            self.vs.variables().into_iter().filter(|(n, _)| !FROZEN_PREFIXES.iter().any(|p| n.starts_with(p))).collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        vars
    }

    /// Writes `model.safetensors` (trainable tensors in fp16) and `config.json` into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).at(dir, "cannot create folder")?;
        let tensors: Vec<(String, Tensor)> =
            self.trainable().into_iter().map(|(n, t)| (n, t.to_kind(Kind::Half).to(Device::Cpu))).collect();
        let tmp = dir.join(".model.safetensors.tmp");
        Tensor::write_safetensors(&tensors, &tmp).map_err(|e| Error::file(&tmp, format!("cannot write: {e}")))?;
        std::fs::rename(&tmp, dir.join("model.safetensors"))?;
        Ok(stance_core::output::write_atomic(&dir.join("config.json"), (serde_json::to_string_pretty(&self.config)? + "\n").as_bytes())?)
    }

    /// Points this model's frozen tensors (the word-piece embeddings: 47 MB for MiniLM) at
    /// `other`'s, which hold the same base weights, so two models loaded side by side keep one
    /// copy. Returns how many tensors it shared (none when the bases differ).
    pub fn share_frozen_with(&mut self, other: &CrossEncoder) -> usize {
        if self.config.base_sha256 != other.config.base_sha256 || self.device() != other.device() {
            return 0;
        }
        let theirs = other.vs.variables();
        let mut shared = 0;
        tch::no_grad(|| {
            for (name, mut mine) in self.vs.variables() {
                if !FROZEN_PREFIXES.iter().any(|p| name.starts_with(p)) {
                    continue;
                }
                if let Some(source) = theirs.get(&name).filter(|t| t.size() == mine.size() && t.kind() == mine.kind()) {
                    // Every handle to this variable (rust-bert's layers, the fused pass) sees the
                    // new storage; the old one is freed.
                    let _ = mine.set_source_tensor_(source);
                    shared += 1;
                }
            }
        });
        shared
    }

    /// Sets the arithmetic of the inference pass (see [`Precision`]); training is unaffected.
    pub fn set_precision(&mut self, precision: Precision) {
        self.fast.set_precision(precision);
    }

    /// The arithmetic of the inference pass.
    pub fn precision(&self) -> Precision {
        self.fast.precision()
    }

    /// Where its tensors live and batches are sent.
    pub fn device(&self) -> Device {
        self.vs.device()
    }

    /// Tokenizes (target, text) pairs into a padded batch.
    pub fn encode(&self, pairs: &[(&str, &str)]) -> Batch {
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|&(a, b)| (model_text(a), model_text(b))).collect();
        let encoded = self.tokenizer.encode_pair_list(&pairs, self.config.max_tokens, &TruncationStrategy::LongestFirst, 0);
        let width = encoded.iter().map(|e| e.token_ids.len()).max().unwrap_or(1).max(1);
        let n = pairs.len();
        let (mut ids, mut mask, mut types) = (vec![0i64; n * width], vec![0i64; n * width], vec![0i64; n * width]);
        for (row, e) in encoded.iter().enumerate() {
            let at = row * width;
            ids[at..at + e.token_ids.len()].copy_from_slice(&e.token_ids);
            mask[at..at + e.token_ids.len()].fill(1);
            for (k, s) in e.segment_ids.iter().enumerate() {
                types[at + k] = *s as i64;
            }
        }
        let device = self.device();
        let shape = [n as i64, width as i64];
        Batch {
            ids: Tensor::from_slice(&ids).view(shape).to(device),
            mask: Tensor::from_slice(&mask).view(shape).to(device),
            types: Tensor::from_slice(&types).view(shape).to(device),
        }
    }

    /// Logits per head, `[batch, labels]`. With `train`, dropout is on and the pass is
    /// rust-bert's (which training differentiates); without, it is [`FastBert`]'s fused one.
    pub fn forward(&self, batch: &Batch, train: bool) -> Result<BTreeMap<String, Tensor>> {
        self.forward_with(batch, train, if train { Pass::RustBert } else { Pass::Fused })
    }

    /// Logits per head through the chosen encoder pass (to compare the two).
    pub fn forward_with(&self, batch: &Batch, train: bool, pass: Pass) -> Result<BTreeMap<String, Tensor>> {
        catch_unwind(AssertUnwindSafe(|| -> Result<BTreeMap<String, Tensor>> {
            let states = match pass {
                Pass::Fused if !train => self.fast.forward(&batch.ids, &batch.mask, &batch.types),
                Pass::Fused => crate::invalid!("the fused pass is for inference only"),
                Pass::RustBert => {
                    self.bert
                        .forward_t(Some(&batch.ids), Some(&batch.mask), Some(&batch.types), None, None, None, None, train)
                        .map_err(|e| Error::Torch(format!("encoder forward pass failed: {e}")))?
                        .hidden_state
                }
            };
            let pooled = self.config.pooling.pool(&states, &batch.mask, &batch.types);
            let pooled = pooled.dropout(0.1, train);
            Ok(self.heads.iter().map(|(name, head)| (name.clone(), head.forward(&pooled))).collect())
        }))
        .map_err(|_| Error::Torch("forward pass panicked (libtorch error)".into()))?
    }

    /// Probabilities of `head` for (target, text) pairs, batched by length.
    pub fn predict(&self, head: &str, pairs: &[(&str, &str)], batch_size: usize, progress: &mut dyn FnMut(u64)) -> Result<Vec<Vec<f32>>> {
        Ok(self.predict_heads(&[head], pairs, batch_size, progress)?.remove(0))
    }

    /// Probabilities of each of `heads` (in that order) from one pass over the pairs.
    pub fn predict_heads(
        &self,
        heads: &[&str],
        pairs: &[(&str, &str)],
        batch_size: usize,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Vec<Vec<Vec<f32>>>> {
        self.predict_groups(heads, pairs, &[pairs.len()], batch_size, progress)
    }

    /// Labels batches on `n` CPU threads side by side, each running libtorch with one intra-op
    /// thread: one OpenMP team per pass stalls whenever one of its threads loses its core
    /// (another process, a busy vCPU), while independent workers keep the others going. A
    /// batch's probabilities do not depend on `n`. On a GPU one thread feeds the device.
    pub fn set_workers(&mut self, n: usize) {
        self.workers = n.max(1);
    }

    /// How many threads label batches side by side.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// [`Self::predict_heads`] over consecutive groups of pairs (`groups` holds their sizes,
    /// summing to `pairs.len()`): each batch holds pairs of one group only, so a group's
    /// probabilities are the same whatever groups are labelled with it (a document labelled
    /// alone or with others, a resumed run or a whole one).
    pub fn predict_groups(
        &self,
        heads: &[&str],
        pairs: &[(&str, &str)],
        groups: &[usize],
        batch_size: usize,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Vec<Vec<Vec<f32>>>> {
        if let Some(head) = heads.iter().find(|h| !self.heads.contains_key(**h)) {
            crate::invalid!("the model has no '{head}' head");
        }
        if groups.iter().sum::<usize>() != pairs.len() {
            crate::invalid!("groups of {} pairs in all, for {} pairs", groups.iter().sum::<usize>(), pairs.len());
        }
        // Similar lengths share a batch, so little compute goes to padding.
        let mut chunks: Vec<Vec<usize>> = Vec::new();
        let mut start = 0;
        for &n in groups {
            let mut order: Vec<usize> = (start..start + n).collect();
            order.sort_by_key(|&i| (pairs[i].0.len() + pairs[i].1.len(), i));
            chunks.extend(order.chunks(batch_size.max(1)).map(<[usize]>::to_vec));
            start += n;
        }
        let mut out = vec![vec![Vec::new(); pairs.len()]; heads.len()];
        let mut store = |chunk: &[usize], probs: Vec<Vec<f32>>| {
            for (h, flat) in probs.into_iter().enumerate() {
                let width = flat.len() / chunk.len();
                for (row, &i) in chunk.iter().enumerate() {
                    out[h][i] = flat[row * width..(row + 1) * width].to_vec();
                }
            }
            progress(chunk.len() as u64);
        };
        let workers = if self.device() == Device::Cpu { self.workers.min(chunks.len()) } else { 1 };
        if workers <= 1 {
            for chunk in &chunks {
                store(chunk, self.batch_probs(heads, pairs, chunk)?);
            }
            return Ok(out);
        }
        let shared = SharedForInference(self);
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            let (sender, finished) = std::sync::mpsc::channel();
            for _ in 0..workers {
                let (sender, shared, next, chunks) = (sender.clone(), &shared, &next, &chunks);
                scope.spawn(move || {
                    tch::set_num_threads(1);
                    loop {
                        let k = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(chunk) = chunks.get(k) else { break };
                        let result = shared.0.batch_probs(heads, pairs, chunk);
                        let failed = result.is_err();
                        // The receiver is gone once another batch failed: stop.
                        if sender.send((k, result)).is_err() || failed {
                            next.store(chunks.len(), std::sync::atomic::Ordering::Relaxed);
                            break;
                        }
                    }
                });
            }
            drop(sender);
            for (k, result) in finished {
                store(&chunks[k], result?);
            }
            Ok::<_, Error>(())
        })?;
        Ok(out)
    }

    /// One batch's probabilities, per head, flattened row by row.
    fn batch_probs(&self, heads: &[&str], pairs: &[(&str, &str)], chunk: &[usize]) -> Result<Vec<Vec<f32>>> {
        let batch_pairs: Vec<(&str, &str)> = chunk.iter().map(|&i| pairs[i]).collect();
        let batch = self.encode(&batch_pairs);
        let mut logits = tch::no_grad(|| self.forward(&batch, false))?;
        heads
            .iter()
            .map(|head| {
                let probs = logits.remove(*head).expect("head checked above").softmax(-1, Kind::Float);
                Ok(Vec::<f32>::try_from(probs.to(Device::Cpu).contiguous().view([-1]))?)
            })
            .collect()
    }

    /// The encoder's hidden width (384 for MiniLM-L6).
    pub fn hidden_size(&self) -> i64 {
        self.hidden
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_configs_that_would_be_misread_are_refused() {
        let good = || ModelConfig {
            kind: "cross-encoder".into(),
            base: "all-MiniLM-L6-v2".into(),
            base_sha256: "x".into(),
            max_tokens: 112,
            heads: [("stance".to_string(), vec!["favor".into(), "against".into(), "none".into()])].into(),
            pooling: Pooling::Interact,
            sentence_target: None,
        };
        assert!(good().check(Path::new("c.json")).is_ok());
        let table: Vec<(ModelConfig, &str)> = vec![
            (ModelConfig { kind: "foo".into(), ..good() }, "kind 'foo'"),
            (ModelConfig { max_tokens: 0, ..good() }, "max_tokens 0 is outside 8..=512"),
            (ModelConfig { max_tokens: 600, ..good() }, "max_tokens 600 is outside"),
            (ModelConfig { heads: BTreeMap::new(), ..good() }, "no heads"),
            (
                ModelConfig { heads: [("stance".to_string(), vec!["against".into(), "favor".into(), "none".into()])].into(), ..good() },
                "the 'stance' head's labels are against,favor,none, not favor,against,none in that order",
            ),
        ];
        for (config, expected) in table {
            let err = config.check(Path::new("c.json")).unwrap_err().to_string();
            assert!(err.starts_with("c.json: ") && err.contains(expected), "{err}");
        }
    }

    #[test]
    fn the_fused_pass_gives_rust_berts_outputs_within_1e_5() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let model = CrossEncoder::load(&root.join("models/stance-minilm-v6"), &root.join("models/base/files"), Device::Cpu).unwrap();
        // Lengths from two word pieces to past the model's limit, so padding and truncation
        // both occur in one batch.
        let long = "Tokyo's plan to double defence spending by 2027 ".repeat(20);
        let pairs: Vec<(&str, &str)> = vec![
            ("Japan's rearmament", "Yes."),
            ("Japan's rearmament", "Japan should rearm to deter China."),
            ("Japan's rearmament", "Beijing warned that Tokyo's military build-up threatens regional peace and stability."),
            ("the overall tone", "The ministry announced the deployment of new missile units on Okinawa on Tuesday."),
            ("Japan's rearmament", long.as_str()),
        ];
        let batch = model.encode(&pairs);
        assert!(batch.mask.sum(Kind::Int64).int64_value(&[]) < batch.mask.numel() as i64, "the batch has padding");
        tch::no_grad(|| {
            let reference =
                model.bert.forward_t(Some(&batch.ids), Some(&batch.mask), Some(&batch.types), None, None, None, None, false).unwrap();
            let fused = model.fast.forward(&batch.ids, &batch.mask, &batch.types);
            // Token states where the mask is 1 (padding positions are never read).
            let real = batch.mask.unsqueeze(-1).to_kind(Kind::Float);
            let state_gap = ((&reference.hidden_state - &fused) * &real).abs().max().double_value(&[]);
            assert!(state_gap <= 1e-5, "token states differ by {state_gap}");
            let (a, b) = (model.forward_with(&batch, false, Pass::RustBert).unwrap(), model.forward(&batch, false).unwrap());
            for (head, logits) in &a {
                let gap = (logits - &b[head]).abs().max().double_value(&[]);
                assert!(gap <= 1e-5, "{head} logits differ by {gap}");
            }
        });
        // The fused pass refuses to train: it has no dropout.
        assert!(model.forward_with(&batch, true, Pass::Fused).is_err());
    }

    #[test]
    fn side_by_side_workers_and_groups_leave_every_probability_as_one_thread_gives_it() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut model = CrossEncoder::load(&root.join("models/stance-minilm-v7"), &root.join("models/base/files"), Device::Cpu).unwrap();
        let texts: Vec<String> = (0..41)
            .map(|i| format!("Sentence {i}: Tokyo {} its defence budget{}.", ["raised", "cut", "debated"][i % 3], " again".repeat(i % 7)))
            .collect();
        let pairs: Vec<(&str, &str)> = texts.iter().map(|t| ("Japan's rearmament", t.as_str())).collect();
        let groups = [5, 17, 0, 19];
        let mut seen = 0;
        tch::set_num_threads(1);
        let one = model.predict_groups(&["stance"], &pairs, &groups, 4, &mut |n| seen += n).unwrap();
        assert_eq!(seen, 41, "progress counts every pair once");
        for workers in [2, 3, 8] {
            model.set_workers(workers);
            let many = model.predict_groups(&["stance"], &pairs, &groups, 4, &mut |_| {}).unwrap();
            assert_eq!(many, one, "{workers} workers");
        }
        // A group's probabilities are those it gets alone: its batches hold none of the others'.
        let alone = model.predict_heads(&["stance"], &pairs[5..22], 4, &mut |_| {}).unwrap();
        assert_eq!(alone[0], one[0][5..22].to_vec());
        // Batches that mix groups would differ (padding width and int8 scales change).
        let mixed = model.predict_heads(&["stance"], &pairs, 4, &mut |_| {}).unwrap();
        assert_ne!(mixed, one, "the grouping is what keeps documents apart");
        assert!(model.predict_groups(&["stance"], &pairs, &[40], 4, &mut |_| {}).is_err(), "groups must cover every pair");
    }

    #[test]
    fn two_models_share_one_copy_of_the_frozen_embeddings_and_label_as_before() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let base = root.join("models/base/files");
        let stance = CrossEncoder::load(&root.join("models/stance-minilm-v6"), &base, Device::Cpu).unwrap();
        let mut sentiment = CrossEncoder::load(&root.join("models/sentiment-minilm-newsmtsc"), &base, Device::Cpu).unwrap();
        let batch = sentiment.encode(&[("the overall tone", "A dreadful, shameful decision."), ("Japan", "Tokyo won praise.")]);
        let before = tch::no_grad(|| sentiment.forward(&batch, false)).unwrap()["sentiment"].copy();
        let name = "embeddings.word_embeddings.weight";
        let pointer = |m: &CrossEncoder| m.vs.variables()[name].data_ptr();
        assert_ne!(pointer(&sentiment), pointer(&stance));
        assert_eq!(sentiment.share_frozen_with(&stance), 1);
        assert_eq!(pointer(&sentiment), pointer(&stance), "one copy of the word-piece embeddings");
        assert_eq!(sentiment.fast.word_embeddings().data_ptr(), pointer(&stance), "the fused pass reads the shared copy too");
        let after = tch::no_grad(|| sentiment.forward(&batch, false)).unwrap()["sentiment"].copy();
        assert_eq!(Vec::<f32>::try_from(after.view([-1])).unwrap(), Vec::<f32>::try_from(before.view([-1])).unwrap());

        // A model file that carries its own copy of a frozen tensor is refused: sharing would
        // silently replace it.
        let dir = tempfile::tempdir().unwrap();
        let v6 = root.join("models/stance-minilm-v6");
        std::fs::copy(v6.join("config.json"), dir.path().join("config.json")).unwrap();
        let mut tensors = Tensor::read_safetensors(v6.join("model.safetensors")).unwrap();
        tensors.push((name.to_string(), Tensor::zeros([30522, 384], (Kind::Half, Device::Cpu))));
        Tensor::write_safetensors(&tensors, dir.path().join("model.safetensors")).unwrap();
        let error = CrossEncoder::load(dir.path(), &base, Device::Cpu).err().unwrap().to_string();
        assert!(error.contains("belongs to the frozen base encoder"), "{error}");
    }

    #[test]
    fn int8_linear_layers_stay_close_to_f32_and_switch_back_exactly() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let mut model = CrossEncoder::load(&root.join("models/stance-minilm-v6"), &root.join("models/base/files"), Device::Cpu).unwrap();
        let pairs: Vec<(&str, &str)> = vec![
            ("Japan's rearmament", "Japan is right to strengthen its defences against a growing threat."),
            ("Japan's rearmament", "Tokyo's reckless military expansion endangers the whole region."),
            ("Japan's rearmament", "The ministry published its annual white paper on Tuesday."),
            ("the overall tone", "A short sentence."),
        ];
        let batch = model.encode(&pairs);
        let probs = |model: &CrossEncoder| -> Vec<f32> {
            let logits = tch::no_grad(|| model.forward(&batch, false)).unwrap();
            Vec::<f32>::try_from(logits["stance"].softmax(-1, Kind::Float).view([-1])).unwrap()
        };
        assert_eq!(model.precision(), Precision::F32, "a loaded model starts in f32");
        let f32_probs = probs(&model);
        model.set_precision(Precision::Int8);
        let int8_probs = probs(&model);
        assert_ne!(f32_probs, int8_probs, "int8 is a different computation");
        let gap = f32_probs.iter().zip(&int8_probs).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(gap < 0.05, "int8 moved a probability by {gap}");
        let argmax = |p: &[f32]| -> Vec<usize> { p.chunks(3).map(|c| (0..3).max_by(|&i, &j| c[i].total_cmp(&c[j])).unwrap()).collect() };
        assert_eq!(argmax(&f32_probs), argmax(&int8_probs));
        assert_eq!(argmax(&f32_probs)[..3], [0, 1, 2], "favor, against, none");
        model.set_precision(Precision::F32);
        assert_eq!(probs(&model), f32_probs, "back to f32, the same outputs bit for bit");
    }

    #[test]
    fn pooling_tables() {
        // One pair of four tokens: two target tokens (segment 0), two text tokens, then padding.
        let states = Tensor::from_slice(&[1.0f32, 2.0, 3.0, 4.0, 5.0, -2.0, 7.0, 0.0, 100.0, 100.0]).view([1, 5, 2]);
        let mask = Tensor::from_slice(&[1i64, 1, 1, 1, 0]).view([1, 5]);
        let types = Tensor::from_slice(&[0i64, 0, 1, 1, 1]).view([1, 5]);
        // target mean (2, 3), text mean (6, -1)
        let table: [(Pooling, Vec<f32>); 3] = [
            (Pooling::Mean, vec![4.0, 1.0]),
            (Pooling::Segments, vec![2.0, 3.0, 6.0, -1.0]),
            (Pooling::Interact, vec![2.0, 3.0, 6.0, -1.0, 4.0, 4.0, 12.0, -3.0]),
        ];
        for (pooling, expected) in table {
            let pooled = pooling.pool(&states, &mask, &types);
            assert_eq!(pooled.size(), [1, pooling.width(2)], "{pooling:?}");
            assert_eq!(serde_json::to_string(&pooling).unwrap(), format!("\"{}\"", pooling.name()));
            assert_eq!(Vec::<f32>::try_from(pooled.view([-1])).unwrap(), expected, "{pooling:?}");
        }
        // config.json spells them in lower case, and an unknown one is refused.
        assert_eq!(serde_json::from_str::<Pooling>("\"interact\"").unwrap(), Pooling::Interact);
        assert!(serde_json::from_str::<Pooling>("\"max\"").is_err());
    }
}
