//! Calibration: SVM margins become confidences with a temperature-scaled softmax.
//!
//! One-vs-rest margins are not probabilities: a margin of 0.3 can be a sure thing for one model and
//! a coin toss for another. Dividing all margins by one temperature T before the softmax keeps the
//! ranking and makes "0.8" mean "right about 80 % of the time" on held-out data, which is what a
//! per-intent threshold needs. T is fitted by minimising the negative log-likelihood of the gold
//! intents on data the model did not train on (Guo et al., 2017); one parameter cannot overfit a
//! few hundred held-out messages the way Platt scaling per class could.

/// Softmax of `scores / temperature` into `out` (cleared first); numerically stable.
pub(crate) fn softmax(scores: &[f32], temperature: f32, out: &mut Vec<f32>) {
    out.clear();
    let t = if temperature.is_finite() && temperature > 0.0 {
        temperature
    } else {
        1.0
    };
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    out.extend(scores.iter().map(|&s| ((s - max) / t).exp()));
    let sum: f32 = out.iter().sum();
    if sum > 0.0 && sum.is_finite() {
        out.iter_mut().for_each(|p| *p /= sum);
    }
}

/// Mean negative log-likelihood of the gold classes at temperature `t`.
fn nll(scores: &[Vec<f32>], gold: &[usize], t: f64) -> f64 {
    let mut total = 0.0;
    for (s, &g) in scores.iter().zip(gold) {
        let max = s.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
        let log_sum = s
            .iter()
            .map(|&v| ((f64::from(v) - max) / t).exp())
            .sum::<f64>()
            .ln();
        total += log_sum - (f64::from(s[g]) - max) / t;
    }
    total / scores.len().max(1) as f64
}

/// The temperature minimising held-out NLL, by golden-section search on ln T over
/// [10⁻³, 10²] (the NLL is unimodal in T for fixed scores). 1.0 when there is nothing to fit.
pub(crate) fn fit_temperature(scores: &[Vec<f32>], gold: &[usize]) -> f32 {
    if scores.is_empty() {
        return 1.0;
    }
    let phi = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (1e-3f64.ln(), 1e2f64.ln());
    let f = |x: f64| nll(scores, gold, x.exp());
    let mut c = b - phi * (b - a);
    let mut d = a + phi * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..60 {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - phi * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + phi * (b - a);
            fd = f(d);
        }
    }
    ((a + b) / 2.0).exp() as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_sums_to_one_and_sharpens_with_low_temperature() {
        let mut p = Vec::new();
        softmax(&[1.0, 0.0, -1.0], 1.0, &mut p);
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        let warm = p[0];
        softmax(&[1.0, 0.0, -1.0], 0.1, &mut p);
        assert!(p[0] > warm && p[0] > 0.99);
        // Degenerate temperatures fall back to 1.
        softmax(&[1.0, 0.0], f32::NAN, &mut p);
        assert!((p[0] - 0.731).abs() < 1e-3);
    }

    #[test]
    fn fitted_temperature_matches_the_data() {
        // Scores whose argmax is right 3 times out of 4: the fit must make the top class about
        // 75 % likely, i.e. neither T → 0 (certainty) nor T → ∞ (uniform).
        let scores = vec![vec![1.0, 0.0]; 4];
        let gold = [0, 0, 0, 1];
        let t = fit_temperature(&scores, &gold);
        let mut p = Vec::new();
        softmax(&scores[0], t, &mut p);
        assert!((p[0] - 0.75).abs() < 1e-3, "T = {t}, p = {p:?}");
        assert_eq!(fit_temperature(&[], &[]), 1.0);
    }
}
