//! The optimiser: AdamW written out (so its moments can be checkpointed), the learning-rate
//! schedule, and gradient clipping.

use tch::{Kind, Tensor};

/// Hand-written AdamW (decoupled weight decay), so its state can be checkpointed.
pub(super) struct AdamW {
    pub(super) m: Vec<Tensor>,
    pub(super) v: Vec<Tensor>,
}

impl AdamW {
    const B1: f64 = 0.9;
    const B2: f64 = 0.999;
    const EPS: f64 = 1e-6;

    pub(super) fn new(params: &[(String, Tensor)]) -> Self {
        Self { m: params.iter().map(|(_, p)| p.zeros_like()).collect(), v: params.iter().map(|(_, p)| p.zeros_like()).collect() }
    }

    pub(super) fn step(&mut self, params: &[(String, Tensor)], step: usize, lr: f64, head_lr: f64, weight_decay: f64) {
        let t = step as i32;
        let (c1, c2) = (1.0 - Self::B1.powi(t), 1.0 - Self::B2.powi(t));
        tch::no_grad(|| {
            for (i, (name, p)) in params.iter().enumerate() {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                let lr = if name.starts_with("head.") { head_lr } else { lr };
                let _ = self.m[i].g_mul_scalar_(Self::B1).g_add_(&(&g * (1.0 - Self::B1)));
                let _ = self.v[i].g_mul_scalar_(Self::B2).g_add_(&(&g * &g * (1.0 - Self::B2)));
                let update = (&self.m[i] / c1) / ((&self.v[i] / c2).sqrt() + Self::EPS);
                let mut p = p.shallow_clone();
                // No decay for biases and LayerNorm weights, as usual.
                if !(name.ends_with(".bias") || name.contains("LayerNorm")) {
                    let _ = p.g_mul_scalar_(1.0 - lr * weight_decay);
                }
                let _ = p.g_sub_(&(update * lr));
            }
        });
    }
}

/// Linear warm-up to the peak, then linear decay to zero.
pub(super) fn schedule(step: usize, total: usize, warmup: f64) -> f64 {
    let warm = ((total as f64 * warmup).ceil() as usize).max(1);
    if step < warm {
        (step + 1) as f64 / warm as f64
    } else {
        ((total - step) as f64 / (total - warm).max(1) as f64).max(0.0)
    }
}

/// Scales the gradients down so their joint L2 norm is at most `max_norm`.
pub(super) fn clip_gradients(params: &[(String, Tensor)], max_norm: f64) {
    tch::no_grad(|| {
        let grads: Vec<Tensor> = params.iter().map(|(_, p)| p.grad()).filter(Tensor::defined).collect();
        if grads.is_empty() {
            return;
        }
        let total =
            grads.iter().map(|g| g.pow_tensor_scalar(2).sum(Kind::Float)).fold(Tensor::from(0f32), |a, b| a + b).sqrt().double_value(&[]);
        if total > max_norm {
            for g in grads {
                let mut g = g;
                let _ = g.g_mul_scalar_(max_norm / (total + 1e-6));
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_warms_up_then_decays_to_zero() {
        let table = [(0, 0.25), (3, 1.0), (4, 1.0), (5, 15.0 / 16.0), (19, 1.0 / 16.0)];
        for (step, expected) in table {
            assert!((schedule(step, 20, 0.2) - expected).abs() < 1e-12, "step {step}: {}", schedule(step, 20, 0.2));
        }
    }
}
