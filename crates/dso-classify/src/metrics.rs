//! Classification metrics: accuracy with a Wilson 95 % interval, per-class precision/recall,
//! confusion matrix, log-loss and expected calibration error.

use serde::{Deserialize, Serialize};

/// Precision, recall and support of one class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Class label.
    pub class: String,
    /// Of the images predicted as this class, the fraction that are.
    pub precision: f64,
    /// Of the images of this class, the fraction found.
    pub recall: f64,
    /// Number of images of this class.
    pub support: usize,
}

/// Everything measured on one evaluation set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Number of images.
    pub n: usize,
    /// Fraction classified correctly.
    pub accuracy: f64,
    /// Wilson score 95 % interval of the accuracy.
    pub accuracy_ci95: (f64, f64),
    /// Per-class precision and recall.
    pub per_class: Vec<ClassMetrics>,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<usize>>,
    /// Mean negative log-likelihood of the true class.
    pub log_loss: f64,
    /// Expected calibration error (15 equal-width confidence bins).
    pub ece: f64,
}

/// Wilson score interval for `k` successes out of `n` at 95 % confidence.
pub fn wilson_interval(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_964f64;
    let n = n as f64;
    let p = k as f64 / n;
    let denom = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denom;
    let half = z * ((p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt()) / denom;
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// Expected calibration error: the confidence-weighted gap between confidence and accuracy.
pub fn expected_calibration_error(probs: &[Vec<f32>], labels: &[usize], bins: usize) -> f64 {
    let mut conf_sum = vec![0.0f64; bins];
    let mut acc_sum = vec![0.0f64; bins];
    let mut count = vec![0usize; bins];
    for (p, &y) in probs.iter().zip(labels) {
        let (pred, conf) = argmax(p);
        let b = ((conf as f64 * bins as f64) as usize).min(bins - 1);
        conf_sum[b] += conf as f64;
        acc_sum[b] += if pred == y { 1.0 } else { 0.0 };
        count[b] += 1;
    }
    let n = labels.len().max(1) as f64;
    (0..bins)
        .filter(|&b| count[b] > 0)
        .map(|b| (count[b] as f64 / n) * ((acc_sum[b] - conf_sum[b]) / count[b] as f64).abs())
        .sum()
}

/// Index and value of the largest probability.
pub fn argmax(p: &[f32]) -> (usize, f32) {
    p.iter().copied().enumerate().fold((0, f32::MIN), |best, (i, v)| if v > best.1 { (i, v) } else { best })
}

impl EvalReport {
    /// Compute the report from predicted class probabilities and true labels.
    pub fn from_probabilities(probs: &[Vec<f32>], labels: &[usize], classes: &[&str]) -> EvalReport {
        let k = classes.len();
        let mut confusion = vec![vec![0usize; k]; k];
        let mut log_loss = 0.0f64;
        for (p, &y) in probs.iter().zip(labels) {
            let (pred, _) = argmax(p);
            confusion[y][pred] += 1;
            log_loss -= (p[y].max(1e-7) as f64).ln();
        }
        let n = labels.len();
        let correct: usize = (0..k).map(|i| confusion[i][i]).sum();
        let per_class = (0..k)
            .map(|c| {
                let predicted: usize = (0..k).map(|t| confusion[t][c]).sum();
                let support: usize = confusion[c].iter().sum();
                ClassMetrics {
                    class: classes[c].to_string(),
                    precision: if predicted > 0 { confusion[c][c] as f64 / predicted as f64 } else { 0.0 },
                    recall: if support > 0 { confusion[c][c] as f64 / support as f64 } else { 0.0 },
                    support,
                }
            })
            .collect();
        EvalReport {
            n,
            accuracy: if n > 0 { correct as f64 / n as f64 } else { 0.0 },
            accuracy_ci95: wilson_interval(correct, n),
            per_class,
            confusion,
            log_loss: log_loss / n.max(1) as f64,
            ece: expected_calibration_error(probs, labels, 15),
        }
    }

    /// A few human-readable lines (accuracy, CI, per-class figures, confusion matrix).
    pub fn summary(&self) -> String {
        let mut s = format!(
            "n={} accuracy={:.3} (95% CI {:.3}-{:.3}) log-loss={:.3} ECE={:.3}\n",
            self.n, self.accuracy, self.accuracy_ci95.0, self.accuracy_ci95.1, self.log_loss, self.ece
        );
        for c in &self.per_class {
            s += &format!(
                "  {:<13} precision={:.3} recall={:.3} support={}\n",
                c.class, c.precision, c.recall, c.support
            );
        }
        s += "  confusion (rows true, columns predicted):\n";
        for row in &self.confusion {
            s += &format!("    {row:?}\n");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_on_a_hand_computed_case() {
        let probs = vec![vec![0.9, 0.1], vec![0.6, 0.4], vec![0.2, 0.8], vec![0.3, 0.7]];
        let labels = vec![0, 1, 1, 1];
        let r = EvalReport::from_probabilities(&probs, &labels, &["galaxy", "nebula"]);
        assert_eq!(r.confusion, vec![vec![1, 0], vec![1, 2]]);
        assert!((r.accuracy - 0.75).abs() < 1e-12);
        assert!((r.per_class[0].precision - 0.5).abs() < 1e-12);
        assert!((r.per_class[1].recall - 2.0 / 3.0).abs() < 1e-12);
        // Bins: 0.9 (correct), 0.6 (wrong), 0.8 (correct), 0.7 (correct) — each alone in its bin.
        let ece = (0.1 + 0.6 + 0.2 + 0.3) / 4.0;
        assert!((r.ece - ece).abs() < 1e-6, "{}", r.ece);
        let (lo, hi) = r.accuracy_ci95;
        assert!(lo < 0.75 && hi > 0.75 && lo > 0.2 && hi < 1.0);
    }

    #[test]
    fn wilson_matches_a_known_value() {
        // 50/100 → (0.4038, 0.5962).
        let (lo, hi) = wilson_interval(50, 100);
        assert!((lo - 0.4038).abs() < 1e-3 && (hi - 0.5962).abs() < 1e-3, "{lo} {hi}");
    }
}
