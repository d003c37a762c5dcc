//! An inference-only BERT forward pass over the very tensors rust-bert loaded, written with
//! libtorch's fused kernels: `scaled_dot_product_attention` (one kernel for scores, mask,
//! softmax and the weighted sum), the fused `gelu` (rust-bert composes it from five element-wise
//! ops: `x * 0.5 * (1 + erf(x / √2))`) and `layer_norm`. rust-bert stays the loader, the
//! tokenizer source and the training path; this pass reads the same tensors (shallow clones,
//! so weights updated by training are seen at once) and is tested against rust-bert's output
//! to within 1e-5.

use crate::{Error, Result};
use rust_bert::bert::BertConfig;
pub use stance_core::config::Precision;
use tch::{nn, Kind, Tensor};

/// A weight quantized for [`Precision::Int8`]: `[in, out]` int8 and a scale per output.
struct Quantized {
    weight: Tensor,
    scale: Tensor,
}

/// The largest magnitude an int8 code stands for (symmetric: −127..=127).
const INT8_MAX: f64 = 127.0;

/// `x` `[rows, width]` as int8 codes and one scale per row (`[rows, 1]`): x ≈ codes × scale.
fn quantize_rows(x: &Tensor) -> (Tensor, Tensor) {
    let scale = x.abs().amax([-1i64].as_slice(), true).clamp_min(1e-12) / INT8_MAX;
    let codes = (x / &scale).round().clamp(-INT8_MAX, INT8_MAX).to_kind(Kind::Int8);
    (codes, scale)
}

/// A linear layer's weight `[out, in]` and bias `[out]`, and its int8 form once quantized.
struct Linear {
    weight: Tensor,
    bias: Tensor,
    quantized: Option<Quantized>,
}

impl Linear {
    fn forward(&self, x: &Tensor) -> Tensor {
        match &self.quantized {
            None => x.linear(&self.weight, Some(&self.bias)),
            Some(q) => {
                let mut shape = x.size();
                let width = shape.pop().expect("a linear layer's input has a last dimension");
                let (codes, row_scale) = quantize_rows(&x.reshape([-1, width]));
                // In place: a fresh output-sized tensor per step costs more (page faults) than the
                // int8 product itself.
                let mut out = codes.internal_int_mm(&q.weight).to_kind(Kind::Float);
                let _ = out.g_mul_(&row_scale);
                let _ = out.g_mul_(&q.scale);
                let _ = out.g_add_(&self.bias);
                shape.push(q.weight.size()[1]);
                out.view(shape.as_slice())
            }
        }
    }

    fn quantize(&mut self) {
        // Each output's weights (a row of `weight`) get their own scale.
        let (codes, scale) = quantize_rows(&self.weight.detach());
        self.quantized = Some(Quantized { weight: codes.tr().contiguous(), scale: scale.view([1, -1]) });
    }
}

/// A layer norm's scale and shift.
struct Norm {
    weight: Tensor,
    bias: Tensor,
}

/// One transformer layer's tensors.
struct Layer {
    query: Linear,
    key: Linear,
    value: Linear,
    attention_out: Linear,
    attention_norm: Norm,
    intermediate: Linear,
    output: Linear,
    output_norm: Norm,
}

/// The encoder's tensors, borrowed from a loaded rust-bert `BertModel`'s variable store.
pub struct FastBert {
    word: Tensor,
    position: Tensor,
    token_type: Tensor,
    embedding_norm: Norm,
    layers: Vec<Layer>,
    heads: i64,
    eps: f64,
}

impl FastBert {
    /// The tensors of the BERT model at the root of `vs`; an error names the first tensor that
    /// is missing.
    pub fn from_store(vs: &nn::VarStore, config: &BertConfig) -> Result<Self> {
        let vars = vs.variables();
        let get = |name: &str| -> Result<Tensor> {
            vars.get(name).map(Tensor::shallow_clone).ok_or_else(|| Error::Torch(format!("the encoder has no tensor '{name}'")))
        };
        let linear = |name: &str| -> Result<Linear> {
            Ok(Linear { weight: get(&format!("{name}.weight"))?, bias: get(&format!("{name}.bias"))?, quantized: None })
        };
        let norm =
            |name: &str| -> Result<Norm> { Ok(Norm { weight: get(&format!("{name}.weight"))?, bias: get(&format!("{name}.bias"))? }) };
        let layers = (0..config.num_hidden_layers)
            .map(|i| {
                let p = format!("encoder.layer.{i}");
                Ok(Layer {
                    query: linear(&format!("{p}.attention.self.query"))?,
                    key: linear(&format!("{p}.attention.self.key"))?,
                    value: linear(&format!("{p}.attention.self.value"))?,
                    attention_out: linear(&format!("{p}.attention.output.dense"))?,
                    attention_norm: norm(&format!("{p}.attention.output.LayerNorm"))?,
                    intermediate: linear(&format!("{p}.intermediate.dense"))?,
                    output: linear(&format!("{p}.output.dense"))?,
                    output_norm: norm(&format!("{p}.output.LayerNorm"))?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        if !matches!(config.hidden_act, rust_bert::Activation::gelu) {
            crate::invalid!("the fast forward pass implements BERT with the exact GELU, not {:?}", config.hidden_act);
        }
        Ok(Self {
            word: get("embeddings.word_embeddings.weight")?,
            position: get("embeddings.position_embeddings.weight")?,
            token_type: get("embeddings.token_type_embeddings.weight")?,
            embedding_norm: norm("embeddings.LayerNorm")?,
            layers,
            heads: config.num_attention_heads,
            // rust-bert's BERT layer norms all use 1e-12 (as MiniLM's config.json says).
            eps: 1e-12,
        })
    }

    /// Sets the linear layers' arithmetic. Int8 quantizes the weights as they are now: a model
    /// trained further must be set again.
    pub fn set_precision(&mut self, precision: Precision) {
        for layer in &mut self.layers {
            for linear in
                [&mut layer.query, &mut layer.key, &mut layer.value, &mut layer.attention_out, &mut layer.intermediate, &mut layer.output]
            {
                match precision {
                    Precision::F32 => linear.quantized = None,
                    Precision::Int8 => linear.quantize(),
                }
            }
        }
    }

    /// The word-piece embedding table it reads.
    pub fn word_embeddings(&self) -> &Tensor {
        &self.word
    }

    /// The linear layers' arithmetic: int8 once they hold quantized weights.
    pub fn precision(&self) -> Precision {
        match self.layers.first() {
            Some(layer) if layer.query.quantized.is_some() => Precision::Int8,
            _ => Precision::F32,
        }
    }

    fn norm(&self, x: &Tensor, n: &Norm) -> Tensor {
        let width = x.size()[2];
        x.layer_norm([width], Some(&n.weight), Some(&n.bias), self.eps, false)
    }

    /// Token states `[batch, tokens, hidden]` for word-piece `ids`, attention `mask` (1 for a
    /// real token) and segment `types`, all `[batch, tokens]`. Inference only: no dropout.
    pub fn forward(&self, ids: &Tensor, mask: &Tensor, types: &Tensor) -> Tensor {
        let (batch, tokens) = (ids.size()[0], ids.size()[1]);
        let hidden = self.word.size()[1];
        let width = hidden / self.heads;
        let x = self.word.index_select(0, &ids.view([-1])).view([batch, tokens, hidden])
            + self.position.narrow(0, 0, tokens).unsqueeze(0)
            + self.token_type.index_select(0, &types.view([-1])).view([batch, tokens, hidden]);
        let mut x = self.norm(&x, &self.embedding_norm);
        // The additive mask rust-bert uses (−10000 on padding), so the two passes agree.
        let attention_mask = ((mask.to_kind(Kind::Float) * -1.0 + 1.0) * -10000.0).view([batch, 1, 1, tokens]).to_kind(x.kind());
        let split = |t: Tensor| t.view([batch, tokens, self.heads, width]).transpose(1, 2);
        for layer in &self.layers {
            let (q, k, v) = (split(layer.query.forward(&x)), split(layer.key.forward(&x)), split(layer.value.forward(&x)));
            let context = Tensor::scaled_dot_product_attention(&q, &k, &v, Some(&attention_mask), 0.0, false, None::<f64>)
                .transpose(1, 2)
                .reshape([batch, tokens, hidden]);
            let attended = self.norm(&(layer.attention_out.forward(&context) + &x), &layer.attention_norm);
            let inner = layer.intermediate.forward(&attended).gelu("none");
            x = self.norm(&(layer.output.forward(&inner) + &attended), &layer.output_norm);
        }
        x
    }
}
