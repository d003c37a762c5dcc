//! The percentile bootstrap behind every interval the tool reports. Each unit (a document, a
//! group, a metric) draws from its own stream, derived from the seed and the unit's name, so
//! its interval does not depend on which other units are in the corpus, and the same input
//! always gives the same interval.

use ndarray::Array1;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A value with its 95% bootstrap interval; NaN when there is nothing to estimate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// The point estimate, from all the data.
    pub value: f64,
    /// Lower end of the 95% interval.
    pub low: f64,
    /// Upper end of the 95% interval.
    pub high: f64,
}

impl Estimate {
    /// Nothing to estimate.
    pub const MISSING: Estimate = Estimate { value: f64::NAN, low: f64::NAN, high: f64::NAN };
}

/// Settings of the bootstrap.
#[derive(Debug, Clone, Copy)]
pub struct Bootstrap {
    /// Resamples drawn per interval.
    pub resamples: usize,
    /// Seed from which each unit's own stream is derived.
    pub seed: u64,
}

/// Stable 64-bit FNV-1a, to derive one bootstrap stream per unit from the seed, so a unit's
/// interval does not depend on which other units are in the corpus.
pub(crate) fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for part in parts {
        for b in part.bytes().chain([0u8]) {
            h ^= b as u64;
            h = h.wrapping_mul(0x100000001b3);
        }
    }
    h
}

/// Linear-interpolation quantile (NumPy's default) of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

fn resampled_mean(values: &Array1<f64>, rng: &mut ChaCha8Rng) -> f64 {
    let n = values.len();
    (0..n).map(|_| values[rng.gen_range(0..n)]).sum::<f64>() / n as f64
}

pub(crate) fn interval(mut draws: Vec<f64>, value: f64) -> Estimate {
    // A statistic undefined on some resamples (kappa with one label drawn) is read on the rest.
    draws.retain(|x| !x.is_nan());
    if draws.is_empty() {
        return Estimate { value, low: f64::NAN, high: f64::NAN };
    }
    draws.sort_by(f64::total_cmp);
    Estimate { value, low: quantile(&draws, 0.025), high: quantile(&draws, 0.975) }
}

/// Mean of `values` with a 95% percentile-bootstrap interval.
pub fn bootstrap_mean(values: &Array1<f64>, settings: Bootstrap, stream: &[&str]) -> Estimate {
    if values.is_empty() {
        return Estimate::MISSING;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed ^ fnv1a(stream));
    let draws = (0..settings.resamples).map(|_| resampled_mean(values, &mut rng)).collect();
    interval(draws, values.mean().unwrap_or(f64::NAN))
}

/// Difference of means `a − b` with a 95% interval, resampling each side independently.
pub fn bootstrap_difference(a: &Array1<f64>, b: &Array1<f64>, settings: Bootstrap, stream: &[&str]) -> Estimate {
    if a.is_empty() || b.is_empty() {
        return Estimate::MISSING;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed ^ fnv1a(stream));
    let draws = (0..settings.resamples).map(|_| resampled_mean(a, &mut rng) - resampled_mean(b, &mut rng)).collect();
    interval(draws, a.mean().unwrap_or(f64::NAN) - b.mean().unwrap_or(f64::NAN))
}

/// `statistic` of `items` with a 95% percentile-bootstrap interval, resampling the items (e.g.
/// macro-F1 over (gold, predicted) pairs).
pub fn bootstrap_statistic<T: Copy>(items: &[T], settings: Bootstrap, stream: &[&str], statistic: impl Fn(&[T]) -> f64) -> Estimate {
    if items.is_empty() {
        return Estimate::MISSING;
    }
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed ^ fnv1a(stream));
    let n = items.len();
    let mut sample = Vec::with_capacity(n);
    let draws = (0..settings.resamples)
        .map(|_| {
            sample.clear();
            sample.extend((0..n).map(|_| items[rng.gen_range(0..n)]));
            statistic(&sample)
        })
        .collect();
    interval(draws, statistic(items))
}
