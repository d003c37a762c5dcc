//! The transformer encoder (MiniLM-L6, through rust-bert) and its tokenizer, loaded from local
//! files only: weights are never downloaded at run time. Wraps rust-bert's forward pass so an
//! empty batch or a libtorch failure becomes an error instead of a panic.

use crate::{Error, Result};
use rust_bert::bert::{BertConfig, BertEmbeddings, BertModel};
use rust_tokenizers::tokenizer::{BertTokenizer, Tokenizer, TruncationStrategy};
use serde::Serialize;

use stance_core::IoContext;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use tch::{nn, Device, Kind, Tensor};

/// The most bytes of one text the models read. The encoder sees at most 512 word pieces, and
/// prose of 512 pieces takes about 3 KB, while tokenizing a run-on "sentence" of a megabyte
/// whole costs time that grows faster than its length (10× for 4× the bytes, measured). Longer
/// texts are cut here, at the last space before the limit; `stance run` counts them in
/// run.json (`counts.sentences_cut_for_the_model`).
pub const MAX_TEXT_BYTES: usize = 8192;

/// `text` cut to at most [`MAX_TEXT_BYTES`] bytes (see there).
pub fn model_text(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    match text[..end].rfind(char::is_whitespace) {
        Some(space) if space > 0 => &text[..space],
        _ => &text[..end],
    }
}

/// The files of an encoder folder.
pub const MODEL_FILES: [&str; 3] = ["model.safetensors", "config.json", "vocab.txt"];

/// A model file and its sha256, recorded in run.json.
#[derive(Debug, Clone, Serialize)]
pub struct FileDigest {
    /// The file, as it was opened.
    pub path: PathBuf,
    /// Its sha256, lowercase hex.
    pub sha256: String,
}

pub use stance_core::digest::sha256_file;

/// A base encoder folder, checked and read: the three files with their sha256, the BERT
/// config and the tokenizer. Both the sentence encoder and the trained cross-encoder start here.
pub struct BaseFiles {
    /// In [`MODEL_FILES`] order: weights, config, vocabulary.
    pub files: Vec<FileDigest>,
    /// The encoder's architecture, from `config.json`.
    pub config: BertConfig,
    /// The word-piece tokenizer from `vocab.txt` (lower-cases and strips accents).
    pub tokenizer: BertTokenizer,
}

impl BaseFiles {
    /// Checks that `dir` holds the three [`MODEL_FILES`] and that `device` is usable, then
    /// hashes the files and reads the config and vocabulary (the weights are not loaded).
    pub fn read(dir: &Path, device: Device) -> Result<Self> {
        let paths: Vec<PathBuf> = MODEL_FILES.iter().map(|f| dir.join(f)).collect();
        for path in &paths {
            if !path.is_file() {
                return Err(Error::file(path, "model file missing (run scripts/setup.sh, or pass --model-dir)".to_string()));
            }
        }
        if device.is_cuda() && !tch::Cuda::is_available() {
            crate::invalid!("CUDA was asked for, but this libtorch has no usable CUDA device");
        }
        let config_text = std::fs::read_to_string(&paths[1]).at(&paths[1], "cannot read")?;
        let config: BertConfig =
            serde_json::from_str(&config_text).map_err(|e| Error::file(&paths[1], format!("not a BERT config: {e}")))?;
        // Checked here, so a bad file is an error rather than a panic inside libtorch.
        if config.hidden_size <= 0
            || config.num_attention_heads <= 0
            || config.hidden_size % config.num_attention_heads != 0
            || config.max_position_embeddings < 8
        {
            return Err(Error::file(
                &paths[1],
                format!(
                    "hidden_size {} must be a positive multiple of num_attention_heads {}, and max_position_embeddings ({}) at least 8",
                    config.hidden_size, config.num_attention_heads, config.max_position_embeddings
                ),
            ));
        }
        let tokenizer =
            BertTokenizer::from_file(&paths[2], true, true).map_err(|e| Error::file(&paths[2], format!("cannot load vocabulary: {e}")))?;
        let files = paths.iter().map(|p| Ok(FileDigest { path: p.clone(), sha256: sha256_file(p)? })).collect::<Result<_>>()?;
        Ok(Self { files, config, tokenizer })
    }

    /// The weights file (`model.safetensors`) and its sha256.
    pub fn weights(&self) -> &FileDigest {
        &self.files[0]
    }
}

/// Mean of `hidden` (`[batch, tokens, dim]`) over the tokens where `mask` (`[batch, tokens]`)
/// is 1: `[batch, dim]`.
pub fn mean_pool(hidden: &Tensor, mask: &Tensor) -> Tensor {
    let weights = mask.unsqueeze(-1).to_kind(Kind::Float);
    (hidden * &weights).sum_dim_intlist([1i64].as_slice(), false, Kind::Float)
        / weights.sum_dim_intlist([1i64].as_slice(), false, Kind::Float).clamp_min(1e-9)
}

/// A BERT-family sentence encoder with its tokenizer.
pub struct Encoder {
    model: BertModel<BertEmbeddings>,
    tokenizer: BertTokenizer,
    // Owns the weights the model's tensors point into.
    _vs: nn::VarStore,
    device: Device,
    max_tokens: usize,
    hidden: i64,
    /// The files it was loaded from, in [`MODEL_FILES`] order, for run.json.
    pub files: Vec<FileDigest>,
}

impl Encoder {
    /// Loads `model.safetensors`, `config.json` and `vocab.txt` from `dir`.
    pub fn load(dir: &Path, device: Device, max_tokens: usize) -> Result<Self> {
        let BaseFiles { files, config, tokenizer } = BaseFiles::read(dir, device)?;
        if max_tokens < 8 || max_tokens as i64 > config.max_position_embeddings {
            crate::invalid!("max_tokens {max_tokens} is outside 8..={} (the base encoder's positions)", config.max_position_embeddings);
        }
        let mut vs = nn::VarStore::new(device);
        let model = BertModel::<BertEmbeddings>::new(vs.root(), &config);
        vs.load(&files[0].path)
            .map_err(|e| Error::file(&files[0].path, format!("cannot load weights: {}", crate::error::first_line(&e.to_string()))))?;
        vs.freeze();
        Ok(Self { model, tokenizer, _vs: vs, device, max_tokens, hidden: config.hidden_size, files })
    }

    /// Where the model runs (embeddings are returned on the CPU whatever this is).
    pub fn device(&self) -> Device {
        self.device
    }

    /// Mean-pooled, L2-normalised sentence embeddings, `[texts.len(), hidden]`, on the CPU.
    pub fn embed(&self, texts: &[&str]) -> Result<Tensor> {
        if texts.is_empty() {
            return Ok(Tensor::zeros([0, self.hidden], (Kind::Float, Device::Cpu)));
        }
        let texts: Vec<&str> = texts.iter().map(|t| model_text(t)).collect();
        let encoded = self.tokenizer.encode_list(&texts, self.max_tokens, &TruncationStrategy::LongestFirst, 0);
        let width = encoded.iter().map(|e| e.token_ids.len()).max().unwrap_or(0).max(1);
        let mut ids = vec![0i64; texts.len() * width];
        let mut mask = vec![0i64; texts.len() * width];
        for (row, e) in encoded.iter().enumerate() {
            ids[row * width..row * width + e.token_ids.len()].copy_from_slice(&e.token_ids);
            mask[row * width..row * width + e.token_ids.len()].fill(1);
        }
        let shape = [texts.len() as i64, width as i64];
        let ids = Tensor::from_slice(&ids).view(shape).to(self.device);
        let mask = Tensor::from_slice(&mask).view(shape).to(self.device);
        let pooled = catch_unwind(AssertUnwindSafe(|| {
            tch::no_grad(|| -> Result<Tensor> {
                let out = self
                    .model
                    .forward_t(Some(&ids), Some(&mask), None, None, None, None, None, false)
                    .map_err(|e| Error::Torch(format!("encoder forward pass failed: {e}")))?;
                let pooled = mean_pool(&out.hidden_state, &mask);
                let norm = pooled.norm_scalaropt_dim(2, [1i64].as_slice(), true).clamp_min(1e-12);
                Ok((pooled / norm).to(Device::Cpu))
            })
        }))
        .map_err(|_| Error::Torch("encoder forward pass panicked (libtorch error)".into()))??;
        Ok(pooled)
    }
}

#[cfg(test)]
mod text_limit_tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_at_a_space_before_the_limit_and_short_ones_kept() {
        assert_eq!(model_text("Tokyo acts."), "Tokyo acts.");
        let words = "défense ".repeat(2000); // 9 bytes a word: 18,000 bytes
        let cut = model_text(&words);
        assert!(cut.len() <= MAX_TEXT_BYTES && cut.len() > MAX_TEXT_BYTES - 10, "{}", cut.len());
        assert!(words.starts_with(cut) && cut.ends_with("défense"), "cut at a space, not inside a word");
        let unbroken = "é".repeat(MAX_TEXT_BYTES); // two bytes a character, no space
        let cut = model_text(&unbroken);
        assert_eq!(cut.len(), MAX_TEXT_BYTES, "on a character boundary");
    }
}
