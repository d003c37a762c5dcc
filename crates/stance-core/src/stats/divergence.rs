//! How far apart two label distributions are.

/// Jensen–Shannon distance, base 2, between two count vectors (normalised here); NaN if either
/// is all zero.
pub fn js_distance(p: &[usize], q: &[usize]) -> f64 {
    let (sp, sq) = (p.iter().sum::<usize>() as f64, q.iter().sum::<usize>() as f64);
    if sp == 0.0 || sq == 0.0 {
        return f64::NAN;
    }
    let kl = |x: f64, m: f64| if x > 0.0 { x * (x / m).log2() } else { 0.0 };
    let divergence: f64 = p
        .iter()
        .zip(q)
        .map(|(&a, &b)| {
            let (a, b) = (a as f64 / sp, b as f64 / sq);
            let m = (a + b) / 2.0;
            0.5 * kl(a, m) + 0.5 * kl(b, m)
        })
        .sum();
    divergence.max(0.0).sqrt()
}
